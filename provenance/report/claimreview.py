"""Stage report: schema.org ClaimReview with an associated MediaReview, as JSON-LD.

The markup a fact-check page carries so that search engines and fact-check
aggregators can read the verdict. Built from the report alone:

- ``claimReviewed``: the claim's text (a placeholder to fill in when the
  check had no claim);
- ``itemReviewed``: a ``Claim`` whose ``appearance`` lists where it was seen
  (the claim's source, the checked clip by SHA-256) and whose
  ``firstAppearance`` is the earliest matched reference: the first known
  appearance of the footage the claim is about;
- ``reviewRating``: a ``Rating`` pre-filled with a suggested textual rating
  (``alternateName``) and its reason (``ratingExplanation``), for the
  fact-checker to confirm or change; numeric scales are each organisation's
  own, so none is set;
- ``associatedMediaReview``: a ``MediaReview`` whose
  ``mediaAuthenticityCategory`` is derived from the verdict and the diagnosis
  (below), with ``originalMediaLink`` and ``originalMediaContextDescription``
  from the earliest matched reference.

Google's fact-check markup requires ``claimReviewed``, ``reviewRating`` (with
``alternateName``) and ``url`` (the fact-check page: ``--review-url``), and
recommends ``author``, ``datePublished`` and ``itemReviewed``. The categories
follow the MediaReview definitions for video: *missing context*
(DecontextualizedContent: unaltered footage presented with wrong dates or
places, or brief clips shared out of a longer video), *transformed*
(TransformedContent: the frames themselves altered, e.g. mirrored, cropped,
sped up, elements added) and *edited* (EditedOrCroppedContent: time edits,
several videos cut together). Local file paths never appear in the output::

    >>> doc = json.loads(render_claimreview(report, RenderOptions(organisation="Desk", review_url="https://...")))
    >>> doc["associatedMediaReview"]["mediaAuthenticityCategory"]
    'https://schema.org/DecontextualizedContent'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .summary import (
    ClaimFacts,
    claim_facts,
    day_of,
    diagnosis_of,
    earliest_match,
    span_words,
)
from .text import clean

if TYPE_CHECKING:
    from . import RenderOptions, Report

#: The JSON-LD context.
SCHEMA_ORG = "https://schema.org"

#: schema.org's MediaManipulationRatingEnumeration members, by name.
DECONTEXTUALIZED = "DecontextualizedContent"
TRANSFORMED = "TransformedContent"
EDITED = "EditedOrCroppedContent"
ORIGINAL = "OriginalMediaContent"
STAGED = "StagedContent"
SATIRE = "SatireOrParodyContent"
#: ... and all of them, as MediaReview's mediaAuthenticityCategory may take them.
MEDIA_CATEGORIES = (ORIGINAL, DECONTEXTUALIZED, EDITED, TRANSFORMED, STAGED, SATIRE)

#: Alteration codes that change the pictures themselves (MediaReview "transformed").
TRANSFORMING = frozenset(
    {
        "mirrored",
        "mirror",
        "rotated",
        "rotation",
        "cropped",
        "reframed",
        "speed_changed",
        "picture_in_picture",
        "pip",
        "embedded_picture",
        "overlay",
        "caption",
        "text_overlay",
        "logo",
        "colour_changed",
        "color_changed",
        "greyscale",
        "grayscale",
    }
)
#: How each transforming alteration reads in "the clip is ...".
CHANGE_WORDS = {
    "mirrored": "mirrored",
    "mirror": "mirrored",
    "rotated": "rotated",
    "rotation": "rotated",
    "cropped": "cropped",
    "reframed": "reframed inside padding",
    "speed_changed": "played at a different speed",
    "picture_in_picture": "shown as a picture inside other footage",
    "pip": "shown as a picture inside other footage",
    "embedded_picture": "shown as a picture inside other footage",
    "overlay": "overlaid with text or graphics",
    "caption": "overlaid with text or graphics",
    "text_overlay": "overlaid with text or graphics",
    "logo": "overlaid with text or graphics",
    "colour_changed": "colour-altered",
    "color_changed": "colour-altered",
    "greyscale": "turned grey",
    "grayscale": "turned grey",
}
#: Alteration codes that cut or join footage (MediaReview "edited").
EDITING = frozenset({"embedded", "spliced", "joined", "reordered"})

#: Suggested textual ratings (``Rating.alternateName``), by the leading category.
RATINGS = {
    DECONTEXTUALIZED: "Missing context",
    TRANSFORMED: "Altered",
    EDITED: "Edited",
    None: "Unverified",
}

#: Longest free text put in the markup (claims, titles, explanations).
MAX_TEXT = 1000


def _t(value: object, limit: int = MAX_TEXT) -> str:
    return clean(value, limit)


def _iso_duration(seconds: float) -> str:
    return f"PT{round(float(seconds), 2):g}S"


def _basename(path: object) -> str:
    text = str(path).replace("\\", "/")
    return text.rsplit("/", 1)[-1] or text


def _url(value: object) -> str | None:
    """An http(s) URL, or None (local paths and other schemes never go into the markup)."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower().startswith(("https://", "http://")) and not any(c in text for c in " \"'<>\n\r\t"):
        return text[:2000]
    return None


