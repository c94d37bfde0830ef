"""Fill an index with N frame hashes, fast: the real corpus plus synthetic references.

The real references (bench/data items and samples/refs) go in through the
library (`provenance.ingest.add_paths`), so queries made from them really
match. Synthetic references (bench/scale/synth.py) are bulk-loaded straight
into the backend's own tables with the chunk indexes built after the rows,
as a restore would: SQLite through executemany in large transactions,
PostgreSQL through binary COPY. The schema is the library's own (the index is
created with `open_index(..., create=True)` first).

    python bench/scale/fill.py --index sqlite:////tmp/scale/10M.sqlite --frames 10000000
    python bench/scale/fill.py --index postgresql://postgres@127.0.0.1:55433/scale10m --frames 10000000
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sqlite3
import struct
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale.synth import REF_FPS, Model, synthetic_block  # noqa: E402
from provenance.index import open_index  # noqa: E402
from provenance.index.base import CHUNKS, chunks_of, to_signed  # noqa: E402

CACHE = Path("/tmp/provenance-scale-cache")
BLOCK = 1_000_000


def real_paths() -> list[Path]:
    data = ROOT / "bench" / "data" / "items"
    return sorted(data.glob("*.mp4")) + sorted((ROOT / "samples" / "refs").glob("*.mp4"))


def synthetic(frames: int, seed: int = 2024) -> tuple[np.ndarray, np.ndarray]:
    """The first `frames` synthetic hashes and reference lengths (cached; prefixes of one stream)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    hs, ls = [], []
    made = 0
    block_no = 0
    while made < frames:
        f = CACHE / f"block{seed}_{block_no:03d}.npz"
        if f.exists():
            z = np.load(f)
            h, lengths = z["h"], z["lengths"]
        else:
            rng = np.random.default_rng([seed, block_no])
            h, lengths = synthetic_block(Model.load(), rng, BLOCK)
            np.savez(f, h=h, lengths=lengths)
        hs.append(h)
        ls.append(lengths)
        made += len(h)
        block_no += 1
    h = np.concatenate(hs)[:frames]
    lengths = np.concatenate(ls)
    ends = np.cumsum(lengths)
    last = int(np.searchsorted(ends, frames))
    lengths = lengths[: last + 1].copy()
    lengths[-1] -= int(ends[last] - frames)
    return h, lengths[lengths > 0]


def _ref_rows(lengths: np.ndarray, first_no: int) -> list[tuple]:
    rows = []
    for k, n in enumerate(lengths.tolist()):
        no = first_no + k
        sha = hashlib.sha256(f"synthetic-{no}".encode()).hexdigest()
        rows.append(
            (
                sha,
                f"synthetic/ref{no:07d}.mp4",
                "video",
                n / REF_FPS,
                1280,
                720,
                25.0,
                n * 40_000,
                REF_FPS,
                n,
                "2026-01-01T00:00:00+00:00",
                None,
                "synthetic",
                f"synthetic reference {no}",
                None,
                None,
                None,
                None,
            )
        )
    return rows


