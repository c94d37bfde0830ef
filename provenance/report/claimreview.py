"""Stage report: schema.org ClaimReview with an associated MediaReview, as JSON-LD.

The markup a fact-check page carries so that search engines and fact-check
aggregators can read the verdict. Built from the report alone:

- ``claimReviewed``: the claim's text (without one, its date and place in a
  sentence, else a placeholder to fill in);
- ``itemReviewed``: a ``Claim`` whose ``appearance`` lists where it was seen
  (the claim's source, the checked clip by SHA-256) and whose
  ``firstAppearance`` is the earliest matched reference: the first known
  appearance of the footage the claim is about;
- ``reviewRating``: a ``Rating`` pre-filled with a suggested textual rating
  (``alternateName``) and its reason (``ratingExplanation``), for the
  fact-checker to confirm or change; numeric scales are each organisation's
  own, so none is set;
- ``reviewBody``: what the check found, written for readers;
- ``associatedMediaReview``: a ``MediaReview`` whose
  ``mediaAuthenticityCategory`` is derived from the verdict and the diagnosis
  (below), with ``originalMediaLink`` and ``originalMediaContextDescription``
  from the earliest matched reference.

Google's fact-check markup requires ``claimReviewed``, ``reviewRating`` (with
``alternateName``) and ``url`` (the fact-check page, on the site that
publishes it) and recommends ``author`` (the organisation that publishes the
fact check), ``datePublished`` and ``itemReviewed``: so the markup is made
only with a review URL and an organisation (`check_publisher`), and every URL
given must be http(s) with a host. The categories follow the MediaReview
definitions for video: *missing context* (DecontextualizedContent:
unaltered footage presented with wrong dates or places, or brief clips
shared out of a longer video), *transformed* (TransformedContent: the frames
themselves altered, e.g. mirrored, cropped, sped up, elements added) and
*edited* (EditedOrCroppedContent: time edits, several videos cut together).

Everything a reader may see is written for readers: no file path, no file
name (an untitled reference is "footage in the desk's archive, first seen
…"), no index id and no code (verdict, finding and alteration codes are
said in words)::

    >>> options = RenderOptions(organisation="Desk", review_url="https://desk.example.org/fc/1")
    >>> doc = json.loads(render_claimreview(report, options))
    >>> doc["associatedMediaReview"]["mediaAuthenticityCategory"]
    'https://schema.org/DecontextualizedContent'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import BadInputError
from .summary import (
    ClaimFacts,
    claim_facts,
    claim_of,
    day_of,
    diagnosis_of,
    earliest_match,
)
from .text import clean
from .words import (
    STILL_UNPINNED,
    clock,
    coverage,
    first_seen_is_file_time,
    gap_words,
    held_at,
    held_frame,
    is_still,
    listing,
    moment_shown,
    number,
    reference_span,
    span,
    speed_range,
    still_frame,
)

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
        "reversed",
        "frozen_frame",
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
        "audio_replaced",
        "audio_overlaid",
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
    "reversed": "played backwards",
    "frozen_frame": "shown as a frozen frame",
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
    "audio_replaced": "given other sound in place of its own",
    "audio_overlaid": "given other sound over its own",
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
#: Longest URL put in the markup.
MAX_URL = 2000
#: How an untitled reference is named where readers see it.
ARCHIVE_FOOTAGE = "footage in the desk's archive"
#: The options the markup needs, each with its flag (`check_publisher`).
PUBLISHER_FLAGS = {"review_url": "--review-url", "organisation": "--org-name", "organisation_url": "--org-url"}
#: What a finding that contradicts the claim says, for readers (the verdict names it by code).
CONTRADICTION_WORDS = {
    "creation_time_before_claim": "its creation date is before the claimed date",
    "gps_far_from_claimed_place": "the position it records is far from the claimed place",
}


def _t(value: object, limit: int = MAX_TEXT) -> str:
    return clean(value, limit)


def _iso_duration(seconds: float) -> str:
    return f"PT{round(float(seconds), 2):g}S"


def _basename(path: object) -> str:
    text = str(path).replace("\\", "/")
    return text.rsplit("/", 1)[-1] or text


def http_url(value: object) -> str | None:
    """`value` when it is an http(s) URL with a host (nothing a page could misread), else None.

    Local paths, ``file:`` and ``javascript:`` URLs and words such as
    ``notaurl`` never go into the markup.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text or len(text) > MAX_URL or any(c in text for c in " \"'<>\\\n\r\t"):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "." not in host.strip("."):
        return None
    return text


