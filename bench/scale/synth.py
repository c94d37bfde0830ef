"""Synthetic pHash frame hashes with the statistics of real footage, made fast.

A pHash is the sign pattern of an 8x8 block of low-frequency DCT coefficients
against the block's median, so its bits are neither uniform nor independent:
the DC bit is nearly always set and neighbouring frequencies are correlated.
We fit a Gaussian to the (median-centred, unit-scaled) coefficient vectors of
every informative frame of the real corpus (bench/data and samples/refs), then
draw references as sequences of shots: each shot has a base vector drawn from
that Gaussian and its frames drift around it (noise scale fitted so that the
Hamming distance between consecutive frames at 2 frames/s matches the
corpus). Hashing the draws with the library's own `hashes_from_low` gives
hashes whose bit balance, chunk-value frequencies and temporal runs look like
real ones (compare with ``--check``).

    python bench/scale/synth.py --fit      # writes bench/scale/model.npz (+ real hashes)
    python bench/scale/synth.py --check    # real vs synthetic statistics
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from provenance.hashing import LOW, hashes_from_low, informative, low_frequencies, to_squares  # noqa: E402

MODEL = Path(__file__).with_name("model.npz")
#: Frames per second of stored reference hashes (provenance.ingest.REF_FPS).
REF_FPS = 2.0
#: Mean shot length, seconds (typical of edited news and documentary footage).
MEAN_SHOT_S = 5.0
#: Mean synthetic reference length, seconds (lognormal spread around it).
MEAN_REF_S = 300.0


def corpus_files() -> list[Path]:
    data = ROOT / "bench" / "data"
    files = sorted((data / "items").glob("*.mp4")) + sorted((data / "queries").glob("*.mp4"))
    files += sorted((ROOT / "samples" / "refs").glob("*.mp4"))
    return files


@dataclass(frozen=True)
class Model:
    mean: np.ndarray  # (64,)
    chol: np.ndarray  # (64, 64)
    drift: float  # per-frame noise scale, in units of the normalised coefficients
    consecutive_median: float  # real median Hamming distance between consecutive frames

    def save(self, path: Path = MODEL) -> None:
        np.savez(path, mean=self.mean, chol=self.chol, drift=self.drift, consecutive_median=self.consecutive_median)

    @classmethod
    def load(cls, path: Path = MODEL) -> Model:
        z = np.load(path)
        return cls(z["mean"], z["chol"], float(z["drift"]), float(z["consecutive_median"]))


def _normalise(v: np.ndarray) -> np.ndarray:
    v = v - np.median(v, axis=1, keepdims=True)
    return v / np.maximum(v.std(axis=1, keepdims=True), 1e-9)


def real_sequences() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(file, times, normalised (N, 64) low-frequency vectors) of each corpus file at REF_FPS."""
    from provenance.decode import extract_frames

    out = []
    for path in corpus_files():
        fr = extract_frames(path, fps=REF_FPS)
        sq = to_squares(fr.images)
        keep = informative(sq)
        if keep.sum() < 2:
            continue
        low = low_frequencies(sq[keep]).reshape(-1, LOW * LOW)
        out.append((str(path.relative_to(ROOT)), fr.times[keep], _normalise(low)))
    return out


def _hashes(v: np.ndarray) -> np.ndarray:
    return hashes_from_low(v.reshape(-1, LOW, LOW))


def _consecutive_median(hashes: list[np.ndarray]) -> float:
    d = np.concatenate([np.bitwise_count(h[1:] ^ h[:-1]) for h in hashes if len(h) > 1])
    return float(np.median(d))


def fit() -> Model:
    seqs = real_sequences()
    allv = np.concatenate([v for _, _, v in seqs])
    mean = allv.mean(axis=0)
    cov = np.cov(allv, rowvar=False) + 1e-6 * np.eye(LOW * LOW)
    chol = np.linalg.cholesky(cov)
    real_med = _consecutive_median([_hashes(v) for _, _, v in seqs])
    # Pick the drift whose synthetic consecutive-frame distance matches the corpus.
    rng = np.random.default_rng(0)
    best = (1e9, 0.1)
    for drift in np.geomspace(0.02, 1.0, 24):
        m = Model(mean, chol, float(drift), real_med)
        hs = [h for h, _ in _shots(m, rng, 4000)]
        gap = abs(_consecutive_median(hs) - real_med)
        if gap < best[0]:
            best = (gap, float(drift))
    model = Model(mean, chol, best[1], real_med)
    model.save()
    real = np.concatenate([_hashes(v) for _, _, v in seqs])
    np.save(MODEL.with_name("real_hashes.npy"), real)
    print(
        f"fitted on {len(allv)} real frames from {len(seqs)} files; drift {best[1]:.3f}, consecutive median {real_med}"
    )
    return model


