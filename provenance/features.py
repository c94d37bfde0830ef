"""Stage features: local binary descriptors, the visual channel that sees through partial views.

Whole-frame hashes cannot find a copy whose picture is covered (stickers),
tilted, zoomed, split (duets) or cropped (screenshots, 9:16 crop-to-fill):
the DCT of such a frame differs everywhere. Local descriptors survive: ORB
(Rublee et al., ICCV 2011) finds corners and describes each by 256 binary
tests, invariant to rotation and, over an image pyramid, to scale. The
channel has four steps:

1. **Describe** (`describe`): ORB on a sparse sample of each reference
   (`REF_FPS`, `REF_LONG_SIDE`) and on the query's frames (`QUERY_FPS`, up
   to `MAX_QUERY_FRAMES`, at `QUERY_LONG_SIDE` so a 9:16 crop that shows a
   third of the reference still has its corners), the query also mirrored.
2. **Keys** (`lsh_keys`): locality-sensitive hashing by bit sampling (Indyk
   and Motwani 1998; Gionis et al. 1999): `LSH_TABLES` keys of `LSH_BITS`
   bits, each drawn from fixed, disjoint positions of the 256-bit
   descriptor, data-independent so nothing is trained or downloaded. Two
   descriptors at Hamming distance d share a table's key with probability
   (1 - d/256)^LSH_BITS. The index keeps an inverted list per key (`index/`).
3. **Vote**: each query frame's descriptors vote, through their keys, for
   reference frames; a frame's vote is the number of distinct query
   descriptors that reach it.
4. **Verify** (`register`): the best-voted reference frames of each query
   frame are matched descriptor to descriptor (Hamming, Lowe's ratio test)
   and a similarity (rotation, uniform scale, shift) is fitted with RANSAC
   (`cv2.estimateAffinePartial2D`); at least `MIN_INLIERS` inliers spread
   over the picture make a verified frame pair.

The fitted similarity is the diagnosis: its angle (a tilt), its scale (a
zoom), the reference region the query shows (a crop box) and the part of
the query frame that holds the reference (a split screen's half, a
picture-in-picture's box) (`Geometry`)::

    >>> ref = describe(times, grey_frames, long_side=REF_LONG_SIDE, n_features=REF_FEATURES)
    >>> pair = register(query_frame, ref.frames[3])
    >>> pair.geometry.angle_deg, pair.geometry.scale
    (5.1, 1.18)

Matching the verified pairs in time, into segments, is the match stage's
(`match.feature_segments`). The history of each constant is in docs/tuning.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

#: Reference frames described per second of footage (0.5-2): a query frame at 2/s then lies
#: within 0.25 s of one; what the index adds per hour grows with it (docs/tuning.md).
REF_FPS = 1.0
#: Long side (pixels) of the reference frames described: 480 keeps a 9:16 centre crop's third
#: of the frame at 150 px, enough corners for a fit (cases-dev, docs/tuning.md).
REF_LONG_SIDE = 480
#: Most descriptors kept per reference frame (ORB's strongest): storage is 36 bytes each.
REF_FEATURES = 300
#: Query frames described per second (1-4), evenly spread up to `MAX_QUERY_FRAMES`.
QUERY_FPS = 2.0
#: Most query frames described (cost: ~10 ms each, twice with the mirror; docs/tuning.md).
MAX_QUERY_FRAMES = 40
#: Long side (pixels) of the query frames described: the reference may fill 30-60% of a
#: vertical frame, which keeps it near the reference's own scale (cases-dev).
QUERY_LONG_SIDE = 640
#: Most descriptors kept per query frame, and, as a share of it, more from the frame at half
#: size (reaching references shown 3.6-7 times enlarged; cases-dev crop-to-fill).
QUERY_FEATURES = 600
COARSE_SHARE = 0.5
#: Long side (pixels) a query region (a split screen's pane, an inner picture) is described at:
#: the reference's own (`REF_LONG_SIDE`), so footage filling the region meets its reference at
#: one scale, however small the region is in the frame (cases-dev duets and pips).
REGION_LONG_SIDE = 480
#: Long side (pixels) of the query frames decoded for this channel: twice `QUERY_LONG_SIDE`, so a
#: region of a third of the frame is cut from about 430 pixels rather than enlarged from 215.
DECODE_LONG_SIDE = 1280
#: A query frame decoded at least this many times `QUERY_LONG_SIDE` is also described at that
#: factor (a picture-in-picture at 20-40% of the width is then at its reference's scale).
FINE_FACTOR = 2.0
#: A query frame's flat areas (stickers, badges, caption boxes): pixels whose 5x5 standard deviation on
#: the equalised frame is under `FLAT_STD` grey levels, in areas wider than 1/`FLAT_MIN_SIDE` of the long
#: side; no corner is kept within `FLAT_REACH` px of them (their sharp outline) when they cover `FLAT_SHARE`.
FLAT_STD = 2.0
FLAT_MIN_SIDE = 64
FLAT_REACH = 4
FLAT_SHARE = (0.05, 0.9)
#: A still cover (`covers`): clip pixels whose standard deviation over the clip stays under
#: `COVER_STILL` grey levels at more than `COVER_DIFF` from the reference's median there, on
#: a share of the view within `COVER_SHARE` (opaque stickers over 10-25%; sample stickers test).
COVER_STILL = 4.0
COVER_DIFF = 40.0
COVER_SHARE = (0.02, 0.6)
#: A view pixel is shown by a query frame when at least this share of it lies in the frame's footprint
#: (`views`' `unseen`; the rule of verify's fit for what its warp fills).
SHOWN_SHARE = 0.99
#: LSH tables and bits per key (bit sampling of the 256-bit descriptor, disjoint positions):
#: a pair at distance 25 shares a key with probability 1-(1-(231/256)^22)^3 = 0.28; 22 bits
#: keep each inverted list 16 times shorter than 18 would (docs/tuning.md).
LSH_TABLES = 3
LSH_BITS = 22
#: Fixed seed of the bit positions the keys sample (any seed works; fixed so indexes agree).
LSH_SEED = 16
#: Fewest distinct query descriptors voting for a reference frame for it to be verified
#: (unrelated frames gather 0-4 at this index's scale; cases-dev, docs/tuning.md).
MIN_VOTES = 5
#: Reference frames verified per query frame, the best-voted first; for a still image (one
#: query frame, whose time must come from the best registration alone) `STILL_FRAMES`.
FRAMES_PER_QUERY_FRAME = 3
STILL_FRAMES = 10
#: Offsets (at speed 1, bins of 1/`REF_FPS` s) whose weak votes, summed over the query's frames,
#: lead: each query frame is also verified against its reference frame at the `OFFSET_BINS`
#: best (a small crop gathers few votes per frame, but at one offset; cases-dev crop-to-fill).
OFFSET_BINS = 2
#: Lowe's ratio test: a descriptor's nearest match must be this much closer than its second.
RATIO_TEST = 0.8
#: RANSAC's reprojection tolerance, in reference pixels at `REF_LONG_SIDE`.
RANSAC_PX = 4.0
#: Fewest RANSAC inliers of a verified frame pair (unrelated pairs of cases-dev reached 9).
MIN_INLIERS = 15
#: The inliers must spread over at least this share of the reference frame's width and of its
#: height: a logo or a line of text alone is no registration.
MIN_INLIER_SPREAD = 0.15
#: Scales a fit may have (`Geometry.scale`: 1 when the reference's width fills the query's;
#: a 9:16 crop-to-fill of 16:9 footage is 3.2, a picture-in-picture at 20% 0.2).
SCALE_RANGE = (0.15, 8.0)
#: A fit's parameters are stable when the verified pairs of a segment agree this closely:
#: angle within this many degrees, scale within this share (else only "partly visible").
STABLE_ANGLE_DEG = 2.0
STABLE_SCALE = 0.08
#: An angle below this (degrees) is no tilt; a scale within this share of 1 is no zoom.
MIN_TILT_DEG = 1.5
MIN_ZOOM = 0.06
#: Largest ratio of the affine map's axis scales at which a fitted turn is a tilt (1.0-1.1; true
#: tilts measured 1.002-1.004, anamorphic stretches 1.23-1.40: docs/tuning.md).
MAX_TILT_STRETCH = 1.05

#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`).
THRESHOLDS: dict[str, float] = {
    "ref_fps": REF_FPS,
    "ref_long_side": REF_LONG_SIDE,
    "ref_features": REF_FEATURES,
    "query_fps": QUERY_FPS,
    "max_query_frames": MAX_QUERY_FRAMES,
    "query_long_side": QUERY_LONG_SIDE,
    "query_features": QUERY_FEATURES,
    "coarse_share": COARSE_SHARE,
    "region_long_side": REGION_LONG_SIDE,
    "decode_long_side": DECODE_LONG_SIDE,
    "fine_factor": FINE_FACTOR,
    "flat_std": FLAT_STD,
    "flat_min_side": FLAT_MIN_SIDE,
    "flat_reach": FLAT_REACH,
    "flat_share_min": FLAT_SHARE[0],
    "flat_share_max": FLAT_SHARE[1],
    "cover_still": COVER_STILL,
    "cover_diff": COVER_DIFF,
    "cover_share_min": COVER_SHARE[0],
    "cover_share_max": COVER_SHARE[1],
    "shown_share": SHOWN_SHARE,
    "lsh_tables": LSH_TABLES,
    "lsh_bits": LSH_BITS,
    "min_votes": MIN_VOTES,
    "frames_per_query_frame": FRAMES_PER_QUERY_FRAME,
    "still_frames": STILL_FRAMES,
    "offset_bins": OFFSET_BINS,
    "ratio_test": RATIO_TEST,
    "ransac_px": RANSAC_PX,
    "min_inliers": MIN_INLIERS,
    "min_inlier_spread": MIN_INLIER_SPREAD,
    "scale_range_min": SCALE_RANGE[0],
    "scale_range_max": SCALE_RANGE[1],
    "stable_angle_deg": STABLE_ANGLE_DEG,
    "stable_scale": STABLE_SCALE,
    "min_tilt_deg": MIN_TILT_DEG,
    "min_zoom": MIN_ZOOM,
    "max_tilt_stretch": MAX_TILT_STRETCH,
}

#: Bytes of one ORB descriptor.
DESCRIPTOR_BYTES = 32
_POSITIONS = np.random.default_rng(LSH_SEED).permutation(8 * DESCRIPTOR_BYTES)[: LSH_TABLES * LSH_BITS]
_POSITIONS = _POSITIONS.reshape(LSH_TABLES, LSH_BITS)
_WEIGHTS = (1 << np.arange(LSH_BITS, dtype=np.int64))[::-1]


@dataclass(frozen=True)
class FrameFeatures:
    """One described frame: its time, its size as described, keypoints (N, 2) and descriptors (N, 32)."""

    t: float
    width: int
    height: int
    points: np.ndarray
    descriptors: np.ndarray
    #: The frame was flipped left to right before it was described.
    mirrored: bool = False

    def __len__(self) -> int:
        return len(self.descriptors)

    def keys(self) -> np.ndarray:
        """The distinct LSH keys of this frame's descriptors (what the index stores for it)."""
        return np.unique(lsh_keys(self.descriptors))


