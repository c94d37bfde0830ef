"""Reference ingest: files and folders into the index, one transaction per file.

Each file is hashed (SHA-256 of its bytes) first, so a file already indexed
is skipped without decoding; otherwise it is probed, sampled at `REF_FPS`,
perceptually hashed and stored with its source facts. Source facts come from
flags first, then from a yt-dlp ``.info.json`` sidecar next to the file::

    >>> result = add_paths(["samples/refs"], index)
    >>> [(r.path, r.added) for r in result.items]
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import frames as frames_mod
from .errors import BadInputError, ProvenanceError
from .hashing import VARIANT_FULL, hash_frames
from .index import Index, Reference, SourceFacts
from .probe import probe

#: Frames per second sampled from references. Queries are sampled denser
#: (`check.QUERY_FPS`), so each reference frame has a query frame within 1/8 s.
REF_FPS = 2.0
#: Largest sidecar accepted, bytes (yt-dlp's are typically 50-500 kB).
MAX_SIDECAR_BYTES = 16 << 20
#: File name suffixes taken when walking a folder (case-insensitive).
MEDIA_SUFFIXES = frozenset(
    ".mp4 .m4v .mov .mkv .webm .avi .ts .mts .m2ts .flv .wmv .asf .mpg .mpeg .3gp .3g2 .ogv "
    ".jpg .jpeg .png .webp .bmp .tif .tiff .heic .heif".split()
)


@dataclass(frozen=True)
class IngestItem:
    """What happened to one file: added, already present, or failed (with why)."""

    path: str
    status: str  # "added" | "present" | "failed"
    reference: Reference | None = None
    error: str | None = None
    exit_code: int = 0

    @property
    def added(self) -> bool:
        return self.status == "added"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "reference": self.reference.to_dict() if self.reference else None,
            "error": self.error,
            "exit_code": self.exit_code,
        }


@dataclass
class IngestResult:
    """Every file's outcome, in the order files were met."""

    items: list[IngestItem] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.count("added"),
            "present": self.count("present"),
            "failed": self.count("failed"),
            "items": [i.to_dict() for i in self.items],
        }


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _iso_date(upload_date: Any, timestamp: Any) -> str | None:
    if isinstance(timestamp, (int, float)) and 0 < timestamp < 4e9:
        return datetime.fromtimestamp(float(timestamp), UTC).isoformat(timespec="seconds")
    text = str(upload_date or "")
    if len(text) == 8 and text.isdigit():
        try:
            return datetime.strptime(text, "%Y%m%d").date().isoformat()
        except ValueError:
            return None
    return None


def _text(value: Any, limit: int = 2000) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def sidecar_path(path: Path) -> Path | None:
    """The yt-dlp sidecar of a media file (``clip.info.json`` or ``clip.mp4.info.json``)."""
    for candidate in (path.with_suffix(".info.json"), path.with_name(path.name + ".info.json")):
        if candidate.is_file():
            return candidate
    return None


