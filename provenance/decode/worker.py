"""Stage decode: the libav worker, a process that samples and grabs frames for `provenance.decode.libav`.

Run as a script (``python provenance/decode/worker.py MEMORY_BYTES``), never
imported by the package: it needs only the standard library, numpy, PyAV and
the stdlib-only `protocol.py` beside it (loaded by its path), so it starts in
~0.1 s and then serves requests until its stdin closes. The messages are
`protocol`'s: a `SampleRequest` is answered by `sample`, a `GrabRequest` by
`grab`.

Sampling follows ffmpeg's ``fps=R:round=up`` filter as the command-line
decoder (`provenance.decode.ffmpeg`) uses it: the sample for tick k is the
last frame shown at or before k/R seconds from the file's start (ticks before
the first frame take the first frame), and the last frame repeats up to the
declared duration. With ``skip_unsampled`` the decoder skips only frames that
nothing refers to and that are no tick's sample, so every sample decodes
exactly as in a full decode (`LOOKAHEAD_PACKETS` decides which frames those
are).

Confinement, the same as the ffmpeg command line's (tools.input_args): the
file is opened as ``file:PATH`` with ``protocol_whitelist=file`` and the
caller's demuxer whitelist, the codec gets ``max_pixels``, the address space
is capped at start (``RLIMIT_AS``), and the caller kills the process when its
time limit passes.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    # Run as a script, Python puts this file's folder first on the import path:
    # the package's own modules (ffmpeg, libav, ...) must not stand in for others.
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import importlib.util
import math
import re
import resource
import signal
import threading
import time
from collections import deque
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO


def _load_protocol() -> ModuleType:
    """protocol.py beside this file, loaded by its path (this folder is not on the import path)."""
    name = "provenance_decode_protocol"
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(__file__), "protocol.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while they are made
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from . import protocol
else:
    protocol = _load_protocol()

work_size = protocol.work_size

#: Packets looked at on each side of one (in decode order) to decide whether its frame is a sample.
#: Decoders reorder by at most 16 frames (H.264's DPB); a frame with no later-shown neighbour in
#: the window is decoded in full.
LOOKAHEAD_PACKETS = 32
#: Seconds past the examined span after which demuxing stops (packets arrive in decode order,
#: up to a few frames ahead of their showing time).
READ_PAST_S = 2.0
#: Tick matching tolerance, seconds (timestamps are exact rationals turned into floats).
EPS = 1e-9
#: Where a grab starts (`protocol.SEEK_FROM_S`, `protocol.SEEK_BACK_S`; the client judges by them
#: whether one pass pays).
SEEK_FROM_S = protocol.SEEK_FROM_S
SEEK_BACK_S = protocol.SEEK_BACK_S
#: libav log lines that count as decoder errors (as in the command-line decoder).
ERROR_WORDS = re.compile(r"error|invalid|corrupt|missing", re.IGNORECASE)
#: ffmpeg's AVDiscard option values and PyAV's names for them.
SKIP_NAMES = {"default": "DEFAULT", "noref": "NONREF", "bidir": "BIDIR", "nointra": "NONINTRA", "nokey": "NONKEY"}
#: Consecutive packets that fail to decode before the file is given up on.
MAX_CONSECUTIVE_FAILURES = 500
#: Seconds between looks at whether the parent process is still there (the worker then exits):
#: a worker outlives a killed command by at most this long.
PARENT_CHECK_S = 0.25
#: Most bytes of the container's reading (`container_reading`) sent as JSON; a larger one (a hostile
#: file's thousands of tags) is not sent, and the caller runs ffprobe instead.
MAX_READING_BYTES = 48_000
#: AVStream dispositions ffprobe names and the caller reads (libavformat/avformat.h).
DISPOSITIONS = {"default": 0x0001, "attached_pic": 0x0400}
#: ffmpeg's autorotate filters for a clockwise display rotation (fftools, ffmpeg 5.1).
ROTATE_FILTERS = {90: [("transpose", "clock")], 180: [("hflip", ""), ("vflip", "")], 270: [("transpose", "cclock")]}


def _reply(out: BinaryIO, message: protocol.Message, *payload: bytes) -> None:
    out.write(protocol.encode(message))
    for part in payload:
        out.write(part)
    out.flush()


def _video_stream(container: Any, index: int | None) -> Any:
    """The video stream asked for by `index`, else the one `protocol.choose_video_stream` picks; None without one."""
    usable = {}
    for stream in container.streams.video:
        cc = stream.codec_context  # None when libav has no decoder for the codec
        attached = bool(int(stream.disposition) & 0x0400)  # AV_DISPOSITION_ATTACHED_PIC: cover art
        if cc is not None and cc.width > 0 and cc.height > 0 and not attached:
            usable[stream.index] = stream
    if index is not None:
        return usable.get(index)
    marked = [(i, bool(int(s.disposition) & 0x0001)) for i, s in usable.items()]  # AV_DISPOSITION_DEFAULT
    chosen = protocol.choose_video_stream(marked)
    return usable[chosen] if chosen is not None else None


class _Scaler:
    """One libavfilter chain (rotation, ``scale=W:H:flags=area``, pixel format), as the command line builds it."""

    def __init__(self, stream: Any, size: tuple[int, int], pix_fmt: str, clockwise: int) -> None:
        self.stream, self.size, self.pix_fmt, self.clockwise = stream, size, pix_fmt, clockwise
        self.graph: Any = None
        self.shape: tuple[int, int, str] | None = None

    def _build(self, frame: Any) -> None:
        import av.filter

        graph = av.filter.Graph()
        shape = (frame.width, frame.height, frame.format.name)
        cc = self.stream.codec_context
        if (cc.width, cc.height, cc.pix_fmt) == shape:
            chain = [graph.add_buffer(template=self.stream)]
        else:  # the stream changed size or format mid-way: describe the frame itself
            chain = [
                graph.add_buffer(
                    width=frame.width, height=frame.height, format=frame.format, time_base=self.stream.time_base
                )
            ]
        for name, args in ROTATE_FILTERS.get(self.clockwise, []):
            chain.append(graph.add(name, args))
        w, h = self.size
        chain.append(graph.add("scale", f"{w}:{h}:flags=area"))
        chain.append(graph.add("format", self.pix_fmt))
        chain.append(graph.add("buffersink"))
        for a, b in zip(chain, chain[1:], strict=False):
            a.link_to(b)
        graph.configure()
        self.graph, self.shape = graph, shape

    def __call__(self, frame: Any) -> bytes:
        if self.graph is None or self.shape != (frame.width, frame.height, frame.format.name):
            self._build(frame)
        self.graph.push(frame)
        out = self.graph.pull()
        return bytes(out.to_ndarray().tobytes())


class _Sampler:
    """Turns decoded frames (in showing order) into one sample per tick."""

    def __init__(self, req: protocol.SampleRequest, stream: Any, cap_s: float, examined_s: float, declared_s: float):
        self.fps = float(req.fps)
        self.cap_s = cap_s
        self.max_frames = int(req.max_frames)
        self.req, self.stream = req, stream
        self.examined_s, self.declared_s = examined_s, declared_s
        self.plan: protocol.ChosenPlan | None = None
        self.grey_of: _Scaler | None = None
        self.colour_of: _Scaler | None = None
        self.detail_of: _Scaler | None = None
        self.detail_ticks: frozenset[int] = frozenset()
        self.sparse_of: _Scaler | None = None
        self.sparse_every = 0
        if req.size is not None:
            self._scalers(req.size, req.colour, protocol.clockwise(req.rotation), req.detail_size, req.detail_ticks)
            if req.sparse_size is not None and req.sparse_every > 0:
                self._sparse(req.sparse_size, req.sparse_every, protocol.clockwise(req.rotation))
        self.grey: list[bytes] = []
        self.colour: list[bytes] = []
        self.detail: dict[int, bytes] = {}
        self.sparse: list[bytes] = []
        self.prev: Any = None
        self.prev_t = -math.inf
        self.prev_shown = 0.0
        self.tick = 0

    def _scalers(
        self,
        size: tuple[int, int],
        colour: tuple[int, int] | None,
        clockwise: int,
        detail: tuple[int, int] | None = None,
        detail_ticks: tuple[int, ...] = (),
    ) -> None:
        self.grey_of = _Scaler(self.stream, size, "gray", clockwise)
        self.colour_of = None if colour is None else _Scaler(self.stream, colour, "rgb24", clockwise)
        if detail is not None and detail_ticks:
            self.detail_of = _Scaler(self.stream, detail, "gray", clockwise)
            self.detail_ticks = frozenset(detail_ticks)

    def _sparse(self, size: tuple[int, int], every: int, clockwise: int) -> None:
        """The second grey size, taken at every `every`-th tick (its own chain from the decoded frame)."""
        self.sparse_of = _Scaler(self.stream, size, "gray", clockwise)
        self.sparse_every = int(every)

    def _plan_from(self, frame: Any) -> None:
        """Plan mode: sizes from the stream and the first frame's display rotation, as the library would choose."""
        plan = self.req.plan
        assert plan is not None
        rotation = float(getattr(frame, "rotation", 0) or 0.0)  # PyAV's angle is ffprobe's
        turn = protocol.clockwise(rotation)
        cc = self.stream.codec_context
        display = (cc.height, cc.width) if turn % 180 == 90 else (cc.width, cc.height)
        size = work_size(*display, plan.long_side)
        colour = None
        if plan.colour_long_side and 0 < self.examined_s <= plan.colour_max_s:
            colour = protocol.colour_size(display, plan.colour_long_side, self.examined_s, self.fps)
        detail: tuple[int, int] | None = None
        ticks: tuple[int, ...] = ()
        if plan.detail is not None:
            detail, ticks = work_size(*display, plan.detail.long_side), plan.detail.ticks(self.examined_s, self.fps)
        self._scalers(size, colour, turn, detail, ticks)
        sparse: tuple[int, int] | None = None
        if plan.sparse is not None:
            sparse = work_size(*display, plan.sparse.long_side)
            self._sparse(sparse, plan.sparse.every, turn)
        self.plan = protocol.ChosenPlan(
            display, size, colour, turn, self.examined_s, self.declared_s, int(self.stream.index), detail, ticks, sparse,
            rotation,
        )  # fmt: skip

    @property
    def full(self) -> bool:
        return len(self.grey) >= self.max_frames

    def _emit_prev_until(self, t: float) -> None:
        grey = colour = sparse = None
        while self.tick / self.fps < t - EPS and self.tick / self.fps < self.cap_s and not self.full:
            if grey is None:
                assert self.grey_of is not None
                grey = self.grey_of(self.prev)
                colour = self.colour_of(self.prev) if self.colour_of is not None else None
            self.grey.append(grey)
            if colour is not None:
                self.colour.append(colour)
            if self.detail_of is not None and self.tick in self.detail_ticks:
                self.detail[self.tick] = self.detail_of(self.prev)
            if self.sparse_of is not None and self.tick % self.sparse_every == 0:
                if sparse is None:
                    sparse = self.sparse_of(self.prev)
                self.sparse.append(sparse)
            self.tick += 1

    def add(self, frame: Any, t: float, shown_s: float) -> None:
        if t < self.prev_t:  # out of order (a damaged stream): the later-shown frame stands
            return
        if self.grey_of is None:
            self._plan_from(frame)
        if self.prev is not None:
            self._emit_prev_until(t)
        self.prev, self.prev_t, self.prev_shown = frame, t, shown_s

    def finish(self) -> None:
        """At the end of the stream the last frame fills the ticks up to the end of its showing time."""
        if self.prev is not None:
            self._emit_prev_until(self.prev_t + max(self.prev_shown, EPS))

    @property
    def done(self) -> bool:
        return self.full or self.tick / self.fps >= self.cap_s


