"""Stage external tools: find ffmpeg and ffprobe, record their versions, run them safely.

This module and the decode stage (`provenance.decode`, whose libav decoder
keeps a worker process) are the only code that starts a process. Every call
gets an argument list (never a shell string), a wall-clock limit, bounded
output, and input options that confine it to the one local file it is given::

    from provenance import tools
    out = tools.run_ffprobe(["-show_format", *tools.input_args(path)], timeout=30)

Confinement (DESIGN.md, "External tools"): ``-protocol_whitelist file`` alone still lets
an HLS playlist or ffconcat list renamed ``.mp4`` open the other local files
it names, so every input also gets ``-format_whitelist`` with media container
demuxers only, and the path is passed as ``file:PATH`` so a name starting
with ``-`` is never read as an option. ``-max_pixels`` caps the frame a
decoder may allocate. tests/test_hostile_media.py verifies each of these
with real ffmpeg (a canary named pipe shows a playlist cannot open it).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInputError, ProcessingError, ToolMissingError

#: Demuxers ffmpeg may use on an input. Playlists (hls), concat lists,
#: image2 patterns, subtitles and raw protocols are deliberately absent.
MEDIA_DEMUXERS = (
    "mov,mp4,m4a,3gp,3g2,mj2",
    "matroska,webm",
    "avi",
    "mpegts",
    "flv",
    "asf",
    "mpeg",
    "ogg",
    "mp3",
    "aac",
    "wav",
    "flac",
)
#: `MEDIA_DEMUXERS` as ffmpeg's ``-format_whitelist`` (and the libav worker's ``format_whitelist``) takes them.
FORMAT_WHITELIST = ",".join(MEDIA_DEMUXERS)

#: Largest frame a decoder may allocate, in pixels (passed as ``-max_pixels``,
#: so a stream that lies about its size in the header is still stopped).
MAX_FRAME_PIXELS = 8192 * 8192
#: Default wall-clock limit for one ffprobe call, seconds.
PROBE_TIMEOUT_S = 30.0
#: Most of stderr kept from a tool (the tail is what explains a failure).
STDERR_TAIL_BYTES = 16_384

_INSTALL_HINT = "install ffmpeg (apt-get install ffmpeg) or set {var} to its path"
_FPCALC_HINT = "install Chromaprint's fpcalc (apt-get install libchromaprint-tools) or set {var} to its path"


@dataclass(frozen=True)
class ToolResult:
    """What a finished tool call left: its exit code, stdout and stderr's tail."""

    returncode: int
    stdout: bytes
    stderr: str


def _find(name: str, var: str, hint: str = _INSTALL_HINT) -> str:
    override = os.environ.get(var)
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise ToolMissingError(f"{var}={override!r} is not an executable file: fix {var} or unset it")
        return override
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(f"{name} not found on PATH: " + hint.format(var=var))
    return found


def ffmpeg_path() -> str:
    """Path of the ffmpeg binary (``PROVENANCE_FFMPEG`` or PATH).

    Raises:
        ToolMissingError: when it cannot be found.
    """
    return _find("ffmpeg", "PROVENANCE_FFMPEG")


def ffprobe_path() -> str:
    """Path of the ffprobe binary (``PROVENANCE_FFPROBE`` or PATH).

    Raises:
        ToolMissingError: when it cannot be found.
    """
    return _find("ffprobe", "PROVENANCE_FFPROBE")


def fpcalc_path() -> str:
    """Path of Chromaprint's fpcalc (``PROVENANCE_FPCALC`` or PATH), which fingerprints sound.

    Raises:
        ToolMissingError: when it cannot be found (the message gives the install line).
    """
    return _find("fpcalc", "PROVENANCE_FPCALC", _FPCALC_HINT)


@functools.lru_cache(maxsize=4)
def _version_of(binary: str) -> str:
    result = run([binary, "-hide_banner", "-version"], timeout=15, max_stdout=65_536)
    first = result.stdout.decode("utf-8", "replace").splitlines()[:1]
    match = re.search(r"version\s+(\S+)", first[0]) if first else None
    return match.group(1) if match else "unknown"


def ffmpeg_version() -> str:
    """The version string ffmpeg reports, e.g. ``5.1.6-0+deb12u1``."""
    return _version_of(ffmpeg_path())


def regular_file(path: Path | str) -> Path:
    """`path` resolved, once it is known to be an existing regular file.

    Raises:
        BadInputError: when it is not (a directory, a named pipe, a device, missing).
    """
    resolved = Path(path).resolve()
    if not resolved.is_file():
        raise BadInputError(f"{path}: not a regular file; give the path of a downloaded clip")
    return resolved


def input_args(path: Path | str, *, seek_s: float | None = None) -> list[str]:
    """The input options that confine ffmpeg/ffprobe to one local regular file.

    Args:
        path: the file; it is resolved and must be a regular file.
        seek_s: optional input seek in seconds.

    Returns:
        ``[... "-i", "file:/abs/path"]`` ready to append to a command.

    Raises:
        BadInputError: when the path is not an existing regular file.
    """
    resolved = regular_file(path)
    args = ["-protocol_whitelist", "file", "-format_whitelist", FORMAT_WHITELIST]
    args += ["-max_pixels", str(MAX_FRAME_PIXELS)]
    if seek_s is not None:
        args += ["-ss", f"{seek_s:.3f}"]
    return [*args, "-i", f"file:{resolved}"]


