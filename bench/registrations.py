#!/usr/bin/env python3
"""How many of a copy's frames the features channel registers with its true reference.

    PYTHONPATH=$PWD python bench/registrations.py --data bench/cases-dev --index sqlite:///IDX --groups stickers

Per copy of the groups named: its frames described as a query's
(`query.describe_features`), looked up and verified (`match.feature_pairs`),
and the verified pairs counted by reference: the true one's pairs and the
query frames they cover, the others', and the CPU of describing and lookup.
Run it with each code tree's PYTHONPATH to compare a change of the channel.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from provenance import match
from provenance.index import open_index
from provenance.probe import probe
from provenance.query import Role, describe_features


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a set built by make_cases.py (or make_set.py)")
    ap.add_argument("--index", required=True, help="index URL holding the set's references")
    ap.add_argument("--groups", required=True, help="comma list of edit groups")
    args = ap.parse_args()
    idx = open_index(args.index)
    groups = set(args.groups.split(","))
    truth = json.loads((args.data / "truth.json").read_text())
    manifest = json.loads((args.data / "manifest.json").read_text())
    paths = {it["id"]: str(args.data / it["path"]) for it in manifest["items"]}  # absolute paths stay absolute
    total = [0, 0]
    for q in truth["queries"]:
        if (q.get("group") or q.get("label")) not in groups or not q.get("ref_id"):
            continue
        path = args.data / q["path"]
        t0 = time.process_time()
        feats = describe_features(path, probe(path), role=Role.QUERY)
        t1 = time.process_time()
        pairs = match.feature_pairs(feats.frames, idx)
        t2 = time.process_time()
        refs = idx.get_many({rid for rid, _ in pairs})  # one read, not one a pair
        mine = [p for rid, p in pairs if rid in refs and str(refs[rid].path) == paths[q["ref_id"]]]
        frames = len({p.query_t for p in mine})
        total[0] += frames
        total[1] += len(feats.frames)
        print(
            f"{q['id']} {q.get('group') or q.get('label')}: {frames} of {len(feats.frames)} frames registered "
            f"({len(mine)} pairs; other references {len(pairs) - len(mine)}), "
            f"{sum(len(f) for f in feats.frames) / max(1, len(feats.frames)):.0f} descriptors a frame, "
            f"describe {t1 - t0:.2f} s, lookup {t2 - t1:.2f} s"
        )
    print(f"all: {total[0]} of {total[1]} frames registered with their true reference")


if __name__ == "__main__":
    main()
