"""Stage verdict: one plain code from the matches, the findings and the claim, never more than they show.

The stage owns the `Verdict` record the report carries and `decide`, which
makes it. Codes (`VerdictCode`), strongest evidence first (docs/verdicts.md):

- ``footage_predates_claim``: the clip reuses footage the index holds as
  first seen before the claimed date; footage that existed before an event
  cannot show it. The strongest evidence of reuse.
- ``metadata_contradicts_claim``: the file's own creation date or GPS
  position contradict the claimed date or place (tags can be forged or
  wrong, so this is weaker than a dated match).
- ``altered_copy_of_known_footage``: the clip reuses footage in the index,
  changed (mirrored, cropped, sped up, ...), and nothing shows it predates
  the claim.
- ``footage_seen_before``: the clip reuses footage in the index, with no
  sign of alteration and nothing that dates it before the claim.
- ``same_sound_as_known_footage``: only the clip's sound matches indexed
  footage's; the same sound (music, chants, applause) can accompany other
  pictures, so it shows neither the footage nor the moment.
- ``no_prior_match_in_index``: nothing in *this index* matches; not a sign
  of authenticity.
- ``insufficient_evidence``: too few frames with texture to compare (black
  or static title cards, a clip too short); no conclusion either way.

    >>> decide(matches, informative_frames=28, claim=claim, findings=findings).code
    <VerdictCode.FOOTAGE_PREDATES_CLAIM: 'footage_predates_claim'>
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from .alteration import AlterationCode
from .claims import Claim
from .index import OriginKind
from .match import SOUND_MIN_ITEMS, MatchSegment
from .metadata import CLAIM_DATE_TOLERANCE_DAYS, CONTRADICTS_CLAIM, Finding, first_seen_day
from .relation import Relation

#: Fewest informative query frames for "no match" to mean anything.
MIN_INFORMATIVE_FRAMES = 3
#: ... or, for a clip without them (a sound file), fewest usable Chromaprint items (about 3.7 s of sound,
#: `match.SOUND_MIN_ITEMS`: less could never match).
MIN_SOUND_ITEMS = SOUND_MIN_ITEMS
#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`); it
#: also dates matches with `metadata.CLAIM_DATE_TOLERANCE_DAYS`, recorded with the metadata stage.
THRESHOLDS: dict[str, float] = {"min_informative_frames": MIN_INFORMATIVE_FRAMES, "min_sound_items": MIN_SOUND_ITEMS}


class VerdictCode(StrEnum):
    """The eight verdicts, strongest evidence first; values are the report's codes (docs/verdicts.md)."""

    FOOTAGE_PREDATES_CLAIM = "footage_predates_claim"
    METADATA_CONTRADICTS_CLAIM = "metadata_contradicts_claim"
    ALTERED_COPY_OF_KNOWN_FOOTAGE = "altered_copy_of_known_footage"
    FOOTAGE_SEEN_BEFORE = "footage_seen_before"
    SAME_PLACE_AS_KNOWN_FOOTAGE = "same_place_as_known_footage"
    SAME_SOUND_AS_KNOWN_FOOTAGE = "same_sound_as_known_footage"
    NO_PRIOR_MATCH_IN_INDEX = "no_prior_match_in_index"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"


#: Every verdict code, strongest evidence first.
VERDICT_CODES = tuple(VerdictCode)


@dataclass(frozen=True)
class Verdict:
    """One plain verdict code, a one-sentence summary and the evidence behind it.

    `code` is a `VerdictCode` (a `str`; a report read back keeps whatever
    code it holds).
    """

    code: str
    summary: str
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "summary": self.summary, "evidence": list(self.evidence)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(str(data["code"]), str(data["summary"]), tuple(str(e) for e in data.get("evidence", ())))


def seen_from(source: Any) -> str:
    """Where a reference's first-seen date came from, for the sentence that rests on it ("" without a date).

    A date taken from a file's modification time says so: it dates a copy on
    disk, not the footage's first publication.
    """
    if not source.first_seen:
        return ""
    origin = source.origin("first_seen") if hasattr(source, "origin") else None
    if origin is None:
        return " (where this date came from was not recorded)"
    if origin.kind == OriginKind.SIDECAR:
        return f" (according to the sidecar {origin.detail})"
    if origin.kind == OriginKind.GIVEN:
        day = f" on {origin.recorded_at[:10]}" if origin.recorded_at else ""
        return f" (as given when the file was indexed{day})"
    if origin.kind == OriginKind.FILE_MTIME:
        return " (the file's modification time, which dates a copy on disk, not the footage's first publication)"
    return f" ({origin.kind})"


