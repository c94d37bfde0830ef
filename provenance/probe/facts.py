"""Stage probe: the records a probe gives, `MediaFacts` and the parts it is made of.

Frozen, serialisable, and free of I/O: every value here was read by
`provenance.probe.ffprobe`, `.mp4`, `.exif` or `.exiftool` and parsed by
`provenance.probe.tags`::

    >>> facts = MediaFacts.from_dict(json.loads(json.dumps(probe("samples/viral.mp4").to_dict())))
    >>> facts.display_size, facts.creation_time, facts.find_tag(("encoder",))
    ((640, 270), None, ('format:encoder', 'Lavf59.27.100'))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


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

    `kind` is ``"video"``, ``"image"`` or ``"audio"`` (a sound file: no picture). `width`/`height` are the stored frame
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
    #: Index of the video stream examined (the one marked default, else the first); None for images.
    video_stream: int | None = None
    #: Other video streams with pictures (cover art left out): not examined, named in a warning.
    other_video_streams: tuple[int, ...] = ()

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
        data["other_video_streams"] = list(self.other_video_streams)
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
        values["other_video_streams"] = tuple(int(i) for i in data.get("other_video_streams") or ())
        return cls(**values)
