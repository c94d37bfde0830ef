#!/usr/bin/env python3
"""What the verify stage adds to `provenance check`: each query checked with it and with it skipped, interleaved.

    PYTHONPATH=$PWD python bench/verify_time.py --data bench/data --index sqlite:///IDX --rounds 2 q001,q008,q015
    python bench/verify_time.py --code /work/main --code . --data bench/data --index sqlite:///IDX q001,q008

Each check runs `provenance.check` in a fresh process; "skipped" replaces
`pipeline._verified` by one that returns the matches as found (so the
features channel's segments are not held back either: a timing, not a
result). CPU counts the process and its children (the libav worker, which
exits with it). The order of the two (and of the `--code` trees) alternates by
round; a first round warms the disk cache and is dropped; the medians of the
rounds are printed, a table per tree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

CODE = """
import sys
from provenance import pipeline
if sys.argv[3] == "skipped":
    pipeline._verified = lambda query, found, decoder, idx, **kw: list(found)
from provenance import check
from provenance.index import open_index
check(sys.argv[1], index=open_index(sys.argv[2]))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ids", help="comma list of query ids of the set's truth.json")
    ap.add_argument("--data", type=Path, required=True, help="a set built by make_set.py or make_cases.py")
    ap.add_argument("--index", required=True, help="index URL holding the set's references")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument(
        "--code",
        action="append",
        help="a checkout's root whose provenance/ is run (repeat to compare trees, interleaved); default: PYTHONPATH",
    )
    args = ap.parse_args()
    truth = {q["id"]: q for q in json.loads((args.data / "truth.json").read_text())["queries"]}
    ids = args.ids.split(",")
    codes = args.code or [os.environ.get("PYTHONPATH", "")]
    modes = ("verify", "skipped")
    got: dict[tuple[str, str, str], list[float]] = {(c, q, m): [] for c in codes for q in ids for m in modes}
    for k in range(args.rounds + 1):
        for q in ids:
            for code in codes if k % 2 == 0 else codes[::-1]:
                root = str(Path(code).resolve()) if code else None
                env = {**os.environ, "PYTHONPATH": root or ""}
                for mode in modes if k % 2 == 0 else modes[::-1]:
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    path = str((args.data / truth[q]["path"]).resolve())
                    subprocess.run(
                        [sys.executable, "-c", CODE, path, args.index, mode],
                        check=True,
                        capture_output=True,
                        env=env,
                        cwd=root,  # `python -c` imports from its working folder before PYTHONPATH
                    )
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    if k:
                        got[(code, q, mode)].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        print(f"round {k} done, load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    for code in codes:
        on = [statistics.median(got[(code, q, "verify")]) for q in ids]
        off = [statistics.median(got[(code, q, "skipped")]) for q in ids]
        if len(codes) > 1:
            print(f"\n{code}:\n")
        print("| query (edit) | CPU s, verify | skipped | ratio |")
        print("|---|---|---|---|")
        for q, a, b in zip(ids, on, off, strict=True):
            edit = truth[q].get("group") or truth[q].get("label")
            print(f"| {q} {edit} | {a:.2f} | {b:.2f} | {a / b:.2f} |")
        ratios = [a / b for a, b in zip(on, off, strict=True)]
        print(
            f"| all {len(ids)} | {sum(on):.2f} | {sum(off):.2f} | {sum(on) / sum(off):.2f} "
            f"(median {statistics.median(ratios):.2f}) |"
        )


if __name__ == "__main__":
    main()
