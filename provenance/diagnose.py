"""Stage diagnose: how a matched copy differs from its reference.

A wrong diagnosis in a published fact-check is worse than none: each code
(`AlterationCode`) needs clear evidence, and comes with it as a typed dict.
Three sources, in the order a check meets them:

1. **The alignment** (`diagnose`): what the matcher had to undo to match,
   read from the variants that matched (`match.Alignment`): ``mirrored``,
   ``rotated``, ``cropped`` (the nearest stored centred crop), ``reframed``
   (the content box), ``picture_in_picture`` (the inner rectangle),
   ``speed_changed`` (from the speed scan); from the local features' fitted
   similarity when that channel registered the footage (`geometry_alterations`):
   ``rotated`` (a tilt of a few degrees), ``cropped`` (the part of the
   reference the frame shows, and its zoom), ``picture_in_picture`` or
   ``reframed`` (the part of the clip's frame the footage fills); and from the spans, ``trimmed``
   (reference footage left out) and ``embedded`` (query footage from
   elsewhere).
2. **The two files' own properties** (`media_alterations`):
   ``frame_rate_changed`` and ``downscaled``.
3. **The pixels of aligned frame pairs** (`frame_alterations`, added to a
   match by `with_frame_evidence`): the clip's frame and the reference frame
   the matcher aligned it with, same moment of footage.

   a. *Registration*: ORB features, Lowe's ratio test and a RANSAC similarity
      (`cv2.estimateAffinePartial2D`) map the query's footage onto the
      reference, and the pairs must agree. From it: ``cropped``, with the box
      in reference pixels. Without a transform the reference is resized onto
      the query; either way the aligned pictures must then correlate.
   b. *Colour* on the aligned overlap, from quantiles and a circular mean of
      chroma angle shifts: ``greyscale`` and ``colour_changed``.
   c. *Overlay*: the reference goes through the affine colour map that best
      gives the query; query pixels outside its local min-max envelope, closed
      into regions found in every pair, whose texture stands out from their
      surroundings in the query and not in the reference, are ``overlay``
      (burned-in captions, logos).
   d. *Blur*: Laplacian power of the query over that of the colour-mapped
      reference, the median over tiles, at the coarser of the two scales:
      ``blurred``.

::

    >>> segment = diagnose_match(found, query_duration_s=8.0, content_box=None, inner_rect=None,
    ...                          query_fps=25.0, query_size=(640, 272))
    >>> alterations = frame_alterations(pairs, op="mirror", reference_size=(640, 272))
    >>> [a.code for a in alterations]
    ['cropped', 'overlay']

Every pixel threshold below sits outside what re-encoding does, as measured
on the development corpus (bench/data, 85 true copies, 3 thumbnail pairs
each: 320 px long side, JPEG quality 72). The history of each constant's
value is in docs/tuning.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NotRequired, Protocol, TypedDict

import cv2
import numpy as np

from . import features as features_mod
from . import verify as verify_mod
from .alteration import Alteration, AlterationCode
from .audio import ITEM_SPAN_S, SoundPrint, SoundStatus, mark_votes
from .features import Geometry
from .hashing import (
    CENTRE_KEEP,
    OP_CCW,
    OP_CCW_MIRROR,
    OP_CW,
    OP_CW_MIRROR,
    OP_MIRROR,
    OPS,
    REGION_BOX,
    REGION_INNER,
    REGIONS,
    Rect,
    area,
    overlap_area,
    variant_parts,
)
from .index import Reference
from .match import (
    FEATURE_ALIGN_TOLERANCE_S,
    FEATURE_FIT_MIN_FRAMES,
    FEATURE_FIT_MIN_SPAN_S,
    MAX_SPEED,
    MIN_SPEED,
    SOUND_AGREE_BER,
    SOUND_MARK_AGREEMENT,
    SOUND_MARK_SURE_VOTES,
    SOUND_MARK_VOTES,
    SOUND_OVERLAID_AGREEMENT,
    SOUND_OVERLAID_MARKS,
    SOUND_REPLACED_AGREEMENT,
    SOUND_REPLACED_MARKS,
    SOUND_SAME_OFFSET_S,
    SOUND_SYNC_S,
    SPEED_MIN_CHANGE,
    Alignment,
    Channel,
    ChannelEvidence,
    CropDistances,
    MatchSegment,
    SoundFound,
    SoundVerdict,
    SpeedEvidence,
    SpeedUntold,
    compare_sound,
    score_sound,
    sound_verdict,
)
from .relation import Relation, Verification

__all__ = [
    "Alteration",
    "AlterationCode",
    "ClipEdges",
    "diagnose",
    "diagnose_match",
    "frame_alterations",
    "media_alterations",
    "to_query_fractions",
    "with_frame_evidence",
    "sound_segment",
    "with_sound_evidence",
]

Box = Rect

# -- the alignment, the spans and the files ---------------------------------------

#: Trimmed (embedded): more than this much of the reference (query) lies
#: outside the matched span at either end, seconds.
SPAN_MARGIN_S = 1.0
#: Embedded needs the clip to change footage where the match stops: a cut (shot boundary) within this
#: many seconds of that edge (two query samples; a slowed street clip's passing cyclist made a "cut" 0.62 s
#: off), or another segment's span within `SPAN_MARGIN_S` of it.
EDGE_CUT_S = 0.5
#: An inner rectangle within this share of two opposite sides of the frame is a band (`reframed`), not a
#: picture over other footage (cases-dev letterboxes: x 0.0 to 0.972-1.0); also how near a features
#: footprint must come to a side of its part of the frame to be cut by it (`_cut_by_region`; tuning.md).
BAND_EDGE = 0.03
#: Frame rates further apart than this (relative) are a frame-rate change
#: (29.97 against 30 fps is not).
FRAME_RATE_TOLERANCE = 0.05
#: Footage shown below this fraction of the reference's linear size is
#: downscaled; the crop and box estimates behind the footage's size are
#: within ~8% (the centred crops are 0.85, 0.72 and 0.61).
DOWNSCALE_BELOW = 0.9


class MirroredEvidence(TypedDict):
    """``mirrored``: the dihedral operation (a `hashing.OPS` name) that matched."""

    operation: str


class RotatedEvidence(TypedDict):
    """``rotated``: +90 when the clip is turned clockwise from the reference, -90 counter-clockwise."""

    angle_deg_clockwise: int


class CentreCropEvidence(TypedDict):
    """``cropped``, from the alignment: the stored centred crop the clip matched."""

    keep_fraction: float
    box_in_reference_px: list[int]
    reference_variant: str
    #: The matched frames' mean distance (bits of 64) to the crop, to the whole reference frames at the
    #: same alignment, and to the whole frames at the offset where they fit best (`match.CropDistances`).
    mean_distance_to_crop: float
    mean_distance_to_whole_frame: float
    mean_distance_to_whole_frame_any_moment: float
    whole_frame_offset_s: float


class ReframedEvidence(TypedDict):
    """``reframed``: the content box, fractions (x0, y0, x1, y1) of the clip's frame."""

    content_box_fraction: list[float]


class PictureInPictureEvidence(TypedDict):
    """``picture_in_picture``: the inner rectangle, fractions (x0, y0, x1, y1) of the clip's frame."""

    inner_rectangle_fraction: list[float]


class TiltEvidence(TypedDict):
    """``rotated`` by a few degrees, from the local features: the fitted similarity's angle
    (clockwise positive, degrees, as the picture appears), its zoom (`features.Geometry.scale`), the median
    inliers of the verified frame pairs, and ``alignment`` "features"."""

    rotation_deg: float
    scale: float
    inliers: list[int]
    alignment: str


class FeatureCropEvidence(TypedDict):
    """``cropped``, from the local features: the clip's frame's footprint in the reference
    (fractions x0, y0, x1, y1; an upper bound of what it shows: a caption or a sticker may
    cover part of it), the shares of width and height kept, the zoom, the inliers."""

    box_in_reference_fraction: list[float]
    keep_width_fraction: float
    keep_height_fraction: float
    scale: float
    inliers: list[int]
    alignment: str


class PartlyVisibleEvidence(TypedDict):
    """``cropped``, when the verified frame pairs' geometries disagree: only that part of the
    reference is visible (the median footprint's shares), no one crop or zoom is named."""

    keep_width_fraction: float
    keep_height_fraction: float
    inliers: list[int]
    alignment: str


class FeaturePlacementEvidence(TypedDict, total=False):
    """``picture_in_picture`` or ``reframed``, from the local features: where the footage sits
    in the clip's frame (fractions), and the share of the clip's detail outside it."""

    inner_rectangle_fraction: list[float]
    content_box_fraction: list[float]
    alignment: str
    #: Around the footage, the frame follows the footage enlarged to fill it (`layout.surround_copy`).
    surround_copy_correlation: float


class SpeedChangedEvidence(TypedDict):
    """``speed_changed``: the measured factor, its plausible range and the mean distances behind it."""

    reference_seconds_per_query_second: float
    plausible_range: list[float]
    #: Hash distances (bits of 64), for speeds measured on the frame hashes.
    lowest_mean_distance: NotRequired[float]
    mean_distance_at_normal_speed: NotRequired[float]
    #: Only for speeds the wide search fitted (`match.SpeedEvidence.fitted`).
    searched_speed_range: NotRequired[list[float]]
    at_range_edge: NotRequired[bool]
    #: Only for speeds measured on what moves (`match.SpeedEvidence.motion`, `verify.motion_speed`):
    #: ``"what_moves"``, and the moving cells' mean difference (frame standard deviations) at that
    #: speed and, when x1 fits in the reference compared, at normal speed.
    measured_by: NotRequired[str]
    moving_difference_at_speed: NotRequired[float]
    moving_difference_at_normal_speed: NotRequired[float]


class ReversedEvidence(TypedDict):
    """``reversed``: the fitted slope (negative), the reference span it runs back over and the frames behind it."""

    reference_seconds_per_query_second: float
    reference_span_s: list[float]
    frames_matched: int


class FrozenFrameEvidence(TypedDict):
    """``frozen_frame``: the clip's span that holds one picture, its samples, their largest change (grey levels),
    and whether it is the whole match (else the match runs into it, as a clip frozen at its end)."""

    query_span_s: list[float]
    samples: int
    largest_change: float
    whole_match: bool


class PartlyExplainedEvidence(TypedDict):
    """``partly_explained``: the clip's spans this alignment leaves unexplained; for a fitted speed, the speeds searched."""

    query_spans_not_explained_s: list[list[float]]
    searched_speed_range: NotRequired[list[float]]
    speed_at_range_edge: NotRequired[bool]


class TrimmedEvidence(TypedDict):
    """``trimmed``: the reference's spans left out, seconds; or, where the match's place in the reference is
    not pinned (`Verification.moment_shown` false), the most of the reference the whole clip can hold."""

    reference_spans_left_out_s: NotRequired[list[list[float]]]
    reference_seconds_at_most: NotRequired[float]
    reference_duration_s: float


class EmbeddedEvidence(TypedDict):
    """``embedded``: the clip's spans that are not from this reference, seconds, and what shows it at each edge."""

    query_spans_not_from_this_reference_s: list[list[float]]
    #: Per span: the clip's cut (shot boundary, seconds) at the footage's edge, or the span of other footage
    #: found there (another reference, or another moment of this one).
    cuts_s: NotRequired[list[float]]
    other_footage_s: NotRequired[list[list[float]]]


class FrameRateEvidence(TypedDict):
    """``frame_rate_changed``: both files' frame rates."""

    query_fps: float
    reference_fps: float


class DownscaledEvidence(TypedDict):
    """``downscaled``: the footage's linear scale and both sizes in pixels."""

    scale: float
    footage_px: list[int]
    reference_px: list[int]


class MeasuredCropEvidence(TypedDict):
    """``cropped``, from the pixels: the box the clip shows, in reference fractions (and pixels)."""

    box_in_reference_fraction: list[float]
    keep_fraction: float
    keep_width_fraction: float
    keep_height_fraction: float
    scale: float
    rotation_deg: float
    inliers: list[int]
    alignment: str
    box_in_reference_px: NotRequired[list[int]]


class GreyscaleEvidence(TypedDict):
    """``greyscale``: the chroma of both pictures (0-255 levels)."""

    chroma_query: float
    chroma_query_p90: float
    chroma_reference: float


class ColourEvidence(TypedDict, total=False):
    """``colour_changed``: whichever measures are significant."""

    brightness_delta: float
    contrast_ratio: float
    saturation_ratio: float
    hue_shift_deg: float
    hue_coherence: float


class OverlayEvidence(TypedDict):
    """``overlay``: the regions added, as clip-frame fractions, and where they sit in words."""

    boxes_query_fraction: list[list[float]]
    locations: list[str]
    overlay_share: float


class BlurEvidence(TypedDict):
    """``blurred``: the sharpness ratio and the reference's detail power."""

    sharpness_ratio: float
    reference_detail_power: float


def _alteration(code: AlterationCode, summary: str, evidence: Mapping[str, Any]) -> Alteration:
    """An alteration whose evidence was built as its code's typed dict, held as the plain dict the report writes."""
    return Alteration(code, summary, dict(evidence))