def read_sidecar(path: Path) -> SourceFacts:
    """Source facts from a yt-dlp ``.info.json`` file.

    Uses ``webpage_url``, ``uploader`` (or ``channel``), ``upload_date`` or
    ``timestamp``, ``title`` and ``license``.

    Raises:
        BadInputError: the sidecar is too large or not a JSON object.
    """
    if path.stat().st_size > MAX_SIDECAR_BYTES:
        raise BadInputError(
            f"{path}: sidecar larger than {MAX_SIDECAR_BYTES} bytes; remove it or pass --source-url etc."
        )
    try:
        data = json.loads(path.read_bytes().decode("utf-8", "replace"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadInputError(f"{path}: sidecar is not valid JSON ({exc}); fix or remove it") from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: sidecar is not a JSON object; fix or remove it")
    return SourceFacts(
        source_url=_text(data.get("webpage_url") or data.get("original_url")),
        publisher=_text(data.get("uploader") or data.get("channel")),
        title=_text(data.get("title")),
        first_seen=_iso_date(data.get("upload_date"), data.get("timestamp")),
        licence=_text(data.get("license")),
    )


def iter_media(paths: Iterable[Path | str]) -> Iterator[tuple[Path, str | None]]:
    """Files to ingest from files and folders (recursive, sorted), with a problem if any.

    Yields:
        (path, None) for each media file; (path, reason) for entries that
        cannot be walked (unreadable folders, symlink loops).

    Raises:
        BadInputError: a given path does not exist.
    """
    for given in paths:
        p = Path(given)
        if not p.exists() and not p.is_symlink():
            raise BadInputError(f"{given}: no such file or folder; check the path")
        if p.is_dir():
            yield from _walk(p)
        else:
            yield p, None


def _walk(root: Path) -> Iterator[tuple[Path, str | None]]:
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError as exc:
            yield folder, f"cannot be read ({exc.strerror})"
            continue
        if (st.st_dev, st.st_ino) in seen:
            yield folder, "folder already visited (symlink loop)"
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield folder, f"folder cannot be read ({exc.strerror})"
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError as exc:
                yield path, f"cannot be read ({exc.strerror})"
                continue
            if is_dir:
                subdirs.append(path)
            elif is_file and path.suffix.lower() in MEDIA_SUFFIXES and not path.name.endswith(".info.json"):
                yield path, None
            elif not is_file and not is_dir and entry.is_symlink():
                yield path, "broken or looping symlink"
        stack.extend(reversed(subdirs))


def add_file(path: Path, index: Index, *, source: SourceFacts = SourceFacts()) -> IngestItem:
    """Ingest one file (see module docstring). Errors are raised, not caught.

    Raises:
        ProvenanceError: the file cannot be read, probed or decoded.
    """
    try:
        sha = sha256_of(path)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    existing = index.find_sha256(sha)
    if existing is not None:
        return IngestItem(str(path), "present", existing)
    facts = probe(path)
    sidecar = sidecar_path(path)
    if sidecar is not None:
        source = source.merged_over(read_sidecar(sidecar))
    sampled = frames_mod.extract_frames(path, fps=REF_FPS, facts=facts)
    hashes = hash_frames(sampled.times, sampled.images, variants=(VARIANT_FULL,))
    disp_w, disp_h = facts.display_size
    ref = Reference(
        id=0,
        sha256=sha,
        path=str(path),
        kind=facts.kind,
        duration_s=round(facts.duration_s, 3),
        width=disp_w,
        height=disp_h,
        fps=facts.fps,
        size_bytes=facts.size_bytes,
        sample_fps=REF_FPS if facts.kind == "video" else 0.0,
        frames=len(hashes),
        added_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=source,
    )
    stored, added = index.add(ref, hashes, facts=facts.to_dict())
    return IngestItem(str(path), "added" if added else "present", stored)


def add_paths(
    paths: Iterable[Path | str],
    index: Index,
    *,
    source: SourceFacts = SourceFacts(),
    on_item: Callable[[IngestItem], None] | None = None,
) -> IngestResult:
    """Ingest files and folders; a failing file is recorded and the batch goes on.

    Args:
        paths: files and folders (walked recursively for media files).
        index: the index to add to.
        source: source facts from flags; they win over sidecars.
        on_item: called after each file, for progress.

    Returns:
        Every file's outcome.

    Raises:
        BadInputError: a given path does not exist, or folders held no media.
    """
    result = IngestResult()
    given = list(paths)
    for path, problem in iter_media(given):
        if problem is not None:
            item = IngestItem(str(path), "failed", error=f"{path}: {problem}", exit_code=BadInputError.exit_code)
        else:
            try:
                item = add_file(path, index, source=source)
            except ProvenanceError as exc:
                item = IngestItem(str(path), "failed", error=str(exc), exit_code=exc.exit_code)
        result.items.append(item)
        if on_item is not None:
            on_item(item)
    if not result.items:
        names = ", ".join(str(g) for g in given)
        raise BadInputError(f"{names}: no video or image files found; give media files or folders that hold them")
    return result
