"""Stage report: ClaimReview + MediaReview JSON-LD, checked against the schema.org types it uses.

`SCHEMA` below is the part of the schema.org vocabulary the output may use:
for each type, its properties (its own and inherited from Review,
CreativeWork, MediaObject, Thing) and what each expects. The output must use
no other type or property, give every value the expected kind, and carry
what Google's fact-check markup requires (claimReviewed, reviewRating with
alternateName, url) and recommends (author, datePublished, itemReviewed with
appearance / firstAppearance).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from report_samples import HOSTILE, make_match, make_reference, make_report

from provenance.alteration import AlterationCode
from provenance.errors import BadInputError
from provenance.match import Alteration
from provenance.metadata import FindingCode
from provenance.report import RenderOptions, Verdict, render
from provenance.report.claimreview import (
    DECONTEXTUALIZED,
    EDITED,
    MEDIA_CATEGORIES,
    TRANSFORMED,
    claimreview,
    media_categories,
)
from provenance.verdict import VerdictCode

THING = {"name": "Text", "url": "URL", "description": "Text", "alternateName": "Text", "sameAs": "URL"}
CREATIVE_WORK = {
    **THING,
    "author": "Organization|Person",
    "publisher": "Organization|Person",
    "datePublished": "Date|DateTime",
    "contentLocation": "Place",
    "temporalCoverage": "Text|DateTime|URL",
    "appearance": "CreativeWork|URL",
    "firstAppearance": "CreativeWork|URL",
}
MEDIA_OBJECT = {
    **CREATIVE_WORK,
    "contentUrl": "URL",
    "duration": "Duration",
    "sha256": "Text",
    "uploadDate": "Date|DateTime",
    "width": "Number",
    "height": "Number",
    "startTime": "DateTime|Time",
    "endTime": "DateTime|Time",
}
REVIEW = {
    **CREATIVE_WORK,
    "itemReviewed": "Thing",
    "reviewRating": "Rating",
    "reviewBody": "Text",
    "associatedMediaReview": "Review",
    "associatedClaimReview": "Review",
}
SCHEMA: dict[str, dict[str, str]] = {
    "ClaimReview": {**REVIEW, "claimReviewed": "Text"},
    "MediaReview": {
        **REVIEW,
        "mediaAuthenticityCategory": "MediaManipulationRatingEnumeration",
        "originalMediaContextDescription": "Text",
        "originalMediaLink": "URL|MediaObject|WebPage",
    },
    "MediaReviewItem": {**CREATIVE_WORK, "mediaItemAppearance": "MediaObject"},
    "Claim": {**CREATIVE_WORK, "claimInterpreter": "Organization|Person"},
    "Rating": {
        **THING,
        "alternateName": "Text",
        "ratingExplanation": "Text",
        "ratingValue": "Number|Text",
        "bestRating": "Number|Text",
        "worstRating": "Number|Text",
        "author": "Organization|Person",
    },
    "Organization": {**THING},
    "Person": {**THING},
    "Place": {**THING},
    "CreativeWork": CREATIVE_WORK,
    "WebPage": CREATIVE_WORK,
    "MediaObject": MEDIA_OBJECT,
    "VideoObject": MEDIA_OBJECT,
    "ImageObject": MEDIA_OBJECT,
}
#: type -> the types it is a kind of (enough of the hierarchy for the ranges above).
SUPERTYPES = {
    "ClaimReview": {"Review", "CreativeWork", "Thing"},
    "MediaReview": {"Review", "CreativeWork", "Thing"},
    "MediaReviewItem": {"CreativeWork", "Thing"},
    "Claim": {"CreativeWork", "Thing"},
    "Rating": {"Thing"},
    "Organization": {"Thing"},
    "Person": {"Thing"},
    "Place": {"Thing"},
    "CreativeWork": {"Thing"},
    "WebPage": {"CreativeWork", "Thing"},
    "MediaObject": {"CreativeWork", "Thing"},
    "VideoObject": {"MediaObject", "CreativeWork", "Thing"},
    "ImageObject": {"MediaObject", "CreativeWork", "Thing"},
}
ENUM_PREFIX = "https://schema.org/"


def _literal_ok(kind: str, value: Any) -> bool:
    if kind == "Text":
        return isinstance(value, str) and value.strip() != ""
    if kind == "URL":
        return isinstance(value, str) and value.startswith(("https://", "http://")) and " " not in value
    if kind == "Number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "Date":
        return isinstance(value, str) and len(value) == 10 and date.fromisoformat(value) is not None
    if kind == "DateTime":
        return isinstance(value, str) and "T" in value and datetime.fromisoformat(value) is not None
    if kind == "Time":
        return isinstance(value, str) and ":" in value
    if kind == "Duration":
        return isinstance(value, str) and value.startswith("P")
    if kind == "MediaManipulationRatingEnumeration":
        return (
            isinstance(value, str) and value.startswith(ENUM_PREFIX) and value[len(ENUM_PREFIX) :] in MEDIA_CATEGORIES
        )
    return False


def validate(node: Any, expected: str = "ClaimReview", path: str = "$") -> list[str]:
    """Every way `node` breaks the schema subset, as 'path: problem' lines (empty when valid)."""
    problems: list[str] = []
    kinds = expected.split("|")
    values = node if isinstance(node, list) else [node]
    for i, value in enumerate(values):
        where = f"{path}[{i}]" if isinstance(node, list) else path
        if isinstance(value, dict):
            t = value.get("@type")
            if t not in SCHEMA:
                problems.append(f"{where}: unknown or missing @type {t!r}")
                continue
            if not ({t} | SUPERTYPES[t]) & set(kinds):
                problems.append(f"{where}: a {t} where {expected} is expected")
            for key, sub in value.items():
                if key in ("@type", "@context"):
                    continue
                if key not in SCHEMA[t]:
                    problems.append(f"{where}.{key}: not a property of {t}")
                    continue
                problems += validate(sub, SCHEMA[t][key], f"{where}.{key}")
        elif not any(_literal_ok(k, value) for k in kinds):
            problems.append(f"{where}: {value!r} is not a {expected}")
    return problems


def google_required(doc: dict[str, Any]) -> list[str]:
    """What Google's fact-check markup requires and recommends (ClaimReview), as missing-property lines."""
    missing = [
        k for k in ("claimReviewed", "reviewRating", "url", "author", "datePublished", "itemReviewed") if k not in doc
    ]
    if "alternateName" not in doc.get("reviewRating", {}):
        missing.append("reviewRating.alternateName")
    claim = doc.get("itemReviewed", {})
    missing += [f"itemReviewed.{k}" for k in ("appearance", "firstAppearance") if k not in claim]
    return missing


