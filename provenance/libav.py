"""Frame sampling with libav in a long-lived worker process (PyAV).

`frames.extract_frames` samples video through this module when PyAV is
installed (the default), and through the ffmpeg command line otherwise or
when ``PROVENANCE_DECODER=ffmpeg``. Both read the file with the same
libavformat/libavcodec confinement; the worker saves what every ffmpeg run
pays before it reads a byte (~0.06 s CPU, most of it the dynamic linker
loading Debian's 215 shared libraries) and, with `skip_unsampled`, the
frames that are no sample and that nothing refers to (docs/benchmark.md,
"Time per query")::

    >>> from provenance import libav
    >>> libav.available()
    True

The worker (provenance/libav_worker.py) is started on first use and kept for
the life of the process; it runs with its address space capped at
`WORKER_MEMORY_BYTES`, each request under a wall-clock limit after which the
worker is killed (and a new one started for the next request), and a crash
costs only the request that caused it.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BadInputError, ProcessingError, ToolMissingError

#: Environment variable choosing the decoder: ``libav`` (PyAV worker, the
#: default when PyAV is installed) or ``ffmpeg`` (one ffmpeg run per file).
DECODER_ENV = "PROVENANCE_DECODER"
#: Address-space cap of the worker, bytes. Decoding a 720p clip here it peaks
#: at 0.35 GB (Python, numpy, libav, three threads); the rest is room for up to
#: 16 decoder threads with their stacks and malloc arenas on a many-core
#: machine, and for the reference pictures of an 8192x8192 stream (~100 MB each).
WORKER_MEMORY_BYTES = 6 << 30
#: Longest wait for a new worker's first line, seconds.
START_TIMEOUT_S = 60.0
#: Longest reply header accepted, bytes.
MAX_HEADER_BYTES = 65_536
#: Most of the worker's stderr kept (what explains a crash).
STDERR_TAIL_BYTES = 16_384

_WORKER_SCRIPT = Path(__file__).with_name("libav_worker.py")


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
    #: Without a probe (`sample(size=None, plan=...)`): what the worker read from the
    #: stream and chose (display size, sizes, examined and declared seconds, rotation).
    plan: dict[str, Any] | None = None


def _pair(value: Any) -> tuple[int, int] | None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    w, h = int(value[0]), int(value[1])
    return (w, h) if w > 0 and h > 0 else None


def available() -> bool:
    """Whether frames are sampled by the libav worker (PyAV installed, not turned off)."""
    choice = os.environ.get(DECODER_ENV, "").strip().lower()
    if choice == "ffmpeg":
        return False
    if choice not in ("", "libav"):
        raise BadInputError(f"{DECODER_ENV}={choice!r} is not a decoder: set it to 'libav' or 'ffmpeg', or unset it")
    return importlib.util.find_spec("av") is not None


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
        self.version: dict[str, Any] | None = None

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

    def ready(self, timeout: float) -> dict[str, Any]:
        if self.version is None:
            self.version = self._read_header(timeout, "start")
        return self.version

    def _read_header(self, timeout: float, what: str) -> dict[str, Any]:
        out = self.proc.stdout
        assert out is not None
        line = self._timed(timeout, lambda: out.readline(MAX_HEADER_BYTES + 1))
        if not line.endswith(b"\n"):
            raise _WorkerGone(f"the libav worker stopped during {what} ({self.stderr() or 'no message'})")
        header = json.loads(line)
        if not isinstance(header, dict):
            raise _WorkerGone("the libav worker sent an unreadable reply")
        return header

    def _read_exact(self, size: int, timeout: float) -> bytes:
        out = self.proc.stdout
        assert out is not None
        data = self._timed(timeout, lambda: out.read(size))
        if len(data) != size:
            raise _WorkerGone(f"the libav worker stopped mid-reply ({self.stderr() or 'no message'})")
        return data

    def _timed(self, timeout: float, read: Any) -> bytes:
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            self.kill()

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            data: bytes = read()
        finally:
            timer.cancel()
        if timed_out.is_set():
            raise _TimedOut(timeout)
        return data

    def request(self, req: dict[str, Any], *, timeout: float, timeout_for: Any = None) -> Sampled:
        limit = [timeout]  # the time limit in force, for the message
        try:
            return self._request(req, timeout, timeout_for, limit)
        except _TimedOut as exc:
            raise _TimedOut(limit[0]) from exc

    def _request(self, req: dict[str, Any], timeout: float, timeout_for: Any, limit: list[float]) -> Sampled:
        import time

        deadline = time.monotonic() + timeout
        header = self._ask(req, deadline)
        if "examined_s" in header and "ok" not in header:  # plan mode: the limit follows the length found
            if timeout_for is not None:
                limit[0] = min(timeout, float(timeout_for(float(header["examined_s"]))))
                deadline = min(deadline, time.monotonic() + limit[0])
            header = self._read_header(max(0.001, deadline - time.monotonic()), "decoding")
        _refused(header)
        count = int(header["count"])
        if count < 0 or count > int(req["max_frames"]):
            raise _WorkerGone(f"the libav worker announced {count} frames, more than asked for")
        plan: dict[str, Any] | None = None
        if req.get("plan") is not None:  # sizes chosen by the worker (none when nothing decoded)
            plan = header["plan"] if isinstance(header.get("plan"), dict) else None
            size, colour_size = (_pair(plan.get("size")), _pair(plan.get("colour"))) if plan else (None, None)
        else:
            size, colour_size = (int(req["width"]), int(req["height"])), _pair(req.get("colour"))
        if count and size is None:
            raise _WorkerGone("the libav worker sent frames without their size")
        frame_bytes = size[0] * size[1] if size else 0
        colour_bytes = colour_size[0] * colour_size[1] * 3 if colour_size else 0
        grey = self._read_exact(count * frame_bytes, max(0.001, deadline - time.monotonic()))
        colour = None
        if header.get("colour") and colour_bytes:
            colour = self._read_exact(count * colour_bytes, max(0.001, deadline - time.monotonic()))
        return Sampled(
            count,
            grey,
            colour,
            int(header.get("errors", 0)),
            str(header.get("last_error", "")),
            int(header.get("decoded", 0)),
            plan,
        )

    def _ask(self, req: dict[str, Any], deadline: float) -> dict[str, Any]:
        """Send one request; its first reply line."""
        import time

        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(json.dumps(req).encode() + b"\n")
        stdin.flush()
        return self._read_header(max(0.001, deadline - time.monotonic()), "decoding")

    def grab(self, req: dict[str, Any], *, timeout: float) -> dict[float, bytes]:
        import time

        deadline = time.monotonic() + timeout
        header = self._ask(req, deadline)
        _refused(header)
        found = [float(t) for t in header.get("found", [])]
        if not set(found) <= set(req["targets"]):
            raise _WorkerGone("the libav worker sent frames for times it was not asked for")
        frame_bytes = int(req["width"]) * int(req["height"]) * 3
        data = self._read_exact(len(found) * frame_bytes, max(0.001, deadline - time.monotonic()))
        return {t: data[i * frame_bytes : (i + 1) * frame_bytes] for i, t in enumerate(found)}

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


def _refused(header: dict[str, Any]) -> None:
    """Raise `_Refused` for a reply that says the worker could not do the request."""
    if not header.get("ok"):
        raise _Refused(str(header.get("message", "unknown error"))[:300], str(header.get("kind", "")))


class _WorkerGone(Exception):
    """The worker died or broke the protocol."""


class _TimedOut(Exception):
    """The worker was killed at its time limit."""


class _Refused(Exception):
    """The worker could not read the file."""

    def __init__(self, message: str, kind: str) -> None:
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
    except (_WorkerGone, _TimedOut, OSError, ValueError) as exc:
        _discard(worker)
        raise ToolMissingError(
            f"the libav decoder worker did not start ({exc}): reinstall PyAV (pip install av) "
            f"or set {DECODER_ENV}=ffmpeg to decode with the ffmpeg command line"
        ) from exc
    return worker


def versions() -> dict[str, Any]:
    """PyAV's and libav's versions, as the worker reports them."""
    with _lock:
        info = _started().ready(START_TIMEOUT_S)
    return {"pyav": info.get("pyav"), "libav": info.get("libav")}


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
    path: Path,
    *,
    fps: float,
    size: tuple[int, int] | None,
    cap_s: float,
    max_frames: int,
    rotation: float,
    decoding: Any,
    format_whitelist: str,
    max_pixels: int,
    colour_size: tuple[int, int] | None,
    timeout: float,
    plan: dict[str, Any] | None = None,
    timeout_for: Callable[[float], float] | None = None,
) -> Sampled:
    """Sample `path` in the worker (see libav_worker.py for the sampling rule).

    With `size` None the file has not been probed: `plan` gives ``long_side``,
    ``colour_long_side`` (or None), ``colour_max_s`` and ``limit_s`` (most
    seconds examined), and the worker takes the display size, rotation and
    duration from the stream itself and returns what it chose in
    `Sampled.plan`; `cap_s` and `rotation` are then unused, and once the
    worker has read the duration the time limit becomes
    ``min(timeout, timeout_for(seconds examined))``.

    Raises:
        BadInputError: libav cannot open the file or finds no video in it.
        ProcessingError: the time limit passed, or the worker crashed on this file.
    """
    w, h = size if size is not None else (None, None)
    req = {
        "path": str(path),
        "fps": fps,
        "width": w,
        "height": h,
        "plan": plan if size is None else None,
        "cap_s": cap_s,
        "max_frames": max_frames,
        "rotation": rotation,
        "skip_frame": decoding.skip_frame,
        "threads": decoding.threads,
        "skip_loop_filter": decoding.skip_loop_filter,
        "skip_unsampled": decoding.skip_unsampled,
        "format_whitelist": format_whitelist,
        "max_pixels": max_pixels,
        "colour": list(colour_size) if colour_size else None,
    }
    if size is None and plan is None:
        raise ValueError("sample() needs a size or a plan")
    return _in_worker(path, timeout, lambda worker: worker.request(req, timeout=timeout, timeout_for=timeout_for))


def _in_worker(path: Path, timeout: float, call: Callable[[_Worker], Any]) -> Any:
    """`call` with the started worker (lock held), its failures turned into the library's errors for `path`."""
    with _lock:
        worker = _started()
        try:
            return call(worker)
        except _Refused as exc:
            if exc.kind == "request":
                raise ProcessingError(f"{path}: the libav worker refused the request ({exc})") from exc
            if exc.kind == "failed":
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


def grab(
    path: Path,
    targets: list[float],
    *,
    size: tuple[int, int],
    format_whitelist: str,
    max_pixels: int,
    timeout: float,
) -> dict[float, bytes]:
    """RGB frames (``size``, display orientation) for each target time: the first frame shown at or after it.

    One decode from the start to just past the last target. Targets with no
    frame (past the end, or undecodable) are missing from the result.

    Raises:
        BadInputError: libav cannot open the file.
        ProcessingError: the time limit passed, or the worker crashed on this file.
    """
    w, h = size
    req = {
        "op": "grab",
        "path": str(path),
        "targets": sorted({round(float(t), 6) for t in targets}),
        "width": w,
        "height": h,
        "format_whitelist": format_whitelist,
        "max_pixels": max_pixels,
    }
    found: dict[float, bytes] = _in_worker(path, timeout, lambda worker: worker.grab(req, timeout=timeout))
    return found


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
        _worker.close()
    _worker = None
