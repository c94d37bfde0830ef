#!/usr/bin/env python3
"""Copies of footage the index does not hold, under every realistic edit: negatives for place as well as reuse.

A same-scene match says "the same place as this reference", which is no date
but still a claim: on footage the index does not hold at all it must not be
made. The cases splits' own negatives hold only 8 unseen sources each; this
turns one split's copies into negatives against another split's references:

    python bench/absent_footage.py --queries bench/cases-holdout5 --references bench/cases-devfull \\
        --out bench/out/absent-h5
    python bench/run.py --data bench/out/absent-h5 --methods provenance --no-frames --out bench/out/absent-h5-run

The references are those the `--references` split was made from (its own
half of the development set's references, and its synthetic camera). The
queries are the `--queries` split's copies and negatives none of whose
footage (reference, compilation parts, other moment, background) comes from
a source of those references (a clip of tree.avi is left out when any
indexed reference is of tree.avi). Each becomes a negative of kind
`absent_footage`, grouped by its edit; any match on it, the same scene
included, is a false match. The folder has the shape bench/run.py reads;
nothing is copied (paths are absolute).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _items(split: Path) -> list[dict[str, Any]]:
    manifest = json.loads((split / "manifest.json").read_text())
    return [dict(i, path=str((split / i["path"]).resolve())) for i in manifest["items"]]


def _queries(split: Path) -> list[dict[str, Any]]:
    truth = json.loads((split / "truth.json").read_text())
    queries = truth["queries"]
    return list(queries.values()) if isinstance(queries, dict) else list(queries)


def _footage(q: dict[str, Any]) -> set[str]:
    """Every item id a query's picture comes from."""
    ids = {q.get("ref_id"), q.get("source_item"), q.get("scene_of")}
    for part in q.get("parts") or ():
        ids |= {part.get("ref_id"), part.get("source_item")}
    return {i for i in ids if i}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=Path, required=True, help="the cases split whose queries to run")
    ap.add_argument("--references", type=Path, required=True, help="the cases split whose references to index")
    ap.add_argument("--data", type=Path, default=Path("bench/data"), help="the development set [bench/data]")
    ap.add_argument("--out", type=Path, required=True, help="folder to write (manifest.json, truth.json)")
    args = ap.parse_args(argv)

    refs_split = args.references.resolve()
    split = json.loads((refs_split / "manifest.json").read_text())["split"]
    indexed = [i for i in _items(refs_split) if i["split"] == "reference" and i.get("cases_split") == split]
    sources = {i["id"]: i.get("source") for i in json.loads((args.data / "manifest.json").read_text())["items"]}
    kept_sources = {sources.get(i["id"]) or i["id"] for i in indexed}
    q_items = {i["id"]: i for i in _items(args.queries.resolve())}

    def source_of(item_id: str) -> str:
        # An item made from another (an other-moment pan, a synthetic camera's moment) is of that one's source.
        item = q_items.get(item_id, {})
        base = item.get("scene_of") or item_id
        return sources.get(base) or base

    negatives = []
    for q in _queries(args.queries.resolve()):
        if {source_of(i) for i in _footage(q)} & kept_sources:
            continue
        negatives.append(
            {
                "id": q["id"],
                "path": str((args.queries.resolve() / q["path"]).resolve()),
                "duration": q.get("duration"),
                "label": "negative",
                "group": f"negative:absent_footage ({q['group'].removeprefix('negative:')})",
                "ref_id": None,
                "ref_span": None,
                "query_span": None,
                "speed_factor": 1.0,
                "reversed": False,
                "negative_kind": "absent_footage",
                "transforms": q.get("transforms", []),
            }
        )
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"generator": "bench/absent_footage.py", "split": f"absent-{split}", "items": indexed}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    truth = {"generator": "bench/absent_footage.py", "queries_from": str(args.queries), "queries": negatives}
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    print(f"{len(indexed)} references, {len(negatives)} queries whose footage they do not hold: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
