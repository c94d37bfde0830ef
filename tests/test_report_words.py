"""Stage report: how the Markdown and HTML say things (report/words.py), one way each.

Evidence reads as sentences with units, never as ``key: value`` strings or
"-0"; a time gap reads as the verdict says it; a clip's unexplained parts
are stated; a claimed place that fits several towns is said to be ambiguous;
the file-creation row says what the claim says in words that fit.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from report_samples import make_match, make_reference, make_report

from provenance.claims import Claim, resolve_place
from provenance.index import FactOrigin, SourceFacts
from provenance.match import Alteration
from provenance.metadata import Finding
from provenance.report import render
from provenance.report.summary import claim_rows
from provenance.report.words import (
    ORIGINS_UNRECORDED,
    alteration_details,
    clock,
    coverage,
    coverage_sentence,
    finding_details,
    frames_sentence,
    gap_words,
    number,
    origin_words,
    origins_unrecorded,
    searched_speeds,
    seconds,
    signed,
    span,
    speed_words,
)
from provenance.verdict import decide

#: Evidence as diagnose writes it for each alteration code (diagnose.py's typed dicts), with awkward values.
ALTERATIONS: dict[str, dict[str, Any]] = {
    "mirrored": {"operation": "mirror"},
    "rotated": {"angle_deg_clockwise": -90},
    "cropped": {
        "box_in_reference_fraction": [0.075, 0.068, 0.925, 0.919],
        "keep_fraction": 0.851,
        "keep_width_fraction": 0.85,
        "keep_height_fraction": 0.851,
        "scale": 1.177,
        "rotation_deg": -0.0,
        "inliers": [170, 197],
        "alignment": "features",
        "box_in_reference_px": [48, 18, 592, 250],
    },
    "reframed": {"content_box_fraction": [0.0, 0.25, 1.0, 0.75]},
    "picture_in_picture": {"inner_rectangle_fraction": [0.5, 0.5, 0.9, 0.9]},
    "speed_changed": {
        "reference_seconds_per_query_second": 1.36,
        "plausible_range": [1.3, 1.42],
        "lowest_mean_distance": 6.04,
        "mean_distance_at_normal_speed": 14.5,
    },
    "speed_changed_fitted": {
        "reference_seconds_per_query_second": 3.9,
        "plausible_range": [3.8, 4.0],
        "lowest_mean_distance": 5.0,
        "mean_distance_at_normal_speed": 22.0,
        "searched_speed_range": [0.25, 4.0],
        "at_range_edge": True,
    },
    "reversed": {"reference_seconds_per_query_second": -1.0, "reference_span_s": [0.275, 9.493], "frames_matched": 29},
    "partly_explained": {
        "query_spans_not_explained_s": [[6.0, 8.0]],
        "searched_speed_range": [0.25, 4.0],
        "speed_at_range_edge": False,
    },
    "trimmed": {"reference_spans_left_out_s": [[0.0, 2.0], [8.25, 10.0]], "reference_duration_s": 10.0},
    "trimmed_fitted": {"reference_seconds_at_most": 7.7, "reference_duration_s": 10.0},
    "embedded": {"query_spans_not_from_this_reference_s": [[0.0, 1.5]]},
    "frame_rate_changed": {"query_fps": 30.0, "reference_fps": 25.0},
    "downscaled": {"scale": 0.5, "footage_px": [320, 136], "reference_px": [640, 272]},
    "greyscale": {"chroma_query": 0.0, "chroma_query_p90": -0.0, "chroma_reference": 23.4},
    "colour_changed": {
        "brightness_delta": -18.2,
        "contrast_ratio": 1.31,
        "saturation_ratio": 0.7,
        "hue_shift_deg": -0.0,
        "hue_coherence": 0.98,
        "alignment": "resize",
    },
    "overlay": {"boxes_query_fraction": [[0.1, 0.04, 0.9, 0.14]], "locations": ["top"], "overlay_share": 0.0674},
    "blurred": {"sharpness_ratio": 0.41, "reference_detail_power": 12.5, "alignment": "features"},
}
#: Evidence as metadata writes it for its findings (metadata.py), with awkward values.
FINDINGS: dict[str, dict[str, Any]] = {
    "creation_time_present": {
        "tag": "creation_time",
        "value": "2021-09-12T10:00:00Z",
        "parsed": "2021-09-12T10:00:00+00:00",
    },
    "creation_time_before_claim": {
        "tag": "creation_time",
        "value": "2019-05-01T10:00:00Z",
        "claimed_date": "2024-01-17",
    },
    "creation_time_before_codec": {
        "tag": "creation_time",
        "value": "1970-01-01",
        "codec": "h264",
        "codec_first_year": 2003,
    },
    "creation_time_after_reference": {
        "tag": "creation_time",
        "value": "2024-01-01",
        "reference_id": 3,
        "first_seen": "2021-09-12",
    },
    "gps_far_from_claimed_place": {
        "tag": "location",
        "latitude": 48.8566,
        "longitude": -0.0,
        "claimed_place": "Baymak, Russia (52.5917, 58.3113)",
        "distance_km": 3861.2,
        "nearest_town": "Paris, France (48.8534, 2.3488)",
    },
    "gps_present": {
        "tag": "location",
        "value": "+48.8566+002.3522/",
        "latitude": 48.8566,
        "longitude": 2.3522,
        "altitude_m": -0.0,
    },
    "reencoded_by_ffmpeg": {"tags": {"format:encoder": "Lavf59.27.100"}, "bitstream_encoder": "x264 core 164"},
    "metadata_stripped": {"tags_present": ["format:encoder", "format:major_brand"]},
    "camera_tags_contradict_stream": {"camera_tags": {"Make": "Apple"}, "stream_encoder": "x264"},
    "display_rotation": {"rotation_degrees": -90.0, "stored_size": "1920x1080", "display_size": "1080x1920"},
    "edit_list_trim": {
        "edits": [{"track_id": 1, "handler": "vide", "duration_s": 4.0, "media_time_s": 2.5, "rate": 1.0}]
    },
    "tag_malformed": {"tag": "creation_time", "value": "yesterday", "reason": "not a date"},
    "c2pa_invalid": {"status": "invalid", "signer": "Example CA", "failures": ["assertion.dataHash.mismatch"]},
}
#: A raw "key: value" string, or a key written with underscores.
RAW = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z ]+: -?\d")
#: A negative zero, however it is rounded.
NEGATIVE_ZERO = re.compile(r"(?<![\w.])-0(?:\.0+)?(?![\d.])")


def test_numbers_times_and_spans() -> None:
    assert (number(-0.0001), number(1.177), number(2.0), number(0.5)) == ("0", "1.18", "2", "0.5")
    assert (signed(-0.001), signed(2.0), signed(-1.234)) == ("+0.00", "+2.00", "-1.23")
    assert (seconds(6.25), seconds(7), seconds(-0.0), seconds(6.2)) == ("6.25 s", "7.0 s", "0.0 s", "6.2 s")
    assert span(0, 6.25) == "0.0–6.25 s"


def test_one_way_to_say_a_gap_the_verdicts() -> None:
    """The verdict's evidence (JSON) and the claim row (Markdown, HTML, ClaimReview) say the same gap."""
    assert gap_words(date(2021, 9, 12), date(2024, 1, 17)) == "2.3 years"
    assert gap_words(date(2023, 9, 12), date(2024, 1, 17)) == "4 months"
    assert gap_words(date(2024, 1, 5), date(2024, 1, 17)) == "12 days"
    claim = Claim(date="2024-01-17")
    match = make_match()
    verdict = decide((match,), informative_frames=30, claim=claim)
    report = make_report((match,), verdict=verdict, claim=claim)
    assert "2.3 years before the claimed date" in verdict.evidence[0]
    date_row = next(r for r in claim_rows(report) if r.label == "Date")
    assert date_row.found == "matched footage first seen 2021-09-12, 2.3 years before the claimed date"
    for fmt in ("md", "html"):
        text = render(report, fmt)
        assert "2.3 years" in text and "months" not in text, fmt


