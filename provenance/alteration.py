"""The diagnose stage's records: `Alteration` and the `AlterationCode` vocabulary.

An alteration is one way a matched copy differs from its reference. Several
stages hold alterations without making them: `match`, whose `MatchSegment`
carries a segment's alterations and reads them back from a report's JSON,
`verdict` and the report's renderers, which read their codes. `diagnose`
makes them (re-exporting both names). The records stand alone, importing
nothing of the package and nothing heavy, so that match, above diagnose in
the pipeline, and the report, which must not load OpenCV, can use them::

    >>> a = Alteration("mirrored", "The picture is mirrored left to right.", {"operation": "mirror"})
    >>> Alteration.from_dict(a.to_dict()) == a
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class AlterationCode(StrEnum):
    """How a copy differs from its reference (docs/matching.md); values are the report's codes."""

    # From the alignment: what had to be undone to match.
    MIRRORED = "mirrored"
    ROTATED = "rotated"
    CROPPED = "cropped"
    REFRAMED = "reframed"
    PICTURE_IN_PICTURE = "picture_in_picture"
    SPEED_CHANGED = "speed_changed"
    REVERSED = "reversed"
    # From the clip's own samples over the segment: one picture held still.
    FROZEN_FRAME = "frozen_frame"
    # From the spans: reference footage left out, query footage from elsewhere.
    TRIMMED = "trimmed"
    EMBEDDED = "embedded"
    # Parts of the clip no segment explains where the alignment itself is unusual
    # (a speed outside the ordinary search, or at the searched range's edge).
    PARTLY_EXPLAINED = "partly_explained"
    # From the two files' own properties.
    FRAME_RATE_CHANGED = "frame_rate_changed"
    DOWNSCALED = "downscaled"
    # From the aligned frame pairs' pixels (and ``cropped``, measured).
    GREYSCALE = "greyscale"
    COLOUR_CHANGED = "colour_changed"
    OVERLAY = "overlay"
    BLURRED = "blurred"
    # From the sound, compared with the reference's over the picture's span (the audio stage).
    AUDIO_REPLACED = "audio_replaced"
    AUDIO_OVERLAID = "audio_overlaid"
    AUDIO_REMOVED = "audio_removed"


@dataclass(frozen=True)
class Alteration:
    """One way the query differs from the reference, with its evidence.

    `code` is an `AlterationCode` (a `str`; a report read back keeps whatever
    code it holds), `summary` one plain sentence, `evidence` the measurements
    behind it (a JSON object; `diagnose` builds each code's as a typed dict).
    """

    code: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "summary": self.summary, "evidence": dict(self.evidence)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alteration:
        return cls(str(data["code"]), str(data["summary"]), dict(data.get("evidence", {})))
