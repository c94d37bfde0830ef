#!/usr/bin/env python3
"""Per edit, two benchmark runs side by side: copies called the same footage, negatives called the same footage.

    python bench/same_footage_by_edit.py bench/out/before/results.json bench/out/after/results.json

A copy counts when its first match is the true reference and verify calls it
`same_footage`; a negative counts when any match is not `same_scene` (as
bench/run.py's negatives table). Prints a Markdown table (every group, or
`--changed` only those whose counts differ, the negatives always), the totals,
and the copies whose call changed. Written for docs/benchmark.md's round 9.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any


def calls(path: Path) -> dict[str, dict[str, Any]]:
    """Per query: its group, whether it is a negative, found at rank 1, and called the same footage."""
    queries = json.loads(path.read_text())["methods"]["provenance"]["queries"]
    out = {}
    for q in queries:
        truth, matches = q["truth"], q.get("matches") or []
        negative = bool(truth.get("negative_kind"))
        found = bool(matches) and matches[0]["item"] == truth.get("ref_id")
        out[q["query"]] = {
            "group": q["group"],
            "negative": negative,
            "found": found or (negative and bool(matches)),
            "same_footage": (negative and any(m.get("relation") != "same_scene" for m in matches))
            or (not negative and found and matches[0].get("relation") == "same_footage"),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--changed", action="store_true", help="only the groups whose counts differ (and the negatives)")
    args = ap.parse_args(argv)
    before, after = calls(args.before), calls(args.after)
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for qid, a in after.items():
        b = before.get(qid, {"same_footage": False, "found": False})
        g = groups[a["group"]]
        g[0] += 1
        g[1] += b["same_footage"]
        g[2] += a["same_footage"]
        g[3] += b["found"]
        g[4] += a["found"]
    print("| edit | n | same footage before | after | found (negatives: matched) before | after |")
    print("|---|---|---|---|---|---|")
    for name in sorted(groups, key=lambda k: (k.startswith("negative"), k)):
        n, sb, sa, fb, fa = groups[name]
        if args.changed and (sb, fb) == (sa, fa) and not name.startswith("negative"):
            continue
        print(f"| {name} | {n} | {sb} | {sa} | {fb} | {fa} |")
    for negative, what in ((False, "copies called the same footage"), (True, "negatives called the same footage")):
        sb = sum(before[q]["same_footage"] for q in after if q in before and after[q]["negative"] == negative)
        sa = sum(v["same_footage"] for v in after.values() if v["negative"] == negative)
        n = sum(1 for v in after.values() if v["negative"] == negative)
        print(f"\n{what}: {sb} -> {sa} of {n}", end="")
    changed = [
        f"{q} ({a['group']}: {'lost' if before[q]['same_footage'] else 'gained'})"
        for q, a in after.items()
        if q in before and not a["negative"] and before[q]["same_footage"] != a["same_footage"]
    ]
    print(f"\ncopies whose call changed: {', '.join(changed) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
