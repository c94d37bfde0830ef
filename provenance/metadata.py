"""Stage metadata: rules over what a file says about itself, each yielding a `Finding`.

A finding has a code (docs/findings.md lists every one), a severity
(``info``: a fact worth showing; ``notice``: a sign of processing that is
common and innocent on its own; ``warning``: a fact that contradicts the
claim or the file's own story), a plain-language explanation and the
evidence (tag names and values). The rules read `MediaFacts`, the claim and
the matched references' first-seen days (plain data: this stage needs
nothing of `match`); they never say more than the tags do::

    >>> facts = probe("samples/viral.mp4")
    >>> [f.code for f in inspect(facts, claim=claim)]
    ['reencoded_by_ffmpeg', 'metadata_stripped', 'creation_time_absent']
    >>> FindingCode.METADATA_STRIPPED.severity
    <Severity.NOTICE: 'notice'>

Tags are only what a file says: anyone can write them. A finding therefore
says what the tags state and what that is consistent with, not what
happened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .claims import Claim
from .claims.places import distance_km, nearest_town
from .probe import MAKE_TAGS, MODEL_TAGS, SOFTWARE_TAGS
from .text import TextKind

if TYPE_CHECKING:
    from .c2pa import ContentCredentials
    from .probe import MediaFacts
    from .text import ScreenText, TextReading


class Severity(StrEnum):
    """How much a finding weighs (docs/findings.md): a fact, a sign of processing, or a contradiction."""

    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"


#: The severities, least severe first (findings are sorted the other way).
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)

#: Days of slack when a file's date is compared with a claimed date or a
#: first-seen date: a UTC stamp and a local calendar day differ by up to 14
#: hours, and a camera clock is often a little off.
CLAIM_DATE_TOLERANCE_DAYS = 1
#: A GPS position within this distance of the claimed town fits the claim.
#: The gazetteer places a town at one point, so a town's own area, its
#: suburbs and GPS error must fit inside it.
GPS_PLACE_TOLERANCE_KM = 50.0
#: A creation date more than this far after the check is "in the future".
FUTURE_TOLERANCE = timedelta(days=1)
#: Two creation-date tags with time zones disagree when further apart than this.
DATES_DISAGREE_ZONED = timedelta(hours=1)
#: ... and when one has no time zone (up to 14 h of offset plus the above).
DATES_DISAGREE_UNZONED = timedelta(hours=15)
#: An edit list that starts playback this far into the media (or more than
#: `TRIM_MIN_FRAMES` frames) shows a cut without re-encoding; encoders start
#: 1-2 frames in to make room for B-frame reordering, which is not a cut.
TRIM_MIN_S = 0.3
TRIM_MIN_FRAMES = 3
#: Share (0-1) of a caption's words of 4+ letters that the claim's text must hold for the caption
#: to state the claim; below it the caption says something else (judgement, docs/findings.md).
CAPTION_CLAIM_OVERLAP = 0.5
#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`),
#: the time spans in days or hours.
THRESHOLDS: dict[str, float] = {
    "claim_date_tolerance_days": CLAIM_DATE_TOLERANCE_DAYS,
    "gps_place_tolerance_km": GPS_PLACE_TOLERANCE_KM,
    "future_tolerance_days": FUTURE_TOLERANCE / timedelta(days=1),
    "dates_disagree_zoned_hours": DATES_DISAGREE_ZONED / timedelta(hours=1),
    "dates_disagree_unzoned_hours": DATES_DISAGREE_UNZONED / timedelta(hours=1),
    "trim_min_s": TRIM_MIN_S,
    "trim_min_frames": TRIM_MIN_FRAMES,
    "caption_claim_overlap": CAPTION_CLAIM_OVERLAP,
}
#: First public year of each codec: a file cannot have been encoded before it.
CODEC_FIRST_YEAR: dict[str, int] = {
    "h264": 2003,
    "hevc": 2013,
    "av1": 2018,
    "vp8": 2010,
    "vp9": 2013,
    "mpeg4": 1999,
    "prores": 2007,
    "heif": 2015,
    "webp": 2010,
    "png": 1996,
    "jpeg": 1992,
    "mjpeg": 1992,
}
#: Software names of editing apps and platforms' own tools (not cameras).
EDITOR_PATTERN = re.compile(
    r"\b(photoshop|lightroom|gimp|premiere|final cut|imovie|capcut|inshot|handbrake|davinci|resolve|snapseed|"
    r"canva|kinemaster|vsco|after effects|vegas|filmora|shotcut|openshot|kdenlive|avidemux|picsart|facetune|"
    r"clipchamp|movavi|camtasia|pixelmator|affinity|splice|quik|videoleap|lumafusion|mediacoder|ffmpeg|"
    r"paint\.net|windows photo editor|microsoft photos)\b",
    re.I,
)
#: Stream-level encoder names of software encoders no camera or phone uses.
SOFTWARE_ENCODER = re.compile(r"\b(x264|x265|libx264|libx265|lavc\d*|libvpx|libaom|svt-?av1|rav1e)", re.I)
#: Container tags that only describe the format, not the recording.
TECHNICAL_TAGS = frozenset(
    {
        "major_brand",
        "minor_version",
        "compatible_brands",
        "encoder",
        "handler_name",
        "vendor_id",
        "language",
        "duration",
    }
)


class FindingCode(StrEnum):
    """What a finding says, one code per rule outcome (docs/findings.md explains each).

    A `str`, so reports and comparisons see the plain code (``"gps_present"``).
    """

    CREATION_TIME_PRESENT = "creation_time_present"
    CREATION_TIME_ABSENT = "creation_time_absent"
    CREATION_TIME_MATCHES_CLAIM = "creation_time_matches_claim"
    CREATION_TIME_BEFORE_CLAIM = "creation_time_before_claim"
    CREATION_TIME_AFTER_CLAIM = "creation_time_after_claim"
    CREATION_TIME_IN_FUTURE = "creation_time_in_future"
    CREATION_TIME_BEFORE_CODEC = "creation_time_before_codec"
    CREATION_TIMES_DISAGREE = "creation_times_disagree"
    CREATION_TIME_AFTER_REFERENCE = "creation_time_after_reference"
    CREATION_TIME_BEFORE_REFERENCE = "creation_time_before_reference"
    GPS_PRESENT = "gps_present"
    GPS_NEAR_CLAIMED_PLACE = "gps_near_claimed_place"
    GPS_FAR_FROM_CLAIMED_PLACE = "gps_far_from_claimed_place"
    CAMERA_TAGS_PRESENT = "camera_tags_present"
    CAMERA_TAGS_CONTRADICT_STREAM = "camera_tags_contradict_stream"
    REENCODED_BY_FFMPEG = "reencoded_by_ffmpeg"
    WRITTEN_BY_EDITOR = "written_by_editor"
    METADATA_STRIPPED = "metadata_stripped"
    DISPLAY_ROTATION = "display_rotation"
    EDIT_LIST_TRIM = "edit_list_trim"
    TIMECODE_PRESENT = "timecode_present"
    TAG_MALFORMED = "tag_malformed"
    TAG_TRUNCATED = "tag_truncated"
    C2PA_ABSENT = "c2pa_absent"
    C2PA_VALID = "c2pa_valid"
    C2PA_INVALID = "c2pa_invalid"
    C2PA_UNCHECKED = "c2pa_unchecked"
    CLOCK_ON_SCREEN = "clock_on_screen"
    CLOCK_MATCHES_CLAIM = "clock_matches_claim"
    CLOCK_CONTRADICTS_CLAIM = "clock_contradicts_claim"
    CLOCK_AFTER_REFERENCE = "clock_after_reference"
    HANDLE_ON_SCREEN = "handle_on_screen"
    CAPTION_REPEATS_CLAIM = "caption_repeats_claim"
    CAPTION_DIFFERS_FROM_CLAIM = "caption_differs_from_claim"
    TEXT_ADDED_IN_COPY = "text_added_in_copy"
    TEXT_IN_REFERENCE = "text_in_reference"

    @property
    def severity(self) -> Severity:
        """The severity every finding with this code has."""
        return FINDING_CODES[self]


@dataclass(frozen=True)
class Finding:
    """One thing the metadata show: a documented `code`, a `severity`, a plain explanation and the evidence.

    `inspect` makes findings with a `FindingCode` and its `Severity`; a report
    read back (`from_dict`) keeps its codes as written. `to_dict` gives plain strings.
    """

    code: str
    severity: str
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"finding {self.code!r}: severity {self.severity!r} is not one of {SEVERITIES}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "severity": str(self.severity),
            "explanation": self.explanation,
            "evidence": dict(self.evidence),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(str(data["code"]), str(data["severity"]), str(data["explanation"]), dict(data.get("evidence", {})))


#: Every finding code and its severity (docs/findings.md explains each).
FINDING_CODES: dict[FindingCode, Severity] = {
    FindingCode.CREATION_TIME_PRESENT: Severity.INFO,
    FindingCode.CREATION_TIME_ABSENT: Severity.INFO,
    FindingCode.CREATION_TIME_MATCHES_CLAIM: Severity.INFO,
    FindingCode.CREATION_TIME_BEFORE_CLAIM: Severity.WARNING,
    FindingCode.CREATION_TIME_AFTER_CLAIM: Severity.NOTICE,
    FindingCode.CREATION_TIME_IN_FUTURE: Severity.WARNING,
    FindingCode.CREATION_TIME_BEFORE_CODEC: Severity.WARNING,
    FindingCode.CREATION_TIMES_DISAGREE: Severity.NOTICE,
    FindingCode.CREATION_TIME_AFTER_REFERENCE: Severity.INFO,
    FindingCode.CREATION_TIME_BEFORE_REFERENCE: Severity.NOTICE,
    FindingCode.GPS_PRESENT: Severity.INFO,
    FindingCode.GPS_NEAR_CLAIMED_PLACE: Severity.INFO,
    FindingCode.GPS_FAR_FROM_CLAIMED_PLACE: Severity.WARNING,
    FindingCode.CAMERA_TAGS_PRESENT: Severity.INFO,
    FindingCode.CAMERA_TAGS_CONTRADICT_STREAM: Severity.WARNING,
    FindingCode.REENCODED_BY_FFMPEG: Severity.NOTICE,
    FindingCode.WRITTEN_BY_EDITOR: Severity.NOTICE,
    FindingCode.METADATA_STRIPPED: Severity.NOTICE,
    FindingCode.DISPLAY_ROTATION: Severity.INFO,
    FindingCode.EDIT_LIST_TRIM: Severity.NOTICE,
    FindingCode.TIMECODE_PRESENT: Severity.INFO,
    FindingCode.TAG_MALFORMED: Severity.NOTICE,
    FindingCode.TAG_TRUNCATED: Severity.NOTICE,
    FindingCode.C2PA_ABSENT: Severity.INFO,
    FindingCode.C2PA_VALID: Severity.INFO,
    FindingCode.C2PA_INVALID: Severity.WARNING,
    FindingCode.C2PA_UNCHECKED: Severity.INFO,
    FindingCode.CLOCK_ON_SCREEN: Severity.INFO,
    FindingCode.CLOCK_MATCHES_CLAIM: Severity.INFO,
    FindingCode.CLOCK_CONTRADICTS_CLAIM: Severity.WARNING,
    FindingCode.CLOCK_AFTER_REFERENCE: Severity.NOTICE,
    FindingCode.HANDLE_ON_SCREEN: Severity.INFO,
    FindingCode.CAPTION_REPEATS_CLAIM: Severity.INFO,
    FindingCode.CAPTION_DIFFERS_FROM_CLAIM: Severity.INFO,
    FindingCode.TEXT_ADDED_IN_COPY: Severity.NOTICE,
    FindingCode.TEXT_IN_REFERENCE: Severity.INFO,
}
#: Codes whose finding contradicts the claim itself (used by the verdict).
CONTRADICTS_CLAIM = frozenset({FindingCode.CREATION_TIME_BEFORE_CLAIM, FindingCode.GPS_FAR_FROM_CLAIMED_PLACE})


def _finding(code: FindingCode, explanation: str, **evidence: Any) -> Finding:
    return Finding(code, code.severity, explanation, {k: v for k, v in evidence.items() if v is not None})


def inspect(
    facts: MediaFacts,
    *,
    claim: Claim | None = None,
    first_seen: Sequence[tuple[date, int]] = (),
    credentials: ContentCredentials | None = None,
    now: datetime | None = None,
    text: TextReading | None = None,
) -> tuple[Finding, ...]:
    """Every finding for a file, most severe first (stable within a severity).

    Args:
        facts: the file's probe facts.
        claim: what the file is said to show, if known.
        first_seen: (first-seen day, reference id) of the matched references,
            best match first (`first_seen_days` makes it from the matches).
        credentials: the C2PA result; None when not checked at all.
        now: the time of the check (defaults to the current time; tests fix it).
        text: the words read on the picture (`provenance.text`): clocks held against
            the claim and the first-seen dates, handles, captions held against the claim.

    Returns:
        The findings, warnings first, then notices, then facts.
    """
    now = now or datetime.now(UTC)
    out: list[Finding] = []
    out += _creation_time(facts, claim, first_seen, now)
    out += _location(facts, claim)
    out += _software(facts)
    out += _structure(facts)
    out += _bad_tags(facts)
    if credentials is not None:
        out += _c2pa(credentials)
    if text is not None:
        out += _on_screen(text, claim, first_seen)
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    return tuple(sorted(out, key=lambda f: order[f.severity]))


# -- dates -----------------------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _day_of(value: datetime) -> date:
    """The calendar day the tag states (its own local day when it has an offset)."""
    return value.date()


def _creation_time(
    facts: MediaFacts, claim: Claim | None, first_seen: Sequence[tuple[date, int]], now: datetime
) -> list[Finding]:
    out: list[Finding] = []
    created = facts.creation_time
    if created is None:
        out.append(
            _finding(
                FindingCode.CREATION_TIME_ABSENT,
                "The file states no creation date. Platforms and re-encoding tools usually remove it, "
                "so its absence says nothing about when the footage was recorded.",
            )
        )
        return out
    value = created.value
    day = _day_of(value)
    zone = "" if created.tz_known else " (no time zone: local time of an unknown place)"
    out.append(
        _finding(
            FindingCode.CREATION_TIME_PRESENT,
            f"The file says it was created on {value.isoformat()}{zone}, in its {created.tag} tag. "
            "Anyone can write this tag, and some tools set it to the time of re-encoding.",
            tag=created.tag,
            value=created.raw,
            parsed=created.iso,
        )
    )
    if _as_utc(value) > now + FUTURE_TOLERANCE:
        out.append(
            _finding(
                FindingCode.CREATION_TIME_IN_FUTURE,
                f"The creation date {value.isoformat()} is after the time of this check: "
                "the tag was set by hand or by a device with a wrong clock.",
                tag=created.tag,
                value=created.raw,
                checked_at=now.isoformat(timespec="seconds"),
            )
        )
    codec = facts.video_codec.lower()
    first_year = CODEC_FIRST_YEAR.get(codec)
    if first_year is not None and value.year < first_year:
        out.append(
            _finding(
                FindingCode.CREATION_TIME_BEFORE_CODEC,
                f"The creation date {value.date().isoformat()} is before {codec} existed ({first_year}): "
                "the date is a placeholder from a device with an unset clock, or it was written by hand.",
                tag=created.tag,
                value=created.raw,
                codec=codec,
                codec_first_year=first_year,
            )
        )
    out += _dates_disagree(facts)
    tol = timedelta(days=CLAIM_DATE_TOLERANCE_DAYS)
    claimed = claim.date_range() if claim is not None and claim.date else None
    if claimed is not None and claim is not None:
        start, end = claimed
        evidence: dict[str, Any] = {"tag": created.tag, "value": created.raw, "claimed_date": claim.date}
        if day < start - tol:
            out.append(
                _finding(
                    FindingCode.CREATION_TIME_BEFORE_CLAIM,
                    f"The file says it was created on {day.isoformat()}, {(start - day).days} days before the "
                    f"claimed date {claim.date}. If the tag is right, the footage cannot show that event.",
                    **evidence,
                )
            )
        elif day > end + tol:
            out.append(
                _finding(
                    FindingCode.CREATION_TIME_AFTER_CLAIM,
                    f"The file says it was created on {day.isoformat()}, after the claimed date {claim.date}. "
                    "A copy or re-encode made later carries a later date, so this does not contradict the claim.",
                    **evidence,
                )
            )
        else:
            out.append(
                _finding(
                    FindingCode.CREATION_TIME_MATCHES_CLAIM,
                    f"The file's creation date {day.isoformat()} fits the claimed date {claim.date} "
                    f"(within {CLAIM_DATE_TOLERANCE_DAYS} day for time zones). Tags can be written by anyone.",
                    **evidence,
                )
            )
    seen = _earliest(first_seen)
    if seen is not None:
        ref_day, ref_id = seen
        evidence = {"tag": created.tag, "value": created.raw, "reference_id": ref_id, "first_seen": str(ref_day)}
        if day > ref_day:
            out.append(
                _finding(
                    FindingCode.CREATION_TIME_AFTER_REFERENCE,
                    f"The file was written on {day.isoformat()}, after the matched footage was first seen "
                    f"({ref_day.isoformat()}): consistent with a copy of it.",
                    **evidence,
                )
            )
        elif day < ref_day - tol:
            out.append(
                _finding(
                    FindingCode.CREATION_TIME_BEFORE_REFERENCE,
                    f"The file says it was created on {day.isoformat()}, before the matched footage was first seen "
                    f"({ref_day.isoformat()}): it may be an earlier copy or the original, or the index's "
                    "first-seen date is late.",
                    **evidence,
                )
            )
    return out


def first_seen_day(text: str | None) -> date | None:
    """The day of a reference's first-seen value (``2021-09-12`` or an ISO timestamp).

    Args:
        text: the value as the index stores it.

    Returns:
        The day, or None when there is no value or it is not a date.
    """
    if not text:
        return None
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def first_seen_days(references: Iterable[tuple[str | None, int]]) -> tuple[tuple[date, int], ...]:
    """The first-seen days `inspect` takes, from each matched reference's first-seen value and id.

    Args:
        references: (``source.first_seen``, reference id) of each match, best first.

    Returns:
        (day, reference id) of those whose first-seen value is a date, in the order given.
    """
    out: list[tuple[date, int]] = []
    for text, ref_id in references:
        day = first_seen_day(text)
        if day is not None:
            out.append((day, ref_id))
    return tuple(out)


def _earliest(first_seen: Sequence[tuple[date, int]]) -> tuple[date, int] | None:
    """The earliest day with its reference id (the first of equal days)."""
    best: tuple[date, int] | None = None
    for day, ref_id in first_seen:
        if best is None or day < best[0]:
            best = (day, ref_id)
    return best


_CREATION_TAGS = ("com.apple.quicktime.creationdate", "creation_time", "DateTimeOriginal", "DateTimeDigitized")


def _dates_disagree(facts: MediaFacts) -> list[Finding]:
    creation = [d for d in facts.dates if any(d.tag.endswith(t) for t in _CREATION_TAGS)]
    for i, a in enumerate(creation):
        for b in creation[i + 1 :]:
            gap = abs(_as_utc(a.value) - _as_utc(b.value))
            limit = DATES_DISAGREE_ZONED if a.tz_known and b.tz_known else DATES_DISAGREE_UNZONED
            if gap > limit:
                return [
                    _finding(
                        FindingCode.CREATION_TIMES_DISAGREE,
                        f"Two creation-date tags disagree by {_duration(gap)}: {a.tag} says {a.iso}, "
                        f"{b.tag} says {b.iso}. Re-muxing or editing often rewrites one of them.",
                        tags={a.tag: a.raw, b.tag: b.raw},
                    )
                ]
    return []


def _duration(gap: timedelta) -> str:
    hours = gap.total_seconds() / 3600
    return f"{hours / 24:.0f} days" if hours >= 48 else f"{hours:.1f} hours"


# -- place -----------------------------------------------------------------------------


def _location(facts: MediaFacts, claim: Claim | None) -> list[Finding]:
    loc = facts.location
    if loc is None:
        return []
    out = [
        _finding(
            FindingCode.GPS_PRESENT,
            f"The file states a position: {loc.latitude:.5f}, {loc.longitude:.5f} (from {loc.tag}). "
            "Anyone can write this tag.",
            tag=loc.tag,
            value=loc.raw,
            latitude=round(loc.latitude, 6),
            longitude=round(loc.longitude, 6),
            altitude_m=loc.altitude_m,
        )
    ]
    place = claim.place if claim is not None else None
    if place is None or place.kind == "unresolved":
        return out
    evidence: dict[str, Any] = {
        "tag": loc.tag,
        "latitude": round(loc.latitude, 6),
        "longitude": round(loc.longitude, 6),
        "claimed_place": place.label(),
    }
    if place.has_coordinates:
        assert place.latitude is not None and place.longitude is not None
        km = distance_km(loc.latitude, loc.longitude, place.latitude, place.longitude)
        evidence["distance_km"] = round(km, 1)
        if km > GPS_PLACE_TOLERANCE_KM:
            town = nearest_town(loc.latitude, loc.longitude)
            near = f"; the nearest listed town is {town.label()}" if town else ""
            evidence["nearest_town"] = town.label() if town else None
            out.append(
                _finding(
                    FindingCode.GPS_FAR_FROM_CLAIMED_PLACE,
                    f"The file's position is {km:,.0f} km from the claimed place {place.label()}{near}. "
                    "If the tag is right, the footage was not recorded there.",
                    **evidence,
                )
            )
        else:
            out.append(
                _finding(
                    FindingCode.GPS_NEAR_CLAIMED_PLACE,
                    f"The file's position is {km:,.1f} km from the claimed place {place.label()} "
                    f"(within {GPS_PLACE_TOLERANCE_KM:.0f} km). Tags can be written by anyone.",
                    **evidence,
                )
            )
        return out
    # a country: compare with the country of the nearest listed town
    town = nearest_town(loc.latitude, loc.longitude)
    if town is None or not place.country_code:
        return out
    evidence["nearest_town"] = town.label()
    if town.country_code != place.country_code:
        out.append(
            _finding(
                FindingCode.GPS_FAR_FROM_CLAIMED_PLACE,
                f"The file's position is nearest to {town.label()}, not in the claimed country {place.name} "
                "(judged by the nearest listed town; border areas can be misread).",
                **evidence,
            )
        )
    else:
        out.append(
            _finding(
                FindingCode.GPS_NEAR_CLAIMED_PLACE,
                f"The file's position is in {place.name}, nearest to {town.label()}. Tags can be written by anyone.",
                **evidence,
            )
        )
    return out


# -- software and camera ------------------------------------------------------------------


def _software(facts: MediaFacts) -> list[Finding]:
    out: list[Finding] = []
    make = facts.find_tag(_names("make"))
    model = facts.find_tag(_names("model"))
    camera = dict(t for t in (make, model) if t is not None)
    tags = facts.all_tags()
    ffmpeg_marks = {
        k: v
        for k, v in tags.items()
        if (k.endswith(":encoder") and re.match(r"\s*Lav[fc](\d|\s|$)", v))
        or (k.endswith(":vendor_id") and v == "FFMP")
    }
    stream_encoders = {k: v for k, v in tags.items() if k.startswith("stream") and k.endswith(":encoder")}
    if facts.bitstream_encoder and facts.bitstream_encoder.startswith("Lavc"):
        ffmpeg_marks["bitstream"] = facts.bitstream_encoder
    if ffmpeg_marks:
        out.append(
            _finding(
                FindingCode.REENCODED_BY_FFMPEG,
                "The file was last written by FFmpeg (libavformat/libavcodec), as apps, editors and platforms "
                "that re-encode or re-package video do; it is not as a camera wrote it.",
                tags=ffmpeg_marks,
                bitstream_encoder=facts.bitstream_encoder,
            )
        )
    editors = {k: v for k, v in tags.items() if _is_software_tag(k) and EDITOR_PATTERN.search(v)}
    editors = {k: v for k, v in editors.items() if k not in ffmpeg_marks}
    if editors:
        out.append(
            _finding(
                FindingCode.WRITTEN_BY_EDITOR,
                "The file names editing software: " + "; ".join(f"{k} = {v}" for k, v in editors.items())[:300] + ".",
                tags=editors,
            )
        )
    if camera:
        software_encoder = facts.bitstream_encoder if facts.bitstream_encoder else None
        if software_encoder is None:
            software_encoder = next((v for v in stream_encoders.values() if SOFTWARE_ENCODER.search(v)), None)
        if software_encoder and SOFTWARE_ENCODER.search(software_encoder) and facts.kind == "video":
            who = " ".join(camera.values())
            out.append(
                _finding(
                    FindingCode.CAMERA_TAGS_CONTRADICT_STREAM,
                    f"The tags name {who}, but the video stream was encoded by {software_encoder}, a software "
                    "encoder no phone or camera uses: the camera tags were copied over from another file or "
                    "written by hand, or the video was re-encoded keeping the old tags.",
                    camera_tags=camera,
                    stream_encoder=software_encoder,
                    stream_encoder_tags=stream_encoders or None,
                )
            )
        else:
            out.append(
                _finding(
                    FindingCode.CAMERA_TAGS_PRESENT,
                    "The tags name the recording device: " + ", ".join(f"{k} = {v}" for k, v in camera.items()) + ".",
                    camera_tags=camera,
                )
            )
    if not camera and not facts.dates and facts.location is None:
        descriptive = {
            k: v
            for k, v in tags.items()
            if not (k.startswith("stream") or k.startswith("exiftool:")) and k.split(":", 1)[1] not in TECHNICAL_TAGS
        }
        out.append(
            _finding(
                FindingCode.METADATA_STRIPPED,
                "The file carries no camera, date or location tags"
                + (" (no tags at all)" if not tags else " (only format tags)" if not descriptive else "")
                + ". Platforms strip them on upload and re-encoding tools drop them; it hides when and where "
                "the footage was recorded, and is not by itself a sign of manipulation.",
                tags_present=sorted(tags)[:40],
            )
        )
    return out


def _names(kind: str) -> tuple[str, ...]:
    return MAKE_TAGS if kind == "make" else MODEL_TAGS


def _is_software_tag(key: str) -> bool:
    name = key.split(":", 1)[1] if ":" in key else key
    return name in SOFTWARE_TAGS or key.rsplit(":", 1)[-1] in (
        "Software",
        "Encoder",
        "CreatorTool",
        "HistorySoftwareAgent",
    )


# -- structure: rotation, edit lists, timecodes ---------------------------------------------


def _structure(facts: MediaFacts) -> list[Finding]:
    out: list[Finding] = []
    if round(facts.rotation) % 360:
        w, h = facts.display_size
        out.append(
            _finding(
                FindingCode.DISPLAY_ROTATION,
                f"The picture is stored {facts.width}x{facts.height} and turned {facts.rotation:g}° for display "
                f"({w}x{h}), as phones record upright video. A copy that lost this flag was re-encoded with the "
                "rotation applied.",
                rotation_degrees=facts.rotation,
                stored_size=f"{facts.width}x{facts.height}",
                display_size=f"{w}x{h}",
            )
        )
    fps = facts.fps or 25.0
    allowance = max(TRIM_MIN_S, TRIM_MIN_FRAMES / fps)
    video_edits = [e for e in facts.edits if e.handler == "vide"]
    played = [e for e in video_edits if e.media_time_s is not None]
    trimmed_start = played and (played[0].media_time_s or 0.0) > allowance
    if trimmed_start or len(played) > 1:
        first = played[0].media_time_s or 0.0
        what = (
            f"starts playback {first:.2f} s into the stored video"
            if trimmed_start
            else f"plays {len(played)} separate pieces of the stored video"
        )
        out.append(
            _finding(
                FindingCode.EDIT_LIST_TRIM,
                f"The file's edit list {what}: it was cut from a longer recording without re-encoding, and the "
                "cut-off frames may still be in the file.",
                edits=[e.to_dict() for e in video_edits[:10]],
            )
        )
    timecodes = {k: v for k, v in facts.all_tags().items() if k.rsplit(":", 1)[-1].lower() == "timecode"}
    if timecodes:
        value = next(iter(timecodes.values()))
        later = not re.fullmatch(r"0?0[:;]00[:;]00[:;.]00", value.strip())
        extra = (
            " A start timecode other than zero can mean the clip begins partway into a longer recording, or that "
            "the camera writes the time of day."
            if later
            else ""
        )
        out.append(
            _finding(
                FindingCode.TIMECODE_PRESENT, f"The file carries a start timecode of {value}.{extra}", tags=timecodes
            )
        )
    return out


def _bad_tags(facts: MediaFacts) -> list[Finding]:
    out = [
        _finding(
            FindingCode.TAG_MALFORMED,
            f"The {tag} tag could not be read ({reason}); it is kept as written and not used.",
            tag=tag,
            value=value,
            reason=reason,
        )
        for tag, value, reason in facts.malformed_tags[:20]
    ]
    if facts.truncated_tags:
        out.append(
            _finding(
                FindingCode.TAG_TRUNCATED,
                f"{len(facts.truncated_tags)} tag value(s) were too long and were cut: an unusual size for "
                "metadata, worth a look with exiftool.",
                tags=list(facts.truncated_tags[:20]),
            )
        )
    return out


# -- Content Credentials ------------------------------------------------------------------


def _c2pa(creds: ContentCredentials) -> list[Finding]:
    evidence: dict[str, Any] = {
        "status": creds.status,
        "validation_state": creds.validation_state,
        "claim_generator": creds.claim_generator,
        "signer": creds.signer,
        "signed_at": creds.signed_at,
        "trust": creds.trust,
        "failures": list(creds.failures) or None,
        "actions": list(creds.actions) or None,
        "ingredients": list(creds.ingredients) or None,
    }
    if creds.status == "absent":
        return [
            _finding(
                FindingCode.C2PA_ABSENT,
                "No Content Credentials (C2PA manifest). Most cameras, apps and platforms write none, so this "
                "is not evidence of manipulation.",
            )
        ]
    if creds.status == "unchecked":
        return [_finding(FindingCode.C2PA_UNCHECKED, f"Content Credentials could not be checked: {creds.reason}.")]
    by = f" signed by {creds.signer}" if creds.signer else ""
    gen = f", made with {creds.claim_generator}" if creds.claim_generator else ""
    if creds.status == "invalid":
        return [
            _finding(
                FindingCode.C2PA_INVALID,
                f"The file carries Content Credentials{by}{gen}, but they fail validation "
                f"({', '.join(creds.failures) or creds.reason}): the file was changed after it was signed, or "
                "the manifest is damaged or forged.",
                **evidence,
            )
        ]
    trust = (
        "; the signer was not checked against a trust list (none is loaded offline)"
        if creds.trust != "trusted"
        else "; the signer is on the trust list"
    )
    return [
        _finding(
            FindingCode.C2PA_VALID,
            f"The file carries valid Content Credentials{by}{gen}: it is unchanged since it was signed{trust}. "
            "They say who signed it, not that what it shows is true.",
            **evidence,
        )
    ]


# -- words on the picture ---------------------------------------------------------------


def _where(t: ScreenText) -> dict[str, Any]:
    """A text's evidence: what it says, when and where it is on screen."""
    return {"text": t.text, "start_s": t.start_s, "end_s": t.end_s, "box": list(t.box)}


