"""Stage report: how the human-facing renderers say things, one way each.

Markdown, HTML and ClaimReview read their numbers through these so that a
quantity reads the same in every form and every place: seconds ("6.25 s")
and spans of seconds ("0.0–6.25 s"), a time gap (the verdict's own words,
"2.3 years"), percentages, and the evidence of an alteration or a finding as
sentences with units, never as ``key: value`` strings and never with
"-0"::

    >>> seconds(6.25), span(0, 6.25), gap_words(date(2021, 9, 12), date(2024, 1, 17))
    ('6.25 s', '0.0–6.25 s', '2.3 years')
    >>> alteration_details("cropped", {"keep_fraction": 0.85, "scale": 1.177, "rotation_deg": -0.0})
    'It keeps about 85% of the reference's width and height; enlarged 1.18 times.'
    >>> coverage_sentence(report)
    '0.0–6.25 s matched; 6.25–7.0 s not explained by any reference.'

Pure functions. The codes and every measurement stay in the JSON report;
these words are for reading. Strings they return may hold untrusted text
(tag values, place names) and are escaped by the renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from ..match import MAX_SPEED, MIN_SPEED, SPEED_MIN_FRAMES, SpeedUntold
from ..verdict import _span as _verdict_gap

# -- numbers, times, gaps --------------------------------------------------------------


def number(value: Any, digits: int = 2) -> str:
    """A number rounded to `digits` places, trailing zeros dropped, never "-0": ``1.18``, ``2``, ``0``."""
    try:
        x = round(float(value), digits)
    except (TypeError, ValueError, OverflowError):
        return str(value)
    if x == 0:
        x = 0.0  # -0.0 reads as "-0"
    text = f"{x:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def signed(value: Any, digits: int = 2) -> str:
    """A signed number with a fixed number of places, "+0.00" rather than "-0.00"."""
    try:
        x = round(float(value), digits)
    except (TypeError, ValueError, OverflowError):
        return str(value)
    return f"{x + 0.0:+.{digits}f}" if x != 0 else f"+{0:.{digits}f}"


def _secs(value: Any) -> str:
    """Seconds as a number with one or two decimals: ``6.25``, ``7.0``, ``0.0``."""
    try:
        x = round(float(value), 2)
    except (TypeError, ValueError, OverflowError):
        return str(value)
    text = f"{x + 0.0:.2f}"
    return text[:-1] if text.endswith("0") else text


def seconds(value: Any) -> str:
    """A time in seconds, to the hundredth that the spans are measured in: ``6.25 s``, ``7.0 s``."""
    return f"{_secs(value)} s"


def span(start: Any, end: Any) -> str:
    """A span of seconds: ``0.0–6.25 s``."""
    return f"{_secs(start)}–{_secs(end)} s"


def spans(pairs: Any) -> str:
    """Several spans of seconds: ``0.0–2.0 s and 8.25–10.0 s``."""
    texts = [span(a, b) for a, b in _pairs(pairs)]
    return listing(texts)


def clock(value: Any) -> str:
    """A time in a video as a player shows it, to the tenth: ``0:12.4``, ``1:05.0``."""
    try:
        x = max(0.0, round(float(value), 1))
    except (TypeError, ValueError, OverflowError):
        return str(value)
    minutes, rest = divmod(x, 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


def gap_words(earlier: date, later: date) -> str:
    """How long before `later` `earlier` is, as the verdict says it: ``2.3 years``, ``5 months``, ``12 days``.

    The one formatter of a time gap: the verdict's summary and evidence (in
    the JSON report) use it, so the renderers do too.
    """
    return _verdict_gap((later - earlier).days)


def percent(fraction: Any, digits: int = 0) -> str:
    """A fraction (0-1) as a percentage: ``85%``, ``7.5%`` with `digits` 1."""
    try:
        return f"{number(float(fraction) * 100, digits)}%"
    except (TypeError, ValueError, OverflowError):
        return str(fraction)


def listing(items: Sequence[str]) -> str:
    """Items joined for a sentence: ``a``, ``a and b``, ``a, b and c``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _pairs(value: Any) -> list[tuple[float, float]]:
    out = []
    for item in value if isinstance(value, (list, tuple)) else ():
        if (
            isinstance(item, (list, tuple))
            and len(item) == 2
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in item)
        ):
            out.append((float(item[0]), float(item[1])))
    return out


def sentence(clauses: Sequence[str | None], lead: str = "") -> str:
    """Clauses joined into one sentence: ``lead`` + "a; b." with a capital first letter ("" when none)."""
    parts = [c for c in clauses if c]
    if not parts:
        return ""
    text = lead + "; ".join(parts)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# -- stills, speeds, frame counts, where facts came from --------------------------------------


def is_still(report: Any) -> bool:
    """The checked file is a still picture: no span, offset, speed or trimming applies to it."""
    return str(getattr(report.input, "kind", "")) == "image"


def still_frame(match: Any) -> str:
    """Where a still picture sits in its reference: ``the frame at 0:03.0`` (``the picture`` for a still reference)."""
    if str(match.reference.kind) == "image":
        return "the picture"
    if not moment_shown(match):  # a part of a still picture under camera motion: every frame holding it fits
        return f"a frame about {clock(match.reference_start_s)}"
    return f"the frame at {clock(match.reference_start_s)}"


#: Why a still picture's frame of a pan is only "about" a second (`moment_shown` False).
STILL_UNPINNED = "its second is not pinned, other frames hold that part of the picture too"


def still_frame_at(match: Any) -> str:
    """Where in its reference's length a still picture's frame is: ``(7.0 s of its 8.0 s)``, with why it is
    only about that where the second is not pinned (`moment_shown`); empty for a still reference."""
    ref = match.reference
    if str(ref.kind) == "image":
        return ""
    at = f"{seconds(match.reference_start_s)} of its {seconds(ref.duration_s)}"
    if moment_shown(match):
        return f" ({at})"
    return f" (about {at}: {STILL_UNPINNED})"


