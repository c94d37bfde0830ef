"""Stage layout: where the footage sits in the frame.

A re-post often shows the footage smaller than its frame: inside padding
(black bars, a letterbox, a blurred copy of itself behind a vertical
reframe) or as a picture laid over other footage (picture-in-picture).
Both survive only through hashes of the region the footage fills, so the
query's layout is found here, from edges that persist over the sampled
frames, and handed to `hashing.hash_query`::

    >>> layout = find_layout(frames.images)        # (N, H, W) grey samples
    >>> layout.content_box, layout.inner_rect       # fractions (x0, y0, x1, y1), or None
    ((0.0, 0.38, 1.0, 0.62), None)

Rectangles are fractions of the frame, (x0, y0, x1, y1), the `hashing.Rect`
that hashing crops to. The history of each constant's value is in
docs/tuning.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .hashing import Rect

#: Padding: rows (columns) outside a band carry at most this share of the band's
#: gradient energy, 0-1. Dev set: blurred padding behind a vertical reframe 0.2-0.3.
PADDING_ENERGY_RATIO = 0.45
#: A band end snaps to a persistent row (column) edge this many times stronger
#: than the typical edge (>= 1).
SNAP_EDGE_RATIO = 3.0
#: A band end looks for that edge within this share of the frame's side (0-0.5).
SNAP_REACH = 0.12
#: A pair of persistent edges symmetric about the centre, each this many typical
#: edges (median + 0.5), is the content box even where energy cannot tell
#: padding from footage. Dev set: vertical reframes 2.8-10.7, other clips <= 3.6.
SYMMETRIC_EDGE_RATIO = 2.5
#: ... when the band between them is at least this share of the frame (0-1).
SYMMETRIC_MIN_BAND = 0.3
#: The top (left) edge of such a pair is looked for between these shares of the
#: frame's side.
SYMMETRIC_SEARCH = (0.05, 0.45)
#: A content box wider and taller than this share of the frame is the whole
#: frame (no box), 0-1.
BOX_WHOLE_FRAME = 0.92
#: A content box narrower or shorter than this share of the frame is no box, 0-1.
BOX_MIN_SIDE = 0.2

#: Picture-in-picture works on persistent edges over the frame's typical one,
#: never taken below this many grey levels (0-255): 11 of 111 dev queries have
#: a typical edge of 0.
TYPICAL_EDGE_FLOOR = 1.0
#: A side is a line: its edge beats this many times the stronger mean edge 2-4
#: lines to either side (>= 1). Dev set and 80 synthetic pictures: 1.25 and 2 worse.
INNER_LINE_CONTRAST = 1.5
#: Line evidence is that surplus in typical edges clipped to +-this, then
#: scaled to +-1 (dev set and synthetic pictures: 6 and 12 worse).
INNER_LINE_CAP = 8.0
#: Rectangles rank by line evidence along their sides, each side pixel less
#: this prior (0-1), set on 7 dev and 80 synthetic pictures.
INNER_LINE_PRIOR = 0.5
#: ... less the evidence along each side's continuation for this share of the
#: frame past the corners (sides stop where they meet; 0.1 and 0.2 worse).
INNER_SIDE_EXTENSION = 0.15
#: Sides run at least this share of the frame, 0-1.
INNER_MIN_SIDE = 0.3
#: ... and the rectangle is not the whole frame: at most this share of it both ways.
INNER_MAX_SIDE = 0.9
#: Fewest sampled frames for an inner rectangle: edges must be seen to persist.
INNER_MIN_FRAMES = 4
#: Candidate lines per direction (the best by line evidence, 3 or more apart).
INNER_CANDIDATES = 10
#: The best rectangle is kept when each side inside the frame persists this many
#: typical edges, times `INNER_EDGE_SIDES` (dev set: all 7 pictures kept, each
#: side within 0.6 px; 6 of 104 other queries keep one, all reframe bands).
INNER_EDGE_RATIO = 6.0
#: The factor on `INNER_EDGE_RATIO` by sides inside the frame (the others lie
#: on the frame's border, with no edge to measure).
INNER_EDGE_SIDES = {4: 1.0, 3: 1.5, 2: 2.0}
#: `other_inner_rectangles`: rectangles of the ranking walked for pictures beside the first,
#: at most this many kept, each overlapping a kept one by at most this share of the smaller.
INNER_OTHERS_RANKED = 400
INNER_OTHERS = 2
INNER_OTHER_OVERLAP = 0.1
#: ... or lies inside the first (this share of it) at most this share of its area: the first
#: can be the rectangle around two pictures in one row.
INNER_OTHER_INSIDE = 0.95
INNER_OTHER_PART = 0.7
#: One side may be this share of the needed strength when the sides meeting it
#: stop there, their edge dropping by as much (q052's faint right side), 0-1.
INNER_WEAK_SIDE = 0.5

#: A split screen's boundary is a line across the frame: its persistent edge beats the edges 3
#: lines to either side by this factor on `SPLIT_MIN_SHARE` of its length (cases-dev duets
#: 0.86-1.0; other edits up to 0.74, a monitor's bezel).
SPLIT_LINE_CONTRAST = 2.0
SPLIT_MIN_SHARE = 0.8
#: A pane is kept when its busiest tenth of lines across has at least this share of the busiest
#: pane's detail (gradient energy, 0-1): a letterbox bar is padding, not a pane (cases-dev: 0.01).
SPLIT_PANE_ENERGY = 0.25
#: Splits looked for, as shares of the side: where apps split the frame (halves, thirds), each
#: boundary within `SPLIT_AT_TOLERANCE` of its place; a still graphic's own edge elsewhere (a
#: test pattern, a monitor's bezel) is no split.
SPLIT_AT = ((1 / 2,), (1 / 3, 2 / 3))
SPLIT_AT_TOLERANCE = 0.03

#: The surround of a footprint is compared with the footage in cells of this many sample pixels
#: (8 of the 128-pixel samples: 16 x 9 cells), a blur that a blurred-copy padding survives.
SURROUND_CELL_PX = 8
#: ... over at least this many cells outside the footprint (fewer: not measured).
SURROUND_MIN_CELLS = 6
#: ... whose grey levels vary by at least this standard deviation (0-255; under it the surround is
#: plain padding, bars or a flat colour, and has nothing to correlate).
SURROUND_MIN_STD = 2.0
#: A sample pixel *moves* when its grey level, blurred by one pixel, varies over the clip by at
#: least this standard deviation (0-255): pictures laid over a still background (a photograph, a
#: colour) stand out from it by what they show moving (cases-dev pip_multi, docs/tuning.md).
MOVING_PART_GREY = 1.5
#: ... a moving part is kept when the rest of the frame moves at most this share of its pixels
#: (0-1: the background holds still) ...
MOVING_PART_STILL_OUTSIDE = 0.03
#: ... and its moving pixels fill at least this share of its bounding box (0-1: a picture, not a
#: moving figure in a fixed shot).
MOVING_PART_MIN_FILL = 0.6
#: ... and it holds at least this share of the frame's area (0-1).
MOVING_PART_MIN_AREA = 0.01

#: A picture too small for the samples' inner rectangle is looked for in the features channel's frames
#: scaled to this long side (pixels) ...
SMALL_INNER_LONG_SIDE = 256
#: ... with sides of at least this share of the frame's (0-1; a 16:9 picture at a third of a 9:16
#: frame's width is 12% of its height; own pip cases, docs/tuning.md).
SMALL_INNER_MIN_SIDE = 0.1

#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`).
THRESHOLDS: dict[str, float] = {
    "padding_energy_ratio": PADDING_ENERGY_RATIO,
    "snap_edge_ratio": SNAP_EDGE_RATIO,
    "snap_reach": SNAP_REACH,
    "symmetric_edge_ratio": SYMMETRIC_EDGE_RATIO,
    "symmetric_min_band": SYMMETRIC_MIN_BAND,
    "symmetric_search_from": SYMMETRIC_SEARCH[0],
    "symmetric_search_to": SYMMETRIC_SEARCH[1],
    "box_whole_frame": BOX_WHOLE_FRAME,
    "box_min_side": BOX_MIN_SIDE,
    "typical_edge_floor": TYPICAL_EDGE_FLOOR,
    "inner_line_contrast": INNER_LINE_CONTRAST,
    "inner_line_cap": INNER_LINE_CAP,
    "inner_line_prior": INNER_LINE_PRIOR,
    "inner_side_extension": INNER_SIDE_EXTENSION,
    "inner_min_side": INNER_MIN_SIDE,
    "inner_max_side": INNER_MAX_SIDE,
    "inner_min_frames": INNER_MIN_FRAMES,
    "inner_candidates": INNER_CANDIDATES,
    "inner_edge_ratio": INNER_EDGE_RATIO,
    **{f"inner_edge_sides_{n}": factor for n, factor in INNER_EDGE_SIDES.items()},
    "inner_weak_side": INNER_WEAK_SIDE,
    "split_line_contrast": SPLIT_LINE_CONTRAST,
    "split_min_share": SPLIT_MIN_SHARE,
    "split_pane_energy": SPLIT_PANE_ENERGY,
    "split_at_tolerance": SPLIT_AT_TOLERANCE,
    "surround_cell_px": SURROUND_CELL_PX,
    "surround_min_cells": SURROUND_MIN_CELLS,
    "surround_min_std": SURROUND_MIN_STD,
    "moving_part_grey": MOVING_PART_GREY,
    "moving_part_still_outside": MOVING_PART_STILL_OUTSIDE,
    "moving_part_min_fill": MOVING_PART_MIN_FILL,
    "moving_part_min_area": MOVING_PART_MIN_AREA,
    "small_inner_long_side": SMALL_INNER_LONG_SIDE,
    "small_inner_min_side": SMALL_INNER_MIN_SIDE,
    "inner_others_ranked": INNER_OTHERS_RANKED,
    "inner_others": INNER_OTHERS,
    "inner_other_overlap": INNER_OTHER_OVERLAP,
    "inner_other_inside": INNER_OTHER_INSIDE,
    "inner_other_part": INNER_OTHER_PART,
}


@dataclass(frozen=True)
class Layout:
    """Where a query's footage sits: its content box and its inner rectangle (each None when not
    found), and the panes of a split screen."""

    content_box: Rect | None = None
    inner_rect: Rect | None = None
    #: A split screen's panes with detail (`find_panes`), () when the frame is not split.
    panes: tuple[Rect, ...] = ()


def find_layout(images: np.ndarray) -> Layout:
    """The content box, the inner rectangle and a split screen's panes of a clip's sampled frames, from one `edge_stats`.

    Args:
        images: (N, H, W) grey frames (N may be 0).

    Returns:
        The `Layout` (nothing found for no frames).
    """
    edges = edge_stats(images) if len(images) else None
    if edges is None:
        return Layout()
    return Layout(content_box(images, edges), inner_rectangle(images, edges), find_panes(images, edges))


def moving_parts(images: np.ndarray) -> tuple[Rect, ...]:
    """The parts of the frame that move while the rest holds still: pictures laid over a still background.

    An inner picture at a small share of a side (a 16:9 clip in a 9:16 frame is
    12-20% of its height) gives the inner rectangle's lines too short a run, and
    over a photograph every edge persists; but the picture moves and its
    background does not. A pixel moves when its grey level (blurred by one
    pixel) varies over the samples by `MOVING_PART_GREY`; the moving pixels,
    closed over small gaps, form connected parts, each kept as its bounding box
    when it fills it (`MOVING_PART_MIN_FILL`) and holds `MOVING_PART_MIN_AREA`
    of the frame. None are kept unless the rest of the frame moves at most
    `MOVING_PART_STILL_OUTSIDE`: over moving footage the motion marks no part.

    Args:
        images: (N, H, W) grey frames.

    Returns:
        The parts as fractions (x0, y0, x1, y1), largest first; () with fewer than
        `INNER_MIN_FRAMES` frames or a background that moves.
    """
    import cv2  # here, not at the top: the layout records load no OpenCV

    if len(images) < INNER_MIN_FRAMES:
        return ()
    _, h, w = images.shape
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 1.0) for f in np.asarray(images, dtype=np.float32)])
    moving = blurred.std(axis=0) >= MOVING_PART_GREY
    mask = cv2.morphologyEx(moving.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    parts, inside = [], np.zeros((h, w), dtype=bool)
    for x0, y0, bw, bh, pixels in stats[1:count].tolist():
        if bw * bh < MOVING_PART_MIN_AREA * w * h or pixels < MOVING_PART_MIN_FILL * bw * bh:
            continue
        parts.append((bw * bh, (x0 / w, y0 / h, (x0 + bw) / w, (y0 + bh) / h)))
        inside[y0 : y0 + bh, x0 : x0 + bw] = True
    if not parts or (~inside).sum() == 0 or moving[~inside].mean() > MOVING_PART_STILL_OUTSIDE:
        return ()
    return tuple(rect for _, rect in sorted(parts, key=lambda p: -p[0]))


def small_inner_rectangle(images: np.ndarray) -> Rect | None:
    """An inner picture too small for the samples' inner rectangle, from larger frames.

    A 16:9 picture at a third of a 9:16 frame's width is 12% of its height:
    15 pixels of the 128-pixel samples, under `INNER_MIN_SIDE`. The features
    channel's frames (up to 1280 pixels) are scaled to `SMALL_INNER_LONG_SIDE`
    and searched for a rectangle (`inner_rectangle`, every rule the same) whose
    sides are at least `SMALL_INNER_MIN_SIDE` of the frame's.

    Args:
        images: (N, H, W) grey frames, larger than the samples.

    Returns:
        The rectangle as fractions (x0, y0, x1, y1), or None.
    """
    found = small_inner_rectangles(images, others=False)
    return found[0] if found else None


def small_inner_rectangles(images: np.ndarray, *, others: bool = True) -> tuple[Rect, ...]:
    """`small_inner_rectangle` and, beside it, the other pictures ranked after it (`other_inner_rectangles`).

    Args:
        images: (N, H, W) grey frames, larger than the samples.
        others: look for pictures beside the first.

    Returns:
        The rectangles as fractions (x0, y0, x1, y1), the best-ranked first; () when none holds.
    """
    import cv2  # here, not at the top: the layout records load no OpenCV

    if len(images) < INNER_MIN_FRAMES:
        return ()
    _, h, w = images.shape
    scale = min(1.0, SMALL_INNER_LONG_SIDE / max(h, w))
    size = (max(8, int(round(w * scale))), max(8, int(round(h * scale))))
    small = np.stack([cv2.resize(np.ascontiguousarray(f), size, interpolation=cv2.INTER_AREA) for f in images])
    edges = edge_stats(small)
    first = inner_rectangle(small, edges, min_side=SMALL_INNER_MIN_SIDE)
    if first is None:
        return ()
    if not others:
        return (first,)
    return (first, *other_inner_rectangles(small, first, edges, min_side=SMALL_INNER_MIN_SIDE))


def split_profile(edges: np.ndarray) -> np.ndarray:
    """Per line of `edges` (position along the line, line), the share of its length where it is a line.

    A point of line c counts when its persistent edge (that of c or c + 1: a boundary
    off the pixel grid spreads over two) is `SPLIT_LINE_CONTRAST` times the stronger of
    the edges 3 lines to either side, plus one grey level.
    """
    length, count = edges.shape
    near = edges.astype(np.float64)
    near[:, :-1] = np.maximum(near[:, :-1], edges[:, 1:])
    padded = np.pad(edges.astype(np.float64), ((0, 0), (3, 4)), mode="edge")
    side = np.maximum(padded[:, 0:count], padded[:, 7 : count + 7])
    return (near >= SPLIT_LINE_CONTRAST * side + 1.0).mean(axis=0)


def find_panes(images: np.ndarray, edges: EdgeStats | None = None) -> tuple[Rect, ...]:
    """The panes of a split screen (a duet, two or three clips side by side or stacked), or ().

    Panes are separated by straight lines across the whole frame that persist
    over the samples (`split_profile`): two clips laid side by side differ at
    their border in every row and every frame, while edges inside footage
    move or stop. Halves and thirds are tried (`SPLIT_AT`), each boundary the
    strongest line near its place; the split whose boundaries all hold and are
    strongest wins. Panes with no detail
    (padding, `SPLIT_PANE_ENERGY`) are left out; panes with bars (a clip
    fitted into its half) are trimmed to their content by the caller.

    Args:
        images: (N, H, W) grey frames.
        edges: the frames' `edge_stats`, when already computed.

    Returns:
        The panes with detail as fractions (x0, y0, x1, y1), left to right or top
        to bottom; () with fewer than `INNER_MIN_FRAMES` frames or no such line.
    """
    if len(images) < INNER_MIN_FRAMES:
        return ()
    _, h, w = images.shape
    edges = edges or edge_stats(images)
    best: tuple[float, tuple[Rect, ...]] = (0.0, ())
    for lines, energy, n, vertical in ((edges.px, edges.energy, w, True), (edges.py.T, edges.energy.T, h, False)):
        profile = split_profile(lines)
        strength_of = lines.mean(axis=0)
        for shares in SPLIT_AT:
            cuts, held = [], []
            for share in shares:
                lo = max(0, int(math.floor((share - SPLIT_AT_TOLERANCE) * n)) - 1)
                hi = min(len(profile), int(math.ceil((share + SPLIT_AT_TOLERANCE) * n)))
                line = lo + int(np.argmax(profile[lo:hi]))
                if profile[line] < SPLIT_MIN_SHARE:
                    break
                # The boundary lies after pixel `line` or `line + 1`, whichever edge is stronger.
                strong = line + 1 >= len(strength_of) or strength_of[line] >= strength_of[line + 1]
                cuts.append(line + 1 if strong else line + 2)
                held.append(float(profile[line]))
            if len(cuts) < len(shares):
                continue
            bounds = sorted([0, *cuts, n])
            # A pane's detail: its busiest lines across (a clip fitted into its pane has bars).
            busy = [
                float(np.percentile(energy[:, a : max(a + 1, min(energy.shape[1], b - 1))].mean(axis=1), 90))
                for a, b in zip(bounds[:-1], bounds[1:], strict=False)
            ]
            strength = float(np.mean(held))
            panes = tuple(
                (a / n, 0.0, b / n, 1.0) if vertical else (0.0, a / n, 1.0, b / n)
                for (a, b), detail in zip(zip(bounds[:-1], bounds[1:], strict=False), busy, strict=True)
                if detail >= SPLIT_PANE_ENERGY * max(busy)
            )
            if strength > best[0]:
                best = (strength, panes)
    return best[1]


@dataclass(frozen=True)
class EdgeStats:
    """How strong each edge of a clip's sampled frames is over time.

    `px[r, c]` is the edge between pixel columns c and c + 1 on row r,
    `py[r, c]` the edge between rows r and r + 1 on column c, both the 25th
    percentile over the frames of the absolute grey difference (edges that
    persist: padding borders, a picture-in-picture's sides); `energy` is the
    median over the frames of the two differences summed, (h - 1, w - 1).
    """

    px: np.ndarray
    py: np.ndarray
    energy: np.ndarray


def _quantile_last(values: np.ndarray, q: float) -> np.ndarray:
    """`np.percentile(values, q, axis=-1)` (linear interpolation) by one partition of the last axis."""
    n = values.shape[-1]
    pos = q / 100.0 * (n - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, n - 1)
    part = np.partition(values, [lo, hi] if hi != lo else [lo], axis=-1)
    frac = pos - lo
    return part[..., lo] * (1.0 - frac) + part[..., hi] * frac


def edge_stats(images: np.ndarray) -> EdgeStats:
    """`EdgeStats` of (N, H, W) grey frames, N >= 1.

    Time is made the last, contiguous axis and the differences kept as
    small integers, so each statistic is one partition per pixel (a third of
    the time `np.percentile` over the first axis of float32 takes; the
    values are the same).

    Args:
        images: (N, H, W) grey frames, N >= 1.

    Returns:
        The frames' `EdgeStats`.
    """
    x = np.ascontiguousarray(np.moveaxis(images, 0, -1)).astype(np.int16)  # (h, w, n)
    gx = np.abs(np.diff(x, axis=1)).astype(np.uint8)  # (h, w-1, n)
    gy = np.abs(np.diff(x, axis=0)).astype(np.uint8)  # (h-1, w, n)
    both = gx[:-1].astype(np.uint16) + gy[:, :-1]
    return EdgeStats(px=_quantile_last(gx, 25), py=_quantile_last(gy, 25), energy=_quantile_last(both, 50))


def content_box(images: np.ndarray, edges: EdgeStats | None = None, *, min_side: float = BOX_MIN_SIDE) -> Rect | None:
    """The part of the frame that holds the picture, as fractions (x0, y0, x1, y1).

    Padding added when footage is reframed (black bars, a blurred copy behind
    a vertical reframe) has little fine detail, and it has it in every frame:
    rows and columns whose median gradient energy over the clip stays below a
    fifth of the busiest ones are trimmed from the edges.

    Args:
        images: (N, H, W) grey frames.
        edges: the frames' `edge_stats`, when already computed.
        min_side: the narrowest box kept (`BOX_MIN_SIDE` for a whole frame; a
            split screen's pane holds footage fitted into a narrow half).

    Returns:
        The box, or None when it is (almost) the whole frame or too small
        (`BOX_WHOLE_FRAME`, `min_side`) or there are no frames.
    """
    if len(images) == 0:
        return None
    edges = edges or edge_stats(images)
    energy = edges.energy
    rows, cols = energy.mean(axis=1), energy.mean(axis=0)

    def span(profile: np.ndarray) -> tuple[int, int]:
        # The contiguous band that best separates busy from quiet (Kadane on
        # the profile minus the midpoint of its quiet and busy levels); kept
        # only when what lies outside it is much quieter than what is inside.
        n = len(profile)
        level = 0.5 * (float(np.percentile(profile, 10)) + float(np.percentile(profile, 90)))
        best, best_span, total, start = -math.inf, (0, n), 0.0, 0
        for i, g in enumerate((profile - level).tolist()):
            if total <= 0:
                total, start = 0.0, i
            total += g
            if total > best:
                best, best_span = total, (start, i + 1)
        a, b = best_span
        outside = np.concatenate([profile[:a], profile[b:]])
        if len(outside) == 0 or outside.mean() > PADDING_ENERGY_RATIO * profile[a:b].mean():
            return 0, n
        return a, min(n, b + 1)

    h, w = images.shape[1:]
    ey = edges.py.mean(axis=1)  # row edges that persist
    ex = edges.px.mean(axis=0)
    y0, y1 = _symmetric_edges(ey, h) or _snap(span(rows), ey, h)
    x0, x1 = _symmetric_edges(ex, w) or _snap(span(cols), ex, w)
    # Reframing centres the footage: a band found on one side only (footage
    # with a flat sky, say) is mirrored about the centre.
    y0, y1 = _centred(y0, y1, h)
    x0, x1 = _centred(x0, x1, w)
    box = (x0 / w, y0 / h, min(1.0, x1 / w), min(1.0, y1 / h))
    if box[2] - box[0] > BOX_WHOLE_FRAME and box[3] - box[1] > BOX_WHOLE_FRAME:
        return None
    if box[2] - box[0] < min_side or box[3] - box[1] < min_side:
        return None
    return box


def inner_rectangle(
    images: np.ndarray, edges: EdgeStats | None = None, *, min_side: float = INNER_MIN_SIDE
) -> Rect | None:
    """A rectangle inside the frame whose sides are edges in every frame (picture-in-picture).

    Footage laid over other footage is bounded by straight edges that stay
    put while both pictures move: the 25th percentile over time of the
    gradient keeps those and drops moving edges. Where the footage or the
    background is a still (a slow pan over a photo) every edge persists, so
    a side must also be a line (stronger than the edges beside it) that
    stops at the corners. Rectangles of candidate lines are ranked by that
    line evidence (`INNER_LINE_PRIOR`). A side on the frame's border has no
    edge to measure and is left out; the picture may touch one or two
    borders.

    Args:
        images: (N, H, W) grey frames.
        edges: the frames' `edge_stats`, when already computed.
        min_side: the shortest side kept, as a share of the frame's (`INNER_MIN_SIDE`;
            `small_inner_rectangle` asks less of larger frames).

    Returns:
        The best rectangle, as fractions (x0, y0, x1, y1), when its sides are
        strong enough (`INNER_EDGE_RATIO`); None otherwise or with fewer than
        `INNER_MIN_FRAMES` frames.
    """
    ranked = _ranked_rectangles(images, edges, min_side)
    if ranked is None:
        return None
    vert, horiz, boxes, _ = ranked
    box = _snap_sides(vert, horiz, boxes[0])
    if not _sides_hold(vert, horiz, box):
        return None
    return _fraction(box, vert, horiz)


def other_inner_rectangles(
    images: np.ndarray, first: Rect, edges: EdgeStats | None = None, *, min_side: float = INNER_MIN_SIDE
) -> tuple[Rect, ...]:
    """Further inner pictures beside the first: the next-ranked rectangles that share no part of it.

    `inner_rectangle` keeps the best-ranked rectangle only; two or three
    pictures laid side by side (each its own footage, with or without a border)
    give as many rectangles, and the second is ranked below every variant of
    the first. Walking the ranking (`INNER_OTHERS_RANKED` rectangles at most),
    a rectangle is kept when it overlaps neither the first nor one already kept
    by more than `INNER_OTHER_OVERLAP` of the smaller, or lies inside the first
    as a part of it (`INNER_OTHER_INSIDE`, `INNER_OTHER_PART`: two pictures in
    one row, their outer sides in line, make the rectangle around both rank
    first), and its own sides hold
    by the same rule as the first's (`INNER_EDGE_RATIO`). At most
    `INNER_OTHERS` are kept.

    Args:
        images: (N, H, W) grey frames, the same as gave `first`.
        first: the frame's inner rectangle (`inner_rectangle`), as fractions.
        edges: the frames' `edge_stats`, when already computed.
        min_side: as for `inner_rectangle`.

    Returns:
        The other rectangles as fractions (x0, y0, x1, y1), best-ranked first; () when none holds.
    """
    ranked = _ranked_rectangles(images, edges, min_side)
    if ranked is None:
        return ()
    vert, horiz, boxes, _ = ranked
    kept: list[Rect] = [first]

    def apart(rect: Rect) -> bool:
        if any(overlap_share(rect, k) > INNER_OTHER_OVERLAP for k in kept[1:]):
            return False
        if overlap_share(rect, first) <= INNER_OTHER_OVERLAP:
            return True
        # Pictures side by side in one row or column: the rectangle around them all can rank first.
        area = (rect[2] - rect[0]) * (rect[3] - rect[1])
        first_area = (first[2] - first[0]) * (first[3] - first[1])
        return overlap_share(rect, first) >= INNER_OTHER_INSIDE and area <= INNER_OTHER_PART * first_area

    for box in boxes:
        if not apart(_fraction(box, vert, horiz)):
            continue
        snapped = _snap_sides(vert, horiz, box)
        rect = _fraction(snapped, vert, horiz)
        if not apart(rect) or not _sides_hold(vert, horiz, snapped):
            continue
        kept.append(rect)
        if len(kept) > INNER_OTHERS:
            break
    return tuple(kept[1:])


def overlap_share(a: Rect, b: Rect) -> float:
    """The area two rectangles share, as a share of the smaller."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max(1e-9, min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])))


def _fraction(box: tuple[int, int, int, int], vert: _Lines, horiz: _Lines) -> Rect:
    """A rectangle of lines (the picture covers lines x0+1 .. x1, y0+1 .. y1) as fractions of the frame."""
    w, h = vert.count + 1, horiz.count + 1
    return ((box[0] + 1) / w, (box[1] + 1) / h, (box[2] + 1) / w, (box[3] + 1) / h)


def _ranked_rectangles(
    images: np.ndarray, edges: EdgeStats | None, min_side: float
) -> tuple[_Lines, _Lines, list[tuple[int, int, int, int]], np.ndarray] | None:
    """Rectangles of candidate lines ranked by line evidence along their sides (`inner_rectangle`), best first.

    Returns:
        The vertical and horizontal lines, the rectangles (x0, y0, x1, y1 as lines: -1 and the
        count stand for the frame's borders) with a finite score, best first, and their scores;
        None with fewer than `INNER_MIN_FRAMES` frames or no rectangle.
    """
    if len(images) < INNER_MIN_FRAMES:
        return None
    _, h, w = images.shape
    edges = edges or edge_stats(images)
    px, py = edges.px, edges.py  # (h, w-1): edge between columns c, c+1; (h-1, w)
    typical = max(0.5 * (float(np.median(px)) + float(np.median(py))), TYPICAL_EDGE_FLOOR)
    # Both as (position along the line, line): column c of `vert` is the line
    # between pixel columns c and c+1, -1 and w-1 stand for the frame's borders.
    vert, horiz = _Lines(px / typical), _Lines(py.T / typical)
    cols = np.array([-1, *vert.candidates(min_side=min_side), w - 1])
    rows = np.array([-1, *horiz.candidates(min_side=min_side), h - 1])
    x0, x1, y0, y1 = (v.ravel() for v in np.meshgrid(cols, cols, rows, rows, indexing="ij"))
    keep = (x1 - x0 >= min_side * w) & (y1 - y0 >= min_side * h)
    keep &= ~((x1 - x0 > INNER_MAX_SIDE * w) & (y1 - y0 > INNER_MAX_SIDE * h))
    x0, x1, y0, y1 = x0[keep], x1[keep], y0[keep], y1[keep]
    # The picture covers pixel rows y0+1 .. y1 and columns x0+1 .. x1.
    sides = (
        (vert, x0, y0 + 1, y1 + 1),
        (vert, x1, y0 + 1, y1 + 1),
        (horiz, y0, x0 + 1, x1 + 1),
        (horiz, y1, x0 + 1, x1 + 1),
    )
    score, measured = np.zeros(len(x0)), np.zeros(len(x0), dtype=np.int64)
    for lines, at, lo, hi in sides:
        inside = (at >= 0) & (at < lines.count)
        # A candidate stands for its line and the two beside it (candidates are
        # picked at least 3 apart, by evidence over a shorter span than the
        # side): the side is ranked on the best of the three, so its rank does
        # not hang on which of them the pick landed on. (A one-level rounding
        # on 0.3% of q096's pixels moved its pick by one line and lost it.)
        side_rank = np.full(len(at), -np.inf)
        for step in (-1, 0, 1):
            line = np.clip(at + step, min(1, lines.count - 1), max(lines.count - 2, 0))
            side_rank = np.maximum(side_rank, lines.rank(line, lo, hi))
        score += np.where(inside, side_rank, 0.0)
        measured += inside
    score[measured < 2] = -np.inf
    if len(score) == 0 or not np.isfinite(score.max()):
        return None
    order = np.argsort(-score, kind="stable")[:INNER_OTHERS_RANKED]
    order = order[np.isfinite(score[order])]
    boxes = [(int(x0[i]), int(y0[i]), int(x1[i]), int(y1[i])) for i in order.tolist()]
    return vert, horiz, boxes, score[order]


class _Lines:
    """Persistent edges along a family of parallel lines, as (position along the line, line) arrays."""

    def __init__(self, edges: np.ndarray) -> None:
        length, count = edges.shape
        self.length, self.count = length, count
        # A side falls between pixels: take the strongest of each line and its two neighbours.
        near = edges.copy()
        near[:, 1:] = np.maximum(near[:, 1:], edges[:, :-1])
        near[:, :-1] = np.maximum(near[:, :-1], edges[:, 1:])
        padded = np.pad(edges, ((0, 0), (4, 4)))  # no edge beyond the frame
        before = padded[:, 0:count] + padded[:, 1 : count + 1] + padded[:, 2 : count + 2]
        after = padded[:, 6 : count + 6] + padded[:, 7 : count + 7] + padded[:, 8 : count + 8]
        surplus = near - INNER_LINE_CONTRAST * np.maximum(before, after) / 3.0
        evidence = np.clip(surplus, -INNER_LINE_CAP, INNER_LINE_CAP) / INNER_LINE_CAP
        zero = np.zeros((1, count))
        self.evidence = np.concatenate([zero, np.cumsum(evidence, axis=0)])  # running sums along the line
        self.edges = np.concatenate([zero, np.cumsum(edges, axis=0)])
        self.strength = np.concatenate([zero, np.cumsum(near, axis=0)])
        self.reach = max(3, int(INNER_SIDE_EXTENSION * length))
        # Ties (evidence is clipped) go to the line with the stronger edge itself.
        self.tie_break = 1e-3 * edges.mean(axis=0) / (float(edges.mean(axis=0).max()) + 1e-9)

    def candidates(self, k: int = INNER_CANDIDATES, *, min_side: float = INNER_MIN_SIDE) -> list[int]:
        """The k lines with the best line evidence over the shortest side, at least 3 lines apart.

        The line next to the frame's edge is left out (the border itself
        stands for it): a picture's own first row shows there.
        """
        span = max(1, int(math.ceil(min_side * self.length)))
        best = (self.evidence[span:] - self.evidence[:-span]).max(axis=0) / span + self.tie_break
        out: list[int] = []
        for i in np.argsort(-best, kind="stable").tolist():
            if all(abs(i - j) > 2 for j in out):
                out.append(int(i))
                if len(out) == k:
                    break
        return [i for i in out if 0 < i < self.count - 1]

    def rank(self, line: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Evidence along [lo, hi) of each line less the prior, less the evidence past both ends."""
        c = self.evidence
        lo_out, hi_out = np.maximum(0, lo - self.reach), np.minimum(self.length, hi + self.reach)
        past = (c[lo, line] - c[lo_out, line]) + (c[hi_out, line] - c[hi, line])
        return c[hi, line] - c[lo, line] - INNER_LINE_PRIOR * (hi - lo) - past

    def mean(self, line: int, lo: int, hi: int) -> float:
        return float(self.strength[hi, line] - self.strength[lo, line]) / max(1, hi - lo)

    def drop(self, line: int, lo: int, hi: int, at_end: bool) -> float:
        """How much weaker the line is just past one end of [lo, hi) than just inside it (-inf at the frame)."""
        if at_end:
            past = (hi, min(self.length, hi + self.reach))
            inside = (max(lo, hi - self.reach), hi)
        else:
            past = (max(0, lo - self.reach), lo)
            inside = (lo, min(hi, lo + self.reach))
        if past[1] - past[0] < 3:
            return -math.inf
        return self.mean(line, *inside) - self.mean(line, *past)


def _snap_sides(vert: _Lines, horiz: _Lines, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Move each side inside the frame onto the strongest of its line and the two beside it, along its span.

    Candidates and ranking look at a line and its neighbours together; the
    border itself is the line whose own edge is strongest between the corners.
    """
    x0, y0, x1, y1 = box
    out = []
    for lines, at, lo, hi in (
        (vert, x0, y0 + 1, y1 + 1),
        (horiz, y0, x0 + 1, x1 + 1),
        (vert, x1, y0 + 1, y1 + 1),
        (horiz, y1, x0 + 1, x1 + 1),
    ):
        if not 0 <= at < lines.count:
            out.append(at)
            continue
        near = [i for i in (at - 1, at, at + 1) if 0 <= i < lines.count]
        out.append(max(near, key=lambda i: float(lines.edges[hi, i] - lines.edges[lo, i])))
    return out[0], out[1], out[2], out[3]


def _sides_hold(vert: _Lines, horiz: _Lines, box: tuple[int, int, int, int]) -> bool:
    """Whether a rectangle's sides inside the frame are strong enough (`INNER_EDGE_RATIO`)."""
    x0, y0, x1, y1 = box
    rows, cols = (y0 + 1, y1 + 1), (x0 + 1, x1 + 1)
    # name: (lines, line, span, the sides meeting it and whether it is at their far end)
    sides = {
        "left": (vert, x0, rows, (("top", False), ("bottom", False))),
        "right": (vert, x1, rows, (("top", True), ("bottom", True))),
        "top": (horiz, y0, cols, (("left", False), ("right", False))),
        "bottom": (horiz, y1, cols, (("left", True), ("right", True))),
    }
    sides = {k: v for k, v in sides.items() if 0 <= v[1] < v[0].count}
    need = INNER_EDGE_RATIO * INNER_EDGE_SIDES[len(sides)]
    weak = [k for k, (lines, at, span, _) in sides.items() if lines.mean(at, *span) < need]
    if not weak:
        return True
    if len(weak) > 1:
        return False
    lines, at, span, meeting = sides[weak[0]]
    if lines.mean(at, *span) < INNER_WEAK_SIDE * need:
        return False
    drops = [sides[m][0].drop(sides[m][1], *sides[m][2], at_end) for m, at_end in meeting if m in sides]
    return bool(drops) and min(drops) >= need


def _symmetric_edges(edges: np.ndarray, n: int) -> tuple[int, int] | None:
    """The band [a, b) between the strongest pair of persistent edges symmetric about the centre, if any.

    `edges[k]` is the edge between rows (columns) k and k + 1, so a band
    starting at a has its top edge at a - 1 and, centred, its bottom edge
    near n - a - 1 (two either way for rounding).
    """
    typical = float(np.median(edges)) + 0.5
    best, found = SYMMETRIC_EDGE_RATIO, None
    for top in range(int(SYMMETRIC_SEARCH[0] * n), int(SYMMETRIC_SEARCH[1] * n)):
        a = top + 1
        mirror = n - a - 1
        for bottom in range(max(0, mirror - 2), min(len(edges), mirror + 3)):
            if bottom + 1 - a < SYMMETRIC_MIN_BAND * n:
                continue
            strength = min(float(edges[top]), float(edges[bottom])) / typical
            if strength >= best:
                best, found = strength, (a, bottom + 1)
    return found


def _snap(band: tuple[int, int], edges: np.ndarray, n: int) -> tuple[int, int]:
    """Move each end of a band onto the sharp, persistent edge near it, if there is one.

    Blurred padding fades into the footage, so the energy profile places the
    band's ends loosely; the boundary itself is a straight edge in every frame.
    """
    a, b = band
    if a == 0 and b >= n:
        return a, b
    typical = float(np.median(edges)) + 1e-3
    reach = max(2, int(SNAP_REACH * n))
    out = []
    for end in (a, b - 1):
        if end <= 0 or end >= n - 1:
            out.append(end)
            continue
        lo, hi = max(0, end - reach), min(len(edges), end + reach + 1)
        k = lo + int(np.argmax(edges[lo:hi]))
        out.append(k + 1 if edges[k] > SNAP_EDGE_RATIO * typical else end)
    return out[0], max(out[0] + 2, out[1] if out[1] != b - 1 else b)


def _centred(a: int, b: int, n: int) -> tuple[int, int]:
    half = max(n / 2 - a, b - n / 2)
    return max(0, int(round(n / 2 - half))), min(n, int(round(n / 2 + half)))


def _surround_cells(images: np.ndarray, box: Rect) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]] | None:
    """The frames as float, the mask of `SURROUND_CELL_PX` cells outside `box`, and the box in pixels; None when
    there are too few frames, too few cells outside it (`SURROUND_MIN_CELLS`) or the box is degenerate."""
    frames = np.asarray(images, dtype=np.float32)
    if frames.ndim != 3 or len(frames) == 0:
        return None
    _, h, w = frames.shape
    c = SURROUND_CELL_PX
    rows, cols = h // c, w // c
    x0, y0 = int(round(box[0] * w)), int(round(box[1] * h))
    x1, y1 = int(round(box[2] * w)), int(round(box[3] * h))
    if rows < 2 or cols < 2 or x1 - x0 < 4 or y1 - y0 < 4:
        return None
    cy, cx = (np.arange(rows) + 0.5) * c, (np.arange(cols) + 0.5) * c
    outside = ~((cy[:, None] >= y0) & (cy[:, None] < y1) & (cx[None, :] >= x0) & (cx[None, :] < x1))
    if int(outside.sum()) < SURROUND_MIN_CELLS:
        return None
    return frames, outside, (x0, y0, x1, y1)


