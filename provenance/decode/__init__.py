"""Stage decode: grey samples at a plan of times, colour frames at given times.

The only code that opens a media stream for pixels. One `Decoder` interface,
two implementations registered under their `Decoder.NAME`: ``libav``
(`provenance.decode.libav`, a long-lived worker process running PyAV, the
default when PyAV is installed) and ``ffmpeg`` (`provenance.decode.ffmpeg`,
one ffmpeg command per file; ``PROVENANCE_DECODER=ffmpeg``). Both decode
with libavcodec and scale inside a libavfilter chain, so Python only ever
sees small arrays, and both give the same samples. The decoder is chosen
once (`choose_decoder`) and passed to whoever needs frames::

    >>> decoder = choose_decoder()
    >>> facts = probe("samples/viral.mp4")
    >>> frames = decoder.sample("samples/viral.mp4", Plan(fps=4), facts)
    >>> frames.images.shape[1:], frames.times[:3]
    ((54, 128), array([0.  , 0.25, 0.5 ]))
    >>> [f.shape for f in decoder.grab("samples/viral.mp4", [1.0, 2.5], Media.of(facts), 320)]
    [(136, 320, 3), (136, 320, 3)]

Still images give one frame at t = 0 (Pillow, EXIF orientation applied).
Importing this package starts nothing and loads neither implementation: a
decoder module is imported when it is chosen.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .. import tools
from ..errors import BadInputError, ProcessingError
from ..probe import MediaFacts, animation_timeline, is_animation, probe
from .protocol import (
    FULL_SIZE,
    SKIP_FRAME_VALUES,
    SKIP_LOOP_FILTER_VALUES,
    WORK_SIZE,
    AVDiscard,
    ChosenPlan,
    Decoding,
    Detail,
    Sparse,
    UnprobedPlan,
    clockwise,
    colour_size,
    work_size,
)

__all__ = [
    "COLOUR_MAX_S",
    "FULL_SIZE",
    "colour_size",
    "DECODER_ENV",
    "MAX_DURATION_S",
    "MAX_FRAME_PIXELS",
    "SKIP_FRAME_VALUES",
    "SKIP_LOOP_FILTER_VALUES",
    "WORK_SIZE",
    "AVDiscard",
    "Decoder",
    "Decoding",
    "Detail",
    "Frames",
    "Views",
    "Job",
    "Media",
    "Plan",
    "Raw",
    "Sparse",
    "Unprobed",
    "choose_decoder",
    "decode_timeout",
    "decoder_names",
    "extract_frames",
    "frames_of",
    "grab_frame",
    "held_by",
    "load_image",
    "one_pass_pays",
    "register",
    "still_frames",
    "animation_frames",
    "animation_grab",
    "unprobed_plan",
    "work_size",
]

#: Environment variable naming the decoder (`choose_decoder`): ``libav`` or ``ffmpeg``.
DECODER_ENV = "PROVENANCE_DECODER"
#: Most footage examined in one call, seconds; longer files are cut with a warning.
MAX_DURATION_S = 4 * 3600.0
#: Fewest bytes a second of real video takes: a file is examined only as far as its bytes reach
#: (the cheapest encoding measured, one static 320x240 frame a second in x264, takes 37 B/s).
MIN_BYTES_PER_S = 25.0
#: Examined whatever the file's size, seconds.
MIN_EXAMINED_S = 60.0
#: Largest decoded frame accepted, in pixels (width x height as declared).
MAX_FRAME_PIXELS = tools.MAX_FRAME_PIXELS
#: Decoding must run at least this many times faster than real time.
MIN_DECODE_SPEED = 2.0
#: Fixed part of the decode time limit, seconds.
DECODE_TIMEOUT_BASE_S = 60.0
#: Longest clip whose colour samples a plan's `colour_long_side` keeps beside the grey ones, seconds
#: (2 min at 4 frames/s and 320x180 is ~83 MB); longer clips have their few report frames grabbed.
COLOUR_MAX_S = 120.0
#: A grab decodes the file once, instead of seeking, when the last wanted frame is at most this
#: many seconds in per wanted frame (a full decode ~2.7 s CPU a minute, a seek up to ~0.3 s a
#: frame on 720p; docs/tuning.md).
SEQUENTIAL_SECONDS_PER_FRAME = 4.0
#: A one-pass grab reads this far past the last wanted time, seconds: the first frame at or
#: after it is there for any frame rate of 2 frames/s or more.
SEQUENTIAL_MARGIN_S = 0.5


def decode_timeout(duration_s: float) -> float:
    """The wall-clock limit for decoding `duration_s` seconds (`DECODE_TIMEOUT_BASE_S`, `MIN_DECODE_SPEED`)."""
    return DECODE_TIMEOUT_BASE_S + duration_s / MIN_DECODE_SPEED


def held_by(size_bytes: int) -> float:
    """Most seconds of video a file of `size_bytes` is examined for (`MIN_BYTES_PER_S`, `MIN_EXAMINED_S`)."""
    return max(MIN_EXAMINED_S, size_bytes / MIN_BYTES_PER_S)


def one_pass_pays(wanted: Sequence[float]) -> bool:
    """Whether a grab of `wanted` times decodes the file once (up to the last) rather than seeking to each.

    Worth it when the last wanted frame is no further in than the seeks
    would decode in all (`SEQUENTIAL_SECONDS_PER_FRAME`).
    """
    return max(wanted) + SEQUENTIAL_MARGIN_S <= SEQUENTIAL_SECONDS_PER_FRAME * len(set(wanted))


@dataclass(frozen=True)
class Plan:
    """What a stage asks of sampling: `fps` samples a second, their sizes, how to decode, most seconds.

    `long_side`: long side of the grey samples, pixels. `decoding`: what
    the decoder may skip, and its threads. `max_duration_s`: most seconds
    examined; longer files are cut with a warning. `colour_long_side`: also
    keep every sample in colour (RGB) at this long side, from the same
    decode, when the clip is at most `COLOUR_MAX_S` long (`Frames.colour`);
    the report's thumbnails then need no second decode. `detail`: also keep a
    few large grey frames at sample ticks spread over the clip
    (`Frames.detail`, what the text stage reads), from the same decode.
    `sparse`: also keep grey frames at a second size at every n-th sample
    tick (`Frames.sparse`, what the features channel describes of a
    reference), from the same decode: the frames a plan of their own at
    ``fps / n`` and that size would give.
    """

    fps: float
    long_side: int = WORK_SIZE
    decoding: Decoding = Decoding()
    max_duration_s: float = MAX_DURATION_S
    colour_long_side: int | None = None
    detail: Detail | None = None
    sparse: Sparse | None = None


@dataclass(frozen=True)
class Job:
    """One sampling run of a video: a `Plan` applied to the file's facts (`Job.of`)."""

    plan: Plan
    facts: MediaFacts
    size: tuple[int, int]
    #: Seconds examined.
    duration: float
    colour_size: tuple[int, int] | None
    #: Most samples.
    expected: int
    warnings: tuple[str, ...]
    #: Size of the detail frames and the sample ticks they are taken at (None and () without).
    detail_size: tuple[int, int] | None = None
    detail_ticks: tuple[int, ...] = ()
    #: Size of the sparse frames (None without).
    sparse_size: tuple[int, int] | None = None

    @classmethod
    def of(cls, path: Path | str, facts: MediaFacts, plan: Plan) -> Job:
        """The run `plan` asks for on a video with these `facts`.

        Raises:
            BadInputError: the declared frame is larger than `MAX_FRAME_PIXELS`.
        """
        if facts.width * facts.height > MAX_FRAME_PIXELS:
            raise BadInputError(
                f"{path}: declared frame size {facts.width}x{facts.height} is larger than the "
                f"{MAX_FRAME_PIXELS} pixels accepted; the file is damaged or hostile"
            )
        disp_w, disp_h = facts.display_size
        by_size = held_by(facts.size_bytes)
        limit = min(plan.max_duration_s, by_size)
        duration = min(facts.duration_s, limit)
        warnings = []
        if facts.duration_s > limit:
            why = (
                f": {facts.size_bytes} bytes cannot hold {facts.duration_s:.0f} s of video" if limit == by_size else ""
            )
            warnings.append(f"only the first {limit:.0f} s of {facts.duration_s:.0f} s were examined{why}")
        if facts.other_video_streams:
            warnings.append(_other_streams_warning(path, facts))
        colour_long_side = plan.colour_long_side
        keep_colour = colour_long_side is not None and 0 < duration <= COLOUR_MAX_S
        return cls(
            plan=plan,
            facts=facts,
            size=work_size(disp_w, disp_h, plan.long_side),
            duration=duration,
            colour_size=colour_size((disp_w, disp_h), colour_long_side, duration, plan.fps)
            if keep_colour and colour_long_side
            else None,
            expected=int(math.ceil((duration + 1) * plan.fps)) + 2,
            warnings=tuple(warnings),
            detail_size=work_size(disp_w, disp_h, plan.detail.long_side) if plan.detail else None,
            detail_ticks=plan.detail.ticks(duration, plan.fps) if plan.detail else (),
            sparse_size=work_size(disp_w, disp_h, plan.sparse.long_side) if plan.sparse else None,
        )