def _date(value: object) -> str | None:
    """An ISO date or date-time for schema.org, or None when it is not one."""
    day = day_of(value)
    if day is None:
        return None
    text = str(value).strip()
    return text if len(text) > 10 and text[10] == "T" else day.isoformat()


def media_categories(report: Report) -> list[tuple[str, str]]:
    """Suggested MediaReview categories for the checked clip, each with its reason, strongest first.

    Empty when nothing matched: no category can be supported by "not found in this index".
    """
    matches = report.matches
    if not matches:
        return []
    out: list[tuple[str, str]] = []
    claim = claim_facts(report)
    earliest = earliest_match(matches)
    claimed = day_of(claim.date) if claim else None
    if earliest is not None:
        src = earliest.reference.source
        seen = day_of(src.first_seen)
        where = f" at {src.source_url}" if _url(src.source_url) else ""
        if seen and claimed and seen < claimed:
            out.append(
                (
                    DECONTEXTUALIZED,
                    f"The footage was first seen on {src.first_seen}{where}, {span_words(seen, claimed)} "
                    f"before the claimed date {claim.date if claim else ''}.",
                )
            )
        elif seen and not claimed:
            out.append(
                (
                    DECONTEXTUALIZED,
                    f"The footage was already published on {src.first_seen}{where}; "
                    "it is missing context if it is presented as newer than that.",
                )
            )
    if not out and report.verdict.code in ("footage_predates_claim", "metadata_contradicts_claim"):
        out.append((DECONTEXTUALIZED, _t(report.verdict.summary)))
    size = (report.input.width, report.input.height)
    changes: list[str] = []
    edits: list[str] = []
    for m in matches:
        diag = diagnosis_of(m, size)
        codes = {a.code for a in diag.alterations}
        if diag.mirrored:
            codes.add("mirrored")
        for code in [a.code for a in diag.alterations] + (["mirrored"] if diag.mirrored else []):
            words = CHANGE_WORDS.get(code)
            if code in TRANSFORMING and words is None:
                words = code.replace("_", " ")
            if words and words not in changes:
                changes.append(words)
        if codes & EDITING and "set among other footage" not in edits:
            edits.append("set among other footage")
    if len({m.reference.id for m in matches}) > 1:
        edits.append(f"joined from {len({m.reference.id for m in matches})} earlier items")
    if changes:
        out.append((TRANSFORMED, f"Compared with the earlier footage the clip is {', '.join(changes)}."))
    if edits:
        out.append((EDITED, f"The matched footage is {' and '.join(edits)}."))
    return out


def suggested_rating(report: Report) -> tuple[str, str]:
    """(textual rating, reason) to pre-fill ``reviewRating``; the fact-checker decides."""
    categories = media_categories(report)
    if categories:
        lead = categories[0][0]
        return RATINGS[lead], " ".join(reason for _, reason in categories)
    if report.verdict.code == "insufficient_evidence":
        return RATINGS[None], _t(report.verdict.summary)
    refs = report.index.get("references", "?")
    return (
        RATINGS[None],
        f"No earlier copy of this footage was found in the index ({refs} references). "
        "That does not show that the footage is new or authentic.",
    )


def _organisation(options: RenderOptions) -> dict[str, Any] | None:
    if not options.organisation:
        return None
    org: dict[str, Any] = {"@type": "Organization", "name": _t(options.organisation, 200)}
    url = _url(options.organisation_url)
    if url:
        org["url"] = url
    return org


def _clip_object(report: Report) -> dict[str, Any]:
    """The checked clip as a VideoObject / ImageObject: file name, SHA-256, duration; never its path."""
    i = report.input
    obj: dict[str, Any] = {
        "@type": "ImageObject" if i.kind == "image" else "VideoObject",
        "name": _t(_basename(i.path), 200),
        "sha256": _t(i.sha256, 64),
    }
    if i.kind != "image" and i.duration_s > 0:
        obj["duration"] = _iso_duration(i.duration_s)
    if i.width and i.height:
        obj["width"] = int(i.width)
        obj["height"] = int(i.height)
    return obj


