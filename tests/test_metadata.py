"""Stage metadata (and the tag parsing of the probe stage it relies on): every finding code, on real media.

Each clip is made by ffmpeg with the tags a camera, an app or a forger would
write (``-metadata creation_time=…``, ``location=…``, QuickTime keys with
``-movflags use_metadata_tags``, a display matrix, an edit list from a
stream-copy cut, a timecode track); stills get EXIF written by Pillow. The
check's time is fixed (`NOW`) so that "in the future" does not drift.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import DOCS, SAMPLES, ffmpeg, lavfi_clip

from provenance.c2pa import ContentCredentials
from provenance.claims import Claim, claim_from_file, resolve_place
from provenance.metadata import FINDING_CODES, SEVERITIES, Finding, first_seen_days, inspect
from provenance.probe import (
    MAX_TAG_CHARS,
    MediaFacts,
    parse_datetime,
    parse_exif_gps,
    parse_iso6709,
    probe,
    read_bitstream_encoder,
    read_edit_lists,
)

#: The time of every check in these tests.
NOW = datetime(2025, 1, 1, tzinfo=UTC)
TESTS = Path(__file__).resolve().parent
BAYMAK = "+52.5917+058.3113/"
PARIS = "+48.8566+002.3522/"


def codes(findings: tuple[Finding, ...]) -> list[str]:
    return [f.code for f in findings]


def one(findings: tuple[Finding, ...], code: str) -> Finding:
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, codes(findings)
    return found[0]


@pytest.fixture(scope="module")
def sample_claim() -> Claim:
    """samples/claim.yml: Baymak, Bashkortostan, Russia, on 2024-01-17."""
    return claim_from_file(SAMPLES / "claim.yml")


@pytest.fixture(scope="module")
def make_clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Make (once) a 1 s, 160x120 H.264 clip with extra ffmpeg output options (tags), named `name`."""
    folder = tmp_path_factory.mktemp("metadata_clips")

    def make(name: str, *extra: str) -> Path:
        out = folder / name
        if not out.exists():
            lavfi_clip(out, "testsrc2=size=160x120:rate=10", seconds=1, extra=extra)
        return out

    return make


def check(path: Path, claim: Claim | None = None, **kwargs: object) -> tuple[Finding, ...]:
    return inspect(probe(path), claim=claim, now=NOW, **kwargs)  # type: ignore[arg-type]


def seen_on(first_seen: str) -> tuple[tuple[date, int], ...]:
    """A match to reference #7, first seen on `first_seen`, as the pipeline hands it to `inspect`."""
    return first_seen_days([(first_seen, 7)])


# -- the sample case ----------------------------------------------------------------------


def test_viral_sample_is_a_stripped_ffmpeg_reencode(viral_clip: Path, sample_claim: Claim) -> None:
    """samples/viral.mp4 was re-encoded by ffmpeg with -map_metadata -1: encoder=Lavf…, no dates, no GPS."""
    found = check(viral_clip, sample_claim, credentials=ContentCredentials("absent"))
    assert codes(found) == ["reencoded_by_ffmpeg", "metadata_stripped", "creation_time_absent", "c2pa_absent"]
    reencode = one(found, "reencoded_by_ffmpeg")
    assert reencode.severity == "notice"
    assert reencode.evidence["tags"]["format:encoder"].startswith("Lavf")
    assert reencode.evidence["tags"]["stream0:encoder"] == "Lavc libx264"  # bit-exact: no version
    assert reencode.evidence["bitstream_encoder"].startswith("x264 core")
    stripped = one(found, "metadata_stripped")
    assert "format:encoder" in stripped.evidence["tags_present"]
    assert "not by itself a sign of manipulation" in stripped.explanation


# -- dates ------------------------------------------------------------------------------


def test_clip_whose_date_and_place_fit_the_claim(make_clip: Callable[..., Path], sample_claim: Claim) -> None:
    clip = make_clip("fits.mp4", "-metadata", "creation_time=2024-01-17T10:15:30Z", "-metadata", f"location={BAYMAK}")
    found = check(clip, sample_claim)
    present = one(found, "creation_time_present")
    assert present.evidence["tag"] == "format:creation_time"
    assert present.evidence["parsed"] == "2024-01-17T10:15:30+00:00"
    assert one(found, "creation_time_matches_claim").evidence["claimed_date"] == "2024-01-17"
    gps = one(found, "gps_present")
    assert (gps.evidence["latitude"], gps.evidence["longitude"]) == (52.5917, 58.3113)
    near = one(found, "gps_near_claimed_place")
    assert near.evidence["distance_km"] < 1
    assert not {"metadata_stripped", "creation_time_before_claim", "gps_far_from_claimed_place"} & set(codes(found))


