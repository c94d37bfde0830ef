#!/usr/bin/env python3
"""Copies under stickers and emoji, drawn from wide ranges (issue 16).

    python bench/sticker_cases.py --data bench/cases-dev --out /tmp/st-dev --seed 1501
    python bench/sticker_cases.py --data bench/cases-holdout3 --out /tmp/st-h3 --seed 2151

Reads a data folder of bench/make_cases.py (`manifest.json`: its items by
absolute path) and writes one of the same shape for `bench/run.py`
(`manifest.json` with the same items, so the split's own index serves;
`queries/`; `truth.json`):

- for every REFERENCE, `--per-reference` copies (2 by default) under stickers;
- for every NEGATIVE item (other moments of indexed scenes, unseen footage),
  one copy under stickers: none may be called the same footage.

Per query, drawn from a generator seeded by the seed and the query's name:
1-5 stickers, each covering 5-30% of the frame (their areas scaled down
together when they add up to more than 75%); each one of bench/make_cases.py's
`draw_sticker` kinds (an emoji-like face disc, a heart, a star, a rounded badge
with a symbol) or a text badge (a word or a handle on a rounded box) or a plain
disc with a symbol; each moving across the frame over the clip (straight line
from a random place to another) with probability 0.5, else still; a third of
them semi-opaque (alpha 0.5-0.9), the rest opaque; x264 CRF 20-32 (preset
veryfast), the sound dropped for half, and half of the copies of items longer
than 4 s trimmed to 4-12 s at a random start. A rerun with the same seed and
ffmpeg gives identical files (x264 single-threaded).
"""

from __future__ import annotations

import argparse
import math
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crop_fill import has_audio, rng_for, split_items, truth_entry, write_split  # noqa: E402
from make_cases import SYMBOLS, centred_text, draw_sticker, rounded_box  # noqa: E402

#: How many stickers a copy carries.
COUNT_RANGE = (1, 5)
#: Each sticker's area as a share of the frame.
AREA_RANGE = (0.05, 0.30)
#: The stickers' areas are scaled down together when they add up to more than this.
MAX_TOTAL_AREA = 0.75
#: A sticker's chance to move across the frame over the clip, and to be semi-opaque.
MOVING_CHANCE = 0.5
SEMI_OPAQUE_CHANCE = 1 / 3
ALPHA_RANGE = (0.5, 0.9)
#: x264 constant rate factors drawn from.
CRF_RANGE = (20, 32)
#: A trimmed copy's length (seconds).
TRIM_RANGE = (4.0, 12.0)
KINDS = ["face", "heart", "star", "badge", "text", "disc"]
WORDS = ["BREAKING", "LIVE", "WAIT FOR IT", "NO WAY", "VIRAL", "EXCLUSIVE", "MUST WATCH", "FAKE?", "REAL",
         "@newsdaily", "@viral.clips", "#trending", "SHOCKING", "WATCH", "UPDATE"]  # fmt: skip
FFMPEG_TIMEOUT_S = 600
GENERATOR = "bench/sticker_cases.py"


def draw(kind: str, w: int, h: int, rng: random.Random) -> Image.Image:
    """One sticker: make_cases's kinds, a text badge, or a plain disc with a symbol."""
    if kind in ("face", "heart", "star", "badge"):
        return draw_sticker(kind, w, h, rng)
    col = tuple(rng.randint(0, 255) for _ in range(3))
    text = (255, 255, 255, 255) if sum(col) < 400 else (0, 0, 0, 255)
    if kind == "text":
        img = rounded_box((w, h), int(min(w, h) * rng.uniform(0.05, 0.4)), (*col, 255), None, 0)
        centred_text(img, rng.choice(WORDS), text, w * 0.9, h * 0.7)
        return img
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse([0, 0, w - 1, h - 1], fill=(*col, 255))
    centred_text(img, rng.choice(SYMBOLS), text, w * 0.6, h * 0.45)
    return img


def with_alpha(img: Image.Image, alpha: float) -> Image.Image:
    a = img.getchannel("A").point(lambda v: int(v * alpha))
    img.putalpha(a)
    return img