def diagnose(
    found: Alignment,
    *,
    query_duration_s: float,
    content_box: Rect | None,
    inner_rect: Rect | None = None,
    edges: ClipEdges | None = None,
    panes: tuple[Rect, ...] = (),
) -> tuple[Alteration, ...]:
    """How the query differs from the reference, from what had to be undone to match it.

    A segment whose moment verify could not establish (`same_scene`: the still
    background agrees, what moves does not) places nothing in time: no
    speed, reversal, trim or splice is said of it.

    Args:
        found: a segment and its alignment, as `match.find_matches` gives it.
        query_duration_s: the query's duration (for ``embedded``).
        content_box: the query's content box (`layout.Layout.content_box`).
        inner_rect: the query's inner rectangle (`layout.Layout.inner_rect`).
        edges: where the clip changes footage (its cuts, the other segments'
            spans); without them an unexplained part is ``partly_explained``.
        panes: the query's split-screen panes with detail (`layout.Layout.panes`): a band
            beside another of them is a pane of a split screen, not a reframe.

    Returns:
        The alignment's alterations, then the spans' (``trimmed``, ``embedded``).
    """
    out: list[Alteration] = []
    reference = found.segment.reference
    q_region, op = variant_parts(found.query_variant)
    r_region, _ = variant_parts(found.reference_variant)
    if op in (OP_MIRROR, OP_CCW_MIRROR, OP_CW_MIRROR):
        out.append(
            _alteration(
                AlterationCode.MIRRORED,
                "The picture is mirrored left to right.",
                MirroredEvidence(operation=OPS[op]),
            )
        )
    if op in (OP_CCW, OP_CCW_MIRROR, OP_CW, OP_CW_MIRROR):
        angle = 90 if op in (OP_CCW, OP_CCW_MIRROR) else -90
        turn = "clockwise" if angle == 90 else "counter-clockwise"
        out.append(
            _alteration(
                AlterationCode.ROTATED,
                f"The picture is turned 90 degrees {turn}.",
                RotatedEvidence(angle_deg_clockwise=angle),
            )
        )
    if (
        r_region in CENTRE_KEEP
        and found.crop_distances is not None
        and _crop_fits_better(found.crop_distances)
        and not _in_proposed_part(found.segment, panes)
    ):
        keep = CENTRE_KEEP[r_region]
        m = (1 - keep) / 2
        box = [
            round(m * reference.width),
            round(m * reference.height),
            round((1 - m) * reference.width),
            round((1 - m) * reference.height),
        ]
        out.append(
            _alteration(
                AlterationCode.CROPPED,
                f"The picture is cropped to about {keep:.0%} of the reference's width and height and scaled up.",
                _centre_crop_evidence(keep, box, REGIONS[r_region], found.crop_distances),
            )
        )
    if q_region == REGION_BOX and content_box is not None and not _moment_unknown_on_a_pan(found.segment):
        # A same-scene match over a pan: the box's hash may match a whole frame of another moment at
        # another zoom, so it shows no padding (a macro shot's blurred background read as bars).
        out.append(
            _alteration(
                AlterationCode.REFRAMED,
                "The footage sits inside padding (bars or a blurred copy), as in a vertical reframe.",
                ReframedEvidence(content_box_fraction=[round(v, 3) for v in content_box]),
            )
        )
    beside = inner_rect is not None and _beside_other_pane(inner_rect, panes)
    if q_region == REGION_INNER and inner_rect is not None and _band(inner_rect) and not beside:
        out.append(
            _alteration(
                AlterationCode.REFRAMED,
                "The footage fills a band across the clip's frame, from edge to edge (as a reframe into the "
                "other orientation or a split screen lays it out).",
                ReframedEvidence(content_box_fraction=[round(v, 3) for v in inner_rect]),
            )
        )
    elif q_region == REGION_INNER and inner_rect is not None:
        out.append(
            _alteration(
                AlterationCode.PICTURE_IN_PICTURE,
                "The footage fills one pane of a split screen, beside another pane with picture detail."
                if _band(inner_rect)
                else "The footage is shown in a smaller rectangle over other footage.",
                PictureInPictureEvidence(inner_rectangle_fraction=[round(v, 3) for v in inner_rect]),
            )
        )
    if found.segment.geometry is not None:
        have = {a.code for a in out}
        if have & _PLACEMENT:  # the footage's place in the frame is said once, from the hashed region
            have |= _PLACEMENT
        out += [a for a in geometry_alterations(found.segment, panes) if a.code not in have]
    held = found.held_frame
    if held is not None:
        told = "from it" if held.whole else "of this match: the held seconds fit any"
        out.append(
            _alteration(
                AlterationCode.FROZEN_FRAME,
                f"The clip shows one unchanging picture from {held.start_s:.1f} s to {held.end_s:.1f} s (a frozen "
                f"frame, or footage in which nothing moved): no speed, direction or trimming can be told {told}.",
                FrozenFrameEvidence(
                    query_span_s=[held.start_s, held.end_s],
                    samples=held.samples,
                    largest_change=held.largest_change,
                    whole_match=held.whole,
                ),
            )
        )
    if found.segment.relation == Relation.SAME_SCENE:
        return tuple(out)  # the moment is not known: nothing can be said of speed, direction or spans
    untold = speed_untold(found)
    speed_evidence = found.speed_evidence if not untold else None
    v = found.segment.verification
    speed_pinned = v is None or v.speed_shown is not False  # the camera path fits other speeds as well
    if speed_evidence is not None and speed_evidence.changed and speed_pinned:
        out.append(_speed_changed(speed_evidence))
    reversal = _reversal_shown(found) and not untold
    if reversal:
        seg = found.segment
        out.append(
            _alteration(
                AlterationCode.REVERSED,
                f"The clip plays the footage backwards (reference {seg.reference_end_s:.2f} s "
                f"back to {seg.reference_start_s:.2f} s).",
                ReversedEvidence(
                    reference_seconds_per_query_second=round(seg.speed, 3),
                    reference_span_s=[seg.reference_start_s, seg.reference_end_s],
                    frames_matched=seg.frames_matched,
                ),
            )
        )
    # A speed measured over the whole range (the wide search's line, or what moves): its spans are placed
    # at that speed, and what it leaves unexplained is no evidence of other footage.
    # (A features line's speed, not told, still places the spans: what it leaves unexplained is no splice.)
    placed = found.speed_evidence if not found.speed_untold else None
    fitted = placed if placed is not None and (placed.fitted or placed.motion) else None
    said_speed = speed_evidence is not None and speed_evidence.changed and speed_pinned
    # The span's ends rest on the alignment's speed: only where that speed is shown (said, or about x1
    # forwards, or a reversal shown) can the reference's parts beyond them be said to be left out.
    established = not untold and (
        said_speed or (abs(abs(found.segment.speed) - 1.0) < SPEED_MIN_CHANGE and (found.segment.speed > 0 or reversal))
    )
    # Where the camera path over a still picture fits other moments as well, the path shows the alignment's
    # slope (the speed) but not where it starts (`Verification.moment_shown`): no span is named as left out.
    pinned = found.segment.verification is None or found.segment.verification.moment_shown is not False
    loose = FEATURE_ALIGN_TOLERANCE_S if found.segment.channel == Channel.FEATURES else 0.0
    return tuple(out) + _span_alterations(
        reference,
        found.reference_span,
        found.query_span,
        query_duration_s,
        fitted=fitted,
        speed=found.segment.speed,
        edges=edges,
        trim=established,
        placed=pinned,
        loose_s=loose,
    )


def speed_untold(found: Alignment) -> SpeedUntold | None:
    """Why no speed, direction or trim can be told of the alignment, None when one may be: a held frame,
    what moves fitting no speed searched or contesting the matcher's (`Alignment.speed_untold`), or a speed
    only the features channel's line fitted (`SpeedUntold.FEATURES_LINE`).

    The features channel registers a handful of frames once a second; the line
    through them is no measure of speed (realistic cases, dev split: its 3
    fitted speed changes were all false, a tilt at x0.91, a 9:16 crop-fill at
    x0.75, a picture-in-picture at x0.25; every true one came from the frame
    hashes or from what moves).
    """
    if found.speed_untold:
        return found.speed_untold
    evidence = found.speed_evidence
    line = (
        found.segment.channel == Channel.FEATURES
        and evidence is not None
        and evidence.changed
        and evidence.fitted
        and not evidence.motion
    )
    return SpeedUntold.FEATURES_LINE if line else None


def _reversal_shown(found: Alignment) -> bool:
    """Whether a backwards alignment shows a reversal: the frame hashes' line fit, or a features line
    fitted over `match.FEATURE_FIT_MIN_FRAMES` verified frames spanning `match.FEATURE_FIT_MIN_SPAN_S`
    (a handful of registrations on a still background fit a backwards line as well as a forwards one)."""
    seg = found.segment
    if seg.speed >= 0:
        return False
    if seg.channel != Channel.FEATURES:
        return True
    return (
        seg.frames_matched >= FEATURE_FIT_MIN_FRAMES and seg.query_end_s - seg.query_start_s >= FEATURE_FIT_MIN_SPAN_S
    )


#: The codes that say where the footage sits in the clip's frame.
_PLACEMENT = frozenset({AlterationCode.REFRAMED, AlterationCode.PICTURE_IN_PICTURE})


def _crop_fits_better(distances: CropDistances) -> bool:
    """The stored centre crop fits the matched frames `CROP_VARIANT_MARGIN` bits better than the whole frames do
    at any moment of the reference."""
    return distances.to_whole_frame_any_moment - distances.to_crop >= CROP_VARIANT_MARGIN


def _centre_crop_evidence(keep: float, box: list[int], name: str, distances: CropDistances) -> CentreCropEvidence:
    return CentreCropEvidence(
        keep_fraction=keep,
        box_in_reference_px=box,
        reference_variant=name,
        mean_distance_to_crop=distances.to_crop,
        mean_distance_to_whole_frame=distances.to_whole_frame,
        mean_distance_to_whole_frame_any_moment=distances.to_whole_frame_any_moment,
        whole_frame_offset_s=distances.whole_frame_offset_s,
    )


def _beside_other_pane(rect: Rect, panes: tuple[Rect, ...]) -> bool:
    """A split-screen pane with detail lies mostly outside `rect` (less than half of it inside)."""
    return any(area(pane) > 0 and overlap_area(pane, rect) < 0.5 * area(pane) for pane in panes)


def _band(rect: Rect) -> bool:
    """An inner rectangle reaching two opposite sides of the frame (within `BAND_EDGE`): a band, not a
    picture over other footage (the letterbox of a reframe is found as one when its bars are not plain)."""
    x0, y0, x1, y1 = rect
    return (x0 <= BAND_EDGE and x1 >= 1.0 - BAND_EDGE) or (y0 <= BAND_EDGE and y1 >= 1.0 - BAND_EDGE)


def _cut_by_region(segment: MatchSegment, panes: tuple[Rect, ...]) -> bool:
    """Whether a features segment found in a part of the frame may have had its picture cut by that part.

    A part proposed from a rectangle's lines, from what moves or from a fit
    (`match.region_proposals`) can fall inside the picture (a side of the
    inner rectangle on a line of the footage, a still stretch of the picture at
    the edge of what moves): the part then shows less of the reference than the
    clip does. Where the footprint reaches (within `BAND_EDGE`) a side of the
    part that lies inside the frame, what the part leaves out is no evidence of
    a crop. A split screen's pane is bounded by a line across the whole frame
    and is trusted (a duet's half filled by a crop of the clip).
    """
    region, g = segment.region, segment.geometry
    if region is None or g is None or not _in_proposed_part(segment, panes):
        return False
    bx0, by0, bx1, by1 = g.query_box
    x0, y0, x1, y1 = region
    inner_sides = (
        (x0 > BAND_EDGE and bx0 - x0 <= BAND_EDGE),
        (y0 > BAND_EDGE and by0 - y0 <= BAND_EDGE),
        (x1 < 1.0 - BAND_EDGE and x1 - bx1 <= BAND_EDGE),
        (y1 < 1.0 - BAND_EDGE and y1 - by1 <= BAND_EDGE),
    )
    return any(inner_sides)


def _straddles_panes(box: Rect, panes: tuple[Rect, ...]) -> bool:
    """Whether a footprint reaches well into two panes of a split screen (`PANE_REACH` of each).

    Beside another pane with detail, what is not the footage is other footage, never padding; a
    footprint across the line is a fit that has not found the footage's edges (cases-holdout4 h015,
    a duet's half measured as 73% of the width), so no placement is said from it.
    """
    return sum(1 for pane in panes if area(pane) > 0 and overlap_area(box, pane) >= PANE_REACH * area(pane)) >= 2


def _in_proposed_part(segment: MatchSegment, panes: tuple[Rect, ...]) -> bool:
    """Whether a segment was found in a part of the frame that is no split screen's pane.

    Such a part (`match.region_proposals`: from a rectangle's lines, from what moves) can fall
    inside the picture, so its hashes may fit the reference's stored centre crop better than its
    whole frame although the clip shows the whole picture: no centre crop is named from them (the
    hash-side form of `_cut_by_region`). A pane, bounded by a line across the frame, is trusted.
    """
    region = segment.region
    return region is not None and not any(_shared(region, pane) >= 0.9 for pane in panes)


def _shared(a: Rect, b: Rect) -> float:
    inter = overlap_area(a, b)
    return inter / max(1e-9, area(a) + area(b) - inter)