@pytest.mark.parametrize("code", sorted(ALTERATIONS))
def test_alteration_evidence_reads_as_a_sentence(code: str) -> None:
    text = alteration_details(code.removesuffix("_fitted"), ALTERATIONS[code])
    assert not RAW.search(text), text
    assert not NEGATIVE_ZERO.search(text), text
    if text:
        assert (text[0].isupper() or text[0].isdigit()) and text.endswith("."), text


@pytest.mark.parametrize("code", sorted(FINDINGS))
def test_finding_evidence_reads_as_a_sentence(code: str) -> None:
    text = finding_details(code, FINDINGS[code])
    prose = re.sub(r"“[^”]*”", "", text)  # tag names and values are quoted as the file has them
    assert text and not NEGATIVE_ZERO.search(text), text
    assert not re.search(r"\b[a-z]+(?:_[a-z]+)+ ?:", prose), text
    assert text[0].isupper() and text.endswith("."), text


def test_evidence_sentences_say_the_units() -> None:
    assert alteration_details("cropped", ALTERATIONS["cropped"]) == (
        "The part shown runs 7.5%–92.5% across and 6.8%–91.9% down the reference's frame; it keeps 85% of the "
        "reference's width and 85% of its height; enlarged 1.18 times; aligned on 170–197 matching points per frame."
    )
    assert alteration_details("trimmed", ALTERATIONS["trimmed"]) == (
        "The reference's 0.0–2.0 s and 8.25–10.0 s of its 10.0 s are left out."
    )
    speed = alteration_details("speed_changed", ALTERATIONS["speed_changed"])
    assert "1.36 s of the reference play in each second of the clip" in speed and "plausibly 1.3–1.42 times" in speed
    assert alteration_details("colour_changed", ALTERATIONS["colour_changed"]).startswith(
        "Darker by 18.2 levels of 255"
    )
    assert "turned" not in alteration_details("colour_changed", ALTERATIONS["colour_changed"])  # a -0° hue turn
    assert alteration_details("mirrored", ALTERATIONS["mirrored"]) == ""  # the summary says it all
    far = finding_details("gps_far_from_claimed_place", FINDINGS["gps_far_from_claimed_place"])
    assert far.startswith("Position 48.8566, 0;") and "3861.2 km from the claimed place" in far
    assert finding_details("unknown_code", {"some_measure": -0.0}) == "Some measure 0."


