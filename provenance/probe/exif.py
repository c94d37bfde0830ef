"""Stage probe: still images, read with Pillow and exifread.

A file whose first bytes are a video container's goes to ffprobe without
Pillow ever opening it; anything Pillow opens in `IMAGE_FORMATS` is a
still. EXIF comes from exifread, or from Pillow's own reader where exifread
fails (HEIC through pillow-heif), named as exifread names it::

    >>> image_format(Path("photo.jpg"))
    'JPEG'
    >>> probe_image(Path("photo.jpg"), "JPEG").tags["Image Make"]
    'TestCam'
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from .exiftool import read_exiftool
from .facts import MediaFacts
from .tags import clean_tags, interpret, tag_text

#: Pillow formats accepted as still images. Everything else goes to ffprobe.
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "HEIF", "MPO"})
#: Largest still accepted, pixels (100 MP): a decompression-bomb guard; Pillow
#: itself warns above 89.5 MP and refuses twice that.
MAX_IMAGE_PIXELS = 100_000_000


#: Pillow formats that may hold an animation (GIF, WebP, APNG as "PNG"): checked as a video,
#: every frame at its own time, when they hold more than one frame.
ANIMATION_FORMATS = frozenset({"GIF", "WEBP", "PNG"})
#: Shortest frame delay honoured, ms: browsers show a GIF frame of 10 ms or less (or none) for
#: `DEFAULT_FRAME_MS` instead, so a copy plays as long as it does for the people who saw it.
MIN_FRAME_MS = 20
#: The delay of a frame whose own is below `MIN_FRAME_MS` (Firefox's and Chrome's rule), ms.
DEFAULT_FRAME_MS = 100
#: Most pixels decoded from one animation (frames x canvas): a decompression-bomb guard, about
#: 20-40 s of Pillow's decoding here; 2 minutes of 1080p at 10 frames/s is 2.5 G.
MAX_ANIMATION_PIXELS = 4_000_000_000
#: Pixels each frame counts for at least (a 256x256 frame), so tiny frames cannot make an animation of
#: millions of frames: at most ~61,000 frames (100 min at 10 frames/s) whatever the canvas.
MIN_FRAME_PIXELS = 65_536


def is_animation(facts: MediaFacts) -> bool:
    """Whether the facts are those of an animated image (GIF, WebP, APNG), checked as a video."""
    return facts.kind == "video" and facts.container.upper() in ANIMATION_FORMATS


def animation_timeline(img: Any, name: str = "") -> Iterator[tuple[float, float]]:
    """(start s, end s) of each frame of an open animated Pillow image, seeking it to that frame before yielding.

    Raises:
        BadInputError: more than `MAX_ANIMATION_PIXELS` pixels would be decoded.
        OSError, EOFError, ValueError: a frame cannot be read.
    """
    budget = MAX_ANIMATION_PIXELS
    clock = 0.0
    for index in range(int(getattr(img, "n_frames", 1))):
        img.seek(index)
        budget -= max(img.width * img.height, MIN_FRAME_PIXELS)
        if budget < 0:
            raise BadInputError(
                f"{name}: an animation of more than {MAX_ANIMATION_PIXELS} pixels (frame {index}, "
                f"{clock:.1f} s); refused as a decompression bomb"
            )
        ms = img.info.get("duration")
        delay = float(ms) if isinstance(ms, int | float) and ms >= MIN_FRAME_MS else DEFAULT_FRAME_MS
        yield clock, clock + delay / 1000.0
        clock += delay / 1000.0


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


def heif_without_reader(path: Path) -> bool:
    """Whether the file is a HEIF/AVIF still (its ``ftyp`` names an image brand) and pillow-heif is missing."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return False
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    size = min(int.from_bytes(head[:4], "big"), len(head))
    body = head[8:size]
    brands = {body[i : i + 4].decode("latin-1").lower() for i in range(0, len(body) - 3, 4)}
    return bool(brands & HEIF_BRANDS) and not _register_heif()


