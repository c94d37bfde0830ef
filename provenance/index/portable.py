"""Stage 5, index: move an index between machines as a portable file.

JSON Lines, gzip-compressed when the file name ends in ``.gz``. No media:
only what the index holds about each reference (source facts, media facts,
frame hashes with their times and variants), so desks can share an index of
footage they may not share. Any backend exports and any backend imports::

    >>> export_index(open_index("newsroom.sqlite"), "newsroom.jsonl.gz")
    >>> import_index(open_index("postgresql://...", create=True), "newsroom.jsonl.gz")

The first line is a header (``format``, hash algorithm, the exporting
index's identity), then one line per reference, then a trailer with the
counts, so a truncated file is detected. Import is one transaction per
reference and idempotent by content SHA-256: re-running an interrupted
import adds only what is missing.

Line format of a reference::

    {"reference": {...Reference.to_dict() without id...}, "facts": {...} | null,
     "hashes": {"t_ms": [0, 500, ...], "variant": [0, 16, ...], "hex": "c3a1...(16 hex digits each)"},
     "features": {"t_ms": [0, 1000, ...], "size": [[480, 270], ...], "count": [300, ...],
                  "points": "...(float16 x, y little-endian, hex)", "descriptors": "...(32 bytes each, hex)"},
     "sound": {"status": "fingerprinted", "step_s": 0.1238, "duration_s": 40.0,
               "hex": "...(8 hex digits per Chromaprint item)", "loud": "0111...",
               "marks": "...(16 hex digits per landmark: hash, frame)"}}

``features`` (the features channel's described frames) is absent for a
reference that has none, and for files exported before the channel existed;
such a reference is imported without features. ``reference.camera`` (whether
it is a still picture under camera motion, `camera.CameraMotion`) is null or
absent for a reference indexed before the finding was made. ``sound`` is absent for a
reference stored without its sound's fingerprint (a still image, or one added
before the audio stage); older readers ignore it. ``marks`` is absent in
files exported before landmarks; such a sound is imported without them.
Verify's stored views (`index.views`) are small pictures of the footage and
are not exported: an imported index verifies from the reference files where
they are (`evidence.reference_window`).
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from .. import __version__
from ..audio import SoundPrint, SoundStatus
from ..camera import CameraMotion
from ..errors import BadInputError
from ..features import DESCRIPTOR_BYTES, Features, FrameFeatures
from ..files import atomic_writer
from ..hashing import ALGORITHM, HASH_BITS, FrameHashes
from .base import FactOrigin, Index, Reference, SourceFacts

#: The format name and version written in every header; newer versions are refused.
FORMAT = "provenance.index-export"
FORMAT_VERSION = 1
#: Longest line accepted on import, bytes (a 4-hour reference at 2 frames/s
#: with 4 variants is ~3 MB; this leaves room and bounds memory).
MAX_LINE_BYTES = 256 << 20
#: A reference's SHA-256 as exported: 64 lowercase hex digits.
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Hex digits of one frame hash.
_HEX_DIGITS = HASH_BITS // 4


@dataclass
class TransferResult:
    """Counts of one export or import; `problems` names every refused line."""

    references: int = 0
    hashes: int = 0
    added: int = 0
    present: int = 0
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "references": self.references,
            "hashes": self.hashes,
            "added": self.added,
            "present": self.present,
            "problems": list(self.problems),
        }


def _compressed(raw: IO[bytes], gz: bool) -> IO[bytes]:
    # mtime=0: exporting the same index twice gives the same bytes.
    return gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if gz else raw  # type: ignore[return-value]


def _line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def export_index(
    index: Index,
    path: Path | str,
    *,
    strip_paths: bool = False,
    on_reference: Callable[[Reference], None] | None = None,
) -> TransferResult:
    """Write every reference of `index` to a portable file (written aside, then renamed).

    Args:
        index: the index to export.
        path: the file (``.jsonl``, or ``.jsonl.gz`` compressed).
        strip_paths: keep only file names, not the folders they were indexed from.
        on_reference: called after each reference, for progress.

    Returns:
        The counts written.
    """
    target = Path(path)
    result = TransferResult()
    identity = index.identity()
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "hash_algorithm": ALGORITHM,
        "hash_bits": HASH_BITS,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "exported_by": f"provenance {__version__}",
        "source_index": {k: identity.get(k) for k in ("backend", "index_id", "schema_version")},
    }
    with atomic_writer(target) as raw:
        with _compressed(raw, target.name.endswith(".gz")) as out:
            out.write(_line(header))
            for ref in index.references():
                hashes = index.frame_hashes(ref.id)
                data = ref.to_dict()
                data.pop("id", None)
                if strip_paths:
                    data["path"] = Path(ref.path).name
                t_ms = np.round(hashes.times * 1000).astype(np.int64)
                line: dict[str, Any] = {
                    "reference": data,
                    "facts": index.facts(ref.id),
                    "hashes": {
                        "t_ms": t_ms.tolist(),
                        "variant": hashes.variants.astype(np.int64).tolist(),
                        "hex": hashes.hashes.astype(">u8").tobytes().hex(),
                    },
                }
                described = index.reference_features(ref.id)
                if described:
                    line["features"] = _features_line(described)
                sound = index.sound(ref.id)
                if sound is not None:
                    line["sound"] = _sound_line(sound)
                out.write(_line(line))
                result.references += 1
                result.hashes += len(hashes)
                if on_reference is not None:
                    on_reference(ref)
            out.write(_line({"end": True, "references": result.references, "hashes": result.hashes}))
    return result


def _features_line(frames: list[FrameFeatures]) -> dict[str, Any]:
    """A reference's described frames as the export line's ``features`` object."""
    return {
        "t_ms": [int(round(f.t * 1000)) for f in frames],
        "size": [[int(f.width), int(f.height)] for f in frames],
        "count": [len(f) for f in frames],
        "points": b"".join(np.asarray(f.points, dtype="<f2").tobytes() for f in frames).hex(),
        "descriptors": b"".join(np.asarray(f.descriptors, dtype=np.uint8).tobytes() for f in frames).hex(),
    }


def _parse_features(data: Any) -> Features:
    """The ``features`` object of an export line; raises ValueError/TypeError/KeyError with the reason."""
    if not isinstance(data, dict):
        raise TypeError("'features' is not an object")
    t_ms = [int(v) for v in data["t_ms"]]
    sizes = [(int(w), int(h)) for w, h in data["size"]]
    counts = [int(v) for v in data["count"]]
    if not len(t_ms) == len(sizes) == len(counts) or any(c < 0 for c in counts) or any(t < 0 for t in t_ms):
        raise ValueError("feature times, sizes and counts differ in length or are negative")
    if any(w <= 0 or h <= 0 for w, h in sizes):
        raise ValueError("feature frame sizes are not positive")
    points = np.frombuffer(bytes.fromhex(str(data["points"])), dtype="<f2").astype(np.float32)
    desc = np.frombuffer(bytes.fromhex(str(data["descriptors"])), dtype=np.uint8)
    total = sum(counts)
    if len(points) != 2 * total or len(desc) != DESCRIPTOR_BYTES * total:
        raise ValueError("feature points or descriptors do not add up to their counts")
    frames, at = [], 0
    for t, (w, h), n in zip(t_ms, sizes, counts, strict=True):
        frames.append(
            FrameFeatures(
                t / 1000.0,
                w,
                h,
                points[2 * at : 2 * (at + n)].reshape(-1, 2),
                desc[DESCRIPTOR_BYTES * at : DESCRIPTOR_BYTES * (at + n)].reshape(-1, DESCRIPTOR_BYTES),
            )
        )
        at += n
    return Features(tuple(frames))


@dataclass(frozen=True)
class PortableReference:
    """One reference read from a portable file, ready for `Index.add`."""

    reference: Reference
    hashes: FrameHashes
    facts: dict[str, Any] | None
    features: Features | None = None
    sound: SoundPrint | None = None


def _sound_line(sound: SoundPrint) -> dict[str, Any]:
    """A reference's sound as a portable line holds it: items as 8 hex digits each, loudness as 0/1 digits."""
    return {
        "status": str(sound.status),
        "step_s": sound.step_s,
        "duration_s": sound.duration_s,
        "hex": sound.values.astype(">u4").tobytes().hex(),
        "loud": "".join("1" if x else "0" for x in sound.loud.tolist()),
        # Landmarks (`audio.sound_marks`) as 16 hex digits each: hash then frame, 8 each.
        "marks": sound.marks.astype(">u4").tobytes().hex(),
    }


