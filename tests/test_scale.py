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
        probe = hashes[::997] ^ np.uint64(0b1011)
        cands = idx.lookup(probe, 14)
        found = {(int(q), int(h)) for q, h in zip(cands.query_row, cands.distance, strict=True) if h == 3}
        assert {(i, 3) for i in range(len(probe))} <= found


def test_schema_1_sqlite_index_is_upgraded_in_place(tmp_path: Path) -> None:
    """An index written before the covering chunk indexes (schema 1) opens, upgraded, with the same answers."""
    import sqlite3

    from provenance.hashing import FrameHashes
    from provenance.index import Reference
    from provenance.index.base import CHUNKS, SCHEMA_VERSION

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    hashes = synthetic_block(Model.load(), np.random.default_rng(3), 500)[0]
    with open_index(url, create=True) as idx:
        ref = Reference(0, "c" * 64, "/x.mp4", "video", 250.0, 640, 360, 25.0, 1, 2.0, 0, "2026-01-01T00:00:00+00:00")
        idx.add(ref, FrameHashes(np.arange(500) / 2.0, np.zeros(500, np.int8), hashes))
        before = idx.lookup(hashes[::50], 14)
    conn = sqlite3.connect(tmp_path / "old.sqlite")
    for c in range(CHUNKS):
        conn.execute(f"DROP INDEX hashes_c{c}_rec")
        conn.execute(f"CREATE INDEX hashes_c{c} ON hashes(c{c})")
    conn.execute("ALTER TABLE hashes DROP COLUMN rec")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with open_index(url) as idx:
        assert idx.stats()["schema_version"] == SCHEMA_VERSION
        after = idx.lookup(hashes[::50], 14)
    assert sorted(zip(before.query_row.tolist(), before.ref_t.tolist(), strict=True)) == sorted(
        zip(after.query_row.tolist(), after.ref_t.tolist(), strict=True)
    )