@pytest.mark.parametrize(
    ("created", "code", "severity"),
    [
        ("2019-06-01T12:00:00Z", "creation_time_before_claim", "warning"),
        ("2024-03-01T12:00:00Z", "creation_time_after_claim", "notice"),
        ("2024-01-16T21:30:00Z", "creation_time_matches_claim", "info"),  # the evening before, in UTC
        ("2024-01-18T23:00:00Z", "creation_time_matches_claim", "info"),
    ],
)
def test_creation_time_against_the_claimed_date(
    make_clip: Callable[..., Path], sample_claim: Claim, created: str, code: str, severity: str
) -> None:
    clip = make_clip(f"created_{created[:10]}.mp4", "-metadata", f"creation_time={created}")
    finding = one(check(clip, sample_claim), code)
    assert finding.severity == severity
    assert finding.evidence["value"].startswith(created[:19])


def test_claimed_year_covers_the_whole_year(make_clip: Callable[..., Path]) -> None:
    clip = make_clip("created_2024-01-17.mp4", "-metadata", "creation_time=2024-01-17T12:00:00Z")
    assert "creation_time_matches_claim" in codes(check(clip, Claim(date="2024")))
    assert "creation_time_before_claim" in codes(check(clip, Claim(date="2024-06")))


def test_creation_time_in_the_future(make_clip: Callable[..., Path]) -> None:
    """A QuickTime creationdate key is a string, so any date can be written (mvhd's 32-bit field wraps)."""
    clip = make_clip(
        "future.mov",
        "-metadata",
        "com.apple.quicktime.creationdate=2099-01-01T00:00:00+0000",
        "-movflags",
        "use_metadata_tags",
    )
    finding = one(check(clip), "creation_time_in_future")
    assert finding.severity == "warning"
    assert finding.evidence["checked_at"] == "2025-01-01T00:00:00+00:00"


def test_creation_time_before_the_codec_existed(make_clip: Callable[..., Path]) -> None:
    clip = make_clip("y1999.mp4", "-metadata", "creation_time=1999-06-01T00:00:00Z")
    finding = one(check(clip), "creation_time_before_codec")
    assert (finding.evidence["codec"], finding.evidence["codec_first_year"]) == ("h264", 2003)


def test_creation_times_that_disagree(make_clip: Callable[..., Path]) -> None:
    clip = make_clip(
        "disagree.mov",
        "-metadata",
        "creation_time=2023-05-01T00:00:00Z",
        "-metadata",
        "com.apple.quicktime.creationdate=2024-01-17T13:15:30+0300",
        "-movflags",
        "use_metadata_tags",
    )
    found = check(clip)
    assert one(found, "creation_time_present").evidence["tag"] == "format:com.apple.quicktime.creationdate"
    disagree = one(found, "creation_times_disagree")
    assert set(disagree.evidence["tags"]) == {"format:com.apple.quicktime.creationdate", "format:creation_time"}


def test_zoned_dates_that_agree_do_not_disagree(make_clip: Callable[..., Path]) -> None:
    """An iPhone writes its local time with the offset and the container's UTC stamp: the same moment."""
    clip = make_clip(
        "iphone_times.mov",
        "-metadata",
        "creation_time=2024-01-17T10:15:30Z",
        "-metadata",
        "com.apple.quicktime.creationdate=2024-01-17T13:15:30+0300",
        "-movflags",
        "use_metadata_tags",
    )
    assert "creation_times_disagree" not in codes(check(clip))


def test_creation_time_against_the_matched_reference(make_clip: Callable[..., Path]) -> None:
    clip = make_clip("created_2024-01-17.mp4", "-metadata", "creation_time=2024-01-17T12:00:00Z")
    after = one(check(clip, first_seen=seen_on("2021-09-12")), "creation_time_after_reference")
    assert (after.evidence["first_seen"], after.evidence["reference_id"]) == ("2021-09-12", 7)
    before = one(check(clip, first_seen=seen_on("2024-06-30T08:00:00Z")), "creation_time_before_reference")
    assert before.severity == "notice"


# -- place ------------------------------------------------------------------------------


