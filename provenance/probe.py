"""Stage 2, probe: what a media file says about itself, as a frozen `MediaFacts`.

Videos are read with ffprobe (JSON); still images with Pillow and exifread
(Pillow's own EXIF reader, with pillow-heif for HEIC, where exifread fails).
Besides every tag as written, the facts carry what the tags mean, parsed:
dates with their time zones (`TagDate`), the GPS position (`GeoPoint`, from
ISO 6709 ``location`` tags or EXIF GPS), the display rotation, MP4 edit
lists (`EditEntry`) and the encoder named inside the video bitstream (x264
and x265 write their version into the first frame, where tag editors do not
reach). exiftool adds what ffprobe misses when it is installed; nothing
needs it::

    >>> facts = probe("samples/viral.mp4")
    >>> facts.kind, facts.width, facts.height, round(facts.duration_s, 1)
    ('video', 640, 270, 7.0)
    >>> facts.tags["encoder"], facts.bitstream_encoder
    ('Lavf59.27.100', 'x264 core 164')

Tags that cannot be parsed (a date that is not a date, a position off the
globe) are listed in `malformed_tags`, never dropped silently.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import struct
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import tools
from .errors import BadInputError, ProcessingError, ToolMissingError

#: Pillow formats accepted as still images. Everything else goes to ffprobe.
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "HEIF", "MPO"})
#: Largest image accepted, in pixels (Pillow's decompression-bomb guard).
MAX_IMAGE_PIXELS = 100_000_000
#: Longest tag value kept; longer ones are cut and marked.
MAX_TAG_CHARS = 4096
#: Most tags kept from one source (container, one stream, EXIF, exiftool).
MAX_TAGS = 500
#: Largest MP4 ``moov`` box parsed for edit lists, bytes.
MAX_MOOV_BYTES = 64 << 20
#: Bytes read from the start of the file and of the ``mdat`` box when
#: looking for the encoder's own signature in the bitstream.
BITSTREAM_SCAN_BYTES = 2 << 20
#: Wall-clock limit for the optional exiftool call, seconds.
EXIFTOOL_TIMEOUT_S = 30.0
#: Set to ``0`` to never run exiftool even when it is installed.
EXIFTOOL_ENV = "PROVENANCE_EXIFTOOL"

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


@dataclass(frozen=True)
class StreamFacts:
    """One stream of a container: its type, codec and the tags it carries."""

    index: int
    codec_type: str
    codec_name: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    duration_s: float | None = None
    bit_rate: int | None = None
    frames: int | None = None
    rotation: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamFacts:
        values: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__ if k in data}
        return cls(**values)


@dataclass(frozen=True)
class TagDate:
    """A date read from one tag: the raw text and its parsed ISO 8601 form.

    `iso` carries the UTC offset when the tag had one (`tz_known`); a tag
    without one (EXIF without OffsetTime) is local time at an unknown place.
    """

    tag: str
    raw: str
    iso: str
    tz_known: bool

    @property
    def value(self) -> datetime:
        return datetime.fromisoformat(self.iso)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TagDate:
        return cls(str(data["tag"]), str(data["raw"]), str(data["iso"]), bool(data["tz_known"]))


@dataclass(frozen=True)
class GeoPoint:
    """A position in decimal degrees (WGS 84), with the tag it came from."""

    latitude: float
    longitude: float
    altitude_m: float | None = None
    tag: str = ""
    raw: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GeoPoint:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class EditEntry:
    """One entry of an MP4/QuickTime edit list (``elst``).

    The track plays `duration_s` of its media starting at `media_time_s`
    (None for an empty edit, a pause before the media starts).
    """

    track_id: int
    handler: str
    duration_s: float
    media_time_s: float | None
    rate: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EditEntry:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class MediaFacts:
    """What the file says about itself: container, size, timing and every tag.

    `kind` is ``"video"`` or ``"image"``. `width`/`height` are the stored frame
    size; `rotation` is the display rotation in degrees (counter-clockwise, as
    ffprobe's display matrix reports it). `tags` are the container's tags
    (for images: EXIF, named as exifread names them). Tag values longer than
    `MAX_TAG_CHARS` are cut and listed in `truncated_tags`; tags whose value
    cannot be parsed are in `malformed_tags` as (tag, value, reason).
    `dates` and `location` are the parsed dates (best first) and position;
    `edits` the MP4 edit lists; `bitstream_encoder` the encoder signature
    found inside the video stream itself; `exiftool_tags` what exiftool
    reported, when it is installed.
    """

    path: str
    kind: str
    container: str
    size_bytes: int
    duration_s: float
    width: int
    height: int
    fps: float | None
    video_codec: str
    rotation: float = 0.0
    bit_rate: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    streams: tuple[StreamFacts, ...] = ()
    truncated_tags: tuple[str, ...] = ()
    dates: tuple[TagDate, ...] = ()
    location: GeoPoint | None = None
    edits: tuple[EditEntry, ...] = ()
    bitstream_encoder: str | None = None
    exiftool_tags: dict[str, str] = field(default_factory=dict)
    malformed_tags: tuple[tuple[str, str, str], ...] = ()

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as shown, after the display rotation."""
        if round(self.rotation) % 180 == 90:
            return self.height, self.width
        return self.width, self.height

    @property
    def creation_time(self) -> TagDate | None:
        """The best creation date the file states, or None."""
        return self.dates[0] if self.dates else None

    def all_tags(self) -> dict[str, str]:
        """Every tag with a source prefix: ``format:``, ``stream0:``, ``exif:``, ``exiftool:``."""
        prefix = "exif:" if self.kind == "image" else "format:"
        out = {prefix + k: v for k, v in self.tags.items()}
        for s in self.streams:
            out.update({f"stream{s.index}:{k}": v for k, v in s.tags.items()})
        out.update({"exiftool:" + k: v for k, v in self.exiftool_tags.items()})
        return out

    def find_tag(self, names: tuple[str, ...]) -> tuple[str, str] | None:
        """The first of `names` present (container, then streams, then exiftool), as (prefixed tag, value)."""
        tags = self.all_tags()
        for name in names:
            for key, value in tags.items():
                if key.split(":", 1)[1] == name and value.strip():
                    return key, value
        # exiftool names carry a group ("QuickTime:Make"); match on the last part
        for name in names:
            for key, value in tags.items():
                if key.startswith("exiftool:") and key.rsplit(":", 1)[-1] == name and value.strip():
                    return key, value
        return None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["streams"] = [s.to_dict() for s in self.streams]
        data["truncated_tags"] = list(self.truncated_tags)
        data["dates"] = [d.to_dict() for d in self.dates]
        data["location"] = self.location.to_dict() if self.location else None
        data["edits"] = [e.to_dict() for e in self.edits]
        data["malformed_tags"] = [list(m) for m in self.malformed_tags]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaFacts:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["streams"] = tuple(StreamFacts.from_dict(s) for s in data.get("streams", ()))
        values["truncated_tags"] = tuple(data.get("truncated_tags", ()))
        values["dates"] = tuple(TagDate.from_dict(d) for d in data.get("dates", ()))
        values["location"] = GeoPoint.from_dict(data["location"]) if data.get("location") else None
        values["edits"] = tuple(EditEntry.from_dict(e) for e in data.get("edits", ()))
        values["malformed_tags"] = tuple((str(a), str(b), str(c)) for a, b, c in data.get("malformed_tags", ()))
        return cls(**values)


# -- parsing tag values ----------------------------------------------------------

_EXIF_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$")
_OFFSET = re.compile(r"^(Z|[+-]\d{2}:?\d{2})$")
_PLACEHOLDER_DATES = ("0000:00:00 00:00:00", "    :  :     :  :  ")


def parse_offset(text: str) -> timezone | None:
    """``+03:00``, ``-0500`` or ``Z`` as a `timezone`; None when not an offset."""
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
    dates. Returns None for anything else, including placeholders such as
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
    Returns None when the text is not a position or lies off the globe.
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


# -- reading the file ------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _clean_tags(raw: Any, prefix: str, truncated: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    if not isinstance(raw, dict):
        return out
    for key, value in list(raw.items())[:MAX_TAGS]:
        text = _text(value).replace("\x00", "")
        if len(text) > MAX_TAG_CHARS:
            truncated.append(prefix + str(key))
            text = text[:MAX_TAG_CHARS]
        out[_text(key)[:256]] = text
    if len(raw) > MAX_TAGS:
        truncated.append(f"{prefix}* ({len(raw) - MAX_TAGS} more tags not kept)")
    return out


def _rate(text: Any) -> float | None:
    s = str(text)
    # ffprobe writes "num/den"; an exponent ("1e999999999") would make Fraction build a huge integer.
    if len(s) > 40 or "e" in s.lower():
        return None
    try:
        value = float(Fraction(s))
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return value if value > 0 and math.isfinite(value) else None


def _number(text: Any, kind: type = float) -> Any:
    try:
        value = kind(float(text)) if kind is int else kind(text)
    except (TypeError, ValueError, OverflowError):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rotation(stream: dict[str, Any]) -> float:
    sides = stream.get("side_data_list")
    for side in sides if isinstance(sides, list) else ():
        if isinstance(side, dict) and "rotation" in side:
            value = _number(side["rotation"])
            if value is not None:
                return float(value) % 360
    tags = stream.get("tags")
    tag = tags.get("rotate") if isinstance(tags, dict) else None
    value = _number(tag)
    # The legacy "rotate" tag is clockwise; the display matrix is counter-clockwise.
    return float(-value) % 360 if value is not None else 0.0


def facts_from_ffprobe(path: str, size_bytes: int, data: dict[str, Any]) -> MediaFacts:
    """Build `MediaFacts` from ffprobe's ``-show_format -show_streams`` JSON.

    Only what the JSON says: the dates and position are parsed from its tags,
    but edit lists, the bitstream signature and exiftool's tags need the file
    (see `probe`).

    Raises:
        BadInputError: when the JSON has no video stream with a frame size.
    """
    truncated: list[str] = []
    fmt: dict[str, Any] = data["format"] if isinstance(data.get("format"), dict) else {}
    streams: list[StreamFacts] = []
    covers: set[int] = set()  # cover art is stored as a one-frame "video" stream
    raw_streams = data.get("streams")
    for i, raw in enumerate(raw_streams if isinstance(raw_streams, list) else ()):
        if not isinstance(raw, dict):
            continue
        disposition: dict[str, Any] = raw["disposition"] if isinstance(raw.get("disposition"), dict) else {}
        if disposition.get("attached_pic") == 1:
            covers.add(_number(raw.get("index"), int) if raw.get("index") is not None else i)
        streams.append(
            StreamFacts(
                index=_number(raw.get("index"), int) if raw.get("index") is not None else i,
                codec_type=str(raw.get("codec_type", "unknown")),
                codec_name=str(raw.get("codec_name", "unknown")),
                width=_number(raw.get("width"), int),
                height=_number(raw.get("height"), int),
                fps=_rate(raw.get("avg_frame_rate")) or _rate(raw.get("r_frame_rate")),
                duration_s=_number(raw.get("duration")),
                bit_rate=_number(raw.get("bit_rate"), int),
                frames=_number(raw.get("nb_frames"), int),
                rotation=_rotation(raw),
                tags=_clean_tags(raw.get("tags"), f"stream{i}:", truncated),
            )
        )
    videos = [
        s
        for s in streams
        if s.codec_type == "video" and (s.width or 0) > 0 and (s.height or 0) > 0 and s.index not in covers
    ]
    if not videos:
        if any(s.codec_type == "video" and s.index not in covers for s in streams):
            raise BadInputError(
                f"{path}: the video stream has no usable frame size (missing, or refused by the decoder as too large); "
                "the file is damaged or hostile"
            )
        kinds = ", ".join(sorted({s.codec_type for s in streams})) or "none"
        raise BadInputError(f"{path}: no video stream (streams found: {kinds}); give a video clip or a still image")
    video = videos[0]
    duration = _number(fmt.get("duration")) or video.duration_s or 0.0
    tags = _clean_tags(fmt.get("tags"), "format:", truncated)
    facts = MediaFacts(
        path=path,
        kind="video",
        container=str(fmt.get("format_name", "unknown")),
        size_bytes=size_bytes,
        duration_s=float(duration),
        width=int(video.width or 0),
        height=int(video.height or 0),
        fps=video.fps,
        video_codec=video.codec_name,
        rotation=video.rotation,
        bit_rate=_number(fmt.get("bit_rate"), int),
        tags=tags,
        streams=tuple(streams),
        truncated_tags=tuple(truncated),
    )
    return interpret(facts)


def interpret(facts: MediaFacts) -> MediaFacts:
    """`facts` with `dates`, `location` and `malformed_tags` parsed from its tags."""
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


# -- MP4 boxes: edit lists and the bitstream signature --------------------------------

_CONTAINERS = {b"moov", b"trak", b"mdia", b"edts", b"minf", b"stbl"}


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end]; stops at damage."""
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end and len(out) < 10_000:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1 and pos + 16 <= end:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def _top_level_boxes(handle: Any, file_size: int) -> list[tuple[bytes, int, int]]:
    out: list[tuple[bytes, int, int]] = []
    pos = 0
    while pos + 8 <= file_size and len(out) < 10_000:
        handle.seek(pos)
        head = handle.read(16)
        if len(head) < 8:
            break
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1 and len(head) >= 16:
            size = struct.unpack(">Q", head[8:16])[0]
            header = 16
        elif size == 0:
            size = file_size - pos
        if size < header:
            break
        out.append((kind, pos + header, min(pos + size, file_size)))
        pos += size
    return out


def _full_box_version(data: bytes, start: int) -> int:
    return data[start] if start < len(data) else 0


def read_edit_lists(path: Path) -> tuple[EditEntry, ...]:
    """The edit lists of an MP4/QuickTime file's tracks; empty for other files or damage."""
    entries: list[EditEntry] = []
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            top = _top_level_boxes(handle, size)
            moov = next(((s, e) for k, s, e in top if k == b"moov"), None)
            if moov is None or moov[1] - moov[0] > MAX_MOOV_BYTES:
                return ()
            handle.seek(moov[0])
            data = handle.read(moov[1] - moov[0])
    except OSError:
        return ()
    try:
        boxes = _boxes(data, 0, len(data))
        movie_scale = 0
        for kind, s, _e in boxes:
            if kind == b"mvhd":
                v = _full_box_version(data, s)
                movie_scale = struct.unpack(">I", data[s + (20 if v == 1 else 12) : s + (24 if v == 1 else 16)])[0]
        for kind, s, e in boxes:
            if kind != b"trak":
                continue
            entries.extend(_track_edits(data, s, e, movie_scale))
    except (struct.error, IndexError, ZeroDivisionError):
        return tuple(entries)
    return tuple(entries[:100])


