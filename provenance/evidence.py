"""Stage evidence frames: the pictures a report shows, asked of the decoder, as small JPEGs inside it.

The JSON report is the single source of truth and the HTML and Markdown
renderers are pure functions of it, so the pictures they show travel in the
report itself: one thumbnail per shot of the checked clip, and for every
match the clip's frame next to the reference frame it aligns with, at a few
aligned times across the matched span. They are made once, in the pipeline,
while the files are at hand (`make_keyframes`); ``provenance report
REPORT.json --format html`` then needs no media. A reference file that is no
longer at its indexed path (or has changed) gives no reference frames and
says so; the match itself stands on the indexed hashes::

    >>> kf = make_keyframes("viral.mp4", facts, shot_times, matches, decoder=choose_decoder(), sampled=frames)
    >>> kf.matches[0].pairs[0].reference.data_uri()[:23]
    'data:image/jpeg;base64,'

``provenance frames`` writes the shots' keyframes as JPEG files
(`write_keyframes`). The records (`Keyframes`, `MatchFrames`, `FramePair`,
`Thumbnail`) are what `provenance.report` serialises; this module decodes
nothing itself: frames come from the `Decoder` passed in.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .decode import FULL_SIZE, Media, choose_decoder, still_frames
from .errors import BadInputError, ProcessingError, ProvenanceError
from .files import write_file
from .hashing import Rect
from .layout import find_layout
from .match import FRAME_MATCH_DISTANCE
from .probe import MediaFacts
from .query import Role, plan_for, sha256_of
from .query import _probe_while_sampling as probe_while_sampling
from .shots import Shots, find_shots

if TYPE_CHECKING:
    from .decode import Decoder, Frames

#: Long side of a thumbnail, pixels: sharp on a phone, side by side on a page.
THUMB_LONG_SIDE = 320
#: JPEG quality of thumbnails (a 320x180 frame is ~10-20 kB at this setting).
THUMB_QUALITY = 72
#: Aligned query/reference frame pairs shown per match (start, middle, end of the span).
PAIRS_PER_MATCH = 3
#: Most keyframe thumbnails of the checked clip in a report (>= 1): ``provenance frames`` writes
#: them all; past this many the report shows this many spread over the clip, and says so.
MAX_QUERY_SHOTS = 48
#: References up to this size are re-hashed (SHA-256) before their frames are
#: shown; larger ones are identified by size and duration only.
VERIFY_SHA256_MAX_BYTES = 512 << 20
#: A frame wanted later than this many seconds before a file's end is taken there instead
#: (the first frame at or after the time must exist).
END_MARGIN_S = 0.1
#: JPEG quality of the keyframe files ``provenance frames`` writes (0-100): high, since a reverse
#: image search is the next step; they are written at the source's full resolution.
KEYFRAME_QUALITY = 92
#: A keyframe file is cropped to the content box only when what lies outside it has at most this
#: much detail (mean absolute Laplacian, grey levels, over the keyframes): bars and blurred
#: padding measured 0.4-1.3, footage a wrong box would cut 3.2-8.7 (docs/tuning.md).
PADDING_DETAIL = 2.0
#: Contact sheet: long side of each keyframe on it, pixels, and keyframes per row.
SHEET_CELL = 240
SHEET_COLUMNS = 5


class ReferenceStatus(StrEnum):
    """Whether a match's reference file could show its frames."""

    #: The file at the indexed path is the one indexed.
    OK = "ok"
    #: No file at the indexed path.
    MISSING = "missing"
    #: A different file is there now (size or SHA-256).
    CHANGED = "changed"
    #: The file could not be read, or no frame of it decoded.
    UNREADABLE = "unreadable"


#: The statuses typed as the strings `MatchFrames.reference_status` holds once read back from JSON.
REFERENCE_OK: str = ReferenceStatus.OK
REFERENCE_MISSING: str = ReferenceStatus.MISSING
REFERENCE_CHANGED: str = ReferenceStatus.CHANGED
REFERENCE_UNREADABLE: str = ReferenceStatus.UNREADABLE


