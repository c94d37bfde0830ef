#!/usr/bin/env python3
"""Development cases: the edits social media really makes, and same-scene negatives, in two splits.

    python bench/make_cases.py --data bench/data --out bench/cases-dev --split dev
    python bench/make_cases.py --data bench/data --out bench/cases-holdout --split holdout

Reads the development set built by make_set.py (`manifest.json`, `items/`,
`sources/`) and writes a data folder of the same shape for `bench/run.py`:

- `manifest.json`: the development set's items by absolute path (the same
  references, so one index serves both sets), plus the items made here: a
  synthetic fixed-camera REFERENCE (a still photograph with moving objects
  drawn over it) and NEGATIVE items: other moments of that camera, other
  pan/zoom paths over the reference photographs, and the unindexed part of the
  one real clip that has one (tree.avi).
- `queries/` and `truth.json`: copies of indexed footage under the edits of
  issue 16 (stickers, tilt, progressive zoom, duets, screenshots, screen
  recordings, three re-encodes, moving watermarks, letterbox, anamorphic
  stretch, compilations, reversal, four speed bands, centre-crop to 9:16,
  picture-in-picture, combinations, and edits of our own), and negatives:
  same scene at another moment (issue 17), plain and edited, and unseen
  footage under the new edits. Every query records its edits with all their
  parameters, `ref_span`/`query_span` (compilations: a `parts` list), the
  speed and reversal, and `expect`: the alteration codes its edits justify.
- `assets/`: the stickers, captions, interface frames and patterns drawn
  with Pillow and overlaid by ffmpeg (kept, so a query can be rebuilt by hand).

Splits: the references are divided once, by a hash of their ids within each
kind (photograph pan/zoom, real clip), into two fixed halves. `dev` draws its
queries from one half and `holdout` from the other, with different seeds,
different synthetic scenes and different unseen footage; tune on `dev` only.

Every parameter is drawn per query from a generator seeded by the seed and
the query's name, so a rerun with the same seed and ffmpeg gives identical
files (x264 single-threaded; ffmpeg gets argument lists, never a shell).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SEEDS = {"dev": 1616, "holdout": 1717}
FONTS = Path("/usr/share/fonts/truetype/dejavu")
FONT_BOLD = FONTS / "DejaVuSans-Bold.ttf"
FONT = FONTS / "DejaVuSans.ttf"
FONT_CHOICES = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSerif-Bold.ttf")
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-threads", "1"]
CLEAN = ["-an", "-sn", "-dn", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]
FFMPEG_TIMEOUT_S = 900
#: Address-space limit of this process and every ffmpeg it starts: a filter graph that buffers
#: without end fails alone instead of pushing a shared machine into swap or the OOM killer.
MEMORY_LIMIT = 6 << 30
#: Frame size and rate of the canvases made here (duets, picture-in-picture, compilations, synthetic scenes).
CANVAS = (1280, 720)
CANVAS_FPS = 30
#: Excerpts are 3-10 s of the reference unless an edit needs otherwise.
EXCERPT_S = (3.0, 10.0)

CAPTIONS = [
    "wait for it", "you will not believe this", "POV: your monday morning", "this is insane",
    "watch till the end", "nobody talks about this", "day 3 of posting", "BREAKING: happening right now",
    "they tried to hide this", "my jaw dropped", "share before it gets deleted", "live from the scene",
    "this just happened today", "can't stop watching", "look closely at the left",
]  # fmt: skip
SUBTITLES = [
    "so this is what we saw", "right outside the window", "and then it started", "nobody expected it",
    "look at that", "is this real?", "it went on for minutes", "we had to film it",
]  # fmt: skip
HANDLE_PARTS = ["daily", "viral", "news", "clip", "real", "world", "watch", "the", "best", "now", "hub", "feed"]
SYMBOLS = ["LOL", "OMG", "WOW", "!!", "?!", "#1", "100", "NEW", "HOT", "FYP", "+1", "OK"]
LAVFI = ["mandelbrot", "gradients", "testsrc2"]

# The new edits (each its own `transforms` name).
MAIN_EDITS = [
    "stickers", "tilt", "zoom_progressive", "duet", "screenshot", "screen_recording", "reencode3",
    "watermark_moving", "letterbox_other", "anamorphic", "compilation", "reversed", "crop_fill_vertical",
    "pip_varied", "pip_multi", "combo_real",
]  # fmt: skip
#: Speed bands (reference seconds per query second), one query each for half the references.
SPEED_BANDS = {"speed_0.25-0.5": (0.25, 0.5), "speed_0.5-0.75": (0.5, 0.75),
               "speed_1.5-2": (1.5, 2.0), "speed_2-4": (2.0, 4.0)}  # fmt: skip
#: Edits of our own, each on three references per split.
OWN_EDITS = ["reaction_subtitle", "vintage_grain", "fps_blend", "bw_mirror_crop", "blur_bg_zoom"]
OWN_PER_EDIT = 3
#: Edits `combo_real` chains (3-4 of them), applied in this stage order.
COMBO_STAGES = {
    "reversed": 0, "speed": 0, "tilt": 1, "zoom_progressive": 1, "anamorphic": 1, "letterbox_other": 2,
    "crop_fill_vertical": 2, "pip_varied": 2, "screen_recording": 2, "stickers": 3, "watermark_moving": 3,
    "reencode3": 4,
}  # fmt: skip
#: Edits applied to same-scene negatives: the development set's simple ones and some new ones.
NEG_EDITS = ["caption", "lowres", "crop", "hflip", "stickers", "tilt", "letterbox_other", "reencode3",
             "watermark_moving", "crop_fill_vertical"]  # fmt: skip
#: Edits applied to unseen-source negatives (every new edit that needs no second reference).
UNSEEN_EDITS = ["stickers", "tilt", "zoom_progressive", "duet", "screenshot", "screen_recording", "reencode3",
                "watermark_moving", "letterbox_other", "anamorphic", "reversed", "speed", "crop_fill_vertical",
                "pip_varied", "pip_multi", "reaction_subtitle", "vintage_grain", "bw_mirror_crop"]  # fmt: skip
UNSEEN_QUERIES = 8
#: Edits used on copies of the synthetic fixed-camera reference.
SYNTHETIC_COPY_EDITS = ["stickers", "tilt", "reencode3", "letterbox_other", "watermark_moving", "crop_fill_vertical"]
SYNTHETIC_COPIES = 4
SYNTHETIC_MOMENTS = 3  # other moments of the synthetic camera (negative items)
SYNTHETIC_REF_S = 20.0


def rng_for(seed: int, *parts: object) -> random.Random:
    """A generator seeded by the seed and a name, so each decision is independent of the others."""
    return random.Random("/".join(str(p) for p in (seed, *parts)))


def stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def even(x: float) -> int:
    return max(2, int(round(x)) // 2 * 2)


def r3(x: float) -> float:
    return round(float(x), 3)


def ffmpeg(args: list[str]) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args],
        check=True,
        timeout=FFMPEG_TIMEOUT_S,
    )


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height,r_frame_rate:format=duration", "-of", "json", str(path)],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    info = json.loads(out)
    s = info["streams"][0]
    dur = info.get("format", {}).get("duration")
    return {
        "width": s["width"],
        "height": s["height"],
        "fps": s["r_frame_rate"],
        "duration": round(float(dur), 3) if dur not in (None, "N/A") else 0.0,
    }


def fps_of(item: dict[str, Any]) -> float:
    return float(Fraction(str(item["fps"])))


def hex_colour(rng: random.Random, lo: int, hi: int) -> str:
    return "0x" + "".join(f"{rng.randint(lo, hi):02x}" for _ in range(3))


def font(size: float, name: str | None = None) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name) if name else str(FONT_BOLD), max(8, int(size)))


# --------------------------------------------------------------------------- filter graphs


class Graph:
    """The inputs and -filter_complex steps of one ffmpeg command."""

    def __init__(self) -> None:
        self.inputs: list[list[str]] = []
        self.steps: list[str] = []

    def input(self, *args: str) -> str:
        self.inputs.append([str(a) for a in args])
        return f"[{len(self.inputs) - 1}:v]"

    def add(self, src: str, filters: str, outs: int = 1) -> Any:
        labels = [f"[s{len(self.steps)}{chr(97 + i)}]" for i in range(outs)]
        self.steps.append(src + filters + "".join(labels))
        return labels[0] if outs == 1 else labels

    def args(self, last: str) -> list[str]:
        out = self.add(last, "setsar=1,format=yuv420p")
        return [a for inp in self.inputs for a in inp] + [
            "-filter_complex_threads", "1", "-filter_complex", ";".join(self.steps), "-map", out,
        ]  # fmt: skip


@dataclass
class Clip:
    """A query under construction: the current filter label and what the footage has become.

    `scale` is the footage's linear size against the reference's (None when no
    one number says it, e.g. after an anamorphic stretch); `speed` is reference
    seconds per query second; `dur` is the query's length in seconds.
    """

    v: str
    w: int
    h: int
    fps: float
    dur: float
    speed: float = 1.0
    reversed: bool = False
    scale: float | None = 1.0
    required: dict[str, str] = field(default_factory=dict)
    accepted: dict[str, str] = field(default_factory=dict)
    angles: list[float] = field(default_factory=list)
    generations: list[dict[str, Any]] = field(default_factory=list)  # reencode3: applied after the graph

    def need(self, code: str, why: str) -> None:
        self.required[code] = why
        self.accepted.pop(code, None)

    def allow(self, code: str, why: str) -> None:
        if code not in self.required:
            self.accepted[code] = why

    def rescale(self, factor: float | None) -> None:
        self.scale = None if self.scale is None or factor is None else self.scale * factor


@dataclass
class Ctx:
    """What an edit may draw on besides its clip: assets folder, other footage, the query's name."""

    qid: str
    assets: Path
    pool: list[dict[str, Any]]  # other footage (never indexed) for duets, backgrounds, compilations
    n_assets: int = 0

    def asset(self, ext: str = "png") -> Path:
        self.n_assets += 1
        return self.assets / f"{self.qid}-{self.n_assets}.{ext}"


def overlay_png(g: Graph, c: Clip, png: Path, x: str, y: str) -> None:
    """Overlay a still RGBA image for the clip's whole length at expressions x, y (of t)."""
    src = g.input("-loop", "1", "-framerate", f"{c.fps:.6g}", "-t", f"{c.dur + 1:.3f}", "-i", str(png))
    c.v = g.add(c.v + src, f"overlay=x='{x}':y='{y}':shortest=1:format=auto")


def background(g: Graph, c: Clip, ctx: Ctx, rng: random.Random, w: int, h: int, moving: bool = True) -> tuple:
    """Other footage filling w x h for the clip's length: a never-indexed item, a still of one, or a lavfi source."""
    kind = rng.choice(["item", "item", "lavfi"]) if moving else rng.choice(["still", "still", "colour"])
    if kind == "lavfi":
        src = rng.choice(LAVFI)
        spec = {
            "mandelbrot": f"mandelbrot=s={w}x{h}:rate={CANVAS_FPS}",
            "gradients": f"gradients=s={w}x{h}:rate={CANVAS_FPS}:speed=0.03:seed={rng.randint(1, 10**6)}",
            "testsrc2": f"testsrc2=s={w}x{h}:rate={CANVAS_FPS}",
        }[src]
        label = g.input("-f", "lavfi", "-t", f"{c.dur + 1:.3f}", "-i", spec.split(",")[0])
        if "," in spec:
            label = g.add(label, spec.split(",", 1)[1])
        label = g.add(label, "format=yuv420p,setsar=1")
        return label, {"kind": "lavfi", "source": src}
    if kind == "colour":
        colour = hex_colour(rng, 10, 90)
        label = g.input("-f", "lavfi", "-t", f"{c.dur + 1:.3f}", "-i", f"color=c={colour}:s={w}x{h}:r={CANVAS_FPS}")
        return g.add(label, "format=yuv420p,setsar=1"), {"kind": "colour", "colour": colour}
    item = rng.choice(ctx.pool)
    start = round(rng.uniform(0, max(0.0, item["duration"] - 2)), 2)
    fill = f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1,fps={CANVAS_FPS}"
    if kind == "still":
        png = ctx.asset()
        grab(Path(item["abs_path"]), start, png)
        label = g.input("-loop", "1", "-framerate", str(CANVAS_FPS), "-t", f"{c.dur + 1:.3f}", "-i", str(png))
        return g.add(label, fill), {"kind": "still", "item": item["id"], "at_s": start}
    label = g.input("-stream_loop", "-1", "-ss", str(start), "-i", item["abs_path"])
    return g.add(label, fill), {"kind": "video", "item": item["id"], "start_s": start}