def _parse_sound(data: Any) -> SoundPrint | None:
    """A reference line's sound (absent in exports made before the audio stage); raises ValueError/TypeError."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TypeError("'sound' is not an object")
    text, loud = data["hex"], data["loud"]
    if not isinstance(text, str) or not isinstance(loud, str) or len(text) != 8 * len(loud) or set(loud) - {"0", "1"}:
        raise ValueError("sound items and loudness differ in length")
    values = np.frombuffer(bytes.fromhex(text), dtype=">u4").astype(np.uint32)
    step, duration = float(data["step_s"]), float(data["duration_s"])
    if not (0 < step < 1 and 0 <= duration):
        raise ValueError("sound step or duration out of range")
    marks_hex = data.get("marks", "")  # absent in exports made before landmarks
    if not isinstance(marks_hex, str) or len(marks_hex) % 16:
        raise ValueError("sound landmarks are not 16 hex digits each")
    marks = np.frombuffer(bytes.fromhex(marks_hex), dtype=">u4").astype(np.int64).reshape(-1, 2)
    return SoundPrint(
        SoundStatus(data["status"]),
        values,
        np.array([c == "1" for c in loud], dtype=bool),
        step,
        duration,
        marks=marks,
    )


def _decompressed(raw: IO[bytes]) -> IO[bytes]:
    magic = raw.read(2)
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw, mode="rb") if magic == b"\x1f\x8b" else raw  # type: ignore[return-value]


def _lines(stream: IO[bytes], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    n = 0
    while True:
        try:
            raw = stream.readline(MAX_LINE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadInputError(f"{name}: line {n + 1}: the file is damaged ({exc}); export it again") from exc
        if not raw:
            return
        n += 1
        if len(raw) > MAX_LINE_BYTES:
            raise BadInputError(f"{name}: line {n} is longer than {MAX_LINE_BYTES} bytes; not a provenance export")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise BadInputError(f"{name}: line {n} is not JSON ({exc}); not a provenance export, or damaged") from exc
        if not isinstance(data, dict):
            raise BadInputError(f"{name}: line {n} is not a JSON object; not a provenance export")
        yield n, data


def _check_header(data: dict[str, Any], name: str) -> None:
    if data.get("format") != FORMAT:
        raise BadInputError(
            f"{name}: not a provenance index export (format {data.get('format')!r}); give a file made by 'provenance index export'"
        )
    version = data.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BadInputError(
            f"{name}: export format version {version!r} is newer than this provenance reads ({FORMAT_VERSION}); upgrade provenance"
        )
    if data.get("hash_algorithm") != ALGORITHM or data.get("hash_bits") != HASH_BITS:
        raise BadInputError(
            f"{name}: holds {data.get('hash_algorithm')!r}/{data.get('hash_bits')} hashes, this provenance uses "
            f"{ALGORITHM!r}/{HASH_BITS}; they cannot be compared"
        )


def _parse_reference(data: dict[str, Any]) -> PortableReference:
    """Validate one reference line; raises ValueError/TypeError/KeyError with the reason."""
    ref_data = data["reference"]
    if not isinstance(ref_data, dict):
        raise TypeError("'reference' is not an object")
    sha = ref_data.get("sha256")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise ValueError(f"sha256 {sha!r} is not 64 lowercase hex digits")
    hashes = data["hashes"]
    t_ms = np.asarray(hashes["t_ms"], dtype=np.int64)
    variants = np.asarray(hashes["variant"], dtype=np.int64)
    text = hashes["hex"]
    if not isinstance(text, str) or len(text) != _HEX_DIGITS * len(t_ms) or t_ms.ndim != 1:
        raise ValueError("hash, time and variant lists differ in length")
    if len(variants) != len(t_ms) or (len(variants) and (variants.min() < 0 or variants.max() > 127)):
        raise ValueError("variants are not small non-negative integers")
    if len(t_ms) and t_ms.min() < 0:
        raise ValueError("negative frame times")
    values = np.frombuffer(bytes.fromhex(text), dtype=">u8").astype(np.uint64)
    facts = data.get("facts")
    if facts is not None and not isinstance(facts, dict):
        raise TypeError("'facts' is not an object")

    def text_field(key: str) -> str | None:
        value = ref_data.get(key)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{key} is not a string")
        return value

    def number(key: str, kind: type, *, optional: bool = False) -> Any:
        value = ref_data.get(key)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{key} is not a number")
        return kind(value)

    origins = ref_data.get("origins") or []
    if not isinstance(origins, list) or not all(isinstance(o, dict) for o in origins):
        raise TypeError("origins is not a list of objects")
    # Origins travel as recorded (a round trip keeps everything); facts without one stay without.
    source = SourceFacts(
        **{k: text_field(k) for k in SourceFacts.__dataclass_fields__ if k != "origins"},
        origins=tuple(FactOrigin.from_dict(o) for o in origins),
    )
    ref = Reference(
        id=0,
        sha256=sha,
        path=text_field("path") or "",
        kind=text_field("kind") or "video",
        duration_s=number("duration_s", float),
        width=number("width", int),
        height=number("height", int),
        fps=number("fps", float, optional=True),
        size_bytes=number("size_bytes", int),
        sample_fps=number("sample_fps", float),
        frames=len(t_ms),
        added_at=text_field("added_at") or datetime.now(UTC).isoformat(timespec="seconds"),
        source=source,
        camera=_parse_camera(ref_data.get("camera")),
    )
    hashed = FrameHashes(t_ms / 1000.0, variants.astype(np.int8), values)
    described = _parse_features(data["features"]) if data.get("features") is not None else None
    return PortableReference(ref, hashed, facts, described, _parse_sound(data.get("sound")))


def _parse_camera(data: Any) -> CameraMotion | None:
    """A reference's camera finding (absent in exports made before it was recorded); raises ValueError/TypeError."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TypeError("'camera' is not an object")
    return CameraMotion.from_dict(data)


