"""Stage 5, index: `SqlIndex`, the one index over any SQL database, and its `Dialect`.

The schema, the SQL of references, claims and integrity checks, the bulk
paths and the translation of database errors are written here once. A
`Dialect` holds what differs between databases: bound-parameter marks,
column types, how to connect and start a write transaction, how to insert a
reference's hash rows in bulk, the candidate query, and the wording of
errors. `SQLiteDialect` (``index/sqlite.py``) and `PostgresDialect`
(``index/postgres.py``) are the two; `open_index` picks one by URL::

    >>> from provenance.index.sqlite import SQLiteDialect
    >>> with SqlIndex(SQLiteDialect("sqlite:///tmp/refs.sqlite"), create=True) as idx:
    ...     idx.stats()["backend"]
    'sqlite'

Every public method turns the database's own errors into
`IndexUnavailableError` (exit 3, one line naming the index and what to do):
a damaged SQLite file, or a PostgreSQL server that goes away between two
commands or in the middle of one.
"""

from __future__ import annotations

import abc
import functools
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np

from ..audio import SoundPrint
from ..errors import IndexUnavailableError, NotFoundError
from ..features import Features, FrameFeatures
from ..hashing import ALGORITHM, FrameHashes
from . import descriptors
from . import views as views_mod
from .base import (
    CHUNKS,
    REF_COLUMNS,
    SCHEMA_VERSION,
    Candidates,
    Index,
    IntegrityProblem,
    IntegrityReport,
    Reference,
    camera_to_json,
    chunks_of,
    count_problem,
    origins_to_json,
    reference_from_row,
    schema_problem,
    spread_to_rows,
    to_signed,
    to_unsigned,
)
from .claims import Claim, ClaimOwner
from .sound import create_sound_tables, delete_sound, lookup_marks, lookup_sound, read_sound, store_sound

