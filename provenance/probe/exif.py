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

import warnings
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
    tags = clean_tags(raw, "exif:", truncated)
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
        exiftool_tags=clean_tags(read_exiftool(path), "exiftool:", truncated),
    )
    return interpret(facts)


def read_exif(path: Path) -> dict[str, str]:
    """EXIF tags of an image as strings, read with exifread.

    Args:
        path: the image file.

    Returns:
        Tag name (``Image Make``, ``EXIF DateTimeOriginal``, ...) -> value,
        thumbnails left out; empty when there are none or exifread fails.
    """
    import exifread

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
