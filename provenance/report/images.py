"""Stage 10, report: the keyframes a report carries, as small JPEGs inside it.

The JSON report is the single source of truth and the HTML and Markdown
renderers are pure functions of it, so the pictures they show travel in the
report itself: one thumbnail per shot of the checked clip, and for every
match the clip's frame next to the reference frame it aligns with, at a few
aligned times across the matched span. They are made once, in the pipeline,
while the files are at hand; ``provenance report REPORT.json --format html``
then needs no media. A reference file that is no longer at its indexed path
(or has changed) gives no reference frames and says so; the match itself
stands on the indexed hashes::

    >>> kf = make_keyframes("viral.mp4", facts, sampled, matches)
    >>> kf.matches[0].pairs[0].reference.data_uri()[:23]
    'data:image/jpeg;base64,'

Each file is decoded by one ffmpeg process (one seeking input per wanted
time), not one process per frame: ffmpeg's start-up alone costs ~0.2 s here.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import libav, tools
from ..errors import ProvenanceError
from ..probe import MediaFacts

#: Long side of a thumbnail, pixels: sharp on a phone, side by side on a page.
THUMB_LONG_SIDE = 320
#: JPEG quality of thumbnails (a 320x180 frame is ~10-20 kB at this setting).
THUMB_QUALITY = 72
#: Aligned query/reference frame pairs shown per match (start, middle, end of the span).
PAIRS_PER_MATCH = 3
#: Most shot thumbnails of the checked clip.
MAX_QUERY_SHOTS = 8
#: Most seeking inputs in one ffmpeg process (each holds a decoder's frames).
INPUTS_PER_PROCESS = 8
#: Decode a file once, instead of seeking, when the last wanted frame is at
#: most this many seconds in per wanted frame; the single pass stops just
#: after it. Measured here on 640x360 H.264 (2 s GOP): a full decode costs
#: ~2.7 s of CPU per minute, a seek ~0.1 s per frame (decoding from the
#: previous keyframe, and ffmpeg's start-up shared by `INPUTS_PER_PROCESS`
#: seeks). With x264's default GOP of 250 frames (8 s at 30 fps) a seek costs
#: up to ~0.3 s per frame on 720p, and the check of a 10 s 720p clip spent
#: 2.6 s of its 4.0 s on seeks, so the cut-over sits at 4 s per frame. Three
#: frames from each of the 32 development items (at 15, 50 and 85% and at 10,
#: 20 and 30% of each): one pass 37.3 s of CPU in all, seeking 52.2 s, this
#: rule 38.1 s. Frames at 1 s, half-way and 80% of the first ten 720p items,
#: this code and the one that read each file to its end run alternately (two
#: rounds): 12.0 and 11.2 s against 12.7 and 11.6 s. The early stop saves only
#: what lies after the last wanted frame; a single round measured alone moved
#: by more than that (6.9-13.5 s) on this machine. One decoder thread instead
#: of ffmpeg's made no difference beyond that spread, so ffmpeg's threading is
#: kept for wall time.
SEQUENTIAL_SECONDS_PER_FRAME = 4.0
#: A single pass reads this far past the last wanted time: the first frame at
#: or after it is there for any frame rate of 2 frames/s or more.
SEQUENTIAL_MARGIN_S = 0.5
#: References up to this size are re-hashed (SHA-256) before their frames are
#: shown; larger ones are identified by size and duration only.
VERIFY_SHA256_MAX_BYTES = 512 << 20

REFERENCE_OK = "ok"
REFERENCE_MISSING = "missing"
REFERENCE_CHANGED = "changed"
REFERENCE_UNREADABLE = "unreadable"


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

    `reference_status` is ``ok``, ``missing`` (no file at the indexed path),
    ``changed`` (a different file is there now) or ``unreadable``; `note`
    says what happened in words.
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


@dataclass(frozen=True)
class Media:
    """What frame grabbing needs to know of a file: its kind, display size and duration."""

    kind: str
    width: int
    height: int
    duration_s: float

    @classmethod
    def of(cls, facts: MediaFacts) -> Media:
        width, height = facts.display_size
        return cls(facts.kind, width, height, facts.duration_s)


def grab_frames(
    path: Path | str, times: Sequence[float], *, facts: MediaFacts | Media, long_side: int = THUMB_LONG_SIDE
) -> list[np.ndarray | None]:
    """Colour frames (RGB uint8, display orientation) at each of `times`, None where none decoded.

    Like `provenance.frames.grab_frame` (same confined input, same scaling)
    but for many times at once. When the wanted frames are dense (at most
    `SEQUENTIAL_SECONDS_PER_FRAME` of footage per frame) the file is decoded
    once and the first frame at or after each time is kept; otherwise one
    ffmpeg process serves up to `INPUTS_PER_PROCESS` times, each through its
    own seeking input and output file.

    Raises:
        ToolMissingError: ffmpeg is missing.
    """
    media = facts if isinstance(facts, Media) else Media.of(facts)
    if not times:
        return []
    if media.kind == "image":
        return _still(path, len(times), long_side)
    if media.width <= 0 or media.height <= 0:
        return [None] * len(times)
    from ..frames import work_size

    w, h = work_size(media.width, media.height, long_side)
    last = max(0.0, media.duration_s - 0.1) if media.duration_s > 0 else None
    wanted = [round(min(max(0.0, float(t)), last) if last is not None else max(0.0, float(t)), 3) for t in times]
    # A single pass decodes only up to the last wanted frame: worth it when
    # that is no further in than the seeks would decode in all.
    if max(wanted) + SEQUENTIAL_MARGIN_S <= SEQUENTIAL_SECONDS_PER_FRAME * len(set(wanted)):
        found = _grab_libav(path, wanted, w, h, media.duration_s) if libav.available() else None
        found = found or _grab_sequential(path, wanted, w, h, media.duration_s)
        if found is not None:
            return found
    return _grab_seeking(path, wanted, w, h)


def _grab_libav(
    path: Path | str, wanted: list[float], w: int, h: int, duration: float
) -> list[np.ndarray | None] | None:
    """The one-pass grab in the libav worker (no process start; frames no target needs and nothing
    refers to are skipped); None when it did not find every frame (the caller falls back)."""
    try:
        got = libav.grab(
            tools.regular_file(path),
            wanted,
            size=(w, h),
            format_whitelist=tools.FORMAT_WHITELIST,
            max_pixels=tools.MAX_FRAME_PIXELS,
            timeout=60 + duration,
        )
    except ProvenanceError as exc:
        if exc.exit_code == 3:
            raise
        return None
    frames = {t: np.frombuffer(got[round(t, 6)], np.uint8).reshape(h, w, 3) for t in wanted if round(t, 6) in got}
    if len(frames) != len(set(wanted)):
        return None
    return [frames[t] for t in wanted]


def _still(path: Path | str, n: int, long_side: int) -> list[np.ndarray | None]:
    import cv2

    from ..frames import load_image, work_size

    rgb = load_image(Path(path), grey=False)
    w, h = work_size(rgb.shape[1], rgb.shape[0], long_side)
    small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    return [small for _ in range(n)]


def _run(argv: list[str], timeout: float, max_stdout: int) -> bytes | None:
    """ffmpeg's stdout, or None when it failed on this input (a missing ffmpeg still raises)."""
    try:
        return tools.run_ffmpeg(argv, timeout=timeout, max_stdout=max_stdout).stdout
    except ProvenanceError as exc:
        if exc.exit_code == 3:
            raise
        return None