#: The tables, with the column types a dialect fills in (`Dialect.TYPES`).
#: `facts` is JSON text (not a JSON type) so every backend gives back exactly what was stored.
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS refs (
        id {key},
        sha256 TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        duration_s {real} NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        fps {real},
        size_bytes {int64} NOT NULL,
        sample_fps {real} NOT NULL,
        frames INTEGER NOT NULL,
        added_at TEXT NOT NULL,
        source_url TEXT, publisher TEXT, title TEXT, first_seen TEXT, licence TEXT, notes TEXT,
        facts TEXT, origins TEXT, camera TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS hashes (
        ref_id {int64} NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
        t_ms INTEGER NOT NULL,
        variant {int8} NOT NULL,
        h {int64} NOT NULL,
        c0 INTEGER NOT NULL, c1 INTEGER NOT NULL, c2 INTEGER NOT NULL, c3 INTEGER NOT NULL{record}
    )""",
    "CREATE INDEX IF NOT EXISTS hashes_ref ON hashes(ref_id, t_ms)",
]
#: Files being added (`claims`): created with a new index, and on first use in one made before claims.
CLAIMS_TABLE = """CREATE TABLE IF NOT EXISTS claims (
        sha256 TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        claimed_at {real} NOT NULL,
        expires_at {real} NOT NULL
    )"""
#: The columns of `claims`, in the order `Claim` takes them.
CLAIM_COLUMNS = "sha256, owner, host, pid, claimed_at, expires_at"
#: Tries of one `claim` while other writers release or take over the same claim between its
#: statements: each try ends in a decision unless it lost such a race, so a few are plenty.
CLAIM_ATTEMPTS = 3

#: A reference row, skipped when its file is stored already (the sha256 unique constraint).
_REF_INSERT = (
    "INSERT INTO refs(sha256, path, kind, duration_s, width, height, fps, size_bytes, sample_fps, frames, "
    "added_at, source_url, publisher, title, first_seen, licence, notes, facts, origins, camera) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (sha256) DO NOTHING RETURNING id"
)

_T = TypeVar("_T")
_R = TypeVar("_R")
#: Runs jobs over the lookup's connections: ``fan_out(jobs, run)`` calls ``run(conn, some_jobs)`` per connection.
FanOut = Callable[[list[Any], Callable[[Any, list[Any]], list[Any]]], list[Any]]


class ColumnTypes(NamedTuple):
    """How a dialect spells the column types of `SCHEMA`, and the columns only its `hashes` has."""

    key: str  # refs.id: a 64-bit primary key numbered by the database
    real: str  # a double
    int64: str
    int8: str  # hashes.variant, a small integer
    record: str  # DDL of extra `hashes` columns, starting with a comma ("" for none)


class HashRows(NamedTuple):
    """A reference's frame hashes as the columns of `hashes` (one entry per stored frame)."""

    t_ms: np.ndarray
    variants: np.ndarray
    signed: np.ndarray
    chunks: np.ndarray
    hashes: np.ndarray

    def tuples(self, ref_id: int) -> Iterator[tuple[int, ...]]:
        """(ref_id, t_ms, variant, h, c0, c1, c2, c3) per stored frame."""
        columns = zip(
            self.t_ms.tolist(), self.variants.tolist(), self.signed.tolist(), self.chunks.tolist(), strict=True
        )
        for t, v, h, c in columns:
            yield (ref_id, t, v, h, c[0], c[1], c[2], c[3])


class Dialect(abc.ABC):
    """What one SQL database needs that another does not; `SqlIndex` does the rest.

    A dialect is made from the index URL and names the index in messages
    (`where`) and reports (`url`, without a password).
    """

    #: The backend's name in reports and ``index stats``.
    NAME: ClassVar[str]
    #: The driver's bound-parameter mark; SQL here is written with ``?``.
    MARK: ClassVar[str]
    #: Column types and the extra `hashes` columns filled into `SCHEMA`.
    TYPES: ClassVar[ColumnTypes]
    #: The column each chunk index covers besides its chunk.
    CHUNK_COVER: ClassVar[str]
    #: SQL listing the tables where the index lives.
    TABLES: ClassVar[str]
    #: The query that lists the `refs` table's column names.
    REF_COLUMNS_QUERY: ClassVar[str]
    #: SQL for the database's clock in seconds since 1970 (claims expire by it).
    NOW: ClassVar[str]
    #: Most ids bound in one statement of `get_many` (None: any number).
    IDS_PER_STATEMENT: ClassVar[int | None]
    #: Connections a lookup spreads its chunk probes over (1: the main connection alone).
    LOOKUP_CONNECTIONS: ClassVar[int]
    #: SQL run on each lookup connection when it opens.
    READER_SETUP: ClassVar[str]
    #: What `Index.integrity` checks, as named in its report.
    CHECKS: ClassVar[tuple[str, ...]]
    #: The features channel's column type for bytes, and what follows its inverted index's DDL.
    BLOB: ClassVar[str] = "BLOB"
    WITHOUT_ROWID: ClassVar[str] = ""

    #: The driver's exception classes: each is an unavailable index.
    errors: tuple[type[Exception], ...]
    url: str
    where: str

    @abc.abstractmethod
    def __init__(self, url: str) -> None:
        """The dialect of the index at `url` (sets `url` and `where`)."""

    @classmethod
    def schema(cls) -> list[str]:
        """Every statement that creates an empty index, tables first, chunk indexes and claims last."""
        types = cls.TYPES._asdict()
        return (
            [s.format(**types) for s in SCHEMA]
            + cls.chunk_indexes()
            + [CLAIMS_TABLE.format(**types)]
            + cls.feature_schema()
            + cls.view_schema()
        )

    @classmethod
    def feature_schema(cls) -> list[str]:
        """The features channel's tables (`index.descriptors`), also created on first use in an older index."""
        return descriptors.schema(cls.TYPES.key, cls.TYPES.int64, cls.BLOB, cls.WITHOUT_ROWID)

    @classmethod
    def view_schema(cls) -> list[str]:
        """Verify's views' table (`index.views`), also created on first use in an older index."""
        return views_mod.schema(cls.TYPES.int64, cls.BLOB)

    @classmethod
    def chunk_indexes(cls) -> list[str]:
        """The chunk indexes, apart so that bulk loads can build them after the rows."""
        cover = cls.CHUNK_COVER
        return [f"CREATE INDEX IF NOT EXISTS hashes_c{c}_{cover} ON hashes(c{c}, {cover})" for c in range(CHUNKS)]

    def locate(self, create: bool) -> None:
        """Check, before connecting, that there is an index or room for one. Raises IndexUnavailableError."""
        return None

    @abc.abstractmethod
    def connect(self, *, shared: bool = False) -> Any:
        """A new autocommit connection; `shared`: usable from several threads (callers take turns).

        Raises:
            IndexUnavailableError: the database cannot be reached.
        """

    def setup(self, conn: Any) -> None:
        """Session settings of the main connection, before the schema is read."""
        return None

    def after_schema(self, conn: Any) -> None:
        """Settings that need the schema in place (the SQLite journal mode)."""
        return None

    def reader(self) -> Any:
        """A connection for a lookup thread."""
        conn = self.connect(shared=True)
        conn.execute(self.READER_SETUP)
        return conn

    @abc.abstractmethod
    def check_new(self, tables: set[str], create: bool) -> None:
        """Where there is no ``meta`` table: raise IndexUnavailableError unless an index may be created among `tables`."""

    @abc.abstractmethod
    def transaction(self, conn: Any, *, schema: bool = False) -> AbstractContextManager[None]:
        """One write transaction, committed on leaving and rolled back on an exception; `schema`: also
        serialised against other processes creating the schema."""

    def upgrade(self, conn: Any) -> None:
        """Bring a schema version 1 index to `SCHEMA_VERSION`, in one transaction (none needed by default)."""
        return None

    def text(self, value: str | None) -> str | None:
        """A text value as the database can store it."""
        return value

    @abc.abstractmethod
    def insert_hashes(self, conn: Any, ref_id: int, rows: HashRows) -> None:
        """Write one reference's hash rows, inside the caller's transaction (the bulk path)."""

    @abc.abstractmethod
    def near(self, conn: Any, fan_out: FanOut, unique: np.ndarray, max_distance: int) -> np.ndarray:
        """The candidate query: stored frames within `max_distance` of distinct query hashes `unique`
        that share a chunk with them.

        Returns:
            (M, 5) int64 rows: index into `unique`, reference id, time (ms), variant, distance
            (a frame may come more than once).
        """

    def id_filter(self, column: str, ids: list[int]) -> tuple[str, Sequence[Any]]:
        """A WHERE clause matching `column` against `ids`, and its parameters."""
        return f"{column} IN ({','.join('?' * len(ids))})", ids

    @abc.abstractmethod
    def id_list(self, column: str) -> str:
        """An aggregate of the distinct values of `column` (for messages)."""

    @abc.abstractmethod
    def parse_ids(self, value: Any) -> list[str]:
        """The values of an `id_list` aggregate."""

    @abc.abstractmethod
    def bytes_on_disk(self, conn: Any) -> int:
        """What the index takes in storage."""

    def storage_problems(self, conn: Any) -> list[IntegrityProblem]:
        """The storage's own check, run before the others."""
        return []

    def record_problems(self, conn: Any) -> list[IntegrityProblem]:
        """Checks of what only this backend stores, run after the others."""
        return []

    def unreachable(self, exc: Exception) -> bool:
        """Whether an error says the database went away (a server stopped), not that the index is damaged."""
        return False

    @abc.abstractmethod
    def unusable(self, exc: Exception) -> IndexUnavailableError:
        """The error for a database that opened but is not a usable index."""

    @abc.abstractmethod
    def failed(self, exc: Exception) -> IndexUnavailableError:
        """The error for a command that the database failed."""

    @abc.abstractmethod
    def unreadable(self, exc: Exception) -> IntegrityProblem:
        """The integrity problem of an index that could not be read to the end."""


_C = TypeVar("_C", bound=type)


def _guarded(cls: _C) -> _C:
    """Turn the database's errors in every public method into the dialect's `IndexUnavailableError` (exit 3).

    A damaged SQLite file often opens fine and fails on the first page it
    reads ("database disk image is malformed"), and a PostgreSQL server may
    stop between two statements: either is an unusable index, not a crash.
    """

    def guard(method: Any) -> Any:
        @functools.wraps(method)
        def call(self: SqlIndex, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except self.dialect.errors as exc:
                raise self.dialect.failed(exc) from exc

        return call

    for name, value in list(vars(cls).items()):
        if callable(value) and not name.startswith("_") and name != "close":
            setattr(cls, name, guard(value))
    return cls


@_guarded
class SqlIndex(Index):
    """A reference index in an SQL database, spoken to through a `Dialect`."""

    def __init__(self, dialect: Dialect, *, create: bool = False) -> None:
        """Open (or, with `create`, make) the index.

        Raises:
            IndexUnavailableError: no index there (and not `create`), not a
                provenance index, damaged, newer, or unreachable.
        """
        self.dialect = dialect
        self.NAME = dialect.NAME
        self.url = dialect.url
        self._readers: list[Any] = []
        self._claims_conn: Any = None
        self._claims_lock = threading.Lock()
        dialect.locate(create)
        conn: Any = None
        try:
            self.conn = conn = dialect.connect()
            dialect.setup(conn)
            # Schema first: switching SQLite to WAL rewrites the file header, and a
            # file that is not a provenance index must be left as it was.
            self._ensure_schema(create)
            dialect.after_schema(conn)
        except dialect.errors as exc:
            if conn is not None:
                conn.close()
            raise dialect.unusable(exc) from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise

    def _sql(self, text: str) -> str:
        return text if self.dialect.MARK == "?" else text.replace("?", self.dialect.MARK)

    # -- schema ------------------------------------------------------------

    def _tables(self) -> set[str]:
        return {str(r[0]) for r in self.conn.execute(self.dialect.TABLES).fetchall()}

    def _ensure_schema(self, create: bool) -> None:
        tables = self._tables()
        if "meta" not in tables:
            self.dialect.check_new(tables, create)
            with self.dialect.transaction(self.conn, schema=True):
                if "meta" not in self._tables():
                    for statement in self.dialect.schema():
                        self.conn.execute(statement)
                    now = datetime.now(UTC).isoformat(timespec="seconds")
                    self.conn.cursor().executemany(
                        self._sql("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"),
                        [
                            ("schema_version", str(SCHEMA_VERSION)),
                            ("index_id", str(uuid.uuid4())),
                            ("hash_algorithm", ALGORITHM),
                            ("created_at", now),
                        ],
                    )
        self._check_meta()

    def _read_meta(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.conn.execute("SELECT key, value FROM meta").fetchall()}

    def _check_meta(self) -> None:
        where = self.dialect.where
        meta = self._read_meta()
        try:
            version = int(meta.get("schema_version", "0"))
        except ValueError as exc:
            raise IndexUnavailableError(
                f"{where}: its schema version {meta.get('schema_version', '')[:40]!r} is not a number, so it is not "
                "a provenance index this program wrote; give another --index"
            ) from exc
        if version > SCHEMA_VERSION:
            raise IndexUnavailableError(
                f"{where}: index schema version {version} is newer than this provenance supports "
                f"({SCHEMA_VERSION}); upgrade provenance (pip install -U provenance)"
            )
        if version == 1 and meta.get("hash_algorithm") == ALGORITHM:
            self.dialect.upgrade(self.conn)
            meta = self._read_meta()
            version = int(meta["schema_version"])
        if version < 1:
            raise IndexUnavailableError(f"{where}: index has no schema version; rebuild it with 'provenance index add'")
        self._add_origins_column()
        if meta.get("hash_algorithm") != ALGORITHM:
            raise IndexUnavailableError(
                f"{where}: index holds {meta.get('hash_algorithm')!r} hashes, this provenance makes {ALGORITHM!r}; "
                "rebuild the index"
            )
        self.meta = meta

    def _add_origins_column(self) -> None:
        """Give an index made before fact origins (or camera findings) were recorded its `refs.origins`
        (`refs.camera`) column (additive: older versions of provenance select their columns by name and read on)."""
        for column in ("origins", "camera"):
            if column in {str(r[0]) for r in self.conn.execute(self.dialect.REF_COLUMNS_QUERY).fetchall()}:
                continue
            with self.dialect.transaction(self.conn):
                if column not in {str(r[0]) for r in self.conn.execute(self.dialect.REF_COLUMNS_QUERY).fetchall()}:
                    self.conn.execute(f"ALTER TABLE refs ADD COLUMN {column} TEXT")

    # -- references ----------------------------------------------------------

    def find_sha256(self, sha256: str) -> Reference | None:
        row = self.conn.execute(self._sql(f"SELECT {REF_COLUMNS} FROM refs WHERE sha256 = ?"), (sha256,)).fetchone()
        return reference_from_row(row) if row else None

    def add(
        self,
        ref: Reference,
        hashes: FrameHashes,
        *,
        facts: dict[str, Any] | None = None,
        sound: SoundPrint | None = None,
        features: Features | None = None,
        views: Sequence[views_mod.Row] = (),
    ) -> tuple[Reference, bool]:
        if features is not None:
            self._ensure_feature_tables()
        if views:
            self._ensure_view_table()
        if sound is not None:
            self._ensure_sound_tables()
        if hashes.algorithm != ALGORITHM:
            raise ValueError(f"index stores {ALGORITHM}, got {hashes.algorithm}")
        rows = HashRows(
            np.round(np.asarray(hashes.times) * 1000).astype(np.int64),
            np.asarray(hashes.variants, dtype=np.int64),
            to_signed(hashes.hashes),
            chunks_of(hashes.hashes),
            np.asarray(hashes.hashes, dtype=np.uint64),
        )
        s, text = ref.source, self.dialect.text
        values = (
            ref.sha256,
            text(ref.path),
            ref.kind,
            ref.duration_s,
            ref.width,
            ref.height,
            ref.fps,
            ref.size_bytes,
            ref.sample_fps,
            len(hashes),
            ref.added_at,
            text(s.source_url),
            text(s.publisher),
            text(s.title),
            text(s.first_seen),
            text(s.licence),
            text(s.notes),
            json.dumps(facts) if facts is not None else None,
            origins_to_json(s),
            camera_to_json(ref),
        )
        with self.dialect.transaction(self.conn):
            # A file stored meanwhile by another writer conflicts on sha256 (PostgreSQL
            # waits for that writer's transaction first): never a duplicate.
            inserted = self.conn.execute(self._sql(_REF_INSERT), values).fetchall()
            if not inserted:
                existing = self.find_sha256(ref.sha256)
                if existing is None:  # pragma: no cover - the conflicting row was removed meanwhile
                    raise IndexUnavailableError(
                        f"{self.dialect.where}: {ref.sha256} was added and removed concurrently; retry"
                    )
                return existing, False
            ref_id = int(inserted[0][0])
            self.dialect.insert_hashes(self.conn, ref_id, rows)
            if sound is not None:
                self._store_sound(ref_id, sound)
            if features is not None:
                descriptors.store(self.conn, self._sql, ref_id, features.frames)
            if views:
                views_mod.store(self.conn, self._sql, ref_id, views)
        return self.get(ref_id), True

    def _missing(self, ref_id: int) -> NotFoundError:
        return NotFoundError(f"no reference with id {ref_id} in {self.dialect.where}; see 'provenance index list'")

    def get(self, ref_id: int) -> Reference:
        row = self.conn.execute(self._sql(f"SELECT {REF_COLUMNS} FROM refs WHERE id = ?"), (ref_id,)).fetchone()
        if row is None:
            raise self._missing(ref_id)
        return reference_from_row(row)

    def get_many(self, ref_ids: Iterable[int]) -> dict[int, Reference]:
        ids = sorted({int(i) for i in ref_ids})
        out: dict[int, Reference] = {}
        step = self.dialect.IDS_PER_STATEMENT or max(1, len(ids))
        for start in range(0, len(ids), step):
            clause, params = self.dialect.id_filter("id", ids[start : start + step])
            for row in self.conn.execute(self._sql(f"SELECT {REF_COLUMNS} FROM refs WHERE {clause}"), params):
                ref = reference_from_row(row)
                out[int(ref.id)] = ref
        return out

    def facts(self, ref_id: int) -> dict[str, Any] | None:
        """The media facts stored with a reference at ingest, if any."""
        row = self.conn.execute(self._sql("SELECT facts FROM refs WHERE id = ?"), (ref_id,)).fetchone()
        if row is None:
            raise self._missing(ref_id)
        return json.loads(row[0]) if row[0] else None

    def references(self) -> list[Reference]:
        return [reference_from_row(r) for r in self.conn.execute(f"SELECT {REF_COLUMNS} FROM refs ORDER BY id")]

    def remove(self, ref_id: int) -> Reference:
        with self.dialect.transaction(self.conn):
            ref = self.get(ref_id)
            if descriptors.present(self._tables()):
                descriptors.remove(self.conn, self._sql, ref_id)
            self.conn.execute(self._sql("DELETE FROM hashes WHERE ref_id = ?"), (ref_id,))
            if self._has_sound():
                delete_sound(self.conn, self._sql, ref_id, marks=self._has_marks())
            if self._has_views():
                views_mod.remove(self.conn, self._sql, ref_id)
            self.conn.execute(self._sql("DELETE FROM refs WHERE id = ?"), (ref_id,))
        return ref

    # -- hashes ----------------------------------------------------------------

    def frame_hashes(self, ref_id: int) -> FrameHashes:
        rows = self.conn.execute(
            self._sql("SELECT t_ms, variant, h FROM hashes WHERE ref_id = ? ORDER BY t_ms, variant"), (ref_id,)
        ).fetchall()
        if not rows:
            return FrameHashes(np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.uint64))
        arr = np.array(rows, dtype=np.int64)
        return FrameHashes(arr[:, 0] / 1000.0, arr[:, 1].astype(np.int8), to_unsigned(arr[:, 2]))

    def lookup(self, hashes: np.ndarray, max_distance: int) -> Candidates:
        query = np.asarray(hashes, dtype=np.uint64)
        if len(query) == 0:
            return _empty()
        # Each distinct query hash is looked up once (a still shot sampled several times gives identical hashes).
        unique, inverse = np.unique(query, return_inverse=True)
        table = self.dialect.near(self.conn, self._fan_out, unique, int(max_distance))
        if len(table) == 0:
            return _empty()
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

    # -- sound (the audio stage's fingerprints; tables made by the first reference stored with sound) --------

    def _has_sound(self) -> bool:
        if not getattr(self, "_sound_tables", False):
            self._sound_tables = "sound_items" in self._tables()
        return self._sound_tables

    def _ensure_sound_tables(self) -> None:
        """Create the sound tables when missing, in a schema transaction of their own before the write's.

        Made inside a write, two writers that had each inserted a reference
        deadlocked on PostgreSQL (each table's foreign key locks `refs`).
        """
        if self._has_sound() and self._has_marks():
            return
        with self.dialect.transaction(self.conn, schema=True):
            create_sound_tables(self.conn, self.dialect.TYPES._asdict())
        self._sound_tables = self._marks_table = True

    def _store_sound(self, ref_id: int, sound: SoundPrint) -> None:
        store_sound(self.conn, self._sql, ref_id, sound)

    def _has_marks(self) -> bool:
        if not getattr(self, "_marks_table", False):
            self._marks_table = "sound_marks" in self._tables()
        return self._marks_table

    def sound_mark_lookup(self, hashes: np.ndarray) -> np.ndarray:
        if not self._has_marks():
            return np.zeros((0, 3), dtype=np.int64)
        return lookup_marks(self.conn, self._sql, np.asarray(hashes, dtype=np.int64))

    def sound(self, ref_id: int) -> SoundPrint | None:
        return read_sound(self.conn, self._sql, ref_id, marks=self._has_marks()) if self._has_sound() else None

    def sound_lookup(self, keys: np.ndarray) -> np.ndarray:
        if not self._has_sound():
            return np.zeros((0, 3), dtype=np.int64)
        return lookup_sound(self.conn, self._sql, np.asarray(keys, dtype=np.int64))

    def _fan_out(self, jobs: list[_T], run: Callable[[Any, list[_T]], list[_R]]) -> list[_R]:
        """``run(connection, jobs)`` with the jobs split between the lookup connections, one thread each.

        Each connection sees the index as committed when its statement
        starts; a reference committed meanwhile may show up under some
        chunks only, which costs the matcher nothing (it reads a candidate
        reference's hashes whole).
        """
        if self.dialect.LOOKUP_CONNECTIONS < 2:
            return run(self.conn, jobs)
        if not self._readers:
            for _ in range(self.dialect.LOOKUP_CONNECTIONS):
                self._readers.append(self.dialect.reader())
        readers = self._readers
        with ThreadPoolExecutor(len(readers)) as pool:
            parts = pool.map(lambda n: run(readers[n], jobs[n :: len(readers)]), range(len(readers)))
            return [result for part in parts for result in part]

    # -- local features (features.py; their own tables: index/descriptors.py) -----

    def _ensure_feature_tables(self) -> None:
        """Create the feature tables in an index made before them (one schema transaction)."""
        if descriptors.present(self._tables()):
            return
        with self.dialect.transaction(self.conn, schema=True):
            for statement in self.dialect.feature_schema():
                self.conn.execute(statement)

    def has_features(self) -> bool:
        if not descriptors.present(self._tables()):
            return False
        return self.conn.execute("SELECT 1 FROM feature_frames LIMIT 1").fetchone() is not None

    def feature_lookup(self, keys: np.ndarray) -> np.ndarray:
        if not descriptors.present(self._tables()):
            return np.zeros((0, 2), dtype=np.int64)
        return descriptors.lookup(self.conn, self._sql, keys)

    def feature_frames(self, frame_ids: Iterable[int]) -> dict[int, tuple[int, FrameFeatures]]:
        return descriptors.frames(self.conn, self._sql, frame_ids)

    def feature_frame_times(self, frame_ids: Iterable[int]) -> dict[int, tuple[int, float]]:
        return descriptors.frame_times(self.conn, self._sql, frame_ids)

    def reference_features(
        self, ref_id: int, start_s: float | None = None, end_s: float | None = None
    ) -> list[FrameFeatures]:
        if not descriptors.present(self._tables()):
            return []
        return [f for _, f in descriptors.of_reference(self.conn, self._sql, ref_id, start_s, end_s)]

    def feature_counts(self) -> tuple[int, int]:
        return descriptors.counts(self.conn) if descriptors.present(self._tables()) else (0, 0)

    # -- verify's views (index/views.py; a table made by the first reference stored with views) -----

    def _has_views(self) -> bool:
        if not getattr(self, "_view_table", False):
            self._view_table = views_mod.present(self._tables())
        return self._view_table

    def _ensure_view_table(self) -> None:
        """Create the views' table in an index made before it (a schema transaction of its own, as sound's)."""
        if self._has_views():
            return
        with self.dialect.transaction(self.conn, schema=True):
            for statement in self.dialect.view_schema():
                self.conn.execute(statement)
        self._view_table = True

    def reference_views(self, ref_id: int, start_s: float, end_s: float) -> views_mod.Views | None:
        if not self._has_views():
            return None
        return views_mod.window(self.conn, self._sql, ref_id, start_s, end_s)

    # -- facts about the index ---------------------------------------------------

    def stats(self) -> dict[str, Any]:
        refs, seconds = self.conn.execute("SELECT count(*), coalesce(sum(duration_s), 0) FROM refs").fetchone()
        hashes = self.conn.execute("SELECT count(*) FROM hashes").fetchone()[0]
        return {
            "backend": self.NAME,
            "url": self.url,
            "references": int(refs),
            "hashes": int(hashes),
            "footage_s": round(float(seconds), 3),
            "bytes_on_disk": int(self.dialect.bytes_on_disk(self.conn)),
            "schema_version": int(self.meta["schema_version"]),
            "index_id": self.meta["index_id"],
            "hash_algorithm": self.meta["hash_algorithm"],
            "feature_frames": self.feature_counts()[0],
            "view_frames": views_mod.counts(self.conn) if self._has_views() else 0,
            **self._channel_stats(),
        }

    def _channel_stats(self) -> dict[str, int]:
        """The rows of the features and sound channels: lookup keys, sound tracks and their items."""
        keys = self.feature_counts()[1]
        tracks = items = 0
        if self._has_sound():
            tracks, items = self.conn.execute(
                "SELECT (SELECT count(*) FROM sound_tracks), (SELECT count(*) FROM sound_items)"
            ).fetchone()
        return {"feature_keys": int(keys), "sound_tracks": int(tracks), "sound_items": int(items)}

    #: What `_channel_problems` checks, added to the dialect's `CHECKS` in an integrity report.
    CHANNEL_CHECKS = ("sound_counts", "channel_orphan_rows")

    def _channel_problems(self) -> list[IntegrityProblem]:
        """The features, sound and views rows: each sound track's items all stored, and no row of any
        of them left without its reference (or a lookup key without its described frame)."""
        problems: list[IntegrityProblem] = []
        rebuild = "restore the index from a backup or rebuild it with 'provenance index add'"
        if self._has_sound():
            for ref_id, path, recorded, stored in self.conn.execute(
                "SELECT t.ref_id, r.path, t.items, (SELECT count(*) FROM sound_items i WHERE i.ref_id = t.ref_id) "
                "FROM sound_tracks t JOIN refs r ON r.id = t.ref_id "
                "WHERE t.items != (SELECT count(*) FROM sound_items i WHERE i.ref_id = t.ref_id) "
                "ORDER BY t.ref_id LIMIT 100"
            ):
                problems.append(
                    IntegrityProblem(
                        "sound_count",
                        f"reference #{ref_id} ({path}) records {recorded} sound items but {stored} are stored",
                        f"remove it with 'provenance index remove {ref_id}' and add its file again",
                    )
                )
        orphan_queries = []
        if self._has_sound():
            orphan_queries += [
                ("sound_tracks", "SELECT count(*) FROM sound_tracks WHERE ref_id NOT IN (SELECT id FROM refs)"),
                ("sound_items", "SELECT count(*) FROM sound_items WHERE ref_id NOT IN (SELECT id FROM refs)"),
            ]
        if descriptors.present(self._tables()):
            orphan_queries += [
                ("feature_frames", "SELECT count(*) FROM feature_frames WHERE ref_id NOT IN (SELECT id FROM refs)"),
                (
                    "feature_keys",
                    "SELECT count(*) FROM feature_keys WHERE frame_id NOT IN (SELECT id FROM feature_frames)",
                ),
            ]
        if self._has_views():
            orphan_queries.append(
                ("view_chunks", "SELECT count(*) FROM view_chunks WHERE ref_id NOT IN (SELECT id FROM refs)")
            )
        for table, statement in orphan_queries:
            n = int(self.conn.execute(statement).fetchone()[0])
            if n:
                owner = "described frame" if table == "feature_keys" else "reference"
                problems.append(
                    IntegrityProblem("channel_orphan_rows", f"{n} {table} rows belong to no {owner}", rebuild)
                )
        return problems

    def identity(self) -> dict[str, Any]:
        refs, hashes = self.conn.execute("SELECT count(*), (SELECT count(*) FROM hashes) FROM refs").fetchone()
        return {
            "backend": self.NAME,
            "url": self.url,
            "index_id": self.meta["index_id"],
            "schema_version": int(self.meta["schema_version"]),
            "references": int(refs),
            "hashes": int(hashes),
        }

    def integrity(self) -> IntegrityReport:
        """The storage's own check where the backend has one, the schema version and meta,
        hash counts per reference, hash rows of no reference, and what only the backend
        stores (SQLite: each row's lookup record). Reads every row."""
        problems: list[IntegrityProblem] = []
        refs = hashes = 0
        version: int | None = None
        try:
            problems += self.dialect.storage_problems(self.conn)
            meta = self._read_meta()
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
                problems.append(count_problem(int(ref_id), str(path), int(recorded), int(stored)))
            orphans, ids = self.conn.execute(
                f"SELECT count(*), {self.dialect.id_list('ref_id')} FROM hashes "
                "WHERE ref_id NOT IN (SELECT id FROM refs)"
            ).fetchone()
            if orphans:
                shown = ", ".join(f"#{i}" for i in self.dialect.parse_ids(ids)[:10])
                problems.append(
                    IntegrityProblem(
                        "orphan_rows",
                        f"{orphans} hash rows belong to no reference (reference ids {shown})",
                        "they can make a match point at a missing reference: restore the index from a backup "
                        "or rebuild it with 'provenance index add'",
                    )
                )
            problems += self.dialect.record_problems(self.conn)
            problems += self._channel_problems()
        except self.dialect.errors as exc:
            if self.dialect.unreachable(exc):
                raise  # not damage: the guard says the index is unavailable
            problems.append(self.dialect.unreadable(exc))
        checks = self.dialect.CHECKS + self.CHANNEL_CHECKS
        return IntegrityReport(self.NAME, self.url, version, refs, hashes, checks, tuple(problems))

    # -- claims (files being added; see claims.py) -----------------------------------

    def _claims(self) -> Any:
        """The connection claims are written through (any thread, one at a time under `_claims_lock`)."""
        if self._claims_conn is None:
            conn = self.dialect.connect(shared=True)
            try:
                with self.dialect.transaction(conn, schema=True):
                    conn.execute(CLAIMS_TABLE.format(**self.dialect.TYPES._asdict()))
            except BaseException:
                conn.close()
                raise
            self._claims_conn = conn
        return self._claims_conn

    def claim(self, sha256: str, owner: ClaimOwner, ttl_s: float) -> Claim | None:
        now = self.dialect.NOW
        mine = (owner.token, owner.host, owner.pid, float(ttl_s))
        held: Claim | None = None
        with self._claims_lock:
            conn = self._claims()
            for _ in range(CLAIM_ATTEMPTS):
                with self.dialect.transaction(conn):
                    if conn.execute(
                        self._sql(
                            f"INSERT INTO claims({CLAIM_COLUMNS}) VALUES (?, ?, ?, ?, {now}, {now} + ?) "
                            "ON CONFLICT (sha256) DO NOTHING RETURNING sha256"
                        ),
                        (sha256, *mine),
                    ).fetchall():
                        return None
                    row = conn.execute(
                        self._sql(f"SELECT {CLAIM_COLUMNS}, {now} FROM claims WHERE sha256 = ?"), (sha256,)
                    ).fetchone()
                    if row is None:
                        continue  # released since the insert: try again
                    held = Claim(str(row[0]), str(row[1]), str(row[2]), int(row[3]), float(row[4]), float(row[5]))
                    if held.owner == owner.token:
                        return None
                    if not held.is_stale(float(row[6]), owner.host):
                        return held
                    # Take a stale claim over, unless another writer has just done so.
                    if conn.execute(
                        self._sql(
                            f"UPDATE claims SET owner = ?, host = ?, pid = ?, claimed_at = {now}, "
                            f"expires_at = {now} + ? WHERE sha256 = ? AND owner = ? AND expires_at = ? "
                            "RETURNING sha256"
                        ),
                        (*mine, sha256, held.owner, held.expires_at),
                    ).fetchall():
                        return None
        return held

    def release_claim(self, sha256: str, owner: ClaimOwner) -> None:
        with self._claims_lock:
            self._claims().execute(
                self._sql("DELETE FROM claims WHERE sha256 = ? AND owner = ?"), (sha256, owner.token)
            )

    def release_claims(self, owner: ClaimOwner) -> None:
        with self._claims_lock:
            self._claims().execute(self._sql("DELETE FROM claims WHERE owner = ?"), (owner.token,))

    def refresh_claims(self, owner: ClaimOwner, ttl_s: float) -> None:
        with self._claims_lock:
            self._claims().execute(
                self._sql(f"UPDATE claims SET expires_at = {self.dialect.NOW} + ? WHERE owner = ?"),
                (float(ttl_s), owner.token),
            )

    def close(self) -> None:
        for conn in [*self._readers, self._claims_conn]:
            if conn is not None:
                conn.close()
        self._readers = []
        self._claims_conn = None
        self.conn.close()


def _empty() -> Candidates:
    z = np.zeros(0, dtype=np.int64)
    return Candidates(z, z, np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.int16))
