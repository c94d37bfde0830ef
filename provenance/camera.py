"""Stage camera: whether footage is a still picture under camera motion, and the camera's path.

A pan or zoom over one photograph (the Ken Burns effect, a slideshow that
moves over its stills, a documentary's archive photo) has no moment of its
own: every frame is the same picture seen through a moving window, so
another moment of another pan over it shows, pixel for pixel, a cropped copy
of some indexed frame. Such footage is told from real footage by its
consecutive samples: each pair is related by one global map (fitted here as
an affine map by OpenCV's ECC, Evangelidis and Psarakis 2008, started from
phase correlation) that leaves almost nothing unexplained, and the camera
moved between them. Real footage leaves residual where things move on their
own (people, leaves, water, an animated character), in some part of the
frame; a still picture leaves only the interpolation's error, which a
half-pixel shift of the frame itself measures (`floor`).

`describe_motion` gives a reference's `CameraMotion` at ``index add`` (from
the grey samples hashing already decoded); `register` fits one pair, and the
verify stage uses it to follow a clip's camera path along an alignment::

    >>> motion = describe_motion(frames.times, frames.images)      # doctest: +SKIP
    >>> motion.kind, motion.spans
    ('still_picture', ((0.0, 11.0),))

The history of each constant is in docs/tuning.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

#: Side (pixels, at the 128 px samples) of the square cells whose residual is compared with the
#: interpolation floor: a walking figure at 128 px covers a few cells (bench/data, docs/tuning.md).
CELL_PX = 8
#: A pair is one picture moved when no cell's residual exceeds this multiple of its floor plus
#: `FLOOR_MARGIN` (0.3-0.99 on pans over photographs, 3.4-8.2 on moving footage; bench/data).
RIGID_RESIDUAL = 2.0
#: Added to each cell's floor (in units of the frame's standard deviation), and in grey levels
#: (the codec's noise, which a low-contrast picture shows large): flat cells have no floor.
FLOOR_MARGIN = 0.1
NOISE_GREY = 2.0
#: A pair's camera moved when the fitted map moves a frame corner this far (pixels at 128 px per
#: sample interval, 0.5 s at 2 frames/s): fixed shots 0.0-0.11, pans over photographs 0.52 or more.
CAMERA_MOVE_PX = 0.3
#: A fit whose ECC correlation is below this relates nothing (a cut, a flash, a new shot).
MIN_CORRELATION = 0.5
#: Fewest consecutive still-picture pairs that make a span (3 pairs: 1.5 s at 2 frames/s).
MIN_SPAN_PAIRS = 3
#: Share of the examined pairs a reference's still-picture spans must hold for it to be called
#: a still picture as a whole (else `partly_still_picture` when it has spans at all).
STILL_SHARE = 0.8
#: ECC iterations and convergence (OpenCV's findTransformECC), and its Gaussian pre-filter (pixels).
ECC_ITERATIONS = 60
ECC_EPSILON = 1e-5
ECC_FILTER = 5
#: The method's name and version, stored with each finding so an index can tell old findings apart.
METHOD = "ecc-affine-residual/1"

#: The thresholds this stage decides with (recorded in each report's `tool.thresholds`).
THRESHOLDS: dict[str, float] = {
    "cell_px": CELL_PX,
    "rigid_residual": RIGID_RESIDUAL,
    "floor_margin": FLOOR_MARGIN,
    "noise_grey": NOISE_GREY,
    "camera_move_px": CAMERA_MOVE_PX,
    "min_correlation": MIN_CORRELATION,
    "min_span_pairs": MIN_SPAN_PAIRS,
    "still_share": STILL_SHARE,
    "ecc_iterations": ECC_ITERATIONS,
    "ecc_epsilon": ECC_EPSILON,
    "ecc_filter": ECC_FILTER,
}


class Picture(StrEnum):
    """What a reference's consecutive samples show of its picture and its camera."""

    #: Every examined pair is one picture moved by the camera: a pan or zoom over a still.
    STILL_PICTURE = "still_picture"
    #: Some stretches are (`CameraMotion.spans`), others are not.
    PARTLY_STILL_PICTURE = "partly_still_picture"
    #: Things move on their own in the picture (real footage, animation).
    MOVING = "moving"
    #: Nothing moves, the camera included (a fixed shot of a still scene, a frozen frame).
    STATIC = "static"
    #: Too few usable samples to tell (a still image, a clip of flat frames).
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CameraMotion:
    """A reference's finding: whether it is a still picture under camera motion, where, and on what evidence.

    `pairs` consecutive sample pairs were examined (`unrelated` of them
    relate nothing: cuts, flashes); `still_share` of the related pairs are
    one picture moved by the camera, `static_share` one picture not moved;
    `spans` (seconds) are the stretches that are a still picture under
    camera motion; `residual` the median of the pairs' worst cell residual
    against its floor (below `RIGID_RESIDUAL`: one picture moved).
    """

    kind: Picture
    pairs: int = 0
    unrelated: int = 0
    still_share: float = 0.0
    static_share: float = 0.0
    spans: tuple[tuple[float, float], ...] = ()
    residual: float | None = None
    method: str = METHOD

    def still_within(self, start_s: float, end_s: float) -> float:
        """Share of the span (seconds) that lies inside the still-picture spans (0 when it has no length)."""
        length = end_s - start_s
        if length <= 0:
            inside = any(a <= start_s <= b for a, b in self.spans)
            return 1.0 if inside else 0.0
        covered = sum(max(0.0, min(b, end_s) - max(a, start_s)) for a, b in self.spans)
        return min(1.0, covered / length)

    def sentence(self) -> str:
        """The finding in words, for `index list` and the report."""
        if self.kind == Picture.STILL_PICTURE:
            return "a still picture under camera motion (a pan or zoom over one picture): it has no moment of its own"
        if self.kind == Picture.PARTLY_STILL_PICTURE:
            spans = ", ".join(f"{a:g}-{b:g} s" for a, b in self.spans[:4]) + (", ..." if len(self.spans) > 4 else "")
            return f"partly a still picture under camera motion ({spans})"
        if self.kind == Picture.STATIC:
            return "nothing moves in it, the camera included"
        if self.kind == Picture.MOVING:
            return "things move in the picture on their own"
        return "not told (too few usable frames)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "pairs": self.pairs,
            "unrelated": self.unrelated,
            "still_share": self.still_share,
            "static_share": self.static_share,
            "spans": [[a, b] for a, b in self.spans],
            "residual": self.residual,
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CameraMotion:
        """The record from `to_dict`'s form; raises ValueError/TypeError/KeyError on a malformed one."""
        spans = tuple((float(a), float(b)) for a, b in data.get("spans") or ())
        if any(b < a for a, b in spans):
            raise ValueError("a still-picture span ends before it starts")
        return cls(
            Picture(data["kind"]),
            int(data.get("pairs", 0)),
            int(data.get("unrelated", 0)),
            float(data.get("still_share", 0.0)),
            float(data.get("static_share", 0.0)),
            spans,
            None if data.get("residual") is None else float(data["residual"]),
            str(data.get("method", METHOD)),
        )


