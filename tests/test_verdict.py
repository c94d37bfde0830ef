"""Stage verdict: matches, findings and the claim into one documented code, never more than the evidence.

Unit tests use matches made by hand (a `MatchSegment` to a reference with a
known first-seen date); the end-to-end tests run the whole check on the
sample case (samples/viral.mp4 with samples/claim.yml and article.txt), on
conftest's excerpt_query (a mirrored excerpt of refs/animated_dinner.mp4,
first seen 2015-03-04) and on a clip made here whose tags fit the claim.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DOCS, SAMPLES, lavfi_clip

from provenance.alteration import Alteration
from provenance.claims import Claim, build_claim, claim_from_file
from provenance.cli import main
from provenance.index import FactOrigin, OriginKind, Reference, SourceFacts
from provenance.match import MatchSegment
from provenance.metadata import Finding
from provenance.pipeline import check
from provenance.report import Report, render
from provenance.verdict import VERDICT_CODES, alterations_of, decide


def match_to(first_seen: str | None, *, mirrored: bool = False, speed: float = 1.0, ref_id: int = 3) -> MatchSegment:
    """A match (made by hand) to reference #`ref_id`, first seen on `first_seen`."""
    ref = Reference(
        id=ref_id,
        sha256="a" * 64,
        path="refs/street_cyclists.mp4",
        kind="video",
        duration_s=10.0,
        width=640,
        height=272,
        fps=25.0,
        size_bytes=297815,
        sample_fps=2.0,
        frames=20,
        added_at="2025-01-01T00:00:00+00:00",
        source=SourceFacts(source_url="https://archive.example.org/x", title="Street footage", first_seen=first_seen),
    )
    return MatchSegment(ref, 0.8, 0.0, 7.0, 2.0, 9.0, 2.0, speed, mirrored, 26, 28, 4.0)


CLAIM = Claim(date="2024-01-17")
GPS_FAR = Finding("gps_far_from_claimed_place", "warning", "3,861 km from Baymak", {"distance_km": 3861.0})
STRIPPED = Finding("metadata_stripped", "notice", "no camera, date or location tags")


# -- the rules ------------------------------------------------------------------------------


def test_match_first_seen_before_the_claim_predates_it() -> None:
    v = decide([match_to("2021-09-12", mirrored=True)], informative_frames=28, claim=CLAIM, findings=[STRIPPED])
    assert v.code == "footage_predates_claim"
    assert "first seen on 2021-09-12, before the claimed date 2024-01-17" in v.summary
    assert "mirrored" in v.summary
    assert v.evidence[0].startswith(
        "reference #3 'Street footage' was first seen 2021-09-12 (where this date came from was not recorded), "
        "2.3 years before"
    )
    assert any("notice metadata_stripped" in e for e in v.evidence)


def test_a_dated_match_outranks_contradicting_tags() -> None:
    v = decide([match_to("2019-07-15")], informative_frames=28, claim=CLAIM, findings=[GPS_FAR])
    assert v.code == "footage_predates_claim"
    assert any("gps_far_from_claimed_place" in e for e in v.evidence)


@pytest.mark.parametrize("first_seen", ["2024-01-16", "2024-01-17", "2024-02-01T10:00:00Z"])
def test_first_seen_within_a_day_or_after_the_claim_does_not_predate_it(first_seen: str) -> None:
    v = decide([match_to(first_seen)], informative_frames=28, claim=CLAIM)
    assert v.code == "footage_seen_before"
    assert "not before the claimed date" in v.evidence[0]


def test_claimed_month_or_year_is_dated_from_its_first_day() -> None:
    assert decide([match_to("2023-12-20")], informative_frames=28, claim=Claim(date="2024")).code == (
        "footage_predates_claim"
    )
    assert decide([match_to("2024-03-02")], informative_frames=28, claim=Claim(date="2024")).code == (
        "footage_seen_before"
    )


