"""Stage decode: what the libav worker and its client say to each other, and the rules both apply.

Standard library only: the worker (`provenance/decode/worker.py`, run as a
script off the package's import path) loads this file by its path, and the
client (`provenance.decode.libav`) imports it. One message is one JSON line
(`encode`, `decode`), tagged by its ``type``; a reply that carries frames is
followed by their bytes::

    >>> line = encode(GrabRequest("/clips/a.mp4", (0.5, 1.0), (320, 180), "mov,mp4", 1 << 26))
    >>> decode(line)
    GrabRequest(path='/clips/a.mp4', targets=(0.5, 1.0), size=(320, 180), format_whitelist='mov,mp4', max_pixels=67108864)

One request at a time. At start the worker sends `Ready`. A `SampleRequest`
gets a `SampleReply` and then `count` grey frames (``height*width`` bytes
each) and, when the reply says so, `count` RGB frames, then its detail frames
and its `sparse` frames (a second grey size at every n-th tick); one without a size
(`plan` set: the file not yet probed) first gets `Examined` once the worker has
read the duration, and the sizes it chose come back in `SampleReply.plan`. A
`GrabRequest` gets a `GrabReply` and one RGB frame per time it found. A request
the worker cannot serve gets a `Refusal` with its `ErrorKind`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Literal

#: Long side of the sampled frames, pixels: enough for a 32x32 pHash of a 50%
#: picture-in-picture, small enough that an hour of reference at 2 frames/s fits in ~100 MB.
WORK_SIZE = 128

#: An AVDiscard value (ffmpeg's ``-skip_frame`` and ``-skip_loop_filter``): which frames a decoder may skip work on.
AVDiscard = Literal["default", "noref", "bidir", "nointra", "nokey", "all"]
#: The AVDiscard values accepted for ``-skip_frame`` (``all`` would leave no frame) and ``-skip_loop_filter``.
SKIP_FRAME_VALUES = frozenset({"default", "noref", "bidir", "nointra", "nokey"})
SKIP_LOOP_FILTER_VALUES = SKIP_FRAME_VALUES | {"all"}


#: A grab whose first target lies `SEEK_FROM_S` or more into the file starts at the keyframe at or
#: before `SEEK_BACK_S` ahead of it, not at the file's start (a seek that fails or lands past the
#: target decodes from the start; docs/tuning.md).
SEEK_FROM_S = 4.0
SEEK_BACK_S = 1.0
#: How far before that point the keyframe a seek lands on may lie, seconds, in judging whether the
#: worker's one pass pays (x264's default keyframe interval: 250 frames, 10 s at 25 frames/s).
KEYFRAME_REACH_S = 10.0


def grab_starts_at(targets: list[float] | tuple[float, ...]) -> float:
    """About where the worker's grab of `targets` starts decoding, seconds (at the latest)."""
    first = min(targets) if targets else 0.0
    return max(0.0, first - SEEK_BACK_S - KEYFRAME_REACH_S) if first >= SEEK_FROM_S else 0.0


def work_size(width: int, height: int, long_side: int = WORK_SIZE) -> tuple[int, int]:
    """(w, h) of frames scaled to `long_side` from a display size, keeping its aspect, even numbers.

    Raises:
        ValueError: a side is not positive.
    """
    if width <= 0 or height <= 0:
        raise ValueError("frame size must be positive")
    scale = long_side / max(width, height)
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


#: A plan's colour long side at or above this asks for the colour samples at the display size itself
#: (`provenance frames`: keyframes at the source's full resolution), by rule.
FULL_SIZE = 1 << 16
#: ... kept only when all the samples take at most this many bytes (a 20 s 720x1280 clip at 4 a
#: second: 221 MB; docs/tuning.md); past it the caller grabs the frames it needs.
FULL_SIZE_MAX_BYTES = 256 << 20