def test_gps_far_from_the_claimed_town(make_clip: Callable[..., Path], sample_claim: Claim) -> None:
    clip = make_clip("paris.mp4", "-metadata", f"location={PARIS}")
    far = one(check(clip, sample_claim), "gps_far_from_claimed_place")
    assert far.severity == "warning"
    assert far.evidence["distance_km"] == pytest.approx(3861, rel=0.01)
    assert far.evidence["nearest_town"].startswith("Paris") and "France" in far.evidence["nearest_town"]


def test_gps_against_a_claimed_country(make_clip: Callable[..., Path]) -> None:
    russia = Claim(place=resolve_place("Russia"))
    paris = make_clip("paris.mp4", "-metadata", f"location={PARIS}")
    baymak = make_clip("baymak.mp4", "-metadata", f"location={BAYMAK}")
    assert "gps_far_from_claimed_place" in codes(check(paris, russia))
    assert one(check(baymak, russia), "gps_near_claimed_place").evidence["nearest_town"].startswith("Baymak")


def test_quicktime_location_key_with_altitude(make_clip: Callable[..., Path]) -> None:
    clip = make_clip(
        "qt_location.mov",
        "-metadata",
        "com.apple.quicktime.location.ISO6709=+52.5917+058.3113+412.000/",
        "-movflags",
        "use_metadata_tags",
    )
    gps = one(check(clip), "gps_present")
    assert gps.evidence["tag"] == "format:com.apple.quicktime.location.ISO6709"
    assert gps.evidence["altitude_m"] == 412.0


# -- software and camera --------------------------------------------------------------------


def test_phone_tags_on_an_x264_stream_contradict_it(make_clip: Callable[..., Path]) -> None:
    clip = make_clip(
        "fake_iphone.mov",
        "-metadata",
        "com.apple.quicktime.make=Apple",
        "-metadata",
        "com.apple.quicktime.model=iPhone 15 Pro",
        "-movflags",
        "use_metadata_tags",
    )
    finding = one(check(clip), "camera_tags_contradict_stream")
    assert finding.severity == "warning"
    assert finding.evidence["camera_tags"] == {
        "format:com.apple.quicktime.make": "Apple",
        "format:com.apple.quicktime.model": "iPhone 15 Pro",
    }
    assert finding.evidence["stream_encoder"].startswith("x264 core")
    assert "camera_tags_present" not in codes(check(clip))


@pytest.fixture(scope="module")
def edited_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JPEG with EXIF from Pillow: Canon EOS R5, Software "Adobe Photoshop", DateTimeOriginal with
    OffsetTimeOriginal +05:00 and GPS at Baymak as degrees/minutes/seconds rationals."""
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational as R

    out = tmp_path_factory.mktemp("photos") / "edited.jpg"
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS R5"
    exif[0x0131] = "Adobe Photoshop 25.0 (Windows)"
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = "2024:01:17 10:15:30"
    ifd[0x9011] = "+05:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (R(52, 1), R(35, 1), R(3021, 100))
    gps[3], gps[4] = "E", (R(58, 1), R(18, 1), R(4075, 100))
    gps[6] = R(400, 1)
    Image.effect_mandelbrot((320, 240), (-2, -1.5, 1, 1.5), 50).convert("RGB").save(out, exif=exif)
    return out


def test_photo_with_camera_editor_date_and_gps(edited_photo: Path, sample_claim: Claim) -> None:
    found = check(edited_photo, sample_claim)
    camera = one(found, "camera_tags_present")
    assert camera.evidence["camera_tags"] == {"exif:Image Make": "Canon", "exif:Image Model": "EOS R5"}
    editor = one(found, "written_by_editor")
    assert editor.evidence["tags"] == {"exif:Image Software": "Adobe Photoshop 25.0 (Windows)"}
    created = one(found, "creation_time_present")
    assert created.evidence["parsed"] == "2024-01-17T10:15:30+05:00"
    gps = one(found, "gps_present")
    assert gps.evidence["latitude"] == pytest.approx(52.5917, abs=1e-4)
    assert gps.evidence["longitude"] == pytest.approx(58.3113, abs=1e-4)
    assert "gps_near_claimed_place" in codes(found)
    assert "creation_time_matches_claim" in codes(found)


def test_camera_photo_without_editor(still_jpeg: Path) -> None:
    """conftest's still_jpeg: Make TestCam, Model 7, DateTimeOriginal without a time zone."""
    found = check(still_jpeg)
    assert one(found, "camera_tags_present").evidence["camera_tags"]["exif:Image Make"] == "TestCam"
    assert "written_by_editor" not in codes(found)
    assert "metadata_stripped" not in codes(found)
    created = one(found, "creation_time_present")
    assert "no time zone" in created.explanation