def _grab_sequential(
    path: Path | str, wanted: list[float], w: int, h: int, duration: float
) -> list[np.ndarray | None] | None:
    """One decode of the whole file; None when the frames it gave cannot be told apart (caller seeks instead)."""
    targets = sorted(set(wanted))
    # The first frame at or after each target: selected when the last frame
    # kept came before that target (or none was kept yet).
    terms = "+".join(f"gte(t,{t:.3f})*(isnan(prev_selected_t)+lt(prev_selected_t,{t:.3f}))" for t in targets)
    frame_bytes = w * h * 3
    argv = [
        # No further than just past the last target.
        *("-t", f"{targets[-1] + SEQUENTIAL_MARGIN_S:.3f}"),
        *tools.input_args(path),
        "-map",
        "0:v:0",
        "-vf",
        f"select='gt({terms},0)',scale={w}:{h}:flags=area",
        "-vsync",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "pipe:",
    ]
    raw = _run(argv, timeout=60 + duration, max_stdout=frame_bytes * (len(targets) + 1))
    if raw is None or len(raw) // frame_bytes != len(targets):
        return None  # a frame served two targets, or the end came early: seek for each instead
    frames = {t: np.frombuffer(raw[i * frame_bytes : (i + 1) * frame_bytes], np.uint8).reshape(h, w, 3)
              for i, t in enumerate(targets)}  # fmt: skip
    return [frames[t] for t in wanted]


