"""Stage probe: the MP4/QuickTime box reader (edit lists, the encoder inside the bitstream).

ffprobe does not report edit lists as written nor the encoder's own
signature, so these few boxes are read directly, within fixed bounds, and
damage ends the reading quietly (what was read is kept)::

    >>> read_edit_lists(Path("cut.mp4"))
    (EditEntry(track_id=1, handler='vide', duration_s=4.0, media_time_s=1.0, rate=1.0),)
    >>> read_bitstream_encoder(Path("samples/viral.mp4"))
    'x264 core 164'
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

from .facts import EditEntry

#: Largest MP4 ``moov`` box parsed for edit lists, bytes (64 MiB): bounds what
#: a hostile file can make the reader allocate; a larger one yields no edits.
MAX_MOOV_BYTES = 64 << 20
#: Bytes read from the start of the file and of the ``mdat`` box (2 MiB) when
#: looking for the encoder's signature, which x264/x265 write in the first frame.
BITSTREAM_SCAN_BYTES = 2 << 20


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
    """The edit lists of an MP4/QuickTime file's tracks.

    Args:
        path: a local file.

    Returns:
        At most 100 entries; empty for other files, a ``moov`` box larger than
        `MAX_MOOV_BYTES`, or damage (entries read before damage are kept).
    """
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

    Args:
        path: a local file.

    Returns:
        ``x264 core N``, ``x265 build N`` or ``LavcX.Y.Z``, or None when none is
        found or the file cannot be read.
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
