"""Reference ingest: sidecars, flags over sidecars, folder walking, idempotence, bad files in a batch."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import ffmpeg

from provenance.errors import BadInputError
from provenance.index import SourceFacts, open_index
from provenance.ingest import (
    REF_FPS,
    add_paths,
    iter_media,
    read_sidecar,
    sha256_of,
    sidecar_path,
)


def write_sidecar(path: Path, **data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# -- sidecars ---------------------------------------------------------------------------


def test_read_yt_dlp_sidecar(tmp_path: Path) -> None:
    side = write_sidecar(
        tmp_path / "clip.info.json",
        webpage_url="https://video.example/watch?v=abc",
        uploader="Some Channel",
        upload_date="20210912",
        title="  Street footage  ",
        license="CC BY 4.0",
        formats=[{"format_id": "18"}],
    )
    facts = read_sidecar(side, at="2026-12-06T09:00:00+00:00")
    assert replace(facts, origins=()) == SourceFacts(
        source_url="https://video.example/watch?v=abc",
        publisher="Some Channel",
        title="Street footage",
        first_seen="2021-09-12",
        licence="CC BY 4.0",
    )
    # Each fact says which sidecar field it was read from, and when.
    assert {o.fact: (o.kind, o.detail, o.recorded_at) for o in facts.origins} == {
        "source_url": ("sidecar", "clip.info.json, field webpage_url", "2026-12-06T09:00:00+00:00"),
        "publisher": ("sidecar", "clip.info.json, field uploader", "2026-12-06T09:00:00+00:00"),
        "title": ("sidecar", "clip.info.json, field title", "2026-12-06T09:00:00+00:00"),
        "first_seen": ("sidecar", "clip.info.json, field upload_date", "2026-12-06T09:00:00+00:00"),
        "licence": ("sidecar", "clip.info.json, field license", "2026-12-06T09:00:00+00:00"),
    }


def test_sidecar_timestamp_is_more_precise_than_upload_date(tmp_path: Path) -> None:
    side = write_sidecar(tmp_path / "a.info.json", upload_date="20180621", timestamp=1529589600)
    facts = read_sidecar(side)
    assert facts.first_seen == "2018-06-21T14:00:00+00:00"
    origin = facts.origin("first_seen")
    assert origin is not None and origin.detail == "a.info.json, field timestamp"


def test_sidecar_fallbacks_and_junk(tmp_path: Path) -> None:
    side = write_sidecar(
        tmp_path / "b.info.json", original_url="https://x.example/1", channel="Chan", upload_date="2021-09", title={}
    )
    facts = read_sidecar(side)
    assert facts.source_url == "https://x.example/1" and facts.publisher == "Chan"
    assert facts.first_seen is None and facts.title is None


def test_bad_sidecars_are_user_errors(tmp_path: Path) -> None:
    broken = tmp_path / "c.info.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(BadInputError, match="not valid JSON"):
        read_sidecar(broken)
    listed = tmp_path / "d.info.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(BadInputError, match="not a JSON object"):
        read_sidecar(listed)


def test_sidecar_is_found_by_either_yt_dlp_name(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    assert sidecar_path(clip) is None
    long_name = write_sidecar(tmp_path / "clip.mp4.info.json")
    assert sidecar_path(clip) == long_name
    short_name = write_sidecar(tmp_path / "clip.info.json")
    assert sidecar_path(clip) == short_name


def test_sample_sidecars_give_source_facts(sample_index_file: Path) -> None:
    with open_index(sample_index_file) as idx:
        refs = {Path(r.path).name: r for r in idx.references()}
    street = refs["street_cyclists.mp4"].source
    assert street.first_seen == "2021-09-12"
    assert street.source_url == "https://archive.example.org/watch/street-2021-0912"
    assert street.publisher == "Example Street Footage Archive"
    assert street.title and "cyclists" in street.title
    assert refs["tree_window.mp4"].source.first_seen == "2018-06-21T14:00:00+00:00"


# -- adding files ---------------------------------------------------------------------------


@pytest.fixture
def clip_with_sidecar(tmp_path: Path, testsrc_clip: Path) -> Path:
    """A copy of testsrc_clip with a yt-dlp sidecar saying where it came from."""
    clip = tmp_path / "upload.mp4"
    shutil.copy(testsrc_clip, clip)
    write_sidecar(
        tmp_path / "upload.info.json",
        webpage_url="https://video.example/upload",
        uploader="Sidecar Uploader",
        upload_date="20200102",
        title="Sidecar title",
    )
    return clip


def test_added_reference_records_media_and_source(tmp_path: Path, clip_with_sidecar: Path) -> None:
    with open_index(tmp_path / "i.sqlite", create=True) as idx:
        result = add_paths([clip_with_sidecar], idx)
        (item,) = result.items
        assert item.status == "added" and item.added and item.error is None
        ref = item.reference
        assert ref is not None
        assert ref.sha256 == sha256_of(clip_with_sidecar)
        assert ref.path == str(clip_with_sidecar)
        assert (ref.kind, ref.width, ref.height) == ("video", 320, 240)
        assert ref.duration_s == pytest.approx(4.0, abs=0.1)
        assert ref.sample_fps == REF_FPS
        assert ref.source.source_url == "https://video.example/upload"
        assert ref.source.first_seen == "2020-01-02"
        assert ref.frames == len(idx.frame_hashes(ref.id)) > 0
        assert idx.facts(ref.id)["width"] == 320  # type: ignore[index]
    assert result.to_dict()["added"] == 1


def test_flags_win_over_the_sidecar(tmp_path: Path, clip_with_sidecar: Path) -> None:
    flags = SourceFacts(publisher="Flag Publisher", first_seen="2019-05-05", notes="checked by desk")
    with open_index(tmp_path / "i.sqlite", create=True) as idx:
        (item,) = add_paths([clip_with_sidecar], idx, source=flags).items
    assert item.reference is not None
    source = item.reference.source
    assert source.publisher == "Flag Publisher"
    assert source.first_seen == "2019-05-05"
    assert source.notes == "checked by desk"
    assert source.title == "Sidecar title"  # not given as a flag: from the sidecar
    assert source.source_url == "https://video.example/upload"
    # Each fact keeps where it came from, stored in the index and read back with the reference.
    kinds = {o.fact: o.kind for o in source.origins}
    assert kinds == {"publisher": "given", "first_seen": "given", "title": "sidecar", "source_url": "sidecar"}
    origin = source.origin("title")
    assert origin is not None and origin.detail.endswith(".info.json, field title")
    assert origin.recorded_at == item.reference.added_at
    with open_index(tmp_path / "i.sqlite") as idx:
        assert idx.get(item.reference.id).source == source


def test_same_file_twice_adds_nothing(tmp_path: Path, testsrc_clip: Path) -> None:
    renamed = tmp_path / "renamed copy.mp4"
    shutil.copy(testsrc_clip, renamed)
    with open_index(tmp_path / "i.sqlite", create=True) as idx:
        first = add_paths([testsrc_clip], idx)
        before = idx.stats()
        again = add_paths([testsrc_clip, renamed], idx)
        assert idx.stats()["references"] == before["references"] == 1
        assert idx.stats()["hashes"] == before["hashes"]
    assert [i.status for i in first.items] == ["added"]
    assert [i.status for i in again.items] == ["present", "present"]
    assert again.items[1].reference == first.items[0].reference


def test_folders_are_walked_recursively(tmp_path: Path, testsrc_clip: Path, life_clip: Path, still_jpeg: Path) -> None:
    root = tmp_path / "archive"
    (root / "2021" / "september").mkdir(parents=True)
    (root / "empty").mkdir()
    shutil.copy(testsrc_clip, root / "a.mp4")
    shutil.copy(life_clip, root / "2021" / "september" / "life.MP4")
    shutil.copy(still_jpeg, root / "2021" / "photo.jpg")
    (root / "readme.txt").write_text("not media", encoding="utf-8")
    write_sidecar(root / "a.info.json", title="A")
    walked = [p.relative_to(root).as_posix() for p, problem in iter_media([root]) if problem is None]
    assert walked == ["a.mp4", "2021/photo.jpg", "2021/september/life.MP4"]
    with open_index(tmp_path / "i.sqlite", create=True) as idx:
        result = add_paths([root], idx)
        kinds = sorted(r.kind for r in idx.references())
    assert result.count("added") == 3 and result.count("failed") == 0
    assert kinds == ["image", "video", "video"]


def test_folder_without_media_is_a_user_error(tmp_path: Path) -> None:
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    with open_index(tmp_path / "i.sqlite", create=True) as idx:
        with pytest.raises(BadInputError, match="no video or image files"):
            add_paths([folder], idx)
        assert idx.stats()["references"] == 0


def test_missing_path_is_a_user_error(tmp_path: Path) -> None:
    with open_index(tmp_path / "i.sqlite", create=True) as idx:
        with pytest.raises(BadInputError, match="no such file"):
            add_paths([tmp_path / "gone.mp4"], idx)


def test_bad_file_in_a_batch_is_reported_and_the_others_are_added(
    tmp_path: Path, testsrc_clip: Path, life_clip: Path, zero_byte_file: Path, truncated_before_first_frame: Path
) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    for src in (testsrc_clip, zero_byte_file, truncated_before_first_frame, life_clip):
        shutil.copy(src, batch / src.name)
    seen: list[str] = []
    with open_index(tmp_path / "i.sqlite", create=True) as idx:
        result = add_paths([batch], idx, on_item=lambda item: seen.append(item.status))
        stored = sorted(Path(r.path).name for r in idx.references())
    by_name = {Path(i.path).name: i for i in result.items}
    assert by_name["testsrc.mp4"].status == "added"
    assert by_name["life.mp4"].status == "added"
    for bad in ("empty.mp4", "truncated_before_first_frame.mp4"):
        item = by_name[bad]
        assert item.status == "failed" and item.reference is None
        assert item.exit_code == 2
        assert item.error is not None and bad in item.error
    assert stored == ["life.mp4", "testsrc.mp4"]
    assert sorted(seen) == ["added", "added", "failed", "failed"]
    assert result.to_dict()["failed"] == 2


def test_ingest_over_each_backend(index_url: str, testsrc_clip: Path, still_jpeg: Path) -> None:
    with open_index(index_url, create=True) as idx:
        result = add_paths([testsrc_clip, still_jpeg, testsrc_clip], idx)
        assert [i.status for i in result.items] == ["added", "added", "present"]
        image = result.items[1].reference
        assert image is not None and image.kind == "image" and image.sample_fps == 0.0
        assert idx.stats()["references"] == 2


def test_a_files_modification_time_is_a_first_seen_date_only_when_asked(
    tmp_path: Path, mandelbrot_clip: Path, clip_with_sidecar: Path
) -> None:
    """`index add --first-seen mtime` dates a file without a sidecar date by its modification time, recorded as
    such (reports label it); a sidecar's date wins; without the flag no modification time is ever taken."""
    import os

    from click.testing import CliRunner

    from provenance.cli import main

    bare = tmp_path / "bare.mp4"
    shutil.copy(mandelbrot_clip, bare)
    os.utime(bare, (1_600_000_000, 1_600_000_000))  # 2020-09-13T12:26:40Z
    index = tmp_path / "i.sqlite"
    run = CliRunner().invoke(
        main,
        ["index", "add", str(bare), str(clip_with_sidecar), "--index", str(index), "--first-seen", "mtime", "-j", "1"],
    )
    assert run.exit_code == 0, run.output
    with open_index(index) as idx:
        by_name = {Path(r.path).name: r for r in idx.references()}
    dated = by_name["bare.mp4"].source
    assert dated.first_seen == "2020-09-13T12:26:40+00:00"
    origin = dated.origin("first_seen")
    assert origin is not None and origin.kind == "file_mtime" and origin.detail == "asked for with --first-seen mtime"
    side = by_name[clip_with_sidecar.name].source
    assert side.first_seen == "2020-01-02" and side.origin("first_seen").kind == "sidecar"  # type: ignore[union-attr]
    plain = tmp_path / "plain.sqlite"
    assert CliRunner().invoke(main, ["index", "add", str(bare), "--index", str(plain), "-j", "1"]).exit_code == 0
    with open_index(plain) as idx:
        (ref,) = idx.references()
    assert ref.source.first_seen is None and ref.source.origins == ()


