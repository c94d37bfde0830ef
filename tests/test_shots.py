"""Stage shots: shot boundaries and one keyframe per shot, from the sampled frames.

Every test here runs once per decoder: the libav worker (the default) and
the ffmpeg command line (``PROVENANCE_DECODER=ffmpeg``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.decode import extract_frames
from provenance.shots import shot_keyframes


@pytest.fixture(autouse=True, params=["libav", "ffmpeg"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The decoder `extract_frames` uses in this test."""
    monkeypatch.setenv("PROVENANCE_DECODER", request.param)
    return str(request.param)


def test_shots_of_a_clip_with_one_cut(cut_clip: Path) -> None:
    frames = extract_frames(cut_clip, fps=4.0)
    shots = shot_keyframes(frames)
    assert len(shots) == 2
    first, second = shots
    assert first.shot_start_s == 0.0
    assert first.shot_end_s == pytest.approx(3.0, abs=0.25)
    assert second.shot_start_s == pytest.approx(3.0, abs=0.25)
    assert second.shot_end_s == pytest.approx(6.0, abs=0.1)
    assert first.shot_start_s <= first.t < first.shot_end_s <= second.t
    assert set(first.to_dict()) == {"t", "shot_start_s", "shot_end_s"}


def test_one_continuous_shot(testsrc_clip: Path) -> None:
    assert len(shot_keyframes(extract_frames(testsrc_clip, fps=4.0))) == 1