#: Why a speed is not told (`match.SpeedUntold`), after "speed not told: ".
SPEED_UNTOLD_WORDS = {
    SpeedUntold.HELD_FRAME: "the clip holds one frame",
    SpeedUntold.BEYOND_RANGE: f"what moves fits a speed beyond the ×{MIN_SPEED:g}–×{MAX_SPEED:g} searched",
    SpeedUntold.CONTESTED: "what moves and the matched frames favour different speeds, neither clearly",
    SpeedUntold.FEATURES_LINE: "only a line through a few registered frames gives one, which is no measure",
    SpeedUntold.REPEATED: "the clip shows a stretch again (a loop or a replay), and no one speed runs through its showings",
}


def speed_words(match: Any) -> str:
    """How fast the clip plays the reference: ``×1.97 the reference's speed``, ``played backwards`` (at its
    own speed), ``played backwards at ×2 the reference's speed``, or ``no speed change found`` (the
    alignment's speed of 1 is where the search starts, not a measurement: still footage fits many);
    ``speed not told`` where nothing can tell it, and why (`SPEED_UNTOLD_WORDS`: a frozen frame, what moves
    fitting no speed searched or contesting the matcher's, a features line through a few frames),
    and where the alignment's slope differs from x1 or runs backwards with no `speed_changed` or
    `reversed` told of the match: ``speed not told: the alignment runs at ×0.884, which nothing measured``;
    on a same-scene match ``speed not told: the place matched, not a moment`` (the diagnosis looks for no
    speed there, so "no speed change found" would say a search that was not made)."""
    if str(getattr(match, "relation", "")) == "same_scene":
        return "speed not told: the place matched, not a moment"
    if getattr(match, "speed_untold", False):
        if held_frame(match):
            return f"speed not told: {SPEED_UNTOLD_WORDS[SpeedUntold.HELD_FRAME]}"
        if held_frame(match, whole=False):
            return "speed not told: part of the clip holds one frame"
        why = getattr(match, "speed_untold_why", None)
        reason = SPEED_UNTOLD_WORDS.get(why) if why else None  # a StrEnum key is its value
        return f"speed not told: {reason}" if reason else "speed not told"
    try:
        speed = float(match.speed)
    except (TypeError, ValueError):
        return "speed unknown"
    rate = abs(speed)
    changed = abs(rate - 1.0) >= 0.02
    # The alignment's slope, where the diagnosis told no speed change (or no reversal): nothing measured it.
    said = {str(getattr(a, "code", "")) for a in getattr(match, "alterations", ()) or ()}
    if speed < 0 and "reversed" not in said:
        return f"speed not told: the alignment runs backwards at ×{number(rate, 3)}, which nothing measured"
    if changed and "speed_changed" not in said:
        if speed < 0:
            return f"played backwards; speed not told (the alignment's ×{number(rate, 3)}, which nothing measured)"
        return f"speed not told: the alignment runs at ×{number(rate, 3)}, which nothing measured"
    if speed < 0:
        return f"played backwards at ×{number(rate, 2)} the reference's speed" if changed else "played backwards"
    if changed:
        return f"×{number(rate, 3)} the reference's speed"
    frames = len(getattr(match, "pairs", ()) or ())
    if str(getattr(match, "channel", "frames")) == "frames" and 0 < frames < SPEED_MIN_FRAMES:
        return f"speed not measured: {frames} clip frames, {SPEED_MIN_FRAMES} needed"
    return "no speed change found"


def moment_shown(match: Any) -> bool:
    """False where verify found the clip's camera path over a still picture fitting other moments as well
    (`Verification.moment_shown`): the reference span is then where the match lies, not a measured moment."""
    if any(getattr(c, "pins_moment", False) for c in getattr(match, "channels", ()) or ()):
        return True  # the sound placed it (`match.ChannelEvidence.pins_moment`)
    v = getattr(match, "verification", None)
    return getattr(v, "moment_shown", None) is not False


def reference_span(match: Any) -> str:
    """The matched reference span, ``0:03.0–0:08.0``, and ``about 0:03.0–0:08.0 (its seconds not pinned: ...)``
    where the camera path fits other moments as well (`moment_shown`); a same-scene match's span is where
    its picture matched, said so."""
    told = span(match.reference_start_s, match.reference_end_s)
    if str(getattr(match, "relation", "")) == "same_scene":
        return f"{told} (where the picture matched: the place, not a moment shown)"
    if moment_shown(match):
        return told
    v = getattr(match, "verification", None)
    if getattr(v, "path_drift_px", None) is None:  # no camera path: what moves fits another speed as well
        return f"about {told} (its seconds not pinned: its speed is not told)"
    return f"about {told} (its seconds not pinned: the camera path fits other moments as well)"


def held_frame(match: Any, *, whole: bool = True) -> bool:
    """The match is a frozen frame: the clip holds one picture over all of it (its ``frozen_frame`` alteration);
    with ``whole=False``, over any part of it."""
    return any(
        str(a.code) == "frozen_frame" and (not whole or (a.evidence or {}).get("whole_match", True))
        for a in getattr(match, "alterations", ()) or ()
    )


#: A held frame's reference span narrower than this (seconds) is one moment, said as a time.
HELD_MOMENT_S = 0.5


def held_at(match: Any) -> float | None:
    """The one moment of the reference a held frame shows, or None where the matched frames pin none."""
    a, b = sorted((float(match.reference_start_s), float(match.reference_end_s)))
    return a if b - a < HELD_MOMENT_S else None


def held_moment(match: Any) -> str:
    """Where a held frame sits in its reference: ``the reference's frame at 0:02.9``, or ``a frame from within the
    reference's 0.0–3.0 s`` where the matched frames pin no one moment (`held_at`)."""
    at = held_at(match)
    if at is not None:
        return f"the reference's frame at {clock(at)}"
    return f"a frame from within the reference's {span(*sorted((match.reference_start_s, match.reference_end_s)))}"


