#!/usr/bin/env python3
"""Copies of real footage tilted, zoomed and played at another speed (often backwards): what the features
channel finds, and whether the speed and direction are told right (issue 16).

    python bench/tilt_speed.py make --out /tmp/tilt-speed --seed 1717
    PYTHONPATH=TREE python bench/tilt_speed.py run --out /tmp/tilt-speed --index sqlite:///IDX --name NAME
    python bench/tilt_speed.py table --out /tmp/tilt-speed NAME [NAME ...]

`make` draws, per source (samples/refs' four clips and bench/data's real footage), two copies: a
window of the source played at x0.35-0.8 or x1.3-2.5 (backwards with probability 0.3), tilted 3-8
degrees either way, zoomed 1.1-1.35 times to hide the corners, scaled to 640 px wide, x264 CRF
22-30; the window is drawn so the copy lasts 3-12 s. `truth.json` holds each copy's source, window
and speed. The index must hold the sources (bench/data's and samples/refs'); samples/refs' clips
and some of bench/data's items come from the same footage (animated_dinner is v-Megamind-1's,
street_cyclists v-bikes-1's, tree_window v-tree-2's), so a copy is found when its top match, called
the same footage, is its source or that source's twin. `run` checks every copy (`check`, no frames,
no text) and writes NAME.json; `table` compares runs.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_cases import probe  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {
    "animated_dinner": ROOT / "samples/refs/animated_dinner.mp4",
    "street_cyclists": ROOT / "samples/refs/street_cyclists.mp4",
    "tree_window": ROOT / "samples/refs/tree_window.mp4",
    "storm_road_panzoom": ROOT / "samples/refs/storm_road_panzoom.mp4",
    "v-Megamind-1": ROOT / "bench/data/items/v-Megamind-1.mp4",
    "v-tree-2": ROOT / "bench/data/items/v-tree-2.mp4",
    "v-tree-1": ROOT / "bench/data/items/v-tree-1.mp4",
    "v-bigbuckbunny-1": ROOT / "bench/data/items/v-bigbuckbunny-1.mp4",
}
#: The same footage under two names (the samples and the development set draw on the same packages).
TWINS = {
    "animated_dinner": "v-Megamind-1",
    "v-Megamind-1": "animated_dinner",
    "street_cyclists": "v-bikes-1",
    "tree_window": "v-tree-2",
    "v-tree-2": "tree_window",
}
FFMPEG_TIMEOUT_S = 300


def make(out: Path, seed: int) -> None:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    truth: list[dict[str, Any]] = []
    for name, path in SOURCES.items():
        length = probe(path)["duration"]
        for k in range(2):
            speed = rng.choice([rng.uniform(0.35, 0.8), rng.uniform(1.3, 2.5)])
            backwards = rng.random() < 0.3
            tilt = rng.uniform(3, 8) * rng.choice([-1, 1])
            zoom = rng.uniform(1.1, 1.35)
            crf = rng.randint(22, 30)
            window = min(length - 0.2, rng.uniform(3, 12) * speed)
            start = rng.uniform(0, max(0.0, length - window - 0.1))
            vf = (
                f"trim={start:.3f}:{start + window:.3f},setpts=PTS-STARTPTS"
                + (",reverse" if backwards else "")
                + f",setpts={1 / speed:.4f}*PTS,rotate={tilt:.2f}*PI/180:ow=iw:oh=ih,"
                f"scale=trunc(iw*{zoom:.3f}/2)*2:-2,crop=trunc(iw/{zoom:.3f}/2)*2:trunc(ih/{zoom:.3f}/2)*2,scale=640:-2"
            )
            clip = out / f"{name}-{k}.mp4"
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-i", str(path), "-vf", vf, "-an", "-c:v", "libx264", "-crf", str(crf),
                 "-threads", "1", str(clip)],
                check=True,
                timeout=FFMPEG_TIMEOUT_S,
            )  # fmt: skip
            truth.append(
                {
                    "id": clip.name,
                    "source": name,
                    "window_s": [round(start, 3), round(start + window, 3)],
                    "speed": round(-speed if backwards else speed, 4),
                    "tilt_deg": round(tilt, 2),
                    "zoom": round(zoom, 3),
                    "crf": crf,
                }
            )
    (out / "truth.json").write_text(json.dumps({"seed": seed, "copies": truth}, indent=1))
    print(f"{len(truth)} copies -> {out}", file=sys.stderr)


def run(out: Path, index: str, name: str) -> None:
    from provenance import check
    from provenance.index import open_index

    truth = json.loads((out / "truth.json").read_text())["copies"]
    got: dict[str, Any] = {}
    with open_index(index) as idx:
        for t in truth:
            d = check(out / t["id"], index=idx, keyframes=False, text=False).to_dict()
            top = d["matches"][0] if d["matches"] else None
            if top is None:
                got[t["id"]] = None
                continue
            v = top.get("verification") or {}
            got[t["id"]] = {
                "reference": Path(top["reference"]["path"]).stem,
                "relation": v.get("relation"),
                "specificity": v.get("specificity"),
                "span_s": [top["reference_start_s"], top["reference_end_s"]],
                "speed": top["speed"],
                "channel": top["channel"],
                "codes": [a["code"] for a in top["alterations"]],
                "speed_told": [
                    a["evidence"].get("reference_seconds_per_query_second")
                    for a in top["alterations"]
                    if a["code"] == "speed_changed"
                ],
            }
    (out / f"{name}.json").write_text(json.dumps(got, indent=1))


def table(out: Path, names: list[str]) -> None:
    truth = {t["id"]: t for t in json.loads((out / "truth.json").read_text())["copies"]}
    print("| run | the same footage | speed told within 10% | speed told wrong | reversal told | start within 1 s |")
    print("|---|---|---|---|---|---|")
    backwards = [k for k, t in truth.items() if t["speed"] < 0]
    for name in names:
        got = json.loads((out / f"{name}.json").read_text())
        found = [
            k
            for k, t in truth.items()
            if (g := got.get(k))
            and g["relation"] == "same_footage"
            and g["reference"] in (t["source"], TWINS.get(t["source"]))
        ]
        told = [k for k in found if got[k]["speed_told"]]
        right = [k for k in told if abs(abs(got[k]["speed_told"][0]) / abs(truth[k]["speed"]) - 1) <= 0.1]
        reversal = [k for k in backwards if k in found and "reversed" in got[k]["codes"]]
        start = [
            k
            for k in found
            if got[k]["reference"] == truth[k]["source"] and abs(got[k]["span_s"][0] - truth[k]["window_s"][0]) <= 1.0
        ]
        print(
            f"| {name} | {len(found)}/{len(truth)} | {len(right)} | {len(told) - len(right)} | "
            f"{len(reversal)}/{len(backwards)} | {len(start)} of the {sum(got[k]['reference'] == truth[k]['source'] for k in found)} on their own source |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    m = sub.add_parser("make")
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--seed", type=int, default=1717)
    r = sub.add_parser("run")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--index", required=True)
    r.add_argument("--name", required=True)
    t = sub.add_parser("table")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("names", nargs="+")
    args = ap.parse_args()
    if args.what == "make":
        make(args.out, args.seed)
    elif args.what == "run":
        run(args.out, args.index, args.name)
    else:
        table(args.out, args.names)


if __name__ == "__main__":
    main()
