"""Stage match: from frame-level hash hits to clip-level segments (alignment only).

A match is a segment, not a bag of frames: query span <-> reference span with
an offset and a speed. Three steps:

1. **Candidates**: every query hash, in every variant (dihedral operations
   of the whole frame and of its content box, see `hashing.hash_query`), is
   looked up in the index (multi-index hashing, no full scan). References
   store their whole frame and three centred crops, so a zoomed-in copy
   meets the crop it came from.
2. **Votes**: each hit votes for (reference, query variant, reference
   variant, speed, offset bin), where offset = t_ref - speed * t_query; a
   bin's vote is the number of distinct query frames behind it, so a static
   shot cannot vote many times.
3. **Alignment**: the best bins are verified against the reference's whole
   hash sequence: offset and speed are refined on a fine grid, every query
   frame gets its distance to the reference frame it aligns with, and the
   best run of matching frames becomes the segment. Query frames explained
   by one segment are taken out before the next is looked for, so a clip
   that joins footage from two references yields both.
4. **Wide speeds**: when the segments found explain less than
   `WIDE_SEARCH_BELOW` of the clip, a second vote runs over a log-spaced grid
   of speeds from `MIN_SPEED` to `MAX_SPEED` in both directions, pivoting on
   the clip's middle; each strong bin's hits get a robust line fit, and the
   fitted segment replaces the ordinary pieces of its reference when it plays
   backwards or outside the ordinary grid's reach and explains more.

Each segment comes back as an `Alignment`: the scored `MatchSegment` and what
the alignment showed (the variants that matched, the spans, the speed
evidence), from which the diagnose stage says how the copy differs::

    >>> found = find_matches(query_hashes, index, query_fps=4.0, query_duration_s=8.0)
    >>> [a.segment.score for a in found]
    [0.93]

The history of each constant's value is in docs/tuning.md.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np

from . import features as features_mod
from .alteration import Alteration
from .audio import ITEM_STEP_S, ITEMS_PER_SECOND, MARK_STEP_S, SoundAlignment, SoundPrint, align_sound, item_keys
from .features import Features, FrameFeatures, FramePair, Geometry
from .hashing import (
    CENTRE_KEEP,
    OP_CCW_MIRROR,
    OP_CW_MIRROR,
    OP_MIRROR,
    OP_NONE,
    OPS,
    REGION_BOX,
    REGION_FULL,
    REGION_INNER,
    REGIONS,
    VARIANT_FULL,
    FrameHashes,
    Rect,
    area,
    crop,
    hamming,
    hash_query,
    overlap_area,
    variant,
    variant_parts,
)
from .index import Candidates, Index, Reference
from .layout import INNER_OTHER_INSIDE, INNER_OTHER_OVERLAP, INNER_OTHER_PART, content_box, overlap_share
from .relation import HeldFrame, Relation, Verification

#: Hamming radius (of 64 bits) for candidate hits returned by the index.
CANDIDATE_DISTANCE = 14
#: A query frame is explained by the reference frame it aligns with when
#: their distance is at most this. Unrelated natural frames sit at 20-34.
FRAME_MATCH_DISTANCE = 12
#: A still image matches a frame only when at most this far from it.
IMAGE_MATCH_DISTANCE = 8
#: Speeds voted for (query time x speed = reference time); refined afterwards.
SPEEDS: tuple[float, ...] = (0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.18, 1.25, 1.33)
#: Relative steps of the speed refinement around a voted speed.
SPEED_STEPS = (-0.04, -0.02, 0.0, 0.02, 0.04)
#: Cost, in matched frames, of a speed away from 1 during refinement (per unit of
#: |log speed|): with static footage many speeds fit equally, and 1 is likeliest.
SPEED_PRIOR = 10.0
#: An alignment's value is its matched frames less this per unit of their
#: distance: among equal counts, the closer alignment wins.
FIT_DISTANCE_WEIGHT = 0.01
#: Speed evidence: speeds scanned (reference s per query s) when a segment is
#: checked for a speed change, 0.70-1.40.
SPEED_SCAN = tuple(round(0.70 + 0.02 * i, 2) for i in range(36))
#: ... and the offsets (s) tried around the alignment at each, -0.3 to +0.3.
SPEED_SCAN_OFFSETS = tuple(round(-0.3 + 0.05 * i, 2) for i in range(13))
#: Speeds whose mean frame distance is within this of the best form the
#: plausible interval (matched-frame counts cannot tell speeds apart on slow
#: pans; the mean distance can; development set).
SPEED_INTERVAL_DISTANCE = 0.5
#: A speed change needs the whole plausible interval at least this far (relative)
#: from normal speed. Development set: normal-speed copies reached within 4-6%
#: of 1, x1.25 and x0.8 copies lay 16-30% away.
SPEED_MIN_CHANGE = 0.08
#: Fewest query frames (4 s at 4 frames/s) in a run for its speed to be judged;
#: shorter runs let a handful of frames decide (development set).
SPEED_MIN_FRAMES = 16
#: ... and the mean distance at normal speed exceeding the lowest by at least
#: this (normal-speed copies gained up to 2.9 on the development set).
SPEED_EVIDENCE_DISTANCE = 1.0
#: ... and the lowest at most this share of it (development set: speed edits
#: 0.08-0.46; street footage sped x1.25, the samples, 0.56).
SPEED_EVIDENCE_RATIO = 0.75
#: The wide search's range: |speed| (reference s per query s) from MIN_SPEED to
#: MAX_SPEED, in both directions (a negative speed plays the footage backwards);
#: issue 16 asks for 0.25x-4x and reversal.
MIN_SPEED = 0.25
MAX_SPEED = 4.0
#: Relative step of the wide search's log-spaced speed grid; the line fit over
#: the matched frames then measures the speed (development set and bench cases).
WIDE_SPEED_STEP = 0.04
#: The wide search runs when segments at or above `MATCH_THRESHOLD` explain less
#: than this share of the query's frames (nothing found, or a part only).
WIDE_SEARCH_BELOW = 0.9
#: The line fit takes, per query frame, the hit nearest a wide vote's line within
#: this many seconds, then drops pairs farther than `WIDE_FIT_RESIDUAL_S` from its fit.
WIDE_FIT_TOLERANCE_S = 1.0
WIDE_FIT_RESIDUAL_S = 0.3
#: A wide segment replaces the ordinary segments of its reference it overlaps when
#: it matches more frames than each and this share of their matched frames together
#: (one line over pieces at several speeds; own ffmpeg clips at x0.25-x4).
WIDE_REPLACE_SHARE = 0.8
#: A fitted speed within this share of `MIN_SPEED` or `MAX_SPEED` is at the range's
#: edge: the footage may run faster or slower than was searched.
SPEED_EDGE = 0.05
#: Width of an offset bin when voting, seconds.
OFFSET_BIN_S = 0.5
#: Vote bins verified per search round.
TOP_BINS = 8
#: Fewest distinct query frames behind a vote bin for it to be verified.
MIN_VOTES = 2
#: Segment search: a matched frame counts +1, an unmatched one this much.
MISS_PENALTY = 1.0
#: A query frame aligns with stored reference frames within half the reference's
#: sampling interval of its predicted time plus this slack, seconds.
ALIGN_SLACK_S = 0.05
#: A query frame is compared with the alignment only when a stored reference
#: frame lies within this fraction of the reference's sampling interval.
EVALUABLE_FRACTION = 0.3
#: Frames of evidence at which `score` reaches 1 - 1/e of its coverage.
SCORE_FRAMES_SCALE = 6.0
#: Default decision threshold on `score`: segments at or above it are matches.
#: Chosen on the development set (docs/benchmark.md): no negative query
#: reaches it while true copies under the benchmark's edits do.
MATCH_THRESHOLD = 0.5
#: Segments with fewer matched frames are never more than candidates.
MIN_MATCHED_FRAMES = 3
#: ... their score is capped at this, just under `MATCH_THRESHOLD`.
FEW_FRAMES_SCORE = round(MATCH_THRESHOLD * 0.99, 4)
#: The search stops after a round whose best segment scores below this: each
#: round takes the best of the strongest vote bins left, so what follows a
#: round this weak is weaker evidence still (it only ever became a candidate).
STOP_BELOW_SCORE = 0.25
#: Segments of one reference whose offsets differ by at most this (seconds),
#: at the same speed and variant, are one piece of footage broken by frames
#: that matched less well (a caption, a flash): they are merged.
MERGE_OFFSET_S = 0.3
#: ... "the same speed": within this share of each other.
MERGE_SPEED_TOLERANCE = 0.02
#: A verified pair supports a line (reference_t = offset + speed * query_t) when its reference
#: frame lies within this many seconds of it: references are described at `features.REF_FPS`
#: (a frame within 0.5 s of any time), plus slack for motion between samples.
FEATURE_ALIGN_TOLERANCE_S = 0.75
#: Cost, in supporting query frames, of a line's speed away from 1 (per unit of |log speed|),
#: and of playing backwards: static footage supports every line equally, and x1 forwards is likeliest.
FEATURE_SPEED_PRIOR = 2.0
FEATURE_REVERSE_COST = 2.0
#: Lines are drawn through two pairs at least this many seconds apart in the query.
FEATURE_LINE_MIN_SPAN_S = 1.0
#: The line's speed is fitted (least squares) only over at least this many supporting frames
#: spanning `FEATURE_FIT_MIN_SPAN_S`; else it stays the voted one (1 when nothing says otherwise).
FEATURE_FIT_MIN_FRAMES = 6
FEATURE_FIT_MIN_SPAN_S = 4.0
#: A features segment's frames are compared with reference frames `FEATURE_FAR_S` to
#: `FEATURE_FAR_REACH_S` from its line (`_other_moments`, reported, not a gate: on cases-dev
#: pans over photographs and fixed shots reach 0.64-1.02 whether copies or other moments).
FEATURE_FAR_S = 2.0
FEATURE_FAR_REACH_S = 4.0
#: Most query frames of a segment checked against other moments (evenly spread).
FEATURE_FAR_FRAMES = 6
#: A features segment is a match only when verify finds the same footage with at least this
#: specificity (verify's own bar: 0.25), else a candidate: local features register a still
#: background at any moment (cases-dev: a fixed tree's other moment 0.41; docs/tuning.md).
FEATURE_MIN_SPECIFICITY = 0.45
#: Verified frames at which a features segment's score reaches 1 - 1/e of its coverage: each is
#: a geometric registration of `features.MIN_INLIERS` or more, stronger than one hash within 12 bits.
FEATURE_SCORE_FRAMES = 3.0
#: A still image (query or reference) matched by one frame pair: inliers beyond
#: `features.MIN_INLIERS` at which its score reaches 1 - 1/e (cases-dev screenshots, docs/tuning.md).
FEATURE_STILL_INLIERS = 15.0
#: A features segment and a frame-hash segment of the same reference are one finding when
#: their query spans overlap by this share of the shorter and their offsets are this close (s).
JOIN_OVERLAP = 0.5
JOIN_OFFSET_S = 1.5
#: Most alignments of other references verified over the seconds a same-scene match covers
#: (`pipeline._elsewhere`: another recording of the same fixed camera; docs/tuning.md).
ELSEWHERE_MOST = 2
#: A part of the frame is searched as a picture of its own (`find_region_matches`) when its longer
#: side is at least this share of the frame's shorter side (0-1: the issue's smallest picture, 20% of
#: the width: 256 of 720 pixels in a 16:9 frame, 144 of 720 in a 9:16 one)...
REGION_MIN_SIDE = 0.2
#: ... and its shorter side at least this share of it (0-1: the 16:9 picture at 20% of a 9:16
#: frame's width is 81 pixels tall, 11% of 720).
REGION_MIN_SHORT_SIDE = 0.1
#: ... and at most this share of its area (0-1): a larger part is the whole frame's search.
REGION_MAX_AREA = 0.8
#: Two proposed parts whose intersection is this share of their union are one (0-1).
REGION_SAME = 0.7
#: A part's own padding is trimmed down to this share of its side (0-1): footage of 16:9 fitted
#: into one half of a 9:16 duet fills 0.16 of the half's height.
REGION_BOX_MIN_SIDE = 0.1
#: Most parts searched per query: each costs one hash search and one features lookup.
MAX_REGIONS = 4
#: A part with fewer pixels than this on a side in the query's samples (128 px frames) is also
#: hashed from the features channel's larger frames (a duet's fitted half is 20-40 px tall there).
REGION_HASH_MIN_PX = 48
#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`);
#: the search grids (`SPEEDS`, `SPEED_STEPS`, `SPEED_SCAN`, `SPEED_SCAN_OFFSETS`,
#: `WIDE_SPEED_STEP`) are not thresholds.
THRESHOLDS: dict[str, float] = {
    "candidate_distance": CANDIDATE_DISTANCE,
    "frame_match_distance": FRAME_MATCH_DISTANCE,
    "image_match_distance": IMAGE_MATCH_DISTANCE,
    "speed_prior": SPEED_PRIOR,
    "fit_distance_weight": FIT_DISTANCE_WEIGHT,
    "speed_interval_distance": SPEED_INTERVAL_DISTANCE,
    "speed_min_change": SPEED_MIN_CHANGE,
    "speed_min_frames": SPEED_MIN_FRAMES,
    "speed_evidence_distance": SPEED_EVIDENCE_DISTANCE,
    "speed_evidence_ratio": SPEED_EVIDENCE_RATIO,
    "offset_bin_s": OFFSET_BIN_S,
    "top_bins": TOP_BINS,
    "min_votes": MIN_VOTES,
    "miss_penalty": MISS_PENALTY,
    "align_slack_s": ALIGN_SLACK_S,
    "evaluable_fraction": EVALUABLE_FRACTION,
    "score_frames_scale": SCORE_FRAMES_SCALE,
    "match_threshold": MATCH_THRESHOLD,
    "min_matched_frames": MIN_MATCHED_FRAMES,
    "few_frames_score": FEW_FRAMES_SCORE,
    "stop_below_score": STOP_BELOW_SCORE,
    "merge_offset_s": MERGE_OFFSET_S,
    "merge_speed_tolerance": MERGE_SPEED_TOLERANCE,
    "min_speed": MIN_SPEED,
    "max_speed": MAX_SPEED,
    "wide_search_below": WIDE_SEARCH_BELOW,
    "wide_fit_tolerance_s": WIDE_FIT_TOLERANCE_S,
    "wide_fit_residual_s": WIDE_FIT_RESIDUAL_S,
    "wide_replace_share": WIDE_REPLACE_SHARE,
    "speed_edge": SPEED_EDGE,
    "feature_align_tolerance_s": FEATURE_ALIGN_TOLERANCE_S,
    "feature_speed_prior": FEATURE_SPEED_PRIOR,
    "feature_reverse_cost": FEATURE_REVERSE_COST,
    "feature_line_min_span_s": FEATURE_LINE_MIN_SPAN_S,
    "feature_fit_min_frames": FEATURE_FIT_MIN_FRAMES,
    "feature_fit_min_span_s": FEATURE_FIT_MIN_SPAN_S,
    "feature_score_frames": FEATURE_SCORE_FRAMES,
    "feature_still_inliers": FEATURE_STILL_INLIERS,
    "feature_far_s": FEATURE_FAR_S,
    "feature_far_reach_s": FEATURE_FAR_REACH_S,
    "feature_min_specificity": FEATURE_MIN_SPECIFICITY,
    "feature_far_frames": FEATURE_FAR_FRAMES,
    "join_overlap": JOIN_OVERLAP,
    "join_offset_s": JOIN_OFFSET_S,
    "elsewhere_most": ELSEWHERE_MOST,
    "region_min_side": REGION_MIN_SIDE,
    "region_min_short_side": REGION_MIN_SHORT_SIDE,
    "region_max_area": REGION_MAX_AREA,
    "region_same": REGION_SAME,
    "region_box_min_side": REGION_BOX_MIN_SIDE,
    "max_regions": MAX_REGIONS,
    "region_hash_min_px": REGION_HASH_MIN_PX,
}


class SpeedUntold(StrEnum):
    """Why no speed, direction or trim is told of a match (the report's `speed_untold_why`)."""

    #: The clip holds one frame over the match (`verify.held_frame`): the held seconds fit any speed.
    HELD_FRAME = "held_frame"
    #: What moves shows the alignment's speed is wrong but fits speeds beyond the range searched.
    BEYOND_RANGE = "beyond_range"
    #: What moves prefers another speed than the matcher's, not clearly enough to tell either
    #: (`verify.MOTION_SPEED_RATIO`).
    CONTESTED = "contested"
    #: The speed is only the features channel's line through its few registered frames (`diagnose.speed_untold`).
    FEATURES_LINE = "features_line"
    #: The clip shows a stretch again later (a loop, a replay: `verify.repeat_in`) and the alignment's line
    #: places the two showings at two moments of the reference: no one speed runs through both.
    REPEATED = "repeated"


class Channel(StrEnum):
    """Which channel found a segment (the report's `channel`), or what a `ChannelEvidence` covers."""

    #: Whole-frame and region perceptual hashes (`hashing`), aligned by `find_matches`.
    FRAMES = "frames"
    #: Local descriptors verified by a fitted similarity (`features`), aligned by `find_feature_matches`.
    FEATURES = "features"
    #: The sound track's Chromaprint items (`audio`), aligned by `find_sound_matches`.
    AUDIO = "audio"


@dataclass(frozen=True)
class ChannelEvidence:
    """What one channel shows over a match: its span, offset and score.

    For ``frames`` or ``features``: the picture's alignment (`score` the segment's). For
    ``audio``: the sound's, where `ber` is the mean bit error rate of the
    aligned Chromaprint items (about 0.05 for a re-encoded copy, about 0.5 for
    unrelated sound), `chance_ber` and `agreement` how far it is from what
    unrelated sound would give, `items` how many were compared, `seconds` the
    (query second, BER) of each aligned second, and `verdict` what the sound
    says (`SoundVerdict`).
    """

    channel: str
    query_start_s: float
    query_end_s: float
    offset_s: float
    score: float
    ber: float | None = None
    items: int = 0
    seconds: tuple[tuple[float, float], ...] = ()
    verdict: str | None = None
    #: Sound: the bit error rate unrelated sound with these items' bit frequencies would give.
    chance_ber: float | None = None
    #: Sound: agreement beyond that chance, 0-1 (`audio.SoundAlignment.agreement`).
    agreement: float | None = None
    #: Sound: the clip's landmarks at this offset, when landmarks found the sound (`find_sound_by_marks`).
    landmarks: int | None = None
    #: Sound: the distinct peaks of the clip that anchor those landmarks (what `find_sound_by_marks` counts).
    anchors: int | None = None
    #: Sound over a picture match: what the sound lookup (`find_sound_matches`) heard of this reference
    #: where it differs from the picture's alignment, and which of the two the match follows and why.
    note: str | None = None
    #: Sound over a picture match: True where the sound, not the picture, places the match in the
    #: reference (the picture's moment was not pinned, `Verification.moment_shown`; the sound's is).
    pins_moment: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = [list(x) for x in self.seconds]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChannelEvidence:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["seconds"] = tuple((float(a), float(b)) for a, b in data.get("seconds", ()))
        return cls(**values)


@dataclass(frozen=True)
class MatchSegment:
    """Query span <-> reference span, with the evidence behind it.

    Times are seconds. ``reference_t = offset_s + speed * query_t``; a
    negative `speed` plays the footage backwards (the reference span still
    runs from `reference_start_s` up to `reference_end_s`).
    `frames_matched` of `frames_total` informative query frames inside the
    span are within `FRAME_MATCH_DISTANCE` of the reference frame they align
    with; `mean_distance` is over the matched frames. `query_variant` and
    `reference_variant` name the hashed regions and operation that matched;
    `alterations` is the diagnosis of how the query differs (filled in by
    `diagnose.diagnose_match`; empty as the matcher finds the segment).
    """

    reference: Reference
    score: float
    query_start_s: float
    query_end_s: float
    reference_start_s: float
    reference_end_s: float
    offset_s: float
    speed: float
    mirrored: bool
    frames_matched: int
    frames_total: int
    mean_distance: float
    query_variant: str = "full/none"
    reference_variant: str = "full"
    alterations: tuple[Alteration, ...] = ()
    pairs: tuple[tuple[float, float, int], ...] = ()
    verification: Verification | None = None
    #: The channel that found the segment.
    channel: str = Channel.FRAMES
    #: What the local features' fitted similarity measured (angle, zoom, crop box, where in
    #: the query frame the footage sits), when that channel registered the footage.
    geometry: Geometry | None = None
    #: Each channel's evidence over the segment (the picture's, and the sound's when compared).
    channels: tuple[ChannelEvidence, ...] = ()
    #: The part of the query frame searched as a picture of its own where the footage was found
    #: (a split screen's pane, an inner picture; fractions x0, y0, x1, y1), None for the whole frame.
    region: tuple[float, float, float, float] | None = None
    #: No speed, direction or trim can be told of this segment (a held frame, or what moves fits no
    #: speed in the range searched): its `speed` and `offset_s` are the alignment's, not measurements.
    speed_untold: bool = False
    #: Why, when `speed_untold` (`SpeedUntold`'s value); None otherwise, and in reports made before it.
    speed_untold_why: str | None = None

    @property
    def relation(self) -> Relation:
        """Same footage, same scene, or not verified (`verify`): only the same footage dates a clip."""
        return self.verification.relation if self.verification is not None else Relation.UNVERIFIED

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reference"] = self.reference.to_dict()
        data["alterations"] = [a.to_dict() for a in self.alterations]
        data["pairs"] = [list(p) for p in self.pairs]
        data["relation"] = str(self.relation)
        data["verification"] = self.verification.to_dict() if self.verification is not None else None
        data["channel"] = str(self.channel)
        data["geometry"] = self.geometry.to_dict() if self.geometry is not None else None
        data["channels"] = [c.to_dict() for c in self.channels]
        data["region"] = list(self.region) if self.region is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchSegment:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["reference"] = Reference.from_dict(data["reference"])
        values["alterations"] = tuple(Alteration.from_dict(a) for a in data.get("alterations", ()))
        values["pairs"] = tuple((float(a), float(b), int(c)) for a, b, c in data.get("pairs", ()))
        if data.get("verification"):
            values["verification"] = Verification.from_dict(data["verification"])
        values["geometry"] = Geometry.from_dict(data["geometry"]) if data.get("geometry") else None
        values["channels"] = tuple(ChannelEvidence.from_dict(c) for c in data.get("channels", ()))
        region = data.get("region")
        values["region"] = tuple(float(v) for v in region) if region else None
        return cls(**values)


def score_segment(frames_matched: int, frames_total: int, mean_distance: float) -> float:
    """A 0-1 confidence from the matched frames, their share of the span and their distance.

    It grows with the number of matched frames (saturating, so long clips and
    short clips are comparable), is scaled by the share of the span's frames
    that match, and drops as the matched frames get farther from the reference.
    """
    if frames_total <= 0 or frames_matched <= 0:
        return 0.0
    strength = 1.0 - math.exp(-frames_matched / SCORE_FRAMES_SCALE)
    coverage = frames_matched / frames_total
    closeness = 1.0 - 0.5 * min(1.0, mean_distance / FRAME_MATCH_DISTANCE)
    return round(strength * coverage * closeness, 4)


def score_image(distance: float) -> float:
    """Confidence of a still image matching one frame, from their distance alone."""
    if distance > IMAGE_MATCH_DISTANCE:
        return 0.0
    return round(1.0 - 0.5 * distance / IMAGE_MATCH_DISTANCE, 4)


@dataclass(frozen=True)
class _Hypothesis:
    ref_id: int
    q_variant: int
    r_variant: int
    speed: float
    offset: float
    votes: int


class _Votes:
    """Every candidate hit's votes, packed and sorted once per query.

    Each hit votes for (reference, query variant, reference variant, speed,
    offset bin) at every speed in `SPEEDS`, and for the neighbouring offset
    bin too (a hit near a bin edge supports both). A vote is one int64,
    fields from most to least significant: reference, query variant,
    reference variant, speed, offset bin, query frame; sorting integers is
    ~100x faster than np.unique(axis=0) on rows, and the packed order is the
    rows' lexicographic order. The table keeps one vote per query frame per
    bin; later search rounds drop the frames already explained without
    sorting again.
    """

    def __init__(
        self,
        query: FrameHashes,
        cands: Candidates,
        image_refs: set[int],
        speeds: tuple[float, ...] = SPEEDS,
        pivot: float = 0.0,
    ) -> None:
        # Offsets are binned at query time `pivot` (reference_t there): the
        # wide search pivots on the query's middle, so a coarse speed grid
        # still lands a long clip's hits in neighbouring bins.
        self.speeds = speeds
        self.pivot = pivot
        rows = cands.query_row
        ref_ids = cands.ref_id.astype(np.int64)
        ref_t = cands.ref_t
        rv = cands.ref_variant.astype(np.int64)
        qt = query.times[rows]
        qv = query.variants[rows].astype(np.int64)
        is_image = np.isin(ref_ids, list(image_refs)) if image_refs else np.zeros(len(rows), bool)
        self.refs, ref_dense = np.unique(ref_ids, return_inverse=True)
        self.frame_ms, frame_dense = np.unique(np.round(qt * 1000).astype(np.int64), return_inverse=True)
        speeds_col, bins_col = [], []
        for s_idx, speed in enumerate(speeds):
            bins = np.floor((ref_t - speed * (qt - pivot)) / OFFSET_BIN_S).astype(np.int64)
            bins = np.where(is_image, 0, bins)
            s_col = np.where(is_image, 0, s_idx)
            for shift in (0, 1):  # a hit near a bin edge also supports the neighbour bin
                speeds_col.append(s_col)
                bins_col.append(bins - shift * (~is_image))
        n_keys = len(speeds) * 2
        all_bins = np.concatenate(bins_col) if len(rows) else np.zeros(0, np.int64)
        self.low_bin = int(all_bins.min()) if len(all_bins) else 0
        self.widths = [
            _bits(len(self.refs)),
            _bits(int(qv.max()) + 1 if len(qv) else 1),
            _bits(int(rv.max()) + 1 if len(rv) else 1),
            _bits(len(speeds)),
            _bits(int(all_bins.max()) - self.low_bin + 1 if len(all_bins) else 1),
            _bits(len(self.frame_ms)),
        ]
        if sum(self.widths) > 62:
            raise ValueError(f"vote keys need {sum(self.widths)} bits")  # ~10^18 distinct votes: not reachable
        fields = [
            np.tile(ref_dense, n_keys),
            np.tile(qv, n_keys),
            np.tile(rv, n_keys),
            np.concatenate(speeds_col).astype(np.int64) if len(rows) else np.zeros(0, np.int64),
            all_bins - self.low_bin,
            np.tile(frame_dense, n_keys),
        ]
        packed = np.zeros(len(all_bins), dtype=np.int64)
        for width, values in zip(self.widths, fields, strict=True):
            packed = (packed << width) | values
        packed.sort()
        self.table = packed[_firsts(packed)]
        self.single_frame = len(np.unique(query.times)) <= 1

    def best(self, query: FrameHashes, explained: np.ndarray) -> list[_Hypothesis]:
        """The best vote bins from frames not yet explained by a segment."""
        table = self.table
        frame_bits = self.widths[-1]
        if explained.any():
            gone_ms = np.unique(np.round(query.times[explained] * 1000).astype(np.int64))
            gone = np.isin(self.frame_ms, gone_ms)
            table = table[~gone[table & ((1 << frame_bits) - 1)]]
        if len(table) == 0:
            return []
        keys = table >> frame_bits  # still sorted
        first = _firsts(keys)
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, len(keys)))
        keys = keys[first]
        bins_only = np.empty((len(keys), 5), dtype=np.int64)
        for col in range(4, -1, -1):
            bins_only[:, col] = keys & ((1 << self.widths[col]) - 1)
            keys = keys >> self.widths[col]
        bins_only[:, 0] = self.refs[bins_only[:, 0]]
        bins_only[:, 4] += self.low_bin
        # Most votes first; among equals, the speed nearest 1 (static shots vote for every speed).
        speed_gap = np.abs(np.log(np.abs(np.asarray(self.speeds)[bins_only[:, 3]])))
        order = np.lexsort((speed_gap, -counts))
        out: list[_Hypothesis] = []
        for i in order[: TOP_BINS * 4]:
            if counts[i] < MIN_VOTES and not self.single_frame:
                break
            rid, q_var, r_var, s_idx, b = (int(v) for v in bins_only[i])
            speed = self.speeds[s_idx]
            offset = (b + 1) * OFFSET_BIN_S - speed * self.pivot
            out.append(_Hypothesis(rid, q_var, r_var, speed, offset, int(counts[i])))
        return out


