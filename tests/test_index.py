"""Stage 5, index: one suite run against every backend (`index_url` in conftest).

Hashes here are synthetic uint64 values with known Hamming distances, so the
multi-index lookup can be checked exactly: everything within ``CHUNKS - 1``
bits is guaranteed to be found (pigeonhole), and far hashes never are.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from provenance.errors import BadInputError, IndexUnavailableError, NotFoundError, ProvenanceError
from provenance.hashing import ALGORITHM, VARIANT_FULL, FrameHashes
from provenance.index import (
    CHUNKS,
    SCHEMA_VERSION,
    FactOrigin,
    Index,
    OriginKind,
    Reference,
    SourceFacts,
    open_index,
)
from provenance.index.base import chunks_of, to_signed, to_unsigned
from provenance.index.sqlite import path_from_url

BASE = 0x9A3C_5F21_0E7D_B468


def flip(value: int, bits: list[int]) -> int:
    """`value` with the given bit positions (0 = least significant) flipped."""
    for b in bits:
        value ^= 1 << b
    return value


def make_ref(sha: str, **source: Any) -> Reference:
    return Reference(
        id=0,
        sha256=sha,
        path=f"/archive/{sha[:8]}.mp4",
        kind="video",
        duration_s=10.0,
        width=640,
        height=360,
        fps=25.0,
        size_bytes=123456,
        sample_fps=2.0,
        frames=0,
        added_at="2024-01-01T00:00:00+00:00",
        source=SourceFacts(**source),
    )


def make_hashes(values: list[int], *, step: float = 0.5) -> FrameHashes:
    return FrameHashes(
        times=np.arange(len(values), dtype=np.float64) * step,
        variants=np.full(len(values), VARIANT_FULL, dtype=np.int8),
        hashes=np.array(values, dtype=np.uint64),
    )


def sha(n: int) -> str:
    return f"{n:064x}"


@pytest.fixture
def idx(index_url: str) -> Any:
    """A fresh, empty index of the backend under test."""
    with open_index(index_url, create=True) as index:
        yield index


# -- records --------------------------------------------------------------------


def test_reference_round_trips_through_dict() -> None:
    ref = make_ref(sha(1), source_url="https://example.org/v/1", publisher="P", title="T", first_seen="2021-09-12")
    assert Reference.from_dict(ref.to_dict()) == ref
    assert ref.to_dict()["source_url"] == "https://example.org/v/1"


def test_flags_fill_gaps_from_sidecar_facts() -> None:
    flags = SourceFacts(publisher="Flag publisher")
    sidecar = SourceFacts(source_url="https://x.example/1", publisher="Sidecar publisher", title="Sidecar title")
    merged = flags.merged_over(sidecar)
    assert merged.publisher == "Flag publisher"
    assert merged.title == "Sidecar title" and merged.source_url == "https://x.example/1"


def test_chunks_and_signed_storage_round_trip() -> None:
    values = np.array([0, 1, BASE, 2**63, 2**64 - 1], dtype=np.uint64)
    assert np.array_equal(to_unsigned(to_signed(values)), values)
    assert to_signed(values)[-1] == -1  # SQLite and PostgreSQL integers are signed
    chunks = chunks_of(values)
    assert chunks.shape == (5, CHUNKS)
    assert chunks[2].tolist() == [0x9A3C, 0x5F21, 0x0E7D, 0xB468]
    assert chunks[4].tolist() == [0xFFFF] * CHUNKS


# -- add / get / list / remove / stats --------------------------------------------


def test_new_index_is_empty(idx: Index) -> None:
    stats = idx.stats()
    assert stats["references"] == 0 and stats["hashes"] == 0
    assert stats["schema_version"] == SCHEMA_VERSION
    assert stats["hash_algorithm"] == ALGORITHM
    assert idx.references() == []
    ident = idx.identity()
    assert ident["index_id"] == stats["index_id"] and ident["backend"] == stats["backend"]


def test_get_many_fetches_references_in_one_call(idx: Index) -> None:
    refs = [idx.add(make_ref(sha(n), title=f"R{n}"), make_hashes([BASE ^ n]))[0] for n in range(1, 8)]
    wanted = [refs[5].id, refs[0].id, refs[3].id, refs[0].id, 10_000]
    got = idx.get_many(wanted)
    assert set(got) == {refs[5].id, refs[0].id, refs[3].id}  # unknown ids are left out, repeats fetched once
    assert all(got[r.id] == idx.get(r.id) for r in (refs[0], refs[3], refs[5]))
    assert idx.get_many([]) == {}
    idx.remove(refs[3].id)
    assert set(idx.get_many(r.id for r in refs)) == {r.id for r in refs} - {refs[3].id}


def test_add_get_list_remove_stats(idx: Index) -> None:
    a, added = idx.add(
        make_ref(sha(1), title="First", first_seen="2021-09-12"), make_hashes([BASE, BASE ^ 0xFF]), facts={"k": 1}
    )
    b, added_b = idx.add(make_ref(sha(2), title="Second"), make_hashes([flip(BASE, list(range(0, 64, 2)))]))
    assert added and added_b
    assert a.id != b.id
    assert a.frames == 2 and b.frames == 1
    got = idx.get(a.id)
    assert got == a
    assert got.source.title == "First" and got.source.first_seen == "2021-09-12"
    assert idx.facts(a.id) == {"k": 1}
    assert idx.facts(b.id) is None
    assert [r.id for r in idx.references()] == [a.id, b.id]
    assert idx.find_sha256(sha(2)) == b
    assert idx.find_sha256(sha(3)) is None

    stats = idx.stats()
    assert stats["references"] == 2 and stats["hashes"] == 3
    assert stats["footage_s"] == pytest.approx(20.0)

    fh = idx.frame_hashes(a.id)
    assert fh.hashes.tolist() == [BASE, BASE ^ 0xFF]
    assert fh.times.tolist() == [0.0, 0.5]
    assert fh.algorithm == ALGORITHM

    removed = idx.remove(a.id)
    assert removed == a
    with pytest.raises(NotFoundError):
        idx.get(a.id)
    with pytest.raises(NotFoundError):
        idx.remove(a.id)
    assert len(idx.frame_hashes(a.id)) == 0
    stats = idx.stats()
    assert stats["references"] == 1 and stats["hashes"] == 1
    # The removed reference's hashes are no longer found.
    assert len(idx.lookup(np.array([BASE], dtype=np.uint64), 0)) == 0


def test_views_round_trip_by_window_and_go_with_their_reference(idx: Index) -> None:
    """Verify's views (index/views.py): read back by time window, lossless, and removed with the reference."""
    from provenance.index.views import Views, encode

    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(100, 72, 128), dtype=np.uint8)
    times = np.delete(np.arange(101) / 4.0, 50)  # a tick the decoder could not give: 12.5 s
    a, _ = idx.add(make_ref(sha(1)), make_hashes([BASE]), views=encode(Views(times, images)))
    b, _ = idx.add(make_ref(sha(2)), make_hashes([BASE ^ 1]))
    got = idx.reference_views(a.id, 0.5, 1.75)
    assert got is not None
    assert got.times.tolist() == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    assert np.array_equal(got.images, images[2:8])
    across = idx.reference_views(a.id, 9.0, 13.0)  # across two rows and the missing tick
    assert across is not None and across.times.tolist() == [t for t in times.tolist() if 9.0 <= t <= 13.0]
    assert np.array_equal(across.images, images[(times >= 9.0) & (times <= 13.0)])
    assert idx.reference_views(a.id, 30.0, 39.0) is None, "no view there"
    assert idx.reference_views(b.id, 0.0, 39.0) is None, "a reference stored without views has none"
    assert idx.stats()["view_frames"] == 100
    idx.remove(a.id)
    assert idx.reference_views(a.id, 0.0, 39.0) is None and idx.stats()["view_frames"] == 0