def speed_range(report: Any) -> tuple[float, float] | None:
    """The slowest and fastest speeds the search covers, from the report's own thresholds (None when absent)."""
    thresholds = report.tool.get("thresholds", {}) if isinstance(report.tool, dict) else {}
    lo, hi = thresholds.get("match.min_speed"), thresholds.get("match.max_speed")
    if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float))) or isinstance(lo, bool):
        return None
    return float(lo), float(hi)


def searched_speeds(report: Any) -> str | None:
    """The range of speeds the search covers: ``×0.25 to ×4, forwards and backwards`` (None when unrecorded)."""
    found = speed_range(report)
    return f"×{number(found[0])} to ×{number(found[1])}, forwards and backwards" if found else None


def speed_matters(match: Any) -> bool:
    """A match whose speed a reader must weigh: changed, reversed, or explaining only part of the clip at an
    unusual speed."""
    alterations = getattr(match, "alterations", ()) or ()
    codes = {str(a.code) for a in alterations}
    # `partly_explained` weighs on the speed only where the wide search fitted it (its evidence names the range).
    at_speed = any(
        str(a.code) == "partly_explained" and "searched_speed_range" in (a.evidence or {}) for a in alterations
    )
    return bool(codes & {"speed_changed", "reversed"}) or at_speed or float(match.speed) < 0


def frames_sentence(match: Any, report: Any) -> str:
    """What the frame counts of a match say, counting what they say they count.

    Every clip frame with enough detail inside the span is aligned with the
    reference (``pairs``); of those, ``frames_total`` were compared (a stored
    reference frame lies close enough in time) and ``frames_matched`` were
    within the match distance. A still picture is one frame and its distance.
    """
    thresholds = report.tool.get("thresholds", {}) if isinstance(report.tool, dict) else {}
    still = is_still(report)
    limit = thresholds.get("match.image_match_distance" if still else "frame_match_distance")
    if str(getattr(match, "channel", "frames")) == "features":
        return _features_sentence(match, still, limit)
    within = f"within {number(limit, 0)} of 64 bits" if isinstance(limit, (int, float)) else "within the match distance"
    if still:
        return f"The picture is {number(match.mean_distance, 1)} of 64 bits from that frame ({within} is a match)."
    aligned = len(getattr(match, "pairs", ()) or ()) or int(match.frames_total)
    compared, matched = int(match.frames_total), int(match.frames_matched)
    aligned = max(aligned, compared)
    text = f"{matched} of the {aligned} clip frames aligned in this span are {within} of the reference frame"
    text += f" (mean {number(match.mean_distance, 1)} bits)"
    missed = compared - matched
    apart = aligned - compared
    parts = []
    if missed > 0:
        parts.append(f"{missed} {'was' if missed == 1 else 'were'} compared and did not match")
    if apart > 0:
        rate = getattr(match.reference, "sample_fps", 0) or 0
        every = f" ({number(rate)} per second)" if rate else ""
        parts.append(
            f"{apart} fall{'s' * (apart == 1)} between the reference's stored frames{every}, too far from "
            "any to compare"
        )
    return text + ("; " + listing(parts) if parts else "") + "."


def _features_sentence(match: Any, still: bool, limit: object) -> str:
    """`frames_sentence` of a match the local features found: frames registered, not hash distances."""
    geometry = getattr(match, "geometry", None)
    keypoints = f" (median {int(geometry.inliers)} agreeing keypoints a frame)" if geometry is not None else ""
    if still:
        text = f"The picture was registered on the reference frame by its local features{keypoints}"
    else:
        matched, compared = int(match.frames_matched), int(match.frames_total)
        text = (
            f"{matched} of the {max(compared, matched)} clip frames compared in this span were registered on the "
            f"reference by their local features{keypoints}"
        )
    if isinstance(limit, (int, float)) and float(match.mean_distance) > float(limit):
        text += (
            f"; their whole-frame hashes are {number(match.mean_distance, 1)} of 64 bits apart, too far for the "
            "hashes alone to match"
        )
    return text + "."


def candidate_evidence(match: Any, report: Any) -> str:
    """A weak candidate's evidence in a few words: ``5 of 9 compared frames matched`` (a still: its distance)."""
    features = str(getattr(match, "channel", "frames")) == "features"
    if is_still(report):
        if features:
            return f"registered on {still_frame(match)} by its local features"
        return f"{number(match.mean_distance, 1)} of 64 bits from {still_frame(match)}"
    if features:
        return f"{int(match.frames_matched)} of {int(match.frames_total)} compared frames registered by local features"
    return f"{int(match.frames_matched)} of {int(match.frames_total)} compared frames matched"


#: How each kind of origin of a source fact reads (`index.OriginKind`).
ORIGIN_WORDS = {
    "given": "given when the file was added to the index",
    "sidecar": "read from the sidecar",
    "file_mtime": "the file's modification time, which dates the copy on disk, not the footage",
}


def origin_words(source: Any, fact: str) -> str | None:
    """Where a reference's source fact came from, in words; None when the fact is absent.

    ``read from the sidecar street.info.json, field upload_date, on 2026-12-06 by desk``; None also
    when its origin is not recorded (`origins_unrecorded` says so once per reference).
    """
    if getattr(source, fact, None) in (None, ""):
        return None
    origin = source.origin(fact) if hasattr(source, "origin") else None
    if origin is None:
        return None
    kind = str(origin.kind)
    text = ORIGIN_WORDS.get(kind, kind.replace("_", " "))
    if kind == "sidecar" and origin.detail:
        text += f" {origin.detail}"
    elif origin.detail and kind != "given":
        text += f" ({origin.detail})"
    day = str(origin.recorded_at)[:10]
    if day:
        text += f", on {day}"
    if origin.recorded_by:
        text += f" by {origin.recorded_by}"
    return text


