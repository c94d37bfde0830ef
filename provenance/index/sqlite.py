"""Stage 5, index: the SQLite dialect, the default embedded index (``sqlite:///path`` or a plain path).

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
(bench/scale, docs/scale.md)::

    >>> from provenance.index import open_index
    >>> idx = open_index("sqlite:///tmp/refs.sqlite", create=True)
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from ..errors import IndexUnavailableError
from ..hashing import hamming
from .base import CHUNK_BITS, CHUNKS, SCHEMA_VERSION, IntegrityProblem, chunks_of, to_unsigned
from .sql import ColumnTypes, Dialect, FanOut, HashRows

#: Seconds a writer waits for another writer's transaction before giving up (exit 3). Must exceed
#: the longest single write: a 4-hour reference (115 k rows) took 2.8-4.7 s (docs/tuning.md).
BUSY_TIMEOUT_S = 60.0
#: A stored frame as packed in `rec`: hash, reference id, time (ms), variant; 17 bytes.
REC_DTYPE = np.dtype([("h", ">u8"), ("ref", ">u4"), ("t", ">i4"), ("v", "i1")])
#: Most chunk keys bound in one lookup statement: under the 999 variables of SQLite builds before
#: 3.32 (newer ones allow 32766); a 30 s clip's lookup binds ~200 keys per chunk.
KEYS_PER_STATEMENT = 900
#: Connections (one thread each) that read the chunk indexes at once during a lookup: one per
#: usable core, 1 to `CHUNKS`. sqlite3 lets go of the GIL while SQLite works, so the four chunk
#: scans run side by side (docs/tuning.md).
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


def default_path() -> Path:
    """Where the index lives when neither --index nor PROVENANCE_INDEX says (XDG data dir)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "provenance" / "index.sqlite"