def _other_streams_warning(path: Path | str, facts: MediaFacts) -> str:
    """The warning that names the video streams not examined, and how to check one."""
    by_index = {s.index: s for s in facts.streams}

    def named(index: int) -> str:
        s = by_index.get(index)
        if s is None:
            return f"#{index}"
        seconds = f", {s.duration_s:.1f} s" if s.duration_s else ""
        return f"#{index} ({s.width}x{s.height} {s.codec_name}{seconds})"

    others = ", ".join(named(i) for i in facts.other_video_streams[:5])
    more = f" and {len(facts.other_video_streams) - 5} more" if len(facts.other_video_streams) > 5 else ""
    first = facts.other_video_streams[0]
    return (
        f"only video stream {named(facts.video_stream or 0)} was examined (the one marked default, else the first); "
        f"the file has {len(facts.other_video_streams) + 1} video streams and {others}{more} were not: "
        f"check each on its own (ffmpeg -i FILE -map 0:{first} -c copy stream{first}.mp4)"
    )


def unprobed_plan(plan: Plan, limit_s: float) -> UnprobedPlan:
    """What the libav worker needs to choose sizes itself for a file not yet probed, examined for at most `limit_s`."""
    return UnprobedPlan(plan.long_side, plan.colour_long_side, COLOUR_MAX_S, limit_s, plan.detail, plan.sparse)


