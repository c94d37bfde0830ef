"""Decode options for reference ingest: speed on 720p H.264, and what they do to the hashes.

Runs the filter graph `provenance.decode.extract_frames` uses for references
(2 frames/s rounded up, trimmed, area-scaled to 128 px, grey) with different decoder options and
reports, per option: wall time, ffmpeg CPU time (user + sys, the figure that
does not depend on what else the machine runs), footage seconds per CPU
second, and how far the sampled frames' reference hashes move from the dense
decode's (median and 95th percentile Hamming distance, over every stored
variant), since a hash that moves is a match that may be lost.

    python bench/scale/decode.py FILE.mp4 [FILE.mp4 ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from provenance import tools  # noqa: E402
from provenance.decode import work_size  # noqa: E402
from provenance.hashing import hash_reference  # noqa: E402
from provenance.probe import probe  # noqa: E402

REF_FPS = 2.0

#: name -> input options placed before -i.
OPTIONS: dict[str, list[str]] = {
    "dense (current)": [],
    "dense, 1 thread": ["-threads", "1"],
    "skip_frame noref": ["-skip_frame", "noref"],
    "skip_frame noref, 1 thread": ["-skip_frame", "noref", "-threads", "1"],
    "skip_frame bidir, 1 thread": ["-skip_frame", "bidir", "-threads", "1"],
    "skip_loop_filter all, 1 thread": ["-skip_loop_filter", "all", "-threads", "1"],
    "noref + skip_loop_filter, 1 thread": ["-skip_frame", "noref", "-skip_loop_filter", "all", "-threads", "1"],
    "keyframes only (nokey)": ["-skip_frame", "nokey"],
}


def decode(path: Path, pre: list[str]) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(times, grey frames, wall seconds, ffmpeg CPU seconds) with the given input options."""
    facts = probe(path)
    w, h = work_size(*facts.display_size)
    vf = f"fps=fps={REF_FPS}:round=up,trim=duration={facts.duration_s + 1:.3f},scale={w}:{h}:flags=area,format=gray"
    argv = [tools.ffmpeg_path(), "-nostdin", "-hide_banner", "-v", "error", *pre, *tools.input_args(path)]
    argv += ["-vf", vf, "-f", "rawvideo", "-pix_fmt", "gray", "pipe:"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, check=True, timeout=600).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    n = len(out) // (w * h)
    images = np.frombuffer(out[: n * w * h], dtype=np.uint8).reshape(n, h, w)
    return np.arange(n) / REF_FPS, images, wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=3, help="runs per option; the fastest is kept")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    footage = sum(probe(f).duration_s for f in args.files)
    rows = []
    dense: dict[Path, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name, pre in OPTIONS.items():
        walls, cpus, dists = [], [], []
        frames = 0
        for _ in range(args.repeat):
            wall = cpu = 0.0
            for f in args.files:
                times, images, w, c = decode(f, pre)
                wall, cpu = wall + w, cpu + c
                fh = hash_reference(times, images)
                if name == "dense (current)" and f not in dense:
                    dense[f] = (fh.times, fh.variants, fh.hashes)
                ref_t, ref_v, ref_h = dense[f]
                # Compare each hash with the dense decode's hash of the same time and variant.
                if len(fh) and len(ref_t):
                    key = {
                        (round(t, 3), v): h
                        for t, v, h in zip(ref_t.tolist(), ref_v.tolist(), ref_h.tolist(), strict=True)
                    }
                    for t, v, h in zip(fh.times.tolist(), fh.variants.tolist(), fh.hashes.tolist(), strict=True):
                        other = key.get((round(t, 3), v))
                        if other is not None:
                            dists.append((int(h) ^ int(other)).bit_count())
                frames += len(images)
            walls.append(wall)
            cpus.append(cpu)
        d = np.array(dists or [0])
        rows.append(
            {
                "option": name,
                "args": " ".join(pre),
                "wall_s": round(min(walls), 2),
                "cpu_s": round(min(cpus), 2),
                "realtime_x_wall": round(footage / min(walls), 1),
                "realtime_x_per_core": round(footage / min(cpus), 1),
                "frames": frames // args.repeat,
                "hash_moved_median": float(np.median(d)),
                "hash_moved_p95": float(np.percentile(d, 95)),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{footage:.1f} s of footage in {len(args.files)} file(s)\n")
    print("| option | wall s | ffmpeg CPU s | x real time (wall) | x real time per core | hash moved median / p95 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['option']} | {r['wall_s']} | {r['cpu_s']} | {r['realtime_x_wall']} | {r['realtime_x_per_core']} | "
            f"{r['hash_moved_median']:.0f} / {r['hash_moved_p95']:.0f} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"footage_s": footage, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
