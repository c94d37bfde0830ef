"""SQLite backend: the default, embedded index (``sqlite:///path`` or a plain path).

WAL mode so readers never block the writer; every ingest or removal is one
``BEGIN IMMEDIATE`` transaction, so an interrupted command leaves the index as
it was. Hashes are stored as signed 64-bit integers (SQLite has no unsigned
type) with their four 16-bit chunks, each under its own B-tree index.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexUnavailableError, NotFoundError
from ..hashing import ALGORITHM, FrameHashes
from .base import (
    CHUNKS,
    SCHEMA_VERSION,
    Candidates,
    Index,
    Reference,
    SourceFacts,
    chunks_of,
    to_signed,
    to_unsigned,
    verify,
)

#: Seconds a writer waits for another writer's transaction before giving up.
BUSY_TIMEOUT_S = 60.0

_REF_COLUMNS = (
    "id, sha256, path, kind, duration_s, width, height, fps, size_bytes, sample_fps, frames, added_at, "
    "source_url, publisher, title, first_seen, licence, notes"
)

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
        c0 INTEGER NOT NULL, c1 INTEGER NOT NULL, c2 INTEGER NOT NULL, c3 INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS hashes_ref ON hashes(ref_id, t_ms)",
    *[f"CREATE INDEX IF NOT EXISTS hashes_c{c} ON hashes(c{c})" for c in range(CHUNKS)],
]


def path_from_url(url: str) -> Path:
    """The file path of a ``sqlite:///path`` URL or a plain path."""
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") - 1 :]) if url.startswith("sqlite:////") else Path(url[len("sqlite:///") :])
    if url.startswith("sqlite://"):
        return Path(url[len("sqlite://") :])
    return Path(url)


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
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()
            self.conn.execute("PRAGMA synchronous = NORMAL")
            if mode is None:
                raise sqlite3.DatabaseError("journal mode not set")
            self._ensure_schema()
        except sqlite3.DatabaseError as exc:
            raise IndexUnavailableError(
                f"{self.path}: not a usable provenance index ({exc}); give another --index or restore it from a backup"
            ) from exc

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

    # -- references ----------------------------------------------------------

    @staticmethod
    def _row_to_ref(row: tuple[Any, ...]) -> Reference:
        (ref_id, sha, path, kind, dur, w, h, fps, size, sfps, frames, added, url, pub, title, first, lic, notes) = row
        return Reference(
            id=ref_id,
            sha256=sha,
            path=path,
            kind=kind,
            duration_s=dur,
            width=w,
            height=h,
            fps=fps,
            size_bytes=size,
            sample_fps=sfps,
            frames=frames,
            added_at=added,
            source=SourceFacts(url, pub, title, first, lic, notes),
        )

    def find_sha256(self, sha256: str) -> Reference | None:
        row = self.conn.execute(f"SELECT {_REF_COLUMNS} FROM refs WHERE sha256 = ?", (sha256,)).fetchone()
        return self._row_to_ref(row) if row else None

    def add(
        self, ref: Reference, hashes: FrameHashes, *, facts: dict[str, Any] | None = None
    ) -> tuple[Reference, bool]:
        if hashes.algorithm != ALGORITHM:
            raise ValueError(f"index stores {ALGORITHM}, got {hashes.algorithm}")
        chunks = chunks_of(hashes.hashes)
        signed = to_signed(hashes.hashes)
        t_ms = np.round(np.asarray(hashes.times) * 1000).astype(np.int64)
        rows = [
            (int(t), int(v), int(h), int(c[0]), int(c[1]), int(c[2]), int(c[3]))
            for t, v, h, c in zip(t_ms, hashes.variants, signed, chunks, strict=True)
        ]
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
            self.conn.executemany(
                "INSERT INTO hashes(ref_id, t_ms, variant, h, c0, c1, c2, c3) VALUES (?,?,?,?,?,?,?,?)",
                [(ref_id, *r) for r in rows],
            )
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        return self.get(ref_id), True

    def get(self, ref_id: int) -> Reference:
        row = self.conn.execute(f"SELECT {_REF_COLUMNS} FROM refs WHERE id = ?", (ref_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no reference with id {ref_id} in {self.path}; see 'provenance index list'")
        return self._row_to_ref(row)

    def facts(self, ref_id: int) -> dict[str, Any] | None:
        """The media facts stored with a reference at ingest, if any."""
        row = self.conn.execute("SELECT facts FROM refs WHERE id = ?", (ref_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no reference with id {ref_id} in {self.path}; see 'provenance index list'")
        return json.loads(row[0]) if row[0] else None

    def references(self) -> list[Reference]:
        return [self._row_to_ref(r) for r in self.conn.execute(f"SELECT {_REF_COLUMNS} FROM refs ORDER BY id")]

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
        chunks = chunks_of(query)
        keys = [(int(i), c, int(chunks[i, c])) for i in range(len(query)) for c in range(CHUNKS)]
        cur = self.conn.cursor()
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS q (qi INTEGER, chunk INTEGER, k INTEGER)")
        cur.execute("DELETE FROM q")
        cur.executemany("INSERT INTO q VALUES (?,?,?)", keys)
        parts = " UNION ALL ".join(
            f"SELECT q.qi, h.ref_id, h.t_ms, h.variant, h.h FROM q CROSS JOIN hashes h INDEXED BY hashes_c{c} "
            f"ON h.c{c} = q.k WHERE q.chunk = {c}"
            for c in range(CHUNKS)
        )
        rows = cur.execute(parts).fetchall()
        cur.execute("DELETE FROM q")
        if not rows:
            return _empty()
        arr = np.array(rows, dtype=np.int64)
        # A stored frame sharing several chunks with a query hash comes back once per chunk.
        arr = np.unique(arr, axis=0)
        keep, dist = verify(query, arr[:, 0], to_unsigned(arr[:, 4]), max_distance)
        arr, dist = arr[keep], dist[keep]
        return Candidates(arr[:, 0], arr[:, 1], arr[:, 2] / 1000.0, arr[:, 3].astype(np.int8), dist)

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

    def close(self) -> None:
        self.conn.close()


def _empty() -> Candidates:
    z = np.zeros(0, dtype=np.int64)
    return Candidates(z, z, np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.int16))


def default_path() -> Path:
    """Where the index lives when neither --index nor PROVENANCE_INDEX says (XDG data dir)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "provenance" / "index.sqlite"