def test_reports_show_no_raw_evidence_or_negative_zero() -> None:
    alterations = tuple(Alteration(code, f"{code} happened.", ev) for code, ev in ALTERATIONS.items())
    match = make_match(alterations=alterations, offset_s=-0.0001, speed=1.0)
    findings = tuple(Finding(code, "info", "Explained.", ev) for code, ev in FINDINGS.items())
    report = make_report((match,), findings=findings)
    for fmt in ("md", "html"):
        text = render(report, fmt)
        body = text.split("Reproducibility")[0]
        assert not NEGATIVE_ZERO.search(body), (fmt, NEGATIVE_ZERO.search(body))
        for raw in (
            "keep fraction:",
            "box in reference",
            "operation: mirror",
            "rotation deg",
            "inliers:",
            "tags present:",
        ):
            assert raw not in body, (fmt, raw)
        assert "offset +0.00 s" in body


def test_the_parts_of_the_clip_no_match_explains() -> None:
    """The sample: a match ending at 6.25 s of a 7.0 s clip leaves 6.25-7.0 s unexplained."""
    sample = make_report((make_match(q0=0.0, q1=6.25),), input=replace(make_report().input, duration_s=7.0))
    assert coverage_sentence(sample) == "0.0–6.25 s matched; 6.25–7.0 s not explained by any reference."
    assert "Parts of the clip (7.0 s): 0.0–6.25 s matched; 6.25–7.0 s not explained by any reference." in render(
        sample, "md"
    )
    assert "6.25–7.0 s not explained by any reference" in render(sample, "html")
    # a match that reaches the last sample (4 a second) explains the clip to its end
    whole = make_report((make_match(q0=0.0, q1=6.75),), input=replace(make_report().input, duration_s=7.0))
    assert coverage_sentence(whole) == "0.0–6.75 s matched; every part of the clip is explained."
    # two matches with a gap between them, and seconds that could not be decoded
    facts = replace(make_report().input, duration_s=12.0, unreadable=((10.0, 12.0),))
    two = make_report((make_match(q0=0.0, q1=3.0), make_match(make_reference(5), q0=5.0, q1=8.0)), input=facts)
    matched, gaps, unreadable = coverage(two)
    assert (matched, gaps, unreadable) == ([(0.0, 3.0), (5.0, 8.0)], [(3.0, 5.0), (8.0, 10.0)], [(10.0, 12.0)])
    assert coverage_sentence(two) == (
        "0.0–3.0 s and 5.0–8.0 s matched; 3.0–5.0 s and 8.0–10.0 s not explained by any reference; "
        "10.0–12.0 s could not be decoded."
    )
    still = make_report(input=replace(make_report().input, kind="image", duration_s=0.0))
    assert coverage_sentence(still) is None and coverage_sentence(make_report(())) is None