def _track_edits(data: bytes, start: int, end: int, movie_scale: int) -> list[EditEntry]:
    track_id, handler, media_scale = 0, "", 0
    elst: tuple[int, int] | None = None
    for kind, s, e in _boxes(data, start, end):
        if kind == b"tkhd":
            v = _full_box_version(data, s)
            off = s + (20 if v == 1 else 12)
            track_id = struct.unpack(">I", data[off : off + 4])[0]
        elif kind == b"edts":
            for k2, s2, e2 in _boxes(data, s, e):
                if k2 == b"elst":
                    elst = (s2, e2)
        elif kind == b"mdia":
            for k2, s2, _e2 in _boxes(data, s, e):
                if k2 == b"mdhd":
                    v = _full_box_version(data, s2)
                    off = s2 + (20 if v == 1 else 12)
                    media_scale = struct.unpack(">I", data[off : off + 4])[0]
                elif k2 == b"hdlr":
                    handler = data[s2 + 8 : s2 + 12].decode("latin-1")
    if elst is None or not movie_scale or not media_scale:
        return []
    s, e = elst
    version = _full_box_version(data, s)
    count = struct.unpack(">I", data[s + 4 : s + 8])[0]
    width = 20 if version == 1 else 12
    out: list[EditEntry] = []
    pos = s + 8
    for _ in range(min(count, 100)):
        if pos + width > e:
            break
        if version == 1:
            dur, media_time = struct.unpack(">Qq", data[pos : pos + 16])
            rate_int, rate_frac = struct.unpack(">hH", data[pos + 16 : pos + 20])
        else:
            dur, media_time = struct.unpack(">Ii", data[pos : pos + 8])
            rate_int, rate_frac = struct.unpack(">hH", data[pos + 8 : pos + 12])
        out.append(
            EditEntry(
                track_id=track_id,
                handler=handler,
                duration_s=round(dur / movie_scale, 6),
                media_time_s=None if media_time == -1 else round(media_time / media_scale, 6),
                rate=rate_int + rate_frac / 65536,
            )
        )
        pos += width
    return out