def test_missing_reference_is_a_user_error(idx: Index) -> None:
    with pytest.raises(NotFoundError) as info:
        idx.get(999)
    assert isinstance(info.value, BadInputError) and info.value.exit_code == 2
    assert "999" in str(info.value) and "index list" in str(info.value)
    with pytest.raises(NotFoundError):
        idx.facts(999)


def test_add_is_idempotent_by_sha256(idx: Index) -> None:
    first, added = idx.add(make_ref(sha(7), title="Original"), make_hashes([BASE, BASE ^ 1]))
    again, added_again = idx.add(make_ref(sha(7), title="Another name"), make_hashes([BASE ^ 0xF0F0]))
    assert added and not added_again
    assert again == first
    assert again.source.title == "Original"
    stats = idx.stats()
    assert stats["references"] == 1 and stats["hashes"] == 2


def test_reopened_index_keeps_its_content_and_identity(index_url: str) -> None:
    with open_index(index_url, create=True) as idx:
        ref, _ = idx.add(make_ref(sha(5), title="Kept"), make_hashes([BASE]))
        index_id = idx.stats()["index_id"]
    with open_index(index_url) as idx:
        assert idx.get(ref.id).source.title == "Kept"
        assert idx.stats()["index_id"] == index_id
        assert idx.frame_hashes(ref.id).hashes.tolist() == [BASE]