def _moment_unknown_on_a_pan(segment: MatchSegment) -> bool:
    """A same-scene match whose reference span is a still picture under camera motion (`verify.is_still_picture`)."""
    camera = segment.reference.camera
    if segment.relation != Relation.SAME_SCENE or camera is None:
        return False
    return verify_mod.is_still_picture(camera, segment.reference_start_s, segment.reference_end_s)


def geometry_alterations(segment: MatchSegment, panes: tuple[Rect, ...] = ()) -> tuple[Alteration, ...]:
    """What the local features' fitted similarity says of a segment's picture, only where it holds.

    A tilt (``rotated``) of at least `features.MIN_TILT_DEG` where neither axis is squeezed
    (the general affine map's axis scales within `features.MAX_TILT_STRETCH`: `Geometry.tilt_shown`), and a crop
    (``cropped``, with its zoom) where the clip's frame covers at most
    `CROP_MAX_AREA` of the reference (and the part of the frame it was found in
    did not cut it: `_cut_by_region`), are named only when the verified pairs
    agree (`features.Geometry.stable`); when they do not, a frame that shows
    part of the reference says only that (partly visible). Where the
    footage fills at most `FOOTAGE_MAX_AREA` of the clip's frame, it sits
    beside other picture content (``picture_in_picture``: at least
    `OTHER_DETAIL_SHARE` of the clip's keypoints lie outside it, or the frame
    around it changes over the clip by `SURROUND_MOVES_GREY`, in a video, and
    that frame is no blurred copy of the footage, `SURROUND_COPY_CORRELATION`)
    or in padding, a caption bar or an interface (``reframed``).

    Of a same-scene match over a still picture under camera motion the
    footage's place in the frame is not said: its frames were registered on
    moments of the pan that may not be the clip's, each at its own zoom, and
    a more zoomed moment puts the clip's whole frame in part of it
    (cases-holdout4 h139: a full-frame copy under stickers said ``reframed``
    into 91% of its frame). The crop is said: not once wrong on three splits
    (docs/tuning.md, "A same-scene match over a pan").
    """
    g: Geometry | None = segment.geometry
    if g is None:
        return ()
    out: list[Alteration] = []
    placed = not _moment_unknown_on_a_pan(segment)
    inliers = [int(g.inliers)]
    x0, y0, x1, y1 = g.crop_box
    kw, kh = round(x1 - x0, 3), round(y1 - y0, 3)
    if g.tilt_shown:
        way = "clockwise" if g.angle_deg > 0 else "counter-clockwise"
        zoom = f", zoomed in {g.scale:.2f} times" if g.scale >= 1 + features_mod.MIN_ZOOM else ""
        turn = abs(g.angle_deg)
        told = (
            f"tilted {turn:.1f} degrees {way}"
            if turn < 45
            else f"turned {turn:.0f} degrees {way}"
            if turn < 170
            else f"turned upside down ({turn:.0f} degrees)"
        )
        out.append(
            _alteration(
                AlterationCode.ROTATED,
                f"The picture is {told}{zoom} (fitted on {g.pairs} frame pairs).",
                TiltEvidence(rotation_deg=g.angle_deg, scale=g.scale, inliers=inliers, alignment="features"),
            )
        )
    if kw * kh <= CROP_MAX_AREA and not _cut_by_region(segment, panes):
        if g.stable:
            out.append(
                _alteration(
                    AlterationCode.CROPPED,
                    f"The clip's frame shows at most {kw:.0%} of the reference's width and {kh:.0%} of its height.",
                    FeatureCropEvidence(
                        box_in_reference_fraction=list(g.crop_box),
                        keep_width_fraction=kw,
                        keep_height_fraction=kh,
                        scale=g.scale,
                        inliers=inliers,
                        alignment="features",
                    ),
                )
            )
        else:
            out.append(
                _alteration(
                    AlterationCode.CROPPED,
                    "Only part of the reference's picture is visible; its crop and zoom change from frame to "
                    "frame, so no one crop is named.",
                    PartlyVisibleEvidence(
                        keep_width_fraction=kw, keep_height_fraction=kh, inliers=inliers, alignment="features"
                    ),
                )
            )
    bx0, by0, bx1, by1 = g.query_box
    if placed and (bx1 - bx0) * (by1 - by0) <= FOOTAGE_MAX_AREA:
        box = [round(v, 3) for v in g.query_box]
        still = segment.query_start_s == segment.query_end_s
        copy = g.surround_copy is not None and g.surround_copy >= SURROUND_COPY_CORRELATION
        moves = g.surround_change is not None and g.surround_change >= SURROUND_MOVES_GREY
        if (g.outside_share >= OTHER_DETAIL_SHARE or moves) and not still and not copy:
            out.append(
                _alteration(
                    AlterationCode.PICTURE_IN_PICTURE,
                    "The footage fills only part of the clip's frame, beside other picture content "
                    "(a split screen or a picture-in-picture).",
                    FeaturePlacementEvidence(inner_rectangle_fraction=box, alignment="features"),
                )
            )
        elif not _straddles_panes(g.query_box, panes):
            evidence = FeaturePlacementEvidence(content_box_fraction=box, alignment="features")
            rest = "padding, a caption or an interface"
            if copy and g.surround_copy is not None:
                evidence["surround_copy_correlation"] = g.surround_copy
                rest = "a blurred copy of the footage itself, enlarged to fill the frame"
            out.append(
                _alteration(
                    AlterationCode.REFRAMED,
                    f"The footage fills only part of the clip's frame; the rest is {rest}.",
                    evidence,
                )
            )
    return tuple(out)


def _speed_changed(evidence: SpeedEvidence) -> Alteration:
    """``speed_changed`` from a scanned or fitted speed (a fitted one says the range searched and its edge)."""
    lo, hi = evidence.interval
    measured = abs(evidence.speed)
    summary = (
        f"The footage plays at about {measured:.2f}x the reference's speed "
        f"({'faster' if measured > 1 else 'slower'}; plausible {lo:.2f}-{hi:.2f}x)."
    )
    typed = SpeedChangedEvidence(reference_seconds_per_query_second=round(measured, 3), plausible_range=[lo, hi])
    if evidence.motion:
        # A fixed camera: the still background fits every speed, what moves tells it.
        typed["measured_by"] = "what_moves"
        typed["moving_difference_at_speed"] = evidence.distance_at_best
        if math.isfinite(evidence.distance_at_normal):
            typed["moving_difference_at_normal_speed"] = evidence.distance_at_normal
        summary += " Measured on what moves in the picture."
    else:
        typed["lowest_mean_distance"] = evidence.distance_at_best
        typed["mean_distance_at_normal_speed"] = evidence.distance_at_normal
    if evidence.fitted or evidence.motion:  # both searched the whole range (the wide search, `verify.motion_speed`)
        typed["searched_speed_range"] = [MIN_SPEED, MAX_SPEED]
        typed["at_range_edge"] = evidence.at_range_edge
        if evidence.at_range_edge:
            summary += f" This is at the edge of the speeds searched ({MIN_SPEED:g}-{MAX_SPEED:g}x)."
    return _alteration(AlterationCode.SPEED_CHANGED, summary, typed)


@dataclass(frozen=True)
class ClipEdges:
    """Where a clip changes footage: its cuts (shot boundaries, seconds) and the query spans of its segments."""

    cuts: tuple[float, ...] = ()
    #: (reference id, query start, query end) of each segment: a part of the clip that another
    #: segment of the same reference explains is this footage again (a loop, a replay), not other footage.
    segments: tuple[tuple[int, float, float], ...] = ()

    @property
    def spans(self) -> tuple[tuple[float, float], ...]:
        """The query spans of the segments."""
        return tuple((a, b) for _, a, b in self.segments)

    def same_footage_s(self, reference_id: int, part: tuple[float, float], own: tuple[float, float]) -> float:
        """Seconds of the clip's `part` that other segments of reference `reference_id` explain."""
        covered = [
            (max(a, part[0]), min(b, part[1]))
            for r, a, b in self.segments
            if r == reference_id and (a, b) != own and min(b, part[1]) > max(a, part[0])
        ]
        total, end = 0.0, part[0]
        for a, b in sorted(covered):
            a = max(a, end)
            if b > a:
                total, end = total + b - a, b
        return total

    def at(self, t: float, own: tuple[float, float]) -> tuple[str, Any] | None:
        """What shows a change of footage at clip time `t` (the edge of the span `own`): a cut within
        `EDGE_CUT_S`, or another segment's span reaching within `SPAN_MARGIN_S` of it from the far side;
        None when nothing does."""
        cut = min(self.cuts, key=lambda c: abs(c - t), default=None)
        if cut is not None and abs(cut - t) <= EDGE_CUT_S:
            return "cut", round(cut, 2)
        for a, b in self.spans:
            if (a, b) == own:
                continue
            before = b <= own[0] + SPAN_MARGIN_S and t <= own[0] + 1e-6 and b >= t - SPAN_MARGIN_S
            after = a >= own[1] - SPAN_MARGIN_S and t >= own[1] - 1e-6 and a <= t + SPAN_MARGIN_S
            if before or after:
                return "other", [round(a, 2), round(b, 2)]
        return None


def _span_alterations(
    reference: Reference,
    reference_span: tuple[float, float],
    query_span: tuple[float, float],
    query_duration_s: float,
    *,
    fitted: SpeedEvidence | None = None,
    speed: float = 1.0,
    edges: ClipEdges | None = None,
    trim: bool = True,
    placed: bool = True,
    loose_s: float = 0.0,
) -> tuple[Alteration, ...]:
    """Trimmed (reference parts left out) and embedded (query parts from elsewhere); neither for a still picture.

    A part of the reference is said to be left out only where the clip has
    nothing unexplained on that side (the clip starts, or ends, with the
    match): a clip whose first seconds no reference explains may hold the
    reference's first seconds, unmatched (fast motion, a heavy edit), so
    nothing is said of them.

    A part of the clip is said to be other footage (``embedded``) only where
    the clip shows a change of footage at the match's edge (`ClipEdges.at`:
    a cut, or another segment); else the part is only not explained
    (``partly_explained``): a heavy edit (a zoom, stickers, a split screen)
    can hide the footage from the hashes for a while without any splice.

    For a speed the wide search fitted (`fitted`), the reference's margin grows
    with the speed (one query frame spans more reference time), and the
    partly_explained evidence names the speeds searched. A part of the
    reference counts as left out only beyond what the clip's unexplained
    seconds on that side could hold (at the alignment's speed), and beyond
    `loose_s` more where the alignment places its ends loosely (the features
    channel's references are described once a second). Without `trim` (the
    alignment's speed is not shown) nothing is said to be left out. Without
    `placed` (the speed is shown but not where the span starts) only how much:
    the reference is trimmed when the whole clip, at the alignment's speed,
    holds less of it than its duration by more than the margin on each side.
    """
    out: list[Alteration] = []
    margin = SPAN_MARGIN_S * max(1.0, abs(fitted.speed)) if fitted is not None else SPAN_MARGIN_S
    margin += loose_s
    # A still picture (a query span of no length) shows one frame of the reference:
    # that frame's time says where it comes from; nothing was trimmed from footage.
    picture = query_span[1] - query_span[0] <= 0 and query_duration_s <= 0
    if reference.kind == "video" and reference.duration_s > 0 and not picture and trim and not placed:
        at_most = query_duration_s * abs(speed)
        if reference.duration_s - at_most > 2 * margin:
            out.append(
                _alteration(
                    AlterationCode.TRIMMED,
                    "Only part of the reference is used; which of its seconds is not pinned.",
                    TrimmedEvidence(
                        reference_seconds_at_most=round(at_most, 2), reference_duration_s=reference.duration_s
                    ),
                )
            )
    elif reference.kind == "video" and reference.duration_s > 0 and not picture and trim:
        left_out = []
        # Query seconds unexplained on the side where the reference's start (then its end) would sit.
        before, after = query_span[0], max(0.0, query_duration_s - query_span[1])
        if speed < 0:  # played backwards: the reference's start is at the clip's end
            before, after = after, before
        rate = max(1.0, abs(speed))
        if reference_span[0] > margin + before * rate and before <= SPAN_MARGIN_S:
            left_out.append([0.0, round(reference_span[0], 2)])
        if reference.duration_s - reference_span[1] > margin + after * rate and after <= SPAN_MARGIN_S:
            left_out.append([round(reference_span[1], 2), round(reference.duration_s, 2)])
        if left_out:
            out.append(
                _alteration(
                    AlterationCode.TRIMMED,
                    "Only part of the reference is used.",
                    TrimmedEvidence(reference_spans_left_out_s=left_out, reference_duration_s=reference.duration_s),
                )
            )
    if query_duration_s > 0:
        sides = []
        if query_span[0] > SPAN_MARGIN_S:
            sides.append(([0.0, round(query_span[0], 2)], query_span[0]))
        if query_duration_s - query_span[1] > SPAN_MARGIN_S:
            sides.append(([round(query_span[1], 2), round(query_duration_s, 2)], query_span[1]))
        if edges is not None:  # the same footage again (a loop, a replay) is no other footage
            sides = [
                (span, t)
                for span, t in sides
                if span[1] - span[0] - edges.same_footage_s(reference.id, (span[0], span[1]), query_span)
                > SPAN_MARGIN_S
            ]
        shown = [edges.at(t, query_span) if edges is not None else None for _, t in sides]
        other = [span for (span, _), why in zip(sides, shown, strict=True) if why is not None]
        unexplained = [span for (span, _), why in zip(sides, shown, strict=True) if why is None]
        if other and fitted is None:
            typed = EmbeddedEvidence(query_spans_not_from_this_reference_s=other)
            cuts = [why[1] for why in shown if why is not None and why[0] == "cut"]
            found = [why[1] for why in shown if why is not None and why[0] == "other"]
            if cuts:
                typed["cuts_s"] = cuts
            if found:
                typed["other_footage_s"] = found
            out.append(
                _alteration(AlterationCode.EMBEDDED, "The matched footage sits among other footage in the clip.", typed)
            )
        else:
            unexplained = [span for span, _ in sides]
        if unexplained:
            partly = PartlyExplainedEvidence(query_spans_not_explained_s=unexplained)
            summary = "Only part of the clip is explained by this footage"
            if fitted is not None:
                partly["searched_speed_range"] = [MIN_SPEED, MAX_SPEED]
                partly["speed_at_range_edge"] = fitted.at_range_edge
                if fitted.at_range_edge:
                    summary += f"; its speed is at the edge of the speeds searched ({MIN_SPEED:g}-{MAX_SPEED:g}x)"
            else:
                summary += "; no cut or other footage shows that the rest is something else"
            out.append(_alteration(AlterationCode.PARTLY_EXPLAINED, summary + ".", partly))
    return tuple(out)


