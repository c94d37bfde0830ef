"""Stage probe: media facts of videos and stills, and refusals of what is not media."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.errors import BadInputError
from provenance.probe import MAX_TAG_CHARS, MediaFacts, facts_from_ffprobe, probe


def test_video_facts(testsrc_clip: Path) -> None:
    facts = probe(testsrc_clip)
    assert facts.kind == "video"
    assert "mp4" in facts.container
    assert (facts.width, facts.height) == (320, 240)
    assert facts.display_size == (320, 240)
    assert facts.fps == pytest.approx(25.0)
    assert facts.duration_s == pytest.approx(4.0, abs=0.1)
    assert facts.video_codec == "h264"
    assert facts.rotation == 0.0
    assert facts.size_bytes == testsrc_clip.stat().st_size
    assert facts.tags["title"] == "testsrc title"
    assert facts.tags["encoder"].startswith("Lavf")
    assert [s.codec_type for s in facts.streams] == ["video"]
    assert facts.streams[0].frames == 100


def test_real_sample_facts(sample_refs: Path) -> None:
    facts = probe(sample_refs / "animated_dinner.mp4")
    assert (facts.width, facts.height) == (720, 528)
    assert facts.fps == pytest.approx(24000 / 1001)
    assert facts.duration_s == pytest.approx(10.0, abs=0.05)


def test_display_rotation(rotated_clip: Path) -> None:
    facts = probe(rotated_clip)
    assert (facts.width, facts.height) == (320, 240)
    assert facts.rotation == 90.0
    assert facts.display_size == (240, 320)


def test_still_image_with_exif(still_jpeg: Path) -> None:
    facts = probe(still_jpeg)
    assert facts.kind == "image"
    assert facts.container == "jpeg"
    assert (facts.width, facts.height) == (640, 480)
    assert facts.duration_s == 0.0 and facts.fps is None
    assert facts.tags["Image Make"] == "TestCam"
    assert facts.tags["Image Model"] == "Model 7"
    assert facts.tags["EXIF DateTimeOriginal"] == "2021:09:12 10:11:12"


def test_facts_round_trip_through_json(testsrc_clip: Path, still_jpeg: Path, rotated_clip: Path) -> None:
    for path in (testsrc_clip, still_jpeg, rotated_clip):
        facts = probe(path)
        assert MediaFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("zero_byte_file", "empty file"),
        ("text_as_mp4", "not a video ffprobe can read"),
        ("header_overwritten", "not a video ffprobe can read"),
        ("moov_lost_clip", "not a video ffprobe can read"),
    ],
)
def test_refuses_what_is_not_a_video(request: pytest.FixtureRequest, fixture: str, message: str) -> None:
    path: Path = request.getfixturevalue(fixture)
    with pytest.raises(BadInputError, match=message) as info:
        probe(path)
    assert str(path) in str(info.value)
    assert info.value.exit_code == 2


def test_refuses_missing_and_folders(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(BadInputError, match="not a regular file"):
        probe(tmp_path)


def test_header_that_probes_but_has_no_frames_still_probes(truncated_before_first_frame: Path) -> None:
    # The moov atom is intact: probing works, decoding fails (see test_frames).
    facts = probe(truncated_before_first_frame)
    assert facts.duration_s == pytest.approx(4.0, abs=0.1)


# -- facts_from_ffprobe on hand-written ffprobe JSON -----------------------------------


def _stream(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "index": 0,
        "codec_type": "video",
        "codec_name": "h264",
        "width": 1920,
        "height": 1080,
        "avg_frame_rate": "30000/1001",
        "duration": "12.5",
    }
    base.update(extra)
    return base


def test_display_matrix_wins_over_legacy_rotate_tag() -> None:
    data = {
        "format": {"format_name": "mov", "duration": "12.5"},
        "streams": [
            _stream(side_data_list=[{"side_data_type": "Display Matrix", "rotation": -90}], tags={"rotate": "180"})
        ],
    }
    facts = facts_from_ffprobe("x.mp4", 10, data)
    assert facts.rotation == 270.0
    assert facts.display_size == (1080, 1920)
    assert facts.fps == pytest.approx(29.97, abs=0.01)


def test_legacy_rotate_tag_is_clockwise() -> None:
    data = {"format": {}, "streams": [_stream(tags={"rotate": "90"})]}
    assert facts_from_ffprobe("x.mp4", 10, data).rotation == 270.0


def test_a_sound_file_is_audio_with_no_picture(audio_only_file: Path) -> None:
    facts = probe(audio_only_file)
    assert (facts.kind, facts.width, facts.height, facts.video_codec) == ("audio", 0, 0, "none")
    assert facts.duration_s == pytest.approx(2.0, abs=0.1)
    with pytest.raises(BadInputError, match="no video or audio stream"):
        facts_from_ffprobe("data.mkv", 10, {"format": {}, "streams": [{"index": 0, "codec_type": "data"}]})


def test_cover_art_is_not_the_video() -> None:
    cover = _stream(index=0, codec_name="mjpeg", width=500, height=500, disposition={"attached_pic": 1})
    audio = {"index": 1, "codec_type": "audio", "codec_name": "mp3"}
    song = facts_from_ffprobe("song.mp3", 10, {"format": {}, "streams": [cover, audio]})
    assert (song.kind, song.width, song.height, song.fps) == ("audio", 0, 0, None)
    real = _stream(index=2)
    facts = facts_from_ffprobe("x.mkv", 10, {"format": {}, "streams": [cover, audio, real]})
    assert (facts.width, facts.height) == (1920, 1080)
    assert facts.duration_s == 12.5  # from the stream when the container has none


def test_long_tags_are_cut_and_listed() -> None:
    data = {"format": {"tags": {"comment": "x" * (MAX_TAG_CHARS + 10), "title": "ok"}}, "streams": [_stream()]}
    facts = facts_from_ffprobe("x.mp4", 10, data)
    assert len(facts.tags["comment"]) == MAX_TAG_CHARS
    assert facts.truncated_tags == ("format:comment",)


def test_garbage_numbers_do_not_crash() -> None:
    data = {
        "format": {"duration": "N/A", "bit_rate": "nan"},
        "streams": [_stream(avg_frame_rate="0/0", r_frame_rate="25/1", duration="inf", nb_frames="x")],
    }
    facts = facts_from_ffprobe("x.mp4", 10, data)
    assert facts.fps == 25.0
    assert facts.duration_s == 0.0
    assert facts.bit_rate is None


@pytest.mark.parametrize(
    ("head", "video"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", True),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", True),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", False),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heicmiaf", False),
        (b"\x00\x00\x00\x1cftypisom\x00\x00\x00\x00isomavc1avif", False),
        (b"\x00\x00\x10\x00ftypisom\x00\x00\x00\x00isom", False),  # brand list longer than read: ask Pillow
        (b"\x1aE\xdf\xa3\x01\x00\x00\x00\x00\x00\x00\x1fB\x86\x81\x01", True),
        (b"RIFF\x00\x00\x00\x00AVI LIST", True),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01", False),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", False),
    ],
)
def test_container_sniffing_sends_only_plain_videos_past_pillow(tmp_path: Path, head: bytes, video: bool) -> None:
    from provenance.probe.exif import _plainly_video

    f = tmp_path / "f.bin"
    f.write_bytes(head + b"\x00" * 64)
    assert _plainly_video(f) is video