# -- lookup -------------------------------------------------------------------------


def test_lookup_finds_near_hashes_and_not_far_ones(idx: Index) -> None:
    # Distances 0..CHUNKS-1 are guaranteed by the pigeonhole principle; the flipped
    # bits are spread over every chunk so no chunk is left equal by accident.
    near = {d: flip(BASE, [c * 16 + 3 for c in range(d)]) for d in range(CHUNKS)}
    # Far: 5 bits flipped in every chunk (distance 20), no chunk shared with BASE.
    far = flip(BASE, [c * 16 + k for c in range(CHUNKS) for k in range(5)])
    # Within radius 8 but sharing two whole chunks with BASE: found through them.
    shared = flip(BASE, [1, 5, 9, 13, 17, 21, 25, 29])
    ref, _ = idx.add(make_ref(sha(11)), make_hashes([*near.values(), far, shared]))
    times = {d: 0.5 * i for i, d in enumerate(near)}

    cands = idx.lookup(np.array([BASE], dtype=np.uint64), CHUNKS - 1)
    found = sorted(zip(cands.ref_t.tolist(), cands.distance.tolist(), strict=True))
    assert found == sorted((times[d], d) for d in near)
    assert set(cands.ref_id.tolist()) == {ref.id}
    assert set(cands.query_row.tolist()) == {0}
    assert set(cands.ref_variant.tolist()) == {VARIANT_FULL}

    wide = idx.lookup(np.array([BASE], dtype=np.uint64), 10)
    wide_found = dict(zip(wide.ref_t.tolist(), wide.distance.tolist(), strict=True))
    assert wide_found[2.5] == 8  # the hash sharing two chunks
    assert 2.0 not in wide_found  # the far hash (distance 20) never comes back
    assert all(d <= 10 for d in wide.distance.tolist())

    assert len(idx.lookup(np.array([far ^ (2**64 - 1)], dtype=np.uint64), 14)) == 0


def test_lookup_reports_each_query_row(idx: Index) -> None:
    other = flip(BASE, list(range(64)))  # the complement: distance 64
    ref_a, _ = idx.add(make_ref(sha(21)), make_hashes([BASE]))
    ref_b, _ = idx.add(make_ref(sha(22)), make_hashes([other]))
    query = np.array([other, flip(BASE, [40]), BASE, BASE], dtype=np.uint64)
    cands = idx.lookup(query, 2)
    hits = sorted(zip(cands.query_row.tolist(), cands.ref_id.tolist(), cands.distance.tolist(), strict=True))
    assert hits == [(0, ref_b.id, 0), (1, ref_a.id, 1), (2, ref_a.id, 0), (3, ref_a.id, 0)]


def test_lookup_of_nothing(idx: Index) -> None:
    assert len(idx.lookup(np.zeros(0, dtype=np.uint64), 10)) == 0
    assert len(idx.lookup(np.array([BASE], dtype=np.uint64), 10)) == 0


def test_lookup_handles_the_sign_bit(idx: Index) -> None:
    top = 2**64 - 1  # stored as -1
    idx.add(make_ref(sha(31)), make_hashes([top, 2**63]))
    cands = idx.lookup(np.array([top ^ 1, 2**63], dtype=np.uint64), 1)
    assert sorted(zip(cands.query_row.tolist(), cands.distance.tolist(), strict=True)) == [(0, 1), (1, 0)]


# -- one transaction per add -----------------------------------------------------------


class SimulatedCrash(Exception):
    """Raised by the failing connection when the hashes are written."""


