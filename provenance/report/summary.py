"""Stage report: what the human-facing renderers derive from a `Report`.

HTML, Markdown and ClaimReview say the same things, so they read them here:
the claim and metadata findings (present only once the claims stage has run,
so read through their dict form and tolerated when absent), the earliest
matched reference, the claim set against the evidence, and a drawable
diagnosis of each match (mirror, rotation, crop box in the reference,
picture-in-picture or content box in the clip). Pure functions; every string
they return is still untrusted and must be escaped by the renderer::

    >>> rows = claim_rows(report)
    >>> [(r.label, r.claimed, r.found) for r in rows][:1]
    [('Date', '2024-01-17', 'matched footage first seen 2021-09-12, 2.3 years before the claimed date')]

How numbers, times and evidence are worded is `words`' business.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .words import first_seen_is_file_time, gap_words, origin_words, place_words

# -- tolerant access to parts other stages add -----------------------------------------


def as_plain(obj: Any) -> Any:
    """A record as plain data: its ``to_dict()``, a dataclass as a dict, else itself."""
    if obj is None:
        return None
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return obj


def _first(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = data.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def claim_of(report: Any) -> dict[str, Any] | None:
    """The report's claim as a dict (``report.claim``, else ``metadata["claim"]``), or None."""
    claim = as_plain(getattr(report, "claim", None))
    if claim is None:
        claim = (getattr(report, "metadata", None) or {}).get("claim")
    return claim if isinstance(claim, dict) and claim else None


def findings_of(report: Any) -> list[dict[str, Any]]:
    """The metadata findings as dicts (``report.findings``, else ``metadata["findings"]``)."""
    found = getattr(report, "findings", None)
    if found is None:
        found = (getattr(report, "metadata", None) or {}).get("findings")
    if isinstance(found, dict):
        found = found.get("findings", list(found.values()))
    out = []
    for item in found or ():
        plain = as_plain(item)
        if isinstance(plain, dict):
            out.append(plain)
    return out


def text_of(value: Any) -> str | None:
    """A claim field as one string: a place dict gives its name, a list is joined."""
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("name") and (
            value.get("country") or value.get("latitude") is not None or value.get("kind") == "ambiguous"
        ):
            return place_words(value)
        named = _first(value, "name", "text", "label", "display_name", "query")
        if named is not None:
            return str(named)
        return ", ".join(f"{k}: {v}" for k, v in value.items() if v is not None) or None
    if isinstance(value, (list, tuple)):
        parts = [text_of(v) for v in value]
        return ", ".join(p for p in parts if p) or None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class ClaimFacts:
    """The claim's fields this report uses, whatever shape the claim record has."""

    text: str | None = None
    date: str | None = None
    place: str | None = None
    platforms: tuple[str, ...] = ()
    source_url: str | None = None
    published: str | None = None
    origin: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _strings(value: Any, limit: int = 10) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(t for t in (text_of(v) for v in value[:limit]) if t)


def claim_facts(report: Any) -> ClaimFacts | None:
    """The claim's text, date, place, platforms and source, or None without a claim."""
    claim = claim_of(report)
    if claim is None:
        return None
    platforms = claim.get("platforms") or ()
    if isinstance(platforms, str):
        platforms = [p.strip() for p in platforms.split(",")]
    return ClaimFacts(
        text=text_of(_first(claim, "text", "claim_text", "summary", "statement")),
        date=text_of(_first(claim, "date", "claimed_date", "event_date", "when")),
        place=text_of(_first(claim, "place", "claimed_place", "location", "where")),
        platforms=tuple(p for p in (text_of(x) for x in platforms) if p),
        source_url=text_of(_first(claim, "source_url", "source", "url", "article_url")),
        published=text_of(_first(claim, "article_date", "published", "date_published", "claim_date")),
        origin=_strings(claim.get("origin")),
        warnings=_strings(claim.get("warnings")),
    )


# -- dates ---------------------------------------------------------------------------


def day_of(value: Any) -> date | None:
    """The calendar day at the start of an ISO date or timestamp string, if it has one."""
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def earliest_match(matches: Sequence[Any]) -> Any | None:
    """The match whose reference was first seen earliest (None when no match has a date).

    A same-scene match (the same place, its moment not shown) or a same-sound match (the sound alone)
    dates nothing and is never the earliest.
    """
    dated = [
        (day_of(m.reference.source.first_seen), -float(m.score), i)
        for i, m in enumerate(matches)
        if str(getattr(m, "relation", "")) not in ("same_scene", "same_sound")
    ]
    dated = [d for d in dated if d[0] is not None]
    if not dated:
        return None
    return matches[min(dated)[2]]


