"""Stage: verify: whether a matched segment shows the same moment or only the same place.

A fixed camera (a webcam, a CCTV over a square, a news channel's rooftop
shot) films the same background every day, so a clip of its other moment
matches the still background of indexed footage as well as a copy does.
What tells the moment is what changes: between the aligned frames of a copy
the query changes where and as the reference changes; another moment
changes elsewhere or otherwise. The test, on grey frames at the aligned
times of a segment:

1. Both sides are put in one geometry: the query's matched region (whole
   frame, content box, inner picture or centre crop) with the matched
   dihedral operation undone, the reference's matched region, both at
   `VIEW_LONG_SIDE`; the remaining shift, zoom and tilt are fitted on their
   *time-averaged* pictures (ECC, OpenCV), which carry the still background
   and nothing of any one moment.
2. The cells that change in the reference across the span (`moving_share`
   of the picture) are the ones that can tell a moment. Too few: nothing
   moves enough, and the match proves the place at best (`same_scene`).
3. On those cells, each query frame is compared with the reference frame it
   is aligned with and with the other reference frames of the span. A copy
   is much closer to its own moment than to the others (`specificity` =
   1 - aligned / other); another moment is not.

>>> v = verify_segment(query_views, reference_views)     # doctest: +SKIP
>>> v.relation, v.moving_share, v.specificity
('same_footage', 0.31, 0.62)

The thresholds are in docs/tuning.md; docs/matching.md says what a static
shot can and cannot prove.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from . import camera as camera_mod
from .camera import CameraMotion, Picture
from .hashing import (
    CENTRE_KEEP,
    OP_CCW,
    OP_CCW_MIRROR,
    OP_CW,
    OP_CW_MIRROR,
    OP_MIRROR,
    REGION_BOX,
    REGION_FULL,
    REGION_INNER,
    Rect,
    centre,
    crop,
    variant_parts,
)
from .index import Reference
from .match import (
    MAX_SPEED,
    MIN_SPEED,
    SPEED_EDGE,
    SPEED_MIN_CHANGE,
    Alignment,
    Channel,
    SpeedEvidence,
    SpeedUntold,
    on_line,
)
from .query import REF_VIEWS_FPS, Query
from .query import VIEW_LONG_SIDE as QUERY_VIEW_LONG_SIDE
from .relation import HeldFrame, Relation, Verification

#: Long side (pixels) of the views compared: the samples' own size, as ingest stores a reference's
#: (`query.VIEW_LONG_SIDE`); at 64 px the leaves of the development set's fixed tree stopped "moving".
VIEW_LONG_SIDE = QUERY_VIEW_LONG_SIDE
#: Fewest query frames of a clip a verdict on the moment needs (a still image gives one).
MIN_PAIRS = 3
#: A cell "moves" when its normalised grey level's standard deviation over the
#: reference span exceeds this (in units of the frame's own standard deviation).
MOVE_STD = 0.25
#: Least share of the view that must move for the moment to be told (below: same scene at best).
MIN_MOVING_SHARE = 0.02
#: A cell is foreground in a frame when it departs from its side's per-cell median by this (frame std units).
FOREGROUND_STD = 0.5
#: Least share of the moving cells in the foreground of a pair for the pair to count.
MIN_FOREGROUND_SHARE = 0.01
#: Least `specificity` (1 - aligned / other distance on moving cells) of the same footage.
MIN_SPECIFICITY = 0.25
#: Seconds of reference decoded on each side of the matched span to look for the moment.
WINDOW_S = 10.0
#: Frames per second of the reference's views (the query's own rate): those ingest stores
#: (`query.REF_VIEWS_FPS`), or decoded from the file for an index made before.
REFERENCE_FPS = REF_VIEWS_FPS
#: Offsets at least this far (seconds) from the best one make the "other moments".
FAR_OFFSET_S = 1.0
#: Most query frames compared, evenly spread over the segment.
MAX_QUERY_FRAMES = 24
#: A found moment this far (seconds) or more from the matcher's offset replaces it.
REFINE_OFFSET_S = 0.25
#: ECC iterations and convergence for the fitted residual geometry (OpenCV's findTransformECC).
ECC_ITERATIONS = 50
ECC_EPSILON = 1e-4
#: A matched reference span at least this share inside a still-picture span (`camera`) is a still
#: picture: the moment then rests on the camera path, not on what moves.
STILL_SPAN_SHARE = 0.5
#: Most drift (pixels at `VIEW_LONG_SIDE`) of the clip's camera path from the reference's along the
#: alignment for the same footage on a still picture (cases-dev copies 0.04-4.2; other pans 4.4 and up).
MAX_PATH_DRIFT_PX = 5.0
#: ... and at most this many pixels per second of the path followed: another pan departs at a steady
#: rate, so a short stretch hides it (a pan retracing the reference's backwards: 1.47 px/s over 3 s;
#: copies 0.0-1.19; cases-dev and bench/scene_pans.py's dev negatives, docs/tuning.md).
MAX_PATH_DRIFT_RATE = 1.25
#: Fewest query frames whose camera path must be followed (registered against the reference).
MIN_PATH_FRAMES = 6
#: A held camera path pins the clip's moment only where its drift is at most this share of the least
#: drift with the clip moved `FAR_OFFSET_S` earlier or later (0-1; cases-dev's pan copies placed at the
#: wrong moment measured 0.62-2.0, 26 right-moment copies 0.5 or less: docs/tuning.md).
PATH_PIN_RATIO = 0.5
#: Where a held path does not pin the moment, its speed is followed again this share slower and faster
#: (0-1; issue 16 asks the speed within 10%); the speed is told only where the aligned drift is at most
#: `PATH_PIN_RATIO` of the least there. Checked only at a speed at least `SPEED_PIN_MIN_CHANGE` from 1.
SPEED_PIN_STEP = 0.1
SPEED_PIN_MIN_CHANGE = 0.08
#: Gaussian smoothing (sigma, pixels at `VIEW_LONG_SIDE`) of both views before the path is followed.
PATH_SMOOTH_PX = 1.5
#: Scale (sigma, pixels) of the broad light taken away before it (a vignette, a colour grade's falloff).
PATH_LIGHT_PX = 8.0
#: A frame this far (pixels) off the path's line is a failed fit, left out of the drift.
PATH_OUTLIER_PX = 4.0
#: A view's pixel is blank (a blanked cover, beyond a warped frame) when it stays under this grey level (0-255).
PATH_BLANK_GREY = 1.0
#: ... an overlay when the clip holds it within this standard deviation (grey levels; still stickers and
#: caption boxes 0.0-1.9 at the 90th percentile, cases-dev) where the reference moves more, and they differ by this.
PATH_STILL_GREY = 2.0
PATH_OVERLAY_GREY = 12.0
#: A frame's own cover (a moving sticker): pixels differing from the reference laid over it by more
#: than this many times the frame's median difference, left out where they are at most
#: `PATH_COVER_MAX_SHARE` of the picture (tried only where the fit on the whole picture fails).
PATH_COVER_RATIO = 4.0
PATH_COVER_MAX_SHARE = 0.6
#: A frame's flat areas (a sticker, moving or still): view pixels whose 5x5 standard deviation in the
#: clip's frame is under this many grey levels, in areas of 3x3 or more, left out of that frame's fit
#: where they are `PATH_FLAT_SHARE` of the picture (bench/sticker_cases.py, docs/tuning.md).
PATH_FLAT_GREY = 2.0
PATH_FLAT_SHARE = (0.05, 0.6)
#: Pixels around what is not picture also left out (a resize's mixed edge; 3 left too little picture
#: between a scattered cover's blanks for ECC, cases-dev d070).
PATH_MASK_MARGIN_PX = 1
#: What the report says when a still picture's match cannot be the same footage.
STILL_PICTURE_SENTENCE = (
    "the reference is a still picture under camera motion: the same picture proves the photograph, "
    "not this clip's moment"
)
#: Speed from what moves (`motion_speed`): |reference s per query s| tried log-spaced by this relative
#: step over match's range (`match.MIN_SPEED`-`match.MAX_SPEED`), both ways; 1% resolves the 5% asked.
MOTION_SPEED_STEP = 0.01
#: ... offsets tried at each speed, this far apart (seconds; the reference views are 0.25 s apart).
MOTION_OFFSET_STEP_S = 0.05
#: ... only over query frames spanning at least this (seconds): a speed needs time to show.
MOTION_MIN_SPAN_S = 2.0
#: ... at least this share of the query frames landing inside the decoded reference at a speed tried.
MOTION_MIN_INSIDE = 0.8
#: ... it replaces the matcher's speed only when the moving cells' distance there is at most this share
#: of theirs at the matcher's speed (a still background fits every speed; what moves does not; 0-1).
MOTION_SPEED_RATIO = 0.5
#: ... and that moment is this specific (`specificity` at the speed found; above `MIN_SPECIFICITY`:
#: the search over speeds has more chances to meet a chance agreement).
MOTION_MIN_SPECIFICITY = 0.5
#: ... its plausible speeds: those whose distance is within this share above the lowest.
MOTION_SPEED_INTERVAL = 0.15
#: ... a speed change the hashes showed is measured again on what moves when the two differ by this
#: share or more (cases-dev: the hashes' line fits were 6-9% off at x0.3-x3; what moves, 0-2%).
MOTION_REFINE_MIN = 0.02
#: A held (frozen) frame: consecutive query samples whose 8x8 cells' mean grey change is at most this
#: (0-255; frozen re-encodes 0.00-0.05, a static camera's leaves 5 median, bench/data pans 2-26).
HELD_FRAME_DIFF = 0.5
#: ... over a run of samples at least this long (seconds; a slow photo pan stayed under 1.0 for 1.75 s).
HELD_FRAME_MIN_S = 2.0
#: Cells per side of the grid `held_frame` compares (a change confined to one cell still counts).
HELD_FRAME_GRID = 8
#: A clip that shows a stretch again (a loop, a replay; `repeat_in`): samples each closer to the sample a
#: lag later than this share of their own change over one sample step (8x8 cells' mean grey change).
REPEAT_RATIO = 0.6
#: ... on the cells whose change over one step is at least this at either sample (0-255: still footage
#: repeats at every lag and proves nothing; re-encoding moves a textured cell by up to 4).
REPEAT_MOVING_GREY = 6.0
#: ... at a lag of at least this many seconds, over a stretch of at least `REPEAT_MIN_S` seconds.
REPEAT_MIN_LAG_S = 1.0
REPEAT_MIN_S = 1.5
#: ... which a match's line places at reference moments at least this far apart (seconds; a query
#: sample step) to be told nothing of its speed: a x0.22 line put three showings 0.44 s apart.
REPEAT_APART_S = 0.25


#: Why a match whose reference file cannot be read again is not verified.
UNREADABLE_REASON = (
    "the reference file is not at its indexed path or has changed since it was indexed: "
    "what moves could not be compared, so the moment is not verified"
)


def unverified(reason: str) -> Verification:
    """A relation that could not be checked, and why."""
    return Verification(Relation.UNVERIFIED, 0, None, None, reason)


def _pixel_op(image: np.ndarray, op: int) -> np.ndarray:
    """The dihedral operation `hashing.apply_op` applies to a square's DCT, on pixels."""
    if op == OP_MIRROR:
        return image[:, ::-1]
    if op == OP_CCW:
        return np.rot90(image)
    if op == OP_CW:
        return np.rot90(image, -1)
    if op == OP_CCW_MIRROR:
        return np.rot90(image)[:, ::-1]
    if op == OP_CW_MIRROR:
        return np.rot90(image, -1)[:, ::-1]
    return image


