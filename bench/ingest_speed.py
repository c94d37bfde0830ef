"""Reference ingest's speed: where `index add`'s CPU goes, and code trees against each other, interleaved.

Five commands; CPU seconds count this process, its children (ffprobe,
ffmpeg, fpcalc) and the libav worker, so they hold on a shared machine
where wall times do not. The rate "x real time" is footage seconds per CPU
second times `CORES` (what an idle machine of that many cores would do).

    # per stage, this tree's code (a 2-minute 720p clip with sound made first, see docs/benchmark.md)
    PYTHONPATH=$PWD nice -n 10 python bench/ingest_speed.py stages /tmp/ref120.mp4 --runs 3
    # `provenance index add` (the console command, one file at a time, a fresh index each run) with
    # each tree's code in turn, `--rounds` times; the median of each
    nice -n 10 python bench/ingest_speed.py add --code /work/main --code . --rounds 3 /tmp/ref120.mp4
    # `provenance check` of excerpts with sound against the same excerpts without (-an)
    PYTHONPATH=$PWD nice -n 10 python bench/ingest_speed.py check --out /tmp/check-sound --rounds 3
    # `provenance check` of the same clips with each tree in turn
    nice -n 10 python bench/ingest_speed.py checks --code /work/main --code . --index sqlite:///I.sqlite CLIP...
    # whether two indexes (say, one folder added by each tree) hold the same rows, table by table
    python bench/ingest_speed.py rows /tmp/main.sqlite /tmp/new.sqlite

The `check` command builds its own material: `--refs` references of 30 s
(bench/data items looped, 1280x720 H.264, each with a seeded tune of
tests/sound_media.py as AAC sound), indexed once, and an 8 s 360p excerpt of
each with mono 64 kb/s sound, and the same excerpt with ``-an``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: Cores of the machine the rate is given for (footage seconds per CPU second times this).
CORES = 2
ITEMS = ROOT / "bench" / "data" / "items"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu() -> float:
    """CPU seconds of this process, its finished children and the live libav worker."""
    from provenance.decode import libav

    return time.process_time() + _children_cpu() + libav.worker_cpu_seconds()


def _duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    try:
        return float(out)
    except ValueError:
        return 0.0


def _media(paths: list[str]) -> list[Path]:
    from provenance.ingest import iter_media

    return [p for p, problem in iter_media(paths) if problem is None]


def stages(args: argparse.Namespace) -> None:
    """Each stage of `ingest.prepare_file` run alone on one file, its CPU seconds; the median of `--runs`."""
    from provenance import features as features_mod
    from provenance import query as query_mod
    from provenance.audio import fingerprint_sound
    from provenance.camera import describe_motion
    from provenance.decode import choose_decoder
    from provenance.hashing import hash_reference
    from provenance.index import open_index
    from provenance.ingest import prepare_file
    from provenance.probe import probe

    path = Path(args.file)
    decoder = choose_decoder()
    decoder.describe()  # start the worker before anything is counted
    seconds = _duration(path)
    runs: dict[str, list[float]] = {}

    def timed(name: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        before = _cpu()
        value = call(*args, **kwargs)
        runs.setdefault(name, []).append(_cpu() - before)
        return value

    reference = query_mod.Role.REFERENCE
    for _ in range(args.runs):
        facts = timed("probe (ffprobe)", probe, path)
        plan = query_mod.plan_for(reference)
        sampled = timed("picture decode for the hashes (libav worker)", decoder.sample, path, plan, facts)
        timed("perceptual hashes", hash_reference, sampled.times, sampled.images)
        timed("camera motion (from the hashes' samples)", describe_motion, sampled.times, sampled.images)
        sparse = getattr(sampled, "sparse", None)
        if sparse is None:
            own = "features' own picture decode (libav worker)"
            frames = timed(own, query_mod.sample_for_features, path, facts, role=reference, decoder=decoder)
            times, images = frames.times, frames.images
        else:
            times, images = sampled.sparse_times, sparse
        timed(
            "features: ORB descriptors",
            features_mod.describe,
            times,
            images,
            long_side=features_mod.REF_LONG_SIDE,
            n_features=features_mod.REF_FEATURES,
        )
        timed("sound: PCM decode, Chromaprint, landmarks", fingerprint_sound, path, facts)
        prepared = timed("prepare_file, whole (all the above)", prepare_file, path, decoder=decoder)
        with tempfile.TemporaryDirectory() as tmp:
            index = open_index(f"sqlite:///{tmp}/i.sqlite", create=True)
            try:
                timed(
                    "store (SQLite, one transaction)",
                    index.add,
                    prepared.reference,
                    prepared.hashes,
                    facts=prepared.facts,
                    features=prepared.features,
                    sound=prepared.sound,
                )
            finally:
                index.close()
    whole = statistics.median(runs["prepare_file, whole (all the above)"])
    print(f"{path} ({seconds:.1f} s), {args.runs} runs, load average {os.getloadavg()[0]:.1f}")
    print("| stage | CPU s (median) | runs | share of prepare_file |")
    print("|---|---|---|---|")
    for name, values in runs.items():
        median = statistics.median(values)
        share = f"{100 * median / whole:.0f}%" if "whole" not in name else "100%"
        print(f"| {name} | {median:.2f} | {' '.join(f'{v:.2f}' for v in values)} | {share} |")
    print(f"prepare_file: {seconds / whole:.1f}x real time per core, {CORES * seconds / whole:.1f}x on {CORES} cores")


def _timed_run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s of the whole process tree) of one command, run from a folder of its own: ``python -m``
    puts the working folder before PYTHONPATH, so run from a checkout it would import that checkout's code."""
    cpu0, wall0 = _children_cpu(), time.perf_counter()
    with tempfile.TemporaryDirectory() as away:
        subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=3600, cwd=away)
    return time.perf_counter() - wall0, _children_cpu() - cpu0