def _open(
    path: str, format_whitelist: str, max_pixels: int, skip_loop_filter: str | None = None, index: int | None = None
) -> tuple[Any, Any, protocol.Refusal | None]:
    """(container, the video stream examined, None), confined as the command line is, or (None, None, refusal)."""
    import av

    try:
        container = av.open(
            "file:" + path, container_options={"protocol_whitelist": "file", "format_whitelist": format_whitelist}
        )
    except (av.FFmpegError, OSError, ValueError) as exc:
        return None, None, protocol.Refusal(protocol.ErrorKind.BAD_INPUT, str(exc))
    stream = _video_stream(container, index)
    if stream is None:
        container.close()
        return None, None, protocol.Refusal(protocol.ErrorKind.BAD_INPUT, "no video stream with a frame size")
    options = {"max_pixels": str(int(max_pixels))}
    if skip_loop_filter:
        options["skip_loop_filter"] = str(skip_loop_filter)
    stream.codec_context.options = options
    return container, stream, None


def _rate_text(rate: Any) -> str:
    """A stream rate as ffprobe writes it ("num/den"; "0/0" when unknown)."""
    try:
        return f"{int(rate.numerator)}/{int(rate.denominator)}" if rate else "0/0"
    except (AttributeError, TypeError, ValueError, OverflowError):
        return "0/0"