def grab(path: Path, t: float, out: Path) -> None:
    """One frame at time t (the first frame at or after it) as an image."""
    ffmpeg(["-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1", "-update", "1", str(out)])


# --------------------------------------------------------------------------- drawing (Pillow)


def rounded_box(size: tuple[int, int], radius: int, fill: tuple, outline: tuple | None = None, width: int = 0):
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(img).rounded_rectangle(
        [0, 0, size[0] - 1, size[1] - 1], radius=radius, fill=fill, outline=outline, width=width
    )
    return img


def centred_text(img: Image.Image, text: str, fill: tuple, max_w: float, max_h: float, stroke: tuple | None = None):
    """Draw text as large as fits max_w x max_h, centred on img."""
    draw = ImageDraw.Draw(img)
    size = int(max_h)
    while size > 8:
        f = font(size)
        box = draw.textbbox((0, 0), text, font=f, stroke_width=max(1, size // 14) if stroke else 0)
        if box[2] - box[0] <= max_w and box[3] - box[1] <= max_h:
            break
        size = int(size * 0.9)
    f = font(size)
    sw = max(1, size // 14) if stroke else 0
    box = draw.textbbox((0, 0), text, font=f, stroke_width=sw)
    x = (img.width - (box[2] - box[0])) / 2 - box[0]
    y = (img.height - (box[3] - box[1])) / 2 - box[1]
    draw.text((x, y), text, font=f, fill=fill, stroke_width=sw, stroke_fill=stroke)


def draw_sticker(kind: str, w: int, h: int, rng: random.Random) -> Image.Image:
    """An opaque sticker: an emoji-like face disc, a heart, a star, or a rounded badge with a symbol."""
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if kind == "face":
        skin = rng.choice([(255, 204, 51), (255, 221, 85), (250, 190, 40)])
        d.ellipse([0, 0, w - 1, h - 1], fill=(*skin, 255), outline=(120, 80, 0, 255), width=max(2, w // 40))
        ey, ex, er = h * 0.38, w * 0.3, w * 0.07
        for cx in (ex, w - ex):
            d.ellipse([cx - er, ey - er * 1.4, cx + er, ey + er * 1.4], fill=(60, 40, 20, 255))
        mood = rng.choice(["smile", "laugh", "shock"])
        if mood == "shock":
            d.ellipse([w * 0.4, h * 0.58, w * 0.6, h * 0.82], fill=(90, 30, 20, 255))
        else:
            d.chord([w * 0.22, h * 0.45, w * 0.78, h * 0.85], 0, 180, fill=(90, 30, 20, 255))
            if mood == "laugh":
                for cx in (w * 0.12, w * 0.88):
                    d.ellipse([cx - w * 0.06, h * 0.45, cx + w * 0.06, h * 0.62], fill=(80, 170, 255, 255))
    elif kind == "heart":
        col = rng.choice([(235, 30, 60), (255, 60, 150), (200, 0, 40)])
        r = w * 0.27
        d.ellipse([w * 0.02, h * 0.05, w * 0.02 + 2 * r, h * 0.05 + 2 * r], fill=(*col, 255))
        d.ellipse([w * 0.98 - 2 * r, h * 0.05, w * 0.98, h * 0.05 + 2 * r], fill=(*col, 255))
        d.polygon([(w * 0.03, h * 0.33), (w * 0.97, h * 0.33), (w * 0.5, h * 0.97)], fill=(*col, 255))
        d.rectangle([w * 0.25, h * 0.2, w * 0.75, h * 0.4], fill=(*col, 255))
    elif kind == "star":
        col = rng.choice([(255, 215, 0), (255, 140, 0), (80, 200, 255)])
        pts = []
        for k in range(10):
            a = -math.pi / 2 + k * math.pi / 5
            rad = 0.5 if k % 2 == 0 else 0.21
            pts.append((w / 2 + rad * w * math.cos(a), h / 2 + rad * h * math.sin(a) + h * 0.04))
        d.polygon(pts, fill=(*col, 255), outline=(90, 60, 0, 255), width=max(2, w // 50))
    else:  # badge: rounded rectangle with a symbol
        col = tuple(rng.randint(0, 255) for _ in range(3))
        img = rounded_box((w, h), int(min(w, h) * rng.uniform(0.15, 0.45)), (*col, 255), (255, 255, 255, 255),
                          max(2, min(w, h) // 25))  # fmt: skip
        text = (255, 255, 255, 255) if sum(col) < 400 else (0, 0, 0, 255)
        centred_text(img, rng.choice(SYMBOLS), text, w * 0.8, h * 0.6)
    return img


def text_width(text: str, f: ImageFont.FreeTypeFont) -> float:
    box = f.getbbox(text)
    return box[2] - box[0]


def wrap(text: str, f: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and text_width(trial, f) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def handle(rng: random.Random) -> str:
    return "@" + "".join(rng.sample(HANDLE_PARTS, 2)) + (str(rng.randint(1, 999)) if rng.random() < 0.6 else "")


def moire_pattern(w: int, h: int, rng: random.Random, opacity: float) -> Image.Image:
    """Two fine gratings at slightly different angles: their beat is the moire of a filmed screen."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(2.5, 4.5)
    a1 = math.radians(rng.uniform(-20, 20))
    a2 = a1 + math.radians(rng.choice([-1, 1]) * rng.uniform(1.5, 6))
    g1 = np.cos(2 * np.pi * (xx * math.cos(a1) + yy * math.sin(a1)) / period)
    g2 = np.cos(2 * np.pi * (xx * math.cos(a2) + yy * math.sin(a2)) / (period * rng.uniform(0.97, 1.03)))
    pattern = (1 + g1) * (1 + g2) / 4  # 0..1
    alpha = (255 * opacity * pattern).clip(0, 255).astype(np.uint8)
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 3] = alpha
    return Image.fromarray(rgba, "RGBA")


def draw_face(w: int, h: int, rng: random.Random) -> Image.Image:
    """A reaction-cam stand-in: a cartoon head and shoulders on a coloured backdrop, in a rounded box."""
    back = tuple(rng.randint(40, 200) for _ in range(3))
    img = rounded_box((w, h), int(min(w, h) * 0.12), (*back, 255), (255, 255, 255, 255), max(2, w // 40))
    d = ImageDraw.Draw(img)
    skin = rng.choice([(241, 194, 125), (224, 172, 105), (141, 85, 36), (198, 134, 66), (255, 219, 172)])
    shirt = tuple(rng.randint(0, 255) for _ in range(3))
    d.ellipse([w * 0.12, h * 0.68, w * 0.88, h * 1.3], fill=(*shirt, 255))
    d.ellipse([w * 0.3, h * 0.18, w * 0.7, h * 0.72], fill=(*skin, 255))
    hair = rng.choice([(30, 20, 10), (90, 60, 20), (200, 170, 90), (20, 20, 20)])
    d.chord([w * 0.28, h * 0.12, w * 0.72, h * 0.5], 180, 360, fill=(*hair, 255))
    for cx in (0.42, 0.58):
        d.ellipse([w * (cx - 0.03), h * 0.4, w * (cx + 0.03), h * 0.47], fill=(20, 20, 20, 255))
    d.ellipse([w * 0.44, h * 0.55, w * 0.56, h * 0.66], fill=(120, 30, 30, 255))  # open mouth
    return img


# --------------------------------------------------------------------------- the edits
#
# Each edit draws its parameters from rng, adds its filters after c.v, updates the
# clip (size, rate, length, speed, footage scale, the alteration codes it
# justifies) and returns the parameters for truth.json.


def e_stickers(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    n = rng.randint(2, 4)
    moving = set(rng.sample(range(n), rng.randint(1, n)))
    stickers = []
    for k in range(n):
        kind = rng.choice(["face", "heart", "star", "badge", "badge"])
        area = rng.uniform(0.08, 0.25)
        if kind == "badge":
            aspect = rng.uniform(0.7, 1.8)
            sw, sh = math.sqrt(area * c.w * c.h * aspect), math.sqrt(area * c.w * c.h / aspect)
        elif kind == "face":
            sw = sh = math.sqrt(4 * area * c.w * c.h / math.pi)
        else:
            sw = sh = math.sqrt(area * c.w * c.h / 0.62)  # hearts and stars fill ~62% of their box
        sw, sh = min(int(sw), int(c.w * 0.95)), min(int(sh), int(c.h * 0.95))
        png = ctx.asset()
        draw_sticker(kind, sw, sh, rng).save(png)
        x0, y0 = rng.randint(0, c.w - sw), rng.randint(0, c.h - sh)
        rec = {"kind": kind, "area_fraction": r3(area), "box_fraction": r3(sw * sh / (c.w * c.h)), "size": [sw, sh],
               "from": [x0, y0]}  # fmt: skip
        if k in moving:
            x1, y1 = rng.randint(0, c.w - sw), rng.randint(0, c.h - sh)
            d = max(c.dur, 0.1)
            x, y = f"{x0}+({x1 - x0})*t/{d:.3f}", f"{y0}+({y1 - y0})*t/{d:.3f}"
            rec["to"] = [x1, y1]
        else:
            x, y = str(x0), str(y0)
        overlay_png(g, c, png, x, y)
        stickers.append(rec)
    c.need("overlay", f"{n} opaque stickers")
    return {"stickers": stickers, "moving": len(moving)}


def e_tilt(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    angle = rng.choice([-1, 1]) * rng.uniform(2, 10)
    a = math.radians(abs(angle))
    cover = math.cos(a) + max(c.w / c.h, c.h / c.w) * math.sin(a)  # the zoom that hides the corners
    zoom = cover * (1 + rng.uniform(0, 0.05))
    c.v = g.add(c.v, f"scale={even(c.w * zoom)}:{even(c.h * zoom)},"
                     f"rotate={math.radians(angle):.6f}:ow={c.w}:oh={c.h}:c=black")  # fmt: skip
    c.angles.append(angle)
    c.need("rotated", f"tilted {angle:.1f} deg clockwise")
    c.allow("cropped", f"zoomed x{zoom:.2f} to hide the corners")
    c.rescale(zoom)
    return {"angle_deg_clockwise": r3(angle), "zoom": r3(zoom)}


def e_zoom_progressive(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    """A zoom from the full frame to 50-70% of it (or back), its centre drifting, drawn by `perspective`.

    `perspective` (sense=source) maps the crop window of each frame onto the
    whole frame, with sub-pixel positions. (zoompan would do it, but its end of
    stream confuses the filters after it: an `fps` downstream repeats frames
    without end.)
    """
    keep = rng.uniform(0.5, 0.7)
    direction = rng.choice(["in", "out"])
    cx, cy = (rng.uniform(keep / 2, 1 - keep / 2) for _ in range(2))
    n = max(2, round(c.dur * c.fps))
    u = f"min(1,in/{n - 1})" if direction == "in" else f"max(0,1-in/{n - 1})"
    half = f"(1-{1 - keep:.4f}*{u})/2"
    left, right = f"W*(0.5+({cx - 0.5:.4f})*{u}-{half})", f"W*(0.5+({cx - 0.5:.4f})*{u}+{half})"
    top, bottom = f"H*(0.5+({cy - 0.5:.4f})*{u}-{half})", f"H*(0.5+({cy - 0.5:.4f})*{u}+{half})"
    pts = [left, top, right, top, left, bottom, right, bottom]
    c.v = g.add(
        c.v,
        "perspective="
        + ":".join(f"{'xy'[k % 2]}{k // 2}='{p}'" for k, p in enumerate(pts))
        + ":sense=source:interpolation=cubic:eval=frame",
    )
    c.need("cropped", f"zoom {direction} to {keep:.0%} of the frame")
    return {"keep_at_end" if direction == "in" else "keep_at_start": r3(keep), "direction": direction,
            "centre_at_full_zoom": [r3(cx), r3(cy)]}  # fmt: skip


def fit_into(c: Clip, W: int, H: int, mode: str) -> tuple[str, float, int, int]:
    """Filters that fit (letterbox) or fill (crop) the clip into W x H; the scale and the scaled size."""
    if mode == "fit":
        s = min(W / c.w, H / c.h)
        fw, fh = even(c.w * s), even(c.h * s)
        return f"scale={fw}:{fh},pad={W}:{H}:(ow-iw)/2:(oh-ih)/2:black", s, fw, fh
    s = max(W / c.w, H / c.h)
    return f"scale={even(c.w * s + 1)}:{even(c.h * s + 1)},crop={W}:{H}", s, W, H


def e_duet(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    W, H = rng.choice([(1280, 720), (720, 1280), (1080, 1080)])
    layout = rng.choice(["side_by_side", "top_bottom"])
    hw, hh = (W // 2, H) if layout == "side_by_side" else (W, H // 2)
    mode = rng.choice(["fit", "fill"])
    if mode == "fill" and min(hw / c.w, hh / c.h) / max(hw / c.w, hh / c.h) < 0.3:
        mode = "fit"  # filling would keep under 30% of the picture's width or height
    first = rng.random() < 0.5
    chain, s, fw, fh = fit_into(c, hw, hh, mode)
    clip = g.add(c.v, f"{chain},setsar=1,fps={CANVAS_FPS}")
    other, other_rec = background(g, c, ctx, rng, hw, hh, moving=True)
    a, b = (clip, other) if first else (other, clip)
    c.v = g.add(a + b, ("hstack" if layout == "side_by_side" else "vstack") + "=inputs=2:shortest=1")
    c.w, c.h, c.fps = W, H, CANVAS_FPS
    c.rescale(s)
    c.need("picture_in_picture", f"duet: the clip in the {'first' if first else 'second'} half, other footage beside")
    if mode == "fill":
        c.need("cropped", "duet: the clip cropped to fill its half")
    else:
        c.allow("reframed", "duet: the clip fitted into its half with bars")
    return {"canvas": [W, H], "layout": layout, "clip_half": "first" if first else "second", "fit": mode,
            "footage_size": [fw, fh], "other": other_rec}  # fmt: skip


def e_screen_recording(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    W, H = rng.choice([(1280, 720), (960, 540), (720, 1280)])
    share = rng.uniform(0.55, 0.85) if W > H else rng.uniform(0.8, 0.95)
    s = min(W * share / c.w, H * 0.8 / c.h)
    fw, fh = even(c.w * s), even(c.h * s)
    bezel = even(max(4, fw * rng.uniform(0.015, 0.05)))
    grey = rng.randint(12, 45)
    room = hex_colour(rng, 15, 70)
    mx = even((W - fw - 2 * bezel) * rng.uniform(0.3, 0.7))
    my = even((H - fh - 2 * bezel) * rng.uniform(0.3, 0.7))
    mon = g.add(c.v, f"scale={fw}:{fh},setsar=1,fps={CANVAS_FPS},"
                     f"pad={fw + 2 * bezel}:{fh + 2 * bezel}:{bezel}:{bezel}:color=0x{grey:02x}{grey:02x}{grey:02x}")  # fmt: skip
    shake = rng.random() < 0.5
    pw, ph = (even(W * 1.04), even(H * 1.04)) if shake else (W, H)
    bg = g.input("-f", "lavfi", "-t", f"{c.dur + 1:.3f}", "-i", f"color=c={room}:s={pw}x{ph}:r={CANVAS_FPS}")
    ox, oy = mx + (pw - W) // 2, my + (ph - H) // 2
    v = g.add(bg + mon, f"overlay={ox}:{oy}:shortest=1")
    # Perspective: each corner of the frame moves by up to 3-10% (keystone of a phone held at an angle).
    amount = rng.uniform(0.03, 0.10)
    corners = []
    for cxn, cyn in ((0, 0), (1, 0), (0, 1), (1, 1)):
        dx = rng.uniform(-amount, amount) * pw
        dy = rng.uniform(-amount, amount) * ph
        corners += [round(cxn * pw + dx), round(cyn * ph + dy)]
    v = g.add(v, "perspective=" + ":".join(str(p) for p in corners) + ":sense=destination:interpolation=linear")
    tint = {k: round(rng.uniform(-0.12, 0.12), 3) for k in ("rm", "gm", "bm")}
    blur = rng.uniform(0.5, 1.6)
    vign = rng.uniform(math.pi / 6, math.pi / 3)
    noise = rng.randint(4, 14)
    v = g.add(v, f"colorbalance=rm={tint['rm']}:gm={tint['gm']}:bm={tint['bm']},"
                 f"vignette=angle={vign:.3f},gblur=sigma={blur:.2f}")  # fmt: skip
    opacity = rng.uniform(0.06, 0.2)
    png = ctx.asset()
    moire_pattern(pw, ph, rng, opacity).save(png)
    c.v = v
    c.fps = CANVAS_FPS
    overlay_png(g, c, png, "0", "0")
    seed = rng.randint(1, 10**6)
    v = g.add(c.v, f"noise=alls={noise}:allf=t+u:all_seed={seed}")
    if shake:
        amp, freq = rng.uniform(2, (pw - W) / 2 - 1), rng.uniform(0.7, 3)
        v = g.add(v, f"crop={W}:{H}:x='{(pw - W) // 2}+{amp:.2f}*sin(2*PI*{freq:.3f}*t)':"
                     f"y='{(ph - H) // 2}+{amp:.2f}*cos(2*PI*{freq * 0.8:.3f}*t)'")  # fmt: skip
    c.v, c.w, c.h = v, W, H
    c.rescale(s)
    for code, why in (("picture_in_picture", "shown on a monitor inside the frame"),
                      ("reframed", "monitor and bezel around the picture"), ("colour_changed", "tint, vignette"),
                      ("blurred", f"gblur {blur:.1f}"), ("overlay", "moire pattern"), ("rotated", "perspective"),
                      ("cropped", "perspective may cut a corner")):  # fmt: skip
        c.allow(code, why)
    return {"canvas": [W, H], "footage_size": [fw, fh], "bezel_px": bezel, "bezel_grey": grey, "room": room,
            "perspective_corners": corners, "perspective_amount": r3(amount), "tint": tint, "blur_sigma": r3(blur),
            "vignette_angle": r3(vign), "moire_opacity": r3(opacity), "noise": noise, "shake": shake}  # fmt: skip


def e_reencode3(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    short = min(c.w, c.h)
    sizes = [s for s in (144, 180, 240, 270, 360, 432, 480, 540, 576, 720) if s <= max(short, 144)]
    picks = rng.sample(sizes, 3) if len(sizes) >= 3 else [rng.choice(sizes) for _ in range(3)]
    gens = []
    w, h = c.w, c.h
    for k, s in enumerate(picks):
        f = s / min(w, h)
        nw, nh = even(w * f), even(h * f)
        kbps = max(50, round(nw * nh / 1000 * rng.uniform(0.25, 1.0)))
        gens.append({"size": [nw, nh], "kbps": kbps, "preset": rng.choice(["veryfast", "faster", "medium"]),
                     "generation": k + 1})  # fmt: skip
        w, h = nw, nh
    c.generations = gens
    c.rescale(w / c.w)
    c.w, c.h = w, h
    c.allow("blurred", "three lossy generations")
    return {"generations": gens}


def e_watermark_moving(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    text = (
        handle(rng) if rng.random() < 0.7 else rng.choice(["tiktok.com/", "instagram.com/", "x.com/"]) + handle(rng)[1:]
    )
    txt = ctx.asset("txt")
    txt.write_text(text)
    size = even(c.h * rng.uniform(0.04, 0.12))
    opacity = rng.uniform(0.25, 0.7)
    colour = rng.choice(["white", "black", "yellow"])
    path = rng.choice(["linear", "bounce", "ticker"])
    d = max(c.dur, 0.1)
    if path == "linear":
        x0, x1 = rng.uniform(0, 0.9), rng.uniform(0, 0.9)
        y0, y1 = rng.uniform(0, 0.9), rng.uniform(0, 0.9)
        x = f"(w-tw)*({x0:.3f}+({x1 - x0:.3f})*t/{d:.3f})"
        y = f"(h-th)*({y0:.3f}+({y1 - y0:.3f})*t/{d:.3f})"
        rec: dict[str, Any] = {"from": [r3(x0), r3(y0)], "to": [r3(x1), r3(y1)]}
    elif path == "bounce":
        vx, vy = rng.uniform(40, 200), rng.uniform(30, 150)
        x = f"abs(mod({vx:.1f}*t+{rng.uniform(0, 500):.0f},2*(w-tw))-(w-tw))"
        y = f"abs(mod({vy:.1f}*t+{rng.uniform(0, 500):.0f},2*(h-th))-(h-th))"
        rec = {"velocity_px_s": [r3(vx), r3(vy)]}
    else:
        speed = rng.uniform(60, 250)
        x = f"w-mod({speed:.1f}*t,w+tw)"
        y = f"(h-th)*{rng.uniform(0.05, 0.95):.3f}"
        rec = {"velocity_px_s": [r3(-speed), 0]}
    border = rng.random() < 0.5
    c.v = g.add(
        c.v,
        f"drawtext=fontfile={FONTS / rng.choice(FONT_CHOICES)}:textfile={txt}:expansion=none:fontsize={size}:"
        f"fontcolor={colour}@{opacity:.2f}:x='{x}':y='{y}'"
        + (f":borderw={max(1, size // 16)}:bordercolor=black@{opacity / 2:.2f}" if border else ""),
    )
    c.need("overlay", f"moving watermark {text!r}")
    return {"text": text, "font_size": size, "opacity": r3(opacity), "colour": colour, "path": path, **rec,
            "border": border}  # fmt: skip


def e_letterbox_other(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    """16:9 into a 9:16 frame with bars above and below; or a 9:16 picture into 16:9 with bars at the sides.

    Every reference is landscape, so the second kind first makes a vertical
    version of the footage (a centre crop to 9:16, as re-posts of vertical
    uploads are) and pillarboxes that.
    """
    vertical_first = c.w > c.h and rng.random() < 0.3
    crop: dict[str, Any] = {}
    if vertical_first:
        cw = min(c.w, even(c.h * 9 / 16))
        x = even((c.w - cw) * rng.uniform(0.35, 0.65))
        c.v = g.add(c.v, f"crop={cw}:{c.h}:{x}:0")
        c.need("cropped", f"a 9:16 crop keeping {cw / c.w:.0%} of the width")
        crop = {"vertical_crop": {"size": [cw, c.h], "x": x}}
        c.w = cw
    portrait = c.h > c.w
    W, H = rng.choice([(1280, 720), (1920, 1080), (960, 540)] if portrait else [(720, 1280), (1080, 1920), (540, 960)])
    s = min(W / c.w, H / c.h)
    fw, fh = even(c.w * s), even(c.h * s)
    shift = rng.uniform(-0.1, 0.1)
    bar = rng.randint(0, 16)
    x = even((W - fw) / 2 + (shift * W if portrait else 0))
    y = even((H - fh) / 2 + (0 if portrait else shift * H))
    x, y = min(max(0, x), W - fw), min(max(0, y), H - fh)
    c.v = g.add(c.v, f"scale={fw}:{fh},pad={W}:{H}:{x}:{y}:color=0x{bar:02x}{bar:02x}{bar:02x}")
    c.w, c.h = W, H
    c.rescale(s)
    c.need("reframed", f"{'pillarbox' if portrait else 'letterbox'} into {W}x{H}")
    return {"canvas": [W, H], "kind": "pillarbox" if portrait else "letterbox", "footage_size": [fw, fh],
            "offset": [x, y], "bar_grey": bar, **crop}  # fmt: skip


def e_anamorphic(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    axis = rng.choice(["horizontal", "vertical"])
    factor = rng.uniform(1.15, 1.5)
    mode = rng.choice(["grow", "squeeze", "crop_back"])
    sx, sy = (factor, 1.0) if axis == "horizontal" else (1.0, factor)
    if mode == "squeeze":
        sx, sy = sx / factor, sy / factor
    nw, nh = even(c.w * sx), even(c.h * sy)
    chain = f"scale={nw}:{nh}"
    if mode == "crop_back":
        chain += f",crop={c.w}:{c.h}"
        c.need("cropped", "stretched then cropped back to the frame")
        nw, nh = c.w, c.h
    c.v = g.add(c.v, chain + ",setsar=1")
    c.w, c.h = nw, nh
    c.scale = None
    for code, why in (("reframed", "aspect ratio changed"), ("downscaled", "one axis squeezed"),
                      ("cropped", "stretch")):  # fmt: skip
        c.allow(code, why)
    return {"axis": axis, "factor": r3(factor), "mode": mode, "axis_scales": [r3(sx), r3(sy)]}


def e_reversed(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    c.v = g.add(c.v, "reverse")
    c.reversed = not c.reversed
    c.need("reversed", "played backwards")
    return {}


def e_speed(g: Graph, c: Clip, rng: random.Random, ctx: Ctx, factor: float | None = None) -> dict[str, Any]:
    f = factor if factor is not None else rng.choice([rng.uniform(0.4, 0.75), rng.uniform(1.4, 2.5)])
    c.v = g.add(c.v, f"setpts=(PTS-STARTPTS)/{f:.5f},fps={c.fps:.6g}")
    c.dur /= f
    c.speed *= f
    c.need("speed_changed", f"speed x{f:.3f} (reference s per query s)")
    return {"speed_factor": round(f, 4)}


def e_crop_fill_vertical(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    W, H = rng.choice([(1080, 1920), (720, 1280)])
    cw = min(c.w, even(c.h * 9 / 16))
    ch = even(cw * 16 / 9) if cw < c.w else c.h
    ch = min(ch, c.h)
    d0, d1 = rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)
    lo, hi = 0, c.w - cw
    x0 = min(max(lo, (c.w - cw) / 2 + d0 * c.w), hi)
    x1 = min(max(lo, (c.w - cw) / 2 + d1 * c.w), hi)
    d = max(c.dur, 0.1)
    c.v = g.add(c.v, f"crop={cw}:{ch}:x='{x0:.1f}+({x1 - x0:.1f})*t/{d:.3f}':y={(c.h - ch) // 2},scale={W}:{H}")
    c.rescale(H / ch)
    kept = cw / c.w
    c.w, c.h = W, H
    c.need("cropped", f"centre-crop to 9:16 keeping {kept:.0%} of the width")
    return {"canvas": [W, H], "crop_size": [cw, ch], "centre_offset_from": r3(d0), "centre_offset_to": r3(d1),
            "width_kept": r3(kept)}  # fmt: skip


def place(rng: random.Random, W: int, H: int, fw: int, fh: int) -> tuple[int, int, str]:
    mode = rng.choice(["free", "edge", "corner"])
    x, y = rng.randint(0, W - fw), rng.randint(0, H - fh)
    if mode == "edge":
        side = rng.choice("lrtb")
        x = 0 if side == "l" else W - fw if side == "r" else x
        y = 0 if side == "t" else H - fh if side == "b" else y
    elif mode == "corner":
        x = rng.choice([0, W - fw])
        y = rng.choice([0, H - fh])
    return even(x) if x < W - fw else W - fw, even(y) if y < H - fh else H - fh, mode


def inner_picture(g: Graph, c: Clip, label: str, w: int, h: int, fw: int, fh: int, rng: random.Random):
    """Scale a label to fw x fh, with an optional border; return the label, the border and the outer size."""
    border = rng.choice([0, 0, rng.randint(2, 10)])
    colour = rng.choice(["white", "black", "0x2080ff", "0xffcc00"])
    chain = f"scale={fw}:{fh},setsar=1,fps={CANVAS_FPS}"
    if border:
        chain += f",pad={fw + 2 * border}:{fh + 2 * border}:{border}:{border}:color={colour}"
    return g.add(label, chain), ({"px": border, "colour": colour} if border else None), fw + 2 * border, fh + 2 * border


def e_pip_varied(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    W, H = rng.choice([(1280, 720), (1280, 720), (720, 1280), (1080, 1080)])
    share = rng.uniform(0.2, 0.8)
    s = min(W * share / c.w, (H - 24) / c.h)
    fw, fh = even(c.w * s), even(c.h * s)
    moving = rng.random() < 0.5
    bg, bg_rec = background(g, c, ctx, rng, W, H, moving=moving)
    inner, border, ow, oh = inner_picture(g, c, c.v, W, H, fw, fh, rng)
    x, y, mode = place(rng, W, H, ow, oh)
    c.v = g.add(bg + inner, f"overlay={x}:{y}:shortest=1")
    c.w, c.h, c.fps = W, H, CANVAS_FPS
    c.rescale(s)
    c.need("picture_in_picture", f"inside other footage at {fw / W:.0%} of the width")
    return {"canvas": [W, H], "width_share": r3(fw / W), "footage_size": [fw, fh], "position": [x, y],
            "placement": mode, "border": border, "background": bg_rec}  # fmt: skip


def e_pip_multi(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    W, H = rng.choice([(1280, 720), (720, 1280)])
    horizontal = W > H
    slot_w, slot_h = (W // 2, H) if horizontal else (W, H // 2)
    bg, bg_rec = background(g, c, ctx, rng, W, H, moving=rng.random() < 0.5)
    other, other_rec = background(g, c, ctx, rng, 640, 360, moving=True)
    first = rng.random() < 0.5
    recs = []
    for k, (label, aspect, what) in enumerate(((c.v, c.w / c.h, "clip"), (other, 16 / 9, "other"))):
        share = rng.uniform(0.25, 0.5)
        fw = even(min(W * share, slot_w - 24))
        fh = even(fw / aspect)
        if fh > slot_h - 24:
            fh = even(slot_h - 24)
            fw = even(fh * aspect)
        inner, border, ow, oh = inner_picture(g, c, label, W, H, fw, fh, rng)
        slot = k if first else 1 - k
        sx, sy = (slot * slot_w, 0) if horizontal else (0, slot * slot_h)
        x = sx + rng.randint(0, slot_w - ow)
        y = sy + rng.randint(0, slot_h - oh)
        bg = g.add(bg + inner, f"overlay={x}:{y}:shortest=1")
        recs.append({"what": what, "footage_size": [fw, fh], "position": [x, y], "border": border})
        if what == "clip":
            s = fw / c.w
    c.v = bg
    c.w, c.h, c.fps = W, H, CANVAS_FPS
    c.rescale(s)
    c.need("picture_in_picture", "one of two inner pictures over other footage")
    return {"canvas": [W, H], "pictures": recs, "background": bg_rec, "other": other_rec}


def e_caption(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    text = rng.choice(CAPTIONS)
    txt = ctx.asset("txt")
    txt.write_text(text)
    size = even(min(c.h / 12, 1.5 * c.w / max(8, len(text))))
    where = rng.choice(["top", "bottom"])
    y = "h/12" if where == "top" else "h-th-h/10"
    c.v = g.add(c.v, f"drawtext=fontfile={FONT_BOLD}:textfile={txt}:expansion=none:fontsize={size}:fontcolor=white:"
                     f"borderw={max(2, size // 12)}:bordercolor=black:x=(w-tw)/2:y={y}")  # fmt: skip
    c.need("overlay", f"caption {text!r}")
    return {"text": text, "font_size": size, "where": where}


def e_lowres(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    nh = min(c.h, rng.choice([240, 270, 360]))
    nw = even(c.w * nh / c.h)
    c.v = g.add(c.v, f"scale={nw}:{nh}")
    c.rescale(nh / c.h)
    c.w, c.h = nw, nh
    kbps = rng.choice([150, 200, 250, 300])
    c.generations = [{"size": [nw, nh], "kbps": kbps, "preset": "veryfast", "generation": 1}]
    return {"height": nh, "kbps": kbps}


def e_crop(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    keep = rng.uniform(0.6, 0.85)
    c.v = g.add(c.v, f"crop={even(c.w * keep)}:{even(c.h * keep)},scale={c.w}:{c.h}")
    c.rescale(1 / keep)
    c.need("cropped", f"centre {keep:.0%} scaled back up")
    return {"keep": r3(keep)}


def e_hflip(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    c.v = g.add(c.v, "hflip")
    c.need("mirrored", "hflip")
    return {}


# ---- edits of our own


def e_reaction_subtitle(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    """A reaction-cam box in a corner (a drawn face, or other footage) and a changing subtitle bar."""
    fw = even(c.w * rng.uniform(0.18, 0.32))
    fh = even(fw * rng.uniform(1.0, 1.35))
    fh = min(fh, even(c.h * 0.45))
    margin = even(c.w * rng.uniform(0, 0.04))
    corner = rng.choice(["tl", "tr", "bl", "br"])
    x = margin if corner[1] == "l" else c.w - fw - margin
    y0 = margin if corner[0] == "t" else c.h - fh - margin - even(c.h * 0.16)
    y0 = max(0, y0)
    face_kind = rng.choice(["drawn", "footage"])
    if face_kind == "drawn":
        png = ctx.asset()
        draw_face(fw, fh, rng).save(png)
        bob, freq = rng.uniform(0, c.h * 0.015), rng.uniform(0.5, 2)
        overlay_png(g, c, png, str(x), f"{y0}+{bob:.1f}*sin(2*PI*{freq:.2f}*t)")
        face: dict[str, Any] = {"kind": "drawn", "bob_px": r3(bob)}
    else:
        other, other_rec = background(g, c, ctx, rng, fw, fh, moving=True)
        c.v = g.add(c.v + other, f"overlay={x}:{y0}:shortest=1")
        face = {"kind": "footage", "source": other_rec}
    lines = rng.sample(SUBTITLES, 3)
    size = even(min(c.h * rng.uniform(0.045, 0.075), 1.6 * c.w / max(len(s) for s in lines)))
    bar_h = even(size * 2.0)
    alpha = rng.uniform(0.45, 0.85)
    chain = f"drawbox=x=0:y=ih-{bar_h}-ih/30:w=iw:h={bar_h}:color=black@{alpha:.2f}:t=fill"
    step = c.dur / 3
    for k, line in enumerate(lines):
        txt = ctx.asset("txt")
        txt.write_text(line)
        chain += (
            f",drawtext=fontfile={FONT}:textfile={txt}:expansion=none:fontsize={size}:fontcolor=white:"
            f"x=(w-tw)/2:y=h-{bar_h}-h/30+({bar_h}-th)/2:enable='between(t,{k * step:.3f},{(k + 1) * step:.3f})'"
        )
    c.v = g.add(c.v, chain)
    c.need("overlay", "reaction box in a corner and a subtitle bar")
    return {"face": face, "box": [x, y0, fw, fh], "corner": corner, "subtitles": lines, "bar_alpha": r3(alpha)}


def e_vintage_grain(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    preset = rng.choice(["vintage", "cross_process", "darker", "lighter", "medium_contrast"])
    sepia = rng.uniform(0.0, 0.8)
    m = [0.393, 0.769, 0.189, 0.349, 0.686, 0.168, 0.272, 0.534, 0.131]
    mix = [(1 - sepia) * (1.0 if k in (0, 4, 8) else 0.0) + sepia * v for k, v in enumerate(m)]
    grain = rng.randint(8, 30)
    flicker = rng.uniform(0, 0.05)
    blur = rng.uniform(0, 1.2)
    chain = (
        f"curves=preset={preset},colorchannelmixer="
        + ":".join(
            f"{k}={v:.3f}" for k, v in zip(("rr", "rg", "rb", "gr", "gg", "gb", "br", "bg", "bb"), mix, strict=True)
        )
        + f",eq=brightness='{flicker:.3f}*sin(2*PI*7*t)':eval=frame,vignette=angle={rng.uniform(0.4, 0.9):.3f}"
        + f",noise=alls={grain}:allf=t+u:all_seed={rng.randint(1, 10**6)}"
    )
    if blur > 0.3:
        chain += f",gblur=sigma={blur:.2f}"
        c.allow("blurred", f"gblur {blur:.1f}")
    c.v = g.add(c.v, chain)
    c.need("colour_changed", f"curves {preset}, sepia {sepia:.2f}, vignette")
    c.allow("blurred", "film grain")
    return {"curves": preset, "sepia": r3(sepia), "grain": grain, "flicker": r3(flicker), "blur_sigma": r3(blur)}


def e_fps_blend(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    target = rng.choice([t for t in (8, 10, 12, 15) if t < c.fps * 0.9] or [max(4, round(c.fps / 2))])
    frames = rng.randint(2, 5)
    c.v = g.add(c.v, f"tmix=frames={frames},fps={target}")
    c.fps = target
    c.allow("blurred", f"{frames} frames blended")
    return {"fps": target, "blended_frames": frames}


def e_bw_mirror_crop(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    keep = rng.uniform(0.65, 0.9)
    cw, ch = even(c.w * keep), even(c.h * keep)
    x, y = even((c.w - cw) * rng.random()), even((c.h - ch) * rng.random())
    c.v = g.add(c.v, f"hue=s=0,hflip,crop={cw}:{ch}:{x}:{y},scale={c.w}:{c.h}")
    c.rescale(1 / keep)
    c.need("greyscale", "black and white")
    c.need("mirrored", "hflip")
    c.need("cropped", f"{keep:.0%} crop at ({x}, {y})")
    c.allow("colour_changed", "black and white")
    return {"keep": r3(keep), "crop_at": [x, y]}


def e_blur_bg_zoom(g: Graph, c: Clip, rng: random.Random, ctx: Ctx) -> dict[str, Any]:
    W, H = rng.choice([(720, 1280), (1080, 1920), (1080, 1350)])
    zoom = rng.uniform(1.1, 1.5)
    s = W / c.w * zoom
    fw, fh = even(c.w * s), even(c.h * s)
    fh = min(fh, H)
    sigma = rng.uniform(10, 40)
    a, b = g.add(c.v, "split", outs=2)
    cover = max(W / c.w, H / c.h)
    bg = g.add(a, f"scale={even(c.w * cover + 1)}:{even(c.h * cover + 1)},crop={W}:{H},gblur=sigma={sigma:.1f}")
    fg = g.add(b, f"scale={fw}:{fh},crop={W}:{fh}")
    dy = rng.uniform(-0.1, 0.1)
    c.v = g.add(bg + fg, f"overlay=0:(H-h)/2+{dy * H:.0f}")
    c.w, c.h = W, H
    c.rescale(s)
    c.need("reframed", "vertical frame over a blurred copy")
    c.need("cropped", f"zoomed x{zoom:.2f}: the sides cut off")
    return {"canvas": [W, H], "zoom": r3(zoom), "blur_sigma": r3(sigma), "vertical_shift": r3(dy)}


EDITS: dict[str, Callable[..., dict[str, Any]]] = {
    "stickers": e_stickers, "tilt": e_tilt, "zoom_progressive": e_zoom_progressive, "duet": e_duet,
    "screen_recording": e_screen_recording, "reencode3": e_reencode3, "watermark_moving": e_watermark_moving,
    "letterbox_other": e_letterbox_other, "anamorphic": e_anamorphic, "reversed": e_reversed, "speed": e_speed,
    "crop_fill_vertical": e_crop_fill_vertical, "pip_varied": e_pip_varied, "pip_multi": e_pip_multi,
    "caption": e_caption, "lowres": e_lowres, "crop": e_crop, "hflip": e_hflip,
    "reaction_subtitle": e_reaction_subtitle, "vintage_grain": e_vintage_grain, "fps_blend": e_fps_blend,
    "bw_mirror_crop": e_bw_mirror_crop, "blur_bg_zoom": e_blur_bg_zoom,
}  # fmt: skip


# --------------------------------------------------------------------------- rendering a query


def encode(g: Graph, c: Clip, out: Path, work: Path) -> None:
    """Encode the graph's output; then any further lossy generations (reencode3, lowres) one after the other.

    The output stops at the clip's length (`-t`): a looped still or other footage
    under the clip must not outlast it, whatever a filter does at end of stream.
    """
    length = ["-t", f"{c.dur:.4f}"]
    if not c.generations:
        ffmpeg([*g.args(c.v), *X264, "-crf", "23", *CLEAN, *length, str(out)])
        return
    src, last = None, len(c.generations) - 1
    for k, gen in enumerate(c.generations):
        w, h = gen["size"]
        rate = ["-b:v", f"{gen['kbps']}k", "-maxrate", f"{gen['kbps']}k", "-bufsize", f"{2 * gen['kbps']}k"]
        codec = [*X264[:2], "-preset", gen["preset"], *X264[4:]]
        dest = out if k == last else work / f"{out.stem}-gen{k + 1}.mp4"
        if src is None:
            v = g.add(c.v, f"scale={w}:{h}")
            ffmpeg([*g.args(v), *codec, *rate, *CLEAN, *length, str(dest)])
        else:
            ffmpeg(["-i", str(src), "-vf", f"scale={w}:{h},setsar=1,format=yuv420p", *codec, *rate, *CLEAN, str(dest)])
        src = dest


def expect_of(c: Clip, still: bool = False) -> dict[str, Any]:
    """What the edits justify a report saying (run.py adds trimmed, downscaled and frame_rate_changed)."""
    return {
        "required": dict(sorted(c.required.items())),
        "accepted": dict(sorted(c.accepted.items())),
        "footage_scale": None if c.scale is None else r3(c.scale),
        "query_fps": None if still else round(c.fps, 3),
        "still": still,
        "angles_deg_clockwise": [r3(a) for a in c.angles],
        "speed": round(c.speed, 4),
        "reversed": c.reversed,
    }


def start_clip(g: Graph, item: dict[str, Any], start: float, length: float) -> Clip:
    v = g.input("-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", item["abs_path"])
    v = g.add(v, "setpts=PTS-STARTPTS,setsar=1")
    return Clip(v, item["width"], item["height"], fps_of(item), length)


def render_clip(spec: dict[str, Any], ctx: Ctx, rng: random.Random, out: Path, work: Path) -> dict[str, Any]:
    item = spec["item"]
    start, end = spec["span"]
    g = Graph()
    c = start_clip(g, item, start, end - start)
    transforms = []
    names = [name for name, _ in spec["edits"]]
    if "reencode3" in names[:-1] or "lowres" in names[:-1] and "reencode3" in names:
        raise ValueError(f"{spec['key']}: a re-encode must come last ({names})")
    for name, kw in spec["edits"]:
        params = EDITS[name](g, c, rng, ctx, **kw)
        transforms.append({"name": name, "params": params})
    encode(g, c, out, work)
    return {"transforms": transforms, "clip": c}


def render_screenshot(spec: dict[str, Any], ctx: Ctx, rng: random.Random, out: Path) -> dict[str, Any]:
    """One frame, cropped, with a caption bar and maybe an app's interface around it, saved as PNG or JPEG."""
    item = spec["item"]
    frame_t = spec["frame_t"]
    fps = fps_of(item)
    raw = ctx.asset()
    grab(Path(item["abs_path"]), max(0.0, frame_t - 0.25 / fps), raw)
    img = Image.open(raw).convert("RGB")
    kw, kh = rng.uniform(0.6, 0.95), rng.uniform(0.6, 0.95)
    cw, ch = max(16, round(img.width * kw)), max(16, round(img.height * kh))
    x0, y0 = rng.randint(0, img.width - cw), rng.randint(0, img.height - ch)
    pic = img.crop((x0, y0, x0 + cw, y0 + ch))
    width = rng.choice([720, 828, 1080, 1170, 1280])
    ph = round(ch * width / cw)
    pic = pic.resize((width, ph), Image.Resampling.LANCZOS)
    ui = rng.random() < 0.6
    dark = rng.random() < 0.5
    fg, bg = ((255, 255, 255), (0, 0, 0)) if dark else ((0, 0, 0), (255, 255, 255))
    unit = width / 30
    f_cap = font(unit * rng.uniform(1.0, 1.6))
    caption = rng.choice(CAPTIONS)
    lines = wrap(caption, f_cap, width * 0.9)
    line_h = f_cap.getbbox("Ag")[3] + unit * 0.4
    cap_h = round(len(lines) * line_h + unit * 1.2)
    status_h = round(unit * 1.6) if ui else 0
    bottom_h = round(unit * 3.2) if ui else 0
    cap_where = rng.choice(["above", "below"])
    H = status_h + cap_h + ph + bottom_h
    canvas = Image.new("RGB", (width, H), bg)
    d = ImageDraw.Draw(canvas)
    y = 0
    if ui:
        fs = font(unit * 0.9)
        d.text((unit, unit * 0.3), f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}", font=fs, fill=fg)
        bx = width - unit * 3
        d.rectangle([bx, unit * 0.45, bx + unit * 1.8, unit * 1.15], outline=fg, width=2)
        d.rectangle([bx + 3, unit * 0.45 + 3, bx + 3 + unit * 1.8 * rng.uniform(0.2, 0.9), unit * 1.15 - 3], fill=fg)
        for k in range(4):
            hx = width - unit * 6 + k * unit * 0.45
            d.rectangle([hx, unit * (1.15 - 0.18 * (k + 1)), hx + unit * 0.3, unit * 1.15], fill=fg)
        y = status_h
    cap_y = y if cap_where == "above" else y + ph
    pic_y = y + cap_h if cap_where == "above" else y
    for k, line in enumerate(lines):
        d.text((width * 0.05, cap_y + unit * 0.6 + k * line_h), line, font=f_cap, fill=fg)
    canvas.paste(pic, (0, pic_y))
    if ui:
        by = H - bottom_h
        fs = font(unit * 0.8)
        labels = ["♥ " + f"{rng.randint(1, 999)}K", "💬 " + str(rng.randint(10, 9999)), "↗ Share", handle(rng)]
        for k, label in enumerate(labels):
            cx = width * (0.04 + 0.24 * k)
            d.ellipse([cx, by + unit * 0.5, cx + unit * 1.2, by + unit * 1.7], outline=fg, width=2)
            d.text((cx + unit * 1.5, by + unit * 0.7), label.replace("💬", "◉"), font=fs, fill=fg)
    fmt = rng.choice(["png", "jpg"])
    quality = rng.randint(60, 92)
    out = out.with_suffix(f".{fmt}")
    if fmt == "png":
        canvas.save(out, format="PNG")
    else:
        canvas.save(out, format="JPEG", quality=quality)
    c = Clip("", width, H, 0.0, 0.0, scale=width / cw)
    c.need("cropped", f"{kw:.0%} x {kh:.0%} of the frame")
    c.allow("reframed", "caption bar" + (" and an app's interface" if ui else "") + " around the picture")
    c.allow("overlay", "caption")
    c.allow("trimmed", "one frame of the footage")
    return {
        "transforms": [{"name": "screenshot", "params": {
            "frame_t": frame_t, "crop_keep": [r3(kw), r3(kh)], "crop_at": [x0, y0], "crop_size": [cw, ch],
            "width": width, "caption": caption, "caption_where": cap_where, "dark": dark, "ui": ui,
            "format": fmt, **({"jpeg_quality": quality} if fmt == "jpg" else {})}}],
        "clip": c,
        "path": out,
    }  # fmt: skip


def render_compilation(spec: dict[str, Any], ctx: Ctx, rng: random.Random, out: Path) -> dict[str, Any]:
    g = Graph()
    W, H = CANVAS
    labels, parts, t = [], [], 0.0
    for part in spec["parts"]:
        item = part["item"]
        start, end = part["span"]
        c = start_clip(g, item, start, end - start)
        chain, s, fw, fh = fit_into(c, W, H, "fit")
        labels.append(g.add(c.v, f"{chain},setsar=1,fps={CANVAS_FPS}"))
        c.rescale(s)
        c.fps = CANVAS_FPS
        c.need("embedded", "a part of a compilation")
        if W - fw > 0.02 * W or H - fh > 0.02 * H:
            c.need("reframed", f"fitted into {W}x{H} with bars")
        rec = {"ref_id": item["id"] if part["copy"] else None, "source_item": item["id"],
               "ref_span" if part["copy"] else "source_span": [r3(start), r3(end)],
               "query_span": [r3(t), r3(t + end - start)]}  # fmt: skip
        if part["copy"]:
            rec["expect"] = expect_of(c)
        parts.append(rec)
        t += end - start
    v = g.add("".join(labels), f"concat=n={len(labels)}:v=1:a=0")
    ffmpeg([*g.args(v), *X264, "-crf", "23", *CLEAN, str(out)])
    return {"parts": parts, "transforms": [{"name": "compilation", "params": {
        "canvas": [W, H], "parts": [{k: p[k] for k in ("source_item", "query_span")} for p in parts]}}]}  # fmt: skip


def render_query(spec: dict[str, Any], out_dir: Path, assets: Path, seed: int) -> dict[str, Any]:
    """Render one planned query; return its truth record."""
    rng = rng_for(seed, "edit", spec["key"])
    ctx = Ctx(spec["id"], assets, spec["pool"])
    with tempfile.TemporaryDirectory(prefix="make-cases-") as tmp:
        work = Path(tmp)
        if spec["kind"] == "compilation":
            path = out_dir / f"{spec['id']}.mp4"
            res = render_compilation(spec, ctx, rng, path)
        elif spec["kind"] == "screenshot":
            res = render_screenshot(spec, ctx, rng, out_dir / spec["id"])
            path = res["path"]
        else:
            path = out_dir / f"{spec['id']}.mp4"
            res = render_clip(spec, ctx, rng, path, work)
    rec: dict[str, Any] = {
        "id": spec["id"],
        "path": f"queries/{path.name}",
        "label": spec["label"],
        "group": spec["group"],
        "transforms": res["transforms"],
        "ref_id": None,
        "ref_span": None,
        "query_span": None,
        "source_item": spec["item"]["id"] if "item" in spec else spec["parts"][0]["item"]["id"],
        "negative_kind": spec.get("negative_kind"),
    }
    if spec["kind"] == "compilation":
        first = next(p for p in res["parts"] if p["ref_id"])
        rec.update(ref_id=first["ref_id"], ref_span=first["ref_span"], query_span=first["query_span"])
        rec["parts"] = res["parts"]
        return rec
    c: Clip = res["clip"]
    still = spec["kind"] == "screenshot"
    start, end = spec["span"] if not still else (spec["frame_t"], spec["frame_t"])
    qspan = [0.0, 0.0] if still else [0.0, r3((end - start) / c.speed)]
    if spec.get("negative_kind"):
        rec["source_span"] = [r3(start), r3(end)]
        rec["edited"] = bool(spec["edits"]) or still
        for k in ("scene_of", "motion_1s", "overlap_with_reference"):
            if k in spec:
                rec[k] = spec[k]
    else:
        rec.update(ref_id=spec["item"]["id"], ref_span=[r3(start), r3(end)], query_span=qspan)
        rec["expect"] = expect_of(c, still)
    rec["speed_factor"] = round(c.speed, 4)
    rec["reversed"] = c.reversed
    return rec


# --------------------------------------------------------------------------- new items


def photo_path(sources: Path, source: str) -> Path:
    package, name = source.split(":", 1)
    found = sorted((sources / package).rglob(name))
    if not found:
        raise SystemExit(f"{source}: not under {sources / package}; build the development set first (make_set.py)")
    return found[0]


def kenburns_filter(p: dict[str, Any]) -> tuple[str, int]:
    """make_set.py's pan/zoom over a region of a photograph (same expressions, other parameters)."""
    n = round(p["duration"] * 30)
    (z0, z1), (x0, y0), (x1, y1), (r0, r1) = p["zoom"], p["center_from"], p["center_to"], p["region"]
    t = f"on/{n - 1}"
    vf = (
        f"crop=iw*{r1 - r0}:ih:iw*{r0}:0,"
        "crop='min(iw,ih*16/9)':'min(ih,iw*9/16)',scale=2560:1440:flags=lanczos,"
        f"zoompan=z='{z0}+({z1 - z0:.3f})*{t}':"
        f"x='({x0}+({x1 - x0:.3f})*{t})*iw-iw/zoom/2':y='({y0}+({y1 - y0:.3f})*{t})*ih-ih/zoom/2':"
        f"d={n}:s=1280x720:fps=30,format=yuv420p"
    )
    return vf, n


def windows(p: dict[str, Any], steps: int = 40) -> list[tuple[float, float, float, float]]:
    """The part of the (16:9 crop of the) region each moment of a pan/zoom shows, as (x0, y0, x1, y1) in 0-1."""
    (z0, z1), (xa, ya), (xb, yb) = p["zoom"], p["center_from"], p["center_to"]
    out = []
    for k in range(steps):
        u = k / (steps - 1)
        z, cx, cy = z0 + (z1 - z0) * u, xa + (xb - xa) * u, ya + (yb - ya) * u
        out.append((cx - 0.5 / z, cy - 0.5 / z, cx + 0.5 / z, cy + 0.5 / z))
    return out


def overlap(ref: dict[str, Any], other: dict[str, Any]) -> dict[str, float]:
    """How much of a pan/zoom's view the reference's also shows: area share, and the closest pair of frames (IoU)."""
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 160), np.linspace(0, 1, 90)), -1)

    def mask(p: dict[str, Any]) -> np.ndarray:
        m = np.zeros(grid.shape[:2], bool)
        for x0, y0, x1, y1 in windows(p):
            m |= (grid[..., 0] >= x0) & (grid[..., 0] <= x1) & (grid[..., 1] >= y0) & (grid[..., 1] <= y1)
        return m

    a, b = mask(ref), mask(other)
    best = 0.0
    for wa in windows(ref, 30):
        for wb in windows(other, 30):
            ix = max(0.0, min(wa[2], wb[2]) - max(wa[0], wb[0]))
            iy = max(0.0, min(wa[3], wb[3]) - max(wa[1], wb[1]))
            inter = ix * iy
            union = (wa[2] - wa[0]) * (wa[3] - wa[1]) + (wb[2] - wb[0]) * (wb[3] - wb[1]) - inter
            best = max(best, inter / union)
    return {"area_seen_by_reference": r3((a & b).sum() / max(1, b.sum())), "closest_frames_iou": r3(best)}


def random_kenburns(rng: random.Random, region: list[float]) -> dict[str, Any]:
    z_lo, z_hi = rng.uniform(1.1, 1.5), rng.uniform(1.5, 2.3)
    zoom = [r3(z_lo), r3(z_hi)] if rng.random() < 0.5 else [r3(z_hi), r3(z_lo)]
    m = 0.5 / z_lo
    c = [r3(rng.uniform(m, 1 - m)) for _ in range(4)]
    return {"duration": round(rng.uniform(8, 14), 1), "zoom": zoom, "center_from": c[:2], "center_to": c[2:],
            "region": list(region)}  # fmt: skip


def make_photo_moment(item: dict[str, Any], photo: Path, p: dict[str, Any], out: Path) -> None:
    vf, n = kenburns_filter(p)
    ffmpeg(["-i", str(photo), "-vf", vf, "-frames:v", str(n), *X264, "-crf", "18", *CLEAN, str(out)])


def make_video_moment(src: Path, span: tuple[float, float], fps: str, out: Path) -> None:
    """An unindexed stretch of a real clip, cut and encoded as make_set.py cuts its segments."""
    rate = Fraction(fps).limit_denominator(1001)
    ffmpeg(["-ss", str(span[0]), "-t", str(round(span[1] - span[0], 3)), "-i", str(src),
            "-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2", "-fps_mode", "cfr", "-r", str(rate),
            *X264, "-crf", "18", *CLEAN, str(out)])  # fmt: skip


# ---- the synthetic fixed camera


def scene_movers(rng: random.Random, dur: float, W: int, H: int) -> list[dict[str, Any]]:
    """Objects crossing a fixed camera's view: people-like figures, cars, balls and moving signs."""
    n = max(4, round(dur * rng.uniform(0.45, 0.8)))
    movers = []
    for k in range(n):
        kind = rng.choice(["person", "person", "person", "car", "ball", "sign"])
        cross = rng.uniform(3, 9) if kind != "car" else rng.uniform(2, 4)
        t0 = (k / n) * dur + rng.uniform(-0.6, 0.6) - cross * 0.3
        y_base = rng.uniform(0.45, 0.95) * H
        if kind in ("car", "sign") or rng.random() < 0.5:  # edge to edge
            left = rng.random() < 0.5
            p0 = (-0.15 * W if left else 1.15 * W, y_base)
            p1 = (1.15 * W if left else -0.15 * W, y_base + rng.uniform(-0.08, 0.08) * H)
        else:  # from one point to another inside the view (a pedestrian crossing)
            p0 = (rng.uniform(0.05, 0.95) * W, y_base)
            p1 = (rng.uniform(0.05, 0.95) * W, rng.uniform(0.45, 0.95) * H)
        movers.append({
            "kind": kind, "t0": round(t0, 2), "t1": round(t0 + cross, 2),
            "p0": [round(p0[0]), round(p0[1])], "p1": [round(p1[0]), round(p1[1])],
            "size": r3(rng.uniform(0.8, 1.3)),
            "colour": [rng.randint(20, 235) for _ in range(3)],
            "label": rng.choice(["BUS 42", "TAXI", "SALE", "TOUR", "POLICE", "PIZZA"]),
        })  # fmt: skip
    return movers


def draw_mover(d: ImageDraw.ImageDraw, m: dict[str, Any], t: float, H: int) -> None:
    u = (t - m["t0"]) / (m["t1"] - m["t0"])
    if not 0 <= u <= 1:
        return
    x = m["p0"][0] + (m["p1"][0] - m["p0"][0]) * u
    y = m["p0"][1] + (m["p1"][1] - m["p0"][1]) * u
    s = 1.6 * m["size"] * (0.35 + 0.9 * y / H) * H / 720  # nearer the bottom, nearer the camera
    col = tuple(m["colour"])
    dark = tuple(max(0, v - 80) for v in col)
    if m["kind"] == "person":
        h = 110 * s
        swing = math.sin(t * 9 + m["t0"]) * 14 * s
        d.line([x, y - h * 0.45, x - swing, y], fill=dark, width=max(2, int(9 * s)))
        d.line([x, y - h * 0.45, x + swing, y], fill=dark, width=max(2, int(9 * s)))
        d.ellipse([x - 17 * s, y - h * 0.85, x + 17 * s, y - h * 0.38], fill=col)
        d.ellipse([x - 12 * s, y - h, x + 12 * s, y - h * 0.8], fill=(224, 172, 130))
    elif m["kind"] == "car":
        w, h = 190 * s, 70 * s
        d.rounded_rectangle([x - w / 2, y - h, x + w / 2, y - h * 0.2], radius=int(12 * s), fill=col)
        d.rounded_rectangle([x - w * 0.3, y - h * 1.45, x + w * 0.25, y - h * 0.9], radius=int(10 * s), fill=col)
        d.rectangle([x - w * 0.25, y - h * 1.35, x + w * 0.2, y - h], fill=(150, 190, 220))
        for wx in (x - w * 0.3, x + w * 0.3):
            d.ellipse([wx - 18 * s, y - 36 * s, wx + 18 * s, y], fill=(25, 25, 25))
    elif m["kind"] == "ball":
        r = 22 * s
        hop = abs(math.sin(t * 5 + m["t0"])) * 60 * s
        d.ellipse([x - r, y - 2 * r - hop, x + r, y - hop], fill=col, outline=dark, width=max(1, int(3 * s)))
    else:
        w, h = 200 * s, 60 * s
        d.rounded_rectangle([x - w / 2, y - h * 2.2, x + w / 2, y - h * 1.2], radius=int(8 * s), fill=col)
        d.line([x, y - h * 1.2, x, y], fill=dark, width=max(2, int(6 * s)))
        d.text((x, y - h * 1.7), m["label"], font=font(34 * s), fill=(255, 255, 255), anchor="mm")


def scene_background(photo: Path, rng: random.Random, W: int, H: int) -> tuple[np.ndarray, dict[str, Any]]:
    img = Image.open(photo).convert("RGB")
    cover = max(W / img.width, H / img.height) * rng.uniform(1.0, 1.3)
    big = img.resize((max(W, round(img.width * cover)), max(H, round(img.height * cover))), Image.Resampling.LANCZOS)
    x0, y0 = rng.randint(0, big.width - W), rng.randint(0, big.height - H)
    return np.asarray(big.crop((x0, y0, x0 + W, y0 + H))), {"zoom": r3(cover), "crop_at": [x0, y0]}


def render_scene(bg: np.ndarray, movers: list[dict[str, Any]], dur: float, light: float, seed: int, out: Path):
    """A still background, sensor noise and a slow light drift, with the movers drawn over it, piped to x264."""
    H, W = bg.shape[:2]
    nrng = np.random.default_rng(seed)
    noise = nrng.normal(0, 2.0, (5, H, W, 3)).astype(np.int16)
    n = round(dur * CANVAS_FPS)
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{W}x{H}", "-r", str(CANVAS_FPS), "-i", "pipe:0", *X264, "-crf", "18", *CLEAN, str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    base = Image.fromarray(bg)
    try:
        for k in range(n):
            t = k / CANVAS_FPS
            frame = base.copy()
            d = ImageDraw.Draw(frame)
            for m in movers:
                draw_mover(d, m, t, H)
            gain = light * (1 + 0.015 * math.sin(2 * math.pi * t / 7.0))
            arr = np.asarray(frame, dtype=np.int16)
            arr = (arr * gain).astype(np.int16) + noise[k % len(noise)]
            proc.stdin.write(arr.clip(0, 255).astype(np.uint8).tobytes())
    finally:
        proc.stdin.close()
        if proc.wait(timeout=FFMPEG_TIMEOUT_S):
            raise RuntimeError(f"ffmpeg failed writing {out}")


# --------------------------------------------------------------------------- motion


def motion_1s(path: Path, fps: float) -> float:
    """Mean absolute grey difference (0-255, at 160x90) between frames one second apart: how much moves."""
    res = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-vf", "scale=160:90,format=gray",
         "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"],
        capture_output=True, check=True, timeout=FFMPEG_TIMEOUT_S,
    )  # fmt: skip
    frames = np.frombuffer(res.stdout, np.uint8).reshape(-1, 90, 160).astype(np.float32)
    lag = max(1, round(fps))
    if len(frames) <= lag:
        return 0.0
    return round(float(np.abs(frames[lag:] - frames[:-lag]).mean()), 2)


# --------------------------------------------------------------------------- the plan


def split_half(ids: list[str], first: str) -> dict[str, str]:
    """Alternate ids, ordered by a hash of each, between the two splits, starting with `first`."""
    other = "holdout" if first == "dev" else "dev"
    order = sorted(ids, key=stable_hash)
    return {i: (first if k % 2 == 0 else other) for k, i in enumerate(order)}


def big_enough(item: dict[str, Any]) -> bool:
    """A photograph that fills the synthetic camera's frame without upscaling."""
    with Image.open(item["photo"]) as img:
        return img.width >= CANVAS[0] and img.height >= CANVAS[1]


def assign_splits(items: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Fixed halves, independent of any seed: references by kind, unseen footage, and the synthetic backgrounds."""
    refs = [i for i in items if i["split"] == "reference"]
    ref_split: dict[str, str] = {}
    first = "dev"
    for kind in ("photo_pan_zoom", "video_segment"):
        ids = [i["id"] for i in refs if i["kind"] == kind]
        ref_split.update(split_half(ids, first))
        if len(ids) % 2:
            first = "holdout" if first == "dev" else "dev"
    unseen = sorted((i for i in items if i.get("negative_kind") == "unseen_source"), key=lambda i: stable_hash(i["id"]))
    photos = [i for i in unseen if i["kind"] == "photo_pan_zoom" and big_enough(i)]
    backgrounds = {"dev": photos[0]["id"], "holdout": photos[1]["id"]}
    rest = [i["id"] for i in unseen if i["id"] not in backgrounds.values()]
    return ref_split, split_half(rest, "dev"), backgrounds


def excerpt(rng: random.Random, dur: float, lo: float = EXCERPT_S[0], hi: float = EXCERPT_S[1]) -> list[float]:
    hi = max(min(hi, dur - 0.2), min(lo, dur - 0.2))
    lo = min(lo, hi)
    length = round(rng.uniform(lo, hi), 2)
    start = round(rng.uniform(0, max(0.0, dur - length - 0.1)), 2)
    return [start, round(start + length, 3)]


def speed_plan(refs: list[dict[str, Any]], seed: int) -> list[tuple[str, dict[str, Any], float]]:
    """Each band on half the references (the fast bands on footage long enough for a 2.5 s query)."""
    per_band = max(1, len(refs) // 2)
    load: dict[str, int] = defaultdict(int)
    out = []
    for band in ("speed_2-4", "speed_1.5-2", "speed_0.5-0.75", "speed_0.25-0.5"):
        lo, _ = SPEED_BANDS[band]
        rng = rng_for(seed, "speed-plan", band)
        order = sorted(refs, key=lambda r: (load[r["id"]], rng.random()))
        fit = [r for r in order if r["duration"] - 0.2 >= 2.5 * lo] or order
        for r in fit[:per_band]:
            load[r["id"]] += 1
            f_rng = rng_for(seed, "speed", band, r["id"])
            lo_b, hi_b = SPEED_BANDS[band]
            f = f_rng.uniform(lo_b, min(hi_b, (r["duration"] - 0.2) / 2.5))
            out.append((band, r, round(f, 4)))
    return out


def plan(split: str, seed: int, items: list[dict[str, Any]], new_items: dict[str, Any]) -> list[dict[str, Any]]:
    by_id = {i["id"]: i for i in items}
    refs = [i for i in items if i.get("cases_split") == split and i["split"] == "reference" and not i.get("synthetic")]
    pool = [by_id[i] for i in new_items["pool"]]
    specs: list[dict[str, Any]] = []

    def add(key: str, label: str, group: str, **kw: Any) -> None:
        specs.append({"key": key, "label": label, "group": group, "pool": pool, "kind": "clip", **kw})

    for r in refs:
        for name in MAIN_EDITS:
            rng = rng_for(seed, "plan", name, r["id"])
            key = f"{name}/{r['id']}"
            if name == "screenshot":
                fps = fps_of(r)
                k = rng.randint(1, max(1, int((r["duration"] - 0.3) * fps)))
                add(key, name, name, kind="screenshot", item=r, frame_t=round(k / fps, 4), edits=[])
            elif name == "compilation":
                others = rng.sample([o for o in refs if o["id"] != r["id"]], rng.choice([1, 2]))
                parts = [{"item": o, "copy": True} for o in [r, *others]]
                if rng.random() < 0.35:
                    parts.insert(rng.randint(1, len(parts)), {"item": rng.choice(pool), "copy": False})
                for p in parts:
                    p["span"] = excerpt(rng, p["item"]["duration"], 2.5, 6.0)
                add(key, name, name, kind="compilation", parts=parts)
            elif name == "combo_real":
                names = combo(rng)
                add(key, name, name, item=r, span=excerpt(rng, r["duration"]), edits=[(n, {}) for n in names])
            else:
                add(key, name, name, item=r, span=excerpt(rng, r["duration"]), edits=[(name, {})])
    for band, r, f in speed_plan(refs, seed):
        rng = rng_for(seed, "plan", band, r["id"])
        lo, hi = max(3.0, 2.5 * f), min(12.0 if f > 1 else 10.0, 16 * f)
        add(f"{band}/{r['id']}", band, band, item=r, span=excerpt(rng, r["duration"], lo, hi),
            edits=[("speed", {"factor": f})])  # fmt: skip
    order = refs[:]
    rng_for(seed, "own").shuffle(order)
    for k, name in enumerate(n for n in OWN_EDITS for _ in range(OWN_PER_EDIT)):
        r = order[k % len(order)]  # each edit on OWN_PER_EDIT different references, spread evenly
        rng = rng_for(seed, "plan", name, r["id"])
        add(f"{name}/{r['id']}", name, name, item=r, span=excerpt(rng, r["duration"]), edits=[(name, {})])

    # The synthetic fixed camera: copies of its reference, other moments as negatives.
    syn = by_id[new_items["synthetic_ref"]]
    rng = rng_for(seed, "plan", "synthetic")
    for name in rng.sample(SYNTHETIC_COPY_EDITS, SYNTHETIC_COPIES):
        add(f"synthetic/{name}", name, "synthetic_scene_copy", item=syn, span=excerpt(rng, syn["duration"]),
            edits=[(name, {})])  # fmt: skip
    moments = [by_id[i] for i in new_items["synthetic_moments"]]
    for k, m in enumerate(moments):
        add(f"synthetic-moment/{k}", "negative", "negative:same_scene_synthetic", item=m,
            span=excerpt(rng, m["duration"]), edits=[], negative_kind="same_scene_synthetic",
            scene_of=syn["id"], motion_1s=m.get("motion_1s"))  # fmt: skip
    for k in range(2):
        m = rng.choice(moments)
        edits = neg_edits(rng)
        add(f"synthetic-moment-edited/{k}", "negative", "negative:same_scene_synthetic (edited)", item=m,
            span=excerpt(rng, m["duration"]), edits=edits, negative_kind="same_scene_synthetic",
            scene_of=syn["id"], motion_1s=m.get("motion_1s"))  # fmt: skip

    # Other moments of the references' own scenes.
    for k, mid in enumerate(new_items["other_moments"]):
        m = by_id[mid]
        rng = rng_for(seed, "plan", "other-moment", mid)
        n = 3 if m["kind"] == "video_segment" else 1
        for j in range(n):
            edited = (k + j) % 2 == 1
            edits = neg_edits(rng) if edited else []
            add(f"other-moment/{mid}/{j}", "negative",
                "negative:same_scene_other_moment" + (" (edited)" if edited else ""), item=m,
                span=excerpt(rng, m["duration"], 3.0, 7.0 if n > 1 else 10.0), edits=edits,
                negative_kind="same_scene_other_moment", scene_of=m["scene_of"],
                motion_1s=by_id[m["scene_of"]].get("motion_1s"),
                **({"overlap_with_reference": m["overlap_with_reference"]} if "overlap_with_reference" in m else {}))  # fmt: skip

    # Footage never indexed, under the new edits.
    rng = rng_for(seed, "plan", "unseen")
    names = rng.sample(UNSEEN_EDITS, UNSEEN_QUERIES)
    for k, name in enumerate(names):
        item = pool[k % len(pool)]
        key = f"unseen/{name}/{item['id']}"
        if name == "screenshot":
            fps = fps_of(item)
            t = round(rng.randint(1, int((item["duration"] - 0.3) * fps)) / fps, 4)
            add(key, "negative", "negative:unseen_source", kind="screenshot", item=item, frame_t=t, edits=[],
                negative_kind="unseen_source")  # fmt: skip
            continue
        kw: dict[str, Any] = {}
        if name == "speed":
            band = rng.choice(list(SPEED_BANDS))
            kw = {"factor": round(rng.uniform(*SPEED_BANDS[band]), 4)}
        add(key, "negative", "negative:unseen_source", item=item, span=excerpt(rng, item["duration"]),
            edits=[(name, kw)], negative_kind="unseen_source")  # fmt: skip

    rng_for(seed, "order").shuffle(specs)
    prefix = "d" if split == "dev" else "h"
    for k, s in enumerate(specs, 1):
        s["id"] = f"{prefix}{k:03d}"
    return specs


def combo(rng: random.Random) -> list[str]:
    """3-4 edits that chain, in stage order, with at most one that lays the picture out on a new canvas."""
    target, names = rng.choice([3, 4]), []
    for name in rng.sample(list(COMBO_STAGES), len(COMBO_STAGES)):
        if COMBO_STAGES[name] == 2 and any(COMBO_STAGES[n] == 2 for n in names):
            continue
        names.append(name)
        if len(names) == target:
            break
    return sorted(names, key=lambda n: COMBO_STAGES[n])


def neg_edits(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    names = rng.sample(NEG_EDITS, rng.choice([1, 2]))
    if "reencode3" in names and "lowres" in names:
        names.remove("lowres")
    names.sort(key=lambda n: n in ("reencode3", "lowres"))  # a re-encode comes last
    return [(n, {}) for n in names]


# --------------------------------------------------------------------------- main


def run_all(jobs: int, fn: Callable[..., Any], args_list: list[tuple]) -> list[Any]:
    with ThreadPoolExecutor(jobs) as pool:
        return [f.result() for f in [pool.submit(fn, *a) for a in args_list]]


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n")


def build_items(
    data: Path, out: Path, split: str, seed: int, items: list[dict[str, Any]], jobs: int, reuse: bool = False
):
    """The items made here: synthetic camera reference and moments, other moments of the split's references."""
    ref_split, unseen_split, backgrounds = assign_splits(items)
    for it in items:
        if it["id"] in ref_split:
            it["cases_split"] = ref_split[it["id"]]
    by_id = {i["id"]: i for i in items}
    sources = data / "sources"
    new: list[dict[str, Any]] = []
    jobs_list: list[tuple] = []

    # The synthetic fixed camera over a photograph no reference shows.
    bg_item = by_id[backgrounds[split]]
    rng = rng_for(seed, "synthetic")
    bg, bg_rec = scene_background(photo_path(sources, bg_item["source"]), rng, *CANVAS)
    syn_id = f"syn-{split}-camera"
    specs = [(syn_id, "reference", None, SYNTHETIC_REF_S, 1.0)]
    for k in range(SYNTHETIC_MOMENTS):
        specs.append((f"syn-{split}-moment{k + 1}", "negative", "same_scene_synthetic",
                      round(rng.uniform(8, 12), 1), round(rng.uniform(0.9, 1.1), 3)))  # fmt: skip
    for sid, role, kind, dur, light in specs:
        movers = scene_movers(rng_for(seed, "movers", sid), dur, *CANVAS)
        it = {"id": sid, "path": f"items/{sid}.mp4", "source": bg_item["source"], "split": role,
              "negative_kind": kind, "kind": "synthetic_fixed_camera", "synthetic": True,
              "scene": {"background": bg_rec, "light": light, "movers": movers, "seconds": dur},
              "cases_split": split}  # fmt: skip
        if role == "negative":
            it["scene_of"] = syn_id
        new.append(it)
        jobs_list.append((render_scene, bg, movers, dur, light, int(stable_hash(sid)[:8], 16), out / it["path"]))

    # Other moments of the split's references: other pan/zoom paths over each photograph, and any
    # stretch of a real clip that no reference holds.
    other_moments = []
    for ref in sorted((i for i in items if i.get("cases_split") == split), key=lambda i: i["id"]):
        if ref["kind"] == "photo_pan_zoom":
            p = random_kenburns(rng_for(seed, "moment", ref["id"]), ref["pan_zoom"]["region"])
            mid = f"om-{ref['id']}"
            it = {"id": mid, "path": f"items/{mid}.mp4", "source": ref["source"], "split": "negative",
                  "negative_kind": "same_scene_other_moment", "kind": "photo_pan_zoom", "pan_zoom": p,
                  "scene_of": ref["id"], "overlap_with_reference": overlap(ref["pan_zoom"], p)}  # fmt: skip
            new.append(it)
            other_moments.append(mid)
            jobs_list.append((make_photo_moment, it, photo_path(sources, ref["source"]), p, out / it["path"]))
        else:
            src = photo_path(sources, ref["source"])
            # What each reference really holds: its cut can run past the nominal span (v-tree-2 is
            # 7.2-22.2 s of tree.avi by its span, 231 frames from 7.2 s by its file: to 22.6 s).
            taken = sorted(
                (i["source_span"][0], max(i["source_span"][1], i["source_span"][0] + float(i.get("duration") or 0.0)))
                for i in items
                if i["source"] == ref["source"] and i["split"] == "reference"
            )
            total = float(probe(src)["duration"])
            gaps, t = [], 0.0
            for a, b in [*taken, (total, total)]:
                if a - t >= 3.0:
                    gaps.append((round(t, 3), round(a, 3)))
                t = max(t, b)
            for a, b in gaps:
                mid = f"om-{ref['source'].split(':')[1].split('.')[0]}-{a:g}-{b:g}"
                if any(n["id"] == mid for n in new):
                    continue
                it = {"id": mid, "path": f"items/{mid}.mp4", "source": ref["source"], "split": "negative",
                      "negative_kind": "same_scene_other_moment", "kind": "video_segment", "source_span": [a, b],
                      "scene_of": ref["id"]}  # fmt: skip
                new.append(it)
                other_moments.append(mid)
                jobs_list.append((make_video_moment, src, (a, b), ref["fps"], out / it["path"]))
    if reuse:
        jobs_list = [j for j in jobs_list if not j[-1].is_file()]
    run_all(jobs, lambda fn, *a: fn(*a), jobs_list)
    for it in new:
        it["abs_path"] = str(out / it["path"])
        it.update(probe(out / it["path"]))
    pool = [i for i in items if unseen_split.get(i["id"]) == split]
    return new, {"synthetic_ref": syn_id, "synthetic_moments": [s[0] for s in specs[1:]],
                 "other_moments": other_moments, "pool": [i["id"] for i in pool],
                 "ref_split": ref_split, "unseen_split": unseen_split, "backgrounds": backgrounds}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the development set built by make_set.py")
    ap.add_argument("--out", type=Path, required=True, help="folder to write the cases into (its items/, queries/, "
                    "assets/ are replaced)")  # fmt: skip
    ap.add_argument("--split", choices=sorted(SEEDS), required=True, help="which half of the references to use")
    ap.add_argument("--seed", type=int, help="random seed (default: dev 1616, holdout 1717)")
    ap.add_argument("--jobs", type=int, default=2, help="ffmpeg processes at once (default 2)")
    ap.add_argument("--only", help="debugging: render only queries of these groups (comma list); the truth then "
                    "lists only them")  # fmt: skip
    ap.add_argument("--reuse-items", action="store_true", help="debugging: keep items/ from an earlier run")
    args = ap.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft > MEMORY_LIMIT:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, hard))
    t_start = time.perf_counter()
    data, out = args.data.resolve(), args.out.resolve()
    seed = args.seed if args.seed is not None else SEEDS[args.split]
    manifest = json.loads((data / "manifest.json").read_text())
    items = manifest["items"]
    for it in items:
        it["abs_path"] = str((data / it["path"]).resolve())
        if it["kind"] == "photo_pan_zoom":
            it["photo"] = photo_path(data / "sources", it["source"])
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("queries", "assets") if args.reuse_items else ("items", "queries", "assets"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True, exist_ok=True)

    print(f"[{args.split}] building the new items ...", flush=True)
    new, info = build_items(data, out, args.split, seed, items, args.jobs, args.reuse_items)
    all_items = items + new
    refs = [i for i in all_items if i.get("cases_split") == args.split and i["split"] == "reference"]
    for it in refs + [i for i in new if i["kind"] == "synthetic_fixed_camera" or "scene_of" in i]:
        it["motion_1s"] = motion_1s(Path(it["abs_path"]), fps_of(it))
    specs = plan(args.split, seed, all_items, info)
    if args.only:
        wanted = set(args.only.split(","))
        specs = [s for s in specs if s["group"] in wanted or s["label"] in wanted]
    t_items = time.perf_counter() - t_start
    print(f"[{args.split}] {len(new)} new items in {t_items:.0f} s; rendering {len(specs)} queries ...", flush=True)
    records = run_all(args.jobs, render_query, [(s, out / "queries", out / "assets", seed) for s in specs])
    for rec in records:
        path = out / rec["path"]
        rec["duration"] = 0.0 if path.suffix in (".png", ".jpg") else probe(path)["duration"]

    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    keep = ("id", "path", "duration", "source", "split", "negative_kind", "kind", "width", "height", "fps",
            "source_span", "pan_zoom", "scene", "scene_of", "overlap_with_reference", "motion_1s", "cases_split")  # fmt: skip
    listed = []
    for it in all_items:
        rec = {k: it[k] for k in keep if k in it}
        rec["path"] = it["abs_path"] if it in items else it["path"]
        rec["origin"] = "development set" if it in items else "make_cases.py"
        listed.append(rec)
    write_json(out / "manifest.json", {
        "generator": "bench/make_cases.py", "split": args.split, "seed": seed, "ffmpeg": version,
        "development_set": str(data), "development_seed": manifest.get("seed"),
        "reference_halves": info["ref_split"], "unseen_halves": info["unseen_split"],
        "synthetic_backgrounds": info["backgrounds"], "items": listed})  # fmt: skip
    order = ("id", "path", "duration", "label", "group", "transforms", "ref_id", "ref_span", "query_span", "parts",
             "speed_factor", "reversed", "expect", "source_item", "source_span", "negative_kind", "edited",
             "scene_of", "motion_1s", "overlap_with_reference")  # fmt: skip
    no_moment = sorted(r["id"] for r in refs if not r.get("synthetic") and r["kind"] == "video_segment"
                       and not any(n.get("scene_of") == r["id"] for n in new))  # fmt: skip
    write_json(out / "truth.json", {
        "generator": "bench/make_cases.py", "split": args.split, "seed": seed,
        "references_used": sorted(r["id"] for r in refs),
        "motion_1s": {r["id"]: r.get("motion_1s") for r in sorted(refs, key=lambda r: r["id"])},
        "no_other_moment": no_moment,
        "queries": [{k: q[k] for k in order if k in q} for q in sorted(records, key=lambda q: q["id"])]})  # fmt: skip
    files = sorted(p for sub in ("items", "queries", "assets") for p in (out / sub).iterdir())
    sums = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out)}"
            for p in files + [out / "manifest.json", out / "truth.json"]]  # fmt: skip
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    copies = sum(1 for r in records if r["ref_id"])
    wall = time.perf_counter() - t_start
    print(f"[{args.split}] seed {seed}: {len(refs)} references used, {len(new)} new items, {len(records)} queries "
          f"({copies} copies, {len(records) - copies} negatives) -> {out} in {wall:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
