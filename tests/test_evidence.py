"""Stage evidence frames: the keyframe files of ``provenance frames`` and the frames a report shows.

The keyframe files are made once per decoder: the libav worker (the default)
and the ffmpeg command line (``PROVENANCE_DECODER=ffmpeg``).
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import pytest

from provenance.decode import choose_decoder
from provenance.evidence import write_keyframes


@pytest.mark.parametrize("name", ["libav", "ffmpeg"])
def test_write_keyframes_names_jpegs_by_time(cut_clip: Path, tmp_path: Path, name: str) -> None:
    written = write_keyframes(cut_clip, tmp_path / "shots", decoder=choose_decoder(name))
    assert len(written) == 2
    for n, path in enumerate(written):
        match = re.fullmatch(r"shot(\d{3})_t(\d{4}\.\d{3})\.jpg", path.name)
        assert match, path.name
        assert int(match.group(1)) == n
        image = cv2.imread(str(path))
        assert image is not None and image.shape[1] == 640
    times = [float(re.search(r"_t([\d.]+)\.jpg", p.name).group(1)) for p in written]  # type: ignore[union-attr]
    assert times[0] < 3.0 < times[1] < 6.0