def _env(code: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(code).resolve())
    return env


def add(args: argparse.Namespace) -> None:
    """`provenance index add --jobs 1` of the given files or folders with each `--code` tree in turn."""
    files = _media(args.paths)
    footage = sum(_duration(p) for p in files)
    results: dict[str, list[tuple[float, float]]] = {code: [] for code in args.code}
    for n in range(args.rounds):
        for code in args.code:
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [sys.executable, "-m", "provenance", "index", "add", "-q", "--jobs", "1"]
                cmd += ["--index", f"sqlite:///{tmp}/i.sqlite", *(str(Path(p).resolve()) for p in args.paths)]
                wall, cpu = _timed_run(cmd, _env(code))
            results[code].append((wall, cpu))
            print(f"round {n + 1} {code}: wall {wall:.2f} s, CPU {cpu:.2f} s", flush=True)
    print(f"{len(files)} files, {footage:.1f} s of footage, load average {os.getloadavg()[0]:.1f}")
    print(
        "| code | wall s (median) | CPU s (median) | x real time, wall | x real time, footage / CPU x 2 | runs (wall/CPU) |"
    )
    print("|---|---|---|---|---|---|")
    for code, values in results.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        each = ", ".join(f"{w:.1f}/{c:.1f}" for w, c in values)
        print(f"| {code} | {wall:.2f} | {cpu:.2f} | {footage / wall:.1f} | {CORES * footage / cpu:.1f} | {each} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"footage_s": footage, "runs": results}, indent=1))


def _ff(*argv: object) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, argv)], check=True, timeout=600)


def check_material(out: Path, refs: int) -> tuple[list[Path], list[tuple[Path, Path]]]:
    """References with sound, and (excerpt with sound, the same without) pairs, made once."""
    sys.path.insert(0, str(ROOT / "tests"))
    from sound_media import melody, write_wav

    items = sorted(ITEMS.glob("p-*.mp4"))[:refs]
    out.mkdir(parents=True, exist_ok=True)
    references, pairs = [], []
    for n, item in enumerate(items):
        ref = out / f"ref{n:02d}.mp4"
        loud, mute = out / f"q{n:02d}_sound.mp4", out / f"q{n:02d}_mute.mp4"
        if not ref.exists():
            tune = write_wav(out / f"tune{n:02d}.wav", melody(100 + n, 30.0))
            _ff("-stream_loop", -1, "-i", item, "-i", tune, "-map", "0:v", "-map", "1:a", "-t", 30,
                "-vf", "scale=1280:720", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-b:a", "128k",
                ref)  # fmt: skip
            _ff("-ss", 10, "-t", 8, "-i", ref, "-vf", "scale=-2:360", "-c:v", "libx264", "-preset", "veryfast",
                "-c:a", "aac", "-b:a", "64k", "-ac", 1, loud)  # fmt: skip
            _ff("-i", loud, "-an", "-c", "copy", mute)
        references.append(ref)
        pairs.append((loud, mute))
    return references, pairs


