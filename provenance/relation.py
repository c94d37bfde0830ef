"""The verify stage's records: `Relation`, `Verification` and `HeldFrame`.

Whether a match shows the same footage (the same moment) or only the same
scene (the same place and camera, at another moment or at one the evidence does not show) is decided by
`verify`; `match`'s `MatchSegment` carries it, the verdict and the report's
renderers read it. Like `alteration`, the records stand alone, importing
nothing of the package, so stages above verify can hold them::

    >>> v = Verification(Relation.SAME_SCENE, 12, 0.004, None, "nothing moves")
    >>> Verification.from_dict(v.to_dict()) == v
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Relation(StrEnum):
    """What a match shows of the reference: the same moment, the same place only, or not checked."""

    SAME_FOOTAGE = "same_footage"
    SAME_SCENE = "same_scene"
    UNVERIFIED = "unverified"
    #: Found by its sound alone: the same sound, which unrelated clips can share (music, chants,
    #: applause); it shows neither the footage nor the moment.
    SAME_SOUND = "same_sound"


@dataclass(frozen=True)
class Verification:
    """The evidence behind a match's `relation`.

    `moving_share` is the share of the compared picture that changes over
    the reference span; `specificity` how much closer each query frame is
    to its own aligned reference frame than to the span's other frames, on
    the moving part (1 = only its own, 0 = no closer than to any other);
    `pairs` the query frames compared; `offset_s` the offset (reference
    time minus speed times query time) at which what moves agrees best,
    when it was found. On a reference that is a still picture under camera
    motion, what moves is the whole picture, so the moment rests on the
    camera path instead (`path_drift_px`, `path_frames`, `path_seconds`). `reason` says in a sentence why the relation was
    given. Numbers are None when not measured.
    """

    relation: Relation
    pairs: int
    moving_share: float | None
    specificity: float | None
    reason: str
    offset_s: float | None = None
    #: For a reference that is a still picture under camera motion (`camera`): how far (pixels at
    #: the compared views' size) the clip's camera path departs from the reference's along the
    #: alignment, and over how many frames it was followed; None when not measured.
    path_drift_px: float | None = None
    path_frames: int = 0
    #: ... and the seconds of the clip those frames span (the drift allowed grows with them); None when not measured.
    path_seconds: float | None = None
    #: Where the path holds: the least drift found with the clip moved `verify.FAR_OFFSET_S` earlier or later,
    #: and whether the aligned moment stands out from those (`verify.PATH_PIN_RATIO`): a steady pan
    #: over a cropped copy fits other moments as well, and then the clip's seconds are not told.
    #: None when not measured (no still picture, or too few frames followed elsewhere).
    path_drift_elsewhere_px: float | None = None
    moment_shown: bool | None = None
    #: Where the path holds at a changed speed: the least drift found with the speed `verify.SPEED_PIN_STEP`
    #: slower or faster (the clip's middle kept in place), and whether the alignment's speed stands out
    #: from those (`verify.PATH_PIN_RATIO`); None when not measured (normal speed, no still picture).
    path_drift_other_speed_px: float | None = None
    speed_shown: bool | None = None
    #: The speed the camera path held at where the alignment's did not (x1: `verify.on_still_picture`
    #: follows it again at normal speed), with `offset_s` its offset: the segment is placed on that line.
    #: None where the path held at the alignment's own speed, or was not followed.
    path_speed: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["relation"] = str(self.relation)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verification:
        return cls(
            relation=Relation(data["relation"]),
            pairs=int(data.get("pairs", 0)),
            moving_share=None if data.get("moving_share") is None else float(data["moving_share"]),
            specificity=None if data.get("specificity") is None else float(data["specificity"]),
            reason=str(data.get("reason", "")),
            offset_s=None if data.get("offset_s") is None else float(data["offset_s"]),
            path_drift_px=None if data.get("path_drift_px") is None else float(data["path_drift_px"]),
            path_frames=int(data.get("path_frames") or 0),
            path_seconds=None if data.get("path_seconds") is None else float(data["path_seconds"]),
            path_drift_elsewhere_px=(
                None if data.get("path_drift_elsewhere_px") is None else float(data["path_drift_elsewhere_px"])
            ),
            moment_shown=None if data.get("moment_shown") is None else bool(data["moment_shown"]),
            path_drift_other_speed_px=(
                None if data.get("path_drift_other_speed_px") is None else float(data["path_drift_other_speed_px"])
            ),
            speed_shown=None if data.get("speed_shown") is None else bool(data["speed_shown"]),
            path_speed=None if data.get("path_speed") is None else float(data["path_speed"]),
        )


@dataclass(frozen=True)
class HeldFrame:
    """A span of the clip that holds one picture still (a frozen frame; `verify.held_frame`).

    `samples` is how many of the clip's samples fall in it, `largest_change`
    the largest mean grey change (0-255) of any grid cell between two of them;
    `whole`: the held frame is the whole of a match (else part of it, as a
    clip frozen at its end).
    """

    start_s: float
    end_s: float
    samples: int
    largest_change: float
    whole: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeldFrame:
        return cls(
            float(data["start_s"]),
            float(data["end_s"]),
            int(data["samples"]),
            float(data["largest_change"]),
            bool(data.get("whole", True)),
        )
