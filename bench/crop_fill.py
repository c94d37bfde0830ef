#!/usr/bin/env python3
"""9:16 crop-to-fill copies of every indexed reference, static and moving (issue 16).

    python bench/crop_fill.py --data bench/cases-dev --out /tmp/cf-dev --seed 1601
    python bench/crop_fill.py --data bench/cases-holdout3 --out /tmp/cf-h3 --seed 2102

The commonest vertical reframe on short-video platforms: the 16:9 (or 4:3)
picture is cut to a 9:16 strip of its full height and scaled up to fill a
vertical frame. Reads a data folder of bench/make_cases.py (`manifest.json`:
its items by absolute path) and writes one of the same shape for
`bench/run.py` (`manifest.json` with the same items, so the split's own index
serves; `queries/`; `truth.json`):

- for every REFERENCE, two copies: one whose crop window stays put
  (`crop_fill_static`) and one whose window slides across the frame over the
  clip (`crop_fill_moving`);
- for every NEGATIVE item (other moments of indexed scenes, unseen footage),
  one crop-to-fill, static or moving: none may be called the same footage.

Per query, drawn from a generator seeded by the seed and the query's name:
the window's centre offset from the frame's centre, -0.15..0.15 of the width
(at the start and, moving, at the end; clamped to the frame), the output frame
(540x960, 720x1280 or 1080x1920), x264 CRF 20-32 (preset veryfast), the sound
dropped or kept (half the copies), and a trim to 4-12 s at a random start
(half the copies whose item is longer than 4 s). A rerun with the same seed
and ffmpeg gives identical files (x264 single-threaded).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
from pathlib import Path
from typing import Any

#: Output frames a copy is scaled to fill (width, height).
CANVASES = [(540, 960), (720, 1280), (1080, 1920)]
#: The window's centre offset from the frame's centre, as a share of the frame's width.
OFFSET_RANGE = (-0.15, 0.15)
#: x264 constant rate factors drawn from.
CRF_RANGE = (20, 32)
#: A trimmed copy's length (seconds).
TRIM_RANGE = (4.0, 12.0)
FFMPEG_TIMEOUT_S = 600
GENERATOR = "bench/crop_fill.py"


def rng_for(seed: int, *parts: object) -> random.Random:
    """A generator seeded by the seed and a name, so each query's draws are independent of the others."""
    return random.Random("/".join(str(p) for p in (seed, *parts)))


def even(x: float) -> int:
    return max(2, int(round(x)) // 2 * 2)


def has_audio(path: Path) -> bool:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=index", "-of", "csv=p=0",
         str(path)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    return bool(out.strip())


def make_query(item: dict[str, Any], qid: str, moving: bool, seed: int, out: Path) -> dict[str, Any]:
    """Render one crop-to-fill copy of an item and return its truth entry."""
    rng = rng_for(seed, qid, item["id"])
    w, h, dur = int(item["width"]), int(item["height"]), float(item["duration"])
    cw = min(w, even(h * 9 / 16))
    ch = min(h, even(cw * 16 / 9)) if cw < w else h
    d0 = rng.uniform(*OFFSET_RANGE)
    d1 = rng.uniform(*OFFSET_RANGE) if moving else d0
    W, H = rng.choice(CANVASES)
    crf = rng.randint(*CRF_RANGE)
    audio = has_audio(Path(item["path"]))
    drop_sound = audio and rng.random() < 0.5
    start, length = 0.0, dur
    if dur > TRIM_RANGE[0] and rng.random() < 0.5:
        length = round(min(dur, rng.uniform(*TRIM_RANGE)), 2)
        start = round(rng.uniform(0.0, dur - length), 2)
    x0 = min(max(0.0, (w - cw) / 2 + d0 * w), w - cw)
    x1 = min(max(0.0, (w - cw) / 2 + d1 * w), w - cw)
    x = f"{x0:.1f}+({x1 - x0:.1f})*t/{max(length, 0.1):.3f}" if moving else f"{x0:.1f}"
    chain = f"crop={cw}:{ch}:x='{x}':y={(h - ch) // 2},scale={W}:{H},setsar=1"
    path = out / "queries" / f"{qid}.mp4"
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]
    if start > 0:
        args += ["-ss", f"{start:.3f}"]
    args += ["-t", f"{length:.3f}", "-i", item["path"], "-vf", chain, "-c:v", "libx264", "-preset", "veryfast",
             "-crf", str(crf), "-x264-params", "threads=1", "-pix_fmt", "yuv420p"]  # fmt: skip
    args += ["-an"] if not audio or drop_sound else ["-c:a", "aac", "-b:a", "96k"]
    subprocess.run([*args, str(path)], check=True, timeout=FFMPEG_TIMEOUT_S)
    params = {
        "canvas": [W, H], "crop_size": [cw, ch], "centre_offset_from": round(d0, 3),
        "centre_offset_to": round(d1, 3), "moving": moving, "width_kept": round(cw / w, 3), "crf": crf,
        "sound": "kept" if audio and not drop_sound else ("dropped" if audio else "none"),
        "trim": [start, round(start + length, 2)],
    }  # fmt: skip
    label = "crop_fill_moving" if moving else "crop_fill_static"
    return truth_entry(
        item, qid, label=label, group=label, transform="crop_fill_vertical", params=params, start=start,
        length=length, required={"cropped": f"centre-crop to 9:16 keeping {cw / w:.0%} of the width"},
        footage_scale=round(H / ch, 3),
    )  # fmt: skip