def _on_screen(text: TextReading, claim: Claim | None, first_seen: Sequence[tuple[date, int]]) -> list[Finding]:
    out: list[Finding] = []
    claimed = claim.date_range() if claim is not None and claim.date else None
    tol = timedelta(days=CLAIM_DATE_TOLERANCE_DAYS)
    seen = _earliest(first_seen)
    for t in text.of_kind(TextKind.CLOCK):
        days = [date.fromisoformat(d) for d in (t.clock.dates if t.clock else ())]
        shown = ", ".join(d.isoformat() for d in days) or "no date"
        if not days:
            continue
        if claimed is not None and claim is not None:
            start, end = claimed
            outside = all(d < start - tol or d > end + tol for d in days)
            code = FindingCode.CLOCK_CONTRADICTS_CLAIM if outside else FindingCode.CLOCK_MATCHES_CLAIM
            say = (
                f"A clock on the picture reads '{t.text}' ({shown}), not the claimed date {claim.date}. "
                "A camera's clock can be set wrong, but if it is right the footage was not filmed then."
                if outside
                else f"A clock on the picture reads '{t.text}' ({shown}), which fits the claimed date {claim.date}. "
                "Anyone can lay a clock over footage."
            )
            out.append(
                _finding(code, say, clock_dates=[d.isoformat() for d in days], claimed_date=claim.date, **_where(t))
            )
        else:
            out.append(
                _finding(
                    FindingCode.CLOCK_ON_SCREEN,
                    f"A clock on the picture reads '{t.text}' ({shown}): the date a camera or an editor laid "
                    "over the footage. Give a claimed date to hold it against.",
                    clock_dates=[d.isoformat() for d in days],
                    **_where(t),
                )
            )
        if seen is not None and all(d > seen[0] + tol for d in days):
            out.append(
                _finding(
                    FindingCode.CLOCK_AFTER_REFERENCE,
                    f"A clock on the picture reads {shown}, after the matched footage was first seen "
                    f"({seen[0].isoformat()}): the clock is wrong, or the match is another recording of the place.",
                    clock_dates=[d.isoformat() for d in days],
                    reference_id=seen[1],
                    first_seen=seen[0].isoformat(),
                    **_where(t),
                )
            )
    for t in text.of_kind(TextKind.HANDLE):
        out.append(
            _finding(
                FindingCode.HANDLE_ON_SCREEN,
                f"The picture shows '{t.text}': a channel, account or site that may have published the footage "
                "first. A lead to follow, not proof of the source: anyone can put a name on a picture.",
                **_where(t),
            )
        )
    captions = text.of_kind(TextKind.CAPTION)
    statement = " ".join(
        x for x in ((claim.text or "") if claim else "", *(claim.media_sentences if claim else ())) if x
    )
    if captions and statement:
        words = {w for t in captions for w in re.findall(r"\w{4,}", t.text.casefold())}
        said = set(re.findall(r"\w{4,}", statement.casefold()))
        shared = sorted(words & said)
        share = len(shared) / len(words) if words else 0.0
        caption_text = " / ".join(t.text for t in captions)
        evidence = {"captions": [t.text for t in captions], "claim_text": statement[:500], "shared_words": shared}
        if share >= CAPTION_CLAIM_OVERLAP:
            out.append(
                _finding(
                    FindingCode.CAPTION_REPEATS_CLAIM,
                    f"The caption on the picture ('{caption_text}') says what the claim says "
                    f"({len(shared)} of its {len(words)} longer words are in the claim): the clip carries the claim itself.",
                    **evidence,
                )
            )
        else:
            out.append(
                _finding(
                    FindingCode.CAPTION_DIFFERS_FROM_CLAIM,
                    f"The caption on the picture ('{caption_text}') shares {len(shared)} of its {len(words)} longer words "
                    "with the claim: it says something else, or the same in another language.",
                    **evidence,
                )
            )
    added = [t for t in text.texts if t.in_reference is False]
    kept = [t for t in text.texts if t.in_reference is True]
    if added:
        out.append(
            _finding(
                FindingCode.TEXT_ADDED_IN_COPY,
                f"{len(added)} text(s) on the clip are not on the matched reference's frames at the same moments: "
                "added by whoever made this copy (" + "; ".join(f"'{t.text}'" for t in added[:5]) + ").",
                texts=[_where(t) for t in added],
            )
        )
    if kept:
        out.append(
            _finding(
                FindingCode.TEXT_IN_REFERENCE,
                f"{len(kept)} text(s) on the clip are already on the matched reference ("
                + "; ".join(f"'{t.text}'" for t in kept[:5])
                + ").",
                texts=[_where(t) for t in kept],
            )
        )
    return out