#: What a report says once for a reference whose facts carry no origin.
ORIGINS_UNRECORDED = (
    "Where these source facts came from was not recorded: the reference was indexed before provenance kept it "
    "(add the file again to a new index to record it)."
)


def origins_unrecorded(source: Any) -> bool:
    """The reference has source facts and none of them says where it came from."""
    facts = [f for f in ("source_url", "publisher", "title", "first_seen", "licence") if getattr(source, f, None)]
    return bool(facts) and not getattr(source, "origins", ())


def first_seen_is_file_time(source: Any) -> bool:
    """The first-seen date is a file's modification time (labelled so wherever it is shown)."""
    origin = source.origin("first_seen") if hasattr(source, "origin") else None
    return origin is not None and str(origin.kind) == "file_mtime"


# -- a whole clip: which parts the matches explain ----------------------------------------


def coverage(report: Any) -> tuple[list[tuple[float, float]], list[tuple[float, float]], list[tuple[float, float]]]:
    """The clip's matched spans, the spans no match explains, and the spans that could not be decoded.

    Computed from the report's own fields: each match's query span, the
    input's duration, its undecodable spans and its sampling rate. A gap of
    at most one sampling interval is no gap (a sample stands for the time up
    to the next one), so a match ending at the last sample explains the clip
    to its end. Empty for a still image or a report without a duration.
    """
    facts = report.input
    duration = float(facts.duration_s or 0)
    if facts.kind == "image" or duration <= 0:
        return [], [], []
    step = 1.0 / float(facts.sample_fps) if facts.sample_fps and facts.sample_fps > 0 else 0.0
    unreadable = sorted((max(0.0, a), min(duration, b)) for a, b in facts.unreadable if b > a)
    matched = _merge([(float(m.query_start_s), float(m.query_end_s)) for m in report.matches], step)
    covered = _merge(matched + unreadable, step)
    gaps: list[tuple[float, float]] = []
    at = 0.0
    for a, b in covered + [(duration, duration)]:
        if a - at > step + 1e-6:
            gaps.append((at, a))
        at = max(at, b)
    return matched, gaps, unreadable