def test_file_creation_row_says_what_the_claim_says_about_the_file() -> None:
    claim = Claim(date="2024-01-17")
    absent = Finding("creation_time_absent", "info", "The file states no creation date.", {})
    rows = {r.label: r for r in claim_rows(make_report(claim=claim, findings=(absent,)))}
    assert rows["Date"].claimed == "2024-01-17"
    assert rows["File creation time"].claimed == "recorded on 2024-01-17 (the file can be no older)"
    before = Finding(
        "creation_time_before_claim",
        "warning",
        "The file says it was created on 2019-05-01, 1722 days before the claimed date 2024-01-17.",
        FINDINGS["creation_time_before_claim"],
    )
    row = {r.label: r for r in claim_rows(make_report(claim=claim, findings=(before,)))}["File creation time"]
    assert row.fits is False and "2019-05-01, 4.7 years before the claimed date" in row.found
    assert "days" not in row.found
    yearly = {r.label: r for r in claim_rows(make_report(claim=Claim(date="2024"), findings=(absent,)))}
    assert yearly["File creation time"].claimed == "recorded in 2024 (the file can be no older)"
    none = {r.label for r in claim_rows(make_report(findings=(absent,)))}
    assert "File creation time" in none
    assert {r.label: r for r in claim_rows(make_report(findings=(absent,)))}["File creation time"].claimed is None


def test_an_ambiguous_claimed_place_is_said_to_be_ambiguous() -> None:
    claim = Claim(text="Flooding in Springfield", date="2024-01-17", place=resolve_place("Springfield"))
    report = make_report(claim=claim)
    place = {r.label: r for r in claim_rows(report)}["Place"]
    assert place.claimed is not None and place.claimed.startswith("Springfield (ambiguous: Springfield, Missouri")
    assert "Illinois" in place.claimed
    md = render(report, "md")
    html = render(report, "html")
    for text in (md, html):
        assert "Springfield, Missouri, United States" in text and "Springfield, Massachusetts, United States" in text
        assert "none was picked, so no distance was measured" in text
        assert (
            "--claim-place 'Springfield, Missouri'" in text or "--claim-place &#x27;Springfield, Missouri&#x27;" in text
        )


def test_speeds_stills_and_clock_times_in_words() -> None:
    from provenance.relation import Relation, Verification

    assert (clock(3.0), clock(12.44), clock(65.0), clock(-0.0)) == ("0:03.0", "0:12.4", "1:05.0", "0:00.0")
    match = replace(make_match(), pairs=tuple((0.25 * i, 1.0 + 0.25 * i, 4) for i in range(20)))
    assert speed_words(match) == "no speed change found"
    changed = Alteration("speed_changed", "The footage plays faster.")
    backwards = Alteration("reversed", "The footage plays backwards.")
    assert speed_words(replace(match, speed=1.967, alterations=(changed,))) == "×1.967 the reference's speed"
    assert speed_words(replace(match, speed=-0.997, alterations=(backwards,))) == "played backwards"
    both = (backwards, changed)
    assert speed_words(replace(match, speed=-2.0, alterations=both)) == "played backwards at ×2 the reference's speed"
    # The alignment's slope alone is no measured speed or direction: the words do not state it as one.
    assert speed_words(replace(match, speed=0.884)) == (
        "speed not told: the alignment runs at ×0.884, which nothing measured"
    )
    assert speed_words(replace(match, speed=-1.0)) == (
        "speed not told: the alignment runs backwards at ×1, which nothing measured"
    )
    assert speed_words(replace(match, speed=-2.0, alterations=(backwards,))) == (
        "played backwards; speed not told (the alignment's ×2, which nothing measured)"
    )
    # An untold speed says why, each reason its own words; a report made before the reason says only that.
    untold = replace(match, speed=0.78, speed_untold=True)
    assert speed_words(replace(untold, speed_untold_why="contested")) == (
        "speed not told: what moves and the matched frames favour different speeds, neither clearly"
    )
    assert speed_words(replace(untold, speed_untold_why="beyond_range")) == (
        "speed not told: what moves fits a speed beyond the ×0.25–×4 searched"
    )
    assert speed_words(replace(untold, speed_untold_why="features_line")).startswith(
        "speed not told: only a line through a few registered frames"
    )
    assert speed_words(untold) == "speed not told"
    # A same-scene match: the diagnosis looks for no speed, so none is said found or not found.
    scene = Verification(Relation.SAME_SCENE, 12, 0.9, None, "the camera path departs")
    assert speed_words(replace(match, verification=scene)) == "speed not told: the place matched, not a moment"
    report = make_report((match,))
    thresholds = {**report.tool.get("thresholds", {}), "match.min_speed": 0.25, "match.max_speed": 4.0}
    assert searched_speeds(replace(report, tool={**report.tool, "thresholds": thresholds})) == (
        "×0.25 to ×4, forwards and backwards"
    )
    assert searched_speeds(replace(report, tool={})) is None
    assert alteration_details("reversed", ALTERATIONS["reversed"]) == "It runs at the reference's own speed."
    assert alteration_details("speed_changed", ALTERATIONS["speed_changed_fitted"]).endswith(
        "speeds searched ×0.25 to ×4, forwards and backwards; this speed is at the edge of that range, so the "
        "footage may run faster or slower still."
    )
    assert alteration_details("partly_explained", ALTERATIONS["partly_explained"]) == (
        "The clip's 6.0–8.0 s are not explained by this footage; speeds searched ×0.25 to ×4, forwards and backwards."
    )