_SIGNATURES = (
    (re.compile(rb"x264 - core (\d+)"), "x264 core {}"),
    (re.compile(rb"x265 \(build (\d+)\)"), "x265 build {}"),
    (re.compile(rb"Lavc(\d+\.\d+\.\d+)"), "Lavc{}"),
)


def read_bitstream_encoder(path: Path) -> str | None:
    """The encoder signature written inside the video stream (x264/x265 SEI, libavcodec user data).

    Encoders write their name and settings into the first frame; this
    survives tag editing and ``-map_metadata -1``. In an MP4/QuickTime file
    only the media data (``mdat``) is read, so a tag cannot pose as one; in
    other containers only the x264/x265 signatures are trusted. Reads at most
    `BITSTREAM_SCAN_BYTES`.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(BITSTREAM_SCAN_BYTES)
            signatures: tuple[tuple[re.Pattern[bytes], str], ...] = _SIGNATURES[:2]
            if head[4:8] in (b"ftyp", b"wide", b"moov", b"free", b"mdat", b"skip"):
                mdat = next(((s, e) for k, s, e in _top_level_boxes(handle, size) if k == b"mdat"), None)
                if mdat is None:
                    return None
                handle.seek(mdat[0])
                head = handle.read(min(BITSTREAM_SCAN_BYTES, mdat[1] - mdat[0]))
                signatures = _SIGNATURES
    except OSError:
        return None
    for pattern, template in signatures:
        m = pattern.search(head)
        if m:
            return template.format(m.group(1).decode("ascii", "replace"))
    return None


# -- optional exiftool -------------------------------------------------------------------


def exiftool_path() -> str | None:
    """exiftool's path when it is installed and not disabled by ``PROVENANCE_EXIFTOOL=0``."""
    if os.environ.get(EXIFTOOL_ENV) == "0":
        return None
    return shutil.which("exiftool")


