"""Durability: interrupted writes leave the index as it was, and ``index check`` says so.

Every write to the index is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``
in the SQLite backend), so an ``index add`` stopped by Ctrl-C, SIGTERM or
``kill -9`` keeps every file it finished and nothing of the file it was
writing. The tests stop real processes at two points: between files (the
command line, a folder of clips) and in the middle of a transaction (the
library, with half of a reference's hash rows inserted).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from conftest import ROOT, cli_here, ffmpeg, started

from provenance.index import open_index
from provenance.ingest import add_paths

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")

OK, UNAVAILABLE = 0, 3


def rows_digest(path: Path, ref_ids: list[int] | None = None) -> str:
    """SHA-256 over the rows of refs and hashes (of `ref_ids` only, when given) and of meta."""
    digest = hashlib.sha256()
    con = sqlite3.connect(str(path))
    try:
        where = f" WHERE {{col}} IN ({','.join(map(str, ref_ids))})" if ref_ids is not None else ""
        queries = [
            "SELECT key, value FROM meta WHERE key != 'schema_version' ORDER BY key",
            "SELECT * FROM refs" + where.format(col="id") + " ORDER BY id",
            "SELECT * FROM hashes" + where.format(col="ref_id") + " ORDER BY ref_id, t_ms, variant, h",
        ]
        for query in queries:
            for row in con.execute(query):
                digest.update(repr(row).encode())
    finally:
        con.close()
    return digest.hexdigest()


def ref_count(path: Path) -> int:
    con = sqlite3.connect(str(path), timeout=30)
    try:
        return int(con.execute("SELECT count(*) FROM refs").fetchone()[0])
    finally:
        con.close()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten distinct 10 s clips: one testsrc2 encode, remuxed with ten different comments (distinct SHA-256).

    Long enough that a batch of eight is still running when the interruption tests stop it, on an idle machine too.
    """
    root = tmp_path_factory.mktemp("durability")
    base = root / "base.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=10", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(base))
    folder = root / "clips"
    folder.mkdir()
    for n in range(10):
        ffmpeg("-i", str(base), "-c", "copy", "-metadata", f"comment=take {n}", str(folder / f"clip{n:02d}.mp4"))
    return folder


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, clips: Path) -> Path:
    """An index holding two of the clips: the state every interruption must preserve."""
    path = tmp_path_factory.mktemp("seeded") / "index.sqlite"
    with open_index(path, create=True) as idx:
        result = add_paths([clips / "clip00.mp4", clips / "clip01.mp4"], idx)
    assert result.count("added") == 2
    return path


@pytest.fixture
def index(seeded: Path, tmp_path: Path) -> Path:
    """A private copy of the seeded index."""
    dst = tmp_path / "index.sqlite"
    shutil.copy(seeded, dst)
    return dst


# -- provenance index check ------------------------------------------------------------------


def test_whole_index_passes(index: Path) -> None:
    run = cli_here("index", "check", "--index", index)
    assert run.code == OK, run
    assert run.stdout.strip().endswith("whole")
    data = json.loads(cli_here("index", "check", "--index", index, "--format", "json").stdout)
    assert data["ok"] is True and data["references"] == 2 and data["problems"] == []
    assert {"sqlite_integrity_check", "schema_version", "hash_counts", "orphan_rows"} <= set(data["checks"])


def _damage(path: Path, *statements: str) -> None:
    con = sqlite3.connect(str(path), isolation_level=None)
    con.execute("PRAGMA foreign_keys = OFF")
    for statement in statements:
        con.execute(statement)
    con.close()