def check_publisher(options: RenderOptions, *, required: bool = True) -> None:
    """Refuse options that would make markup Google does not accept, naming the flag.

    Args:
        options: the organisation, its URL and the review's URL.
        required: the review URL and the organisation must be given (the
            claimreview format); otherwise only the URLs given are checked.

    Raises:
        BadInputError: a required option is missing, or a URL is not http(s) with a host.
    """
    for name, flag in PUBLISHER_FLAGS.items():
        value = getattr(options, name)
        if value is None or not str(value).strip():
            if required and name != "organisation_url":
                what = (
                    "the address of the fact-check article, which Google's fact-check markup requires"
                    if name == "review_url"
                    else "the fact-checking organisation that publishes the review, its author"
                )
                raise BadInputError(f"the claimreview format needs {flag}: {what}; give it and run again")
            continue
        if name != "organisation" and http_url(value) is None:
            raise BadInputError(
                f"{flag} {clean(value, 200)!r}: not an http(s) URL with a host; give a full address such as "
                "https://desk.example.org/fact-checks/123"
            )


def _date(value: object) -> str | None:
    """An ISO date or date-time for schema.org, or None when it is not one."""
    day = day_of(value)
    if day is None:
        return None
    text = str(value).strip()
    return text if len(text) > 10 and text[10] == "T" else day.isoformat()


_FILE_LIKE = re.compile(r"^\S+\.[A-Za-z0-9]{2,5}$")


def _title(ref: Any) -> str | None:
    """A reference's title when it is one: a path or a file name (as ingest may store one) is not."""
    title = " ".join(str(ref.source.title or "").split())
    name = _basename(ref.path or "")
    file_like = (
        "/" in title
        or "\\" in title
        or bool(_FILE_LIKE.match(title))
        or title.lower() in {name.lower(), name.rsplit(".", 1)[0].lower()}
    )
    return title if title and not file_like else None


def published_day(ref: Any) -> Any:
    """The day a reference was first seen, for readers; None when unknown or when it is only a file's
    modification time (which dates a copy on disk, not a publication: public text says less)."""
    return None if first_seen_is_file_time(ref.source) else day_of(ref.source.first_seen)


def reference_name(ref: Any) -> str:
    """A matched reference as readers see it: its title, else footage in the archive with its first-seen day.

    The desk's file names and paths are not for publishing, and neither are its index ids.
    """
    title = _title(ref)
    if title:
        return title
    day = published_day(ref)
    return f"{ARCHIVE_FOOTAGE}, first seen {day.isoformat()}" if day else ARCHIVE_FOOTAGE


def _first_seen_at(ref: Any) -> str:
    """ " first seen on DAY at URL" (each part when known)."""
    day = published_day(ref)
    url = http_url(ref.source.source_url)
    return (f" first seen on {day.isoformat()}" if day else "") + (f" at {url}" if url else "")


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
        seen = published_day(earliest.reference)
        where = f" at {http_url(src.source_url)}" if http_url(src.source_url) else ""
        if seen and claimed and seen < claimed:
            out.append(
                (
                    DECONTEXTUALIZED,
                    f"The footage was first seen on {seen.isoformat()}{where}, {gap_words(seen, claimed)} "
                    f"before the claimed date {claim.date if claim else ''}.",
                )
            )
        elif seen and not claimed:
            out.append(
                (
                    DECONTEXTUALIZED,
                    f"The footage was already published on {seen.isoformat()}{where}; "
                    "it is missing context if it is presented as newer than that.",
                )
            )
    if not out and report.verdict.code in ("footage_predates_claim", "metadata_contradicts_claim"):
        out.append((DECONTEXTUALIZED, _lead(report)))
    changes, edits = _changes(report)
    if changes:
        out.append((TRANSFORMED, f"Compared with the earlier footage the {_noun(report)} is {listing(changes)}."))
    if edits:
        out.append((EDITED, f"The matched footage is {listing(edits)}."))
    return out