@dataclass(frozen=True)
class Thumbnail:
    """One frame at time `t` (seconds) as a JPEG, base64 in `jpeg_b64`."""

    t: float
    width: int
    height: int
    jpeg_b64: str

    def jpeg(self) -> bytes:
        """The JPEG bytes."""
        return base64.b64decode(self.jpeg_b64, validate=True)

    def rgb(self) -> np.ndarray:
        """The decoded picture, RGB uint8 (H, W, 3).

        Raises:
            ValueError: the stored bytes are not a JPEG that decodes.
        """
        import cv2

        bgr = cv2.imdecode(np.frombuffer(self.jpeg(), dtype=np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"the thumbnail at {self.t} s does not decode")
        return np.ascontiguousarray(bgr[:, :, ::-1])

    def data_uri(self) -> str:
        """A ``data:`` URI for an HTML ``img`` (only base64 characters follow the prefix)."""
        return "data:image/jpeg;base64," + base64.b64encode(self.jpeg()).decode("ascii")

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "width": self.width, "height": self.height, "jpeg_b64": self.jpeg_b64}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thumbnail:
        _need_dict(data, "thumbnail")
        return cls(float(data["t"]), int(data["width"]), int(data["height"]), str(data["jpeg_b64"]))


def _need_dict(data: Any, what: str) -> None:
    if not isinstance(data, dict):
        raise TypeError(f"{what} must be an object, not {type(data).__name__}")


