"""SQLite backend: the default, embedded index (``sqlite:///path`` or a plain path).

WAL mode so readers never block the writer; every ingest or removal is one
``BEGIN IMMEDIATE`` transaction, so an interrupted command leaves the index as
it was. Hashes are stored as signed 64-bit integers (SQLite has no unsigned
type) with their four 16-bit chunks, each under its own B-tree index.

SQLite has no popcount, and handing every candidate row to Python costs about
a microsecond each (at 10 M stored frames a 30 s clip meets ~200 k of them),
so each chunk index also covers `rec`, the stored frame packed into 17 bytes
(hash, reference id, time, variant). A lookup asks for the concatenation of
the records under each set of chunk keys (``group_concat`` over the index
range, in C) and verifies them in numpy: about 0.2 us per candidate
(bench/scale, docs/scale.md).
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..errors import IndexUnavailableError, NotFoundError
from ..hashing import ALGORITHM, FrameHashes, hamming
from .base import (
    CHUNK_BITS,
    CHUNKS,
    REF_COLUMNS,
    SCHEMA_VERSION,
    Candidates,
    Index,
    IntegrityProblem,
    IntegrityReport,
    Reference,
    chunks_of,
    count_problem,
    reference_from_row,
    schema_problem,
    spread_to_rows,
    to_signed,
    to_unsigned,
)

#: Seconds a writer waits for another writer's transaction before giving up.
BUSY_TIMEOUT_S = 60.0


_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS refs (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        duration_s REAL NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        fps REAL,
        size_bytes INTEGER NOT NULL,
        sample_fps REAL NOT NULL,
        frames INTEGER NOT NULL,
        added_at TEXT NOT NULL,
        source_url TEXT, publisher TEXT, title TEXT, first_seen TEXT, licence TEXT, notes TEXT,
        facts TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS hashes (
        ref_id INTEGER NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
        t_ms INTEGER NOT NULL,
        variant INTEGER NOT NULL,
        h INTEGER NOT NULL,
        c0 INTEGER NOT NULL, c1 INTEGER NOT NULL, c2 INTEGER NOT NULL, c3 INTEGER NOT NULL,
        rec BLOB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS hashes_ref ON hashes(ref_id, t_ms)",
]
#: The chunk indexes (covering `rec`), separate so that bulk loads can build them after the rows.
CHUNK_INDEX_STATEMENTS = [f"CREATE INDEX IF NOT EXISTS hashes_c{c}_rec ON hashes(c{c}, rec)" for c in range(CHUNKS)]
_SCHEMA += CHUNK_INDEX_STATEMENTS
#: A stored frame as packed in `rec`: hash, reference id, time (ms), variant; 17 bytes.
REC_DTYPE = np.dtype([("h", ">u8"), ("ref", ">u4"), ("t", ">i4"), ("v", "i1")])
#: Most chunk keys bound in one lookup statement (SQLite's variable limit is 32766).
KEYS_PER_STATEMENT = 900
#: Connections (one thread each) that read the chunk indexes at once during a
#: lookup: sqlite3 lets go of the GIL while SQLite works, so on 2 cores the
#: four chunk scans take about half the wall time (docs/scale.md).
LOOKUP_THREADS = max(1, min(CHUNKS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))


def pack_records(ref_id: int | np.ndarray, t_ms: np.ndarray, variants: np.ndarray, hashes: np.ndarray) -> list[bytes]:
    """The `rec` value of each stored frame (see `REC_DTYPE`)."""
    n = len(hashes)
    rec = np.empty(n, dtype=REC_DTYPE)
    rec["h"] = np.asarray(hashes, dtype=np.uint64)
    rec["ref"] = ref_id
    rec["t"] = t_ms
    rec["v"] = variants
    raw = rec.tobytes()
    size = REC_DTYPE.itemsize
    return [raw[i * size : (i + 1) * size] for i in range(n)]


def path_from_url(url: str) -> Path:
    """The file path of a ``sqlite:///path`` URL or a plain path."""
    if url.startswith("sqlite:///"):
        # sqlite:///rel/path is relative, sqlite:////abs/path absolute (as in SQLAlchemy).
        return Path(url[len("sqlite:///") :])
    if url.startswith("sqlite://"):
        return Path(url[len("sqlite://") :])
    return Path(url)


