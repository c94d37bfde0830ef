"""The libav decoding worker: a process that samples frames for `provenance.libav`.

Run as a script (``python provenance/libav_worker.py MEMORY_BYTES``), never
imported by the package: it needs only the standard library, numpy and PyAV,
so it starts in ~0.1 s and then serves requests until its stdin closes.

Protocol, one request at a time. Request: one JSON line on stdin. Reply: one
JSON line on stdout (``{"ok": true, "count": N, ...}`` or ``{"ok": false,
"kind": ..., "message": ...}``), then for a good reply N grey frames
(``height*width`` bytes each) and, when asked, N RGB frames. A sampling
request without a size (``"plan"``, the file not yet probed) first gets a
line ``{"examined_s": S}`` once the worker has read the duration; the sizes
it chose come back in the reply's ``"plan"``. A ``{"op": "grab"}`` request
gets one RGB frame per target time it found (`grab`). At start the worker
writes one JSON line with its PyAV and libav versions.

Sampling follows ffmpeg's ``fps=R:round=up`` filter as `frames.extract_frames`
uses it: the sample for tick k is the last frame shown at or before k/R
seconds from the file's start (ticks before the first frame take the first
frame), and the last frame repeats up to the declared duration. With
``skip_unsampled`` the decoder skips only frames that nothing refers to and
that are no tick's sample, so every sample decodes exactly as in a full
decode (`LOOKAHEAD_PACKETS` decides which frames those are).

Confinement, the same as the ffmpeg command line's (tools.input_args): the
file is opened as ``file:PATH`` with ``protocol_whitelist=file`` and the
caller's demuxer whitelist, the codec gets ``max_pixels``, the address space
is capped at start (``RLIMIT_AS``), and the caller kills the process when its
time limit passes.
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import signal
import sys
from collections import deque
from typing import Any, BinaryIO

#: Packets looked at on each side of one (in decode order) to decide whether
#: its frame is a sample. Decoders reorder by at most 16 frames (H.264's DPB);
#: a frame with no later-shown neighbour in the window is decoded in full.
LOOKAHEAD_PACKETS = 32
#: After this many seconds past the examined span, demuxing stops (packets
#: arrive in decode order, up to a few frames ahead of their showing time).
READ_PAST_S = 2.0
#: Tick matching tolerance, seconds (timestamps are exact rationals turned into floats).
EPS = 1e-9
#: libav log lines that count as decoder errors (as in the command-line path).
ERROR_WORDS = re.compile(r"error|invalid|corrupt|missing", re.IGNORECASE)
#: ffmpeg's AVDiscard option values and PyAV's names for them.
SKIP_NAMES = {"default": "DEFAULT", "noref": "NONREF", "bidir": "BIDIR", "nointra": "NONINTRA", "nokey": "NONKEY"}
#: Consecutive packets that fail to decode before the file is given up on.
MAX_CONSECUTIVE_FAILURES = 500


def _reply(out: BinaryIO, header: dict[str, Any], *payload: bytes) -> None:
    out.write(json.dumps(header).encode() + b"\n")
    for part in payload:
        out.write(part)
    out.flush()


def _first_video(container: Any) -> Any:
    for stream in container.streams.video:
        cc = stream.codec_context  # None when libav has no decoder for the codec
        attached = bool(int(stream.disposition) & 0x0400)  # AV_DISPOSITION_ATTACHED_PIC: cover art
        if cc is not None and cc.width > 0 and cc.height > 0 and not attached:
            return stream
    return None


def work_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """`provenance.frames.work_size`, repeated here so the worker imports nothing of the package
    (tests/test_libav.py holds the two equal)."""
    scale = long_side / max(width, height)
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def _clockwise(counter_clockwise: float) -> int:
    """A display rotation (counter-clockwise degrees, as ffprobe and PyAV give it) as clockwise 0/90/180/270."""
    return round(-float(counter_clockwise or 0.0) / 90.0) % 4 * 90


#: ffmpeg's autorotate filters for a clockwise display rotation (fftools, ffmpeg 5.1).
ROTATE_FILTERS = {90: [("transpose", "clock")], 180: [("hflip", ""), ("vflip", "")], 270: [("transpose", "cclock")]}


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

    def __init__(self, req: dict[str, Any], stream: Any, cap_s: float) -> None:
        self.fps = float(req["fps"])
        self.cap_s = cap_s
        self.max_frames = int(req["max_frames"])
        self.req, self.stream = req, stream
        self.plan: dict[str, Any] | None = None
        self.grey_of: _Scaler | None = None
        self.colour_of: _Scaler | None = None
        if req.get("width") is not None:
            clockwise = _clockwise(req.get("rotation") or 0.0)
            self._scalers((int(req["width"]), int(req["height"])), req.get("colour"), clockwise)
        self.grey: list[bytes] = []
        self.colour: list[bytes] = []
        self.prev: Any = None
        self.prev_t = -math.inf
        self.prev_shown = 0.0
        self.tick = 0

    def _scalers(self, size: tuple[int, int], colour: Any, clockwise: int) -> None:
        self.grey_of = _Scaler(self.stream, size, "gray", clockwise)
        self.colour_of = None if colour is None else _Scaler(self.stream, (colour[0], colour[1]), "rgb24", clockwise)

    def _plan_from(self, frame: Any) -> None:
        """Plan mode: sizes from the stream and the first frame's display rotation, as `frames` would."""
        plan = self.req["plan"]
        clockwise = _clockwise(getattr(frame, "rotation", 0))  # PyAV's angle is ffprobe's
        cc = self.stream.codec_context
        display = (cc.height, cc.width) if clockwise % 180 == 90 else (cc.width, cc.height)
        size = work_size(*display, int(plan["long_side"]))
        colour = None
        if plan.get("colour_long_side") and 0 < plan["examined_s"] <= float(plan["colour_max_s"]):
            colour = work_size(*display, int(plan["colour_long_side"]))
        self._scalers(size, colour, clockwise)
        self.plan = {**plan, "display": list(display), "size": list(size), "colour": colour, "clockwise": clockwise}

    @property
    def full(self) -> bool:
        return len(self.grey) >= self.max_frames

    def _emit_prev_until(self, t: float) -> None:
        grey = colour = None
        while self.tick / self.fps < t - EPS and self.tick / self.fps < self.cap_s and not self.full:
            if grey is None:
                assert self.grey_of is not None
                grey = self.grey_of(self.prev)
                colour = self.colour_of(self.prev) if self.colour_of is not None else None
            self.grey.append(grey)
            if colour is not None:
                self.colour.append(colour)
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


