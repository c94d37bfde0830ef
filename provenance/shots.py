"""Stage shots: shot boundaries (cuts, fades, dissolves) and the keyframes a fact-checker reverse-searches.

Works on the query's grey samples (`query.QUERY_FPS` a second, 128 px, no
second decode), inside the content box `layout` found, so a vertical clip's
letterboxed picture is judged and not its bars::

    >>> shots = find_shots(frames, layout.content_box)     # frames: decode.Frames
    >>> [(s.start_s, s.end_s, s.transition, s.keyframes) for s in shots.shots]
    [(0.0, 3.0, None, (1.25,)), (3.0, 6.5, 'fade', (4.75,))]

Three detectors, each on a signal that camera motion does not move
(docs/design.md#shots-boundaries-and-keyframes has the measurements):

- **fades** through black or white are dips of the picture's contrast (its
  standard deviation) with different content on either side;
- **dissolves** are runs of samples that are each a blend of the samples
  at the run's two ends (the linear model of a cross-fade: TransNetV2's
  paper and PySceneDetect's detectors both miss them at low rates, the blend
  test does not need a high rate);
- **cuts** are where every pair of samples across the boundary (gaps of one
  and two samples) differs in structure even after the best shift and zoom
  (normalised cross-correlation, so brightness changes and camera motion do
  not count), beyond the motion seen on either side (as PySceneDetect's
  AdaptiveDetector compares a frame's score with its neighbours'). A flash,
  a change that reverts within a sample, has a pair across it that agrees.

Keyframes: each shot's part outside its transitions is split into stretches
of similar content (a pan that reveals new things gives more than one), and
each stretch gives its sharpest informative sample (variance of the
Laplacian), unless it repeats the shot's previous keyframe.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from .decode import Frames
from .hashing import Rect, crop, hamming, phash_batch, to_squares

#: Side of the square each content box is scaled to for comparing samples, pixels (16-64):
#: fine enough for structure, coarse enough that compression and zoompan jitter vanish.
WORK_SIDE = 40
#: Centre part of a sample searched for in the other, as a share of the side (0.4-0.9): the
#: rest is the shift allowed (20% of the side each way between two samples).
SEARCH_KEEP = 0.6
#: Zooms tried between two samples (each way), >= 1: the benchmark's fastest zooms between two
#: samples 0.25 s apart, by rule.
ZOOMS = (1.0, 1.15, 1.32)
#: An edge distance this small (0-1) stops the search over shifts and zooms: far below the
#: thresholds distances are held against (docs/tuning.md).
GOOD_ENOUGH = 0.08
#: Bins of the grey-level histograms compared (8-64): 16 grey levels each, by rule.
HIST_BINS = 16
#: A sample flatter than this (standard deviation in grey levels, 0-255) shows no structure to
#: compare: the black or white middle of a fade, a blank frame.
FLAT_STD = 6.0
#: Cut: the distance (0-1) every pair of samples across it reaches (the shot benchmark's dev
#: sweep, docs/tuning.md).
CUT_DISTANCE = 0.45
#: ... by this much more than the motion beside it (the mean of the adjacent distances on
#: either side), 0-1 (dev sweep).
CUT_MARGIN = 0.2
#: Cut: the grey-level distance (0-1) every pair across it also reaches: whips over one scene
#: measured 0.11, cuts 0.19 or more (dev set).
CUT_COLOUR = 0.15
#: Cut: the edge distance (0-1) every pair across it also reaches: a cut replaces the picture, so
#: its edges change; the same edges in other grey levels are a fade's tail or an exposure change
#: (dev set: true cuts 0.35 or more, a fade-in 0.01).
CUT_EDGES = 0.2
#: Whip pan: two samples whose edges and grey levels both correlate this well (0-1), moved by their
#: phase correlation's shift, show one picture: no cut. Dev set: whips 0.64-0.98, cuts 0.33 at most.
WHIP_LINK = 0.5
#: ... over a shared part of at least this share of the picture (0-1): a smaller strip matches by chance.
WHIP_OVERLAP = 0.25
#: ... trying shifts this many pixels (of `WORK_SIDE`) either side of the peak: sub-pixel peaks, slight zooms.
WHIP_SLACK = 2
#: Fade: contrast falls below this share of the contrast around it, 0-1 (dev sweep).
FADE_DIP = 0.45
#: Seconds of samples either side a dip's contrast is measured against (> the longest fade, 1.6 s).
FADE_CONTEXT_S = 1.5
#: Gradual transition: the samples either side differ by at least this distance, 0-1 (dev sweep).
GRADUAL_DISTANCE = 0.35
#: Dissolve: a sample is a blend of two others within this share of their difference (root
#: mean square, 0-1; dev sweep).
BLEND_RESIDUAL = 0.3
#: Dissolve: a blend's mix lies this far inside 0-1 (0-0.5); a sample at a cut is one end or the other.
BLEND_ALPHA = 0.15
#: Dissolve: the ends of a blend lie at most this far either side of its middle sample, seconds
#: (dev set: 1.25 let a slow pan over smooth water pass as a blend; docs/tuning.md).
BLEND_REACH_S = 0.5
#: Shortest shot between a cut and a fade or dissolve, seconds (> 0): a cut closer to one is
#: dropped. PySceneDetect's ``min_scene_len`` default (15 frames, 0.5 s at 30 fps).
MIN_SHOT_S = 0.5
#: Keyframes: a stretch of a shot ends where its content is this many pHash bits from the
#: stretch's first sample (0-64); a new stretch gives another keyframe.
NEW_CONTENT_BITS = 24
#: Keyframes: a candidate this close (pHash bits) to the shot's previous keyframe repeats it.
DUPLICATE_BITS = 12
#: Keyframes: shortest stretch of its own, seconds (shorter ones join the previous).
MIN_STRETCH_S = 1.5

#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`).
THRESHOLDS: dict[str, float] = {
    "work_side": WORK_SIDE,
    "search_keep": SEARCH_KEEP,
    "zooms_max": max(ZOOMS),
    "good_enough": GOOD_ENOUGH,
    "hist_bins": HIST_BINS,
    "flat_std": FLAT_STD,
    "cut_distance": CUT_DISTANCE,
    "cut_margin": CUT_MARGIN,
    "cut_colour": CUT_COLOUR,
    "cut_edges": CUT_EDGES,
    "whip_link": WHIP_LINK,
    "whip_overlap": WHIP_OVERLAP,
    "whip_slack": WHIP_SLACK,
    "fade_dip": FADE_DIP,
    "fade_context_s": FADE_CONTEXT_S,
    "gradual_distance": GRADUAL_DISTANCE,
    "blend_residual": BLEND_RESIDUAL,
    "blend_alpha": BLEND_ALPHA,
    "blend_reach_s": BLEND_REACH_S,
    "min_shot_s": MIN_SHOT_S,
    "new_content_bits": NEW_CONTENT_BITS,
    "duplicate_bits": DUPLICATE_BITS,
    "min_stretch_s": MIN_STRETCH_S,
}


class Transition(StrEnum):
    """How a shot begins."""

    CUT = "cut"
    FADE = "fade"
    DISSOLVE = "dissolve"


@dataclass(frozen=True)
class Shot:
    """One shot: its span (s), how it began (None for the first) and its keyframe times (s).

    A gradual transition belongs to neither shot: the previous shot ends
    where it starts (`end_s`) and this one starts where it ends (`start_s`).
    """

    start_s: float
    end_s: float
    transition: str | None
    keyframes: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "transition": self.transition,
            "keyframes": list(self.keyframes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shot:
        transition = data.get("transition")
        return cls(
            float(data["start_s"]),
            float(data["end_s"]),
            str(Transition(transition)) if transition is not None else None,
            tuple(float(t) for t in data.get("keyframes", ())),
        )


@dataclass(frozen=True)
class Shots:
    """A clip's shots in time order, and the content box they were judged in (None: the whole frame)."""

    shots: tuple[Shot, ...]
    content_box: Rect | None = None

    @property
    def keyframe_times(self) -> list[float]:
        """Every keyframe's time, in order: what ``provenance frames`` writes and the report shows."""
        return [t for s in self.shots for t in s.keyframes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "content_box": list(self.content_box) if self.content_box else None,
            "shots": [s.to_dict() for s in self.shots],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shots:
        box = data.get("content_box")
        return cls(
            tuple(Shot.from_dict(s) for s in data.get("shots", ())),
            (float(box[0]), float(box[1]), float(box[2]), float(box[3])) if box else None,
        )


@dataclass(frozen=True)
class Keyframe:
    """A keyframe's time and its shot's span (the shape `shot_keyframes` has always given)."""

    t: float
    shot_start_s: float
    shot_end_s: float

    def to_dict(self) -> dict[str, float]:
        return {"t": self.t, "shot_start_s": self.shot_start_s, "shot_end_s": self.shot_end_s}


# -- signals ---------------------------------------------------------------------------


def _small(frames: Frames, box: Rect | None) -> np.ndarray:
    """The content box of every sample at `WORK_SIDE` square, float32."""
    import cv2

    images = crop(frames.images, box) if box else frames.images
    out = np.empty((len(images), WORK_SIDE, WORK_SIDE), np.float32)
    for i, img in enumerate(images):
        out[i] = cv2.resize(img, (WORK_SIDE, WORK_SIDE), interpolation=cv2.INTER_AREA)
    return out


def _histograms(frames: Frames, box: Rect | None) -> np.ndarray:
    """Grey-level histogram of each sample's content box, `HIST_BINS` bins summing to 1."""
    images = crop(frames.images, box) if box else frames.images
    n = len(images)
    bins = images.reshape(n, -1) // (256 // HIST_BINS)  # one bincount over every sample, offset by row
    rows = np.arange(n, dtype=np.int64)[:, None] * HIST_BINS
    counts = np.bincount((rows + bins).ravel(), minlength=n * HIST_BINS).reshape(n, HIST_BINS).astype(np.float64)
    return counts / np.maximum(1.0, counts.sum(axis=1, keepdims=True))


def _gradients(small: np.ndarray) -> np.ndarray:
    """Gradient magnitude of each (lightly blurred) small sample: edges, which say what is shown."""
    import cv2

    out = np.empty_like(small)
    for i, img in enumerate(small):
        b = cv2.GaussianBlur(img, (3, 3), 0.8)
        gx, gy = cv2.Sobel(b, cv2.CV_32F, 1, 0), cv2.Sobel(b, cv2.CV_32F, 0, 1)
        out[i] = np.sqrt(gx * gx + gy * gy)
    return out


class _Compare:
    """Distance between two samples, 0-1: the larger of their edges' and their grey levels' difference.

    Edges: 1 - the best normalised correlation of the two gradient images over
    shifts and zooms (camera motion moves edges, it does not change them).
    Grey levels: half the L1 distance of the histograms (a pan keeps them).
    """

    def __init__(self, small: np.ndarray, hist: np.ndarray, flat: np.ndarray) -> None:
        import cv2

        self.cv2 = cv2
        self.small, self.grad, self.hist, self.flat = small, _gradients(small), hist, flat
        keep = int(round(WORK_SIDE * SEARCH_KEEP))
        # Templates: the centre of each sample's edges at each zoom, scaled to `keep` pixels.
        self.templates: list[list[np.ndarray]] = []
        for img in self.grad:
            row = []
            for z in ZOOMS:
                side = min(WORK_SIDE, int(round(keep * z)))
                o = (WORK_SIDE - side) // 2
                part = img[o : o + side, o : o + side]
                row.append(part if side == keep else cv2.resize(part, (keep, keep), interpolation=cv2.INTER_AREA))
            self.templates.append(row)
        self.cache: dict[tuple[int, int], tuple[float, float]] = {}
        self.window: np.ndarray | None = None

    def parts(self, a: int, b: int) -> tuple[float, float]:
        """(edge distance, grey-level distance) of samples `a` and `b`."""
        key = (a, b) if a < b else (b, a)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        colour = 0.5 * float(np.abs(self.hist[a] - self.hist[b]).sum())
        if self.flat[a] or self.flat[b]:
            edges = 0.0 if self.flat[a] and self.flat[b] else 1.0
        else:
            best = -1.0
            for x, y in ((a, b), (b, a)):
                for tpl in self.templates[y]:
                    res = self.cv2.matchTemplate(self.grad[x], tpl, self.cv2.TM_CCOEFF_NORMED)
                    best = max(best, float(res.max()))
                    if best >= 1.0 - GOOD_ENOUGH:
                        break  # as alike as any threshold cares: the other zooms cannot change a decision
                if best >= 1.0 - GOOD_ENOUGH:
                    break
            edges = float(min(1.0, max(0.0, 1.0 - best)))
        self.cache[key] = (edges, colour)
        return edges, colour

    def __call__(self, a: int, b: int) -> float:
        edges, colour = self.parts(a, b)
        return max(edges, colour)

    def linked(self, a: int, b: int) -> bool:
        """Whether samples `a` and `b` show one picture moved further than `parts` searches (a whip pan).

        The shift is the phase correlation's peak of their edges (Kuglin and Hines 1975),
        which wraps around: each unwrapped reading, give or take `WHIP_SLACK` pixels, that
        lies beyond the shifts `parts` searched is tried; over a shared part of at least
        `WHIP_OVERLAP` of the picture both the edges and the grey levels must correlate
        (`WHIP_LINK`).
        """
        cv2 = self.cv2
        side = self.grad.shape[1]
        if self.window is None:
            self.window = cv2.createHanningWindow((side, side), cv2.CV_32F)
        (dx, dy), _ = cv2.phaseCorrelate(self.grad[a], self.grad[b], self.window)
        slack = range(-WHIP_SLACK, WHIP_SLACK + 1)
        reach = (side - int(round(side * SEARCH_KEEP))) // 2  # what `parts` searched already
        for sx in (dx, dx - side, dx + side):
            for sy in (dy, dy - side, dy + side):
                for ix in (int(round(sx)) + o for o in slack):
                    for iy in (int(round(sy)) + o for o in slack):
                        if abs(ix) <= reach and abs(iy) <= reach:
                            continue  # not moved past the search (two blends of one dissolve correlate here)
                        x0, x1, y0, y1 = max(0, -ix), min(side, side - ix), max(0, -iy), min(side, side - iy)
                        if x1 <= x0 or y1 <= y0 or (x1 - x0) * (y1 - y0) < WHIP_OVERLAP * side * side:
                            continue
                        if all(
                            _ncc(img[a][y0:y1, x0:x1], img[b][y0 + iy : y1 + iy, x0 + ix : x1 + ix]) >= WHIP_LINK
                            for img in (self.grad, self.small)
                        ):
                            return True
        return False


def _ncc(first: np.ndarray, second: np.ndarray) -> float:
    """Normalised correlation of two equal-sized images (-1 to 1; 0 when either is flat)."""
    pa, pb = first - first.mean(), second - second.mean()
    norm = float(np.sqrt((pa * pa).sum() * (pb * pb).sum()))
    return float((pa * pb).sum()) / norm if norm > 0 else 0.0


# -- detectors -------------------------------------------------------------------------


def _fades(
    small: np.ndarray, contrast: np.ndarray, flat: np.ndarray, fps: float, dist: _Compare
) -> list[tuple[int, int]]:
    """(first, last) sample of each fade through black or white: a dip of contrast between different content."""
    n = len(small)
    ctx = max(2, int(round(FADE_CONTEXT_S * fps)))
    out: list[tuple[int, int]] = []
    i = 0
    while i < n:
        before = contrast[max(0, i - ctx) : i]
        after = contrast[i + 1 : i + 1 + ctx]
        if len(before) == 0 or len(after) == 0:
            i += 1
            continue
        # A fade-in ends where the next shot's own level is reached, not where it passes a dimmer
        # previous shot's (dev-12: the rest of the fade-in fired a cut); the fade-out's start keeps
        # the lower level (widened to the brighter one, it reached back over a cut before it, dev-22).
        ref_after = float(after.max())
        ref = min(float(before.max()), ref_after)
        if not contrast[i] < FADE_DIP * ref:
            i += 1
            continue
        # The dip's bottom: a low-contrast shot just before a fade also falls below the bar, so
        # go down to the least contrast first and widen from there.
        while i + 1 < n and contrast[i + 1] < contrast[i]:
            i += 1
        # The dip: extend while contrast keeps falling before it and rising after it.
        a = i
        while a > 0 and contrast[a - 1] > contrast[a] * 1.03 and contrast[a - 1] < ref * 0.97:
            a -= 1
        b = i
        while (
            b + 1 < n
            and (contrast[b + 1] < FADE_DIP * ref or contrast[b + 1] > contrast[b] * 1.03)
            and (contrast[b + 1] < ref_after * 0.97)
        ):
            b += 1
        pre, post = a - 1, b + 1
        if pre >= 0 and post < n and not flat[pre] and not flat[post] and dist(pre, post) >= GRADUAL_DISTANCE:
            if a < b or _replaced(pre, post, flat, dist):
                out.append((a, b))
        i = b + 1
    return out


def _replaced(pre: int, post: int, flat: np.ndarray, dist: _Compare) -> bool:
    """Whether the shot changed across a one-sample dip of contrast, judged as a cut across it would be.

    A flash washes out one sample (1-3 frames at 4 samples a second) and the
    shot goes on; a fade's dip is as short only when the fade is. So the
    samples either side must differ beyond the motion beside them
    (`CUT_MARGIN`) and not be one picture moved (a whip during the flash).
    """
    n = len(flat)
    sides = [dist(pre - 1, pre)] if pre >= 1 and not flat[pre - 1] else []
    sides += [dist(post, post + 1)] if post + 1 < n and not flat[post + 1] else []
    motion = float(np.mean(sides)) if sides else 0.0
    return dist(pre, post) >= motion + CUT_MARGIN and not dist.linked(pre, post)


def _dissolves(
    small: np.ndarray, flat: np.ndarray, fps: float, dist: _Compare, taken: np.ndarray
) -> list[tuple[int, int]]:
    """(first, last) sample of each dissolve: a run of samples each a blend of samples either side of it.

    Sample m is a blend when, for some gap g, it is (1 - a) * s[m-g] + a * s[m+g]
    with a well inside 0-1, within `BLEND_RESIDUAL` of the two ends' difference,
    and the two ends show different things: their edges differ by `GRADUAL_DISTANCE`
    after motion is allowed for (a small pan also looks like a blend of its
    neighbours; the grey levels alone do not count, since a pan across a lit
    surface shifts them), and they are not one picture moved (`_Compare.linked`).
    """
    import cv2

    n = len(small)
    coarse = np.stack([cv2.resize(s, (16, 16), interpolation=cv2.INTER_AREA) for s in small]).reshape(n, -1)
    reach = max(1, int(round(BLEND_REACH_S * fps)))
    centre = np.zeros(n, bool)
    for m in range(1, n - 1):
        if flat[m] or taken[m]:
            continue
        for g in range(1, reach + 1):
            a, b = m - g, m + g
            if a < 0 or b >= n or flat[a] or flat[b] or taken[a] or taken[b]:
                break
            diff = coarse[b] - coarse[a]
            norm2 = float(diff @ diff)
            if norm2 <= 0:
                continue
            mid = coarse[m] - coarse[a]
            alpha = float(mid @ diff) / norm2
            if not BLEND_ALPHA < alpha < 1.0 - BLEND_ALPHA:
                continue
            resid = float(np.sqrt(((mid - alpha * diff) ** 2).mean() / (norm2 / diff.size)))
            if resid <= BLEND_RESIDUAL and dist.parts(a, b)[0] >= GRADUAL_DISTANCE and not dist.linked(a, b):
                centre[m] = True
                break
    out: list[tuple[int, int]] = []
    m = 0
    while m < n:
        if not centre[m]:
            m += 1
            continue
        first = m
        while m + 1 < n and centre[m + 1]:
            m += 1
        out.append((max(0, first - 1), min(n - 1, m + 1)))
        m += 1
    return out


def _merged(spans: list[tuple[int, int, Transition]]) -> list[tuple[int, int, Transition]]:
    """A dissolve that touches another gradual transition joins it: a fade's tail also fits a blend.

    Two fades that touch stay two (a shot can be a few samples between two fades).
    """
    out: list[tuple[int, int, Transition]] = []
    for a, b, kind in sorted(spans):
        if out and a <= out[-1][1] + 1 and Transition.DISSOLVE in (out[-1][2], kind):
            pa, pb, pk = out[-1]
            out[-1] = (pa, max(pb, b), Transition.FADE if Transition.FADE in (pk, kind) else pk)
        else:
            out.append((a, b, kind))
    return out


def _cuts(n: int, flat: np.ndarray, dist: _Compare, taken: np.ndarray) -> list[int]:
    """Indices i where a cut falls between samples i-1 and i."""
    out = []
    for i in range(1, n):
        if flat[i - 1] or flat[i] or taken[i - 1] or taken[i]:
            continue
        if dist(i - 1, i) < CUT_DISTANCE:
            continue
        pairs = [(i - 1, i)]
        if i >= 2 and not flat[i - 2]:
            pairs.append((i - 2, i))
        if i + 1 < n and not flat[i + 1]:
            pairs.append((i - 1, i + 1))
        across = [dist(a, b) for a, b in pairs]
        if min(across) < CUT_DISTANCE:
            continue
        sides = []
        if i >= 2 and not flat[i - 2]:
            sides.append(dist(i - 2, i - 1))
        if i + 1 < n and not flat[i + 1]:
            sides.append(dist(i, i + 1))
        motion = float(np.mean(sides)) if sides else 0.0
        if min(across) < motion + CUT_MARGIN:
            continue
        # Both channels must agree, unless the grey levels alone are decisive: a whip pan over one
        # scene replaces the edges but keeps the grey levels.
        colour = min(dist.parts(a, b)[1] for a, b in pairs)
        if colour < CUT_COLOUR:
            continue
        if min(dist.parts(a, b)[0] for a, b in pairs) < CUT_EDGES:  # the same picture, brighter or darker
            continue
        if dist.linked(i - 1, i):  # a whip: the picture moved past the search, it was not replaced
            continue
        out.append(i)
    return out


def _apart(cuts: list[int], gradual: list[tuple[int, int, Transition]], least: int) -> list[int]:
    """The cuts that leave a shot of at least `least` samples between them and every gradual transition.

    Beside a fade or dissolve a cut is judged on half its evidence (the samples
    on the transition's side are dark or blended, so one pair across it and
    the motion on one side are left), and a shot shorter than `MIN_SHOT_S`
    between the two is too short to report (PySceneDetect's ``min_scene_len``);
    the transition, a span with its own evidence, stands.
    """
    return [i for i in cuts if all(i <= a - least or i >= b + 1 + least for a, b, _ in gradual)]


# -- keyframes -------------------------------------------------------------------------


def _sharpness(frames: Frames, box: Rect | None) -> np.ndarray:
    """Variance of the Laplacian of each sample's content box (higher is sharper)."""
    import cv2

    images = crop(frames.images, box) if box else frames.images
    return np.array([cv2.Laplacian(img, cv2.CV_32F).var() for img in images], np.float64)


def _keyframes(idx: np.ndarray, hashes: np.ndarray, sharp: np.ndarray, contrast: np.ndarray, fps: float) -> list[int]:
    """Sample indices of one shot's keyframes, from the shot's samples outside transitions."""
    if len(idx) == 0:
        return []
    stretches: list[list[int]] = [[int(idx[0])]]
    for i in idx[1:]:
        first = stretches[-1][0]
        if int(hamming(hashes[first], hashes[i])) > NEW_CONTENT_BITS and len(stretches[-1]) >= MIN_STRETCH_S * fps:
            stretches.append([int(i)])
        else:
            stretches[-1].append(int(i))
    chosen: list[int] = []
    for stretch in stretches:
        s = np.array(stretch)
        informative = contrast[s] >= 2 * FLAT_STD
        pool = s[informative] if informative.any() else s
        # Sharpest, with a mild pull to the middle of the stretch (a shot's first and last samples
        # sit next to its boundaries).
        mid = (s[0] + s[-1]) / 2
        span = max(1.0, (s[-1] - s[0]) / 2)
        score = sharp[pool] * (1.0 - 0.3 * np.abs(pool - mid) / span)
        best = int(pool[int(np.argmax(score))])
        if chosen and int(hamming(hashes[chosen[-1]], hashes[best])) <= DUPLICATE_BITS:
            continue
        chosen.append(best)
    return chosen


# -- the stage -------------------------------------------------------------------------


def find_shots(frames: Frames, content_box: Rect | None = None) -> Shots:
    """The clip's shots and keyframes, from its samples.

    Args:
        frames: the clip's samples (`query.QUERY_FPS` a second is what the thresholds were set at).
        content_box: where the picture sits in the frame (`layout.find_layout`), None for all of it.

    Returns:
        The `Shots`: one shot for a still or a single sample, none for no samples.
    """
    n = len(frames)
    if n == 0:
        return Shots((), content_box)
    end_t = frames.duration_s if frames.duration_s > 0 else float(frames.times[-1])
    fps = frames.fps if frames.fps > 0 else 1.0
    times = frames.times
    small = _small(frames, content_box)
    contrast = small.reshape(n, -1).std(axis=1)
    flat = contrast < FLAT_STD
    dist = _Compare(small, _histograms(frames, content_box), flat)
    fades = _fades(small, contrast, flat, fps, dist)
    taken = np.zeros(n, bool)
    for a, b in fades:
        taken[a : b + 1] = True
    dissolves = _dissolves(small, flat, fps, dist, taken)
    for a, b in dissolves:
        taken[a : b + 1] = True
    cuts = _cuts(n, flat, dist, taken)
    gradual = _merged([(a, b, Transition.FADE) for a, b in fades] + [(a, b, Transition.DISSOLVE) for a, b in dissolves])
    cuts = _apart(cuts, gradual, max(1, int(round(MIN_SHOT_S * fps))))
    # Boundaries as (first sample of the transition, first sample of the next shot, kind).
    bounds = sorted([(a, b + 1, k) for a, b, k in gradual] + [(i, i, Transition.CUT) for i in cuts])
    hashes = phash_batch(to_squares(crop(frames.images, content_box) if content_box else frames.images))
    sharp = _sharpness(frames, content_box)
    shots: list[Shot] = []
    start, kind = 0, None
    for first, nxt, k in [*bounds, (n, n, None)]:
        idx = np.arange(start, first)
        idx = idx[~flat[idx]] if (~flat[idx]).any() else idx
        # A gradual transition's edges are uncertain by a sample: keep clear of them when the shot allows.
        inner = idx[
            (idx > start if kind not in (None, Transition.CUT) else idx >= 0)
            & (idx < first - 1 if k not in (None, Transition.CUT) else idx >= 0)
        ]
        idx = inner if len(inner) else idx
        keys = _keyframes(idx, hashes, sharp, contrast, fps)
        shots.append(
            Shot(
                _between(times, start, end_t),
                _between(times, first, end_t),
                kind,
                tuple(round(float(times[i]), 3) for i in keys),
            )
        )
        start, kind = nxt, (str(k) if k is not None else None)
    return Shots(tuple(shots), content_box)


def _between(times: np.ndarray, i: int, end_t: float) -> float:
    """The time halfway between samples i-1 and i: where a boundary before sample i is placed."""
    if i <= 0:
        return 0.0
    if i >= len(times):
        return round(end_t, 3)
    return round(float(times[i - 1] + times[i]) / 2, 3)


def shot_keyframes(frames: Frames, content_box: Rect | None = None) -> list[Keyframe]:
    """Every keyframe of `find_shots` with its shot's span, in time order.

    Args:
        frames: the clip's samples.
        content_box: where the picture sits (`layout.find_layout`), None for the whole frame.

    Returns:
        The keyframes; none for no frames.
    """
    shots = find_shots(frames, content_box)
    return [Keyframe(t, s.start_s, s.end_s) for s in shots.shots for t in s.keyframes]
