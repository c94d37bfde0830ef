"""Reference ingest rate of `provenance index add`: minutes of footage per wall-clock minute.

Runs the real command on the given files or folders into a fresh SQLite
index, with ``--jobs`` workers, and reports wall time, the CPU time of the
whole process tree (provenance, its workers and their ffmpeg), and the
footage added. On a busy machine wall time says little; footage per CPU
second times the number of cores is the rate an otherwise idle machine gets.

    python bench/scale/ingest_rate.py bench/data/items /tmp/scale/ingest720.mp4 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "rate.sqlite"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = os.getloadavg()
        t0 = time.perf_counter()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "provenance",
                "index",
                "add",
                *args.paths,
                "--index",
                str(index),
                "-j",
                str(args.jobs),
                "-q",
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = json.loads(out.stdout)
    footage = sum(i["reference"]["duration_s"] for i in result["items"] if i["status"] == "added")
    row = {"files": result["added"], "failed": result["failed"], "jobs": args.jobs, **rates(footage, wall, cpu, load)}
    print(json.dumps(row))


def rates(footage: float, wall: float, cpu: float, load: tuple[float, ...]) -> dict[str, Any]:
    """Footage per wall second, and per CPU second of the whole process tree times the cores
    (what an otherwise idle machine would do), with the load average the run started at."""
    cores = len(os.sched_getaffinity(0))
    return {
        "footage_s": round(footage, 1),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "realtime_x_wall": round(footage / wall, 1),
        "realtime_x_idle_machine": round(footage / cpu * cores, 1),
        "cores": cores,
        "load_average_at_start": [round(x, 1) for x in load],
    }


if __name__ == "__main__":
    main()