def read_export(path: Path | str) -> Iterator[PortableReference]:
    """The references of a portable file, validated one line at a time.

    Raises:
        BadInputError: the file is missing, not an export, of another hash
            algorithm, damaged, or truncated (no trailer); the message names the line.
    """
    source = Path(path)
    name = str(source)
    try:
        raw = open(source, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise BadInputError(f"{name}: cannot be read ({exc.strerror}); check the path") from exc
    with raw, _decompressed(raw) as stream:
        lines = _lines(stream, name)
        first = next(lines, None)
        if first is None:
            raise BadInputError(f"{name}: empty file; not a provenance index export")
        _check_header(first[1], name)
        count = 0
        for n, data in lines:
            if data.get("end") is True:
                if data.get("references") != count:
                    raise BadInputError(
                        f"{name}: trailer says {data.get('references')} references, the file holds {count}"
                    )
                return
            try:
                item = _parse_reference(data)
            except (KeyError, TypeError, ValueError, OverflowError) as exc:
                raise BadInputError(f"{name}: line {n}: not a valid reference ({exc}); the file is damaged") from exc
            count += 1
            yield item
        raise BadInputError(
            f"{name}: ends after {count} references without its trailer; the file was cut short, export it again"
        )


def import_index(
    index: Index,
    path: Path | str,
    *,
    on_reference: Callable[[Reference, bool], None] | None = None,
) -> TransferResult:
    """Add every reference of a portable file to `index` (one transaction each).

    A reference already in the index (same SHA-256) is left as it is. A file
    cut short is refused only when its end is reached: the references before
    the damage are imported (each whole), and a re-run after fixing the file
    adds the rest.

    Args:
        index: the index to add to.
        path: the portable file.
        on_reference: called with (stored reference, added) after each one.

    Raises:
        BadInputError: see `read_export`.
    """
    result = TransferResult()
    for item in read_export(path):
        stored, added = index.add(
            item.reference, item.hashes, facts=item.facts, features=item.features, sound=item.sound
        )
        result.references += 1
        result.hashes += len(item.hashes)
        if added:
            result.added += 1
        else:
            result.present += 1
        if on_reference is not None:
            on_reference(stored, added)
    return result