class SQLiteDialect(Dialect):
    """The embedded index in one SQLite file."""

    NAME = "sqlite"
    MARK = "?"
    TYPES = ColumnTypes("INTEGER PRIMARY KEY", "REAL", "INTEGER", "INTEGER", ",\n        rec BLOB NOT NULL")
    CHUNK_COVER = "rec"
    # The inverted lists live in their primary key's B-tree alone (about half the bytes).
    WITHOUT_ROWID = " WITHOUT ROWID"
    TABLES = "SELECT name FROM sqlite_master WHERE type='table'"
    REF_COLUMNS_QUERY = "SELECT name FROM pragma_table_info('refs')"
    NOW = "((julianday('now') - 2440587.5) * 86400.0)"
    IDS_PER_STATEMENT = 500  # SQLite's bound-parameter limit is 999 on old builds
    LOOKUP_CONNECTIONS = LOOKUP_THREADS
    READER_SETUP = "PRAGMA query_only = ON"
    CHECKS = ("sqlite_integrity_check", "schema_version", "meta", "hash_counts", "orphan_rows", "lookup_records")
    errors = (sqlite3.DatabaseError,)

    def __init__(self, url: str) -> None:
        self.path = path_from_url(url)
        self.url = f"sqlite:///{self.path}"
        self.where = str(self.path)
        #: Opened read-only and immutable (an index on read-only media; set by `locate`).
        self.immutable = False

    def locate(self, create: bool) -> None:
        """Decide, reading the file only, whether it is an index this command may open (see `vet_sqlite_file`).

        Nothing is written, no journal is replayed and no ``-wal``/``-shm``
        is made or removed before the file is known to be a provenance
        index; an index on read-only media is opened immutable for reading.
        """
        self.immutable = False
        try:
            exists = self.path.exists()
        except OSError as exc:
            raise IndexUnavailableError(
                f"{self.path}: cannot be looked at ({exc.strerror}); give another --index"
            ) from exc
        if not exists:
            if not create:
                raise IndexUnavailableError(
                    f"{self.path}: no index there; build one with 'provenance index add FILES --index {self.path}'"
                )
            self._room_for_new()
            return
        verdict = vet_sqlite_file(self.path)
        read_only = _on_read_only_media(self.path)
        if read_only and create:
            raise IndexUnavailableError(
                f"{self.path}: the index is on read-only media and cannot be added to; "
                "copy it (with any -wal file) to a writable disk and give that copy as --index"
            )
        if read_only:
            wal = self.path.with_name(self.path.name + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise IndexUnavailableError(
                    f"{self.path}: the index is on read-only media with changes still in {wal.name}; "
                    "copy it and its -wal and -shm files to a writable disk and give that copy as --index"
                )
            self.immutable = True
        if verdict == "empty" and not create:
            raise IndexUnavailableError(
                f"{self.path}: an empty file (0 bytes), not a provenance index; give the index "
                "'provenance index add' built, or let 'index add' create one at a new path"
            )

    def _room_for_new(self) -> None:
        """Make the folder of a new index, refusing a place where it cannot be written (exit 3, naming it)."""
        for end in ("-wal", "-shm", "-journal"):
            side = self.path.with_name(self.path.name + end)
            if side.is_symlink() or side.exists():
                raise IndexUnavailableError(
                    f"{side}: left by another program where the new index's {end[1:]} file goes; "
                    "remove it or give another --index"
                )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexUnavailableError(
                f"{self.path}: the folder for a new index cannot be made ({exc.strerror}); give another --index"
            ) from exc
        if _on_read_only_media(self.path.parent) or not os.access(self.path.parent, os.W_OK | os.X_OK):
            raise IndexUnavailableError(
                f"{self.path}: the folder {self.path.parent} cannot be written (read-only); give another --index"
            )

    def connect(self, *, shared: bool = False) -> sqlite3.Connection:
        if self.immutable:
            # Read-only media: nothing can change the file, and no -shm can be made beside it.
            return sqlite3.connect(
                f"file:{quote(str(self.path.resolve()))}?mode=ro&immutable=1",
                uri=True,
                isolation_level=None,
                check_same_thread=not shared,
            )
        return sqlite3.connect(
            str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=not shared
        )

    def setup(self, conn: Any) -> None:
        conn.execute("PRAGMA foreign_keys = ON")

    def after_schema(self, conn: Any) -> None:
        if self.immutable:
            return
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = NORMAL")
        if mode is None:
            raise sqlite3.DatabaseError("journal mode not set")

    def check_new(self, tables: set[str], create: bool) -> None:
        # The file exists (or `create` made room for it): empty, it becomes an index.
        if tables:
            raise IndexUnavailableError(
                f"{self.path}: an SQLite file but not a provenance index (tables: {', '.join(sorted(tables))[:200]}); "
                "give another --index"
            )

    @contextmanager
    def transaction(self, conn: Any, *, schema: bool = False) -> Iterator[None]:
        # BEGIN IMMEDIATE takes the write lock at once, which also serialises schema creation.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def upgrade(self, conn: Any) -> None:
        """Schema 1 -> 2 in one transaction: add `rec`, fill it, swap the chunk indexes."""
        with self.transaction(conn):
            if conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "1":
                cols = {r[1] for r in conn.execute("PRAGMA table_info(hashes)")}
                if "rec" not in cols:
                    conn.execute("ALTER TABLE hashes ADD COLUMN rec BLOB NOT NULL DEFAULT x''")
                rows = conn.execute("SELECT rowid, ref_id, t_ms, variant, h FROM hashes").fetchall()
                if rows:
                    arr = np.array(rows, dtype=np.int64)
                    recs = pack_records(arr[:, 1], arr[:, 2], arr[:, 3], to_unsigned(arr[:, 4]))
                    conn.executemany(
                        "UPDATE hashes SET rec = ? WHERE rowid = ?", zip(recs, arr[:, 0].tolist(), strict=True)
                    )
                for c in range(CHUNKS):
                    conn.execute(f"DROP INDEX IF EXISTS hashes_c{c}")
                for statement in self.chunk_indexes():
                    conn.execute(statement)
                conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    def insert_hashes(self, conn: Any, ref_id: int, rows: HashRows) -> None:
        if ref_id >= 1 << 32:
            raise IndexUnavailableError(f"{self.path}: more than 2^32 references; split the index")
        recs = pack_records(ref_id, rows.t_ms, rows.variants, rows.hashes)
        conn.executemany(
            "INSERT INTO hashes(ref_id, t_ms, variant, h, c0, c1, c2, c3, rec) VALUES (?,?,?,?,?,?,?,?,?)",
            [(*r, rec) for r, rec in zip(rows.tuples(ref_id), recs, strict=True)],
        )

    def near(self, conn: Any, fan_out: FanOut, unique: np.ndarray, max_distance: int) -> np.ndarray:
        chunks = chunks_of(unique)
        # Each distinct chunk key is looked up once.
        jobs = [(c, np.unique(chunks[:, c]).tolist()) for c in range(CHUNKS)]
        per_chunk: list[list[bytes]] = [[] for _ in range(CHUNKS)]
        for c, blobs in fan_out(jobs, lambda reader, mine: [(k, _records(reader, k, keys)) for k, keys in mine]):
            per_chunk[c] = blobs
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for c, blobs in enumerate(per_chunk):
            recs = np.frombuffer(b"".join(blobs), dtype=REC_DTYPE)
            if len(recs) == 0:
                continue
            # Pair each stored frame with every distinct query hash that shares its chunk value;
            # only the chunk this index scanned is computed from the records.
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
            return np.zeros((0, 5), dtype=np.int64)
        rec_all = np.concatenate([f[1] for f in found])
        return np.stack(
            [
                np.concatenate([f[0] for f in found]).astype(np.int64),
                rec_all["ref"].astype(np.int64),
                rec_all["t"].astype(np.int64),
                rec_all["v"].astype(np.int64),
                np.concatenate([f[2] for f in found]).astype(np.int64),
            ],
            axis=1,
        )

    def id_list(self, column: str) -> str:
        return f"group_concat(DISTINCT {column})"

    def parse_ids(self, value: Any) -> list[str]:
        return str(value).split(",")

    def bytes_on_disk(self, conn: Any) -> int:
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())

    def storage_problems(self, conn: Any) -> list[IntegrityProblem]:
        found = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)")]
        if found == ["ok"]:
            return []
        return [
            IntegrityProblem(
                "storage",
                f"SQLite's integrity check failed: {'; '.join(found[:3])[:300]}",
                f"restore {self.path} from a backup; without one, 'sqlite3 {self.path} .recover' copies out "
                "what is still readable, then add the lost files again",
            )
        ]

    def record_problems(self, conn: Any) -> list[IntegrityProblem]:
        """Each row's lookup record (`rec`, what lookups read) against its columns."""
        if "rec" not in {r[1] for r in conn.execute("PRAGMA table_info(hashes)")}:
            return []
        wrong: dict[int, int] = {}
        cur = conn.execute("SELECT ref_id, t_ms, variant, h, rec FROM hashes")
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

    def unusable(self, exc: Exception) -> IndexUnavailableError:
        return IndexUnavailableError(
            f"{self.path}: not a usable provenance index ({exc}); give another --index or restore it from a backup"
        )

    def failed(self, exc: Exception) -> IndexUnavailableError:
        return IndexUnavailableError(
            f"{self.path}: the index cannot be read or written ({exc}); "
            f"run 'provenance index check --index {self.path}' and restore it from a backup if it is damaged"
        )

    def unreadable(self, exc: Exception) -> IntegrityProblem:
        return IntegrityProblem(
            "storage",
            f"the index could not be read to the end ({exc})",
            f"restore {self.path} from a backup; without one, 'sqlite3 {self.path} .recover' copies out "
            "what is still readable",
        )


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