def _changes(report: Report) -> tuple[list[str], list[str]]:
    """How the clip's frames were changed, and how its footage was cut or joined, in words."""
    size = (report.input.width, report.input.height)
    changes: list[str] = []
    edits: list[str] = []
    for m in report.matches:
        diag = diagnosis_of(m, size)
        codes = {a.code for a in diag.alterations}
        if diag.mirrored:
            codes.add("mirrored")
        for code, evidence in [(a.code, a.evidence) for a in diag.alterations] + (
            [("mirrored", {})] if diag.mirrored else []
        ):
            words = CHANGE_WORDS.get(code)
            factor = (evidence or {}).get("reference_seconds_per_query_second")
            if code == "speed_changed" and isinstance(factor, (int, float)) and factor:
                words = f"played at about {number(abs(factor))} times the original speed"
            if code in TRANSFORMING and words is None:
                words = code.replace("_", " ")
            if words and words not in changes:
                changes.append(words)
        if codes & EDITING and "set among other footage" not in edits:
            edits.append("set among other footage")
    if len({m.reference.id for m in report.matches}) > 1:
        edits.append(f"joined from {len({m.reference.id for m in report.matches})} earlier items")
    return changes, edits


def _noun(report: Report) -> str:
    """What readers call the checked file: the video, or the picture for a still image."""
    return "picture" if is_still(report) else "video"


def _reuse_sentence(m: Any, still: bool) -> str:
    """Which part of the earlier footage a match reuses: seconds of a video, or the frame a picture is."""
    if still:
        unpinned = "" if moment_shown(m) else f" ({STILL_UNPINNED})"
        return f"The picture is {still_frame(m)} of {reference_name(m.reference)}{unpinned}."
    if held_frame(m):  # one picture held: a moment, not seconds, of the earlier footage
        at = held_at(m)
        ends = sorted((m.reference_start_s, m.reference_end_s))
        where = f"the frame at {clock(at)}" if at is not None else f"a frame from within its {span(*ends)}"
        return (
            f"Seconds {span(m.query_start_s, m.query_end_s)} of the video hold one frame of "
            f"{reference_name(m.reference)}, {where}."
        )
    return (
        f"Seconds {span(m.query_start_s, m.query_end_s)} of the video show the same footage as "
        f"{reference_span(m)} of {reference_name(m.reference)}."
    )


def _partly_explained(report: Report) -> str | None:
    """For readers, a match the earlier footage explains only in part (None when none)."""
    for m in report.matches:
        for alt in m.alterations:
            if str(alt.code) != "partly_explained":
                continue
            edge = bool((alt.evidence or {}).get("speed_at_range_edge"))
            found = speed_range(report)
            rng = (
                f" ({number(found[0])} to {number(found[1])} times the original speed, forwards and backwards)"
                if found
                else ""
            )
            if edge:
                return (
                    "The earlier footage explains only part of the video, at a speed at the edge of the speeds "
                    f"searched{rng}: the rest may be the same footage played faster or slower still."
                )
            if "searched_speed_range" in (alt.evidence or {}):
                return "The earlier footage explains only part of the video at that speed; the rest is not explained by it."
            return "The earlier footage explains only part of the video; the rest is not explained by it."
    return None


def _lead(report: Report) -> str:
    """What the check found, in one or two sentences for readers (the verdict's code in words)."""
    code = str(report.verdict.code)
    noun = _noun(report)
    reuses = "is a frame of" if noun == "picture" else "reuses"
    claim = claim_facts(report)
    earliest = earliest_match(report.matches)
    if code == "footage_predates_claim" and earliest is not None:
        seen = published_day(earliest.reference)
        claimed = day_of(claim.date) if claim else None
        gap = f", {gap_words(seen, claimed)}" if seen and claimed and seen < claimed else ""
        date = f" {claim.date}" if claim and claim.date else ""
        return (
            f"The {noun} {reuses} footage{_first_seen_at(earliest.reference)}{gap} before the claimed date{date}: "
            "footage that existed before the event cannot show it."
        )
    if code == "metadata_contradicts_claim":
        said = [
            CONTRADICTION_WORDS.get(str(f.get("code")), "one of its tags contradicts the claim")
            for f in _findings(report)
            if str(f.get("code")) in CONTRADICTION_WORDS or f.get("severity") == "warning"
        ]
        what = "; ".join(dict.fromkeys(said)) or "its tags contradict the claim"
        return f"The {noun} file's own metadata contradict the claim: {what}. Such tags can be wrong or forged."
    if code == "altered_copy_of_known_footage" and report.matches:
        changes, _ = _changes(report)
        how = f": compared with it, the {noun} is {listing(changes)}" if changes else ""
        first = _first_seen_at(earliest.reference) if earliest is not None else ""
        return f"The {noun} is an altered copy of earlier footage{(',' + first) if first else ''}{how}."
    if code == "footage_seen_before" and report.matches:
        first = _first_seen_at(earliest.reference) if earliest is not None else ""
        return f"The {noun} {reuses} earlier footage{(',' + first) if first else ''}."
    if code == "same_sound_as_known_footage":
        return (
            "Only the video's sound matches earlier footage in the desk's archive, not its pictures. The same sound "
            "can accompany other pictures, so this shows neither that the footage is reused nor when it was filmed."
        )
    if code == "insufficient_evidence" or (not report.matches and report.input.frames_informative < 1):
        n = int(report.input.frames_informative)
        if is_still(report):
            return "The picture has too little detail to compare with earlier footage, so no conclusion can be drawn."
        return (
            f"Only {n} frame{'s' * (n != 1)} of the video {'has' if n == 1 else 'have'} enough detail to compare "
            "with earlier footage, so no conclusion can be drawn."
        )
    if not report.matches:
        return (
            f"No earlier copy of this {'picture' if is_still(report) else 'footage'} was found in the desk's archive "
            f"({_count(report)} items searched). "
            "That does not show that the footage is new or authentic."
        )
    return f"The {noun} was compared with the footage in the desk's archive."


