"""Stage hashing: golden values, the imagehash oracle, mirrors, and perceptual claims."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import imagehash
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from provenance.decode import extract_frames
from provenance.hashing import (
    ALGORITHM,
    DCT_SIZE,
    HASH_BITS,
    MIN_FRAME_STD,
    OP_MIRROR,
    OP_NONE,
    QUERY_OPS,
    REGION_BOX,
    REGION_FULL,
    REGION_INNER,
    VARIANT_FULL,
    VARIANT_MIRROR,
    Hash,
    hamming,
    hash_frames,
    hash_query,
    informative,
    phash_batch,
    to_squares,
    variant,
)
from provenance.match import FRAME_MATCH_DISTANCE

_YY, _XX = np.mgrid[0:DCT_SIZE, 0:DCT_SIZE]

#: Fixed 32x32 inputs and their pHash (imagehash.phash gives the same hex).
#: The ramp, checkerboard and box are symmetric: most of their DCT
#: coefficients tie with the median in exact arithmetic.
GOLDEN = {
    "ramp": ((3 * _YY + 5 * _XX).astype(np.uint8), "8000000000000000", "d500000000000000"),
    "rings": (
        (128 + 100 * np.sin(np.hypot(_YY - 12, _XX - 20) / 2.5)).astype(np.uint8),
        "f87ce3628d650d83",
        "ad293737d03158d6",
    ),
    "noise": (
        np.random.default_rng(0).integers(0, 256, (DCT_SIZE, DCT_SIZE)).astype(np.uint8),
        "949b3e1a2d9f3702",
        "c1cc6b4d78ca6257",
    ),
    "checkerboard": (
        (((_YY // 4) + (_XX // 4)) % 2 * 200 + 20).astype(np.uint8),
        "8000000000000000",
        "8055005500550055",
    ),
    "box": (np.pad(np.full((16, 16), 200, np.uint8), 8), "8200200000008200", "8200200000008200"),
}


def oracle(square: np.ndarray) -> str:
    """imagehash's pHash of one 32x32 grey square (its resize to 32x32 is then a copy)."""
    return str(imagehash.phash(Image.fromarray(square)))


def hex_of(values: np.ndarray) -> list[str]:
    return [f"{int(v):016x}" for v in values]


