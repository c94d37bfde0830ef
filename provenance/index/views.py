"""Stage 5, index: verify's views of each reference, stored at ingest so a check decodes no reference for verify.

Verify (verify.py) compares what moves in a query with what moves in the
reference at the aligned times, on small grey frames (`VIEW_LONG_SIDE`) at
`query.REF_VIEWS_FPS`. Ingest's sampling pass takes those frames anyway (the
hashes are every other one), so they are kept: one table beside the hashes,
the same on SQLite and PostgreSQL, one row per frame, lossless PNG::

    view_frames(ref_id, t_ms, image)      primary key (ref_id, t_ms)

About 5.5 kB a frame on the development set's footage, 80 MB an hour
(docs/benchmark.md). A window of a reference is read by its key's range, in
the index's own order. An index made before the table, or a reference whose
views were not stored, answers None for its views, and verify decodes the
reference file as before (`evidence.reference_window`)::

    >>> store(conn, sql, ref_id, views)                 # inside the reference's transaction
    >>> window(conn, sql, ref_id, 12.0, 22.0)           # (times, images) or None
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..decode import Views

#: The table; ``{int64}``, ``{blob}`` and ``{without_rowid}`` are the dialect's.
VIEW_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS view_frames (
        ref_id {int64} NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
        t_ms INTEGER NOT NULL,
        image {blob} NOT NULL,
        PRIMARY KEY (ref_id, t_ms)
    ){without_rowid}""",
]
#: PNG's zlib level for a view, with zlib's run-length strategy: 0.18 ms and 5.6 kB a 128x72 view of
#: the development set, against 0.26 ms and 6.0 kB at the default strategy (docs/tuning.md).
PNG_LEVEL = 3

#: Runs SQL on a connection with ``?`` marks translated for the dialect.
Sql = Callable[[str], str]


def schema(int64: str, blob: str, without_rowid: str) -> list[str]:
    """The table's DDL in a dialect's types."""
    return [s.format(int64=int64, blob=blob, without_rowid=without_rowid) for s in VIEW_SCHEMA]


def present(tables: Iterable[str]) -> bool:
    """Whether an index's tables include the views'."""
    return "view_frames" in set(tables)


def encode(views: Views) -> list[tuple[int, bytes]]:
    """Each frame as (time in ms, PNG bytes): what `store` writes (an ingest worker encodes, the writer stores)."""
    import cv2  # here: the index's records load no OpenCV

    out = []
    for t, image in zip(np.asarray(views.times, dtype=np.float64), views.images, strict=True):
        ok, png = cv2.imencode(
            ".png",
            np.ascontiguousarray(image, dtype=np.uint8),
            [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE],
        )
        if not ok:  # pragma: no cover - OpenCV encodes any uint8 grey frame
            raise ValueError("a view could not be encoded as PNG")
        out.append((int(round(float(t) * 1000)), png.tobytes()))
    return out


def store(conn: Any, sql: Sql, ref_id: int, rows: Iterable[tuple[int, bytes]]) -> int:
    """Write one reference's encoded views (`encode`), inside the caller's transaction. Returns the rows written."""
    values = [(ref_id, int(t_ms), image) for t_ms, image in rows]
    if values:
        conn.cursor().executemany(sql("INSERT INTO view_frames(ref_id, t_ms, image) VALUES (?, ?, ?)"), values)
    return len(values)


def window(conn: Any, sql: Sql, ref_id: int, start_s: float, end_s: float) -> Views | None:
    """The stored views of a reference from `start_s` to `end_s` (both included), or None when it has none there.

    A frame that does not decode as a grey image of the others' size is left out (a damaged row is
    no view; the rest of the window stands).
    """
    import cv2

    rows = conn.execute(
        sql("SELECT t_ms, image FROM view_frames WHERE ref_id = ? AND t_ms >= ? AND t_ms <= ? ORDER BY t_ms"),
        (ref_id, int(np.floor(start_s * 1000)), int(np.ceil(end_s * 1000))),
    ).fetchall()
    times: list[float] = []
    images: list[np.ndarray] = []
    for t_ms, blob in rows:
        image = cv2.imdecode(np.frombuffer(bytes(blob), dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
        if image is None or (images and image.shape != images[0].shape):
            continue
        times.append(int(t_ms) / 1000.0)
        images.append(image)
    if not images:
        return None
    return Views(np.asarray(times, dtype=np.float64), np.stack(images))


def has_any(conn: Any, sql: Sql, ref_id: int) -> bool:
    """Whether a reference has any view stored."""
    return conn.execute(sql("SELECT 1 FROM view_frames WHERE ref_id = ? LIMIT 1"), (ref_id,)).fetchone() is not None


def remove(conn: Any, sql: Sql, ref_id: int) -> None:
    """Delete a reference's views, inside the caller's transaction."""
    conn.execute(sql("DELETE FROM view_frames WHERE ref_id = ?"), (ref_id,))


def counts(conn: Any) -> int:
    """Views stored in all."""
    return int(conn.execute("SELECT count(*) FROM view_frames").fetchone()[0])
