"""Stage 5, index: the features channel's tables, local descriptors and their inverted lists.

Two tables beside the frame hashes, the same on SQLite and PostgreSQL:

- ``feature_frames``: one row per described reference frame (`features.REF_FPS`):
  reference, time, size as described, keypoints (float16 x, y) and ORB
  descriptors (32 bytes each), as blobs.
- ``feature_keys``: the inverted index, one row per distinct LSH key of a
  frame (`features.lsh_keys`), primary key (key, frame), so a lookup reads
  the frames under a key from the B-tree alone (``WITHOUT ROWID`` in SQLite).

An index made before the channel existed has neither table: it answers
`has_features` False and the features channel is absent (the report says
so); the tables are created (``CREATE TABLE IF NOT EXISTS``) when features
are first written, so it gains them without a schema version change.
Removing a reference recomputes its frames' keys from the stored
descriptors and deletes those rows by primary key (no scan)::

    >>> store(conn, dialect, ref_id, features)        # inside the reference's transaction
    >>> lookup(conn, dialect, keys)                   # (M, 2) [key, frame id] rows
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..features import DESCRIPTOR_BYTES, FrameFeatures

#: The tables; ``{key}``, ``{int64}``, ``{blob}`` and ``{without_rowid}`` are the dialect's.
FEATURE_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS feature_frames (
        id {key},
        ref_id {int64} NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
        t_ms INTEGER NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        points {blob} NOT NULL,
        descriptors {blob} NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS feature_frames_ref ON feature_frames(ref_id, t_ms)",
    """CREATE TABLE IF NOT EXISTS feature_keys (
        lsh {int64} NOT NULL,
        frame_id {int64} NOT NULL,
        PRIMARY KEY (lsh, frame_id)
    ){without_rowid}""",
]
#: Most keys bound in one lookup statement (under SQLite's oldest limit of 999 variables).
KEYS_PER_STATEMENT = 900

#: Runs SQL on a connection with ``?`` marks translated for the dialect.
Sql = Callable[[str], str]


def schema(key: str, int64: str, blob: str, without_rowid: str) -> list[str]:
    """The feature tables' DDL in a dialect's types."""
    return [s.format(key=key, int64=int64, blob=blob, without_rowid=without_rowid) for s in FEATURE_SCHEMA]


def present(tables: Iterable[str]) -> bool:
    """Whether an index's tables include the features channel's."""
    names = set(tables)
    return "feature_frames" in names and "feature_keys" in names


def store(conn: Any, sql: Sql, ref_id: int, frames: Iterable[FrameFeatures]) -> int:
    """Write one reference's described frames and their keys, inside the caller's transaction.

    Returns:
        The frames stored.
    """
    n = 0
    for f in frames:
        row = conn.execute(
            sql(
                "INSERT INTO feature_frames(ref_id, t_ms, width, height, points, descriptors) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
            ),
            (
                ref_id,
                int(round(f.t * 1000)),
                int(f.width),
                int(f.height),
                np.asarray(f.points, dtype="<f2").tobytes(),
                np.asarray(f.descriptors, dtype=np.uint8).tobytes(),
            ),
        ).fetchone()
        frame_id = int(row[0])
        conn.cursor().executemany(
            sql("INSERT INTO feature_keys(lsh, frame_id) VALUES (?, ?)"),
            [(int(k), frame_id) for k in f.keys().tolist()],
        )
        n += 1
    return n


def frame_from_row(row: tuple[Any, ...]) -> tuple[int, int, FrameFeatures]:
    """(frame id, reference id, `FrameFeatures`) from a row of id, ref_id, t_ms, width, height, points, descriptors."""
    frame_id, ref_id, t_ms, width, height, points, desc = row
    pts = np.frombuffer(bytes(points), dtype="<f2").astype(np.float32).reshape(-1, 2)
    d = np.frombuffer(bytes(desc), dtype=np.uint8).reshape(-1, DESCRIPTOR_BYTES)
    return int(frame_id), int(ref_id), FrameFeatures(int(t_ms) / 1000.0, int(width), int(height), pts, d)


#: The feature_frames columns `frame_from_row` reads, in its order.
FRAME_COLUMNS = "id, ref_id, t_ms, width, height, points, descriptors"


def lookup(conn: Any, sql: Sql, keys: np.ndarray) -> np.ndarray:
    """The inverted lists of distinct `keys`: (M, 2) int64 rows of [key, frame id]."""
    distinct = np.unique(np.asarray(keys, dtype=np.int64)).tolist()
    out: list[tuple[int, int]] = []
    for start in range(0, len(distinct), KEYS_PER_STATEMENT):
        part = distinct[start : start + KEYS_PER_STATEMENT]
        out += conn.execute(
            sql(f"SELECT lsh, frame_id FROM feature_keys WHERE lsh IN ({','.join('?' * len(part))})"), part
        ).fetchall()
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def frames(conn: Any, sql: Sql, frame_ids: Iterable[int]) -> dict[int, tuple[int, FrameFeatures]]:
    """Described frames by id: {frame id: (reference id, `FrameFeatures`)}."""
    ids = sorted({int(i) for i in frame_ids})
    out: dict[int, tuple[int, FrameFeatures]] = {}
    for start in range(0, len(ids), KEYS_PER_STATEMENT):
        part = ids[start : start + KEYS_PER_STATEMENT]
        rows = conn.execute(
            sql(f"SELECT {FRAME_COLUMNS} FROM feature_frames WHERE id IN ({','.join('?' * len(part))})"), part
        ).fetchall()
        for row in rows:
            frame_id, ref_id, f = frame_from_row(row)
            out[frame_id] = (ref_id, f)
    return out


def frame_times(conn: Any, sql: Sql, frame_ids: Iterable[int]) -> dict[int, tuple[int, float]]:
    """Described frames' reference and time by id: {frame id: (reference id, seconds)} (no descriptors read)."""
    ids = sorted({int(i) for i in frame_ids})
    out: dict[int, tuple[int, float]] = {}
    for start in range(0, len(ids), KEYS_PER_STATEMENT):
        part = ids[start : start + KEYS_PER_STATEMENT]
        for frame_id, ref_id, t_ms in conn.execute(
            sql(f"SELECT id, ref_id, t_ms FROM feature_frames WHERE id IN ({','.join('?' * len(part))})"), part
        ).fetchall():
            out[int(frame_id)] = (int(ref_id), int(t_ms) / 1000.0)
    return out