# -- verdicts ------------------------------------------------------------------------

#: Verdict codes that mean "this footage is old or altered": shown as alerts.
ALERT_VERDICTS = frozenset(
    {
        "footage_seen_before",
        "footage_predates_claim",
        "altered_copy_of_known_footage",
        "metadata_contradicts_claim",
    }
)
#: Verdict codes that mean "nothing can be concluded".
WEAK_VERDICTS = frozenset({"insufficient_evidence"})


def verdict_label(code: str) -> str:
    """A verdict code in words: ``footage_predates_claim`` -> 'Footage predates claim'."""
    words = str(code).replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else "No verdict"


def verdict_tone(code: str) -> str:
    """``alert``, ``weak`` or ``neutral``: how prominently a verdict is coloured."""
    if code in ALERT_VERDICTS:
        return "alert"
    if code in WEAK_VERDICTS:
        return "weak"
    return "neutral"


def headline_thresholds(tool: Any) -> tuple[list[tuple[str, Any]], int]:
    """The thresholds a human-facing report lists, sorted, and how many more the JSON holds.

    Args:
        tool: the report's `tool` record (any shape: a report read back may hold anything).

    Returns:
        The unprefixed entries of `tool.thresholds` (the headline ones), sorted by
        name, and the count of ``"stage.name"`` entries left to the JSON report.
    """
    thresholds = tool.get("thresholds", {}) if isinstance(tool, dict) else {}
    items = sorted(thresholds.items()) if isinstance(thresholds, dict) else []
    headline = [(k, v) for k, v in items if "." not in str(k)]
    return headline, len(items) - len(headline)


# -- the claim against the evidence --------------------------------------------------


@dataclass(frozen=True)
class ClaimRow:
    """One line of "the claim says / the evidence says"; `fits` is None when nothing is compared."""

    label: str
    claimed: str | None
    found: str | None
    fits: bool | None = None


def _tags(report: Any) -> dict[str, Any]:
    probe = (getattr(report, "metadata", None) or {}).get("probe") or {}
    tags = probe.get("tags") if isinstance(probe, dict) else None
    return tags if isinstance(tags, dict) else {}


def _tag(report: Any, *names: str) -> str | None:
    tags = {str(k).lower(): v for k, v in _tags(report).items()}
    for name in names:
        if tags.get(name) not in (None, ""):
            return str(tags[name])
    return None


#: Metadata findings that answer a claim row, best first, with whether each fits the claim.
_CREATION_FINDINGS = {
    "creation_time_before_claim": False,
    "creation_time_matches_claim": True,
    "creation_time_after_claim": None,
    "creation_time_in_future": False,
    "creation_time_present": None,
    "creation_time_absent": None,
}
_GPS_FINDINGS = {"gps_far_from_claimed_place": False, "gps_near_claimed_place": True, "gps_present": None}


def _finding_row(report: Any, label: str, claimed: str | None, codes: dict[str, bool | None]) -> ClaimRow | None:
    by_code = {str(f.get("code")): f for f in findings_of(report)}
    for code, fits in codes.items():
        if code in by_code:
            f = by_code[code]
            text = _creation_before_claim(f) or f.get("explanation") or f.get("summary") or code.replace("_", " ")
            return ClaimRow(label, claimed, str(text), fits)
    return None


def _creation_before_claim(finding: dict[str, Any]) -> str | None:
    """A file dated before the claim, with the gap said the one way (`words.gap_words`); None for other findings."""
    if finding.get("code") != "creation_time_before_claim":
        return None
    evidence = finding.get("evidence")
    if not isinstance(evidence, dict):
        return None
    created, claimed = day_of(evidence.get("value")), day_of(evidence.get("claimed_date"))
    if created is None or claimed is None or created >= claimed:
        return None
    return (
        f"the file says it was created on {created.isoformat()}, {gap_words(created, claimed)} before the "
        "claimed date; if the tag is right, the footage cannot show that event"
    )


def _recorded(claimed_date: str | None) -> str | None:
    """What a claimed date says about a file: when the footage was recorded, so the file can be no older."""
    if not claimed_date:
        return None
    on = "on" if len(claimed_date) == 10 else "in"
    return f"recorded {on} {claimed_date} (the file can be no older)"


