"""Two `provenance index add` processes at once over overlapping folders, against one process.

Makes (once, cached in /tmp) 30 short 720p30 H.264 clips of 6-10 s, from the
bench/data items (scaled, looped where short) or, without them, from lavfi
sources. Then, `--repeat` times, alternately into fresh indexes:

- **one**: one process over all 30 clips (``--jobs``, default every core);
- **pair**: folder A (clips 0-19) and folder B (copies of clips 10-29) added
  by two processes started together, each with the same ``--jobs``; ten
  files are met by both.

For each run: wall time until every process has finished, CPU time of all
their process trees, footage stored (each distinct file once) per wall
second, whether every file is stored exactly once, and how many times files
were probed (a probe opens each file that is about to be decoded: 30 means
no file was decoded twice). The load average at the start says how busy
the machine was.

    python bench/scale/ingest_pair.py --repeat 3 --out bench/scale/ingest_pair.json
    python bench/scale/ingest_pair.py --postgres postgresql://postgres@127.0.0.1:55432/postgres
    python bench/scale/ingest_pair.py --code . /path/to/another/checkout   # both, in turn
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale.ingest_rate import rates  # noqa: E402

ITEMS = [ROOT / "bench" / "data" / "items", Path("/work/main/bench/data/items")]
WORK = Path("/tmp/provenance-scale-pair")
CLIPS = 30
#: Sources when bench/data is absent (each clip starts elsewhere in its source, so every file differs).
LAVFI = [
    "testsrc2=s=1280x720:r=30",
    "mandelbrot=s=1280x720:r=30",
    "life=s=640x360:mold=10:r=30:ratio=0.5",
    "cellauto=rule=110:s=640x360:r=30",
    "testsrc=s=1280x720:r=30",
]


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args], check=True, timeout=600)


def clips() -> list[Path]:
    """The 30 clips, made once: 1280x720, 30 fps, x264 medium CRF 23, 6-10 s, no audio."""
    folder = WORK / "clips"
    folder.mkdir(parents=True, exist_ok=True)
    items = next((sorted(d.glob("*.mp4")) for d in ITEMS if d.is_dir() and any(d.glob("*.mp4"))), [])
    out = []
    for n in range(CLIPS):
        path = folder / f"clip{n:02d}.mp4"
        seconds = 6 + n % 5
        if not path.exists():
            if items:
                source = ["-stream_loop", "-1", "-ss", f"{(n // len(items)) * 3}", "-i", str(items[n % len(items)])]
            else:
                source = ["-f", "lavfi", "-ss", str(n), "-i", LAVFI[n % len(LAVFI)]]
            _ffmpeg(
                *source,
                "-t",
                str(seconds),
                "-vf",
                "scale=1280:720,setsar=1,fps=30",
                "-c:v",
                "libx264",
                "-preset",
                "medium",
                "-crf",
                "23",
                "-bf",
                "3",
                "-pix_fmt",
                "yuv420p",
                "-an",
                "-movflags",
                "+faststart",
                str(path),
            )
        out.append(path)
    return out


def _folder(root: Path, name: str, files: list[Path]) -> Path:
    folder = root / name
    folder.mkdir()
    for f in files:
        try:
            os.link(f, folder / f.name)
        except OSError:
            shutil.copy(f, folder / f.name)
    return folder


def probe_counter(root: Path) -> tuple[Path, Path]:
    """An ffprobe that notes each media file it is asked about (a line per probe), then runs the real one.

    A probe opens each file that is about to be decoded, so the log counts decodes.

    Returns:
        (the wrapper, for ``PROVENANCE_FFPROBE``; its log).
    """
    real = shutil.which("ffprobe")
    if real is None:
        sys.exit("ffprobe not found")
    log = root / "probed.log"
    wrapper = root / "ffprobe"
    wrapper.write_text(
        f'#!/bin/sh\nfor a in "$@"; do case "$a" in *.mp4) echo "$a" >> "{log}";; esac; done\nexec "{real}" "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper, log


def _fresh_index(root: Path, postgres: str | None) -> tuple[str, Any]:
    """A URL of an empty index and a function that drops it."""
    if postgres is None:
        return f"sqlite:///{root / 'index.sqlite'}", lambda: None
    import psycopg

    name = f"provenance_pair_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = postgres.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with psycopg.connect(postgres, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def _stored(url: str) -> tuple[int, int, float]:
    """(references, distinct SHA-256, footage seconds) in the index."""
    from provenance.index import open_index

    with open_index(url) as idx:
        refs = idx.references()
    return len(refs), len({r.sha256 for r in refs}), sum(r.duration_s for r in refs)


def _commit(code: Path) -> str:
    done = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or str(code)


def run(kind: str, folders: list[Path], jobs: int, postgres: str | None, code: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pair-") as tmp:
        root = Path(tmp)
        url, drop = _fresh_index(root, postgres)
        try:
            # -P: the checkout on PYTHONPATH, not the current folder, provides provenance.
            env = {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"}
            env.pop("PROVENANCE_DEBUG", None)
            wrapper, log = probe_counter(root)
            env["PROVENANCE_FFPROBE"] = str(wrapper)
            subprocess.run(
                [
                    sys.executable,
                    "-P",
                    "-c",
                    f"from provenance.index import open_index; open_index({url!r}, create=True).close()",
                ],
                env=env,
                check=True,
            )
            load = os.getloadavg()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-P",
                        "-m",
                        "provenance",
                        "index",
                        "add",
                        str(f),
                        "--index",
                        url,
                        "-j",
                        str(jobs),
                        "-q",
                        "--format",
                        "json",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                )
                for f in folders
            ]
            outputs = [p.communicate(timeout=3600) for p in procs]
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            for p, (_, err) in zip(procs, outputs, strict=True):
                if p.returncode != 0:
                    sys.exit(f"index add failed ({p.returncode}): {err}")
            results = [json.loads(out) for out, _ in outputs]
            refs, distinct, footage = _stored(url)
            probed = len(log.read_text().split()) if log.exists() else 0
        finally:
            drop()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "run": kind,
        "code": _commit(code),
        "backend": "postgresql" if postgres else "sqlite",
        "processes": len(folders),
        "jobs": jobs,
        "files_given": sum(len(r["items"]) for r in results),
        "added": [r["added"] for r in results],
        "present": [r["present"] for r in results],
        "added_by_others": [r.get("added_by_others", 0) for r in results],
        "stored": refs,
        "stored_once": refs == distinct == CLIPS,
        "probed": probed,
        **rates(footage, wall, cpu, load),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)), help="--jobs of each process")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--postgres", metavar="URL", help="a server where this may create and drop databases")
    ap.add_argument("--out", type=Path, help="append the rows to this JSON file")
    ap.add_argument(
        "--code",
        type=Path,
        nargs="+",
        default=[ROOT],
        help="checkouts whose provenance runs, in turn (to compare commits)",
    )
    args = ap.parse_args()
    files = clips()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pair-folders-", dir=WORK) as tmp:
        root = Path(tmp)
        everything = _folder(root, "all", files)
        a, b = _folder(root, "a", files[:20]), _folder(root, "b", files[10:])
        for _ in range(args.repeat):
            for code in args.code:
                for kind, folders in (("one", [everything]), ("pair", [a, b])):
                    row = run(kind, folders, args.jobs, args.postgres, code.resolve())
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    for code in sorted({r["code"] for r in rows}):
        for kind in ("one", "pair"):
            rates = [r["realtime_x_wall"] for r in rows if r["run"] == kind and r["code"] == code]
            print(f"{code} {kind}: median {statistics.median(rates)}x real time (wall), runs {rates}", file=sys.stderr)
    if args.out:
        old = json.loads(args.out.read_text()) if args.out.exists() else []
        args.out.write_text(json.dumps(old + rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