def _merge(pieces: list[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(pieces):
        if out and a - out[-1][1] <= step + 1e-6:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def coverage_sentence(report: Any) -> str | None:
    """Which parts of the clip the matches explain, in words; None when nothing matched or it is a still.

    ``0.0–6.25 s matched; 6.25–7.0 s not explained by any reference.``
    """
    if not report.matches:
        return None
    matched, gaps, unreadable = coverage(report)
    if not matched:
        return None
    clauses = [f"{listing([span(a, b) for a, b in matched])} matched"]
    if gaps:
        clauses.append(f"{listing([span(a, b) for a, b in gaps])} not explained by any reference")
    else:
        clauses.append("every part of the clip is explained")
    if unreadable:
        clauses.append(f"{listing([span(a, b) for a, b in unreadable])} could not be decoded")
    return sentence(clauses)


# -- evidence as sentences ------------------------------------------------------------------

_Clause = Callable[[Any, dict[str, Any]], str | None]


def _box(value: Any, of: str) -> str | None:
    """A box [x0, y0, x1, y1] in fractions of a frame, as where it runs across and down."""
    if not (isinstance(value, (list, tuple)) and len(value) == 4):
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return f"{percent(x0, 1)}–{percent(x1, 1)} across and {percent(y0, 1)}–{percent(y1, 1)} down {of}"


def screen_place(box: Any) -> str:
    """Where a box [x0, y0, x1, y1] (fractions of the frame) sits, in words: ``bottom centre``,
    ``top left``; a box across most of the width is ``bottom, full width``."""
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        return "–"
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    down = "top" if cy < 1 / 3 else ("bottom" if cy > 2 / 3 else "middle")
    if x1 - x0 > 0.8:
        return f"{down}, full width"
    return f"{down} {'left' if cx < 1 / 3 else ('right' if cx > 2 / 3 else 'centre')}"


def text_kind(kind: str, static: bool, cut: Any) -> str:
    """A text's kind as a report's table shows it: ``caption``, ``caption, moving``, and for a moving line
    that ran past the frame's edge, ``caption, moving; runs past the right edge: only the part shown was read``."""
    out = str(kind) if static else f"{kind}, moving"
    edges = [str(c) for c in (cut or ()) if str(c) in ("left", "right")]
    if edges:
        out += (
            f"; runs past the {' and '.join(edges)} edge{'s' if len(edges) > 1 else ''}: only the part shown was read"
        )
    return out


def _pixels(value: Any) -> str | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{number(value[0], 0)}×{number(value[1], 0)} pixels"
    return None


def _quoted(value: Any) -> str:
    return f"“{value}”"


def _tags(value: Any) -> str:
    """Tags as "NAME “VALUE”" (a dict) or names (a list)."""
    if isinstance(value, dict):
        return listing([f"{k} {_quoted(_plain(v))}" for k, v in list(value.items())[:20]])
    if isinstance(value, (list, tuple)):
        return listing([str(v) for v in value[:40]])
    return _plain(value)


def _plain(value: Any, depth: int = 0) -> str:
    """Any evidence value in words: numbers short and never "-0", spans as "a–b s", lists joined."""
    if isinstance(value, bool) or value is None:
        return "yes" if value else "no" if value is False else "none"
    if isinstance(value, (int, float)):
        return number(value, 3)
    if isinstance(value, (list, tuple)) and depth < 3:
        if _pairs(value) and len(_pairs(value)) == len(value):
            return listing([f"{number(a, 3)}–{number(b, 3)}" for a, b in _pairs(value)])
        return listing([_plain(v, depth + 1) for v in list(value)[:20]])
    if isinstance(value, dict) and depth < 3:
        return listing([f"{_words(k)} {_plain(v, depth + 1)}" for k, v in list(value.items())[:20]])
    return str(value)


def _words(key: Any) -> str:
    return str(key).replace("_", " ")


def _kept(value: Any, ev: dict[str, Any]) -> str | None:
    if ev.get("__key__") == "keep_width_fraction" and "keep_fraction" in ev:
        return None  # said once, at keep_fraction
    w, h = ev.get("keep_width_fraction"), ev.get("keep_height_fraction")
    if isinstance(w, (int, float)) and isinstance(h, (int, float)):
        return f"it keeps {percent(w)} of the reference's width and {percent(h)} of its height"
    if isinstance(value, (int, float)):
        return f"it keeps about {percent(value)} of the reference's width and height"
    return None


def _scale(value: Any, ev: dict[str, Any]) -> str | None:
    if not isinstance(value, (int, float)):
        return None
    if ev.get("__code__") == "downscaled":
        return f"shown at {percent(value)} of the reference's size"
    if value > 1.005:
        return f"enlarged {number(value)} times"
    if value < 0.995:
        return f"shown at {percent(value)} of the reference's size"
    return None


def _turned(value: Any, ev: dict[str, Any]) -> str | None:
    if isinstance(value, (int, float)) and abs(value) >= 0.05:
        return f"turned {number(abs(value), 1)}°"
    return None


def _inliers(value: Any, ev: dict[str, Any]) -> str | None:
    counts = [int(v) for v in value if isinstance(v, (int, float))] if isinstance(value, (list, tuple)) else []
    if not counts:
        return None
    if min(counts) == max(counts):
        return f"aligned on {counts[0]} matching points"
    return f"aligned on {min(counts)}–{max(counts)} matching points per frame"


def _box_in_reference(value: Any, ev: dict[str, Any]) -> str | None:
    text = _box(value, "the reference's frame")
    return f"the part shown runs {text}" if text else None


def _box_in_reference_px(value: Any, ev: dict[str, Any]) -> str | None:
    if "box_in_reference_fraction" in ev or not (isinstance(value, (list, tuple)) and len(value) == 4):
        return None  # the same box, given once in fractions
    x0, y0, x1, y1 = (number(v, 0) for v in value)
    return f"the part shown runs from pixel {x0} to {x1} across and {y0} to {y1} down the reference"


def _content_box(value: Any, ev: dict[str, Any]) -> str | None:
    text = _box(value, "the clip's frame")
    return f"the footage fills {text}" if text else None


def _inner_box(value: Any, ev: dict[str, Any]) -> str | None:
    text = _box(value, "the clip's frame")
    return f"the inner picture fills {text}" if text else None


def _speed(value: Any, ev: dict[str, Any]) -> str | None:
    if not isinstance(value, (int, float)):
        return None
    if value < 0 or ev.get("__code__") == "reversed":
        rate = abs(value)
        return (
            "it runs at the reference's own speed"
            if abs(rate - 1) < 0.02
            else f"it runs {number(rate)} s of the reference in each second"
        )
    return f"{number(value)} s of the reference play in each second of the clip"


def _searched(value: Any, ev: dict[str, Any]) -> str | None:
    pairs = _pairs([value])
    if not pairs:
        return None
    edge = ev.get("at_range_edge", ev.get("speed_at_range_edge"))
    at_edge = "; this speed is at the edge of that range, so the footage may run faster or slower still" if edge else ""
    return f"speeds searched ×{number(pairs[0][0])} to ×{number(pairs[0][1])}, forwards and backwards{at_edge}"


def _not_explained(value: Any, ev: dict[str, Any]) -> str | None:
    return f"the clip's {spans(value)} are not explained by this footage" if _pairs(value) else None


def _plausible(value: Any, ev: dict[str, Any]) -> str | None:
    pairs = _pairs([value])
    return f"plausibly {number(pairs[0][0])}–{number(pairs[0][1])} times" if pairs else None


def _distances(value: Any, ev: dict[str, Any]) -> str | None:
    normal = ev.get("mean_distance_at_normal_speed")
    if not isinstance(value, (int, float)):
        return None
    at_normal = f" against {number(normal, 1)} at normal speed" if isinstance(normal, (int, float)) else ""
    return f"mean hash distance {number(value, 1)} of 64 bits at that speed{at_normal}"


def _moving_difference(value: Any, ev: dict[str, Any]) -> str | None:
    normal = ev.get("moving_difference_at_normal_speed")
    if not isinstance(value, (int, float)):
        return None
    at_normal = f" against {number(normal, 2)} at normal speed" if isinstance(normal, (int, float)) else ""
    return f"what moves differs by {number(value, 2)} frame standard deviations on average at that speed{at_normal}"


def _left_out(value: Any, ev: dict[str, Any]) -> str | None:
    if not _pairs(value):
        return None
    whole = ev.get("reference_duration_s")
    of = f" of its {seconds(whole)}" if isinstance(whole, (int, float)) else ""
    return f"the reference's {spans(value)}{of} are left out"


def _at_most(value: Any, ev: dict[str, Any]) -> str | None:
    if not isinstance(value, (int, float)):
        return None
    whole = ev.get("reference_duration_s")
    of = f" of its {seconds(whole)}" if isinstance(whole, (int, float)) else ""
    return f"the clip can hold at most {seconds(value)} of the reference{of} (which seconds, the match does not pin)"


def _elsewhere(value: Any, ev: dict[str, Any]) -> str | None:
    return f"the clip's {spans(value)} are not from this reference" if _pairs(value) else None


def _fps(value: Any, ev: dict[str, Any]) -> str | None:
    ref = ev.get("reference_fps")
    if not isinstance(value, (int, float)):
        return None
    return f"{number(value, 3)} frames/s in the clip" + (
        f" against {number(ref, 3)} in the reference" if isinstance(ref, (int, float)) else ""
    )


def _footage_px(value: Any, ev: dict[str, Any]) -> str | None:
    ours, theirs = _pixels(value), _pixels(ev.get("reference_px"))
    if ours is None:
        return None
    return f"{ours} of footage" + (f" for the reference's {theirs}" if theirs else "")


def _chroma(value: Any, ev: dict[str, Any]) -> str | None:
    if not isinstance(value, (int, float)):
        return None
    p90, ref = ev.get("chroma_query_p90"), ev.get("chroma_reference")
    text = f"colour strength {number(value, 1)} of 255 in the clip"
    if isinstance(p90, (int, float)):
        text += f" (at most {number(p90, 1)} in nine pixels of ten)"
    if isinstance(ref, (int, float)):
        text += f" against {number(ref, 1)} in the reference"
    return text


def _brightness(value: Any, ev: dict[str, Any]) -> str | None:
    if not isinstance(value, (int, float)) or round(value, 1) == 0:
        return None
    return f"{'brighter' if value > 0 else 'darker'} by {number(abs(value), 1)} levels of 255"


def _ratio(what: str) -> _Clause:
    def clause(value: Any, ev: dict[str, Any]) -> str | None:
        return f"{what} {number(value)} times the reference's" if isinstance(value, (int, float)) else None

    return clause


def _hue(value: Any, ev: dict[str, Any]) -> str | None:
    if not isinstance(value, (int, float)) or round(value) == 0:
        return None
    coherence = ev.get("hue_coherence")
    how = f" ({percent(coherence)} of coloured pixels agree)" if isinstance(coherence, (int, float)) else ""
    return f"hues turned by {number(abs(value), 0)}°{how}"


def _overlay_boxes(value: Any, ev: dict[str, Any]) -> str | None:
    if not isinstance(value, (list, tuple)) or not value:
        return None
    where = ev.get("locations")
    at = f" ({listing([str(w) for w in where])})" if isinstance(where, (list, tuple)) and where else ""
    n = len(value)
    return f"{n} region{'s' * (n != 1)} added{at}"


def _share(value: Any, ev: dict[str, Any]) -> str | None:
    return f"covering {percent(value, 1)} of the picture" if isinstance(value, (int, float)) else None


def _sharpness(value: Any, ev: dict[str, Any]) -> str | None:
    return f"sharpness {percent(value)} of the reference's" if isinstance(value, (int, float)) else None


def _skip(value: Any, ev: dict[str, Any]) -> str | None:
    return None


#: How each alteration evidence key reads; keys read together with another
#: (`reference_fps`, `reference_px`, ...) are skipped on their own, and names the
#: summary already states (`operation`, `angle_deg_clockwise`) are not repeated.
ALTERATION_CLAUSES: dict[str, _Clause] = {
    "operation": _skip,
    "angle_deg_clockwise": _skip,
    "reference_variant": _skip,
    "alignment": _skip,
    "keep_fraction": _kept,
    "keep_width_fraction": _kept,
    "keep_height_fraction": _skip,
    "box_in_reference_fraction": _box_in_reference,
    "box_in_reference_px": _box_in_reference_px,
    "scale": _scale,
    "rotation_deg": _turned,
    "inliers": _inliers,
    "content_box_fraction": _content_box,
    "inner_rectangle_fraction": _inner_box,
    "reference_seconds_per_query_second": _speed,
    "searched_speed_range": _searched,
    "at_range_edge": _skip,
    "speed_at_range_edge": _skip,
    "reference_span_s": _skip,
    "frames_matched": _skip,
    "query_spans_not_explained_s": _not_explained,
    "plausible_range": _plausible,
    "lowest_mean_distance": _distances,
    "mean_distance_at_normal_speed": _skip,
    "measured_by": _skip,
    "moving_difference_at_speed": _moving_difference,
    "moving_difference_at_normal_speed": _skip,
    "reference_spans_left_out_s": _left_out,
    "reference_seconds_at_most": _at_most,
    "reference_duration_s": _skip,
    "query_spans_not_from_this_reference_s": _elsewhere,
    "query_fps": _fps,
    "reference_fps": _skip,
    "footage_px": _footage_px,
    "reference_px": _skip,
    "chroma_query": _chroma,
    "chroma_query_p90": _skip,
    "chroma_reference": _skip,
    "brightness_delta": _brightness,
    "contrast_ratio": _ratio("contrast"),
    "saturation_ratio": _ratio("saturation"),
    "hue_shift_deg": _hue,
    "hue_coherence": _skip,
    "boxes_query_fraction": _overlay_boxes,
    "locations": _skip,
    "overlay_share": _share,
    "sharpness_ratio": _sharpness,
    "reference_detail_power": _skip,
    # the sound's evidence (audio_replaced, audio_overlaid, audio_removed)
    "ber": lambda v, ev: (
        f"the sound's bit error rate is {_plain(v)} (re-encoded copies stay near 0.05, unrelated sound 0.35-0.5)"
    ),
    "chance_ber": lambda v, ev: f"unrelated sound with the same bit frequencies would give {_plain(v)}",
    "agreement": lambda v, ev: f"they agree beyond chance by {_plain(v)} (0 for other sound, 1 for the same)",
    "landmarks": lambda v, ev: (
        None
        if v is None
        else f"{_plain(v)} of the clip's spectral-peak landmarks meet the reference's at its offset "
        "(replaced sound: 0 or 1)"
    ),
    "items": lambda v, ev: f"over {_plain(v)} Chromaprint items",
    "query_span_s": _skip,
    "offset_s": _skip,
    "worst_seconds": _skip,
    "query_sound": _skip,
    "reference_items": lambda v, ev: f"the reference has {_plain(v)} items of sound",
}


def _tag_value(value: Any, ev: dict[str, Any]) -> str | None:
    tag = ev.get("tag")
    if tag is None:
        return f"the value {_quoted(_plain(value))}"
    return f"the {tag} tag reads {_quoted(_plain(value))}"


def _lat(value: Any, ev: dict[str, Any]) -> str | None:
    lon, alt = ev.get("longitude"), ev.get("altitude_m")
    if not isinstance(value, (int, float)) or not isinstance(lon, (int, float)):
        return None
    text = f"position {number(value, 5)}, {number(lon, 5)}"
    return text + (f" at {number(alt, 1)} m" if isinstance(alt, (int, float)) else "")


def _phrase(template: str) -> _Clause:
    def clause(value: Any, ev: dict[str, Any]) -> str | None:
        if value in (None, "", [], {}):
            return None
        return template.format(_plain(value))

    return clause


def _tag_list(template: str) -> _Clause:
    def clause(value: Any, ev: dict[str, Any]) -> str | None:
        return template.format(_tags(value)) if value else None

    return clause


def _km(value: Any, ev: dict[str, Any]) -> str | None:
    return f"{number(value, 1)} km from the claimed place" if isinstance(value, (int, float)) else None


def _rotation(value: Any, ev: dict[str, Any]) -> str | None:
    stored, shown = ev.get("stored_size"), ev.get("display_size")
    if not isinstance(value, (int, float)):
        return None
    sizes = f" (stored {stored}, shown {shown})" if stored and shown else ""
    return f"turned {number(value, 0)}° for display{sizes}"


def _edits(value: Any, ev: dict[str, Any]) -> str | None:
    if not isinstance(value, (list, tuple)) or not value:
        return None
    pieces = []
    for e in value[:10]:
        if isinstance(e, dict) and isinstance(e.get("duration_s"), (int, float)):
            start = e.get("media_time_s")
            pieces.append(
                f"{seconds(e['duration_s'])} from {seconds(start)}"
                if isinstance(start, (int, float))
                else f"a pause of {seconds(e['duration_s'])}"
            )
    n = len(value)
    listed = f": {listing(pieces)}" if pieces else ""
    return f"the edit list has {n} entr{'ies' if n != 1 else 'y'}{listed}"


def _first_seen(value: Any, ev: dict[str, Any]) -> str | None:
    return f"the matched footage was first seen {value}" if value else None


#: How each finding evidence key reads (docs/findings.md lists each code's keys).
FINDING_CLAUSES: dict[str, _Clause] = {
    "value": _tag_value,
    "tag": _skip,
    "parsed": _phrase("read as {}"),
    "checked_at": _phrase("checked at {}"),
    "codec": _phrase("the video codec is {}"),
    "codec_first_year": _phrase("first released in {}"),
    "claimed_date": _phrase("the claimed date is {}"),
    "reference_id": _skip,
    "first_seen": _first_seen,
    "tags": _tag_list("the tags read {}"),
    "tags_present": _tag_list("the only tags are {}"),
    "bitstream_encoder": _phrase("the video stream names its encoder “{}”"),
    "latitude": _lat,
    "longitude": _skip,
    "altitude_m": _skip,
    "claimed_place": _phrase("the claimed place is {}"),
    "distance_km": _km,
    "nearest_town": _phrase("the nearest listed town is {}"),
    "camera_tags": _tag_list("the camera tags read {}"),
    "stream_encoder": _phrase("the video stream was encoded by “{}”"),
    "stream_encoder_tags": _tag_list("the stream's encoder tags read {}"),
    "rotation_degrees": _rotation,
    "stored_size": _skip,
    "display_size": _skip,
    "edits": _edits,
    "reason": _phrase("because {}"),
    "status": _skip,
    "validation_state": _phrase("validation state {}"),
    "claim_generator": _phrase("made with {}"),
    "signer": _phrase("signed by {}"),
    "signed_at": _phrase("signed at {}"),
    "trust": _phrase("trust {}"),
    "failures": _phrase("failures: {}"),
    "actions": _phrase("recorded actions: {}"),
    "ingredients": _phrase("ingredients: {}"),
}


def _details(clauses: dict[str, _Clause], code: str, evidence: Any, limit: int) -> str:
    if not isinstance(evidence, dict) or not evidence:
        return ""
    ev = {**evidence, "__code__": str(code)}
    out: list[str | None] = []
    for key, value in list(evidence.items())[:limit]:
        rule = clauses.get(str(key))
        if rule is None:
            if value not in (None, "", [], {}):
                out.append(f"{_words(key)} {_plain(value)}")
            continue
        ev["__key__"] = str(key)
        out.append(rule(value, ev))
    return sentence(out)


def alteration_details(code: str, evidence: Any, limit: int = 20) -> str:
    """An alteration's evidence as one sentence with units ("" when it has none worth reading).

    Args:
        code: the alteration's code (a few keys read differently by code).
        evidence: its evidence object, as the report holds it.
        limit: most keys read.

    Returns:
        ``It keeps 85% of the reference's width and 85% of its height; enlarged 1.18 times.``
    """
    return _details(ALTERATION_CLAUSES, code, evidence, limit)


def finding_details(code: str, evidence: Any, limit: int = 20) -> str:
    """A metadata finding's evidence as one sentence ("" when it has none).

    Args:
        code: the finding's code.
        evidence: its evidence object, as the report holds it.
        limit: most keys read.

    Returns:
        ``The creation_time tag reads “2021-06-30T10:00:00Z”; the claimed date is 2024-01-17.``
    """
    return _details(FINDING_CLAUSES, code, evidence, limit)


def alteration_label(code: str) -> str:
    """An alteration code in words for a heading: ``picture_in_picture`` -> 'Picture in picture'."""
    words = _words(code).strip()
    return words[:1].upper() + words[1:] if words else "Altered"


# -- places -------------------------------------------------------------------------------


def place_words(place: Any) -> str | None:
    """A claim's place (its dict) in words; an ambiguous one names every town it may be."""
    if not isinstance(place, dict):
        return None if place is None else str(place)
    if place.get("kind") == "ambiguous":
        towns = [place_words(p) for p in place.get("alternatives") or () if isinstance(p, dict)]
        called = str(place.get("name") or place.get("query") or "")
        listed = "; ".join(t for t in towns if t)
        return f"{called} (ambiguous: {listed})" if listed else f"{called} (ambiguous)"
    name = place.get("name")
    if not name:
        return None
    parts = [str(name)]
    for key in ("region", "country"):
        if place.get(key) and place.get(key) != name and place.get("kind", "city") == "city":
            parts.append(str(place[key]))
    text = ", ".join(parts)
    lat, lon = place.get("latitude"), place.get("longitude")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
        text += f" ({lat:.4f}, {lon:.4f})"
    return text


def ambiguity_note(place: Any) -> str | None:
    """What to do about an ambiguous place, or None: name its region or country to pick one."""
    if not isinstance(place, dict) or place.get("kind") != "ambiguous":
        return None
    towns = [p for p in place.get("alternatives") or () if isinstance(p, dict)]
    name = str(place.get("name") or place.get("query") or "the place")
    example = ""
    if towns:
        first = towns[0]
        example = f" (e.g. --claim-place '{name}, {first.get('region') or first.get('country') or ''}')".replace(
            ", '", "'"
        )
    n = len(towns)
    return (
        f"the claimed place {name!r} names {n} town{'s' * (n != 1)} of similar size; none was picked, so no "
        f"distance was measured: name its region or country{example}"
    )


#: How each relation (verify) reads at the head of a match.
RELATION_WORDS = {
    "same_footage": "Same footage: the clip shows this moment of the reference",
    "same_scene": "Same place, its moment not shown: this does not date the clip",
    "unverified": "Moment not verified",
    "same_sound": "Same sound only: this shows neither the footage nor the moment",
}

#: What a match's sound says, in words (`match.SoundVerdict`).
SOUND_WORDS = {
    "agrees": "agrees with the reference's",
    "overlaid": "holds the reference's sound under other sound",
    "replaced": "is not the reference's: other sound in its place",
    "unclear": "neither clearly the reference's nor clearly other sound",
    "not_compared": "could not be compared",
    "same_sound": "is the reference's sound (matched by the sound alone)",
}
#: The sound timeline's marks, from identical (bit error rate 0) to unrelated (0.5 and up).
TIMELINE_MARKS = "▁▂▃▄▅▆▇█"


def sound_timeline(seconds: Any) -> str:
    """Aligned seconds' bit error rates as a row of marks, one a second (▁ identical ... █ unrelated)."""
    marks = []
    for item in seconds or ():
        try:
            ber = float(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        level = min(len(TIMELINE_MARKS) - 1, max(0, int(ber / 0.5 * (len(TIMELINE_MARKS) - 1) + 0.5)))
        marks.append(TIMELINE_MARKS[level])
    return "".join(marks)


def channel_sentences(match: Any) -> list[str]:
    """One sentence per channel of a match (the picture's, the sound's), with its span, offset and score."""
    out: list[str] = []
    for c in getattr(match, "channels", ()) or ():
        where = f"clip {span(c.query_start_s, c.query_end_s)}, offset {signed(c.offset_s)} s"
        if c.channel != "audio":
            out.append(f"Picture: matches ({where}, score {number(c.score, 2)}).")
            continue
        said = SOUND_WORDS.get(str(c.verdict), str(c.verdict or "compared"))
        if c.ber is None:
            out.append(f"Sound: {said}.")
            continue
        line = f"Sound: {said} ({where}, bit error rate {number(c.ber, 2)} over {c.items} Chromaprint items"
        if getattr(c, "chance_ber", None) is not None and getattr(c, "agreement", None) is not None:
            line += f", {number(c.chance_ber, 2)} by chance: agreement beyond chance {number(c.agreement, 2)}"
        if getattr(c, "landmarks", None) is not None:
            line += f"; {c.landmarks} spectral-peak landmarks meet the reference's at this offset"
            if getattr(c, "anchors", None) is not None:
                line += f", anchored on {c.anchors} distinct peaks of the clip"
        line += ")"
        timeline = sound_timeline(c.seconds)
        line += (
            f"; second by second {timeline} (▁ identical, █ other sound over it or in its place)" if timeline else ""
        )
        note = getattr(c, "note", None)
        out.append(f"{line}: {note}." if note else f"{line}.")
    return out


def relation_sentence(match: Any, *, still: bool = False) -> str | None:
    """One sentence on whether a match is the same footage or only the same scene, and why (None if unknown).

    `still`: the checked file is a picture, which shows a moment rather than a clip's moments.
    """
    v = getattr(match, "verification", None)
    if v is None:
        return None
    head = RELATION_WORDS.get(str(v.relation), str(v.relation))
    reason = str(v.reason or "")
    if still:  # a picture is one moment, not a clip's moments
        head = head.replace("the clip shows this moment", "the picture is this moment")
        reason = reason.replace("the clip is", "the picture is")
    if not moment_shown(match):  # the same footage, at no pinned moment
        head = head.replace("the clip shows this moment of the reference", "the clip shows this footage")
        head = head.replace("the picture is this moment of the reference", "the picture is of this footage")
    return f"{head} ({reason})." if reason else f"{head}."


def sound_facts_sentence(sound: Any) -> str:
    """What the checked file's sound track gave (the report's ``input.sound``), in a sentence."""
    if not isinstance(sound, dict):
        return "not examined (a still image)"
    status = str(sound.get("status", ""))
    said = {
        "fingerprinted": f"{sound.get('loud_items', 0)} Chromaprint items compared",
        "no_audio_stream": "no sound track: no sound to compare",
        "silent": "silent: no sound to compare",
        "steady": "a steady tone or hum, or too short: no sound to compare",
        "undecodable": "could not be decoded: no sound to compare",
        "fpcalc_missing": "not fingerprinted (fpcalc is not installed)",
    }.get(status, status)
    note = sound.get("note")
    return f"{said} ({note})" if note and status == "fingerprinted" else said