def test_altered_copy_without_a_date_to_compare() -> None:
    from dataclasses import replace

    from provenance.diagnose import Alteration

    sped = replace(
        match_to("2021-09-12", mirrored=True, speed=1.24),
        alterations=(Alteration("speed_changed", "faster", {"reference_seconds_per_query_second": 1.26}),),
    )
    v = decide([sped], informative_frames=28, claim=None)
    assert v.code == "altered_copy_of_known_footage"
    assert "(mirrored, speed ×1.26)" in v.summary
    # An alignment slope with no speed evidence is not called a speed change.
    v = decide([match_to("2021-09-12", mirrored=True, speed=1.1)], informative_frames=28, claim=None)
    assert "(mirrored)" in v.summary and "speed" not in v.summary
    assert v.evidence[0] == "no claimed date to compare the first-seen dates with"
    v = decide([match_to(None, mirrored=True)], informative_frames=28, claim=CLAIM)
    assert v.code == "altered_copy_of_known_footage"
    assert "no matched reference has a first-seen date" in v.evidence[0]


def test_unaltered_match_without_dates_is_seen_before() -> None:
    assert decide([match_to(None)], informative_frames=28).code == "footage_seen_before"


def test_matcher_alterations_count_as_altered() -> None:
    from provenance.diagnose import Alteration

    alt = Alteration("cropped", "The picture is cropped.", {"box": [0.1, 0.1, 0.9, 0.9]})
    m = match_to(None)
    m = MatchSegment(**{**{k: getattr(m, k) for k in m.__dataclass_fields__}, "alterations": (alt,)})
    assert alterations_of(m) == ["cropped"]
    assert decide([m], informative_frames=28).code == "altered_copy_of_known_footage"


def test_contradicting_tags_without_a_dated_match() -> None:
    v = decide([], informative_frames=28, claim=CLAIM, findings=[GPS_FAR, STRIPPED])
    assert v.code == "metadata_contradicts_claim"
    assert "gps_far_from_claimed_place" in v.summary and "Tags can be wrong or forged" in v.summary
    assert v.evidence[0].startswith("gps_far_from_claimed_place: ")
    v = decide([match_to("2024-02-01")], informative_frames=28, claim=CLAIM, findings=[GPS_FAR])
    assert v.code == "metadata_contradicts_claim" and "also matches 1 segment" in v.summary


def test_no_match_reads_not_found_in_this_index() -> None:
    v = decide([], informative_frames=28, claim=CLAIM, findings=[STRIPPED])
    assert v.code == "no_prior_match_in_index"
    assert v.summary.startswith("Not found in this index")
    assert "not evidence that it is authentic" in v.summary
    assert "authentic" not in v.summary.replace("not evidence that it is authentic", "")


def test_too_little_texture_is_insufficient_evidence() -> None:
    assert decide([], informative_frames=2).code == "insufficient_evidence"
    assert decide([], informative_frames=1, is_image=True).code == "no_prior_match_in_index"


def test_docs_describe_every_verdict_code() -> None:
    text = (DOCS / "verdicts.md").read_text(encoding="utf-8")
    for code in VERDICT_CODES:
        assert f"`{code}`" in text, f"docs/verdicts.md does not describe {code}"


# -- end to end ----------------------------------------------------------------------------


def test_sample_case_footage_predates_claim(sample_index: Path, viral_clip: Path) -> None:
    """The done-when of issue 4: viral.mp4 with samples/claim.yml and the article."""
    claim = build_claim(file=SAMPLES / "claim.yml", article=SAMPLES / "article.txt")
    report = check(viral_clip, f"sqlite:///{sample_index}", claim, keyframes=False)
    assert report.matches, "the matcher found no match for samples/viral.mp4"
    assert report.verdict.code == "footage_predates_claim"
    assert "2021-09-12" in report.verdict.summary and "2024-01-17" in report.verdict.summary
    assert report.matches[0].reference.source.first_seen == "2021-09-12"
    codes = [f.code for f in report.findings]
    assert {"reencoded_by_ffmpeg", "metadata_stripped", "creation_time_absent"} <= set(codes)
    assert report.claim is not None and report.claim.place is not None and report.claim.place.name == "Baymak"
    again = Report.from_dict(json.loads(render(report, "json")))
    assert again == report


