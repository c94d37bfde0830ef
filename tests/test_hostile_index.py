"""Other programs' databases given as --index (issue 24): decided read-only, never changed.

Each case is built here with Python's sqlite3: a WAL-mode database with
changes still in its ``-wal``, a database whose ``meta`` table looks like
ours, an empty file, an index whose schema version is not a number, and an
intact index on read-only media (a tmpfs remounted read-only; skipped where
the test may not mount). Every command gives exit 3 with one line naming the
file, and every file (``-wal`` and ``-shm`` included) is byte for byte as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import cli_here


def _digests(path: Path) -> dict[str, str]:
    """SHA-256 of the file and of every -wal/-shm/-journal beside it (what exists is part of the answer)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.parent.glob(path.name + "*"))
        if p.is_file()
    }


def _commands(path: Path, clip: Path) -> list[tuple[str, ...]]:
    return [
        ("check", str(clip), "--index", str(path)),
        ("index", "add", "-q", str(clip), "--index", str(path)),
        ("index", "list", "--index", str(path)),
        ("index", "stats", "--index", str(path)),
        ("index", "check", "--index", str(path)),
        ("index", "show", "1", "--index", str(path)),
    ]


def _refused(run: object, path: Path, *needles: str) -> None:
    code, stderr = run.code, run.stderr  # type: ignore[attr-defined]
    lines = stderr.strip().splitlines()
    assert code == 3, (code, stderr)
    assert len(lines) == 1 and lines[0].startswith("error: ") and path.name in lines[0], stderr
    assert "unexpected" not in stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def _wal_database_with_unsaved_changes(path: Path) -> None:
    """Another program's WAL database, left as a crash leaves it: its newest rows only in -wal, -shm beside it."""
    script = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=0')\n"
        "c.execute('CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)'); c.commit()\n"
        "c.executemany('INSERT INTO photos(name) VALUES (?)', [(f'p{i}',) for i in range(50)]); c.commit()\n"
        "os._exit(0)\n"  # no close: no checkpoint, the -wal and -shm stay
    )
    subprocess.run(["python3", "-c", script, str(path)], check=True, timeout=60)
    assert Path(f"{path}-wal").stat().st_size > 0 and Path(f"{path}-shm").exists()


def test_a_wal_database_of_another_program_is_refused_and_its_wal_kept(tmp_path: Path, testsrc_clip: Path) -> None:
    path = tmp_path / "photos.db"
    _wal_database_with_unsaved_changes(path)
    before = _digests(path)
    assert set(before) == {"photos.db", "photos.db-wal", "photos.db-shm"}
    for args in _commands(path, testsrc_clip):
        _refused(cli_here(*args), path, "not a")
        assert _digests(path) == before, args
    # the other program still finds its rows
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM photos").fetchone()[0] == 50
    conn.close()


def test_a_database_whose_meta_table_looks_like_ours_is_not_switched_to_wal(tmp_path: Path, testsrc_clip: Path) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("schema_version", "2"), ("owner", "another app")])
    conn.commit()
    conn.close()
    before = _digests(path)
    header = path.read_bytes()[:100]
    assert header[18:20] == b"\x01\x01"  # rollback journal, not WAL
    for args in _commands(path, testsrc_clip):
        _refused(cli_here(*args), path, "not a provenance index")
        assert _digests(path) == before, args
    assert path.read_bytes()[:100] == header


@pytest.mark.parametrize("value", ["abc", None, "1e9", "-1", "99999999999"])
def test_an_index_whose_schema_version_is_not_a_number_is_refused(
    tmp_path: Path, sample_index: Path, testsrc_clip: Path, value: str | None
) -> None:
    conn = sqlite3.connect(sample_index)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("CREATE TABLE meta2 AS SELECT * FROM meta")
    conn.execute("DROP TABLE meta")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")  # NULL allowed, as a foreign file might
    conn.execute("INSERT INTO meta SELECT * FROM meta2")
    conn.execute("DROP TABLE meta2")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (value,))
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = _digests(sample_index)
    for args in _commands(sample_index, testsrc_clip)[:3]:
        _refused(cli_here(*args), sample_index)
        assert _digests(sample_index) == before


def test_an_empty_file_is_not_an_index_for_reading_commands(tmp_path: Path, testsrc_clip: Path) -> None:
    path = tmp_path / "index.sqlite"
    path.write_bytes(b"")
    for args in _commands(path, testsrc_clip):
        if args[:2] == ("index", "add"):
            continue
        _refused(cli_here(*args), path, "empty file", "not a provenance index")
        assert _digests(path) == {"index.sqlite": hashlib.sha256(b"").hexdigest()}
    added = cli_here("index", "add", "-q", testsrc_clip, "--index", path)  # index add may make its index there
    assert added.code == 0, added.stderr
    assert "1 added" in added.stdout


def test_a_planted_wal_symlink_beside_a_new_index_is_refused(tmp_path: Path, testsrc_clip: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me")
    out = tmp_path / "unpacked"
    out.mkdir()
    (out / "index.sqlite-wal").symlink_to(victim)
    run = cli_here("index", "add", "-q", testsrc_clip, "--index", out / "index.sqlite")
    _refused(run, out / "index.sqlite-wal", "another program")
    assert victim.read_bytes() == b"keep me"
    assert not (out / "index.sqlite").exists()


# -- read-only media -----------------------------------------------------------------------


@contextlib.contextmanager
def _read_only_mount(tmp_path: Path, *files: Path) -> Iterator[Path]:
    """A tmpfs holding copies of `files`, remounted read-only (skips the test where mounting is not allowed)."""
    where = tmp_path / "ro"
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a read-only file system needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(where)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace').strip()}")
    try:
        for f in files:
            shutil.copy(f, where / f.name)
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True, capture_output=True)
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False, capture_output=True)


def test_an_intact_index_on_read_only_media_is_read_and_not_written(
    tmp_path: Path, sample_index: Path, testsrc_clip: Path
) -> None:
    conn = sqlite3.connect(sample_index)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with _read_only_mount(tmp_path, sample_index) as ro:
        path = ro / sample_index.name
        before = _digests(path)
        listed = cli_here("index", "list", "--index", path)
        assert listed.code == 0 and len(listed.stdout.splitlines()) == 4, listed.stderr
        checked = cli_here("index", "check", "--index", path)
        assert checked.code == 0 and "whole" in checked.stdout, checked.stderr
        report = cli_here("check", testsrc_clip, "--index", path)
        assert report.code == 0, report.stderr
        _refused(cli_here("index", "add", "-q", testsrc_clip, "--index", path), path, "read-only media", "copy it")
        assert _digests(path) == before


def test_index_add_into_a_read_only_folder_is_exit_3_naming_it(tmp_path: Path, testsrc_clip: Path) -> None:
    with _read_only_mount(tmp_path) as ro:
        run = cli_here("index", "add", "-q", testsrc_clip, "--index", ro / "new.sqlite")
        _refused(run, ro / "new.sqlite", "read-only")
        deeper = cli_here("index", "add", "-q", testsrc_clip, "--index", ro / "sub" / "new.sqlite")
        _refused(deeper, ro / "sub" / "new.sqlite", "cannot be made")