def check_cmd(args: argparse.Namespace) -> None:
    """`provenance check` (the console command) of each excerpt with sound, then without, `--rounds` times."""
    out = Path(args.out).resolve()
    references, pairs = check_material(out, args.refs)
    index = out / "index.sqlite"
    env = _env(args.code)
    if not index.exists():
        cmd = [sys.executable, "-m", "provenance", "index", "add", "-q", "--index", f"sqlite:///{index}"]
        _timed_run([*cmd, *map(str, references)], env)
    cpu: dict[str, list[float]] = {"sound": [], "mute": []}
    wall: dict[str, list[float]] = {"sound": [], "mute": []}
    for n in range(args.rounds):
        for loud, mute in pairs:
            for kind, clip in (("sound", loud), ("mute", mute)):
                cmd = [sys.executable, "-m", "provenance", "check", "--index", f"sqlite:///{index}"]
                cmd += ["--format", "json", "-o", str(out / f"{clip.stem}.json"), str(clip)]
                w, c = _timed_run(cmd, env)
                cpu[kind].append(c)
                wall[kind].append(w)
        print(f"round {n + 1}: CPU with sound {sum(cpu['sound'][-len(pairs):]):.2f} s, "
              f"without {sum(cpu['mute'][-len(pairs):]):.2f} s", flush=True)  # fmt: skip
    print(f"{len(pairs)} excerpts x {args.rounds} rounds, load average {os.getloadavg()[0]:.1f}")
    print("| excerpts | CPU s per check, median | mean | wall s per check, median |")
    print("|---|---|---|---|")
    for kind in ("sound", "mute"):
        print(f"| {'with sound' if kind == 'sound' else 'without (-an)'} | {statistics.median(cpu[kind]):.2f} | "
              f"{statistics.mean(cpu[kind]):.2f} | {statistics.median(wall[kind]):.2f} |")  # fmt: skip
    growth = statistics.median(cpu["sound"]) / statistics.median(cpu["mute"]) - 1
    print(f"CPU growth with sound, medians: {100 * growth:+.0f}%")


def checks(args: argparse.Namespace) -> None:
    """`provenance check` of the given clips against one index with each `--code` tree in turn, `--rounds` times."""
    clips = [str(Path(c).resolve()) for c in args.clips]
    cpu: dict[str, list[float]] = {code: [] for code in args.code}
    for n in range(args.rounds):
        for code in args.code:
            total = 0.0
            with tempfile.TemporaryDirectory() as tmp:
                for clip in clips:
                    cmd = [sys.executable, "-m", "provenance", "check", "--index", args.index, "--format", "json"]
                    total += _timed_run([*cmd, "-o", f"{tmp}/report.json", clip], _env(code))[1]
            cpu[code].append(total / len(clips))
            print(f"round {n + 1} {code}: CPU {total / len(clips):.2f} s per check", flush=True)
    for code, values in cpu.items():
        print(
            f"{code}: median CPU {statistics.median(values):.2f} s per check ({', '.join(f'{v:.2f}' for v in values)})"
        )


#: Columns that say when, by whom or under which random id rows were written, not what they hold.
UNCOMPARED = {"added_at", "created_at", "index_id", "owner", "token", "heartbeat_at", "claimed_at"}


def rows(args: argparse.Namespace) -> None:
    """Whether two SQLite indexes hold the same rows in every table (what each file's ingest stored)."""
    import sqlite3

    def dump(path: str) -> dict[str, list[str]]:
        con = sqlite3.connect(path)
        out = {}
        for (name,) in con.execute("select name from sqlite_master where type = 'table' order by name"):
            cols = [r[1] for r in con.execute(f"pragma table_info('{name}')") if r[1] not in UNCOMPARED]
            picked = ", ".join(f'"{c}"' for c in cols)
            found = con.execute(f"select {picked} from '{name}'").fetchall()
            if name == "meta":  # its id and creation time are the index's own
                found = [r for r in found if r[0] not in UNCOMPARED]
            out[name] = sorted(repr(r) for r in found)
        con.close()
        return out

    a, b = dump(args.a), dump(args.b)
    same = True
    for name in sorted(set(a) | set(b)):
        equal = a.get(name) == b.get(name)
        same &= equal
        print(f"{name}: {len(a.get(name, []))} / {len(b.get(name, []))} rows, {'same' if equal else 'DIFFERENT'}")
    print("every table holds the same rows" if same else "the indexes differ")
    if not same:
        raise SystemExit(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    one = sub.add_parser("stages", help="per stage CPU of one file's ingest")
    one.add_argument("file")
    one.add_argument("--runs", type=int, default=3)
    many = sub.add_parser("add", help="index add with each code tree in turn")
    many.add_argument("paths", nargs="+")
    many.add_argument("--code", action="append", required=True, help="a checkout's root (its provenance/ is used)")
    many.add_argument("--rounds", type=int, default=3)
    many.add_argument("--json", help="also write the runs here")
    chk = sub.add_parser("check", help="check with sound against without")
    chk.add_argument("--out", required=True)
    chk.add_argument("--refs", type=int, default=6)
    chk.add_argument("--rounds", type=int, default=3)
    chk.add_argument("--code", default=str(ROOT))
    several = sub.add_parser("checks", help="check of the same clips with each code tree in turn")
    several.add_argument("clips", nargs="+")
    several.add_argument("--index", required=True, help="the index URL every check uses")
    several.add_argument("--code", action="append", required=True)
    several.add_argument("--rounds", type=int, default=3)
    same = sub.add_parser("rows", help="whether two SQLite indexes hold the same rows")
    same.add_argument("a")
    same.add_argument("b")
    args = ap.parse_args()
    {"stages": stages, "add": add, "check": check_cmd, "checks": checks, "rows": rows}[args.command](args)


if __name__ == "__main__":
    main()