DAMAGE = {
    "missing hashes": (
        ["DELETE FROM hashes WHERE ref_id = 1 AND t_ms > 1000"],
        "hash_count",
        "provenance index remove 1",
    ),
    "orphan rows": (
        ["INSERT INTO hashes SELECT 999, t_ms, variant, h, c0, c1, c2, c3, rec FROM hashes WHERE ref_id = 2"],
        "orphan_rows",
        "belong to no reference",
    ),
    "stale lookup records": (
        ["UPDATE hashes SET rec = zeroblob(17) WHERE rowid IN (SELECT rowid FROM hashes WHERE ref_id = 2 LIMIT 3)"],
        "lookup_records",
        "provenance index remove 2",
    ),
    "older schema stamp": (["UPDATE meta SET value = '0' WHERE key = 'schema_version'"], None, "schema version"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damage_is_found_and_explained(index: Path, case: str) -> None:
    statements, code, advice = DAMAGE[case]
    _damage(index, *statements)
    run = cli_here("index", "check", "--index", index)
    assert run.code == UNAVAILABLE, run
    assert "Traceback" not in run.stderr, run
    assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("error: "), run
    assert advice in run.stdout + run.stderr, run
    if code is not None:
        data = json.loads(cli_here("index", "check", "--index", index, "--format", "json").stdout)
        assert data["ok"] is False and code in {p["code"] for p in data["problems"]}, data
        assert all(p["action"] for p in data["problems"])


def test_damaged_storage_is_found(index: Path) -> None:
    """Garbage over the pages after the schema page: exit 3, with the way back (a backup, .recover)."""
    data = bytearray(index.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for i in range(page, len(data)):
        data[i] = (i * 7919) % 251
    index.write_bytes(bytes(data))
    run = cli_here("index", "check", "--index", index)
    assert run.code == UNAVAILABLE, run
    assert "Traceback" not in run.stderr
    assert "backup" in run.stdout + run.stderr, run


# -- interrupted index add ---------------------------------------------------------------


def _start_add(index: Path, clips: Path, jobs: int) -> AbstractContextManager[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE_DEBUG"}
    return started(
        [sys.executable, "-m", "provenance", "index", "add", "-q", "-j", str(jobs), str(clips), "--index", str(index)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
    )


@pytest.mark.parametrize(
    ("sig", "jobs"),
    [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGKILL, 1), (signal.SIGINT, 2), (signal.SIGKILL, 2)],
    ids=["SIGINT", "SIGTERM", "SIGKILL", "SIGINT-2jobs", "SIGKILL-2jobs"],
)
def test_interrupted_index_add_keeps_the_previous_state(
    index: Path, clips: Path, sig: signal.Signals, jobs: int
) -> None:
    before = rows_digest(index, [1, 2])
    with _start_add(index, clips, jobs) as proc:
        deadline = time.monotonic() + 60
        while ref_count(index) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the batch finished before it could be interrupted: give it more clips"
        proc.send_signal(sig)
        try:
            stdout, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
            pytest.fail(f"index add still running 30 s after {sig.name}: {stderr.decode('utf-8', 'replace')}")
    text = stderr.decode("utf-8", "replace")
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130, text
        assert "Traceback" not in text, text
        assert text.strip().splitlines()[-1].startswith("interrupted"), text
    assert rows_digest(index, [1, 2]) == before
    check = cli_here("index", "check", "--index", index)
    assert check.code == OK, check
    stored = ref_count(index)
    assert 3 <= stored < 2 + 8
    if (sig, jobs) != (signal.SIGKILL, 1):
        return
    # Running the batch again adds exactly what was missing.
    again = cli_here("index", "add", "-q", "-j", "1", clips, "--index", index)
    assert again.code == OK, again
    assert again.stdout.startswith(f"{10 - stored} added, {stored} already present"), again
    assert cli_here("index", "check", "--index", index).code == OK


_MID_TRANSACTION = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from provenance.hashing import ALGORITHM, FrameHashes
    from provenance.index import Reference, open_index

    class Slow:
        # The index's connection, but executemany stops halfway through its rows.
        def __init__(self, conn):
            self._conn = conn
        def __getattr__(self, name):
            return getattr(self._conn, name)
        def executemany(self, sql, rows):
            rows = list(rows)
            def slow():
                for i, row in enumerate(rows):
                    if i == len(rows) // 2:
                        print("mid-transaction", flush=True)
                        time.sleep(60)
                    yield row
            return self._conn.executemany(sql, slow())

    idx = open_index(sys.argv[1])
    idx.conn = Slow(idx.conn)
    n = 20000
    rng = np.random.default_rng(1)
    hashes = FrameHashes(np.arange(n) / 2.0, np.zeros(n, np.int8), rng.integers(0, 2**63, n, dtype=np.uint64), ALGORITHM)
    ref = Reference(0, "f" * 64, "/nowhere/big.mp4", "video", n / 2.0, 320, 240, 25.0, 1, 2.0, n, "2024-01-01T00:00:00+00:00")
    idx.add(ref, hashes)
    print("committed", flush=True)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_signal_inside_a_transaction_leaves_no_trace(index: Path, sig: signal.Signals) -> None:
    before = rows_digest(index)
    with started(
        [sys.executable, "-c", _MID_TRANSACTION, str(index)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    ) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == b"mid-transaction", proc.stderr.read() if proc.stderr else b""
        proc.send_signal(sig)
        proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert rows_digest(index) == before
    assert ref_count(index) == 2
    assert cli_here("index", "check", "--index", index).code == OK


# -- the same check on every backend ------------------------------------------------------


def _raw_execute(url: str, statement: str) -> None:
    """Run SQL on the index's own database, behind the backend's back (to damage it)."""
    if url.startswith("sqlite:"):
        con = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)
        con.execute("PRAGMA foreign_keys = OFF")
        con.execute(statement)
        con.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(statement)


def test_integrity_on_every_backend(index_url: str) -> None:
    """`Index.integrity` finds a reference whose hashes were partly lost, whatever the backend."""
    import numpy as np

    from provenance.hashing import ALGORITHM, FrameHashes
    from provenance.index import Reference

    with open_index(index_url, create=True) as idx:
        for n in range(2):
            hashes = FrameHashes(
                np.arange(40) / 2.0,
                np.zeros(40, np.int8),
                np.arange(40, dtype=np.uint64) * (n + 7) * 2654435761,
                ALGORITHM,
            )
            ref = Reference(0, f"{n}" * 64, f"/refs/{n}.mp4", "video", 20.0, 320, 240, 25.0, 1, 2.0, 40, "2024-01-01")
            idx.add(ref, hashes)
        report = idx.integrity()
        assert report.ok, report
        assert (report.references, report.hashes) == (2, 80)
        assert {"schema_version", "hash_counts", "orphan_rows"} <= set(report.checks)
    _raw_execute(index_url, "DELETE FROM hashes WHERE ref_id = 2 AND t_ms >= 10000")
    with open_index(index_url) as idx:
        report = idx.integrity()
    assert not report.ok
    (problem,) = report.problems
    assert problem.code == "hash_count" and "#2" in problem.message and "provenance index remove 2" in problem.action
    run = cli_here("index", "check", "--index", index_url)
    assert run.code == UNAVAILABLE and "records 40 hashes but 20 are stored" in run.stdout, run


def test_integrity_and_stats_cover_the_sound_and_features_rows(index_url: str) -> None:
    """`index check` finds lost sound items and orphaned feature rows; `index stats` counts both channels' rows."""
    import numpy as np

    from provenance.audio import SoundPrint, SoundStatus
    from provenance.features import Features, FrameFeatures
    from provenance.hashing import ALGORITHM, FrameHashes
    from provenance.index import Reference

    rng = np.random.default_rng(3)
    with open_index(index_url, create=True) as idx:
        hashes = FrameHashes(np.arange(20) / 2.0, np.zeros(20, np.int8), rng.integers(0, 2**63, 20).astype(np.uint64))
        assert hashes.algorithm == ALGORITHM
        sound = SoundPrint(
            SoundStatus.FINGERPRINTED, rng.integers(0, 2**32, 80).astype(np.uint32), np.ones(80, bool), duration_s=10.0
        )
        frame = FrameFeatures(
            1.0,
            480,
            270,
            rng.uniform(0, 270, (50, 2)).astype(np.float32),
            rng.integers(0, 256, (50, 32)).astype(np.uint8),
        )
        ref = Reference(0, "a" * 64, "/refs/a.mp4", "video", 10.0, 480, 270, 25.0, 1, 2.0, 20, "2024-01-01")
        idx.add(ref, hashes, sound=sound, features=Features((frame,)))
        stats = idx.stats()
        assert stats["sound_tracks"] == 1 and stats["sound_items"] == 80
        assert stats["feature_frames"] == 1 and stats["feature_keys"] > 0
        report = idx.integrity()
        assert report.ok, report
        assert {"sound_counts", "channel_orphan_rows"} <= set(report.checks)
    _raw_execute(index_url, "DELETE FROM sound_items WHERE i >= 60")
    _raw_execute(index_url, "DELETE FROM feature_frames")
    with open_index(index_url) as idx:
        problems = {p.code: p for p in idx.integrity().problems}
    assert set(problems) == {"sound_count", "channel_orphan_rows"}
    assert "records 80 sound items but 60 are stored" in problems["sound_count"].message
    assert "provenance index remove 1" in problems["sound_count"].action
    assert "feature_keys rows belong to no described frame" in problems["channel_orphan_rows"].message
    run = cli_here("index", "check", "--index", index_url)
    assert run.code == UNAVAILABLE and "sound items" in run.stdout, run


_IDLE_WORKER_STOPPED_AT_EXIT = textwrap.dedent(
    """
    import os, signal, threading, time
    from provenance.index import SourceFacts
    from provenance.ingest import _init_worker

    _init_worker(SourceFacts())
    # The pool's SIGTERM reaching a worker that is already exiting: it arrives while the interpreter's
    # shutdown waits for this thread.
    threading.Thread(target=lambda: (time.sleep(0.5), os.kill(os.getpid(), signal.SIGTERM), time.sleep(5))).start()
    """
)


def test_an_idle_worker_stopped_while_it_exits_says_nothing() -> None:
    """SIGTERM to an ingest worker with no file in hand ends it at once, even inside the interpreter's
    shutdown (a full suite saw "Exception ignored in threading ... SystemExit: 143" from such a worker)."""
    done = subprocess.run(
        [sys.executable, "-c", _IDLE_WORKER_STOPPED_AT_EXIT],
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 128 + signal.SIGTERM, done
    assert b"Traceback" not in done.stderr and b"Exception ignored" not in done.stderr, done.stderr