def read_exiftool(path: Path) -> dict[str, str]:
    """exiftool's tags (``Group:Name`` -> value, numbers unformatted), or {} without exiftool.

    Nothing depends on it: it adds what ffprobe does not read (maker notes,
    XMP, more QuickTime keys). A failure of exiftool is not an error here.
    """
    binary = exiftool_path()
    if binary is None:
        return {}
    try:
        result = tools.run(
            [binary, "-j", "-G1", "-n", "-a", "-q", "-q", "-api", "LargeFileSupport=1", "--", str(path.resolve())],
            timeout=EXIFTOOL_TIMEOUT_S,
            max_stdout=8 << 20,
        )
        data = json.loads(result.stdout.decode("utf-8", "replace") or "[]")
    except (ProcessingError, ToolMissingError, json.JSONDecodeError, RecursionError):
        return {}
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        return {}
    skip = ("System:", "ExifTool:", "File:")
    return {
        str(k): _text(v) if not isinstance(v, (dict, list)) else json.dumps(v)[:MAX_TAG_CHARS]
        for k, v in list(data[0].items())[:MAX_TAGS]
        if not str(k).startswith(skip) and k != "SourceFile"
    }


# -- still images ----------------------------------------------------------------------


def _register_heif() -> bool:
    """Let Pillow open HEIC/HEIF when pillow-heif is installed (``provenance[heic]``)."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


#: ISO base media brands of still images (HEIF, AVIF): an ``ftyp`` box naming
#: one of these is an image for Pillow, any other is a video for ffprobe.
HEIF_BRANDS = frozenset({"heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "mif2", "msf1", "miaf", "avif", "avis"})  # fmt: skip


def _plainly_video(path: Path) -> bool:
    """True when the file's first bytes are those of a video container (MP4/MOV, Matroska/WebM, AVI, FLV)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return False
    if len(head) >= 16 and head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        if not 16 <= size <= len(head):
            return False  # a brand list longer than read: let Pillow decide
        body = head[8:size]
        brands = {body[i : i + 4].decode("latin-1").lower() for i in range(0, len(body) - 3, 4)}
        return not brands & HEIF_BRANDS
    return head.startswith((b"\x1aE\xdf\xa3", b"FLV\x01")) or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")