class _FailingCursor:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()

    def _check(self, sql: object) -> None:
        text = str(sql).lower()
        if "hashes" in text and ("insert" in text or "copy" in text):
            raise SimulatedCrash("the machine died while writing hashes")

    def execute(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._check(sql)
        return self._inner.execute(sql, *args, **kwargs)

    def executemany(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._check(sql)
        return self._inner.executemany(sql, *args, **kwargs)

    def copy(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._check(sql)
        return self._inner.copy(sql, *args, **kwargs)


class FailingConnection(_FailingCursor):
    """Wraps a backend's DB-API connection; writing frame hashes raises after the reference row went in."""

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return _FailingCursor(self._inner.cursor(*args, **kwargs))


def test_add_is_one_transaction(idx: Index) -> None:
    idx.add(make_ref(sha(40), title="before"), make_hashes([BASE]))
    before = (idx.references(), idx.stats()["hashes"])
    real = idx.conn  # type: ignore[attr-defined]
    idx.conn = FailingConnection(real)  # type: ignore[attr-defined]
    try:
        with pytest.raises(SimulatedCrash):
            idx.add(make_ref(sha(41), title="half-written"), make_hashes([BASE ^ 3, BASE ^ 5]))
    finally:
        idx.conn = real  # type: ignore[attr-defined]
    assert idx.find_sha256(sha(41)) is None
    assert (idx.references(), idx.stats()["hashes"]) == before
    # The connection is usable afterwards and the same file can be added for real.
    ref, added = idx.add(make_ref(sha(41), title="complete"), make_hashes([BASE ^ 3, BASE ^ 5]))
    assert added and ref.frames == 2


def test_failed_add_leaves_a_fresh_index_empty(index_url: str) -> None:
    with open_index(index_url, create=True) as idx:
        real = idx.conn  # type: ignore[attr-defined]
        idx.conn = FailingConnection(real)  # type: ignore[attr-defined]
        try:
            with pytest.raises(SimulatedCrash):
                idx.add(make_ref(sha(42)), make_hashes([BASE]))
        finally:
            idx.conn = real  # type: ignore[attr-defined]
    with open_index(index_url) as idx:
        assert idx.references() == [] and idx.stats()["hashes"] == 0


def test_add_refuses_hashes_of_another_algorithm(idx: Index) -> None:
    other = FrameHashes(np.zeros(1), np.zeros(1, np.int8), np.array([BASE], np.uint64), algorithm="pdq256")
    with pytest.raises(ValueError, match="pdq256"):
        idx.add(make_ref(sha(50)), other)
    assert idx.stats()["references"] == 0


# -- unusable indexes -------------------------------------------------------------------


def _set_meta(url: str, key: str, value: str) -> None:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(str(path_from_url(url)))
        with conn:
            conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE meta SET value = %s WHERE key = %s", (value, key))


def test_newer_schema_is_refused(index_url: str) -> None:
    with open_index(index_url, create=True):
        pass
    _set_meta(index_url, "schema_version", str(SCHEMA_VERSION + 1))
    with pytest.raises(IndexUnavailableError, match="newer") as info:
        open_index(index_url)
    assert info.value.exit_code == 3
    assert "upgrade provenance" in str(info.value)


def test_other_hash_algorithm_is_refused(index_url: str) -> None:
    with open_index(index_url, create=True):
        pass
    _set_meta(index_url, "hash_algorithm", "pdq256")
    with pytest.raises(IndexUnavailableError, match="pdq256"):
        open_index(index_url)


def test_missing_index_is_unavailable_unless_created(index_url: str) -> None:
    with pytest.raises(IndexUnavailableError, match="index add"):
        open_index(index_url)


def test_non_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 100, encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(IndexUnavailableError, match="not a usable provenance index") as info:
        open_index(f"sqlite:///{path}")
    assert info.value.exit_code == 3
    with pytest.raises(IndexUnavailableError):
        open_index(str(path), create=True)
    assert path.read_bytes() == before


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER, name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(IndexUnavailableError, match="not a provenance index"):
        open_index(str(path), create=True)


def test_index_urls(tmp_path: Path) -> None:
    assert path_from_url("sqlite:///rel/x.sqlite") == Path("rel/x.sqlite")
    assert path_from_url("sqlite:////abs/x.sqlite") == Path("/abs/x.sqlite")
    assert path_from_url("/abs/x.sqlite") == Path("/abs/x.sqlite")
    with open_index(tmp_path / "plain.sqlite", create=True) as idx:
        assert idx.stats()["backend"] == "sqlite"
    with pytest.raises(BadInputError, match="unknown index URL scheme"):
        open_index("mysql://host/db")


def test_default_index_comes_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from provenance.index import default_url

    monkeypatch.setenv("PROVENANCE_INDEX", f"sqlite:///{tmp_path}/env.sqlite")
    assert default_url() == f"sqlite:///{tmp_path}/env.sqlite"
    monkeypatch.delenv("PROVENANCE_INDEX")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_url() == f"sqlite:///{tmp_path}/xdg/provenance/index.sqlite"


def test_sqlite_index_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite"
    with open_index(path, create=True):
        pass
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_unreachable_postgres_is_unavailable() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(ProvenanceError) as info:
        open_index("postgresql://nobody@127.0.0.1:1/none")
    assert info.value.exit_code == 3


# -- claims: a file being added by one writer is not decoded by another ---------------------


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    return int(proc.stdout)


def test_a_claim_keeps_other_writers_off_until_released(idx: Index) -> None:
    from provenance.index import ClaimOwner

    first, second = ClaimOwner.here(), ClaimOwner.here()
    assert idx.claim(sha(60), first, 60) is None
    assert idx.claim(sha(60), first, 60) is None  # the holder may claim again
    held = idx.claim(sha(60), second, 60)
    assert held is not None and held.owner == first.token
    assert (held.host, held.pid) == (first.host, first.pid)
    assert held.expires_at - held.claimed_at == pytest.approx(60, abs=1)
    assert idx.claim(sha(61), second, 60) is None  # claims are per file
    idx.release_claim(sha(60), second)  # not its claim: no effect
    assert idx.claim(sha(60), second, 60) is not None
    idx.release_claim(sha(60), first)
    assert idx.claim(sha(60), second, 60) is None
    idx.release_claims(second)
    assert idx.claim(sha(60), first, 60) is None and idx.claim(sha(61), first, 60) is None


def test_a_stale_claim_is_taken_over(idx: Index) -> None:
    from provenance.index import ClaimOwner

    me = ClaimOwner.here()
    # Expired: a writer elsewhere stopped refreshing it.
    assert idx.claim(sha(70), ClaimOwner("gone", "another-host", 4242), -1) is None
    assert idx.claim(sha(70), me, 60) is None
    # Its holder was a process of this host that has exited (kill -9): taken over at once.
    assert idx.claim(sha(71), ClaimOwner("crashed", me.host, _dead_pid()), 3600) is None
    assert idx.claim(sha(71), me, 60) is None
    # Alive elsewhere and not expired: left alone.
    assert idx.claim(sha(72), ClaimOwner("busy", "another-host", 4242), 3600) is None
    held = idx.claim(sha(72), me, 60)
    assert held is not None and held.describe() == "process 4242 on another-host"
    assert idx.claim(sha(70), ClaimOwner.here(), 60) is not None  # now held by `me`


def test_the_heartbeat_keeps_a_claim_alive(idx: Index) -> None:
    from provenance.index import ClaimOwner

    holder, other = ClaimOwner("holder", "another-host", 4242), ClaimOwner.here()
    assert idx.claim(sha(80), holder, -1) is None
    idx.refresh_claims(holder, 3600)
    assert idx.claim(sha(80), other, 60) is not None


def test_claims_work_in_an_index_made_before_them(index_url: str) -> None:
    """An index written before claims existed has no `claims` table: the first claim makes it."""
    from provenance.index import ClaimOwner

    with open_index(index_url, create=True) as idx:
        idx.add(make_ref(sha(90)), make_hashes([BASE]))
    _raw(index_url, "DROP TABLE claims")
    with open_index(index_url) as idx:
        assert idx.claim(sha(91), ClaimOwner.here(), 60) is None
        assert idx.integrity().ok


def _raw(url: str, statement: str) -> None:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(str(path_from_url(url)), isolation_level=None)
        conn.execute(statement)
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(statement)


# -- a failing database is an unavailable index, whatever the method ----------------------


class _Broken:
    """A connection (and its cursors) on which every call fails with the driver's own error."""

    def __init__(self, error: type[Exception]) -> None:
        self._error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self._error("disk I/O error")

        return fail


def test_a_failing_database_is_unavailable_from_every_method(idx: Index) -> None:
    from provenance.index import ClaimOwner

    ref, _ = idx.add(make_ref(sha(100)), make_hashes([BASE]))
    owner = ClaimOwner.here()
    idx.claim(sha(101), owner, 60)
    idx.lookup(np.array([BASE], dtype=np.uint64), 4)  # opens the lookup connections
    calls = {
        "find_sha256": lambda: idx.find_sha256(sha(100)),
        "add": lambda: idx.add(make_ref(sha(102)), make_hashes([BASE ^ 1])),
        "get": lambda: idx.get(ref.id),
        "get_many": lambda: idx.get_many([ref.id]),
        "facts": lambda: idx.facts(ref.id),
        "references": idx.references,
        "remove": lambda: idx.remove(ref.id),
        "frame_hashes": lambda: idx.frame_hashes(ref.id),
        "lookup": lambda: idx.lookup(np.array([BASE], dtype=np.uint64), 4),
        "stats": idx.stats,
        "identity": idx.identity,
        "integrity": idx.integrity,
        "claim": lambda: idx.claim(sha(103), owner, 60),
        "release_claim": lambda: idx.release_claim(sha(101), owner),
        "release_claims": lambda: idx.release_claims(owner),
        "refresh_claims": lambda: idx.refresh_claims(owner, 60),
        "has_features": idx.has_features,
        "feature_lookup": lambda: idx.feature_lookup(np.array([1, 2], dtype=np.int64)),
        "feature_frames": lambda: idx.feature_frames([1]),
        "feature_frame_times": lambda: idx.feature_frame_times([1]),
        "reference_features": lambda: idx.reference_features(ref.id),
        "feature_counts": idx.feature_counts,
        "sound": lambda: idx.sound(ref.id),
        "sound_lookup": lambda: idx.sound_lookup(np.zeros((1, 3), dtype=np.int64)),
        "sound_mark_lookup": lambda: idx.sound_mark_lookup(np.zeros(1, dtype=np.int64)),
        "reference_views": lambda: idx.reference_views(ref.id, 0.0, 1.0),
    }
    public = {n for n in dir(Index) if not n.startswith("_") and callable(getattr(Index, n))} - {"close"}
    assert public == set(calls), "every public method of the index is tried here"
    error = idx.dialect.errors[0]  # type: ignore[attr-defined]
    saved = (idx.conn, idx._readers, idx._claims_conn)  # type: ignore[attr-defined]
    idx.conn = _Broken(error)  # type: ignore[attr-defined]
    idx._readers = [_Broken(error) for _ in saved[1]]  # type: ignore[attr-defined]
    idx._claims_conn = _Broken(error)  # type: ignore[attr-defined]
    try:
        for name, call in calls.items():
            if name == "integrity" and not idx.dialect.unreachable(error("disk I/O error")):  # type: ignore[attr-defined]
                report = call()  # damage is reported, with what to do, rather than raised
                assert not report.ok and report.problems[0].code == "storage", name  # type: ignore[union-attr]
                continue
            with pytest.raises(IndexUnavailableError, match="cannot be read or written") as info:
                call()
            assert info.value.exit_code == 3 and "\n" not in str(info.value), name
    finally:
        idx.conn, idx._readers, idx._claims_conn = saved  # type: ignore[attr-defined]


def test_fact_origins_are_stored_and_an_older_index_gains_their_column(tmp_path: Path) -> None:
    """Where each source fact came from is stored with the reference; an index made before origins were
    recorded (no `refs.origins` column) is given the column on opening and reads its references without."""
    path = tmp_path / "old.sqlite"
    with open_index(path, create=True) as idx:
        idx.add(make_ref(sha(1), first_seen="2021-09-12"), make_hashes([1, 2, 3]))
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE refs DROP COLUMN origins")
    conn.commit()
    conn.close()
    given = SourceFacts(first_seen="2020-01-02", publisher="Desk").with_origin(
        OriginKind.GIVEN, "given with index add", at="2024-01-01T00:00:00+00:00", by="desk"
    )
    with open_index(path) as idx:
        (old,) = idx.references()
        assert old.source.first_seen == "2021-09-12" and old.source.origins == ()
        new, added = idx.add(replace(make_ref(sha(2)), source=given), make_hashes([4, 5, 6]))
        assert added and idx.get(new.id).source == given
    origin = given.origin("first_seen")
    assert origin == FactOrigin("first_seen", "given", "given with index add", "2024-01-01T00:00:00+00:00", "desk")
    assert Reference.from_dict(new.to_dict()) == new
