"""bench/scale smoke test: the synthetic hashes and the bulk loaders write what the library reads.

Not a benchmark (that is ``bench/scale``, docs/scale.md): 20 k hashes, once per backend.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale.fill import fill_postgres, fill_sqlite  # noqa: E402
from bench.scale.synth import Model, synthetic_block  # noqa: E402

from provenance.index import open_index  # noqa: E402


@pytest.fixture(scope="module")
def synthetic() -> tuple[np.ndarray, np.ndarray]:
    """20 k synthetic hashes in references of realistic lengths (bench/scale/model.npz)."""
    return synthetic_block(Model.load(), np.random.default_rng(11), 20_000)


def test_synthetic_hashes_have_the_shape_of_phash(synthetic: tuple[np.ndarray, np.ndarray]) -> None:
    hashes, lengths = synthetic
    assert len(hashes) == lengths.sum() == 20_000
    ones = np.bitwise_count(hashes)
    # Bits are "coefficient above the median of 64": half of them set, and the DC term always above.
    assert np.median(ones) == 32
    assert (hashes >> np.uint64(63)).mean() > 0.99
    # Consecutive frames of a shot are near; frames of different references are not.
    consecutive = np.bitwise_count(hashes[1:] ^ hashes[:-1])
    assert np.median(consecutive) <= 4
    far = np.bitwise_count(hashes[: len(hashes) // 2] ^ hashes[len(hashes) // 2 :])
    assert np.median(far) >= 24


def test_bulk_loaded_index_is_read_by_the_library(
    index_url: str, synthetic: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    hashes, lengths = synthetic
    open_index(index_url, create=True).close()
    if index_url.startswith("postgresql"):
        fill_postgres(index_url, hashes, lengths)
    else:
        fill_sqlite(index_url, hashes, lengths)
    with open_index(index_url) as idx:
        stats = idx.stats()
        assert (stats["hashes"], stats["references"]) == (20_000, len(lengths))
        first = idx.references()[0]
        stored = idx.frame_hashes(first.id)
        assert np.array_equal(stored.hashes, hashes[: lengths[0]])
        assert first.frames == lengths[0]
        probe = hashes[:: 997] ^ np.uint64(0b1011)
        cands = idx.lookup(probe, 14)
        found = {(int(q), int(h)) for q, h in zip(cands.query_row, cands.distance, strict=True) if h == 3}
        assert {(i, 3) for i in range(len(probe))} <= found
