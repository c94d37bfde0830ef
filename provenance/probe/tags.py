"""Stage probe: what the tags mean, read the same way for videos and stills.

Tag values are bounded (`clean_tags`), then dates (`TagDate`) and the GPS
position (`GeoPoint`) are parsed from the tags named in `DATE_TAGS` and
`LOCATION_TAGS`, best first; a tag that does not parse is listed in
`MediaFacts.malformed_tags`, never dropped silently::

    >>> parse_datetime("2024:01:17 10:15:30", "+03:00").isoformat()
    '2024-01-17T10:15:30+03:00'
    >>> parse_iso6709("+52.5917+058.3113/")
    (52.5917, 58.3113, None)
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

from .facts import GeoPoint, MediaFacts, TagDate

#: Longest tag value kept, characters; longer ones are cut and listed in
#: `MediaFacts.truncated_tags` (finding ``tag_truncated``).
MAX_TAG_CHARS = 4096
#: Most tags kept from one source (container, one stream, EXIF, exiftool);
#: the rest are counted in `MediaFacts.truncated_tags`.
MAX_TAGS = 500

#: Date tags, best first: a camera's own local time with its offset beats the
#: container's UTC stamp, which beats a per-stream stamp or a modify date.
DATE_TAGS: tuple[str, ...] = (
    "format:com.apple.quicktime.creationdate",
    "exif:EXIF DateTimeOriginal",
    "format:creation_time",
    "format:date",
    "format:DATE",
    "format:DATE_RECORDED",
    "format:date-eng",
    "stream:creation_time",
    "exif:EXIF DateTimeDigitized",
    "exif:Image DateTime",
    "exiftool:CreateDate",
    "exiftool:DateTimeOriginal",
    "exiftool:CreationDate",
)
#: Position tags, best first (ISO 6709 strings or EXIF GPS groups).
LOCATION_TAGS: tuple[str, ...] = (
    "format:com.apple.quicktime.location.ISO6709",
    "format:location",
    "format:location-eng",
    "exif:GPS",
    "exiftool:GPSCoordinates",
    "exiftool:GPSPosition",
)
#: Tags that name the maker and model of the recording device.
MAKE_TAGS = ("com.apple.quicktime.make", "make", "Make", "Image Make", "com.android.manufacturer")
MODEL_TAGS = ("com.apple.quicktime.model", "model", "Model", "Image Model", "com.android.model")
#: Tags that name the software that last wrote the file.
SOFTWARE_TAGS = (
    "encoder",
    "com.apple.quicktime.software",
    "software",
    "Software",
    "Image Software",
    "com.android.version",
    "encoded_by",
    "ENCODER",
)


# -- parsing tag values ----------------------------------------------------------

_EXIF_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$")
_OFFSET = re.compile(r"^(Z|[+-]\d{2}:?\d{2})$")
_PLACEHOLDER_DATES = ("0000:00:00 00:00:00", "    :  :     :  :  ")


def parse_offset(text: str) -> timezone | None:
    """``+03:00``, ``-0500`` or ``Z`` as a `timezone`.

    Args:
        text: a UTC offset as a tag writes it.

    Returns:
        The offset, or None when the text is not one (or is beyond ±14:59).
    """
    text = text.strip()
    if not _OFFSET.match(text):
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_datetime(text: str, offset: str | None = None) -> datetime | None:
    """A date written in a media tag, as a `datetime` (aware when the text says its offset).

    Accepts ISO 8601 (``2024-01-17T10:15:30.000000Z``, ``…+0300``), EXIF's
    ``2024:01:17 10:15:30`` (with `offset` from its OffsetTime tag) and plain
    dates.

    Args:
        text: the tag's value.
        offset: an EXIF OffsetTime value for a date written without one.

    Returns:
        The date, or None for anything else, including placeholders such as
        ``0000:00:00 00:00:00``.
    """
    text = text.strip().replace("\x00", "")
    if not text or len(text) > 64 or text in _PLACEHOLDER_DATES:
        return None
    if text.endswith(" UTC"):
        text = text[:-4] + "Z"
    value: datetime | None = None
    m = _EXIF_DATE.match(text)
    if m:
        try:
            y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
            value = datetime(y, mo, d, h, mi, sec)
        except ValueError:
            return None
        if m.group(8):
            value = value.replace(tzinfo=parse_offset(m.group(8)))
    else:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if value.tzinfo is None and offset:
        tz = parse_offset(offset)
        if tz is not None:
            value = value.replace(tzinfo=tz)
    return value


_ISO6709 = re.compile(
    r"^(?P<lat>[+-]\d{2,6}(?:\.\d+)?)(?P<lon>[+-]\d{3,7}(?:\.\d+)?)(?P<alt>[+-]\d+(?:\.\d+)?)?(?:CRS[A-Za-z0-9_:]*)?/?$"
)


def _iso6709_part(text: str, degree_digits: int) -> float:
    sign = -1.0 if text[0] == "-" else 1.0
    body = text[1:]
    whole, _, frac = body.partition(".")
    frac_value = float("0." + frac) if frac else 0.0
    extra = len(whole) - degree_digits
    if extra == 0:  # DD.DDD
        return sign * (int(whole) + frac_value)
    if extra == 2:  # DDMM.MMM
        return sign * (int(whole[:degree_digits]) + (int(whole[degree_digits:]) + frac_value) / 60)
    if extra == 4:  # DDMMSS.SSS
        d, mnt, s = int(whole[:degree_digits]), int(whole[degree_digits:-2]), int(whole[-2:])
        return sign * (d + mnt / 60 + (s + frac_value) / 3600)
    raise ValueError(text)


def parse_iso6709(text: str) -> tuple[float, float, float | None] | None:
    """An ISO 6709 position (``+52.5917+058.3113+100.000/``) as (lat, lon, altitude).

    Handles degrees, degrees-minutes and degrees-minutes-seconds forms.

    Args:
        text: the tag's value.

    Returns:
        (latitude, longitude, altitude or None), or None when the text is not a
        position or lies off the globe.
    """
    m = _ISO6709.match(text.strip())
    if not m:
        return None
    try:
        lat = _iso6709_part(m.group("lat"), 2)
        lon = _iso6709_part(m.group("lon"), 3)
    except ValueError:
        return None
    alt = float(m.group("alt")) if m.group("alt") else None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon, alt


def _ratio(text: str) -> float:
    num, _, den = text.strip().partition("/")
    value = float(Fraction(int(num), int(den))) if den else float(num)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_exif_gps(tags: dict[str, str]) -> tuple[float, float, float | None] | None:
    """EXIF GPS tags (as exifread writes them, ``[52, 35, 3021/100]``) as (lat, lon, altitude).

    Args:
        tags: EXIF tags named as exifread names them (``GPS GPSLatitude``, ...).

    Returns:
        (latitude, longitude, altitude or None), or None without GPS tags.

    Raises:
        ValueError: the GPS tags are present but not numbers, or off the globe.
    """
    lat_raw, lon_raw = tags.get("GPS GPSLatitude"), tags.get("GPS GPSLongitude")
    if not lat_raw or not lon_raw:
        return None
    values = []
    for raw in (lat_raw, lon_raw):
        parts = [p for p in raw.strip("[] ").split(",") if p.strip()]
        if not 1 <= len(parts) <= 3:
            raise ValueError(raw)
        nums = [_ratio(p) for p in parts] + [0.0, 0.0]
        values.append(nums[0] + nums[1] / 60 + nums[2] / 3600)
    lat, lon = values
    if tags.get("GPS GPSLatitudeRef", "N").strip().upper().startswith("S"):
        lat = -lat
    if tags.get("GPS GPSLongitudeRef", "E").strip().upper().startswith("W"):
        lon = -lon
    alt: float | None = None
    if tags.get("GPS GPSAltitude"):
        try:
            alt = _ratio(tags["GPS GPSAltitude"])
            if tags.get("GPS GPSAltitudeRef", "0").strip() in ("1", "Below Sea Level"):
                alt = -alt
        except (ValueError, ZeroDivisionError):
            alt = None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"{lat_raw} {lon_raw}")
    return lat, lon, alt


# -- bounding tag values -----------------------------------------------------------------


def tag_text(value: Any) -> str:
    """A tag's value as text (bytes decoded as UTF-8, bad bytes replaced).

    Args:
        value: what a reader returned for the tag.

    Returns:
        The text.
    """
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def clean_tags(raw: Any, prefix: str, truncated: list[str]) -> dict[str, str]:
    """Tags bounded: at most `MAX_TAGS`, each value at most `MAX_TAG_CHARS` characters, NULs dropped.

    Args:
        raw: the tags as read (anything; not a dict gives no tags).
        prefix: the source prefix (``format:``, ``stream0:``, ...) naming cut tags.
        truncated: a list the names of cut tags (and a count of dropped ones) are appended to.

    Returns:
        Tag name -> value, as text.
    """
    out: dict[str, str] = {}
    if not isinstance(raw, dict):
        return out
    for key, value in list(raw.items())[:MAX_TAGS]:
        text = tag_text(value).replace("\x00", "")
        if len(text) > MAX_TAG_CHARS:
            truncated.append(prefix + str(key))
            text = text[:MAX_TAG_CHARS]
        out[tag_text(key)[:256]] = text
    if len(raw) > MAX_TAGS:
        truncated.append(f"{prefix}* ({len(raw) - MAX_TAGS} more tags not kept)")
    return out


# -- dates and positions of a file -------------------------------------------------------


def interpret(facts: MediaFacts) -> MediaFacts:
    """`facts` with `dates`, `location` and `malformed_tags` parsed from its tags.

    Args:
        facts: facts with their tags read.

    Returns:
        The same facts with what the tags mean: dates best first (`DATE_TAGS`),
        the first position that parses (`LOCATION_TAGS`), and every date or
        position tag that does not parse.
    """
    malformed: list[tuple[str, str, str]] = []
    dates = _dates(facts, malformed)
    location = _location(facts, malformed)
    return replace(facts, dates=tuple(dates), location=location, malformed_tags=tuple(malformed))


def _tag_candidates(facts: MediaFacts, spec: str) -> list[tuple[str, str]]:
    """(prefixed tag, value) pairs for a DATE_TAGS/LOCATION_TAGS entry."""
    source, _, name = spec.partition(":")
    if source in ("format", "exif"):
        wanted = "format" if facts.kind == "video" else "exif"
        value = facts.tags.get(name)
        return [(f"{source}:{name}", value)] if source == wanted and value is not None else []
    if source == "stream":
        return [(f"stream{s.index}:{name}", s.tags[name]) for s in facts.streams if name in s.tags]
    if source == "exiftool":
        return [
            ("exiftool:" + k, v) for k, v in facts.exiftool_tags.items() if k == name or k.rsplit(":", 1)[-1] == name
        ]
    return []


def _dates(facts: MediaFacts, malformed: list[tuple[str, str, str]]) -> list[TagDate]:
    out: list[TagDate] = []
    seen: set[str] = set()
    for spec in DATE_TAGS:
        for tag, raw in _tag_candidates(facts, spec):
            if tag in seen or not raw.strip():
                continue
            seen.add(tag)
            offset = None
            if tag.startswith("exif:EXIF DateTimeOriginal"):
                offset = facts.tags.get("EXIF OffsetTimeOriginal")
            elif tag.startswith("exif:EXIF DateTimeDigitized"):
                offset = facts.tags.get("EXIF OffsetTimeDigitized")
            elif tag.startswith("exif:Image DateTime"):
                offset = facts.tags.get("EXIF OffsetTime")
            value = parse_datetime(raw, offset)
            if value is None:
                malformed.append((tag, raw[:200], "not a date"))
                continue
            out.append(TagDate(tag, raw[:200], value.isoformat(), value.tzinfo is not None))
    return out


def _location(facts: MediaFacts, malformed: list[tuple[str, str, str]]) -> GeoPoint | None:
    found: GeoPoint | None = None
    for spec in LOCATION_TAGS:
        if spec == "exif:GPS":
            if facts.kind != "image" or "GPS GPSLatitude" not in facts.tags:
                continue
            raw = f"{facts.tags.get('GPS GPSLatitude')} {facts.tags.get('GPS GPSLatitudeRef', '')}, "
            raw += f"{facts.tags.get('GPS GPSLongitude')} {facts.tags.get('GPS GPSLongitudeRef', '')}"
            try:
                pos = parse_exif_gps(facts.tags)
            except (ValueError, ZeroDivisionError):
                malformed.append(("exif:GPS GPSLatitude/GPSLongitude", raw[:200], "not a position on the globe"))
                continue
            if pos is not None and found is None:
                found = GeoPoint(pos[0], pos[1], pos[2], "exif:GPS", raw.strip())
            continue
        for tag, value in _tag_candidates(facts, spec):
            pos = parse_iso6709(value) or _decimal_pair(value)
            if pos is None:
                malformed.append((tag, value[:200], "not an ISO 6709 position on the globe"))
            elif found is None:
                found = GeoPoint(pos[0], pos[1], pos[2], tag, value[:200])
    return found


def _decimal_pair(text: str) -> tuple[float, float, float | None] | None:
    """exiftool's ``-n`` form: ``52.5917 58.3113 100`` or ``52.5917, 58.3113``."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if len(parts) not in (2, 3):
        return None
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        return None
    if not all(math.isfinite(n) for n in nums) or not (-90 <= nums[0] <= 90 and -180 <= nums[1] <= 180):
        return None
    return nums[0], nums[1], nums[2] if len(nums) == 3 else None
