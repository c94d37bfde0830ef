"""Stage 2, probe: what a media file says about itself, as a frozen `MediaFacts`.

Videos are read with ffprobe (JSON); still images with Pillow and exifread::

    >>> facts = probe("samples/viral.mp4")
    >>> facts.kind, facts.width, facts.height, round(facts.duration_s, 1)
    ('video', 720, 1280, 8.0)
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import tools
from .errors import BadInputError

#: Pillow formats accepted as still images. Everything else goes to ffprobe.
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "HEIF", "MPO"})
#: Largest image accepted, in pixels (Pillow's decompression-bomb guard).
MAX_IMAGE_PIXELS = 100_000_000
#: Longest tag value kept; longer ones are cut and marked.
MAX_TAG_CHARS = 4096


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
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class MediaFacts:
    """What the file says about itself: container, size, timing and every tag.

    `kind` is ``"video"`` or ``"image"``. `width`/`height` are the stored frame
    size; `rotation` is the display rotation in degrees (counter-clockwise, as
    ffprobe's display matrix reports it). Tag values longer than
    `MAX_TAG_CHARS` are cut and listed in `truncated_tags`.
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

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as shown, after the display rotation."""
        if round(self.rotation) % 180 == 90:
            return self.height, self.width
        return self.width, self.height

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["streams"] = [s.to_dict() for s in self.streams]
        data["truncated_tags"] = list(self.truncated_tags)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaFacts:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["streams"] = tuple(StreamFacts.from_dict(s) for s in data.get("streams", ()))
        values["truncated_tags"] = tuple(data.get("truncated_tags", ()))
        return cls(**values)


def _clean_tags(raw: Any, prefix: str, truncated: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    if not isinstance(raw, dict):
        return out
    for key, value in raw.items():
        text = str(value)
        if len(text) > MAX_TAG_CHARS:
            truncated.append(prefix + str(key))
            text = text[:MAX_TAG_CHARS]
        out[str(key)[:256]] = text
    return out


def _rate(text: Any) -> float | None:
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    return float(value) if value > 0 else None


def _number(text: Any, kind: type = float) -> Any:
    try:
        value = kind(float(text)) if kind is int else kind(text)
    except (TypeError, ValueError, OverflowError):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rotation(stream: dict[str, Any]) -> float:
    for side in stream.get("side_data_list") or ():
        if isinstance(side, dict) and "rotation" in side:
            value = _number(side["rotation"])
            if value is not None:
                return float(value) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    value = _number(tag)
    # The legacy "rotate" tag is clockwise; the display matrix is counter-clockwise.
    return float(-value) % 360 if value is not None else 0.0


def facts_from_ffprobe(path: str, size_bytes: int, data: dict[str, Any]) -> MediaFacts:
    """Build `MediaFacts` from ffprobe's ``-show_format -show_streams`` JSON.

    Raises:
        BadInputError: when the JSON has no video stream with a frame size.
    """
    truncated: list[str] = []
    fmt = data.get("format") if isinstance(data.get("format"), dict) else {}
    streams: list[StreamFacts] = []
    covers: set[int] = set()  # cover art is stored as a one-frame "video" stream
    for i, raw in enumerate(data.get("streams") or ()):
        if not isinstance(raw, dict):
            continue
        disposition = raw.get("disposition") if isinstance(raw.get("disposition"), dict) else {}
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
    videos = [s for s in streams if s.codec_type == "video" and s.width and s.height and s.index not in covers]
    if not videos:
        kinds = ", ".join(sorted({s.codec_type for s in streams})) or "none"
        raise BadInputError(f"{path}: no video stream (streams found: {kinds}); give a video clip or a still image")
    video = videos[0]
    duration = _number(fmt.get("duration")) or video.duration_s or 0.0
    return MediaFacts(
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
        tags=_clean_tags(fmt.get("tags"), "format:", truncated),
        streams=tuple(streams),
        truncated_tags=tuple(truncated),
    )


def image_format(path: Path) -> str | None:
    """The Pillow format name of a still image, or None when it is not one."""
    from PIL import Image, UnidentifiedImageError

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
    with Image.open(path) as img:
        width, height = img.size
        if width * height > MAX_IMAGE_PIXELS:
            raise BadInputError(f"{path}: image of {width}x{height} is larger than {MAX_IMAGE_PIXELS} pixels; refused")
        orientation = img.getexif().get(0x0112, 1)
    truncated: list[str] = []
    tags = _clean_tags(read_exif(path), "exif:", truncated)
    rotation = {3: 180.0, 6: 270.0, 8: 90.0}.get(orientation if isinstance(orientation, int) else 1, 0.0)
    return MediaFacts(
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
    )


def read_exif(path: Path) -> dict[str, str]:
    """EXIF tags of an image as strings, read with exifread; empty when none."""
    import exifread

    try:
        with open(path, "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tags = exifread.process_file(handle, details=False)
    except Exception:  # noqa: BLE001 - exifread raises many kinds on hostile files
        return {}
    return {k: str(v) for k, v in tags.items() if not k.startswith("Thumbnail") and k != "JPEGThumbnail"}


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
    if result.returncode != 0:
        reason = _first_line(result.stderr) or "unknown error"
        raise BadInputError(
            f"{path}: not a video ffprobe can read ({reason}); check that the download finished and the file is a video"
        )
    try:
        data = json.loads(result.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{path}: ffprobe gave unreadable output; the file may be damaged") from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: ffprobe gave unreadable output; the file may be damaged")
    return facts_from_ffprobe(str(path), size, data)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            # ffprobe prefixes the resolved path; keep only the reason.
            return line.rsplit(": ", 1)[-1][:200]
    return ""