@dataclass(frozen=True)
class Frames:
    """Frames sampled from one file: timestamps (s) and grey images (N, H, W) uint8.

    `unreadable` lists (start_s, end_s) spans that could not be decoded;
    `decode_errors` counts the decoder's error messages.
    """

    times: np.ndarray
    images: np.ndarray
    fps: float
    duration_s: float
    unreadable: tuple[tuple[float, float], ...] = ()
    decode_errors: int = 0
    warnings: tuple[str, ...] = field(default=())
    #: The same samples in colour (N, h, w, 3) RGB, when asked for and the clip is short enough.
    colour: np.ndarray | None = None
    #: Seconds of the file examined (the plan's and the byte rate's limits); None: all of it.
    examined_s: float | None = None
    #: The plan's detail frames (N, H, W) grey, large, and their times (s); None when not asked for.
    detail: np.ndarray | None = None
    detail_times: tuple[float, ...] = ()
    #: The plan's sparse frames (N, H, W) grey at their size, and their times (s); None when not asked for.
    sparse: np.ndarray | None = None
    sparse_times: np.ndarray | None = None

    def colour_at(self, t: float) -> np.ndarray | None:
        """The colour sample nearest time `t`, or None when colour samples were not kept."""
        if self.colour is None or len(self.colour) == 0:
            return None
        if self.fps <= 0:
            return self.colour[0]
        i = int(round(float(t) * self.fps))
        return self.colour[min(max(i, 0), len(self.colour) - 1)]

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True)
class Views:
    """A reference's grey samples as verify compares them (`index.views`): times (s, increasing), images (N, h, w) uint8."""

    times: np.ndarray
    images: np.ndarray

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True)
class Raw:
    """What a decoder returned for a `Job`: grey samples as bytes, colour ones, its error count and messages.

    `reason`: the decoder's last error message; `stopped`: why it stopped
    early, when it did and still gave frames.
    """

    count: int
    grey: bytes
    errors: int
    reason: str
    stopped: str = ""
    colour: np.ndarray | None = None
    #: The detail frames (N, H, W) grey, and the sample tick of each.
    detail: np.ndarray | None = None
    detail_ticks: tuple[int, ...] = ()
    #: The sparse frames (N, H, W) grey: those of ticks 0, every, 2 x every, ... in order.
    sparse: np.ndarray | None = None