def _text_tags(metadata: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(metadata or {}).items()}


def container_reading(container: Any) -> dict[str, Any] | None:
    """The container's format, streams and tags as libav read them, in ffprobe's JSON shape
    (``-show_format -show_streams``: the fields `probe.ffprobe.facts_from_ffprobe` reads), so the
    caller need not start ffprobe on a file this process opened anyway. Without the display
    rotation, which only a decoded frame gives (`protocol.ChosenPlan.rotation`). None when the
    reading fails or exceeds `MAX_READING_BYTES` (the caller then runs ffprobe).
    """
    import json

    try:
        streams = []
        for stream in container.streams:
            cc = stream.codec_context  # None without a decoder for the codec
            tb = stream.time_base
            raw: dict[str, Any] = {
                "index": int(stream.index),
                "codec_type": str(stream.type or "unknown"),
                "codec_name": str(cc.codec.canonical_name) if cc is not None else "unknown",
                "avg_frame_rate": _rate_text(getattr(stream, "average_rate", None)),  # video streams alone have rates
                "r_frame_rate": _rate_text(getattr(stream, "base_rate", None)),
                "disposition": {name: int(bool(int(stream.disposition) & bit)) for name, bit in DISPOSITIONS.items()},
                "tags": _text_tags(stream.metadata),
            }
            if stream.type == "video" and cc is not None:
                raw["width"], raw["height"] = int(cc.width), int(cc.height)
            if stream.duration is not None and tb:
                raw["duration"] = f"{float(stream.duration * tb):.6f}"
            if cc is not None and cc.bit_rate:
                raw["bit_rate"] = str(int(cc.bit_rate))
            if stream.frames:
                raw["nb_frames"] = str(int(stream.frames))
            streams.append(raw)
        fmt: dict[str, Any] = {"format_name": str(container.format.name), "tags": _text_tags(container.metadata)}
        if container.duration is not None:
            fmt["duration"] = f"{container.duration / 1e6:.6f}"
        if container.bit_rate:
            fmt["bit_rate"] = str(int(container.bit_rate))
        reading = {"format": fmt, "streams": streams}
        size = len(json.dumps(reading))
    except Exception:  # noqa: BLE001 - whatever a hostile file's fields raise, ffprobe reads it instead
        return None
    return reading if size <= MAX_READING_BYTES else None


