"""Stage query: one record per input, built once, the same hashes as the stages run alone and as ingest stores."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_same_reading, lavfi_clip

from provenance import query as query_mod
from provenance import tools
from provenance.decode import choose_decoder, extract_frames
from provenance.errors import BadInputError
from provenance.evidence import THUMB_LONG_SIDE
from provenance.hashing import REFERENCE_VARIANTS, VARIANT_FULL, FrameHashes, hash_query, hash_reference
from provenance.index import open_index
from provenance.ingest import add_file, prepare_file
from provenance.layout import find_layout
from provenance.probe import probe
from provenance.query import (
    MAX_QUERY_DURATION_S,
    QUERY_DECODING,
    QUERY_FPS,
    REF_DECODING,
    REF_FPS,
    REF_VIEWS_FPS,
    Query,
    Role,
    build_query,
    plan_for,
    sha256_of,
)

DECODERS = ["libav", "ffmpeg"]


@pytest.fixture(scope="module")
def black_clip(media_dir: Path) -> Path:
    """3 s of plain black, 160x120: every sample is too flat to hash."""
    return lavfi_clip(media_dir / "black.mp4", "color=c=black:size=160x120:rate=10", seconds=3)


def rows(hashes: FrameHashes) -> list[tuple[int, int, int]]:
    """(time in ms, variant, hash) of every row, sorted: how an index stores them."""
    t_ms = np.round(np.asarray(hashes.times) * 1000).astype(np.int64)
    return sorted(zip(t_ms.tolist(), hashes.variants.astype(int).tolist(), hashes.hashes.tolist(), strict=True))


@pytest.mark.parametrize("decoder", DECODERS)
def test_a_query_built_once_gives_the_hashes_of_the_stages_run_alone(viral_clip: Path, decoder: str) -> None:
    # The old path, stage by stage: probe, sample at QUERY_FPS, find the layout, hash every query variant.
    facts = probe(viral_clip)
    alone = extract_frames(
        viral_clip,
        fps=QUERY_FPS,
        facts=facts,
        decoding=QUERY_DECODING,
        max_duration_s=MAX_QUERY_DURATION_S,
        colour_long_side=THUMB_LONG_SIDE,
        decoder=choose_decoder(decoder),
    )
    layout = find_layout(alone.images)
    want = hash_query(alone.times, alone.images, layout.content_box, layout.inner_rect)

    query = build_query(viral_clip, role=Role.QUERY, decoder=choose_decoder(decoder), keyframes=THUMB_LONG_SIDE)
    # The check reads the facts from the libav worker's reading of the container where it has one
    # (no ffprobe started), the stage alone from ffprobe: one file, one reading.
    assert_same_reading(query.facts, facts)
    assert query.layout == layout
    assert np.array_equal(query.frames.times, alone.times) and np.array_equal(query.frames.images, alone.images)
    assert query.frames.colour is not None and alone.colour is not None
    assert np.array_equal(query.frames.colour, alone.colour)
    assert np.array_equal(query.hashes.times, want.times)
    assert np.array_equal(query.hashes.variants, want.variants)
    assert np.array_equal(query.hashes.hashes, want.hashes)


def test_a_reference_query_gives_the_hashes_ingest_stores(tmp_path: Path, sample_refs: Path) -> None:
    clip = sample_refs / "tree_window.mp4"
    with open_index(f"sqlite:///{tmp_path / 'index.sqlite'}", create=True) as idx:
        item = add_file(clip, idx)
        assert item.reference is not None
        stored = idx.frame_hashes(item.reference.id)
        stored_facts = idx.facts(item.reference.id)
    query = build_query(clip, role=Role.REFERENCE)
    assert rows(query.hashes) == rows(stored)
    assert item.reference.sha256 == query.sha256
    assert item.reference.frames == len(query.hashes)
    assert stored_facts == query.facts.to_dict()
    # The same as hashing the reference's samples alone.
    alone = extract_frames(clip, fps=REF_FPS, decoding=REF_DECODING)
    assert rows(query.hashes) == rows(hash_reference(alone.times, alone.images))


def test_a_still_image_is_one_frame_at_zero(still_jpeg: Path) -> None:
    query = build_query(still_jpeg, role=Role.QUERY, decoder=choose_decoder(), keyframes=THUMB_LONG_SIDE)
    assert query.is_image and query.facts.kind == "image"
    assert len(query.frames) == 1 and query.frames.fps == 0.0 and query.frames.times.tolist() == [0.0]
    assert query.decoder is not None and query.decoder.startswith("Pillow ")
    assert query.informative_frames == 1 and query.flat_frames == 0
    assert query.layout is not None
    assert VARIANT_FULL in set(query.hashes.variants.tolist())

    reference = build_query(still_jpeg, role=Role.REFERENCE)
    assert reference.is_image and len(reference.frames) == 1
    assert sorted(set(reference.hashes.variants.tolist())) == sorted(REFERENCE_VARIANTS)
    assert rows(reference.hashes.select(VARIANT_FULL)) == rows(query.hashes.select(VARIANT_FULL))


def test_a_check_starts_no_ffprobe_where_the_worker_read_the_container(
    viral_clip: Path, rotated_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The libav worker reads the container it opens anyway; ffprobe runs only where that reading is
    # missing: here a title of 60 000 characters, more than the worker sends (MAX_READING_BYTES).
    probed: list[list[str]] = []
    run_ffprobe = tools.run_ffprobe

    def counted(args: list[str], **kwargs: object) -> tools.ToolResult:
        probed.append(args)
        return run_ffprobe(args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tools, "run_ffprobe", counted)
    decoder = choose_decoder("libav")
    for clip in (viral_clip, rotated_clip):
        query = build_query(clip, role=Role.QUERY, decoder=decoder)
        assert query.facts.kind == "video" and len(query.frames) > 0
    assert query.facts.rotation == 90.0 and query.facts.display_size == (240, 320)
    assert probed == []
    long_title = lavfi_clip(
        tmp_path / "long_title.mp4",
        "testsrc2=size=160x120:rate=10",
        seconds=2,
        extra=("-metadata", "title=" + "x" * 60_000),
    )
    query = build_query(long_title, role=Role.QUERY, decoder=decoder)
    assert len(probed) == 1 and query.facts.tags["title"].startswith("xxx") and query.facts.truncated_tags


def test_every_stage_fact_is_in_the_record(viral_clip: Path) -> None:
    decoder = choose_decoder()
    query = build_query(viral_clip, role="query", decoder=decoder)
    assert isinstance(query, Query) and query.role is Role.QUERY and query.path == viral_clip
    assert query.sha256 == hashlib.sha256(viral_clip.read_bytes()).hexdigest()
    assert query.facts.kind == "video" and query.facts.duration_s > 0
    assert query.credentials is not None and query.credentials.status in ("absent", "valid", "invalid", "unchecked")
    assert query.ffmpeg_version == tools.ffmpeg_version()
    assert query.decoder == decoder.describe()
    assert query.layout is not None
    assert len(query.frames) > 0 and query.frames.fps == QUERY_FPS
    assert query.frames.colour is None  # no keyframes asked for: no colour samples kept
    assert query.informative_frames == len(query.hashes.select(VARIANT_FULL)) > 0
    assert query.unreadable == query.frames.unreadable == ()
    # viral.mp4 has no sound track: the audio stage says so rather than leaving the channel empty.
    assert query.sound is not None and query.sound.status == "no_audio_stream" and len(query.sound) == 0
    assert (query.text, query.features) == (None, None)

    reference = build_query(viral_clip, role=Role.REFERENCE)
    assert reference.role is Role.REFERENCE and reference.sha256 == query.sha256
    assert_same_reading(reference.facts, query.facts)
    assert reference.frames.fps == REF_FPS
    # What only a report records is not read for a reference; references are hashed whole and by centred crops.
    assert (reference.credentials, reference.ffmpeg_version, reference.decoder, reference.layout) == (None,) * 4


def test_flat_frames_are_counted_and_said(black_clip: Path) -> None:
    query = build_query(black_clip, role=Role.QUERY)
    assert query.informative_frames == 0 and query.flat_frames == len(query.frames) > 0
    n = len(query.frames)
    assert f"{n} of {n} sampled frames were too flat (black, blank) to compare" in query.warnings
    # ... and a reference of them is refused by ingest, with its sample count.
    with pytest.raises(BadInputError, match=f"none of its {len(build_query(black_clip, role='reference').frames)} "):
        prepare_file(black_clip)


def test_the_plans_of_the_two_roles() -> None:
    query = plan_for(Role.QUERY, keyframes=THUMB_LONG_SIDE)
    assert (query.fps, query.decoding, query.max_duration_s, query.colour_long_side) == (
        QUERY_FPS,
        QUERY_DECODING,
        MAX_QUERY_DURATION_S,
        THUMB_LONG_SIDE,
    )
    assert plan_for("query").colour_long_side is None
    reference = plan_for("reference", keyframes=THUMB_LONG_SIDE)
    assert (reference.fps, reference.decoding, reference.colour_long_side) == (REF_VIEWS_FPS, REF_DECODING, None)
    with pytest.raises(ValueError):
        plan_for("thumbnail")


@pytest.mark.parametrize("role", list(Role))
def test_a_known_sha256_is_not_read_again(testsrc_clip: Path, monkeypatch: pytest.MonkeyPatch, role: Role) -> None:
    def unread(path: object) -> str:
        raise AssertionError("the file's SHA-256 was read again")

    monkeypatch.setattr(query_mod, "sha256_of", unread)
    query = build_query(testsrc_clip, role=role, sha256="ab" * 32)
    assert query.sha256 == "ab" * 32


def test_an_indexed_file_is_neither_probed_nor_decoded(testsrc_clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise AssertionError("an indexed file was probed or decoded")

    monkeypatch.setattr("provenance.ingest.probe", explode)
    monkeypatch.setattr("provenance.ingest.build_query", explode)
    prepared = prepare_file(testsrc_clip, is_indexed=lambda sha: True)
    assert prepared.reference is None and prepared.hashes is None
    assert prepared.sha256 == sha256_of(testsrc_clip)


def test_sha256_of_refuses_a_named_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    with pytest.raises(BadInputError, match="not a regular file"):
        sha256_of(fifo)