@dataclass(frozen=True)
class Unprobed:
    """Samples taken before the file was probed (`Decoder.sample_unprobed`), with what the decoder read and chose.

    `chosen` is None when no frame decoded.
    """

    path: str
    plan: Plan
    raw: Raw
    chosen: ChosenPlan | None


@dataclass(frozen=True)
class Media:
    """What a grab needs to know of a file: its kind, display size and duration."""

    kind: str
    width: int
    height: int
    duration_s: float
    #: The video stream examined (`MediaFacts.video_stream`); None: the decoder's rule.
    stream: int | None = None

    @classmethod
    def of(cls, facts: MediaFacts) -> Media:
        width, height = facts.display_size
        kind = "animation" if is_animation(facts) else facts.kind
        return cls(kind, width, height, facts.duration_s, facts.video_stream)


def frames_of(path: Path | str, job: Job, raw: Raw) -> Frames:
    """`Frames` from a decoder's samples, with the warnings and unreadable spans they show.

    Raises:
        BadInputError: no frame decoded.
    """
    facts, fps = job.facts, job.plan.fps
    w, h = job.size
    count, duration, warnings = raw.count, job.duration, list(job.warnings)
    if count == 0:
        raise BadInputError(
            f"{path}: no frame could be decoded ({raw.reason or 'no frame decoded'}); the file is damaged or not a video"
        )
    if raw.stopped:
        warnings.append(f"ffmpeg stopped early: {raw.stopped}")
    images = np.frombuffer(raw.grey[: count * w * h], dtype=np.uint8).reshape(count, h, w)
    times = np.arange(count, dtype=np.float64) / fps
    unreadable: list[tuple[float, float]] = []
    last = float(times[-1]) + 1.0 / fps
    if facts.duration_s > 0 and last < min(duration, facts.duration_s) - 1.0:
        unreadable.append((round(last, 3), round(min(duration, facts.duration_s), 3)))
        warnings.append(f"seconds {last:.1f}-{min(duration, facts.duration_s):.1f} could not be decoded")
    if raw.errors:
        warnings.append(f"the decoder reported {raw.errors} error(s); some frames may be damaged")
    colour = raw.colour
    detail = raw.detail if raw.detail is not None and len(raw.detail) == len(raw.detail_ticks) > 0 else None
    sparse, sparse_times = _sparse_of(job.plan, raw.sparse, count)
    return Frames(
        times=times,
        images=images,
        fps=fps,
        duration_s=facts.duration_s,
        unreadable=tuple(unreadable),
        decode_errors=raw.errors,
        warnings=tuple(warnings),
        colour=colour if colour is not None and len(colour) >= count else None,
        examined_s=duration,
        detail=detail,
        detail_times=tuple(round(k / fps, 3) for k in raw.detail_ticks) if detail is not None else (),
        sparse=sparse,
        sparse_times=sparse_times,
    )


