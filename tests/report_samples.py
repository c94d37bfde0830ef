"""Reports built in memory for the renderer tests: no ffmpeg, no index, no media.

`make_report` gives a complete `Report` with one match (or several), real
JPEG thumbnails drawn with Pillow, and every text field overridable, so a
test can put a hostile string exactly where it wants.
"""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from typing import Any

from provenance.evidence import FramePair, Keyframes, MatchFrames, Thumbnail
from provenance.index import Reference, SourceFacts
from provenance.match import MatchSegment
from provenance.report import InputFacts, Report, Verdict

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def jpeg_thumb(t: float, colour: tuple[int, int, int] = (200, 60, 40), size: tuple[int, int] = (160, 90)) -> Thumbnail:
    """A small real JPEG of one colour with a white bar (so it is not flat)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, colour)
    ImageDraw.Draw(img).rectangle((10, 10, size[0] // 2, 20), fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return Thumbnail(t, size[0], size[1], base64.b64encode(buf.getvalue()).decode())


def make_reference(ref_id: int = 3, **source: Any) -> Reference:
    facts = {
        "source_url": "https://archive.example.org/watch/street-2021-0912",
        "publisher": "Example Street Footage Archive",
        "title": "City traffic, taxi and cyclists",
        "first_seen": "2021-09-12",
        "licence": "BSD",
        "notes": None,
    }
    facts.update(source)
    return Reference(
        id=ref_id,
        sha256="e" * 64,
        path=f"/archive/refs/ref{ref_id}.mp4",
        kind="video",
        duration_s=10.0,
        width=640,
        height=272,
        fps=25.0,
        size_bytes=297815,
        sample_fps=2.0,
        frames=20,
        added_at="2026-01-01T00:00:00+00:00",
        source=SourceFacts(**facts),
    )


def make_match(ref: Reference | None = None, *, q0: float = 2.0, q1: float = 7.0, **extra: Any) -> MatchSegment:
    ref = ref or make_reference()
    values: dict[str, Any] = {
        "reference": ref,
        "score": 0.82,
        "query_start_s": q0,
        "query_end_s": q1,
        "reference_start_s": q0 + 1.0,
        "reference_end_s": q1 + 1.0,
        "offset_s": 1.0,
        "speed": 1.0,
        "mirrored": False,
        "frames_matched": 18,
        "frames_total": 20,
        "mean_distance": 4.2,
        "pairs": tuple((q0 + 0.5 * i, q0 + 1.0 + 0.5 * i, 4) for i in range(int((q1 - q0) * 2))),
    }
    fields = MatchSegment.__dataclass_fields__
    values.update({k: v for k, v in extra.items() if k in fields})
    return MatchSegment(**values)


def keyframes_for(matches: tuple[MatchSegment, ...], *, status: str = "ok", note: str | None = None) -> Keyframes:
    shots = (jpeg_thumb(0.0, (30, 90, 160)), jpeg_thumb(3.0, (40, 140, 60)))
    per_match = []
    for i, m in enumerate(matches):
        pairs = tuple(
            FramePair(
                q,
                r,
                4,
                jpeg_thumb(q),
                jpeg_thumb(r, (60, 60, 200)) if status == "ok" else None,
            )
            for q, r, _ in m.pairs[:3]
        )
        per_match.append(MatchFrames(i, m.reference.id, status, pairs, note))
    return Keyframes(shots, tuple(per_match), notes=(note,) if note else ())


def make_report(
    matches: tuple[MatchSegment, ...] | None = None,
    *,
    verdict: Verdict | None = None,
    keyframes: Keyframes | None | str = "auto",
    **fields: Any,
) -> Report:
    """A complete report; `keyframes="auto"` draws thumbnails for every match."""
    matches = (make_match(),) if matches is None else matches
    report = Report(
        input=InputFacts(
            path="/cases/viral.mp4",
            sha256="78ff" + "0" * 60,
            kind="video",
            duration_s=8.0,
            width=640,
            height=270,
            fps=25.0,
            frames_sampled=32,
            frames_informative=30,
            sample_fps=4.0,
        ),
        matches=matches,
        candidates=(),
        verdict=verdict
        or (
            Verdict(
                "footage_seen_before",
                "The clip reuses footage already in the index.",
                ("query 2.0-7.0 s matches reference #3 'City traffic' 3.0-8.0 s",),
            )
            if matches
            else Verdict("no_prior_match_in_index", "No footage in this index matches the clip.", ())
        ),
        tool={
            "name": "provenance",
            "version": "0.1.0",
            "ffmpeg_version": "5.1.9",
            "hash_algorithm": "phash64",
            "thresholds": {"match_threshold": 0.5, "frame_match_distance": 12},
        },
        index={"backend": "sqlite", "index_id": "abc", "references": 4, "hashes": 320, "schema_version": 1},
        created_at="2026-11-29T12:00:00+00:00",
        metadata={"probe": {"tags": {"encoder": "Lavf59.27.100"}, "video_codec": "h264"}},
        keyframes=keyframes_for(matches) if keyframes == "auto" else keyframes,  # type: ignore[arg-type]
    )
    known = {k: v for k, v in fields.items() if k in Report.__dataclass_fields__}
    return replace(report, **known) if known else report