def _open(req: dict[str, Any]) -> tuple[Any, Any, dict[str, Any] | None]:
    """(container, first video stream, None), confined as the command line is, or (None, None, refusal)."""
    import av

    try:
        container = av.open(
            "file:" + str(req["path"]),
            container_options={"protocol_whitelist": "file", "format_whitelist": str(req["format_whitelist"])},
        )
    except (av.FFmpegError, OSError, ValueError) as exc:
        return None, None, {"ok": False, "kind": "bad_input", "message": str(exc)}
    stream = _first_video(container)
    if stream is None:
        container.close()
        return None, None, {"ok": False, "kind": "bad_input", "message": "no video stream with a frame size"}
    options = {"max_pixels": str(int(req["max_pixels"]))}
    if req.get("skip_loop_filter"):
        options["skip_loop_filter"] = str(req["skip_loop_filter"])
    stream.codec_context.options = options
    return container, stream, None


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


def sample(req: dict[str, Any], announce: Any = None) -> tuple[dict[str, Any], list[bytes]]:
    """Decode one file as `req` asks; returns the reply header and payload parts.

    In plan mode `announce` is called with ``{"examined_s": ...}`` before
    decoding starts, so the caller can set its time limit by the length.
    """
    import av
    import av.logging

    container, stream, refusal = _open(req)
    if refusal is not None:
        return refusal, []
    errors = 0
    messages: list[str] = []
    with container, av.logging.Capture(local=False) as logs:
        cc = stream.codec_context
        cc.thread_count = int(req["threads"]) if req.get("threads") is not None else 0
        base = SKIP_NAMES[str(req.get("skip_frame") or "default")]
        skip_unsampled = bool(req.get("skip_unsampled")) and base == "DEFAULT"
        tb = float(stream.time_base) if stream.time_base else 0.0
        rate = float(stream.guessed_rate or stream.average_rate or 0) or float(req["fps"])
        seconds = _timeline(container, stream)
        if req.get("plan") is not None:  # the caller has not probed the file: the container's own facts
            plan = req["plan"]
            declared = container.duration / 1e6 if container.duration and container.duration > 0 else 0.0
            examined = min(declared, float(plan["limit_s"])) if declared > 0 else float(plan["limit_s"])
            req["plan"] = {**plan, "duration_s": declared, "examined_s": examined}
            cap_s = examined + 1
            if announce is not None:
                announce({"examined_s": examined})
        else:
            cap_s = float(req["cap_s"])
        sampler = _Sampler(req, stream, cap_s)
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
                if frame.width * frame.height > int(req["max_pixels"]):
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
            return {"ok": False, "kind": "bad_input", "message": str(exc)}, []
        sampler.finish()
    for log in logs:
        level, message = log[0], str(log[2])
        if level <= av.logging.ERROR and ERROR_WORDS.search(message):
            errors += 1
            messages.append(message.strip())
    header = {
        "ok": True,
        "count": len(sampler.grey),
        "colour": bool(sampler.colour) and len(sampler.colour) == len(sampler.grey),
        "errors": errors,
        "decoded": decoded,
        "last_error": messages[-1][-200:] if messages else "",
        "plan": sampler.plan,
    }
    parts = [b"".join(sampler.grey)]
    if header["colour"]:
        parts.append(b"".join(sampler.colour))
    return header, parts