#: The 16 bytes every SQLite 3 database file starts with.
SQLITE_HEADER = b"SQLite format 3\x00"
#: The rows of `meta` every provenance index has (their values are checked by `vet_sqlite_file`).
OUR_META_KEYS = frozenset({"schema_version", "index_id", "hash_algorithm"})
#: Tables every provenance index has besides `meta`.
OUR_TABLES = frozenset({"meta", "refs", "hashes"})
#: Looks, 0.2 s apart, at a file another writer is creating (its rollback journal beside it) before
#: deciding it is not an index: the schema's one transaction commits in milliseconds.
VET_TRIES = 5


def vet_sqlite_file(path: Path) -> str:
    """Whether an existing file is a provenance index, decided read-only before any connection may write.

    The file is opened with ``mode=ro&immutable=1``: no lock, no journal or
    WAL replayed, no ``-wal``/``-shm`` made, read or removed, so another
    program's database (even one with unsaved ``-wal`` data) stays byte for
    byte as it was. Ours has a `meta` table holding `OUR_META_KEYS` with an
    integer schema version and our hash algorithm, and the `OUR_TABLES`.

    Returns:
        ``"index"``, or ``"empty"`` for a 0-byte file (an index only for ``index add``).

    Raises:
        IndexUnavailableError: not a regular file, not SQLite, not ours, newer, or unreadable (exit 3).
    """
    from ..hashing import ALGORITHM

    for attempt in range(VET_TRIES):
        try:
            with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as handle:
                regular = stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
                head = handle.read(len(SQLITE_HEADER)) if regular else b""
        except OSError as exc:
            raise IndexUnavailableError(f"{path}: the index cannot be read ({exc.strerror}); check the path") from exc
        if not regular:
            raise IndexUnavailableError(
                f"{path}: not a usable provenance index (not a regular file); give another --index"
            )
        if not head:
            return "empty"
        if head != SQLITE_HEADER:
            raise IndexUnavailableError(
                f"{path}: not a usable provenance index (not an SQLite file); it is left as it was; give another --index"
            )
        busy = path.with_name(path.name + "-journal").exists() and attempt + 1 < VET_TRIES
        try:
            tables, meta = _read_only_look(path)
        except sqlite3.DatabaseError as exc:
            if busy:
                time.sleep(0.2)
                continue
            raise IndexUnavailableError(
                f"{path}: not a usable provenance index ({exc}); it is left as it was; if it is your index, "
                f"restore it from a backup (or copy out what is readable: 'sqlite3 {path} .recover'), "
                "else give another --index"
            ) from exc
        if "meta" not in tables and busy:
            time.sleep(0.2)
            continue
        if OUR_TABLES - tables or not OUR_META_KEYS <= set(meta):
            listed = ", ".join(sorted(tables))[:200] or "none"
            raise IndexUnavailableError(
                f"{path}: an SQLite file but not a provenance index (tables: {listed}); it is left as it was; "
                "give another --index"
            )
        version = meta["schema_version"]
        if not (isinstance(version, str) and version.isascii() and version.isdigit() and len(version) < 6):
            raise IndexUnavailableError(
                f"{path}: its schema version {str(version)[:40]!r} is not a number, so it is not a provenance "
                "index this program wrote; it is left as it was; give another --index"
            )
        if int(version) > SCHEMA_VERSION:
            raise IndexUnavailableError(
                f"{path}: index schema version {int(version)} is newer than this provenance supports "
                f"({SCHEMA_VERSION}); upgrade provenance (pip install -U provenance)"
            )
        if meta["hash_algorithm"] != ALGORITHM:
            raise IndexUnavailableError(
                f"{path}: index holds {str(meta['hash_algorithm'])[:40]!r} hashes, this provenance makes "
                f"{ALGORITHM!r}; rebuild the index"
            )
        return "index"
    raise AssertionError("unreachable")  # pragma: no cover


def _read_only_look(path: Path) -> tuple[set[str], dict[str, Any]]:
    """(table names, meta rows) read through an immutable, read-only connection."""
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1", uri=True)
    try:
        tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        meta: dict[str, Any] = {}
        if "meta" in tables:
            meta = {str(k): v for k, v in conn.execute("SELECT key, value FROM meta LIMIT 1000")}
        return tables, meta
    finally:
        conn.close()


def _on_read_only_media(path: Path) -> bool:
    """Whether `path` lies on a file system mounted read-only."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False