@dataclass(frozen=True)
class Features:
    """The described frames of one input (and, for a query, the same frames mirrored, described when first asked).

    A query is looked up mirrored only when fewer than half its frames register unmirrored
    (`match.find_feature_matches`), so its mirrored frames are described then:
    `mirror` describes them, once.
    """

    frames: tuple[FrameFeatures, ...]
    mirror: Callable[[], tuple[FrameFeatures, ...]] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def mirrored(self) -> tuple[FrameFeatures, ...]:
        """The same frames flipped left to right and described (empty when none were asked for)."""
        return self.mirror() if self.mirror is not None else ()

    @property
    def descriptors(self) -> int:
        return sum(len(f) for f in self.frames)


def lsh_keys(descriptors: np.ndarray) -> np.ndarray:
    """(N, LSH_TABLES) int64 keys of ORB descriptors (N, 32): table number in the high bits, sampled bits below.

    Args:
        descriptors: uint8 descriptors, one a row.

    Returns:
        Keys, one column per table; key ``t << LSH_BITS | bits``.
    """
    d = np.asarray(descriptors, dtype=np.uint8).reshape(-1, DESCRIPTOR_BYTES)
    bits = np.unpackbits(d, axis=1).astype(np.int64)
    out = np.empty((len(d), LSH_TABLES), dtype=np.int64)
    for table in range(LSH_TABLES):
        out[:, table] = (table << LSH_BITS) | (bits[:, _POSITIONS[table]] @ _WEIGHTS)
    return out