def _firsts(values: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal values in a sorted array."""
    first = np.ones(len(values), dtype=bool)
    first[1:] = values[1:] != values[:-1]
    return first


def _bits(n: int) -> int:
    """Bits that hold the values 0 .. n-1 (at least one)."""
    return max(1, int(n - 1).bit_length())


def _align(
    q_t: np.ndarray,
    q_h: np.ndarray,
    ref_t: np.ndarray,
    ref_h: np.ndarray,
    ref_fps: float,
    offset: float | np.ndarray,
    speed: float | np.ndarray,
) -> np.ndarray:
    """Distance of each query frame to the reference frame(s) it aligns with under (offset, speed).

    `offset` and `speed` may be arrays of K alignments (broadcast together);
    the result then has shape (K, len(q_t)), one row per alignment.
    """
    offset_a, speed_a = np.broadcast_arrays(np.asarray(offset, dtype=np.float64), np.asarray(speed, dtype=np.float64))
    predicted = offset_a[..., None] + speed_a[..., None] * q_t
    out = np.full(predicted.shape, 64, dtype=np.int16)
    if len(ref_t) == 0:
        return out
    tol = 0.5 / max(ref_fps, 0.1) + ALIGN_SLACK_S
    idx = np.searchsorted(ref_t, predicted)
    for j in (idx - 1, idx):
        jj = np.clip(j, 0, len(ref_t) - 1)
        near = np.abs(ref_t[jj] - predicted) <= tol
        d = hamming(ref_h[jj], q_h)
        out = np.where(near, np.minimum(out, d), out)
    return out


@dataclass(frozen=True)
class CropDistances:
    """How near a centre-crop match's frames are to the stored crop and to the reference's whole frames.

    Mean Hamming distances (bits of 64) over the query frames within
    `FRAME_MATCH_DISTANCE` of the crop: to the crop, to the whole frames at
    the same alignment, and to the whole frames at the offset (same speed)
    where they fit best (`whole_frame_offset_s`).
    """

    to_crop: float
    to_whole_frame: float
    to_whole_frame_any_moment: float
    whole_frame_offset_s: float


@dataclass(frozen=True)
class SpeedEvidence:
    """What the frame distances say about a segment's speed (see `_speed_evidence`)."""

    speed: float
    offset: float
    interval: tuple[float, float]
    distance_at_best: float
    distance_at_normal: float
    #: Measured by the wide search's line fit (`speed` may then be negative,
    #: `interval` is of |speed|), not by the scan of `SPEED_SCAN`.
    fitted: bool = False
    #: Measured on what moves (`verify.motion_speed`): the distances are the moving
    #: cells' (frame standard deviations), not hash bits; `interval` is of |speed|.
    motion: bool = False
    #: ... and the plausible interval runs on past an end of the range tried: no speed is told.
    unbounded: bool = False
    #: ... or it lies `SPEED_MIN_CHANGE` or more from the matcher's speed, which it beats by less than
    #: `verify.MOTION_SPEED_RATIO`: neither speed is told, nor the moment the matcher's speed places.
    contested: bool = False

    @property
    def reversed(self) -> bool:
        """The clip plays the footage backwards."""
        return self.speed < 0

    @property
    def at_range_edge(self) -> bool:
        """The speed lies at an end of the searched range: the footage may run faster or slower than searched."""
        magnitude = abs(self.speed)
        return magnitude <= MIN_SPEED * (1.0 + SPEED_EDGE) or magnitude >= MAX_SPEED * (1.0 - SPEED_EDGE)

    @property
    def changed(self) -> bool:
        if self.motion:
            lo, hi = self.interval
            return lo >= 1.0 + SPEED_MIN_CHANGE or hi <= 1.0 - SPEED_MIN_CHANGE
        if self.fitted:
            return abs(abs(self.speed) - 1.0) >= SPEED_MIN_CHANGE
        lo, hi = self.interval
        away = lo >= 1.0 + SPEED_MIN_CHANGE or hi <= 1.0 - SPEED_MIN_CHANGE
        gain = self.distance_at_normal - self.distance_at_best
        return (
            away
            and gain >= SPEED_EVIDENCE_DISTANCE
            and self.distance_at_best <= SPEED_EVIDENCE_RATIO * self.distance_at_normal
        )


def _speed_evidence(
    q_t: np.ndarray, q_h: np.ndarray, ref_t: np.ndarray, ref_h: np.ndarray, ref_fps: float, offset: float, speed: float
) -> SpeedEvidence | None:
    """Scan `SPEED_SCAN` around an alignment, pivoting on the middle of the query.

    For each speed the best of `SPEED_SCAN_OFFSETS` is kept by mean distance
    over the query frames that land near a reference sample; None for runs
    shorter than `SPEED_MIN_FRAMES` or when too few frames land anywhere.
    """
    if len(q_t) < SPEED_MIN_FRAMES or len(ref_t) == 0:
        return None
    t_mid = float(np.median(q_t))
    r_mid = offset + speed * t_mid
    sps = np.repeat(np.asarray(SPEED_SCAN), len(SPEED_SCAN_OFFSETS))
    offs = r_mid + np.tile(np.asarray(SPEED_SCAN_OFFSETS), len(SPEED_SCAN)) - sps * t_mid
    d = _align(q_t, q_h, ref_t, ref_h, ref_fps, offs, sps).astype(np.float64)
    evaluable = _evaluable(q_t, ref_t, ref_fps, offs, sps)
    n = evaluable.sum(axis=1)
    mean = np.where(n >= MIN_MATCHED_FRAMES, (d * evaluable).sum(axis=1) / np.maximum(n, 1), np.inf)
    per_speed = mean.reshape(len(SPEED_SCAN), len(SPEED_SCAN_OFFSETS))
    best_off = per_speed.argmin(axis=1)
    best_d = per_speed.min(axis=1)
    if not np.isfinite(best_d).any():
        return None
    k = int(best_d.argmin())
    plausible = np.nonzero(best_d <= best_d[k] + SPEED_INTERVAL_DISTANCE)[0]
    lo, hi = int(plausible.min()), int(plausible.max())
    # On a slow pan the distance valley is flat: its single lowest point moves
    # with noise, the middle of the plausible interval much less.
    mid = (lo + hi) // 2 if best_d[(lo + hi) // 2] <= best_d[k] + SPEED_INTERVAL_DISTANCE else k
    normal = SPEED_SCAN.index(1.0)
    return SpeedEvidence(
        speed=SPEED_SCAN[mid],
        offset=float(offs[mid * len(SPEED_SCAN_OFFSETS) + best_off[mid]]),
        interval=(SPEED_SCAN[lo], SPEED_SCAN[hi]),
        distance_at_best=round(float(best_d[k]), 3),
        distance_at_normal=round(float(best_d[normal]), 3),
    )


def _evaluable(
    q_t: np.ndarray, ref_t: np.ndarray, ref_fps: float, offset: float | np.ndarray, speed: float | np.ndarray
) -> np.ndarray:
    """Query frames that land close to a stored reference frame under (offset, speed).

    References are sampled sparser than queries, so in fast motion a query
    frame half-way between two reference samples may differ from both: its
    failing to match is no evidence against the alignment. `offset` and
    `speed` may be arrays of K alignments, as for `_align`.
    """
    offset_a, speed_a = np.broadcast_arrays(np.asarray(offset, dtype=np.float64), np.asarray(speed, dtype=np.float64))
    predicted = offset_a[..., None] + speed_a[..., None] * q_t
    if len(ref_t) == 0:
        return np.zeros(predicted.shape, dtype=bool)
    idx = np.clip(np.searchsorted(ref_t, predicted), 1, max(1, len(ref_t) - 1))
    gap = np.minimum(np.abs(ref_t[idx - 1] - predicted), np.abs(ref_t[np.minimum(idx, len(ref_t) - 1)] - predicted))
    return gap <= EVALUABLE_FRACTION / max(ref_fps, 0.1)


def _best_run(matched: np.ndarray, evaluable: np.ndarray | None = None) -> tuple[int, int]:
    """[start, end) of the run maximising matched - MISS_PENALTY * evaluable misses (Kadane)."""
    miss = -MISS_PENALTY if evaluable is None else np.where(evaluable, -MISS_PENALTY, 0.0)
    gains = np.where(matched, 1.0, miss)
    best, best_span = -math.inf, (0, 0)
    total, start = 0.0, 0
    for i, g in enumerate(gains.tolist()):
        if total <= 0:
            total, start = 0.0, i
        total += g
        if total > best:
            best, best_span = total, (start, i + 1)
    return best_span


def _variant_name(code: int) -> str:
    region, op = variant_parts(code)
    return f"{REGIONS.get(region, region)}/{OPS.get(op, op)}"


@dataclass(frozen=True)
class Alignment:
    """A segment as the matcher found it, with what its alignment showed.

    `segment` is scored and placed but not yet diagnosed (no alterations).
    `query_variant` and `reference_variant` are the variant codes that matched
    (`hashing.variant`); `query_span` and `reference_span` the spans in
    seconds before the segment rounds them (the diagnosis measures trims
    and embeds on these); `speed_evidence` what the frame distances say
    about the speed (None when the segment was not scanned for it).
    """

    segment: MatchSegment
    query_variant: int
    reference_variant: int
    query_span: tuple[float, float]
    reference_span: tuple[float, float]
    speed_evidence: SpeedEvidence | None = None
    #: The verified frame pairs of a features segment (query time, reference time, the fitted map).
    feature_pairs: tuple[FramePair, ...] = ()
    #: The speed what moves shows where it contradicts this alignment's (`verify.motion_speed`);
    #: the pipeline then aligns the segment at it (`at_motion_speed`).
    motion_speed: SpeedEvidence | None = None
    #: Why no speed, direction or trim is said of this alignment (`SpeedUntold`), None when one may be:
    #: what moves shows that its speed is wrong but fits speeds beyond the range tried, or prefers another
    #: without a clear win, or the clip holds one frame over the segment (`held_frame`).
    speed_untold: SpeedUntold | None = None
    #: The span of the clip that holds one picture still (`verify.held_frame`), when the segment is one.
    held_frame: HeldFrame | None = None
    #: A centre-crop match's mean distances to the crop and to the whole frames (`crop_distances`).
    crop_distances: CropDistances | None = None


def find_matches(
    query: FrameHashes,
    index: Index,
    *,
    query_fps: float,
    query_duration_s: float,
    query_is_image: bool = False,
    max_segments: int = 10,
    exclude: Collection[int] = (),
) -> list[Alignment]:
    """Find the reference segments a query's frames come from, best first.

    Args:
        query: hashes of the query's informative frames, in every variant.
        index: the reference index.
        query_fps: the query's sampling rate (one frame covers 1/query_fps s).
        query_duration_s: the query's duration, to bound spans.
        query_is_image: the query is a still image (one frame).
        max_segments: most segments returned.
        exclude: ids of references not to align (searched already: `pipeline._elsewhere`).

    Returns:
        Segments of any score, best first, each with its `Alignment`; callers
        diagnose them (`diagnose.diagnose_match`) and split them at
        `MATCH_THRESHOLD`.
    """
    if len(query) == 0:
        return []
    cands = index.lookup(query.hashes, CANDIDATE_DISTANCE)
    if len(exclude) and len(cands):
        keep = ~np.isin(cands.ref_id, np.fromiter(exclude, dtype=np.int64))
        cands = Candidates(
            cands.query_row[keep], cands.ref_id[keep], cands.ref_t[keep], cands.ref_variant[keep], cands.distance[keep]
        )
    if len(cands) == 0:
        return []
    explained = np.zeros(len(query), dtype=bool)
    ref_rows: dict[int, FrameHashes] = {}
    refs = index.get_many(np.unique(cands.ref_id).tolist())
    image_refs = {rid for rid, r in refs.items() if r.kind == "image"}
    search = _Search(query_is_image, 1.0 / query_fps if query_fps > 0 else 1.0, query_duration_s)
    found: list[Alignment] = []
    votes = _Votes(query, cands, image_refs)
    while len(found) < max_segments:
        best: tuple[Alignment, _Trial] | None = None
        for hyp in votes.best(query, explained)[: TOP_BINS * 2]:
            ref = refs.get(hyp.ref_id)
            if ref is None:
                continue  # removed since the lookup
            if hyp.ref_id not in ref_rows:
                ref_rows[hyp.ref_id] = index.frame_hashes(hyp.ref_id)
            stored = ref_rows[hyp.ref_id].select(hyp.r_variant)
            rows = np.nonzero((query.variants == hyp.q_variant) & ~explained)[0]
            if len(rows) == 0 or len(stored) == 0:
                continue
            trial = _Trial(hyp, ref, stored, query.times[rows], query.hashes[rows])
            aligned = _verify(trial, search)
            if aligned is None:
                continue
            if best is None or aligned.segment.score > best[0].segment.score:
                best = (aligned, trial)
        if best is None or (found and best[0].segment.frames_matched < MIN_MATCHED_FRAMES):
            break
        # Only the round's winner is checked for a speed change (a scan of 36 speeds).
        aligned = _verify(best[1], search, check_speed=True) or best[0]
        seg = aligned.segment
        in_span = (query.times >= seg.query_start_s - 1e-6) & (query.times < seg.query_end_s - 1e-6)
        if query_is_image:
            in_span = np.ones(len(query), dtype=bool)
        found.append(aligned)
        explained |= in_span
        if explained.all() or seg.score < STOP_BELOW_SCORE:
            break
    found = _merge(found, search.step)
    if not query_is_image and _wide_search_needed(found, query):
        found = _wide_search(query, index, cands, refs, ref_rows, search, found, max_segments)
    found.sort(key=lambda a: a.segment.score, reverse=True)
    return found


def at_motion_speed(found: Alignment, query: FrameHashes, index: Index, *, query_fps: float) -> Alignment | None:
    """A frame-hash segment aligned again at the speed and offset what moves showed (`Alignment.motion_speed`).

    On a fixed camera every speed fits the still background, and the vote
    keeps x1; verify's moving cells tell the speed. The query frames of the
    segment's span are aligned with the reference's stored hashes at that
    speed and offset and the segment re-scored (`_segment`); it keeps its
    verification, channel and geometry, and carries the motion's evidence.

    Returns:
        The new alignment, or None when no query frame matches at that speed.
    """
    evidence = found.motion_speed
    seg = found.segment
    if evidence is None or seg.channel != Channel.FRAMES or seg.reference.kind != "video":
        return None
    stored = index.frame_hashes(seg.reference.id).select(found.reference_variant)
    span = (query.times >= seg.query_start_s - 1e-6) & (query.times < seg.query_end_s - 1e-6)
    rows = np.nonzero((query.variants == found.query_variant) & span)[0]
    if len(rows) == 0 or len(stored) == 0:
        return None
    hyp = _Hypothesis(
        seg.reference.id, found.query_variant, found.reference_variant, evidence.speed, evidence.offset, 0
    )
    trial = _Trial(hyp, seg.reference, stored, query.times[rows], query.hashes[rows])
    offset, speed = evidence.offset, evidence.speed
    dist = _align(trial.q_t, trial.q_h, stored.times, stored.hashes, seg.reference.sample_fps, offset, speed)
    fit = _Fit(offset, speed, dist, offset + speed * trial.q_t, evidence)
    step = 1.0 / query_fps if query_fps > 0 else 1.0
    aligned = _segment(trial, _Search(False, step, seg.query_end_s), fit)
    if aligned is None:
        return None
    moved = replace(aligned.segment, verification=seg.verification, channel=seg.channel, geometry=seg.geometry)
    return replace(aligned, segment=moved, feature_pairs=found.feature_pairs)


def on_line(found: Alignment, offset_s: float, speed: float) -> Alignment:
    """The alignment placed on the line reference_t = offset_s + speed * query_t, within the reference: its
    offset, speed, reference span and aligned pairs' reference times move; its query span, the pairs'
    distances and the registered frame pairs (the geometry) stay."""
    seg = found.segment
    q0, q1 = found.query_span
    r0, r1 = offset_s + speed * q0, offset_s + speed * q1
    if speed < 0:
        r0, r1 = r1, r0
    end = float(seg.reference.duration_s) or math.inf
    r0, r1 = min(max(0.0, r0), end), min(max(0.0, r1), end)

    def at(t: float) -> float:
        return round(min(max(offset_s + speed * t, 0.0), end), 3)

    moved = replace(
        seg,
        offset_s=round(offset_s, 3),
        speed=round(speed, 4),
        reference_start_s=round(r0, 3),
        reference_end_s=round(max(r0, r1), 3),
        pairs=tuple((q, at(q), d) for q, _r, d in seg.pairs),
    )
    return replace(found, segment=moved, reference_span=(r0, max(r0, r1)))


def features_at_speed(found: Alignment, evidence: SpeedEvidence, offset_s: float) -> Alignment:
    """A features segment placed on the line what moves measured (`verify.motion_speed`): speed and offset.

    The features channel's line runs through frames registered once a second, so its speed is
    no measure (`diagnose.speed_untold`); where what moves measures it, the segment moves to that
    line (`on_line`) and carries the measure (`speed_evidence`, ``motion``), so its speed,
    direction and trims are told from it.
    """
    return replace(
        on_line(found, offset_s, float(evidence.speed)),
        speed_evidence=replace(evidence, offset=offset_s),
        motion_speed=None,
        speed_untold=None,
    )


def crop_distances(found: Alignment, query: FrameHashes, index: Index) -> CropDistances | None:
    """A centre-crop match's mean distance on its matched frames, and theirs to the reference's whole frames.

    The segment matched one of the reference's stored centre crops
    (`hashing.CENTRE_KEEP`); the same query frames, aligned with the
    reference's whole frames, tell whether the crop fits them better at all:
    a recoloured or grainy copy of the whole frame can land a little nearer a
    crop by chance, and where the camera zooms or pans over a still picture,
    the whole frame of another moment can be the crop's picture (the
    camera's zoom, not an edit's). So the whole frames are aligned at the
    same offset and speed, and at every other offset of the reference at that
    speed, and the nearest is kept beside.

    Args:
        found: the alignment, on the variant of `query` it was found with.
        query: the query's hashes that `found` was found with (a region's own for a region's segment).
        index: the reference index.

    Returns:
        The distances over the query frames within `FRAME_MATCH_DISTANCE` of
        the crop; None for another variant, a features segment or no such frame.
    """
    seg = found.segment
    region, _ = variant_parts(found.reference_variant)
    if region not in CENTRE_KEEP or seg.channel != Channel.FRAMES:
        return None
    stored = index.frame_hashes(seg.reference.id)
    cropped, whole = stored.select(found.reference_variant), stored.select(VARIANT_FULL)
    span = (query.times >= seg.query_start_s - 1e-6) & (query.times < seg.query_end_s - 1e-6)
    rows = np.nonzero((query.variants == found.query_variant) & span)[0]
    if len(rows) == 0 or len(cropped) == 0 or len(whole) == 0:
        return None
    q_t, q_h, fps = query.times[rows], query.hashes[rows], seg.reference.sample_fps
    offset, speed = (0.0, 0.0) if seg.reference.kind == "image" else (seg.offset_s, seg.speed)
    d_crop = _align(q_t, q_h, cropped.times, cropped.hashes, fps, offset, speed)
    near = d_crop <= FRAME_MATCH_DISTANCE
    if not near.any():
        return None
    d_whole = _align(q_t, q_h, whole.times, whole.hashes, fps, offset, speed)
    at_same = float(d_whole[near].mean())
    at_best, best_offset = at_same, offset
    if seg.reference.kind != "image" and len(whole.times) > 1:
        step, shift = 1.0 / max(fps, 0.1), speed * q_t[near]
        offsets = np.arange(float(whole.times[0] - shift.max()), float(whole.times[-1] - shift.min()) + step, step)
        for block in np.array_split(offsets, max(1, len(offsets) // 1024)):  # bounded memory on long references
            means = _align(q_t[near], q_h[near], whole.times, whole.hashes, fps, block, speed).mean(axis=1)
            k = int(np.argmin(means))
            if means[k] < at_best:
                at_best, best_offset = float(means[k]), float(block[k])
    return CropDistances(
        to_crop=round(float(d_crop[near].mean()), 2),
        to_whole_frame=round(at_same, 2),
        to_whole_frame_any_moment=round(at_best, 2),
        whole_frame_offset_s=round(best_offset, 3),
    )


def _wide_search_needed(found: list[Alignment], query: FrameHashes) -> bool:
    """Whether the ordinary search's segments leave room for a speed it could not reach.

    So when they explain less than `WIDE_SEARCH_BELOW` of the clip, when the
    best runs at the edge of the ordinary vote's grid (the true speed may lie
    beyond), or when one reference explains the clip in several pieces (a
    reversed clip is found as short forward pieces in falling order).
    """
    if explained_share(found, query) < WIDE_SEARCH_BELOW:
        return True
    strong = [a.segment for a in found if a.segment.score >= MATCH_THRESHOLD]
    if not strong:
        return True
    top = max(strong, key=lambda seg: seg.score)
    if top.speed <= SPEEDS[0] * (1.0 + SPEED_STEPS[-1]) or top.speed >= SPEEDS[-1] * (1.0 + SPEED_STEPS[0]):
        return True
    return sum(seg.reference.id == top.reference.id for seg in strong) > 1


def explained_share(found: list[Alignment], query: FrameHashes) -> float:
    """Share of the query's sampled times inside the span of a segment at or above `MATCH_THRESHOLD`."""
    times = np.unique(query.times)
    inside = np.zeros(len(times), dtype=bool)
    for a in found:
        if a.segment.score >= MATCH_THRESHOLD:
            inside |= (times >= a.segment.query_start_s - 1e-6) & (times < a.segment.query_end_s - 1e-6)
    return float(inside.mean()) if len(times) else 1.0


def wide_speeds() -> tuple[float, ...]:
    """The wide search's speed grid: log-spaced |speed| over [MIN_SPEED, MAX_SPEED], forwards then backwards.

    Returns:
        Signed speeds (reference s per query s), steps of `WIDE_SPEED_STEP`.
    """
    n = math.ceil(math.log(MAX_SPEED / MIN_SPEED) / math.log(1.0 + WIDE_SPEED_STEP))
    magnitudes = np.geomspace(MIN_SPEED, MAX_SPEED, n + 1)
    return tuple(float(v) for v in magnitudes) + tuple(-float(v) for v in magnitudes)


def _ordinary_reach(speed: float) -> bool:
    """A forward speed the ordinary search (votes on `SPEEDS`, refined, scanned over `SPEED_SCAN`) can reach."""
    lo = min(SPEEDS[0] * (1.0 + SPEED_STEPS[0]), SPEED_SCAN[0])
    hi = max(SPEEDS[-1] * (1.0 + SPEED_STEPS[-1]), SPEED_SCAN[-1])
    return lo <= speed <= hi


def _wide_search(
    query: FrameHashes,
    index: Index,
    cands: Candidates,
    refs: dict[int, Reference],
    ref_rows: dict[int, FrameHashes],
    search: _Search,
    found: list[Alignment],
    max_segments: int,
) -> list[Alignment]:
    """Search speeds the ordinary vote cannot reach: 0.25x-4x and reversed, fitted by a line over the matched frames.

    Votes go over `wide_speeds()` pivoting on the query's middle; the best
    bins are fitted (`_line_fit`) and scored like any segment. A wide segment
    is kept only when it plays backwards or outside the ordinary reach, scores
    at least `MATCH_THRESHOLD`, matches more query frames than any ordinary
    segment of its reference that overlaps it (or as many, at least
    `SPEED_EVIDENCE_DISTANCE` closer) and at least `WIDE_REPLACE_SHARE` of
    those they match together, and no segment of another reference scoring
    as high covers half its span, and no whole-frame segment of another
    reference lies (by half of it or more) inside its span (footage cut into
    the middle of a clip: a line through the two pieces around it fits a
    false speed); it then replaces them.
    """
    video = np.asarray([refs.get(int(r)) is not None and refs[int(r)].kind == "video" for r in cands.ref_id], bool)
    if not video.any():
        return found
    sub = Candidates(
        cands.query_row[video], cands.ref_id[video], cands.ref_t[video], cands.ref_variant[video], cands.distance[video]
    )
    t_mid = float(np.median(query.times))
    votes = _Votes(query, sub, set(), speeds=wide_speeds(), pivot=t_mid)
    explained = np.zeros(len(query), dtype=bool)
    out = list(found)
    for _ in range(max_segments):
        best: Alignment | None = None
        for hyp in votes.best(query, explained)[: TOP_BINS * 2]:
            if hyp.ref_id not in ref_rows:
                ref_rows[hyp.ref_id] = index.frame_hashes(hyp.ref_id)
            stored = ref_rows[hyp.ref_id].select(hyp.r_variant)
            rows = np.nonzero((query.variants == hyp.q_variant) & ~explained)[0]
            if len(rows) < MIN_MATCHED_FRAMES or len(stored) == 0:
                continue
            trial = _Trial(hyp, refs[hyp.ref_id], stored, query.times[rows], query.hashes[rows])
            for closest in (False, True):
                fit = _line_fit(trial, sub, query, closest=closest)
                aligned = _segment(trial, search, fit) if fit is not None else None
                if aligned is not None and (best is None or _wide_better(aligned, best)):
                    best = aligned
        if best is None or best.segment.score < MATCH_THRESHOLD:
            break
        seg = best.segment
        if seg.speed > 0 and _ordinary_reach(seg.speed):
            break  # the ordinary search already had its chance at this speed
        overlapping = [
            a
            for a in out
            if a.segment.reference.id == seg.reference.id
            and a.segment.query_start_s < seg.query_end_s
            and seg.query_start_s < a.segment.query_end_s
        ]
        before = {t for a in overlapping for t, _, d in a.segment.pairs if d <= FRAME_MATCH_DISTANCE}
        most = max((a.segment.frames_matched for a in overlapping), default=0)
        lowest_d = min((a.segment.mean_distance for a in overlapping), default=math.inf)
        # More frames, or as many and clearly closer (a slow pan matches at many speeds).
        better = seg.frames_matched > most or (
            seg.frames_matched == most and seg.mean_distance + SPEED_EVIDENCE_DISTANCE <= lowest_d
        )
        if not better or seg.frames_matched < WIDE_REPLACE_SHARE * len(before):
            break
        if any(
            a.segment.reference.id != seg.reference.id
            and a.segment.score >= seg.score
            and _overlap(a.segment, seg) > 0.5 * (seg.query_end_s - seg.query_start_s)
            for a in out
        ):
            break  # another reference already explains it as well (a fixed camera's footage fits many ways)
        if any(
            a.segment.reference.id != seg.reference.id
            and a.segment.region is None
            and a.segment.score >= MATCH_THRESHOLD
            and _overlap(a.segment, seg) >= 0.5 * (a.segment.query_end_s - a.segment.query_start_s)
            for a in out
        ):
            break  # other footage cut into its span: the line would bridge a splice with a false speed
        out = [a for a in out if a not in overlapping] + [best]
        explained |= (query.times >= seg.query_start_s - 1e-6) & (query.times < seg.query_end_s - 1e-6)
        if explained.all():
            break
    return sorted(out, key=lambda a: a.segment.score, reverse=True)[:max_segments]


def _overlap(a: MatchSegment, b: MatchSegment) -> float:
    """Seconds of query time two segments share."""
    return max(0.0, min(a.query_end_s, b.query_end_s) - max(a.query_start_s, b.query_start_s))


def _wide_better(a: Alignment, b: Alignment) -> bool:
    """Whether wide fit `a` beats `b`: it explains more of the clip (matched less
    missed frames, as the run was chosen), not a tighter short run; then it is closer."""
    if _explains(a) != _explains(b):
        return _explains(a) > _explains(b)
    return a.segment.mean_distance < b.segment.mean_distance


def _explains(found: Alignment) -> int:
    """Matched frames less missed ones in a segment's span (the value its run maximised)."""
    seg = found.segment
    return 2 * seg.frames_matched - seg.frames_total


def _line_fit(trial: _Trial, cands: Candidates, query: FrameHashes, *, closest: bool) -> _Fit | None:
    """Fit reference_t = offset + speed * query_t to a wide vote's hits, robustly, then align on it.

    Per query frame one hit within `WIDE_FIT_TOLERANCE_S` of the voted line
    is kept, the nearest the line or, with `closest`, the closest hash (on
    slow footage many reference times fit, the closest hash best; on short
    fast clips a close hash at the wrong time misleads); a least-squares line is fitted and
    refitted without pairs farther than `WIDE_FIT_RESIDUAL_S` from it. The
    frame distances then settle the offset and speed on a small grid around
    the fit. None when fewer than `MIN_MATCHED_FRAMES` frames support a line.
    """
    hyp, ref, stored = trial.hyp, trial.ref, trial.stored
    ok = (cands.ref_id == hyp.ref_id) & (cands.ref_variant == hyp.r_variant)
    ok &= query.variants[cands.query_row] == hyp.q_variant
    q_t = query.times[cands.query_row[ok]]
    r_t = cands.ref_t[ok]
    hit_d = cands.distance[ok]
    resid = np.abs(r_t - (hyp.offset + hyp.speed * q_t))
    near = resid <= WIDE_FIT_TOLERANCE_S
    q_t, r_t, resid, hit_d = q_t[near], r_t[near], resid[near], hit_d[near]
    order = np.lexsort((resid, hit_d, q_t)) if closest else np.lexsort((resid, q_t))
    q_t, r_t = q_t[order], r_t[order]
    first = _firsts(q_t)
    q_t, r_t = q_t[first], r_t[first]
    speed, offset = hyp.speed, hyp.offset
    for _ in range(3):
        if len(q_t) < MIN_MATCHED_FRAMES or np.ptp(q_t) <= 0:
            return None
        speed, offset = (float(v) for v in np.polyfit(q_t, r_t, 1))
        keep = np.abs(r_t - (offset + speed * q_t)) <= WIDE_FIT_RESIDUAL_S
        if keep.all():
            break
        q_t, r_t = q_t[keep], r_t[keep]
    if speed == 0 or len(q_t) < MIN_MATCHED_FRAMES:
        return None
    spread = float(np.sqrt(((q_t - q_t.mean()) ** 2).sum()))
    sigma = float(np.sqrt(((r_t - (offset + speed * q_t)) ** 2).sum() / max(1, len(q_t) - 2)))
    slope_error = 2.0 * sigma / spread if spread > 0 else abs(speed)
    # The frame distances settle the fit: small steps of speed (pivoting on
    # the fitted pairs' middle) and offset, the most matched frames winning.
    t_mid = float(np.median(q_t))
    sps = np.repeat(speed * (1.0 + np.asarray(SPEED_STEPS) / 2), 5)
    offs = offset + (speed - sps) * t_mid + np.tile(np.arange(-0.1, 0.101, 0.05), len(SPEED_STEPS))
    d = _align(trial.q_t, trial.q_h, stored.times, stored.hashes, ref.sample_fps, offs, sps)
    m = d <= FRAME_MATCH_DISTANCE
    value = m.sum(axis=1) - FIT_DISTANCE_WEIGHT * np.where(m, d, 0).sum(axis=1)
    k = int(np.argmax(value))
    offset, speed, dist = float(offs[k]), float(sps[k]), d[k]
    evaluable = _evaluable(trial.q_t, stored.times, ref.sample_fps, offset, speed)
    at_best = float(dist[evaluable].mean()) if evaluable.any() else 64.0
    # Normal speed (forwards, x1) kept through the same middle, for comparison.
    r_mid = offset + speed * t_mid
    normal_offs = r_mid - t_mid + np.asarray(SPEED_SCAN_OFFSETS)
    d1 = _align(trial.q_t, trial.q_h, stored.times, stored.hashes, ref.sample_fps, normal_offs, 1.0)
    e1 = _evaluable(trial.q_t, stored.times, ref.sample_fps, normal_offs, 1.0)
    n1 = e1.sum(axis=1)
    at_normal = float(np.min(np.where(n1 > 0, (d1 * e1).sum(axis=1) / np.maximum(n1, 1), 64.0)))
    magnitude = abs(speed)
    evidence = SpeedEvidence(
        speed=round(speed, 3),
        offset=offset,
        interval=(round(max(0.0, magnitude - slope_error), 3), round(magnitude + slope_error, 3)),
        distance_at_best=round(at_best, 3),
        distance_at_normal=round(at_normal, 3),
        fitted=True,
    )
    return _Fit(offset, speed, dist, offset + speed * trial.q_t, evidence)


def _merge(found: list[Alignment], step: float) -> list[Alignment]:
    """Join segments that are the same alignment of the same reference.

    The joined segment keeps the first piece's alignment (its variants and
    speed evidence) with the spans of both.
    """
    out: list[Alignment] = []
    for this in sorted(found, key=lambda a: a.segment.query_start_s):
        seg = this.segment
        for i, first in enumerate(out):
            prev = first.segment
            same = (
                prev.reference.id == seg.reference.id
                and prev.query_variant == seg.query_variant
                and prev.reference_variant == seg.reference_variant
                and abs(prev.speed - seg.speed) <= MERGE_SPEED_TOLERANCE * prev.speed
                and abs(prev.offset_s - seg.offset_s) <= MERGE_OFFSET_S
                and prev.reference.kind == "video"
            )
            if not same:
                continue
            total = max(
                prev.frames_total + seg.frames_total,
                int(
                    round((max(prev.query_end_s, seg.query_end_s) - min(prev.query_start_s, seg.query_start_s)) / step)
                ),
            )
            matched = prev.frames_matched + seg.frames_matched
            mean_d = (prev.mean_distance * prev.frames_matched + seg.mean_distance * seg.frames_matched) / matched
            q0, q1 = min(prev.query_start_s, seg.query_start_s), max(prev.query_end_s, seg.query_end_s)
            r0, r1 = min(prev.reference_start_s, seg.reference_start_s), max(prev.reference_end_s, seg.reference_end_s)
            joined = replace(
                prev,
                # Joining adds span, not doubt: the stronger piece already stood on its own.
                score=max(prev.score, seg.score, score_segment(matched, total, mean_d)),
                query_start_s=q0,
                query_end_s=q1,
                reference_start_s=r0,
                reference_end_s=r1,
                frames_matched=matched,
                frames_total=total,
                mean_distance=round(mean_d, 2),
                pairs=tuple(sorted(prev.pairs + seg.pairs)),
            )
            out[i] = replace(first, segment=joined, query_span=(q0, q1), reference_span=(r0, r1))
            break
        else:
            out.append(this)
    return out


@dataclass(frozen=True)
class _Search:
    """What every trial of one query's search shares."""

    is_image: bool
    step: float  # seconds one query frame covers
    duration_s: float


@dataclass(frozen=True)
class _Trial:
    """One vote bin to verify: its hypothesis, the reference's stored hashes in
    its reference variant, and the query frames of its query variant not yet explained."""

    hyp: _Hypothesis
    ref: Reference
    stored: FrameHashes
    q_t: np.ndarray
    q_h: np.ndarray


@dataclass(frozen=True)
class _Fit:
    """A trial's alignment: reference_t = offset + speed * query_t, with each
    query frame's distance and the reference time it aligns with."""

    offset: float
    speed: float
    dist: np.ndarray
    ref_times: np.ndarray
    evidence: SpeedEvidence | None = None


def _verify(trial: _Trial, search: _Search, *, check_speed: bool = False) -> Alignment | None:
    """Align one hypothesis precisely (`_fit`) and turn it into a scored segment (`_segment`).

    With `check_speed`, the frame distances are also scanned for a speed
    change (`_speed_evidence`); the alignment follows a clear one.
    """
    return _segment(trial, search, _fit(trial, search.is_image, check_speed=check_speed))


def _fit(trial: _Trial, query_is_image: bool, *, check_speed: bool = False) -> _Fit:
    """The offset and speed that best align a trial's query frames with the reference's, refined from the vote."""
    hyp, ref, stored, q_t, q_h = trial.hyp, trial.ref, trial.stored, trial.q_t, trial.q_h
    if ref.kind == "image" or query_is_image:
        # No time axis on one side: every query frame against its nearest stored frame.
        dists = hamming(stored.hashes[None, :], q_h[:, None])
        nearest = dists.argmin(axis=1)
        return _Fit(0.0, 1.0, dists.min(axis=1).astype(np.int16), stored.times[nearest])
    # Coarse to fine: offset at the voted speed, then speed (pivoting on
    # the middle of the query so the alignment there stays put), then offset.
    t_mid = float(np.median(q_t))

    def fit(offs: np.ndarray, sps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each alignment's value (matched frames, less a little for distance and speed) and distances."""
        d = _align(q_t, q_h, stored.times, stored.hashes, ref.sample_fps, offs, sps)
        m = d <= FRAME_MATCH_DISTANCE
        value = m.sum(axis=1) - FIT_DISTANCE_WEIGHT * np.where(m, d, 0).sum(axis=1) - SPEED_PRIOR * np.abs(np.log(sps))
        return value, d

    def improve(
        best: tuple[float, float, float, np.ndarray], offs: np.ndarray, sps: np.ndarray
    ) -> tuple[float, float, float, np.ndarray]:
        """The first of the alignments with the highest value, if it beats `best`."""
        offs, sps = np.broadcast_arrays(offs, sps)
        value, d = fit(offs, sps)
        k = int(np.argmax(value))
        if value[k] > best[0]:
            return float(value[k]), float(offs[k]), float(sps[k]), d[k]
        return best

    start: tuple[float, float, float, np.ndarray] = (-math.inf, hyp.offset, hyp.speed, np.zeros(0))
    deltas = np.arange(-OFFSET_BIN_S, OFFSET_BIN_S + 1e-9, 0.1)
    best_local = improve(start, hyp.offset + deltas, np.asarray(hyp.speed))
    _, off0, sp0, _ = best_local
    sps = hyp.speed * (1.0 + np.asarray(SPEED_STEPS))
    best_local = improve(best_local, off0 + (sp0 - sps) * t_mid, sps)
    _, off0, sp0, _ = best_local
    best_local = improve(best_local, off0 + np.arange(-0.08, 0.081, 0.02), np.asarray(sp0))
    _, offset, speed, dist = best_local
    evidence: SpeedEvidence | None = None
    if check_speed and int((dist <= FRAME_MATCH_DISTANCE).sum()) >= MIN_MATCHED_FRAMES:
        # Speed is judged on the run of footage this alignment explains, not
        # on other footage the clip may hold before or after it.
        a0, b0 = _best_run(dist <= FRAME_MATCH_DISTANCE, _evaluable(q_t, stored.times, ref.sample_fps, offset, speed))
        evidence = _speed_evidence(q_t[a0:b0], q_h[a0:b0], stored.times, stored.hashes, ref.sample_fps, offset, speed)
        if evidence is not None and evidence.changed:
            # The distances show a speed change the vote (which favours normal
            # speed) missed or under-estimated: align at the measured speed.
            d_ev = _align(q_t, q_h, stored.times, stored.hashes, ref.sample_fps, evidence.offset, evidence.speed)
            if (d_ev <= FRAME_MATCH_DISTANCE).sum() >= (dist <= FRAME_MATCH_DISTANCE).sum():
                offset, speed, dist = evidence.offset, evidence.speed, d_ev
    return _Fit(offset, speed, dist, offset + speed * q_t, evidence)


def _segment(trial: _Trial, search: _Search, fit: _Fit) -> Alignment | None:
    """The best run of matching frames under an alignment, scored and placed; None when no frame matches."""
    hyp, ref, stored, q_t = trial.hyp, trial.ref, trial.stored, trial.q_t
    offset, speed, dist, ref_times = fit.offset, fit.speed, fit.dist, fit.ref_times
    query_is_image, step, query_duration_s = search.is_image, search.step, search.duration_s
    limit = IMAGE_MATCH_DISTANCE if query_is_image else FRAME_MATCH_DISTANCE
    matched = dist <= limit
    if not matched.any():
        return None
    if query_is_image:
        i = int(dist.argmin())
        a, b = i, i + 1
        evaluable = np.ones(len(dist), dtype=bool)
    else:
        if ref.kind == "image":
            evaluable = np.ones(len(dist), dtype=bool)
        else:
            evaluable = _evaluable(q_t, stored.times, ref.sample_fps, offset, speed)
        a, b = _best_run(matched, evaluable)
    span_matched = matched[a:b]
    n_m = int(span_matched.sum())
    n_t = int((matched | evaluable)[a:b].sum())
    mean_d = float(dist[a:b][span_matched].mean())
    if query_is_image:
        score = score_image(mean_d)
    else:
        score = score_segment(n_m, n_t, mean_d)
        if n_m < MIN_MATCHED_FRAMES:
            score = min(score, FEW_FRAMES_SCORE)
    q_start = float(q_t[a])
    q_end = float(q_t[b - 1]) + (step if not query_is_image else 0.0)
    if query_duration_s > 0:
        q_end = min(q_end, query_duration_s)
    if ref.kind == "image":
        r_start = r_end = 0.0
    elif query_is_image:
        # A picture has no time axis: its one frame is at query time 0, so the
        # offset is the reference time it matches (verify moves it from there).
        r_start = r_end = offset = float(ref_times[a])
    else:
        r_start, r_end = offset + speed * q_start, offset + speed * q_end
        if speed < 0:  # played backwards: the query's end is the reference's start
            r_start, r_end = r_end, r_start
        r_start = max(0.0, r_start)
        if ref.duration_s > 0:
            r_end = min(ref.duration_s, r_end)
        r_end = max(r_start, r_end)
    pairs = tuple(
        (round(float(t), 3), round(float(rt), 3), int(dd))
        for t, rt, dd in zip(q_t[a:b], ref_times[a:b], dist[a:b], strict=True)
    )
    _, op = variant_parts(hyp.q_variant)
    segment = MatchSegment(
        reference=ref,
        score=score,
        query_start_s=round(q_start, 3),
        query_end_s=round(q_end, 3),
        reference_start_s=round(r_start, 3),
        reference_end_s=round(r_end, 3),
        offset_s=round(offset, 3),
        speed=round(speed, 4),
        mirrored=op in (OP_MIRROR, OP_CCW_MIRROR, OP_CW_MIRROR),
        frames_matched=n_m,
        frames_total=n_t,
        mean_distance=round(mean_d, 2),
        query_variant=_variant_name(hyp.q_variant),
        reference_variant=REGIONS.get(variant_parts(hyp.r_variant)[0], "full"),
        pairs=pairs,
    )
    return Alignment(segment, hyp.q_variant, hyp.r_variant, (q_start, q_end), (r_start, r_end), fit.evidence)


# -- the features channel: verified frame pairs aligned in time --------------------------


def score_features(frames_matched: int, frames_total: int) -> float:
    """A 0-1 confidence of a features segment from its verified frames and their share of the span."""
    if frames_total <= 0 or frames_matched <= 0:
        return 0.0
    strength = 1.0 - math.exp(-frames_matched / FEATURE_SCORE_FRAMES)
    return round(strength * min(1.0, frames_matched / frames_total), 4)


def score_still(inliers: int) -> float:
    """Confidence of a still matched by one verified frame pair, from its inliers."""
    extra = max(0, inliers - features_mod.MIN_INLIERS)
    return round(1.0 - math.exp(-extra / FEATURE_STILL_INLIERS), 4)


def feature_pairs(frames: tuple[FrameFeatures, ...], index: Index) -> list[tuple[int, FramePair]]:
    """The verified (reference id, frame pair)s of query frames: LSH votes, then a fitted similarity.

    Each query descriptor's keys (`features.lsh_keys`) vote for the reference
    frames stored under them; a reference frame's vote is the number of
    distinct descriptors of the query frame that reach it. The
    `features.FRAMES_PER_QUERY_FRAME` best-voted frames with at least
    `features.MIN_VOTES` (`features.STILL_FRAMES` for a single frame) are
    registered (`features.register`).
    """
    if not frames:
        return []
    per_desc = [features_mod.lsh_keys(f.descriptors) for f in frames]
    keys = np.concatenate(per_desc)
    q_frame = np.repeat(np.arange(len(frames)), [len(k) for k in per_desc])
    rows = index.feature_lookup(np.unique(keys))
    if len(rows) == 0:
        return []
    order = np.argsort(rows[:, 0], kind="stable")
    row_keys, row_frames = rows[order, 0], rows[order, 1]
    flat = keys.ravel()
    desc = np.repeat(np.arange(len(keys)), keys.shape[1])
    lo = np.searchsorted(row_keys, flat, side="left")
    n = np.searchsorted(row_keys, flat, side="right") - lo
    hit_desc = np.repeat(desc, n)
    within = np.arange(len(hit_desc)) - np.repeat(np.cumsum(n) - n, n)
    hit_frame = row_frames[np.repeat(lo, n) + within]
    if len(hit_frame) == 0:
        return []
    width = int(hit_frame.max()) + 1
    # One vote per (query descriptor, reference frame), then counted per (query frame, reference frame).
    votes = np.unique(hit_desc.astype(np.int64) * width + hit_frame)
    pair_key = q_frame[votes // width].astype(np.int64) * width + votes % width
    uniq, counts = np.unique(pair_key, return_counts=True)
    qf, rf = uniq // width, uniq % width
    chosen: list[tuple[int, int]] = []
    most = features_mod.STILL_FRAMES if len(frames) == 1 else features_mod.FRAMES_PER_QUERY_FRAME
    for i in np.unique(qf):
        mine = np.nonzero((qf == i) & (counts >= features_mod.MIN_VOTES))[0]
        best = mine[np.argsort(-counts[mine], kind="stable")][:most]
        chosen += [(int(i), int(rf[j])) for j in best]
    chosen += [c for c in _offset_choices(frames, qf, rf, counts, index) if c not in set(chosen)]
    if not chosen:
        return []
    stored = index.feature_frames({r for _, r in chosen})
    out: list[tuple[int, FramePair]] = []
    for i, frame_id in chosen:
        if frame_id not in stored:
            continue  # removed since the lookup
        ref_id, ref_frame = stored[frame_id]
        pair = features_mod.register(frames[i], ref_frame)
        if pair is not None:
            out.append((ref_id, pair))
    return out


def _offset_choices(
    frames: tuple[FrameFeatures, ...], qf: np.ndarray, rf: np.ndarray, counts: np.ndarray, index: Index
) -> list[tuple[int, int]]:
    """(query frame, reference frame) pairs at the `features.OFFSET_BINS` offsets (speed 1) whose votes,
    summed over the query frames (each frame's best reference frame there), lead.

    A frame that shows a small part of a reference gathers few votes and
    rarely ranks its reference frame first; over a clip those weak votes fall
    at one offset, while chance votes scatter.
    """
    if len(frames) < MIN_MATCHED_FRAMES or len(qf) == 0:
        return []
    times = index.feature_frame_times(np.unique(rf).tolist())
    ref = np.array([times.get(int(r), (-1, 0.0))[0] for r in rf])
    r_t = np.array([times.get(int(r), (-1, 0.0))[1] for r in rf])
    q_t = np.array([frames[int(i)].t for i in qf])
    bins = np.round((r_t - q_t) * features_mod.REF_FPS).astype(np.int64)
    keep = np.nonzero((ref >= 0) & (counts >= 2))[0]
    if len(keep) == 0:
        return []
    ref, bins, q, c, frame = ref[keep], bins[keep], qf[keep].astype(np.int64), counts[keep], rf[keep]
    # Per (reference, offset bin, query frame): its best reference frame; then summed per (reference, offset bin).
    order = np.lexsort((-c, q, bins, ref))
    ref, bins, q, c, frame = ref[order], bins[order], q[order], c[order], frame[order]
    group = np.ones(len(ref), dtype=bool)
    group[1:] = (ref[1:] != ref[:-1]) | (bins[1:] != bins[:-1]) | (q[1:] != q[:-1])
    ref, bins, q, c, frame = ref[group], bins[group], q[group], c[group], frame[group]
    pairs_rb = np.stack([ref, bins], axis=1)
    uniq, inverse = np.unique(pairs_rb, axis=0, return_inverse=True)
    totals = np.bincount(inverse.ravel(), weights=c)
    top = np.argsort(-totals, kind="stable")[: features_mod.OFFSET_BINS]
    pick = np.isin(inverse.ravel(), top)
    return [(int(i), int(f)) for i, f in zip(q[pick], frame[pick], strict=True)]


def find_feature_matches(
    query: Features,
    index: Index,
    *,
    query_duration_s: float,
    query_is_image: bool = False,
    query_hashes: FrameHashes | None = None,
    max_segments: int = 10,
) -> list[Alignment]:
    """Segments found by the features channel: verified frame pairs voted into lines in time.

    The query's frames are looked up as described; when no reference has half
    of them registered, its mirrored descriptors are tried too (a mirrored
    copy), and kept when they register more frames on one reference (a tie
    keeps the frames as described): three chance registrations of a mirrored
    copy's 16 frames, at 15-16 inliers, had kept it from being looked up
    mirrored (cases-holdout5 h179). Per reference, the
    line (offset, speed) with most supporting query frames (`_feature_line`)
    becomes a segment; its supporters are taken out and the next is looked for.

    Args:
        query: the query's described frames (`features.describe`, mirrored too).
        index: the reference index (its feature tables).
        query_duration_s: to bound spans.
        query_is_image: the query is a still image.
        query_hashes: the query's frame hashes, to give each segment its mean hash distance.
        max_segments: most segments returned.

    Returns:
        Alignments, best first, their segments with `channel` "features" and their `geometry`.
    """
    used = query.frames
    pairs = feature_pairs(used, index)
    registered = _registered(pairs)
    if registered < len(used) / 2 and query.mirrored:
        flipped = feature_pairs(query.mirrored, index)
        if _registered(flipped) > registered:
            used, pairs = query.mirrored, flipped
    if not pairs:
        return []
    by_time = {f.t: f for f in used}
    refs = index.get_many({rid for rid, _ in pairs})
    q_times = np.unique(np.array([f.t for f in query.frames], dtype=np.float64))
    step = float(np.median(np.diff(q_times))) if len(q_times) > 1 else 1.0 / features_mod.QUERY_FPS
    out: list[Alignment] = []
    for rid in sorted({rid for rid, _ in pairs}):
        ref = refs.get(rid)
        if ref is None:
            continue
        left = [p for r, p in pairs if r == rid]
        while left and len(out) < max_segments * 2:
            found = _feature_alignment(ref, left, q_times, step, query_duration_s, query_is_image, index, query_hashes)
            if found is None:
                break
            out.append(_with_other_moments(found, by_time, index))
            q0, q1 = found.query_span
            rest = [p for p in left if not q0 - 1e-6 <= p.query_t <= q1 + 1e-6]
            if len(rest) == len(left):
                break
            left = rest
    out.sort(key=lambda a: a.segment.score, reverse=True)
    return out[:max_segments]


def _registered(pairs: list[tuple[int, FramePair]]) -> int:
    """The most distinct query frames verified on one reference."""
    frames: dict[int, set[float]] = {}
    for ref_id, pair in pairs:
        frames.setdefault(ref_id, set()).add(pair.query_t)
    return max((len(ts) for ts in frames.values()), default=0)


def _feature_line(q: np.ndarray, r: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float, np.ndarray]:
    """The line through verified pairs (query_t, reference_t) with most distinct supporting query frames.

    Candidates: speed 1 through every pair, and the line through every two
    pairs `FEATURE_LINE_MIN_SPAN_S` apart whose speed lies in the searched
    range; each is valued by its distinct supporting query times, each time
    weighted by its best supporter's `w` (a pair's inliers over the best of its
    query frame: a pan over one photograph registers at every moment, best at
    its own), less `FEATURE_SPEED_PRIOR` per unit of |log speed| (and
    `FEATURE_REVERSE_COST` backwards). Over enough supporters the
    speed is then fitted by least squares.

    Returns:
        (speed, offset, supporters mask).
    """
    speeds = [np.ones(len(q))]
    offsets = [r - q]
    i, j = np.triu_indices(len(q), 1)
    far = np.abs(q[j] - q[i]) >= FEATURE_LINE_MIN_SPAN_S
    i, j = i[far], j[far]
    if len(i):
        s = (r[j] - r[i]) / (q[j] - q[i])
        ok = (np.abs(s) >= MIN_SPEED) & (np.abs(s) <= MAX_SPEED)
        speeds.append(s[ok])
        offsets.append(r[i[ok]] - s[ok] * q[i[ok]])
    sp, off = np.concatenate(speeds), np.concatenate(offsets)
    support = np.abs(r[None, :] - (off[:, None] + sp[:, None] * q[None, :])) <= FEATURE_ALIGN_TOLERANCE_S
    times, dense = np.unique(q, return_inverse=True)
    weight = np.ones(len(q)) if w is None else np.asarray(w, dtype=np.float64)
    distinct = np.zeros((len(sp), len(times)), dtype=bool)
    weighted = np.zeros((len(sp), len(times)))
    for k in range(len(times)):
        at = dense == k
        distinct[:, k] = support[:, at].any(axis=1)
        weighted[:, k] = (support[:, at] * weight[at]).max(axis=1)
    value = weighted.sum(axis=1) - FEATURE_SPEED_PRIOR * np.abs(np.log(np.abs(sp))) - FEATURE_REVERSE_COST * (sp < 0)
    best = int(np.argmax(value))
    speed, offset, mask = float(sp[best]), float(off[best]), support[best]
    if int(distinct[best].sum()) >= FEATURE_FIT_MIN_FRAMES and np.ptp(q[mask]) >= FEATURE_FIT_MIN_SPAN_S:
        fs, fo = (float(v) for v in np.polyfit(q[mask], r[mask], 1))
        if MIN_SPEED <= abs(fs) <= MAX_SPEED:
            fitted = np.abs(r - (fo + fs * q)) <= FEATURE_ALIGN_TOLERANCE_S
            # Only when it explains more frames: reference frames 1/REF_FPS apart put a slope
            # fitted over a few seconds several percent off (5 s: +-10%), and x1 is likeliest.
            if len(np.unique(q[fitted])) > len(np.unique(q[mask])):
                speed, offset, mask = fs, fo, fitted
    # The offset is the median of the supporters' (reference frames are 1/REF_FPS apart).
    offset = float(np.median(r[mask] - speed * q[mask]))
    return speed, offset, mask


def _feature_alignment(
    ref: Reference,
    pairs: list[FramePair],
    q_times: np.ndarray,
    step: float,
    query_duration_s: float,
    query_is_image: bool,
    index: Index,
    query_hashes: FrameHashes | None,
) -> Alignment | None:
    """One segment of one reference from its verified pairs (the best line), scored and placed."""
    q = np.array([p.query_t for p in pairs])
    r = np.array([p.reference_t for p in pairs])
    if query_is_image or ref.kind == "image" or len(np.unique(q)) == 1 and len(q_times) == 1:
        best = max(pairs, key=lambda p: p.geometry.inliers)
        evidence: SpeedEvidence | None = None
        support = [best]
        speed, offset = 1.0, best.reference_t - best.query_t
        q0, q1 = best.query_t, best.query_t if query_is_image else min(best.query_t + step, query_duration_s or 1e9)
        matched, total = 1, 1
        score = score_still(best.geometry.inliers)
    else:
        inliers = np.array([p.geometry.inliers for p in pairs], dtype=np.float64)
        best_of = {t: float(inliers[q == t].max()) for t in np.unique(q)}
        speed, offset, mask = _feature_line(q, r, inliers / np.array([best_of[t] for t in q]))
        chosen = [pairs[k] for k in np.nonzero(mask)[0]]
        # One pair per query frame: the one nearest the line.
        per_time: dict[float, FramePair] = {}
        for p in chosen:
            held = per_time.get(p.query_t)
            resid = abs(p.reference_t - (offset + speed * p.query_t))
            if held is None or resid < abs(held.reference_t - (offset + speed * held.query_t)):
                per_time[p.query_t] = p
        support = [per_time[t] for t in sorted(per_time)]
        q0, q_last = support[0].query_t, support[-1].query_t
        q1 = q_last + step
        if query_duration_s > 0:
            q1 = min(q1, query_duration_s)
        matched = len(support)
        # As for the hashes, a query frame that falls between two described reference frames
        # is no evidence against the line: only those near one count (`EVALUABLE_FRACTION`).
        span = q_times[(q_times >= q0 - 1e-6) & (q_times <= q_last + 1e-6)]
        at = (offset + speed * span) * features_mod.REF_FPS
        near = np.abs(at - np.round(at)) <= EVALUABLE_FRACTION
        on = np.isin(np.round(span, 3), np.round([p.query_t for p in support], 3))
        total = int((near | on).sum())
        score = score_features(matched, total)
        if matched < MIN_MATCHED_FRAMES:
            score = min(score, FEW_FRAMES_SCORE)
        evidence = _feature_speed(support, offset, speed)
    if ref.kind == "image":
        r0 = r1 = 0.0
    elif query_is_image:
        r0 = r1 = support[0].reference_t
    else:
        r0, r1 = offset + speed * q0, offset + speed * q1
        if speed < 0:
            r0, r1 = r1, r0
        r0 = max(0.0, r0)
        if ref.duration_s > 0:
            r1 = min(ref.duration_s, r1)
        r1 = max(r0, r1)
    geometry = features_mod.summarise([p.geometry for p in support])
    mirrored = geometry.mirrored
    q_variant = variant(REGION_FULL, OP_MIRROR if mirrored else OP_NONE)
    distances = _hash_distances(support, ref, index, query_hashes, q_variant, offset, speed)
    mean_d = float(np.mean(distances)) if len(distances) else 64.0
    if evidence is not None:
        t_mid = float(np.median([p.query_t for p in support]))
        normal = _hash_distances(support, ref, index, query_hashes, q_variant, offset + (speed - 1.0) * t_mid, 1.0)
        evidence = replace(
            evidence, distance_at_best=round(mean_d, 3), distance_at_normal=round(float(np.mean(normal)), 3)
        )
    segment = MatchSegment(
        reference=ref,
        score=score,
        query_start_s=round(q0, 3),
        query_end_s=round(q1, 3),
        reference_start_s=round(r0, 3),
        reference_end_s=round(r1, 3),
        offset_s=round(offset, 3),
        speed=round(speed, 4),
        mirrored=mirrored,
        frames_matched=matched,
        frames_total=total,
        mean_distance=round(mean_d, 2),
        query_variant=_variant_name(q_variant),
        reference_variant=REGIONS[REGION_FULL],
        pairs=tuple(
            (round(p.query_t, 3), round(p.reference_t, 3), int(d)) for p, d in zip(support, distances, strict=True)
        ),
        channel=Channel.FEATURES,
        geometry=geometry,
    )
    return Alignment(segment, q_variant, VARIANT_FULL, (q0, q1), (r0, r1), evidence, tuple(support))


def _feature_speed(support: list[FramePair], offset: float, speed: float) -> SpeedEvidence | None:
    """The speed a features line measured, as fitted evidence (`SpeedEvidence.fitted`), when it was fitted
    over `FEATURE_FIT_MIN_FRAMES` spanning `FEATURE_FIT_MIN_SPAN_S`, or plays backwards; else None."""
    q = np.array([p.query_t for p in support])
    r = np.array([p.reference_t for p in support])
    fitted = len(q) >= FEATURE_FIT_MIN_FRAMES and np.ptp(q) >= FEATURE_FIT_MIN_SPAN_S
    if not fitted and speed > 0:
        return None
    spread = float(np.sqrt(((q - q.mean()) ** 2).sum()))
    sigma = float(np.sqrt(((r - (offset + speed * q)) ** 2).sum() / max(1, len(q) - 2)))
    error = 2.0 * sigma / spread if spread > 0 else abs(speed)
    magnitude = abs(speed)
    return SpeedEvidence(
        speed=round(speed, 3),
        offset=offset,
        interval=(round(max(0.0, magnitude - error), 3), round(magnitude + error, 3)),
        distance_at_best=64.0,
        distance_at_normal=64.0,
        fitted=True,
    )


def _hash_distances(
    support: list[FramePair],
    ref: Reference,
    index: Index,
    query_hashes: FrameHashes | None,
    q_variant: int,
    offset: float,
    speed: float,
) -> np.ndarray:
    """Each verified pair's whole-frame hash distance (query frame nearest its time, reference frame on the line).

    What the report shows as the segment's mean hash distance: a features
    segment is found where these are far (a tilt or a crop moves most bits).
    """
    if query_hashes is None or not support:
        return np.full(len(support), 64, dtype=np.int16)
    mine = query_hashes.select(q_variant)
    stored = index.frame_hashes(ref.id).select(VARIANT_FULL)
    if len(mine) == 0 or len(stored) == 0:
        return np.full(len(support), 64, dtype=np.int16)
    at = np.array([p.query_t for p in support])
    nearest = np.clip(np.searchsorted(mine.times, at), 0, len(mine) - 1)
    if ref.kind == "image":
        return hamming(stored.hashes[0], mine.hashes[nearest]).astype(np.int16)
    return _align(mine.times[nearest], mine.hashes[nearest], stored.times, stored.hashes, ref.sample_fps, offset, speed)


def join_channels(frames: list[Alignment], features: list[Alignment]) -> list[Alignment]:
    """The segments of both visual channels, one per finding, best first.

    A features segment over the query span of a frame-hash segment of the
    same reference (overlapping by `JOIN_OVERLAP` of the shorter) is the same
    finding when their offsets are within `JOIN_OFFSET_S`: the frame-hash
    segment is kept when it is a match (its timing is finer: hashes at 2
    frames/s against features at 1), taking the features' geometry and
    verified pairs; below the match threshold the higher-scoring one is kept.
    When their offsets differ, a frame-hash match of that reference already
    explains the span and the features segment (a still background or a pan
    fits several moments) is dropped.
    """
    out = list(frames)
    for extra in features:
        fs = extra.segment
        same, covered = None, False
        for k, a in enumerate(out):
            seg = a.segment
            shorter = min(seg.query_end_s - seg.query_start_s, fs.query_end_s - fs.query_start_s)
            if (
                seg.channel != Channel.FRAMES
                or seg.reference.id != fs.reference.id
                or _overlap(seg, fs) < JOIN_OVERLAP * max(shorter, 1e-6)
            ):
                continue
            if abs(seg.offset_s - fs.offset_s) <= JOIN_OFFSET_S:
                same = k
                break
            covered = covered or seg.score >= MATCH_THRESHOLD
        if same is None:
            if not covered:
                out.append(extra)
        elif out[same].segment.score < MATCH_THRESHOLD and fs.score > out[same].segment.score:
            out[same] = extra
        else:
            kept = out[same]
            out[same] = replace(
                kept, segment=replace(kept.segment, geometry=fs.geometry), feature_pairs=extra.feature_pairs
            )
    out.sort(key=lambda a: a.segment.score, reverse=True)
    return out


def _with_other_moments(found: Alignment, by_time: dict[float, FrameFeatures], index: Index) -> Alignment:
    """The segment with its geometry's `other_moments_ratio` (how well its picture fits other moments)."""
    seg = found.segment
    if seg.geometry is None or seg.reference.kind == "image":
        return found
    ratio = _other_moments(found, by_time, index)
    geometry = replace(seg.geometry, other_moments_ratio=None if ratio is None else round(ratio, 3))
    return replace(found, segment=replace(seg, geometry=geometry))


def shows_its_moment(found: Alignment) -> bool:
    """Whether a features segment may stand as a match: verified the same footage with at least
    `FEATURE_MIN_SPECIFICITY`, or, on a still picture under camera motion, by the camera path
    it repeats (`verify.on_still_picture`: there what moves is the whole picture and no evidence
    either way). Segments of the frames channel are not held to it."""
    seg = found.segment
    if seg.channel != Channel.FEATURES:
        return True
    v = seg.verification
    if v is None or v.relation != Relation.SAME_FOOTAGE:
        return False
    on_path = v.path_drift_px is not None
    return on_path or (v.specificity is not None and v.specificity >= FEATURE_MIN_SPECIFICITY)


def as_place(found: Alignment) -> Alignment:
    """A features segment that does not show its moment (`shows_its_moment`), as what verify showed of it.

    Compared with the reference (same scene, or the same footage below
    `FEATURE_MIN_SPECIFICITY`), it is the same scene: the picture, registered
    by its local features, is of that place, and only the moment is not shown,
    so it is evidence of place and dates nothing. Not compared (no frames, no
    region), it is a candidate (`FEW_FRAMES_SCORE`).
    """
    seg = found.segment
    v = seg.verification
    if v is None or v.relation not in (Relation.SAME_SCENE, Relation.SAME_FOOTAGE):
        return replace(found, segment=replace(seg, score=min(seg.score, FEW_FRAMES_SCORE)))
    if v.relation == Relation.SAME_FOOTAGE:
        v = replace(
            v,
            relation=Relation.SAME_SCENE,
            reason=(
                f"{v.reason}; but on the local features' match the moment stands only at a specificity of "
                f"{FEATURE_MIN_SPECIFICITY} or more, which this is not: the same place, its moment not shown"
            ),
        )
    return replace(found, segment=replace(seg, verification=v))


def one_place_each(matches: Sequence[MatchSegment]) -> list[MatchSegment]:
    """Matches without a same-scene match of a reference over the part of the clip an earlier match
    of that reference covers (`JOIN_OVERLAP` of the shorter): the place is shown once, and a second
    alignment of it (another region of the frame, another line) adds no evidence, only its own
    geometry's guesses (cases-devfull d172: a 9:16 crop matched again in a band of its frame, and
    that band said to be a picture in picture)."""
    kept: list[MatchSegment] = []
    for m in matches:
        if m.relation == Relation.SAME_SCENE and any(
            k.reference.id == m.reference.id and overlapping(k, m) for k in kept
        ):
            continue
        kept.append(m)
    return kept


def overlapping(a: MatchSegment, b: MatchSegment) -> bool:
    """Whether two segments cover one part of the clip: `JOIN_OVERLAP` of the shorter's seconds."""
    shorter = min(a.query_end_s - a.query_start_s, b.query_end_s - b.query_start_s)
    return _overlap(a, b) >= JOIN_OVERLAP * max(shorter, 1e-6)


def _other_moments(found: Alignment, by_time: dict[float, FrameFeatures], index: Index) -> float | None:
    """Median, over up to `FEATURE_FAR_FRAMES` verified query frames, of the best inliers on reference
    frames `FEATURE_FAR_S`-`FEATURE_FAR_REACH_S` from the line over the inliers on it; None when the
    reference has no frames that far around the segment."""
    seg = found.segment
    support = list(found.feature_pairs)
    if len(support) > FEATURE_FAR_FRAMES:
        support = [support[int(i)] for i in np.linspace(0, len(support) - 1, FEATURE_FAR_FRAMES).round()]
    on_line = [seg.offset_s + seg.speed * p.query_t for p in support]
    frames = index.reference_features(
        seg.reference.id, min(on_line) - FEATURE_FAR_REACH_S, max(on_line) + FEATURE_FAR_REACH_S
    )
    ratios = []
    for p, r_t in zip(support, on_line, strict=True):
        query_frame = by_time.get(p.query_t)
        far = [f for f in frames if FEATURE_FAR_S <= abs(f.t - r_t) <= FEATURE_FAR_REACH_S]
        if query_frame is None or not far:
            continue
        best = 0
        for f in far:
            other = features_mod.register(query_frame, f)
            if other is not None:
                best = max(best, other.geometry.inliers)
        ratios.append(best / max(1, p.geometry.inliers))
    return float(np.median(ratios)) if ratios else None


# -- region queries: each part of a split or layered frame searched as its own picture ------


def within(outer: Rect, inner: Rect) -> Rect:
    """`inner` (fractions of `outer`) as fractions of the frame `outer` is a part of."""
    w, h = outer[2] - outer[0], outer[3] - outer[1]
    return (
        round(outer[0] + inner[0] * w, 4),
        round(outer[1] + inner[1] * h, 4),
        round(outer[0] + inner[2] * w, 4),
        round(outer[1] + inner[3] * h, 4),
    )


def _shared(a: Rect, b: Rect) -> float:
    """The area two rectangles share, as a share of their union."""
    inter = overlap_area(a, b)
    return inter / max(1e-9, area(a) + area(b) - inter)


def region_proposals(
    *,
    panes: tuple[Rect, ...] = (),
    inner_rect: Rect | None = None,
    found: list[Alignment] = (),  # type: ignore[assignment]
    content_box: Rect | None = None,
    small_inner: Rect | None = None,
    moving: tuple[Rect, ...] = (),
    frame_size: tuple[int, int] | None = None,
    other_inner: tuple[Rect, ...] = (),
    explained: tuple[Rect, ...] = (),
) -> list[Rect]:
    """The parts of the query frame worth searching as pictures of their own, likeliest first.

    From five sources: the features channel's boxes (`Geometry.query_box`:
    where a registered reference sits in the query frame, when its fit is
    stable), a split screen's panes (`layout.find_panes`), the layout's
    inner rectangle, a smaller one found in larger frames
    (`layout.small_inner_rectangle`) and the parts that move over a still
    background (`layout.moving_parts`); then the pictures beside the inner
    rectangles (`layout.other_inner_rectangles`, `other_inner`), last, so they
    take no other source's place under the cap. Parts whose longer side is under
    `REGION_MIN_SIDE` of the frame's shorter side, or their shorter side under
    `REGION_MIN_SHORT_SIDE` of it (`frame_size`, width and height; a square
    frame when not given), or larger than `REGION_MAX_AREA` are left out, near-duplicates
    (`REGION_SAME`) merged, at most `MAX_REGIONS` kept. The content box
    (padding trimmed) is left out too: the whole frame's hashes searched it
    already. With `explained` (the parts whose matches explain the clip,
    `explained_parts`) only the rest of the frame is proposed: a part that
    is not apart from them (`in_rest`'s rule) is left out, and one that holds
    an explained part across its whole height or width (the rectangle around
    two pictures in a row) gives its remainder beside it (`remainder`).
    """
    boxes = [
        a.segment.geometry.query_box
        for a in sorted(found, key=lambda a: a.segment.score, reverse=True)
        if a.segment.geometry is not None and a.segment.geometry.stable and a.segment.region is None
    ]
    out: list[Rect] = []
    searched = [content_box] if content_box is not None else []
    inner = [r for r in (inner_rect, small_inner) if r is not None]
    for rect in [*boxes, *panes, *inner, *moving, *other_inner]:
        rect = tuple(float(v) for v in rect)  # type: ignore[assignment]
        rest = _rest_of(rect, explained)
        if rest is None:
            continue
        rect = rest
        if _too_small(rect, frame_size):
            continue
        if area(rect) > REGION_MAX_AREA or any(_shared(rect, r) >= REGION_SAME for r in [*searched, *out]):
            continue
        out.append(rect)
    return out[:MAX_REGIONS]


def footage_place(found: Alignment, inner_rect: Rect | None) -> Rect | None:
    """The part of the frame a segment places its footage in, or None when it covers the frame.

    A region's segment names its part (`region`); a whole-frame hash segment
    found by the `inner_rectangle` variant lies in the layout's inner
    rectangle. The other variants (the whole frame, its content box, whose rest
    is padding, its centre crops) cover the frame, and so does a features
    segment of the whole frame (its footprint is measured, not where it was
    searched).
    """
    seg = found.segment
    if seg.region is not None:
        return tuple(float(v) for v in seg.region)  # type: ignore[return-value]
    if seg.channel != Channel.FRAMES or found.query_variant < 0 or inner_rect is None:
        return None
    region, _ = variant_parts(found.query_variant)
    return tuple(float(v) for v in inner_rect) if region == REGION_INNER else None  # type: ignore[return-value]


def explained_parts(
    found: list[Alignment],
    query: FrameHashes,
    inner_rect: Rect | None,
    *,
    content: Rect | None = None,
    frame_size: tuple[int, int] | None = None,
) -> tuple[Rect, ...]:
    """The parts of the frame that alone explain the clip's time, when the rest of the frame could hold a picture.

    `explained_share` counts time: a match whose footage lies in part of the
    frame (`footage_place`: the inner rectangle's hashes) explains the clip's
    time but not the rest of its frame, where other pictures (one of them the
    clip) may sit. When the matches at or above `MATCH_THRESHOLD` explain
    `WIDE_SEARCH_BELOW` of the time only with such parts counted, and beside
    one of them (inside `content`, the content box, when given) a strip of the
    frame is wide enough for a part the region search would take (its shorter
    side `REGION_MIN_SHORT_SIDE` of the frame's shorter side, as
    `region_proposals` asks), the parts are returned: the rest of the frame is
    searched (`pipeline._with_features`). Otherwise ().
    """
    strong = [a for a in found if a.segment.score >= MATCH_THRESHOLD]
    covering = [a for a in strong if footage_place(a, inner_rect) is None]
    if explained_share(covering, query) >= WIDE_SEARCH_BELOW:
        return ()
    parts: list[Rect] = []
    for a in strong:
        place = footage_place(a, inner_rect)
        if place is not None and place not in parts:
            parts.append(place)
    fw, fh = frame_size if frame_size is not None and min(frame_size) > 0 else (1, 1)
    need = REGION_MIN_SHORT_SIDE * min(fw, fh) - 1e-6
    x0, y0, x1, y1 = content if content is not None else (0.0, 0.0, 1.0, 1.0)

    def room(p: Rect) -> bool:
        strips = (
            (p[0] - x0) * fw,
            (x1 - p[2]) * fw,
            (p[1] - y0) * fh,
            (y1 - p[3]) * fh,
        )
        return max(strips) >= need

    return tuple(parts) if any(room(p) for p in parts) else ()


def in_rest(found: Alignment, parts: tuple[Rect, ...]) -> bool:
    """Whether a segment places its footage apart from every explained part (`layout.INNER_OTHER_OVERLAP`).

    Its place is its features footprint (`query_box`, when the fit is stable:
    where the footage is), or else its region; a segment with neither has no
    place and is not counted in the rest. Apart: overlapping each part by at most the share of the
    smaller that tells the layout's pictures apart (`layout.other_inner_rectangles`).
    """
    seg = found.segment
    place = seg.geometry.query_box if seg.geometry is not None and seg.geometry.stable else seg.region
    if place is None:
        return False
    rect = tuple(float(v) for v in place)
    return all(overlap_share(rect, p) <= INNER_OTHER_OVERLAP for p in parts)  # type: ignore[arg-type]


def _rest_of(rect: Rect, explained: tuple[Rect, ...]) -> Rect | None:
    """`rect` apart from the explained parts, or its remainder beside one (`remainder`), or None."""
    for part in explained:
        if overlap_share(rect, part) > INNER_OTHER_OVERLAP:
            rest = remainder(rect, part)
            if rest is None:
                return None
            rect = rest
    return rect if all(overlap_share(rect, p) <= INNER_OTHER_OVERLAP for p in explained) else None


def remainder(rect: Rect, part: Rect) -> Rect | None:
    """What a proposed part holds beside a part already explained inside it, or None.

    The rectangle around two pictures in a row (or a column) is proposed
    whole (`layout.inner_rectangle` ranks it first when their outer sides are
    in line); once one picture is explained, the other lies beside it. The
    explained part must lie inside `rect` and be a part of it, by the layout's
    rule for a picture inside the rectangle around a row
    (`layout.INNER_OTHER_INSIDE`, `layout.INNER_OTHER_PART`); the row runs
    along the side the part spans the larger share of (its height: a row, its
    width: a column), and the larger strip of `rect` beside the part is
    returned.
    """
    if overlap_share(rect, part) < INNER_OTHER_INSIDE or area(part) > INNER_OTHER_PART * area(rect):
        return None
    w, h = rect[2] - rect[0], rect[3] - rect[1]
    pw = min(rect[2], part[2]) - max(rect[0], part[0])
    ph = min(rect[3], part[3]) - max(rect[1], part[1])
    if ph / max(h, 1e-9) >= pw / max(w, 1e-9):
        left, right = (rect[0], rect[1], part[0], rect[3]), (part[2], rect[1], rect[2], rect[3])
    else:
        left, right = (rect[0], rect[1], rect[2], part[1]), (rect[0], part[3], rect[2], rect[3])
    best = max((left, right), key=area)
    return best if area(best) > 0 else None


def found_parts(found: list[Alignment], inner_rect: Rect | None = None) -> tuple[Rect, ...]:
    """Where segments at or above `MATCH_THRESHOLD` place their footage in part of the frame.

    A features segment's footprint (`query_box`, when its fit is stable) is
    its picture; a hash segment's place is its region (its padding trimmed)
    or, of the whole frame, the inner rectangle its variant hashed
    (`footage_place`). Segments that cover the frame have no part.
    """
    out: list[Rect] = []
    for a in found:
        seg = a.segment
        if seg.score < MATCH_THRESHOLD:
            continue
        if seg.geometry is not None and seg.geometry.stable and seg.geometry.query_box is not None:
            place: Rect | None = tuple(float(v) for v in seg.geometry.query_box)  # type: ignore[assignment]
        else:
            place = footage_place(a, inner_rect)
        if place is not None and area(place) <= REGION_MAX_AREA and place not in out:
            out.append(place)
    return tuple(out)


def remainder_proposals(
    searched: list[Rect],
    parts: tuple[Rect, ...],
    *,
    frame_size: tuple[int, int] | None = None,
    content_box: Rect | None = None,
) -> list[Rect]:
    """The remainders of searched parts once pictures inside them are found (`remainder`), not yet searched.

    Each kept as `region_proposals` keeps a part: not too small for the
    region search, not the content box or a part searched already
    (`REGION_SAME`), apart from every found part.
    """
    out: list[Rect] = []
    done = [*searched, *([content_box] if content_box is not None else [])]
    for rect in searched:
        rect = tuple(float(v) for v in rect)  # type: ignore[assignment]
        if all(overlap_share(rect, p) <= INNER_OTHER_OVERLAP for p in parts):
            continue
        rest = _rest_of(rect, parts)
        if rest is None or _too_small(rest, frame_size) or area(rest) > REGION_MAX_AREA:
            continue
        if any(_shared(rest, r) >= REGION_SAME for r in [*done, *out]):
            continue
        out.append(rest)
    return out


def _too_small(rect: Rect, frame_size: tuple[int, int] | None) -> bool:
    """A part under `REGION_MIN_SIDE` (its longer side) or `REGION_MIN_SHORT_SIDE` (its shorter) of the frame's shorter side."""
    fw, fh = frame_size if frame_size is not None and min(frame_size) > 0 else (1, 1)
    short = min(fw, fh)
    sides = sorted(((rect[2] - rect[0]) * fw, (rect[3] - rect[1]) * fh))
    return sides[1] < REGION_MIN_SIDE * short - 1e-6 or sides[0] < REGION_MIN_SHORT_SIDE * short - 1e-6


def find_region_matches(
    regions: list[Rect],
    hash_frames: tuple[np.ndarray, np.ndarray],
    index: Index,
    *,
    query_fps: float,
    query_duration_s: float,
    feature_frames: tuple[np.ndarray, np.ndarray] | None = None,
    hashed: tuple[Rect, ...] = (),
    whole: Features | None = None,
) -> list[Alignment]:
    """Segments found by searching each region of the query frame as a picture of its own.

    For each region: its frame hashes (the region cut from the query's
    samples, its own padding trimmed by `layout.content_box`, looked up as any
    query is, `find_matches`), and, when `feature_frames` are given and the
    index holds features, its local features at the reference's scale
    (`features.describe_region`, `find_feature_matches`). A region's hash
    segment is the inner-rectangle variant of the query (`REGION_INNER`), so
    verify and diagnose compare that part of the frame; every segment names its
    `region`, and a features segment's `query_box` is given in the whole frame.

    Args:
        regions: parts of the frame (`region_proposals`).
        hash_frames: the query's (times, (N, H, W) grey samples) that its hashes came from.
        index: the reference index.
        query_fps: the samples' rate.
        query_duration_s: to bound spans.
        feature_frames: (times, (N, H, W) grey frames) decoded for the features channel, or None.
        hashed: parts the query's own hashes covered (its content box and inner rectangle): a
            region that is one of them (`REGION_SAME`) is searched by its features only.
        whole: the whole frames' features (`feature_frames` described), for the detail beside a
            region's features segment (`features.share_outside`).

    Returns:
        Alignments of every region, best first.
    """
    times, images = hash_frames
    out: list[Alignment] = []
    use_features = feature_frames is not None and index.has_features()
    for rect in regions:
        part = crop(images, rect)
        box = content_box(part, min_side=REGION_BOX_MIN_SIDE)
        hashes = hash_query(times, part, box, None)
        searched = hashes  # the hashes the region's segments were found with
        if any(_shared(rect, r) >= REGION_SAME for r in hashed):
            found: list[Alignment] = []
        else:
            found = find_matches(hashes, index, query_fps=query_fps, query_duration_s=query_duration_s)
        small = part.shape[1] < REGION_HASH_MIN_PX or part.shape[2] < REGION_HASH_MIN_PX
        if feature_frames is not None and small and not any(_shared(rect, r) >= REGION_SAME for r in hashed):
            # Too few pixels in the samples: hashed from the features channel's larger frames.
            f_times, f_images = feature_frames
            big = crop(f_images, rect)
            big = big[:, :: max(1, big.shape[1] // 256), :: max(1, big.shape[2] // 256)]
            big_box = content_box(big, min_side=REGION_BOX_MIN_SIDE)
            rate = 1.0 / float(np.median(np.diff(f_times))) if len(f_times) > 1 else query_fps
            big_hashes = hash_query(f_times, big, big_box, None)
            more = find_matches(big_hashes, index, query_fps=rate, query_duration_s=query_duration_s)
            if max((a.segment.score for a in more), default=0.0) > max((a.segment.score for a in found), default=0.0):
                found, box, searched = more, big_box, big_hashes
        for a in found:
            # The crop test reads the region's own hashes: the whole query's are not the region's.
            out.append(_in_region(replace(a, crop_distances=crop_distances(a, searched, index)), rect, box))
        if use_features:
            assert feature_frames is not None
            described = features_mod.describe_region(feature_frames[0], feature_frames[1], rect)
            extra = find_feature_matches(
                described, index, query_duration_s=query_duration_s, query_hashes=hashes, max_segments=3
            )
            out += [_in_region(a, rect, None, whole) for a in extra]
    out.sort(key=lambda a: a.segment.score, reverse=True)
    return out


def _in_region(found: Alignment, rect: Rect, box: Rect | None, whole: Features | None = None) -> Alignment:
    """A region's alignment restated in the whole frame: the region it was found in, an inner-rectangle variant.

    A features segment's footprint is given in the whole frame, and the share
    of keypoints beside it is counted in the whole frames (`whole`): measured
    in the region, where the footage fills nearly everything, it is near 0 and
    footage beside other footage would read as padded.
    """
    seg = found.segment
    if seg.channel == Channel.FEATURES and seg.geometry is not None:
        g = seg.geometry
        query_box = _clip_rect(within(rect, g.query_box))
        outside = (
            features_mod.share_outside(whole, query_box, seg.query_start_s, seg.query_end_s)
            if whole is not None
            else None
        )
        geometry = replace(g, query_box=query_box, outside_share=g.outside_share if outside is None else outside)
        return replace(found, segment=replace(seg, geometry=geometry, region=rect))
    region, op = variant_parts(found.query_variant)
    where = within(rect, box) if region == REGION_BOX and box is not None else rect
    code = variant(REGION_INNER, op)
    segment = replace(seg, region=where, query_variant=_variant_name(code))
    return replace(found, segment=segment, query_variant=code)


def timed_by_hashes(found: list[Alignment]) -> list[Alignment]:
    """Verified segments, a features match left out where the frame hashes found the same picture as the same footage.

    Over a still picture under camera motion the features register a picture
    at several moments (a steady pan shows the same picture a second later, a
    little further on) and their camera path may hold at each; the frame
    hashes time it finer. A features match of a reference is left out where a
    frame-hash match of it, verified as the same footage at a speed
    (`MIN_SPEED` or more: one held frame times nothing), covers the same span
    of the clip (`JOIN_OVERLAP`) in the same part of the frame
    (`_one_picture`): one finding, at the hashes' moment (cases-dev d063: a
    duet's half, the features at 4.5 s, the half's hashes at 2.2 s, the truth
    2.24 s). Run after verify: before it, a frame-hash match may yet prove
    only the place (cases-dev d037: 0.52 on a held frame, the same scene).
    """
    timed = [
        a.segment
        for a in found
        if a.segment.channel == Channel.FRAMES
        and a.segment.score >= MATCH_THRESHOLD
        and abs(a.segment.speed) >= MIN_SPEED
        and a.segment.verification is not None
        and a.segment.verification.relation == Relation.SAME_FOOTAGE
    ]

    def covered(seg: MatchSegment) -> bool:
        return any(
            f.reference.id == seg.reference.id
            and _overlap(f, seg)
            >= JOIN_OVERLAP * max(min(f.query_end_s - f.query_start_s, seg.query_end_s - seg.query_start_s), 1e-6)
            and _one_picture(f, seg)
            for f in timed
        )

    return [a for a in found if a.segment.channel != Channel.FEATURES or not covered(a.segment)]


def _one_picture(a: MatchSegment, b: MatchSegment) -> bool:
    """Whether a features segment and a frame-hash segment place their footage in the same part of the frame."""
    if {a.channel, b.channel} != {Channel.FEATURES, Channel.FRAMES}:
        return False
    places = []
    for seg in (a, b):
        place = seg.region or (seg.geometry.query_box if seg.geometry is not None else None)
        if place is None:
            return False
        places.append(tuple(float(v) for v in place))
    return _shared(places[0], places[1]) >= REGION_SAME  # type: ignore[arg-type]


def _clip_rect(r: Rect) -> Rect:
    return tuple(round(min(1.0, max(0.0, v)), 3) for v in r)  # type: ignore[return-value]


def join_regions(found: list[Alignment], regions: list[Alignment]) -> list[Alignment]:
    """The whole frame's segments and the regions', one per finding, best first.

    A region's segment of the same reference over the same query span
    (`JOIN_OVERLAP`) at the same offset (`JOIN_OFFSET_S`) as one already found
    is the same finding: of one channel, the higher-scoring is kept; a
    frame-hash match is kept over a features segment (taking its geometry),
    as `join_channels` does. Otherwise it
    is a finding of its own (the other pane of a split screen, a second
    inner picture).
    """
    out = list(found)
    for extra in regions:
        es = extra.segment
        same = None
        for k, a in enumerate(out):
            seg = a.segment
            shorter = min(seg.query_end_s - seg.query_start_s, es.query_end_s - es.query_start_s)
            if (
                seg.reference.id == es.reference.id
                and _overlap(seg, es) >= JOIN_OVERLAP * max(shorter, 1e-6)
                and abs(seg.offset_s - es.offset_s) <= JOIN_OFFSET_S
            ):
                same = k
                break
        if same is None:
            out.append(extra)
            continue
        held = out[same].segment
        if held.channel == es.channel:
            if es.score > held.score:
                out[same] = extra
        elif es.channel == Channel.FRAMES and es.score >= MATCH_THRESHOLD:
            # The region's hashes time the finding finer than the features (as `join_channels`).
            out[same] = replace(
                extra, segment=replace(es, geometry=held.geometry), feature_pairs=out[same].feature_pairs
            )
        elif held.channel != Channel.FRAMES or held.score < MATCH_THRESHOLD:
            if es.score > held.score:
                out[same] = extra
    out.sort(key=lambda a: a.segment.score, reverse=True)
    return out


# -- the sound channel ------------------------------------------------------------------------

#: Sound: a stretch of aligned Chromaprint items is the same sound when their mean bit error rate
#: is at most this (0-0.5; re-encoded excerpts 0.002-0.08, chance alignments of unrelated sound
#: down to 0.246 over 16 items; own cases, docs/tuning.md).
SOUND_MATCH_BER = 0.20
#: ... over at least this many usable items (0.124 s apart, each hearing 2.2 s): 5 s of sound give 17-22.
SOUND_MIN_ITEMS = 12
#: ... and a run shorter than `SOUND_SHORT_ITEMS` (3 s of item starts) at most `SOUND_SHORT_BER`: true
#: 5 s excerpts 0.002-0.08, a chance alignment 0.19 over 15 items (development seed 4, docs/tuning.md).
SOUND_SHORT_ITEMS = 24
SOUND_SHORT_BER = 0.12
#: Offset bins (reference, offset in items) verified per sound lookup, by votes.
SOUND_TOP_OFFSETS = 8
#: Fewest distinct query items behind an offset bin for it to be verified.
SOUND_MIN_VOTES = 2
#: An aligned second belongs to the matched run when its BER is at most this (seconds
#: of other sound end the run; own cases, docs/tuning.md).
SOUND_SECOND_BER = 0.32
#: Items either side of a voted or predicted offset tried when aligning (2 items = 0.25 s).
SOUND_SEARCH_ITEMS = 2
#: A picture match's sound agrees with its reference's when their BER over the span is at most
#: this (0-0.5; re-encoded copies 0.01-0.10, another tune at -6 dB under the sound up to 0.19).
SOUND_AGREE_BER = 0.20
#: Otherwise its agreement beyond chance (`audio.SoundAlignment.agreement`, Cohen's kappa over the
#: bits, 0-1) says: overlaid (the reference's sound under other sound) from `SOUND_OVERLAID_AGREEMENT`,
#: replaced up to `SOUND_REPLACED_AGREEMENT`, unclear between (development seeds, docs/tuning.md).
SOUND_OVERLAID_AGREEMENT = 0.17
SOUND_REPLACED_AGREEMENT = 0.04
#: Where both sides have landmarks, they decide instead: the clip's landmarks meeting the reference's
#: at one offset within `SOUND_SYNC_S` of the picture's: overlaid from this many (development: mixed
#: sound 8-186, replaced 0) ...
SOUND_OVERLAID_MARKS = 4
#: ... replaced up to this many, unclear between.
SOUND_REPLACED_MARKS = 1
#: ... searched this far (seconds) around the picture's offset (sound and picture out of sync).
SOUND_SYNC_S = 0.5
#: A sound-only segment and a picture segment of one reference are the same match when their
#: offsets differ by at most this, seconds.
SOUND_SAME_OFFSET_S = 1.0
#: Sound under louder sound, by landmarks (`audio.sound_marks`): a (reference, offset) bin holding at
#: least this many of the clip's landmarks (development seeds, 16 references: true mixes 5-301,
#: chance bins at most 8) ...
SOUND_MARK_VOTES = 8
#: ... whose Chromaprint agreement beyond chance at that offset is at least this (true mixes
#: 0.05-0.33, chance bins with 5 votes or more at most 0.14) is the same sound ...
SOUND_MARK_AGREEMENT = 0.12
#: ... as is a bin of at least this many landmarks whatever the agreement (bench/sound_landmarks.py).
SOUND_MARK_SURE_VOTES = 12
#: Landmark bins verified per lookup, by votes.
SOUND_MARK_TOP = 4
#: A sound match by Chromaprint items needs at least this many of the clip's peaks anchoring landmarks
#: that meet the reference's at its offset, where both sides have landmarks (112 references: true item
#: matches 7-150, the one chance item match 0; docs/tuning.md).
SOUND_CONFIRM_ANCHORS = 4
_SOUND_THRESHOLDS: dict[str, float] = {
    "sound_match_ber": SOUND_MATCH_BER,
    "sound_min_items": SOUND_MIN_ITEMS,
    "sound_short_items": SOUND_SHORT_ITEMS,
    "sound_short_ber": SOUND_SHORT_BER,
    "sound_top_offsets": SOUND_TOP_OFFSETS,
    "sound_min_votes": SOUND_MIN_VOTES,
    "sound_second_ber": SOUND_SECOND_BER,
    "sound_search_items": SOUND_SEARCH_ITEMS,
    "sound_agree_ber": SOUND_AGREE_BER,
    "sound_overlaid_agreement": SOUND_OVERLAID_AGREEMENT,
    "sound_replaced_agreement": SOUND_REPLACED_AGREEMENT,
    "sound_overlaid_marks": SOUND_OVERLAID_MARKS,
    "sound_replaced_marks": SOUND_REPLACED_MARKS,
    "sound_sync_s": SOUND_SYNC_S,
    "sound_same_offset_s": SOUND_SAME_OFFSET_S,
    "sound_mark_votes": SOUND_MARK_VOTES,
    "sound_mark_agreement": SOUND_MARK_AGREEMENT,
    "sound_mark_sure_votes": SOUND_MARK_SURE_VOTES,
    "sound_mark_top": SOUND_MARK_TOP,
    "sound_confirm_anchors": SOUND_CONFIRM_ANCHORS,
}
THRESHOLDS.update(_SOUND_THRESHOLDS)


class SoundVerdict(StrEnum):
    """What a match's sound says, compared with its reference's over the aligned span."""

    #: The same sound (BER at most `SOUND_AGREE_BER`): evidence for the match.
    AGREES = "agrees"
    #: The reference's sound is still there under other sound.
    OVERLAID = "overlaid"
    #: The reference's sound is not there: other sound in its place.
    REPLACED = "replaced"
    #: Between overlaid and replaced: nothing is said.
    UNCLEAR = "unclear"
    #: The sound could not be compared (`ChannelEvidence` has no BER; the reason is in the report).
    NOT_COMPARED = "not_compared"
    #: The sound alone matched (no picture match): the same sound, which many clips can share.
    SAME_SOUND = "same_sound"


def sound_verdict(aligned: SoundAlignment, landmarks: int | None = None) -> SoundVerdict:
    """What a copy's sound aligned with its reference's over a picture match says.

    A low bit error rate is the same sound. Above it, the raw rate cannot
    tell mixed from replaced sound: unrelated tunes disagree on 0.35-0.48 of
    the bits, not 0.5, depending on how lopsided each bit is on the two
    sounds, which is where mixed sound lies too. When both sides have
    landmarks (`landmarks`: how many of the clip's meet the reference's at
    the sound's offset, `audio.mark_votes`), they decide: the reference's
    peaks survive under other sound, and none meet by chance at a given
    offset. Otherwise the agreement beyond what the bit frequencies give by
    chance (`SoundAlignment.agreement`) decides, less sharply: replaced sound
    sits near 0, mixed sound above it.
    """
    if aligned.ber <= SOUND_AGREE_BER:
        return SoundVerdict.AGREES
    if landmarks is not None:
        if landmarks >= SOUND_OVERLAID_MARKS:
            return SoundVerdict.OVERLAID
        return SoundVerdict.REPLACED if landmarks <= SOUND_REPLACED_MARKS else SoundVerdict.UNCLEAR
    if aligned.agreement >= SOUND_OVERLAID_AGREEMENT:
        return SoundVerdict.OVERLAID
    if aligned.agreement <= SOUND_REPLACED_AGREEMENT:
        return SoundVerdict.REPLACED
    return SoundVerdict.UNCLEAR


def score_sound(items: int, ber: float) -> float:
    """A 0-1 confidence for a sound alignment: at or above `MATCH_THRESHOLD` exactly when it is a match."""
    if items <= 0:
        return 0.0
    closeness = max(0.0, 1.0 - ber / (2 * SOUND_MATCH_BER))
    if ber > SOUND_MATCH_BER or items < SOUND_MIN_ITEMS or (items < SOUND_SHORT_ITEMS and ber > SOUND_SHORT_BER):
        return round(min(FEW_FRAMES_SCORE, closeness * min(1.0, items / SOUND_MIN_ITEMS) * MATCH_THRESHOLD), 4)
    strength = min(1.0, items / (4 * SOUND_MIN_ITEMS))
    return round(MATCH_THRESHOLD + 0.5 * strength * 2 * (closeness - 0.5), 4)


@dataclass(frozen=True)
class SoundFound:
    """A reference whose sound the query's sound matches, with the alignment over the matched run."""

    reference: Reference
    alignment: SoundAlignment
    score: float
    #: The clip's landmarks in the match's (reference, offset) bin, when landmarks found it (else 0).
    landmarks: int = 0
    #: The distinct peaks of the clip anchoring them (`mark_bins`; else 0).
    anchors: int = 0
    #: Whether the landmarks found it (the sound under louder sound), else the Chromaprint items did
    #: (`landmarks` and `anchors` are then those at its offset, which confirm it).
    by_marks: bool = False


def score_marks(anchors: int, agreement: float) -> float:
    """A 0-1 confidence for a landmark bin: at or above `MATCH_THRESHOLD` exactly when it is a match."""
    if anchors < SOUND_MARK_VOTES or (agreement < SOUND_MARK_AGREEMENT and anchors < SOUND_MARK_SURE_VOTES):
        return round(min(FEW_FRAMES_SCORE, MATCH_THRESHOLD * min(1.0, anchors / SOUND_MARK_SURE_VOTES) * 0.9), 4)
    return round(MATCH_THRESHOLD + (1 - MATCH_THRESHOLD) * 0.5 * min(1.0, anchors / (8 * SOUND_MARK_VOTES)), 4)


def mark_bins(marks: np.ndarray, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (reference, frame offset) bins of a landmark lookup, with their evidence.

    Args:
        marks: the clip's landmarks, (n, 2) of (hash, frame).
        hits: `Index.sound_mark_lookup`'s rows, (query landmark row, reference id, reference frame).

    Returns:
        (bins, anchors, landmarks): the (m, 2) bins, and per bin the distinct peaks of the clip that
        anchor its landmarks, and the distinct landmarks. A chord, or two notes a fixed interval
        apart, that two tunes happen to share at one moment meets up to `audio.MARK_DENSE_FAN_OUT`
        landmarks from one anchor; only the anchors are independent witnesses.
    """
    if not len(hits):
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros((0, 2), dtype=np.int64), empty, empty.copy()
    rows = hits[:, 0]
    # A peak is its frequency bin (the hash's top bits, `audio.sound_marks`) at its frame.
    anchor = ((marks[rows, 0] >> 13) << 32) | marks[rows, 1]
    offsets = hits[:, 2] - marks[rows, 1]
    per_mark = np.unique(np.column_stack([hits[:, 1], offsets, rows]), axis=0)
    bins, landmarks = np.unique(per_mark[:, :2], axis=0, return_counts=True)
    per_anchor = np.unique(np.column_stack([hits[:, 1], offsets, anchor]), axis=0)
    # The same bins in the same (sorted) order: every bin has a landmark and its anchor.
    _, anchors = np.unique(per_anchor[:, :2], axis=0, return_counts=True)
    return bins, anchors, landmarks


#: Seconds of half a landmark frame (`audio.MARK_HALF_HOP`, 11.6 ms): the unit of `look_up_marks`'s offsets.
_HALF_FRAME_S = MARK_STEP_S / 2


def look_up_marks(sound: SoundPrint, index: Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clip's landmark bins in the index, their offsets in half landmark frames (`_HALF_FRAME_S`).

    `mark_bins` of the clip's dense landmarks gives the bins at even half frames;
    those of its `SoundPrint.half_marks` (framed half a hop later, so a true
    offset there is a whole number of frames minus a half) the odd ones. A
    clip cut between two of the reference's frames splits its peaks over two
    neighbouring bins of one grid and meets the other grid in one; each bin
    is still one grid's own count (summing neighbours lifted the chance
    level, docs/tuning.md). Empty without landmarks.
    """
    lookups = []
    for marks, shift in ((sound.lookup_marks, 0), (sound.half_marks, -1)):
        if not len(marks):
            continue
        bins, anchors, landmarks = mark_bins(marks, index.sound_mark_lookup(marks[:, 0]))
        bins[:, 1] = 2 * bins[:, 1] + shift
        lookups.append((bins, anchors, landmarks))
    if not lookups:
        return mark_bins(sound.lookup_marks, np.zeros((0, 3), dtype=np.int64))
    bins = np.concatenate([b for b, _, _ in lookups])
    return bins, np.concatenate([a for _, a, _ in lookups]), np.concatenate([m for _, _, m in lookups])


def anchors_at(looked_up: tuple[np.ndarray, np.ndarray, np.ndarray], ref_id: int, offset_s: float) -> tuple[int, int]:
    """The most anchors (and that bin's landmarks) of one reference's bins within an item step of `offset_s`."""
    bins, anchors, landmarks = looked_up
    centre, reach = offset_s / _HALF_FRAME_S, ITEM_STEP_S / _HALF_FRAME_S
    near = (bins[:, 0] == ref_id) & (np.abs(bins[:, 1] - centre) <= reach) if len(bins) else np.zeros(0, dtype=bool)
    if not near.any():
        return 0, 0
    best = int(np.argmax(np.where(near, anchors, -1)))
    return int(anchors[best]), int(landmarks[best])


def find_sound_by_marks(
    sound: SoundPrint,
    index: Index,
    *,
    max_segments: int = 5,
    looked_up: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> list[SoundFound]:
    """References whose sound lies under other sound in the clip, found by landmarks, best first.

    The clip's dense landmarks (`audio.sound_landmarks`) are looked up by
    hash, on both of its frame grids (`look_up_marks`); each hit votes for
    (reference, reference frame minus clip frame),
    and a bin counts the distinct peaks of the clip that anchor its landmarks
    (`mark_bins`). The `SOUND_MARK_TOP` strongest bins with at least
    `SOUND_MARK_VOTES` anchors are checked on Chromaprint: the items aligned
    within 2 items of the bin's offset must agree beyond chance by
    `SOUND_MARK_AGREEMENT` (a second, independent witness), unless the bin
    holds `SOUND_MARK_SURE_VOTES` anchors or more; a bin of the half-frame
    grid (odd offsets) counts only with that many. Its BER is high (the other
    sound decides most bits); the anchors, landmarks and the agreement are the
    evidence. Measured from 16 to 112 references (docs/tuning.md). `looked_up`: the
    lookup already made (`look_up_marks`).
    """
    if not len(sound.lookup_marks) or sound.usable < ITEMS_PER_SECOND:
        return []
    bins, anchors, landmarks = looked_up if looked_up is not None else look_up_marks(sound, index)
    if not len(bins):
        return []
    order = np.lexsort((-landmarks, -anchors))
    refs = index.get_many(np.unique(bins[order[:SOUND_MARK_TOP], 0]).tolist())
    found: dict[int, SoundFound] = {}
    for k in order[:SOUND_MARK_TOP]:
        if anchors[k] < SOUND_MARK_VOTES:
            break
        ref_id, frames = int(bins[k, 0]), int(bins[k, 1])
        if frames % 2 and anchors[k] < SOUND_MARK_SURE_VOTES:
            # A bin of the second grid: a second look at every offset doubles the chance bins, and
            # with the items' agreement admitting 8 anchors it matched wrong references (docs/tuning.md).
            continue
        stored = index.sound(ref_id) if ref_id in refs else None
        if stored is None:
            continue
        centre = int(round(frames * _HALF_FRAME_S / sound.step_s))
        aligned = align_sound(sound, stored, range(centre - SOUND_SEARCH_ITEMS, centre + SOUND_SEARCH_ITEMS + 1))
        if aligned is None or aligned.items < SOUND_MIN_ITEMS:
            continue
        score = score_marks(int(anchors[k]), aligned.agreement)
        if ref_id not in found or score > found[ref_id].score:
            found[ref_id] = SoundFound(refs[ref_id], aligned, score, int(landmarks[k]), int(anchors[k]), by_marks=True)
    return sorted(found.values(), key=lambda f: f.score, reverse=True)[:max_segments]


def find_sound_matches(sound: SoundPrint | None, index: Index, *, max_segments: int = 5) -> list[SoundFound]:
    """References whose stored sound a query's sound comes from, best first.

    Lookup keys (`audio.item_keys`) vote for (reference, offset in items); the
    strongest bins are aligned (`audio.align_sound`, ±`SOUND_SEARCH_ITEMS`),
    the best run of aligned seconds at most `SOUND_SECOND_BER` becomes the
    span, and its mean BER decides (`SOUND_MATCH_BER`, `SOUND_MIN_ITEMS`);
    where both sides have landmarks, at least `SOUND_CONFIRM_ANCHORS` of the
    clip's peaks must anchor landmarks meeting the reference's at that offset
    (`anchors_at`): an independent witness, so that the chance alignments a
    larger index offers the items are not taken for the sound. Sound under
    louder sound is then looked for by its landmarks (`find_sound_by_marks`).

    Args:
        sound: the query's fingerprint (None or without usable items: nothing found).
        index: the reference index.
        max_segments: most references returned.

    Returns:
        One `SoundFound` per reference (its best alignment), of any score.
    """
    if sound is None or sound.usable < ITEMS_PER_SECOND:
        return []
    looked_up = look_up_marks(sound, index)
    rows = np.nonzero(sound.usable_mask)[0]
    hits = index.sound_lookup(item_keys(sound.values[rows]))
    q_item = rows[hits[:, 0]]
    bins = np.unique(np.column_stack([hits[:, 1], hits[:, 2] - q_item, q_item]), axis=0)
    keys, votes = np.unique(bins[:, :2], axis=0, return_counts=True)
    order = np.argsort(-votes, kind="stable")
    found: dict[int, SoundFound] = {}
    prints: dict[int, SoundPrint | None] = {}
    refs = index.get_many(np.unique(keys[:, 0]).tolist()) if len(keys) else {}
    for k in order[:SOUND_TOP_OFFSETS]:
        if votes[k] < SOUND_MIN_VOTES:
            break
        ref_id, offset = int(keys[k, 0]), int(keys[k, 1])
        if ref_id not in refs:
            continue
        if ref_id not in prints:
            prints[ref_id] = index.sound(ref_id)
        stored = prints[ref_id]
        if stored is None:
            continue
        aligned = align_sound(sound, stored, range(offset - SOUND_SEARCH_ITEMS, offset + SOUND_SEARCH_ITEMS + 1))
        if aligned is None:
            continue
        run = _sound_run(sound, stored, aligned)
        score = score_sound(run.items, run.ber)
        met, meeting = anchors_at(looked_up, ref_id, run.offset_s)
        if score >= MATCH_THRESHOLD and len(sound.lookup_marks) and len(stored.marks) and met < SOUND_CONFIRM_ANCHORS:
            # The items' run is not confirmed by the landmarks at its offset: a chance alignment.
            score = min(score, FEW_FRAMES_SCORE)
        if ref_id not in found or score > found[ref_id].score:
            found[ref_id] = SoundFound(refs[ref_id], run, score, meeting, met)
    # Sound under louder sound: its items are too changed to be looked up or to pass `SOUND_MATCH_BER`.
    for heard in find_sound_by_marks(sound, index, max_segments=max_segments, looked_up=looked_up):
        ref_id = heard.reference.id
        if ref_id not in found or (found[ref_id].score < MATCH_THRESHOLD <= heard.score):
            found[ref_id] = heard
    return sorted(found.values(), key=lambda f: f.score, reverse=True)[:max_segments]


def _sound_run(query: SoundPrint, reference: SoundPrint, aligned: SoundAlignment) -> SoundAlignment:
    """The alignment narrowed to its best run of seconds at most `SOUND_SECOND_BER` (+1 each, -1 others)."""
    seconds = aligned.seconds
    if not seconds:
        return aligned
    good = np.array([ber <= SOUND_SECOND_BER for _, ber in seconds])
    start, end = _best_run(good)
    if end <= start:
        return aligned
    per = ITEMS_PER_SECOND
    first = int(round(seconds[start][0] / query.step_s))
    last = int(round(seconds[end - 1][0] / query.step_s)) + per
    narrowed = align_sound(query, reference, [aligned.offset_items], query_items=slice(first, last))
    return narrowed if narrowed is not None else aligned


def compare_sound(
    query: SoundPrint, reference: SoundPrint, *, offset_s: float, query_span: tuple[float, float]
) -> SoundAlignment | None:
    """The query's sound against its reference's over a picture match's span, near the picture's offset.

    Args:
        query: the clip's fingerprint.
        reference: the matched reference's.
        offset_s: the picture's offset (reference time minus query time, at speed 1).
        query_span: the picture match's query span, seconds.

    Returns:
        The best alignment within ±`SOUND_SYNC_S` of the offset, or None when
        too little loud sound lies in the span on both sides.
    """
    step = query.step_s
    centre = int(round(offset_s / step))
    reach = int(math.ceil(SOUND_SYNC_S / step))
    first = max(0, int(math.floor(query_span[0] / step)))
    last = int(math.ceil(query_span[1] / step))
    return align_sound(query, reference, range(centre - reach, centre + reach + 1), query_items=slice(first, last))