OPTIONS = RenderOptions(
    organisation="Example Fact Desk",
    organisation_url="https://desk.example.org",
    review_url="https://desk.example.org/fc/1",
)


def _claim(date: str = "2024-01-17", text: str = "Police flee rioters in Baymak on 17 January 2024") -> Any:
    from provenance.claims import Claim

    return Claim.from_dict(
        {"text": text, "date": date, "source": "https://news.example.com/a", "article_date": "2024-01-19"}
    )


def test_validator_catches_mistakes() -> None:
    assert validate({"@type": "ClaimReview", "claimReviewed": "x"}) == []
    assert validate({"@type": "ClaimReview", "claimreviewed": "x"}) == [
        "$.claimreviewed: not a property of ClaimReview"
    ]
    assert validate({"@type": "ClaimReview", "url": "desk/fc"}) == ["$.url: 'desk/fc' is not a URL"]
    assert validate({"@type": "Rating"}, "Claim") == ["$: a Rating where Claim is expected"]
    bad = {"@type": "MediaReview", "mediaAuthenticityCategory": "https://schema.org/Fake"}
    assert validate(bad, "Review") == [
        "$.mediaAuthenticityCategory: 'https://schema.org/Fake' is not a MediaManipulationRatingEnumeration"
    ]


def test_old_footage_under_a_new_claim() -> None:
    report = make_report(claim=_claim())
    doc = json.loads(render(report, "claimreview", OPTIONS))
    assert doc["@context"] == "https://schema.org" and doc["@type"] == "ClaimReview"
    assert validate(doc) == []
    assert google_required(doc) == []
    assert doc["claimReviewed"] == "Police flee rioters in Baymak on 17 January 2024"
    assert doc["url"] == "https://desk.example.org/fc/1"
    assert doc["author"] == {"@type": "Organization", "name": "Example Fact Desk", "url": "https://desk.example.org"}
    first = doc["itemReviewed"]["firstAppearance"]
    assert first["url"] == "https://archive.example.org/watch/street-2021-0912"
    assert first["uploadDate"] == "2021-09-12"
    assert doc["itemReviewed"]["appearance"][0]["url"] == "https://news.example.com/a"
    rating = doc["reviewRating"]
    assert rating["alternateName"] == "Missing context"
    # the gap said as the verdict says it (one formatter everywhere: report.words.gap_words)
    assert "2021-09-12" in rating["ratingExplanation"] and "2.3 years before" in rating["ratingExplanation"]
    media = doc["associatedMediaReview"]
    assert media["mediaAuthenticityCategory"] == "https://schema.org/DecontextualizedContent"
    assert media["originalMediaLink"] == "https://archive.example.org/watch/street-2021-0912"
    assert media["itemReviewed"]["mediaItemAppearance"][0]["sha256"] == report.input.sha256