def _findings(report: Report) -> list[dict[str, Any]]:
    from .summary import findings_of

    return findings_of(report)


def _count(report: Report) -> str:
    refs = report.index.get("references")
    return str(int(refs)) if isinstance(refs, int) and not isinstance(refs, bool) else "all"


def review_body(report: Report) -> str:
    """The review's text for readers: the finding, which seconds reuse what, and what no earlier footage explains."""
    parts = [_lead(report)]
    still = is_still(report)
    for m in report.matches[:5]:
        parts.append(_reuse_sentence(m, still))
    if len(report.matches) > 5:
        parts.append(f"{len(report.matches) - 5} more parts of the video match earlier footage.")
    _, gaps, _ = coverage(report)
    if report.matches and gaps:
        parts.append(f"No earlier footage explains {listing([span(a, b) for a, b in gaps])} of the video.")
    partly = _partly_explained(report)
    if partly:
        parts.append(partly)
    changes, _ = _changes(report)
    if changes and str(report.verdict.code) != "altered_copy_of_known_footage":
        parts.append(f"Compared with the earlier footage the {_noun(report)} is {listing(changes)}.")
    return _t(" ".join(parts), 2 * MAX_TEXT)


def suggested_rating(report: Report) -> tuple[str, str]:
    """(textual rating, reason) to pre-fill ``reviewRating``; the fact-checker decides."""
    categories = media_categories(report)
    if categories:
        lead = categories[0][0]
        return RATINGS[lead], " ".join(reason for _, reason in categories)
    return RATINGS[None], _lead(report)


def _organisation(options: RenderOptions) -> dict[str, Any] | None:
    if not options.organisation:
        return None
    org: dict[str, Any] = {"@type": "Organization", "name": _t(options.organisation, 200)}
    url = http_url(options.organisation_url)
    if url:
        org["url"] = url
    return org


def _clip_object(report: Report) -> dict[str, Any]:
    """The checked clip as a VideoObject / ImageObject: SHA-256, duration, size; never its path or file name."""
    i = report.input
    obj: dict[str, Any] = {
        "@type": "ImageObject" if i.kind == "image" else "VideoObject",
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
        "name": _t(reference_name(ref), 300),
    }
    url = http_url(src.source_url)
    if url:
        obj["url"] = url
    uploaded = _date(src.first_seen) if published_day(ref) else None
    if uploaded:
        obj["uploadDate"] = uploaded
    if src.publisher:
        obj["publisher"] = {"@type": "Organization", "name": _t(src.publisher, 200)}
    if ref.sha256:
        obj["sha256"] = _t(ref.sha256, 64)
    if ref.kind != "image" and ref.duration_s:
        obj["duration"] = _iso_duration(ref.duration_s)
    return obj


def _place_name(report: Report) -> str | None:
    """The claimed place for readers: the town and country, or as the claim wrote it when it is ambiguous."""
    place = (claim_of(report) or {}).get("place")
    if isinstance(place, dict):
        if place.get("kind") == "ambiguous":
            return str(place.get("query") or place.get("name") or "") or None
        name = place.get("name")
        country = place.get("country")
        if name and place.get("kind") == "city" and country and country != name:
            return f"{name}, {country}"
        return str(name or place.get("query") or "") or None
    return str(place) if place else None