def _region_rect(region: int, content_box: Rect | None, inner_rect: Rect | None) -> Rect | None:
    if region == REGION_FULL:
        return (0.0, 0.0, 1.0, 1.0)
    if region == REGION_BOX:
        return content_box
    if region == REGION_INNER:
        return inner_rect
    keep = CENTRE_KEEP.get(region)
    return centre(keep) if keep is not None else None


def views(
    query_images: Sequence[np.ndarray],
    reference_images: Sequence[np.ndarray],
    *,
    query_variant: int,
    reference_variant: int,
    content_box: Rect | None = None,
    inner_rect: Rect | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The query's and the reference's frames in one geometry, as float32 (N, h, w) stacks.

    The query's matched region is cut out and the matched operation undone
    (so the picture faces as the reference does); the reference's matched
    region is cut out; both are scaled to the reference view's size with
    `VIEW_LONG_SIDE` as its long side.

    Raises:
        ValueError: a region the variant names is unknown, or the stacks are empty.
    """
    q_region, q_op = variant_parts(query_variant)
    r_region, _ = variant_parts(reference_variant)
    q_rect = _region_rect(q_region, content_box, inner_rect)
    r_rect = _region_rect(r_region, None, None)
    if q_rect is None or r_rect is None or not len(query_images) or not len(reference_images):
        raise ValueError("no region to compare")
    refs = [crop(np.asarray(r, dtype=np.uint8)[None], r_rect)[0] for r in reference_images]
    rh, rw = refs[0].shape
    scale = VIEW_LONG_SIDE / max(rh, rw)
    size = (max(8, int(round(rw * scale))), max(8, int(round(rh * scale))))
    qs = [_pixel_op(crop(np.asarray(q, dtype=np.uint8)[None], q_rect)[0], q_op) for q in query_images]
    as_view = [cv2.resize(np.ascontiguousarray(x), size, interpolation=cv2.INTER_AREA) for x in qs]
    r_view = [cv2.resize(np.ascontiguousarray(x), size, interpolation=cv2.INTER_AREA) for x in refs]
    return np.stack(as_view).astype(np.float32), np.stack(r_view).astype(np.float32)


def _fit(query: np.ndarray, reference: np.ndarray, aligned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The query stack warped onto the reference by an affine map, and its valid mask.

    The map is fitted (ECC) on the time average of the query against that of
    the reference frames the matcher aligned with it (`aligned`, an index per
    query frame): the still background dominates both averages, so the fit
    favours no moment over another, and on a moving camera the two averages
    are of the same stretch of footage.
    """
    r_mean = reference[aligned].mean(axis=0)
    seen = np.isfinite(query)
    if seen.all():
        q_mean = query.mean(axis=0)
    else:  # pixels some frames do not show: the mean of those that do, the reference's where none does
        count = seen.sum(axis=0)
        q_mean = np.where(count > 0, np.where(seen, query, 0.0).sum(axis=0) / np.maximum(1, count), r_mean)
        q_mean = q_mean.astype(np.float32)
    warp = np.eye(2, 3, dtype=np.float32)
    try:
        _, fitted = cv2.findTransformECC(  # type: ignore[call-overload]
            r_mean,
            q_mean,
            warp,
            cv2.MOTION_AFFINE,
            (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, ECC_EPSILON),
            None,
            3,
        )
        warp = np.asarray(fitted, dtype=np.float32)
    except cv2.error:
        warp = np.eye(2, 3, dtype=np.float32)  # no convergence: the variant's geometry stands
    h, w = reference.shape[1:]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    # A pixel a frame does not show (NaN) stays NaN, and spreads to the pixels interpolated from it.
    warped = np.stack([cv2.warpAffine(q, warp, (w, h), flags=flags, borderValue=0.0) for q in query])
    valid = cv2.warpAffine(np.ones_like(query[0]), warp, (w, h), flags=flags) > 0.99
    return warped, valid


def _normalised(stack: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Each frame minus its mean over `valid`, divided by its standard deviation there."""
    out = np.empty_like(stack)
    for i, frame in enumerate(stack):
        values = frame[valid]
        values = values[np.isfinite(values)]  # a pixel the frame does not show is no part of its level
        std = float(values.std()) if values.size else 0.0
        out[i] = (frame - float(values.mean() if values.size else 0.0)) / max(std, 1e-3)
    return out


def _foreground_distances(q: np.ndarray, r: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """Mean distance of each query frame to each reference frame over what either shows in the foreground.

    A cell is foreground in a frame when it departs from its side's own
    background (the per-cell median over time) by more than `FOREGROUND_STD`.
    Comparing only there keeps two quiet moments (nothing passing in either)
    from looking alike: a pair where neither frame shows anything is NaN, no
    evidence either way. A cell a query frame does not show (NaN: `features.views`' `unseen`) is
    left out of that frame's comparisons.
    """
    qm, rm = q[:, moving], r[:, moving]  # (n, cells), (m, cells)
    seen = np.isfinite(qm)
    if not seen.all():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a cell no frame shows: NaN, never foreground
            background = np.nanmedian(qm, axis=0)
        fq = seen & (np.abs(np.where(seen, qm, 0.0) - np.nan_to_num(background)) > FOREGROUND_STD)
        qm = np.where(seen, qm, 0.0)
    else:
        fq = np.abs(qm - np.median(qm, axis=0)) > FOREGROUND_STD
    fr = np.abs(rm - np.median(rm, axis=0)) > FOREGROUND_STD
    out = np.full((len(qm), len(rm)), np.nan)
    least = max(1, int(MIN_FOREGROUND_SHARE * qm.shape[1]))
    every = seen.all(axis=1)
    for i in range(len(qm)):
        union = fq[i][None, :] | fr  # (m, cells)
        if not every[i]:
            union &= seen[i][None, :]
        counts = union.sum(axis=1)
        ok = counts >= least
        # Each row summed whole, then the rows kept: the same sums as summing the kept rows.
        out[i, ok] = (np.abs(qm[i][None, :] - rm) * union).sum(axis=1)[ok] / counts[ok]
    return out


@dataclass
class Compared:
    """What moves in the two views at one alignment (`compare`), and the pairs' distances on it, made once.

    `verify_segment` and `motion_speed` read the same views at the matcher's alignment: what one
    computed (the fit, the moving cells, every query frame's distance to every reference frame) the
    other reuses. `offset_s` and `speed` are the alignment it was made at.
    """

    offset_s: float
    speed: float
    q: np.ndarray
    r: np.ndarray
    moving: np.ndarray
    share: float
    _dist: np.ndarray | None = field(default=None, repr=False)

    @property
    def dist(self) -> np.ndarray:
        """`_foreground_distances` of the two stacks (query i, reference j), computed on first use."""
        if self._dist is None:
            self._dist = _foreground_distances(self.q, self.r, self.moving)
        return self._dist


def compare(
    query: np.ndarray,
    query_times: np.ndarray,
    reference: np.ndarray,
    reference_times: np.ndarray,
    *,
    offset_s: float,
    speed: float,
) -> Compared:
    """Both stacks in one geometry and normalised, the cells that move in the reference, and their share."""
    hashed = np.clip(np.searchsorted(reference_times, offset_s + speed * query_times), 0, len(reference_times) - 1)
    warped, valid = _fit(query, reference, hashed)
    if valid.mean() < 0.25:
        valid = np.ones_like(valid)
    q = _normalised(warped, valid)
    r = _normalised(reference, valid)
    moving = (r.std(axis=0) > MOVE_STD) & valid
    return Compared(offset_s, speed, q, r, moving, float(moving.sum() / max(1, valid.sum())))


def verify_segment(
    query: np.ndarray,
    query_times: np.ndarray,
    reference: np.ndarray,
    reference_times: np.ndarray,
    *,
    offset_s: float,
    speed: float,
    compared: Compared | None = None,
) -> Verification:
    """Same footage or same scene, from the query's frames over the segment and the reference's around it.

    Args:
        query: (n, h, w) query views (`views`) at `query_times`.
        query_times: (n,) seconds in the query.
        reference: (m, h, w) reference views at `reference_times`, densely over the span and `WINDOW_S` around it.
        reference_times: (m,) seconds in the reference, increasing.
        offset_s: the matcher's offset (reference_t = offset_s + speed * query_t).
        speed: the matcher's speed.
        compared: these views already compared at this alignment (`compare`), else compared here.

    Returns:
        The `Verification`, with the offset at which what moves agrees best.
    """
    n = len(query)
    if (n < MIN_PAIRS and n != 1) or len(reference) < MIN_PAIRS:
        return Verification(
            Relation.SAME_SCENE,
            n,
            None,
            None,
            f"only {n} frame{'s' if n != 1 else ''} to compare: too few to tell the moment",
        )
    if compared is None:
        compared = compare(query, query_times, reference, reference_times, offset_s=offset_s, speed=speed)
    share = compared.share
    if share < MIN_MOVING_SHARE:
        return Verification(
            Relation.SAME_SCENE,
            n,
            round(share, 3),
            None,
            f"nothing in the reference moves enough around the matched span ({share:.1%} of the picture changes): "
            "the match shows the same place, but cannot tell the moment",
        )
    dist = compared.dist  # (query i, reference j), NaN where neither shows anything
    step = float(np.median(np.diff(reference_times))) if len(reference_times) > 1 else 0.25
    offsets = np.arange(
        reference_times[0] - speed * query_times[-1], reference_times[-1] - speed * query_times[0], step
    )
    costs = np.full(len(offsets), np.inf)
    for k, o in enumerate(offsets):
        rt = o + speed * query_times
        inside = (rt >= reference_times[0] - step / 2) & (rt <= reference_times[-1] + step / 2)
        if inside.sum() < (1 if n == 1 else max(MIN_PAIRS, n // 2)):
            continue
        j = np.clip(np.searchsorted(reference_times, rt[inside] - step / 2), 0, len(reference_times) - 1)
        pair = dist[np.nonzero(inside)[0], j]
        if np.isfinite(pair).sum() >= max(1, len(pair) // 2):
            costs[k] = float(np.nanmean(pair))
    finite = np.isfinite(costs)
    if finite.sum() < 3:
        return Verification(Relation.SAME_SCENE, n, round(share, 3), None, "too little reference around the span")
    best = int(np.argmin(np.where(finite, costs, np.inf)))
    far = finite & (np.abs(offsets - offsets[best]) >= FAR_OFFSET_S)
    typical = float(np.median(costs[far])) if far.any() else float(np.median(costs[finite]))
    specificity = float(1.0 - costs[best] / typical) if typical > 0 else 0.0
    found = float(offsets[best])
    if abs(found - offset_s) >= FAR_OFFSET_S and not _bracketed(offsets, finite, best):
        # The pictures placed the clip elsewhere, and what moves is only read to agree best where the
        # reference stops being comparable: a trend that goes on past its edge (light slowly changing
        # over a fixed camera's scene) falls toward the edge without showing a moment there.
        return Verification(
            Relation.SAME_SCENE,
            n,
            round(share, 3),
            round(specificity, 3),
            f"what moves agrees best {abs(found - offset_s):.1f} s from where the picture matched, at the edge "
            "of the reference it could be compared with: the agreement may go on past that edge, so it shows no "
            "moment",
        )
    if specificity >= MIN_SPECIFICITY:
        return Verification(
            Relation.SAME_FOOTAGE,
            n,
            round(share, 3),
            round(specificity, 3),
            f"what moves agrees frame by frame: on the {share:.0%} of the picture that changes, the clip is "
            f"{specificity:.0%} closer to one moment of the reference than to its others",
            round(found, 3),
        )
    return Verification(
        Relation.SAME_SCENE,
        n,
        round(share, 3),
        round(specificity, 3),
        f"the still background agrees but what moves does not: on the {share:.0%} of the picture that changes, "
        f"no moment of the reference agrees with the clip better than the others ({specificity:.0%})",
    )


def _bracketed(offsets: np.ndarray, finite: np.ndarray, best: int) -> bool:
    """Whether offsets compared at least `FAR_OFFSET_S` before and after `best` exist: a moment, not an edge."""
    gap = offsets[finite] - offsets[best]
    return bool((gap <= -FAR_OFFSET_S).any() and (gap >= FAR_OFFSET_S).any())


#: Every threshold the verify stage decides with (recorded in each report's `tool.thresholds`).
THRESHOLDS: dict[str, float] = {
    "view_long_side": VIEW_LONG_SIDE,
    "max_query_frames": MAX_QUERY_FRAMES,
    "min_pairs": MIN_PAIRS,
    "move_std": MOVE_STD,
    "min_moving_share": MIN_MOVING_SHARE,
    "min_specificity": MIN_SPECIFICITY,
    "foreground_std": FOREGROUND_STD,
    "min_foreground_share": MIN_FOREGROUND_SHARE,
    "window_s": WINDOW_S,
    "reference_fps": REFERENCE_FPS,
    "far_offset_s": FAR_OFFSET_S,
    "refine_offset_s": REFINE_OFFSET_S,
    "ecc_iterations": ECC_ITERATIONS,
    "ecc_epsilon": ECC_EPSILON,
    "still_span_share": STILL_SPAN_SHARE,
    "max_path_drift_px": MAX_PATH_DRIFT_PX,
    "max_path_drift_rate": MAX_PATH_DRIFT_RATE,
    "path_pin_ratio": PATH_PIN_RATIO,
    "speed_pin_step": SPEED_PIN_STEP,
    "speed_pin_min_change": SPEED_PIN_MIN_CHANGE,
    "min_path_frames": MIN_PATH_FRAMES,
    "path_smooth_px": PATH_SMOOTH_PX,
    "path_light_px": PATH_LIGHT_PX,
    "path_outlier_px": PATH_OUTLIER_PX,
    "path_blank_grey": PATH_BLANK_GREY,
    "path_still_grey": PATH_STILL_GREY,
    "path_overlay_grey": PATH_OVERLAY_GREY,
    "path_mask_margin_px": PATH_MASK_MARGIN_PX,
    "path_cover_ratio": PATH_COVER_RATIO,
    "path_cover_max_share": PATH_COVER_MAX_SHARE,
    "path_flat_grey": PATH_FLAT_GREY,
    "path_flat_share_min": PATH_FLAT_SHARE[0],
    "path_flat_share_max": PATH_FLAT_SHARE[1],
    "motion_speed_step": MOTION_SPEED_STEP,
    "motion_offset_step_s": MOTION_OFFSET_STEP_S,
    "motion_min_span_s": MOTION_MIN_SPAN_S,
    "motion_min_inside": MOTION_MIN_INSIDE,
    "motion_speed_ratio": MOTION_SPEED_RATIO,
    "motion_min_specificity": MOTION_MIN_SPECIFICITY,
    "motion_speed_interval": MOTION_SPEED_INTERVAL,
    "motion_refine_min": MOTION_REFINE_MIN,
    "held_frame_diff": HELD_FRAME_DIFF,
    "held_frame_min_s": HELD_FRAME_MIN_S,
    "held_frame_grid": HELD_FRAME_GRID,
    "repeat_ratio": REPEAT_RATIO,
    "repeat_moving_grey": REPEAT_MOVING_GREY,
    "repeat_min_lag_s": REPEAT_MIN_LAG_S,
    "repeat_min_s": REPEAT_MIN_S,
    "repeat_apart_s": REPEAT_APART_S,
}


#: Elements (speeds x offsets x query frames) `_best_offsets` scores in one numpy computation.
_SPEED_CHUNK_CELLS = 1 << 20


def _offset_grid(query_times: np.ndarray, reference_times: np.ndarray, speed: float) -> np.ndarray:
    """The offsets tried at one speed: every `MOTION_OFFSET_STEP_S` that puts the clip within 1 s of the views."""
    span = (reference_times[0], reference_times[-1])
    ends = (span[0] - speed * query_times[0], span[0] - speed * query_times[-1])
    lo = min(ends) - 1.0
    hi = max(span[1] - speed * query_times[0], span[1] - speed * query_times[-1]) + 1.0
    return np.arange(lo, hi, MOTION_OFFSET_STEP_S)


def _offset_costs(
    dist: np.ndarray, query_times: np.ndarray, reference_times: np.ndarray, speeds: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """Mean moving-cell distance of the query frames to the reference frames each offset pairs them with: (s, k).

    `offsets` (s, k) holds each speed's offsets (`speeds`, (s,)), padded with inf.
    Inf where fewer than `MOTION_MIN_INSIDE` of the query frames land inside
    the reference views, or fewer than half of those pairs show anything.
    Each (speed, offset) is its own row of the same reductions, so a speed's
    costs do not depend on which others are scored with it.
    """
    n = len(query_times)
    step = float(np.median(np.diff(reference_times))) if len(reference_times) > 1 else 0.25
    rt = offsets[:, :, None] + (speeds[:, None] * query_times[None, :])[:, None, :]
    inside = (rt >= reference_times[0] - step / 2) & (rt <= reference_times[-1] + step / 2)
    landed = inside.sum(axis=2)
    rows = landed >= max(MIN_PAIRS, math.ceil(MOTION_MIN_INSIDE * n))
    costs = np.full(offsets.shape, np.inf)
    if not rows.any():
        return costs
    # Only the offsets that land enough frames inside are scored (the rest, the padding too, stay inf).
    rt, inside, landed = rt[rows], inside[rows], landed[rows]
    j = np.clip(np.searchsorted(reference_times, rt - step / 2), 0, len(reference_times) - 1)
    pair = dist[np.arange(n)[None, :], j]
    shown = inside & np.isfinite(pair)
    total = np.where(shown, pair, 0.0).sum(axis=1)
    count = shown.sum(axis=1)
    enough = count >= np.maximum(1, landed // 2)
    costs[rows] = np.where(enough, total / np.maximum(count, 1), np.inf)
    return costs


def _medians(values: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Each row's median of its `chosen` values (as `np.median` takes it: the mean of the middle two): (s,)."""
    ordered = np.sort(np.where(chosen, values, np.inf), axis=1)
    m = chosen.sum(axis=1)
    rows = np.arange(len(values))
    upper = ordered[rows, np.maximum(m // 2, 0)]
    lower = ordered[rows, np.maximum((m - 1) // 2, 0)]
    return np.where(m % 2 == 1, upper, (lower + upper) / 2.0)


def _best_offsets(
    dist: np.ndarray, query_times: np.ndarray, reference_times: np.ndarray, speeds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cost, offset, specificity) of the best offset at each speed, (s,) each; cost inf where none fits.

    Each speed's offsets (`_offset_grid`) are scored only where `MOTION_MIN_INSIDE` of the query
    frames can land inside the reference views (elsewhere `_offset_costs` gives inf, which no result
    reads), and the speeds in chunks of about `_SPEED_CHUNK_CELLS` elements, each chunk one numpy
    computation over its speeds' offsets (padded with inf): a speed's result is the one it has alone.
    """
    speeds = np.asarray(speeds, dtype=np.float64)
    cost = np.full(len(speeds), np.inf)
    offset = np.zeros(len(speeds))
    specificity = np.zeros(len(speeds))
    n = len(query_times)
    need = max(MIN_PAIRS, math.ceil(MOTION_MIN_INSIDE * n))
    if n < need or len(reference_times) == 0:
        return cost, offset, specificity
    step = float(np.median(np.diff(reference_times))) if len(reference_times) > 1 else 0.25
    # An offset lands `need` frames inside only if the need-th earliest and need-th latest of the
    # speed's query times (s * t) both can: outside that range (with a margin far above the sums'
    # rounding) every cost is inf.
    placed = np.sort(speeds[:, None] * query_times[None, :], axis=1)
    first = reference_times[0] - step / 2 - placed[:, n - need] - 1e-6
    last = reference_times[-1] + step / 2 - placed[:, need - 1] + 1e-6
    grids = []
    for s, lo, hi in zip(speeds, first, last, strict=True):
        g = _offset_grid(query_times, reference_times, float(s))
        grids.append(g[np.searchsorted(g, lo, side="left") : np.searchsorted(g, hi, side="right")])
    a = 0
    while a < len(speeds):
        b, widest = a, 0
        while b < len(speeds) and (b - a + 1) * max(widest, len(grids[b])) * n <= max(
            _SPEED_CHUNK_CELLS, n * len(grids[b])
        ):
            widest = max(widest, len(grids[b]))
            b += 1
        part = grids[a:b]
        if widest >= 3:
            offsets = np.full((len(part), widest), np.inf)
            for row, g in enumerate(part):
                offsets[row, : len(g)] = g
            costs = _offset_costs(dist, query_times, reference_times, speeds[a:b], offsets)
            finite = np.isfinite(costs)
            fits = finite.sum(axis=1) >= 3
            rows = np.arange(len(part))
            k = np.argmin(costs, axis=1)
            best = costs[rows, k]
            with np.errstate(divide="ignore", invalid="ignore"):  # a speed without offsets: inf - inf
                far = finite & (np.abs(offsets - offsets[rows, k][:, None]) >= FAR_OFFSET_S)
                typical = _medians(costs, np.where(far.any(axis=1)[:, None], far, finite))
                told = np.where(typical > 0, 1.0 - best / np.where(typical > 0, typical, 1.0), 0.0)
            cost[a:b] = np.where(fits, best, np.inf)
            offset[a:b] = np.where(fits, offsets[rows, k], 0.0)
            specificity[a:b] = np.where(fits, told, 0.0)
        a = b
    return cost, offset, specificity


def _least_cost(dist: np.ndarray, n: int) -> float:
    """A floor under every cost `_offset_costs` can give at any speed and offset over `dist` (n query frames).

    A cost is the mean, over at least half the `MOTION_MIN_INSIDE` frames it needs (`need // 2`), of
    pairs each at least its query frame's least distance to any reference frame: so no cost is below
    the mean of the that many least of those. Inf when too few frames show anything for any cost.
    """
    need = max(MIN_PAIRS, math.ceil(MOTION_MIN_INSIDE * n))
    counted = max(1, need // 2)
    rows = np.where(np.isfinite(dist), dist, np.inf).min(axis=1) if dist.size else np.zeros(0)
    least = np.sort(rows[np.isfinite(rows)])
    return float(least[:counted].mean()) if len(least) >= counted else math.inf


def _best_offset(
    dist: np.ndarray, query_times: np.ndarray, reference_times: np.ndarray, speed: float
) -> tuple[float, float, float]:
    """(cost, offset, specificity) of the best offset at one speed; cost inf when none fits."""
    cost, offset, specificity = _best_offsets(dist, query_times, reference_times, np.array([speed]))
    return float(cost[0]), float(offset[0]), float(specificity[0])


def motion_speed(
    query: np.ndarray,
    query_times: np.ndarray,
    reference: np.ndarray,
    reference_times: np.ndarray,
    *,
    offset_s: float,
    speed: float,
    refine: bool = False,
    compared: Compared | None = None,
) -> SpeedEvidence | None:
    """The speed what moves shows, when it contradicts the matcher's (a fixed camera's footage at x2).

    A still background matches at every speed, so on a fixed camera the frame
    hashes cannot tell the speed and the matcher keeps x1. The moving cells can:
    each speed of a log grid over match's range (both ways) is tried at every
    offset, on the same per-pair distances `verify_segment` uses.

    Args:
        query, query_times, reference, reference_times: as for `verify_segment`.
        offset_s, speed: the matcher's alignment.
        refine: the frame hashes already showed a speed change (`speed`): what
            moves then measures it, without having to contradict it.
        compared: these views already compared at the matcher's alignment (`compare`), else compared here.

    Returns:
        `match.SpeedEvidence` (``motion=True``; the distances are the moving
        cells', not hash bits; the speed is the middle of the plausible
        interval) when its moment is at least `MOTION_MIN_SPECIFICITY` specific
        and either the best speed's distance is at most `MOTION_SPEED_RATIO` of
        the matcher's speed's and the matcher's speed lies outside the plausible
        interval, or (`refine`) the measured speed is at least
        `MOTION_REFINE_MIN` from the matcher's in the same direction; None
        otherwise (nothing moves, too short, agrees). When that interval reaches
        an end of the range tried (within `match.SPEED_EDGE`) while clearly
        beating the matcher's speed, the evidence is ``unbounded``: what moves
        says the matcher's speed is wrong but cannot tell the right one.
    """
    n = len(query)
    if n < MIN_PAIRS or len(reference) < MIN_PAIRS or float(np.ptp(query_times)) < MOTION_MIN_SPAN_S:
        return None
    if compared is None:
        compared = compare(query, query_times, reference, reference_times, offset_s=offset_s, speed=speed)
    if compared.share < MIN_MOVING_SHARE:
        return None
    dist = compared.dist
    at_matcher, _, _ = _best_offset(dist, query_times, reference_times, speed)
    if not refine and _least_cost(dist, len(query_times)) * (1.0 + MOTION_SPEED_INTERVAL) >= at_matcher:
        # No speed can be closer than the matcher's by more than the plausible interval, and without
        # `refine` nothing else is told: the search over every speed would return None.
        return None
    steps = math.ceil(math.log(MAX_SPEED / MIN_SPEED) / math.log(1.0 + MOTION_SPEED_STEP))
    magnitudes = np.geomspace(MIN_SPEED, MAX_SPEED, steps + 1)
    speeds = np.concatenate([magnitudes, -magnitudes])
    costs, offsets, specificities = _best_offsets(dist, query_times, reference_times, speeds)
    if not np.isfinite(costs).any():
        return None
    k = int(np.argmin(costs))
    best, offset, specificity = float(costs[k]), float(offsets[k]), float(specificities[k])
    at_normal, _, _ = _best_offset(dist, query_times, reference_times, 1.0)
    # The plausible speeds: the run of the grid (one direction) around the best within the interval.
    near = costs <= best * (1.0 + MOTION_SPEED_INTERVAL)
    first, last = k, k
    while first - 1 >= 0 and near[first - 1] and np.sign(speeds[first - 1]) == np.sign(speeds[k]):
        first -= 1
    while last + 1 < len(speeds) and near[last + 1] and np.sign(speeds[last + 1]) == np.sign(speeds[k]):
        last += 1
    lo, hi = float(abs(speeds[first])), float(abs(speeds[last]))
    lo, hi = min(lo, hi), max(lo, hi)
    # On slow footage the valley is flat and its lowest point moves with noise; its middle much less.
    middle = math.copysign(math.sqrt(lo * hi), float(speeds[k]))
    same_way = np.sign(speed) == np.sign(speeds[k])

    def untold(at_speed: float, **flag: bool) -> SpeedEvidence:
        # What moves says something of the speed but tells none (`unbounded` or `contested`).
        interval = (round(lo, 3), round(hi, 3))
        return SpeedEvidence(
            round(at_speed, 3), offset, interval, round(best, 3), round(at_normal, 3), motion=True, **flag
        )

    if lo <= MIN_SPEED * (1.0 + SPEED_EDGE) or hi >= MAX_SPEED * (1.0 - SPEED_EDGE):
        # The valley runs on past the range tried (a frozen frame fits x0.25 and slower): no speed is told.
        if specificity < MOTION_MIN_SPECIFICITY or best > MOTION_SPEED_RATIO * at_matcher:
            return None
        return untold(float(speeds[k]), unbounded=True)
    if refine:
        # The hashes already showed a speed change: what moves only measures it more finely.
        wanted = same_way and abs(middle / speed - 1.0) >= MOTION_REFINE_MIN
    else:
        contradicts = not (lo <= abs(speed) <= hi and same_way)
        wanted = contradicts and best <= MOTION_SPEED_RATIO * at_matcher
        apart = not same_way or abs(middle / speed - 1.0) >= SPEED_MIN_CHANGE
        if contradicts and apart and not wanted and specificity >= MOTION_MIN_SPECIFICITY:
            # What moves prefers another speed, not clearly enough to replace the matcher's: neither is told.
            return untold(middle, contested=True)
    if specificity < MOTION_MIN_SPECIFICITY or not wanted:
        return None
    cost, offset, _ = _best_offset(dist, query_times, reference_times, middle)
    return SpeedEvidence(
        speed=round(middle, 3),
        offset=offset,
        interval=(round(lo, 3), round(hi, 3)),
        distance_at_best=round(cost, 3),
        distance_at_normal=round(at_normal, 3),  # inf when x1 does not fit in the reference views
        motion=True,
    )


#: What `verify_alignment` asks of the caller: a reference's grey frames over (start_s, end_s) at
#: `REFERENCE_FPS` and `VIEW_LONG_SIDE` (times, images), or None when its file cannot be read.
ReferenceFrames = Callable[[Reference, float, float], "tuple[np.ndarray, np.ndarray] | None"]


def verify_alignment(found: Alignment, query: Query, reference_frames: ReferenceFrames) -> Alignment:
    """A matched segment with its `Verification`, and its offset moved to the moment found.

    Args:
        found: the matcher's segment and how it aligned.
        query: the query record (its grey samples and layout).
        reference_frames: the reference's frames around the segment (the evidence stage gives them).

    Returns:
        The alignment, its segment carrying `verification`; when the same
        footage is found `REFINE_OFFSET_S` or more from the matcher's offset
        (a still background fits any offset), the segment's reference span,
        offset and aligned pairs are moved to the moment found.
    """
    seg = found.segment
    ref = seg.reference
    if ref.kind == "image":
        return _with(found, unverified("the reference is a still picture: there is no moment to compare"))
    frames = query.frames
    times = np.asarray(frames.times, dtype=np.float64)
    inside = np.nonzero((times >= seg.query_start_s - 1e-6) & (times <= seg.query_end_s + 1e-6))[0]
    if query.is_image:
        inside = np.arange(min(1, len(times)))
    if len(inside) > MAX_QUERY_FRAMES:
        inside = inside[np.linspace(0, len(inside) - 1, MAX_QUERY_FRAMES).round().astype(int)]
    if not len(inside):
        return _with(found, unverified("no query frame inside the segment"))
    frames_of = _remembered(reference_frames)
    seen: list[_Views] = []
    v = _verify_within(found, query, inside, frames_of, WINDOW_S, seen=seen)
    if v is None:
        return _with(
            found,
            unverified(UNREADABLE_REASON),
        )
    result = _with(found, v)
    if v.path_speed is not None:
        result = on_its_path(result)
    elif v.relation == Relation.SAME_FOOTAGE and v.offset_s is not None:
        shift = v.offset_s - seg.offset_s
        if abs(shift) >= REFINE_OFFSET_S:
            result = _shifted(result, shift)
    return _with_motion_speed(result, found, query, seen[0] if seen else None)


def on_its_path(found: Alignment) -> Alignment:
    """The alignment placed on the line its camera path held on (`Verification.path_speed` and `offset_s`),
    where verify found the same footage there; else as it is."""
    v = found.segment.verification
    if v is None or v.relation != Relation.SAME_FOOTAGE or v.path_speed is None or v.offset_s is None:
        return found
    return on_line(found, v.offset_s, v.path_speed)


def _cell_means(stack: np.ndarray) -> np.ndarray:
    """Each frame's means over a `HELD_FRAME_GRID` x `HELD_FRAME_GRID` grid of cells: (n, grid, grid).

    The stack's frames are at least one pixel a cell (callers check); what the grid leaves over at the
    right and bottom edges is left out.
    """
    g = HELD_FRAME_GRID
    n, h, w = len(stack), stack.shape[1] // g, stack.shape[2] // g
    return stack[:, : h * g, : w * g].reshape(n, g, h, g, w).mean(axis=(2, 4))


def held_runs(images: np.ndarray, times: np.ndarray) -> list[HeldFrame]:
    """The spans over which the samples hold one picture still (frozen frames), in time order.

    Consecutive samples are one picture when they change by at most
    `HELD_FRAME_DIFF` (mean absolute grey change) in every cell of a
    `HELD_FRAME_GRID` grid, so a change confined to one cell is still motion;
    a run counts from `HELD_FRAME_MIN_S`. A run ends where its last sample's
    time ends (the next sample's time, or one sample step after the last).

    Args:
        images: grey samples (n, h, w).
        times: their times in seconds, increasing.
    """
    n = len(images)
    g = HELD_FRAME_GRID
    h, w = (images.shape[1] // g, images.shape[2] // g) if n else (0, 0)
    if n < 2 or h < 1 or w < 1:
        return []
    largest = _cell_means(np.abs(np.diff(np.asarray(images, dtype=np.float32), axis=0))).max(axis=(1, 2))
    step = float(np.median(np.diff(times)))
    runs: list[HeldFrame] = []
    i = 0
    while i < n - 1:
        if largest[i] > HELD_FRAME_DIFF:
            i += 1
            continue
        j = i
        while j < n - 1 and largest[j] <= HELD_FRAME_DIFF:
            j += 1  # samples i..j are one picture
        stop = float(times[j + 1]) if j + 1 < n else float(times[j]) + step
        if stop - float(times[i]) >= HELD_FRAME_MIN_S:
            runs.append(
                HeldFrame(round(float(times[i]), 3), round(stop, 3), j - i + 1, round(float(largest[i:j].max()), 3))
            )
        i = j + 1
    return runs


@dataclass(frozen=True)
class Repeat:
    """A stretch of the clip shown again `lag_s` seconds later (`repeat_in`): the first showing's span."""

    lag_s: float
    start_s: float
    end_s: float
    #: Shown again backwards (a boomerang): `lag_s` is then the farthest two showings of one frame lie apart.
    backwards: bool = False


def repeat_in(images: np.ndarray, times: np.ndarray) -> Repeat | None:
    """The first stretch of the samples shown again later (a loop, a replay), at the shortest such lag.

    Each sample is compared with the sample a lag later on an 8x8 grid of cell means, over the cells
    that move there (a change of `REPEAT_MOVING_GREY` or more over one sample step at either sample:
    still footage is alike at every lag, and a small mover over a still picture is all there is to
    compare); it is shown again when those cells' differences add up to at most `REPEAT_RATIO` of the
    smaller of their own changes over one step. A lag counts from `REPEAT_MIN_LAG_S`
    when `REPEAT_MIN_S` of consecutive samples are shown again; a loop whose length is no whole
    number of sample steps is seen at a lag within half a step of it, or at two lengths.

    Args:
        images: grey samples (n, h, w), at one rate.
        times: their times in seconds, increasing.
    """
    n = len(images)
    g = HELD_FRAME_GRID
    h, w = (images.shape[1] // g, images.shape[2] // g) if n else (0, 0)
    if n < 4 or h < 1 or w < 1:
        return None
    cells = _cell_means(np.asarray(images, dtype=np.float32)).reshape(n, g * g)
    step = float(np.median(np.diff(times)))
    if step <= 0:
        return None
    # Each sample's change to the next, per cell (the last sample's is unknown: never compared).
    own = np.vstack([np.abs(np.diff(cells, axis=0)), np.full((1, g * g), np.inf)])
    run_needed = max(2, math.ceil(REPEAT_MIN_S / step - 1e-9))

    def shown_again(first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Whether each sample `first[k]` is shown again at `second[k]`, on the cells that move there."""
        yard = np.minimum(own[first], own[second])
        moving = (np.maximum(own[first], own[second]) >= REPEAT_MOVING_GREY) & np.isfinite(yard)
        within = np.where(moving, np.abs(cells[second] - cells[first]), 0.0).sum(axis=1)
        return moving.any(axis=1) & (within <= REPEAT_RATIO * np.where(moving, yard, 0.0).sum(axis=1))

    for lag in range(max(1, math.ceil(REPEAT_MIN_LAG_S / step - 1e-9)), n - run_needed + 1):
        first = np.arange(n - lag)
        run = _first_run(shown_again(first, first + lag), run_needed)
        if run is not None:
            a, b = run
            return Repeat(round(lag * step, 3), round(float(times[a]), 3), round(float(times[b]) + step, 3))
    # Backwards (a boomerang): sample i shown again at total - i, the pairs taken outwards from the turn.
    for total in range(2 * run_needed, 2 * n - 2 * run_needed):
        inner = np.arange((total - 1) // 2, max(-1, total - n), -1)
        run = _first_run(shown_again(inner, total - inner), run_needed)
        if run is not None:
            a, b = run
            near, far = int(inner[a]), int(inner[b])
            if (total - 2 * far) * step >= REPEAT_MIN_LAG_S:
                return Repeat(round((total - 2 * far) * step, 3), round(float(times[far]), 3),
                              round(float(times[near]) + step, 3), backwards=True)  # fmt: skip
    return None


def _first_run(flags: np.ndarray, length: int) -> tuple[int, int] | None:
    """The first and last index of the first run of at least `length` consecutive True `flags`, or None."""
    run = 0
    for i, flag in enumerate(flags):
        run = run + 1 if flag else 0
        if run >= length:
            while i + 1 < len(flags) and flags[i + 1]:
                i += 1
                run += 1
            return i - run + 1, i
    return None


def repeat_of(found: Alignment, query: Query) -> Repeat | None:
    """The stretch of the clip shown again inside a same-footage segment's span and matched region
    (`repeat_in`) that its line places at two moments of the reference, `REPEAT_APART_S` or more
    apart; None where there is none, or the match already tells nothing of its speed or moment."""
    seg = found.segment
    v = seg.verification
    if query.is_image or seg.reference.kind != "video" or found.speed_untold is not None:
        return None
    if v is None or v.relation != Relation.SAME_FOOTAGE:
        return None
    times = np.asarray(query.frames.times, dtype=np.float64)
    inside = np.nonzero((times >= seg.query_start_s - 1e-6) & (times <= seg.query_end_s + 1e-6))[0]
    if len(inside) < 4:
        return None
    rect = _matched_part(found, query)
    images = np.asarray(query.frames.images)[inside]
    if rect is not None and rect != (0.0, 0.0, 1.0, 1.0):
        images = crop(images, rect)
    repeat = repeat_in(images, times[inside])
    if repeat is None or abs(seg.speed) * repeat.lag_s < REPEAT_APART_S:
        return None
    return repeat


def _matched_part(found: Alignment, query: Query) -> Rect | None:
    """The part of the clip's frame a segment matched: the region it was found in (a duet's half, an inner
    picture), else for the features channel the part its footage fills (its geometry's query box), else
    its frame-hash variant's region (`_region_rect`); None when the layout gives none."""
    seg = found.segment
    if seg.region is not None:
        return seg.region
    if seg.channel == Channel.FEATURES:
        if seg.geometry is not None:
            x0, y0, x1, y1 = (min(max(float(v), 0.0), 1.0) for v in seg.geometry.query_box)
            if x1 - x0 > 0.05 and y1 - y0 > 0.05:
                return (x0, y0, x1, y1)
        return (0.0, 0.0, 1.0, 1.0)
    layout = query.layout
    region = variant_parts(found.query_variant)[0]
    return _region_rect(region, layout.content_box if layout else None, layout.inner_rect if layout else None)


def with_repeat(found: Alignment, query: Query) -> Alignment:
    """`found` with neither its speed nor its moment told where its span holds a stretch of the clip shown
    again that its line places at two moments of the reference (`repeat_of`; `SpeedUntold.REPEATED`),
    else unchanged.

    A clip that plays a stretch twice (a loop, a replay) has one set of frames at two times; a line
    through both showings fits neither: bench/data's v-bigbuckbunny-1 1-4 s played twice was matched
    whole at x0.39 and said slowed. A match already told nothing of its speed, and a same-scene one, are
    left as they are.
    """
    repeat = repeat_of(found, query)
    if repeat is None:
        return found
    seg = found.segment
    v = seg.verification
    assert v is not None  # repeat_of finds none without a same-footage verification
    how = (
        f"backwards, up to {repeat.lag_s:.2f} s later (a boomerang"
        if repeat.backwards
        else f"{repeat.lag_s:.2f} s later (a loop or a replay"
    )
    reason = (
        f"{v.reason}; the part of the clip's frame this match covers shows its {repeat.start_s:.1f}-"
        f"{repeat.end_s:.1f} s again {how}, of this footage or of other footage beside it), and the alignment "
        "places the two showings at two moments of the reference: which seconds of the reference the clip "
        "shows, and its speed, are not told"
    )
    moved = replace(seg, verification=replace(v, reason=reason, moment_shown=False))
    return replace(found, segment=moved, speed_untold=SpeedUntold.REPEATED, motion_speed=None)


def held_frame(images: np.ndarray, times: np.ndarray) -> HeldFrame | None:
    """The held frame when all the samples are one picture held still (`held_runs`), else None."""
    runs = held_runs(images, times)
    return runs[0] if len(runs) == 1 and runs[0].samples == len(images) else None


def with_held_frame(
    found: Alignment, query: Query, reference_frames: ReferenceFrames | None = None, *, verified: bool = False
) -> Alignment:
    """`found` marked where the clip holds one picture still over its span (`held_runs`), else unchanged.

    A segment whose every sample is one picture is a held frame: with
    `reference_frames` that frame alone is verified against every moment of
    the reference around the span (as a still picture is), and where it is
    the same footage the segment moves to that moment at speed 0 (every second
    of the span shows it). A segment that runs into a held run by a sample or
    more (a clip frozen at its end) keeps its verification
    (`verified`: it has one already) but no speed, direction or trim is told
    of it: the held seconds fit any. Both carry `held_frame` and `speed_untold`.
    """
    seg = found.segment
    if query.is_image or seg.reference.kind != "video":
        return found
    times = np.asarray(query.frames.times, dtype=np.float64)
    inside = np.nonzero((times >= seg.query_start_s - 1e-6) & (times <= seg.query_end_s + 1e-6))[0]
    whole = held_frame(np.asarray(query.frames.images)[inside], times[inside]) if len(inside) else None
    if whole is None:
        step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
        overlap = [
            r
            for r in held_runs(np.asarray(query.frames.images), times)
            if min(r.end_s, seg.query_end_s) - max(r.start_s, seg.query_start_s) > step / 2
        ]
        if not overlap or not verified:
            return found
        return replace(
            found, speed_untold=SpeedUntold.HELD_FRAME, held_frame=replace(overlap[0], whole=False), motion_speed=None
        )
    held = replace(whole, start_s=round(seg.query_start_s, 3), end_s=round(seg.query_end_s, 3))
    marked = replace(found, speed_untold=SpeedUntold.HELD_FRAME, held_frame=held, motion_speed=None)
    if reference_frames is None:
        return marked
    middle = inside[len(inside) // 2 : len(inside) // 2 + 1]
    v = _verify_within(found, query, middle, _remembered(reference_frames), WINDOW_S)
    if v is None:
        return _with(marked, unverified(UNREADABLE_REASON))
    if v.relation != Relation.SAME_FOOTAGE or v.offset_s is None or v.specificity is None:
        return _with(marked, v)
    moment = round(v.offset_s + seg.speed * float(times[middle[0]]), 3)
    v = replace(
        v,
        offset_s=moment,
        reason=f"the clip holds one frame, and on the {v.moving_share or 0:.0%} of the reference's picture that "
        f"changes that frame is {v.specificity:.0%} closer to one moment of the reference than to its others",
    )
    moved = replace(
        seg,
        verification=v,
        offset_s=moment,
        speed=0.0,
        reference_start_s=moment,
        reference_end_s=moment,
        pairs=tuple((q, moment, d) for q, _r, d in seg.pairs),
    )
    return replace(marked, segment=moved, reference_span=(moment, moment))


def _remembered(reference_frames: ReferenceFrames) -> ReferenceFrames:
    """`reference_frames` decoding each window once (verify and the motion's speed read the same one)."""
    seen: dict[tuple[int, float, float], tuple[np.ndarray, np.ndarray] | None] = {}

    def frames_of(ref: Reference, start_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray] | None:
        key = (int(ref.id or 0), round(start_s, 3), round(end_s, 3))
        if key not in seen:
            seen[key] = reference_frames(ref, start_s, end_s)
        return seen[key]

    return frames_of


@dataclass(frozen=True)
class _Views:
    """The views `_verify_within` compared (`views`), and what it computed on them at the matcher's alignment."""

    query: np.ndarray
    query_times: np.ndarray
    reference: np.ndarray
    reference_times: np.ndarray
    compared: Compared


def _with_motion_speed(result: Alignment, found: Alignment, query: Query, seen: _Views | None) -> Alignment:
    """`result` carrying `motion_speed` when what moves contradicts the matcher's speed (over `found`'s window).

    `seen`: the views verify compared at the matcher's alignment, and that comparison. None where verify
    made none (no frames read, no region to cut, under `MIN_PAIRS` frames): no speed could be read either.
    """
    seg = found.segment
    if seen is None or query.is_image or seg.reference.kind != "video":
        return result
    told = found.speed_evidence is not None and found.speed_evidence.changed
    motion = motion_speed(
        seen.query,
        seen.query_times,
        seen.reference,
        seen.reference_times,
        offset_s=seg.offset_s,
        speed=seg.speed,
        refine=told,
        compared=seen.compared,
    )
    if motion is not None and motion.unbounded:
        return replace(result, speed_untold=SpeedUntold.BEYOND_RANGE)  # what moves fits speeds beyond those tried
    if motion is not None and motion.contested:
        return _contested(result, motion, seg.speed)
    return replace(result, motion_speed=motion) if motion is not None else result


def _contested(result: Alignment, motion: SpeedEvidence, speed: float) -> Alignment:
    """`result` with neither speed told nor its moment stated: what moves prefers `motion.speed`, at least
    `SPEED_MIN_CHANGE` from the matcher's `speed`, by less than `MOTION_SPEED_RATIO` of its distance (the
    tree mirrored, cropped and slowed to x0.5: the hashes' x0.78 placed the clip 1 s off its moment, what
    moves read x0.50 at 0.75 of the distance), so the seconds the matcher's speed places are not told."""
    v = result.segment.verification
    if v is None or v.relation != Relation.SAME_FOOTAGE:
        return replace(result, speed_untold=SpeedUntold.CONTESTED)
    reason = (
        f"{v.reason}; what moves fits ×{abs(motion.speed):.2f} better than the matched ×{abs(speed):.2f}, not "
        "clearly enough to tell either: which seconds of the reference the clip shows, and its speed, are not told"
    )
    moved = replace(result.segment, verification=replace(v, reason=reason, moment_shown=False))
    return replace(result, segment=moved, speed_untold=SpeedUntold.CONTESTED)


def _verify_within(
    found: Alignment,
    query: Query,
    inside: np.ndarray,
    reference_frames: ReferenceFrames,
    reach: float,
    *,
    seen: list[_Views] | None = None,
) -> Verification | None:
    """`verify_segment` over the reference `reach` seconds around the span; None when its frames cannot be read.

    `seen`: given, the views compared and their comparison at the matcher's alignment are appended to it
    (when the frames are read and the comparison made), for `_with_motion_speed`.
    """
    seg = found.segment
    frames, layout = query.frames, query.layout
    window = reference_frames(seg.reference, seg.reference_start_s - reach, seg.reference_end_s + reach)
    if window is None:
        return None
    r_times, r_images = window
    try:
        q_view, r_view = views(
            [frames.images[i] for i in inside],
            list(r_images),
            query_variant=found.query_variant,
            reference_variant=found.reference_variant,
            content_box=layout.content_box if layout else None,
            inner_rect=layout.inner_rect if layout else None,
        )
    except ValueError:
        return unverified("the matched region could not be cut out of the frames")
    q_times = np.zeros(1) if query.is_image else np.asarray(frames.times, dtype=np.float64)[inside]
    r_times = np.asarray(r_times, dtype=np.float64)
    compared: Compared | None = None
    if len(q_view) >= MIN_PAIRS and len(r_view) >= MIN_PAIRS:
        compared = compare(q_view, q_times, r_view, r_times, offset_s=seg.offset_s, speed=seg.speed)
        if seen is not None:
            seen.append(_Views(q_view, q_times, r_view, r_times, compared))
    v = verify_segment(q_view, q_times, r_view, r_times, offset_s=seg.offset_s, speed=seg.speed, compared=compared)
    if v.relation != Relation.SAME_FOOTAGE and v.specificity is None:
        return v
    motion = reference_motion(seg.reference.camera, r_times, np.asarray(r_images))
    if not is_still_picture(motion, seg.reference_start_s, seg.reference_end_s):
        return v
    provisional = left_to_the_camera_path(v, q_times)
    if provisional.relation != Relation.SAME_FOOTAGE:
        return v
    return on_still_picture(
        provisional, motion, q_view, q_times, r_view, r_times, offset_s=seg.offset_s, speed=seg.speed
    )


def _with(found: Alignment, v: Verification) -> Alignment:
    return replace(found, segment=replace(found.segment, verification=v))


def _shifted(found: Alignment, shift: float) -> Alignment:
    """The alignment with its reference times moved by `shift` seconds (within the reference)."""
    seg = found.segment
    end = float(seg.reference.duration_s) or float("inf")

    def at(t: float) -> float:
        return round(min(max(t + shift, 0.0), end), 3)

    moved = replace(
        seg,
        offset_s=round(seg.offset_s + shift, 3),
        reference_start_s=at(seg.reference_start_s),
        reference_end_s=at(seg.reference_end_s),
        pairs=tuple((q, at(r), d) for q, r, d in seg.pairs),
    )
    r0, r1 = found.reference_span
    return replace(found, segment=moved, reference_span=(at(r0), at(r1)))


# -- a still picture under camera motion: the moment rests on the camera path ---------------------


def reference_motion(
    reference_motion_stored: CameraMotion | None, reference_times: np.ndarray, reference_images: np.ndarray
) -> CameraMotion:
    """The reference's camera finding: the one stored at ``index add``, else made now from the window's frames.

    An index made before the finding was stored has none; the verify window
    (`REFERENCE_FPS`) is then taken every other frame, the rate the finding
    is made at (2 frames/s), so the same thresholds apply.
    """
    if reference_motion_stored is not None:
        return reference_motion_stored
    step = max(1, int(round(REFERENCE_FPS / 2.0)))
    return camera_mod.describe_motion(np.asarray(reference_times)[::step], np.asarray(reference_images)[::step])


def is_still_picture(motion: CameraMotion, start_s: float, end_s: float) -> bool:
    """Whether the matched reference span is a still picture under camera motion (`STILL_SPAN_SHARE` of it)."""
    if motion.kind == Picture.STILL_PICTURE and not motion.spans:
        return True
    return motion.still_within(start_s, end_s) >= STILL_SPAN_SHARE


def path_picture(query: np.ndarray, aligned: np.ndarray) -> np.ndarray:
    """The pixels of the views that are the picture on both sides, for following the camera path: (h, w) bool.

    Left out: what is blank on either side (a cover `features.uncovered` blanked, the black beyond
    a warped frame), and what the clip holds still where the reference, at the aligned times,
    moves and differs from it (a caption box, a clock, a logo laid over the copy): on a still
    picture under camera motion the picture moves everywhere it has texture, so only what was
    laid over it stands still. Each is widened by `PATH_MASK_MARGIN_PX` (the band-pass's reach).

    Args:
        query: (n, h, w) query views.
        aligned: (n, h, w) the reference views at the query frames' aligned times.
    """
    blank = (query.max(axis=0) < PATH_BLANK_GREY) | (aligned.max(axis=0) < PATH_BLANK_GREY)
    if len(query) >= MIN_PAIRS:
        laid = (query.std(axis=0) < PATH_STILL_GREY) & (aligned.std(axis=0) >= PATH_STILL_GREY)
        # Whether the two differ is asked only where the clip stands still and the reference moves,
        # each pixel's frames in one row (the same median as over the stack's first axis).
        at = np.flatnonzero(laid)
        if len(at):
            gaps = np.abs(query.reshape(len(query), -1)[:, at] - aligned.reshape(len(aligned), -1)[:, at])
            laid.flat[at] = np.median(np.ascontiguousarray(gaps.T), axis=1) > PATH_OVERLAY_GREY
        blank |= laid
    size = 2 * PATH_MASK_MARGIN_PX + 1
    widened = cv2.dilate(blank.astype(np.uint8), np.ones((size, size), np.uint8)) > 0
    return ~widened


class PathWork:
    """What following one clip's camera path along several alignments shares (`camera_path_drift`'s `work`).

    `on_still_picture` follows the same query and reference views at the aligned moment, a second
    earlier and later and at other speeds (`_pinned`); what does not depend on the alignment is
    done once for them all: each view's flat areas (`_flat`), each view band-passed over a picture
    (most alignments leave the same picture: 96 of 115 paths after a check's first on bench/data),
    and the whole views' fit of a pair of frames (from phase correlation: the pair's alone). Each
    result is the one the path would compute itself.
    """

    def __init__(self, query: np.ndarray, reference: np.ndarray) -> None:
        self.query, self.reference = query, reference
        self.query32 = np.asarray(query, dtype=np.float32)
        self.reference32 = np.asarray(reference, dtype=np.float32)
        self._flat_q: dict[int, np.ndarray] = {}
        self._flat_r: dict[int, np.ndarray] = {}
        self._bands: dict[tuple[tuple[int, ...], bytes], _Band] = {}
        self._coarse: dict[tuple[int, int], camera_mod.PairFit | None] = {}

    def band(self, picture: np.ndarray) -> _Band:
        """The views band-passed over `picture` ((h, w) bool), each frame once."""
        key = (picture.shape, np.packbits(picture).tobytes())
        if key not in self._bands:
            self._bands[key] = _Band(picture.astype(np.float32), self.query, self.reference)
        return self._bands[key]

    def flat_in_frame(self, i: int, k: int, picture: np.ndarray) -> np.ndarray:
        """`_flat_in_frame` of query view `i` against reference view `k`."""
        if i not in self._flat_q:
            self._flat_q[i] = _flat(self.query[i])
        if k not in self._flat_r:
            self._flat_r[k] = cv2.dilate(_flat(self.reference[k]).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        return _flat_left(self._flat_q[i], self._flat_r[k], picture)

    def coarse(self, j: int, i: int) -> camera_mod.PairFit | None:
        """Reference view `j` fitted onto query view `i` over the whole views, from phase correlation."""
        if (j, i) not in self._coarse:
            whole = self.band(np.ones(self.query.shape[1:], dtype=bool))
            self._coarse[(j, i)] = camera_mod.register(whole.r(j), whole.q(i), judged=False)
        return self._coarse[(j, i)]


class _Band:
    """Views band-passed over a picture (`camera_path_drift`): the fine grain and the broad light
    (a vignette, a grade) both go, the picture stays. Each blur is taken over the picture's pixels
    alone (normalised convolution), and the rest is zero: a blanked cover's or an overlay's edge is
    no edge of the picture's."""

    def __init__(self, over: np.ndarray, query: np.ndarray, reference: np.ndarray) -> None:
        self.over, self.query, self.reference = over, query, reference
        self.fine_weight = np.maximum(cv2.GaussianBlur(over, (0, 0), PATH_SMOOTH_PX), 1e-3)
        self.broad_weight = np.maximum(cv2.GaussianBlur(over, (0, 0), PATH_LIGHT_PX), 1e-3)
        self._q: dict[int, np.ndarray] = {}
        self._r: dict[int, np.ndarray] = {}

    def smooth(self, image: np.ndarray) -> np.ndarray:
        x = np.asarray(image, dtype=np.float32) * self.over
        fine = cv2.GaussianBlur(x, (0, 0), PATH_SMOOTH_PX) / self.fine_weight
        broad = cv2.GaussianBlur(x, (0, 0), PATH_LIGHT_PX) / self.broad_weight
        return (fine - broad) * self.over

    def q(self, i: int) -> np.ndarray:
        if i not in self._q:
            self._q[i] = self.smooth(self.query[i])
        return self._q[i]

    def r(self, j: int) -> np.ndarray:
        if j not in self._r:
            self._r[j] = self.smooth(self.reference[j])
        return self._r[j]


def camera_path_drift(
    query: np.ndarray,
    query_times: np.ndarray,
    reference: np.ndarray,
    reference_times: np.ndarray,
    *,
    offset_s: float,
    speed: float,
    work: PathWork | None = None,
    elsewhere: bool = False,
) -> tuple[float | None, int, float]:
    """How far the clip's camera path departs from the reference's along an alignment, in pixels.

    Each query view is registered (`camera.register`, affine, on views
    band-passed by `PATH_SMOOTH_PX` and `PATH_LIGHT_PX` so grain, a vignette or
    re-encoding do not stop the fit) against the reference at its aligned time, interpolated between the
    two reference frames around it; each fit starts from the previous one, and
    where it fails on the whole picture it is tried again without what that
    frame alone shows far from the reference (a moving sticker:
    `PATH_COVER_RATIO`, `PATH_COVER_MAX_SHARE`). A copy, in one fixed geometry, keeps one map all along (the copy's crop,
    zoom or tilt); another pan over the same picture does not: its map drifts
    as the two cameras move differently. The drift is the largest change,
    over the segment, of where the map puts a 3x3 grid of points (the
    least-squares line through each point's positions, from the first
    frame's time to the last's, refitted without frames more than
    `PATH_OUTLIER_PX` off it: one frame's failed fit is no drift).

    Args:
        query: (n, h, w) query views in one fixed geometry (`views`).
        query_times: (n,) seconds in the query.
        reference: (m, h, w) reference views at `reference_times`.
        reference_times: (m,) seconds, increasing.
        offset_s, speed: the alignment (reference_t = offset_s + speed * query_t).
        work: what this path shares with others followed over the same `query` and `reference`
            (`PathWork` of those two arrays); None: its own.
        elsewhere: a path followed only to compare its drift with the aligned one's (`_least_drift`):
            a frame whose aligned time is a reference frame's is fitted to that frame alone.

    Returns:
        (drift in pixels, frames followed, seconds of the clip they span); drift None when fewer than
        two frames registered.
    """
    h, w = reference.shape[1:]
    grid = np.array([(x * w, y * h, 1.0) for x in (0.1, 0.5, 0.9) for y in (0.1, 0.5, 0.9)])
    rt_all = offset_s + speed * np.asarray(query_times, dtype=np.float64)
    nearest = np.clip(np.searchsorted(reference_times, rt_all), 0, len(reference_times) - 1)
    work = PathWork(query, reference) if work is None else work
    common = path_picture(work.query32, work.reference32[nearest])
    own: dict[int, np.ndarray] = {}  # each query frame's picture (`fit_on_picture`)
    covered: dict[int, bool] = {}  # ... and whether flat areas the reference lacks were left out of it
    on_common = work.band(common)

    def fit_on_picture(j: int, i: int, start: np.ndarray | None) -> camera_mod.PairFit | None:
        # On the picture alone, from the previous frame's map; failing that, from the whole views' map
        # (which finds the picture, though what is not picture may pin it: the picture's fit refines it);
        # failing that, around what covers this frame alone (a moving sticker, `around_overlays`).
        # The picture is the views' common one without this frame's flat areas (`_flat_in_frame`).
        if i not in own:
            flat = work.flat_in_frame(i, int(nearest[i]), common)
            own[i], covered[i] = common & ~flat, bool(flat.any())
        picture = own[i]
        on = work.band(picture) if covered[i] else on_common  # a covered frame: band-passed over its own picture
        r_pic, q_pic = on.r(j), on.q(i)
        fit = camera_mod.register(r_pic, q_pic, start, picture, judged=False) if start is not None else None
        if fit is None or not fit.related:
            coarse = work.coarse(j, i)
            fit = camera_mod.register(r_pic, q_pic, None if coarse is None else coarse.matrix, picture, judged=False)
        if fit is None or not fit.related:
            fit = around_overlays(j, i, start, r_pic, q_pic, picture)
        elif covered[i]:
            # A fit that holds may still lean on what this frame alone shows (a sticker's outline moving
            # with it: the path drifted 9 px at a copy's own alignment): fitted again around it, where
            # the frame has flat areas the reference lacks (elsewhere it cost up to half a check's CPU,
            # cases-dev d063, and raised inner pictures' drifts: round 15).
            again = around_overlays(j, i, fit.matrix, r_pic, q_pic, picture)
            if again is not None and again.related:
                fit = again
        return fit

    def around_overlays(
        j: int, i: int, start: np.ndarray | None, r_pic: np.ndarray, q_pic: np.ndarray, picture: np.ndarray
    ) -> camera_mod.PairFit | None:
        # The reference laid over the clip by the last map held (the views' own geometry, else): the
        # pixels this frame alone shows far from it (`PATH_COVER_RATIO` times the frame's median
        # difference) are left out, as long as most of the picture stays.
        # `r_pic`, `q_pic`, `picture`: both views band-passed over the picture (`fit_on_picture`'s).
        weight = picture.astype(np.float32)
        guess = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32) if start is None else start
        laid = cv2.warpAffine(r_pic, guess, (w, h), flags=cv2.INTER_LINEAR)
        shown = cv2.warpAffine(weight, guess, (w, h), flags=cv2.INTER_LINEAR) > 0.99
        diff = cv2.GaussianBlur(np.abs(q_pic - laid), (0, 0), PATH_SMOOTH_PX)
        on = picture & shown
        if on.mean() < 0.25:
            return None
        covered = on & (diff > PATH_COVER_RATIO * float(np.median(diff[on])))
        if not covered.any() or covered.sum() > PATH_COVER_MAX_SHARE * on.sum():
            return None
        size = 2 * PATH_MASK_MARGIN_PX + 3
        covered = cv2.dilate(covered.astype(np.uint8), np.ones((size, size), np.uint8)) > 0
        keep = picture & ~covered
        around = _Band(keep.astype(np.float32), query, reference)
        return camera_mod.register(around.smooth(reference[j]), around.smooth(query[i]), guess, keep, judged=False)

    times, placed = [], []
    previous: np.ndarray | None = None
    for i, rt in enumerate(rt_all):
        j1 = int(np.searchsorted(reference_times, rt))
        if j1 <= 0 or j1 >= len(reference_times):
            continue
        j0 = j1 - 1
        span = float(reference_times[j1] - reference_times[j0])
        f = 0.0 if span <= 0 else float(rt - reference_times[j0]) / span
        if elsewhere and f in (0.0, 1.0):
            # A reference frame at the clip frame's own aligned time (both sampled 4 a second, on one
            # grid at most alignments: 78% of the frames of bench/data's paths): its map is the frame's.
            # The neighbour's, weighted 0, is fitted only on the aligned path (whose failure there leaves
            # the frame out); on a path followed elsewhere it is not fitted: a third to half of the
            # pin paths' fits, their drifts unchanged on bench/data, cases-dev and the scene pans.
            fit = fit_on_picture(j1 if f else j0, i, previous)
            if fit is None or not fit.related:
                continue
            m = fit.matrix.astype(np.float64)
        else:
            fits = [fit_on_picture(j, i, previous) for j in (j0, j1)]
            if any(fit is None or not fit.related for fit in fits):
                continue
            m = (1.0 - f) * fits[0].matrix.astype(np.float64) + f * fits[1].matrix.astype(np.float64)  # type: ignore[union-attr]
        previous = m.astype(np.float32)
        times.append(float(query_times[i]))
        placed.append(grid @ m.T)
    if len(times) < 2:
        return None, len(times), 0.0
    t = np.asarray(times)
    pts = np.stack(placed).reshape(len(t), -1)  # (k, 18): the 9 grid points' x, y
    keep = np.ones(len(t), dtype=bool)
    for _ in range(2):
        design = np.stack([np.ones_like(t), t - t[keep].mean()], axis=1)
        coef, *_ = np.linalg.lstsq(design[keep], pts[keep], rcond=None)
        off = np.abs(design @ coef - pts).reshape(len(t), 9, 2)
        off_px = np.hypot(off[..., 0], off[..., 1]).max(axis=1)
        keep = off_px <= PATH_OUTLIER_PX
        if keep.sum() < 2:
            return None, int(keep.sum()), 0.0
    slopes = coef[1].reshape(9, 2)
    seconds = float(t[keep].max() - t[keep].min())
    drift = float(np.hypot(slopes[:, 0], slopes[:, 1]).max() * seconds)
    return round(drift, 3), int(keep.sum()), round(seconds, 3)


def _flat(view: np.ndarray) -> np.ndarray:
    """A view's flat areas (`PATH_FLAT_GREY` over 5x5, areas of 3x3 or more): (h, w) bool."""
    g = np.nan_to_num(np.asarray(view, dtype=np.float32))
    mean = cv2.blur(g, (5, 5))
    std = np.sqrt(np.maximum(cv2.blur(g * g, (5, 5)) - mean * mean, 0.0))
    return cv2.morphologyEx((std < PATH_FLAT_GREY).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0


def _flat_in_frame(view: np.ndarray, reference: np.ndarray, picture: np.ndarray) -> np.ndarray:
    """A query view's flat areas where the reference at its aligned time is not flat, on the picture,
    widened by `PATH_MASK_MARGIN_PX`: (h, w) bool.

    A sticker or a badge is flat colour inside a sharp outline; moving over a still picture it is a
    moving edge the fit follows as much as the picture's (cases of bench/sticker_cases.py: the path
    followed on 1 frame, or drifting 10 px at the true alignment). The picture's own flat areas (a
    sky, a wall, flat in the reference too, within 2 px) and their outline stay. None when what is
    left out would be outside `PATH_FLAT_SHARE` of the picture.
    """
    around = cv2.dilate(_flat(reference).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return _flat_left(_flat(view), around, picture)


def _flat_left(view_flat: np.ndarray, reference_flat: np.ndarray, picture: np.ndarray) -> np.ndarray:
    """`_flat_in_frame` from the query view's `_flat` and the reference's, widened by 2 px."""
    size = 2 * PATH_MASK_MARGIN_PX + 1
    own_flat = view_flat & ~reference_flat
    flat = (cv2.dilate(own_flat.astype(np.uint8), np.ones((size, size), np.uint8)) > 0) & picture
    share = flat.sum() / max(1, picture.sum())
    if not PATH_FLAT_SHARE[0] <= share <= PATH_FLAT_SHARE[1]:
        return np.zeros_like(picture)
    return flat


def _path_holds(drift: float | None, frames: int, seconds: float) -> bool:
    """Whether a clip repeats the reference's camera path: few enough pixels of drift, in all and a second."""
    bar = min(MAX_PATH_DRIFT_PX, MAX_PATH_DRIFT_RATE * seconds)
    return drift is not None and frames >= MIN_PATH_FRAMES and drift <= bar


def _normal_speed_offset(
    query: np.ndarray,
    query_times: np.ndarray,
    reference: np.ndarray,
    reference_times: np.ndarray,
    *,
    offset_s: float,
    speed: float,
) -> float | None:
    """The offset at normal speed where what moves agrees best (`verify_segment`'s distances), or None."""
    if len(query) < MIN_PAIRS or len(reference) < MIN_PAIRS:
        return None
    compared = compare(query, query_times, reference, reference_times, offset_s=offset_s, speed=speed)
    if compared.share < MIN_MOVING_SHARE:
        return None
    cost, offset, _ = _best_offset(compared.dist, query_times, reference_times, 1.0)
    return offset if math.isfinite(cost) else None


def _least_drift(
    aligned_drift: float,
    query: np.ndarray,
    query_times: np.ndarray,
    reference: np.ndarray,
    reference_times: np.ndarray,
    alignments: Sequence[tuple[float, float]],
    work: PathWork | None = None,
) -> float | None:
    """The least camera-path drift over other (offset, speed) alignments, None when none could be followed.

    Stops at the first that fits as well as the aligned one (`PATH_PIN_RATIO`): the rest cannot pin it.
    """
    drifts = []
    for offset, pace in alignments:
        drift, frames, _ = camera_path_drift(
            query, query_times, reference, reference_times, offset_s=offset, speed=pace, work=work, elsewhere=True
        )
        if drift is not None and frames >= MIN_PATH_FRAMES:
            drifts.append(drift)
            if aligned_drift > PATH_PIN_RATIO * drift:
                break
    return min(drifts) if drifts else None


def _pinned(
    v: Verification,
    query: np.ndarray,
    query_times: np.ndarray,
    reference: np.ndarray,
    reference_times: np.ndarray,
    *,
    offset_s: float,
    speed: float,
    work: PathWork | None = None,
) -> Verification:
    """A verification whose camera path holds, marked with whether that path pins the clip's moment and speed.

    A steady pan over one photograph, seen through a crop, a tilt or a reframe, fits the
    reference's path at other moments too: moved in time, the clip only needs another
    fixed map (a crop a little further along the pan). The path is followed again with the
    clip `FAR_OFFSET_S` earlier and later; the moment is shown only where the aligned
    path's drift is at most `PATH_PIN_RATIO` of the least drift there (`moment_shown`; the
    later side is not followed once the earlier fits as well).
    Otherwise the footage is still the same, but which seconds of the reference it shows,
    and so any trimming, are not told; and where the alignment's speed differs from 1 by
    `SPEED_PIN_MIN_CHANGE` or more, the path is followed `SPEED_PIN_STEP` slower and faster
    (the clip's middle kept in place): a path that holds about as well there tells no speed
    either (`speed_shown`).
    """
    aligned = v.path_drift_px
    if aligned is None:
        return v
    around = [(offset_s - FAR_OFFSET_S, speed), (offset_s + FAR_OFFSET_S, speed)]
    least = _least_drift(aligned, query, query_times, reference, reference_times, around, work)
    if least is None:
        return v  # the clip cannot be moved within the reference: its ends pin it
    shown = aligned <= PATH_PIN_RATIO * least
    if shown:
        return replace(v, path_drift_elsewhere_px=round(least, 3), moment_shown=True)
    reason = (
        f"{v.reason}; moved {FAR_OFFSET_S:g} s earlier or later, it repeats the path as well ({least:.1f} px): "
        "a steady pan fits other moments as well (the picture a little further along), so which seconds "
        "of the reference the clip shows, and any trimming, are not told"
    )
    v = replace(v, reason=reason, path_drift_elsewhere_px=round(least, 3), moment_shown=False)
    if abs(abs(speed) - 1.0) < SPEED_PIN_MIN_CHANGE:
        return v
    middle = float(np.median(query_times))
    paces = [speed * (1.0 + step) for step in (-SPEED_PIN_STEP, SPEED_PIN_STEP)]
    other = [(offset_s + (speed - pace) * middle, pace) for pace in paces]
    at_other = _least_drift(aligned, query, query_times, reference, reference_times, other, work)
    if at_other is None:
        return v
    speed_shown = aligned <= PATH_PIN_RATIO * at_other
    if not speed_shown:
        v = replace(
            v,
            reason=f"{v.reason}; at a speed {SPEED_PIN_STEP:.0%} slower or faster it repeats the path as well "
            f"({at_other:.1f} px), so its speed is not told either",
        )
    return replace(v, path_drift_other_speed_px=round(at_other, 3), speed_shown=speed_shown)


def left_to_the_camera_path(v: Verification, query_times: np.ndarray) -> Verification:
    """A what-moves verdict on a still picture under camera motion, handed to the camera path (`on_still_picture`).

    On such a reference what moves is the whole picture: whether it agrees
    says nothing of the moment either way (another pan over the same picture
    can agree; a copy filmed off a screen, or under stickers that move, can
    disagree), so the path decides. A verdict that is not the same footage
    because what moves disagrees (its `specificity` measured) becomes a
    provisional same footage at the matcher's offset for `on_still_picture`
    to keep or refuse; any other verdict, and a still image's, is returned as is.
    """
    if v.relation == Relation.SAME_FOOTAGE or v.specificity is None or len(query_times) < 2:
        return v
    return replace(
        v,
        relation=Relation.SAME_FOOTAGE,
        offset_s=None,
        reason=f"what moves is the whole picture here and no evidence of the moment (the clip is "
        f"{max(v.specificity, 0.0):.0%} closer to one moment of the reference than to its others)",
    )


def on_still_picture(
    v: Verification,
    motion: CameraMotion,
    query: np.ndarray,
    query_times: np.ndarray,
    reference: np.ndarray,
    reference_times: np.ndarray,
    *,
    offset_s: float,
    speed: float,
    speed_untold: bool = False,
) -> Verification:
    """A same-footage verification on a still picture under camera motion, held to the camera path.

    What moves on such a reference is the whole picture, so what-moves agrees
    with another pan over the same picture as well as with a copy: the moment
    rests on the camera path alone (`camera_path_drift`). A clip that repeats
    the reference's path (drift at most `MAX_PATH_DRIFT_PX`, and at most
    `MAX_PATH_DRIFT_RATE` a second, over at least `MIN_PATH_FRAMES` frames)
    stays the same footage; otherwise the match is the same scene, with
    `STILL_PICTURE_SENTENCE`.

    Where the path does not hold at an alignment's speed other than 1, it is followed again at
    normal speed, at the offset what moves prefers there: the features channel's line through
    registered frames about a second apart is no measure of speed (`speed_untold`), nor is the
    frame hashes' fit over a clip whose overlays change every frame's distance (moving stickers:
    bench/sticker_cases.py, x1.28 and a held frame where the copy runs at x1). A path held only
    there tells no speed (`speed_shown` False: no speed, trim or reversal is said of it).

    A still image (one query frame) has no path, and any frame holding its part of the picture fits
    it: it stays the same footage, at no pinned second (`moment_shown` False).
    """
    if v.relation != Relation.SAME_FOOTAGE:
        return v
    if len(query_times) < 2:
        # A still image has no camera path: it is judged by its picture, as any still is. But every frame
        # that holds its part of the still picture fits it (a pan's zoom makes a crop of one frame another
        # frame whole), and what moves there is the whole picture: no second is pinned.
        what = "reference" if motion.kind == Picture.STILL_PICTURE else "matched part of the reference"
        return replace(
            v,
            reason=f"the {what} is a still picture under camera motion, and the picture shows a part of it: every "
            "frame of the reference that holds that part fits it as well, so its second is not pinned",
            moment_shown=False,
        )
    aligned = v.offset_s if v.offset_s is not None else offset_s
    work = PathWork(query, reference)  # the paths followed below share their views' work
    drift, frames, seconds = camera_path_drift(
        query, query_times, reference, reference_times, offset_s=aligned, speed=speed, work=work
    )
    at_normal = ""
    normal: float | None = None
    held_here = _path_holds(drift, frames, seconds)
    # The features' line is no measured speed: where its path holds, x1 is followed as well and
    # preferred where it holds over as many frames or more, and parts less (a short stretch of path
    # at an untold slope pinned a pan's copy 3.2 s from its moment: cases-devfull d180).
    if abs(speed - 1.0) >= MOTION_REFINE_MIN and (not held_here or speed_untold):
        normal = _normal_speed_offset(query, query_times, reference, reference_times, offset_s=aligned, speed=speed)
        if normal is not None:
            again = camera_path_drift(
                query, query_times, reference, reference_times, offset_s=normal, speed=1.0, work=work
            )
            better = not held_here or (
                again[0] is not None and drift is not None and again[1] >= frames and again[0] <= drift
            )
            if _path_holds(*again) and better:
                drift, frames, seconds = again
                middle = float(query_times[len(query_times) // 2])
                at_normal = (
                    f" at normal speed, the reference at {normal + middle:.1f} s at the clip's {middle:.1f} s "
                    + (
                        f"(the alignment's x{speed:.2f} is the features' line, not told)"
                        if speed_untold
                        else f"(the alignment's x{speed:.2f} does not repeat it: no speed is told)"
                    )
                )
    what = (
        "the reference is a still picture under camera motion"
        if motion.kind == Picture.STILL_PICTURE
        else ("the matched part of the reference is a still picture under camera motion")
    )
    if _path_holds(drift, frames, seconds):
        held = replace(
            v,
            reason=f"{v.reason}; {what}, and the clip repeats its camera path frame by frame{at_normal} "
            f"(over {frames} frames, {seconds:.1f} s, the two paths part by {drift:.1f} px of {VIEW_LONG_SIDE})",
            path_drift_px=drift,
            path_frames=frames,
            path_seconds=seconds,
        )
        if at_normal and normal is not None:
            pinned = _pinned(
                held, query, query_times, reference, reference_times, offset_s=normal, speed=1.0, work=work
            )
            # The clip is placed where its path holds (`match.on_line`), not on the line that did not repeat it.
            pinned = replace(pinned, offset_s=round(normal, 3), path_speed=1.0)
            return pinned if speed_untold else replace(pinned, speed_shown=False)
        return _pinned(held, query, query_times, reference, reference_times, offset_s=aligned, speed=speed, work=work)
    if drift is None or frames < MIN_PATH_FRAMES:
        why = f"only {frames} frame{'s' if frames != 1 else ''} of the clip could be followed along its camera path"
    elif drift <= MAX_PATH_DRIFT_PX:
        why = (
            f"over {frames} frames, {seconds:.1f} s, the two camera paths part by {drift:.1f} px of {VIEW_LONG_SIDE}, "
            f"more than {MAX_PATH_DRIFT_RATE:g} px a second: too short a stretch to tell this clip's path from "
            "another pan's over the same picture"
        )
    else:
        why = (
            f"the clip's camera path departs from the reference's by {drift:.1f} px of {VIEW_LONG_SIDE} over "
            f"{frames} frames: another pan over the same picture, or a copy whose overlays, edits or moving crop "
            "hide its path"
        )
    sentence = (
        STILL_PICTURE_SENTENCE.replace("the reference is", "the matched part of the reference is")
        if (motion.kind != Picture.STILL_PICTURE)
        else STILL_PICTURE_SENTENCE
    )
    return Verification(
        Relation.SAME_SCENE,
        v.pairs,
        v.moving_share,
        v.specificity,
        f"{sentence} ({why})",
        None,
        drift,
        frames,
        seconds if drift is not None else None,
    )