def media_alterations(
    seg: MatchSegment, *, query_fps: float | None, query_size: tuple[int, int]
) -> tuple[Alteration, ...]:
    """What the two files' own properties show: a changed frame rate, footage shown smaller.

    Args:
        seg: a matched segment (its reference carries the reference's fps and size).
        query_fps: the checked clip's frame rate, None when unknown (a still).
        query_size: the checked clip's display (width, height).

    Returns:
        ``frame_rate_changed`` and ``downscaled``, each when shown.
    """
    ref = seg.reference
    out: list[Alteration] = []
    if seg.reference.kind == "video" and query_fps and ref.fps and ref.fps > 0:
        if abs(query_fps - ref.fps) > FRAME_RATE_TOLERANCE * ref.fps:
            out.append(
                _alteration(
                    AlterationCode.FRAME_RATE_CHANGED,
                    f"The clip runs at {query_fps:.3g} frames/s; the reference at {ref.fps:.3g}.",
                    FrameRateEvidence(query_fps=round(query_fps, 3), reference_fps=round(ref.fps, 3)),
                )
            )
    codes = {a.code: a for a in seg.alterations}
    box = (0.0, 0.0, 1.0, 1.0)
    if AlterationCode.PICTURE_IN_PICTURE in codes:
        box = tuple(codes[AlterationCode.PICTURE_IN_PICTURE].evidence["inner_rectangle_fraction"])  # type: ignore[assignment]
    elif AlterationCode.REFRAMED in codes:
        box = tuple(codes[AlterationCode.REFRAMED].evidence["content_box_fraction"])  # type: ignore[assignment]
    keep = (
        float(codes[AlterationCode.CROPPED].evidence.get("keep_fraction", 1.0))
        if AlterationCode.CROPPED in codes
        else 1.0
    )
    footage_w = query_size[0] * (box[2] - box[0])
    footage_h = query_size[1] * (box[3] - box[1])
    if AlterationCode.ROTATED in codes:
        footage_w, footage_h = footage_h, footage_w
    if ref.width > 0 and ref.height > 0 and footage_w > 0 and footage_h > 0:
        # A crop of `keep` of the reference fills the footage area: one
        # reference pixel is footage/(keep * reference) query pixels. Each axis
        # gives at most the true scale (a crop nobody measured shows less of the
        # reference on it: a 16:9 frame cut to fill 9:16 keeps its full height
        # only), so the larger is the estimate: exact when one axis is uncut.
        scale = max(footage_w / (keep * ref.width), footage_h / (keep * ref.height))
        if scale < DOWNSCALE_BELOW:
            out.append(
                _alteration(
                    AlterationCode.DOWNSCALED,
                    f"The footage is shown at about {scale:.0%} of the reference's size "
                    f"({round(footage_w)}x{round(footage_h)} pixels for the reference's "
                    f"{round(keep * ref.width)}x{round(keep * ref.height)}).",
                    DownscaledEvidence(
                        scale=round(scale, 3),
                        footage_px=[round(footage_w), round(footage_h)],
                        reference_px=[int(ref.width), int(ref.height)],
                    ),
                )
            )
    return tuple(out)


def diagnose_match(
    found: Alignment,
    *,
    query_duration_s: float,
    content_box: Rect | None,
    inner_rect: Rect | None,
    query_fps: float | None,
    query_size: tuple[int, int],
    edges: ClipEdges | None = None,
    panes: tuple[Rect, ...] = (),
) -> MatchSegment:
    """A found segment with its diagnosis: the alignment's and the spans' alterations, then the files'.

    Args:
        found: a segment and its alignment (`match.find_matches`).
        query_duration_s: the query's duration.
        content_box: the query's content box, or None.
        inner_rect: the query's inner rectangle, or None.
        query_fps: the query's frame rate, None for a still image.
        query_size: the query's display (width, height).
        edges: where the clip changes footage (for ``embedded``).
        panes: the query's split-screen panes with detail (`layout.Layout.panes`).

    Returns:
        The `MatchSegment` with its `alterations`.
    """
    alterations = diagnose(
        found,
        query_duration_s=query_duration_s,
        content_box=content_box,
        inner_rect=inner_rect,
        edges=edges,
        panes=panes,
    )
    why = speed_untold(found)
    seg = replace(
        found.segment,
        alterations=alterations,
        speed_untold=why is not None,
        speed_untold_why=None if why is None else str(why),
    )
    return replace(
        seg, alterations=seg.alterations + media_alterations(seg, query_fps=query_fps, query_size=query_size)
    )


# -- the frame pairs a report shows ------------------------------------------------


class _Picture(Protocol):
    """A thumbnail the report holds (`evidence.Thumbnail`)."""

    def rgb(self) -> np.ndarray: ...


class _FramePair(Protocol):
    """A query thumbnail and the reference thumbnail aligned with it, either possibly missing."""

    @property
    def query(self) -> _Picture | None: ...

    @property
    def reference(self) -> _Picture | None: ...


class AlignedFrames(Protocol):
    """A match's aligned frame pairs (`evidence.MatchFrames`, made after the match is found)."""

    @property
    def pairs(self) -> Sequence[_FramePair]: ...


def with_frame_evidence(
    m: MatchSegment,
    frames: AlignedFrames | None,
    content_box: Rect | None,
    inner_rect: Rect | None,
) -> MatchSegment:
    """A match with the alterations its aligned frame pairs show (`frame_alterations`) added.

    A crop measured from the pixels replaces the matcher's nearest stored
    crop; the other codes are added. Pairs missing either frame are left out;
    with none, the match is returned as it is.

    Args:
        m: a diagnosed match.
        frames: its aligned thumbnails, or None (no frames were taken).
        content_box: the query's content box, or None.
        inner_rect: the query's inner rectangle, or None.

    Returns:
        The match, with the pixels' alterations when they show any.
    """
    if frames is None:
        return m
    region, _, op = m.query_variant.partition("/")
    query_box = (
        content_box if region == REGIONS[REGION_BOX] else inner_rect if region == REGIONS[REGION_INNER] else None
    )
    ref = m.reference
    try:
        pairs = [(p.query.rgb(), p.reference.rgb()) for p in frames.pairs if p.query and p.reference]
        found = frame_alterations(
            pairs,
            op=op or "none",
            query_box=query_box,
            reference_size=(int(ref.width), int(ref.height)) if ref.width and ref.height else None,
        )
    except ValueError:
        return m  # frames that do not decode or do not fit together: the hash-based diagnosis stands
    if not found:
        return m
    new = {a.code for a in found}
    kept = tuple(a for a in m.alterations if a.code not in new)
    return replace(m, alterations=kept + found)


# Measurements quoted below: the 85 true copies of the development corpus
# (bench/data), 3 aligned pairs each, taken at the true times and again 0.12 s
# and 0.25 s off (the matcher's pairs are not frame-exact); "unrelated" is the
# corpus's 26 negatives paired with a random reference.

# -- registration thresholds -----------------------------------------------------

#: ORB keypoints per frame (1000 doubled the time and registered no more copies).
ORB_FEATURES = 500
#: Lowe's ratio test on the Hamming distances of the two nearest descriptors.
RATIO_TEST = 0.8
#: RANSAC reprojection error, reference thumbnail pixels.
RANSAC_PX = 3.0
#: Fewest RANSAC inliers for a pair's transform to count: unrelated pairs
#: reached at most 7 (once degenerate fits are dropped), and every true copy
#: had two pairs with at least 21.
MIN_INLIERS = 15
#: Plausible scales (reference pixels per query pixel); outside is degenerate.
SCALE_RANGE = (0.2, 5.0)
#: Inliers must span at least this share of the query's width and height.
MIN_INLIER_SPREAD = 0.2
#: Pairs' transforms agree when they put the query's corners this close, as
#: fractions of the reference's sides (true copies: within 0.02).
AGREE_TOLERANCE = 0.04
#: Aligned pictures (grey, low-passed) must correlate at least this well in
#: every pair: unrelated pairs resized onto each other reached 0.27, uncropped
#: copies 0.93 or more (crops of 60-80%, resized, 0.07-0.72: refused).
MIN_CORRELATION = 0.8
#: ... over an overlap of at least this share of the query's picture, 0-1.
MIN_OVERLAP = 0.2
#: Cropped: the query frame covers at most this share of the reference's area
#: (uncropped copies: 0.94-1.00; the corpus crops, keeping 60-80% of each side: 0.44-0.53).
CROP_MAX_AREA = 0.85
#: ... and what it leaves out of the reference has at least this grey standard
#: deviation (the corpus crops left out 18-64): cutting away a reference's
#: black letterbox bars (about 1) shows no less of its picture.
CROP_MIN_REMOVED_STD = 6.0
#: A match on a stored centre crop (`hashing.CENTRE_KEEP`) says ``cropped`` only when its frames
#: are at least this many bits (of 64) nearer the crop than the whole frames at any offset, 0-64
#: (crops kept: 1.7-18.8; a recoloured whole frame 0.6; a pan's other moment -0.7-0.7; docs/tuning.md).
CROP_VARIANT_MARGIN = 1.5
#: A features footprint covering at least this share of each of two split-screen panes straddles
#: them: no `reframed` is said from it (0-1; cases-holdout4 h015 covered 47% of the other pane; a
#: footprint kept to its half within `BAND_EDGE` covers at most 6% of the other: tuning.md).
PANE_REACH = 0.2
#: The footage fills only part of the clip's frame when the reference's footprint in it
#: (`features.Geometry.query_box`) covers at most this share of its area (a duet's half: 0.5).
FOOTAGE_MAX_AREA = 0.85
#: ... and sits beside other picture content (not padding) when at least this share of the
#: clip's keypoints lie outside the footprint (bars and blurred padding give almost none).
OTHER_DETAIL_SHARE = 0.1
#: ... unless the frame around it follows the footage enlarged to fill the frame this closely
#: (`layout.surround_copy`, -1 to 1): a blurred copy of itself is padding, whatever its keypoints
#: (cases-dev: blurred copies 0.975-0.979, other surrounds -0.47-0.71).
SURROUND_COPY_CORRELATION = 0.8
#: ... and beside other picture content, however few its keypoints, where the frame around it changes over
#: the clip by at least this (`layout.surround_change`, grey levels; cases-dev: padding, captions and
#: interfaces 0-1.05, other footage beside the clip 0.61-10.3, a duet beside a moving gradient 4.9).
SURROUND_MOVES_GREY = 2.0
#: A measured crop shown at more than this many query pixels per reference
#: pixel is said to be "enlarged" in its summary.
ENLARGED_ABOVE = 1.05

# -- colour thresholds -----------------------------------------------------------
# Chroma is the distance from grey in the (Cb, Cr) plane, 0-255 levels. Copies
# without a colour edit (209 measurements) stayed within: brightness +-2
# levels, contrast 0.93-1.07, saturation 0.99-1.04, hue +-2.2 degrees.

