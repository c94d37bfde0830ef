"""Stage tools: finding ffmpeg/ffprobe, running them bounded, confining them to one file."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from provenance import tools
from provenance.decode import extract_frames
from provenance.errors import BadInputError, ProcessingError, ToolMissingError
from provenance.probe import probe


@pytest.fixture(scope="module")
def hls_playlist_as_mp4(media_dir: Path) -> Path:
    """An HLS playlist named .mp4 that points at another local video (seg.ts).

    Unconfined, ffmpeg follows it and decodes the other file (DESIGN.md, "External tools").
    """
    seg = media_dir / "seg.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "2"]
        + ["-c:v", "libx264", "-f", "mpegts", str(seg)],
        check=True,
    )
    out = media_dir / "playlist.mp4"
    out.write_text(
        f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{seg}\n#EXT-X-ENDLIST\n", encoding="utf-8"
    )
    return out


@pytest.fixture(scope="module")
def concat_list_as_mp4(media_dir: Path, testsrc_clip: Path) -> Path:
    """An ffconcat list named .mp4 naming a clip in the same folder (a relative, 'safe' name)."""
    out = media_dir / "concat.mp4"
    out.write_text(f"ffconcat version 1.0\nfile '{testsrc_clip.name}'\n", encoding="utf-8")
    return out


def test_finds_ffmpeg_and_ffprobe() -> None:
    assert Path(tools.ffmpeg_path()).name == "ffmpeg"
    assert Path(tools.ffprobe_path()).name == "ffprobe"
    assert re.match(r"\d+\.\d+", tools.ffmpeg_version())


def test_environment_override_must_be_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROVENANCE_FFPROBE", str(tmp_path / "nope" / "ffprobe"))
    with pytest.raises(ToolMissingError, match="PROVENANCE_FFPROBE") as info:
        tools.ffprobe_path()
    assert info.value.exit_code == 3
    real = shutil.which("ffmpeg")
    assert real is not None
    monkeypatch.setenv("PROVENANCE_FFMPEG", real)
    assert tools.ffmpeg_path() == real


def test_missing_from_path_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PROVENANCE_FFMPEG", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError) as info:
        tools.ffmpeg_path()
    message = str(info.value)
    assert "ffmpeg not found on PATH" in message
    assert "apt-get install ffmpeg" in message and "PROVENANCE_FFMPEG" in message


def test_input_args_confine_to_one_file(testsrc_clip: Path) -> None:
    args = tools.input_args(testsrc_clip)
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    allowed = args[args.index("-format_whitelist") + 1].split(",")
    assert "mov" in allowed and "matroska" in allowed
    assert not {"hls", "concat", "image2", "tee", "lavfi"} & set(allowed)
    assert args[-2:] == ["-i", f"file:{testsrc_clip.resolve()}"]
    assert "-ss" in tools.input_args(testsrc_clip, seek_s=1.5)


def test_input_args_refuse_what_is_not_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a regular file"):
        tools.input_args(tmp_path)
    with pytest.raises(BadInputError):
        tools.input_args(tmp_path / "missing.mp4")


def test_a_name_starting_with_dash_is_never_an_option(tmp_path: Path, testsrc_clip: Path) -> None:
    odd = tmp_path / "-y.mp4"
    shutil.copy(testsrc_clip, odd)
    facts = probe(odd)
    assert facts.width == 320
    assert len(extract_frames(odd, fps=2.0, facts=facts)) >= 7


def test_hls_playlist_renamed_mp4_is_refused(hls_playlist_as_mp4: Path) -> None:
    with pytest.raises(BadInputError) as info:
        probe(hls_playlist_as_mp4)
    assert str(hls_playlist_as_mp4) in str(info.value) and info.value.exit_code == 2


def test_concat_list_renamed_mp4_is_refused(concat_list_as_mp4: Path) -> None:
    with pytest.raises(BadInputError) as info:
        probe(concat_list_as_mp4)
    assert str(concat_list_as_mp4) in str(info.value) and info.value.exit_code == 2


def test_run_returns_code_stdout_and_stderr_tail() -> None:
    code = "import sys; sys.stdout.write('out'); sys.stderr.write('x' * 100000 + 'END'); sys.exit(3)"
    result = tools.run([sys.executable, "-c", code], timeout=30, max_stdout=100)
    assert result.returncode == 3
    assert result.stdout == b"out"
    assert result.stderr.endswith("END")
    assert len(result.stderr) <= tools.STDERR_TAIL_BYTES + 4096


def test_run_kills_a_process_past_its_time_limit() -> None:
    with pytest.raises(ProcessingError, match="did not finish within"):
        tools.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5, max_stdout=100)


def test_run_kills_a_process_past_its_output_bound() -> None:
    code = "import sys\nwhile True: sys.stdout.write('x' * 65536)"
    with pytest.raises(ProcessingError, match="more than 1000 bytes"):
        tools.run([sys.executable, "-c", code], timeout=30, max_stdout=1000)


def test_a_stderr_pipe_closed_under_its_reader_prints_no_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stop signal in `run`'s clean-up, or the interpreter's exit, can close the stderr pipe while
    # its reader thread still reads: that thread ends quietly (it had printed "Exception in thread
    # ... ValueError: read of closed file" after `index add -j 2` was interrupted).
    crashed: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(args.exc_value))
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdout.write('out'); sys.stderr.write('err')"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pipe = proc.stderr
    assert pipe is not None

    class ClosedAfterOneRead:
        reads = 0

        def read(self, n: int) -> bytes:
            self.reads += 1
            if self.reads > 1:
                raise ValueError("read of closed file")
            return pipe.read(n)

        def close(self) -> None:
            pipe.close()

    proc.stderr = ClosedAfterOneRead()  # type: ignore[assignment]
    result = tools._collect(proc, "python", timeout=30, max_stdout=100)
    assert result.stdout == b"out"
    assert crashed == []


def test_run_reports_a_binary_that_cannot_start(tmp_path: Path) -> None:
    with pytest.raises(ToolMissingError):
        tools.run([str(tmp_path / "no-such-binary")], timeout=5, max_stdout=10)
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    with pytest.raises(ToolMissingError, match="not executable"):
        tools.run([str(script)], timeout=5, max_stdout=10)


def test_only_tools_and_decode_start_processes_or_load_libav() -> None:
    # DESIGN.md: only tools.py and decode/ start processes; only decode/ opens a media stream for pixels.
    package = Path(__file__).resolve().parent.parent / "provenance"
    starts, loads_av = set(), set()
    for source in package.rglob("*.py"):
        name = source.relative_to(package).as_posix()
        text = source.read_text()
        if re.search(r"^\s*(import subprocess|from subprocess import)", text, re.MULTILINE):
            starts.add(name)
        if re.search(r"^\s*(import av\b|from av\b)", text, re.MULTILINE):
            loads_av.add(name)
    assert starts and all(n == "tools.py" or n.startswith("decode/") for n in starts), starts
    assert loads_av and all(n.startswith("decode/") for n in loads_av), loads_av


_STOPPED_WHILE_TIMING = """
import os, signal, sys, threading, time
from provenance import tools

start = threading.Timer.start

def start_then_stop(self):
    start(self)
    raise KeyboardInterrupt  # Ctrl-C or SIGTERM landing while the timer thread starts

def limited():
    with tools.time_limit(600, lambda: None):
        pass

threading.Timer.start = start_then_stop
began = time.monotonic()
try:
    {call}
except KeyboardInterrupt:
    print(f"interrupted after {{time.monotonic() - began:.1f}} s", flush=True)
"""


@pytest.mark.parametrize(
    "call",
    [
        "tools.run([sys.executable, '-c', 'import time; time.sleep(600)'], timeout=600, max_stdout=1000)",
        "limited()",
    ],
    ids=["run", "time_limit"],
)
def test_a_stop_signal_while_a_time_limit_starts_does_not_hold_the_exit(call: str) -> None:
    """The timer of a 600 s limit, started just as the command is stopped, neither runs on nor keeps the process alive."""
    script = _STOPPED_WHILE_TIMING.format(call=call)
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("interrupted after"), done
    assert time.monotonic() - began < 60, "the process outlived its work by the time limit"
