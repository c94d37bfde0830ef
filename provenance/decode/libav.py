"""Stage decode: the libav decoder, a client of a long-lived worker process running PyAV (the default).

The worker (`provenance/decode/worker.py`) reads files with the same
libavformat/libavcodec confinement as the ffmpeg command line; it saves what
every ffmpeg run pays before it reads a byte (~0.06 s CPU, most of it the
dynamic linker loading Debian's 215 shared libraries) and, with
`skip_unsampled`, the frames that are no sample and that nothing refers to
(docs/benchmark.md, "Time per query")::

    >>> decoder = LibavDecoder()
    >>> decoder.describe()
    'libav 8.1.2 (PyAV 18.1.0)'

The worker is started on first use and kept for the life of the process; it
runs with its address space capped at `WORKER_MEMORY_BYTES`, each request
under a wall-clock limit after which the worker is killed (and a new one
started for the next request), and a crash costs only the request that
caused it. Client and worker speak `provenance.decode.protocol`. Seeking
grabs (frames far apart) are the ffmpeg command line's (`FfmpegDecoder`).
"""

from __future__ import annotations

import atexit
import math
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .. import tools
from ..errors import BadInputError, ProcessingError, ProvenanceError, ToolMissingError
from . import (
    DECODER_ENV,
    MAX_FRAME_PIXELS,
    Decoder,
    Job,
    Plan,
    Raw,
    Unprobed,
    decode_timeout,
    held_by,
    one_pass_pays,
    register,
    unprobed_plan,
)
from .ffmpeg import FfmpegDecoder
from .protocol import (
    ChosenPlan,
    ErrorKind,
    Examined,
    GrabReply,
    GrabRequest,
    Message,
    Ready,
    Refusal,
    SampleReply,
    SampleRequest,
    decode,
    encode,
    grab_starts_at,
)

#: Address-space cap of the worker, bytes: a 720p decode peaks at 0.35 GB; the rest is room
#: for 16 decoder threads and the reference pictures of an 8192x8192 stream (~100 MB each).
WORKER_MEMORY_BYTES = 6 << 30
#: Longest wait for a new worker's first line, seconds.
START_TIMEOUT_S = 60.0
#: Longest reply line accepted, bytes.
MAX_HEADER_BYTES = 65_536
#: Most of the worker's stderr kept (what explains a crash).
STDERR_TAIL_BYTES = 16_384

_WORKER_SCRIPT = Path(__file__).with_name("worker.py")
_M = TypeVar("_M")


@dataclass(frozen=True)
class Sampled:
    """What the worker returned for one file."""

    count: int
    grey: bytes
    colour: bytes | None
    errors: int
    last_error: str
    #: Frames the decoder output (the rest were skipped or failed).
    decoded: int = 0
    #: For a request with a plan: what the worker read from the stream and chose.
    plan: ChosenPlan | None = None
    #: The detail frames' bytes, their size and the sample tick of each.
    detail: bytes = b""
    detail_size: tuple[int, int] | None = None
    detail_ticks: tuple[int, ...] = ()
    #: The sparse frames' bytes, their size and how many there are.
    sparse: bytes = b""
    sparse_size: tuple[int, int] | None = None
    sparse_count: int = 0

    def raw(self, colour_size: tuple[int, int] | None) -> Raw:
        """As a decoder's `Raw`, the colour samples shaped at `colour_size`, the detail and sparse frames at theirs."""
        colour = detail = sparse = None
        if self.colour is not None and colour_size is not None and self.count:
            cw, ch = colour_size
            colour = np.frombuffer(self.colour, dtype=np.uint8).reshape(self.count, ch, cw, 3)
        if self.detail_ticks and self.detail_size is not None:
            dw, dh = self.detail_size
            detail = np.frombuffer(self.detail, dtype=np.uint8).reshape(len(self.detail_ticks), dh, dw)
        if self.sparse_count and self.sparse_size is not None:
            sw, sh = self.sparse_size
            sparse = np.frombuffer(self.sparse, dtype=np.uint8).reshape(self.sparse_count, sh, sw)
        return Raw(self.count, self.grey, self.errors, self.last_error, "", colour, detail, self.detail_ticks, sparse)


