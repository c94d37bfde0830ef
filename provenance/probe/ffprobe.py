"""Stage probe: a video's container, streams and tags, from ffprobe's JSON.

ffprobe runs through `provenance.tools` (confined to the one file, with a
time limit); its ``-show_format -show_streams`` JSON becomes `MediaFacts`,
every number read defensively (a hostile file's JSON may say anything)::

    >>> facts = read_video(Path("samples/viral.mp4"), 1234, "samples/viral.mp4")
    >>> facts.kind, facts.video_codec, facts.tags["encoder"]
    ('video', 'h264', 'Lavf59.27.100')
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import tools
from ..errors import BadInputError
from .facts import MediaFacts, StreamFacts
from .tags import clean_tags, interpret


def read_video(file: Path, size_bytes: int, path: str) -> MediaFacts:
    """Run ffprobe on a video file and read its JSON into `MediaFacts`.

    Only what ffprobe says: edit lists, the bitstream signature and
    exiftool's tags are added by `provenance.probe.probe`.

    Args:
        file: the file to probe.
        size_bytes: its size.
        path: the path as the caller gave it (in messages and `MediaFacts.path`).

    Returns:
        The facts ffprobe's JSON gives, with dates and position parsed.

    Raises:
        BadInputError: a refused format (playlists, concat lists), a file
            ffprobe cannot read, unreadable JSON, or no usable video stream.
        ToolMissingError: ffprobe is missing.
    """
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
    return facts_from_ffprobe(path, size_bytes, data)


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


def _seconds(text: Any) -> float | None:
    """A duration ffprobe printed: a finite number of seconds above zero, else None (unknown)."""
    value = _number(text)
    return value if value is not None and value > 0 else None


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

    Args:
        path: the file's path, as shown in messages and kept in the facts.
        size_bytes: the file's size.
        data: ffprobe's parsed JSON (anything: numbers are read defensively).

    Returns:
        The facts, with dates, position and malformed tags interpreted.

    Raises:
        BadInputError: when the JSON has no video stream with a frame size.
    """
    truncated: list[str] = []
    fmt: dict[str, Any] = data["format"] if isinstance(data.get("format"), dict) else {}
    streams: list[StreamFacts] = []
    covers: set[int] = set()  # cover art is stored as a one-frame "video" stream
    defaults: set[int] = set()  # streams the container marks default
    raw_streams = data.get("streams")
    for i, raw in enumerate(raw_streams if isinstance(raw_streams, list) else ()):
        if not isinstance(raw, dict):
            continue
        disposition: dict[str, Any] = raw["disposition"] if isinstance(raw.get("disposition"), dict) else {}
        if disposition.get("attached_pic") == 1:
            covers.add(_number(raw.get("index"), int) if raw.get("index") is not None else i)
        if disposition.get("default") == 1:
            defaults.add(_number(raw.get("index"), int) if raw.get("index") is not None else i)
        streams.append(
            StreamFacts(
                index=_number(raw.get("index"), int) if raw.get("index") is not None else i,
                codec_type=str(raw.get("codec_type", "unknown")),
                codec_name=str(raw.get("codec_name", "unknown")),
                width=_number(raw.get("width"), int),
                height=_number(raw.get("height"), int),
                fps=_rate(raw.get("avg_frame_rate")) or _rate(raw.get("r_frame_rate")),
                duration_s=_seconds(raw.get("duration")),
                bit_rate=_number(raw.get("bit_rate"), int),
                frames=_number(raw.get("nb_frames"), int),
                rotation=_rotation(raw),
                tags=clean_tags(raw.get("tags"), f"stream{i}:", truncated),
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
        sounds = [s for s in streams if s.codec_type == "audio"]
        if sounds:  # a sound file (.m4a, .mp3, .wav, .ogg, ...; an MP3's cover art is not a picture to match)
            return _audio_facts(path, size_bytes, fmt, sounds[0], streams, truncated)
        kinds = ", ".join(sorted({s.codec_type for s in streams})) or "none"
        raise BadInputError(
            f"{path}: no video or audio stream (streams found: {kinds}); give a video clip, a sound file or a still image"
        )
    # The stream examined: the one marked default, else the first (as the libav worker chooses,
    # decode.protocol.choose_video_stream); the others are named in a warning when sampled.
    video = next((v for v in videos if v.index in defaults), videos[0])
    duration = _seconds(fmt.get("duration")) or video.duration_s or 0.0
    tags = clean_tags(fmt.get("tags"), "format:", truncated)
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
        video_stream=video.index,
        other_video_streams=tuple(v.index for v in videos if v.index != video.index),
    )
    return interpret(facts)


def _audio_facts(
    path: str,
    size_bytes: int,
    fmt: dict[str, Any],
    sound: StreamFacts,
    streams: list[StreamFacts],
    truncated: list[str],
) -> MediaFacts:
    """The facts of a file whose only medium is sound (`MediaFacts.kind` ``"audio"``, no picture)."""
    duration = _seconds(fmt.get("duration")) or sound.duration_s or 0.0
    facts = MediaFacts(
        path=path,
        kind="audio",
        container=str(fmt.get("format_name", "unknown")),
        size_bytes=size_bytes,
        duration_s=float(duration),
        width=0,
        height=0,
        fps=None,
        video_codec="none",
        bit_rate=_number(fmt.get("bit_rate"), int),
        tags=clean_tags(fmt.get("tags"), "format:", truncated),
        streams=tuple(streams),
        truncated_tags=tuple(truncated),
    )
    return interpret(facts)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            # ffprobe prefixes the resolved path and "[demuxer @ 0xADDRESS]"; keep only the reason.
            line = re.sub(r"\[[^\]]* @ 0x[0-9a-fA-F]+\]\s*", "", line)
            return line.rsplit(": ", 1)[-1][:200]
    return ""