def test_heic_exif_is_read_through_pillow_heif(tmp_path: Path) -> None:
    """exifread cannot read this HEIC (pillow-heif's writer); Pillow's own EXIF reader is the fallback."""
    pillow_heif = pytest.importorskip("pillow_heif")
    from PIL import Image

    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 12"
    exif.get_ifd(0x8769)[0x9003] = "2024:01:17 13:15:30"
    out = tmp_path / "photo.heic"
    Image.effect_mandelbrot((128, 96), (-2, -1.5, 1, 1.5), 30).convert("RGB").save(out, exif=exif.tobytes())
    facts = probe(out)
    assert (facts.kind, facts.container) == ("image", "heif")
    assert facts.tags["Image Make"] == "Apple"
    found = check(out)
    assert one(found, "camera_tags_present").evidence["camera_tags"]["exif:Image Model"] == "iPhone 12"
    assert one(found, "creation_time_present").evidence["value"] == "2024:01:17 13:15:30"


def test_photo_without_any_tags_is_stripped(tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "bare.png"
    Image.effect_mandelbrot((64, 48), (-2, -1.5, 1, 1.5), 20).save(out)
    stripped = one(check(out), "metadata_stripped")
    assert "(no tags at all)" in stripped.explanation


# -- structure ------------------------------------------------------------------------------


def test_display_rotation(rotated_clip: Path) -> None:
    """conftest's rotated_clip: a 90° display matrix, stored 320x240, shown 240x320."""
    finding = one(check(rotated_clip), "display_rotation")
    assert finding.evidence == {"rotation_degrees": 90.0, "stored_size": "320x240", "display_size": "240x320"}


@pytest.fixture(scope="module")
def trimmed_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s at 25 fps with a keyframe every 2 s, cut from 2.5 s by stream copy: the MP4 keeps the
    frames from the keyframe at 2.0 s and an edit list that starts playback 0.5 s later."""
    folder = tmp_path_factory.mktemp("trim")
    long = lavfi_clip(folder / "long.mp4", "testsrc2=size=160x120:rate=25", seconds=6, extra=("-g", "50"))
    out = folder / "trimmed.mp4"
    ffmpeg("-ss", "2.5", "-i", long, "-c", "copy", out)
    return out


def test_edit_list_that_trims(trimmed_clip: Path) -> None:
    edits = read_edit_lists(trimmed_clip)
    assert [e.handler for e in edits] == ["vide"]
    assert edits[0].media_time_s == pytest.approx(0.58, abs=0.01)  # 0.5 s cut + 2 frames of B-frame delay
    finding = one(check(trimmed_clip), "edit_list_trim")
    assert finding.evidence["edits"][0]["media_time_s"] == pytest.approx(0.58, abs=0.01)


def test_encoder_delay_is_not_a_trim(viral_clip: Path) -> None:
    """x264 with B-frames starts playback 2 frames in (0.08 s at 25 fps): no finding."""
    assert read_edit_lists(viral_clip)[0].media_time_s == pytest.approx(0.08)
    assert "edit_list_trim" not in codes(check(viral_clip))


def test_timecode(make_clip: Callable[..., Path]) -> None:
    clip = make_clip("timecode.mov", "-timecode", "10:11:12:05")
    finding = one(check(clip), "timecode_present")
    assert all(v.startswith("10:11:12:") for v in finding.evidence["tags"].values())
    assert "partway into a longer recording" in finding.explanation


# -- bad tags ---------------------------------------------------------------------------------


def test_malformed_date_and_position_tags(make_clip: Callable[..., Path]) -> None:
    clip = make_clip(
        "malformed.mov",
        "-metadata",
        "com.apple.quicktime.creationdate=the day after tomorrow",
        "-metadata",
        "com.apple.quicktime.location.ISO6709=+95.0000+200.0000/",
        "-movflags",
        "use_metadata_tags",
    )
    found = check(clip)
    bad = {f.evidence["tag"]: f.evidence["reason"] for f in found if f.code == "tag_malformed"}
    assert bad == {
        "format:com.apple.quicktime.creationdate": "not a date",
        "format:com.apple.quicktime.location.ISO6709": "not an ISO 6709 position on the globe",
    }
    assert "creation_time_absent" in codes(found) and "gps_present" not in codes(found)


def test_huge_tag_is_cut_and_reported(make_clip: Callable[..., Path]) -> None:
    clip = make_clip("huge_tag.mp4", "-metadata", "comment=" + "x" * (MAX_TAG_CHARS + 900))
    facts = probe(clip)
    assert len(facts.tags["comment"]) == MAX_TAG_CHARS
    assert one(inspect(facts, now=NOW), "tag_truncated").evidence["tags"] == ["format:comment"]


def test_non_utf8_and_absurd_tags_in_ffprobe_json_do_not_crash() -> None:
    from provenance.probe import facts_from_ffprobe

    data = {
        "format": {
            "tags": {
                "creation_time": "0000-00-00T00:00:00Z",
                "location": "\udcff\udcfe garbage",
                "com.apple.quicktime.creationdate": "9999-12-31T23:59:59+1400",
            }
        },
        "streams": [{"index": 0, "codec_type": "video", "codec_name": "h264", "width": 8, "height": 8}],
    }
    facts = facts_from_ffprobe("x.mp4", 10, data)
    found = inspect(facts, claim=Claim(date="2024-01-17"), now=NOW)
    assert {"tag_malformed", "creation_time_in_future", "creation_time_after_claim"} <= set(codes(found))
    json.dumps([f.to_dict() for f in found])  # evidence stays serialisable


# -- tag parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+52.5917+058.3113/", (52.5917, 58.3113, None)),
        ("+52.5917+058.3113+100.000/", (52.5917, 58.3113, 100.0)),
        ("-33.8688+151.2093CRSWGS_84/", (-33.8688, 151.2093, None)),
        ("+5235.50+05818.68/", (52.591667, 58.311333, None)),  # degrees and minutes
        ("+523530.2-0581840.75/", (52.591722, -58.311319, None)),  # degrees, minutes, seconds
    ],
)
def test_iso6709(text: str, expected: tuple[float, float, float | None]) -> None:
    lat, lon, alt = parse_iso6709(text) or (None, None, None)
    assert lat == pytest.approx(expected[0], abs=1e-5) and lon == pytest.approx(expected[1], abs=1e-5)
    assert alt == expected[2]


@pytest.mark.parametrize("text", ["", "nowhere", "+95.0+010.0/", "+52.5917/", "52.5917,58.3113"])
def test_iso6709_refuses(text: str) -> None:
    assert parse_iso6709(text) is None


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("2024-01-17T10:15:30.000000Z", None, "2024-01-17T10:15:30+00:00"),
        ("2024-01-17T13:15:30+0300", None, "2024-01-17T13:15:30+03:00"),
        ("2024:01:17 10:15:30", "+05:00", "2024-01-17T10:15:30+05:00"),
        ("2024:01:17 10:15:30", None, "2024-01-17T10:15:30"),
        ("2024-01-17 10:15:30 UTC", None, "2024-01-17T10:15:30+00:00"),
    ],
)
def test_dates_with_time_zones(text: str, offset: str | None, expected: str) -> None:
    value = parse_datetime(text, offset)
    assert value is not None and value.isoformat() == expected


@pytest.mark.parametrize("text", ["0000:00:00 00:00:00", "2024:13:45 99:00:00", "soon", "x" * 100])
def test_dates_that_are_not_dates(text: str) -> None:
    assert parse_datetime(text) is None


def test_exif_gps_refs_and_bad_values() -> None:
    tags = {"GPS GPSLatitude": "[33, 52, 0]", "GPS GPSLatitudeRef": "S", "GPS GPSLongitude": "[151, 12, 0]"}
    lat, lon, _ = parse_exif_gps(tags) or (0, 0, 0)
    assert (round(lat, 3), round(lon, 3)) == (-33.867, 151.2)
    with pytest.raises((ValueError, ZeroDivisionError)):
        parse_exif_gps({"GPS GPSLatitude": "[1/0, 0, 0]", "GPS GPSLongitude": "[1, 2, 3]"})


def test_bitstream_encoder_survives_stripped_tags(viral_clip: Path, sample_refs: Path) -> None:
    assert read_bitstream_encoder(viral_clip) == "x264 core 164"
    # the references were encoded bit-exact: x264 still signs the stream
    assert (read_bitstream_encoder(sample_refs / "tree_window.mp4") or "").startswith("x264 core")


def test_exiftool_adds_tags_when_installed(
    make_clip: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in exiftool on PATH prints what exiftool -j -G1 -n prints; its date and position are used."""
    fake = tmp_path / "bin" / "exiftool"
    fake.parent.mkdir()
    reply = [
        {
            "SourceFile": "x",
            "ExifTool:ExifToolVersion": 12.57,
            "QuickTime:CreateDate": "2024:01:17 10:15:30",
            "UserData:GPSCoordinates": "52.5917 58.3113 100",
            "XMP-xmp:CreatorTool": "CapCut",
        }
    ]
    fake.write_text("#!/bin/sh\ncat <<'EOF'\n" + json.dumps(reply) + "\nEOF\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    clip = make_clip("plain.mp4")
    facts = probe(clip)
    assert facts.exiftool_tags["QuickTime:CreateDate"] == "2024:01:17 10:15:30"
    assert "ExifTool:ExifToolVersion" not in facts.exiftool_tags
    found = inspect(facts, now=NOW)
    assert one(found, "creation_time_present").evidence["tag"] == "exiftool:QuickTime:CreateDate"
    assert one(found, "gps_present").evidence["altitude_m"] == 100.0
    assert one(found, "written_by_editor").evidence["tags"] == {"exiftool:XMP-xmp:CreatorTool": "CapCut"}
    monkeypatch.setenv("PROVENANCE_EXIFTOOL", "0")
    assert probe(clip).exiftool_tags == {}


def test_media_facts_round_trip_with_parsed_tags(edited_photo: Path, trimmed_clip: Path) -> None:
    for path in (edited_photo, trimmed_clip):
        facts = probe(path)
        assert MediaFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts


# -- the record and the docs -----------------------------------------------------------------------


def test_finding_is_frozen_and_round_trips() -> None:
    f = Finding("gps_present", "info", "text", {"latitude": 1.5})
    assert Finding.from_dict(json.loads(json.dumps(f.to_dict()))) == f
    with pytest.raises(ValueError, match="severity"):
        Finding("x", "alarm", "text")
    assert set(FINDING_CODES.values()) <= set(SEVERITIES)


def test_findings_are_ordered_most_severe_first(make_clip: Callable[..., Path], sample_claim: Claim) -> None:
    clip = make_clip("paris.mp4", "-metadata", f"location={PARIS}")
    order = [SEVERITIES.index(f.severity) for f in check(clip, sample_claim)]
    assert order == sorted(order, reverse=True)


def test_every_finding_code_is_documented_and_tested() -> None:
    docs = (DOCS / "findings.md").read_text(encoding="utf-8")
    tests = (TESTS / "test_metadata.py").read_text(encoding="utf-8") + (TESTS / "test_c2pa.py").read_text(
        encoding="utf-8"
    )
    for code, severity in FINDING_CODES.items():
        assert f"`{code}`" in docs, f"docs/findings.md does not describe {code}"
        assert f"| `{code}` | {severity} |" in docs, f"docs/findings.md gives {code} another severity"
        assert f'"{code}"' in tests, f"no test names {code}"


def test_reference_first_seen_timestamps_are_days() -> None:
    from provenance.metadata import first_seen_day

    assert first_seen_day("2021-09-12T14:00:00Z") == date(2021, 9, 12)
    assert first_seen_day("unknown") is None and first_seen_day(None) is None


def test_finding_codes_are_one_enum_with_one_severity_each() -> None:
    from provenance.metadata import CONTRADICTS_CLAIM, FindingCode, Severity

    assert set(FINDING_CODES) == set(FindingCode)
    assert all(code.severity is FINDING_CODES[code] for code in FindingCode)
    assert SEVERITIES == tuple(s.value for s in Severity) == ("info", "notice", "warning")
    assert CONTRADICTS_CLAIM == {"creation_time_before_claim", "gps_far_from_claimed_place"}
    f = Finding(FindingCode.GPS_PRESENT, FindingCode.GPS_PRESENT.severity, "text")
    assert json.dumps(f.to_dict()) == json.dumps(Finding("gps_present", "info", "text").to_dict())
    assert type(f.to_dict()["code"]) is str and type(f.to_dict()["severity"]) is str


def test_first_seen_days_keep_dated_references_in_order() -> None:
    got = first_seen_days(
        [("2022-05-01", 3), (None, 4), ("unknown", 5), ("2019-03-02T10:00:00Z", 7), ("2019-03-02", 8)]
    )
    assert got == ((date(2022, 5, 1), 3), (date(2019, 3, 2), 7), (date(2019, 3, 2), 8))


def test_the_earliest_first_seen_reference_is_compared(make_clip: Callable[..., Path]) -> None:
    clip = make_clip("created_2024-01-17.mp4", "-metadata", "creation_time=2024-01-17T12:00:00Z")
    seen = first_seen_days([("2022-05-01", 3), ("2019-03-02", 7), ("2019-03-02", 8)])
    after = one(check(clip, first_seen=seen), "creation_time_after_reference")
    assert (after.evidence["first_seen"], after.evidence["reference_id"]) == ("2019-03-02", 7)


def test_metadata_needs_nothing_of_match() -> None:
    """The metadata stage takes the matches' first-seen days as plain data (DESIGN.md's stage order)."""
    import ast

    import provenance.metadata

    tree = ast.parse(Path(provenance.metadata.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(name == "match" or name.endswith(".match") for name in imported), imported


# -- the words on the picture (records as the text stage gives them; tests/test_text.py reads them off real clips)


def _screen(text: str, kind: str, *, dates: tuple[str, ...] = (), in_reference: bool | None = None) -> Any:
    from provenance.text import Clock, ScreenText

    clock = Clock(dates, "18:22:07", "year-month-day") if kind == "clock" else None
    return ScreenText(
        text, kind, "Latin", "eng", 95.0, 0.0, 5.0, (0.02, 0.04, 0.3, 0.07), clock=clock, in_reference=in_reference
    )


def _reading(*texts: Any) -> Any:
    from provenance.text import TextReading

    return TextReading("read", tuple(texts), engine="tesseract 5.5.4", frames_read=4)


def _codes(findings: tuple[Finding, ...]) -> dict[str, Finding]:
    return {str(f.code): f for f in findings}


def test_an_on_screen_clock_is_held_against_the_claimed_date() -> None:
    facts = probe(SAMPLES / "viral.mp4")
    clock = _reading(_screen("2019-06-14 18:22:07", "clock", dates=("2019-06-14",)))
    against = _codes(inspect(facts, claim=Claim(date="2024-01-17"), text=clock))
    assert against["clock_contradicts_claim"].severity == "warning"
    assert against["clock_contradicts_claim"].evidence["clock_dates"] == ["2019-06-14"]
    assert "clock_matches_claim" in _codes(inspect(facts, claim=Claim(date="2019-06-15"), text=clock))
    assert "clock_on_screen" in _codes(inspect(facts, text=clock))
    # Day and month that could swap: a contradiction only when neither reading fits.
    either = _reading(_screen("06/07/2019", "clock", dates=("2019-07-06", "2019-06-07")))
    assert "clock_matches_claim" in _codes(inspect(facts, claim=Claim(date="2019-06-07"), text=either))
    # A clock after the matched footage was first seen: the clock or the match is wrong.
    after = _codes(inspect(facts, first_seen=((date(2018, 1, 1), 4),), text=clock))
    assert after["clock_after_reference"].evidence["reference_id"] == 4
    assert "clock_after_reference" not in _codes(inspect(facts, first_seen=((date(2019, 7, 1), 4),), text=clock))


def test_handles_captions_and_text_added_in_the_copy_are_findings() -> None:
    facts = probe(SAMPLES / "viral.mp4")
    reading = _reading(
        _screen("@ural_news_24", "handle", in_reference=True),
        _screen("POLICE FLEE RIOTERS IN BAYMAK", "caption", in_reference=False),
    )
    same = _codes(inspect(facts, claim=Claim(text="Police flee rioters in Baymak"), text=reading))
    assert same["handle_on_screen"].severity == "info"
    assert same["caption_repeats_claim"].evidence["shared_words"] == ["baymak", "flee", "police", "rioters"]
    assert same["text_added_in_copy"].severity == "notice"
    assert [t["text"] for t in same["text_added_in_copy"].evidence["texts"]] == ["POLICE FLEE RIOTERS IN BAYMAK"]
    assert [t["text"] for t in same["text_in_reference"].evidence["texts"]] == ["@ural_news_24"]
    other = _codes(inspect(facts, claim=Claim(text="Storm over the motorway near Leeds"), text=reading))
    assert "caption_differs_from_claim" in other and "caption_repeats_claim" not in other