#: Greyscale: 90% of the query's pixels have at most this chroma (greyscale
#: copies: 0.0; any other copy: 16 or more)...
GREY_MAX_CHROMA = 3.0
#: ... where the reference's mean chroma is at least this (corpus references:
#: 7.6-95; samples/refs/street_cyclists, nearly colourless, 4-5).
GREY_MIN_REFERENCE_CHROMA = 6.0
#: Median luma shift (0-255 levels) reported as a brightness change.
BRIGHTNESS_DELTA = 12.0
#: Luma spread ratio outside [1/r, r]: a contrast change.
CONTRAST_RATIO = 1.15
#: Median per-pixel chroma ratio outside [1/r, r]: a saturation change.
SATURATION_RATIO = 1.2
#: Chroma angle shift (degrees) reported as a hue change (the corpus's hue edits: 15-45)...
HUE_SHIFT_DEG = 10.0
#: ... and saturation too, only when the reference's mean chroma is at least this...
HUE_MIN_CHROMA = 6.0
#: ... and (hue) the pixels' shifts agree this well (|mean unit phasor|, 1 =
#: all alike; the corpus's hue edits: 0.97-1.0).
HUE_MIN_COHERENCE = 0.5
#: Saturation is compared over pixels whose reference chroma is at least this...
COLOURED_MIN_CHROMA = 6
#: ... and hue over pixels whose chroma exceeds this in both pictures...
HUE_PIXEL_MIN_CHROMA = 4
#: ... each measured only over at least this many such pixels (else no change).
MIN_COLOUR_PIXELS = 100
#: Luma (0-255) outside these levels is clipped: such pixels and quantiles
#: are left out of the colour measures (a gamut or a crushed shadow cuts them).
UNCLIPPED = (3, 252)
#: Contrast is measured only when the reference's luma quantiles compared lie
#: at least this many levels apart (else no change).
MIN_LUMA_SPREAD = 16

# -- overlay and blur thresholds -------------------------------------------------
# Overlay: of the 81 copies without a caption (x3 timings) none kept a region
# past the size filters; the 4 with caption and logo were all found, each
# standing out by 1.5 or more (OVERLAY_STANDOUT).

#: A query pixel is foreign when it lies this many levels outside the 5x5
#: min-max envelope of the colour-mapped reference.
OVERLAY_LEVELS = 40.0
#: The colour measures leave foreign pixels out only where at least this share of the overlap stays
#: (0-1): where most of it is foreign the alignment, not an overlay, is what differs.
COLOUR_MIN_EXPLAINED = 0.5
#: Smallest overlay region, as a share of the compared area.
OVERLAY_MIN_AREA = 0.002
#: Regions must be at least this many pixels wide and high: thin lines along
#: the footage's edge (a picture-in-picture border) are not overlays.
OVERLAY_MIN_SIDE = 4
#: Regions must fill at least this share of their bounding box.
OVERLAY_MIN_FILL = 0.2
#: A region's texture must stand out from its surroundings in the query by
#: this much more (|log| of the edge-strength ratio) than in the reference.
OVERLAY_STANDOUT = 0.5
#: Beyond this share of foreign pixels the pictures simply disagree.
OVERLAY_MAX_AREA = 0.25
#: Blurred: the query's Laplacian power is at most this share of the
#: reference's. Copies without blur: 0.74 or more (lowest: 360p at 300 kb/s);
#: blur_noise copies 0.25-1.0 (most of the corpus's blurs cannot be seen in thumbnails).
BLUR_RATIO = 0.45
#: Tiles whose reference Laplacian power is below this are flat and not compared.
BLUR_MIN_POWER = 20.0
#: Fewest compared tiles (over all pairs) for a sharpness ratio.
BLUR_MIN_TILES = 12
#: A tile is compared when at least this share of it lies inside the overlap.
BLUR_TILE_FILL = 0.9

#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`).
THRESHOLDS: dict[str, float] = {
    "span_margin_s": SPAN_MARGIN_S,
    "edge_cut_s": EDGE_CUT_S,
    "band_edge": BAND_EDGE,
    "frame_rate_tolerance": FRAME_RATE_TOLERANCE,
    "downscale_below": DOWNSCALE_BELOW,
    "orb_features": ORB_FEATURES,
    "ratio_test": RATIO_TEST,
    "ransac_px": RANSAC_PX,
    "min_inliers": MIN_INLIERS,
    "scale_range_min": SCALE_RANGE[0],
    "scale_range_max": SCALE_RANGE[1],
    "min_inlier_spread": MIN_INLIER_SPREAD,
    "agree_tolerance": AGREE_TOLERANCE,
    "min_correlation": MIN_CORRELATION,
    "min_overlap": MIN_OVERLAP,
    "crop_max_area": CROP_MAX_AREA,
    "footage_max_area": FOOTAGE_MAX_AREA,
    "other_detail_share": OTHER_DETAIL_SHARE,
    "surround_copy_correlation": SURROUND_COPY_CORRELATION,
    "surround_moves_grey": SURROUND_MOVES_GREY,
    "crop_min_removed_std": CROP_MIN_REMOVED_STD,
    "crop_variant_margin": CROP_VARIANT_MARGIN,
    "pane_reach": PANE_REACH,
    "enlarged_above": ENLARGED_ABOVE,
    "grey_max_chroma": GREY_MAX_CHROMA,
    "grey_min_reference_chroma": GREY_MIN_REFERENCE_CHROMA,
    "brightness_delta": BRIGHTNESS_DELTA,
    "contrast_ratio": CONTRAST_RATIO,
    "saturation_ratio": SATURATION_RATIO,
    "hue_shift_deg": HUE_SHIFT_DEG,
    "hue_min_chroma": HUE_MIN_CHROMA,
    "hue_min_coherence": HUE_MIN_COHERENCE,
    "coloured_min_chroma": COLOURED_MIN_CHROMA,
    "hue_pixel_min_chroma": HUE_PIXEL_MIN_CHROMA,
    "min_colour_pixels": MIN_COLOUR_PIXELS,
    "unclipped_low": UNCLIPPED[0],
    "unclipped_high": UNCLIPPED[1],
    "min_luma_spread": MIN_LUMA_SPREAD,
    "overlay_levels": OVERLAY_LEVELS,
    "colour_min_explained": COLOUR_MIN_EXPLAINED,
    "overlay_min_area": OVERLAY_MIN_AREA,
    "overlay_min_side": OVERLAY_MIN_SIDE,
    "overlay_min_fill": OVERLAY_MIN_FILL,
    "overlay_standout": OVERLAY_STANDOUT,
    "overlay_max_area": OVERLAY_MAX_AREA,
    "blur_ratio": BLUR_RATIO,
    "blur_min_power": BLUR_MIN_POWER,
    "blur_min_tiles": BLUR_MIN_TILES,
    "blur_tile_fill": BLUR_TILE_FILL,
}


def frame_alterations(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    op: str = "none",
    query_box: Box | None = None,
    reference_size: tuple[int, int] | None = None,
) -> tuple[Alteration, ...]:
    """How the query's pixels differ from the reference's, from aligned frame pairs.

    Args:
        pairs: (query RGB, reference RGB) uint8 frames in display orientation
            showing the same moment of footage (typically 320 px thumbnails,
            1-3 pairs, all from one query and one reference).
        op: the dihedral operation (a `hashing.OPS` value) that turns the
            query's footage, once cut to `query_box`, into the reference's
            orientation.
        query_box: (x0, y0, x1, y1) fractions of the query frame that hold the
            footage (a reframe's content box, a picture-in-picture
            rectangle); None for the whole frame.
        reference_size: the reference's (width, height) in pixels, for the
            crop box in reference pixels.

    Returns:
        Alterations among ``cropped``, ``greyscale``, ``colour_changed``,
        ``overlay`` and ``blurred``, each only on clear evidence; () when the
        pairs cannot be aligned. Evidence: ``cropped`` the box in reference
        fractions (and pixels), ``keep_fraction``, ``scale`` (query thumbnail
        pixels per reference thumbnail pixel), RANSAC ``inliers`` per pair
        registered; ``colour_changed`` whichever of ``brightness_delta``
        (median luma, 0-255 levels), ``contrast_ratio``, ``saturation_ratio``
        and ``hue_shift_deg`` (rotation of the CbCr plane, the sign of
        ffmpeg's ``hue=h``) are significant;
        ``overlay`` boxes as query-frame fractions and their ``locations``
        in words; ``blurred`` the ``sharpness_ratio``. Pixel comparisons also
        name their ``alignment`` ("features" or "resize").

    Raises:
        ValueError: an unknown `op`, or frames that are not HxWx3 uint8.
    """
    if op not in _OPS:
        raise ValueError(f"unknown operation {op!r}: expected one of {', '.join(_OPS)}")
    if not pairs:
        return ()
    for q, r in pairs:
        for a in (q, r):
            if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
                raise ValueError(f"frames must be HxWx3 uint8, got shape {a.shape} and dtype {a.dtype}")
    if len({q.shape for q, _ in pairs}) > 1 or len({r.shape for _, r in pairs}) > 1:
        raise ValueError("all query frames must have one size, and all reference frames one size")
    prepared = [(np.ascontiguousarray(_OPS[op](_cut(q, query_box))), r) for q, r in pairs]
    geometry = _register(prepared)
    aligned = _align(prepared, geometry)
    if aligned is None:
        return ()
    out: list[Alteration] = []
    if geometry.transform is not None:
        frame = _frame_in_footage(op, query_box)
        crop = _crop(geometry, prepared[0][0].shape, [r for _, r in prepared], frame, reference_size)
        if crop is not None:
            out.append(_alteration(AlterationCode.CROPPED, *crop))
    how = {"alignment": geometry.method}
    colour_map = _colour_map(aligned)
    mapped = [cv2.transform(p.reference, colour_map) for p in aligned]  # uint8, saturated
    foreign = [_foreign(p, m) for p, m in zip(aligned, mapped, strict=True)]
    colour = _colour(aligned, foreign)
    if colour is not None:
        out.append(_alteration(colour[0], colour[1], {**colour[2], **how}))
    if geometry.transform is not None and len(aligned) >= 2:
        overlay = _overlay(aligned, mapped, foreign, op, query_box)
        if overlay is not None:
            out.append(_alteration(AlterationCode.OVERLAY, overlay[0], {**overlay[1], **how}))
    blur = _blur(aligned, mapped, geometry.scale)
    if blur is not None:
        out.append(_alteration(AlterationCode.BLURRED, blur[0], {**blur[1], **how}))
    return tuple(out)


# -- orientation -----------------------------------------------------------------

_OPS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda x: x,
    "mirror": lambda x: x[:, ::-1],
    "rotate_ccw": lambda x: np.rot90(x),
    "rotate_cw": lambda x: np.rot90(x, -1),
    "rotate_ccw_mirror": lambda x: np.rot90(x)[:, ::-1],
    "rotate_cw_mirror": lambda x: np.rot90(x, -1)[:, ::-1],
}
_Point = Callable[[float, float], tuple[float, float]]
#: (x, y) fractions of the cut picture -> (u, v) fractions after the operation.
_FORWARD: dict[str, _Point] = {
    "none": lambda x, y: (x, y),
    "mirror": lambda x, y: (1 - x, y),
    "rotate_ccw": lambda x, y: (y, 1 - x),
    "rotate_cw": lambda x, y: (1 - y, x),
    "rotate_ccw_mirror": lambda x, y: (1 - y, 1 - x),
    "rotate_cw_mirror": lambda x, y: (y, x),
}
#: (u, v) fractions after the operation -> (x, y) fractions of the cut picture.
_INVERSE: dict[str, _Point] = {
    "none": lambda u, v: (u, v),
    "mirror": lambda u, v: (1 - u, v),
    "rotate_ccw": lambda u, v: (1 - v, u),
    "rotate_cw": lambda u, v: (v, 1 - u),
    "rotate_ccw_mirror": lambda u, v: (1 - v, 1 - u),
    "rotate_cw_mirror": lambda u, v: (v, u),
}


def _cut(image: np.ndarray, box: Box | None) -> np.ndarray:
    if box is None:
        return image
    h, w = image.shape[:2]
    x0, y0 = min(w - 8, max(0, round(box[0] * w))), min(h - 8, max(0, round(box[1] * h)))
    x1, y1 = max(x0 + 8, round(box[2] * w)), max(y0 + 8, round(box[3] * h))
    return image[y0:y1, x0:x1]


def _map_box(box: Box, f: _Point) -> Box:
    (xa, ya), (xb, yb) = f(box[0], box[1]), f(box[2], box[3])
    return (min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb))


def to_query_fractions(box: Box, op: str, query_box: Box | None) -> Box:
    """A box in fractions of the oriented footage, back in fractions of the query frame.

    Undoes `op` (the box was found after it) and then the cut to `query_box`.
    """
    x0, y0, x1, y1 = _map_box(box, _INVERSE[op])
    if query_box is None:
        return (x0, y0, x1, y1)
    bx0, by0, bx1, by1 = query_box
    bw, bh = bx1 - bx0, by1 - by0
    return (bx0 + x0 * bw, by0 + y0 * bh, bx0 + x1 * bw, by0 + y1 * bh)


def _frame_in_footage(op: str, query_box: Box | None) -> Box:
    """The whole query frame in fractions of the oriented footage (beyond 0-1 when cut)."""
    if query_box is None:
        return (0.0, 0.0, 1.0, 1.0)
    bx0, by0, bx1, by1 = query_box
    bw, bh = max(bx1 - bx0, 1e-6), max(by1 - by0, 1e-6)
    return _map_box((-bx0 / bw, -by0 / bh, (1 - bx0) / bw, (1 - by0) / bh), _FORWARD[op])


# -- registration and alignment ------------------------------------------------------


@dataclass(frozen=True)
class _Geometry:
    """How the oriented query footage maps onto the reference (pixels to pixels)."""

    method: str  # "features" or "resize"
    transform: np.ndarray | None  # 2x3, agreed by the pairs; None for "resize"
    per_pair: tuple[np.ndarray | None, ...]  # each pair's own, when it agrees
    inliers: tuple[int, ...]
    scale: float  # reference pixels per query pixel


