"""Stage 5, index: what only the PostgreSQL backend must do (the shared suite is test_index.py).

Many processes at once: creating the schema, adding the same file, and the
same candidates as SQLite for the same stored hashes. Needs a server named by
``PROVENANCE_TEST_POSTGRES`` (each test gets a fresh database); skipped otherwise.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from provenance.errors import IndexUnavailableError
from provenance.hashing import FrameHashes
from provenance.index import Reference, open_index


def _ref(sha: str = "a" * 64) -> Reference:
    return Reference(0, sha, "/x.mp4", "video", 20.0, 640, 360, 25.0, 1234, 2.0, 0, "2026-01-01T00:00:00+00:00")


def _hashes(n: int, seed: int) -> FrameHashes:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    return FrameHashes(np.arange(n) / 2.0, np.zeros(n, np.int8), values)


def _open_and_add(url: str, barrier: Any, sha: str, queue: Any) -> None:
    barrier.wait()
    with open_index(url, create=True) as idx:
        barrier.wait()
        _, added = idx.add(_ref(sha), _hashes(300, 1))
        queue.put(added)


def test_many_processes_create_and_add_the_same_file_once(postgres_database: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    queue = context.Queue()
    procs = [
        context.Process(target=_open_and_add, args=(postgres_database, barrier, "b" * 64, queue)) for _ in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    added = sorted(queue.get(timeout=5) for _ in procs)
    assert added == [False, False, False, True]
    with open_index(postgres_database) as idx:
        stats = idx.stats()
        assert (stats["references"], stats["hashes"]) == (1, 300)
        ids = {idx.identity()["index_id"]}
    with open_index(postgres_database) as idx:
        ids.add(idx.identity()["index_id"])
    assert len(ids) == 1


def test_lookup_gives_the_same_candidates_as_sqlite(postgres_database: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    stored = [_hashes(400, seed) for seed in range(3)]
    base = np.concatenate([fh.hashes for fh in stored])[rng.integers(0, 1200, 300)]
    # Flip 0-17 random bits: some candidates pass, some share a chunk but are too far, some share none.
    masks = np.array(
        [sum(1 << int(b) for b in rng.choice(64, rng.integers(0, 18), replace=False)) for _ in base], dtype=np.uint64
    )
    query = np.concatenate([base ^ masks, base[:30]])
    results = []
    for url in (postgres_database, f"sqlite:///{tmp_path / 'same.sqlite'}"):
        with open_index(url, create=True) as idx:
            for n, fh in enumerate(stored):
                idx.add(_ref(f"{n:064x}"), fh)
            c = idx.lookup(query, 14)
            results.append(
                sorted(zip(c.query_row.tolist(), c.ref_id.tolist(), c.ref_t.tolist(), c.distance.tolist(), strict=True))
            )
    assert results[0] == results[1]
    assert len(results[0]) >= 30


def test_password_never_appears_in_messages_or_reports(postgres_database: str) -> None:
    with pytest.raises(IndexUnavailableError) as err:
        open_index("postgresql://someone:s3cret-pw@127.0.0.1:1/none")
    assert "s3cret" not in str(err.value)
    assert "someone:***@" in str(err.value)
    with open_index(postgres_database, create=True) as idx:
        assert "s3cret" not in str(idx.identity())


def test_an_empty_database_is_not_an_index_unless_created(postgres_database: str) -> None:
    with pytest.raises(IndexUnavailableError, match="no provenance index in this database"):
        open_index(postgres_database)


def test_nul_characters_in_source_facts_are_stored(postgres_database: str) -> None:
    from provenance.index import SourceFacts

    with open_index(postgres_database, create=True) as idx:
        ref, _ = idx.add(replace(_ref(), source=SourceFacts(title="a\x00b")), _hashes(3, 2))
        assert ref.source.title == "a\ufffdb"