def image_format(path: Path) -> str | None:
    """The Pillow format name of a still image, or None when it is not one."""
    if _plainly_video(path):
        return None  # spares importing Pillow and its HEIF plug-in for every clip
    from PIL import Image, UnidentifiedImageError

    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                fmt = img.format
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    except Image.DecompressionBombError:
        return "BOMB"
    return fmt if fmt in IMAGE_FORMATS else None


def _probe_image(path: Path, fmt: str) -> MediaFacts:
    from PIL import Image

    if fmt == "BOMB":
        raise BadInputError(f"{path}: image larger than {MAX_IMAGE_PIXELS} pixels; refused")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(path) as img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise BadInputError(
                    f"{path}: image of {width}x{height} is larger than {MAX_IMAGE_PIXELS} pixels; refused"
                )
            pil_exif = img.getexif()
            orientation = pil_exif.get(0x0112, 1)
    truncated: list[str] = []
    raw = read_exif(path)
    if not raw:
        # exifread cannot read every container (HEIC with pillow-heif among them): fall back on Pillow's reader
        raw = pillow_exif(pil_exif)
    tags = _clean_tags(raw, "exif:", truncated)
    rotation = {3: 180.0, 6: 270.0, 8: 90.0}.get(orientation if isinstance(orientation, int) else 1, 0.0)
    facts = MediaFacts(
        path=str(path),
        kind="image",
        container=fmt.lower(),
        size_bytes=path.stat().st_size,
        duration_s=0.0,
        width=width,
        height=height,
        fps=None,
        video_codec=fmt.lower(),
        rotation=rotation,
        tags=tags,
        truncated_tags=tuple(truncated),
        exiftool_tags=_clean_tags(read_exiftool(path), "exiftool:", truncated),
    )
    return interpret(facts)