def _claim(report: Report, claim: ClaimFacts | None, earliest: Any | None) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": "Claim"}
    appearances: list[dict[str, Any]] = []
    if claim and http_url(claim.source_url):
        appearances.append({"@type": "CreativeWork", "url": http_url(claim.source_url)})
    appearances.append(_clip_object(report))
    item["appearance"] = appearances
    if earliest is not None:
        item["firstAppearance"] = _reference_object(earliest)
    if claim:
        published = _date(claim.published)
        if published:
            item["datePublished"] = published
        place = _place_name(report)
        if place:
            item["contentLocation"] = {"@type": "Place", "name": _t(place, 300)}
        if claim.date:
            item["temporalCoverage"] = _t(claim.date, 60)
    return item


def _claim_reviewed(report: Report, claim: ClaimFacts | None) -> str:
    """The claim's text; without one, the caption the clip carries (when the copy added it: the clip's
    own claim), else its date and place in a sentence; without those, a placeholder."""
    if claim and claim.text:
        return _t(claim.text, MAX_TEXT)
    captions = [
        t.text for t in (report.text.texts if report.text else ()) if t.kind == "caption" and t.in_reference is not True
    ]
    if captions:
        what = "The picture's" if is_still(report) else "The video's"
        return _t(f"{what} caption says: " + " / ".join(captions), MAX_TEXT)
    place = _place_name(report) if claim else None
    when = (
        f" on {claim.date}"
        if claim and claim.date and len(claim.date) == 10
        else (f" in {claim.date}" if claim and claim.date else "")
    )
    if place or when:
        return _t(f"The {_noun(report)} shows events{f' in {place}' if place else ''}{when}", MAX_TEXT)
    return f"What this {_noun(report)} is claimed to show"


def _context_description(report: Report, matches: Sequence[Any], earliest: Any | None) -> str:
    chosen = earliest if earliest is not None else matches[0]
    ref = chosen.reference
    title = _title(ref)
    named = f", {title}," if title else ", in the desk's archive,"
    by = f", published by {ref.source.publisher}" if ref.source.publisher else ""
    seen = _first_seen_at(ref)
    parts = [f"The earlier footage{named} was{seen or ' found'}{by}."]
    still = is_still(report)
    for m in matches[:5]:
        parts.append(_reuse_sentence(m, still))
    return _t(" ".join(parts), 2 * MAX_TEXT)


def claimreview(report: Report, options: RenderOptions) -> dict[str, Any]:
    """The ClaimReview (with its MediaReview) as a JSON-LD dict.

    Raises:
        BadInputError: the review URL or the organisation is missing, or a URL is not http(s) (`check_publisher`).
    """
    check_publisher(options)
    claim = claim_facts(report)
    earliest = earliest_match(report.matches)
    rating, reason = suggested_rating(report)
    day = day_of(report.created_at)
    published = day.isoformat() if day else None
    author = _organisation(options)
    doc: dict[str, Any] = {"@context": SCHEMA_ORG, "@type": "ClaimReview"}
    review_url = http_url(options.review_url)
    if review_url:
        doc["url"] = review_url
    if published:
        doc["datePublished"] = published
    if author:
        doc["author"] = author
    doc["claimReviewed"] = _claim_reviewed(report, claim)
    doc["itemReviewed"] = _claim(report, claim, earliest)
    doc["reviewRating"] = {"@type": "Rating", "alternateName": rating, "ratingExplanation": _t(reason, MAX_TEXT)}
    doc["reviewBody"] = review_body(report)
    categories = media_categories(report)
    if report.matches and categories:
        media: dict[str, Any] = {"@type": "MediaReview"}
        if review_url:
            media["url"] = review_url
        if published:
            media["datePublished"] = published
        if author:
            media["author"] = author
        values = [f"{SCHEMA_ORG}/{c}" for c, _ in categories]
        media["mediaAuthenticityCategory"] = values[0] if len(values) == 1 else values
        source = earliest if earliest is not None else report.matches[0]
        original = http_url(source.reference.source.source_url)
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

    Raises:
        BadInputError: the review URL or the organisation is missing, or a URL is not http(s).
    """
    from . import RenderOptions

    text = json.dumps(claimreview(report, options or RenderOptions()), indent=2, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"