def claim_rows(report: Any) -> list[ClaimRow]:
    """The claim's date, place, platforms and source next to what the evidence says.

    The file's own creation time and location come from the metadata findings
    when the report has them, else from its container tags.
    """
    claim = claim_facts(report)
    earliest = earliest_match(report.matches)
    rows: list[ClaimRow] = []
    claimed_day = day_of(claim.date) if claim else None
    if earliest is not None:
        src = earliest.reference.source
        seen = day_of(src.first_seen)
        found = f"matched footage first seen {src.first_seen}"
        if first_seen_is_file_time(src):
            found = (
                f"the matched reference's file was modified on {src.first_seen}, taken as its first-seen date "
                "when it was indexed (it dates a copy on disk, not the footage)"
            )
        fits: bool | None = None
        if seen and claimed_day:
            if seen < claimed_day:
                found += f", {gap_words(seen, claimed_day)} before the claimed date"
                fits = False
            else:
                found += ", not before the claimed date"
                fits = True
        rows.append(ClaimRow("Date", claim.date if claim else None, found, fits))
    elif claim and claim.date:
        rows.append(ClaimRow("Date", claim.date, "no earlier footage found in this index", None))
    created = _tag(report, "creation_time", "com.apple.quicktime.creationdate", "date")
    from_findings = _finding_row(
        report, "File creation time", _recorded(claim.date if claim else None), _CREATION_FINDINGS
    )
    if from_findings is not None:
        rows.append(from_findings)
    elif created or (claim and claim.date):
        fits_created: bool | None = None
        created_day = day_of(created)
        if created_day and claimed_day:
            fits_created = created_day >= claimed_day
        rows.append(
            ClaimRow(
                "File creation time",
                _recorded(claim.date if claim else None),
                f"the file says {created}" if created else "none in the file's metadata",
                fits_created,
            )
        )
    gps = _finding_row(report, "Place", claim.place if claim else None, _GPS_FINDINGS)
    if gps is not None:
        rows.append(gps)
    elif claim and claim.place:
        location = _tag(report, "location", "com.apple.quicktime.location.iso6709", "location-eng")
        rows.append(
            ClaimRow(
                "Place",
                claim.place,
                f"the file's location tag: {location}" if location else "no location in the file's metadata",
            )
        )
    if earliest is not None:
        src = earliest.reference.source
        by = f" by {src.publisher}" if src.publisher else ""
        where = src.source_url or earliest.reference.path
        origin = origin_words(src, "first_seen")
        said = f" (the date {origin})" if origin else ""
        rows.append(ClaimRow("First seen", None, f"{src.first_seen}{by} at {where}{said}"))
    if claim and claim.platforms:
        rows.append(ClaimRow("Platforms", ", ".join(claim.platforms), None))
    if claim and (claim.source_url or claim.published):
        said = claim.source_url or ""
        if claim.published:
            said = f"{said} ({claim.published})" if said else claim.published
        urls = sorted({m.reference.source.source_url for m in report.matches if m.reference.source.source_url})
        rows.append(ClaimRow("Source", said, ", ".join(urls) if urls else None))
    return rows


# -- what was done to the footage, in drawable form ----------------------------------


@dataclass(frozen=True)
class Rect:
    """A rectangle as fractions (0-1) of a frame's width and height."""

    x0: float
    y0: float
    x1: float
    y1: float
    label: str

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Alteration:
    """One alteration as the renderers show it: code, sentence, evidence."""

    code: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnosis:
    """How a match's copy differs from its reference, ready to draw.

    `reference_boxes` are drawn on the reference frame (e.g. the crop the clip
    shows), `query_boxes` on the clip's frame (an inner picture, the content
    inside padding, an overlay).
    """

    mirrored: bool = False
    rotation_deg: float | None = None
    reference_boxes: tuple[Rect, ...] = ()
    query_boxes: tuple[Rect, ...] = ()
    alterations: tuple[Alteration, ...] = ()


_BOX_LABELS = {
    "cropped": "part shown in the clip",
    "reframed": "footage inside padding",
    "picture_in_picture": "inner picture",
    "pip": "inner picture",
    "embedded_picture": "inner picture",
    "overlay": "overlay",
    "caption": "caption",
    "text_overlay": "text",
    "logo": "logo",
}