def _cells(frames: np.ndarray) -> np.ndarray:
    """(N, rows, cols) means of `SURROUND_CELL_PX` cells."""
    c = SURROUND_CELL_PX
    n, h, w = frames.shape
    rows, cols = h // c, w // c
    return frames[:, : rows * c, : cols * c].reshape(n, rows, c, cols, c).mean(axis=(2, 4))


def surround_change(images: np.ndarray, box: Rect) -> float | None:
    """How much the frame around `box` changes over the clip: the median over its cells of their grey level's
    standard deviation over time (grey levels). Bars, a flat colour, a caption bar or an interface hold still
    (0-1); other footage beside the clip moves. None when too little lies around it (`surround_copy`'s rule)."""
    cut = _surround_cells(images, box)
    if cut is None or len(cut[0]) < 2:
        return None
    frames, outside, _ = cut
    return round(float(np.median(_cells(frames)[:, outside].std(axis=0))), 2)


def surround_copy(images: np.ndarray, box: Rect) -> float | None:
    """How closely the frame around `box` follows the footage inside it, blown up to fill the frame.

    A vertical reframe over a blurred copy of itself fills the frame with the
    footage enlarged to cover it and blurred: around the footprint, the frame
    and the footage enlarged the same way (to cover the frame, centred, or
    stretched to fill it) agree once both are averaged over cells of
    `SURROUND_CELL_PX`. Other footage, a still picture or an app's interface
    beside the footage do not.

    Args:
        images: (N, H, W) grey samples of the clip.
        box: where the footage sits, fractions (x0, y0, x1, y1) of the frame.

    Returns:
        The Pearson correlation (-1 to 1) of the cells outside the box with the
        same cells of the enlarged footage, over all frames (the higher of the
        two ways of enlarging it); None when fewer than
        `SURROUND_MIN_CELLS` cells lie outside it, or the surround is plain
        (`SURROUND_MIN_STD`).
    """
    cut = _surround_cells(images, box)
    if cut is None:
        return None
    frames, outside, (x0, y0, x1, y1) = cut
    _, h, w = frames.shape
    bw, bh = x1 - x0, y1 - y0
    around = _cells(frames)[:, outside]
    if float(around.std()) < SURROUND_MIN_STD:
        return None
    best: float | None = None
    # The footage enlarged to cover the frame, centred, or stretched to fill it: the two ways
    # editors lay a blurred copy behind a reframe.
    s = max(w / bw, h / bh)
    for sx, sy in ((s, s), (w / bw, h / bh)):
        ys = np.clip(((np.arange(h) - (h - bh * sy) / 2) / sy).astype(int), 0, bh - 1) + y0
        xs = np.clip(((np.arange(w) - (w - bw * sx) / 2) / sx).astype(int), 0, bw - 1) + x0
        enlarged = _cells(frames[:, ys][:, :, xs])[:, outside]
        if float(enlarged.std()) >= SURROUND_MIN_STD:
            r = round(float(np.corrcoef(around.ravel(), enlarged.ravel())[0, 1]), 3)
            best = r if best is None else max(best, r)
    return best