def test_earliest_reference_is_the_first_appearance() -> None:
    late = make_match(make_reference(3, first_seen="2022-05-01", source_url="https://late.example/v"), q0=0, q1=4)
    early = make_match(make_reference(7, first_seen="2019-03-02", source_url="https://early.example/v"), q0=4, q1=8)
    doc = claimreview(make_report((late, early), claim=_claim()), OPTIONS)
    assert doc["itemReviewed"]["firstAppearance"]["url"] == "https://early.example/v"
    assert doc["associatedMediaReview"]["originalMediaLink"] == "https://early.example/v"
    categories = doc["associatedMediaReview"]["mediaAuthenticityCategory"]
    assert categories == [f"https://schema.org/{DECONTEXTUALIZED}", f"https://schema.org/{EDITED}"]
    assert validate(doc) == []


@pytest.mark.parametrize(
    ("alterations", "mirrored", "expected"),
    [
        ((), True, [TRANSFORMED]),
        ((Alteration("cropped", "c", {"box_in_reference_px": [48, 20, 592, 252]}),), False, [TRANSFORMED]),
        ((Alteration("speed_changed", "s", {}),), False, [TRANSFORMED]),
        ((Alteration("embedded", "e", {}),), False, [EDITED]),
        ((Alteration("trimmed", "t", {}),), False, []),
    ],
)
def test_category_from_the_diagnosis(alterations: tuple[Alteration, ...], mirrored: bool, expected: list[str]) -> None:
    """Without dates to compare, the diagnosis alone decides (a first-seen date adds missing context)."""
    match = make_match(make_reference(first_seen=None), mirrored=mirrored, alterations=alterations)
    assert [c for c, _ in media_categories(make_report((match,)))] == expected


def test_footage_after_the_claimed_date_is_not_missing_context() -> None:
    report = make_report(claim=_claim(date="2020-01-01"))
    assert media_categories(report) == []
    doc = claimreview(report, OPTIONS)
    assert "associatedMediaReview" not in doc and doc["reviewRating"]["alternateName"] == "Unverified"


def test_no_match_gives_no_media_category() -> None:
    report = make_report(())
    doc = claimreview(report, OPTIONS)
    assert "associatedMediaReview" not in doc and "firstAppearance" not in doc["itemReviewed"]
    assert doc["reviewRating"]["alternateName"] == "Unverified"
    assert "does not show that the footage is new or authentic" in doc["reviewRating"]["ratingExplanation"]
    assert validate(doc) == []
    weak = make_report((), verdict=Verdict("insufficient_evidence", "Only 1 frame(s) have enough texture.", ()))
    weak = replace(weak, input=replace(weak.input, frames_informative=1))
    assert claimreview(weak, OPTIONS)["reviewRating"]["ratingExplanation"].startswith("Only 1 frame")


