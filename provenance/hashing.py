"""Stage hashing: perceptual hashes of sampled frames, a whole batch at a time.

The pHash here is bit-identical to ``imagehash.phash`` on the same 32x32 grey
input (the tests keep imagehash as the oracle) but runs as two matrix
products over the batch. Because the DCT is linear, the hash of the mirrored
frame comes from the same coefficients: a horizontal flip negates the
odd-column coefficients, so no second decode or DCT is needed::

    >>> hashes = phash_batch(frames32)                  # (N,) uint64
    >>> mirrored = phash_batch(frames32, mirror=True)   # same as hashing np.fliplr
    >>> Hash.from_int(int(hashes[0])) - Hash.from_int(int(mirrored[0]))

Hashes cross module boundaries as tagged values (`Hash`: algorithm, bits,
value) or as uint64 arrays whose algorithm is recorded by the index. Region
hashes (a query's content box, its inner rectangle) crop to rectangles the
layout stage found (`layout.find_layout`); hashing takes them as input and
never looks for them itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: The one hash family stored today; an index refuses hashes of another.
ALGORITHM = "phash64"
#: Bits of a hash: the 8x8 low-frequency block, one bit per coefficient (imagehash).
HASH_BITS = 64
#: Side of the grey square the DCT runs on (imagehash: hash_size * highfreq_factor).
DCT_SIZE = 32
#: Side of the low-frequency DCT block kept (imagehash: hash_size).
LOW = 8

#: A variant code is REGION * 8 + OP: the part of the frame hashed and the
#: dihedral operation applied first, named by what it undoes in the query
#: (a query matching through OP_CCW was turned 90 deg clockwise).
OP_NONE, OP_MIRROR, OP_CCW, OP_CW, OP_CCW_MIRROR, OP_CW_MIRROR = range(6)
#: Each operation's name, as a match's `query_variant` and the diagnosis give it.
OPS = {
    OP_NONE: "none",
    OP_MIRROR: "mirror",
    OP_CCW: "rotate_ccw",
    OP_CW: "rotate_cw",
    OP_CCW_MIRROR: "rotate_ccw_mirror",
    OP_CW_MIRROR: "rotate_cw_mirror",
}
#: Regions: the whole frame; the query's content box (padding and letterbox
#: removed); centred crops of the reference keeping 85%, 72% and 61% of each
#: side (a query cropped to 60-85% falls within ~8% of one of them).
REGION_FULL, REGION_BOX, REGION_C85, REGION_C72, REGION_C61, REGION_INNER = range(6)
#: Each region's name, as a match's `query_variant` and `reference_variant` give it.
REGIONS = {
    REGION_FULL: "full",
    REGION_BOX: "content_box",
    REGION_C85: "centre_85",
    REGION_C72: "centre_72",
    REGION_C61: "centre_61",
    REGION_INNER: "inner_rectangle",
}
#: Share of each side a centred-crop region keeps.
CENTRE_KEEP = {REGION_C85: 0.85, REGION_C72: 0.72, REGION_C61: 0.61}


def variant(region: int, op: int) -> int:
    """The variant code of a region and a dihedral operation."""
    return region * 8 + op


def variant_parts(code: int) -> tuple[int, int]:
    """(region, op) of a variant code."""
    return int(code) // 8, int(code) % 8


#: The whole frame as it is: the variant every informative frame has.
VARIANT_FULL = variant(REGION_FULL, OP_NONE)
#: The whole frame mirrored left to right.
VARIANT_MIRROR = variant(REGION_FULL, OP_MIRROR)
#: Variants stored for every reference frame.
REFERENCE_VARIANTS = (
    VARIANT_FULL,
    variant(REGION_C85, OP_NONE),
    variant(REGION_C72, OP_NONE),
    variant(REGION_C61, OP_NONE),
)
#: Operations tried on every query region.
QUERY_OPS = (OP_NONE, OP_MIRROR, OP_CCW, OP_CW, OP_CCW_MIRROR, OP_CW_MIRROR)

#: A frame whose 32x32 grey standard deviation is below this carries too little
#: texture for its hash to mean anything (black, flat title cards): it is
#: neither indexed nor looked up.
MIN_FRAME_STD = 4.0


@dataclass(frozen=True, order=True)
class Hash:
    """A tagged perceptual hash; ``a - b`` is the Hamming distance."""

    algorithm: str
    bits: int
    value: int

    @classmethod
    def from_int(cls, value: int, algorithm: str = ALGORITHM, bits: int = HASH_BITS) -> Hash:
        return cls(algorithm, bits, int(value) & ((1 << bits) - 1))

    @classmethod
    def from_hex(cls, text: str, algorithm: str = ALGORITHM) -> Hash:
        bits = len(text) * 4
        return cls(algorithm, bits, int(text, 16))

    @property
    def hex(self) -> str:
        return f"{self.value:0{self.bits // 4}x}"

    def __str__(self) -> str:
        return self.hex

    def __sub__(self, other: Hash) -> int:
        if (self.algorithm, self.bits) != (other.algorithm, other.bits):
            raise TypeError(f"cannot compare {self.algorithm}/{self.bits} with {other.algorithm}/{other.bits}")
        return (self.value ^ other.value).bit_count()

    def to_dict(self) -> dict[str, object]:
        return {"algorithm": self.algorithm, "bits": self.bits, "hex": self.hex}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Hash:
        return cls.from_hex(str(data["hex"]), str(data["algorithm"]))


@lru_cache(maxsize=4)
def _dct_rows(n: int = DCT_SIZE, k: int = LOW) -> np.ndarray:
    """The first k rows of scipy.fftpack's unnormalised DCT-II matrix of size n."""
    i = np.arange(k)[:, None]
    j = np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * i * (2 * j + 1) / (2 * n))