def test_mirrored_excerpt_of_old_footage_predates_the_claim(sample_index: Path, excerpt_query: Path) -> None:
    """A match built without the sample's crop and caption: refs/animated_dinner.mp4 3-8 s, mirrored,
    first seen 2015-03-04 (its sidecar), checked against the sample claim of 2024-01-17."""
    report = check(excerpt_query, f"sqlite:///{sample_index}", claim_from_file(SAMPLES / "claim.yml"), keyframes=False)
    assert report.verdict.code == "footage_predates_claim"
    assert "first seen on 2015-03-04" in report.verdict.summary
    assert "reencoded_by_ffmpeg" in [f.code for f in report.findings]


@pytest.fixture(scope="module")
def new_footage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """6 s of a Mandelbrot zoom (in no index) tagged like a phone clip from Baymak on 2024-01-17
    (creation_time and ISO 6709 location), and the same footage tagged with a position in Paris."""
    folder = tmp_path_factory.mktemp("new_footage")
    tags = ("-metadata", "creation_time=2024-01-17T10:15:30Z")
    source = "mandelbrot=size=320x240:rate=25"
    return {
        "fits": lavfi_clip(
            folder / "fits.mp4", source, seconds=6, extra=(*tags, "-metadata", "location=+52.5917+058.3113/")
        ),
        "paris": lavfi_clip(
            folder / "paris.mp4", source, seconds=6, extra=(*tags, "-metadata", "location=+48.8566+002.3522/")
        ),
    }


def test_clip_that_fits_the_claim_and_matches_nothing(sample_index: Path, new_footage: dict[str, Path]) -> None:
    report = check(
        new_footage["fits"], f"sqlite:///{sample_index}", claim_from_file(SAMPLES / "claim.yml"), keyframes=False
    )
    assert report.matches == ()
    assert report.verdict.code == "no_prior_match_in_index"
    assert "Not found in this index" in report.verdict.summary
    codes = [f.code for f in report.findings]
    assert {"creation_time_matches_claim", "gps_near_claimed_place"} <= set(codes)
    assert not {"creation_time_before_claim", "gps_far_from_claimed_place"} & set(codes)


def test_clip_whose_position_contradicts_the_claim(sample_index: Path, new_footage: dict[str, Path]) -> None:
    report = check(
        new_footage["paris"], f"sqlite:///{sample_index}", claim_from_file(SAMPLES / "claim.yml"), keyframes=False
    )
    assert report.verdict.code == "metadata_contradicts_claim"