def test_without_review_url_or_organisation_it_is_refused() -> None:
    """Google's fact-check markup requires url and recommends author: markup without them is not made."""
    for options, flag in [
        (RenderOptions(), "--review-url"),
        (RenderOptions(organisation="Desk"), "--review-url"),
        (RenderOptions(review_url="https://desk.example.org/fc/1"), "--org-name"),
        (RenderOptions(organisation="Desk", review_url="notaurl"), "--review-url 'notaurl'"),
        (RenderOptions(organisation="Desk", review_url="/tmp/fc.html"), "--review-url"),
        (RenderOptions(organisation="Desk", review_url="https://"), "--review-url"),
        (RenderOptions(organisation="D", organisation_url="desk", review_url="https://d.example/1"), "--org-url"),
    ]:
        with pytest.raises(BadInputError, match=re.escape(flag)):
            claimreview(make_report(), options)
        with pytest.raises(BadInputError, match=re.escape(flag)):
            render(make_report(), "claimreview", options)
    # --org-url is optional
    doc = claimreview(make_report(), RenderOptions(organisation="Desk", review_url="http://desk.example.org/fc/1"))
    assert doc["author"] == {"@type": "Organization", "name": "Desk"} and doc["url"] == "http://desk.example.org/fc/1"


def test_without_claim_still_valid_schema_org() -> None:
    doc = claimreview(make_report(), OPTIONS)
    assert validate(doc) == [] and google_required(doc) == []
    assert doc["claimReviewed"] == "What this video is claimed to show"  # no file name
    dated = claimreview(make_report(claim=_claim(text="")), OPTIONS)
    assert dated["claimReviewed"] == "The video shows events on 2024-01-17"


def test_no_local_paths_and_no_markup_escape() -> None:
    ref = make_reference(title=HOSTILE + "</script>", publisher=HOSTILE, source_url="file:///etc/passwd")
    report = make_report((make_match(ref),), claim=_claim(text="</script><script>alert(1)</script>"))
    with pytest.raises(BadInputError, match="--org-url"):
        render(report, "claimreview", replace(OPTIONS, organisation=HOSTILE, organisation_url="javascript:alert(1)"))
    text = render(report, "claimreview", replace(OPTIONS, organisation=HOSTILE, organisation_url=None))
    assert "<" not in text and ">" not in text  # safe inside <script type="application/ld+json">
    doc = json.loads(text)
    assert doc["claimReviewed"] == "</script><script>alert(1)</script>"
    assert "/archive/refs" not in text and "/cases/" not in text and "file://" not in text
    assert "url" not in doc["author"] and "url" not in doc["itemReviewed"]["firstAppearance"]
    assert validate(doc) == []


def test_sample_claimreview_states_first_appearance_and_category(
    sample_index: Path, viral_clip: Path, tmp_path: Path
) -> None:
    """The README's sample: viral.mp4 with samples/claim.yml against samples/refs."""
    from provenance.claims import build_claim
    from provenance.pipeline import check

    claim = build_claim(file=viral_clip.parent / "claim.yml")
    report = check(viral_clip, f"sqlite:///{sample_index}", claim, keyframes=False)
    doc = json.loads(render(report, "claimreview", OPTIONS))
    assert validate(doc) == [] and google_required(doc) == []
    first = doc["itemReviewed"]["firstAppearance"]
    assert first["url"] == "https://archive.example.org/watch/street-2021-0912"
    assert first["uploadDate"] == "2021-09-12"
    category = doc["associatedMediaReview"]["mediaAuthenticityCategory"]
    categories = category if isinstance(category, list) else [category]
    assert categories[0] == "https://schema.org/DecontextualizedContent"
    assert doc["reviewRating"]["alternateName"] == "Missing context"