def _sparse_of(plan: Plan, frames: np.ndarray | None, count: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The sparse frames of `count` samples and their times, or (None, None) when not asked for or not
    all there (a decoder that stopped early keeps only those of the samples it gave)."""
    if plan.sparse is None or frames is None:
        return None, None
    n = min(len(frames), plan.sparse.count(count))
    if n == 0:
        return None, None
    return frames[:n], np.arange(n, dtype=np.float64) * plan.sparse.every / plan.fps


def _same_ticks(examined_s: float, probed_s: float, fps: float, count: int) -> bool:
    """Whether samples cut at the worker's `examined_s` (the container's duration as PyAV reads it) are
    those cut at the probe's `probed_s`: the same seconds, or both caps let the same ticks through
    (tick k is sampled while k / fps < seconds + 1), or the stream ended before either cap.

    The two often differ by a frame (5.933 s against ffprobe's 6.0 s for a stream starting at
    0.066 s) without changing a sample; the detail frames then keep the ticks the worker chose
    (`Frames.detail_times` says which), spread over its seconds.
    """
    if abs(examined_s - probed_s) < 1e-3:
        return True
    ticks = [math.ceil(round((s + 1) * fps, 6)) for s in (examined_s, probed_s)]
    return ticks[0] == ticks[1] or count < min(ticks)


def load_image(path: Path, *, grey: bool = True) -> np.ndarray:
    """Decode a still image (EXIF orientation applied) as a grey or RGB array.

    Raises:
        BadInputError: the image does not decode.
    """
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: the probe bounded the size already
            with Image.open(path) as img:
                upright = ImageOps.exif_transpose(img)
                return np.asarray(upright.convert("L" if grey else "RGB"))
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadInputError(f"{path}: image cannot be decoded ({exc}); the file is damaged") from exc


def _scaled_still(path: Path | str, long_side: int, *, grey: bool) -> np.ndarray:
    import cv2

    pixels = load_image(Path(path), grey=grey)
    w, h = work_size(pixels.shape[1], pixels.shape[0], long_side)
    return cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)


def still_frames(path: Path | str, long_side: int, sparse: Sparse | None = None) -> Frames:
    """A still image as one grey frame at t = 0, `long_side` pixels long (and at `sparse.long_side`
    as its one sparse frame, from the same decode of the image).

    Raises:
        BadInputError: the image does not decode.
    """
    import cv2

    pixels = load_image(Path(path), grey=True)

    def scaled(side: int) -> np.ndarray:
        w, h = work_size(pixels.shape[1], pixels.shape[0], side)
        return cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)

    small = scaled(long_side)
    large = scaled(sparse.long_side)[None, :, :] if sparse is not None else None
    return Frames(
        times=np.zeros(1),
        images=small[None, :, :],
        fps=0.0,
        duration_s=0.0,
        sparse=large,
        sparse_times=np.zeros(1) if large is not None else None,
    )


def _animation_picture(frame: object, long_side: int, *, grey: bool) -> np.ndarray:
    """One frame of an animation (Pillow image, composited as shown) scaled to `long_side` as the stills are."""
    import cv2

    pixels = np.asarray(frame.convert("L" if grey else "RGB"))  # type: ignore[attr-defined]
    w, h = work_size(pixels.shape[1], pixels.shape[0], long_side)
    return cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)


def _shown(path: Path | str, until_s: float) -> Iterator[tuple[float, float, object]]:
    """(start s, end s, Pillow frame as shown) of each frame of an animated image that starts before `until_s`.

    Raises:
        BadInputError: past `probe.MAX_ANIMATION_PIXELS` decoded pixels (a decompression bomb).
        OSError, EOFError, ValueError: a frame does not decode (the caller keeps what came before).
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DecompressionBombWarning: the probe bounded the size already
        with Image.open(path) as img:
            for start, end in animation_timeline(img, str(path)):
                if start >= until_s:
                    return
                yield start, end, img


