"""Time per query, provenance's matching against vPDQ's, measured interleaved.

`bench/run.py` times each method over all queries one after the other, so a
change in this machine's speed during the run (20-45% between runs here)
lands on one method more than the other. This script ingests the references
into both, then for each of `--rounds` rounds times every query with both,
alternating which goes first, and reports CPU and wall seconds per query for
each method and the ratio of the two::

    python bench/time_vs_vpdq.py --data bench/data --rounds 3 --out bench/out/time

provenance is timed as `check(keyframes=False)` (matching alone, what vPDQ
does: its `computeHash` and the threatexchange-default match, bench/run.py);
with `--frames` as `check(keyframes=True)`, end to end as `provenance check`
runs it (the report's frames and the frame-based diagnosis).
CPU seconds count the process, its finished children and the live libav
decoder worker (`run.cpu_seconds`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402 - the benchmark's harness, next to this file


def timed(call: Any) -> tuple[float, float]:
    c0, t0 = run.cpu_seconds(), time.perf_counter()
    out = call()
    if getattr(out, "error", None):
        raise RuntimeError(out.error)
    return run.cpu_seconds() - c0, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="data set folder made by make_set.py")
    ap.add_argument("--rounds", type=int, default=3, help="passes over every query [3]")
    ap.add_argument("--out", type=Path, default=Path("bench/out/time"), help="output folder [bench/out/time]")
    ap.add_argument(
        "--frames",
        action="store_true",
        help="time provenance end to end, as `provenance check` runs (its report's frames and frame evidence)",
    )
    args = ap.parse_args(argv)

    _, items, queries = run.load_data(args.data.resolve(), None)
    refs = [i for i in items if i.split == "reference"]
    with tempfile.TemporaryDirectory(prefix="provenance-time-") as tmp:
        prov = run.ProvenanceMethod(None, Path(tmp), frames=args.frames)
        vpdq = run.VpdqMethod()
        for m in (prov, vpdq):
            why = m.available()
            if why:
                print(f"{m.name} unavailable: {why}", file=sys.stderr)
                return 3
            m.ingest(refs)
        methods = {"provenance": prov, "vpdq": vpdq}
        rows: list[dict[str, Any]] = []
        for r in range(args.rounds):
            for k, q in enumerate(queries):
                order = ["provenance", "vpdq"] if (k + r) % 2 == 0 else ["vpdq", "provenance"]
                row: dict[str, Any] = {"round": r + 1, "query": q.id}
                for name in order:
                    row[name] = timed(lambda m=methods[name], q=q: m.query(q))
                rows.append(row)
            run.log(f"round {r + 1}/{args.rounds} done")
        for m in methods.values():
            m.close()

    def mean(name: str, i: int, rnd: int | None = None) -> float:
        return statistics.mean(row[name][i] for row in rows if rnd is None or row["round"] == rnd)

    table = [
        "| round | provenance CPU s | vPDQ CPU s | ratio | provenance wall s | vPDQ wall s | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for rnd in [*range(1, args.rounds + 1), None]:
        pc, vc, pw, vw = (
            mean("provenance", 0, rnd),
            mean("vpdq", 0, rnd),
            mean("provenance", 1, rnd),
            mean("vpdq", 1, rnd),
        )
        label = "all" if rnd is None else str(rnd)
        table.append(f"| {label} | {pc:.3f} | {vc:.3f} | {pc / vc:.2f} | {pw:.3f} | {vw:.3f} | {pw / vw:.2f} |")
    paired = [row["provenance"][0] / row["vpdq"][0] for row in rows if row["vpdq"][0] > 0]
    table.append("")
    table.append(
        f"Median over queries and rounds of provenance's CPU / vPDQ's: {statistics.median(paired):.2f} ({len(paired)} pairs)."
    )
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"machine": run.machine(), "queries": len(queries), "rounds": args.rounds, "frames": args.frames}
    (args.out / "time_vs_vpdq.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (args.out / "time_vs_vpdq.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
