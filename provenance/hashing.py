"""Stage 4, hashing: perceptual hashes of sampled frames, a whole batch at a time.

The pHash here is bit-identical to ``imagehash.phash`` on the same 32x32 grey
input (the tests keep imagehash as the oracle) but runs as two matrix
products over the batch. Because the DCT is linear, the hash of the mirrored
frame comes from the same coefficients: a horizontal flip negates the
odd-column coefficients, so no second decode or DCT is needed::

    >>> hashes = phash_batch(frames32)                  # (N,) uint64
    >>> mirrored = phash_batch(frames32, mirror=True)   # same as hashing np.fliplr
    >>> Hash.from_int(int(hashes[0])) - Hash.from_int(int(mirrored[0]))

Hashes cross module boundaries as tagged values (`Hash`: algorithm, bits,
value) or as uint64 arrays whose algorithm is recorded by the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: The one hash family stored today; an index refuses hashes of another.
ALGORITHM = "phash64"
HASH_BITS = 64
#: Side of the grey square the DCT runs on (imagehash: hash_size * highfreq_factor).
DCT_SIZE = 32
LOW = 8

#: Variant codes stored with each hash. Queries look up every variant.
VARIANT_FULL = 0
VARIANT_MIRROR = 1
VARIANTS = {VARIANT_FULL: "full", VARIANT_MIRROR: "mirror"}

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
_PACK_SHIFTS = np.arange(HASH_BITS - 1, -1, -1, dtype=np.uint64)


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


def hashes_from_low(low: np.ndarray, *, mirror: bool = False) -> np.ndarray:
    """pHash bits from low-frequency blocks: coefficient above the block's median."""
    if mirror:
        low = low * _MIRROR_SIGN
    flat = low.reshape(len(low), -1)
    med = np.median(flat, axis=1, keepdims=True)
    return pack_bits(flat > med)


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


def hash_frames(times: np.ndarray, images: np.ndarray, *, variants: tuple[int, ...] = (VARIANT_FULL,)) -> FrameHashes:
    """Hash sampled frames, skipping featureless ones, in each requested variant.

    Args:
        times: (N,) sample times in seconds.
        images: (N, H, W) grey frames.
        variants: which variants to compute (`VARIANT_FULL`, `VARIANT_MIRROR`).

    Returns:
        `FrameHashes` with one row per informative frame and variant.
    """
    squares = to_squares(images)
    keep = informative(squares)
    low = low_frequencies(squares[keep]) if keep.any() else np.zeros((0, LOW, LOW))
    kept_times = np.asarray(times, dtype=np.float64)[keep]
    parts_t, parts_v, parts_h = [], [], []
    for variant in variants:
        parts_t.append(kept_times)
        parts_v.append(np.full(len(kept_times), variant, dtype=np.int8))
        parts_h.append(hashes_from_low(low, mirror=variant == VARIANT_MIRROR) if len(low) else np.zeros(0, np.uint64))
    return FrameHashes(
        times=np.concatenate(parts_t) if parts_t else np.zeros(0),
        variants=np.concatenate(parts_v) if parts_v else np.zeros(0, np.int8),
        hashes=np.concatenate(parts_h) if parts_h else np.zeros(0, np.uint64),
    )