@dataclass(frozen=True)
class _Pair:
    """One aligned pair on the query's grid."""

    query: np.ndarray  # the oriented query footage, HxWx3 uint8
    reference: np.ndarray  # the reference warped onto it, HxWx3 uint8
    valid: np.ndarray  # HxW bool: where the warped reference has pixels


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _scale(m: np.ndarray) -> float:
    return float(math.hypot(m[0, 0], m[1, 0]))


def _features(grey: np.ndarray) -> tuple[Any, np.ndarray | None]:
    # Histogram equalisation first: low-contrast footage (sky, storm clouds)
    # otherwise gives FAST too few corners; 7 of 85 dev copies did not register.
    orb = cv2.ORB.create(ORB_FEATURES, nlevels=6, edgeThreshold=15, patchSize=15, fastThreshold=10)
    return orb.detectAndCompute(cv2.equalizeHist(grey), None)


def _pair_transform(q: np.ndarray, r: np.ndarray) -> tuple[np.ndarray | None, int]:
    """The similarity from query pixels to reference pixels (or None), and its inlier count."""
    qg, rg = _grey(q), _grey(r)
    # Features are found at comparable scales: a small query region (a
    # reframe's content box) is enlarged towards the reference's size first.
    up = min(3.0, max(1.0, math.sqrt(rg.size / qg.size)))
    if up > 1.05:
        qg = cv2.resize(qg, None, fx=up, fy=up, interpolation=cv2.INTER_LINEAR)
    kq, dq = _features(qg)
    kr, dr = _features(rg)
    if dq is None or dr is None or len(kq) < MIN_INLIERS or len(kr) < MIN_INLIERS:
        return None, 0
    matches = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(dq, dr, k=2)
    good = [m[0] for m in matches if len(m) == 2 and m[0].distance < RATIO_TEST * m[1].distance]
    if len(good) < MIN_INLIERS:
        return None, 0
    src = np.array([kq[m.queryIdx].pt for m in good], np.float32) / up
    dst = np.array([kr[m.trainIdx].pt for m in good], np.float32)
    m, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX, maxIters=2000, confidence=0.995
    )
    if m is None or mask is None:
        return None, 0
    inl = mask.ravel() > 0
    inliers = int(inl.sum())
    # Fits between unrelated pictures collapse many points onto one (scale
    # near 0) or rest on a small cluster: not a registration.
    spread = np.ptp(src[inl], axis=0) / (q.shape[1], q.shape[0]) if inliers else np.zeros(2)
    if inliers < MIN_INLIERS or not SCALE_RANGE[0] <= _scale(m) <= SCALE_RANGE[1] or spread.min() < MIN_INLIER_SPREAD:
        return None, inliers
    return m, inliers


def _corners(m: np.ndarray, q_shape: tuple[int, ...], r_shape: tuple[int, ...]) -> np.ndarray:
    """The query's four corners in fractions of the reference, (4, 2)."""
    h, w = q_shape[:2]
    pts = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    return (pts @ m[:, :2].T + m[:, 2]) / (r_shape[1], r_shape[0])


def _register(prepared: list[tuple[np.ndarray, np.ndarray]]) -> _Geometry:
    """The transform at least two pairs agree on (one when there is one pair), or a plain resize.

    An edit's geometry (crop, reframe) holds for the whole clip, so pairs are
    registered only until two agree; the rest are warped by their median and
    checked by correlation in `_align`.
    """
    q_shape, r_shape = prepared[0][0].shape, prepared[0][1].shape
    need = min(2, len(prepared))
    found: list[tuple[np.ndarray | None, int]] = []
    agree: list[int] = []
    for q, r in prepared:
        found.append(_pair_transform(q, r))
        good = {i: m for i, (m, _) in enumerate(found) if m is not None}
        if len(good) < need:
            continue
        corners = {i: _corners(m, q_shape, r_shape) for i, m in good.items()}
        centre = np.median(np.stack(list(corners.values())), axis=0)
        agree = [i for i in good if np.abs(corners[i] - centre).max() <= AGREE_TOLERANCE]
        if len(agree) >= need:
            break
    inliers = tuple(n for _, n in found)
    if len(agree) < need:
        return _Geometry("resize", None, (None,) * len(prepared), inliers, 1.0)
    transforms = [found[i][0] for i in agree]
    transform = np.median(np.stack([m for m in transforms if m is not None]), axis=0)
    per_pair = tuple(found[i][0] if i in agree else None for i in range(len(prepared)))
    return _Geometry("features", transform, per_pair, inliers, _scale(transform))


def _align(prepared: list[tuple[np.ndarray, np.ndarray]], geometry: _Geometry) -> list[_Pair] | None:
    """Each pair's reference on the query's grid, or None when the aligned pictures do not correlate."""
    out = []
    for (q, r), m in zip(prepared, geometry.per_pair, strict=True):
        h, w = q.shape[:2]
        if geometry.transform is None:
            ref = cv2.resize(r, (w, h), interpolation=cv2.INTER_AREA)
            out.append(_Pair(q, ref, np.ones((h, w), bool)))
            continue
        t = (m if m is not None else geometry.transform).astype(np.float64)
        s = _scale(t)
        src = r
        if s > 1.2:  # the reference is shrunk onto the query: low-pass it first
            src = cv2.resize(r, None, fx=1 / s, fy=1 / s, interpolation=cv2.INTER_AREA)
            t = t / s
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        ref = cv2.warpAffine(src, t, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        inside = cv2.warpAffine(np.full(src.shape[:2], 255, np.uint8), t, (w, h), flags=flags)
        # Rows next to the footage's edge mix it with padding when scaled: left out.
        valid = cv2.erode(inside, np.ones((9, 9), np.uint8)) == 255
        out.append(_Pair(q, ref, valid))
    if min(_correlation(p) for p in out) < MIN_CORRELATION:
        return None
    return out


def _correlation(p: _Pair) -> float:
    """Correlation of the two grey pictures on the overlap, low-passed so small shifts do not matter."""
    if p.valid.sum() < MIN_OVERLAP * p.valid.size:
        return 0.0
    a, b = (cv2.GaussianBlur(_grey(x).astype(np.float32), (0, 0), 2.0)[p.valid] for x in (p.query, p.reference))
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


# -- cropped -------------------------------------------------------------------------


def _crop(
    geometry: _Geometry,
    q_shape: tuple[int, ...],
    references: Sequence[np.ndarray],
    frame: Box,
    reference_size: tuple[int, int] | None,
) -> tuple[str, MeasuredCropEvidence] | None:
    """Cropped when the whole query frame, mapped into the reference, covers only part of it.

    The whole frame rather than the footage box: a box cut too tight by the
    caller would otherwise look like a crop, while padding maps outside the
    reference and is clipped away.
    """
    assert geometry.transform is not None
    hq, wq = q_shape[:2]
    hr, wr = references[0].shape[:2]
    fx0, fy0, fx1, fy1 = frame
    pts = np.array([[fx0 * wq, fy0 * hq], [fx1 * wq, fy0 * hq], [fx1 * wq, fy1 * hq], [fx0 * wq, fy1 * hq]])
    m = geometry.transform
    mapped = pts @ m[:, :2].T + m[:, 2]
    lo = np.clip(mapped.min(axis=0) / (wr, hr), 0.0, 1.0)
    hi = np.clip(mapped.max(axis=0) / (wr, hr), 0.0, 1.0)
    kw, kh = float(hi[0] - lo[0]), float(hi[1] - lo[1])
    if kw * kh > CROP_MAX_AREA:
        return None
    box = [float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])]
    removed = np.ones((hr, wr), bool)
    removed[round(box[1] * hr) : round(box[3] * hr), round(box[0] * wr) : round(box[2] * wr)] = False
    if max(float(_grey(r)[removed].std()) for r in references) < CROP_MIN_REMOVED_STD:
        return None
    evidence = MeasuredCropEvidence(
        box_in_reference_fraction=[round(v, 3) for v in box],
        keep_fraction=round(math.sqrt(kw * kh), 3),
        keep_width_fraction=round(kw, 3),
        keep_height_fraction=round(kh, 3),
        scale=round(1 / geometry.scale, 3),
        rotation_deg=round(math.degrees(math.atan2(m[1, 0], m[0, 0])), 1),
        inliers=list(geometry.inliers),
        alignment=geometry.method,
    )
    if reference_size is not None:
        w, h = reference_size
        evidence["box_in_reference_px"] = [round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h)]
    summary = f"The picture shows only part of the reference: about {kw:.0%} of its width and {kh:.0%} of its height"
    return summary + (", enlarged." if 1 / geometry.scale > ENLARGED_ABOVE else "."), evidence


# -- colour ----------------------------------------------------------------------------


def _colour_measures(pairs: Sequence[_Pair], foreign: Sequence[np.ndarray] | None = None) -> dict[str, float]:
    """Robust colour statistics of the query against the reference, pooled over the aligned overlaps.

    `foreign`: per pair, the query pixels the colour-mapped reference cannot explain (`_foreign`: a
    caption bar, a sticker, what moved), left out where at least `COLOUR_MIN_EXPLAINED` of the
    overlap stays: a dark bar over the bottom eighth of the picture moved the luma quantiles by
    itself (contrast 0.81, "less contrast", on footage whose colours were untouched).

    Luma and chroma come from YCrCb; chroma is the complex number
    (Cb - 128) + i (Cr - 128). Brightness and contrast compare luma
    quantiles, saturation is the median ratio of chroma magnitudes over
    pixels with colour in the reference, and the hue shift is the angle of the
    mean unit phasor zq * conj(zr) over pixels with chroma in both (a
    circular mean, so pixels that moved between the two frames only weaken
    its `hue_coherence`).
    """
    qs, rs, inside = [], [], []
    for k, p in enumerate(pairs):
        sel = np.zeros_like(p.valid)
        sel[::3, ::3] = True
        sel &= p.valid
        if foreign is not None:
            explained = sel & ~foreign[k]
            if explained.sum() >= COLOUR_MIN_EXPLAINED * max(1, int(sel.sum())):
                sel = explained
        qs.append(cv2.cvtColor(p.query, cv2.COLOR_RGB2YCrCb)[sel].astype(np.float32))
        rs.append(cv2.cvtColor(p.reference, cv2.COLOR_RGB2YCrCb)[sel].astype(np.float32))
        # Chroma of a pixel with a channel at 0 or 255 is cut by the RGB gamut:
        # a hue rotation of dark footage, say, would read as lost saturation.
        inside.append(_unclipped(p.query[sel]) & _unclipped(p.reference[sel]))
    q, r, gamut = np.concatenate(qs), np.concatenate(rs), np.concatenate(inside)
    zq = (q[:, 2] - 128) + 1j * (q[:, 1] - 128)
    zr = (r[:, 2] - 128) + 1j * (r[:, 1] - 128)
    cq, cr = np.abs(zq), np.abs(zr)
    # Saturation pixel by pixel where the reference has colour: a logo or a
    # caption (a few percent of pixels) cannot move a median.
    coloured = (cr >= COLOURED_MIN_CHROMA) & gamut
    saturation = 1.0
    if coloured.sum() >= MIN_COLOUR_PIXELS:
        saturation = float(np.exp(np.median(np.log((cq[coloured] + 0.5) / cr[coloured]))))
    both = (cq > HUE_PIXEL_MIN_CHROMA) & (cr > HUE_PIXEL_MIN_CHROMA) & gamut
    hue, coherence = 0.0, 0.0
    if both.sum() >= MIN_COLOUR_PIXELS:
        phasor = zq[both] * np.conj(zr[both])
        mean = (phasor / np.abs(phasor)).mean()
        hue, coherence = math.degrees(math.atan2(mean.imag, mean.real)), float(abs(mean))
    return {
        "chroma_query": float(cq.mean()),
        "chroma_query_p90": float(np.percentile(cq, 90)),
        "chroma_reference": float(cr.mean()),
        "brightness_delta": float(np.median(q[:, 0]) - np.median(r[:, 0])),
        "contrast_ratio": _spread_ratio(q[:, 0], r[:, 0]),
        "saturation_ratio": saturation,
        "hue_shift_deg": hue,
        "hue_coherence": coherence,
    }


def _unclipped(rgb: np.ndarray) -> np.ndarray:
    """(N,) bool: pixels (N, 3) with no channel at the ends of its range."""
    return np.asarray(((rgb >= UNCLIPPED[0]) & (rgb <= UNCLIPPED[1])).all(axis=1))


def _spread_ratio(yq: np.ndarray, yr: np.ndarray) -> float:
    """Luma spread of the query over the reference's, between the widest quantiles clipped in neither.

    Brightness and contrast edits are monotone maps of luma, so quantiles map
    onto quantiles; a darkened picture crushes its shadows to black, and
    quantiles there would read as lost contrast.
    """
    levels = (10, 25, 75, 90)  # 10-90: a logo covering a few percent of the picture moves none
    pq, pr = np.percentile(yq, levels), np.percentile(yr, levels)
    ok = [i for i in range(len(levels)) if all(UNCLIPPED[0] <= v[i] <= UNCLIPPED[1] for v in (pq, pr))]
    lo = next((i for i in ok if levels[i] < 50), None)
    hi = next((i for i in reversed(ok) if levels[i] > 50), None)
    if lo is None or hi is None or pr[hi] - pr[lo] < MIN_LUMA_SPREAD:
        return 1.0
    return float((pq[hi] - pq[lo]) / (pr[hi] - pr[lo]))