def _timeline(container: Any, stream: Any) -> Any:
    """A function: seconds from the file's start of a stream timestamp (None without one)."""
    tb = float(stream.time_base) if stream.time_base else 0.0
    start = container.start_time / 1e6 if container.start_time is not None else 0.0

    def seconds(ts: int | None) -> float | None:
        return None if ts is None or not tb else ts * tb - start

    return seconds


def _decode_ahead(container: Any, stream: Any, stop_at: float, skip: Any, decode: Any) -> None:
    """Feed the stream's packets to `decode` in decode order, each with the skip_frame value
    `skip(times, t)` gives from the showing times of the `LOOKAHEAD_PACKETS` packets on each
    side; stop when `decode` returns False or a packet is decoded past `stop_at` seconds, else
    flush the decoder with ``decode(None)``."""
    cc = stream.codec_context
    seconds = _timeline(container, stream)
    window: deque[Any] = deque()
    history: deque[float] = deque(maxlen=LOOKAHEAD_PACKETS)

    def release(packet: Any) -> bool:
        t = seconds(packet.pts)
        cc.skip_frame = skip(list(history) + [x for x in (seconds(p.pts) for p in window) if x is not None], t)
        if t is not None:
            history.append(t)
        return bool(decode(packet))

    for packet in container.demux(stream):
        if packet.size == 0:
            continue
        decoded_at = seconds(packet.dts if packet.dts is not None else packet.pts)
        if decoded_at is not None and decoded_at > stop_at:
            break
        window.append(packet)
        if len(window) > LOOKAHEAD_PACKETS and not release(window.popleft()):
            return
    while window:
        if not release(window.popleft()):
            return
    cc.skip_frame = "DEFAULT"
    decode(None)


