"""What the sound costs: `index add` with and without a sound track, `check` with and without fpcalc.

    PYTHONPATH=$PWD nice -n 10 python bench/sound_speed.py --out /tmp/sound-speed [--items bench/data/items]

Builds a 58 s reference (corpus item p-Dune looped, 1280x720 H.264, with a
seeded tune as AAC sound) and the same file without sound, and an 8 s 360p
excerpt with mono 64 kb/s sound; then times, interleaved, `provenance index
add` of each (a fresh index each run, the console command) and `check` of the
excerpt in one process with fpcalc and with `PROVENANCE_FPCALC` pointing
nowhere (the query's sound is then not fingerprinted), and the fingerprint
alone. Prints each run and the best and median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sound_media import melody, write_wav  # noqa: E402

from provenance import check  # noqa: E402
from provenance.audio import fingerprint_sound  # noqa: E402
from provenance.probe import probe  # noqa: E402


def ff(*args: object) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, args)], check=True, timeout=600)


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--items", type=Path, default=Path(__file__).resolve().parent / "data" / "items")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    tune = write_wav(out / "tune.wav", melody(7, 60.0))
    ref, mute, query = out / "ref.mp4", out / "ref_mute.mp4", out / "query.mp4"
    ff("-stream_loop", 3, "-i", args.items / "p-Dune.mp4", "-i", tune, "-map", "0:v", "-map", "1:a", "-t", 58,
       "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-b:a", "128k", ref)  # fmt: skip
    ff("-i", ref, "-an", "-c", "copy", mute)
    ff("-ss", 20, "-t", 8, "-i", ref, "-vf", "scale=-2:360", "-c:v", "libx264", "-preset", "veryfast",
       "-c:a", "aac", "-b:a", "64k", "-ac", 1, query)  # fmt: skip
    cli = [sys.executable, "-m", "provenance"]
    times: dict[str, list[float]] = {k: [] for k in ("add_sound", "add_mute", "check_sound", "check_no_fpcalc")}
    index = f"sqlite:///{out / 'index.sqlite'}"
    subprocess.run([*cli, "index", "add", "-q", "--index", index, ref], check=True, capture_output=True)
    check(query, index=index, keyframes=False)  # warm the decoder's worker
    for _ in range(args.runs):
        os.environ.pop("PROVENANCE_FPCALC", None)
        for name, path in (("add_sound", ref), ("add_mute", mute)):
            db = Path(tempfile.mkdtemp()) / "i.sqlite"
            cmd = [*cli, "index", "add", "-q", "--index", str(db), str(path)]
            times[name].append(timed(lambda cmd=cmd: subprocess.run(cmd, check=True, capture_output=True)))
        times["check_sound"].append(timed(lambda: check(query, index=index, keyframes=False)))
        os.environ["PROVENANCE_FPCALC"] = "/nonexistent/fpcalc"
        times["check_no_fpcalc"].append(timed(lambda: check(query, index=index, keyframes=False)))
    os.environ.pop("PROVENANCE_FPCALC", None)
    facts = probe(query)
    times["fingerprint"] = [timed(lambda: fingerprint_sound(query, facts)) for _ in range(args.runs)]
    for name, values in times.items():
        runs = " ".join(f"{v:.2f}" for v in values)
        print(f"{name}: {runs}  best {min(values):.2f}  median {statistics.median(values):.2f}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
