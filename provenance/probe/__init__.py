"""Stage probe: what a media file says about itself, as a frozen `MediaFacts`.

Videos are read with ffprobe (JSON), or, where the libav decoder worker has
the file open anyway, from its reading of the container in ffprobe's shape
(`probe_reading`: a check then starts no ffprobe); still images with Pillow and exifread
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

The rooms: `facts` (the records), `tags` (tag names, bounds and what the
values mean), `ffprobe` (videos), `mp4` (the box reader: edit lists, the
bitstream's encoder), `exif` (still images), `exiftool` (optional extra tags).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import BadInputError, ToolMissingError
from .exif import (
    ANIMATION_FORMATS,
    HEIF_BRANDS,
    IMAGE_FORMATS,
    MAX_ANIMATION_PIXELS,
    MAX_IMAGE_PIXELS,
    animation_timeline,
    heif_without_reader,
    image_format,
    is_animation,
    pillow_exif,
    probe_image,
    read_exif,
)
from .exiftool import EXIFTOOL_ENV, EXIFTOOL_TIMEOUT_S, exiftool_path, read_exiftool
from .facts import EditEntry, GeoPoint, MediaFacts, StreamFacts, TagDate
from .ffprobe import facts_from_ffprobe, read_video
from .mp4 import BITSTREAM_SCAN_BYTES, MAX_MOOV_BYTES, read_bitstream_encoder, read_edit_lists
from .tags import (
    DATE_TAGS,
    LOCATION_TAGS,
    MAKE_TAGS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MODEL_TAGS,
    SOFTWARE_TAGS,
    clean_tags,
    interpret,
    parse_datetime,
    parse_exif_gps,
    parse_iso6709,
    parse_offset,
)


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
        return probe_image(file, fmt)
    if heif_without_reader(file):
        raise ToolMissingError(
            f"{path}: a HEIC/HEIF image, which needs the optional HEIF reader; "
            "install it with pip install 'provenance[heic]' (pillow-heif)"
        )
    return _completed(file, read_video(file, size, str(path)))


def probe_reading(path: Path | str, reading: dict[str, Any]) -> MediaFacts:
    """A video's facts from a decoder's own reading of its container, instead of running ffprobe.

    The libav worker (`provenance.decode.libav`) has the file open to decode it
    and gives its container's format, streams and tags in ffprobe's JSON shape
    (``-show_format -show_streams``); they are read as ffprobe's are
    (`facts_from_ffprobe`), and what `probe` adds to ffprobe's (edit lists, the
    bitstream's encoder, exiftool's tags) is added the same way. ffprobe's start
    alone cost 0.05-0.08 CPU s a clip, a sixth of a typical check. The display
    rotation, which libav gives only with a decoded frame, is the caller's to set.

    Args:
        path: the file the reading is of (a regular file the caller opened).
        reading: the decoder's reading (anything: read as defensively as ffprobe's JSON).

    Returns:
        The file's `MediaFacts`.

    Raises:
        BadInputError: the reading shows no usable video or sound stream, or the file cannot be read.
    """
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise BadInputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    return _completed(file, facts_from_ffprobe(str(path), size, reading))


def _completed(file: Path, facts: MediaFacts) -> MediaFacts:
    """ffprobe's facts of a video with what only the file gives: edit lists, the bitstream's encoder, exiftool's tags."""
    truncated = list(facts.truncated_tags)
    extra = clean_tags(read_exiftool(file), "exiftool:", truncated)
    facts = replace(
        facts,
        edits=read_edit_lists(file),
        bitstream_encoder=read_bitstream_encoder(file),
        exiftool_tags=extra,
        truncated_tags=tuple(truncated),
    )
    return interpret(facts) if extra else facts


__all__ = [
    "ANIMATION_FORMATS",
    "MAX_ANIMATION_PIXELS",
    "animation_timeline",
    "is_animation",
    "BITSTREAM_SCAN_BYTES",
    "DATE_TAGS",
    "EXIFTOOL_ENV",
    "EXIFTOOL_TIMEOUT_S",
    "HEIF_BRANDS",
    "IMAGE_FORMATS",
    "LOCATION_TAGS",
    "MAKE_TAGS",
    "MAX_IMAGE_PIXELS",
    "MAX_MOOV_BYTES",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
    "MODEL_TAGS",
    "SOFTWARE_TAGS",
    "EditEntry",
    "GeoPoint",
    "MediaFacts",
    "StreamFacts",
    "TagDate",
    "exiftool_path",
    "facts_from_ffprobe",
    "image_format",
    "interpret",
    "parse_datetime",
    "parse_exif_gps",
    "parse_iso6709",
    "parse_offset",
    "pillow_exif",
    "probe",
    "probe_reading",
    "read_bitstream_encoder",
    "read_edit_lists",
    "read_exif",
    "read_exiftool",
]