def test_a_same_scene_match_is_no_first_appearance() -> None:
    """The same place at another moment dates nothing: the earlier same-scene footage is not the first appearance."""
    from provenance.relation import Relation, Verification

    scene = Verification(Relation.SAME_SCENE, 12, 0.04, 0.02, "what moves does not agree")
    footage = Verification(Relation.SAME_FOOTAGE, 12, 0.3, 0.8, "what moves agrees")
    other_day = make_match(
        make_reference(7, first_seen="2019-03-02", source_url="https://webcam.example/2019"),
        q0=0,
        q1=4,
        verification=scene,
    )
    copy = make_match(
        make_reference(3, first_seen="2022-05-01", source_url="https://late.example/v"),
        q0=4,
        q1=8,
        verification=footage,
    )
    doc = claimreview(make_report((other_day, copy), claim=_claim()), OPTIONS)
    assert doc["itemReviewed"]["firstAppearance"]["url"] == "https://late.example/v"
    alone = claimreview(make_report((other_day,), claim=_claim()), OPTIONS)
    assert "firstAppearance" not in alone["itemReviewed"]


# -- public text: what a reader of the fact-check page may see --------------------------------------

#: Keys whose values are machine values (URLs, hashes, dates, enumerations), not text a reader sees.
MACHINE_KEYS = frozenset(
    {
        "@context",
        "@type",
        "url",
        "sha256",
        "uploadDate",
        "datePublished",
        "duration",
        "originalMediaLink",
        "mediaAuthenticityCategory",
        "width",
        "height",
    }
)
#: A reference the desk holds untitled, in a private folder.
PRIVATE_PATH = "/tmp/private/archive/secret_clip_0042.mp4"
#: The checked clip as the desk saved it.
PRIVATE_CLIP = "/tmp/private/inbox/tip_from_source_7.mp4"
#: Every code the report may carry: none may reach a reader as a code.
CODES = frozenset(str(c) for c in (*VerdictCode, *FindingCode, *AlterationCode))


def public_strings(node: Any, key: str | None = None) -> list[tuple[str, str]]:
    """Every (key, text) of the markup a reader may see: names, descriptions, explanations, bodies."""
    if key in MACHINE_KEYS:
        return []
    if isinstance(node, dict):
        return [item for k, v in node.items() for item in public_strings(v, k)]
    if isinstance(node, list):
        return [item for v in node for item in public_strings(v, key)]
    return [(key or "$", node)] if isinstance(node, str) else []


def leaks(text: str, private: tuple[str, ...] = (PRIVATE_PATH, PRIVATE_CLIP)) -> list[str]:
    """What a public string must not hold: a path, a private file name, an internal id or a code."""
    found = []
    prose = re.sub(r"https?://[^\s,;]+", "", text)  # a link to a published page is public
    if re.search(r"(?:^|[\s'\"(])(?:~|\.{0,2})/[\w.-]+|[A-Za-z]:\\|\\\\", prose):
        found.append("a path")
    for path in private:
        name = path.rsplit("/", 1)[-1]
        for part in (path, name, name.rsplit(".", 1)[0], path.rsplit("/", 1)[0]):
            if part.lower() in text.lower():
                found.append(f"private name {part!r}")
    if re.search(r"#\s*\d+|\bref(?:erence)?[ _]?id\b|\breference\s+\d+\b", prose, re.I):
        found.append("an internal id")
    for token in re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", prose):
        found.append(f"a code {token!r}" if token in CODES else f"a snake_case token {token!r}")
    return found


def test_the_leak_detector_is_not_blind() -> None:
    assert leaks(f"query 0.0-6.2 s matches reference #3 '{PRIVATE_PATH}' 2.0-8.2 s")
    assert leaks("Evidence: notice reencoded_by_ffmpeg: the file was last written by FFmpeg")
    assert leaks("The footage is from 'secret_clip_0042' first seen 2021-09-12")
    assert leaks("What the video tip_from_source_7.mp4 is claimed to show")
    assert leaks("found in /home/desk/refs/clip.mp4")
    assert leaks("matched reference 3, first seen 2021")
    assert not leaks("The footage was first seen on 2021-09-12 at https://archive.example.org/watch/street-2021-0912.")
    assert not leaks("Seconds 0.0–6.25 s of the video show the same footage as 2.0–8.25 s of the earlier footage.")


def _private_reference(ref_id: int = 3, **source: Any) -> Any:
    ref = make_reference(ref_id, **{"title": None, "source_url": None, "publisher": None, **source})
    return replace(ref, path=PRIVATE_PATH)