_C = TypeVar("_C", bound=type)


def _guarded(cls: _C) -> _C:
    """Turn SQLite errors in every public method into `IndexUnavailableError` (exit 3).

    A damaged file often opens fine and fails on the first page it reads
    ("database disk image is malformed"); that is an unusable index, not a
    crash, and the message says how to find out more.
    """

    def guard(method: Any) -> Any:
        @functools.wraps(method)
        def call(self: SQLiteIndex, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.DatabaseError as exc:
                raise IndexUnavailableError(
                    f"{self.path}: the index cannot be read or written ({exc}); "
                    f"run 'provenance index check --index {self.path}' and restore it from a backup if it is damaged"
                ) from exc

        return call

    for name, value in list(vars(cls).items()):
        if callable(value) and not name.startswith("_") and name != "close":
            setattr(cls, name, guard(value))
    return cls


@_guarded
class SQLiteIndex(Index):
    """The embedded index in one SQLite file."""

    NAME = "sqlite"
    SCHEMES = ("sqlite",)

    def __init__(self, url: str, *, create: bool = False) -> None:
        self.path = path_from_url(url)
        self.url = f"sqlite:///{self.path}"
        if not self.path.exists():
            if not create:
                raise IndexUnavailableError(
                    f"{self.path}: no index there; build one with 'provenance index add FILES --index {self.path}'"
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn: sqlite3.Connection | None = None
        self._readers: list[sqlite3.Connection] = []
        try:
            self.conn = conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
            # Schema first: switching to WAL rewrites the file header, and a
            # file that is not a provenance index must be left as it was.
            self._ensure_schema()
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()
            self.conn.execute("PRAGMA synchronous = NORMAL")
            if mode is None:
                raise sqlite3.DatabaseError("journal mode not set")
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise IndexUnavailableError(
                f"{self.path}: not a usable provenance index ({exc}); give another --index or restore it from a backup"
            ) from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise

    # -- schema ------------------------------------------------------------

    def _ensure_schema(self) -> None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" in tables:
            self._check_meta()
            return
        if tables:
            raise IndexUnavailableError(
                f"{self.path}: an SQLite file but not a provenance index (tables: {', '.join(sorted(tables))[:200]}); "
                "give another --index"
            )
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if "meta" not in {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}:
                for statement in _SCHEMA:
                    self.conn.execute(statement)
                now = datetime.now(UTC).isoformat(timespec="seconds")
                self.conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [
                        ("schema_version", str(SCHEMA_VERSION)),
                        ("index_id", str(uuid.uuid4())),
                        ("hash_algorithm", ALGORITHM),
                        ("created_at", now),
                    ],
                )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self._check_meta()

    def _check_meta(self) -> None:
        meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise IndexUnavailableError(
                f"{self.path}: index schema version {version} is newer than this provenance supports "
                f"({SCHEMA_VERSION}); upgrade provenance (pip install -U provenance)"
            )
        if version == 1 and meta.get("hash_algorithm") == ALGORITHM:
            self._upgrade_from_v1()
            meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
            version = int(meta["schema_version"])
        if version < 1:
            raise IndexUnavailableError(
                f"{self.path}: index has no schema version; rebuild it with 'provenance index add'"
            )
        if meta.get("hash_algorithm") != ALGORITHM:
            raise IndexUnavailableError(
                f"{self.path}: index holds {meta.get('hash_algorithm')!r} hashes, this provenance makes {ALGORITHM!r}; "
                "rebuild the index"
            )
        self.meta = meta

    def _upgrade_from_v1(self) -> None:
        """Schema 1 -> 2 in one transaction: add `rec`, fill it, swap the chunk indexes."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "1":
                cols = {r[1] for r in self.conn.execute("PRAGMA table_info(hashes)")}
                if "rec" not in cols:
                    self.conn.execute("ALTER TABLE hashes ADD COLUMN rec BLOB NOT NULL DEFAULT x''")
                rows = self.conn.execute("SELECT rowid, ref_id, t_ms, variant, h FROM hashes").fetchall()
                if rows:
                    arr = np.array(rows, dtype=np.int64)
                    recs = pack_records(arr[:, 1], arr[:, 2], arr[:, 3], to_unsigned(arr[:, 4]))
                    self.conn.executemany(
                        "UPDATE hashes SET rec = ? WHERE rowid = ?", zip(recs, arr[:, 0].tolist(), strict=True)
                    )
                for c in range(CHUNKS):
                    self.conn.execute(f"DROP INDEX IF EXISTS hashes_c{c}")
                for statement in CHUNK_INDEX_STATEMENTS:
                    self.conn.execute(statement)
                self.conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    # -- references ----------------------------------------------------------

    def find_sha256(self, sha256: str) -> Reference | None:
        row = self.conn.execute(f"SELECT {REF_COLUMNS} FROM refs WHERE sha256 = ?", (sha256,)).fetchone()
        return reference_from_row(row) if row else None

    def add(
        self, ref: Reference, hashes: FrameHashes, *, facts: dict[str, Any] | None = None
    ) -> tuple[Reference, bool]:
        if hashes.algorithm != ALGORITHM:
            raise ValueError(f"index stores {ALGORITHM}, got {hashes.algorithm}")
        chunks = chunks_of(hashes.hashes)
        signed = to_signed(hashes.hashes)
        t_ms = np.round(np.asarray(hashes.times) * 1000).astype(np.int64)
        columns = zip(
            t_ms.tolist(), np.asarray(hashes.variants).tolist(), signed.tolist(), chunks.tolist(), strict=True
        )
        rows = [(t, v, h, c[0], c[1], c[2], c[3]) for t, v, h, c in columns]
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            existing = self.find_sha256(ref.sha256)
            if existing is not None:
                self.conn.execute("ROLLBACK")
                return existing, False
            s = ref.source
            cur = self.conn.execute(
                "INSERT INTO refs(sha256, path, kind, duration_s, width, height, fps, size_bytes, sample_fps, frames, "
                "added_at, source_url, publisher, title, first_seen, licence, notes, facts) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    ref.sha256,
                    ref.path,
                    ref.kind,
                    ref.duration_s,
                    ref.width,
                    ref.height,
                    ref.fps,
                    ref.size_bytes,
                    ref.sample_fps,
                    len(hashes),
                    ref.added_at,
                    s.source_url,
                    s.publisher,
                    s.title,
                    s.first_seen,
                    s.licence,
                    s.notes,
                    json.dumps(facts) if facts is not None else None,
                ),
            )
            ref_id = int(cur.lastrowid or 0)
            if ref_id >= 1 << 32:
                raise IndexUnavailableError(f"{self.path}: more than 2^32 references; split the index")
            recs = pack_records(ref_id, t_ms, np.asarray(hashes.variants), hashes.hashes)
            self.conn.executemany(
                "INSERT INTO hashes(ref_id, t_ms, variant, h, c0, c1, c2, c3, rec) VALUES (?,?,?,?,?,?,?,?,?)",
                [(ref_id, *r, rec) for r, rec in zip(rows, recs, strict=True)],
            )
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        return self.get(ref_id), True

    def get(self, ref_id: int) -> Reference:
        row = self.conn.execute(f"SELECT {REF_COLUMNS} FROM refs WHERE id = ?", (ref_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no reference with id {ref_id} in {self.path}; see 'provenance index list'")
        return reference_from_row(row)

    def get_many(self, ref_ids: Iterable[int]) -> dict[int, Reference]:
        ids = sorted({int(i) for i in ref_ids})
        out: dict[int, Reference] = {}
        for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit is 999 on old builds
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for row in self.conn.execute(f"SELECT {REF_COLUMNS} FROM refs WHERE id IN ({marks})", part):
                ref = reference_from_row(row)
                out[int(ref.id)] = ref
        return out

    def facts(self, ref_id: int) -> dict[str, Any] | None:
        """The media facts stored with a reference at ingest, if any."""
        row = self.conn.execute("SELECT facts FROM refs WHERE id = ?", (ref_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no reference with id {ref_id} in {self.path}; see 'provenance index list'")
        return json.loads(row[0]) if row[0] else None

    def references(self) -> list[Reference]:
        return [reference_from_row(r) for r in self.conn.execute(f"SELECT {REF_COLUMNS} FROM refs ORDER BY id")]

    def remove(self, ref_id: int) -> Reference:
        ref = self.get(ref_id)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute("DELETE FROM hashes WHERE ref_id = ?", (ref_id,))
            self.conn.execute("DELETE FROM refs WHERE id = ?", (ref_id,))
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        return ref

    # -- hashes ----------------------------------------------------------------

    def frame_hashes(self, ref_id: int) -> FrameHashes:
        rows = self.conn.execute(
            "SELECT t_ms, variant, h FROM hashes WHERE ref_id = ? ORDER BY t_ms, variant", (ref_id,)
        ).fetchall()
        if not rows:
            return FrameHashes(np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.uint64))
        arr = np.array(rows, dtype=np.int64)
        return FrameHashes(arr[:, 0] / 1000.0, arr[:, 1].astype(np.int8), to_unsigned(arr[:, 2]))

    def lookup(self, hashes: np.ndarray, max_distance: int) -> Candidates:
        query = np.asarray(hashes, dtype=np.uint64)
        if len(query) == 0:
            return _empty()
        # Each distinct query hash, and each distinct chunk key, is looked up once.
        unique, inverse = np.unique(query, return_inverse=True)
        chunks = chunks_of(unique)
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for c, blobs in enumerate(self._chunk_records(chunks)):
            recs = np.frombuffer(b"".join(blobs), dtype=REC_DTYPE)
            if len(recs) == 0:
                continue
            # Pair each stored frame with every distinct query hash that shares its chunk value.
            stored = recs["h"].astype(np.uint64)
            shift = np.uint64(CHUNK_BITS * (CHUNKS - 1 - c))
            rec_keys = ((stored >> shift) & np.uint64((1 << CHUNK_BITS) - 1)).astype(np.int64)
            order = np.argsort(chunks[:, c], kind="stable")
            sorted_keys = chunks[order, c]
            lo = np.searchsorted(sorted_keys, rec_keys, side="left")
            per_rec = np.searchsorted(sorted_keys, rec_keys, side="right") - lo
            rec_idx = np.repeat(np.arange(len(recs)), per_rec)
            within = np.arange(len(rec_idx)) - np.repeat(np.cumsum(per_rec) - per_rec, per_rec)
            u_idx = order[np.repeat(lo, per_rec) + within]
            dist = hamming(unique[u_idx], stored[rec_idx])
            keep = dist <= max_distance
            found.append((u_idx[keep], recs[rec_idx[keep]], dist[keep]))
        if not found:
            return _empty()
        u_all = np.concatenate([f[0] for f in found])
        rec_all = np.concatenate([f[1] for f in found])
        dist_all = np.concatenate([f[2] for f in found])
        table = np.stack(
            [
                u_all.astype(np.int64),
                rec_all["ref"].astype(np.int64),
                rec_all["t"].astype(np.int64),
                rec_all["v"].astype(np.int64),
                dist_all.astype(np.int64),
            ],
            axis=1,
        )
        # A stored frame sharing several chunks with a query hash was found once per chunk.
        table = np.unique(table, axis=0)
        hit, query_row = spread_to_rows(table[:, 0], inverse)
        table = table[hit]
        return Candidates(
            query_row.astype(np.int64),
            table[:, 1],
            table[:, 2] / 1000.0,
            table[:, 3].astype(np.int8),
            table[:, 4].astype(np.int16),
        )

    # -- facts about the index ---------------------------------------------------

    def stats(self) -> dict[str, Any]:
        refs, seconds = self.conn.execute("SELECT count(*), coalesce(sum(duration_s), 0) FROM refs").fetchone()
        hashes = self.conn.execute("SELECT count(*) FROM hashes").fetchone()[0]
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return {
            "backend": self.NAME,
            "url": self.url,
            "references": refs,
            "hashes": hashes,
            "footage_s": round(float(seconds), 3),
            "bytes_on_disk": size,
            "schema_version": int(self.meta["schema_version"]),
            "index_id": self.meta["index_id"],
            "hash_algorithm": self.meta["hash_algorithm"],
        }

    def identity(self) -> dict[str, Any]:
        refs, hashes = self.conn.execute("SELECT count(*), (SELECT count(*) FROM hashes) FROM refs").fetchone()
        return {
            "backend": self.NAME,
            "url": self.url,
            "index_id": self.meta["index_id"],
            "schema_version": int(self.meta["schema_version"]),
            "references": refs,
            "hashes": hashes,
        }

    def integrity(self) -> IntegrityReport:
        """SQLite's own integrity check, the schema version and meta, hash counts
        per reference, hash rows of no reference, and each row's lookup record
        (`rec`, what lookups read) against its columns. Reads every row."""
        problems: list[IntegrityProblem] = []
        checks = ("sqlite_integrity_check", "schema_version", "meta", "hash_counts", "orphan_rows", "lookup_records")
        refs = hashes = 0
        version: int | None = None
        try:
            found = [str(r[0]) for r in self.conn.execute("PRAGMA integrity_check(20)")]
            if found != ["ok"]:
                problems.append(
                    IntegrityProblem(
                        "storage",
                        f"SQLite's integrity check failed: {'; '.join(found[:3])[:300]}",
                        f"restore {self.path} from a backup; without one, 'sqlite3 {self.path} .recover' copies out "
                        "what is still readable, then add the lost files again",
                    )
                )
            meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
            try:
                version = int(meta.get("schema_version", ""))
            except ValueError:
                version = None
            if version != SCHEMA_VERSION:
                problems.append(schema_problem(meta.get("schema_version")))
            missing = [k for k in ("index_id", "hash_algorithm") if k not in meta]
            if missing or meta.get("hash_algorithm", ALGORITHM) != ALGORITHM:
                problems.append(
                    IntegrityProblem(
                        "meta",
                        f"index identity incomplete or foreign (missing: {', '.join(missing) or 'none'}; "
                        f"hash algorithm {meta.get('hash_algorithm')!r})",
                        "restore the index from a backup or rebuild it with 'provenance index add'",
                    )
                )
            refs = int(self.conn.execute("SELECT count(*) FROM refs").fetchone()[0])
            hashes = int(self.conn.execute("SELECT count(*) FROM hashes").fetchone()[0])
            for ref_id, path, recorded, stored in self.conn.execute(
                "SELECT r.id, r.path, r.frames, count(h.ref_id) FROM refs r LEFT JOIN hashes h ON h.ref_id = r.id "
                "GROUP BY r.id HAVING r.frames != count(h.ref_id) ORDER BY r.id LIMIT 100"
            ):
                problems.append(count_problem(ref_id, path, recorded, stored))
            orphans, ids = self.conn.execute(
                "SELECT count(*), group_concat(DISTINCT ref_id) FROM hashes WHERE ref_id NOT IN (SELECT id FROM refs)"
            ).fetchone()
            if orphans:
                shown = ", ".join(f"#{i}" for i in str(ids).split(",")[:10])
                problems.append(
                    IntegrityProblem(
                        "orphan_rows",
                        f"{orphans} hash rows belong to no reference (reference ids {shown})",
                        "they can make a match point at a missing reference: restore the index from a backup "
                        "or rebuild it with 'provenance index add'",
                    )
                )
            problems += self._check_records()
        except sqlite3.DatabaseError as exc:
            problems.append(
                IntegrityProblem(
                    "storage",
                    f"the index could not be read to the end ({exc})",
                    f"restore {self.path} from a backup; without one, 'sqlite3 {self.path} .recover' copies out "
                    "what is still readable",
                )
            )
        return IntegrityReport(self.NAME, self.url, version, refs, hashes, checks, tuple(problems))

    def _check_records(self) -> list[IntegrityProblem]:
        if "rec" not in {r[1] for r in self.conn.execute("PRAGMA table_info(hashes)")}:
            return []
        wrong: dict[int, int] = {}
        cur = self.conn.execute("SELECT ref_id, t_ms, variant, h, rec FROM hashes")
        while batch := cur.fetchmany(100_000):
            cols = np.array([r[:4] for r in batch], dtype=np.int64)
            expected = pack_records(cols[:, 0], cols[:, 1], cols[:, 2], to_unsigned(cols[:, 3]))
            for row, rec in zip(batch, expected, strict=True):
                if row[4] != rec:
                    wrong[row[0]] = wrong.get(row[0], 0) + 1
        if not wrong:
            return []
        ids = sorted(wrong)
        return [
            IntegrityProblem(
                "lookup_records",
                f"{sum(wrong.values())} stored frames of references {', '.join(f'#{i}' for i in ids[:10])} have a "
                "lookup record that disagrees with their hash, so lookups would miss or misplace them",
                f"remove those references ('provenance index remove {ids[0]}', ...) and add their files again",
            )
        ]

    def _chunk_records(self, chunks: np.ndarray) -> list[list[bytes]]:
        """For each chunk position, the packed records stored under the query's chunk values.

        With more than one core the positions are split between reader
        connections, each in its own thread. Each reader sees the index as
        committed when its statement starts; a reference committed meanwhile
        may show up under some chunks only, which costs the matcher nothing
        (it reads a candidate reference's hashes whole).
        """
        jobs = [(c, np.unique(chunks[:, c]).tolist()) for c in range(CHUNKS)]
        if LOOKUP_THREADS < 2:
            return [_records(self.conn, c, keys) for c, keys in jobs]
        if not self._readers:
            for _ in range(LOOKUP_THREADS):
                reader = sqlite3.connect(
                    str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
                )
                reader.execute("PRAGMA query_only = ON")
                self._readers.append(reader)
        from concurrent.futures import ThreadPoolExecutor

        def run(n: int) -> list[tuple[int, list[bytes]]]:
            reader = self._readers[n]
            return [(c, _records(reader, c, keys)) for c, keys in jobs[n :: len(self._readers)]]

        out: list[list[bytes]] = [[] for _ in range(CHUNKS)]
        with ThreadPoolExecutor(len(self._readers)) as pool:
            for part in pool.map(run, range(len(self._readers))):
                for c, blobs in part:
                    out[c] = blobs
        return out

    def close(self) -> None:
        for reader in self._readers:
            reader.close()
        self._readers = []
        self.conn.close()


def _records(conn: sqlite3.Connection, c: int, keys: list[int]) -> list[bytes]:
    """The concatenated `rec` values stored under chunk position `c` with one of `keys`."""
    blobs = []
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        part = keys[start : start + KEYS_PER_STATEMENT]
        row = conn.execute(
            f"SELECT CAST(group_concat(rec, '') AS BLOB) FROM hashes INDEXED BY hashes_c{c}_rec "
            f"WHERE c{c} IN ({','.join('?' * len(part))})",
            part,
        ).fetchone()
        if row and row[0]:
            blobs.append(row[0])
    return blobs


def _empty() -> Candidates:
    z = np.zeros(0, dtype=np.int64)
    return Candidates(z, z, np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.int16))


def default_path() -> Path:
    """Where the index lives when neither --index nor PROVENANCE_INDEX says (XDG data dir)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "provenance" / "index.sqlite"