def _sample_ticks(times: list[float], t: float, fps: float) -> bool:
    """Whether the frame shown at `t` is some tick's sample, given the showing times near it."""
    later = [x for x in times if x > t + EPS]
    if not later or not any(x < t - EPS for x in times):
        return True  # no known successor, or possibly the first frame: decode it in full
    k = math.ceil((t - EPS) * fps)  # the first tick at or after t
    return k / fps + EPS < min(later)


def sample(req: protocol.SampleRequest, announce: Any = None) -> tuple[protocol.Message, list[bytes]]:
    """Decode one file as `req` asks; returns the reply and its payload parts.

    With a plan `announce` is called with an `Examined` before decoding
    starts, so the caller can set its time limit by the length.
    """
    import av
    import av.logging

    container, stream, refusal = _open(
        req.path, req.format_whitelist, req.max_pixels, req.decoding.skip_loop_filter, req.stream
    )
    if refusal is not None:
        return refusal, []
    errors = 0
    messages: list[str] = []
    with container, av.logging.Capture(local=False) as logs:
        cc = stream.codec_context
        cc.thread_count = int(req.decoding.threads) if req.decoding.threads is not None else 0
        if cc.thread_count > 1:
            # Frame threads, as ffmpeg's command line uses them (PyAV's default is slices only, and an
            # x264 file has one slice a frame): the same frames, decoded on that many cores.
            cc.thread_type = "AUTO"
        base = SKIP_NAMES[str(req.decoding.skip_frame or "default")]
        skip_unsampled = bool(req.decoding.skip_unsampled) and base == "DEFAULT"
        tb = float(stream.time_base) if stream.time_base else 0.0
        rate = float(stream.guessed_rate or stream.average_rate or 0) or float(req.fps)
        seconds = _timeline(container, stream)
        examined = declared = 0.0
        if req.plan is not None:  # the caller has not probed the file: the container's own facts
            declared = container.duration / 1e6 if container.duration and container.duration > 0 else 0.0
            examined = min(declared, req.plan.limit_s) if declared > 0 else req.plan.limit_s
            cap_s = examined + 1
            if announce is not None:
                announce(protocol.Examined(examined, container_reading(container)))
        else:
            cap_s = float(req.cap_s)
        sampler = _Sampler(req, stream, cap_s, examined, declared)
        fps = sampler.fps
        failures = 0
        decoded = 0
        last_t = -math.inf

        def skip(near: list[float], t: float | None) -> str:
            if not skip_unsampled:
                return base
            return "DEFAULT" if t is None or _sample_ticks(near, t, fps) else "NONREF"

        def decode(packet: Any) -> bool:
            nonlocal errors, failures, last_t, decoded
            try:
                frames = cc.decode(packet)
                failures = 0
            except av.FFmpegError as exc:
                errors += 1
                failures += 1
                messages.append(str(exc))
                return failures < MAX_CONSECUTIVE_FAILURES
            for frame in frames:
                decoded += 1
                if frame.width * frame.height > req.max_pixels:
                    raise ValueError(f"decoded frame {frame.width}x{frame.height} is larger than accepted")
                t = seconds(frame.pts)
                t = (last_t + 1.0 / rate) if t is None else t
                last_t = max(last_t, t)
                shown = frame.duration * tb if frame.duration and tb else 1.0 / rate
                sampler.add(frame, t, shown)
                if sampler.done:
                    return False
            return True

        try:
            _decode_ahead(container, stream, sampler.cap_s + READ_PAST_S, skip, decode)
        except av.FFmpegError as exc:  # the demuxer gave up: keep what decoded
            errors += 1
            messages.append(str(exc))
        except ValueError as exc:
            return protocol.Refusal(protocol.ErrorKind.BAD_INPUT, str(exc)), []
        sampler.finish()
    for log in logs:
        level, message = log[0], str(log[2])
        if level <= av.logging.ERROR and ERROR_WORDS.search(message):
            errors += 1
            messages.append(message.strip())
    with_colour = bool(sampler.colour) and len(sampler.colour) == len(sampler.grey)
    reply = protocol.SampleReply(
        count=len(sampler.grey),
        colour=with_colour,
        errors=errors,
        decoded=decoded,
        last_error=messages[-1][-200:] if messages else "",
        plan=sampler.plan,
        detail_ticks=tuple(sorted(sampler.detail)),
        sparse=len(sampler.sparse),
    )
    parts = [b"".join(sampler.grey)]
    if with_colour:
        parts.append(b"".join(sampler.colour))
    parts += [sampler.detail[k] for k in sorted(sampler.detail)]
    parts += sampler.sparse
    return reply, parts