def _reports() -> dict[str, Any]:
    """Reports of every verdict, built as the pipeline builds them, around an untitled private reference."""
    from provenance.metadata import Finding
    from provenance.verdict import decide

    claim = _claim()
    notice = Finding("reencoded_by_ffmpeg", "notice", "The file was last written by FFmpeg.", {"tags": {"a": "b"}})
    before = Finding(
        "creation_time_before_claim",
        "warning",
        "The file says it was created on 2019-05-01, 1722 days before the claimed date 2024-01-17.",
        {"tag": "creation_time", "value": "2019-05-01T10:00:00Z", "claimed_date": "2024-01-17"},
    )
    far = Finding(
        "gps_far_from_claimed_place", "warning", "The file's position is 3,000 km away.", {"distance_km": 3e3}
    )
    ref = _private_reference()
    named_by_file = replace(_private_reference(7, title="secret_clip_0042.mp4", first_seen="2019-03-02"))
    altered = make_match(
        ref,
        q0=1.0,
        q1=5.0,
        mirrored=True,
        alterations=(
            Alteration("mirrored", "The picture is mirrored left to right.", {"operation": "mirror"}),
            Alteration("speed_changed", "Faster.", {"reference_seconds_per_query_second": 1.36}),
            Alteration("picture_in_picture", "Inner.", {"inner_rectangle_fraction": [0.1, 0.1, 0.5, 0.5]}),
            Alteration("trimmed", "Part.", {"reference_spans_left_out_s": [[0.0, 2.0]], "reference_duration_s": 10}),
            Alteration("embedded", "Among other footage.", {"query_spans_not_from_this_reference_s": [[0.0, 1.0]]}),
        ),
    )
    plain = make_match(ref)
    late = make_match(_private_reference(first_seen="2024-06-01"))
    second = make_match(named_by_file, q0=5.0, q1=8.0)
    clip = make_report().input.__class__(**{**make_report().input.__dict__, "path": PRIVATE_CLIP})

    backwards = make_match(
        ref,
        q0=0.0,
        q1=6.0,
        speed=-1.0,
        alterations=(
            Alteration("reversed", "Backwards.", {"reference_seconds_per_query_second": -1.0, "frames_matched": 9}),
            Alteration(
                "partly_explained",
                "Part.",
                {
                    "query_spans_not_explained_s": [[6.0, 8.0]],
                    "searched_speed_range": [0.25, 4.0],
                    "speed_at_range_edge": True,
                },
            ),
        ),
    )
    frame = make_match(ref, q0=0.0, q1=0.0, reference_start_s=3.0, reference_end_s=3.0, offset_s=3.0, pairs=())
    picture = replace(clip, kind="image", duration_s=0.0, fps=None, frames_sampled=1, sample_fps=0.0)

    def report(
        matches: tuple[Any, ...], claimed: Any, findings: tuple[Any, ...] = (), frames: int = 30, still: bool = False
    ) -> Any:
        verdict = decide(matches, informative_frames=frames, claim=claimed, findings=findings, is_image=still)
        facts = replace(picture if still else clip, frames_informative=frames)
        thresholds = {"match.min_speed": 0.25, "match.max_speed": 4.0, "frame_match_distance": 12}
        tool = {**make_report().tool, "thresholds": thresholds}
        return make_report(matches, verdict=verdict, claim=claimed, findings=findings, input=facts, tool=tool)

    return {
        "predates the claim": report((plain,), claim, (notice,)),
        "predates, altered, two references": report((altered, second), claim, (notice,)),
        "altered copy": report((altered,), None, (notice,)),
        "seen before": report((plain,), None),
        "metadata contradicts the claim": report((late,), claim, (before, far, notice)),
        "no match": report((), claim, (notice,)),
        "too little to compare": report((), None, (), frames=1),
        "a claim without text": report((plain,), _claim(text="")),
        "a still picture": report((frame,), claim, (notice,), frames=1, still=True),
        "played backwards, partly explained at the edge of the speeds searched": report((backwards,), None),
    }