def _colour(
    pairs: Sequence[_Pair], foreign: Sequence[np.ndarray] | None = None
) -> tuple[AlterationCode, str, GreyscaleEvidence | ColourEvidence] | None:
    c = _colour_measures(pairs, foreign)
    if c["chroma_query_p90"] <= GREY_MAX_CHROMA and c["chroma_reference"] >= GREY_MIN_REFERENCE_CHROMA:
        evidence = GreyscaleEvidence(
            chroma_query=round(c["chroma_query"], 1),
            chroma_query_p90=round(c["chroma_query_p90"], 1),
            chroma_reference=round(c["chroma_reference"], 1),
        )
        return (
            AlterationCode.GREYSCALE,
            "The picture is in black and white where the reference is in colour.",
            evidence,
        )
    found: ColourEvidence = {}
    words = []
    if abs(c["brightness_delta"]) >= BRIGHTNESS_DELTA:
        found["brightness_delta"] = round(c["brightness_delta"], 1)
        words.append("brighter" if c["brightness_delta"] > 0 else "darker")
    if not 1 / CONTRAST_RATIO < c["contrast_ratio"] < CONTRAST_RATIO:
        found["contrast_ratio"] = round(c["contrast_ratio"], 2)
        words.append("more contrast" if c["contrast_ratio"] > 1 else "less contrast")
    coloured = c["chroma_reference"] >= HUE_MIN_CHROMA
    if coloured and not 1 / SATURATION_RATIO < c["saturation_ratio"] < SATURATION_RATIO:
        found["saturation_ratio"] = round(c["saturation_ratio"], 2)
        words.append("more saturated" if c["saturation_ratio"] > 1 else "less saturated")
    if coloured and c["hue_coherence"] >= HUE_MIN_COHERENCE and abs(c["hue_shift_deg"]) >= HUE_SHIFT_DEG:
        found["hue_shift_deg"] = round(c["hue_shift_deg"])
        found["hue_coherence"] = round(c["hue_coherence"], 2)
        words.append(f"hues shifted by about {abs(round(c['hue_shift_deg']))} degrees")
    if not found:
        return None
    return AlterationCode.COLOUR_CHANGED, "The colours differ from the reference: " + ", ".join(words) + ".", found


# -- overlay -----------------------------------------------------------------------------


def _colour_map(pairs: Sequence[_Pair]) -> np.ndarray:
    """The affine colour map (3x4: RGB and offset) that best turns the reference into the query.

    Brightness, contrast, saturation, hue rotation and greyscale are all
    linear in RGB up to clipping, so one least-squares fit over all pairs,
    refitted without its worst fifth of pixels (overlays, things that
    moved), undoes them.
    """
    xs, ys = [], []
    for p in pairs:
        sel = np.zeros_like(p.valid)
        sel[::3, ::3] = True
        sel &= p.valid
        xs.append(p.reference[sel])
        ys.append(p.query[sel])
    x = np.c_[np.concatenate(xs).astype(np.float64), np.ones(sum(len(v) for v in xs))]
    y = np.concatenate(ys).astype(np.float64)
    a = np.linalg.lstsq(x, y, rcond=None)[0]
    err = np.abs(x @ a - y).max(axis=1)
    keep = err <= np.percentile(err, 80)
    return np.linalg.lstsq(x[keep], y[keep], rcond=None)[0].T


def _foreign(p: _Pair, mapped: np.ndarray) -> np.ndarray:
    """Query pixels the colour-mapped reference cannot explain, even shifted by up to 2 px."""
    ref = cv2.GaussianBlur(mapped, (3, 3), 0)
    q = cv2.GaussianBlur(p.query, (3, 3), 0)
    kernel = np.ones((5, 5), np.uint8)
    outside = cv2.max(cv2.subtract(q, cv2.dilate(ref, kernel)), cv2.subtract(cv2.erode(ref, kernel), q))
    worst = cv2.max(cv2.max(outside[:, :, 0], outside[:, :, 1]), outside[:, :, 2])
    return (worst > OVERLAY_LEVELS) & p.valid


def _edges(rgb: np.ndarray) -> np.ndarray:
    g = _grey(rgb).astype(np.float32)
    return np.abs(cv2.Sobel(g, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1))


def _anomaly(edges: np.ndarray, inside: np.ndarray, around: np.ndarray) -> float:
    """How unlike its surroundings a region's texture is: |log| of the ratio of mean edge strengths."""
    return abs(math.log((float(edges[inside].mean()) + 2.0) / (float(edges[around].mean()) + 2.0)))


def _overlay(
    pairs: Sequence[_Pair],
    mapped: Sequence[np.ndarray],
    foreign: Sequence[np.ndarray],
    op: str,
    query_box: Box | None,
) -> tuple[str, OverlayEvidence] | None:
    """Text or graphics laid over the footage, from each pair's `foreign` pixels against its colour-`mapped` reference."""
    valid = np.logical_and.reduce([p.valid for p in pairs])
    area = int(valid.sum())
    # Each pair's foreign pixels are closed into regions (a wide closing joins
    # the letters and words of a caption into a line) and the regions found in
    # every pair are kept: letters lost against a white car in one frame are
    # found in another, while things that move do not stay put.
    if area == 0 or min(f.sum() for f in foreign) > OVERLAY_MAX_AREA * area:
        return None
    line, grow = np.ones((7, 15), np.uint8), np.ones((3, 3), np.uint8)
    regions = [cv2.dilate(cv2.morphologyEx(f.astype(np.uint8), cv2.MORPH_CLOSE, line), grow) > 0 for f in foreign]
    persistent = np.logical_and.reduce(regions) & valid
    n, labels, stats, _ = cv2.connectedComponentsWithStats(persistent.astype(np.uint8), connectivity=8)
    h, w = persistent.shape
    blobs = [
        i
        for i in range(1, n)
        if stats[i, 4] >= OVERLAY_MIN_AREA * area
        and stats[i, 4] >= OVERLAY_MIN_FILL * stats[i, 2] * stats[i, 3]
        and min(stats[i, 2], stats[i, 3]) >= OVERLAY_MIN_SIDE
    ]
    if not blobs:
        return None
    q_edges = np.mean([_edges(p.query) for p in pairs], axis=0)
    r_edges = np.mean([_edges(m) for m in mapped], axis=0)
    boxes = []
    for i in blobs:
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        blob = (labels == i).astype(np.uint8)
        # Which picture carries the graphic? Footage under it looks like the
        # footage around it; a caption (much busier) or a flat logo (much
        # calmer) does not. The query's region must stand out from its
        # surroundings clearly more than the reference's does, or the
        # reference may be the one with the graphic (the query the clean copy).
        # Both leave out 2 px along the region's edge, where the graphic's outline is.
        inside = cv2.erode(blob, np.ones((5, 5), np.uint8)) > 0
        if inside.sum() < 4:  # a thin line of text
            inside = blob > 0
        around = (cv2.dilate(blob, np.ones((13, 13), np.uint8)) > 0) & ~(
            cv2.dilate(blob, np.ones((5, 5), np.uint8)) > 0
        )
        around &= valid
        if around.sum() < 4:
            continue
        if _anomaly(q_edges, inside, around) < _anomaly(r_edges, inside, around) + OVERLAY_STANDOUT:
            continue
        boxes.append(to_query_fractions((x / w, y / h, (x + bw) / w, (y + bh) / h), op, query_box))
    if not boxes:
        return None
    places = sorted({_place(b) for b in boxes})
    evidence = OverlayEvidence(
        boxes_query_fraction=[[round(v, 3) for v in b] for b in boxes],
        locations=places,
        overlay_share=round(float(persistent.sum()) / area, 4),
    )
    return f"Text or graphics were added over the footage ({', '.join(places)}).", evidence


def _place(box: Box) -> str:
    """Plain words for where a box (query-frame fractions) sits."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    row = "top" if cy < 1 / 3 else ("bottom" if cy > 2 / 3 else "middle")
    if box[2] - box[0] >= 0.5:
        return row if row != "middle" else "across the middle"
    col = "left" if cx < 1 / 3 else ("right" if cx > 2 / 3 else "")
    if row == "middle":
        return f"{col} side" if col else "centre"
    return f"{row}-{col} corner" if col else row


# -- blurred -------------------------------------------------------------------------------

#: Side of the tiles whose sharpness ratios are pooled by a median, pixels.
_TILE = 24


def _blur_measures(pairs: Sequence[_Pair], mapped: Sequence[np.ndarray], scale: float) -> tuple[float, float]:
    """(sharpness ratio, reference detail power): the query's Laplacian power over the reference's.

    The reference is colour-mapped onto the query first (contrast changes
    scale Laplacian power too). Powers are compared per tile and the median
    tile ratio taken, so a caption or a moving object in a few tiles does not
    count. When the query is enlarged (scale < 1) both are first brought
    down to the reference's scale, where its detail was.
    """
    ratios, powers = [], []
    for p, m in zip(pairs, mapped, strict=True):
        q, r = _grey(p.query), _grey(m)
        valid: np.ndarray = p.valid.astype(np.uint8)
        if scale < 0.95:
            size = (max(_TILE, round(q.shape[1] * scale)), max(_TILE, round(q.shape[0] * scale)))
            q, r = (cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (q, r))
            valid = cv2.resize(valid, size, interpolation=cv2.INTER_NEAREST)
        inner = (cv2.erode(valid, np.ones((5, 5), np.uint8)) > 0).astype(np.float32)
        n = _tile_sums(inner)
        fq = _tile_sums(cv2.Laplacian(q.astype(np.float32), cv2.CV_32F) ** 2 * inner) / np.maximum(n, 1)
        fr = _tile_sums(cv2.Laplacian(r.astype(np.float32), cv2.CV_32F) ** 2 * inner) / np.maximum(n, 1)
        use = (n >= BLUR_TILE_FILL * _TILE * _TILE) & (fr >= BLUR_MIN_POWER)
        ratios.extend((fq[use] / fr[use]).tolist())
        powers.extend(fr[use].tolist())
    if len(ratios) < BLUR_MIN_TILES:
        return 1.0, 0.0
    return float(np.median(ratios)), float(np.median(powers))


def _tile_sums(values: np.ndarray) -> np.ndarray:
    """Sums over _TILE x _TILE tiles (the ragged right and bottom edges left out)."""
    h, w = (values.shape[0] // _TILE) * _TILE, (values.shape[1] // _TILE) * _TILE
    return values[:h, :w].reshape(h // _TILE, _TILE, w // _TILE, _TILE).sum(axis=(1, 3))


def _blur(pairs: Sequence[_Pair], mapped: Sequence[np.ndarray], scale: float) -> tuple[str, BlurEvidence] | None:
    ratio, power = _blur_measures(pairs, mapped, scale)
    if ratio > BLUR_RATIO:
        return None
    evidence = BlurEvidence(sharpness_ratio=round(ratio, 3), reference_detail_power=round(power, 1))
    return f"The picture is markedly less sharp than the reference (about {ratio:.0%} of its fine detail).", evidence


# -- the sound over a picture match ---------------------------------------------------------


class SoundEvidence(TypedDict):
    """``audio_replaced``, ``audio_overlaid``: the sound compared over the picture's span.

    `ber` is the mean bit error rate of the aligned Chromaprint items (a
    re-encoded copy's sound stays under `match.SOUND_AGREE_BER`, unrelated
    sound 0.35-0.5); `chance_ber` the rate unrelated sound with these items'
    bit frequencies would give and `agreement` how far beyond that chance the
    two agree (`audio.SoundAlignment.agreement`: replaced sound near 0, mixed
    sound above `match.SOUND_OVERLAID_AGREEMENT`); `query_span_s` the compared span of the clip,
    `offset_s` the sound's offset found near the picture's, `items` the
    items compared, `worst_seconds` the three aligned seconds farthest apart.
    `landmarks` the clip's landmarks meeting the reference's there, and `anchors` the distinct peaks
    of the clip anchoring them where the sound lookup heard the reference's sound at this moment
    (None otherwise).
    """

    ber: float
    chance_ber: float
    agreement: float
    landmarks: int | None
    anchors: int | None
    items: int
    query_span_s: list[float]
    offset_s: float
    worst_seconds: list[list[float]]


class SoundRemovedEvidence(TypedDict):
    """``audio_removed``: the clip has no sound (or only silence) where its reference has sound."""

    query_sound: str
    reference_items: int


def sound_stretch(m: MatchSegment) -> float:
    """The speed a picture match's sound is stretched back by before it is compared: the match's speed where
    the picture told a change of speed (its ``speed_changed`` alteration) or plays backwards (then not
    compared); else 1. A speed the picture did not tell (a same-scene match, a camera path that fits other
    speeds) is no evidence about the sound, which is then compared as it plays: stretched by an untold
    x1.2, a picture-in-picture copy's own sound (BER 0.02 at speed 1) read as ``unclear`` (docs/audio.md)."""
    if abs(m.speed - 1.0) <= 0.02:
        return 1.0
    if m.speed < 0 or any(a.code == AlterationCode.SPEED_CHANGED for a in m.alterations):
        return m.speed
    return 1.0


