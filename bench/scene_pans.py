#!/usr/bin/env python3
"""Other pans over the indexed photographs, under the benchmark's edits: negatives for the camera-path rule.

A pan or zoom over one photograph has no moment of its own; another pan over
the same photograph must be called the same scene, never the same footage,
whatever was done to it (docs/matching.md, "A still picture under camera
motion"). The realistic cases hold one other pan per photograph reference
(`om-p-*`, one or two queries each); h139 on the held-out split (another pan
over p-Wood, tilted and cut to 9:16 with a moving crop) was called the same
footage in round 8. This builds many more such negatives from a cases split's
photograph references, for tuning on the development split only:

    python bench/scene_pans.py --cases bench/cases-dev --data bench/data --out bench/out/scene-pans-dev
    python bench/run.py --data bench/out/scene-pans-dev --methods provenance --no-frames --out bench/out/scene-pans-dev-run

For each photograph reference of the split, `--pans` new pans (make_cases.py's
`random_kenburns`, drawn from this script's own seed) beside the split's own
`om-p-*`; from each pan, `--per-pan` excerpts of 3-7 s, each under one or two
edits drawn from `EDITS` (the edits of the same-scene negatives and of the
copies that need no second picture, and h139's tilt with a 9:16 crop). The
folder has the shape bench/run.py reads: the split's references (absolute
paths, nothing copied) and these negatives.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_cases as mc  # noqa: E402  (the cases' own edits and pans, imported from beside this file)

#: Edits drawn for each excerpt (none of them needs other footage).
EDITS = [
    [],
    ["tilt"],
    ["crop_fill_vertical"],
    ["tilt", "crop_fill_vertical"],
    ["zoom_progressive"],
    ["crop"],
    ["caption"],
    ["stickers"],
    ["hflip"],
    ["watermark_moving"],
    ["anamorphic"],
    ["blur_bg_zoom"],
    ["crop", "reencode3"],
    ["caption", "crop_fill_vertical"],
]
SEED = 9017


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=Path, required=True, help="a cases split made by make_cases.py (its references)")
    ap.add_argument("--data", type=Path, required=True, help="the development set (its sources/ hold the photographs)")
    ap.add_argument(
        "--out", type=Path, required=True, help="folder to write (manifest.json, truth.json, items/, queries/)"
    )
    ap.add_argument("--pans", type=int, default=2, help="new pans per photograph [2]")
    ap.add_argument("--per-pan", type=int, default=3, help="edited excerpts per pan [3]")
    ap.add_argument("--seed", type=int, default=SEED, help=f"seed of the pans, excerpts and edits [{SEED}]")
    ap.add_argument("--jobs", type=int, default=2, help="ffmpeg jobs at once [2]")
    args = ap.parse_args(argv)

    cases = args.cases.resolve()
    manifest = json.loads((cases / "manifest.json").read_text())
    items = manifest["items"]
    refs = [dict(i, path=str((cases / i["path"]).resolve())) for i in items if i["split"] == "reference"]
    photos = [i for i in refs if i.get("kind") == "photo_pan_zoom" and i.get("cases_split") == manifest["split"]]
    own = {i["scene_of"]: i for i in items if i["id"].startswith("om-p-") and i.get("scene_of")}
    out = args.out.resolve()
    for sub in ("items", "queries", "assets"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    pans: list[dict[str, Any]] = []
    jobs = []
    for ref in photos:
        if ref["id"] in own:
            o = own[ref["id"]]
            pans.append(dict(o, abs_path=str((cases / o["path"]).resolve())))
        for k in range(args.pans):
            p = mc.random_kenburns(mc.rng_for(args.seed, "pan", ref["id"], k), ref["pan_zoom"]["region"])
            pid = f"pan{k + 1}-{ref['id']}"
            it = {
                "id": pid,
                "path": f"items/{pid}.mp4",
                "source": ref["source"],
                "split": "negative",
                "negative_kind": "same_scene_other_moment",
                "kind": "photo_pan_zoom",
                "pan_zoom": p,
                "scene_of": ref["id"],
                "overlap_with_reference": mc.overlap(ref["pan_zoom"], p),
                "abs_path": str(out / "items" / f"{pid}.mp4"),
            }
            pans.append(it)
            if not Path(it["abs_path"]).is_file():
                jobs.append(
                    (mc.make_photo_moment, it, mc.photo_path(args.data / "sources", ref["source"]), p, out / it["path"])
                )
    mc.run_all(args.jobs, lambda fn, *a: fn(*a), jobs)
    for it in pans:
        it.update(mc.probe(Path(it["abs_path"])))

    specs = []
    n = 0
    for it in pans:
        rng = mc.rng_for(args.seed, "plan", it["id"])
        for _ in range(args.per_pan):
            n += 1
            edits = rng.choice(EDITS)
            qid = f"s{n:03d}"
            specs.append(
                {
                    "id": qid,
                    "key": f"scene-pan/{it['id']}/{qid}",
                    "kind": "clip",
                    "item": it,
                    "span": mc.excerpt(rng, it["duration"], 3.0, 7.0),
                    "edits": [(e, {}) for e in edits],
                    "label": "negative",
                    "group": "negative:other_pan" + (f" ({'+'.join(edits)})" if edits else ""),
                    "negative_kind": "same_scene_other_moment",
                    "scene_of": it["scene_of"],
                    "pool": [],
                }
            )
    records = mc.run_all(
        args.jobs, lambda s: mc.render_query(s, out / "queries", out / "assets", args.seed), [(s,) for s in specs]
    )
    man_items = [dict(i) for i in refs] + [
        {k: v for k, v in it.items() if k != "abs_path"} | {"path": it["abs_path"]} for it in pans
    ]
    mc.write_json(
        out / "manifest.json",
        {
            "generator": "bench/scene_pans.py",
            "split": manifest["split"],
            "seed": args.seed,
            "cases": str(cases),
            "items": man_items,
        },
    )
    mc.write_json(
        out / "truth.json",
        # bench/run.py scores a truth file of this generator as cases (negatives by kind and edit).
        {"generator": "bench/make_cases.py", "built_by": "bench/scene_pans.py", "split": manifest["split"],
         "seed": args.seed, "queries": records},
    )  # fmt: skip
    print(f"{len(pans)} pans over {len(photos)} photographs, {len(records)} negatives in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
