#!/usr/bin/env python3
"""The provenance benchmark: recall, false matches, localisation and speed on a built data set.

    python bench/run.py --data bench/data                              # all methods
    python bench/run.py --data bench/data --methods provenance         # quick run of the tool only
    python bench/run.py --data bench/data --queries q001,q014          # debug a few queries

Every method sees the same references (manifest items with split == "reference")
and the same queries (truth.json), and is scored by the same code:

- provenance: the library itself (`provenance.ingest.add_paths` into a fresh
  index, `provenance.pipeline.check` per query with the open Index). The timed
  call is `check(keyframes=True)`, what `provenance check` does (the report's
  aligned frame pairs, which frame-based diagnoses need); a second, untimed
  `check(keyframes=False)` gives the CPU and wall time of matching alone
  (`match_cpu_s`, `match_wall_s`), to
  compare with the baselines like for like. `--no-frames` skips the first.
  The top match's `alterations` are scored against what the query's edits
  justify (see "Transform diagnosis" in docs/benchmark.md).
- phash_vote: the naive baseline; imagehash.phash of every frame at 1 fps, each
  query frame votes for the reference holding its nearest hash (distance <= 10),
  a match needs >= 50% of the query frames. No localisation.
- vpdq: Meta's vPDQ (PyPI `vpdq`) with the defaults of ThreatExchange's matcher:
  PDQ distance <= 31, quality >= 50, deduplicated hashes, a match when >= 80% of
  the query's frames have a reference frame within the distance. No localisation.

On the cases of bench/make_cases.py (truth.json `generator`), the realistic
edits and same-scene negatives, it also scores compilation parts, the time claims
made of single-source copies, speed and reversal (see bench/README.md, section 5).

Writes OUT/results.json (everything, including every miss, false match and wrong
diagnosis with what was found) and OUT/table.md (the tables printed at the end).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

ALL_METHODS = ("provenance", "phash_vote", "vpdq")
#: A matched reference span is "localised" when both ends are within this of the truth.
SPAN_TOLERANCE_S = 1.0

# phash_vote parameters (the naive baseline; fixed, not tuned).
PHASH_FPS = 1.0
PHASH_MAX_DISTANCE = 10
PHASH_MIN_SHARE = 0.5
#: Frames are scaled to this square inside ffmpeg before PIL: imagehash.phash
#: squashes every image to 32x32 grey anyway (aspect ignored), so this only
#: saves piping full-size RGB frames.
PHASH_DECODE_SIZE = 256

# vPDQ defaults (ThreatExchange python-threatexchange extensions/vpdq/vpdq_util.py).
VPDQ_SECONDS_PER_HASH = 1.0
VPDQ_DISTANCE = 31  # match when hamming distance <= 31 (of 256 bits)
VPDQ_QUALITY = 50  # frames with quality < 50 are ignored
VPDQ_QUERY_MATCH_PERCENT = 80.0  # share of the query's frames that must match
VPDQ_COMPARED_MATCH_PERCENT = 0.0  # share of the reference's frames (default: no requirement)

DECODE_TIMEOUT_S = 600.0

# Transform diagnosis: what a query's edits justify a report saying (see expected_alterations).
#: Alteration codes the truth can justify, in table order. A code a method reports
#: outside this list is counted as unknown, not scored.
DIAGNOSIS_CODES = (
    "mirrored", "rotated", "cropped", "reframed", "picture_in_picture", "downscaled", "speed_changed",
    "frame_rate_changed", "greyscale", "colour_changed", "overlay", "blurred", "trimmed", "embedded", "reversed",
)  # fmt: skip
#: `trimmed` is justified when the query leaves more than this much of the
#: reference out at either end (the margin provenance.match uses too).
TRIM_MARGIN_S = 1.0
#: A diagnosed speed is right when within this relative error of the truth's factor.
SPEED_TOLERANCE = 0.05
#: `frame_rate_changed` is justified when the query's frame rate differs from
#: the reference's by more than this share (29.97 -> 30 fps is no change).
FRAME_RATE_CHANGE = 0.05
#: `downscaled` is justified when the footage's linear size in the query is
#: below this share of its size in the reference (1% absorbs the generator's
#: rounding to even pixels).
DOWNSCALED_BELOW = 0.99
#: `reframed` is justified when padding takes more than this share of the
#: query frame's width or height.
REFRAME_MIN_PADDING = 0.02
#: Frame size and rate make_set.py gives `pip` and `embed` queries.
PIP_FRAME = (1280, 720)
GENERATOR_FPS = 30.0
#: truth.json's `generator` for the cases of bench/make_cases.py (realistic edits, same-scene negatives) and
#: of the generators that write the same truth (bench/crop_fill.py).
CASES_GENERATOR = "bench/make_cases.py"
CASES_GENERATORS = {CASES_GENERATOR, "bench/crop_fill.py"}
#: A tilt's diagnosed angle is right within this many degrees of the truth's (make_cases.py tilts 2-10 deg).
TILT_TOLERANCE_DEG = 2.0
#: A speed is "within" when its relative error is at most this (the bar of issue 16).
SPEED_REPORT_TOLERANCE = 0.10
#: Alterations that say how a copy sits in time; on a copy whose whole length is one reference's
#: footage they need positive evidence (issue 16: "say only what is so").
TIME_CLAIMS = ("embedded", "trimmed", "speed_changed")


def cpu_seconds() -> float:
    """CPU seconds used so far by this process (all threads), its finished children (ffmpeg,
    ffprobe) and its live libav decoder worker (`provenance.decode.libav`).

    Unlike wall time it hardly moves when other work shares the machine.
    """
    import resource

    from provenance.decode import libav

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime + libav.worker_cpu_seconds()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Item:
    id: str
    path: Path
    duration: float
    split: str
    negative_kind: str | None
    width: int = 0
    height: int = 0
    fps: float = 0.0


@dataclass(frozen=True)
class Query:
    id: str
    path: Path
    duration: float
    group: str  # transform name, "combo", or "negative:<kind>"
    transforms: tuple[str, ...]
    ref_id: str | None
    ref_span: tuple[float, float] | None
    query_span: tuple[float, float] | None
    negative_kind: str | None
    edits: tuple[dict[str, Any], ...] = ()  # truth transforms with their parameters
    expected: Expected | None = None  # the alterations the edits justify (copies only)
    # Cases made by make_cases.py (empty for make_set.py's set):
    parts: tuple[Part, ...] = ()  # a compilation's parts that come from references
    speed_factor: float = 1.0  # reference seconds per query second
    reversed: bool = False
    still: bool = False  # a still image (screenshot)
    cases: bool = False  # the data set is make_cases.py's: the cases tables apply

    @property
    def is_copy(self) -> bool:
        return self.ref_id is not None


@dataclass(frozen=True)
class Part:
    """One part of a compilation (make_cases.py) that comes from a reference."""

    ref_id: str
    ref_span: tuple[float, float]
    query_span: tuple[float, float]
    expected: Expected | None = None


def query_group(q: dict[str, Any]) -> str:
    """Transform group of a truth entry: its one edit, ``combo`` for chained edits, negatives by kind."""
    if q.get("group"):  # make_cases.py names each query's group
        return str(q["group"])
    if q.get("ref_id") is None:
        return f"negative:{q.get('negative_kind') or 'unknown'}"
    names = [t["name"] for t in q.get("transforms") or []]
    if q.get("label") == "combo" or len(names) > 1:
        return "combo"
    return names[0] if names else "identity"


def load_data(data: Path, only: set[str] | None) -> tuple[dict[str, Any], list[Item], list[Query]]:
    manifest = json.loads((data / "manifest.json").read_text())
    truth = json.loads((data / "truth.json").read_text())
    items = [
        Item(
            id=i["id"],
            path=(data / i["path"]).resolve(),
            duration=float(i["duration"]),
            split=i["split"],
            negative_kind=i.get("negative_kind"),
            width=int(i.get("width") or 0),
            height=int(i.get("height") or 0),
            fps=float(Fraction(str(i.get("fps") or 0))),
        )
        for i in manifest["items"]
    ]
    by_id = {i.id: i for i in items}
    cases = truth.get("generator") in CASES_GENERATORS
    queries = []
    for q in truth["queries"]:
        if only and q["id"] not in only:
            continue
        edits = tuple(q.get("transforms") or [])
        ref_span = tuple(q["ref_span"]) if q.get("ref_span") else None
        ref = by_id.get(q.get("ref_id") or "")
        if cases:
            parts = tuple(
                Part(
                    p["ref_id"],
                    tuple(p["ref_span"]),  # type: ignore[arg-type]
                    tuple(p["query_span"]),  # type: ignore[arg-type]
                    expected_from_truth(p["expect"], by_id[p["ref_id"]], tuple(p["ref_span"]))  # type: ignore[arg-type]
                    if p.get("expect") and p["ref_id"] in by_id
                    else None,
                )
                for p in q.get("parts") or []
                if p.get("ref_id")
            )
            expected = (
                expected_from_truth(q["expect"], ref, ref_span)  # type: ignore[arg-type]
                if ref and ref_span and q.get("expect")
                else next((p.expected for p in parts if p.ref_id == q.get("ref_id")), None)
            )
            extra: dict[str, Any] = {
                "parts": parts,
                "speed_factor": float(q.get("speed_factor") or 1.0),
                "reversed": bool(q.get("reversed")),
                "still": bool((q.get("expect") or {}).get("still")),
                "cases": True,
            }
        else:
            expected = expected_alterations(edits, ref, ref_span) if ref and ref_span else None  # type: ignore[arg-type]
            extra = {}
        queries.append(
            Query(
                id=q["id"],
                path=(data / q["path"]).resolve(),
                duration=float(q.get("duration") or 0.0),
                group=query_group(q),
                transforms=tuple(t["name"] for t in q.get("transforms") or []),
                ref_id=q.get("ref_id"),
                ref_span=ref_span,  # type: ignore[arg-type]
                query_span=tuple(q["query_span"]) if q.get("query_span") else None,  # type: ignore[arg-type]
                negative_kind=q.get("negative_kind"),
                edits=edits,
                expected=expected,
                **extra,
            )
        )
    if only:
        missing = only - {q.id for q in queries}
        if missing:
            raise SystemExit(f"--queries names queries not in truth.json: {', '.join(sorted(missing))}")
    meta = {"seed": truth.get("seed", manifest.get("seed")), "ffmpeg_at_build": manifest.get("ffmpeg")}
    if cases:
        meta["cases_split"] = truth.get("split")
    return meta, items, queries


# --------------------------------------------------------------------------- diagnosis truth


@dataclass(frozen=True)
class Expected:
    """What a copy query's edits justify a report saying about how it differs from its reference.

    Derived from what make_set.py's ffmpeg filters do to the footage (not from
    any result). `required` codes are changes a complete diagnosis names (recall
    counts them); `accepted` codes are true as well but not required (a grey
    clip's colours did change; a caption partly cropped away may or may not
    show). Both map a code to the reason, for the debug lists. `angles` are
    the rotations (degrees clockwise) that describe the edits, `speed` the
    reference seconds per query second.
    """

    required: dict[str, str]
    accepted: dict[str, str] = field(default_factory=dict)
    angles: tuple[float, ...] = ()
    speed: float | None = None
    angle_tolerance: float = 0.0  # degrees; 0: the angle must round to one of `angles`

    def justifies(self, code: str) -> bool:
        return code in self.required or code in self.accepted

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"required": dict(self.required), "accepted": dict(self.accepted)}
        if self.angles:
            d["angles_deg_clockwise"] = list(self.angles)
        if self.speed is not None:
            d["speed"] = self.speed
        return d


def _even(x: float) -> int:
    """make_set.py's rounding of a frame dimension."""
    return max(2, int(x) // 2 * 2)


def expected_alterations(edits: tuple[dict[str, Any], ...], ref: Item, ref_span: tuple[float, float]) -> Expected:
    """The alterations a copy query's truth justifies, replaying make_set.py's filter chain on sizes and rates.

    Tracks the frame size, the footage's linear scale against the reference
    (for `downscaled`), the frame rate and the speed through the chain, the
    way `encode_query` and `apply` in make_set.py build it.
    """
    required: dict[str, str] = {}
    accepted: dict[str, str] = {}
    angles: tuple[int, ...] = ()
    w, h = ref.width, ref.height
    scale, fps, speed = 1.0, ref.fps, 1.0
    names = [e["name"] for e in edits]
    first = edits[0] if edits else {"name": None, "params": {}}
    if first["name"] == "pip":
        # Background scaled to 1280x720 at 30 fps; the footage scaled to `scale` of 1280 px wide, aspect kept.
        fw = _even(PIP_FRAME[0] * first["params"]["scale"])
        scale, fps = fw / w, GENERATOR_FPS
        required["picture_in_picture"] = f"pip: the footage {fw} px wide over other footage"
    elif first["name"] == "embed":
        # The footage is fit into its own size (unchanged) at 30 fps, between two pieces of other footage.
        fps = GENERATOR_FPS
        before, after = first["params"]["before_len"], first["params"]["after_len"]
        required["embedded"] = f"embed: {before} s of other footage before, {after} s after"
    else:
        for e in edits:
            name, p = e["name"], e.get("params") or {}
            if name == "lowres":
                nh = min(h, p["height"])
                nw = _even(w * nh / h)
                scale *= nh / h
                w, h = nw, nh
            elif name == "hflip":
                required["mirrored"] = "hflip"
            elif name == "crop":
                cw = _even(w * p["keep"])
                scale *= w / cw  # the centre is scaled back up to the frame
                required["cropped"] = f"crop: centre {p['keep']:.0%} scaled back up"
                if "overlay" in required:
                    # The caption sits at 83-90% of the height and the logo in a corner 3% in:
                    # a centre crop can cut either partly or wholly away.
                    accepted["overlay"] = required.pop("overlay") + ", then cropped (may be cut away)"
            elif name == "vertical":
                big_w, big_h = p["size"]
                fit = min(big_w / w, big_h / h)
                fw, fh = _even(w * fit), _even(h * fit)
                scale *= fw / w
                if big_w - fw > REFRAME_MIN_PADDING * big_w or big_h - fh > REFRAME_MIN_PADDING * big_h:
                    required["reframed"] = f"vertical: the footage {fw}x{fh} in a {big_w}x{big_h} frame"
                w, h = big_w, big_h
            elif name == "caption_logo":
                required["overlay"] = "caption_logo: burned-in caption and corner logo"
            elif name == "speed":
                speed *= p["factor"]
                required["speed_changed"] = f"speed x{p['factor']}"
            elif name == "fps12":
                fps = float(p.get("fps", 12))
            elif name == "color":
                required["colour_changed"] = (
                    f"color: brightness {p['brightness']}, contrast {p['contrast']}, "
                    f"saturation {p['saturation']}, hue {p['hue_deg']} deg"
                )
            elif name == "grayscale":
                required["greyscale"] = "grayscale"
                accepted.setdefault("colour_changed", "grayscale removes the colour")
            elif name == "rotate90":
                angle = 90 if p["direction"] == "clockwise" else -90
                # With a mirror in the chain, rotating one way then mirroring equals mirroring then
                # rotating the other way: the report names no order, so both directions are true.
                angles = (angle, -angle) if "hflip" in names else (angle,)
                required["rotated"] = f"rotate90 {p['direction']}"
                w, h = h, w
            elif name == "blur_noise":
                required["blurred"] = f"blur_noise: gblur sigma {p['blur_sigma']}, noise {p['noise']}"
    if "colour_changed" in required:
        accepted.pop("colour_changed", None)
    if scale < DOWNSCALED_BELOW:
        required["downscaled"] = f"the footage at {scale:.2f}x its reference size ({', '.join(names)})"
    if ref.fps > 0 and abs(fps / ref.fps - 1.0) > FRAME_RATE_CHANGE:
        required["frame_rate_changed"] = f"{ref.fps:.3g} fps -> {fps:.3g} fps"
    left_out = [ref_span[0], ref.duration - ref_span[1]]
    if max(left_out) > TRIM_MARGIN_S:
        required["trimmed"] = (
            f"uses {ref_span[0]:.2f}-{ref_span[1]:.2f} s of {ref.duration:.2f} s "
            f"({left_out[0]:.2f} s before, {left_out[1]:.2f} s after left out)"
        )
    return Expected(required, accepted, angles, round(speed, 4) if "speed_changed" in required else None)


def expected_from_truth(expect: dict[str, Any], ref: Item, ref_span: tuple[float, float]) -> Expected:
    """The alterations a make_cases.py copy justifies: the codes its edits name, plus the rules above.

    make_cases.py records the codes each edit justifies (`expect.required`,
    `expect.accepted`) and the facts behind the rest: the footage's linear
    scale against the reference (`footage_scale`, None when no one number says
    it, e.g. after an anamorphic stretch), the query's frame rate, the speed.
    `downscaled`, `frame_rate_changed` and `trimmed` follow from those facts by
    the same thresholds as expected_alterations; a still image can say nothing
    about frame rate, and `trimmed` is true but not required of it.
    """
    required = dict(expect.get("required") or {})
    accepted = dict(expect.get("accepted") or {})
    scale = expect.get("footage_scale")
    if scale is None:
        accepted.setdefault("downscaled", "the footage's size changed by an unequal amount per axis")
    elif scale < DOWNSCALED_BELOW:
        required.setdefault("downscaled", f"the footage at {scale:.2f}x its reference size")
    fps = expect.get("query_fps")
    if fps and ref.fps > 0 and abs(fps / ref.fps - 1.0) > FRAME_RATE_CHANGE:
        required.setdefault("frame_rate_changed", f"{ref.fps:.3g} fps -> {fps:.3g} fps")
    left_out = [min(ref_span), ref.duration - max(ref_span)]
    if expect.get("still"):
        accepted.setdefault("trimmed", "a still: one frame of the footage")
    elif max(left_out) > TRIM_MARGIN_S:
        required.setdefault(
            "trimmed", f"uses {min(ref_span):.2f}-{max(ref_span):.2f} s of {ref.duration:.2f} s of the reference"
        )
    for code in required:
        accepted.pop(code, None)
    speed = float(expect.get("speed") or 1.0)
    return Expected(
        required,
        accepted,
        tuple(float(a) for a in expect.get("angles_deg_clockwise") or ()),
        round(speed, 4) if "speed_changed" in required else None,
        TILT_TOLERANCE_DEG if expect.get("angles_deg_clockwise") else 0.0,
    )


def _clockwise(angle: float) -> int:
    """An angle in degrees clockwise, normalised to (-180, 180]."""
    a = int(round(angle)) % 360
    return a - 360 if a > 180 else a


def diagnosis_problem(code: str, evidence: list[dict[str, Any]], exp: Expected) -> str | None:
    """Why a diagnosed code is wrong for this query, or None when it is right."""
    if not exp.justifies(code):
        return "not justified by the edits"
    for ev in evidence:
        if code == "rotated" and exp.angles and ev.get("angle_deg_clockwise") is not None and exp.angle_tolerance:
            off = min(abs((float(ev["angle_deg_clockwise"]) - a + 180) % 360 - 180) for a in exp.angles)
            if off > exp.angle_tolerance:
                return (
                    f"turned {float(ev['angle_deg_clockwise']):.1f} deg clockwise, truth "
                    f"{' or '.join(f'{a:.1f}' for a in exp.angles)} (tolerance {exp.angle_tolerance:g})"
                )
        elif code == "rotated" and exp.angles and ev.get("angle_deg_clockwise") is not None:
            angle = _clockwise(float(ev["angle_deg_clockwise"]))
            if angle not in {_clockwise(a) for a in exp.angles}:
                return f"turned {angle} deg clockwise, truth {' or '.join(str(a) for a in exp.angles)}"
        if code == "speed_changed" and exp.speed and ev.get("reference_seconds_per_query_second") is not None:
            speed = float(ev["reference_seconds_per_query_second"])
            if abs(speed / exp.speed - 1.0) > SPEED_TOLERANCE:
                return f"reference s per query s {speed:.3f}, truth {exp.speed:.3f} (tolerance {SPEED_TOLERANCE:.0%})"
    return None


def judge_diagnosis(alterations: list[dict[str, Any]], exp: Expected) -> dict[str, Any]:
    """Score one match's alterations (code + evidence records) against what the truth justifies.

    Each code counts once per query; when a code appears more than once, every
    instance's evidence must be right.
    """
    evidence: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in alterations:
        evidence[a["code"]].append(a.get("evidence") or {})
    correct, wrong, unknown = [], [], []
    for code, evs in evidence.items():
        if code not in DIAGNOSIS_CODES:
            unknown.append({"code": code, "evidence": evs[0]})
            continue
        problem = diagnosis_problem(code, evs, exp)
        if problem is None:
            correct.append(code)
        else:
            wrong.append({"code": code, "why": problem, "evidence": evs[0]})
    return {
        "expected": exp.to_dict(),
        "diagnosed": sorted(evidence),
        "correct": sorted(correct),
        "wrong": wrong,
        "missed": [{"code": c, "why": r} for c, r in exp.required.items() if c not in correct],
        "unknown": unknown,
    }


def compact(value: Any, depth: int = 0) -> Any:
    """A small JSON form of one evidence value: numbers rounded, short strings and lists; None to drop it."""
    if isinstance(value, bool | int | str) and not (isinstance(value, str) and len(value) > 80):
        return value
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, list | tuple) and len(value) <= 8 and depth < 2:
        items = [compact(v, depth + 1) for v in value]
        return None if any(v is None for v in items) else items
    if isinstance(value, dict) and len(value) <= 8 and depth < 2:
        return {str(k): c for k, v in value.items() if (c := compact(v, depth + 1)) is not None}
    return None