def _shots(model: Model, rng: np.random.Generator, frames: int) -> Iterator[tuple[np.ndarray, int]]:
    """Hashes of consecutive shots adding up to `frames` frames: (hashes, length)."""
    made = 0
    while made < frames:
        n = min(frames - made, max(1, int(rng.exponential(MEAN_SHOT_S * REF_FPS))))
        base = model.mean + rng.standard_normal(LOW * LOW) @ model.chol.T
        walk = np.cumsum(rng.standard_normal((n, LOW * LOW)), axis=0) * (model.drift / np.sqrt(2.0))
        v = base[None, :] + walk @ model.chol.T
        yield _hashes(v), n
        made += n


def synthetic_block(model: Model, rng: np.random.Generator, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """About `frames` synthetic hashes grouped in references.

    Vectorised over shots: every shot's base and per-frame noise are drawn in
    bulk, so a million hashes take about a second.

    Returns:
        (hashes uint64 (frames,), reference lengths in frames (sum = frames)).
    """
    ref_lengths = []
    total = 0
    while total < frames:
        n = int(min(frames - total, max(20, rng.lognormal(np.log(MEAN_REF_S * REF_FPS) - 0.5, 1.0))))
        ref_lengths.append(n)
        total += n
    lengths = np.array(ref_lengths, dtype=np.int64)
    # Shot boundaries: every frame starts a new shot with probability 1 / mean shot length,
    # and every reference starts with one.
    new_shot = rng.random(frames) < 1.0 / (MEAN_SHOT_S * REF_FPS)
    new_shot[np.concatenate([[0], np.cumsum(lengths)[:-1]])] = True
    shot_id = np.cumsum(new_shot) - 1
    n_shots = int(shot_id[-1]) + 1
    base = model.mean + rng.standard_normal((n_shots, LOW * LOW), dtype=np.float32) @ model.chol.T.astype(np.float32)
    noise = rng.standard_normal((frames, LOW * LOW), dtype=np.float32)
    # A random walk inside each shot: the running sum restarted at every shot start.
    cs = np.cumsum(noise, axis=0)
    starts = np.nonzero(new_shot)[0]
    first = starts[shot_id]
    walk = cs - np.where((first > 0)[:, None], cs[np.maximum(first - 1, 0)], np.float32(0))
    v = base[shot_id] + (walk * np.float32(model.drift / np.sqrt(2.0))) @ model.chol.T.astype(np.float32)
    return _hashes(v.astype(np.float64)), lengths


def describe(hashes: np.ndarray) -> dict[str, float]:
    """Statistics the candidate search is sensitive to."""
    from provenance.index.base import chunks_of

    ch = chunks_of(hashes)
    out: dict[str, float] = {"n": int(len(hashes))}
    bits = ((hashes[:, None] >> np.arange(63, -1, -1, dtype=np.uint64)) & np.uint64(1)).astype(np.float64)
    p = bits.mean(axis=0)
    out["msb_set"] = round(float(p[0]), 3)
    out["bit_p_sd"] = round(float(p.std()), 3)
    for c in range(ch.shape[1]):
        counts = np.bincount(ch[:, c], minlength=1 << 16)
        # Expected rows returned by an exact chunk lookup with a query drawn from the same data.
        out[f"c{c}_rows_per_lookup_per_M"] = round(
            float((counts.astype(np.float64) ** 2).sum() / len(hashes) / len(hashes) * 1e6), 1
        )
        out[f"c{c}_distinct_share"] = round(float((counts > 0).sum() / min(len(hashes), 1 << 16)), 3)
    rng = np.random.default_rng(1)
    a = hashes[rng.integers(0, len(hashes), 20000)]
    b = hashes[rng.integers(0, len(hashes), 20000)]
    d = np.bitwise_count(a ^ b)
    out["random_pair_distance_median"] = float(np.median(d))
    out["random_pair_distance_p1"] = float(np.percentile(d, 1))
    return out


def check() -> None:
    model = Model.load()
    real = np.load(MODEL.with_name("real_hashes.npy"))
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    synth, lengths = synthetic_block(model, rng, 1_000_000)
    took = time.perf_counter() - t0
    consec = _consecutive_median(
        [synth[a:b] for a, b in zip(np.r_[0, np.cumsum(lengths)[:-1]], np.cumsum(lengths), strict=True)]
    )
    sub = synth[rng.integers(0, len(synth), len(real))]
    print(
        json.dumps(
            {"real": describe(real), "synthetic_same_n": describe(sub), "synthetic_1M": describe(synth)}, indent=1
        )
    )
    print(f"consecutive-frame median distance: real {model.consecutive_median}, synthetic {consec}")
    print(f"1M synthetic hashes in {took:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if args.fit:
        fit()
    if args.check:
        check()


if __name__ == "__main__":
    main()
