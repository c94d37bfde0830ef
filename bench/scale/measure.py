"""Search time, size on disk and peak memory of `check` on filled indexes (bench/scale/fill.py).

For each index URL given, and each 30 s query clip (made here with ffmpeg
from bench/data items, so they are rebuildable):

- **search**: the time `provenance.pipeline.check` spends in
  `match.find_matches` (candidate lookup through the chunk indexes, voting,
  alignment against the candidate references' stored hashes), and within it
  in `Index.lookup`; median of `--repeat` runs, wall clock and CPU time
  (this process's, plus for PostgreSQL the serving backend process's, read
  from /proc): the CPU figure does not depend on other load on the machine;
- **size**: `Index.stats()["bytes_on_disk"]`;
- **peak memory**: the maximum resident set size of a fresh process that runs
  one whole `check` of the copy query (ffmpeg's own, separate, is reported too).

    python bench/scale/measure.py sqlite:////tmp/scale/10M.sqlite postgresql://.../scale10m --out bench/scale/results.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORK = Path("/tmp/provenance-scale-queries")
ITEMS = ROOT / "bench" / "data" / "items"


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args], check=True, timeout=900)


def queries() -> dict[str, Path]:
    """The 30 s query clips, made once: an exact copy, an edited copy and unrelated footage."""
    WORK.mkdir(parents=True, exist_ok=True)
    copy = WORK / "copy30.mp4"
    if not copy.exists():
        parts = [ITEMS / n for n in ("p-Aqua.mp4", "p-Storm.mp4", "v-tree-2.mp4")]
        chains = "".join(f"[{i}:v]scale=1280:720,setsar=1,fps=30[v{i}];" for i in range(len(parts)))
        joined = "".join(f"[v{i}]" for i in range(len(parts)))
        inputs = [a for p in parts for a in ("-i", str(p))]
        _ffmpeg(
            *inputs,
            "-filter_complex",
            f"{chains}{joined}concat=n={len(parts)}:v=1[v]",
            "-map",
            "[v]",
            "-t",
            "30",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            str(copy),
        )
    edited = WORK / "edited30.mp4"
    if not edited.exists():
        _ffmpeg(
            "-i",
            str(copy),
            "-vf",
            "hflip,crop=iw*0.85:ih*0.85,scale=640:360",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-b:v",
            "400k",
            str(edited),
        )
    unrelated = WORK / "unrelated30.mp4"
    if not unrelated.exists():
        _ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "mandelbrot=size=1280x720:rate=30",
            "-t",
            "30",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            str(unrelated),
        )
    return {"copy": copy, "edited copy": edited, "unrelated": unrelated}


def _server_cpu(idx: Any) -> float:
    """CPU seconds used so far by the PostgreSQL backend processes serving `idx` (same machine), else 0."""
    import os

    conns = [getattr(idx, "conn", None), *getattr(idx, "_readers", [])]
    total = 0.0
    for conn in conns:
        pid = getattr(getattr(conn, "info", None), "backend_pid", None)
        if pid is None or not hasattr(conn, "pgconn"):
            continue
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def search_times(url: str, clips: dict[str, Path], repeat: int) -> list[dict[str, Any]]:
    from provenance import match as match_mod
    from provenance import pipeline
    from provenance.index import open_index

    rows = []
    with open_index(url) as idx:
        stats = idx.stats()
        timings: dict[str, list[float]] = {}
        orig_find = match_mod.find_matches
        orig_lookup = idx.lookup
        seen: dict[str, Any] = {}

        def timed_find(*a: Any, **k: Any) -> Any:
            t, c = time.perf_counter(), time.process_time() + _server_cpu(idx)
            out = orig_find(*a, **k)
            timings.setdefault("search_wall", []).append(time.perf_counter() - t)
            timings.setdefault("search_cpu", []).append(time.process_time() + _server_cpu(idx) - c)
            return out

        def timed_lookup(hashes: Any, max_distance: int) -> Any:
            t, c = time.perf_counter(), time.process_time() + _server_cpu(idx)
            out = orig_lookup(hashes, max_distance)
            timings.setdefault("lookup_wall", []).append(time.perf_counter() - t)
            timings.setdefault("lookup_cpu", []).append(time.process_time() + _server_cpu(idx) - c)
            seen["query_hashes"], seen["candidates"] = len(hashes), len(out)
            return out

        match_mod.find_matches = timed_find  # type: ignore[assignment]
        idx.lookup = timed_lookup  # type: ignore[method-assign]
        try:
            for name, clip in clips.items():
                timings.clear()
                verdict = None
                for _ in range(repeat):
                    report = pipeline.check(clip, index=idx, keyframes=False)
                    verdict = report.verdict.code
                row = {
                    "backend": stats["backend"],
                    "hashes": stats["hashes"],
                    "references": stats["references"],
                    "bytes_on_disk": stats["bytes_on_disk"],
                    "query": name,
                    "query_hashes": seen.get("query_hashes"),
                    "candidates": seen.get("candidates"),
                    "verdict": verdict,
                    "matches": [m.reference.path.rsplit("/", 1)[-1] for m in report.matches],
                }
                for key, values in timings.items():
                    row[f"{key}_ms"] = round(1000 * statistics.median(values), 1)
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            match_mod.find_matches = orig_find  # type: ignore[assignment]
    return rows


_PEAK = """
import resource, sys
from provenance.pipeline import check
check(sys.argv[1], index=sys.argv[2], keyframes=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_memory(url: str, clip: Path) -> dict[str, Any]:
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, str(clip), url], capture_output=True, text=True, check=True, cwd=ROOT, timeout=900
    )
    self_kb, child_kb = (int(x) for x in out.stdout.split()[-2:])
    return {
        "check_wall_s": round(time.perf_counter() - t, 2),
        "peak_rss_mb": round(self_kb / 1024, 1),
        "ffmpeg_peak_rss_mb": round(child_kb / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("urls", nargs="+")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = ap.parse_args()
    clips = queries()
    existing = json.loads(args.out.read_text()) if args.out.exists() else {"runs": []}
    for url in args.urls:
        rows = search_times(url, clips, args.repeat)
        peak = peak_memory(url, clips["copy"])
        for row in rows:
            row.update(peak)
            row["url"] = url.split("@")[-1]
        load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
        existing["runs"] = [r for r in existing["runs"] if not (r["url"] == rows[0]["url"])]
        existing["runs"].extend({**r, "load_average": load} for r in rows)
        existing["machine"] = {"cpus": 2, "platform": platform.platform(), "python": platform.python_version()}
        existing["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        args.out.write_text(json.dumps(existing, indent=1) + "\n")
        print(json.dumps(peak), flush=True)


if __name__ == "__main__":
    main()