def read_exif(path: Path) -> dict[str, str]:
    """EXIF tags of an image as strings, read with exifread; empty when none."""
    import exifread

    try:
        with open(path, "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tags = exifread.process_file(handle, details=False)
    except Exception:  # noqa: BLE001 - exifread raises many kinds (AssertionError on HEIC) on hostile files
        return {}
    return {k: _text(v) for k, v in tags.items() if not k.startswith("Thumbnail") and k != "JPEGThumbnail"}


def _exif_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_exif_value(v) for v in value) + "]"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").rstrip("\x00")
    if hasattr(value, "numerator") and hasattr(value, "denominator") and not isinstance(value, int):
        num, den = int(value.numerator), int(value.denominator)
        return str(num) if den == 1 else f"{num}/{den}"
    return str(value)


def pillow_exif(exif: Any) -> dict[str, str]:
    """Pillow's EXIF as exifread would name it (``Image Make``, ``EXIF DateTimeOriginal``, ``GPS GPSLatitude``)."""
    from PIL.ExifTags import GPSTAGS, IFD, TAGS

    out: dict[str, str] = {}
    try:
        for tag, value in exif.items():
            if tag not in (IFD.Exif, IFD.GPSInfo):
                out["Image " + TAGS.get(tag, f"Tag 0x{tag:04X}")] = _exif_value(value)
        for tag, value in exif.get_ifd(IFD.Exif).items():
            out["EXIF " + TAGS.get(tag, f"Tag 0x{tag:04X}")] = _exif_value(value)
        for tag, value in exif.get_ifd(IFD.GPSInfo).items():
            out["GPS " + GPSTAGS.get(tag, f"Tag 0x{tag:04X}")] = _exif_value(value)
    except Exception:  # noqa: BLE001 - Pillow raises many kinds on damaged EXIF; what was read is kept
        pass
    return out