def animation_frames(path: Path | str, plan: Plan, facts: MediaFacts) -> Frames:
    """An animated GIF, WebP or APNG sampled as a video: at `plan.fps`, every sample the frame shown at its tick.

    Read with Pillow, one frame at a time (nothing holds more than the
    samples), for at most `plan.max_duration_s`. A frame that fails to
    decode ends the sampling; the rest is listed as unreadable.

    Raises:
        BadInputError: no frame decodes, or the animation is a decompression bomb.
    """
    fps = plan.fps
    duration = min(facts.duration_s, plan.max_duration_s)
    warnings: list[str] = []
    if facts.duration_s > plan.max_duration_s:
        warnings.append(f"only the first {duration:.0f} s of {facts.duration_s:.0f} s were examined")
    keep_colour = plan.colour_long_side is not None and 0 < duration <= COLOUR_MAX_S
    detail_ticks = set(plan.detail.ticks(duration, fps)) if plan.detail else set()
    grey: list[np.ndarray] = []
    colour: list[np.ndarray] = []
    detail: dict[int, np.ndarray] = {}
    sparse: list[np.ndarray] = []
    unreadable: list[tuple[float, float]] = []
    tick = 0
    try:
        for _start, end, frame in _shown(path, duration):
            small = small_colour = large = None
            while tick / fps < min(end, duration) - 1e-9:
                if small is None:
                    small = _animation_picture(frame, plan.long_side, grey=True)
                    if keep_colour and plan.colour_long_side:
                        size = colour_size(frame.size, plan.colour_long_side, duration, fps)  # type: ignore[attr-defined]
                        keep_colour = size is not None
                        if size is not None:
                            small_colour = _animation_picture(frame, max(size), grey=False)
                grey.append(small)
                if small_colour is not None:
                    colour.append(small_colour)
                if tick in detail_ticks and plan.detail is not None:
                    detail[tick] = _animation_picture(frame, plan.detail.long_side, grey=True)
                if plan.sparse is not None and tick % plan.sparse.every == 0:
                    if large is None:
                        large = _animation_picture(frame, plan.sparse.long_side, grey=True)
                    sparse.append(large)
                tick += 1
    except (OSError, EOFError, ValueError) as exc:
        if not grey:
            raise BadInputError(f"{path}: animation cannot be decoded ({exc}); the file is damaged") from exc
        unreadable.append((round(tick / fps, 3), round(duration, 3)))
        warnings.append(f"seconds {tick / fps:.1f}-{duration:.1f} could not be decoded ({exc})")
    if not grey:
        raise BadInputError(f"{path}: no frame of the animation could be decoded; the file is damaged")
    return Frames(
        times=np.arange(len(grey), dtype=np.float64) / fps,
        images=np.stack(grey),
        fps=fps,
        duration_s=facts.duration_s,
        unreadable=tuple(unreadable),
        warnings=tuple(warnings),
        colour=np.stack(colour) if keep_colour and len(colour) == len(grey) else None,
        examined_s=duration,
        detail=np.stack([detail[k] for k in sorted(detail)]) if detail else None,
        detail_times=tuple(round(k / fps, 3) for k in sorted(detail)),
        sparse=np.stack(sparse) if sparse else None,
        sparse_times=np.arange(len(sparse), dtype=np.float64) * plan.sparse.every / fps
        if sparse and plan.sparse
        else None,
    )


def animation_grab(path: Path | str, times: Sequence[float], long_side: int) -> list[np.ndarray | None]:
    """Colour frames of an animated image: for each of `times`, the frame shown then (None past the end)."""
    wanted = sorted({max(0.0, float(t)) for t in times})
    found: dict[float, np.ndarray] = {}
    try:
        pending = list(wanted)
        for start, end, frame in _shown(path, (wanted[-1] + 1e-3) if wanted else 0.0):
            while pending and pending[0] < end - 1e-9:
                if pending[0] >= start - 1e-9:
                    found[pending[0]] = _animation_picture(frame, long_side, grey=False)
                pending.pop(0)
    except (OSError, EOFError, ValueError):
        pass  # the frames before the damage are kept
    return [found.get(max(0.0, float(t))) for t in times]


