#!/usr/bin/env python3
"""End-to-end speed: wall time of the real `provenance check` command on a 10 s 720p H.264 clip.

    python bench/speed.py                                   # builds bench/out/samples.sqlite from samples/refs
    python bench/speed.py --index sqlite:///path/to/index.sqlite --runs 5

The clip is made with ffmpeg from a 1280x720 corpus item of bench/data (the
first 10 s, re-encoded with libx264) into OUT/speed-720p-10s.mp4. Each run is a
fresh process (`provenance check CLIP --index URL --format json`), so the time
includes interpreter start-up, imports, probing, decoding, hashing, matching and
rendering: what a user waits for. One untimed warm-up run comes first (disk
cache). Prints the median of the timed runs and writes OUT/speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIP_SECONDS = 10.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def provenance_command() -> list[str]:
    """The installed console script next to this interpreter, else on PATH, else ``python -m provenance``."""
    beside = Path(sys.executable).with_name("provenance")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("provenance")
    if found:
        return [found]
    return [sys.executable, "-m", "provenance"]


def pick_item(data: Path, item_id: str | None) -> Path:
    manifest = json.loads((data / "manifest.json").read_text())
    fits = [
        i
        for i in manifest["items"]
        if i.get("width") == 1280 and i.get("height") == 720 and float(i["duration"]) >= CLIP_SECONDS
    ]
    if item_id:
        chosen = [i for i in manifest["items"] if i["id"] == item_id]
        if not chosen:
            raise SystemExit(f"--item {item_id}: not in {data / 'manifest.json'}")
        if chosen[0] not in fits:
            raise SystemExit(f"--item {item_id}: not a 1280x720 item of at least {CLIP_SECONDS:.0f} s")
        return data / chosen[0]["path"]
    if not fits:
        raise SystemExit(f"no 1280x720 item of at least {CLIP_SECONDS:.0f} s in {data / 'manifest.json'}")
    return data / fits[0]["path"]


def make_clip(src: Path, dst: Path) -> None:
    argv = [
        "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
        "-i", f"file:{src}", "-t", f"{CLIP_SECONDS:.3f}",
        "-vf", "scale=1280:720,format=yuv420p", "-r", "30",
        "-c:v", "libx264", "-preset", "medium", "-crf", "23", "-threads", "1",
        "-an", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        str(dst),
    ]  # fmt: skip
    subprocess.run(argv, check=True, timeout=600)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,codec_name",
         "-show_entries", "format=duration", "-of", "json", str(dst)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    facts = json.loads(out)
    st = facts["streams"][0]
    dur = float(facts["format"]["duration"])
    if (st["width"], st["height"], st["codec_name"]) != (1280, 720, "h264") or abs(dur - CLIP_SECONDS) > 0.2:
        raise SystemExit(f"{dst}: expected 10 s 1280x720 h264, got {st} {dur:.2f} s")


def build_samples_index(cmd: list[str], url: str, refs: Path) -> None:
    log(f"building {url} from {refs}")
    res = subprocess.run(
        [*cmd, "index", "add", str(refs), "--index", url], capture_output=True, text=True, timeout=1200
    )
    sys.stderr.write(res.stderr[-2000:])
    if res.returncode != 0:
        log(f"warning: 'provenance index add' exited {res.returncode}; continuing with what was indexed")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", help="index URL; default: OUT/samples.sqlite, built from samples/refs when missing")
    ap.add_argument(
        "--data", type=Path, default=ROOT / "bench" / "data", help="data set with 1280x720 items [bench/data]"
    )
    ap.add_argument(
        "--item", default="p-Storm", help="manifest item to cut the clip from [p-Storm]; '' = first that fits"
    )
    ap.add_argument("--clip", type=Path, help="time this clip instead of building one")
    ap.add_argument("--runs", type=int, default=5, help="timed runs [5]")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="output folder [bench/out]")
    args = ap.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    cmd = provenance_command()
    index = args.index
    if index is None:
        db = (args.out / "samples.sqlite").resolve()
        index = f"sqlite:///{db}"
        if not db.exists():
            build_samples_index(cmd, index, ROOT / "samples" / "refs")

    if args.clip is not None:
        clip = args.clip.resolve()
        source = None
    else:
        source = pick_item(args.data.resolve(), args.item or None)
        clip = (args.out / "speed-720p-10s.mp4").resolve()
        make_clip(source, clip)
        log(f"clip {clip} (first {CLIP_SECONDS:.0f} s of {source.name}, re-encoded 1280x720 H.264)")

    argv_check = [*cmd, "check", str(clip), "--index", index, "--format", "json"]
    log("command: " + " ".join(argv_check))

    def children_cpu() -> float:
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return kids.ru_utime + kids.ru_stime

    def once() -> tuple[float, float, int, str]:
        c0, t0 = children_cpu(), time.perf_counter()
        res = subprocess.run(argv_check, capture_output=True, text=True, timeout=600)
        wall, cpu = time.perf_counter() - t0, children_cpu() - c0
        verdict = "?"
        try:
            verdict = json.loads(res.stdout)["verdict"]["code"]
        except (ValueError, KeyError, TypeError):
            verdict = f"no report ({res.stderr.strip().splitlines()[-1:] or ['?']})"
        return wall, cpu, res.returncode, verdict

    load_start = os.getloadavg()[0]
    once()  # warm-up: disk cache, .pyc files
    runs, cpus = [], []
    for k in range(args.runs):
        wall, cpu, rc, verdict = once()
        runs.append(wall)
        cpus.append(cpu)
        log(f"run {k + 1}/{args.runs}: {wall:.2f} s wall, {cpu:.2f} s CPU (exit {rc}, verdict {verdict})")
    med = statistics.median(runs)
    med_cpu = statistics.median(cpus)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "command": argv_check,
        "clip": str(clip),
        "clip_source": str(source) if source else None,
        "index": index,
        "runs_s": [round(r, 3) for r in runs],
        "median_s": round(med, 3),
        "min_s": round(min(runs), 3),
        "max_s": round(max(runs), 3),
        "cpu_s": [round(c, 3) for c in cpus],
        "median_cpu_s": round(med_cpu, 3),
        # other work on the machine inflates wall time (not CPU time): compare with the core count
        "loadavg_start": round(load_start, 2),
        "loadavg_end": round(os.getloadavg()[0], 2),
        "exit_code": rc,
        "verdict": verdict,
    }
    (args.out / "speed.json").write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"provenance check, 10 s 1280x720 H.264 clip: median {med:.2f} s wall over {args.runs} runs "
        f"(min {min(runs):.2f}, max {max(runs):.2f}); median CPU {med_cpu:.2f} s (process and ffmpeg); "
        f"load average {load_start:.1f} on {os.cpu_count()} cores; exit {rc}, verdict {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
