"""Small inner pictures over other footage, drawn from wide ranges: a cases split of its own (issue 16).

Each query lays 3-8 s of one indexed reference, and 0-2 other pictures, over a
background, every parameter drawn at random:

- the canvas: 720x1280, 1080x1080 or 1280x720;
- the clip's picture: 15-50% of the canvas width (its height then follows its
  shape, capped at 60% of the canvas height); each other picture likewise;
  pictures never overlap (placed by rejection, 12 px apart);
- a border of 2-10 px in one of four colours, or none, per picture;
- the background: a still frame of other footage, a flat colour, other
  footage moving, or a moving lavfi source (mandelbrot, gradients, testsrc2);
- other pictures: other footage or a lavfi source; with `--multi`, 2-3
  pictures up to 60% of the width, each other picture another indexed
  reference half the time (listed as `parts`, scored as a compilation),
  touching in a row or a column 40% of the time.

References are those of the data's `reference_halves` in the split asked
(`--half dev`: the development half; `--half holdout`: the other), other
footage its `unseen_halves` in the same half, so the development and
held-out sets share no reference and no other footage. The output is a
folder `bench/run.py` scores as realistic cases (truth.json with the
`bench/make_cases.py` generator, `picture_in_picture` required; manifest.json
listing the data's items); run it against the index of the data folder::

    python bench/pip_cases.py --data bench/cases-dev --half dev --seed 1 --count 24 --out /tmp/pip-dev
    python bench/run.py --data /tmp/pip-dev --methods provenance --no-frames --no-match-time \\
        --out /tmp/pip-dev-run --index-url sqlite:////tmp/idx/dev.sqlite
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
from pathlib import Path
from typing import Any

CANVASES = ((720, 1280), (1080, 1080), (1280, 720))
FPS = 30
LAVFI = ("mandelbrot", "gradients", "testsrc2")
BORDER_COLOURS = ("white", "black", "0x2080ff", "0xffcc00")
GAP_PX = 12


def even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def lavfi(source: str, w: int, h: int, dur: float, rng: random.Random) -> list[str]:
    spec = {
        "mandelbrot": f"mandelbrot=s={w}x{h}:rate={FPS}",
        "gradients": f"gradients=s={w}x{h}:rate={FPS}:speed=0.03:seed={rng.randint(1, 10**6)}",
        "testsrc2": f"testsrc2=s={w}x{h}:rate={FPS}",
    }[source]
    return ["-f", "lavfi", "-t", f"{dur + 1:.3f}", "-i", spec]


def place(rng: random.Random, W: int, H: int, sizes: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    """Positions for pictures of these outer sizes, none overlapping, or None when they do not fit."""
    for _ in range(200):
        spots: list[tuple[int, int, int, int]] = []
        for w, h in sizes:
            x, y = rng.randint(0, W - w), rng.randint(0, H - h)
            if rng.random() < 0.3:  # against an edge or in a corner, as reposters often place them
                x = rng.choice([0, W - w, x])
                y = rng.choice([0, H - h, y])
            box = (x, y, x + w, y + h)
            if any(
                box[0] < b[2] + GAP_PX and b[0] < box[2] + GAP_PX and box[1] < b[3] + GAP_PX and b[1] < box[3] + GAP_PX
                for b in spots
            ):
                break
            spots.append(box)
        if len(spots) == len(sizes):
            return [(b[0] - b[0] % 2, b[1] - b[1] % 2) for b in spots]
    return None


def place_touching(rng: random.Random, W: int, H: int, sizes: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    """Positions for pictures in a row or a column, each touching the next, or None when they do not fit."""
    across = rng.random() < 0.5
    length = sum(w for w, _ in sizes) if across else sum(h for _, h in sizes)
    if length > (W if across else H):
        across = not across
        length = sum(w for w, _ in sizes) if across else sum(h for _, h in sizes)
        if length > (W if across else H):
            return None
    deep = max(h for _, h in sizes) if across else max(w for w, _ in sizes)
    at = rng.randint(0, (W if across else H) - length)
    lane = rng.randint(0, (H if across else W) - deep)
    spots = []
    for w, h in sizes:
        if across:
            y = lane + rng.choice([0, (deep - h) // 2, deep - h])
            spots.append((at, y))
            at += w
        else:
            x = lane + rng.choice([0, (deep - w) // 2, deep - w])
            spots.append((x, at))
            at += h
    return [(x - x % 2, y - y % 2) for x, y in spots]


def make_case(
    qid: str,
    ref: dict[str, Any],
    pool: list[dict[str, Any]],
    rng: random.Random,
    out: Path,
    others: list[dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """One query; `others` (the `--multi` layouts) are indexed references the other pictures may show."""
    multi = others is not None
    W, H = rng.choice(CANVASES)
    dur = rng.uniform(3.0, 8.0)
    start = rng.uniform(0.0, max(0.0, ref["duration"] - dur - 0.2))
    dur = min(dur, ref["duration"] - start - 0.1)
    n = rng.choice([2, 2, 3]) if multi else rng.choice([1, 2, 3])
    pictures: list[dict[str, Any]] = []
    long_enough = [r for r in others or [] if r["duration"] >= dur + 0.3]
    shown: list[dict[str, Any] | None] = [None] * n  # the indexed reference each other picture shows
    for k in range(n):
        if k and multi and long_enough and rng.random() < 0.5:
            shown[k] = rng.choice(long_enough)
        if shown[k] is not None:
            aspect = shown[k]["width"] / shown[k]["height"]  # type: ignore[index]
        else:
            aspect = ref["width"] / ref["height"] if k == 0 else rng.choice([16 / 9, 16 / 9, 4 / 3, 9 / 16])
        share = rng.uniform(0.15, 0.6 if multi else 0.5)
        fw = even(W * share)
        fh = even(fw / aspect)
        if fh > 0.6 * H:
            fh = even(0.6 * H)
            fw = even(fh * aspect)
        border = rng.choice([0, 0, rng.randint(2, 10)])
        pictures.append(
            {
                "what": "clip" if k == 0 else "other",
                "footage_size": [fw, fh],
                "border": {"px": border, "colour": rng.choice(BORDER_COLOURS)} if border else None,
            }
        )
    outer = [
        (
            p["footage_size"][0] + 2 * (p["border"] or {}).get("px", 0),
            p["footage_size"][1] + 2 * (p["border"] or {}).get("px", 0),
        )
        for p in pictures
    ]
    if multi and rng.random() < 0.4:
        spots = place_touching(rng, W, H, outer)
    else:
        spots = place(rng, W, H, outer)
    if spots is None:
        return None
    inputs: list[list[str]] = [["-ss", f"{start:.3f}", "-t", f"{dur:.3f}", "-i", ref["abs_path"]]]
    kind = rng.choice(["still", "colour", "video", "lavfi"])
    if kind == "still":
        item = rng.choice(pool)
        at = round(rng.uniform(0, max(0.0, item["duration"] - 1)), 2)
        inputs.append(["-ss", f"{at:.3f}", "-i", item["abs_path"]])
        background: dict[str, Any] = {"kind": "still", "item": item["id"], "at_s": at}
        bg_chain = "trim=end_frame=1,loop=loop=-1:size=1:start=0,setpts=N/FRAME_RATE/TB,"
    elif kind == "colour":
        colour = "0x" + "".join(f"{rng.randint(10, 90):02x}" for _ in range(3))
        inputs.append(["-f", "lavfi", "-t", f"{dur + 1:.3f}", "-i", f"color=c={colour}:s={W}x{H}:r={FPS}"])
        background = {"kind": "colour", "colour": colour}
        bg_chain = ""
    elif kind == "video":
        item = rng.choice(pool)
        at = round(rng.uniform(0, max(0.0, item["duration"] - 2)), 2)
        inputs.append(["-stream_loop", "-1", "-ss", f"{at:.3f}", "-i", item["abs_path"]])
        background = {"kind": "video", "item": item["id"], "start_s": at}
        bg_chain = ""
    else:
        source = rng.choice(LAVFI)
        inputs.append(lavfi(source, W, H, dur, rng))
        background = {"kind": "lavfi", "source": source}
        bg_chain = ""
    steps = [f"[1:v]{bg_chain}scale={W}:{H}:force_original_aspect_ratio=increase,crop={W}:{H},setsar=1,fps={FPS}[bg0]"]
    for k, (pic, (x, y)) in enumerate(zip(pictures, spots, strict=True)):
        pic["position"] = [x, y]
        if k == 0:
            src = "[0:v]setpts=PTS-STARTPTS,"
        else:
            item = shown[k]
            if item is not None:
                at = round(rng.uniform(0, item["duration"] - dur - 0.2), 2)
                inputs.append(["-ss", f"{at:.3f}", "-t", f"{dur:.3f}", "-i", item["abs_path"]])
                pic["source"] = {"kind": "reference", "item": item["id"], "start_s": at}
                pic["what"] = "reference"
                src = f"[{len(inputs) - 1}:v]setpts=PTS-STARTPTS,"
            elif rng.random() < 0.5:
                item = rng.choice(pool)
                at = round(rng.uniform(0, max(0.0, item["duration"] - 2)), 2)
                inputs.append(["-stream_loop", "-1", "-ss", f"{at:.3f}", "-i", item["abs_path"]])
                pic["source"] = {"kind": "video", "item": item["id"], "start_s": at}
            else:
                source = rng.choice(LAVFI)
                inputs.append(lavfi(source, 640, 360, dur, rng))
                pic["source"] = {"kind": "lavfi", "source": source}
            if pic["what"] != "reference":
                src = f"[{len(inputs) - 1}:v]"
        fw, fh = pic["footage_size"]
        chain = f"{src}scale={fw}:{fh},setsar=1,fps={FPS}"
        if pic["border"]:
            b = pic["border"]["px"]
            chain += f",pad={fw + 2 * b}:{fh + 2 * b}:{b}:{b}:color={pic['border']['colour']}"
        steps.append(chain + f"[p{k}]")
        steps.append(f"[bg{k}][p{k}]overlay={x}:{y}:shortest=1[bg{k + 1}]")
    steps.append(f"[bg{len(pictures)}]setsar=1,format=yuv420p[out]")
    args = [a for inp in inputs for a in inp]
    path = out / "queries" / f"{qid}.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *args, "-filter_complex_threads", "1"]
        + ["-filter_complex", ";".join(steps), "-map", "[out]", "-an", "-c:v", "libx264", "-preset", "veryfast"]
        + ["-crf", "23", "-threads", "1", "-t", f"{dur:.3f}", str(path)],
        check=True,
        timeout=300,
    )
    clip = pictures[0]
    if clip["border"]:
        clip["border"]["px"] = int(clip["border"]["px"])
    scale = clip["footage_size"][0] / ref["width"]
    expect = {
        "required": {
            "picture_in_picture": f"one of {n} inner pictures at {clip['footage_size'][0] / W:.0%} of the width"
        },
        "accepted": {},
        "footage_scale": round(scale, 3),
        "query_fps": FPS,
        "still": False,
        "angles_deg_clockwise": [],
        "speed": 1.0,
        "reversed": False,
    }
    parts = [
        {
            "ref_id": p["source"]["item"] if k else ref["id"],
            "ref_span": [p["source"]["start_s"], round(p["source"]["start_s"] + dur, 3)]
            if k
            else [round(start, 3), round(start + dur, 3)],
            "query_span": [0.0, round(dur, 3)],
            "expect": expect
            if k == 0
            else {
                **expect,
                "footage_scale": round(
                    p["footage_size"][0] / next(r for r in others or [] if r["id"] == p["source"]["item"])["width"], 3
                ),
            },
        }
        for k, p in enumerate(pictures)
        if k == 0 or p["what"] == "reference"
    ]
    return {
        "id": qid,
        "path": f"queries/{qid}.mp4",
        "duration": round(dur, 3),
        "label": "pip_small",
        "group": "pip_small",
        "transforms": [
            {
                "name": "pip_small",
                "params": {"canvas": [W, H], "pictures": pictures, "background": background},
            }
        ],
        "ref_id": ref["id"],
        "ref_span": [round(start, 3), round(start + dur, 3)],
        "query_span": [0.0, round(dur, 3)],
        "speed_factor": 1.0,
        "reversed": False,
        "expect": expect,
        "source_item": ref["id"],
        "negative_kind": None,
        **({"parts": parts} if len(parts) > 1 else {}),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="a cases folder of bench/make_cases.py (its manifest)")
    ap.add_argument("--half", choices=["dev", "holdout"], required=True, help="which half of its references")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--multi",
        action="store_true",
        help="2-3 pictures (15-60%% of the width), the others each another indexed reference half the time, "
        "touching in a row or column 40%% of the time",
    )
    args = ap.parse_args(argv)
    manifest = json.loads((args.data / "manifest.json").read_text())
    items = []
    for i in manifest["items"]:
        i = dict(i)
        i["abs_path"] = str((args.data / i["path"]).resolve())
        items.append(i)
    by_id = {i["id"]: i for i in items}
    refs = [by_id[r] for r, half in manifest["reference_halves"].items() if half == args.half and r in by_id]
    pool = [by_id[r] for r, half in manifest["unseen_halves"].items() if half == args.half and r in by_id]
    rng = random.Random(args.seed)
    (args.out / "queries").mkdir(parents=True, exist_ok=True)
    queries = []
    k = 0
    while len(queries) < args.count:
        k += 1
        ref = refs[(k - 1) % len(refs)] if k <= len(refs) else rng.choice(refs)
        case = make_case(
            f"s{args.seed}-{k:03d}",
            ref,
            pool,
            random.Random(rng.random()),
            args.out,
            [r for r in refs if r["id"] != ref["id"]] if args.multi else None,
        )
        if case is not None:
            queries.append(case)
            print(case["id"], case["ref_id"], json.dumps(case["transforms"][0]["params"]), flush=True)
    out_manifest = {k: v for k, v in manifest.items() if k != "items"}
    out_manifest["items"] = [{**i, "path": i["abs_path"]} for i in items]
    out_manifest["pip_cases"] = {"half": args.half, "seed": args.seed, "count": args.count}
    if args.multi:
        out_manifest["pip_cases"]["multi"] = True
    (args.out / "manifest.json").write_text(json.dumps(out_manifest, indent=1))
    truth = {"generator": manifest["generator"], "split": f"pip-{args.half}", "seed": args.seed, "queries": queries}
    (args.out / "truth.json").write_text(json.dumps(truth, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