_MIRROR_SIGN = np.where(np.arange(LOW) % 2 == 1, -1.0, 1.0)[None, None, :]
_FLIP_ROWS_SIGN = np.where(np.arange(LOW) % 2 == 1, -1.0, 1.0)[None, :, None]


def apply_op(low: np.ndarray, op: int) -> np.ndarray:
    """The low-frequency block of each square after a dihedral operation.

    Because the DCT is separable and linear, flipping a square's columns
    negates its odd-column coefficients and transposing it transposes them
    (DESIGN.md, "Hashing and layout"), so mirrored and rotated hashes need no new DCT.
    """
    if op == OP_NONE:
        return low
    if op == OP_MIRROR:  # x[:, ::-1]
        return low * _MIRROR_SIGN
    t = np.transpose(low, (0, 2, 1))
    if op == OP_CCW:  # np.rot90(x) == x.T[::-1, :]
        return t * _FLIP_ROWS_SIGN
    if op == OP_CW:  # np.rot90(x, -1) == x.T[:, ::-1]
        return t * _MIRROR_SIGN
    if op == OP_CCW_MIRROR:  # np.rot90(x)[:, ::-1]
        return t * _FLIP_ROWS_SIGN * _MIRROR_SIGN
    if op == OP_CW_MIRROR:  # np.rot90(x, -1)[:, ::-1] == x.T
        return t
    raise ValueError(f"unknown operation {op}")


_PACK_SHIFTS = np.arange(HASH_BITS - 1, -1, -1, dtype=np.uint64)
#: Relative size below which a coefficient's difference from the median is round-off.
TIE_TOLERANCE = 1e-9
#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`); the
#: hash's definition (`HASH_BITS`, `DCT_SIZE`, `LOW`) and the stored crops (`CENTRE_KEEP`) are not thresholds.
THRESHOLDS: dict[str, float] = {"min_frame_std": MIN_FRAME_STD, "tie_tolerance": TIE_TOLERANCE}


def low_frequencies(squares: np.ndarray) -> np.ndarray:
    """The 8x8 low-frequency DCT block of each 32x32 grey square, shape (N, 8, 8)."""
    if squares.ndim != 3 or squares.shape[1:] != (DCT_SIZE, DCT_SIZE):
        raise ValueError(f"expected (N, {DCT_SIZE}, {DCT_SIZE}) arrays, got {squares.shape}")
    d = _dct_rows()
    x = squares.astype(np.float64)
    return np.matmul(np.matmul(d, x), d.T)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """(N, 64) booleans, first element most significant, to (N,) uint64."""
    return (bits.astype(np.uint64) << _PACK_SHIFTS).sum(axis=1, dtype=np.uint64)


def hashes_from_low(low: np.ndarray, *, mirror: bool = False, op: int = OP_NONE) -> np.ndarray:
    """pHash bits from low-frequency blocks: coefficient above the block's median."""
    low = apply_op(low, OP_MIRROR if mirror else op)
    flat = low.reshape(len(low), -1)
    med = np.median(flat, axis=1, keepdims=True)
    # Coefficients that tie with the median in exact arithmetic (symmetric or
    # blocky frames) differ from it only by matrix-product round-off; count
    # them as "not above", as imagehash's FFT-based DCT does.
    tol = TIE_TOLERANCE * np.abs(flat).max(axis=1, keepdims=True)
    return pack_bits(flat > med + tol)


def phash_batch(squares: np.ndarray, *, mirror: bool = False) -> np.ndarray:
    """pHash of each 32x32 grey square, as uint64 (imagehash bit order).

    Args:
        squares: (N, 32, 32) uint8 grey images.
        mirror: hash the horizontally mirrored images instead (from the same DCT).

    Returns:
        (N,) uint64 hashes; ``f"{h:016x}"`` equals ``str(imagehash.phash(img))``.
    """
    if len(squares) == 0:
        return np.zeros(0, dtype=np.uint64)
    return hashes_from_low(low_frequencies(squares), mirror=mirror)


def to_squares(images: np.ndarray) -> np.ndarray:
    """Resize (N, H, W) grey frames to (N, 32, 32) with area averaging."""
    import cv2

    if len(images) == 0:
        return np.zeros((0, DCT_SIZE, DCT_SIZE), dtype=np.uint8)
    return np.stack([cv2.resize(img, (DCT_SIZE, DCT_SIZE), interpolation=cv2.INTER_AREA) for img in images])