def alteration_records(match: Any) -> list[dict[str, Any]]:
    """A match's alterations as {code, evidence} with compact evidence (summaries are left out)."""
    out = []
    for a in getattr(match, "alterations", ()) or ():
        ev = {str(k): c for k, v in dict(a.evidence or {}).items() if (c := compact(v)) is not None}
        out.append({"code": str(a.code), "evidence": ev})
    return out


# --------------------------------------------------------------------------- results


@dataclass
class Found:
    """One thing a method reported for a query: a reference (as a manifest item id) and its evidence."""

    item: str | None  # manifest item id, None when the reference is not a manifest item
    ref: str  # the reference as the method names it (path)
    score: float
    span: tuple[float, float] | None = None  # reference span, seconds
    query_span: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"item": self.item, "ref": self.ref, "score": round(float(self.score), 4)}
        if self.span is not None:
            d["ref_span"] = [round(self.span[0], 3), round(self.span[1], 3)]
        if self.query_span is not None:
            d["query_span"] = [round(self.query_span[0], 3), round(self.query_span[1], 3)]
        d.update(self.extra)
        return d


@dataclass
class Outcome:
    """What a method returned for one query: matches (best first, above its threshold) and below-threshold candidates."""

    matches: list[Found]
    candidates: list[Found] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Method:
    name = "?"
    localises = False

    def available(self) -> str | None:
        """None when usable, else the reason it is not."""
        return None

    def ingest(self, refs: list[Item]) -> dict[str, Any]:
        raise NotImplementedError

    def query(self, q: Query) -> Outcome:
        raise NotImplementedError

    def matching_time(self, q: Query) -> tuple[float, float] | None:
        """(CPU seconds, wall seconds) of matching `q` alone, measured outside the timed query.

        None when the timed query is matching alone (then its times are the figures).
        """
        return None

    def params(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- provenance


class ProvenanceMethod(Method):
    name = "provenance"
    localises = True

    def __init__(self, index_url: str | None, workdir: Path, frames: bool = True, match_time: bool = True) -> None:
        self.index_url = index_url or f"sqlite:///{workdir / 'provenance-index.sqlite'}"
        self.frames = frames  # timed check with keyframes=True, as `provenance check` runs it
        self.match_time = match_time  # the second, untimed check(keyframes=False) for matching alone
        self.idx: Any = None
        self.by_ref_id: dict[int, str] = {}
        self.by_path: dict[str, str] = {}

    def available(self) -> str | None:
        try:
            import provenance.pipeline  # noqa: F401
        except Exception as exc:  # noqa: BLE001 - report any import failure as unavailability
            return f"{type(exc).__name__}: {exc}"
        return None

    def params(self) -> dict[str, Any]:
        import provenance
        from provenance import __version__
        from provenance.pipeline import thresholds

        return {
            "version": __version__,
            "thresholds": thresholds(),
            "index_url": self.index_url,
            "keyframes": self.frames,
            "source": source_identity(Path(provenance.__file__).parent),
        }

    def ingest(self, refs: list[Item]) -> dict[str, Any]:
        from provenance.index import open_index
        from provenance.ingest import add_paths

        path_to_item = {str(r.path): r.id for r in refs}
        self.idx = open_index(self.index_url, create=True)
        failed: list[dict[str, Any]] = []
        statuses: dict[str, int] = defaultdict(int)

        def on_item(it: Any) -> None:
            statuses[it.status] += 1
            item_id = path_to_item.get(it.path)
            if it.reference is not None and item_id is not None:
                self.by_ref_id[int(it.reference.id)] = item_id
                self.by_path[str(it.reference.path)] = item_id
            if it.status == "failed":
                failed.append({"item": item_id, "path": it.path, "error": it.error})
            log(f"  [provenance] ingest {item_id}: {it.status}")

        t0 = time.perf_counter()
        add_paths([str(r.path) for r in refs], self.idx, on_item=on_item)
        wall = time.perf_counter() - t0
        self.by_path.update(path_to_item)
        stats = self.idx.stats()
        return {"wall_s": wall, "statuses": dict(statuses), "failed": failed, "index_stats": stats}

    def _found(self, m: Any) -> Found:
        from provenance.report.words import moment_shown

        ref = m.reference
        item = self.by_ref_id.get(int(ref.id)) or self.by_path.get(str(ref.path))
        return Found(
            item=item,
            ref=str(ref.path),
            score=float(m.score),
            span=(float(m.reference_start_s), float(m.reference_end_s)),
            query_span=(float(m.query_start_s), float(m.query_end_s)),
            extra={
                "speed": round(float(m.speed), 4),
                "mirrored": bool(m.mirrored),
                "offset_s": round(float(m.offset_s), 3),
                "frames": f"{m.frames_matched}/{m.frames_total}",
                "mean_distance": round(float(m.mean_distance), 2),
                "alterations": alteration_records(m),
                # same_footage / same_scene, once the matcher says (issue 17); absent before
                **({"relation": str(m.relation)} if getattr(m, "relation", None) is not None else {}),
                # which visual channel found it, "frames" or "features" (issue 16); absent before
                **({"channel": str(m.channel)} if getattr(m, "channel", None) is not None else {}),
                # the verify stage's evidence (moving share, specificity, camera path drift), when verified
                **({"verification": m.verification.to_dict()} if getattr(m, "verification", None) is not None else {}),
                # the report states its reference seconds as the clip's moment: the same footage, at a pinned
                # moment (`report.words.moment_shown`); else it says "about" them, or names the place only
                "moment_stated": str(getattr(m, "relation", "")) != "same_scene" and moment_shown(m),
            },
        )

    def query(self, q: Query) -> Outcome:
        from provenance.pipeline import check

        # keyframes=True is what a user's `provenance check` runs: the report's aligned
        # frame pairs, which the frame-based diagnoses (colour, overlay, blur) come from.
        report = check(q.path, index=self.idx, keyframes=self.frames)
        return Outcome(
            matches=[self._found(m) for m in report.matches],
            candidates=[self._found(m) for m in report.candidates[:3]],
            extra={
                "verdict": report.verdict.code,
                "frames": f"{report.input.frames_informative}/{report.input.frames_sampled}",
                "warnings": list(report.warnings),
            },
        )

    def matching_time(self, q: Query) -> tuple[float, float] | None:
        if not self.frames or not self.match_time:
            return None
        from provenance.pipeline import check

        c0, t0 = cpu_seconds(), time.perf_counter()
        check(q.path, index=self.idx, keyframes=False)  # matching alone, as the baselines do
        return cpu_seconds() - c0, time.perf_counter() - t0

    def close(self) -> None:
        if self.idx is not None:
            self.idx.close()
            self.idx = None


def source_identity(package_dir: Path) -> dict[str, Any]:
    """Which code was measured: git commit, whether the package differs from it, and a hash of its sources."""
    import hashlib

    digest = hashlib.sha256()
    for f in sorted(package_dir.rglob("*.py")):
        digest.update(str(f.relative_to(package_dir)).encode() + b"\0" + f.read_bytes() + b"\0")
    info: dict[str, Any] = {"sources_sha256": digest.hexdigest()[:16]}
    try:
        git = ["git", "-C", str(package_dir.parent)]
        info["git_commit"] = (
            subprocess.run(
                [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
            or None
        )
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", str(package_dir)], capture_output=True, text=True, timeout=30
        ).stdout
        info["uncommitted_changes"] = bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


# --------------------------------------------------------------------------- phash_vote


def decode_gray_1fps(path: Path, fps: float = PHASH_FPS, size: int = PHASH_DECODE_SIZE) -> np.ndarray:
    """(N, size, size) uint8 grey frames sampled at `fps` by ffmpeg (argument list, one local file)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg not found on PATH")
    argv = [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
        "-protocol_whitelist", "file", "-i", f"file:{path}",
        "-an", "-sn", "-dn",
        "-vf", f"fps={fps}:round=near,scale={size}:{size}:flags=area,format=gray",
        "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1",
    ]  # fmt: skip
    res = subprocess.run(argv, capture_output=True, timeout=DECODE_TIMEOUT_S, check=False)
    n = len(res.stdout) // (size * size)
    if n == 0:
        tail = res.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no frame decoded"]
        raise RuntimeError(f"{path.name}: ffmpeg decoded no frame ({tail[0][:200]})")
    return np.frombuffer(res.stdout[: n * size * size], dtype=np.uint8).reshape(n, size, size)


def phash_frames(frames: np.ndarray) -> np.ndarray:
    """imagehash.phash of each frame, as uint64 (bit order of str(hash))."""
    import imagehash
    from PIL import Image

    out = np.empty(len(frames), dtype=np.uint64)
    for i, f in enumerate(frames):
        h = imagehash.phash(Image.fromarray(f, mode="L"))
        out[i] = np.uint64(int(str(h), 16))
    return out


def popcount64(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x).astype(np.int64)


class PhashVoteMethod(Method):
    name = "phash_vote"

    def __init__(self) -> None:
        self.hashes = np.zeros(0, dtype=np.uint64)
        self.owner = np.zeros(0, dtype=np.int64)
        self.items: list[Item] = []

    def available(self) -> str | None:
        try:
            import imagehash  # noqa: F401
            from PIL import Image  # noqa: F401
        except ImportError as exc:
            return f"ImportError: {exc}"
        if shutil.which("ffmpeg") is None:
            return "ffmpeg not found on PATH"
        return None

    def params(self) -> dict[str, Any]:
        import imagehash

        return {
            "imagehash": getattr(imagehash, "__version__", "?"),
            "fps": PHASH_FPS,
            "max_distance": PHASH_MAX_DISTANCE,
            "min_vote_share": PHASH_MIN_SHARE,
            "decode_size": PHASH_DECODE_SIZE,
        }

    def ingest(self, refs: list[Item]) -> dict[str, Any]:
        t0 = time.perf_counter()
        hs, owners, failed = [], [], []
        for r in refs:
            try:
                h = phash_frames(decode_gray_1fps(r.path))
            except Exception as exc:  # noqa: BLE001 - one bad reference must not stop the run
                failed.append({"item": r.id, "error": f"{type(exc).__name__}: {exc}"})
                continue
            self.items.append(r)
            hs.append(h)
            owners.append(np.full(len(h), len(self.items) - 1, dtype=np.int64))
        wall = time.perf_counter() - t0
        if hs:
            self.hashes = np.concatenate(hs)
            self.owner = np.concatenate(owners)
        return {"wall_s": wall, "frames": int(len(self.hashes)), "failed": failed}

    def query(self, q: Query) -> Outcome:
        qh = phash_frames(decode_gray_1fps(q.path))
        n = len(qh)
        if len(self.hashes) == 0:
            return Outcome(matches=[], extra={"query_frames": n})
        dist = popcount64(qh[:, None] ^ self.hashes[None, :])  # (n, R)
        nearest = dist.argmin(axis=1)
        nd = dist[np.arange(n), nearest]
        votes: dict[int, list[int]] = defaultdict(list)
        for row in range(n):
            if nd[row] <= PHASH_MAX_DISTANCE:
                votes[int(self.owner[nearest[row]])].append(int(nd[row]))
        ranked = sorted(votes.items(), key=lambda kv: (-len(kv[1]), float(np.mean(kv[1])), kv[0]))
        found = [
            Found(
                item=self.items[ref].id,
                ref=str(self.items[ref].path),
                score=len(d) / n,
                extra={"votes": f"{len(d)}/{n}", "mean_distance": round(float(np.mean(d)), 2)},
            )
            for ref, d in ranked
        ]
        matches = [f for f in found[:1] if f.score >= PHASH_MIN_SHARE]
        candidates = [f for f in found if f not in matches][:3]
        return Outcome(matches=matches, candidates=candidates, extra={"query_frames": n})


# --------------------------------------------------------------------------- vpdq


class VpdqMethod(Method):
    name = "vpdq"

    def __init__(self) -> None:
        self.refs: list[tuple[Item, np.ndarray]] = []  # (item, (N, 32) uint8 filtered, deduplicated)

    def available(self) -> str | None:
        try:
            import vpdq  # noqa: F401
        except ImportError as exc:
            return (
                f"vpdq not importable ({exc}); install with `pip install vpdq` after "
                "`apt-get install libavcodec-dev libavformat-dev libavutil-dev libswscale-dev "
                "libavdevice-dev libavfilter-dev pkg-config cmake`"
            )
        return None

    def params(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {
            "vpdq": version("vpdq"),
            "seconds_per_hash": VPDQ_SECONDS_PER_HASH,
            "distance": VPDQ_DISTANCE,
            "quality": VPDQ_QUALITY,
            "query_match_percent": VPDQ_QUERY_MATCH_PERCENT,
            "compared_match_percent": VPDQ_COMPARED_MATCH_PERCENT,
        }

    @staticmethod
    def features(path: Path) -> tuple[np.ndarray, int]:
        """Quality-filtered, deduplicated PDQ hashes of a video as (N, 32) bytes, and the raw frame count."""
        import vpdq

        feats = vpdq.computeHash(str(path), seconds_per_hash=VPDQ_SECONDS_PER_HASH)
        seen: set[str] = set()
        rows = []
        for f in feats:
            if f.quality < VPDQ_QUALITY or f.hex in seen:
                continue
            seen.add(f.hex)
            rows.append(np.frombuffer(bytes.fromhex(f.hex), dtype=np.uint8))
        arr = np.stack(rows) if rows else np.zeros((0, 32), dtype=np.uint8)
        return arr, len(feats)

    def ingest(self, refs: list[Item]) -> dict[str, Any]:
        t0 = time.perf_counter()
        failed, frames = [], 0
        for r in refs:
            try:
                arr, _ = self.features(r.path)
            except Exception as exc:  # noqa: BLE001
                failed.append({"item": r.id, "error": f"{type(exc).__name__}: {exc}"})
                continue
            if len(arr) == 0:
                failed.append({"item": r.id, "error": f"no frame of quality >= {VPDQ_QUALITY}"})
                continue
            frames += len(arr)
            self.refs.append((r, arr))
        return {"wall_s": time.perf_counter() - t0, "frames": frames, "failed": failed}

    def query(self, q: Query) -> Outcome:
        qa, raw = self.features(q.path)
        if len(qa) == 0:
            return Outcome(
                matches=[], extra={"query_frames": f"0/{raw}", "note": f"no frame of quality >= {VPDQ_QUALITY}"}
            )
        found = []
        for item, ra in self.refs:
            dist = np.bitwise_count(qa[:, None, :] ^ ra[None, :, :]).sum(axis=2, dtype=np.int64)  # (Q, R)
            close = dist <= VPDQ_DISTANCE
            qpct = 100.0 * close.any(axis=1).sum() / len(qa)
            cpct = 100.0 * close.any(axis=0).sum() / len(ra)
            if qpct > 0:
                nearest = dist.min(axis=1)
                mean_d = float(nearest[nearest <= VPDQ_DISTANCE].mean())
                found.append(
                    Found(
                        item=item.id,
                        ref=str(item.path),
                        score=qpct / 100.0,
                        extra={
                            "query_match_percent": round(qpct, 1),
                            "compared_match_percent": round(cpct, 1),
                            "mean_distance": round(mean_d, 2),
                        },
                    )
                )
        # Best query match percentage first; ties (near-identical references) go to the closer one.
        found.sort(
            key=lambda f: (
                -f.extra["query_match_percent"],
                f.extra["mean_distance"],
                -f.extra["compared_match_percent"],
                f.item or "",
            )
        )
        passing = [
            f
            for f in found
            if f.extra["query_match_percent"] >= VPDQ_QUERY_MATCH_PERCENT
            and f.extra["compared_match_percent"] >= VPDQ_COMPARED_MATCH_PERCENT
        ]
        candidates = [f for f in found if f not in passing][:3]
        return Outcome(matches=passing, candidates=candidates, extra={"query_frames": f"{len(qa)}/{raw}"})


# --------------------------------------------------------------------------- scoring


def span_ok(found: Found, truth: tuple[float, float] | None) -> bool | None:
    if found.span is None or truth is None:
        return None
    return abs(found.span[0] - truth[0]) <= SPAN_TOLERANCE_S and abs(found.span[1] - truth[1]) <= SPAN_TOLERANCE_S


def stated_span_ok(found: Found, q: Query) -> bool | None:
    """Whether a match's reference span is where the truth puts the query seconds it matched (within
    `SPAN_TOLERANCE_S` at both ends): a match of part of the clip is judged on that part."""
    if found.span is None or found.query_span is None or q.ref_span is None or q.query_span is None:
        return None
    if q.reversed:  # the truth's line runs backwards: the whole spans are compared
        return span_ok(found, q.ref_span)
    (r0, r1), (q0, q1) = q.ref_span, q.query_span
    # bench/data's truth gives spans, not a speed: its speed is theirs
    pace = q.speed_factor if q.cases or q1 <= q0 else (r1 - r0) / (q1 - q0)
    at = [r0 + pace * (t - q0) for t in found.query_span]
    return all(abs(f - t) <= SPAN_TOLERANCE_S for f, t in zip(found.span, at, strict=True))


def score_query(q: Query, out: Outcome, wall: float, cpu: float) -> dict[str, Any]:
    top = out.matches[0] if out.matches else None
    row: dict[str, Any] = {
        "query": q.id,
        "group": q.group,
        "transforms": list(q.transforms),
        "truth": {
            "ref_id": q.ref_id,
            "ref_span": q.ref_span,
            "query_span": q.query_span,
            "negative_kind": q.negative_kind,
            "edits": list(q.edits),
        },
        "wall_s": round(wall, 4),
        "cpu_s": round(cpu, 4),
        "error": out.error,
        "matches": [f.to_dict() for f in out.matches[:3]],
        "n_matches": len(out.matches),
        "candidates": [f.to_dict() for f in out.candidates[:3]],
        **out.extra,
    }
    if q.cases:
        row["cases"] = True
        row["truth"].update(speed_factor=q.speed_factor, reversed=q.reversed, still=q.still)
    if q.parts:
        return score_compilation(q, out, row)
    if q.is_copy:
        # Where the true reference shows up at all (matches first, then below-threshold candidates).
        for where, pool in (("match", out.matches), ("candidate", out.candidates)):
            hit = next((k for k, f in enumerate(pool) if f.item == q.ref_id), None)
            if hit is not None:
                row["truth_found_as"] = {"as": where, "rank": hit + 1, "score": round(float(pool[hit].score), 4)}
                break
        row["hit"] = bool(top is not None and top.item == q.ref_id)
        # A hit the tool itself calls only the same scene (verify) is place, not reuse: same-footage recall leaves it out.
        row["same_footage_hit"] = bool(row["hit"] and top is not None and top.extra.get("relation") != "same_scene")
        row["wrong_reference"] = bool(top is not None and top.item != q.ref_id)
        if row["hit"]:
            assert top is not None
            row["span_ok"] = span_ok(top, q.ref_span)
            if "moment_stated" in top.extra:
                row["moment_stated"] = bool(top.extra["moment_stated"])
                row["stated_span_ok"] = stated_span_ok(top, q)
            if top.query_span is not None and q.query_span is not None:
                row["query_span_ok"] = (
                    abs(top.query_span[0] - q.query_span[0]) <= SPAN_TOLERANCE_S
                    and abs(top.query_span[1] - q.query_span[1]) <= SPAN_TOLERANCE_S
                )
            if "alterations" in top.extra and q.expected is not None:
                row["diagnosis"] = judge_diagnosis(top.extra["alterations"], q.expected)
        if q.cases:
            row["single_source"] = single_source_facts(q, top if row["hit"] else None)
    else:
        row["false_match"] = bool(out.matches)
        # A match the tool itself calls only the same scene (verify) is evidence of place, not reuse.
        row["same_footage_match"] = any(f.extra.get("relation") != "same_scene" for f in out.matches)
    return row


def overlaps(a: tuple[float, float] | None, b: tuple[float, float]) -> bool:
    return a is not None and min(a[1], b[1]) > max(a[0], b[0])


def score_compilation(q: Query, out: Outcome, row: dict[str, Any]) -> dict[str, Any]:
    """A compilation (make_cases.py): each part is found when some match names its reference with its query
    span overlapping the part's; the query is a hit when its first match names one of the parts' references."""
    top = out.matches[0] if out.matches else None
    refs = {p.ref_id for p in q.parts}
    parts = []
    for p in q.parts:
        found = next(
            (
                f
                for f in out.matches
                if f.item == p.ref_id and (f.query_span is None or overlaps(f.query_span, p.query_span))
            ),
            None,
        )
        parts.append(
            {
                "ref_id": p.ref_id,
                "query_span": list(p.query_span),
                "found": found is not None,
                "span_ok": span_ok(found, p.ref_span) if found is not None else None,
            }
        )
    row["parts"] = parts
    row["hit"] = bool(top is not None and top.item in refs)
    row["wrong_reference"] = bool(top is not None and top.item not in refs)
    if row["hit"]:
        assert top is not None
        part = next(p for p in q.parts if p.ref_id == top.item)
        row["span_ok"] = span_ok(top, part.ref_span)
        if "alterations" in top.extra and part.expected is not None:
            row["diagnosis"] = judge_diagnosis(top.extra["alterations"], part.expected)
    return row


def single_source_facts(q: Query, top: Found | None) -> dict[str, Any]:
    """On a copy that is one reference's footage throughout: where it starts, what it claims about time, its speed.

    `start_ok`: the matched reference span starts within 1 s of the truth's
    (for reversed copies, the earlier end of each). `claims`: which of
    TIME_CLAIMS the first match makes, each with whether the edits justify it
    (`embedded` never: nothing else is in the clip's timeline). `speed`: the
    alignment's reference seconds per query second; `speed_diagnosed`: the
    `speed_changed` evidence's, if any. `reversal_reported`: a `reversed` code
    or a negative speed.
    """
    facts: dict[str, Any] = {"found": top is not None}
    if top is None or q.ref_span is None:
        return facts
    if top.span is not None:
        facts["start_ok"] = abs(min(top.span) - min(q.ref_span)) <= SPAN_TOLERANCE_S
    codes = {a["code"]: a.get("evidence") or {} for a in top.extra.get("alterations") or []}
    exp = q.expected
    facts["claims"] = {
        c: {"justified": bool(exp and exp.justifies(c)) and c != "embedded"} for c in TIME_CLAIMS if c in codes
    }
    if "speed" in top.extra:
        facts["speed"] = top.extra["speed"]
    diagnosed = codes.get("speed_changed", {}).get("reference_seconds_per_query_second")
    if diagnosed is not None:
        facts["speed_diagnosed"] = diagnosed
    facts["reversal_reported"] = "reversed" in codes or float(top.extra.get("speed") or 1.0) < 0
    return facts


def timing(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "median": None, "p95": None, "max": None}
    return {
        "mean": round(statistics.fmean(values), 4),
        "median": round(statistics.median(values), 4),
        "p95": round(float(np.percentile(values, 95)), 4),
        "max": round(max(values), 4),
    }


def summarise(rows: list[dict[str, Any]], ingest: dict[str, Any], footage_s: float, localises: bool) -> dict[str, Any]:
    copies = [r for r in rows if "hit" in r]
    negs = [r for r in rows if "false_match" in r]
    hits = [r for r in copies if r["hit"]]
    wrong = [r for r in copies if r["wrong_reference"]]
    fms = [r for r in negs if r["false_match"]]
    spans = [r for r in hits if r.get("span_ok") is not None]
    groups: dict[str, dict[str, int]] = {}
    for r in rows:
        g = groups.setdefault(r["group"], {"n": 0, "hits": 0, "false_matches": 0, "wrong_reference": 0, "errors": 0})
        g["n"] += 1
        g["hits"] += int(r.get("hit", False))
        g["false_matches"] += int(r.get("false_match", False))
        g["wrong_reference"] += int(r.get("wrong_reference", False))
        g["errors"] += int(r.get("error") is not None)
    wall = ingest.get("wall_s") or 0.0
    return {
        "copies": len(copies),
        "hits": len(hits),
        "recall_at_1": round(len(hits) / len(copies), 4) if copies else None,
        # the hit also called the same footage, not the same scene only (verify)
        "same_footage_hits": sum(1 for r in hits if r.get("same_footage_hit", True)),
        "same_footage_matches_on_negatives": sum(
            1 for r in negs if r.get("false_match") and r.get("same_footage_match", True)
        ),
        "wrong_reference": len(wrong),
        # the true reference anywhere among the matches (not only first): near-duplicate references blur rank 1
        "truth_among_matches": sum(1 for r in copies if (r.get("truth_found_as") or {}).get("as") == "match"),
        "negatives": len(negs),
        "false_matches": len(fms),
        "false_match_rate": round(len(fms) / len(negs), 4) if negs else None,
        "span_within_1s": (round(sum(1 for r in spans if r["span_ok"]) / len(spans), 4) if spans else None)
        if localises
        else "n/a",
        "span_within_1s_count": f"{sum(1 for r in spans if r['span_ok'])}/{len(spans)}" if localises else "n/a",
        # the spans the report states as the clip's moment (`moment_stated`), and how many of them are
        # where the truth puts the query seconds matched (`stated_span_ok`)
        "stated_span_within_1s_count": (
            f"{sum(1 for r in spans if r.get('moment_stated') and r.get('stated_span_ok'))}/"
            f"{sum(1 for r in spans if r.get('moment_stated'))}"
            if localises
            else "n/a"
        ),
        "query_span_within_1s_count": (
            f"{sum(1 for r in hits if r.get('query_span_ok'))}/{sum(1 for r in hits if 'query_span_ok' in r)}"
            if localises
            else "n/a"
        ),
        "errors": sum(1 for r in rows if r.get("error") is not None),
        "query_wall_s": timing([r["wall_s"] for r in rows]),
        "query_cpu_s": timing([r["cpu_s"] for r in rows]),
        # matching alone (provenance: a second check without report frames; baselines: the query itself)
        "match_cpu_s": timing([r["match_cpu_s"] for r in rows if r.get("match_cpu_s") is not None]),
        "match_wall_s": timing([r["match_wall_s"] for r in rows if r.get("match_wall_s") is not None]),
        "ingest_wall_s": round(wall, 3),
        "ingest_cpu_s": round(ingest.get("cpu_s") or 0.0, 3),
        "ingest_footage_s": round(footage_s, 3),
        "ingest_footage_min_per_wall_min": round(footage_s / wall, 2) if wall > 0 else None,
        "groups": groups,
        **({"diagnosis": diag} if (diag := summarise_diagnosis(rows)) is not None else {}),
        **({"cases": summarise_cases(rows, localises)} if any(r.get("cases") for r in rows) else {}),
    }


def summarise_cases(rows: list[dict[str, Any]], localises: bool) -> dict[str, Any]:
    """The figures of issue 16 and 17 on make_cases.py's cases, per group.

    Single-source copies (every copy but compilations): found at rank 1, reference
    start within 1 s, which time claims the first match makes (and how many the
    edits do not justify), speed error, reversal reported. Compilations: parts
    found. Negatives: flagged by any match, and by a match not called same scene.
    """
    single: dict[str, dict[str, Any]] = {}
    for r in rows:
        ss = r.get("single_source")
        if ss is None:
            continue
        g = single.setdefault(
            r["group"],
            {"n": 0, "found": 0, "start_ok": 0, "reversed": 0, "reversal_reported": 0, "speed_errors": [],
             "speed_diagnosed_errors": [], **{f"{c}_claimed": 0 for c in TIME_CLAIMS},
             **{f"{c}_unjustified": 0 for c in TIME_CLAIMS}},
        )  # fmt: skip
        g["n"] += 1
        g["found"] += int(ss["found"])
        g["start_ok"] += int(bool(ss.get("start_ok")))
        for c, v in (ss.get("claims") or {}).items():
            g[f"{c}_claimed"] += 1
            g[f"{c}_unjustified"] += int(not v["justified"])
        truth_speed = float(r["truth"].get("speed_factor") or 1.0)
        if ss["found"] and abs(truth_speed - 1.0) > 1e-6:
            if ss.get("speed") is not None:
                g["speed_errors"].append(round(abs(abs(float(ss["speed"])) / truth_speed - 1.0), 4))
            if ss.get("speed_diagnosed") is not None:
                g["speed_diagnosed_errors"].append(round(abs(float(ss["speed_diagnosed"]) / truth_speed - 1.0), 4))
        if r["truth"].get("reversed"):
            g["reversed"] += 1
            g["reversal_reported"] += int(bool(ss.get("reversal_reported")))
    for g in single.values():
        g["speed_measured"] = len(g["speed_errors"])
        g["speed_within"] = sum(1 for e in g["speed_errors"] if e <= SPEED_REPORT_TOLERANCE)
        g["speed_diagnosed"] = len(g["speed_diagnosed_errors"])
        g["speed_diagnosed_within"] = sum(1 for e in g["speed_diagnosed_errors"] if e <= SPEED_REPORT_TOLERANCE)
        g["speed_error_median"] = round(statistics.median(g["speed_errors"]), 4) if g["speed_errors"] else None
    counts = [k for k, v in next(iter(single.values()), {}).items() if isinstance(v, int)]
    total = {k: sum(g[k] for g in single.values()) for k in counts}
    comp = [r for r in rows if "parts" in r]
    parts = [p for r in comp for p in r["parts"]]
    negatives: dict[str, dict[str, int]] = {}
    for r in rows:
        if "false_match" not in r:
            continue
        g = negatives.setdefault(r["group"], {"n": 0, "flagged": 0, "same_footage": 0})
        g["n"] += 1
        g["flagged"] += int(r["false_match"])
        g["same_footage"] += int(bool(r.get("same_footage_match", r["false_match"])))
    return {
        "localises": localises,
        "single_source": single,
        "single_source_total": total,
        "compilation": {
            "queries": len(comp),
            "parts": len(parts),
            "parts_found": sum(1 for p in parts if p["found"]),
            "parts_span_ok": sum(1 for p in parts if p.get("span_ok")),
            "queries_all_found": sum(1 for r in comp if all(p["found"] for p in r["parts"])),
        },
        "negatives": negatives,
    }


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def summarise_diagnosis(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Per-code precision and recall of the top match's alterations, over hits (None when nothing was judged).

    precision = diagnosed and right / diagnosed; recall = required, diagnosed and
    right / required ("justified"). Unknown codes are counted apart, not scored.
    """
    judged = [r["diagnosis"] for r in rows if r.get("hit") and "diagnosis" in r]
    if not judged:
        return None
    groups: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r.get("hit") and "diagnosis" in r:
            g = groups.setdefault(r["group"], {"hits": 0, "diagnosed": 0, "correct": 0, "wrong": Counter()})
            scored = [c for c in r["diagnosis"]["diagnosed"] if c in DIAGNOSIS_CODES]
            g["hits"] += 1
            g["diagnosed"] += len(scored)
            g["correct"] += len(r["diagnosis"]["correct"])
            g["wrong"].update(w["code"] for w in r["diagnosis"]["wrong"])
    for g in groups.values():
        g["precision"] = ratio(g["correct"], g["diagnosed"])
        g["wrong"] = dict(g["wrong"].most_common())
    codes: dict[str, dict[str, Any]] = {
        c: {"diagnosed": 0, "correct": 0, "justified": 0, "found": 0} for c in DIAGNOSIS_CODES
    }
    unknown: Counter[str] = Counter()
    for d in judged:
        required = d["expected"]["required"]
        for c in d["diagnosed"]:
            if c in codes:
                codes[c]["diagnosed"] += 1
        for c in d["correct"]:
            codes[c]["correct"] += 1
            codes[c]["found"] += int(c in required)
        for c in required:
            codes[c]["justified"] += 1
        unknown.update(u["code"] for u in d["unknown"])
    for c in codes.values():
        c["precision"] = ratio(c["correct"], c["diagnosed"])
        c["recall"] = ratio(c["found"], c["justified"])
    total: dict[str, Any] = {
        k: sum(c[k] for c in codes.values()) for k in ("diagnosed", "correct", "justified", "found")
    }
    total["precision"] = ratio(total["correct"], total["diagnosed"])
    total["recall"] = ratio(total["found"], total["justified"])
    return {
        "queries": len(judged),
        "codes": codes,
        "groups": dict(sorted(groups.items())),
        "overall": total,
        "unknown_codes": dict(unknown.most_common()),
        "unknown_count": sum(unknown.values()),
    }


def debug_lists(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    def brief(r: dict[str, Any]) -> dict[str, Any]:
        keep = (
            "query", "group", "transforms", "truth", "error", "truth_found_as", "matches", "candidates",
            "verdict", "frames", "query_frames",
        )  # fmt: skip
        return {k: r[k] for k in keep if k in r}

    lists = {
        "misses": [brief(r) for r in rows if "hit" in r and not r["hit"]],
        "false_matches": [brief(r) for r in rows if r.get("false_match")],
        "wrong_span": [brief(r) for r in rows if r.get("hit") and r.get("span_ok") is False],
    }
    judged = [r for r in rows if r.get("hit") and "diagnosis" in r]
    if judged:
        # One line per (query, code): what the report said that the edits do not justify, what it left
        # unsaid, and codes the truth has no mapping for.
        def item(r: dict[str, Any], d: dict[str, Any]) -> dict[str, Any]:
            edits = [
                f"{e['name']} {json.dumps(e.get('params') or {}, separators=(',', ':'))}" for e in r["truth"]["edits"]
            ]
            return {"query": r["query"], "group": r["group"], **d, "truth_transforms": edits}

        lists["wrong_diagnoses"] = [item(r, w) for r in judged for w in r["diagnosis"]["wrong"]]
        lists["missed_diagnoses"] = [item(r, m) for r in judged for m in r["diagnosis"]["missed"]]
        lists["unknown_diagnoses"] = [item(r, u) for r in judged for u in r["diagnosis"]["unknown"]]
    return lists


# --------------------------------------------------------------------------- tables


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def fmt_s(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def group_order(groups: set[str]) -> list[str]:
    edits = sorted(g for g in groups if not g.startswith("negative:") and g != "combo")
    tail = ["combo"] if "combo" in groups else []
    negs = sorted(g for g in groups if g.startswith("negative:"))
    return edits + tail + negs


def render_tables(results: dict[str, Any]) -> str:
    methods = results["methods"]
    lines = []
    meta = results["meta"]
    lines.append(
        f"Data: {meta['data']['references']} references ({meta['data']['reference_footage_s']:.0f} s), "
        f"{meta['data']['copies']} copy queries, {meta['data']['negative_queries']} negative queries "
        f"(seed {meta['data']['seed']}). Machine: {meta['machine']['cpus']} cores, {meta['machine']['cpu']}, "
        f"load average {meta['machine']['loadavg_start'][0]:.1f} at start, "
        f"{meta['machine'].get('loadavg_end', [0.0])[0]:.1f} at end. {meta['date']}."
    )
    prov = methods.get("provenance", {}).get("params")
    if prov:
        src = prov.get("source", {})
        dirty = " + uncommitted changes" if src.get("uncommitted_changes") else ""
        lines.append(
            f"provenance {prov['version']} at commit {src.get('git_commit') or '?'}{dirty} "
            f"(sources {src.get('sources_sha256')}); thresholds: "
            + ", ".join(f"{k}={v}" for k, v in prov["thresholds"].items())
            + "."
        )
        if prov.get("keyframes"):
            lines.append(
                "provenance queries are timed as `check(keyframes=True)`, what `provenance check` runs; "
                "match CPU and match s are a second, untimed `check(keyframes=False)` (matching alone). "
                "For the baselines the query is matching alone, so match CPU = query CPU and match s = query s."
            )
        else:
            lines.append(
                "Run with --no-frames: provenance queries are `check(keyframes=False)` (matching alone, "
                "no report frames, so no frame-based diagnoses); match CPU = query CPU and match s = query s."
            )
    if meta["data"].get("queries_subset"):
        lines.append(f"Only queries {', '.join(meta['data']['queries_subset'])}.")
    lines.append("")
    lines.append(
        "| method | recall@1 | false matches (negatives) | wrong reference (copies) | span ±1 s | "
        "query s mean | median | p95 | query CPU s mean | match CPU s mean | p50 | p95 | match s mean | p50 | "
        "ingest s | ingest CPU s | footage min / wall min |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, m in methods.items():
        if m["status"] != "ok":
            lines.append(f"| {name} | {m['status']} |" + " |" * 15)
            continue
        s = m["summary"]
        span = "n/a" if s["span_within_1s"] == "n/a" else f"{pct(s['span_within_1s'])} ({s['span_within_1s_count']})"
        t, mc, mw = s["query_wall_s"], s.get("match_cpu_s") or timing([]), s.get("match_wall_s") or timing([])
        lines.append(
            f"| {name} | {pct(s['recall_at_1'])} ({s['hits']}/{s['copies']}) | "
            f"{s['false_matches']}/{s['negatives']} ({pct(s['false_match_rate'])}) | "
            f"{s['wrong_reference']}/{s['copies']} | {span} | {fmt_s(t['mean'])} | {fmt_s(t['median'])} | "
            f"{fmt_s(t['p95'])} | {fmt_s(s['query_cpu_s']['mean'])} | {fmt_s(mc['mean'])} | "
            f"{fmt_s(mc['median'])} | {fmt_s(mc['p95'])} | {fmt_s(mw['mean'])} | {fmt_s(mw['median'])} | "
            f"{fmt_s(s['ingest_wall_s'])} | "
            f"{fmt_s(s['ingest_cpu_s'])} | {fmt_s(s['ingest_footage_min_per_wall_min'])} |"
        )
    ok = {n: m for n, m in methods.items() if m["status"] == "ok"}
    if "provenance" in ok:
        s = ok["provenance"]["summary"]
        lines.append("")
        lines.append(
            f"provenance, same footage (verify): {s['same_footage_hits']}/{s['copies']} copies found and called the "
            f"same footage; {s['same_footage_matches_on_negatives']}/{s['negatives']} negatives matched as the same "
            "footage (the rest of the false matches above are called the same scene: place, not reuse)."
        )
        if s.get("stated_span_within_1s_count", "n/a") != "n/a":
            lines.append("")
            lines.append(
                f"provenance, spans stated as the clip's moment (the same footage, its seconds pinned), against the "
                "truth's seconds for the query seconds matched: "
                f'{s["stated_span_within_1s_count"]} within 1 s; the other hits\' spans are said to be "about" '
                "(the camera path over a still picture fits other moments as well) or place only (the same scene)."
            )
    if ok:
        groups: set[str] = set()
        for m in ok.values():
            groups |= set(m["summary"]["groups"])
        lines.append("")
        lines.append("Per edit: copies found at rank 1 (hits/n); negatives: false matches/n (lower is better).")
        lines.append("")
        lines.append("| group | n | " + " | ".join(ok) + " |")
        lines.append("|---|---|" + "---|" * len(ok))
        for g in group_order(groups):
            n = next(m["summary"]["groups"][g]["n"] for m in ok.values() if g in m["summary"]["groups"])
            cells = []
            for m in ok.values():
                gs = m["summary"]["groups"].get(g)
                if gs is None:
                    cells.append("")
                elif g.startswith("negative:"):
                    cells.append(f"{gs['false_matches']}/{gs['n']} FM")
                else:
                    cells.append(f"{gs['hits']}/{gs['n']}")
            lines.append(f"| {g} | {n} | " + " | ".join(cells) + " |")
    for name, m in ok.items():
        if "diagnosis" in m["summary"]:
            lines.extend(["", *render_diagnosis(name, m["summary"]["diagnosis"])])
    cases = {n: m["summary"]["cases"] for n, m in ok.items() if "cases" in m["summary"]}
    if cases:
        lines.extend(["", *render_cases(cases)])
    return "\n".join(lines) + "\n"


def render_cases(cases: dict[str, dict[str, Any]]) -> list[str]:
    """The tables of make_cases.py's cases: single-source copies, compilation parts, negatives."""

    def claim(g: dict[str, Any], c: str) -> str:
        return f"{g[f'{c}_claimed']} ({g[f'{c}_unjustified']})"

    lines: list[str] = []
    for name, cs in cases.items():
        if not cs["localises"]:
            continue
        lines += [
            f"Cases, single-source copies ({name}): copies whose whole length is one reference's footage. found: "
            "first match is the true reference; start ±1 s: its reference span starts within 1 s of the truth "
            "(of found); embedded / trimmed / speed_changed: copies whose first match claims it (in brackets: "
            f"not justified by the edits; `embedded` never is); speed error: median |speed/truth - 1| of the "
            f"alignment on found copies whose speed changed (within {SPEED_REPORT_TOLERANCE:.0%}/measured); "
            "reversal: reversed copies reported as reversed.",
            "",
            "| edit | n | found | start ±1 s | embedded | trimmed | speed_changed | speed error (within) | reversal |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for grp in group_order(set(cs["single_source"])):
            g = cs["single_source"][grp]
            speed = (
                f"{g['speed_error_median']:.1%} ({g['speed_within']}/{len(g['speed_errors'])})"
                if g["speed_errors"]
                else ""
            )
            rev = f"{g['reversal_reported']}/{g['reversed']}" if g["reversed"] else ""
            lines.append(
                f"| {grp} | {g['n']} | {g['found']}/{g['n']} | {g['start_ok']}/{g['found']} | {claim(g, 'embedded')} | "
                f"{claim(g, 'trimmed')} | {claim(g, 'speed_changed')} | {speed} | {rev} |"
            )
        t = cs["single_source_total"]
        if t:
            lines.append(
                f"| **all** | {t['n']} | {t['found']}/{t['n']} ({pct(ratio(t['found'], t['n']))}) | "
                f"{t['start_ok']}/{t['found']} ({pct(ratio(t['start_ok'], t['found']))}) | {claim(t, 'embedded')} | "
                f"{claim(t, 'trimmed')} | {claim(t, 'speed_changed')} | "
                f"{t['speed_within']}/{t['speed_measured']} | {t['reversal_reported']}/{t['reversed']} |"
            )
            lines += [
                "",
                f"Speed diagnosed (`speed_changed` evidence) within {SPEED_REPORT_TOLERANCE:.0%} of the truth: "
                f"{t['speed_diagnosed_within']}/{t['speed_diagnosed']} of the found speed-changed copies that "
                "carry it.",
                "",
            ]
    lines += [
        "Cases, compilations: a part is found when some match names its reference with a query span overlapping "
        "the part's (any query span, for methods that give none).",
        "",
        "| method | compilations | parts found | part spans ±1 s | all parts found |",
        "|---|---|---|---|---|",
    ]
    for name, cs in cases.items():
        c = cs["compilation"]
        spans = f"{c['parts_span_ok']}/{c['parts_found']}" if cs["localises"] else "n/a"
        lines.append(
            f"| {name} | {c['queries']} | {c['parts_found']}/{c['parts']} | {spans} | "
            f"{c['queries_all_found']}/{c['queries']} |"
        )
    groups = sorted({g for cs in cases.values() for g in cs["negatives"]})
    lines += [
        "",
        "Cases, negatives: flagged = any match at all; as same footage = a match the method does not call "
        "`same_scene`.",
        "",
        "| negative group | n | " + " | ".join(f"{n} flagged | {n} as same footage" for n in cases) + " |",
        "|---|---|" + "---|---|" * len(cases),
    ]
    for grp in groups:
        n = next(cs["negatives"][grp]["n"] for cs in cases.values() if grp in cs["negatives"])
        cells = []
        for cs in cases.values():
            g = cs["negatives"].get(grp)
            cells += [f"{g['flagged']}/{g['n']}", f"{g['same_footage']}/{g['n']}"] if g else ["", ""]
        lines.append(f"| {grp} | {n} | " + " | ".join(cells) + " |")
    return lines


def render_diagnosis(name: str, d: dict[str, Any]) -> list[str]:
    """The "Transform diagnosis" table: per alteration code, precision and recall against the truth."""
    lines = [
        f"Transform diagnosis ({name}): the top match's alterations on the {d['queries']} hits, against "
        'what each query\'s edits justify (docs/benchmark.md, "Transform diagnosis"). correct: diagnosed '
        "and true; justified: required by the edits; found: justified and diagnosed right.",
        "",
        "| code | diagnosed | correct | precision | justified | found | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for code, c in d["codes"].items():
        if c["diagnosed"] or c["justified"]:
            lines.append(
                f"| {code} | {c['diagnosed']} | {c['correct']} | {pct(c['precision'])} | {c['justified']} | "
                f"{c['found']} | {pct(c['recall'])} |"
            )
    t = d["overall"]
    lines.append(
        f"| **all** | {t['diagnosed']} | {t['correct']} | {pct(t['precision'])} | {t['justified']} | "
        f"{t['found']} | {pct(t['recall'])} |"
    )
    unknown = ", ".join(f"{k} ({n})" for k, n in d["unknown_codes"].items()) or "none"
    lines.extend(["", f"Codes with no mapping (not scored): {unknown}."])
    if d.get("groups"):
        lines.extend(
            [
                "",
                f"Transform diagnosis per edit ({name}): the scored codes of the top match on each edit's hits.",
                "",
                "| edit | hits | diagnosed | correct | precision | wrong (code: times) |",
                "|---|---|---|---|---|---|",
            ]
        )
        for group, g in d["groups"].items():
            wrong = ", ".join(f"{c}: {n}" for c, n in g["wrong"].items())
            lines.append(
                f"| {group} | {g['hits']} | {g['diagnosed']} | {g['correct']} | {pct(g['precision'])} | {wrong} |"
            )
    return lines


# --------------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        ff = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, timeout=30).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        ff = "?"
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        # other work on the machine skews the timings: compare with the core count
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "ffmpeg": ff,
        "decoder": _decoder(),
    }


def _decoder() -> str:
    from provenance.decode import choose_decoder

    try:
        return choose_decoder().describe()
    except Exception as exc:  # noqa: BLE001 - the record says why instead of failing the run
        return f"? ({exc})"


def make_method(
    name: str, index_url: str | None, workdir: Path, frames: bool = True, match_time: bool = True
) -> Method:
    if name == "provenance":
        return ProvenanceMethod(index_url, workdir, frames=frames, match_time=match_time)
    if name == "phash_vote":
        return PhashVoteMethod()
    if name == "vpdq":
        return VpdqMethod()
    raise SystemExit(f"unknown method {name!r}; choose from {', '.join(ALL_METHODS)}")


#: A run writes what it has so far to OUT/partial/ every this many queries (a run cut short still leaves tables).
PARTIAL_EVERY = 10


def run_method(
    method: Method,
    refs: list[Item],
    queries: list[Query],
    footage_s: float,
    on_partial: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    reason = method.available()
    if reason is not None:
        log(f"[{method.name}] unavailable: {reason}")
        return {"status": f"unavailable: {reason}"}
    try:
        params = method.params()
        log(f"[{method.name}] ingest {len(refs)} references")
        c0 = cpu_seconds()
        ingest = method.ingest(refs)
        ingest["cpu_s"] = cpu_seconds() - c0
        log(f"[{method.name}] ingest took {ingest['wall_s']:.1f} s")
    except Exception as exc:  # noqa: BLE001 - a broken method is reported, the others still run
        log(traceback.format_exc())
        method.close()
        return {"status": f"unavailable: ingest failed: {type(exc).__name__}: {exc}"}
    rows = []
    try:
        for i, q in enumerate(queries, 1):
            c0, t0 = cpu_seconds(), time.perf_counter()
            try:
                out = method.query(q)
            except Exception as exc:  # noqa: BLE001 - one failing query is recorded, not fatal
                out = Outcome(matches=[], error=f"{type(exc).__name__}: {exc}")
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            row = score_query(q, out, wall, cpu)
            row["match_cpu_s"] = round(cpu, 4) if out.error is None else None
            row["match_wall_s"] = round(wall, 4) if out.error is None else None
            if out.error is None:
                try:
                    match_time = method.matching_time(q)
                except Exception as exc:  # noqa: BLE001 - recorded; the timed query already counted
                    row["match_cpu_s"], row["match_wall_s"] = None, None
                    row["match_error"] = f"{type(exc).__name__}: {exc}"
                else:
                    if match_time is not None:
                        row["match_cpu_s"], row["match_wall_s"] = (round(x, 4) for x in match_time)
            rows.append(row)
            top = out.matches[0] if out.matches else None
            if q.is_copy:
                mark = "hit " if row["hit"] else ("WRONG" if row["wrong_reference"] else "miss")
            else:
                mark = "FALSE" if row["false_match"] else "ok  "
            found = f"{top.item or top.ref} {top.score:.2f}" if top else "-"
            err = f" ERROR {out.error}" if out.error else ""
            head = f"  [{method.name}] {i:3d}/{len(queries)} {q.id} {q.group:<32} {mark} {found}"
            log(f"{head} ({wall:.2f} s, cpu {cpu:.2f} s){err}")
            if on_partial is not None and i % PARTIAL_EVERY == 0 and i < len(queries):
                on_partial(_method_result(rows, ingest, footage_s, method, params))
    finally:
        method.close()
    return _method_result(rows, ingest, footage_s, method, params)


def _method_result(
    rows: list[dict[str, Any]], ingest: dict[str, Any], footage_s: float, method: Method, params: dict[str, Any]
) -> dict[str, Any]:
    """One method's results over the queries run so far."""
    return {
        "status": "ok",
        "params": params,
        "ingest": ingest,
        "summary": summarise(rows, ingest, footage_s, method.localises),
        **debug_lists(rows),
        "queries": rows,
    }


def retable(results_path: Path, out: Path, like: Path | None = None) -> int:
    """Summaries and tables of a finished run, again, with this code (new tables over the same rows).

    With `like` (another run's results.json, e.g. the partial record of a run cut
    short), only the queries that run holds are kept, so the two compare like with like.
    """
    results = json.loads(results_path.read_text())
    keep: set[str] | None = None
    if like is not None:
        other = json.loads(like.read_text())
        keep = {r["query"] for m in other["methods"].values() for r in m.get("queries", [])}
        results["meta"]["data"]["queries_subset"] = sorted(keep)
    for m in results["methods"].values():
        if m.get("status") != "ok":
            continue
        if keep is not None:
            m["queries"] = [r for r in m["queries"] if r["query"] in keep]
            footage = float(results["meta"]["data"].get("reference_footage_s", 0.0))
            m["summary"] = summarise(m["queries"], m["ingest"], footage, True)
            m.update(debug_lists(m["queries"]))
        if (diag := summarise_diagnosis(m["queries"])) is not None:
            m["summary"]["diagnosis"] = diag
    out.mkdir(parents=True, exist_ok=True)
    table = render_tables(results)
    (out / "table.md").write_text(table)
    print(table)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--data", type=Path, help="data set folder made by make_set.py (manifest.json, truth.json); required to run"
    )
    ap.add_argument("--out", type=Path, default=Path("bench/out"), help="output folder [bench/out]")
    ap.add_argument("--methods", default=",".join(ALL_METHODS), help=f"comma list of {', '.join(ALL_METHODS)} [all]")
    ap.add_argument(
        "--index-url",
        help="index for provenance (e.g. sqlite:///bench/out/index.sqlite to keep it); default: a fresh one in a temp dir",
    )
    ap.add_argument("--queries", help="comma list of query ids to run (debugging); default: all")
    ap.add_argument(
        "--no-frames",
        action="store_true",
        help="provenance: time check(keyframes=False) only (matching alone; no frame-based diagnoses)",
    )
    ap.add_argument(
        "--no-match-time",
        action="store_true",
        help="provenance: skip the second, untimed check(keyframes=False) that times matching alone "
        "(diagnosis runs; the match CPU columns then equal the query's)",
    )
    ap.add_argument(
        "--retable",
        type=Path,
        metavar="RESULTS",
        help="render RESULTS (a results.json) again with this code's summaries and tables, into --out; run nothing",
    )
    ap.add_argument(
        "--like",
        type=Path,
        metavar="RESULTS",
        help="with --retable: keep only the queries this other results.json holds (compare like with like)",
    )
    args = ap.parse_args(argv)
    if args.retable is not None:
        return retable(args.retable, args.out, args.like)
    if args.data is None:
        ap.error("--data is required (or --retable RESULTS)")

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for m in methods:
        if m not in ALL_METHODS:
            ap.error(f"unknown method {m!r}; choose from {', '.join(ALL_METHODS)}")
    only = {q.strip() for q in args.queries.split(",")} if args.queries else None
    data = args.data.resolve()
    data_meta, items, queries = load_data(data, only)
    refs = [i for i in items if i.split == "reference"]
    footage_s = sum(r.duration for r in refs)
    args.out.mkdir(parents=True, exist_ok=True)

    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "machine": machine(),
            "data": {
                "path": str(data),
                **data_meta,
                "references": len(refs),
                "reference_footage_s": footage_s,
                "copies": sum(1 for q in queries if q.is_copy),
                "negative_queries": sum(1 for q in queries if not q.is_copy),
                "queries_subset": sorted(only) if only else None,
            },
            "span_tolerance_s": SPAN_TOLERANCE_S,
            "methods": methods,
        },
        "methods": {},
    }
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="provenance-bench-") as tmp:
        for name in methods:
            method = make_method(
                name, args.index_url, Path(tmp), frames=not args.no_frames, match_time=not args.no_match_time
            )
            t0 = time.perf_counter()

            def partial(so_far: dict[str, Any], name: str = name) -> None:
                """OUT/partial/: the tables over the queries run so far (labelled as a subset)."""
                done = [r["query"] for r in so_far["queries"]]
                snapshot = {**results, "methods": {**results["methods"], name: so_far}}
                snapshot["meta"] = {**results["meta"], "data": {**results["meta"]["data"], "queries_subset": done}}
                folder = args.out / "partial"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "results.json").write_text(json.dumps(snapshot, indent=1, default=str) + "\n")
                (folder / "table.md").write_text(render_tables(snapshot))

            results["methods"][name] = run_method(method, refs, queries, footage_s, on_partial=partial)
            results["methods"][name]["total_wall_s"] = round(time.perf_counter() - t0, 2)
    results["meta"]["total_wall_s"] = round(time.perf_counter() - t_start, 2)
    results["meta"]["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]

    table = render_tables(results)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (args.out / "table.md").write_text(table)
    print(table)
    for name, m in results["methods"].items():
        if m["status"] == "ok":
            wrong = f", {len(m['wrong_diagnoses'])} wrong diagnoses" if "wrong_diagnoses" in m else ""
            print(
                f"{name}: {len(m['misses'])} misses, {len(m['false_matches'])} false matches{wrong}, "
                f"{m['summary']['errors']} errors, {m['total_wall_s']:.0f} s total"
            )
    print(f"wrote {args.out / 'results.json'} and {args.out / 'table.md'} ({results['meta']['total_wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