def of_reference(
    conn: Any, sql: Sql, ref_id: int, start_s: float | None = None, end_s: float | None = None
) -> list[tuple[int, FrameFeatures]]:
    """The described frames of one reference (between `start_s` and `end_s` when given), in time order."""
    lo = -1 if start_s is None else int(math.floor(start_s * 1000))
    hi = 2**62 if end_s is None else int(math.ceil(end_s * 1000))
    rows = conn.execute(
        sql(f"SELECT {FRAME_COLUMNS} FROM feature_frames WHERE ref_id = ? AND t_ms BETWEEN ? AND ? ORDER BY t_ms"),
        (ref_id, lo, hi),
    ).fetchall()
    return [(frame_id, f) for frame_id, _, f in (frame_from_row(r) for r in rows)]


def remove(conn: Any, sql: Sql, ref_id: int) -> None:
    """Delete one reference's frames and their keys (keys recomputed from the descriptors), in the caller's transaction."""
    for frame_id, f in of_reference(conn, sql, ref_id):
        conn.cursor().executemany(
            sql("DELETE FROM feature_keys WHERE lsh = ? AND frame_id = ?"),
            [(int(k), frame_id) for k in f.keys().tolist()],
        )
    conn.execute(sql("DELETE FROM feature_frames WHERE ref_id = ?"), (ref_id,))


def counts(conn: Any) -> tuple[int, int]:
    """(described frames, inverted-list rows) in the index."""
    frames_n = conn.execute("SELECT count(*) FROM feature_frames").fetchone()[0]
    keys_n = conn.execute("SELECT count(*) FROM feature_keys").fetchone()[0]
    return int(frames_n), int(keys_n)
