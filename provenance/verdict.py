"""Stage 9, verdict: one plain code from the evidence, never more than it shows.

Codes (docs/verdicts.md):

- ``footage_seen_before``: the clip reuses footage already in the index.
- ``no_prior_match_in_index``: nothing in *this index* matches; not a sign
  of authenticity.
- ``insufficient_evidence``: too few frames with texture to compare (black
  or static title cards, a clip too short); no conclusion either way.
"""

from __future__ import annotations

from collections.abc import Sequence

from .match import MatchSegment
from .report import Verdict

#: Fewest informative query frames for "no match" to mean anything.
MIN_INFORMATIVE_FRAMES = 3

VERDICT_CODES = ("footage_seen_before", "no_prior_match_in_index", "insufficient_evidence")


def _describe(m: MatchSegment) -> str:
    ref = m.reference
    name = ref.source.title or ref.path
    seen = f", first seen {ref.source.first_seen}" if ref.source.first_seen else ""
    where = f" at {ref.source.source_url}" if ref.source.source_url else ""
    mirror = ", mirrored" if m.mirrored else ""
    return (
        f"query {m.query_start_s:.1f}-{m.query_end_s:.1f} s matches reference #{ref.id} '{name}' "
        f"{m.reference_start_s:.1f}-{m.reference_end_s:.1f} s (score {m.score:.2f}, "
        f"{m.frames_matched}/{m.frames_total} frames{mirror}){seen}{where}"
    )


def decide(matches: Sequence[MatchSegment], *, informative_frames: int, is_image: bool = False) -> Verdict:
    """The verdict for a check's matches.

    Args:
        matches: segments at or above the decision threshold, best first.
        informative_frames: query frames with enough texture to hash.
        is_image: the query is a still image (one frame is all there is).
    """
    if matches:
        first = [m.reference.source.first_seen for m in matches if m.reference.source.first_seen]
        earliest = f"; earliest first-seen date {min(first)}" if first else ""
        return Verdict(
            "footage_seen_before",
            f"The clip reuses footage already in the index ({len(matches)} matching segment(s)){earliest}.",
            tuple(_describe(m) for m in matches),
        )
    needed = 1 if is_image else MIN_INFORMATIVE_FRAMES
    if informative_frames < needed:
        return Verdict(
            "insufficient_evidence",
            f"Only {informative_frames} frame(s) have enough texture to compare; no conclusion can be drawn.",
            ("black, flat or very short footage cannot be matched reliably",),
        )
    return Verdict(
        "no_prior_match_in_index",
        "No footage in this index matches the clip. This means not found in this index, not that it is authentic.",
        (f"{informative_frames} frames compared against the index",),
    )