def with_sound_evidence(
    m: MatchSegment,
    query: SoundPrint | None,
    reference: SoundPrint | None,
    *,
    heard_elsewhere: bool = False,
    at_speed: Sequence[SoundPrint] = (),
    heard: SoundFound | None = None,
    placed_from_s: float | None = None,
) -> MatchSegment:
    """A picture match with its sound compared to the reference's: a channel, and an alteration when they differ.

    The sound is compared over the picture's span near the picture's offset
    (`match.compare_sound`); for a copy whose speed changed, its sound
    stretched back by that speed (`at_speed`) is compared instead, since
    Chromaprint does not survive a 5% change of speed. Nothing is said when
    either side has no sound to compare.

    Args:
        m: a picture match (channel ``frames`` or ``features``).
        query: the clip's sound fingerprint (None: a still image).
        reference: the reference's (None: stored before the audio stage).
        at_speed: for a match whose speed changed, the clip's sound fingerprinted
            again, stretched by the match's speed (`audio.fingerprint_sound`'s
            `speed`, one print per `audio.Resampling`); the one closest to the
            reference's sound is compared. Without them such a match's sound is
            not compared (Chromaprint does not survive a 5% change of speed).
        heard_elsewhere: the reference's sound was found in the clip at another
            offset (`match.find_sound_matches`): a disagreement here then says
            only that one of the two offsets is wrong, so it is reported as
            ``unclear``, with no alteration.
        heard: the sound lookup's match of this reference (`match.find_sound_matches`, at or above
            the match threshold; None: the lookup did not find its sound). Within
            `match.SOUND_SAME_OFFSET_S` of the picture's offset it is the reference's sound at this
            moment, found against every other offset of every reference: the sound then agrees (its
            bit error rate at most `match.SOUND_AGREE_BER`) or is overlaid, never replaced. Farther,
            the channel says where it was heard and that the match keeps the picture's moment.
        placed_from_s: the picture's own offset, where the match was placed by its sound instead
            (`pipeline`: the picture did not pin its moment and the sound did); the channel says so.

    Returns:
        `m` with an ``audio`` `ChannelEvidence` (verdict `SoundVerdict`) and,
        for replaced, overlaid or removed sound, the alteration.
    """
    if m.channel == Channel.AUDIO:
        return m
    if query is None or reference is None:
        return m  # no sound to compare (a still, a clip without a track, a reference stored without one)
    span = (m.query_start_s, m.query_end_s)
    if not m.channels:
        picture = ChannelEvidence(str(m.channel), span[0], span[1], m.offset_s, m.score)
        m = replace(m, channels=(picture,))

    stretch = sound_stretch(m)

    def heard_span(aligned: Any) -> tuple[float, float]:
        """The span the compared items hear: from the first one's start to the last one's end, within the match
        (in the clip's own time: a stretched print's times are divided by the speed)."""
        q0, q1 = aligned.query_span_s
        return max(q0 / stretch, span[0]), min(span[1], (q1 - aligned.step_s + ITEM_SPAN_S) / stretch)

    def channel(verdict: SoundVerdict, aligned: Any = None) -> ChannelEvidence:
        if aligned is None:
            return ChannelEvidence(str(Channel.AUDIO), span[0], span[1], m.offset_s, 0.0, verdict=str(verdict))
        q0, q1 = heard_span(aligned)
        return ChannelEvidence(
            str(Channel.AUDIO),
            round(q0, 3),
            round(q1, 3),
            round(aligned.offset_s, 3),
            score_sound(aligned.items, aligned.ber),
            round(aligned.ber, 4),
            aligned.items,
            aligned.seconds,
            str(verdict),
            round(aligned.chance_ber, 4),
            round(aligned.agreement, 4),
            marks,
            anchors,
            note,
            placed_from_s is not None and verdict == SoundVerdict.AGREES,
        )

    marks: int | None = None
    anchors: int | None = None
    note: str | None = None
    if reference.usable == 0:
        return m  # the reference has no sound to compare with
    if query.status in (SoundStatus.NO_AUDIO_STREAM, SoundStatus.SILENT):
        evidence: SoundRemovedEvidence = {"query_sound": str(query.status), "reference_items": reference.usable}
        what = "has no sound track" if query.status == SoundStatus.NO_AUDIO_STREAM else "is silent"
        removed = _alteration(AlterationCode.AUDIO_REMOVED, f"The clip {what} where its reference has sound.", evidence)
        return replace(
            m, alterations=(*m.alterations, removed), channels=(*m.channels, channel(SoundVerdict.NOT_COMPARED))
        )
    if query.usable == 0 or (stretch != 1.0 and (m.speed < 0 or not at_speed)):
        return replace(m, channels=(*m.channels, channel(SoundVerdict.NOT_COMPARED)))
    tries = [
        compare_sound(p, reference, offset_s=m.offset_s, query_span=(span[0] * stretch, span[1] * stretch))
        for p in (at_speed if stretch != 1.0 else [query])
    ]
    pairs = [(a, p) for a, p in zip(tries, at_speed if stretch != 1.0 else [query], strict=True) if a is not None]
    if not pairs:
        return replace(m, channels=(*m.channels, channel(SoundVerdict.NOT_COMPARED)))
    aligned, heard_print = min(pairs, key=lambda x: x[0].ber)
    # Landmarks decide mixed against replaced where both sides have them (older references have none),
    # searched around the picture's offset: under louder sound the items' best offset can be off by 0.6 s.
    marks = (
        mark_votes(heard_print, reference, m.offset_s, SOUND_SYNC_S)[0]
        if len(heard_print.marks) and len(reference.marks)
        else None
    )
    verdict = sound_verdict(aligned, marks)
    lookup: SoundFound | None = None
    if heard is not None and stretch == 1.0 and verdict != SoundVerdict.AGREES:
        if abs(heard.alignment.offset_s - m.offset_s) <= SOUND_SAME_OFFSET_S:
            # The lookup heard the reference's sound at this moment (by its own rule, against every offset of
            # every reference): its alignment is the evidence, and the sound is not replaced.
            lookup, aligned = heard, heard.alignment
            verdict = SoundVerdict.AGREES if aligned.ber <= SOUND_AGREE_BER else SoundVerdict.OVERLAID
            marks, anchors = heard.landmarks or None, heard.anchors or None
        else:
            verdict = SoundVerdict.UNCLEAR
            note = (
                f"the reference's sound is heard at offset {heard.alignment.offset_s:+.2f} s instead (bit error rate "
                f"{heard.alignment.ber:.2f} over {heard.alignment.items} items, listed as a match of its own), "
                f"{abs(heard.alignment.offset_s - m.offset_s):.1f} s from the picture's {m.offset_s:+.2f} s; the match "
                + (
                    "keeps the picture's alignment (a copy's sound can be shifted against its picture; which of "
                    "the two offsets is wrong is not told)"
                    if m.verification is None or m.verification.moment_shown is not False
                    else "keeps the picture's place, since the sound there is heard only under other sound "
                    "(by its landmarks), not surely enough to move it"
                )
                + ", and says nothing of the sound at the picture's moment"
            )
    elif heard_elsewhere and verdict in (SoundVerdict.REPLACED, SoundVerdict.OVERLAID):
        verdict = SoundVerdict.UNCLEAR
    if placed_from_s is not None and verdict == SoundVerdict.AGREES:
        note = (
            f"the picture matches this reference but does not pin its moment (its camera path over a still picture "
            f"fits other moments as well; alone it placed the clip at offset {placed_from_s:+.2f} s); the sound does: "
            f"it agrees at offset {aligned.offset_s:+.2f} s (bit error rate {aligned.ber:.2f} over {aligned.items} "
            "items), so the match is placed by its sound"
        )
    out = replace(m, channels=(*m.channels, channel(verdict, aligned)))
    if verdict not in (SoundVerdict.REPLACED, SoundVerdict.OVERLAID):
        return out
    worst = sorted(aligned.seconds, key=lambda x: -x[1])[:3]
    q0, q1 = heard_span(aligned)
    sound_evidence: SoundEvidence = {
        "ber": round(aligned.ber, 4),
        "chance_ber": round(aligned.chance_ber, 4),
        "agreement": round(aligned.agreement, 4),
        "landmarks": marks,
        "anchors": anchors,
        "items": aligned.items,
        "query_span_s": [round(q0, 3), round(q1, 3)],
        "offset_s": round(aligned.offset_s, 3),
        "worst_seconds": [list(x) for x in worst],
    }
    if verdict == SoundVerdict.REPLACED:
        why = (
            f"{marks} of the clip's spectral-peak landmarks meet the reference's near the picture's offset "
            f"(at most {SOUND_REPLACED_MARKS} for other sound)"
            if marks is not None
            else f"agreement beyond chance {aligned.agreement:.2f}, at most {SOUND_REPLACED_AGREEMENT:.2f} for other sound"
        )
        summary = (
            f"The sound was replaced: over {q0:.1f}-{q1:.1f} s the clip's sound differs from the reference's "
            f"(bit error rate {aligned.ber:.2f}, where unrelated sound would give {aligned.chance_ber:.2f}; {why}; "
            f"a re-encoded copy stays under {SOUND_AGREE_BER:.2f})."
        )
        code = AlterationCode.AUDIO_REPLACED
    elif lookup is not None:
        summary = (
            f"Other sound was mixed over the reference's: over {q0:.1f}-{q1:.1f} s the reference's sound is still "
            f"heard under other sound (bit error rate {aligned.ber:.2f}, above a re-encoded copy's "
            f"{SOUND_AGREE_BER:.2f}; the sound lookup found it at offset {aligned.offset_s:+.2f} s, by "
            f"{lookup.anchors} distinct peaks of the clip anchoring {lookup.landmarks} spectral-peak landmarks that "
            f"meet the reference's there, from {SOUND_MARK_VOTES} with agreement beyond chance "
            f"{SOUND_MARK_AGREEMENT:.2f} (here {aligned.agreement:.2f}) or {SOUND_MARK_SURE_VOTES} for a match)."
        )
        code = AlterationCode.AUDIO_OVERLAID
    else:
        summary = (
            f"Other sound was mixed over the reference's: over {q0:.1f}-{q1:.1f} s the reference's sound is still "
            f"heard under other sound (bit error rate {aligned.ber:.2f}, above a re-encoded copy's "
            f"{SOUND_AGREE_BER:.2f}; "
            + (
                f"{marks} of the clip's spectral-peak landmarks meet the reference's at its offset, "
                f"from {SOUND_OVERLAID_MARKS} for mixed sound)."
                if marks is not None
                else f"agreement beyond chance {aligned.agreement:.2f}, from {SOUND_OVERLAID_AGREEMENT:.2f} for mixed sound)."
            )
        )
        code = AlterationCode.AUDIO_OVERLAID
    return replace(out, alterations=(*out.alterations, _alteration(code, summary, sound_evidence)))


def sound_segment(found: SoundFound, *, query_duration_s: float) -> MatchSegment:
    """A match by the sound alone, as a segment (channel ``audio``, relation ``same_sound``).

    The span runs from the first matched item's start to the last one's
    end (an item hears `audio.ITEM_SPAN_S`), within the clip. The relation
    is always ``same_sound``: music, chants or applause are shared by
    unrelated clips, so the sound alone never says the footage is reused
    (docs/audio.md).
    """
    a = found.alignment
    q0 = a.span[0] * a.step_s
    q1 = min(a.span[1] * a.step_s + ITEM_SPAN_S, query_duration_s or math.inf)
    q1 = max(q1, q0)
    evidence = ChannelEvidence(
        str(Channel.AUDIO),
        round(q0, 3),
        round(q1, 3),
        round(a.offset_s, 3),
        found.score,
        round(a.ber, 4),
        a.items,
        a.seconds,
        str(SoundVerdict.SAME_SOUND),
        round(a.chance_ber, 4),
        round(a.agreement, 4),
        found.landmarks or None,
        found.anchors or None,
    )
    reason = f"matched by its sound alone: bit error rate {a.ber:.2f} over {a.items} Chromaprint items"
    if found.anchors and not found.by_marks:
        reason += (
            f", confirmed by {found.landmarks} spectral-peak landmarks anchored on {found.anchors} distinct "
            "peaks of the clip meeting the reference's at this offset"
        )
    if found.by_marks:
        reason = (
            f"matched by its sound alone, under other sound: {found.landmarks} of the clip's spectral-peak "
            f"landmarks, anchored on {found.anchors} distinct peaks, meet the reference's at this offset, "
            f"and Chromaprint's items agree beyond chance by {a.agreement:.2f} "
            f"(bit error rate {a.ber:.2f} where unrelated sound would give {a.chance_ber:.2f}, over {a.items} items)"
        )
    return MatchSegment(
        reference=found.reference,
        score=found.score,
        query_start_s=round(q0, 3),
        query_end_s=round(q1, 3),
        reference_start_s=round(q0 + a.offset_s, 3),
        reference_end_s=round(q1 + a.offset_s, 3),
        offset_s=round(a.offset_s, 3),
        speed=1.0,
        mirrored=False,
        frames_matched=0,
        frames_total=0,
        mean_distance=0.0,
        query_variant="sound",
        reference_variant="sound",
        verification=Verification(Relation.SAME_SOUND, 0, None, None, reason),
        channel=str(Channel.AUDIO),
        channels=(evidence,),
    )
