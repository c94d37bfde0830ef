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

import math
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import __version__
from . import audio as audio_mod
from . import camera as camera_mod
from . import diagnose as diagnose_mod
from . import features as features_mod
from . import hashing as hashing_mod
from . import layout as layout_mod
from . import match as match_mod
from . import metadata as metadata_mod
from . import shots as shots_mod
from . import text as text_mod
from . import verdict as verdict_mod
from . import verify as verify_mod
from .alteration import AlterationCode
from .audio import SoundPrint, SoundStatus
from .claims import Claim
from .claims import places as places_mod
from .decode import Decoder, choose_decoder
from .diagnose import diagnose_match, with_frame_evidence
from .errors import ToolMissingError
from .evidence import (
    REFERENCE_OK,
    THUMB_LONG_SIDE,
    KeptFrames,
    Keyframes,
    aligned_times,
    grab_frames,
    make_keyframes,
    reference_state,
    reference_window,
)
from .hashing import ALGORITHM, FrameHashes, Rect, area
from .index import Index, Reference, open_index
from .match import Alignment, Channel, MatchSegment, SpeedUntold
from .metadata import Finding, first_seen_days, inspect
from .query import (
    MAX_QUERY_DURATION_S,
    QUERY_FPS,
    REF_FPS,
    Query,
    Role,
    build_query,
    features_of,
    sample_for_features,
)
from .query import QUERY_DECODING as QUERY_DECODING
from .relation import Relation, Verification
from .report import InputFacts, Report
from .shots import find_shots
from .text import TextReading, TextStatus
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