def _rect(value: Any, key: str, width: float, height: float, label: str) -> Rect | None:
    """A rectangle from [x0, y0, x1, y1] / [x, y, w, h] / a dict, in pixels or fractions."""
    nums: list[float]
    try:
        if isinstance(value, dict):
            v = {str(k).lower(): float(x) for k, x in value.items() if isinstance(x, (int, float))}
            if {"x0", "y0", "x1", "y1"} <= v.keys():
                nums = [v["x0"], v["y0"], v["x1"], v["y1"]]
            elif {"left", "top", "right", "bottom"} <= v.keys():
                nums = [v["left"], v["top"], v["right"], v["bottom"]]
            else:
                x, y = v.get("x", v.get("left")), v.get("y", v.get("top"))
                w, h = v.get("w", v.get("width")), v.get("h", v.get("height"))
                if x is None or y is None or w is None or h is None:
                    return None
                nums = [x, y, x + w, y + h]
        elif isinstance(value, (list, tuple)) and len(value) == 4:
            nums = [float(x) for x in value]
            if "xywh" in key or not (nums[2] > nums[0] and nums[3] > nums[1]):
                nums = [nums[0], nums[1], nums[0] + nums[2], nums[1] + nums[3]]
        else:
            return None
    except (TypeError, ValueError):
        return None
    in_pixels = "px" in key or "pixel" in key or max(abs(n) for n in nums) > 1.5
    if in_pixels:
        if width <= 0 or height <= 0:
            return None
        nums = [nums[0] / width, nums[1] / height, nums[2] / width, nums[3] / height]
    x0, y0, x1, y1 = (min(1.0, max(0.0, n)) for n in nums)
    if x1 - x0 <= 0.001 or y1 - y0 <= 0.001:
        return None
    return Rect(round(x0, 4), round(y0, 4), round(x1, 4), round(y1, 4), label)


def _same_place(a: Rect, b: Rect) -> bool:
    return max(abs(a.x0 - b.x0), abs(a.y0 - b.y0), abs(a.x1 - b.x1), abs(a.y1 - b.y1)) <= 0.01


def _alterations(match: Any) -> list[Alteration]:
    raw = getattr(match, "alterations", None)
    if raw is None:
        diagnosis = as_plain(getattr(match, "diagnosis", None))
        raw = diagnosis.get("alterations", diagnosis.get("transforms", ())) if isinstance(diagnosis, dict) else ()
    out = []
    for item in raw or ():
        plain = as_plain(item)
        if not isinstance(plain, dict):
            continue
        code = str(_first(plain, "code", "kind", "type", "name") or "altered")
        summary = str(_first(plain, "summary", "explanation", "description") or code.replace("_", " "))
        evidence = plain.get("evidence")
        out.append(Alteration(code, summary, evidence if isinstance(evidence, dict) else {}))
    return out


def diagnosis_of(match: Any, query_size: tuple[int, int]) -> Diagnosis:
    """The drawable diagnosis of a match (only ``mirrored`` when the matcher gives no more).

    Args:
        match: a `MatchSegment`.
        query_size: the checked clip's display (width, height), for boxes given in its pixels.
    """
    alterations = _alterations(match)
    ref = match.reference
    mirrored = bool(getattr(match, "mirrored", False)) or any(a.code in ("mirrored", "mirror") for a in alterations)
    rotation: float | None = None
    ref_boxes: list[Rect] = []
    query_boxes: list[Rect] = []
    for alt in alterations:
        if alt.code in ("rotated", "rotation"):
            for key in ("angle_deg_clockwise", "angle_deg", "angle", "degrees"):
                if isinstance(alt.evidence.get(key), (int, float)):
                    rotation = float(alt.evidence[key])
                    break
        label = _BOX_LABELS.get(alt.code, alt.code.replace("_", " "))
        for key, value in alt.evidence.items():
            k = str(key).lower()
            if "box" not in k and "rect" not in k:
                continue
            on_reference = "reference" in k or "ref_" in k or (alt.code == "cropped" and "query" not in k)
            size = (ref.width, ref.height) if on_reference else query_size
            several = (
                isinstance(value, (list, tuple)) and value and all(isinstance(v, (list, tuple, dict)) for v in value)
            )
            for one in value if several else [value]:
                rect = _rect(one, k, float(size[0] or 0), float(size[1] or 0), label)
                boxes = ref_boxes if on_reference else query_boxes
                # One box may be given twice (in pixels and in fractions): draw it once.
                if rect is not None and not any(_same_place(rect, b) for b in boxes):
                    boxes.append(rect)
    return Diagnosis(mirrored, rotation, tuple(ref_boxes), tuple(query_boxes), tuple(alterations))
