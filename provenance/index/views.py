"""Stage 5, index: verify's views of each reference, stored at ingest so a check decodes no reference for verify.

Verify (verify.py) compares what moves in a query with what moves in the
reference at the aligned times, on small grey frames (`VIEW_LONG_SIDE`) at
`query.REF_VIEWS_FPS`. Ingest's sampling pass takes those frames anyway (the
hashes are every other one), so they are kept: one table beside the hashes,
the same on SQLite and PostgreSQL, one row per `CHUNK_FRAMES` consecutive
frames, their times (int32 ms) and the frames stacked top to bottom as one
lossless PNG::

    view_chunks(ref_id, t_ms, end_ms, times, image)      primary key (ref_id, t_ms)

Rows of a frame each would have cost SQLite twice their bytes (a 2-6 kB row
spills into an overflow page of its own); a chunk's row fills its pages. About
5.6 kB a frame on the development set's footage, 80 MB an hour
(docs/benchmark.md). A window of a reference is read by its key's range. An
index made before the table, or a reference whose views were not stored,
answers None for its views, and verify decodes the reference file as before
(`evidence.reference_window`)::

    >>> rows = encode(views)                            # an ingest worker
    >>> store(conn, sql, ref_id, rows)                  # inside the reference's transaction
    >>> window(conn, sql, ref_id, 12.0, 22.0)           # Views or None
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..decode import Views

#: The table; ``{int64}`` and ``{blob}`` are the dialect's.
VIEW_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS view_chunks (
        ref_id {int64} NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
        t_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        times {blob} NOT NULL,
        image {blob} NOT NULL,
        PRIMARY KEY (ref_id, t_ms)
    )""",
]
#: Frames a row holds (10 s at 4 a second): 220 kB a row on the development set's footage, so a
#: row's last page is all SQLite leaves unfilled; a window of 25 s reads 3-4 rows.
CHUNK_FRAMES = 40
#: PNG's zlib level for a chunk, with zlib's run-length strategy: 0.18 ms and 5.6 kB a 128x72 view of
#: the development set, against 0.26 ms and 6.0 kB at the default strategy (docs/tuning.md).
PNG_LEVEL = 3

#: Most pixels a row's PNG may declare to be decoded (a damaged or tampered row is skipped before
#: OpenCV allocates for it): `CHUNK_FRAMES` views of 512 x 512, far above a 128 px view's.
MAX_ROW_PIXELS = CHUNK_FRAMES * 512 * 512

#: Runs SQL on a connection with ``?`` marks translated for the dialect.
Sql = Callable[[str], str]
#: One row: (first time, last time (ms), the frames' times as int32 ms, the stacked frames as PNG).
Row = tuple[int, int, bytes, bytes]


def schema(int64: str, blob: str) -> list[str]:
    """The table's DDL in a dialect's types."""
    return [s.format(int64=int64, blob=blob) for s in VIEW_SCHEMA]


def present(tables: Iterable[str]) -> bool:
    """Whether an index's tables include the views'."""
    return "view_chunks" in set(tables)


def encode(views: Views) -> list[Row]:
    """The rows `store` writes, `CHUNK_FRAMES` frames each (an ingest worker encodes, the writer stores)."""
    import cv2  # here: the index's records load no OpenCV

    times = np.round(np.asarray(views.times, dtype=np.float64) * 1000).astype(np.int32)
    images = np.ascontiguousarray(views.images, dtype=np.uint8)
    rows = []
    for start in range(0, len(times), CHUNK_FRAMES):
        part = images[start : start + CHUNK_FRAMES]
        stacked = part.reshape(-1, part.shape[2])  # (n x h, w): frame k is rows k*h .. (k+1)*h
        options = [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
        ok, png = cv2.imencode(".png", stacked, options)
        if not ok:  # pragma: no cover - OpenCV encodes any uint8 grey picture
            raise ValueError("views could not be encoded as PNG")
        t = times[start : start + CHUNK_FRAMES]
        rows.append((int(t[0]), int(t[-1]), t.astype("<i4").tobytes(), png.tobytes()))
    return rows


def store(conn: Any, sql: Sql, ref_id: int, rows: Iterable[Row]) -> int:
    """Write one reference's encoded views (`encode`), inside the caller's transaction. Returns the rows written."""
    values = [(ref_id, t_ms, end_ms, times, image) for t_ms, end_ms, times, image in rows]
    if values:
        conn.cursor().executemany(
            sql("INSERT INTO view_chunks(ref_id, t_ms, end_ms, times, image) VALUES (?, ?, ?, ?, ?)"), values
        )
    return len(values)


def window(conn: Any, sql: Sql, ref_id: int, start_s: float, end_s: float) -> Views | None:
    """The stored views of a reference from `start_s` to `end_s` (both included), or None when it has none there.

    A row whose picture does not decode, or does not hold as many frames as times, is left out (a
    damaged row is no view; the rest of the window stands).
    """
    import cv2

    lo, hi = int(np.floor(start_s * 1000)), int(np.ceil(end_s * 1000))
    rows = conn.execute(
        sql("SELECT times, image FROM view_chunks WHERE ref_id = ? AND t_ms <= ? AND end_ms >= ? ORDER BY t_ms"),
        (ref_id, hi, lo),
    ).fetchall()
    times: list[np.ndarray] = []
    images: list[np.ndarray] = []
    for raw_times, blob in rows:
        raw = bytes(blob)
        if len(raw_times) % 4 or not _plausible_png(raw):
            continue
        t = np.frombuffer(bytes(raw_times), dtype="<i4")
        stacked = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
        if stacked is None or len(t) == 0 or stacked.shape[0] % len(t):
            continue
        frames = stacked.reshape(len(t), stacked.shape[0] // len(t), stacked.shape[1])
        if images and frames.shape[1:] != images[0].shape[1:]:
            continue
        keep = (t >= lo) & (t <= hi)
        times.append(t[keep].astype(np.float64) / 1000.0)
        images.append(frames[keep])
    if not times or not sum(len(t) for t in times):
        return None
    return Views(np.concatenate(times), np.concatenate(images))


def _plausible_png(data: bytes) -> bool:
    """Whether `data` starts as a PNG whose header (IHDR) declares at most `MAX_ROW_PIXELS` pixels."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return False
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0 < width * height <= MAX_ROW_PIXELS


def remove(conn: Any, sql: Sql, ref_id: int) -> None:
    """Delete a reference's views, inside the caller's transaction."""
    conn.execute(sql("DELETE FROM view_chunks WHERE ref_id = ?"), (ref_id,))


def counts(conn: Any) -> int:
    """Views stored in all (frames, not rows)."""
    return int(conn.execute("SELECT coalesce(sum(length(times)), 0) FROM view_chunks").fetchone()[0]) // 4