def _items(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list, not {type(value).__name__}")
    return value


def _thumb_or_none(data: Any) -> Thumbnail | None:
    return Thumbnail.from_dict(data) if isinstance(data, dict) else None


@dataclass(frozen=True)
class FramePair:
    """The clip's frame at `query_t` and the reference frame at `reference_t` it aligns with.

    `distance` is the hash distance the matcher measured there (None when the
    times were interpolated); either picture is None when it could not be taken.
    """

    query_t: float
    reference_t: float
    distance: int | None
    query: Thumbnail | None
    reference: Thumbnail | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "query_t": self.query_t,
            "reference_t": self.reference_t,
            "distance": self.distance,
            "query": self.query.to_dict() if self.query else None,
            "reference": self.reference.to_dict() if self.reference else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FramePair:
        _need_dict(data, "frame pair")
        distance = data.get("distance")
        return cls(
            float(data["query_t"]),
            float(data["reference_t"]),
            int(distance) if distance is not None else None,
            _thumb_or_none(data.get("query")),
            _thumb_or_none(data.get("reference")),
        )


@dataclass(frozen=True)
class MatchFrames:
    """The frame pairs of one match (`match` indexes ``Report.matches``).

    `reference_status` is a `ReferenceStatus` value (``ok``, ``missing``,
    ``changed``, ``unreadable``); `note` says what happened in words.
    """

    match: int
    reference_id: int
    reference_status: str
    pairs: tuple[FramePair, ...]
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "match": self.match,
            "reference_id": self.reference_id,
            "reference_status": self.reference_status,
            "note": self.note,
            "pairs": [p.to_dict() for p in self.pairs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchFrames:
        _need_dict(data, "match frames")
        note = data.get("note")
        return cls(
            int(data["match"]),
            int(data["reference_id"]),
            str(data.get("reference_status", REFERENCE_OK)),
            tuple(FramePair.from_dict(p) for p in _items(data, "pairs")),
            str(note) if note is not None else None,
        )


@dataclass(frozen=True)
class Keyframes:
    """Every picture a report shows: the clip's shots and each match's aligned pairs."""

    query: tuple[Thumbnail, ...] = ()
    matches: tuple[MatchFrames, ...] = ()
    long_side: int = THUMB_LONG_SIDE
    quality: int = THUMB_QUALITY
    notes: tuple[str, ...] = ()
    #: The clip's shots (spans, transitions, keyframe times) the `query` thumbnails show.
    shots: Shots | None = None

    def for_match(self, index: int) -> MatchFrames | None:
        """The pairs of ``Report.matches[index]``, if any were made."""
        for m in self.matches:
            if m.match == index:
                return m
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "long_side": self.long_side,
            "quality": self.quality,
            "notes": list(self.notes),
            "query": [t.to_dict() for t in self.query],
            "matches": [m.to_dict() for m in self.matches],
            "shots": self.shots.to_dict() if self.shots is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Keyframes:
        """Rebuild from the JSON form. Raises TypeError, KeyError or ValueError on a malformed one."""
        _need_dict(data, "keyframes")
        return cls(
            query=tuple(Thumbnail.from_dict(t) for t in _items(data, "query")),
            matches=tuple(MatchFrames.from_dict(m) for m in _items(data, "matches")),
            long_side=int(data.get("long_side", THUMB_LONG_SIDE)),
            quality=int(data.get("quality", THUMB_QUALITY)),
            notes=tuple(str(n) for n in _items(data, "notes")),
            shots=Shots.from_dict(data["shots"]) if isinstance(data.get("shots"), dict) else None,
        )


# -- making them ---------------------------------------------------------------------


def encode_jpeg(rgb: np.ndarray, t: float, *, quality: int = THUMB_QUALITY) -> Thumbnail:
    """An RGB frame (H, W, 3 uint8) as a `Thumbnail`."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(buf, "JPEG", quality=quality, optimize=True)
    return Thumbnail(
        round(float(t), 3), int(rgb.shape[1]), int(rgb.shape[0]), base64.b64encode(buf.getvalue()).decode()
    )


def grab_frames(
    decoder: Decoder, path: Path | str, times: Sequence[float], *, media: Media, long_side: int = THUMB_LONG_SIDE
) -> list[np.ndarray | None]:
    """Colour frames (RGB uint8, display orientation) at each of `times`, None where none decoded.

    `Decoder.grab`, with times past ``duration - END_MARGIN_S`` taken there
    (the last frames of a file, not past its end).

    Raises:
        ToolMissingError: ffmpeg is missing.
    """
    return decoder.grab(path, _within(times, media), media, long_side)


def _spread(items: Sequence[Any], n: int) -> list[Any]:
    """Up to `n` items evenly spread over `items`, first and last included."""
    if len(items) <= n:
        return list(items)
    if n == 1:
        return [items[len(items) // 2]]
    idx = sorted({round(i * (len(items) - 1) / (n - 1)) for i in range(n)})
    return [items[i] for i in idx]


def aligned_times(match: Any, n: int = PAIRS_PER_MATCH) -> list[tuple[float, float, int | None]]:
    """(query_t, reference_t, distance) at up to `n` times across a match's span.

    Times come from the matcher's aligned frame pairs (matched ones first
    choice); without pairs they are placed on the span by its offset and speed.
    """
    pairs = [tuple(p) for p in getattr(match, "pairs", ())]
    good = [p for p in pairs if int(p[2]) <= FRAME_MATCH_DISTANCE]
    chosen = _spread(good or pairs, n)
    if chosen:
        return [(float(q), float(r), int(d)) for q, r, d in chosen]
    q0, q1 = float(match.query_start_s), float(match.query_end_s)
    qs = [q0] if q1 <= q0 else [q0 + (q1 - q0) * (i + 0.5) / n for i in range(n)]
    return [(q, float(match.offset_s) + float(match.speed) * q, None) for q in qs]


@functools.lru_cache(maxsize=64)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    """The file's SHA-256, read once per (path, size, modification time): verify and the report both ask."""
    return sha256_of(Path(path))


def reference_state(ref: Any) -> tuple[str, str | None, Media | None]:
    """Whether the reference file at its indexed path is the one that was indexed.

    Returns:
        Its status, a note saying what is wrong (None when it is fine), and
        what a grab needs of it (None unless it is fine).
    """
    path = Path(ref.path)
    if not path.is_file():
        return (
            REFERENCE_MISSING,
            f"reference #{ref.id} is no longer at its indexed path {ref.path}: its frames cannot be shown "
            "(the match stands on the hashes stored in the index)",
            None,
        )
    try:
        size = path.stat().st_size
        changed = bool(ref.size_bytes) and size != ref.size_bytes
        if not changed and size <= VERIFY_SHA256_MAX_BYTES and ref.sha256:
            stat = path.stat()
            changed = _sha256_cached(str(path), stat.st_size, stat.st_mtime_ns) != ref.sha256
        if changed:
            return (
                REFERENCE_CHANGED,
                f"the file at reference #{ref.id}'s indexed path {ref.path} is not the one indexed "
                "(different size or SHA-256): its frames are not shown",
                None,
            )
        return REFERENCE_OK, None, Media(ref.kind, int(ref.width), int(ref.height), float(ref.duration_s))
    except (OSError, ProvenanceError) as exc:
        return REFERENCE_UNREADABLE, f"reference #{ref.id} ({ref.path}) could not be read: {exc}", None


def reference_window(
    decoder: Decoder,
    ref: Any,
    start_s: float,
    end_s: float,
    *,
    fps: float,
    long_side: int,
    report_times: Sequence[float] = (),
    kept: KeptFrames | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Grey frames of a reference from `start_s` to `end_s` at `fps` (on the ticks k / `fps`), for the verify stage,
    decoded from its file (an index made before verify's views were stored, `index.views`).

    `report_times` (with `kept`): the reference's times the report's frame pairs will likely show,
    grabbed in the same decode at `THUMB_LONG_SIDE` and kept in `kept` for `make_keyframes`.

    Returns:
        (times, images (N, h, w) uint8), or None when the reference file is
        missing, changed since it was indexed, unreadable, or gives no frame.
    """
    status, _, media = reference_state(ref)
    if status != REFERENCE_OK or media is None:
        return None
    last = max(0.0, media.duration_s - END_MARGIN_S) if media.duration_s > 0 else end_s
    # On the grid of ticks k / fps, as ingest samples the views it stores (`index.views`).
    first, final = math.ceil(max(0.0, start_s) * fps - 1e-6), math.floor(min(end_s, last) * fps + 1e-6)
    times = np.arange(first, final + 1) / fps
    if media.kind == "image" or len(times) == 0:
        times = np.array([0.0])
    more = kept.missing(ref.id, report_times) if kept is not None and kept.report else []
    seen = None if kept is None or more else kept.window(ref.id, long_side, times.tolist())
    if seen is None:
        try:
            if more and kept is not None:
                frames, report = decoder.grab_both(
                    ref.path, _within(times.tolist(), media), media, long_side, _within(more, media), THUMB_LONG_SIDE
                )
                kept.add(ref.id, more, report)
            else:
                frames = grab_frames(decoder, ref.path, times.tolist(), media=media, long_side=long_side)
        except ProvenanceError:
            return None
        seen = [None if f is None else _grey(f) for f in frames]
        if kept is not None:
            kept.add_window(ref.id, long_side, times.tolist(), seen)
    keep = [i for i, f in enumerate(seen) if f is not None]
    if not keep:
        return None
    return times[keep], np.stack([seen[i] for i in keep])  # type: ignore[misc]


class KeptFrames:
    """A check's reference frames already decoded: at the report's size (`THUMB_LONG_SIDE`) by reference and
    time, and verify's grey windows by reference, size and time.

    Verify's window grab takes the report's frames in its decode (`reference_window`); `make_keyframes`
    uses them instead of decoding the reference again. A window whose every time an earlier window
    of the same reference held (a segment verified again at another speed or moment, within a short
    reference) is taken from those frames rather than decoded again.
    """

    def __init__(self, *, report: bool = True) -> None:
        #: Whether the report shows frames (without, no report frame is taken in a window's decode).
        self.report = report
        self._frames: dict[tuple[int, float], np.ndarray | None] = {}
        self._grey: dict[tuple[int, int, float], np.ndarray | None] = {}

    def window(self, ref_id: int, long_side: int, times: Sequence[float]) -> list[np.ndarray | None] | None:
        """The grey frames at every one of `times` (None where it did not decode), or None unless each was tried."""
        keys = [(ref_id, long_side, round(float(t), 6)) for t in times]
        return [self._grey[k] for k in keys] if all(k in self._grey for k in keys) else None

    def add_window(
        self, ref_id: int, long_side: int, times: Sequence[float], frames: Sequence[np.ndarray | None]
    ) -> None:
        for t, f in zip(times, frames, strict=True):
            self._grey[(ref_id, long_side, round(float(t), 6))] = f

    def missing(self, ref_id: int, times: Sequence[float]) -> list[float]:
        """The distinct `times` (rounded to the millisecond) not yet kept for reference `ref_id`."""
        return sorted({round(float(t), 3) for t in times} - {t for r, t in self._frames if r == ref_id})

    def add(self, ref_id: int, times: Sequence[float], frames: Sequence[np.ndarray | None]) -> None:
        for t, f in zip(times, frames, strict=True):
            self._frames[(ref_id, round(float(t), 3))] = f

    def get(self, ref_id: int, times: Sequence[float]) -> list[np.ndarray] | None:
        """The frames at every one of `times`, or None unless each was kept (and decoded)."""
        found = [self._frames.get((ref_id, round(float(t), 3))) for t in times]
        return [f for f in found if f is not None] if all(f is not None for f in found) else None


def _within(times: Sequence[float], media: Media) -> list[float]:
    """`times` past ``duration - END_MARGIN_S`` taken there (as `grab_frames` does)."""
    last = max(0.0, media.duration_s - END_MARGIN_S) if media.duration_s > 0 else None
    return [min(float(t), last) if last is not None else float(t) for t in times]


def _grey(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of an RGB frame, as the decoder's grey samples use."""
    return np.clip(rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) + 0.5, 0, 255).astype(np.uint8)


def _thumbs(
    decoder: Decoder, path: Path | str, times: Sequence[float], media: Media, long_side: int, quality: int
) -> list[Thumbnail | None]:
    frames = grab_frames(decoder, path, times, media=media, long_side=long_side)
    return [encode_jpeg(f, t, quality=quality) if f is not None else None for f, t in zip(frames, times, strict=True)]


def _kept_thumbs(frames: Sequence[np.ndarray], times: Sequence[float], quality: int) -> list[Thumbnail | None]:
    return [encode_jpeg(f, t, quality=quality) for f, t in zip(frames, times, strict=True)]


def _sample_thumbs(sampled: Frames, times: Sequence[float], quality: int) -> list[Thumbnail | None]:
    out: list[Thumbnail | None] = []
    for t in times:
        rgb = sampled.colour_at(t)
        out.append(encode_jpeg(rgb, t, quality=quality) if rgb is not None else None)
    return out


def make_keyframes(
    path: Path | str,
    facts: MediaFacts,
    shot_times: Shots | Iterable[float],
    matches: Sequence[Any],
    *,
    decoder: Decoder,
    long_side: int = THUMB_LONG_SIDE,
    quality: int = THUMB_QUALITY,
    pairs_per_match: int = PAIRS_PER_MATCH,
    sampled: Frames | None = None,
    kept: KeptFrames | None = None,
) -> Keyframes:
    """Thumbnails of the checked clip's shots and of every match's aligned frame pairs.

    Args:
        path: the checked clip.
        facts: its probe result.
        shot_times: the clip's `shots.Shots` (`clip_shots`, `shots.find_shots`: the report then
            carries them and shows their keyframes, the ones ``provenance frames`` writes),
            or bare keyframe times.
        matches: the report's matches, in report order.
        decoder: grabs the frames (`provenance.decode.choose_decoder`).
        sampled: the clip's `Frames`; when they kept colour samples at
            `long_side` (a `Plan` with ``colour_long_side``), the clip's
            thumbnails are those samples, exactly the frames that were
            hashed, and the clip is not decoded again.
        kept: reference frames the verify stage's decode already took at `long_side`
            (`reference_window`): a reference whose every wanted frame is kept is not decoded again.

    Returns:
        The `Keyframes`; frames that could not be taken are None with a note, never an error.

    Raises:
        ToolMissingError: ffmpeg is missing.
    """
    notes: list[str] = []
    found = shot_times if isinstance(shot_times, Shots) else None
    bare: Iterable[float] = shot_times.keyframe_times if isinstance(shot_times, Shots) else shot_times
    every = sorted(set(round(float(t), 3) for t in bare))
    shots = _spread(every, MAX_QUERY_SHOTS)
    if len(shots) < len(every):
        notes.append(
            f"the clip has {len(every)} keyframes; {len(shots)} of them, spread over the clip, are shown here "
            "(provenance frames writes them all)"
        )
    plans = [aligned_times(m, pairs_per_match) for m in matches]
    query_times = shots + [q for plan in plans for q, _, _ in plan]
    # One grab per reference file, however many matches it has.
    states: dict[int, tuple[str, str | None, Media | None]] = {}
    wanted: dict[int, list[float]] = {}
    for m, plan in zip(matches, plans, strict=True):
        ref = m.reference
        if ref.id not in states:
            states[ref.id] = reference_state(ref)
        wanted.setdefault(ref.id, []).extend(r for _, r, _ in plan)
    paths = {m.reference.id: m.reference.path for m in matches}
    # Each grab is one decode: run the clip's and the references' side by side.
    colour = sampled.colour if sampled is not None else None
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        if sampled is not None and colour is not None and max(colour.shape[1:3]) == long_side:
            query_job = pool.submit(_sample_thumbs, sampled, query_times, quality)
        elif query_times:
            query_job = pool.submit(_thumbs, decoder, path, query_times, Media.of(facts), long_side, quality)
        else:
            query_job = None
        known: dict[int, list[np.ndarray]] = {}
        if kept is not None and long_side == THUMB_LONG_SIDE:
            known = {rid: got for rid in states if (got := kept.get(rid, wanted[rid])) is not None}
        ref_jobs = {
            rid: pool.submit(_kept_thumbs, known[rid], wanted[rid], quality)
            if rid in known
            else pool.submit(_thumbs, decoder, paths[rid], wanted[rid], media, long_side, quality)
            for rid, (_, _, media) in states.items()
            if media is not None
        }
        query_thumbs = query_job.result() if query_job is not None else []
        ref_thumbs: dict[int, list[Thumbnail | None]] = {rid: job.result() for rid, job in ref_jobs.items()}
    if any(t is None for t in query_thumbs):
        notes.append(f"{sum(t is None for t in query_thumbs)} frame(s) of the checked clip could not be decoded")
    shot_thumbs = tuple(t for t in query_thumbs[: len(shots)] if t is not None)
    for rid, thumbs in ref_thumbs.items():
        if all(t is None for t in thumbs):
            media = states[rid][2]
            states[rid] = (REFERENCE_UNREADABLE, f"no frame of reference #{rid} ({paths[rid]}) could be decoded", media)
    out: list[MatchFrames] = []
    pos = len(shots)
    used: dict[int, int] = {}
    for i, (m, plan) in enumerate(zip(matches, plans, strict=True)):
        q_thumbs = query_thumbs[pos : pos + len(plan)]
        pos += len(plan)
        ref = m.reference
        status, note, _ = states[ref.id]
        taken = used.get(ref.id, 0)
        r_thumbs = ref_thumbs.get(ref.id, [None] * (taken + len(plan)))[taken : taken + len(plan)]
        used[ref.id] = taken + len(plan)
        pairs = tuple(
            FramePair(round(q, 3), round(r, 3), d, qt, rt)
            for (q, r, d), qt, rt in zip(plan, q_thumbs, r_thumbs, strict=True)
        )
        out.append(MatchFrames(i, int(ref.id), status, pairs, note))
        if note and note not in notes:
            notes.append(note)
    return Keyframes(shot_thumbs, tuple(out), long_side, quality, tuple(notes), found)


def clip_shots(
    path: Path | str, *, decoder: Decoder, facts: MediaFacts | None = None, colour_long_side: int | None = None
) -> tuple[Shots, Frames]:
    """The clip's shots and keyframes, from the samples `provenance check` takes of it.

    The same samples (`query.plan_for` of a query) and the same content box
    (`layout.find_layout`) as `check`, so ``provenance frames`` and the
    report's keyframe strip show the same keyframes.

    Args:
        path: the clip (or still image).
        decoder: samples it.
        facts: its probe result (probed here when not given, while the decoder samples).
        colour_long_side: also keep every sample in colour this long (`decode.Plan`; `decode.FULL_SIZE`:
            at the display size), from the same decode.

    Raises:
        BadInputError: the clip cannot be read or decoded at all.
        ProcessingError: the decoder failed or exceeded its time limit.
    """
    shots, frames, _ = _clip_shots(path, decoder, facts, colour_long_side)
    return shots, frames


def _clip_shots(
    path: Path | str, decoder: Decoder, facts: MediaFacts | None, colour_long_side: int | None
) -> tuple[Shots, Frames, MediaFacts]:
    """`clip_shots` with the facts; a clip not yet probed is probed on a side thread while it is sampled.

    Raises:
        BadInputError: as `clip_shots`, and for a sound file (no picture).
    """
    plan = plan_for(Role.QUERY, keyframes=colour_long_side)
    early: Frames | None = None
    if facts is None:
        with ThreadPoolExecutor(max_workers=1) as side:
            facts, early = probe_while_sampling(Path(path), side, decoder, plan, then=lambda _facts: None)
    if facts.kind == "audio":
        raise BadInputError(
            f"{path}: a sound file has no picture to take keyframes from; give a video clip or a still image"
        )
    if facts.kind == "image":
        frames = still_frames(path, plan.long_side)
    else:
        frames = early if early is not None else decoder.sample(path, plan, facts)
    return find_shots(frames, find_layout(frames.images).content_box), frames, facts


def _box_pixels(box: Rect | None, width: int, height: int) -> tuple[int, int, int, int]:
    """A content box (fractions) as pixel bounds (x0, y0, x1, y1) of a `width` x `height` frame."""
    if box is None:
        return 0, 0, width, height
    x0, y0 = int(round(box[0] * width)), int(round(box[1] * height))
    return x0, y0, max(x0 + 2, int(round(box[2] * width))), max(y0 + 2, int(round(box[3] * height)))


def _is_padding(images: Sequence[np.ndarray], box: Rect | None) -> bool:
    """Whether what lies outside `box` in these full-resolution keyframes is padding, safe to crop away.

    Padding is flat (bars) or blurred (a blurred copy behind a reframe): averaged
    over the keyframes, its mean absolute Laplacian is at most `PADDING_DETAIL`
    grey levels, the compression noise of flat areas. The layout stage judges on
    128 px samples; the files are full size and a wrong crop would cut the picture.
    """
    import cv2

    if box is None or not images:
        return False
    outside = []
    for rgb in images:
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        detail = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
        x0, y0, x1, y1 = _box_pixels(box, grey.shape[1], grey.shape[0])
        inside = detail[y0:y1, x0:x1]
        rest = detail.size - inside.size
        if rest <= 0:
            return False
        outside.append(float(detail.sum() - inside.sum()) / rest)
    return float(np.mean(outside)) <= PADDING_DETAIL


def _contact_sheet(images: Sequence[tuple[float, np.ndarray]], target: Path) -> None:
    """One JPEG with every keyframe, `SHEET_COLUMNS` to a row, each captioned with its time."""
    import cv2

    cells = []
    for t, rgb in images:
        h, w = rgb.shape[:2]
        scale = SHEET_CELL / max(h, w)
        small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        cell = np.full((SHEET_CELL + 24, SHEET_CELL, 3), 255, np.uint8)
        oy, ox = (SHEET_CELL - small.shape[0]) // 2, (SHEET_CELL - small.shape[1]) // 2
        cell[oy : oy + small.shape[0], ox : ox + small.shape[1]] = small
        minutes, seconds = divmod(t, 60.0)
        label = f"{int(minutes):d}:{seconds:06.3f}"
        cv2.putText(cell, label, (6, SHEET_CELL + 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        cells.append(cell)
    rows = []
    blank = np.full_like(cells[0], 255)
    for r in range(0, len(cells), SHEET_COLUMNS):
        row = cells[r : r + SHEET_COLUMNS]
        row += [blank] * (SHEET_COLUMNS - len(row)) if r else []
        rows.append(np.concatenate(row, axis=1))
    sheet = np.concatenate(
        [np.pad(x, ((0, 0), (0, rows[0].shape[1] - x.shape[1]), (0, 0)), constant_values=255) for x in rows]
    )
    write_file(target, _jpeg(sheet, 85))


def _jpeg(rgb: np.ndarray, quality: int) -> bytes:
    """An RGB picture as JPEG bytes (written by `files.write_file`, never through a symlink)."""
    import cv2

    done, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not done:
        raise ProcessingError("a keyframe could not be encoded as JPEG")
    return data.tobytes()


def write_keyframes(
    path: Path | str,
    out_dir: Path | str,
    *,
    facts: MediaFacts | None = None,
    decoder: Decoder | None = None,
    warnings: list[str] | None = None,
    unmirror: bool = False,
) -> list[Path]:
    """``provenance frames``: every keyframe as a search-ready JPEG, ``shots.json`` and a contact sheet.

    Each keyframe is taken at the source's full resolution and cropped to the
    content box (no black bars or blurred padding) when what lies outside the
    box is padding in the full-size frames (`_is_padding`), named by its shot and time
    (``shot003_t0012.500.jpg``); with `unmirror`, a left-right flipped copy
    (``..._unmirrored.jpg``) is written beside it, for a clip that matched
    mirrored footage. ``shots.json`` lists the shots (``start_s``, ``end_s``,
    ``transition``) with their keyframes (``t``, ``file``); ``contact_sheet.jpg``
    shows every keyframe with its time.

    The folder must be new, empty or hold only an earlier run's files (a
    folder of other files is not ours to add to). Every file is written by `files.write_file`: never through a
    symlink planted in the folder. At most
    `query.MAX_QUERY_DURATION_S` of the clip is examined (memory stays bounded
    whatever the file declares), with a warning when that is less than the whole.

    Args:
        path: the clip (or still image).
        out_dir: a folder that is missing, empty or an earlier run's (made when missing).
        facts: its probe result (probed here when not given).
        decoder: samples and grabs (`choose_decoder`'s when None).
        warnings: gets the sampling's warnings (the part not examined, decoder errors).
        unmirror: also write each keyframe flipped left-right.

    Returns:
        The written files: the keyframes in time order, then ``shots.json`` and the contact sheet.

    Raises:
        BadInputError: the clip cannot be read or decoded at all, or `out_dir` is a file or a folder holding files
            that are not an earlier run's keyframes.
        ProcessingError: a keyframe could not be decoded.
    """

    out = Path(out_dir)
    _check_keyframe_folder(out)
    decoder = decoder or choose_decoder()
    # Full-size colour samples from the one decode when they fit (`decode.FULL_SIZE_MAX_BYTES`): the
    # keyframe files are then the sampled frames themselves, with no second decode.
    shots, frames, facts = _clip_shots(path, decoder, facts, FULL_SIZE)
    width, height = facts.display_size
    if warnings is not None:
        warnings.extend(frames.warnings)
    times = shots.keyframe_times
    if frames.colour is not None:  # the sampled frames themselves, at full size: no second decode
        images: list[np.ndarray | None] = [frames.colour_at(t) for t in times]
    else:
        images = decoder.grab(path, times, Media.of(facts), max(width, height)) if times else []
    box = shots.content_box if _is_padding([i for i in images if i is not None], shots.content_box) else None
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    listing = []
    sheet: list[tuple[float, np.ndarray]] = []
    k = 0
    for n, shot in enumerate(shots.shots):
        keys = []
        for t in shot.keyframes:
            rgb = images[k]
            k += 1
            if rgb is None:
                raise ProcessingError(f"{path}: no frame could be decoded at {t:.2f} s; the file may be damaged there")
            x0, y0, x1, y1 = _box_pixels(box, rgb.shape[1], rgb.shape[0])
            picture = np.ascontiguousarray(rgb[y0:y1, x0:x1])
            target = out / f"shot{n:03d}_t{t:08.3f}.jpg"
            write_file(target, _jpeg(picture, KEYFRAME_QUALITY))
            written.append(target)
            entry: dict[str, Any] = {"t": t, "file": target.name, "width": picture.shape[1], "height": picture.shape[0]}
            if unmirror:
                flipped = out / f"shot{n:03d}_t{t:08.3f}_unmirrored.jpg"
                write_file(flipped, _jpeg(np.ascontiguousarray(picture[:, ::-1]), KEYFRAME_QUALITY))
                written.append(flipped)
                entry["unmirrored_file"] = flipped.name
            keys.append(entry)
            sheet.append((t, picture))
        listing.append({**shot.to_dict(), "keyframes": keys})
    if sheet:
        _contact_sheet(sheet, out / "contact_sheet.jpg")
    document = {
        "clip": str(path),
        "duration_s": facts.duration_s,
        "content_box": list(shots.content_box) if shots.content_box else None,
        "cropped_to": list(box) if box else None,
        "shots": listing,
        "contact_sheet": "contact_sheet.jpg" if sheet else None,
    }
    write_file(out / "shots.json", (json.dumps(document, indent=1) + "\n").encode("utf-8"))
    written.append(out / "shots.json")
    if sheet:
        written.append(out / "contact_sheet.jpg")
    return written


#: Names `write_keyframes` writes (and the temporary names of an interrupted run): a folder
#: holding only these is an earlier run's, written again; anything else is not ours.
KEYFRAME_NAME = re.compile(
    r"\.?(shot\d{3,}_t\d+\.\d{3}(_unmirrored)?\.jpg|shots\.json|contact_sheet\.jpg)(\.[0-9a-f]+\.tmp)?"
)


def _check_keyframe_folder(out: Path) -> None:
    """Refuse (exit 2) a file at `out`, or a folder holding anything but an earlier run's keyframes."""
    if out.exists() and not out.is_dir():
        raise BadInputError(f"-o {out}: a file is there; give a new or empty folder for the keyframes")
    try:
        names = sorted(os.listdir(out)) if out.is_dir() else []
    except OSError as exc:
        raise BadInputError(f"-o {out}: the folder cannot be read ({exc.strerror}); give another -o") from exc
    foreign = [n for n in names if not KEYFRAME_NAME.fullmatch(n)]
    if foreign:
        raise BadInputError(
            f"-o {out}: the folder is not empty: it holds {len(foreign)} file(s) that are not keyframes of "
            f"'provenance frames' ({foreign[0][:80]!r}, ...); give a new or empty folder"
        )