def informative(squares: np.ndarray) -> np.ndarray:
    """Boolean mask of frames with enough texture to hash meaningfully."""
    if len(squares) == 0:
        return np.zeros(0, dtype=bool)
    return squares.reshape(len(squares), -1).std(axis=1) >= MIN_FRAME_STD


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise Hamming distance of two uint64 arrays (broadcasting)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.int16)


@dataclass(frozen=True)
class FrameHashes:
    """Hashes of sampled frames: per row a time (s), a variant code and a uint64 hash."""

    times: np.ndarray
    variants: np.ndarray
    hashes: np.ndarray
    algorithm: str = ALGORITHM

    def __len__(self) -> int:
        return len(self.hashes)

    def select(self, variant: int) -> FrameHashes:
        keep = self.variants == variant
        return FrameHashes(self.times[keep], self.variants[keep], self.hashes[keep], self.algorithm)


#: A rectangle of the frame as fractions (x0, y0, x1, y1): a region hashed.
Rect = tuple[float, float, float, float]


def area(r: Rect) -> float:
    """The area of a rectangle (x0, y0, x1, y1), 0 when it is empty."""
    return max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])


def overlap_area(a: Rect, b: Rect) -> float:
    """The area two rectangles share."""
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def crop(images: np.ndarray, box: Rect) -> np.ndarray:
    """The part `box` (fractions of width and height) of each frame of an (N, H, W) stack, at least 2x2 pixels."""
    h, w = images.shape[1:]
    x0, y0 = int(round(box[0] * w)), int(round(box[1] * h))
    x1, y1 = max(x0 + 2, int(round(box[2] * w))), max(y0 + 2, int(round(box[3] * h)))
    return images[:, y0:y1, x0:x1]


def centre(keep: float) -> Rect:
    """The centred rectangle keeping `keep` of each side, as fractions."""
    m = (1.0 - keep) / 2
    return (m, m, 1.0 - m, 1.0 - m)


def hash_frames(
    times: np.ndarray,
    images: np.ndarray,
    *,
    variants: tuple[int, ...] = (VARIANT_FULL,),
    box: Rect | None = None,
    inner: Rect | None = None,
) -> FrameHashes:
    """Hash sampled frames, skipping featureless ones, in each requested variant.

    Args:
        times: (N,) sample times in seconds.
        images: (N, H, W) grey frames.
        variants: variant codes (`variant(region, op)`) to compute.
        box: the content box for `REGION_BOX` variants (skipped when None).
        inner: the inner rectangle for `REGION_INNER` variants (skipped when None).

    Returns:
        `FrameHashes` with one row per informative frame and variant. A frame
        is informative when its whole-frame square has texture
        (`MIN_FRAME_STD`); all its variants are then kept.
    """
    times = np.asarray(times, dtype=np.float64)
    full = to_squares(images)
    keep = informative(full)
    kept_times = times[keep]
    lows: dict[int, np.ndarray] = {}
    parts_t, parts_v, parts_h = [], [], []
    for code in variants:
        region, op = variant_parts(code)
        if region not in lows:
            if region == REGION_FULL:
                squares = full[keep]
            elif region in (REGION_BOX, REGION_INNER):
                rect = box if region == REGION_BOX else inner
                if rect is None:
                    continue
                squares = to_squares(crop(images[keep], rect))
            else:
                squares = to_squares(crop(images[keep], centre(CENTRE_KEEP[region])))
            lows[region] = low_frequencies(squares) if len(squares) else np.zeros((0, LOW, LOW))
        low = lows[region]
        parts_t.append(kept_times)
        parts_v.append(np.full(len(kept_times), code, dtype=np.int8))
        parts_h.append(hashes_from_low(low, op=op) if len(low) else np.zeros(0, np.uint64))
    if not parts_t:
        return FrameHashes(np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.uint64))
    return FrameHashes(np.concatenate(parts_t), np.concatenate(parts_v), np.concatenate(parts_h))


def hash_reference(times: np.ndarray, images: np.ndarray) -> FrameHashes:
    """The hashes stored for a reference: the whole frame and three centred crops."""
    return hash_frames(times, images, variants=REFERENCE_VARIANTS)


def hash_query(times: np.ndarray, images: np.ndarray, box: Rect | None, inner: Rect | None) -> FrameHashes:
    """The hashes looked up for a query: every dihedral operation of the whole
    frame and of its content box (when padding was found), and the inner
    rectangle (when one was found), plain and mirrored.

    Args:
        times: (N,) sample times in seconds.
        images: (N, H, W) grey frames.
        box: the query's content box (`layout.Layout.content_box`), or None.
        inner: the query's inner rectangle (`layout.Layout.inner_rect`), or None.

    Returns:
        The `FrameHashes` of every variant looked up.
    """
    regions = (REGION_FULL, REGION_BOX) if box is not None else (REGION_FULL,)
    codes = [variant(r, op) for r in regions for op in QUERY_OPS]
    if inner is not None:
        codes += [variant(REGION_INNER, OP_NONE), variant(REGION_INNER, OP_MIRROR)]
    return hash_frames(times, images, variants=tuple(codes), box=box, inner=inner)