#: The stages `check` reports as done through `on_stage`, in order (the service's progress, docs/service.md).
CHECK_STAGES = ("query", "match", "verify", "diagnose", "evidence", "text", "metadata", "verdict", "report")


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
        "text": dict(text_mod.THRESHOLDS),
        "features": dict(features_mod.THRESHOLDS),
        "camera": dict(camera_mod.THRESHOLDS),
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
    on_stage: Callable[[str], None] | None = None,
    text: bool = True,
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
        on_stage: called with each name of `CHECK_STAGES` as that stage is done
            (the service's progress); never with anything else.
        text: read the words burned into the picture (`provenance.text`; the
            CLI's ``--no-text`` turns it off). Without Tesseract the report
            says the stage was unavailable and the check goes on.

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
        return _check(Path(path), idx, keyframes=keyframes, claim=claim, on_stage=on_stage or _no_stage, text=text)
    finally:
        if own:
            idx.close()


def _no_stage(stage: str) -> None:
    """The `on_stage` of a check nobody follows."""


def _check(
    path: Path,
    idx: Index,
    *,
    keyframes: bool = True,
    claim: Claim | None = None,
    on_stage: Callable[[str], None] = _no_stage,
    text: bool = True,
) -> Report:
    decoder = choose_decoder()
    query = build_query(
        path, role=Role.QUERY, decoder=decoder, keyframes=THUMB_LONG_SIDE if keyframes else None, text=text
    )
    on_stage("query")
    # The text stage reads on a side thread while the clip is matched: its frames come from the
    # decoder's worker process and Tesseract releases the GIL, so the two overlap on two cores.
    with ThreadPoolExecutor(max_workers=1) as side:
        reading_job = side.submit(_read_text, query, decoder) if text and not query.is_audio else None
        found = _found(query, idx)
        query, found, channels = _with_features(query, idx, found, decoder)
        on_stage("match")
        kept = KeptFrames(report=keyframes and not query.is_audio)
        verified = _verified(query, found, decoder, idx, kept=kept)
        verified = match_mod.timed_by_hashes(verified + _elsewhere(query, idx, verified, decoder, kept))
        on_stage("verify")
        segments = _diagnosed(query, verified, idx)
        on_stage("diagnose")
        # The same footage first: a match of the same scene is evidence of place, never of reuse.
        matches = tuple(
            match_mod.one_place_each(
                sorted((s for s in segments if s.score >= match_mod.MATCH_THRESHOLD), key=_scene_after_footage)
            )
        )
        candidates = tuple(s for s in segments if s.score < match_mod.MATCH_THRESHOLD)[:5]
        thumbs = _evidence_frames(query, matches, decoder, kept) if kept.report else None
        if thumbs is not None:
            matches = _with_frame_evidence(query, matches, thumbs)
        matches, heard = _with_sound(query, idx, matches)
        candidates += tuple(s for s in heard if s.score < match_mod.MATCH_THRESHOLD)[: max(0, 5 - len(candidates))]
        on_stage("evidence")
        if reading_job is not None:
            reading = reading_job.result()
        else:
            reading = text_mod.skipped("not asked for (--no-text)" if not text else "a sound file has no picture")
    query = replace(query, text=_compared_with_references(reading, matches, decoder))
    on_stage("text")
    first_seen = first_seen_days(
        (m.reference.source.first_seen, m.reference.id) for m in matches if m.relation != Relation.SAME_SCENE
    )
    findings = inspect(query.facts, claim=claim, first_seen=first_seen, credentials=query.credentials, text=query.text)
    on_stage("metadata")
    verdict = decide(
        matches,
        informative_frames=query.informative_frames,
        is_image=query.is_image,
        claim=claim,
        findings=findings,
        sound_items=query.sound.usable if query.sound is not None else 0,
    )
    on_stage("verdict")
    report = _report(query, idx, matches, candidates, verdict, findings, thumbs, claim, channels)
    on_stage("report")
    return report


def _scene_after_footage(m: MatchSegment) -> bool:
    return m.relation == Relation.SAME_SCENE


def _read_text(query: Query, decoder: Decoder) -> TextReading:
    """Stage text: the words on the picture; a missing engine is said in the report, not fatal."""
    try:
        return text_mod.read_text(query.path, query.facts, decoder=decoder, frames=query.frames)
    except ToolMissingError as exc:
        return TextReading(TextStatus.UNAVAILABLE, note=str(exc))


#: Frames of a matched reference read for its own text, spread over the matched span (the clip's
#: texts are marked as on the reference or added in the copy); at most this many matches.
REFERENCE_TEXT_FRAMES = 3
REFERENCE_TEXT_MATCHES = 2


def _compared_with_references(reading: TextReading, matches: Sequence[MatchSegment], decoder: Decoder) -> TextReading:
    """Stage text, reference side: each text inside a match's span marked as on the reference or added.

    The reference's frames at the matched moments are read now (not stored at
    index time: a check reads 3 frames of at most 2 references, docs/design.md).
    A reference file that is gone or changed leaves its texts unmarked.
    """
    if reading.status != TextStatus.READ or not reading.texts or not matches:
        return reading
    texts = list(reading.texts)
    frames_read = 0
    for m in [m for m in matches if m.relation != Relation.SAME_SCENE][:REFERENCE_TEXT_MATCHES]:
        status, _, media = reference_state(m.reference)
        if status != REFERENCE_OK or media is None:
            continue
        inside = [i for i, t in enumerate(texts) if t.start_s < m.query_end_s and t.end_s > m.query_start_s]
        if not inside:
            continue
        step = (m.reference_end_s - m.reference_start_s) / REFERENCE_TEXT_FRAMES
        times = [m.reference_start_s + (k + 0.5) * step for k in range(REFERENCE_TEXT_FRAMES)]
        try:
            grabbed = grab_frames(decoder, m.reference.path, times, media=media, long_side=text_mod.TEXT_LONG_SIDE)
        except ToolMissingError:
            continue
        pairs = [(t, f) for t, f in zip(times, grabbed, strict=True) if f is not None]
        if not pairs:
            continue
        frames_read += len(pairs)
        ref_texts, _ = text_mod.read_frames(
            [t for t, _ in pairs], [f for _, f in pairs], duration_s=media.duration_s, spacing_s=step
        )
        marked = text_mod.in_reference([texts[i] for i in inside], [t.text for t in ref_texts])
        for i, t in zip(inside, marked, strict=True):
            texts[i] = t
    return replace(reading, texts=tuple(texts), reference_frames_read=frames_read)


#: What the report's `tool.channels.features` says when the channel did not run, by reason.
FEATURES_ABSENT = (
    "absent: this index holds no local features (built before the features channel, or its references "
    "gave none); add the references to a new index to search partial views (stickers, tilts, crops, split screens)"
)
FEATURES_NOT_NEEDED = "not run: the frame hashes explain the clip"
#: What it adds when the frame hashes explain the clip's time in part of its frame only (`match.explained_parts`).
FEATURES_PARTS_EXPLAINED = "part of the frame the frame hashes explain"


def _with_features(
    query: Query, idx: Index, found: list[Alignment], decoder: Decoder
) -> tuple[Query, list[Alignment], dict[str, str]]:
    """Stage features: the second visual channel, when the frame hashes leave part of the clip unexplained.

    It runs when the index has local features and the frame-hash segments at
    or above the match threshold explain less than `match.WIDE_SEARCH_BELOW`
    of the clip. A features segment on the same reference and span as a
    frame-hash segment is one finding: the higher-scoring of the two is kept,
    and a kept frame-hash segment takes the features' geometry.

    Returns:
        The query (with its features when described), the alignments of both
        channels, and what the report's `tool.channels` says of each.
    """
    channels = {str(Channel.FRAMES): "run"}
    if not idx.has_features():
        channels[str(Channel.FEATURES)] = FEATURES_ABSENT
        return query, found, channels
    explained: tuple[Rect, ...] = ()
    if match_mod.explained_share(found, query.hashes) >= match_mod.WIDE_SEARCH_BELOW:
        layout = query.layout
        if layout is not None and not query.is_image:
            explained = match_mod.explained_parts(
                found,
                query.hashes,
                layout.inner_rect,
                content=layout.content_box,
                frame_size=query.facts.display_size,
            )
        if not explained:
            channels[str(Channel.FEATURES)] = FEATURES_NOT_NEEDED
            return query, found, channels
    sampled = sample_for_features(query.path, query.facts, role=Role.QUERY, decoder=decoder)
    described = features_of(sampled, role=Role.QUERY)
    query = replace(query, features=described)
    extra = match_mod.find_feature_matches(
        described,
        idx,
        query_duration_s=query.facts.duration_s,
        query_is_image=query.is_image,
        query_hashes=query.hashes,
    )
    channels[str(Channel.FEATURES)] = (
        f"run: {len(described.frames)} frames described, {len(extra)} segment{'s' if len(extra) != 1 else ''} found"
    )
    if explained:
        # The frame hashes explain the clip's time in part of its frame: only the rest is searched.
        extra = [a for a in extra if match_mod.in_rest(a, explained)]
        channels[str(Channel.FEATURES)] += f", {len(extra)} beside the {FEATURES_PARTS_EXPLAINED}"
    joined = match_mod.join_channels(found, extra)
    regions = _regions(query, extra, sampled.images, explained)
    if regions:

        def search(parts: list[Rect]) -> list[Alignment]:
            return match_mod.find_region_matches(
                parts,
                (query.frames.times, query.frames.images),
                idx,
                query_fps=query.frames.fps or QUERY_FPS,
                query_duration_s=query.facts.duration_s,
                feature_frames=(np.asarray(sampled.times), sampled.images),
                hashed=tuple(r for r in (query.layout.content_box, query.layout.inner_rect) if r is not None)
                if query.layout is not None
                else (),
                whole=described,
            )

        in_regions = search(regions)
        searched_n = len(in_regions)
        if explained:
            in_regions = [a for a in in_regions if match_mod.in_rest(a, explained)]
        # A picture found inside a searched part (the rectangle around two pictures in a row) leaves
        # the rest of that part to search, within the cap.
        inner = query.layout.inner_rect if query.layout is not None else None
        found_in = (*explained, *match_mod.found_parts([*joined, *in_regions], inner))
        more = match_mod.remainder_proposals(
            regions,
            found_in,
            frame_size=query.facts.display_size,
            content_box=query.layout.content_box if query.layout is not None else None,
        )[: max(0, match_mod.MAX_REGIONS - len(regions))]
        if more:
            beside = search(more)
            searched_n += len(beside)
            in_regions += [a for a in beside if match_mod.in_rest(a, found_in)]
            regions += more
        joined = match_mod.join_regions(joined, in_regions)
        channels[str(Channel.FEATURES)] += (
            f"; {len(regions)} region{'s' if len(regions) != 1 else ''} of the frame searched on "
            f"{'their' if len(regions) != 1 else 'its'} own"
            + (f" ({len(more)} beside a picture found in {'them' if len(more) != 1 else 'it'})" if more else "")
            + f", {searched_n} segment{'s' if searched_n != 1 else ''} found"
            + (f" ({len(in_regions)} apart from the pictures placed before)" if len(in_regions) != searched_n else "")
        )
    return query, joined, channels


def _found_held(query: Query, idx: Index, times: np.ndarray) -> list[Alignment]:
    """`_found` for a clip that holds one picture: its middle informative sample matched as a still picture."""
    hashes = query.hashes
    informative = np.unique(hashes.times)
    if not len(informative):
        return []
    middle = float(informative[len(informative) // 2])
    keep = np.isclose(hashes.times, middle)
    one = FrameHashes(np.zeros(int(keep.sum())), hashes.variants[keep], hashes.hashes[keep], hashes.algorithm)
    found = match_mod.find_matches(
        one, idx, query_fps=query.frames.fps or QUERY_FPS, query_duration_s=0.0, query_is_image=True
    )
    start, end = float(times[0]), float(query.facts.duration_s or times[-1])
    out = []
    for a in found:
        seg = a.segment
        moment = seg.reference_start_s
        seg = replace(
            seg,
            query_start_s=round(start, 3),
            query_end_s=round(end, 3),
            offset_s=moment,
            speed=0.0,
            reference_end_s=moment,
            pairs=tuple((middle, r, d) for _q, r, d in seg.pairs),
        )
        out.append(replace(a, segment=seg, query_span=(start, end), reference_span=(moment, moment)))
    return out


def _regions(
    query: Query, extra: list[Alignment], larger: np.ndarray | None = None, explained: tuple[Rect, ...] = ()
) -> list[Rect]:
    """The parts of a clip's frame searched as pictures of their own (`match.region_proposals`).

    `larger`: the features channel's frames, where a picture too small for the samples' inner
    rectangle is looked for (`layout.small_inner_rectangle`). `explained`: the parts whose
    frame-hash matches explain the clip (`match.explained_parts`), left out with what overlaps them.
    """
    if query.is_image or query.layout is None:
        return []
    layout = query.layout
    small = layout_mod.small_inner_rectangles(np.asarray(larger)) if larger is not None else ()
    images = np.asarray(query.frames.images)
    others = layout_mod.other_inner_rectangles(images, layout.inner_rect) if layout.inner_rect is not None else ()
    return match_mod.region_proposals(
        panes=layout.panes,
        inner_rect=layout.inner_rect,
        found=extra,
        content_box=layout.content_box,
        small_inner=small[0] if small else None,
        moving=layout_mod.moving_parts(images),
        other_inner=(*others, *small[1:]),
        frame_size=query.facts.display_size,
        explained=explained,
    )


def _aligned(query: Query, idx: Index, exclude: Collection[int] = ()) -> list[Alignment]:
    """The query's frame hashes aligned with the index's references (`match.find_matches`), but `exclude`'s."""
    return match_mod.find_matches(
        query.hashes,
        idx,
        query_fps=query.frames.fps or QUERY_FPS,
        query_duration_s=query.facts.duration_s,
        query_is_image=query.is_image,
        exclude=exclude,
    )


def _found(query: Query, idx: Index) -> list[Alignment]:
    """Stage match: the query's hashes aligned with the index's references, as segments.

    A clip that is one unchanging picture throughout (`verify.held_frame`) and
    that the alignment does not find (the same hashes at every time fit no one
    offset: each time votes for another) is searched again as that picture:
    its middle sample matched as a still is, each match spanning the whole
    clip at speed 0. (In place of the alignment it found 3 fewer of 16
    held-out held frames on top, bench/frozen.py: a still's stricter distance.)
    """
    found = _aligned(query, idx)
    if query.is_image or any(a.segment.score >= match_mod.MATCH_THRESHOLD for a in found):
        return found
    times = np.asarray(query.frames.times, dtype=np.float64)
    if verify_mod.held_frame(np.asarray(query.frames.images), times) is None:
        return found
    return _found_held(query, idx, times) or found


def _verified(
    query: Query, found: Sequence[Alignment], decoder: Decoder, idx: Index, *, kept: KeptFrames | None = None
) -> list[Alignment]:
    """Stage verify: whether each match shows the same moment of its reference or only the same place.

    Segments below the match threshold are candidates only and are not verified. A segment
    of the features channel that does not clearly show its moment (`match.shows_its_moment`)
    is the same scene (`match.as_place`): local features match a still background at any moment.

    With `kept`, a reference's window is decoded once however many times it is asked for, and where
    the report shows frames each window's decode also takes, at the report's size, the reference
    frames the report's pairs will show if verify leaves the alignment where it is (`aligned_times`),
    so the evidence stage does not decode the reference again (it decodes what verify moved).
    """
    report: dict[int, list[float]] = {}
    for a in found if kept is not None and kept.report else ():
        if a.segment.score >= match_mod.MATCH_THRESHOLD:
            report.setdefault(int(a.segment.reference.id or 0), []).extend(r for _, r, _ in aligned_times(a.segment))

    def frames_of(ref: Reference, start_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray] | None:
        # The views stored at ingest (`index.views`) when the index has them: no decode, and the file
        # itself need not be at hand; else the file is decoded at the same times.
        stored = idx.reference_views(int(ref.id or 0), start_s, end_s)
        if stored is not None:
            return stored.times, stored.images
        return reference_window(
            decoder,
            ref,
            start_s,
            end_s,
            fps=verify_mod.REFERENCE_FPS,
            long_side=verify_mod.VIEW_LONG_SIDE,
            report_times=report.get(int(ref.id or 0), ()),
            kept=kept,
        )

    out = []
    for a in found:
        if a.segment.score < match_mod.MATCH_THRESHOLD:
            out.append(a)
        elif a.segment.channel == Channel.FEATURES:
            checked = _verified_features(a, query, frames_of)
            if not match_mod.shows_its_moment(checked):
                checked = match_mod.as_place(checked)  # the same scene where compared, else a candidate
            out.append(verify_mod.with_held_frame(checked, query, verified=True))
        else:
            out.append(_verified_frames(a, query, idx, frames_of))
    return [verify_mod.with_repeat(a, query) for a in out]


def _elsewhere(
    query: Query, idx: Index, verified: Sequence[Alignment], decoder: Decoder, kept: KeptFrames | None
) -> list[Alignment]:
    """Stage verify, again where it found only the place: the clip's hashes aligned without the references
    matched already, and an alignment of another reference over a same-scene match's seconds that verify
    finds the same footage added.

    Two recordings of one fixed camera share their still background, and the alignment explains the
    clip's seconds with the first that fits: cases-devfull d057 (v-tree-1 slowed to x0.33) matched
    v-tree-2's background, the same scene, and v-tree-1 was never aligned. At most `match.ELSEWHERE_MOST`
    alignments are verified, the best first, and one is added only where its moment stands
    (`_moment_stands`).
    """
    matched = [a for a in verified if a.segment.score >= match_mod.MATCH_THRESHOLD]
    scene = [a.segment for a in matched if a.segment.relation == Relation.SAME_SCENE]
    if not scene:
        return []
    again = _aligned(query, idx, exclude={int(a.segment.reference.id or 0) for a in matched})
    near = [
        a
        for a in again
        if a.segment.score >= match_mod.MATCH_THRESHOLD and any(match_mod.overlapping(a.segment, s) for s in scene)
    ]
    if not near:
        return []
    checked = _verified(query, near[: match_mod.ELSEWHERE_MOST], decoder, idx, kept=kept)
    return [a for a in checked if _moment_stands(a.segment.verification)]


def _moment_stands(v: Verification | None) -> bool:
    """Whether verify found the same footage with the specificity a match over a still background needs
    (`match.FEATURE_MIN_SPECIFICITY`): the second reference of a camera is a second try at one question,
    and its still background fits any moment (cases-devfull d019: the tree's part of a compilation said
    the same footage of the tree's other recording at 0.37)."""
    return (
        v is not None
        and v.relation == Relation.SAME_FOOTAGE
        and v.specificity is not None
        and v.specificity >= match_mod.FEATURE_MIN_SPECIFICITY
    )


def _verified_frames(a: Alignment, query: Query, idx: Index, frames_of: verify_mod.ReferenceFrames) -> Alignment:
    """Stage verify for a frame-hash segment; where what moves shows another speed, aligned and verified at it.

    A fixed camera's still background fits every speed (the matcher keeps x1);
    `verify.motion_speed` reads the speed from what moves, the segment is
    aligned again at it (`match.at_motion_speed`) and verified there. A segment
    found in a region of the frame is verified in that region, and not aligned
    again (the whole frame's hashes are not the region's).
    """
    seen = _seen_in_region(query, a)
    held = verify_mod.with_held_frame(a, seen, frames_of)
    if held.held_frame is not None:  # one picture held: its moment, at no speed
        return held
    checked = verify_mod.with_held_frame(verify_mod.verify_alignment(a, seen, frames_of), seen, verified=True)
    if checked.motion_speed is None:
        return checked
    if a.segment.region is not None:
        return replace(checked, motion_speed=None)
    moved = match_mod.at_motion_speed(
        replace(a, motion_speed=checked.motion_speed), query.hashes, idx, query_fps=query.frames.fps or QUERY_FPS
    )
    if moved is None or moved.segment.score < match_mod.MATCH_THRESHOLD:
        return replace(checked, motion_speed=None)
    again = verify_mod.verify_alignment(moved, seen, frames_of)
    return replace(again, motion_speed=None)


def _seen_in_region(query: Query, found: Alignment) -> Query:
    """The query as verify reads a segment found in a region of the frame: that region as its inner rectangle."""
    region = found.segment.region
    if region is None or query.layout is None:
        return query
    return replace(query, layout=replace(query.layout, inner_rect=region))


def _verified_features(found: Alignment, query: Query, frames_of: verify_mod.ReferenceFrames) -> Alignment:
    """Stage verify for a features segment: what moves compared inside the part of the reference the clip shows.

    The query's frames are warped into the reference's geometry by the
    verified pairs' maps (`features.views`), so a tilt, a zoom, a crop or a
    half of a split screen is compared with the same region of the
    reference; `verify.verify_segment` then decides as for any segment.
    """
    seg = found.segment
    if seg.reference.kind == "image":
        return _with_verification(
            found, verify_mod.unverified("the reference is a still picture: there is no moment to compare")
        )
    window = frames_of(
        seg.reference, seg.reference_start_s - verify_mod.WINDOW_S, seg.reference_end_s + verify_mod.WINDOW_S
    )
    if window is None:
        return _with_verification(
            found,
            verify_mod.unverified(verify_mod.UNREADABLE_REASON),
        )
    times = np.asarray(query.frames.times, dtype=np.float64)
    inside = np.nonzero((times >= seg.query_start_s - 1e-6) & (times <= seg.query_end_s + 1e-6))[0]
    if query.is_image:
        inside = np.arange(min(1, len(times)))
    if len(inside) > verify_mod.MAX_QUERY_FRAMES:
        inside = inside[np.linspace(0, len(inside) - 1, verify_mod.MAX_QUERY_FRAMES).round().astype(int)]
    r_times, r_images = np.asarray(window[0], dtype=np.float64), np.asarray(window[1])
    q_times = np.zeros(1) if query.is_image else times[inside]
    images = query.frames.images if seg.region is None else hashing_mod.crop(query.frames.images, seg.region)
    shown = [images[i] for i in inside]
    motion = verify_mod.reference_motion(seg.reference.camera, r_times, r_images)
    still = verify_mod.is_still_picture(motion, seg.reference_start_s, seg.reference_end_s)
    try:
        q_view, r_view = features_mod.views(
            shown,
            q_times.tolist(),
            list(r_images),
            found.feature_pairs,
            long_side=verify_mod.VIEW_LONG_SIDE,
            # What a frame does not show (a crop window sliding across the frame) is left out of what
            # moves, not compared as black. Not on a still picture under camera motion, where what
            # moves is no evidence of the moment and the camera path decides from its own views.
            unseen=0.0 if still else np.nan,
        )
    except ValueError:
        return _with_verification(found, verify_mod.unverified("the matched region could not be cut out of the frames"))
    compared = None
    if len(q_view) >= verify_mod.MIN_PAIRS and len(r_view) >= verify_mod.MIN_PAIRS:
        compared = verify_mod.compare(q_view, q_times, r_view, r_times, offset_s=seg.offset_s, speed=seg.speed)
    v = verify_mod.verify_segment(
        q_view, q_times, r_view, r_times, offset_s=seg.offset_s, speed=seg.speed, compared=compared
    )
    if still:
        if v.relation == Relation.SAME_FOOTAGE or v.specificity is not None:
            v = _held_to_camera_path(v, found, shown, q_times, r_times, r_images, motion)
        return verify_mod.on_its_path(_with_verification(found, v))
    return _at_measured_speed(_with_verification(found, v), q_view, q_times, r_view, r_times, compared)


def _at_measured_speed(
    found: Alignment,
    q_view: np.ndarray,
    q_times: np.ndarray,
    r_view: np.ndarray,
    r_times: np.ndarray,
    compared: verify_mod.Compared | None,
) -> Alignment:
    """A features segment whose line says another speed, measured again on what moves, as a frame-hash
    segment's is (`verify.motion_speed` with ``refine``), on footage (not a still picture under camera motion).

    The line through frames registered once a second is several percent off at best (tilted, zoomed
    copies at x0.5: x0.6 and x0.67), and verify, held to it, finds the moment less specific than it is. Where what moves measures a speed (its moment `verify.MOTION_MIN_SPECIFICITY` specific),
    the segment is verified again at it and, where that is the same footage, placed on it
    (`match.features_at_speed`): its speed, direction and trims are then told, measured on what moves.
    """
    seg = found.segment
    if abs(seg.speed - 1.0) < verify_mod.MOTION_REFINE_MIN:
        return found
    measured = verify_mod.motion_speed(
        q_view, q_times, r_view, r_times, offset_s=seg.offset_s, speed=seg.speed, refine=True, compared=compared
    )
    if measured is None:
        return found
    if measured.unbounded:
        return replace(found, speed_untold=SpeedUntold.BEYOND_RANGE)
    again = verify_mod.verify_segment(q_view, q_times, r_view, r_times, offset_s=measured.offset, speed=measured.speed)
    if again.relation != Relation.SAME_FOOTAGE:
        return found
    offset = measured.offset
    if again.offset_s is not None and abs(again.offset_s - offset) >= verify_mod.REFINE_OFFSET_S:
        offset = again.offset_s
    return _with_verification(match_mod.features_at_speed(found, measured, offset), again)


def _held_to_camera_path(
    v: Verification,
    found: Alignment,
    shown: list[np.ndarray],
    q_times: np.ndarray,
    r_times: np.ndarray,
    r_images: np.ndarray,
    motion: camera_mod.CameraMotion,
) -> Verification:
    """Stage verify, a features segment on a still picture under camera motion (`motion`): the camera path decides.

    The views of the query frames `shown` (cut to the segment's part of the frame) are made again in
    one fixed geometry (the map of the verified pair nearest its aligned time, `verify.camera_path_drift`
    needs one map for the whole segment: each pair's own map would hide the drift).
    """
    seg = found.segment
    if (v := verify_mod.left_to_the_camera_path(v, q_times)).relation != Relation.SAME_FOOTAGE:
        return v
    pairs = found.feature_pairs
    nearest = min(
        pairs, key=lambda p: (abs(p.reference_t - (seg.offset_s + seg.speed * p.query_t)), -p.geometry.inliers)
    )
    try:
        q_view, r_view = features_mod.views(
            shown,
            q_times.tolist(),
            list(r_images),
            [nearest],
            long_side=verify_mod.VIEW_LONG_SIDE,
        )
    except ValueError:
        return verify_mod.on_still_picture(
            v,
            motion,
            np.zeros((0, 8, 8)),
            np.zeros(0),
            np.zeros((0, 8, 8)),
            r_times,
            offset_s=seg.offset_s,
            speed=seg.speed,
        )
    return verify_mod.on_still_picture(
        v, motion, q_view, q_times, r_view, r_times, offset_s=seg.offset_s, speed=seg.speed, speed_untold=True
    )


def _with_verification(found: Alignment, v: Verification) -> Alignment:
    return replace(found, segment=replace(found.segment, verification=v))


def _diagnosed(query: Query, found: Sequence[Alignment], idx: Index) -> list[MatchSegment]:
    """Stage diagnose: how each segment's copy differs from its reference, and its score."""
    facts, layout = query.facts, query.layout
    assert layout is not None  # a query always has its layout looked for
    edges = _clip_edges(query, found)
    found = [_with_surround(_with_crop_distances(a, query, idx), query) for a in found]
    return [
        diagnose_match(
            a,
            query_duration_s=facts.duration_s,
            content_box=layout.content_box,
            inner_rect=a.segment.region or layout.inner_rect,
            query_fps=facts.fps if facts.kind == "video" else None,
            query_size=facts.display_size,
            edges=_edges_within(edges, a, query),
            panes=layout.panes,
        )
        for a in found
    ]


def _edges_within(edges: diagnose_mod.ClipEdges, found: Alignment, query: Query) -> diagnose_mod.ClipEdges:
    """The clip's edges as a segment whose footage fills only part of the frame sees them: the cuts of that part.

    A cut in the footage beside or behind a picture-in-picture or a duet's other half is no edge of this
    footage (cases-holdout h172: a cut in the background video had been taken for the end of the
    picture laid over it, and the rest of the clip called other footage)."""
    seg, layout = found.segment, query.layout
    box = seg.region if seg.region is not None else seg.geometry.query_box if seg.geometry is not None else None
    if box is None or area(box) > diagnose_mod.FOOTAGE_MAX_AREA or not edges.cuts or layout is None:
        return edges
    if layout.content_box is not None and area(box) >= area(layout.content_box) - 1e-6:
        return edges
    return replace(edges, cuts=tuple(s.start_s for s in find_shots(query.frames, box).shots[1:]))


def _with_surround(found: Alignment, query: Query) -> Alignment:
    """A features segment whose footage fills only part of the clip's frame, with how closely the frame around it
    follows the footage enlarged (`layout.surround_copy`: a blurred copy of itself is padding) and how much it
    changes over the clip (`layout.surround_change`: other footage moves, padding holds still)."""
    g = found.segment.geometry
    if g is None or area(g.query_box) > diagnose_mod.FOOTAGE_MAX_AREA or len(query.frames.times) == 0:
        return found
    times = np.asarray(query.frames.times)
    seg = found.segment
    inside = (times >= seg.query_start_s - 1e-6) & (times <= seg.query_end_s + 1e-6)
    images = np.asarray(query.frames.images)[inside] if inside.any() else np.asarray(query.frames.images)
    geometry = replace(
        g,
        surround_copy=layout_mod.surround_copy(images, g.query_box),
        surround_change=layout_mod.surround_change(images, g.query_box),
    )
    return replace(found, segment=replace(seg, geometry=geometry))


def _with_crop_distances(found: Alignment, query: Query, idx: Index) -> Alignment:
    """A centre-crop match with its distances to the crop and to the whole frames (`match.crop_distances`).

    A region's segment has them from the region's own hashes (`match.find_region_matches`)."""
    if found.segment.region is not None:
        return found
    distances = match_mod.crop_distances(found, query.hashes, idx)
    return found if distances is None else replace(found, crop_distances=distances)


def _clip_edges(query: Query, found: Sequence[Alignment]) -> diagnose_mod.ClipEdges:
    """Where the clip changes footage: its cuts (the shots stage) and the spans of its segments at or above the match threshold."""
    if query.is_image or len(query.frames.times) < 2:
        return diagnose_mod.ClipEdges()
    assert query.layout is not None
    shots = find_shots(query.frames, query.layout.content_box).shots
    kept = [a.segment for a in found if a.segment.score >= match_mod.MATCH_THRESHOLD]
    return diagnose_mod.ClipEdges(
        cuts=tuple(s.start_s for s in shots[1:]),
        segments=tuple((s.reference.id, s.query_start_s, s.query_end_s) for s in kept),
    )


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
    sure = [f for f in found if f.score >= match_mod.MATCH_THRESHOLD]
    placed = [_placed_by_sound(m, sure) for m in matches]
    matches = tuple(m for m, _ in placed)
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
            heard=_heard_of(m, sure),
            placed_from_s=picture_offset,
        )
        for m, picture_offset in placed
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


def _heard_of(m: MatchSegment, sure: Sequence[match_mod.SoundFound]) -> match_mod.SoundFound | None:
    """The sound lookup's match of a picture match's reference nearest the picture's offset (None: not heard)."""
    mine = [f for f in sure if f.reference.id == m.reference.id]
    return min(mine, key=lambda f: abs(f.alignment.offset_s - m.offset_s)) if mine else None


def _placed_by_sound(m: MatchSegment, sure: Sequence[match_mod.SoundFound]) -> tuple[MatchSegment, float | None]:
    """A picture match whose moment the picture did not pin, placed where its sound agrees with the reference's.

    A part of a still picture under camera motion fits other moments as well
    (`Verification.moment_shown` false: a pan's next seconds show the same
    photograph a little further along), while the sound's items agreeing at
    one offset (bit error rate at most `match.SOUND_AGREE_BER`, confirmed by
    the landmarks, `match.find_sound_matches`) tell the moment. Where the sound
    agrees only farther than `match.SOUND_SYNC_S` from the picture's offset,
    the match is placed by its sound, at speed 1 (the sound's), and its picture channel
    keeps the picture's own offset as evidence. Otherwise, and for a match
    whose speed was told, the picture's alignment stands.

    Returns:
        The match, and the picture's own offset when it was placed by its sound (else None).
    """
    v = m.verification
    if m.channel == match_mod.Channel.AUDIO or v is None or v.moment_shown is not False:
        return m, None
    if any(a.code == AlterationCode.SPEED_CHANGED for a in m.alterations):
        return m, None
    agreeing = [
        f
        for f in sure
        if f.reference.id == m.reference.id and not f.by_marks and f.alignment.ber <= match_mod.SOUND_AGREE_BER
    ]
    # Beyond the sound's sync tolerance: an unpinned picture 0.98 s from where its sound agrees (seed 89) is
    # placed by the sound, as one 3 s off is.
    far = [f for f in agreeing if abs(f.alignment.offset_s - m.offset_s) > match_mod.SOUND_SYNC_S]
    if not far or len(far) < len(agreeing):
        return m, None  # not heard, or heard at the picture's moment too
    best = max(far, key=lambda f: f.score)
    offset = best.alignment.offset_s
    picture = m.channels or (
        match_mod.ChannelEvidence(str(m.channel), m.query_start_s, m.query_end_s, m.offset_s, m.score),
    )
    end = m.reference.duration_s if m.reference.duration_s > 0 else math.inf
    moved = replace(
        m,
        offset_s=round(offset, 3),
        speed=1.0,
        reference_start_s=round(max(0.0, m.query_start_s + offset), 3),
        reference_end_s=round(min(end, m.query_end_s + offset), 3),
        channels=picture,
    )
    return moved, m.offset_s


def _sound_at_speed(query: Query, m: MatchSegment) -> tuple[SoundPrint, ...]:
    """For a picture match whose speed changed, the clip's sound stretched back to the reference's time.

    Both ways a copy is sped up are tried (the tempo alone, or tempo and pitch
    together, `audio.Resampling`); none when the speed is 1, untold by the
    picture (`diagnose.sound_stretch`) or negative, or the clip has no sound to stretch.
    """
    sound = query.sound
    speed = diagnose_mod.sound_stretch(m)
    if sound is None or sound.usable == 0 or speed == 1.0 or not 0.25 <= speed <= 4.0:
        return ()
    # The pitch moves with a rate change, so the picture's speed (within about 1%) is refined for it.
    tries = [(speed, audio_mod.Resampling.TEMPO)]
    tries += [(speed * (1 + step), audio_mod.Resampling.RATE) for step in audio_mod.RATE_REFINE_STEPS]
    return tuple(
        audio_mod.fingerprint_sound(query.path, query.facts, max_s=MAX_QUERY_DURATION_S, speed=s, resampling=way)
        for s, way in tries
        if 0.25 <= s <= 4.0
    )


def _evidence_frames(
    query: Query, matches: Sequence[MatchSegment], decoder: Decoder, kept: KeptFrames | None = None
) -> Keyframes:
    """Stage evidence frames: the clip's shots and each match's aligned frame pairs, as thumbnails
    (reference frames verify's decode already took, `kept`, are not decoded again)."""
    assert query.layout is not None  # a query always has its layout looked for
    shots = find_shots(query.frames, query.layout.content_box)  # the keyframes `provenance frames` writes
    return make_keyframes(query.path, query.facts, shots, matches, decoder=decoder, sampled=query.frames, kept=kept)


def _with_frame_evidence(
    query: Query, matches: tuple[MatchSegment, ...], thumbs: Keyframes
) -> tuple[MatchSegment, ...]:
    """The aligned frame pairs are evidence too: colour, overlays, blur, the measured crop."""
    layout = query.layout
    assert layout is not None
    return tuple(
        with_frame_evidence(m, thumbs.for_match(i), layout.content_box, m.region or layout.inner_rect)
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
    channels: dict[str, str] | None = None,
) -> Report:
    """Stage report: the frozen `Report` of a checked query."""
    facts, sampled = query.facts, query.frames
    disp_w, disp_h = facts.display_size
    warnings = list(query.warnings) + (list(thumbs.notes) if thumbs is not None else [])
    if query.text is not None and query.text.status == TextStatus.UNAVAILABLE and query.text.note:
        warnings.append(query.text.note)
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
            examined_s=None if sampled.examined_s is None else round(min(facts.duration_s, sampled.examined_s), 3),
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
            "channels": dict(channels or {}),
        },
        index=idx.identity(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        warnings=tuple(warnings),
        metadata={"probe": facts.to_dict()},
        keyframes=thumbs,
        claim=claim,
        findings=findings,
        text=query.text,
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