class _Worker:
    """One worker process and its pipes."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(_WORKER_SCRIPT), str(WORKER_MEMORY_BYTES)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        self.version: Ready | None = None

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read(4096), b""):  # type: ignore[union-attr]
            self.tail.append(chunk)
            self.tail_size += len(chunk)
            while self.tail_size > STDERR_TAIL_BYTES and len(self.tail) > 1:
                self.tail_size -= len(self.tail.popleft())

    def stderr(self) -> str:
        text = b"".join(self.tail).decode("utf-8", "replace").strip().splitlines()
        return text[-1][-200:] if text else ""

    def ready(self, timeout: float) -> Ready:
        if self.version is None:
            self.version = self._expect(self._read_message(timeout, "start"), Ready)
        return self.version

    def _read_message(self, timeout: float, what: str) -> Message:
        out = self.proc.stdout
        assert out is not None
        line = self._timed(timeout, lambda: out.readline(MAX_HEADER_BYTES + 1))
        if not line.endswith(b"\n"):
            raise _WorkerGone(f"the libav worker stopped during {what} ({self.stderr() or 'no message'})")
        try:
            return decode(line)
        except (KeyError, TypeError, ValueError) as exc:
            raise _WorkerGone(f"the libav worker sent an unreadable reply ({exc})") from exc

    @staticmethod
    def _expect(message: Message, kind: type[_M]) -> _M:
        """`message` when it is a `kind`; a `Refusal` raises `_Refused`, anything else `_WorkerGone`."""
        if isinstance(message, kind):
            return message
        if isinstance(message, Refusal):
            raise _Refused(message.message[:300], message.kind)
        raise _WorkerGone(f"the libav worker sent a {type(message).__name__} where a {kind.__name__} was due")

    def _read_exact(self, size: int, timeout: float) -> bytes:
        out = self.proc.stdout
        assert out is not None
        data = self._timed(timeout, lambda: out.read(size))
        if len(data) != size:
            raise _WorkerGone(f"the libav worker stopped mid-reply ({self.stderr() or 'no message'})")
        return data

    def _timed(self, timeout: float, read: Callable[[], bytes]) -> bytes:
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            self.kill()

        with tools.time_limit(timeout, expire):
            data = read()
        if timed_out.is_set():
            raise _TimedOut(timeout)
        return data

    def sample(
        self,
        req: SampleRequest,
        *,
        timeout: float,
        timeout_for: Callable[[float], float] | None = None,
        container: Callable[[dict[str, Any]], None] | None = None,
    ) -> Sampled:
        limit = [timeout]  # the time limit in force, for the message
        try:
            return self._sample(req, timeout, timeout_for, limit, container)
        except _TimedOut as exc:
            raise _TimedOut(limit[0]) from exc

    def _sample(
        self,
        req: SampleRequest,
        timeout: float,
        timeout_for: Callable[[float], float] | None,
        limit: list[float],
        container: Callable[[dict[str, Any]], None] | None,
    ) -> Sampled:
        deadline = time.monotonic() + timeout
        message = self._ask(req, deadline)
        if isinstance(message, Examined):  # a plan: the limit follows the length found
            if container is not None and message.container is not None:
                container(message.container)
            if timeout_for is not None:
                limit[0] = min(timeout, float(timeout_for(message.examined_s)))
                deadline = min(deadline, time.monotonic() + limit[0])
            message = self._read_message(max(0.001, deadline - time.monotonic()), "decoding")
        reply = self._expect(message, SampleReply)
        count = reply.count
        if count < 0 or count > req.max_frames:
            raise _WorkerGone(f"the libav worker announced {count} frames, more than asked for")
        plan: ChosenPlan | None = None
        if req.plan is not None:  # sizes chosen by the worker (none when nothing decoded)
            plan = reply.plan
            size, colour_size = (plan.size, plan.colour) if plan else (None, None)
            detail_size, asked = (plan.detail, plan.detail_ticks) if plan else (None, ())
            sparse_size = plan.sparse if plan else None
            sparse_every = req.plan.sparse.every if req.plan.sparse is not None else 0
        else:
            size, colour_size = req.size, req.colour
            detail_size, asked = req.detail_size, req.detail_ticks
            sparse_size, sparse_every = req.sparse_size, req.sparse_every
        if not set(reply.detail_ticks) <= set(asked) or (reply.detail_ticks and detail_size is None):
            raise _WorkerGone("the libav worker sent detail frames that were not asked for")
        if count and size is None:
            raise _WorkerGone("the libav worker sent frames without their size")
        if reply.sparse and (sparse_size is None or reply.sparse != (count + sparse_every - 1) // sparse_every):
            raise _WorkerGone("the libav worker sent sparse frames that were not asked for")
        frame_bytes = size[0] * size[1] if size else 0
        colour_bytes = colour_size[0] * colour_size[1] * 3 if colour_size else 0
        grey = self._read_exact(count * frame_bytes, max(0.001, deadline - time.monotonic()))
        colour = None
        if reply.colour and colour_bytes:
            colour = self._read_exact(count * colour_bytes, max(0.001, deadline - time.monotonic()))
        detail = b""
        if reply.detail_ticks and detail_size is not None:
            detail_bytes = len(reply.detail_ticks) * detail_size[0] * detail_size[1]
            detail = self._read_exact(detail_bytes, max(0.001, deadline - time.monotonic()))
        sparse = b""
        if reply.sparse and sparse_size is not None:
            sparse_bytes = reply.sparse * sparse_size[0] * sparse_size[1]
            sparse = self._read_exact(sparse_bytes, max(0.001, deadline - time.monotonic()))
        return Sampled(
            count, grey, colour, reply.errors, reply.last_error, reply.decoded, plan,
            detail, detail_size, reply.detail_ticks, sparse, sparse_size, reply.sparse,
        )  # fmt: skip

    def _ask(self, req: SampleRequest | GrabRequest, deadline: float) -> Message:
        """Send one request; its first reply line."""
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(encode(req))
        stdin.flush()
        return self._read_message(max(0.001, deadline - time.monotonic()), "decoding")

    def grab(self, req: GrabRequest, *, timeout: float) -> list[dict[float, bytes]]:
        deadline = time.monotonic() + timeout
        reply = self._expect(self._ask(req, deadline), GrabReply)
        outputs = [(req.targets, req.size), *req.more]
        answers = [reply.found, *reply.more_found]
        if len(answers) != len(outputs) or any(
            not set(found) <= set(targets) for found, (targets, _) in zip(answers, outputs, strict=True)
        ):
            raise _WorkerGone("the libav worker sent frames for times it was not asked for")
        out = []
        for found, (_, (w, h)) in zip(answers, outputs, strict=True):
            frame_bytes = w * h * 3
            data = self._read_exact(len(found) * frame_bytes, max(0.001, deadline - time.monotonic()))
            out.append({t: data[i * frame_bytes : (i + 1) * frame_bytes] for i, t in enumerate(found)})
        return out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def close(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def _worker_pass_pays(wanted: list[float]) -> bool:
    """`one_pass_pays`, counting from where the worker's pass starts: it seeks to the keyframe before a first
    target deep in the file (`protocol.grab_starts_at`), so a window deep in a long reference is one pass,
    not a seek per frame."""
    start = grab_starts_at(wanted)
    return one_pass_pays([t - start for t in wanted])


class _WorkerGone(Exception):
    """The worker died or broke the protocol."""


class _TimedOut(Exception):
    """The worker was killed at its time limit."""


class _Refused(Exception):
    """The worker could not serve the request (`kind` says why)."""

    def __init__(self, message: str, kind: ErrorKind) -> None:
        super().__init__(message)
        self.kind = kind


_lock = threading.Lock()
_worker: _Worker | None = None
_owner_pid = os.getpid()


def _get() -> _Worker:
    global _worker, _owner_pid
    if _worker is not None and (_owner_pid != os.getpid() or _worker.proc.poll() is not None):
        if _owner_pid == os.getpid():
            _worker.close()
        _worker = None  # a forked child never shares its parent's worker
    if _worker is None:
        _worker, _owner_pid = _Worker(), os.getpid()
    return _worker


def _started() -> _Worker:
    """The worker, once it has said it is ready (with the lock held)."""
    worker = _get()
    try:
        worker.ready(START_TIMEOUT_S)
    except (_WorkerGone, _TimedOut, _Refused, OSError, ValueError) as exc:
        _discard(worker)
        raise ToolMissingError(
            f"the libav decoder worker did not start ({exc}): reinstall PyAV (pip install av) "
            f"or set {DECODER_ENV}=ffmpeg to decode with the ffmpeg command line"
        ) from exc
    return worker


def versions() -> dict[str, str]:
    """PyAV's and libav's versions, as the worker reports them.

    Raises:
        ToolMissingError: the worker does not start.
    """
    with _lock:
        info = _started().ready(START_TIMEOUT_S)
    return {"pyav": info.pyav, "libav": info.libav}


def worker_cpu_seconds() -> float:
    """CPU seconds used so far by this process's live worker (Linux; 0.0 elsewhere or with none).

    A finished child's CPU shows in ``getrusage(RUSAGE_CHILDREN)`` only once it
    has exited and been waited for; benchmarks add this for the live worker.
    """
    worker = _worker
    if worker is None or _owner_pid != os.getpid():
        return 0.0
    try:
        fields = Path(f"/proc/{worker.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # Fields 14 and 15 of proc(5) (utime, stime), counted after the ")" that ends the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sample(
    req: SampleRequest,
    *,
    timeout: float,
    timeout_for: Callable[[float], float] | None = None,
    container: Callable[[dict[str, Any]], None] | None = None,
) -> Sampled:
    """Sample `req.path` in the worker (see worker.py for the sampling rule).

    With a plan (`req.plan`, the file not yet probed) the worker takes the
    display size, rotation and duration from the stream itself and returns
    what it chose in `Sampled.plan`; once it has read the duration the time
    limit becomes ``min(timeout, timeout_for(seconds examined))``, and
    `container` is called with the container as libav read it
    (`worker.container_reading`, ffprobe's JSON shape) before the decode.

    Raises:
        BadInputError: libav cannot open the file or finds no video in it.
        ProcessingError: the time limit passed, or the worker crashed on this file.
        ToolMissingError: the worker does not start.
    """
    got: Sampled = _in_worker(
        req.path, timeout, lambda w: w.sample(req, timeout=timeout, timeout_for=timeout_for, container=container)
    )
    return got


def grab(req: GrabRequest, *, timeout: float) -> list[dict[float, bytes]]:
    """RGB frames (`req.size`, display orientation) for each target time: the first frame shown at or after it.

    One decode to just past the last target (of `req.targets` and of each of `req.more`). Targets with no
    frame (past the end, or undecodable) are missing from the result; one dict per output, `req.targets`' first.

    Raises:
        BadInputError: libav cannot open the file.
        ProcessingError: the time limit passed, or the worker crashed on this file.
        ToolMissingError: the worker does not start.
    """
    found: list[dict[float, bytes]] = _in_worker(req.path, timeout, lambda w: w.grab(req, timeout=timeout))
    return found


def _in_worker(path: str, timeout: float, call: Callable[[_Worker], Any]) -> Any:
    """`call` with the started worker (lock held), its failures turned into the library's errors for `path`."""
    with _lock:
        worker = _started()
        try:
            return call(worker)
        except _Refused as exc:
            if exc.kind is ErrorKind.REQUEST:
                raise ProcessingError(f"{path}: the libav worker refused the request ({exc})") from exc
            if exc.kind is ErrorKind.FAILED:
                raise ProcessingError(
                    f"{path}: the decoder failed on this file ({exc}); the file is damaged or hostile "
                    f"(set {DECODER_ENV}=ffmpeg to try the ffmpeg command line)"
                ) from exc
            raise BadInputError(
                f"{path}: no frame could be decoded ({exc}); the file is damaged or not a video"
            ) from exc
        except _TimedOut as exc:
            _discard(worker)
            limit = float(exc.args[0]) if exc.args else timeout
            raise ProcessingError(
                f"{path}: decoding did not finish within {limit:.0f} s; input refused as too slow to decode"
            ) from exc
        except (_WorkerGone, OSError, ValueError) as exc:
            _discard(worker)
            raise ProcessingError(
                f"{path}: the decoder crashed on this file ({exc}); the file is damaged or hostile "
                f"(set {DECODER_ENV}=ffmpeg to try the ffmpeg command line)"
            ) from exc


def _discard(worker: _Worker) -> None:
    global _worker
    worker.kill()
    worker.close()
    if _worker is worker:
        _worker = None


@atexit.register
def _shutdown() -> None:
    global _worker
    if _worker is not None and _owner_pid == os.getpid():
        try:
            _worker.close()
        except (SystemExit, KeyboardInterrupt):  # a stop signal while closing at exit: kill, do not wait
            _worker.proc.kill()
    _worker = None


@register
class LibavDecoder(Decoder):
    """Samples and grabs in the libav worker; seeking grabs go to the ffmpeg command line."""

    NAME = "libav"
    can_sample_unprobed = True

    def __init__(self) -> None:
        self.seeking = FfmpegDecoder()

    def start(self) -> None:
        """Start the worker process without waiting for it (`provenance frames` imports meanwhile)."""
        with _lock:
            _get()

    def _describe_video(self) -> str:
        v = versions()
        return f"libav {v['libav']} (PyAV {v['pyav']})"

    def _sample_video(self, path: Path | str, job: Job) -> Raw:
        req = SampleRequest(
            path=str(tools.regular_file(path)),
            fps=job.plan.fps,
            max_frames=job.expected,
            format_whitelist=tools.FORMAT_WHITELIST,
            max_pixels=MAX_FRAME_PIXELS,
            decoding=job.plan.decoding,
            size=job.size,
            colour=job.colour_size,
            cap_s=job.duration + 1,
            rotation=job.facts.rotation,
            stream=job.facts.video_stream,
            detail_size=job.detail_size if job.detail_ticks else None,
            detail_ticks=job.detail_ticks,
            sparse_size=job.sparse_size,
            sparse_every=job.plan.sparse.every if job.sparse_size is not None and job.plan.sparse else 0,
        )
        return sample(req, timeout=decode_timeout(job.duration)).raw(job.colour_size)

    def sample_unprobed(
        self, path: Path | str, plan: Plan, *, container: Callable[[dict[str, Any]], None] | None = None
    ) -> Unprobed:
        """Sample a video before ffprobe has described it: the worker takes the display size, rotation and
        duration from the stream itself (`Decoder.sample_unprobed`), and gives `container` its reading of
        the container before it decodes. For `provenance check`, which would otherwise wait for ffprobe
        before decoding.

        Raises:
            BadInputError, ProcessingError: as `Decoder.sample`.
        """
        file = tools.regular_file(path)
        limit = min(plan.max_duration_s, held_by(file.stat().st_size))
        req = SampleRequest(
            path=str(file),
            fps=plan.fps,
            max_frames=int(math.ceil((limit + 1) * plan.fps)) + 2,
            format_whitelist=tools.FORMAT_WHITELIST,
            max_pixels=MAX_FRAME_PIXELS,
            decoding=plan.decoding,
            plan=unprobed_plan(plan, limit),
        )
        got = sample(req, timeout=decode_timeout(limit), timeout_for=decode_timeout, container=container)
        return Unprobed(str(path), plan, got.raw(got.plan.colour if got.plan else None), got.plan)

    def _grab_video(
        self,
        path: Path | str,
        wanted: list[float],
        size: tuple[int, int],
        duration_s: float,
        *,
        stream: int | None = None,
    ) -> list[np.ndarray | None]:
        """The one-pass grab in the worker when that pays (no process start; frames no target needs and
        nothing refers to are skipped); the ffmpeg command line's grab when it does not, or when the worker
        did not find every frame."""
        if _worker_pass_pays(wanted):
            found = self.grab_in_worker(path, wanted, size, duration_s, stream=stream)
            if found is not None:
                return found
        return self.seeking._grab_video(path, wanted, size, duration_s, stream=stream)

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
        """Both sets of frames from one pass in the worker when one pass pays; else each on its own."""
        if _worker_pass_pays(wanted + more):
            got = self._grab_outputs(path, [(wanted, size), (more, more_size)], duration_s, stream=stream)
            if got is not None:
                return got[0], got[1]
        return super()._grab_video_both(path, wanted, size, more, more_size, duration_s, stream=stream)

    def grab_in_worker(
        self,
        path: Path | str,
        wanted: list[float],
        size: tuple[int, int],
        duration_s: float,
        *,
        stream: int | None = None,
    ) -> list[np.ndarray | None] | None:
        """The worker's one pass; None when it did not find every frame, or failed on this file."""
        got = self._grab_outputs(path, [(wanted, size)], duration_s, stream=stream)
        return None if got is None else got[0]

    def _grab_outputs(
        self,
        path: Path | str,
        outputs: Sequence[tuple[list[float], tuple[int, int]]],
        duration_s: float,
        *,
        stream: int | None,
    ) -> list[list[np.ndarray | None]] | None:
        """The worker's one pass for every (times, size) of `outputs`; None when it did not find every frame
        of each, or failed on this file."""
        keys = [tuple(sorted({round(float(t), 6) for t in wanted})) for wanted, _ in outputs]
        try:
            got = grab(
                GrabRequest(
                    path=str(tools.regular_file(path)),
                    targets=keys[0],
                    size=outputs[0][1],
                    format_whitelist=tools.FORMAT_WHITELIST,
                    max_pixels=MAX_FRAME_PIXELS,
                    stream=stream,
                    more=tuple((k, size) for k, (_, size) in zip(keys[1:], outputs[1:], strict=True)),
                ),
                timeout=60 + duration_s,
            )
        except ProvenanceError as exc:
            if exc.exit_code == 3:
                raise
            return None
        out: list[list[np.ndarray | None]] = []
        for found, (wanted, (w, h)) in zip(got, outputs, strict=True):
            frames = {
                t: np.frombuffer(found[round(t, 6)], np.uint8).reshape(h, w, 3) for t in wanted if round(t, 6) in found
            }
            if len(frames) != len(set(wanted)):
                return None
            out.append([frames[t] for t in wanted])
        return out