class Decoder(ABC):
    """Turns media files into pixels: grey samples at a plan of times, colour frames at given times.

    Subclasses give a `NAME`, decode video (`_sample_video`, `_grab_video`)
    and say what they are (`_describe_video`); still images are Pillow's for
    every decoder. Register them with `register`.
    """

    #: The name the decoder is chosen by (``PROVENANCE_DECODER``).
    NAME: ClassVar[str]
    #: Whether `sample_unprobed` can sample a video before ffprobe has described it.
    can_sample_unprobed: ClassVar[bool] = False

    def start(self) -> None:
        """Start any helper process now, so it starts while the caller does other work (nothing by default)."""
        return None

    def sample(self, path: Path | str, plan: Plan, facts: MediaFacts | None = None) -> Frames:
        """Grey samples at `plan.fps` (and colour ones when the plan asks), one run over the file.

        Args:
            path: video or still image.
            plan: the rate, sizes, decoding options and most seconds examined.
            facts: the file's probe result (probed here when not given).

        Returns:
            The sampled `Frames`.

        Raises:
            BadInputError: the file does not decode at all, or is absurdly large.
            ProcessingError: the decoder failed or exceeded its time limit.
        """
        facts = facts or probe(path)
        if facts.kind == "image":
            return still_frames(path, plan.long_side, plan.sparse)
        if is_animation(facts):
            return animation_frames(path, plan, facts)
        job = Job.of(path, facts, plan)
        return frames_of(path, job, self._sample_video(path, job))

    def sample_unprobed(
        self, path: Path | str, plan: Plan, *, container: Callable[[dict[str, Any]], None] | None = None
    ) -> Unprobed:
        """Sample a video before ffprobe has described it (`frames_from` then checks against the facts).

        Only for decoders with `can_sample_unprobed`. `container`, when given, is called with the
        decoder's own reading of the container in ffprobe's JSON shape (`probe.probe_reading`) once it
        has opened the file, before it decodes (not at all when it cannot read it so).

        Raises:
            BadInputError, ProcessingError: as `sample`.
            NotImplementedError: this decoder needs the probe's facts first.
        """
        raise NotImplementedError(f"the {self.NAME} decoder cannot sample a file before it is probed")

    def frames_from(self, unprobed: Unprobed, facts: MediaFacts) -> Frames | None:
        """The `Frames` of `sample_unprobed`, once the probe's `facts` are known.

        None when the decoder's reading of the stream (display size, rotation,
        seconds examined, colour samples) differs from what `sample` would
        have asked for with `facts`: sample again with `sample`.

        Raises:
            BadInputError: no frame decoded.
        """
        job = Job.of(unprobed.path, facts, unprobed.plan)
        chose = unprobed.chosen
        if chose is None:
            return frames_of(unprobed.path, job, unprobed.raw) if unprobed.raw.count == 0 else None
        agrees = (
            (facts.video_stream is None or chose.stream == facts.video_stream)
            and chose.size == job.size
            and chose.display == facts.display_size
            and chose.clockwise == clockwise(facts.rotation)
            and _same_ticks(chose.examined_s, job.duration, unprobed.plan.fps, unprobed.raw.count)
            and chose.colour == job.colour_size
            and chose.detail == job.detail_size
            and chose.sparse == job.sparse_size
        )
        return frames_of(unprobed.path, job, unprobed.raw) if agrees else None

    def grab(self, path: Path | str, times: Sequence[float], media: Media, long_side: int) -> list[np.ndarray | None]:
        """Colour frames (RGB uint8, display orientation, `long_side` pixels long) at each of `times`.

        Each is the first frame shown at or after its time (times rounded to
        the millisecond, negative ones taken as 0); None where none decoded
        (past the end, or undecodable). A still image gives itself for every time.

        Raises:
            BadInputError: a still image does not decode.
            ToolMissingError: ffmpeg is missing.
        """
        if not times:
            return []
        if media.kind == "image":
            small = _scaled_still(path, long_side, grey=False)
            return [small for _ in times]
        if media.kind == "animation":
            return animation_grab(path, times, long_side)
        if media.width <= 0 or media.height <= 0:
            return [None] * len(times)
        size = work_size(media.width, media.height, long_side)
        wanted = [round(max(0.0, float(t)), 3) for t in times]
        return self._grab_video(path, wanted, size, media.duration_s, stream=media.stream)

    def grab_both(
        self,
        path: Path | str,
        times: Sequence[float],
        media: Media,
        long_side: int,
        more_times: Sequence[float],
        more_long_side: int,
    ) -> tuple[list[np.ndarray | None], list[np.ndarray | None]]:
        """`grab` of `times` at `long_side` and of `more_times` at `more_long_side`, one decode where the decoder
        can (a reference's window for verify and its frames for the report: the same frames either way).

        Raises:
            As `grab`.
        """
        if media.kind != "video" or not times or not more_times or media.width <= 0 or media.height <= 0:
            return self.grab(path, times, media, long_side), self.grab(path, more_times, media, more_long_side)
        return self._grab_video_both(
            path,
            [round(max(0.0, float(t)), 3) for t in times],
            work_size(media.width, media.height, long_side),
            [round(max(0.0, float(t)), 3) for t in more_times],
            work_size(media.width, media.height, more_long_side),
            media.duration_s,
            stream=media.stream,
        )

    def describe(self, *, still: bool = False) -> str:
        """Which decoder this is, with its version, for reports.

        ``libav 8.1.2 (PyAV 18.1.0)``, ``ffmpeg 5.1.9-0+deb12u1 command line``,
        or for a still image (`still`) ``Pillow 13.0.0``.
        """
        if still:
            from importlib.metadata import version

            return f"Pillow {version('pillow')}"
        return self._describe_video()

    @abstractmethod
    def _sample_video(self, path: Path | str, job: Job) -> Raw:
        """Sample a video as `job` says."""

    @abstractmethod
    def _grab_video(
        self,
        path: Path | str,
        wanted: list[float],
        size: tuple[int, int],
        duration_s: float,
        *,
        stream: int | None = None,
    ) -> list[np.ndarray | None]:
        """RGB frames at `size` for each of `wanted` (seconds, rounded to the millisecond), from video stream
        `stream` (None: the one marked default, else the first)."""

    def _grab_video_both(
        self,
        path: Path | str,
        wanted: list[float],
        size: tuple[int, int],
        more: list[float],
        more_size: tuple[int, int],
        duration_s: float,
        *,
        stream: int | None = None,
    ) -> tuple[list[np.ndarray | None], list[np.ndarray | None]]:
        """`_grab_video` of `wanted` at `size` and of `more` at `more_size` (two decodes unless a decoder joins them)."""
        return (
            self._grab_video(path, wanted, size, duration_s, stream=stream),
            self._grab_video(path, more, more_size, duration_s, stream=stream),
        )

    @abstractmethod
    def _describe_video(self) -> str:
        """The decoder's name and version."""