def colour_size(display: tuple[int, int], long_side: int, seconds: float, fps: float) -> tuple[int, int] | None:
    """(w, h) of the colour samples a plan's `long_side` asks for on a `display`-sized clip examined for `seconds`.

    `work_size` of `long_side`; at `FULL_SIZE` or above the display size itself (even numbers), or
    None when that many samples would pass `FULL_SIZE_MAX_BYTES`. The worker and the client both
    apply this rule, so a file sampled before it was probed gets the sizes the probe would ask for.
    """
    if long_side < FULL_SIZE:
        return work_size(display[0], display[1], long_side)
    w, h = work_size(display[0], display[1], max(display))
    return (w, h) if (seconds + 1) * fps * w * h * 3 <= FULL_SIZE_MAX_BYTES else None


def clockwise(counter_clockwise: float | None) -> int:
    """A display rotation (counter-clockwise degrees, as ffprobe and PyAV give it) as clockwise 0/90/180/270."""
    return round(-float(counter_clockwise or 0.0) / 90.0) % 4 * 90


@dataclass(frozen=True)
class Decoding:
    """How the decoder may save work while sampling (ffmpeg input options).

    `skip_frame`: frames it may skip, an AVDiscard value (``noref``: frames
    nothing refers to; ``bidir``). `threads`: decoder threads (``-threads``),
    ffmpeg's default when None; more than one decodes several frames at once
    (frame and slice threads, as ffmpeg's command line does), the same
    frames. `skip_loop_filter`: frames whose in-loop deblocking filter it
    may skip, an AVDiscard value: ``all`` (the block
    edges it would smooth are averaged away when frames are scaled down, but
    every later frame that refers to an unfiltered one inherits the
    difference) or ``noref`` (only frames nothing refers to, so no
    difference propagates). `skip_unsampled`: the libav decoder also skips
    frames nothing refers to that are no sample, so the samples are those of
    a full decode at less cost; the ffmpeg command line, which cannot,
    decodes them. The default decodes every frame in full.

    Raises:
        ValueError: an option is not an AVDiscard value it accepts.
    """

    skip_frame: AVDiscard | None = None
    threads: int | None = None
    skip_loop_filter: AVDiscard | None = None
    skip_unsampled: bool = False

    def __post_init__(self) -> None:
        if self.skip_frame is not None and self.skip_frame not in SKIP_FRAME_VALUES:
            raise ValueError(f"unknown skip_frame value {self.skip_frame!r}")  # AVDiscard: "noref", not "nonref"
        if self.skip_loop_filter is not None and self.skip_loop_filter not in SKIP_LOOP_FILTER_VALUES:
            raise ValueError(f"unknown skip_loop_filter value {self.skip_loop_filter!r}")

    def args(self) -> list[str]:
        """The ffmpeg options, to go before the input."""
        out = ["-skip_frame", self.skip_frame] if self.skip_frame else []
        if self.threads is not None:
            out += ["-threads", str(int(self.threads))]
        if self.skip_loop_filter:
            out += ["-skip_loop_filter", self.skip_loop_filter]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "skip_frame": self.skip_frame,
            "threads": self.threads,
            "skip_loop_filter": self.skip_loop_filter,
            "skip_unsampled": self.skip_unsampled,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decoding:
        threads = data.get("threads")
        return cls(
            data.get("skip_frame"),
            int(threads) if threads is not None else None,
            data.get("skip_loop_filter"),
            bool(data.get("skip_unsampled", False)),
        )


class ErrorKind(Enum):
    """Why the worker refused a request."""

    #: libav cannot open the file, or finds no usable video in it (the file's fault).
    BAD_INPUT = "bad_input"
    #: The request itself was malformed (the client's fault).
    REQUEST = "request"
    #: libav or PyAV raised something unexpected on this file.
    FAILED = "failed"


def _size(value: Any) -> tuple[int, int]:
    """A (w, h) pair of positive ints from JSON.

    Raises:
        ValueError: not two positive numbers.
    """
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"not a frame size: {value!r}")
    w, h = int(value[0]), int(value[1])
    if w <= 0 or h <= 0:
        raise ValueError(f"not a frame size: {value!r}")
    return w, h