def _first_at_or_after(times: list[float], t: float, targets: list[float]) -> bool:
    """Whether the frame shown at `t` is the first at or after some target, given the showing times near it."""
    earlier = [x for x in times if x < t - EPS]
    if not earlier or not any(x > t + EPS for x in times):
        return True  # no known predecessor or successor: decode it in full
    before = max(earlier)
    return any(before + EPS < target <= t + EPS for target in targets)


def grab(req: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
    """Colour frames, for each target time the first frame shown at or after it (as the report's ffmpeg grab).

    One decode from the start up to the last target; frames nothing refers
    to are skipped unless they are some target's frame.
    """
    import av

    targets = sorted({float(t) for t in req["targets"]})
    w, h = int(req["width"]), int(req["height"])
    container, stream, refusal = _open(req)
    if refusal is not None:
        return refusal, []
    found: dict[float, bytes] = {}
    pending = list(targets)
    scaler: _Scaler | None = None
    seconds = _timeline(container, stream)

    def skip(near: list[float], t: float | None) -> str:
        return "DEFAULT" if t is None or _first_at_or_after(near, t, pending) else "NONREF"

    def decode(packet: Any) -> bool:
        nonlocal scaler
        try:
            frames = stream.codec_context.decode(packet)
        except av.FFmpegError:
            return True  # a damaged packet: the target takes the next frame that decodes
        for frame in frames:
            t = seconds(frame.pts)
            if t is None or not pending or t < pending[0] - EPS:
                continue
            if scaler is None:
                scaler = _Scaler(stream, (w, h), "rgb24", _clockwise(getattr(frame, "rotation", 0)))
            rgb = scaler(frame)
            while pending and pending[0] <= t + EPS:
                found[pending.pop(0)] = rgb
        return bool(pending)

    with container:
        try:
            _decode_ahead(container, stream, (targets[-1] if targets else 0.0) + READ_PAST_S, skip, decode)
        except av.FFmpegError:
            pass  # the demuxer gave up: what was found stands
    order = [t for t in targets if t in found]
    header = {"ok": True, "found": order, "count": len(order), "width": w, "height": h}
    return header, [found[t] for t in order]


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Answer requests until `inp` closes."""
    import av
    import av.logging

    av.logging.set_level(av.logging.ERROR)
    _reply(out, {"ready": True, "pyav": av.__version__, "libav": str(getattr(av, "ffmpeg_version_info", "?"))})
    for line in iter(inp.readline, b""):
        try:
            req = json.loads(line)
            if req.get("op") == "grab":
                header, parts = grab(req)
            else:
                header, parts = sample(req, lambda line: _reply(out, line))
        except (KeyError, TypeError, ValueError) as exc:
            header, parts = {"ok": False, "kind": "request", "message": f"{type(exc).__name__}: {exc}"}, []
        except Exception as exc:  # noqa: BLE001 - whatever libav or PyAV raised on this file ends this file only
            header, parts = {"ok": False, "kind": "failed", "message": f"{type(exc).__name__}: {exc}"}, []
        _reply(out, header, *parts)


def main() -> None:
    # Run as a script, Python puts this file's folder first on the import path:
    # the package's own modules (probe, tools, ...) must not stand in for others.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    # Ctrl-C reaches the whole process group; the caller decides how to stop, and
    # when it exits this process reads the end of its stdin and exits too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