#: The implementations by name: the module of this package that registers each when imported.
_MODULES = {"libav": "libav", "ffmpeg": "ffmpeg"}
_REGISTRY: dict[str, type[Decoder]] = {}


def register(cls: type[Decoder]) -> type[Decoder]:
    """Class decorator: make a `Decoder` subclass choosable by its `NAME`."""
    _REGISTRY[cls.NAME] = cls
    return cls


def decoder_names() -> tuple[str, ...]:
    """The names decoders are chosen by."""
    return tuple(_MODULES)


def _decoder_class(name: str) -> type[Decoder]:
    if name not in _REGISTRY:
        importlib.import_module(f".{_MODULES[name]}", __name__)
    return _REGISTRY[name]


def choose_decoder(name: str | None = None) -> Decoder:
    """The decoder named `name`, else by ``PROVENANCE_DECODER``, else libav when PyAV is installed.

    ``libav`` without PyAV installed falls back to ``ffmpeg``. Call it once
    per task and pass the decoder on.

    Raises:
        BadInputError: the name is not a decoder's.
    """
    choice = (os.environ.get(DECODER_ENV, "") if name is None else name).strip().lower()
    if choice and choice not in _MODULES:
        names = " or ".join(repr(n) for n in decoder_names())
        raise BadInputError(f"{DECODER_ENV}={choice!r} is not a decoder: set it to {names}, or unset it")
    if choice in ("", "libav") and importlib.util.find_spec("av") is None:
        choice = "ffmpeg"
    return _decoder_class(choice or "libav")()


def extract_frames(
    path: Path | str,
    *,
    fps: float,
    facts: MediaFacts | None = None,
    long_side: int = WORK_SIZE,
    decoding: Decoding = Decoding(),
    max_duration_s: float = MAX_DURATION_S,
    colour_long_side: int | None = None,
    decoder: Decoder | None = None,
) -> Frames:
    """`Decoder.sample` with a `Plan` of these arguments, for a stage used alone.

    Args:
        path, facts: as `Decoder.sample`.
        fps, long_side, decoding, max_duration_s, colour_long_side: the `Plan`.
        decoder: the decoder; `choose_decoder`'s when None (chosen only for a video).

    Returns:
        The sampled `Frames`.

    Raises:
        BadInputError, ProcessingError: as `Decoder.sample`.
    """
    facts = facts or probe(path)
    plan = Plan(fps, long_side, decoding, max_duration_s, colour_long_side)
    if facts.kind == "image":
        return still_frames(path, long_side)
    return (decoder or choose_decoder()).sample(path, plan, facts)


def grab_frame(
    path: Path | str, t: float, *, facts: MediaFacts, long_side: int = 360, decoder: Decoder | None = None
) -> np.ndarray:
    """One colour frame (RGB, uint8) at time `t`, scaled to `long_side`: `Decoder.grab` of one time.

    Raises:
        ProcessingError: when no frame can be decoded at `t`.
    """
    (frame,) = (decoder or choose_decoder()).grab(path, [t], Media.of(facts), long_side)
    if frame is None:
        raise ProcessingError(f"{path}: no frame could be decoded at {t:.2f} s")
    return frame
