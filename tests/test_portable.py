"""Stage 5, index: export to a portable file and import it, on every backend."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import index_fingerprint

from provenance.cli import main
from provenance.errors import BadInputError
from provenance.hashing import FrameHashes
from provenance.index import Reference, SourceFacts, open_index
from provenance.index.portable import FORMAT, export_index, import_index, read_export


def _ref(n: int, **source: str) -> Reference:
    return Reference(
        id=0,
        sha256=f"{n:064x}",
        path=f"/archive/desk/clip{n}.mp4",
        kind="video",
        duration_s=10.0 + n,
        width=1280,
        height=720,
        fps=25.0,
        size_bytes=1000 * n,
        sample_fps=2.0,
        frames=0,
        added_at="2026-01-02T03:04:05+00:00",
        source=SourceFacts(**source),
    )


def _hashes(n: int, seed: int) -> FrameHashes:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    values[:1] = np.uint64(0xFFFFFFFFFFFFFFFF)  # the sign bit must survive every backend
    return FrameHashes(np.repeat(np.arange(n // 2 + 1) / 2.0, 2)[:n], np.tile([0, 16], n)[:n].astype(np.int8), values)


def _fill(url: str) -> None:
    with open_index(url, create=True) as idx:
        idx.add(_ref(1, title="Flood, \u00e9t\u00e9", publisher="Desk"), _hashes(40, 1), facts={"tags": {"a": "b"}})
        idx.add(_ref(2, source_url="https://example.org/v/2", first_seen="2021-09-12"), _hashes(7, 2))
        idx.add(_ref(3), _hashes(0, 3))


def test_export_import_round_trip_keeps_everything(index_url: str, tmp_path: Path) -> None:
    _fill(index_url)
    file = tmp_path / "desk.jsonl.gz"
    with open_index(index_url) as idx:
        result = export_index(idx, file)
        facts = idx.facts(idx.references()[0].id)
    assert (result.references, result.hashes) == (3, 47)
    target = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    with open_index(target, create=True) as copy:
        imported = import_index(copy, file)
        assert (imported.added, imported.present, imported.hashes) == (3, 0, 47)
        assert copy.facts(copy.references()[0].id) == facts
    assert index_fingerprint(target) == index_fingerprint(index_url)


def test_import_into_every_backend(index_url: str, tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'source.sqlite'}"
    _fill(source)
    file = tmp_path / "desk.jsonl"
    with open_index(source) as idx:
        export_index(idx, file)
    with open_index(index_url, create=True) as idx:
        import_index(idx, file)
    assert index_fingerprint(index_url) == index_fingerprint(source)


def test_import_is_idempotent(index_url: str, tmp_path: Path) -> None:
    _fill(index_url)
    file = tmp_path / "desk.jsonl.gz"
    with open_index(index_url) as idx:
        export_index(idx, file)
        before = idx.stats()
        again = import_index(idx, file)
        assert (again.added, again.present) == (0, 3)
        assert idx.stats()["hashes"] == before["hashes"]


def test_export_is_reproducible_and_compressed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    _fill(url)
    with open_index(url) as idx:
        export_index(idx, tmp_path / "a.jsonl.gz")
        export_index(idx, tmp_path / "b.jsonl.gz")
    a, b = (tmp_path / "a.jsonl.gz").read_bytes(), (tmp_path / "b.jsonl.gz").read_bytes()
    assert a[:2] == b"\x1f\x8b"
    lines = gzip.decompress(a).decode().splitlines()
    assert json.loads(lines[0])["format"] == FORMAT
    assert json.loads(lines[-1]) == {"end": True, "references": 3, "hashes": 47}
    assert "exported_at" in lines[0]
    assert lines[1:] == gzip.decompress(b).decode().splitlines()[1:]
    assert not list(tmp_path.glob("*.part"))


def test_strip_paths_keeps_file_names_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    _fill(url)
    with open_index(url) as idx:
        export_index(idx, tmp_path / "x.jsonl", strip_paths=True)
    assert [p.reference.path for p in read_export(tmp_path / "x.jsonl")] == ["clip1.mp4", "clip2.mp4", "clip3.mp4"]


def test_truncated_export_imports_whole_references_then_fails(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    _fill(url)
    with open_index(url) as idx:
        export_index(idx, tmp_path / "x.jsonl")
    lines = (tmp_path / "x.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "cut.jsonl").write_text("".join(lines[:3]))
    target = f"sqlite:///{tmp_path / 'b.sqlite'}"
    with open_index(target, create=True) as idx:
        with pytest.raises(BadInputError, match="without its trailer"):
            import_index(idx, tmp_path / "cut.jsonl")
        assert idx.stats()["references"] == 2
    (tmp_path / "half.jsonl").write_text("".join(lines[:2]) + lines[2][: len(lines[2]) // 2])
    with open_index(target) as idx, pytest.raises(BadInputError, match="line 3"):
        import_index(idx, tmp_path / "half.jsonl")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"not json\n", "not JSON"),
        (b'{"format": "something-else"}\n', "not a provenance index export"),
        (
            b'{"format": "provenance.index-export", "version": 99, "hash_algorithm": "phash64", "hash_bits": 64}\n',
            "newer",
        ),
        (
            b'{"format": "provenance.index-export", "version": 1, "hash_algorithm": "pdq", "hash_bits": 256}\n',
            "cannot be compared",
        ),
        (gzip.compress(b'{"format": "provenance.index-export"')[:-6], "damaged|not JSON"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path: Path, content: bytes, message: str) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_bytes(content)
    with pytest.raises(BadInputError, match=message):
        list(read_export(file))


def test_bad_reference_line_names_the_line(tmp_path: Path) -> None:
    header = {"format": FORMAT, "version": 1, "hash_algorithm": "phash64", "hash_bits": 64}
    line = {
        "reference": {"sha256": "f" * 64, "duration_s": 1, "width": 1, "height": 1, "size_bytes": 1, "sample_fps": 2}
    }
    line["hashes"] = {"t_ms": [0, 500], "variant": [0, 0], "hex": "00" * 8}
    file = tmp_path / "bad.jsonl"
    file.write_text("\n".join(json.dumps(x) for x in (header, line)) + "\n")
    with pytest.raises(BadInputError, match="line 2: not a valid reference .*differ in length"):
        list(read_export(file))


def test_cli_export_then_import(index_url: str, tmp_path: Path) -> None:
    _fill(index_url)
    runner = CliRunner()
    file = tmp_path / "share.jsonl.gz"
    out = runner.invoke(main, ["index", "export", str(file), "--index", index_url])
    assert out.exit_code == 0, out.output
    assert "exported 3 references (47 hashes)" in out.output
    target = str(tmp_path / "imported.sqlite")
    out = runner.invoke(main, ["index", "import", str(file), "--index", target, "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["added"] == 3
    out = runner.invoke(main, ["index", "import", str(file), "--index", target])
    assert "0 added, 3 already present" in out.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nope\n")
    out = runner.invoke(main, ["index", "import", str(bad), "--index", target])
    assert out.exit_code == 2
    assert "not JSON" in out.output
