"""The README's main job through the CLI: index samples/refs, check clips, read the JSON report.

Every report made here is validated against docs/report-schema.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import DOCS

import provenance
from provenance.cli import main
from provenance.report import SCHEMA, Report
from provenance.verdict import VERDICT_CODES

#: A matched reference span is "right" when both ends are within this of the truth (issue 2).
SPAN_TOLERANCE_S = 1.0
#: Verdicts that say the footage is in the index (docs/verdicts.md); which one
#: depends on the alterations found and on the claim.
MATCH_VERDICTS = set(VERDICT_CODES) - {"no_prior_match_in_index", "insufficient_evidence"}


@pytest.fixture(scope="module")
def readme_index(tmp_path_factory: pytest.TempPathFactory, sample_refs: Path) -> Path:
    """The index the README's demo builds: ``provenance index add samples/refs --index FILE``."""
    path = tmp_path_factory.mktemp("readme") / "samples.sqlite"
    result = CliRunner().invoke(main, ["index", "add", str(sample_refs), "--index", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "4 added, 0 already present, 0 failed"
    return path


def check_json(clip: Path, index: Path, tmp_path: Path | None = None) -> dict[str, Any]:
    """``provenance check CLIP --index FILE --format json`` (to a file with -o when tmp_path is given)."""
    args = ["check", str(clip), "--index", str(index), "--format", "json"]
    if tmp_path is not None:
        out = tmp_path / "report.json"
        result = CliRunner().invoke(main, [*args, "-o", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return data
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    """A validator for docs/report-schema.json (itself checked against the 2020-12 meta-schema)."""
    schema = json.loads((DOCS / "report-schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def viral_report(readme_index: Path, viral_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The README's main job: the report on samples/viral.mp4, written with -o as scripts/demo.sh does."""
    return check_json(viral_clip, readme_index, tmp_path_factory.mktemp("viral"))


@pytest.fixture(scope="module")
def excerpt_report(readme_index: Path, excerpt_query: Path) -> dict[str, Any]:
    """The report on an excerpt of animated_dinner (3-8 s), mirrored, 360p, 200 kb/s."""
    return check_json(excerpt_query, readme_index)


@pytest.fixture(scope="module")
def unrelated_report(readme_index: Path, mandelbrot_clip: Path) -> dict[str, Any]:
    """The report on a Mandelbrot zoom that is in no index."""
    return check_json(mandelbrot_clip, readme_index)


REPORTS = ["viral_report", "excerpt_report", "unrelated_report"]


def assert_issue2_fields(report: dict[str, Any], clip: Path) -> None:
    """The fields issue 2 promises, with their types."""
    assert report["schema"] == SCHEMA == "provenance.report/1"
    inp = report["input"]
    assert inp["path"] == str(clip)
    assert len(inp["sha256"]) == 64 and int(inp["sha256"], 16) >= 0
    assert inp["duration_s"] > 0
    assert inp["width"] > 0 and inp["height"] > 0
    assert inp["fps"] > 0
    for key in ("matches", "candidates", "warnings"):
        assert isinstance(report[key], list)
    for m in report["matches"] + report["candidates"]:
        ref = m["reference"]
        for key in ("id", "path", "sha256", "source_url", "publisher", "title", "first_seen"):
            assert key in ref, key
        assert 0.0 <= m["score"] <= 1.0
        assert 0.0 <= m["query_start_s"] < m["query_end_s"] <= inp["duration_s"] + 0.5
        assert 0.0 <= m["reference_start_s"] < m["reference_end_s"] <= ref["duration_s"] + 0.5
        assert m["speed"] > 0
        assert isinstance(m["mirrored"], bool)
        assert 0 < m["frames_matched"] <= m["frames_total"]
    assert report["matches"] == sorted(report["matches"], key=lambda m: m["score"], reverse=True)
    threshold = report["tool"]["thresholds"]["match_threshold"]
    assert all(m["score"] >= threshold for m in report["matches"])
    assert all(m["score"] < threshold for m in report["candidates"])
    assert report["verdict"]["code"] and report["verdict"]["summary"]
    tool = report["tool"]
    assert tool["version"] == provenance.__version__
    assert tool["ffmpeg_version"] and tool["ffmpeg_version"] != "unknown"
    assert tool["hash_algorithm"] == "phash64"
    assert {"match_threshold", "frame_match_distance", "candidate_distance"} <= set(tool["thresholds"])
    assert report["index"]["references"] == 4


@pytest.mark.parametrize("name", REPORTS)
def test_report_has_the_promised_fields(request: pytest.FixtureRequest, name: str) -> None:
    clip = {"viral_report": "viral_clip", "excerpt_report": "excerpt_query", "unrelated_report": "mandelbrot_clip"}
    assert_issue2_fields(request.getfixturevalue(name), request.getfixturevalue(clip[name]))


@pytest.mark.parametrize("name", REPORTS)
def test_report_validates_against_the_schema(
    request: pytest.FixtureRequest, name: str, validator: jsonschema.protocols.Validator
) -> None:
    validator.validate(request.getfixturevalue(name))


@pytest.mark.parametrize("name", REPORTS)
def test_report_round_trips(request: pytest.FixtureRequest, name: str) -> None:
    data = request.getfixturevalue(name)
    assert Report.from_dict(data).to_dict() == data


def test_schema_rejects_a_report_without_its_verdict(
    excerpt_report: dict[str, Any], validator: jsonschema.protocols.Validator
) -> None:
    broken = {k: v for k, v in excerpt_report.items() if k != "verdict"}
    assert not validator.is_valid(broken)
    assert not validator.is_valid({**excerpt_report, "schema": "provenance.report/0"})


def test_viral_sample_matches_street_cyclists(viral_report: dict[str, Any], truth: dict[str, Any]) -> None:
    assert viral_report["verdict"]["code"] in MATCH_VERDICTS
    best = viral_report["matches"][0]
    assert Path(best["reference"]["path"]).name == truth["reference"]
    assert best["reference"]["first_seen"] == truth["reference_first_seen"]
    assert best["mirrored"] is True
    start, end = truth["reference_span"]  # type: ignore[misc]
    assert best["reference_start_s"] == pytest.approx(start, abs=SPAN_TOLERANCE_S)
    assert best["reference_end_s"] == pytest.approx(end, abs=SPAN_TOLERANCE_S)


def test_excerpt_mirror_360p_low_bitrate_matches_the_right_span(excerpt_report: dict[str, Any]) -> None:
    assert excerpt_report["verdict"]["code"] in MATCH_VERDICTS - {"footage_seen_before"}  # it was altered
    assert len(excerpt_report["matches"]) >= 1
    best = excerpt_report["matches"][0]
    assert Path(best["reference"]["path"]).name == "animated_dinner.mp4"
    assert best["reference"]["first_seen"] == "2015-03-04"
    assert best["mirrored"] is True
    assert best["reference_start_s"] == pytest.approx(3.0, abs=SPAN_TOLERANCE_S)
    assert best["reference_end_s"] == pytest.approx(8.0, abs=SPAN_TOLERANCE_S)
    assert best["speed"] == pytest.approx(1.0, abs=0.1)
    assert best["frames_matched"] >= 10
    # Every other match (if any) is the same footage, never another reference.
    assert {Path(m["reference"]["path"]).name for m in excerpt_report["matches"]} == {"animated_dinner.mp4"}


def test_unrelated_clip_does_not_match(unrelated_report: dict[str, Any]) -> None:
    assert unrelated_report["matches"] == []
    assert unrelated_report["verdict"]["code"] == "no_prior_match_in_index"
    assert "not" in unrelated_report["verdict"]["summary"].lower()
    assert unrelated_report["input"]["frames_informative"] >= 3


@pytest.mark.parametrize("fixture", ["testsrc_clip", "life_clip"])
def test_other_synthetic_footage_does_not_match(
    request: pytest.FixtureRequest, readme_index: Path, fixture: str
) -> None:
    report = check_json(request.getfixturevalue(fixture), readme_index)
    assert report["matches"] == []
    assert report["verdict"]["code"] in {"no_prior_match_in_index", "insufficient_evidence"}


@pytest.mark.parametrize("name", ["street_cyclists", "animated_dinner", "tree_window", "storm_road_panzoom"])
def test_a_reference_matches_itself_over_its_whole_length(readme_index: Path, sample_refs: Path, name: str) -> None:
    """The indexed file itself: same footage, same speed, whole span, nothing altered."""
    report = check_json(sample_refs / f"{name}.mp4", readme_index)
    best = report["matches"][0]
    assert Path(best["reference"]["path"]).name == f"{name}.mp4"
    assert best["mirrored"] is False
    assert best["speed"] == pytest.approx(1.0, abs=0.02)
    assert best["reference_start_s"] == pytest.approx(0.0, abs=SPAN_TOLERANCE_S)
    assert best["reference_end_s"] == pytest.approx(10.0, abs=SPAN_TOLERANCE_S)
    assert best["query_start_s"] == pytest.approx(best["reference_start_s"], abs=0.3)
    assert report["verdict"]["code"] == "footage_seen_before"  # unaltered, no claim


def test_markdown_report_of_the_main_job(readme_index: Path, viral_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = CliRunner().invoke(
        main,
        ["check", str(viral_clip), "--index", str(readme_index), "--format", "md", "-o", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Provenance report")
    assert "viral" in text


def test_one_call_api(readme_index: Path, excerpt_query: Path) -> None:
    report = provenance.check(excerpt_query, index=f"sqlite:///{readme_index}")
    assert isinstance(report, Report)
    assert report.verdict.code in MATCH_VERDICTS
    assert report.matches[0].reference.source.first_seen == "2015-03-04"


def test_docs_list_every_verdict_code() -> None:
    text = (DOCS / "verdicts.md").read_text(encoding="utf-8")
    for code in VERDICT_CODES:
        assert f"`{code}`" in text, f"docs/verdicts.md does not describe {code}"