def _size_or_none(value: Any) -> tuple[int, int] | None:
    return None if value is None else _size(value)


def _index_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def choose_video_stream(streams: list[tuple[int, bool]]) -> int | None:
    """The video stream examined, of (index, marked default) pairs of usable video streams (cover art left out).

    The one the container marks default, else the first: ffprobe's reading
    (`probe`) and the libav worker's choose by this one rule.
    """
    for index, default in streams:
        if default:
            return index
    return streams[0][0] if streams else None


@dataclass(frozen=True)
class Detail:
    """A few large grey frames taken in the sampling pass (the text stage reads them): at the sample
    ticks nearest `frames_at`'s times, `long_side` pixels long, so no second decode is needed.

    `every_s`: seconds of clip per frame, between `min_frames` and `max_frames` frames a clip.
    """

    long_side: int
    every_s: float
    min_frames: int
    max_frames: int

    def __post_init__(self) -> None:
        if self.long_side <= 0 or self.every_s <= 0 or not 1 <= self.min_frames <= self.max_frames:
            raise ValueError(f"not a detail plan: {self!r}")

    def frames_at(self, examined_s: float) -> list[float]:
        """The times wanted over `examined_s` seconds: evenly spread, `every_s` apart at most, half a step in."""
        if examined_s <= 0:
            return [0.0]
        n = int(min(self.max_frames, max(self.min_frames, math.ceil(examined_s / self.every_s))))
        step = examined_s / n
        return [round((k + 0.5) * step, 3) for k in range(n)]

    def ticks(self, examined_s: float, fps: float) -> tuple[int, ...]:
        """The sample ticks (indices at `fps`) nearest `frames_at`'s times, each once."""
        return tuple(sorted({math.floor(t * fps + 0.5) for t in self.frames_at(examined_s)}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "long_side": self.long_side,
            "every_s": self.every_s,
            "min_frames": self.min_frames,
            "max_frames": self.max_frames,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Detail:
        return cls(int(data["long_side"]), float(data["every_s"]), int(data["min_frames"]), int(data["max_frames"]))


@dataclass(frozen=True)
class Sparse:
    """A second, larger grey size taken in the sampling pass at every `every`-th sample tick (ticks
    0, every, 2 x every, ...), `long_side` pixels long: what the features channel describes of a
    reference, so the picture is decoded once for every channel of ingest.

    Each is the very frame a plan of its own at ``fps / every`` would sample (the sampling rule
    is the last frame shown at or before the tick's time), scaled by the same filter.
    """

    long_side: int
    every: int

    def __post_init__(self) -> None:
        if self.long_side <= 0 or self.every < 1:
            raise ValueError(f"not a sparse plan: {self!r}")

    def count(self, samples: int) -> int:
        """How many sparse frames `samples` samples carry (ticks 0, every, ... below `samples`)."""
        return (max(0, samples) + self.every - 1) // self.every

    def to_dict(self) -> dict[str, Any]:
        return {"long_side": self.long_side, "every": self.every}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sparse:
        return cls(int(data["long_side"]), int(data["every"]))


def _sparse_or_none(value: Any) -> Sparse | None:
    return Sparse.from_dict(value) if isinstance(value, dict) else None


def _ticks(value: Any) -> tuple[int, ...]:
    """Sample tick indices from JSON: non-negative ints, ascending, at most 1000.

    Raises:
        ValueError: not a list of such numbers.
    """
    if not isinstance(value, list | tuple) or len(value) > 1000:
        raise ValueError(f"not a list of ticks: {value!r}")
    ticks = tuple(int(v) for v in value)
    if any(t < 0 for t in ticks) or list(ticks) != sorted(set(ticks)):
        raise ValueError(f"not a list of ticks: {value!r}")
    return ticks


@dataclass(frozen=True)
class UnprobedPlan:
    """What the worker needs to choose the sizes of a file not yet probed: long sides and limits."""

    long_side: int
    colour_long_side: int | None
    #: Longest clip whose colour samples are kept, seconds.
    colour_max_s: float
    #: Most seconds examined.
    limit_s: float
    #: Large grey frames to take beside the samples (the worker picks their ticks by `Detail.ticks`).
    detail: Detail | None = None
    #: A second grey size at every n-th sample tick (`Sparse`).
    sparse: Sparse | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "long_side": self.long_side,
            "colour_long_side": self.colour_long_side,
            "colour_max_s": self.colour_max_s,
            "limit_s": self.limit_s,
            "detail": self.detail.to_dict() if self.detail else None,
            "sparse": self.sparse.to_dict() if self.sparse else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnprobedPlan:
        colour = data.get("colour_long_side")
        detail = data.get("detail")
        return cls(
            int(data["long_side"]),
            int(colour) if colour else None,
            float(data["colour_max_s"]),
            float(data["limit_s"]),
            Detail.from_dict(detail) if isinstance(detail, dict) else None,
            _sparse_or_none(data.get("sparse")),
        )


@dataclass(frozen=True)
class ChosenPlan:
    """What the worker read from a file not yet probed, and the sizes it chose from it."""

    #: Display size (after rotation).
    display: tuple[int, int]
    size: tuple[int, int]
    colour: tuple[int, int] | None
    #: Display rotation, clockwise degrees.
    clockwise: int
    #: Seconds examined, and the container's declared seconds (0 when it declares none).
    examined_s: float
    duration_s: float
    #: Index of the video stream sampled (-1: not said, from a worker of an earlier version).
    stream: int = -1
    #: Size of the detail frames and the ticks chosen for them (None and () without a detail plan).
    detail: tuple[int, int] | None = None
    detail_ticks: tuple[int, ...] = ()
    #: Size of the sparse frames (None without a sparse plan).
    sparse: tuple[int, int] | None = None
    #: The display rotation as the first frame gave it (counter-clockwise degrees, ffprobe's angle;
    #: None from a worker of an earlier version).
    rotation: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rotation": self.rotation,
            "detail": list(self.detail) if self.detail else None,
            "detail_ticks": list(self.detail_ticks),
            "sparse": list(self.sparse) if self.sparse else None,
            "stream": self.stream,
            "display": list(self.display),
            "size": list(self.size),
            "colour": list(self.colour) if self.colour else None,
            "clockwise": self.clockwise,
            "examined_s": self.examined_s,
            "duration_s": self.duration_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChosenPlan:
        return cls(
            _size(data["display"]),
            _size(data["size"]),
            _size_or_none(data.get("colour")),
            int(data["clockwise"]),
            float(data["examined_s"]),
            float(data["duration_s"]),
            int(data.get("stream", -1)),
            _size_or_none(data.get("detail")),
            _ticks(data.get("detail_ticks") or []),
            _size_or_none(data.get("sparse")),
            float(data["rotation"]) if data.get("rotation") is not None else None,
        )


@dataclass(frozen=True)
class SampleRequest:
    """Sample one file at `fps`: grey frames at `size` (and RGB at `colour`), or, with `plan`, at sizes the worker chooses.

    `cap_s`: ticks at or past it are not sampled; `rotation`: the display
    rotation, counter-clockwise degrees (both unused with `plan`, where the
    stream's own duration and rotation stand).
    """

    TYPE: ClassVar[str] = "sample"

    path: str
    fps: float
    max_frames: int
    format_whitelist: str
    max_pixels: int
    decoding: Decoding
    size: tuple[int, int] | None = None
    colour: tuple[int, int] | None = None
    cap_s: float = 0.0
    rotation: float = 0.0
    plan: UnprobedPlan | None = None
    #: Index of the video stream to sample; None: the worker's rule (`choose_video_stream`).
    stream: int | None = None
    #: Large grey frames (`detail_size`) at these sample ticks, beside the samples (unused with `plan`).
    detail_size: tuple[int, int] | None = None
    detail_ticks: tuple[int, ...] = ()
    #: Grey frames at `sparse_size` at every `sparse_every`-th sample tick, beside the samples (unused with `plan`).
    sparse_size: tuple[int, int] | None = None
    sparse_every: int = 0

    def __post_init__(self) -> None:
        if (self.size is None) == (self.plan is None):
            raise ValueError("a sample request needs a size or a plan, not both")
        if bool(self.detail_ticks) != (self.detail_size is not None):
            raise ValueError("detail frames need both a size and ticks")
        if (self.sparse_every > 0) != (self.sparse_size is not None) or self.sparse_every < 0:
            raise ValueError("sparse frames need both a size and a positive step")

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "fps": self.fps,
            "max_frames": self.max_frames,
            "format_whitelist": self.format_whitelist,
            "max_pixels": self.max_pixels,
            "decoding": self.decoding.to_dict(),
            "size": list(self.size) if self.size else None,
            "colour": list(self.colour) if self.colour else None,
            "cap_s": self.cap_s,
            "rotation": self.rotation,
            "plan": self.plan.to_dict() if self.plan else None,
            "stream": self.stream,
            "detail_size": list(self.detail_size) if self.detail_size else None,
            "detail_ticks": list(self.detail_ticks),
            "sparse_size": list(self.sparse_size) if self.sparse_size else None,
            "sparse_every": self.sparse_every,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleRequest:
        plan = data.get("plan")
        return cls(
            str(data["path"]),
            float(data["fps"]),
            int(data["max_frames"]),
            str(data["format_whitelist"]),
            int(data["max_pixels"]),
            Decoding.from_dict(data["decoding"]),
            _size_or_none(data.get("size")),
            _size_or_none(data.get("colour")),
            float(data.get("cap_s", 0.0)),
            float(data.get("rotation") or 0.0),
            UnprobedPlan.from_dict(plan) if plan is not None else None,
            _index_or_none(data.get("stream")),
            _size_or_none(data.get("detail_size")),
            _ticks(data.get("detail_ticks") or []),
            _size_or_none(data.get("sparse_size")),
            int(data.get("sparse_every") or 0),
        )


@dataclass(frozen=True)
class GrabRequest:
    """RGB frames at `size` (display orientation): for each of `targets` (seconds), the first frame shown at or after it.

    `more` asks, from the same decode, for other times at other sizes ((targets, size) each): verify's
    window of a reference and the report's frames of it are one pass over the file.
    """

    TYPE: ClassVar[str] = "grab"

    path: str
    targets: tuple[float, ...]
    size: tuple[int, int]
    format_whitelist: str
    max_pixels: int
    #: Index of the video stream to grab from; None: the worker's rule (`choose_video_stream`).
    stream: int | None = None
    #: Further (targets, size) pairs grabbed in the same decode, answered after `targets`.
    more: tuple[tuple[tuple[float, ...], tuple[int, int]], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "targets": list(self.targets),
            "size": list(self.size),
            "format_whitelist": self.format_whitelist,
            "max_pixels": self.max_pixels,
            "stream": self.stream,
            "more": [[list(targets), list(size)] for targets, size in self.more],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GrabRequest:
        return cls(
            str(data["path"]),
            tuple(float(t) for t in data["targets"]),
            _size(data["size"]),
            str(data["format_whitelist"]),
            int(data["max_pixels"]),
            _index_or_none(data.get("stream")),
            tuple((tuple(float(t) for t in targets), _size(size)) for targets, size in data.get("more") or ()),
        )


@dataclass(frozen=True)
class Ready:
    """The worker's first line: it has imported PyAV, whose versions these are."""

    TYPE: ClassVar[str] = "ready"

    pyav: str
    libav: str

    def to_dict(self) -> dict[str, Any]:
        return {"pyav": self.pyav, "libav": self.libav}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ready:
        return cls(str(data["pyav"]), str(data["libav"]))


@dataclass(frozen=True)
class Examined:
    """A request with a plan: the seconds the worker will examine, known before it decodes, and the
    container as libav read it (`worker.container_reading`: ffprobe's JSON shape; None when not read)."""

    TYPE: ClassVar[str] = "examined"

    examined_s: float
    container: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"examined_s": self.examined_s, "container": self.container}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Examined:
        container = data.get("container")
        return cls(float(data["examined_s"]), container if isinstance(container, dict) else None)


@dataclass(frozen=True)
class SampleReply:
    """A sampling done: `count` grey frames follow, then as many RGB ones when `colour`, then one large
    grey frame for each of `detail_ticks` (the detail plan's ticks reached), then `sparse` grey
    frames at the sparse size (ticks 0, every, ... of the samples; `Sparse.count` of `count`).

    `errors` counts the decoder's error messages, `last_error` is the last
    one; `decoded` counts the frames the decoder output (the rest were
    skipped or failed). `plan` is what the worker chose for a request with a
    plan (None when no frame decoded).
    """

    TYPE: ClassVar[str] = "sampled"

    count: int
    colour: bool
    errors: int
    decoded: int
    last_error: str
    plan: ChosenPlan | None = None
    detail_ticks: tuple[int, ...] = ()
    sparse: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sparse": self.sparse,
            "count": self.count,
            "colour": self.colour,
            "errors": self.errors,
            "decoded": self.decoded,
            "last_error": self.last_error,
            "plan": self.plan.to_dict() if self.plan else None,
            "detail_ticks": list(self.detail_ticks),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleReply:
        plan = data.get("plan")
        return cls(
            int(data["count"]),
            bool(data["colour"]),
            int(data["errors"]),
            int(data["decoded"]),
            str(data["last_error"]),
            ChosenPlan.from_dict(plan) if isinstance(plan, dict) else None,
            _ticks(data.get("detail_ticks") or []),
            int(data.get("sparse") or 0),
        )


@dataclass(frozen=True)
class GrabReply:
    """A grab done: one RGB frame follows for each of `found` (the targets that had a frame), in that order,
    then for each of the request's `more` the frames of its targets in `more_found`, in turn."""

    TYPE: ClassVar[str] = "grabbed"

    found: tuple[float, ...]
    more_found: tuple[tuple[float, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"found": list(self.found), "more_found": [list(found) for found in self.more_found]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GrabReply:
        return cls(
            tuple(float(t) for t in data["found"]),
            tuple(tuple(float(t) for t in found) for found in data.get("more_found") or ()),
        )


@dataclass(frozen=True)
class Refusal:
    """The worker could not serve the request, and why."""

    TYPE: ClassVar[str] = "refused"

    kind: ErrorKind
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Refusal:
        return cls(ErrorKind(data["kind"]), str(data["message"]))


Message = SampleRequest | GrabRequest | Ready | Examined | SampleReply | GrabReply | Refusal
_TYPES: dict[str, Any] = {
    m.TYPE: m for m in (SampleRequest, GrabRequest, Ready, Examined, SampleReply, GrabReply, Refusal)
}


def encode(message: Message) -> bytes:
    """One message as its JSON line (newline included)."""
    return json.dumps({"type": message.TYPE, **message.to_dict()}).encode() + b"\n"


def decode(line: bytes | str) -> Message:
    """The message of one JSON line.

    Raises:
        ValueError: not JSON, not an object, an unknown type, or a field of the wrong kind.
        KeyError: a field is missing.
        TypeError: a field has the wrong type.
    """
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("a message must be a JSON object")
    kind = _TYPES.get(str(data.get("type")))
    if kind is None:
        raise ValueError(f"unknown message type {data.get('type')!r}")
    message: Message = kind.from_dict(data)
    return message