def test_cli_check_with_claim_file_and_article(sample_index: Path, excerpt_query: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    args = ["check", str(excerpt_query), "--index", str(sample_index), "--claim", str(SAMPLES / "claim.yml")]
    args += ["--article", str(SAMPLES / "article.txt"), "--claim-text", "Police flee <b>rioters</b>", "-o", str(out)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["verdict"]["code"] == "footage_predates_claim"
    assert data["claim"]["date"] == "2024-01-17" and data["claim"]["text"] == "Police flee <b>rioters</b>"
    assert data["claim"]["origin"][-1] == "flags"
    assert {f["code"] for f in data["findings"]} >= {"reencoded_by_ffmpeg", "metadata_stripped"}
    md = render(Report.from_dict(data), "md")
    assert "reencoded\\_by\\_ffmpeg" in md or "`reencoded_by_ffmpeg`" in md
    assert "Police flee" in md and "<b>" not in md.replace("\\<", "")  # escaped: inert Markdown


def test_cli_claim_flags_alone(sample_index: Path, excerpt_query: Path) -> None:
    args = ["check", str(excerpt_query), "--index", str(sample_index), "--claim-date", "2014", "--claim-place", "Paris"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["claim"]["date"] == "2014" and data["claim"]["place"]["country_code"] == "FR"
    assert data["verdict"]["code"] == "altered_copy_of_known_footage"  # first seen 2015: after the claimed year


def test_verdict_codes_are_an_enum_that_serialises_as_before() -> None:
    from provenance import report
    from provenance.verdict import Verdict, VerdictCode

    assert report.Verdict is Verdict
    assert VERDICT_CODES == tuple(VerdictCode) and [str(c) for c in VERDICT_CODES] == [c.value for c in VerdictCode]
    v = decide([], informative_frames=28)
    assert v.code is VerdictCode.NO_PRIOR_MATCH_IN_INDEX
    data = v.to_dict()
    assert type(data["code"]) is str
    assert json.dumps(data) == json.dumps(
        {"code": "no_prior_match_in_index", "summary": v.summary, "evidence": list(v.evidence)}
    )
    assert Verdict.from_dict(json.loads(json.dumps(data))) == v


def test_the_first_seen_date_says_where_it_came_from() -> None:
    """The verdict rests on a first-seen date, so its evidence says where the date came from: a sidecar's
    field, a flag, or a file's modification time labelled as such (it dates a copy on disk, not the footage)."""
    m = match_to("2021-09-12")
    sidecar = FactOrigin("first_seen", OriginKind.SIDECAR, "street.info.json, field upload_date", "2026-01-02T00:00:00")
    dated = replace(m, reference=replace(m.reference, source=replace(m.reference.source, origins=(sidecar,))))
    v = decide([dated], informative_frames=28, claim=CLAIM)
    assert "first seen 2021-09-12 (according to the sidecar street.info.json, field upload_date)" in v.evidence[0]
    given = replace(m.reference.source).with_origin(OriginKind.GIVEN, "given with index add", at="2026-01-02T10:00:00")
    v = decide([replace(m, reference=replace(m.reference, source=given))], informative_frames=28, claim=CLAIM)
    assert "(as given when the file was indexed on 2026-01-02)" in v.evidence[0]
    mtime = FactOrigin("first_seen", OriginKind.FILE_MTIME, "", "2026-01-02T00:00:00")
    by_mtime = replace(m, reference=replace(m.reference, source=replace(m.reference.source, origins=(mtime,))))
    v = decide([by_mtime], informative_frames=28, claim=CLAIM)
    assert (
        "the file's modification time, which dates a copy on disk, not the footage's first publication"
        in (v.evidence[0])
    )


def test_a_still_is_described_as_a_picture_at_its_frame() -> None:
    """A still image matches one frame: the verdict gives that frame's time, never a span or "trimmed"."""
    m = match_to("2021-09-12")
    still = replace(m, query_start_s=0.0, query_end_s=0.0, reference_start_s=3.0, reference_end_s=3.0, offset_s=3.0)
    v = decide([still], informative_frames=1, is_image=True)
    assert v.code == "footage_seen_before"
    assert v.summary.startswith("The picture is a frame of footage already in the index")
    assert "the picture matches the frame at 3.0 s of reference #3 'Street footage'" in v.evidence[1]
    assert "query" not in " ".join(v.evidence) and "0.0-0.0 s" not in " ".join(v.evidence)


def test_reversal_is_worded() -> None:
    """A reversed copy reads "played backwards", not a negative speed."""
    m = replace(
        match_to("2021-09-12", speed=-1.0),
        alterations=(
            Alteration("reversed", "The clip plays the footage backwards.", {"reference_seconds_per_query_second": -1}),
        ),
    )
    assert alterations_of(m) == ["played backwards"]
    v = decide([m], informative_frames=28)
    assert "(played backwards)" in v.summary and "×-" not in v.summary and "speed" not in v.summary