@pytest.mark.parametrize("case", list(_reports()))
def test_public_text_has_no_path_file_name_id_or_code(case: str) -> None:
    report = _reports()[case]
    assert report.verdict.code in {str(c) for c in VerdictCode}
    doc = claimreview(report, OPTIONS)
    assert validate(doc) == []
    assert google_required(doc) == ([] if report.matches else ["itemReviewed.firstAppearance"])  # nothing earlier
    strings = public_strings(doc)
    assert any(key == "reviewBody" for key, _ in strings)
    for key, text in strings:
        assert not leaks(text), (case, key, text, leaks(text))
    # the verdict's own text (for the desk) does name them: the markup must not copy it
    if report.matches:
        assert any(leaks(line) for line in report.verdict.evidence), report.verdict.evidence


def test_an_untitled_reference_is_footage_in_the_archive() -> None:
    doc = claimreview(_reports()["predates the claim"], OPTIONS)
    first = doc["itemReviewed"]["firstAppearance"]
    assert first["name"] == "footage in the desk's archive, first seen 2021-09-12"
    assert "url" not in first and first["uploadDate"] == "2021-09-12"
    body = doc["reviewBody"]
    assert body.startswith("The video reuses footage first seen on 2021-09-12, 2.3 years before the claimed date")
    assert "of footage in the desk's archive, first seen 2021-09-12." in body
    assert "No earlier footage explains 0.0–2.0 s and 7.0–8.0 s of the video." in body
    two = claimreview(_reports()["predates, altered, two references"], OPTIONS)
    assert "footage in the desk's archive, first seen 2019-03-02" in two["reviewBody"]  # a title that is a file name
    contradicted = claimreview(_reports()["metadata contradicts the claim"], OPTIONS)
    assert "its creation date is before the claimed date" in contradicted["reviewBody"]
    assert "far from the claimed place" in contradicted["reviewBody"]


def test_sample_copy_of_an_untitled_private_reference(tmp_path: Path, sample_refs: Path, viral_clip: Path) -> None:
    """The held-out check: a copy of a reference the desk keeps untitled in a private folder, first seen 2021."""
    from provenance.claims import build_claim
    from provenance.index import SourceFacts, open_index
    from provenance.ingest import add_paths
    from provenance.pipeline import check

    private = tmp_path / "private" / "archive"
    private.mkdir(parents=True)
    secret = private / "secret_clip_0042.mp4"
    shutil.copy(sample_refs / "street_cyclists.mp4", secret)  # without its sidecar: no title, no URL
    url = f"sqlite:///{tmp_path / 'desk.sqlite'}"
    with open_index(url, create=True) as idx:
        add_paths([private], idx, source=SourceFacts(first_seen="2021-09-12"))
    claim = build_claim(file=viral_clip.parent / "claim.yml")
    report = check(viral_clip, url, claim, keyframes=False)
    assert report.matches and report.matches[0].reference.path.endswith("secret_clip_0042.mp4")
    text = render(report, "claimreview", OPTIONS)
    doc = json.loads(text)
    assert validate(doc) == [] and google_required(doc) == []
    private_names = (str(secret), str(viral_clip.resolve()), str(viral_clip))
    for key, value in public_strings(doc):
        assert not leaks(value, private_names), (key, value, leaks(value, private_names))
    assert "secret_clip" not in text and str(tmp_path) not in text and "viral" not in text
    assert doc["itemReviewed"]["firstAppearance"]["name"] == "footage in the desk's archive, first seen 2021-09-12"


def test_a_still_reversal_and_a_partial_explanation_are_worded_for_readers() -> None:
    still = claimreview(_reports()["a still picture"], OPTIONS)
    assert "The picture is the frame at 0:03.0 of footage in the desk's archive" in still["reviewBody"]
    assert "Seconds" not in still["reviewBody"] and "video" not in still["reviewBody"]
    assert still["itemReviewed"]["appearance"][-1]["@type"] == "ImageObject"
    backwards = claimreview(
        _reports()["played backwards, partly explained at the edge of the speeds searched"], OPTIONS
    )
    body = backwards["reviewBody"]
    assert "played backwards" in body
    assert (
        "The earlier footage explains only part of the video, at a speed at the edge of the speeds searched "
        "(0.25 to 4 times the original speed, forwards and backwards): the rest may be the same footage played "
        "faster or slower still." in body
    )
    assert "reversed" not in body and "partly_explained" not in body