def _reference_object(match: Any) -> dict[str, Any]:
    """A matched reference as the VideoObject / ImageObject where the footage appeared."""
    ref = match.reference
    src = ref.source
    obj: dict[str, Any] = {
        "@type": "ImageObject" if ref.kind == "image" else "VideoObject",
        "name": _t(src.title or _basename(ref.path), 300),
    }
    url = _url(src.source_url)
    if url:
        obj["url"] = url
    uploaded = _date(src.first_seen)
    if uploaded:
        obj["uploadDate"] = uploaded
    if src.publisher:
        obj["publisher"] = {"@type": "Organization", "name": _t(src.publisher, 200)}
    if ref.sha256:
        obj["sha256"] = _t(ref.sha256, 64)
    if ref.kind != "image" and ref.duration_s:
        obj["duration"] = _iso_duration(ref.duration_s)
    return obj


def _claim(report: Report, claim: ClaimFacts | None, earliest: Any | None) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": "Claim"}
    appearances: list[dict[str, Any]] = []
    if claim and _url(claim.source_url):
        appearances.append({"@type": "CreativeWork", "url": _url(claim.source_url)})
    appearances.append(_clip_object(report))
    item["appearance"] = appearances
    if earliest is not None:
        item["firstAppearance"] = _reference_object(earliest)
    if claim:
        published = _date(claim.published)
        if published:
            item["datePublished"] = published
        if claim.place:
            item["contentLocation"] = {"@type": "Place", "name": _t(claim.place, 300)}
        if claim.date:
            item["temporalCoverage"] = _t(claim.date, 60)
    return item


def _context_description(report: Report, matches: Sequence[Any], earliest: Any | None) -> str:
    parts = []
    chosen = earliest if earliest is not None else matches[0]
    src = chosen.reference.source
    name = src.title or _basename(chosen.reference.path)
    seen = f" first seen {src.first_seen}" if src.first_seen else ""
    by = f", published by {src.publisher}" if src.publisher else ""
    where = f" at {src.source_url}" if _url(src.source_url) else ""
    parts.append(f"The footage is from '{name}'{seen}{by}{where}.")
    for m in matches:
        parts.append(
            f"Clip {m.query_start_s:.1f}-{m.query_end_s:.1f} s reuses "
            f"'{m.reference.source.title or _basename(m.reference.path)}' "
            f"{m.reference_start_s:.1f}-{m.reference_end_s:.1f} s."
        )
    return _t(" ".join(parts), 2 * MAX_TEXT)


def claimreview(report: Report, options: RenderOptions) -> dict[str, Any]:
    """The ClaimReview (with its MediaReview) as a JSON-LD dict."""
    claim = claim_facts(report)
    earliest = earliest_match(report.matches)
    rating, reason = suggested_rating(report)
    day = day_of(report.created_at)
    published = day.isoformat() if day else None
    author = _organisation(options)
    doc: dict[str, Any] = {"@context": SCHEMA_ORG, "@type": "ClaimReview"}
    review_url = _url(options.review_url)
    if review_url:
        doc["url"] = review_url
    if published:
        doc["datePublished"] = published
    if author:
        doc["author"] = author
    doc["claimReviewed"] = (
        _t(claim.text, MAX_TEXT)
        if claim and claim.text
        else (f"What the video {_t(_basename(report.input.path), 200)} is claimed to show")
    )
    doc["itemReviewed"] = _claim(report, claim, earliest)
    doc["reviewRating"] = {"@type": "Rating", "alternateName": rating, "ratingExplanation": _t(reason, MAX_TEXT)}
    evidence = "; ".join(_t(item, 400).rstrip(".") for item in report.verdict.evidence)
    doc["reviewBody"] = _t(f"{report.verdict.summary}" + (f" Evidence: {evidence}." if evidence else ""), 2 * MAX_TEXT)
    categories = media_categories(report)
    if report.matches and categories:
        media: dict[str, Any] = {"@type": "MediaReview"}
        if published:
            media["datePublished"] = published
        if author:
            media["author"] = author
        values = [f"{SCHEMA_ORG}/{c}" for c, _ in categories]
        media["mediaAuthenticityCategory"] = values[0] if len(values) == 1 else values
        source = earliest if earliest is not None else report.matches[0]
        original = _url(source.reference.source.source_url)
        if original:
            media["originalMediaLink"] = original
        media["originalMediaContextDescription"] = _context_description(report, report.matches, earliest)
        media["itemReviewed"] = {"@type": "MediaReviewItem", "mediaItemAppearance": [_clip_object(report)]}
        media["reviewBody"] = _t(" ".join(reason for _, reason in categories), 2 * MAX_TEXT)
        doc["associatedMediaReview"] = media
    return doc


def render_claimreview(report: Report, options: RenderOptions | None = None) -> str:
    """The ClaimReview JSON-LD as text, safe to paste inside ``<script type="application/ld+json">``.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e``, ``\\u0026`` so
    that no string (a hostile title, say) can close the script element.
    """
    from . import RenderOptions

    text = json.dumps(claimreview(report, options or RenderOptions()), indent=2, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"