def _hash_rows(ref_ids: np.ndarray, lengths: np.ndarray, h: np.ndarray) -> np.ndarray:
    """(N, 8) int64: ref_id, t_ms, variant, h, c0..c3."""
    owner = np.repeat(ref_ids, lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    t_ms = ((np.arange(len(h)) - starts) * (1000 / REF_FPS)).astype(np.int64)
    out = np.empty((len(h), 4 + CHUNKS), dtype=np.int64)
    out[:, 0] = owner
    out[:, 1] = t_ms
    out[:, 2] = 0
    out[:, 3] = to_signed(h)
    out[:, 4:] = chunks_of(h)
    return out


_REF_INSERT = (
    "INSERT INTO refs(sha256, path, kind, duration_s, width, height, fps, size_bytes, sample_fps, frames, added_at, "
    "source_url, publisher, title, first_seen, licence, notes, facts) VALUES ({})"
)


def fill_sqlite(url: str, h: np.ndarray, lengths: np.ndarray) -> None:
    from provenance.index.sqlite import SQLiteDialect, pack_records, path_from_url

    path = path_from_url(url)
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    for c in range(CHUNKS):
        conn.execute(f"DROP INDEX IF EXISTS hashes_c{c}_rec")
    first_no = conn.execute("SELECT count(*) FROM refs").fetchone()[0]
    done = 0
    ref_done = 0
    while done < len(h):
        # References in groups of ~BLOCK frames, one transaction each.
        ends = np.cumsum(lengths[ref_done:])
        k = int(np.searchsorted(ends, BLOCK)) + 1
        part = lengths[ref_done : ref_done + k]
        n = int(part.sum())
        conn.execute("BEGIN")
        before = conn.execute("SELECT coalesce(max(id), 0) FROM refs").fetchone()[0]
        conn.executemany(_REF_INSERT.format(",".join("?" * 18)), _ref_rows(part, first_no + ref_done))
        ids = np.arange(before + 1, before + 1 + len(part), dtype=np.int64)
        rows = _hash_rows(ids, part, h[done : done + n])
        recs = pack_records(rows[:, 0], rows[:, 1], rows[:, 2], h[done : done + n])
        conn.executemany(
            "INSERT INTO hashes(ref_id, t_ms, variant, h, c0, c1, c2, c3, rec) VALUES (?,?,?,?,?,?,?,?,?)",
            (tuple(r) + (rec,) for r, rec in zip(rows.tolist(), recs, strict=True)),
        )
        conn.execute("COMMIT")
        done += n
        ref_done += k
        print(f"  sqlite: {done:,} synthetic hashes", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    for statement in SQLiteDialect.chunk_indexes():
        conn.execute(statement)
    conn.execute("ANALYZE")
    print(f"  sqlite: chunk indexes built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    conn.close()


def _pg_binary(rows: np.ndarray) -> bytes:
    """PostgreSQL binary COPY payload for hashes rows (bigint, int, smallint, bigint, 4 x int)."""
    dt = np.dtype(
        [
            ("n", ">i2"),
            ("l0", ">i4"),
            ("ref", ">i8"),
            ("l1", ">i4"),
            ("t", ">i4"),
            ("l2", ">i4"),
            ("v", ">i2"),
            ("l3", ">i4"),
            ("h", ">i8"),
        ]
        + [(f"lc{c}", ">i4") if k == 0 else (f"c{c}", ">i4") for c in range(CHUNKS) for k in (0, 1)]
    )
    rec = np.empty(len(rows), dtype=dt)
    rec["n"] = 4 + CHUNKS
    rec["l0"], rec["ref"] = 8, rows[:, 0]
    rec["l1"], rec["t"] = 4, rows[:, 1]
    rec["l2"], rec["v"] = 2, rows[:, 2]
    rec["l3"], rec["h"] = 8, rows[:, 3]
    for c in range(CHUNKS):
        rec[f"lc{c}"] = 4
        rec[f"c{c}"] = rows[:, 4 + c]
    return b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) + rec.tobytes() + struct.pack(">h", -1)


def fill_postgres(url: str, h: np.ndarray, lengths: np.ndarray) -> None:
    import psycopg

    from provenance.index.postgres import PostgresDialect

    conn = psycopg.connect(url, autocommit=True)
    for c in range(CHUNKS):
        conn.execute(f"DROP INDEX IF EXISTS hashes_c{c}_h")
    first_no = conn.execute("SELECT count(*) FROM refs").fetchone()[0]
    done = 0
    ref_done = 0
    while done < len(h):
        ends = np.cumsum(lengths[ref_done:])
        k = int(np.searchsorted(ends, BLOCK)) + 1
        part = lengths[ref_done : ref_done + k]
        n = int(part.sum())
        with conn.transaction():
            cur = conn.cursor()
            ids = []
            for row in _ref_rows(part, first_no + ref_done):
                cur.execute(_REF_INSERT.format(",".join(["%s"] * 18)) + " RETURNING id", row)
                ids.append(cur.fetchone()[0])
            rows = _hash_rows(np.array(ids, dtype=np.int64), part, h[done : done + n])
            with cur.copy(
                "COPY hashes (ref_id, t_ms, variant, h, c0, c1, c2, c3) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                buf = io.BytesIO(_pg_binary(rows))
                while chunk := buf.read(1 << 22):
                    copy.write(chunk)
        done += n
        ref_done += k
        print(f"  postgres: {done:,} synthetic hashes", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    conn.execute("SET maintenance_work_mem = '1GB'")
    for statement in PostgresDialect.chunk_indexes():
        conn.execute(statement)
    conn.execute("VACUUM ANALYZE hashes")
    conn.execute("VACUUM ANALYZE refs")
    print(f"  postgres: chunk indexes built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True)
    ap.add_argument("--frames", type=int, required=True, help="total frame hashes wanted (real + synthetic)")
    args = ap.parse_args()
    from provenance.index.portable import export_index, import_index
    from provenance.ingest import add_paths

    t0 = time.perf_counter()
    real_file = CACHE / "real.jsonl.gz"
    with open_index(args.index, create=True) as idx:
        # The real references are decoded once, then moved between indexes as a portable file.
        if real_file.exists():
            import_index(idx, real_file)
        else:
            add_paths(real_paths(), idx, jobs=2)
            CACHE.mkdir(parents=True, exist_ok=True)
            export_index(idx, real_file)
        real = idx.stats()["hashes"]
    want = max(0, args.frames - real)
    h, lengths = synthetic(want)
    t1 = time.perf_counter()
    if args.index.startswith("postgres"):
        fill_postgres(args.index, h, lengths)
    else:
        fill_sqlite(args.index, h, lengths)
    with open_index(args.index) as idx:
        stats = idx.stats()
    print(
        f"filled {stats['hashes']:,} hashes ({real} real) in {time.perf_counter() - t0:.0f} s (synthetic load {time.perf_counter() - t1:.0f} s); {stats['bytes_on_disk'] / 1e6:.0f} MB",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