def _first_at_or_after(times: list[float], t: float, targets: list[float]) -> bool:
    """Whether the frame shown at `t` is the first at or after some target, given the showing times near it."""
    earlier = [x for x in times if x < t - EPS]
    if not earlier or not any(x > t + EPS for x in times):
        return True  # no known predecessor or successor: decode it in full
    before = max(earlier)
    return any(before + EPS < target <= t + EPS for target in targets)


def grab(req: protocol.GrabRequest) -> tuple[protocol.Message, list[bytes]]:
    """Colour frames, for each target time the first frame shown at or after it (as the ffmpeg decoder's grab).

    One decode up to the last target of every output (`targets` at `size`, then each of `more`),
    from the keyframe before the first target when that lies `SEEK_FROM_S` or more into the
    file (`SEEK_BACK_S` ahead of it), else from the start; frames nothing refers to are skipped
    unless they are some target's frame.
    """
    outputs = [(sorted(set(req.targets)), req.size)] + [(sorted(set(t)), size) for t, size in req.more]
    firsts = [targets[0] for targets, _ in outputs if targets]
    if firsts and min(firsts) >= SEEK_FROM_S:
        got = _grab(req, outputs, seek_s=min(firsts) - SEEK_BACK_S)
        if got is not None:
            return got
    got = _grab(req, outputs, seek_s=None)
    assert got is not None  # only a seek is ever given up
    return got