def test_frame_counts_say_aligned_compared_and_matched() -> None:
    """The issue's case: 25 frames aligned in the span, 19 compared and matched, 6 too far from a stored frame."""
    pairs = tuple((0.25 * i, 2.0 + 0.25 * i, 4 if i % 4 else 20) for i in range(25))
    match = replace(make_match(), frames_matched=19, frames_total=19, pairs=pairs)
    report = make_report((match,))
    text = frames_sentence(match, report)
    assert text.startswith("19 of the 25 clip frames aligned in this span are within 12 of 64 bits")
    assert text.endswith("6 fall between the reference's stored frames (2 per second), too far from any to compare.")
    one_missed = frames_sentence(replace(match, frames_total=20, frames_matched=18), report)
    assert "18 of the 25" in one_missed and "2 were compared and did not match" in one_missed
    assert "5 fall between" in one_missed


def test_a_features_match_counts_registered_frames_not_hash_distances() -> None:
    """A match of the local features is no frame-hash match: "9 of 9 within 12 bits (mean 31.3)" said
    the hashes matched when they were 31 bits apart (an upside-down copy)."""
    from provenance.features import Geometry

    geometry = Geometry(-179.96, 1.0, (0.0, 0.0, 1.0, 1.0), (0.0, 0.0, 1.0, 1.0), 361, True, 9, True)
    match = replace(
        make_match(), channel="features", frames_matched=9, frames_total=9, mean_distance=31.33, geometry=geometry
    )
    report = make_report((match,))
    text = frames_sentence(match, report)
    assert "within 12 of 64 bits" not in text
    assert text.startswith("9 of the 9 clip frames compared in this span were registered on the reference")
    assert "361 agreeing keypoints" in text and "31.3 of 64 bits apart, too far for the hashes alone" in text
    near = frames_sentence(replace(match, mean_distance=6.0), report)
    assert "bits" not in near


def test_a_match_too_short_for_its_speed_to_be_measured_says_so() -> None:
    """A 2 s piece at 4 frames a second (8 frames) is never scanned for speed: "no speed change found"
    would claim a search that did not run (a speed ramp's x2 tail was read so)."""
    from provenance.match import SPEED_MIN_FRAMES

    short = tuple((0.25 * i, 6.3 + 0.25 * i, 4) for i in range(8))
    match = replace(make_match(), speed=1.0, pairs=short)
    assert speed_words(match) == f"speed not measured: 8 clip frames, {SPEED_MIN_FRAMES} needed"
    long = tuple((0.25 * i, 1.0 + 0.25 * i, 4) for i in range(SPEED_MIN_FRAMES))
    assert speed_words(replace(match, pairs=long)) == "no speed change found"


