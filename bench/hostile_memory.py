"""Peak memory of the commands the issue 24 sweep found unbounded (docs/security.md, "Memory").

Builds each input in a temporary folder, runs the command as a real process
and samples the resident memory of its whole process tree (the command, its
decoder worker, ffmpeg) every 20 ms; prints one Markdown table row per case::

    python bench/hostile_memory.py            # every case
    python bench/hostile_memory.py frames-10h # one case
    PROVENANCE_TARGET=/work/main python bench/hostile_memory.py   # the code of another checkout

Cases: ``frames-10h`` (``provenance frames`` on a 1 MB file declaring 10
hours), ``report-empty-objects`` (``provenance report`` on the largest file
of empty objects it reads), ``report-long-string`` (one string as large as
the limit allows) and ``report-too-many`` (just over the value limit: refused).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
#: The checkout whose code runs the commands (another worktree to measure the code before a change).
TARGET = Path(os.environ.get("PROVENANCE_TARGET", ROOT))

from provenance.report import MAX_REPORT_BYTES, MAX_REPORT_ITEMS  # noqa: E402


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants now."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry)] = int(line.split()[1]) * 1024
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += rss.get(pid, 0)
        todo += [c for c, p in parents.items() if p == pid]
    return total


def peak(argv: list[str]) -> tuple[int, float, int, str]:
    """(exit code, seconds, peak bytes of the process tree, last stderr line) of a command."""
    start = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(TARGET)},
        cwd=TARGET,  # `python -m` puts the working folder first on the import path
    )
    top = 0
    while proc.poll() is None:
        top = max(top, _tree_rss(proc.pid))
        time.sleep(0.02)
    err = proc.stderr.read().decode("utf-8", "replace").strip().splitlines() if proc.stderr else []
    return proc.returncode, time.monotonic() - start, top, (err[-1] if err else "")[:90]


def make(case: str, folder: Path) -> list[str]:
    cli = [sys.executable, "-m", "provenance"]
    if case == "frames-10h":
        clip = folder / "ten_hours.mp4"
        # one detailed frame every 6 minutes for 10 hours: about 1 MB
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=1/360:d=36000",
             "-c:v", "libx264", "-preset", "ultrafast", "-g", "1", str(clip)],
            check=True,
        )  # fmt: skip
        return [*cli, "frames", str(clip), "-o", str(folder / "shots")]
    if case == "report-empty-objects":
        path = folder / "empty_objects.json"
        count = min(MAX_REPORT_ITEMS // 2 - 1, (MAX_REPORT_BYTES - 2) // 3)
        path.write_bytes(b"[" + b"{}," * count + b"{}]")
        return [*cli, "report", str(path)]
    if case == "report-too-many":
        path = folder / "too_many.json"
        path.write_bytes(b"[" + b"{}," * (MAX_REPORT_ITEMS // 2 + 1) + b"{}]")
        return [*cli, "report", str(path)]
    if case == "report-long-string":
        path = folder / "long_string.json"
        path.write_bytes(b'{"schema": "' + b"x" * (MAX_REPORT_BYTES - 20) + b'"}')
        return [*cli, "report", str(path)]
    raise SystemExit(f"unknown case {case!r}")


CASES = ("frames-10h", "report-empty-objects", "report-too-many", "report-long-string")


def main() -> None:
    wanted = sys.argv[1:] or list(CASES)
    print("| case | input | exit | seconds | peak memory (process tree) | last stderr line |")
    print("|---|---|---|---|---|---|")
    for case in wanted:
        with tempfile.TemporaryDirectory(prefix="hostile-memory-") as tmp:
            argv = make(case, Path(tmp))
            size = sum(p.stat().st_size for p in Path(tmp).iterdir() if p.is_file())
            code, seconds, top, last = peak(argv)
            print(f"| {case} | {size / 1e6:.1f} MB | {code} | {seconds:.1f} | {top / 2**20:.0f} MiB | {last} |")


if __name__ == "__main__":
    main()