def _describe(m: MatchSegment, *, is_image: bool = False) -> str:
    ref = m.reference
    name = ref.source.title or ref.path
    seen = f", first seen {ref.source.first_seen}{seen_from(ref.source)}" if ref.source.first_seen else ""
    where = f" at {ref.source.source_url}" if ref.source.source_url else ""
    mirror = ", mirrored" if m.mirrored else ""
    v = m.verification
    moment = f"; the moment is not verified: {v.reason}" if v is not None and v.relation == Relation.UNVERIFIED else ""
    about = ""
    if any(c.pins_moment for c in m.channels):
        moment += "; placed by its sound (the camera path over the picture fits other moments as well, the sound only this one)"
    elif v is not None and v.moment_shown is False:
        about = "about "
        moment += (
            "; its second is not pinned: other frames of the reference hold that part of its picture too"
            if is_image
            else "; its seconds are not pinned: the camera path over the picture fits other moments as well"
        )
    if is_image:
        frame = "" if ref.kind == "image" else f"the frame {about or 'at '}{m.reference_start_s:.1f} s of "
        return (
            f"the picture matches {frame}reference #{ref.id} '{name}' (score {m.score:.2f}, hash distance "
            f"{m.mean_distance:.0f} of 64 bits{mirror}){seen}{where}{moment}"
        )
    return (
        f"query {m.query_start_s:.1f}-{m.query_end_s:.1f} s matches reference #{ref.id} '{name}' "
        f"{about}{m.reference_start_s:.1f}-{m.reference_end_s:.1f} s (score {m.score:.2f}, "
        f"{m.frames_matched} of {max(len(m.pairs), m.frames_total)} aligned frames matched{mirror}){seen}{where}{moment}"
    )


def _describe_scene(m: MatchSegment) -> str:
    ref = m.reference
    name = ref.source.title or ref.path
    seen = f", first seen {ref.source.first_seen}" if ref.source.first_seen else ""
    why = f": {m.verification.reason}" if m.verification is not None else ""
    return (
        f"same place, its moment not shown: query {m.query_start_s:.1f}-{m.query_end_s:.1f} s shows the scene of "
        f"reference #{ref.id} '{name}'{seen}{why}; this does not date the clip"
    )


def _describe_sound(m: MatchSegment, pictured: bool = False) -> str:
    ref = m.reference
    name = ref.source.title or ref.path
    seen = f", first seen {ref.source.first_seen}" if ref.source.first_seen else ""
    heard = next((c for c in m.channels if c.channel == "audio"), None)
    ber = f" (bit error rate {heard.ber:.2f})" if heard is not None and heard.ber is not None else ""
    return (
        f"same sound only: query {m.query_start_s:.1f}-{m.query_end_s:.1f} s sounds like reference #{ref.id} "
        f"'{name}' {m.reference_start_s:.1f}-{m.reference_end_s:.1f} s{ber}{seen}; "
        + ("the picture matched this reference at another moment" if pictured else "the picture did not match")
    )


def alterations_of(m: MatchSegment) -> list[str]:
    """How the matched copy differs from the reference, as short labels (the matcher's alteration codes)."""
    out: list[str] = []
    for alt in getattr(m, "alterations", ()) or ():
        code = getattr(alt, "code", None)
        if code == AlterationCode.SPEED_CHANGED:
            factor = (getattr(alt, "evidence", None) or {}).get("reference_seconds_per_query_second")
            out.append(f"speed ×{abs(float(factor)):.2f}" if factor else "speed changed")
        elif code == AlterationCode.REVERSED:
            out.append("played backwards")
        elif code == AlterationCode.PARTLY_EXPLAINED:
            at_speed = "searched_speed_range" in (getattr(alt, "evidence", None) or {})
            out.append("partly explained at an unusual speed" if at_speed else "partly explained")
        elif code:
            out.append(str(code).replace("_", " "))
    codes = " ".join(str(getattr(a, "code", "")) for a in getattr(m, "alterations", ()) or ())
    if m.mirrored and "mirror" not in codes:
        out.insert(0, "mirrored")
    # The alignment's slope alone is no evidence of a speed change (static and
    # slowly panning footage fit many speeds): only `speed_changed` says so.
    return out