def test_a_match_whose_moment_the_camera_path_does_not_pin_says_about() -> None:
    """A steady pan's copy repeats the camera path at other moments as well (`Verification.moment_shown`
    false): its reference span is where the match lies, said as "about"."""
    from provenance.relation import Relation, Verification
    from provenance.report.words import reference_span, relation_sentence

    v = Verification(Relation.SAME_FOOTAGE, 16, 0.9, 0.8, "what moves agrees", 3.0, 1.3, 20, 4.8, 1.0, False)
    match = replace(make_match(), verification=v)
    assert reference_span(match).startswith("about ") and "not pinned" in reference_span(match)
    assert "this moment" not in (relation_sentence(match) or "") and "shows this footage" in (
        relation_sentence(match) or ""
    )
    shown = replace(match, verification=replace(v, moment_shown=True))
    assert not reference_span(shown).startswith("about")
    assert "the clip shows this moment of the reference" in (relation_sentence(shown) or "")
    unplaced = alteration_details("trimmed", {"reference_seconds_at_most": 7.7, "reference_duration_s": 10.0})
    assert (
        unplaced
        == "The clip can hold at most 7.7 s of the reference of its 10.0 s (which seconds, the match does not pin)."
    ), unplaced
    report = make_report(matches=[match])
    for fmt in ("md", "html"):
        assert "its seconds not pinned" in render(report, fmt)


def test_where_each_fact_came_from_in_words() -> None:
    given = SourceFacts(publisher="Desk", first_seen="2021-09-12").with_origin(
        "given", "given with index add", at="2026-12-06T09:00:00+00:00", by="editor"
    )
    assert origin_words(given, "first_seen") == "given when the file was added to the index, on 2026-12-06 by editor"
    assert origin_words(given, "source_url") is None  # no such fact
    side = FactOrigin("first_seen", "sidecar", "clip.info.json, field upload_date", "2026-12-06T09:00:00+00:00")
    read = SourceFacts(first_seen="2021-09-12", origins=(side,))
    assert origin_words(read, "first_seen") == "read from the sidecar clip.info.json, field upload_date, on 2026-12-06"
    old = SourceFacts(first_seen="2021-09-12")
    assert origin_words(old, "first_seen") is None and origins_unrecorded(old)
    report = make_report((make_match(make_reference(first_seen="2021-09-12")),))
    assert ORIGINS_UNRECORDED in render(report, "md") and ORIGINS_UNRECORDED in render(report, "html")


def test_a_still_reference_is_a_picture_the_clip_shows() -> None:
    """A clip matched to a still reference shows that picture: no reference span, offset or speed."""
    picture = replace(make_reference(), kind="image", duration_s=0.0, fps=None, sample_fps=0.0)
    match = make_match(picture, q0=1.0, q1=4.0, reference_start_s=0.0, reference_end_s=0.0, offset_s=0.0)
    report = make_report((match,))
    md, html = render(report, "md"), render(report, "html")
    assert "- Clip 1.0–4.0 s shows the reference picture" in md
    assert "1.0–4.0 s shows the reference picture" in html
    for text in (md, html):
        assert "offset" not in text and "0.0–0.0 s" not in text and "Speed</dt>" not in text


def test_a_first_seen_date_from_a_files_modification_time_is_labelled() -> None:
    """A first-seen date the user took from a file's modification time says so wherever it is shown, and the
    public ClaimReview text does not present it as a publication date."""
    from provenance.report import RenderOptions

    mtime = FactOrigin("first_seen", "file_mtime", "asked for with --first-seen mtime", "2026-12-06T09:00:00+00:00")
    ref = make_reference(first_seen="2020-09-13T12:26:40+00:00", title=None, source_url=None)
    ref = replace(ref, source=replace(ref.source, origins=(mtime,)))
    claim = Claim(date="2024-01-17")
    match = make_match(ref)
    report = make_report((match,), verdict=decide((match,), informative_frames=30, claim=claim), claim=claim)
    label = "the file's modification time, which dates the copy on disk, not the footage"
    assert origin_words(ref.source, "first_seen") == f"{label} (asked for with --first-seen mtime), on 2026-12-06"
    md, page = render(report, "md"), html.unescape(render(report, "html"))
    for text in (md, page):
        assert label in text
        assert "the matched reference's file was modified on 2020-09-13T12:26:40+00:00" in text
    assert "the file's modification time, which dates a copy on disk" in report.verdict.evidence[0]
    options = RenderOptions(organisation="Desk", review_url="https://desk.example.org/fc/1")
    public = render(report, "claimreview", options)
    assert "2020-09-13" not in public and "first seen" not in public