def _grab_seeking(path: Path | str, wanted: list[float], w: int, h: int) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = [None] * len(wanted)
    frame_bytes = w * h * 3
    for start in range(0, len(wanted), INPUTS_PER_PROCESS):
        batch = wanted[start : start + INPUTS_PER_PROCESS]
        with tempfile.TemporaryDirectory(prefix="provenance-frames-") as tmp:
            argv: list[str] = []
            for t in batch:
                argv += tools.input_args(path, seek_s=t)
            for i in range(len(batch)):
                argv += ["-map", f"{i}:v:0", "-frames:v", "1", "-vf", f"scale={w}:{h}:flags=area"]
                argv += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-y", os.path.join(tmp, f"{i}.rgb")]
            if _run(argv, timeout=60 + 10 * len(batch), max_stdout=1 << 16) is None:
                continue
            for i in range(len(batch)):
                raw = Path(tmp, f"{i}.rgb")
                if raw.is_file() and raw.stat().st_size >= frame_bytes:
                    data = raw.read_bytes()[:frame_bytes]
                    out[start + i] = np.frombuffer(data, dtype=np.uint8).reshape(h, w, 3)
    return out


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
    from ..match import FRAME_MATCH_DISTANCE

    pairs = [tuple(p) for p in getattr(match, "pairs", ())]
    good = [p for p in pairs if int(p[2]) <= FRAME_MATCH_DISTANCE]
    chosen = _spread(good or pairs, n)
    if chosen:
        return [(float(q), float(r), int(d)) for q, r, d in chosen]
    q0, q1 = float(match.query_start_s), float(match.query_end_s)
    qs = [q0] if q1 <= q0 else [q0 + (q1 - q0) * (i + 0.5) / n for i in range(n)]
    return [(q, float(match.offset_s) + float(match.speed) * q, None) for q in qs]


def _reference_state(ref: Any) -> tuple[str, str | None, Media | None]:
    """Whether the reference file at its indexed path is the one that was indexed."""
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
            from ..ingest import sha256_of

            changed = sha256_of(path) != ref.sha256
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


def _thumbs(
    path: Path | str, times: Sequence[float], facts: MediaFacts | Media, long_side: int, quality: int
) -> list[Thumbnail | None]:
    frames = grab_frames(path, times, facts=facts, long_side=long_side)
    return [encode_jpeg(f, t, quality=quality) if f is not None else None for f, t in zip(frames, times, strict=True)]


def _sample_thumbs(sampled: Any, times: Sequence[float], quality: int) -> list[Thumbnail | None]:
    out: list[Thumbnail | None] = []
    for t in times:
        rgb = sampled.colour_at(t)
        out.append(encode_jpeg(rgb, t, quality=quality) if rgb is not None else None)
    return out


def make_keyframes(
    path: Path | str,
    facts: MediaFacts,
    shot_times: Iterable[float],
    matches: Sequence[Any],
    *,
    long_side: int = THUMB_LONG_SIDE,
    quality: int = THUMB_QUALITY,
    pairs_per_match: int = PAIRS_PER_MATCH,
    sampled: Any = None,
) -> Keyframes:
    """Thumbnails of the checked clip's shots and of every match's aligned frame pairs.

    Args:
        path: the checked clip.
        facts: its probe result.
        shot_times: one time per shot of the clip (e.g. `frames.shot_keyframes`).
        matches: the report's matches, in report order.
        sampled: the clip's `frames.Frames`; when they kept colour samples at
            `long_side` (``extract_frames(colour_long_side=...)``), the clip's
            thumbnails are those samples, exactly the frames that were
            hashed, and the clip is not decoded again.

    Returns:
        The `Keyframes`; frames that could not be taken are None with a note, never an error.

    Raises:
        ToolMissingError: ffmpeg is missing.
    """
    notes: list[str] = []
    shots = _spread(sorted(set(round(float(t), 3) for t in shot_times)), MAX_QUERY_SHOTS)
    plans = [aligned_times(m, pairs_per_match) for m in matches]
    query_times = shots + [q for plan in plans for q, _, _ in plan]
    # One grab per reference file, however many matches it has.
    states: dict[int, tuple[str, str | None, Media | None]] = {}
    wanted: dict[int, list[float]] = {}
    for m, plan in zip(matches, plans, strict=True):
        ref = m.reference
        if ref.id not in states:
            states[ref.id] = _reference_state(ref)
        wanted.setdefault(ref.id, []).extend(r for _, r, _ in plan)
    paths = {m.reference.id: m.reference.path for m in matches}
    # Each grab is one ffmpeg decode: run the clip's and the references' side by side.
    colour = getattr(sampled, "colour", None)
    from_samples = colour is not None and max(colour.shape[1:3]) == long_side
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        if from_samples:
            query_job = pool.submit(_sample_thumbs, sampled, query_times, quality)
        elif query_times:
            query_job = pool.submit(_thumbs, path, query_times, facts, long_side, quality)
        else:
            query_job = None
        ref_jobs = {
            rid: pool.submit(_thumbs, paths[rid], wanted[rid], media, long_side, quality)
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
    return Keyframes(shot_thumbs, tuple(out), long_side, quality, tuple(notes))