@contextmanager
def time_limit(seconds: float, expire: Callable[[], None]) -> Iterator[None]:
    """Call `expire` (on a timer thread) if the block is still running after `seconds`.

    The timer is a daemon thread, and it is cancelled however the block
    ends, even when a stop signal (Ctrl-C, SIGTERM) lands while the timer is
    being started: a live non-daemon timer would hold the interpreter's exit
    for the whole time limit after the command had said "interrupted".
    """
    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    try:
        timer.start()
        yield
    finally:
        timer.cancel()


def run(argv: list[str], *, timeout: float, max_stdout: int) -> ToolResult:
    """Run an already-built argument list with a time limit and bounded stdout.

    Args:
        argv: the full command, tool path first.
        timeout: wall-clock limit in seconds; the process is killed after it.
        max_stdout: most bytes of stdout accepted; more kills the process.

    Returns:
        The exit code, stdout and the tail of stderr. A non-zero exit code is
        not an error here: callers decide what it means for their input.

    Raises:
        ToolMissingError: the binary cannot be started.
        ProcessingError: the time limit or the output bound was exceeded.
    """
    name = Path(argv[0]).name
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise ToolMissingError(f"{argv[0]} could not be started ({exc.strerror}): install ffmpeg") from exc
    except PermissionError as exc:
        raise ToolMissingError(f"{argv[0]} is not executable: check the file's permissions") from exc
    try:
        return _collect(proc, name, timeout=timeout, max_stdout=max_stdout)
    finally:  # a stop signal anywhere above leaves no tool running
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _collect(proc: subprocess.Popen[bytes], name: str, *, timeout: float, max_stdout: int) -> ToolResult:
    """`run`'s reading of a started process: stdout bounded, the stderr tail kept, the time limit kept."""
    stdout, stderr_pipe = proc.stdout, proc.stderr
    assert stdout is not None and stderr_pipe is not None
    tail: deque[bytes] = deque()
    tail_size = 0

    def drain_stderr() -> None:
        nonlocal tail_size
        try:
            for chunk in iter(lambda: stderr_pipe.read(4096), b""):
                tail.append(chunk)
                tail_size += len(chunk)
                while tail_size > STDERR_TAIL_BYTES and len(tail) > 1:
                    tail_size -= len(tail.popleft())
        except (ValueError, OSError):
            # The pipe was closed under it: the run is being torn down (a stop signal landed in
            # `_collect`'s clean-up, or the interpreter is exiting); there is nothing left to keep.
            return

    timed_out = threading.Event()

    def on_timeout() -> None:
        timed_out.set()
        proc.kill()

    reader = threading.Thread(target=drain_stderr, daemon=True)
    chunks: list[bytes] = []
    size = 0
    overflow = False
    try:
        reader.start()
        with time_limit(timeout, on_timeout):
            for chunk in iter(lambda: stdout.read(1 << 20), b""):
                size += len(chunk)
                if size > max_stdout:
                    overflow = True
                    proc.kill()
                    break
                chunks.append(chunk)
            proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stdout.close()
        try:
            if reader.ident is not None:  # (not when a stop signal came before it started)
                reader.join(timeout=5)
        finally:  # a stop signal in the join still closes the pipe (its reader then ends quietly)
            stderr_pipe.close()
    if overflow:
        raise ProcessingError(f"{name} produced more than {max_stdout} bytes of output; input refused as too large")
    if timed_out.is_set():
        raise ProcessingError(f"{name} did not finish within {timeout:.0f} s; input refused as too slow to decode")
    return ToolResult(proc.returncode, b"".join(chunks), b"".join(tail).decode("utf-8", "replace"))


def run_ffprobe(args: list[str], *, timeout: float = PROBE_TIMEOUT_S, max_stdout: int = 8 << 20) -> ToolResult:
    """Run ffprobe quietly with the given arguments (see `run`)."""
    return run([ffprobe_path(), "-hide_banner", "-v", "error", *args], timeout=timeout, max_stdout=max_stdout)


def run_ffmpeg(args: list[str], *, timeout: float, max_stdout: int) -> ToolResult:
    """Run ffmpeg quietly with the given arguments (see `run`)."""
    return run(
        [ffmpeg_path(), "-nostdin", "-hide_banner", "-v", "error", *args], timeout=timeout, max_stdout=max_stdout
    )


def run_fpcalc(raw_pcm: Path, *, rate: int, timeout: float, max_stdout: int) -> ToolResult:
    """Fingerprint raw sound with Chromaprint's fpcalc (``-raw``: one 32-bit item per step).

    fpcalc opens its input with its own libavformat, which the options that
    confine ffmpeg cannot reach; so it is only ever given raw PCM that a
    confined ffmpeg call wrote to a temporary file (`audio.fingerprint_sound`),
    read with the ``s16le`` demuxer forced: a file that names other files is
    never opened by it.

    Args:
        raw_pcm: signed 16-bit little-endian mono samples, a file this process wrote.
        rate: their sample rate in Hz.
        timeout: wall-clock limit in seconds.
        max_stdout: most bytes of output accepted.

    Returns:
        fpcalc's result (`run`).

    Raises:
        ToolMissingError: fpcalc is missing.
        ProcessingError: the time limit or the output bound was exceeded.
    """
    argv = [fpcalc_path(), "-raw", "-length", "0", "-format", "s16le", "-rate", str(rate), "-channels", "1"]
    return run([*argv, f"file:{Path(raw_pcm).resolve()}"], timeout=timeout, max_stdout=max_stdout)