def _orb(n_features: int) -> Any:
    import cv2  # here, not at the top: importing the records loads no OpenCV

    # ORB's 256 tests were learned on 31-pixel patches (its default): on smaller patches
    # many bits stay nearly constant (median |mean - 0.5| 0.31 at 15 px against 0.06 at 31
    # on samples/refs), and sampled keys would collide everywhere.
    return cv2.ORB.create(n_features, scaleFactor=1.2, nlevels=8, edgeThreshold=31, patchSize=31, fastThreshold=10)


def describe_frame(
    image: np.ndarray, t: float, *, long_side: int, n_features: int, mirrored: bool = False, coarse: bool = False
) -> FrameFeatures:
    """ORB keypoints and descriptors of one grey (or RGB) frame, scaled to `long_side` first.

    Histogram equalisation first: low-contrast footage (sky, storm clouds)
    otherwise gives FAST too few corners (as in `diagnose`). With `coarse`
    (a query), the frame is also described at half its size (`COARSE_SHARE`).
    """
    import cv2  # here, not at the top: importing the records loads no OpenCV

    grey = np.asarray(image)
    if grey.ndim == 3:
        grey = cv2.cvtColor(grey, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    fine = None
    if coarse and max(h, w) >= FINE_FACTOR * long_side:
        # Also at twice the size, its points given in the described frame's pixels: a picture
        # inside the frame at 20-40% of its width then meets its reference at one scale.
        size = (
            int(round(w * FINE_FACTOR * long_side / max(h, w))),
            int(round(h * FINE_FACTOR * long_side / max(h, w))),
        )
        big = cv2.equalizeHist(np.ascontiguousarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA)))
        fine = (big[:, ::-1] if mirrored else big, size)
    scale = long_side / max(h, w)
    if abs(scale - 1.0) > 0.01:
        size = (max(8, int(round(w * scale))), max(8, int(round(h * scale))))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if mirrored:
        grey = grey[:, ::-1]
    grey = cv2.equalizeHist(np.ascontiguousarray(grey))
    points, desc = _detect(grey, n_features, off_flat=coarse)
    if coarse:
        # Also at half the size, its points given in the full frame's pixels: ORB's pyramid
        # (8 levels of 1.2, a factor 3.6) then reaches a reference 7 times smaller than the
        # frame, as a 9:16 crop-to-fill of wide footage needs.
        half = cv2.resize(grey, (max(8, grey.shape[1] // 2), max(8, grey.shape[0] // 2)), interpolation=cv2.INTER_AREA)
        p2, d2 = _detect(half, int(n_features * COARSE_SHARE), off_flat=True)
        points = np.concatenate([points, p2 * (grey.shape[1] / half.shape[1])]).astype(np.float32)
        desc = np.concatenate([desc, d2])
    if fine is not None:
        p3, d3 = _detect(np.ascontiguousarray(fine[0]), n_features, off_flat=True)
        points = np.concatenate([points, p3 * (grey.shape[1] / fine[1][0])]).astype(np.float32)
        desc = np.concatenate([desc, d3])
    return FrameFeatures(round(float(t), 3), grey.shape[1], grey.shape[0], points, desc, mirrored)


def _detect(grey: np.ndarray, n_features: int, *, off_flat: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """ORB keypoints (N, 2) float32 and descriptors (N, 32) uint8 of one grey image.

    With `off_flat` (a query's frame), away from its flat areas (`flat_areas`) when it has them.
    """
    mask = None
    if off_flat:
        near = flat_areas(grey)
        if FLAT_SHARE[0] <= near.mean() <= FLAT_SHARE[1]:
            mask = np.where(near, 0, 255).astype(np.uint8)
    keypoints, desc = _orb(n_features).detectAndCompute(grey, mask)
    if mask is not None and (desc is None or not keypoints):
        keypoints, desc = _orb(n_features).detectAndCompute(grey, None)
    if desc is None or not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
    return np.array([k.pt for k in keypoints], dtype=np.float32), np.asarray(desc, np.uint8)


def flat_areas(grey: np.ndarray) -> np.ndarray:
    """The pixels of an equalised grey frame within `FLAT_REACH` of its wide flat areas: (h, w) bool.

    A sticker, an emoji or a badge laid over a copy is flat colour inside a sharp outline, and
    ORB's strongest corners are on that outline and on its letters: a frame's budget went to
    them and the footage left visible kept too few to register (bench/sticker_cases.py). The
    footage's own flat areas (sky, a blurred background) have no corners to lose; their
    outline's corners go with the stickers'.
    """
    import cv2  # here, not at the top: importing the records loads no OpenCV

    g = grey.astype(np.float32)
    mean = cv2.blur(g, (5, 5))
    std = np.sqrt(np.maximum(cv2.blur(g * g, (5, 5)) - mean * mean, 0.0))
    side = max(3, max(grey.shape) // FLAT_MIN_SIDE)
    wide = cv2.morphologyEx((std < FLAT_STD).astype(np.uint8), cv2.MORPH_OPEN, np.ones((side, side), np.uint8))
    reach = 2 * FLAT_REACH + 1
    return cv2.dilate(wide, np.ones((reach, reach), np.uint8)) > 0


def describe(
    times: Sequence[float] | np.ndarray,
    images: Sequence[np.ndarray] | np.ndarray,
    *,
    long_side: int,
    n_features: int,
    mirror: bool = False,
) -> Features:
    """ORB of every frame given (frames with no corner at all are left out).

    Args:
        times: each frame's time, seconds.
        images: grey (H, W) or RGB frames.
        long_side: the long side frames are described at.
        n_features: most descriptors kept per frame.
        mirror: a query: also describe each frame flipped left to right, and each at half size too.

    Returns:
        The `Features`.
    """
    frames, kept = [], []
    for t, image in zip(times, images, strict=True):
        f = describe_frame(image, float(t), long_side=long_side, n_features=n_features, coarse=mirror)
        if len(f):
            frames.append(f)
            kept.append((float(t), image))
    if not mirror:
        return Features(tuple(frames))
    return Features(tuple(frames), lambda: _mirrored(kept, long_side=long_side, n_features=n_features))


def _mirrored(
    kept: Sequence[tuple[float, np.ndarray]], *, long_side: int, n_features: int
) -> tuple[FrameFeatures, ...]:
    """Each (time, frame) flipped left to right and described as a query's."""
    return tuple(
        describe_frame(image, t, long_side=long_side, n_features=n_features, mirrored=True, coarse=True)
        for t, image in kept
    )


def describe_region(
    times: Sequence[float] | np.ndarray,
    images: Sequence[np.ndarray] | np.ndarray,
    rect: tuple[float, float, float, float],
    *,
    long_side: int = REGION_LONG_SIDE,
    n_features: int = QUERY_FEATURES,
) -> Features:
    """ORB of one region of each frame (fractions (x0, y0, x1, y1)), as a query of its own, mirrored too.

    The region is described at `long_side` (the reference's scale) and at half
    size (`describe_frame`'s `coarse`); the points are in the region's pixels as
    described, so a segment's `Geometry.query_box` is a box of the region.
    """
    frames, kept = [], []
    for t, image in zip(times, images, strict=True):
        grey = np.asarray(image)
        h, w = grey.shape[:2]
        x0, y0 = int(round(rect[0] * w)), int(round(rect[1] * h))
        x1, y1 = max(x0 + 8, int(round(rect[2] * w))), max(y0 + 8, int(round(rect[3] * h)))
        part = np.ascontiguousarray(grey[y0:y1, x0:x1])
        f = describe_frame(part, float(t), long_side=long_side, n_features=n_features, coarse=True)
        if len(f):
            frames.append(f)
            kept.append((float(t), part))
    return Features(tuple(frames), lambda: _mirrored(kept, long_side=long_side, n_features=n_features))


def share_outside(
    features: Features, box: tuple[float, float, float, float], start_s: float, end_s: float
) -> float | None:
    """Share of the whole frames' keypoints outside `box` (fractions of the frame), over the frames in the span.

    What `Geometry.outside_share` measures for a whole-frame match, for a match
    found in one region of the frame: its own keypoints lie inside the region,
    so the detail beside the footage is counted in the whole frames'. Frames
    from `start_s` to `end_s` (the nearest one when none lies in it); None
    without keypoints.
    """
    frames = [f for f in features.frames if start_s - 1e-6 <= f.t <= end_s + 1e-6 and len(f)]
    if not frames:
        described = [f for f in features.frames if len(f)]
        if not described:
            return None
        middle = (start_s + end_s) / 2
        frames = [min(described, key=lambda f: abs(f.t - middle))]
    x0, y0, x1, y1 = box
    outside = total = 0
    for f in frames:
        x = f.points[:, 0] / max(1, f.width)
        y = f.points[:, 1] / max(1, f.height)
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        outside += int((~inside).sum())
        total += len(inside)
    return round(outside / total, 3) if total else None


def query_times(duration_s: float, fps: float = QUERY_FPS, most: int = MAX_QUERY_FRAMES) -> float:
    """The sampling rate that spreads at most `most` frames over `duration_s` at `fps` or less."""
    if duration_s <= 0:
        return fps
    return min(fps, most / duration_s)


@dataclass(frozen=True)
class Geometry:
    """The similarity that takes query pixels to reference pixels, and what it says of the edit.

    `angle_deg`: the reference turned by this much in the query (degrees, clockwise positive
    as the picture appears: ffmpeg's ``rotate=5*PI/180`` gives about +5);
    `scale`: the reference's size in the query against the reference fitted to the query's
    width (1: its whole width fills the query's; 1.2: zoomed in by 20%; 0.5: shown at half
    the query's width, as in a duet); `crop_box`: the part of the reference the query
    shows, (x0, y0, x1, y1) in fractions of the reference frame; `query_box`: the part of
    the query frame the reference fills, in fractions of the query frame; `inliers`: RANSAC's.
    """

    angle_deg: float
    scale: float
    crop_box: tuple[float, float, float, float]
    query_box: tuple[float, float, float, float]
    inliers: int
    mirrored: bool = False
    #: Verified frame pairs this geometry is the median of (1: one pair's own fit).
    pairs: int = 1
    #: The pairs' angles and scales agree (`STABLE_ANGLE_DEG`, `STABLE_SCALE`): the edit can be named.
    stable: bool = True
    #: Share of the query frame's keypoints that fall outside the reference's footprint: detail
    #: (other footage, text) around the footage rather than flat padding.
    outside_share: float = 0.0
    #: Inliers the query frames reach on reference frames 2-4 s from the alignment, as a share of
    #: those on it (median; None when not measured): near 1, the picture registers with other
    #: moments as well (a fixed camera, a pan over one photograph), and the time is not shown.
    other_moments_ratio: float | None = None
    #: The ratio of the two axis scales of the general affine map fitted to the same matches (1:
    #: neither axis squeezed; the median over the pairs; None: not measured): a picture stretched
    #: along one axis fits a similarity only at a spurious tilt.
    stretch: float | None = None
    #: How closely the clip's frame around `query_box` follows the footage blown up to fill the
    #: frame (`layout.surround_copy`; None: not measured, or too little or plain surround): near 1,
    #: the padding is a blurred copy of the footage.
    surround_copy: float | None = None
    #: How much the clip's frame around `query_box` changes over the clip (`layout.surround_change`,
    #: grey levels; None: not measured): bars, a flat colour or an interface hold still, other footage moves.
    surround_change: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "angle_deg": self.angle_deg,
            "scale": self.scale,
            "crop_box": list(self.crop_box),
            "query_box": list(self.query_box),
            "inliers": self.inliers,
            "mirrored": self.mirrored,
            "pairs": self.pairs,
            "stable": self.stable,
            "outside_share": self.outside_share,
            "other_moments_ratio": self.other_moments_ratio,
            "stretch": self.stretch,
            "surround_copy": self.surround_copy,
            "surround_change": self.surround_change,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Geometry:
        return cls(
            float(data["angle_deg"]),
            float(data["scale"]),
            tuple(float(v) for v in data["crop_box"]),  # type: ignore[arg-type]
            tuple(float(v) for v in data["query_box"]),  # type: ignore[arg-type]
            int(data["inliers"]),
            bool(data.get("mirrored", False)),
            int(data.get("pairs", 1)),
            bool(data.get("stable", True)),
            float(data.get("outside_share", 0.0)),
            None if data.get("other_moments_ratio") is None else float(data["other_moments_ratio"]),
            stretch=None if data.get("stretch") is None else float(data["stretch"]),
            surround_copy=None if data.get("surround_copy") is None else float(data["surround_copy"]),
            surround_change=None if data.get("surround_change") is None else float(data["surround_change"]),
        )

    @property
    def tilt_shown(self) -> bool:
        """The pairs agree on a turn of at least `MIN_TILT_DEG`, and neither axis is squeezed more than
        `MAX_TILT_STRETCH` (where the affine map was fitted): a stretched picture's turn is no tilt."""
        return (
            self.stable
            and abs(self.angle_deg) >= MIN_TILT_DEG
            and (self.stretch is None or self.stretch <= MAX_TILT_STRETCH)
        )


@dataclass(frozen=True)
class FramePair:
    """A verified pair: query frame time, reference frame time, the fitted map (2x3, query px to reference px)."""

    query_t: float
    reference_t: float
    matrix: np.ndarray
    geometry: Geometry
    #: (width, height) of the query and reference frames as described (the map's pixels).
    query_size: tuple[int, int] = (0, 0)
    reference_size: tuple[int, int] = (0, 0)


def _clip_box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    return tuple(round(min(1.0, max(0.0, float(v))), 3) for v in (x0, y0, x1, y1))  # type: ignore[return-value]


def geometry_of(
    m: np.ndarray,
    query_size: tuple[int, int],
    reference_size: tuple[int, int],
    inliers: int,
    *,
    mirrored: bool = False,
    query_points: np.ndarray | None = None,
    affine: np.ndarray | None = None,
) -> Geometry:
    """What a query-to-reference similarity `m` (2x3, pixels) says: angle, zoom, crop box, query box.

    Args:
        m: the map from query pixels (as described) to reference pixels (as described).
        query_size, reference_size: (width, height) of the two frames as described.
        inliers: RANSAC's inlier count.
        mirrored: the query was flipped before it was described.
        query_points: the query frame's keypoints (for `Geometry.outside_share`).
        affine: the general affine map fitted to the same matches (2x3), for `Geometry.stretch`.
    """
    import cv2  # here, not at the top: importing the records loads no OpenCV

    qw, qh = query_size
    rw, rh = reference_size
    a, c = float(m[0, 0]), float(m[1, 0])
    to_ref = math.hypot(a, c)  # reference px per query px
    # The reference's turn as seen in the query is the inverse map's angle (flipped back when
    # mirrored); with y pointing down, a positive angle turns the picture clockwise.
    angle = -math.degrees(math.atan2(c, a))
    if mirrored:
        angle = -angle
    corners = np.array([[0, 0], [qw, 0], [qw, qh], [0, qh]], dtype=np.float64)
    in_ref = corners @ m[:, :2].T + m[:, 2]
    crop = _clip_box(in_ref[:, 0].min() / rw, in_ref[:, 1].min() / rh, in_ref[:, 0].max() / rw, in_ref[:, 1].max() / rh)
    inverse = cv2.invertAffineTransform(m.astype(np.float64))
    ref_corners = np.array([[0, 0], [rw, 0], [rw, rh], [0, rh]], dtype=np.float64)
    in_query = ref_corners @ inverse[:, :2].T + inverse[:, 2]
    if mirrored:  # boxes are given in the query as it is shown, not as it was flipped
        in_query[:, 0] = qw - in_query[:, 0]
    box = _clip_box(
        in_query[:, 0].min() / qw, in_query[:, 1].min() / qh, in_query[:, 0].max() / qw, in_query[:, 1].max() / qh
    )
    # Zoom against the reference fitted to the query's width: 1 when the query shows the
    # reference's whole width, 1.2 for a 20% zoom, 0.5 for a duet's half.
    zoom = (1.0 / to_ref) * rw / qw if to_ref > 0 else 0.0
    outside = 0.0
    if query_points is not None and len(query_points):
        mapped = np.asarray(query_points, dtype=np.float64) @ m[:, :2].T + m[:, 2]
        inside = (mapped[:, 0] >= 0) & (mapped[:, 0] <= rw) & (mapped[:, 1] >= 0) & (mapped[:, 1] <= rh)
        outside = float(1.0 - inside.mean())
    stretch = None
    if affine is not None:
        singular = np.linalg.svd(np.asarray(affine, dtype=np.float64)[:, :2], compute_uv=False)
        stretch = round(float(singular[0] / singular[1]), 3) if singular[1] > 0 else None
    return Geometry(
        round(angle, 2),
        round(zoom, 3),
        crop,
        box,
        int(inliers),
        mirrored,
        outside_share=round(outside, 3),
        stretch=stretch,
    )


def register(query: FrameFeatures, reference: FrameFeatures) -> FramePair | None:
    """Verify one frame pair: descriptor matches, ratio test, a RANSAC similarity with enough spread inliers.

    Returns:
        The `FramePair`, or None when the frames do not register.
    """
    import cv2  # here, not at the top: importing the records loads no OpenCV

    if len(query) < MIN_INLIERS or len(reference) < MIN_INLIERS:
        return None
    matches = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query.descriptors, reference.descriptors, k=2)
    good = [p[0] for p in matches if len(p) == 2 and p[0].distance < RATIO_TEST * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    src = query.points[[g.queryIdx for g in good]]
    dst = reference.points[[g.trainIdx for g in good]]
    m, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX, maxIters=2000, confidence=0.995
    )
    if m is None or mask is None:
        return None
    inl = mask.ravel() > 0
    inliers = int(inl.sum())
    if inliers < MIN_INLIERS:
        return None
    spread = np.ptp(dst[inl], axis=0) / (reference.width, reference.height)
    # The general affine map through the same matches (RANSAC of its own: a squeeze or stretch leaves
    # the similarity's inliers in one part of the frame, where they fit it at a spurious turn).
    fitted, affine_mask = cv2.estimateAffine2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX, maxIters=2000, confidence=0.995
    )
    # Where it explains fewer matches than the similarity it is no evidence of its own.
    affine = None if fitted is None or affine_mask is None or int(affine_mask.sum()) < inliers else fitted
    geometry = geometry_of(
        m,
        (query.width, query.height),
        (reference.width, reference.height),
        inliers,
        mirrored=query.mirrored,
        query_points=query.points,
        affine=affine,
    )
    if spread.min() < MIN_INLIER_SPREAD or not SCALE_RANGE[0] <= geometry.scale <= SCALE_RANGE[1]:
        return None
    return FramePair(
        query.t, reference.t, m, geometry, (query.width, query.height), (reference.width, reference.height)
    )


def _signed_degrees(angles: np.ndarray) -> np.ndarray:
    """Angles in degrees brought into (-180, 180]."""
    return 180.0 - np.mod(180.0 - angles, 360.0)


def summarise(geometries: Sequence[Geometry]) -> Geometry:
    """The median geometry of a segment's verified pairs, `stable` when they agree (`STABLE_*`).

    Raises:
        ValueError: no geometry given.
    """
    if not geometries:
        raise ValueError("no verified pair")
    angles = np.array([g.angle_deg for g in geometries])
    scales = np.array([g.scale for g in geometries])
    crop = np.median(np.array([g.crop_box for g in geometries]), axis=0)
    box = np.median(np.array([g.query_box for g in geometries]), axis=0)
    # Angles on the circle: an upside-down copy fits at -179 and +179 degrees alike.
    radians = np.radians(angles)
    around = math.degrees(math.atan2(float(np.sin(radians).mean()), float(np.cos(radians).mean())))
    turns = _signed_degrees(angles - around)
    middle = float(np.median(turns))
    angle, scale = float(_signed_degrees(np.array([around + middle]))[0]), float(np.median(scales))
    stable = bool(
        np.percentile(np.abs(turns - middle), 75) <= STABLE_ANGLE_DEG
        and np.percentile(np.abs(scales / scale - 1.0), 75) <= STABLE_SCALE
    )
    stretches = [g.stretch for g in geometries if g.stretch is not None]
    return Geometry(
        round(angle, 2),
        round(scale, 3),
        _clip_box(*crop.tolist()),
        _clip_box(*box.tolist()),
        int(np.median([g.inliers for g in geometries])),
        bool(geometries[0].mirrored),
        len(geometries),
        stable,
        round(float(np.median([g.outside_share for g in geometries])), 3),
        stretch=round(float(np.median(stretches)), 3) if stretches else None,
    )


def views(
    query_images: Sequence[np.ndarray],
    query_times: Sequence[float],
    reference_images: Sequence[np.ndarray],
    pairs: Sequence[FramePair],
    *,
    long_side: int,
    unseen: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The query's frames and the reference's in one geometry, for the verify stage: float32 (N, h, w) stacks.

    Each query frame is warped into the reference's frame with the map of
    the verified pair nearest it in time (a progressive zoom changes it),
    mirrored first when the pair was; both sides are then cut to the part of
    the reference the query shows (the pairs' median crop box) and scaled to
    `long_side`. A query frame's pixels outside its own footprint (a crop
    window that slides across the frame shows another part of the box at
    each moment) are `unseen`: 0 (black, what the warp leaves), or NaN, so
    that verify can leave them out (`verify.verify_segment`).

    Raises:
        ValueError: no pair, no frame, or a crop box with no area.
    """
    import cv2  # here, not at the top: importing the records loads no OpenCV

    if not pairs or not len(query_images) or not len(reference_images):
        raise ValueError("nothing to compare")
    rh, rw = np.asarray(reference_images[0]).shape[:2]
    x0, y0, x1, y1 = np.median(np.array([p.geometry.crop_box for p in pairs]), axis=0).tolist()
    c0, c1 = int(math.floor(x0 * rw)), int(math.ceil(x1 * rw))
    r0, r1 = int(math.floor(y0 * rh)), int(math.ceil(y1 * rh))
    if c1 - c0 < 4 or r1 - r0 < 4:
        raise ValueError("the query shows too little of the reference")
    scale = long_side / max(c1 - c0, r1 - r0)
    size = (max(8, int(round((c1 - c0) * scale))), max(8, int(round((r1 - r0) * scale))))
    pair_times = np.array([p.query_t for p in pairs])
    q_out, r_out = [], []
    for image, t in zip(query_images, query_times, strict=True):
        pair = pairs[int(np.argmin(np.abs(pair_times - float(t))))]
        frame = np.asarray(image)
        if pair.geometry.mirrored:
            frame = frame[:, ::-1]
        qh, qw = frame.shape[:2]
        (dw, dh), (sw, sh) = pair.query_size, pair.reference_size
        to_described = np.diag([dw / qw, dh / qh, 1.0])
        to_image = np.diag([rw / sw, rh / sh, 1.0])
        m = to_image @ np.vstack([pair.matrix.astype(np.float64), [0.0, 0.0, 1.0]]) @ to_described
        warped = cv2.warpAffine(np.ascontiguousarray(frame), m[:2], (rw, rh), flags=cv2.INTER_LINEAR)
        view = cv2.resize(warped[r0:r1, c0:c1], size, interpolation=cv2.INTER_AREA).astype(np.float32)
        if unseen != 0.0:
            shown = cv2.warpAffine(np.ones((qh, qw), np.float32), m[:2], (rw, rh), flags=cv2.INTER_LINEAR)
            view[cv2.resize(shown[r0:r1, c0:c1], size, interpolation=cv2.INTER_AREA) < SHOWN_SHARE] = unseen
        q_out.append(view)
    for image in reference_images:
        r_out.append(
            cv2.resize(np.ascontiguousarray(np.asarray(image)[r0:r1, c0:c1]), size, interpolation=cv2.INTER_AREA)
        )
    return uncovered(np.stack(q_out).astype(np.float32), np.stack(r_out).astype(np.float32))


def covers(q_view: np.ndarray, r_view: np.ndarray) -> np.ndarray:
    """The pixels a still cover hides (a sticker, a badge, an opaque caption box): (h, w) bool.

    A pixel is covered when the clip holds it still (its standard deviation over
    the clip's frames under `COVER_STILL` grey levels) at a value far from the
    reference's there (`COVER_DIFF` from its median over the window): the clip
    shows something else at that place the whole time. Another moment of a fixed
    camera shows the same still background there, so it is not masked.
    """
    if len(q_view) < 2 or len(r_view) == 0:
        return np.zeros(q_view.shape[1:], dtype=bool)
    seen = np.isfinite(q_view)
    if seen.all():
        still = q_view.std(axis=0) < COVER_STILL
        other = np.abs(q_view.mean(axis=0) - np.median(r_view, axis=0)) > COVER_DIFF
    else:  # a pixel is judged on the frames that show it, and only where every frame does
        shown = np.where(seen, q_view, 0.0)
        count = np.maximum(1, seen.sum(axis=0))
        mean = shown.sum(axis=0) / count
        std = np.sqrt(np.maximum(0.0, (shown**2).sum(axis=0) / count - mean**2))
        still = (std < COVER_STILL) & seen.all(axis=0)
        other = np.abs(mean - np.median(r_view, axis=0)) > COVER_DIFF
    mask = still & other
    if not COVER_SHARE[0] <= mask.mean() <= COVER_SHARE[1]:
        return np.zeros(q_view.shape[1:], dtype=bool)
    return mask


def uncovered(q_view: np.ndarray, r_view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both views with the clip's still covers (`covers`) blanked on both sides, so verify compares
    only what the clip shows of the footage (the blanked pixels no longer change in the reference)."""
    mask = covers(q_view, r_view)
    if mask.any():
        q_view, r_view = q_view.copy(), r_view.copy()
        q_view[:, mask] = 0.0
        r_view[:, mask] = 0.0
    return q_view, r_view