def make_query(item: dict[str, Any], qid: str, seed: int, out: Path, assets: Path) -> dict[str, Any]:
    """Render one copy of an item under stickers and return its truth entry."""
    rng = rng_for(seed, qid, item["id"])
    w, h, dur = int(item["width"]), int(item["height"]), float(item["duration"])
    crf = rng.randint(*CRF_RANGE)
    audio = has_audio(Path(item["path"]))
    drop_sound = audio and rng.random() < 0.5
    start, length = 0.0, dur
    if dur > TRIM_RANGE[0] and rng.random() < 0.5:
        length = round(min(dur, rng.uniform(*TRIM_RANGE)), 2)
        start = round(rng.uniform(0.0, dur - length), 2)
    n = rng.randint(*COUNT_RANGE)
    areas = [rng.uniform(*AREA_RANGE) for _ in range(n)]
    if sum(areas) > MAX_TOTAL_AREA:
        areas = [a * MAX_TOTAL_AREA / sum(areas) for a in areas]
    inputs: list[str] = []
    chain: list[str] = []
    last = "0:v"
    stickers = []
    for k, area in enumerate(areas):
        kind = rng.choice(KINDS)
        if kind in ("badge", "text"):
            aspect = rng.uniform(0.7, 1.8) if kind == "badge" else rng.uniform(1.8, 4.0)
            sw, sh = math.sqrt(area * w * h * aspect), math.sqrt(area * w * h / aspect)
        elif kind in ("face", "disc"):
            sw = sh = math.sqrt(4 * area * w * h / math.pi)
        else:
            sw = sh = math.sqrt(area * w * h / 0.62)  # hearts and stars fill ~62% of their box
        sw, sh = max(8, min(int(sw), int(w * 0.95))), max(8, min(int(sh), int(h * 0.95)))
        img = draw(kind, sw, sh, rng)
        alpha = round(rng.uniform(*ALPHA_RANGE), 2) if rng.random() < SEMI_OPAQUE_CHANCE else 1.0
        if alpha < 1.0:
            img = with_alpha(img, alpha)
        png = assets / f"{qid}-{k}.png"
        img.save(png)
        x0, y0 = rng.randint(0, w - sw), rng.randint(0, h - sh)
        rec: dict[str, Any] = {"kind": kind, "area_fraction": round(area, 3), "size": [sw, sh], "alpha": alpha,
                               "from": [x0, y0]}  # fmt: skip
        if rng.random() < MOVING_CHANCE:
            x1, y1 = rng.randint(0, w - sw), rng.randint(0, h - sh)
            d = max(length, 0.1)
            x, y = f"{x0}+({x1 - x0})*t/{d:.3f}", f"{y0}+({y1 - y0})*t/{d:.3f}"
            rec["to"] = [x1, y1]
        else:
            x, y = str(x0), str(y0)
        inputs += ["-loop", "1", "-i", str(png)]
        chain.append(f"[{last}][{k + 1}:v]overlay=x='{x}':y='{y}':shortest=1:format=auto[v{k}]")
        last = f"v{k}"
        stickers.append(rec)
    path = out / "queries" / f"{qid}.mp4"
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]
    if start > 0:
        args += ["-ss", f"{start:.3f}"]
    args += ["-t", f"{length:.3f}", "-i", item["path"], *inputs, "-filter_complex", ";".join(chain),
             "-map", f"[{last}]", "-t", f"{length:.3f}", "-c:v", "libx264", "-preset", "veryfast",
             "-crf", str(crf), "-x264-params", "threads=1", "-pix_fmt", "yuv420p"]  # fmt: skip
    args += ["-an"] if not audio or drop_sound else ["-map", "0:a:0", "-c:a", "aac", "-b:a", "96k"]
    subprocess.run([*args, str(path)], check=True, timeout=FFMPEG_TIMEOUT_S)
    moving = sum("to" in s for s in stickers)
    params = {"stickers": stickers, "moving": moving, "covered_sum": round(sum(areas), 3), "crf": crf,
              "sound": "kept" if audio and not drop_sound else ("dropped" if audio else "none"),
              "trim": [start, round(start + length, 2)]}  # fmt: skip
    return truth_entry(
        item, qid, label="stickers", group="stickers_moving" if moving else "stickers_still", transform="stickers",
        params=params, start=start, length=length, required={"overlay": f"{n} stickers"}, footage_scale=1.0,
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a bench/make_cases.py folder (its manifest)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--per-reference", type=int, default=2, help="copies of each reference")
    ap.add_argument("--no-negatives", action="store_true", help="copies of the references only")
    args = ap.parse_args()
    items = split_items(args.data)
    (args.out / "queries").mkdir(parents=True, exist_ok=True)
    queries = []
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for item in items:
            if item["split"] == "reference":
                copies = args.per_reference
            elif args.no_negatives:
                continue
            else:
                copies = 1
            for _ in range(copies):
                n += 1
                queries.append(make_query(item, f"s{n:03d}", args.seed, args.out, Path(tmp)))
                print(queries[-1]["id"], item["id"], queries[-1]["group"], flush=True)
    write_split(args.out, GENERATOR, args.data, args.seed, items, queries)


if __name__ == "__main__":
    main()