def test_a_relative_path_is_stored_absolute_so_a_check_elsewhere_shows_the_reference_frames(
    tmp_path: Path, testsrc_clip: Path
) -> None:
    """`index add refs/clip.mp4` from one folder, `check` from another: the report still shows the reference's frames."""
    import os
    import subprocess
    import sys

    here, elsewhere = tmp_path / "desk", tmp_path / "elsewhere"
    (here / "refs").mkdir(parents=True)
    elsewhere.mkdir()
    shutil.copy(testsrc_clip, here / "refs" / "clip.mp4")
    index = tmp_path / "index.sqlite"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    run = [sys.executable, "-m", "provenance"]
    added = subprocess.run(
        [*run, "index", "add", "refs/clip.mp4", "--index", str(index), "-q"],
        cwd=here,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert added.returncode == 0, added.stderr
    with open_index(index) as idx:
        (ref,) = idx.references()
    assert ref.path == str(here / "refs" / "clip.mp4")
    checked = subprocess.run(
        [*run, "check", str(testsrc_clip), "--index", str(index), "--no-text"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["matches"], "the copy was not found"
    (frames,) = report["keyframes"]["matches"]
    assert frames["reference_status"] == "ok"
    assert frames["pairs"] and all(p["reference"] is not None for p in frames["pairs"])


# -- one picture decode feeds every reference channel --------------------------------------------


def _counting(name: str) -> Any:
    """A decoder of `name` that notes each plan it samples with."""
    from provenance.decode import Frames, Plan, choose_decoder

    base = type(choose_decoder(name))

    class Counting(base):  # type: ignore[valid-type, misc]
        def __init__(self) -> None:
            super().__init__()
            self.plans: list[Plan] = []

        def sample(self, path: Path | str, plan: Plan, facts: Any = None) -> Frames:
            self.plans.append(plan)
            return super().sample(path, plan, facts)

    return Counting()


@pytest.fixture(scope="module")
def reference_with_sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """9.5 s of 640x360 moving footage at 30 fps (x264, B-frames) with a tune as AAC sound."""
    import subprocess

    from sound_media import melody, write_wav

    folder = tmp_path_factory.mktemp("one-decode")
    tune = write_wav(folder / "tune.wav", melody(3, 10.0))
    out = folder / "reference.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-i", str(tune), "-map", "0:v", "-map", "1:a", "-t", "9.5", "-c:v", "libx264", "-preset", "veryfast",
         "-bf", "3", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", str(out)],
        check=True, timeout=120,
    )  # fmt: skip
    return out


def _as_before(path: Path, decoder: Any) -> dict[str, Any]:
    """What ingest stored before the decodes were merged: hashes from the hashes' own decode, the
    camera from those samples, features from a decode of their own (`query.describe_features`)."""
    from provenance.camera import describe_motion
    from provenance.decode import Plan
    from provenance.hashing import hash_reference
    from provenance.probe import probe
    from provenance.query import REF_DECODING, Role, describe_features

    facts = probe(path)
    sampled = decoder.sample(path, Plan(REF_FPS, decoding=REF_DECODING), facts)
    return {
        "hashes": hash_reference(sampled.times, sampled.images),
        "camera": describe_motion(sampled.times, sampled.images) if facts.kind == "video" else None,
        "features": describe_features(path, facts, role=Role.REFERENCE, decoder=decoder),
    }


def _same_features(a: Any, b: Any) -> bool:
    import numpy as np

    return len(a.frames) == len(b.frames) and all(
        (x.t, x.width, x.height) == (y.t, y.width, y.height)
        and np.array_equal(x.points, y.points)
        and np.array_equal(x.descriptors, y.descriptors)
        for x, y in zip(a.frames, b.frames, strict=True)
    )


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("decoder", ["libav", "ffmpeg"])
def test_one_picture_decode_feeds_hashes_camera_and_features_with_the_same_results(
    decoder: str, threads: int, reference_with_sound: Path
) -> None:
    """A reference is decoded once for its pictures (the sampling pass also gives the features' frames),
    and what is stored is what the two decodes on one thread gave before: hashes, camera motion (now
    found beside the features), features; on two frame threads (a lone file's ingest) the same."""
    import numpy as np

    from provenance.audio import SoundStatus
    from provenance.ingest import prepare_file

    counting = _counting(decoder)
    prepared = prepare_file(reference_with_sound, decoder=counting, threads=threads)
    assert len(counting.plans) == 1 and counting.plans[0].sparse is not None
    assert counting.plans[0].decoding.threads == threads
    before = _as_before(reference_with_sound, _counting(decoder))
    assert prepared.hashes is not None and prepared.reference is not None and prepared.features is not None
    for name in ("times", "variants", "hashes"):
        assert np.array_equal(getattr(prepared.hashes, name), getattr(before["hashes"], name)), name
    assert prepared.reference.camera == before["camera"]
    assert len(prepared.features.frames) == 10 and prepared.features.descriptors > 1000
    assert _same_features(prepared.features, before["features"])
    assert prepared.sound is not None and prepared.sound.status == SoundStatus.FINGERPRINTED


def test_a_lone_worker_decodes_on_spare_cores_and_workers_side_by_side_on_one_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Frame threads only where a core would otherwise be idle: one worker on two cores or more."""
    from provenance import ingest
    from provenance.query import REF_SPARE_THREADS

    monkeypatch.setattr(ingest, "default_jobs", lambda: 2)
    assert ingest.spare_threads(1) == REF_SPARE_THREADS == 2
    assert ingest.spare_threads(2) == 1
    monkeypatch.setattr(ingest, "default_jobs", lambda: 1)
    assert ingest.spare_threads(1) == 1


def test_a_still_or_a_sound_file_has_no_camera_finding(
    tmp_path: Path, still_jpeg: Path, reference_with_sound: Path
) -> None:
    """The camera finding is made beside the features for a video only."""
    from provenance.ingest import prepare_file

    sound = tmp_path / "sound.m4a"
    ffmpeg("-i", reference_with_sound, "-vn", "-c:a", "copy", sound)
    for path, kind in ((still_jpeg, "image"), (sound, "audio")):
        prepared = prepare_file(path, threads=2)
        assert prepared.reference is not None and prepared.reference.kind == kind
        assert prepared.reference.camera is None


def test_index_add_stores_the_same_rows_as_separate_decodes(tmp_path: Path, reference_with_sound: Path) -> None:
    """The rows an index holds for a reference: the features read back equal those a decode of their own
    describes, the hashes those of the hashes' own decode."""
    import numpy as np

    from provenance.decode import choose_decoder

    with open_index(f"sqlite:///{tmp_path / 'i.sqlite'}", create=True) as idx:
        (item,) = add_paths([reference_with_sound], idx).items
        assert item.status == "added" and item.reference is not None
        stored = idx.reference_features(item.reference.id)
        hashes = idx.frame_hashes(item.reference.id)
    before = _as_before(reference_with_sound, choose_decoder())
    assert [f.t for f in stored] == [f.t for f in before["features"].frames]
    assert all(
        np.array_equal(a.descriptors, b.descriptors) for a, b in zip(stored, before["features"].frames, strict=True)
    )

    def rows(h: Any) -> list[tuple[float, int, int]]:
        return sorted(zip(h.times.tolist(), h.variants.tolist(), h.hashes.tolist(), strict=True))

    assert len(hashes) > 0 and rows(hashes) == rows(before["hashes"])


def test_index_add_of_stills_animations_and_sound_files_takes_one_read_each(
    tmp_path: Path, still_jpeg: Path, media_dir: Path
) -> None:
    import subprocess

    from sound_media import melody, write_wav

    from provenance.audio import SoundStatus
    from provenance.ingest import prepare_file

    gif = media_dir / "one_read.gif"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=5", "-t", "4",
         str(gif)],
        check=True, timeout=60,
    )  # fmt: skip
    tune = tmp_path / "tune.m4a"
    wav = write_wav(tmp_path / "tune.wav", melody(5, 12.0))
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", str(tune)], check=True)
    for path in (still_jpeg, gif):
        counting = _counting("libav")
        prepared = prepare_file(path, decoder=counting)
        assert len(counting.plans) <= 1 and prepared.features is not None
        before = _as_before(path, _counting("libav"))
        assert len(prepared.features.frames) >= 1 and _same_features(prepared.features, before["features"])
    counting = _counting("libav")
    sound_only = prepare_file(tune, decoder=counting)
    assert counting.plans == [] and sound_only.features is not None and sound_only.features.frames == ()
    assert sound_only.sound is not None and sound_only.sound.status == SoundStatus.FINGERPRINTED
    with open_index(f"sqlite:///{tmp_path / 'i.sqlite'}", create=True) as idx:
        result = add_paths([still_jpeg, gif, tune], idx)
    assert [(i.status, i.reference.kind if i.reference else None) for i in result.items] == [
        ("added", "image"),
        ("added", "video"),
        ("added", "audio"),
    ]