# -- the stage ------------------------------------------------------------------------------


def probe(path: Path | str) -> MediaFacts:
    """Read the media facts of a video or still image.

    Args:
        path: a local file.

    Returns:
        The file's `MediaFacts`.

    Raises:
        BadInputError: missing, empty, unreadable or not a video/image.
        ToolMissingError: ffprobe is missing.
    """
    file = Path(path)
    if not file.exists():
        raise BadInputError(f"{path}: no such file; check the path")
    if not file.is_file():
        raise BadInputError(f"{path}: not a regular file; give a video clip or a still image")
    try:
        size = file.stat().st_size
        with open(file, "rb"):
            pass
    except OSError as exc:
        raise BadInputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    if size == 0:
        raise BadInputError(f"{path}: empty file (0 bytes); download it again")
    fmt = image_format(file)
    if fmt is not None:
        return _probe_image(file, fmt)
    result = tools.run_ffprobe(["-show_format", "-show_streams", "-of", "json", *tools.input_args(file)])
    refused = re.search(r"\[(\w+) @ [^\]]*\] Format not on whitelist", result.stderr)
    if result.returncode != 0 and refused:
        raise BadInputError(
            f"{path}: its format ({refused.group(1)}) is not an accepted video container; playlists, concat lists "
            "and other files that name further files are refused: give the video file itself"
        )
    if result.returncode != 0:
        reason = _first_line(result.stderr) or "unknown error"
        raise BadInputError(
            f"{path}: not a video ffprobe can read ({reason}); check that the download finished and the file is a video"
        )
    try:
        data = json.loads(result.stdout.decode("utf-8", "replace"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadInputError(f"{path}: ffprobe gave unreadable output; the file may be damaged") from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: ffprobe gave unreadable output; the file may be damaged")
    facts = facts_from_ffprobe(str(path), size, data)
    truncated = list(facts.truncated_tags)
    extra = _clean_tags(read_exiftool(file), "exiftool:", truncated)
    facts = replace(
        facts,
        edits=read_edit_lists(file),
        bitstream_encoder=read_bitstream_encoder(file),
        exiftool_tags=extra,
        truncated_tags=tuple(truncated),
    )
    return interpret(facts) if extra else facts


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            # ffprobe prefixes the resolved path and "[demuxer @ 0xADDRESS]"; keep only the reason.
            line = re.sub(r"\[[^\]]* @ 0x[0-9a-fA-F]+\]\s*", "", line)
            return line.rsplit(": ", 1)[-1][:200]
    return ""
