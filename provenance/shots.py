"""Stage shots: shot boundaries and one keyframe per shot, from the sampled grey frames (no second decode).

A shot starts where consecutive samples differ by more than
`SHOT_CHANGE_THRESHOLD` (mean absolute grey difference); its keyframe is the
sample nearest its middle. The keyframes go in the report (`provenance.evidence`)
and out of ``provenance frames``::

    >>> from provenance.decode import Plan, choose_decoder
    >>> frames = choose_decoder().sample("cut.mp4", Plan(fps=4))  # 3 s of one scene, then 3 s of another
    >>> [(k.shot_start_s, k.t, k.shot_end_s) for k in shot_keyframes(frames)]
    [(0.0, 1.25, 3.0), (3.0, 4.25, 6.0)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .decode import Frames

#: Mean absolute grey difference (0-255) between consecutive samples that starts a new shot.
SHOT_CHANGE_THRESHOLD = 28.0
#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`).
THRESHOLDS: dict[str, float] = {"shot_change_threshold": SHOT_CHANGE_THRESHOLD}


@dataclass(frozen=True)
class Keyframe:
    """A representative frame of one shot: its time and the shot's span."""

    t: float
    shot_start_s: float
    shot_end_s: float

    def to_dict(self) -> dict[str, float]:
        return {"t": self.t, "shot_start_s": self.shot_start_s, "shot_end_s": self.shot_end_s}


def shot_keyframes(frames: Frames, *, threshold: float = SHOT_CHANGE_THRESHOLD) -> list[Keyframe]:
    """One keyframe per shot, found from the sampled frames (no second decode).

    Args:
        frames: the clip's samples.
        threshold: mean absolute grey difference between consecutive samples that starts a shot.

    Returns:
        The keyframes in time order, each the sample nearest its shot's middle; none for no frames.
    """
    if len(frames) == 0:
        return []
    imgs = frames.images.astype(np.int16)
    diffs = np.abs(np.diff(imgs, axis=0)).mean(axis=(1, 2)) if len(frames) > 1 else np.zeros(0)
    starts = [0, *(int(i) + 1 for i in np.nonzero(diffs > threshold)[0])]
    end_t = frames.duration_s if frames.duration_s > 0 else float(frames.times[-1])
    out = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(frames)
        mid = (s + e - 1) // 2
        shot_end = float(frames.times[e]) if e < len(frames) else end_t
        out.append(Keyframe(t=float(frames.times[mid]), shot_start_s=float(frames.times[s]), shot_end_s=shot_end))
    return out
