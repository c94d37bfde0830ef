"""Stage 5, index: what only the PostgreSQL backend must do (the shared suite is test_index.py).

Many processes at once: creating the schema, adding the same file, and the
same candidates as SQLite for the same stored hashes; a server that is
stopped, before a command or in the middle of one, is exit 3 in one line.
Needs a server named by ``PROVENANCE_TEST_POSTGRES`` (each test gets a fresh
database); skipped otherwise. The tests that stop a server start one of
their own (``initdb`` and ``pg_ctl`` from PATH or /usr/lib/postgresql).
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import POSTGRES_ENV

from provenance.errors import IndexUnavailableError
from provenance.hashing import FrameHashes
from provenance.index import ClaimOwner, Reference, open_index


def _ref(sha: str = "a" * 64) -> Reference:
    return Reference(0, sha, "/x.mp4", "video", 20.0, 640, 360, 25.0, 1234, 2.0, 0, "2026-01-01T00:00:00+00:00")


def _hashes(n: int, seed: int) -> FrameHashes:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    return FrameHashes(np.arange(n) / 2.0, np.zeros(n, np.int8), values)


def _open_and_add(url: str, barrier: Any, sha: str, queue: Any) -> None:
    barrier.wait()
    with open_index(url, create=True) as idx:
        barrier.wait()
        _, added = idx.add(_ref(sha), _hashes(300, 1))
        queue.put(added)


def test_many_processes_create_and_add_the_same_file_once(postgres_database: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    queue = context.Queue()
    procs = [
        context.Process(target=_open_and_add, args=(postgres_database, barrier, "b" * 64, queue)) for _ in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    added = sorted(queue.get(timeout=5) for _ in procs)
    assert added == [False, False, False, True]
    with open_index(postgres_database) as idx:
        stats = idx.stats()
        assert (stats["references"], stats["hashes"]) == (1, 300)
        ids = {idx.identity()["index_id"]}
    with open_index(postgres_database) as idx:
        ids.add(idx.identity()["index_id"])
    assert len(ids) == 1


def test_lookup_gives_the_same_candidates_as_sqlite(postgres_database: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    stored = [_hashes(400, seed) for seed in range(3)]
    base = np.concatenate([fh.hashes for fh in stored])[rng.integers(0, 1200, 300)]
    # Flip 0-17 random bits: some candidates pass, some share a chunk but are too far, some share none.
    masks = np.array(
        [sum(1 << int(b) for b in rng.choice(64, rng.integers(0, 18), replace=False)) for _ in base], dtype=np.uint64
    )
    query = np.concatenate([base ^ masks, base[:30]])
    results = []
    for url in (postgres_database, f"sqlite:///{tmp_path / 'same.sqlite'}"):
        with open_index(url, create=True) as idx:
            for n, fh in enumerate(stored):
                idx.add(_ref(f"{n:064x}"), fh)
            c = idx.lookup(query, 14)
            results.append(
                sorted(zip(c.query_row.tolist(), c.ref_id.tolist(), c.ref_t.tolist(), c.distance.tolist(), strict=True))
            )
    assert results[0] == results[1]
    assert len(results[0]) >= 30


def test_password_never_appears_in_messages_or_reports(postgres_database: str) -> None:
    with pytest.raises(IndexUnavailableError) as err:
        open_index("postgresql://someone:s3cret-pw@127.0.0.1:1/none")
    assert "s3cret" not in str(err.value)
    assert "someone:***@" in str(err.value)
    with open_index(postgres_database, create=True) as idx:
        assert "s3cret" not in str(idx.identity())


def test_an_empty_database_is_not_an_index_unless_created(postgres_database: str) -> None:
    with pytest.raises(IndexUnavailableError, match="no provenance index in this database"):
        open_index(postgres_database)


def test_nul_characters_in_source_facts_are_stored(postgres_database: str) -> None:
    from provenance.index import SourceFacts

    with open_index(postgres_database, create=True) as idx:
        ref, _ = idx.add(replace(_ref(), source=SourceFacts(title="a\x00b")), _hashes(3, 2))
        assert ref.source.title == "a\ufffdb"


# -- a server that goes away ------------------------------------------------------------------


def _pg_program(name: str) -> str | None:
    """A PostgreSQL server program from PATH, else from the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name))
    candidates = [Path(d) / name for d in versions]
    return str(candidates[-1]) if candidates and candidates[-1].exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Throwaway:
    """A PostgreSQL server of one test's own, to be stopped by it."""

    url: str
    data: Path
    as_postgres: list[str]
    pg_ctl: str

    def stop(self) -> None:
        """``pg_ctl stop -m immediate``: the server goes away without a goodbye to its clients."""
        subprocess.run(
            [*self.as_postgres, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
            timeout=60,
        )


@pytest.fixture
def throwaway_server() -> Iterator[Throwaway]:
    """A fresh server on 127.0.0.1 and a free port (initdb in a temporary folder), stopped and removed afterwards.

    Run as the ``postgres`` user when the tests run as root (initdb refuses root).
    """
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"{POSTGRES_ENV} is not set (the PostgreSQL tests are not enabled)")
    initdb, pg_ctl = _pg_program("initdb"), _pg_program("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("initdb and pg_ctl are not installed")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix="provenance-pg-"))
    if as_postgres:
        shutil.chown(data, "postgres")
    port = _free_port()
    server = Throwaway(f"postgresql://postgres@127.0.0.1:{port}/postgres", data, as_postgres, pg_ctl)
    try:
        subprocess.run(
            [*as_postgres, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                *as_postgres,
                pg_ctl,
                "-D",
                str(data),
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {port} -k {data}",
                "-l",
                str(data / "log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield server
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "provenance", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("how", ["server stopped", "nothing listening"])
def test_commands_against_a_stopped_server_exit_3_in_one_line(
    request: pytest.FixtureRequest, testsrc_clip: Path, how: str
) -> None:
    if how == "server stopped":
        server: Throwaway = request.getfixturevalue("throwaway_server")
        with open_index(server.url, create=True) as idx:
            idx.add(_ref(), _hashes(10, 3))
        server.stop()
        url = server.url
    else:
        if not os.environ.get(POSTGRES_ENV):
            pytest.skip(f"{POSTGRES_ENV} is not set (the PostgreSQL tests are not enabled)")
        url = f"postgresql://postgres@127.0.0.1:{_free_port()}/postgres"
    for command in (
        ["check", testsrc_clip, "--index", url],
        ["index", "list", "--index", url],
        ["index", "add", testsrc_clip, "--index", url],
        ["index", "stats", "--index", url],
    ):
        run = _cli(*command)
        assert run.returncode == 3, (command, run.stderr)
        assert "Traceback" not in run.stderr, run.stderr
        (line,) = run.stderr.strip().splitlines()
        assert line.startswith("error: postgresql://postgres@127.0.0.1:") and "PostgreSQL" in line, line


def test_a_server_stopped_under_an_open_index_is_unavailable(throwaway_server: Throwaway) -> None:
    """Stopped between two operations: every call after that is `IndexUnavailableError`, never a crash."""
    owner = ClaimOwner.here()
    stored = _hashes(50, 4)
    with open_index(throwaway_server.url, create=True) as idx:
        ref, _ = idx.add(_ref(), stored)
        assert idx.claim("c" * 64, owner, 60) is None
        assert len(idx.lookup(stored.hashes[:5], 4)) >= 5  # the lookup's own connections are open too
        throwaway_server.stop()
        calls = {
            "lookup": lambda: idx.lookup(stored.hashes[:5], 4),
            "add": lambda: idx.add(_ref("d" * 64), _hashes(5, 5)),
            "find_sha256": lambda: idx.find_sha256(ref.sha256),
            "get_many": lambda: idx.get_many([ref.id]),
            "references": idx.references,
            "stats": idx.stats,
            "integrity": idx.integrity,
            "claim": lambda: idx.claim("e" * 64, owner, 60),
            "refresh_claims": lambda: idx.refresh_claims(owner, 60),
            "remove": lambda: idx.remove(ref.id),
        }
        for name, call in calls.items():
            with pytest.raises(IndexUnavailableError) as info:
                call()
            message = str(info.value)
            assert info.value.exit_code == 3, name
            assert message.startswith(throwaway_server.url) and "\n" not in message, (name, message)
            assert "PostgreSQL server is running" in message or "cannot connect to PostgreSQL" in message, message
