"""Verify's views of each reference, stored at ingest (provenance/index/views.py): what is stored, that a check
verifies from them without the reference file, and that an index made before them still verifies from the file."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from test_verify import fixed_camera  # noqa: F401 - the fixture, shared

from provenance.relation import Relation


def _indexed(reference: Path, tmp_path: Path) -> tuple[str, Path]:
    """An index of a copy of `reference` (the copy can be taken away): (its URL, the copy's path)."""
    from provenance.index import SourceFacts, open_index
    from provenance.ingest import add_paths

    kept = tmp_path / "archive" / reference.name
    kept.parent.mkdir()
    shutil.copy(reference, kept)
    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    with open_index(url, create=True) as idx:
        result = add_paths([kept], idx, source=SourceFacts(first_seen="2019-06-14"))
    assert [i.status for i in result.items] == ["added"]
    return url, kept


def test_a_reference_keeps_four_views_a_second_and_hashes_every_other(
    fixed_camera: dict[str, Path],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from provenance import query as query_mod
    from provenance.decode import Plan, choose_decoder
    from provenance.probe import probe
    from provenance.query import REF_DECODING, REF_FPS, REF_VIEWS_FPS, VIEW_LONG_SIDE, Role, build_query

    def second_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("the features' frames come from the one sampling pass, not a decode of their own")

    reference = fixed_camera["reference"]
    monkeypatch.setattr(query_mod, "describe_features", second_decode)
    q = build_query(reference, role=Role.REFERENCE)
    monkeypatch.undo()
    assert q.views is not None
    ticks = q.views.times * REF_VIEWS_FPS
    assert np.allclose(ticks, np.round(ticks)) and len(q.views) == pytest.approx(20 * REF_VIEWS_FPS, abs=2)
    assert max(q.views.images.shape[1:]) == VIEW_LONG_SIDE
    # The hashed samples are every other view, and the very frames a pass at REF_FPS of its own takes.
    assert np.array_equal(q.frames.times, q.views.times[::2])
    assert np.array_equal(q.frames.images, q.views.images[::2])
    alone = choose_decoder().sample(reference, Plan(REF_FPS, decoding=REF_DECODING), probe(reference))
    assert np.array_equal(alone.times, q.frames.times) and np.array_equal(alone.images, q.frames.images)


def test_a_check_verifies_from_the_stored_views_without_the_reference_file(
    fixed_camera: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    """The archive's file gone, the copy is still the same footage and the other moment only the same place:
    what moves was compared with the views the index keeps (before them, verify could not run)."""
    from provenance.index import open_index
    from provenance.pipeline import check

    url, kept = _indexed(fixed_camera["reference"], tmp_path)
    with open_index(url) as idx:
        ref = idx.references()[0]
        views = idx.reference_views(int(ref.id), 6.0, 11.0)
        assert views is not None and views.times[0] == 6.0 and views.times[-1] == 11.0 and len(views) == 21
        kept.unlink()
        copy = check(fixed_camera["copy"], idx, keyframes=False)
        other = check(fixed_camera["other"], idx, keyframes=False)
    assert copy.matches and copy.matches[0].relation == Relation.SAME_FOOTAGE
    assert copy.matches[0].reference_start_s == pytest.approx(6.0, abs=0.5)
    assert other.matches and all(m.relation == Relation.SAME_SCENE for m in other.matches)
    v = other.matches[0].verification
    assert v is not None and v.specificity is not None and "what moves does not" in v.reason


def test_an_index_made_before_the_views_verifies_from_the_file(
    fixed_camera: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    from provenance.index import open_index
    from provenance.pipeline import check

    url, kept = _indexed(fixed_camera["reference"], tmp_path)
    with sqlite3.connect(tmp_path / "index.sqlite") as db:
        db.execute("DROP TABLE view_chunks")
    with open_index(url) as idx:
        assert idx.reference_views(int(idx.references()[0].id), 0.0, 20.0) is None
        copy = check(fixed_camera["copy"], idx, keyframes=False)
        other = check(fixed_camera["other"], idx, keyframes=False)
        assert copy.matches and copy.matches[0].relation == Relation.SAME_FOOTAGE
        assert other.matches and all(m.relation == Relation.SAME_SCENE for m in other.matches)
        # Without views and without the file, nothing can be compared: the match is not called the same footage.
        kept.unlink()
        gone = check(fixed_camera["copy"], idx, keyframes=False)
    assert all(m.relation != Relation.SAME_FOOTAGE for m in gone.matches)


def test_index_check_finds_views_of_no_reference(tmp_path: Path) -> None:
    from provenance.index import open_index

    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    with open_index(url, create=True) as idx:
        assert idx.integrity().ok
    with sqlite3.connect(tmp_path / "index.sqlite") as db:  # a raw connection: no foreign keys enforced
        db.execute("INSERT INTO view_chunks(ref_id, t_ms, end_ms, times, image) VALUES (7, 0, 0, x'00000000', x'00')")
    with open_index(url) as idx:
        problems = {p.code: p for p in idx.integrity().problems}
    assert "1 view_chunks rows belong to no reference" in problems["channel_orphan_rows"].message


def test_a_damaged_or_outsized_row_of_views_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row whose PNG is not one, or declares a picture far beyond a view's, is skipped before any decode
    (OpenCV would allocate for the declared size first); the window's other rows stand."""
    import struct
    import zlib

    import cv2

    from provenance.decode import Views
    from provenance.index import open_index
    from provenance.index.views import CHUNK_FRAMES, encode

    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    rng = np.random.default_rng(1)
    n = 2 * CHUNK_FRAMES
    views = Views(np.arange(n) / 4.0, rng.integers(0, 256, size=(n, 72, 128), dtype=np.uint8))
    from test_index import BASE, make_hashes, make_ref, sha

    with open_index(url, create=True) as idx:
        ref, _ = idx.add(make_ref(sha(1)), make_hashes([BASE]), views=encode(views))
    # The first row's picture declares 60000 x 60000 pixels (a few bytes of PNG, gigabytes decoded).
    body = b"IHDR" + struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    huge = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))
    with sqlite3.connect(tmp_path / "index.sqlite") as db:
        db.execute("UPDATE view_chunks SET image = ? WHERE t_ms = 0", (huge,))
    decoded: list[int] = []
    real = cv2.imdecode
    monkeypatch.setattr(cv2, "imdecode", lambda buf, flags: decoded.append(len(buf)) or real(buf, flags))
    with open_index(url) as idx:
        got = idx.reference_views(int(ref.id), 0.0, n / 4.0)
        assert len(huge) not in decoded, "the outsized row's PNG was handed to the decoder"
        assert got is not None and got.times[0] == CHUNK_FRAMES / 4.0 and len(got) == CHUNK_FRAMES
        assert np.array_equal(got.images, views.images[CHUNK_FRAMES:])
    with sqlite3.connect(tmp_path / "index.sqlite") as db:
        db.execute("UPDATE view_chunks SET image = x'00010203'")
    with open_index(url) as idx:
        assert idx.reference_views(int(ref.id), 0.0, n / 4.0) is None
