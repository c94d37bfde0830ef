"""Stage 6, match: from frame-level hash hits to clip-level segments.

A match is a segment, not a bag of frames: query span <-> reference span with
an offset and a speed. Three steps:

1. **Candidates**: every query hash (and its mirrored variant) is looked up
   in the index (multi-index hashing, no full scan).
2. **Votes**: each hit votes for (reference, variant, speed, offset bin),
   where offset = t_ref - speed * t_query; a bin's vote is the number of
   distinct query frames behind it (a static shot cannot vote many times).
3. **Alignment**: the best bins are verified against the reference's whole
   hash sequence: the offset and speed are refined, every query frame gets
   its distance to the reference frame it aligns with, and the longest run
   of matching frames becomes the segment. Query frames explained by one
   segment are taken out before the next is looked for, so a clip that
   joins footage from two references yields both.

    >>> segments = find_matches(query_hashes, index, query_fps=4.0, query_duration_s=8.0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .hashing import VARIANT_FULL, VARIANT_MIRROR, FrameHashes, hamming
from .index import Index, Reference

#: Hamming radius (of 64 bits) for candidate hits returned by the index.
CANDIDATE_DISTANCE = 14
#: A query frame is explained by the reference frame it aligns with when
#: their distance is at most this. Unrelated natural frames sit at 20-34.
FRAME_MATCH_DISTANCE = 12
#: Speeds tried when voting (query time x speed = reference time).
SPEEDS: tuple[float, ...] = (1.0,)
#: Width of an offset bin when voting, seconds.
OFFSET_BIN_S = 0.5
#: Vote bins verified per search round.
TOP_BINS = 6
#: Fewest distinct query frames behind a vote bin for it to be verified.
MIN_VOTES = 2
#: Segment search: a matched frame counts +1, an unmatched one this much.
MISS_PENALTY = 1.5
#: Frames of evidence at which `score` reaches 1 - 1/e of its coverage.
SCORE_FRAMES_SCALE = 4.0
#: Default decision threshold on `score`: segments at or above it are matches.
#: Chosen on the development set (docs/benchmark.md): no negative query
#: reaches it while true copies under re-encode, downscale and mirror do.
MATCH_THRESHOLD = 0.5
#: Segments shorter than this many matched frames are never more than candidates.
MIN_MATCHED_FRAMES = 3


@dataclass(frozen=True)
class MatchSegment:
    """Query span <-> reference span, with the evidence behind it.

    Times are seconds. ``reference_t = offset_s + speed * query_t``.
    `frames_matched` of `frames_total` informative query frames inside the
    span are within `FRAME_MATCH_DISTANCE` of the reference frame they align
    with; `mean_distance` is over the matched frames.
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
    pairs: tuple[tuple[float, float, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reference"] = self.reference.to_dict()
        data["pairs"] = [list(p) for p in self.pairs]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchSegment:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["reference"] = Reference.from_dict(data["reference"])
        values["pairs"] = tuple((float(a), float(b), int(c)) for a, b, c in data.get("pairs", ()))
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


def _vote(q: FrameHashes, cands: Any, exclude: np.ndarray) -> list[tuple[int, int, float, float, int]]:
    """Best (ref_id, variant, speed, offset, votes) bins from candidate hits."""
    if len(cands) == 0:
        return []
    rows = cands.query_row
    ok = ~exclude[rows]
    if not ok.any():
        return []
    rows = rows[ok]
    ref_ids = cands.ref_id[ok]
    ref_t = cands.ref_t[ok]
    qt = q.times[rows]
    qv = q.variants[rows].astype(np.int64)
    bins: dict[tuple[int, int, float, int], set[int]] = {}
    for speed in SPEEDS:
        offsets = ref_t - speed * qt
        b = np.floor(offsets / OFFSET_BIN_S).astype(np.int64)
        # A hit near a bin edge also supports the neighbouring bin.
        for shift in (0, 1):
            keys = np.stack([ref_ids, qv, b - shift], axis=1)
            for (rid, var, bb), qi in zip(keys.tolist(), np.round(qt * 1000).astype(np.int64).tolist(), strict=True):
                bins.setdefault((rid, var, speed, bb), set()).add(qi)
    ranked = sorted(((len(v), k) for k, v in bins.items()), reverse=True)
    out = []
    for votes, (rid, var, speed, bb) in ranked[: TOP_BINS * 3]:
        if votes < MIN_VOTES:
            break
        out.append((rid, var, speed, (bb + 1) * OFFSET_BIN_S, votes))
    return out


def _align(
    q_times: np.ndarray, q_hashes: np.ndarray, ref: FrameHashes, ref_fps: float, offset: float, speed: float
) -> np.ndarray:
    """Distance of each query frame to the nearest-in-time reference frame(s) under (offset, speed)."""
    full = ref.select(VARIANT_FULL)
    if len(full) == 0:
        return np.full(len(q_times), 64, dtype=np.int16)
    predicted = offset + speed * q_times
    tol = 0.5 / max(ref_fps, 0.1) + 0.05
    lo = np.searchsorted(full.times, predicted - tol, side="left")
    hi = np.searchsorted(full.times, predicted + tol, side="right")
    out = np.full(len(q_times), 64, dtype=np.int16)
    for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        if b > a:
            out[i] = int(hamming(full.hashes[a:b], q_hashes[i]).min())
    return out


def _best_run(matched: np.ndarray) -> tuple[int, int]:
    """[start, end) of the run maximising matched - MISS_PENALTY * unmatched (Kadane)."""
    gains = np.where(matched, 1.0, -MISS_PENALTY)
    best, best_span = -math.inf, (0, 0)
    total, start = 0.0, 0
    for i, g in enumerate(gains.tolist()):
        if total <= 0:
            total, start = 0.0, i
        total += g
        if total > best:
            best, best_span = total, (start, i + 1)
    return best_span


def find_matches(
    query: FrameHashes,
    index: Index,
    *,
    query_fps: float,
    query_duration_s: float,
    max_segments: int = 10,
) -> list[MatchSegment]:
    """Find the reference segments a query's frames come from, best first.

    Args:
        query: hashes of the query's informative frames (full and mirror variants).
        index: the reference index.
        query_fps: the query's sampling rate (one frame covers 1/query_fps s).
        query_duration_s: the query's duration, to bound spans.
        max_segments: most segments returned.

    Returns:
        Segments of any score, best first; callers split them at `MATCH_THRESHOLD`.
    """
    if len(query) == 0:
        return []
    cands = index.lookup(query.hashes, CANDIDATE_DISTANCE)
    frame_times = np.unique(query.times)
    explained = np.zeros(len(query), dtype=bool)
    ref_cache: dict[int, tuple[Reference, FrameHashes]] = {}
    segments: list[MatchSegment] = []
    step = 1.0 / query_fps if query_fps > 0 else 1.0
    while len(segments) < max_segments:
        bins = _vote(query, cands, explained)
        best: tuple[float, MatchSegment, np.ndarray] | None = None
        seen: set[tuple[int, int, float, float]] = set()
        for rid, variant, speed, offset, _votes in bins:
            key = (rid, variant, speed, round(offset, 1))
            if key in seen:
                continue
            seen.add(key)
            if rid not in ref_cache:
                ref_cache[rid] = (index.get(rid), index.frame_hashes(rid))
            ref, ref_hashes = ref_cache[rid]
            rows = np.nonzero((query.variants == variant) & ~explained)[0]
            if len(rows) == 0:
                continue
            q_t, q_h = query.times[rows], query.hashes[rows]
            # Refine the offset on a fine grid around the bin centre.
            best_local: tuple[float, float, np.ndarray] | None = None
            for delta in np.arange(-OFFSET_BIN_S, OFFSET_BIN_S + 1e-9, 0.05):
                d = _align(q_t, q_h, ref_hashes, ref.sample_fps, offset + float(delta), speed)
                m = d <= FRAME_MATCH_DISTANCE
                value = m.sum() - 0.01 * float(np.where(m, d, 0).sum())
                if best_local is None or value > best_local[0]:
                    best_local = (value, offset + float(delta), d)
            assert best_local is not None
            _, off, dist = best_local
            matched = dist <= FRAME_MATCH_DISTANCE
            if matched.sum() == 0:
                continue
            a, b = _best_run(matched)
            span_matched = matched[a:b]
            n_m = int(span_matched.sum())
            n_t = int(b - a)
            mean_d = float(dist[a:b][span_matched].mean()) if n_m else 64.0
            score = score_segment(n_m, n_t, mean_d)
            if n_m < MIN_MATCHED_FRAMES:
                score = min(score, MATCH_THRESHOLD * 0.99)
            q_start = float(q_t[a])
            q_end = min(float(q_t[b - 1]) + step, query_duration_s) if query_duration_s > 0 else float(q_t[b - 1])
            r_start = max(0.0, off + speed * q_start)
            r_end = min(ref.duration_s, off + speed * q_end) if ref.duration_s > 0 else off + speed * q_end
            pairs = tuple(
                (round(float(t), 3), round(off + speed * float(t), 3), int(dd))
                for t, dd in zip(q_t[a:b], dist[a:b], strict=True)
            )
            seg = MatchSegment(
                reference=ref,
                score=score,
                query_start_s=round(q_start, 3),
                query_end_s=round(q_end, 3),
                reference_start_s=round(r_start, 3),
                reference_end_s=round(max(r_start, r_end), 3),
                offset_s=round(off, 3),
                speed=speed,
                mirrored=variant == VARIANT_MIRROR,
                frames_matched=n_m,
                frames_total=n_t,
                mean_distance=round(mean_d, 2),
                pairs=pairs,
            )
            in_span = (query.times >= q_start - 1e-6) & (query.times < q_end - 1e-6)
            if best is None or seg.score > best[0]:
                best = (seg.score, seg, in_span)
        if best is None:
            break
        _, seg, in_span = best
        segments.append(seg)
        explained |= in_span
        if explained.all() or len(frame_times) == 0:
            break
    segments.sort(key=lambda s: s.score, reverse=True)
    return segments