def truth_entry(
    item: dict[str, Any],
    qid: str,
    *,
    label: str,
    group: str,
    transform: str,
    params: dict[str, Any],
    start: float,
    length: float,
    required: dict[str, str],
    footage_scale: float,
) -> dict[str, Any]:
    """One query's truth.json entry: a copy of a reference item (`group`, what its edit `required`), or of a
    negative item (its negative kind's group)."""
    entry: dict[str, Any] = {
        "id": qid,
        "path": f"queries/{qid}.mp4",
        "duration": length,
        "label": label,
        "transforms": [{"name": transform, "params": params}],
        "source_item": item["id"],
        "speed_factor": 1.0,
        "reversed": False,
    }
    if item["split"] == "reference":
        entry |= {
            "group": group,
            "ref_id": item["id"],
            "ref_span": [start, round(start + length, 2)],
            "query_span": [0.0, length],
            "negative_kind": None,
            "expect": {
                "required": required,
                "accepted": {},
                "footage_scale": footage_scale,
                "query_fps": float(eval_fps(item["fps"])),
                "still": False,
                "angles_deg_clockwise": [],
                "speed": 1.0,
                "reversed": False,
            },
        }
    else:
        kind = item.get("negative_kind") or "unknown"
        entry |= {"group": f"negative:{kind}", "ref_id": None, "ref_span": None, "query_span": None,
                  "negative_kind": kind}  # fmt: skip
    return entry


def split_items(data: Path) -> list[dict[str, Any]]:
    """A cases split's items (its manifest.json), each with its file's absolute path."""
    manifest = json.loads((data / "manifest.json").read_text())
    return [{**item, "path": str((data / item["path"]).resolve())} for item in manifest["items"]]


def write_split(out: Path, generator: str, data: Path, seed: int, items: list[Any], queries: list[Any]) -> None:
    """The folder's manifest.json (the split's items, so the split's own index serves) and truth.json."""
    (out / "manifest.json").write_text(json.dumps({"generator": generator, "from": str(data.resolve()),
                                                   "seed": seed, "items": items}, indent=1))  # fmt: skip
    truth = {"generator": generator, "split": out.name, "seed": seed, "queries": queries}
    (out / "truth.json").write_text(json.dumps(truth, indent=1))


def eval_fps(fps: str | float) -> float:
    if isinstance(fps, str) and "/" in fps:
        a, b = fps.split("/")
        return float(a) / float(b)
    return float(fps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a bench/make_cases.py folder (its manifest)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--no-negatives", action="store_true", help="copies of the references only")
    args = ap.parse_args()
    items = split_items(args.data)
    (args.out / "queries").mkdir(parents=True, exist_ok=True)
    queries = []
    n = 0
    for item in items:
        if item["split"] == "reference":
            kinds = [False, True]
        elif args.no_negatives:
            continue
        else:
            kinds = [rng_for(args.seed, "negative", item["id"]).random() < 0.5]
        for moving in kinds:
            n += 1
            queries.append(make_query(item, f"c{n:03d}", moving, args.seed, args.out))
            print(queries[-1]["id"], item["id"], queries[-1]["label"], flush=True)
    write_split(args.out, GENERATOR, args.data, args.seed, items, queries)


if __name__ == "__main__":
    main()