def _earliest(matches: Sequence[MatchSegment]) -> tuple[date, MatchSegment] | None:
    best: tuple[date, MatchSegment] | None = None
    for m in matches:
        day = first_seen_day(m.reference.source.first_seen)
        if day is not None and (best is None or day < best[0]):
            best = (day, m)
    return best


def _span(days: int) -> str:
    if days >= 730:
        return f"{days / 365.25:.1f} years"
    if days >= 60:
        return f"{days / 30.44:.0f} months"
    return f"{days} days"


def _finding_lines(findings: Sequence[Finding], severities: tuple[str, ...] = ("warning", "notice")) -> list[str]:
    return [f"{f.severity} {f.code}: {f.explanation}" for f in findings if f.severity in severities]


def decide(
    matches: Sequence[MatchSegment],
    *,
    informative_frames: int,
    is_image: bool = False,
    claim: Claim | None = None,
    findings: Sequence[Finding] = (),
    sound_items: int = 0,
) -> Verdict:
    """The verdict for a check.

    Args:
        matches: segments at or above the decision threshold, best first.
        informative_frames: query frames with enough texture to hash.
        is_image: the query is a still image (one frame is all there is).
        claim: what the clip is said to show (its date is what matches are dated against).
        findings: the metadata findings (`provenance.metadata.inspect`).
        sound_items: the query's loud Chromaprint items: a clip without frames to compare (a sound file)
            is still "not found" rather than "insufficient" when it has `MIN_SOUND_ITEMS` of them.

    A match predates the claim when its reference's first-seen day is more
    than `CLAIM_DATE_TOLERANCE_DAYS` before the first day the claimed date
    covers (a first-seen date in UTC and an event's local day can differ by one).
    """
    claimed = claim.date_range() if claim is not None and claim.date else None
    contradictions = [f for f in findings if f.code in CONTRADICTS_CLAIM]
    # Only the same footage dates a clip; the same scene (its moment not shown) is evidence of place alone.
    scene = [m for m in matches if m.relation == Relation.SAME_SCENE]
    # The same sound alone shows neither the footage nor the moment (docs/audio.md).
    sound = [m for m in matches if m.relation == Relation.SAME_SOUND]
    matches = [m for m in matches if m.relation not in (Relation.SAME_SCENE, Relation.SAME_SOUND)]
    earliest = _earliest(matches)
    match_lines = [_describe(m, is_image=is_image) for m in matches] + [_describe_scene(m) for m in scene]
    pictured = {m.reference.id for m in matches} | {m.reference.id for m in scene}
    match_lines += [_describe_sound(m, m.reference.id in pictured) for m in sound]
    clip = "picture" if is_image else "clip"
    reuses = "is a frame of" if is_image else "reuses"
    if matches and claimed is not None and earliest is not None and claim is not None:
        day, m = earliest
        start = claimed[0]
        if day < start - timedelta(days=CLAIM_DATE_TOLERANCE_DAYS):
            ref = m.reference
            name = ref.source.title or ref.path
            lead = (
                f"reference #{ref.id} '{name}' was first seen {day.isoformat()}{seen_from(ref.source)}, "
                f"{_span((start - day).days)} before the claimed date {claim.date}"
            )
            altered = alterations_of(m)
            how = f"; this copy is altered ({', '.join(altered)})" if altered else ""
            return Verdict(
                VerdictCode.FOOTAGE_PREDATES_CLAIM,
                f"The {clip} {reuses} footage first seen on {day.isoformat()}, before the claimed date {claim.date}: "
                f"footage that existed before the event cannot show it{how}.",
                tuple([lead, *match_lines, *_finding_lines(findings)]),
            )
    if contradictions:
        lines = [f"{f.code}: {f.explanation}" for f in contradictions]
        also = f" The clip also matches {len(matches)} segment(s) of indexed footage." if matches else ""
        return Verdict(
            VerdictCode.METADATA_CONTRADICTS_CLAIM,
            "The file's own tags contradict the claim ("
            + "; ".join(f.code for f in contradictions)
            + "). Tags can be wrong or forged, so weigh this with the other evidence."
            + also,
            tuple(lines + match_lines + _finding_lines([f for f in findings if f not in contradictions])),
        )
    if matches:
        first = [m.reference.source.first_seen for m in matches if m.reference.source.first_seen]
        earliest_text = f"; earliest first-seen date {min(first)}" if first else ""
        dating = _dating_line(claim, earliest)
        changed = [labels for labels in (alterations_of(m) for m in matches) if labels]
        context = [dating] if dating else []
        if changed:
            return Verdict(
                VerdictCode.ALTERED_COPY_OF_KNOWN_FOOTAGE,
                f"The {clip} is an altered copy ({', '.join(changed[0])}) of footage already in the index "
                f"({len(matches)} matching segment(s)){earliest_text}.",
                tuple(context + match_lines + _finding_lines(findings)),
            )
        return Verdict(
            VerdictCode.FOOTAGE_SEEN_BEFORE,
            f"The {clip} {reuses} footage already in the index ({len(matches)} matching segment(s)){earliest_text}.",
            tuple(context + match_lines + _finding_lines(findings)),
        )
    if scene:
        first = [m.reference.source.first_seen for m in scene if m.reference.source.first_seen]
        seen = f" (first seen {min(first)})" if first else ""
        return Verdict(
            VerdictCode.SAME_PLACE_AS_KNOWN_FOOTAGE,
            f"The clip shows the same place as footage already in the index{seen}, but it is not shown to be "
            "the same moment: the still background agrees while what moves does not single out that moment, "
            "nothing moves enough to tell, or, over a photograph the camera pans across, the clip's camera "
            "path is not the reference's (another pan over the same picture, or a copy reframed as it plays). "
            "This is evidence of place only; it does not date the clip.",
            tuple(match_lines + _finding_lines(findings)),
        )
    if sound:
        first = [m.reference.source.first_seen for m in sound if m.reference.source.first_seen]
        seen = f" (first seen {min(first)})" if first else ""
        return Verdict(
            VerdictCode.SAME_SOUND_AS_KNOWN_FOOTAGE,
            f"The clip's sound matches the sound of footage already in the index{seen}, but its picture does not. "
            "The same sound (music, chants, applause, a speech) can accompany other pictures, so this shows "
            "neither that the footage is reused nor when it was filmed.",
            tuple(match_lines + _finding_lines(findings)),
        )
    needed = 1 if is_image else MIN_INFORMATIVE_FRAMES
    if informative_frames < needed and sound_items < MIN_SOUND_ITEMS:
        return Verdict(
            VerdictCode.INSUFFICIENT_EVIDENCE,
            f"Only {informative_frames} frame(s) have enough texture to compare; no conclusion can be drawn.",
            ("black, flat or very short footage cannot be matched reliably", *_finding_lines(findings)),
        )
    compared = f"{informative_frames} frames compared against the index"
    if sound_items:
        compared += f"; its sound ({sound_items} Chromaprint items, about {sound_items * 0.124:.0f} s) too"
    return Verdict(
        VerdictCode.NO_PRIOR_MATCH_IN_INDEX,
        "Not found in this index: no indexed footage matches the clip. This is not evidence that it is authentic "
        "or new, only that this index holds no earlier copy.",
        (
            compared,
            *_finding_lines(findings, ("warning", "notice", "info")),
        ),
    )


def _dating_line(claim: Claim | None, earliest: tuple[date, Any] | None) -> str | None:
    if claim is None or not claim.date:
        return "no claimed date to compare the first-seen dates with" if earliest else None
    if earliest is None:
        return f"no matched reference has a first-seen date to compare with the claimed date {claim.date}"
    day, _ = earliest
    return (
        f"earliest first-seen date {day.isoformat()} is not before the claimed date {claim.date} "
        f"(allowing {CLAIM_DATE_TOLERANCE_DAYS} day): the index holds no copy older than the claimed event"
    )
