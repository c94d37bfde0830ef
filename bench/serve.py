#!/usr/bin/env python3
"""The desk service against the command line: one clip's wall time, and many clips posted at once.

    python bench/serve.py --runs 7                 # 10 s 720p clip: `provenance check` vs a warm `provenance serve`
    python bench/serve.py --runs 0 --load 20       # 20 uploads at once: all finish, same top reference, memory

The clip is bench/speed.py's (the first 10 s of a 1280x720 corpus item of
bench/data, re-encoded). The index is built from samples/refs with
``provenance index add`` into OUT/serve-samples.sqlite. A ``provenance serve``
subprocess is started on 127.0.0.1 (a free port) with ``--workers N`` and
warmed with one check; then each run times, one after the other, the real
``provenance check CLIP --index URL --format json`` (a fresh process) and the
same clip posted to ``/api/v1/checks`` and long-polled until done (upload,
queue, check and report included). The load test posts `--load` clips at once
(the 720p clip, samples/viral.mp4 and the four sample references, in turn),
waits for all of them, compares each top reference with what
`provenance.pipeline.check` says for that clip, and samples the resident
memory of the server's whole process tree (server, workers, their decoders)
every 0.2 s. Writes OUT/serve.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from speed import build_samples_index, log, make_clip, pick_item, provenance_command  # noqa: E402


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Desk:
    """A `provenance serve` subprocess on a free port."""

    def __init__(self, cmd: list[str], index: str, out: Path, workers: int) -> None:
        self.log = out / "serve.log"
        argv = [*cmd, "serve", "--index", index, "--port", "0", "--workers", str(workers)]
        argv += ["--data", str(out / "serve-data"), "--max-queue", "1000"]
        self.argv = argv
        with open(self.log, "wb") as log_file:
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log_file)
        deadline = time.monotonic() + 180
        while "provenance desk on " not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"serve did not start: {self.log.read_text()}")
            time.sleep(0.1)
        self.url = self.log.read_text().split("provenance desk on ", 1)[1].split()[0].rstrip("/")
        self.client = httpx.Client(base_url=self.url, timeout=600)

    def check(self, clip: Path) -> tuple[float, dict[str, Any]]:
        """Wall time from the start of the upload to the finished status, and that status (with the report)."""
        start = time.perf_counter()
        with open(clip, "rb") as f:
            posted = self.client.post("/api/v1/checks", files={"file": (clip.name, f, "video/mp4")})
        posted.raise_for_status()
        url = posted.json()["url"]
        while True:
            job = self.client.get(url, params={"wait": 50}).json()
            if job["status"] in ("done", "failed"):
                return time.perf_counter() - start, job

    def stop(self) -> None:
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data", help="data set with 1280x720 items")
    ap.add_argument("--item", default="p-Storm", help="manifest item to cut the clip from [p-Storm]")
    ap.add_argument("--runs", type=int, default=7, help="timed pairs (CLI, service) [7]")
    ap.add_argument("--load", type=int, default=0, help="clips posted at once after the timed runs [0]")
    ap.add_argument("--workers", type=int, default=0, help="the service's --workers [0: all cores]")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="output folder [bench/out]")
    args = ap.parse_args(argv)

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    cmd = provenance_command()
    db = out / "serve-samples.sqlite"
    index = f"sqlite:///{db}"
    if not db.exists():
        build_samples_index(cmd, index, ROOT / "samples" / "refs")
    clip = out / "speed-720p-10s.mp4"
    if not clip.exists():
        make_clip(pick_item(args.data.resolve(), args.item), clip)

    desk = Desk(cmd, index, out, args.workers)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "serve": desk.argv,
        "clip": str(clip),
        "loadavg_start": round(os.getloadavg()[0], 2),
    }
    try:
        result["rss_idle_mb"] = round(tree_rss_mb(desk.proc.pid), 1)
        desk.check(clip)  # warm-up: the first check of each worker, the disk cache
        subprocess.run([*cmd, "check", str(clip), "--index", index], capture_output=True, timeout=600)
        cli_runs, serve_runs, verdicts = [], [], set()
        for k in range(args.runs):
            t0 = time.perf_counter()
            res = subprocess.run(
                [*cmd, "check", str(clip), "--index", index, "--format", "json"], capture_output=True, timeout=600
            )
            cli_runs.append(time.perf_counter() - t0)
            cli_verdict = json.loads(res.stdout)["verdict"]["code"]
            wall, job = desk.check(clip)
            serve_runs.append(wall)
            verdicts.add((cli_verdict, job["report"]["verdict"]["code"]))
            log(f"pair {k + 1}/{args.runs}: check {cli_runs[-1]:.2f} s, serve {wall:.2f} s")
        if args.runs:
            cli_med, serve_med = statistics.median(cli_runs), statistics.median(serve_runs)
            result.update(
                cli_runs_s=[round(r, 3) for r in cli_runs],
                serve_runs_s=[round(r, 3) for r in serve_runs],
                cli_median_s=round(cli_med, 3),
                serve_median_s=round(serve_med, 3),
                ratio=round(serve_med / cli_med, 3),
                verdicts=sorted(verdicts),
            )
            print(
                f"10 s 720p clip, {args.runs} pairs: provenance check median {cli_med:.2f} s, warm service "
                f"{serve_med:.2f} s, ratio {serve_med / cli_med:.2f}; verdicts {sorted(verdicts)}"
            )
        if args.load:
            result["load"] = load_test(desk, clip, index, args.load)
    finally:
        result["loadavg_end"] = round(os.getloadavg()[0], 2)
        desk.stop()
    (out / "serve.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


def load_test(desk: Desk, clip: Path, index: str, n: int) -> dict[str, Any]:
    from provenance.pipeline import check

    pool_clips = [clip, ROOT / "samples" / "viral.mp4", *sorted((ROOT / "samples" / "refs").glob("*.mp4"))]
    clips = [pool_clips[k % len(pool_clips)] for k in range(n)]
    expected = {}
    for c in pool_clips:
        report = check(c, index, keyframes=False)
        expected[c] = report.matches[0].reference.sha256 if report.matches else None
    peak = [tree_rss_mb(desk.proc.pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak.append(tree_rss_mb(desk.proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        outcomes = list(pool.map(desk.check, clips))
    total = time.perf_counter() - start
    done.set()
    sampler.join()
    same = sum(
        1
        for c, (_, job) in zip(clips, outcomes, strict=True)
        if job["status"] == "done"
        and ((job["report"]["matches"] or [{}])[0].get("reference", {}).get("sha256") == expected[c])
    )
    statuses = [job["status"] for _, job in outcomes]
    listed = len(desk.client.get("/api/v1/checks", params={"limit": 1000}).json()["checks"])
    summary = {
        "posted": n,
        "done": statuses.count("done"),
        "failed": statuses.count("failed"),
        "same_top_reference_as_check": same,
        "wall_s": round(total, 2),
        "latency_median_s": round(statistics.median(w for w, _ in outcomes), 2),
        "latency_max_s": round(max(w for w, _ in outcomes), 2),
        "rss_peak_mb": round(max(peak), 1),
        "rss_after_mb": round(tree_rss_mb(desk.proc.pid), 1),
        "checks_listed": listed,
    }
    print(
        f"{n} clips posted at once: {summary['done']} done, {summary['failed']} failed, {same} with the same top "
        f"reference as check; all in {total:.1f} s (median latency {summary['latency_median_s']} s); "
        f"peak RSS of the server's process tree {summary['rss_peak_mb']} MB"
    )
    return summary


if __name__ == "__main__":
    sys.exit(main())