@dataclass(frozen=True)
class PairFit:
    """One pair of frames registered: the map (2x3, `a` pixels to `b` pixels), how well, how far it moves.

    `correlation` is ECC's; `residual` the worst cell's residual over its
    interpolation floor (`RIGID_RESIDUAL`); `move_px` how far the map moves
    the frame's corners at most (pixels of the frames given).
    """

    matrix: np.ndarray
    correlation: float
    residual: float
    move_px: float

    @property
    def related(self) -> bool:
        return self.correlation >= MIN_CORRELATION

    @property
    def rigid(self) -> bool:
        return self.related and self.residual <= RIGID_RESIDUAL


def _cells(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell means of `values` over `valid` pixels, and which cells are mostly valid."""
    h, w = values.shape
    ch, cw = h // CELL_PX, w // CELL_PX
    v = np.where(valid, values, 0.0)[: ch * CELL_PX, : cw * CELL_PX]
    sums = v.reshape(ch, CELL_PX, cw, CELL_PX).sum(axis=(1, 3))
    counts = _cell_counts(valid)
    means = sums / np.maximum(counts, 1.0)
    return means, counts >= CELL_PX * CELL_PX / 2


def _cell_counts(valid: np.ndarray) -> np.ndarray:
    """Per-cell counts of `valid` pixels (float)."""
    h, w = valid.shape
    ch, cw = h // CELL_PX, w // CELL_PX
    m = valid[: ch * CELL_PX, : cw * CELL_PX].astype(np.float64)
    return m.reshape(ch, CELL_PX, cw, CELL_PX).sum(axis=(1, 3))


def register(
    a: np.ndarray,
    b: np.ndarray,
    start: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    *,
    judged: bool = True,
) -> PairFit | None:
    """Fit the affine map that takes frame `a` onto frame `b` (grey, same size) and say what it leaves.

    Args:
        a, b: grey frames (h, w).
        start: a first guess of the map (2x3, `a` pixels to `b` pixels); phase correlation's shift when None.
        mask: the pixels (h, w, bool) the fit may use, in `b`'s frame (ECC warps it with `b`): what is
            not picture (a blanked cover, the black beyond a warped frame, a still overlay) is left
            out, so its fixed edges cannot pin the map; None: every pixel.
        judged: whether to measure what the map leaves (`PairFit.residual`, `move_px`); a caller that
            needs only the map and its correlation (verify's camera path) saves that (both NaN then).

    Returns:
        The `PairFit`, or None when the frames are flat, the mask leaves too little or the fit does not converge.
    """
    import cv2  # here, not at the top: importing the records loads no OpenCV

    fa = np.ascontiguousarray(a, dtype=np.float32)
    fb = np.ascontiguousarray(b, dtype=np.float32)
    h, w = fa.shape
    if h < 2 * CELL_PX or w < 2 * CELL_PX or fa.std() < 1.0 or fb.std() < 1.0:
        return None
    if start is None:
        (dx, dy), _ = cv2.phaseCorrelate(fa, fb, cv2.createHanningWindow((w, h), cv2.CV_32F))
        # `warp` maps `a` pixels to `b` pixels: b(warp(x)) = a(x), as findTransformECC(a, b) fits it.
        warp = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    else:
        warp = np.asarray(start, dtype=np.float32).copy()
    used = None if mask is None else np.asarray(mask, dtype=np.uint8)
    if used is not None and used.mean() < 0.25:
        return None
    try:
        cc, fitted = cv2.findTransformECC(  # type: ignore[call-overload]
            fa,
            fb,
            warp,
            cv2.MOTION_AFFINE,
            (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, ECC_EPSILON),
            used,  # type: ignore[arg-type]  # None: no mask (OpenCV accepts it)
            ECC_FILTER,
        )
    except cv2.error:
        return None
    warp = np.asarray(fitted, dtype=np.float32)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    valid = cv2.warpAffine(np.ones_like(fa), warp, (w, h), flags=flags) > 0.99
    valid = cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if used is not None:
        valid &= cv2.warpAffine(used.astype(np.float32), warp, (w, h), flags=flags) > 0.99
    if valid.mean() < 0.25:
        return None
    if not judged:  # whether any cell is mostly valid (`_cells`' second part) is all it needs
        ok = _cell_counts(valid) >= CELL_PX * CELL_PX / 2
        return PairFit(warp, float(cc), math.nan, math.nan) if ok.any() else None
    back = cv2.warpAffine(fb, warp, (w, h), flags=flags)
    std = float(fa[valid].std()) + 1e-3
    # The interpolation's own error on this picture: the frame against itself shifted by half a pixel.
    shifted = cv2.warpAffine(
        fa,
        np.array([[1, 0, 0.5], [0, 1, 0.5]], dtype=np.float32),
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    residual, ok = _cells(np.abs(back - fa) / std, valid)
    floor, _ = _cells(np.abs(shifted - fa) / std, valid)
    if not ok.any():
        return None
    worst = float((residual / (floor + FLOOR_MARGIN + NOISE_GREY / std))[ok].max())
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], dtype=np.float64)
    moved = corners @ warp.astype(np.float64).T
    move = float(np.abs(moved - corners[:, :2]).max())
    return PairFit(warp, float(cc), worst, move)


def describe_motion(times: Sequence[float] | np.ndarray, images: np.ndarray) -> CameraMotion:
    """Whether a clip's consecutive grey samples are one still picture under camera motion, and where.

    Args:
        times: the samples' times (seconds), increasing.
        images: (N, h, w) grey samples (the 128 px ones hashing uses).

    Returns:
        The `CameraMotion`: its kind, the still-picture spans and the evidence.
    """
    t = np.asarray(times, dtype=np.float64)
    n = len(images)
    if n < 2:
        return CameraMotion(Picture.UNKNOWN)
    fits = [register(images[i], images[i + 1]) for i in range(n - 1)]
    related = [f is not None and f.related for f in fits]
    still = [f is not None and f.rigid and f.move_px >= CAMERA_MOVE_PX for f in fits]
    static = [f is not None and f.rigid and f.move_px < CAMERA_MOVE_PX for f in fits]
    usable = sum(related)
    if usable == 0:
        return CameraMotion(Picture.UNKNOWN, n - 1, n - 1)
    spans: list[tuple[float, float]] = []
    run: list[int] = []
    for i in [*range(n - 1), -1]:
        if i >= 0 and still[i]:
            run.append(i)
            continue
        if len(run) >= MIN_SPAN_PAIRS:
            spans.append((round(float(t[run[0]]), 3), round(float(t[run[-1] + 1]), 3)))
        run = []
    in_spans = sum(1 for i in range(n - 1) if any(t[i] >= a - 1e-6 and t[i + 1] <= b + 1e-6 for a, b in spans))
    still_share = in_spans / usable
    static_share = sum(static) / usable
    rigid = [f.residual for f in fits if f is not None and f.rigid]
    if still_share >= STILL_SHARE:
        kind = Picture.STILL_PICTURE
    elif spans:
        kind = Picture.PARTLY_STILL_PICTURE
    elif static_share >= STILL_SHARE:
        kind = Picture.STATIC
    else:
        kind = Picture.MOVING
    return CameraMotion(
        kind,
        n - 1,
        (n - 1) - usable,
        round(still_share, 3),
        round(static_share, 3),
        tuple(spans),
        round(float(np.median(rigid)), 3) if rigid else None,
    )
