"""The one-call pipeline: probe, sample, hash, match, decide, report.

>>> from provenance import check
>>> report = check("samples/viral.mp4", index="sqlite:///samples.sqlite")
>>> report.verdict.code
'footage_seen_before'
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from . import __version__, tools
from . import frames as frames_mod
from . import match as match_mod
from .hashing import ALGORITHM, MIN_FRAME_STD, VARIANT_FULL, VARIANT_MIRROR, hash_frames
from .index import Index, open_index
from .ingest import REF_FPS, sha256_of
from .probe import probe
from .report import InputFacts, Report
from .verdict import MIN_INFORMATIVE_FRAMES, decide

#: Frames per second sampled from a query clip: dense enough for a 3 s clip
#: and so that every reference frame (sampled at REF_FPS) has a query frame
#: within 1/8 s of it.
QUERY_FPS = 4.0


def thresholds() -> dict[str, float]:
    """Every named threshold a report depends on."""
    return {
        "match_threshold": match_mod.MATCH_THRESHOLD,
        "frame_match_distance": match_mod.FRAME_MATCH_DISTANCE,
        "candidate_distance": match_mod.CANDIDATE_DISTANCE,
        "min_matched_frames": match_mod.MIN_MATCHED_FRAMES,
        "min_frame_std": MIN_FRAME_STD,
        "min_informative_frames": MIN_INFORMATIVE_FRAMES,
        "query_fps": QUERY_FPS,
        "reference_fps": REF_FPS,
    }


def check(path: Path | str, index: Index | str | Path | None = None) -> Report:
    """Check a clip or still image against a reference index.

    Args:
        path: the clip.
        index: an open `Index`, or its URL/path (`open_index` default when None).

    Returns:
        The `Report`.

    Raises:
        BadInputError: the clip cannot be read or decoded at all.
        IndexUnavailableError: the index cannot be opened.
        ToolMissingError: ffmpeg/ffprobe are missing.
    """
    own = not isinstance(index, Index)
    idx = open_index(index) if own else index  # type: ignore[arg-type]
    assert isinstance(idx, Index)
    try:
        return _check(Path(path), idx)
    finally:
        if own:
            idx.close()


def _check(path: Path, idx: Index) -> Report:
    facts = probe(path)
    sha = sha256_of(path)
    sampled = frames_mod.extract_frames(path, fps=QUERY_FPS, facts=facts)
    hashes = hash_frames(sampled.times, sampled.images, variants=(VARIANT_FULL, VARIANT_MIRROR))
    informative = len(hashes.select(VARIANT_FULL))
    segments = match_mod.find_matches(
        hashes, idx, query_fps=sampled.fps or QUERY_FPS, query_duration_s=facts.duration_s
    )
    matches = tuple(s for s in segments if s.score >= match_mod.MATCH_THRESHOLD)
    candidates = tuple(s for s in segments if s.score < match_mod.MATCH_THRESHOLD)[:5]
    verdict = decide(matches, informative_frames=informative, is_image=facts.kind == "image")
    warnings = list(sampled.warnings) + [f"tag {t} was longer than the limit and was cut" for t in facts.truncated_tags]
    skipped = len(sampled) - informative
    if skipped:
        warnings.append(f"{skipped} of {len(sampled)} sampled frames were too flat (black, blank) to compare")
    disp_w, disp_h = facts.display_size
    return Report(
        input=InputFacts(
            path=str(path),
            sha256=sha,
            kind=facts.kind,
            duration_s=round(facts.duration_s, 3),
            width=disp_w,
            height=disp_h,
            fps=facts.fps,
            frames_sampled=len(sampled),
            frames_informative=informative,
            sample_fps=sampled.fps,
            unreadable=sampled.unreadable,
        ),
        matches=matches,
        candidates=candidates,
        verdict=verdict,
        tool={
            "name": "provenance",
            "version": __version__,
            "ffmpeg_version": tools.ffmpeg_version(),
            "hash_algorithm": ALGORITHM,
            "thresholds": thresholds(),
        },
        index=idx.identity(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        warnings=tuple(warnings),
        metadata={"probe": facts.to_dict()},
    )
