"""Stage pipeline: `check()`, a short sequence of stage calls over one `Query`.

Build the query (`query.build_query`: facts, samples, layout, hashes, read
once), match its hashes against the index, diagnose each segment, show the
evidence frames, inspect the metadata, decide the verdict, write the report::

    >>> from provenance import check
    >>> claim = build_claim(file="samples/claim.yml")      # provenance.claims
    >>> report = check("samples/viral.mp4", index="sqlite:///samples.sqlite", claim=claim)
    >>> report.verdict.code, [f.code for f in report.findings][:2]
    ('footage_predates_claim', ['reencoded_by_ffmpeg', 'metadata_stripped'])
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import __version__
from . import audio as audio_mod
from . import diagnose as diagnose_mod
from . import hashing as hashing_mod
from . import layout as layout_mod
from . import match as match_mod
from . import metadata as metadata_mod
from . import shots as shots_mod
from . import verdict as verdict_mod
from . import verify as verify_mod
from .audio import SoundPrint, SoundStatus
from .claims import Claim
from .claims import places as places_mod
from .decode import Decoder, choose_decoder
from .diagnose import diagnose_match, with_frame_evidence
from .evidence import THUMB_LONG_SIDE, Keyframes, make_keyframes, reference_window
from .hashing import ALGORITHM
from .index import Index, Reference, open_index
from .match import Alignment, MatchSegment
from .metadata import Finding, first_seen_days, inspect
from .query import MAX_QUERY_DURATION_S, QUERY_FPS, REF_FPS, Query, Role, build_query
from .query import QUERY_DECODING as QUERY_DECODING
from .relation import Relation
from .report import InputFacts, Report
from .shots import shot_keyframes
from .verdict import Verdict, decide

#: The thresholds reports carried before they were recorded by stage, under their old flat names
#: (the name in its stage's `THRESHOLDS`): they stay first in `tool.thresholds`, unprefixed.
HEADLINE_THRESHOLDS = (
    ("match_threshold", "match"),
    ("frame_match_distance", "match"),
    ("candidate_distance", "match"),
    ("min_matched_frames", "match"),
    ("min_frame_std", "hashing"),
    ("min_informative_frames", "verdict"),
    ("query_fps", "sampling"),
    ("reference_fps", "sampling"),
)


def thresholds_by_stage() -> dict[str, dict[str, float]]:
    """Every threshold a decision of `check` uses, by stage in pipeline order (each stage's `THRESHOLDS`).

    Returns:
        {stage: {name: value}}; names are the constants' names in lower case, with a
        unit or an end where the constant is a time span or a pair (docs/report.md).
    """
    sampling = {"query_fps": QUERY_FPS, "reference_fps": REF_FPS, "max_query_duration_s": MAX_QUERY_DURATION_S}
    return {
        "sampling": sampling,
        "audio": dict(audio_mod.THRESHOLDS),
        "hashing": dict(hashing_mod.THRESHOLDS),
        "layout": dict(layout_mod.THRESHOLDS),
        "shots": dict(shots_mod.THRESHOLDS),
        "match": dict(match_mod.THRESHOLDS),
        "verify": dict(verify_mod.THRESHOLDS),
        "diagnose": dict(diagnose_mod.THRESHOLDS),
        "claims": dict(places_mod.THRESHOLDS),
        "metadata": dict(metadata_mod.THRESHOLDS),
        "verdict": dict(verdict_mod.THRESHOLDS),
    }


def thresholds() -> dict[str, float]:
    """Every threshold a report depends on, as the report's flat `tool.thresholds` records them.

    Returns:
        The `HEADLINE_THRESHOLDS` under their old names first, then every
        threshold of `thresholds_by_stage` as ``"stage.name"``.
    """
    by_stage = thresholds_by_stage()
    flat = {name: by_stage[stage][name] for name, stage in HEADLINE_THRESHOLDS}
    flat.update((f"{stage}.{name}", value) for stage, values in by_stage.items() for name, value in values.items())
    return flat


def check(
    path: Path | str,
    index: Index | str | Path | None = None,
    claim: Claim | None = None,
    *,
    keyframes: bool = True,
) -> Report:
    """Check a clip or still image against a reference index.

    Args:
        path: the clip.
        index: an open `Index`, or its URL/path (`open_index` default when None).
        claim: what the clip is said to show (`provenance.claims.build_claim`);
            the verdict dates matches against its date and the metadata findings
            compare the file's tags with its date and place.
        keyframes: put thumbnails of the clip and of each match's aligned
            frames in the report (for the HTML and Markdown forms; costs a few
            ffmpeg seeks per match, so speed benchmarks turn it off).

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
        return _check(Path(path), idx, keyframes=keyframes, claim=claim)
    finally:
        if own:
            idx.close()


def _check(path: Path, idx: Index, *, keyframes: bool = True, claim: Claim | None = None) -> Report:
    decoder = choose_decoder()
    query = build_query(path, role=Role.QUERY, decoder=decoder, keyframes=THUMB_LONG_SIDE if keyframes else None)
    segments = _diagnosed(query, _verified(query, _found(query, idx), decoder))
    matches = tuple(s for s in segments if s.score >= match_mod.MATCH_THRESHOLD)
    candidates = tuple(s for s in segments if s.score < match_mod.MATCH_THRESHOLD)[:5]
    thumbs = _evidence_frames(query, matches, decoder) if keyframes and not query.is_audio else None
    if thumbs is not None:
        matches = _with_frame_evidence(query, matches, thumbs)
    matches, heard = _with_sound(query, idx, matches)
    candidates += tuple(s for s in heard if s.score < match_mod.MATCH_THRESHOLD)[: max(0, 5 - len(candidates))]
    first_seen = first_seen_days(
        (m.reference.source.first_seen, m.reference.id) for m in matches if m.relation != Relation.SAME_SCENE
    )
    findings = inspect(query.facts, claim=claim, first_seen=first_seen, credentials=query.credentials)
    verdict = decide(
        matches,
        informative_frames=query.informative_frames,
        is_image=query.is_image,
        claim=claim,
        findings=findings,
        sound_items=query.sound.usable if query.sound is not None else 0,
    )
    return _report(query, idx, matches, candidates, verdict, findings, thumbs, claim)


def _found(query: Query, idx: Index) -> list[Alignment]:
    """Stage match: the query's hashes aligned with the index's references, as segments."""
    return match_mod.find_matches(
        query.hashes,
        idx,
        query_fps=query.frames.fps or QUERY_FPS,
        query_duration_s=query.facts.duration_s,
        query_is_image=query.is_image,
    )


def _verified(query: Query, found: Sequence[Alignment], decoder: Decoder) -> list[Alignment]:
    """Stage verify: whether each match shows the same moment of its reference or only the same place.

    Segments below the match threshold are candidates only and are not verified.
    """

    def frames_of(ref: Reference, start_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray] | None:
        return reference_window(
            decoder, ref, start_s, end_s, fps=verify_mod.REFERENCE_FPS, long_side=verify_mod.VIEW_LONG_SIDE
        )

    return [
        verify_mod.verify_alignment(a, query, frames_of) if a.segment.score >= match_mod.MATCH_THRESHOLD else a
        for a in found
    ]


def _diagnosed(query: Query, found: Sequence[Alignment]) -> list[MatchSegment]:
    """Stage diagnose: how each segment's copy differs from its reference, and its score."""
    facts, layout = query.facts, query.layout
    assert layout is not None  # a query always has its layout looked for
    return [
        diagnose_match(
            a,
            query_duration_s=facts.duration_s,
            content_box=layout.content_box,
            inner_rect=layout.inner_rect,
            query_fps=facts.fps if facts.kind == "video" else None,
            query_size=facts.display_size,
        )
        for a in found
    ]


def _with_sound(
    query: Query, idx: Index, matches: tuple[MatchSegment, ...]
) -> tuple[tuple[MatchSegment, ...], tuple[MatchSegment, ...]]:
    """Stage audio over the matches: each picture match's sound against its reference's, then the sound alone.

    Returns:
        (the matches, each with its sound compared, followed by the sound-only
        matches; the sound-only segments found, of any score). A sound-only
        segment of a reference already matched by the picture at about the
        same offset adds nothing: that match's sound channel says it.
    """
    sound = query.sound
    stored: dict[int, SoundPrint | None] = {}

    def sound_of(ref_id: int) -> SoundPrint | None:
        if ref_id not in stored:
            stored[ref_id] = idx.sound(ref_id)
        return stored[ref_id]

    found = match_mod.find_sound_matches(sound, idx)
    heard = [
        diagnose_mod.sound_segment(f, query_duration_s=query.facts.duration_s)
        for f in found
        if not any(
            m.reference.id == f.reference.id and abs(m.offset_s - f.alignment.offset_s) <= match_mod.SOUND_SAME_OFFSET_S
            for m in matches
        )
    ]
    # The reference's sound heard at another moment than the picture's: the sound was not replaced,
    # one of the two offsets is wrong (a static or self-similar picture), so nothing is said of it.
    elsewhere = {s.reference.id for s in heard if s.score >= match_mod.MATCH_THRESHOLD}
    compared = tuple(
        diagnose_mod.with_sound_evidence(
            m,
            sound,
            sound_of(m.reference.id),
            heard_elsewhere=m.reference.id in elsewhere,
            at_speed=_sound_at_speed(query, m) if sound_of(m.reference.id) is not None else (),
        )
        for m in matches
    )
    # A reference whose sound a picture match already heard (agreeing, or under other sound) needs no
    # second, sound-only segment (at another speed or offset, it would only be a distorted echo of it).
    explained = {
        m.reference.id
        for m in compared
        for c in m.channels
        if c.channel == match_mod.Channel.AUDIO
        and c.verdict in (match_mod.SoundVerdict.AGREES, match_mod.SoundVerdict.OVERLAID)
    }
    heard = [s for s in heard if s.reference.id not in explained]
    return compared + tuple(s for s in heard if s.score >= match_mod.MATCH_THRESHOLD), tuple(heard)


def _sound_at_speed(query: Query, m: MatchSegment) -> tuple[SoundPrint, ...]:
    """For a picture match whose speed changed, the clip's sound stretched back to the reference's time.

    Both ways a copy is sped up are tried (the tempo alone, or tempo and pitch
    together, `audio.Resampling`); none when the speed is 1 or negative, or the
    clip has no sound to stretch.
    """
    sound = query.sound
    speed = m.speed
    if sound is None or sound.usable == 0 or abs(speed - 1.0) <= 0.02 or not 0.25 <= speed <= 4.0:
        return ()
    # The pitch moves with a rate change, so the picture's speed (within about 1%) is refined for it.
    tries = [(speed, audio_mod.Resampling.TEMPO)]
    tries += [(speed * (1 + step), audio_mod.Resampling.RATE) for step in audio_mod.RATE_REFINE_STEPS]
    return tuple(
        audio_mod.fingerprint_sound(query.path, query.facts, max_s=MAX_QUERY_DURATION_S, speed=s, resampling=way)
        for s, way in tries
        if 0.25 <= s <= 4.0
    )


def _evidence_frames(query: Query, matches: Sequence[MatchSegment], decoder: Decoder) -> Keyframes:
    """Stage evidence frames: the clip's shots and each match's aligned frame pairs, as thumbnails."""
    shots = [k.t for k in shot_keyframes(query.frames)]
    return make_keyframes(query.path, query.facts, shots, matches, decoder=decoder, sampled=query.frames)


def _with_frame_evidence(
    query: Query, matches: tuple[MatchSegment, ...], thumbs: Keyframes
) -> tuple[MatchSegment, ...]:
    """The aligned frame pairs are evidence too: colour, overlays, blur, the measured crop."""
    layout = query.layout
    assert layout is not None
    return tuple(
        with_frame_evidence(m, thumbs.for_match(i), layout.content_box, layout.inner_rect)
        for i, m in enumerate(matches)
    )


def _report(
    query: Query,
    idx: Index,
    matches: tuple[MatchSegment, ...],
    candidates: tuple[MatchSegment, ...],
    verdict: Verdict,
    findings: tuple[Finding, ...],
    thumbs: Keyframes | None,
    claim: Claim | None,
) -> Report:
    """Stage report: the frozen `Report` of a checked query."""
    facts, sampled = query.facts, query.frames
    disp_w, disp_h = facts.display_size
    warnings = list(query.warnings) + (list(thumbs.notes) if thumbs is not None else [])
    if query.is_audio:
        warnings.append("the input is a sound file: the picture channel did not apply, it was matched by sound only")
    elif query.sound is not None and query.sound.status == SoundStatus.FPCALC_MISSING:
        warnings.append(f"sound: {query.sound.note}; the picture alone was checked")
    return Report(
        input=InputFacts(
            path=str(query.path),
            sha256=query.sha256,
            kind=facts.kind,
            duration_s=round(facts.duration_s, 3),
            width=disp_w,
            height=disp_h,
            fps=facts.fps,
            frames_sampled=len(sampled),
            frames_informative=query.informative_frames,
            sample_fps=sampled.fps,
            unreadable=query.unreadable,
            sound=_sound_facts(query.sound),
        ),
        matches=matches,
        candidates=candidates,
        verdict=verdict,
        tool={
            "name": "provenance",
            "version": __version__,
            "ffmpeg_version": query.ffmpeg_version,
            "decoder": query.decoder,
            "hash_algorithm": ALGORITHM,
            "thresholds": thresholds(),
        },
        index=idx.identity(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        warnings=tuple(warnings),
        metadata={"probe": facts.to_dict()},
        keyframes=thumbs,
        claim=claim,
        findings=findings,
    )


def _sound_facts(sound: SoundPrint | None) -> dict[str, object] | None:
    """What the report says of the input's sound track (None for a still image)."""
    if sound is None:
        return None
    return {
        "status": str(sound.status),
        "items": len(sound),
        "loud_items": sound.usable,
        "item_step_s": round(sound.step_s, 6),
        "duration_s": round(sound.duration_s, 3),
        "note": sound.note,
    }
