"""Stage probe: exiftool's tags, when exiftool is installed (nothing needs it).

exiftool reads what ffprobe and exifread miss (maker notes, XMP, more
QuickTime keys); its tags join the facts as ``exiftool:Group:Name`` and its
dates and positions are used like any other tag's. It runs through
`provenance.tools` with a time limit and bounded output::

    >>> read_exiftool(Path("samples/viral.mp4")).get("QuickTime:MajorBrand")
    'isom'
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .. import tools
from ..errors import ProcessingError, ToolMissingError
from .tags import MAX_TAG_CHARS, MAX_TAGS, tag_text

#: Wall-clock limit for the optional exiftool call, seconds (ffprobe's own
#: limit, `tools.PROBE_TIMEOUT_S`).
EXIFTOOL_TIMEOUT_S = 30.0
#: Set to ``0`` to never run exiftool even when it is installed.
EXIFTOOL_ENV = "PROVENANCE_EXIFTOOL"


def exiftool_path() -> str | None:
    """Where exiftool is, when it is installed and not disabled.

    Returns:
        Its path, or None when it is not on PATH or ``PROVENANCE_EXIFTOOL=0``.
    """
    if os.environ.get(EXIFTOOL_ENV) == "0":
        return None
    return shutil.which("exiftool")


def read_exiftool(path: Path) -> dict[str, str]:
    """exiftool's tags, numbers unformatted.

    Nothing depends on it: it adds what ffprobe does not read (maker notes,
    XMP, more QuickTime keys). A failure of exiftool is not an error here.

    Args:
        path: a local file.

    Returns:
        ``Group:Name`` -> value (exiftool's own and file-system groups left
        out), or {} without exiftool or when it fails.
    """
    binary = exiftool_path()
    if binary is None:
        return {}
    try:
        result = tools.run(
            [binary, "-j", "-G1", "-n", "-a", "-q", "-q", "-api", "LargeFileSupport=1", "--", str(path.resolve())],
            timeout=EXIFTOOL_TIMEOUT_S,
            max_stdout=8 << 20,
        )
        data = json.loads(result.stdout.decode("utf-8", "replace") or "[]")
    except (ProcessingError, ToolMissingError, json.JSONDecodeError, RecursionError):
        return {}
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        return {}
    skip = ("System:", "ExifTool:", "File:")
    return {
        str(k): tag_text(v) if not isinstance(v, (dict, list)) else json.dumps(v)[:MAX_TAG_CHARS]
        for k, v in list(data[0].items())[:MAX_TAGS]
        if not str(k).startswith(skip) and k != "SourceFile"
    }