def image_format(path: Path) -> str | None:
    """The Pillow format name of a still image.

    Args:
        path: a local file.

    Returns:
        One of `IMAGE_FORMATS`, ``"BOMB"`` for an image Pillow refuses as a
        decompression bomb, or None when the file is not a still image.
    """
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


def probe_image(path: Path, fmt: str) -> MediaFacts:
    """Read the facts of a still image: size, EXIF tags, orientation, exiftool's tags.

    Args:
        path: the image file.
        fmt: its format, from `image_format`.

    Returns:
        The image's `MediaFacts` (kind ``"image"``), with dates and position parsed.

    Raises:
        BadInputError: the image is larger than `MAX_IMAGE_PIXELS`.
    """
    from PIL import Image

    if fmt == "BOMB":
        raise BadInputError(f"{path}: image larger than {MAX_IMAGE_PIXELS} pixels; refused")
    animated: tuple[int, float] | None = None
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
            if fmt in ANIMATION_FORMATS and getattr(img, "is_animated", False):
                animated = _animation_length(img, path)
    truncated: list[str] = []
    raw = read_exif(path)
    if not raw:
        # exifread cannot read every container (HEIC with pillow-heif among them): fall back on Pillow's reader
        raw = pillow_exif(pil_exif)
    tags = clean_tags(raw, "exif:", truncated)
    rotation = {3: 180.0, 6: 270.0, 8: 90.0}.get(orientation if isinstance(orientation, int) else 1, 0.0)
    if animated is not None:
        frames, seconds = animated
        # Checked as a video, every frame at its time; shown as stored (browsers ignore EXIF orientation here).
        return interpret(
            MediaFacts(
                path=str(path),
                kind="video",
                container=fmt.lower(),
                size_bytes=path.stat().st_size,
                duration_s=round(seconds, 3),
                width=width,
                height=height,
                fps=round(frames / seconds, 3) if seconds > 0 else None,
                video_codec=fmt.lower(),
                tags=tags,
                truncated_tags=tuple(truncated),
                exiftool_tags=clean_tags(read_exiftool(path), "exiftool:", truncated),
                video_stream=0,
            )
        )
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
        exiftool_tags=clean_tags(read_exiftool(path), "exiftool:", truncated),
    )
    return interpret(facts)


def _animation_length(img: Any, path: Path) -> tuple[int, float] | None:
    """(frames, seconds) of an animated image, or None when only its first frame reads (then it is a still)."""
    frames, seconds = 0, 0.0
    try:
        for _start, end in animation_timeline(img, str(path)):
            frames, seconds = frames + 1, end
    except (OSError, EOFError, ValueError):
        pass  # what played before the damage is the animation; sampling lists the rest as unreadable
    return (frames, seconds) if frames > 1 else None


def _quiet_logger(name: str) -> None:
    """Keep a library's log records off the terminal ("PNG file does not have exif data."), as a library should.

    A `logging.NullHandler` on its logger stops Python's last-resort handler
    printing them; an application that configures logging still gets them.
    """
    logger = logging.getLogger(name)
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def read_exif(path: Path) -> dict[str, str]:
    """EXIF tags of an image as strings, read with exifread.

    Args:
        path: the image file.

    Returns:
        Tag name (``Image Make``, ``EXIF DateTimeOriginal``, ...) -> value,
        thumbnails left out; empty when there are none or exifread fails.
    """
    import exifread

    _quiet_logger("exifread")
    try:
        with open(path, "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tags = exifread.process_file(handle, details=False)
    except Exception:  # noqa: BLE001 - exifread raises many kinds (AssertionError on HEIC) on hostile files
        return {}
    return {k: tag_text(v) for k, v in tags.items() if not k.startswith("Thumbnail") and k != "JPEGThumbnail"}


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
    """Pillow's EXIF as exifread would name it (``Image Make``, ``EXIF DateTimeOriginal``, ``GPS GPSLatitude``).

    Args:
        exif: ``Image.getexif()`` of an open image.

    Returns:
        Tag name -> value as text; what was read before damage is kept.
    """
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