def _grab(
    req: protocol.GrabRequest, outputs: list[tuple[list[float], tuple[int, int]]], *, seek_s: float | None
) -> tuple[protocol.Message, list[bytes]] | None:
    """`grab`'s decode, from the keyframe at or before `seek_s` (None: the start); None when that seek
    fails or its first frame shown comes after the first target (frames a target needs were skipped)."""
    import av

    container, stream, refusal = _open(req.path, req.format_whitelist, req.max_pixels, index=req.stream)
    if refusal is not None:
        return refusal, []
    found: list[dict[float, bytes]] = [{} for _ in outputs]
    pending = [list(targets) for targets, _ in outputs]
    scalers: list[_Scaler | None] = [None for _ in outputs]
    seconds = _timeline(container, stream)
    first: list[float] = []  # the time of the first frame shown
    earliest = min((targets[0] for targets, _ in outputs if targets), default=0.0)
    last = max((targets[-1] for targets, _ in outputs if targets), default=0.0)

    def skip(near: list[float], t: float | None) -> str:
        wanted = t is None or any(_first_at_or_after(near, t, p) for p in pending if p)
        return "DEFAULT" if wanted else "NONREF"

    def decode(packet: Any) -> bool:
        try:
            frames = stream.codec_context.decode(packet)
        except av.FFmpegError:
            return True  # a damaged packet: the target takes the next frame that decodes
        for frame in frames:
            t = seconds(frame.pts)
            if t is None:
                continue
            if not first:
                first.append(t)
                if seek_s is not None and t > earliest + EPS:
                    return False
            for k, (_, size) in enumerate(outputs):
                todo = pending[k]
                if not todo or t < todo[0] - EPS:
                    continue
                scaler = scalers[k]
                if scaler is None:
                    clockwise = protocol.clockwise(getattr(frame, "rotation", 0))
                    scaler = scalers[k] = _Scaler(stream, size, "rgb24", clockwise)
                rgb = scaler(frame)
                while todo and todo[0] <= t + EPS:
                    found[k][todo.pop(0)] = rgb
        return any(pending)

    with container:
        if seek_s is not None and not _seek(container, stream, seek_s):
            return None
        try:
            _decode_ahead(container, stream, last + READ_PAST_S, skip, decode)
        except av.FFmpegError:
            pass  # the demuxer gave up: what was found stands
    if seek_s is not None and (not first or first[0] > earliest + EPS):
        return None
    orders = [tuple(t for t in targets if t in found[k]) for k, (targets, _) in enumerate(outputs)]
    payload = [found[k][t] for k, order in enumerate(orders) for t in order]
    return protocol.GrabReply(orders[0], tuple(orders[1:])), payload


def _seek(container: Any, stream: Any, at_s: float) -> bool:
    """Set the demuxer at the keyframe at or before `at_s` seconds of `stream` (False where it cannot seek)."""
    tb = float(stream.time_base) if stream.time_base else 0.0
    if not tb:
        return False
    start = container.start_time / 1e6 if container.start_time is not None else 0.0
    try:
        container.seek(int((at_s + start) / tb), backward=True, any_frame=False, stream=stream)
    except Exception:  # noqa: BLE001 - whatever a hostile file's seek raises, the grab decodes from the start
        return False
    return True


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Answer requests until `inp` closes."""
    import av
    import av.logging

    av.logging.set_level(av.logging.ERROR)
    _reply(out, protocol.Ready(av.__version__, str(getattr(av, "ffmpeg_version_info", "?"))))
    for line in iter(inp.readline, b""):
        reply: protocol.Message
        parts: list[bytes]
        try:
            req = protocol.decode(line)
            if isinstance(req, protocol.GrabRequest):
                reply, parts = grab(req)
            elif isinstance(req, protocol.SampleRequest):
                reply, parts = sample(req, lambda message: _reply(out, message))
            else:
                raise ValueError(f"a {type(req).__name__} is no request")
        except (KeyError, TypeError, ValueError) as exc:
            reply, parts = protocol.Refusal(protocol.ErrorKind.REQUEST, f"{type(exc).__name__}: {exc}"), []
        except Exception as exc:  # noqa: BLE001 - whatever libav or PyAV raised on this file ends this file only
            reply, parts = protocol.Refusal(protocol.ErrorKind.FAILED, f"{type(exc).__name__}: {exc}"), []
        _reply(out, reply, *parts)


def _cap_memory(limit: int) -> None:
    """Cap the address space at `limit` bytes, or lower: a limit the caller's session set is never raised."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = min(v for v in (limit, soft, hard) if v != resource.RLIM_INFINITY and v > 0)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _die_with_parent(interval_s: float = PARENT_CHECK_S) -> None:
    """Exit as soon as the process that started this one is gone (killed, or its pool terminated).

    A decode in progress does not read stdin, so the end of the pipe alone
    is noticed only after the file: a thread watches the parent instead.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def main() -> None:
    # Ctrl-C reaches the whole process group; the caller decides how to stop, and
    # when it exits this process reads the end of its stdin and exits too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if limit > 0:
        _cap_memory(limit)
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
