"""Stage index: the sound tables, a reference's Chromaprint items and their lookup keys.

Three tables, created by the first reference stored with its sound (an index
made before the audio stage gains them then, with no schema version bump;
until then it simply has no sound to look up):

- ``sound_tracks``: one row per reference whose sound was examined: what
  became of it (`audio.SoundStatus`), the item step and the sound's length.
- ``sound_items``: one row per item: its index ``i``, value ``v`` (uint32),
  whether it is loud, and its three lookup keys ``k0..k2``
  (`audio.item_keys`), each under its own B-tree, as frame hashes have
  their chunks;
- ``sound_marks``: one row per spectral-peak landmark (`audio.sound_marks`):
  its hash ``h`` and frame ``t``, under a B-tree on the hash (an index made
  before landmarks gains the table with its next reference with sound)::

    >>> store_sound(conn, sql, 7, fingerprint)         # inside index.add's transaction
    >>> read_sound(conn, sql, 7).status
    'fingerprinted'

`SqlIndex` calls these functions; they are written once for both SQL
dialects (only ``?`` marks, standard types).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..audio import SoundPrint, SoundStatus, item_keys

#: The sound tables and their indexes, with the column types a dialect fills in.
SOUND_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS sound_tracks (
        ref_id {int64} PRIMARY KEY REFERENCES refs(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        step_s {real} NOT NULL,
        duration_s {real} NOT NULL,
        items INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS sound_items (
        ref_id {int64} NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
        i INTEGER NOT NULL,
        v {int64} NOT NULL,
        loud INTEGER NOT NULL,
        k0 INTEGER NOT NULL, k1 INTEGER NOT NULL, k2 INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS sound_items_ref ON sound_items(ref_id, i)",
    "CREATE INDEX IF NOT EXISTS sound_items_k0 ON sound_items(k0, ref_id, i)",
    "CREATE INDEX IF NOT EXISTS sound_items_k1 ON sound_items(k1, ref_id, i)",
    "CREATE INDEX IF NOT EXISTS sound_items_k2 ON sound_items(k2, ref_id, i)",
]
#: The landmarks' table (`audio.sound_marks`): one row per (hash ``h``, frame ``t``), about 80 a second
#: of sound; made beside the others, or later in an index made before landmarks (its references keep none).
MARKS_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS sound_marks (
        ref_id {int64} NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
        h INTEGER NOT NULL,
        t INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS sound_marks_h ON sound_marks(h, ref_id, t)",
    "CREATE INDEX IF NOT EXISTS sound_marks_ref ON sound_marks(ref_id)",
]
#: Most keys bound in one lookup statement (under SQLite's oldest limit of 999 variables).
KEYS_PER_STATEMENT = 900

#: ``sql(text)``: the statement with the dialect's parameter marks.
Sql = Callable[[str], str]


def create_sound_tables(conn: Any, types: dict[str, str]) -> None:
    """Create the sound tables when missing (inside the caller's transaction)."""
    for statement in SOUND_SCHEMA + MARKS_SCHEMA:
        conn.execute(statement.format(**types))


def store_sound(conn: Any, sql: Sql, ref_id: int, sound: SoundPrint) -> None:
    """Write one reference's sound (inside the caller's transaction; the tables made before it, `create_sound_tables`)."""
    conn.execute(
        sql("INSERT INTO sound_tracks(ref_id, status, step_s, duration_s, items) VALUES (?, ?, ?, ?, ?)"),
        (ref_id, str(sound.status), float(sound.step_s), float(sound.duration_s), len(sound)),
    )
    if len(sound.marks):
        conn.cursor().executemany(
            sql("INSERT INTO sound_marks(ref_id, h, t) VALUES (?, ?, ?)"),
            [(ref_id, int(h), int(t)) for h, t in sound.marks.tolist()],
        )
    if not len(sound):
        return
    keys = item_keys(sound.values).tolist()
    rows = [
        (ref_id, i, int(v), int(loud), *k)
        for i, (v, loud, k) in enumerate(zip(sound.values.tolist(), sound.loud.tolist(), keys, strict=True))
    ]
    conn.cursor().executemany(
        sql("INSERT INTO sound_items(ref_id, i, v, loud, k0, k1, k2) VALUES (?, ?, ?, ?, ?, ?, ?)"), rows
    )


def read_sound(conn: Any, sql: Sql, ref_id: int, *, marks: bool = True) -> SoundPrint | None:
    """One reference's sound, or None when it was stored without (added before the audio stage).

    `marks`: whether the index has the landmarks' table (one made before them has not).
    """
    row = conn.execute(
        sql("SELECT status, step_s, duration_s FROM sound_tracks WHERE ref_id = ?"), (ref_id,)
    ).fetchone()
    if row is None:
        return None
    items = conn.execute(sql("SELECT v, loud FROM sound_items WHERE ref_id = ? ORDER BY i"), (ref_id,)).fetchall()
    arr = np.array(items, dtype=np.int64).reshape(-1, 2)
    found = (
        conn.execute(sql("SELECT h, t FROM sound_marks WHERE ref_id = ? ORDER BY t, h"), (ref_id,)).fetchall()
        if marks
        else []
    )
    return SoundPrint(
        SoundStatus(str(row[0])),
        arr[:, 0].astype(np.uint32),
        arr[:, 1].astype(bool),
        float(row[1]),
        float(row[2]),
        marks=np.array(found, dtype=np.int64).reshape(-1, 2),
    )


def lookup_sound(conn: Any, sql: Sql, keys: np.ndarray) -> np.ndarray:
    """Stored items sharing a key with a query item.

    Args:
        keys: (n, 3) lookup keys of the query's items (`audio.item_keys`).

    Returns:
        An (m, 3) int64 array of (query item, reference id, reference item),
        one row per shared key (an item sharing two keys is listed twice).
    """
    out: list[np.ndarray] = []
    for c in range(keys.shape[1] if len(keys) else 0):
        out += _lookup_column(
            conn, sql, keys[:, c], f"SELECT k{c}, ref_id, i FROM sound_items WHERE k{c} IN ({{marks}}) AND loud = 1"
        )
    return np.concatenate(out) if out else np.zeros((0, 3), dtype=np.int64)


def lookup_marks(conn: Any, sql: Sql, hashes: np.ndarray) -> np.ndarray:
    """Stored landmarks sharing a hash with the query's.

    Args:
        hashes: the query's landmark hashes (`audio.sound_marks`' first column).

    Returns:
        An (m, 3) int64 array of (query landmark row, reference id, reference frame).
    """
    column = np.asarray(hashes, dtype=np.int64)
    out = _lookup_column(conn, sql, column, "SELECT h, ref_id, t FROM sound_marks WHERE h IN ({marks})")
    return np.concatenate(out) if out else np.zeros((0, 3), dtype=np.int64)


def _lookup_column(conn: Any, sql: Sql, column: np.ndarray, select: str) -> list[np.ndarray]:
    """(query row, reference id, position) blocks for the stored rows whose key is in `column`.

    `select` is a statement returning (key, ref_id, position) with ``{marks}`` for the key list.
    """
    out: list[np.ndarray] = []
    unique = np.unique(column)
    for start in range(0, len(unique), KEYS_PER_STATEMENT):
        part = unique[start : start + KEYS_PER_STATEMENT].tolist()
        found = conn.execute(sql(select.format(marks=",".join("?" * len(part)))), part).fetchall()
        if not found:
            continue
        hits = np.array(found, dtype=np.int64)
        hits = hits[np.argsort(hits[:, 0], kind="stable")]
        lo = np.searchsorted(hits[:, 0], column, side="left")
        hi = np.searchsorted(hits[:, 0], column, side="right")
        for q in np.nonzero(hi > lo)[0]:
            same = hits[lo[q] : hi[q]]
            out.append(np.column_stack([np.full(len(same), q), same[:, 1], same[:, 2]]))
    return out


def delete_sound(conn: Any, sql: Sql, ref_id: int, *, marks: bool = True) -> None:
    """Remove one reference's sound (inside the caller's transaction; `marks` as for `read_sound`)."""
    if marks:
        conn.execute(sql("DELETE FROM sound_marks WHERE ref_id = ?"), (ref_id,))
    conn.execute(sql("DELETE FROM sound_items WHERE ref_id = ?"), (ref_id,))
    conn.execute(sql("DELETE FROM sound_tracks WHERE ref_id = ?"), (ref_id,))
