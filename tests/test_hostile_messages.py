"""What reaches the analyst's terminal and documents (issue 24).

* Invisible characters (Unicode format characters: U+061C, U+FEFF, zero
  width, bidi controls, tag characters) in a file's tags and in source facts
  never reach the terminal, Markdown or HTML; in JSON they are escapes.
* Dates given on the command line are checked whole: junk after a date is refused.
* A HEIC image without the optional HEIF reader is "install the extra", not
  "the download did not finish".
* Libraries keep quiet: a PNG without EXIF and a 90-megapixel image (Pillow's
  DecompressionBombWarning) leave stderr empty in a real process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from conftest import cli_here, ffmpeg
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
#: One of each kind the issue names, between visible letters.
INVISIBLE = "\u061c\ufeff\u200b\u200d\u2066\u202e\U000e0041\U000e007f\u00ad\u2060"
TITLE = f"Fl{INVISIBLE[:5]}ood in{INVISIBLE[5:]} town"


def _invisible_in(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in ("Cf", "Cc") and c not in "\n\t\r"})


def _real(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provenance", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.fixture(scope="module")
def tagged_index(tmp_path_factory: pytest.TempPathFactory, sample_refs: Path) -> tuple[Path, Path]:
    """(index, query): a reference with invisible characters in its title, publisher and note, and a query
    cut from it whose own title tag carries them too."""
    folder = tmp_path_factory.mktemp("invisible")
    ref = folder / "ref.mp4"
    ffmpeg("-i", sample_refs / "tree_window.mp4", "-c", "copy", "-metadata", f"title={TITLE}", ref)
    index = folder / "i.sqlite"
    run = cli_here(
        "index", "add", "-q", ref, "--index", index,
        "--title", TITLE, "--publisher", f"Ch{INVISIBLE}annel", "--note", f"n{INVISIBLE}ote",
        "--source-url", "https://example.org/\u202ewatch",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    query = folder / "query.mp4"
    ffmpeg("-i", ref, "-t", "6", "-c", "copy", "-metadata", f"comment={TITLE}", "-metadata", f"title={TITLE}", query)
    return index, query


def test_invisible_characters_reach_no_human_readable_output(tagged_index: tuple[Path, Path]) -> None:
    index, query = tagged_index
    saved = json.loads(cli_here("check", query, "--index", index).stdout)
    assert saved["matches"], saved["verdict"]
    for fmt in ("md", "html"):
        run = cli_here("check", query, "--index", index, "--format", fmt)
        assert run.code == 0, run.stderr
        assert "Flood" in run.stdout.replace(" ", "") or "Fl" in run.stdout
        assert _invisible_in(run.stdout) == [], fmt
    for args in (("index", "list"), ("index", "show", "1"), ("probe", str(query))):
        run = cli_here(*args, *(("--index", index) if args[0] == "index" else ()))
        assert run.code == 0, run.stderr
        assert _invisible_in(run.stdout) == [], args


def test_invisible_characters_in_json_are_escapes_of_the_same_value(tagged_index: tuple[Path, Path]) -> None:
    index, _ = tagged_index
    run = cli_here("index", "show", "1", "--index", index, "--format", "json")
    assert _invisible_in(run.stdout) == []
    assert json.loads(run.stdout)["title"] == TITLE  # the data are kept; only their display is made safe


@pytest.mark.parametrize(
    "value", ["2024-01-01junk", "2024-01-01 x", "2024-02-30", "2024-01-01T10:00junk", "1066-10-14", "yesterday"]
)
def test_junk_after_a_date_flag_is_refused(testsrc_clip: Path, tmp_path: Path, value: str) -> None:
    index = tmp_path / "i.sqlite"
    run = cli_here("index", "add", "-q", testsrc_clip, "--index", index, "--first-seen", value)
    assert run.code == 2 and "--first-seen" in run.stderr and run.stderr.count("\n") == 1, run.stderr
    assert not index.exists()
    claim = cli_here("check", testsrc_clip, "--index", index, "--claim-date", value)
    assert claim.code == 2 and "--claim-date" in claim.stderr, claim.stderr


def test_a_full_date_and_time_is_kept_whole(testsrc_clip: Path, tmp_path: Path) -> None:
    index = tmp_path / "i.sqlite"
    run = cli_here("index", "add", "-q", testsrc_clip, "--index", index, "--first-seen", "2024-03-01T10:30:00+02:00")
    assert run.code == 0, run.stderr
    shown = json.loads(cli_here("index", "show", "1", "--index", index, "--format", "json").stdout)
    assert shown["first_seen"] == "2024-03-01T10:30:00+02:00"


def test_heic_without_the_heif_reader_says_install_the_extra(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    path = tmp_path / "photo.heic"
    Image.fromarray((np.random.default_rng(3).random((64, 96, 3)) * 255).astype(np.uint8)).save(path, "HEIF")
    # A user without the extra: pillow_heif cannot be imported in that process.
    script = "import sys; sys.modules['pillow_heif'] = None; from provenance.cli import run; run()"
    proc = subprocess.run(
        [sys.executable, "-c", script, "probe", str(path)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "provenance[heic]" in proc.stderr and "download" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_a_png_leaves_stderr_empty(tmp_path: Path, sample_index_file: Path) -> None:
    png = tmp_path / "still.png"
    Image.fromarray((np.random.default_rng(4).random((120, 160, 3)) * 255).astype(np.uint8)).save(png)
    for args in (("probe", png), ("check", png, "--index", sample_index_file)):
        proc = _real(*args)
        assert proc.returncode == 0 and proc.stderr == "", (args, proc.stderr)


def test_a_90_megapixel_image_leaves_stderr_empty(tmp_path: Path, sample_index_file: Path) -> None:
    """Above Pillow's decompression-bomb warning (89.5 MP), below our limit (100 MP)."""
    big = tmp_path / "big.png"
    side = 9500
    picture = np.zeros((side, side), dtype=np.uint8)
    picture[::97, :] = 255  # some lines, so the still is not flat
    Image.fromarray(picture, "L").save(big, optimize=False, compress_level=1)
    del picture
    proc = _real("check", big, "--index", sample_index_file)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_a_session_memory_limit_below_the_workers_is_kept_not_raised(viral_clip: Path, sample_index_file: Path) -> None:
    """Under a 3 GiB address-space limit (below the worker's 6 GiB cap) decoding works: the worker lowers its cap."""
    import resource

    limit = 3 << 30

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "provenance", "check", str(viral_clip), "--index", str(sample_index_file)],
        capture_output=True, text=True, timeout=300, preexec_fn=cap,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PROVENANCE_DECODER": "libav"},
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert json.loads(proc.stdout)["tool"]["decoder"].startswith("libav")