def smooth_squares(n: int, seed: int) -> np.ndarray:
    """Random smooth images: small random grids upscaled, like blurred natural frames."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        grid = rng.integers(0, 256, (int(rng.integers(2, 10)), int(rng.integers(2, 10)))).astype(np.uint8)
        out.append(cv2.resize(grid, (DCT_SIZE, DCT_SIZE), interpolation=cv2.INTER_CUBIC))
    return np.stack(out)


@pytest.fixture(scope="module")
def real_squares(sample_refs: Path, viral_clip: Path) -> np.ndarray:
    """32x32 squares of real frames: every sample reference and the viral clip at 2 frames/s."""
    parts = []
    for clip in [*sorted(sample_refs.glob("*.mp4")), viral_clip]:
        frames = extract_frames(clip, fps=2.0)
        parts.append(to_squares(frames.images))
    return np.concatenate(parts)


@pytest.fixture(scope="module")
def street_frame(sample_refs: Path) -> np.ndarray:
    """A full-size grey frame of refs/street_cyclists.mp4 at 5 s (traffic, a taxi, textured)."""
    from provenance.decode import grab_frame
    from provenance.probe import probe

    path = sample_refs / "street_cyclists.mp4"
    rgb = grab_frame(path, 5.0, facts=probe(path), long_side=640)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def phash_of(image: np.ndarray) -> Hash:
    return Hash.from_int(int(phash_batch(to_squares(image[None]))[0]))


# -- golden values and the imagehash oracle ---------------------------------------------


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_hashes(name: str) -> None:
    square, expected, expected_mirror = GOLDEN[name]
    assert hex_of(phash_batch(square[None])) == [expected]
    assert hex_of(phash_batch(square[None], mirror=True)) == [expected_mirror]
    assert oracle(square) == expected


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_mirror_is_the_hash_of_the_flipped_image(name: str) -> None:
    square, _, expected_mirror = GOLDEN[name]
    assert oracle(np.ascontiguousarray(np.fliplr(square))) == expected_mirror


def test_bit_identical_to_imagehash_on_random_smooth_images() -> None:
    squares = smooth_squares(1500, seed=1)
    assert hex_of(phash_batch(squares)) == [oracle(s) for s in squares]


def test_bit_identical_to_imagehash_on_noise() -> None:
    squares = np.random.default_rng(2).integers(0, 256, (500, DCT_SIZE, DCT_SIZE)).astype(np.uint8)
    assert hex_of(phash_batch(squares)) == [oracle(s) for s in squares]


def test_bit_identical_to_imagehash_on_real_frames(real_squares: np.ndarray) -> None:
    assert len(real_squares) > 60
    assert hex_of(phash_batch(real_squares)) == [oracle(s) for s in real_squares]


def test_mirror_variant_equals_hashing_the_flipped_frames(real_squares: np.ndarray) -> None:
    squares = np.concatenate([real_squares, smooth_squares(300, seed=3), *(g[0][None] for g in GOLDEN.values())])
    flipped = np.ascontiguousarray(squares[:, :, ::-1])
    assert np.array_equal(phash_batch(squares, mirror=True), phash_batch(flipped))


def test_empty_batch_and_bad_shapes() -> None:
    assert phash_batch(np.zeros((0, DCT_SIZE, DCT_SIZE), np.uint8)).shape == (0,)
    with pytest.raises(ValueError, match="32"):
        phash_batch(np.zeros((2, 16, 16), np.uint8))


# -- the Hash value type --------------------------------------------------------------------

uint64s = st.integers(min_value=0, max_value=2**64 - 1)


@settings(deadline=None)
@given(uint64s)
def test_hash_round_trips_through_hex(value: int) -> None:
    h = Hash.from_int(value)
    assert len(h.hex) == HASH_BITS // 4
    assert Hash.from_hex(h.hex) == h
    assert Hash.from_hex(str(h)) == h
    assert Hash.from_dict(h.to_dict()) == h
    assert h.to_dict() == {"algorithm": ALGORITHM, "bits": HASH_BITS, "hex": h.hex}


@settings(deadline=None)
@given(uint64s, uint64s, uint64s)
def test_hash_difference_is_hamming_distance(a: int, b: int, c: int) -> None:
    ha, hb, hc = Hash.from_int(a), Hash.from_int(b), Hash.from_int(c)
    assert ha - hb == bin(a ^ b).count("1") == hb - ha
    assert ha - ha == 0
    assert ha - hc <= (ha - hb) + (hb - hc)
    arr = hamming(np.array([a], np.uint64), np.array([b], np.uint64))
    assert int(arr[0]) == ha - hb


def test_hashes_of_different_algorithms_do_not_compare() -> None:
    with pytest.raises(TypeError, match="pdq"):
        _ = Hash.from_int(1) - Hash("pdq", 256, 1)


def test_from_int_masks_to_the_bit_size() -> None:
    assert Hash.from_int(2**64 + 5).value == 5
    assert Hash.from_int(-1).hex == "f" * 16


# -- perceptual claims ------------------------------------------------------------------------


def test_jpeg_recompression_stays_close(street_frame: np.ndarray) -> None:
    buf = io.BytesIO()
    Image.fromarray(street_frame).save(buf, "JPEG", quality=20)
    recompressed = np.asarray(Image.open(buf).convert("L"))
    assert phash_of(street_frame) - phash_of(recompressed) <= 4


def test_downscale_to_a_third_stays_close(street_frame: np.ndarray) -> None:
    h, w = street_frame.shape
    small = cv2.resize(street_frame, (w // 3, h // 3), interpolation=cv2.INTER_AREA)
    assert phash_of(street_frame) - phash_of(small) <= 4


def test_blur_and_brightness_stay_close(street_frame: np.ndarray) -> None:
    blurred = cv2.GaussianBlur(street_frame, (5, 5), 1.5)
    brighter = np.clip(street_frame.astype(np.int16) + 25, 0, 255).astype(np.uint8)
    assert phash_of(street_frame) - phash_of(blurred) <= 4
    assert phash_of(street_frame) - phash_of(brighter) <= 4


def test_mirror_is_far_unless_the_mirror_variant_is_used(street_frame: np.ndarray) -> None:
    flipped = np.ascontiguousarray(np.fliplr(street_frame))
    assert phash_of(street_frame) - phash_of(flipped) > FRAME_MATCH_DISTANCE
    mirror = Hash.from_int(int(phash_batch(to_squares(flipped[None]), mirror=True)[0]))
    assert phash_of(street_frame) - mirror == 0


def test_unrelated_frames_are_far(real_squares: np.ndarray, street_frame: np.ndarray) -> None:
    # Frames of the other sample references: none is within the matcher's frame distance.
    from provenance.decode import grab_frame
    from provenance.probe import probe

    here = phash_of(street_frame)
    for name in ("animated_dinner", "tree_window", "storm_road_panzoom"):
        path = Path(__file__).resolve().parent.parent / "samples" / "refs" / f"{name}.mp4"
        other = cv2.cvtColor(grab_frame(path, 5.0, facts=probe(path), long_side=640), cv2.COLOR_RGB2GRAY)
        assert here - phash_of(other) > FRAME_MATCH_DISTANCE + 8, name


def test_random_pairs_sit_near_half_the_bits() -> None:
    squares = smooth_squares(400, seed=4)
    hashes = phash_batch(squares)
    d = hamming(hashes[:200], hashes[200:])
    assert 26 <= float(d.mean()) <= 38
    assert int((d <= FRAME_MATCH_DISTANCE).sum()) <= 4


# -- hashing sampled frames ---------------------------------------------------------------------


def test_flat_frames_are_not_hashed() -> None:
    flat = np.full((3, 72, 128), 40, np.uint8)
    textured = np.stack([cv2.resize(s, (128, 72)) for s in smooth_squares(2, seed=5)])
    images = np.concatenate([flat[:1], textured[:1], flat[1:2], textured[1:]])
    mask = informative(to_squares(images))
    assert mask.tolist() == [False, True, False, True]
    fh = hash_frames(np.array([0.0, 0.25, 0.5, 0.75]), images, variants=(VARIANT_FULL, VARIANT_MIRROR))
    assert sorted(set(fh.times.tolist())) == [0.25, 0.75]
    assert len(fh.select(VARIANT_FULL)) == 2 and len(fh.select(VARIANT_MIRROR)) == 2
    assert fh.algorithm == ALGORITHM
    assert MIN_FRAME_STD > 0


def test_hash_frames_matches_phash_of_the_squares() -> None:
    images = np.stack([cv2.resize(s, (128, 72)) for s in smooth_squares(6, seed=6)])
    fh = hash_frames(np.arange(6) * 0.5, images, variants=(VARIANT_FULL,))
    assert np.array_equal(fh.hashes, phash_batch(to_squares(images)))
    assert fh.times.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def test_hash_frames_of_nothing() -> None:
    fh = hash_frames(np.zeros(0), np.zeros((0, 72, 128), np.uint8))
    assert len(fh) == 0


def test_query_hashes_take_the_layout_as_given() -> None:
    # hash_query looks for no layout itself: the regions it hashes are the ones it is handed.
    images = np.stack([cv2.resize(s, (128, 72)) for s in smooth_squares(4, seed=7)])
    times = np.arange(4) * 0.25
    plain = hash_query(times, images, None, None)
    assert sorted({int(v) for v in plain.variants}) == [variant(REGION_FULL, op) for op in QUERY_OPS]
    box, inner = (0.0, 0.25, 1.0, 0.75), (0.5, 0.0, 1.0, 0.5)
    both = hash_query(times, images, box, inner)
    expected = [variant(r, op) for r in (REGION_FULL, REGION_BOX) for op in QUERY_OPS]
    expected += [variant(REGION_INNER, OP_NONE), variant(REGION_INNER, OP_MIRROR)]
    assert sorted({int(v) for v in both.variants}) == sorted(expected)
    assert np.array_equal(both.select(VARIANT_FULL).hashes, plain.select(VARIANT_FULL).hashes)
    boxed = hash_frames(times, images, variants=(variant(REGION_BOX, OP_NONE),), box=box)
    assert np.array_equal(both.select(variant(REGION_BOX, OP_NONE)).hashes, boxed.hashes)
