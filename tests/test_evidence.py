"""Stage evidence frames: the keyframe files of ``provenance frames`` and the frames a report shows.

The keyframe files are made once per decoder: the libav worker (the default)
and the ffmpeg command line (``PROVENANCE_DECODER=ffmpeg``).
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from provenance.decode import choose_decoder
from provenance.evidence import write_keyframes


@pytest.mark.parametrize("name", ["libav", "ffmpeg"])
def test_write_keyframes_names_jpegs_by_time(cut_clip: Path, tmp_path: Path, name: str) -> None:
    written = write_keyframes(cut_clip, tmp_path / "shots", decoder=choose_decoder(name))
    assert [p.name for p in written[-2:]] == ["shots.json", "contact_sheet.jpg"]
    keys = written[:-2]
    shots = []
    for path in keys:
        match = re.fullmatch(r"shot(\d{3})_t(\d{4}\.\d{3})\.jpg", path.name)
        assert match, path.name
        shots.append(int(match.group(1)))
        image = cv2.imread(str(path))
        assert image is not None and image.shape[:2] == (240, 320)  # the source's full resolution
    assert sorted(set(shots)) == [0, 1]
    times = [float(re.search(r"_t([\d.]+)\.jpg", p.name).group(1)) for p in keys]  # type: ignore[union-attr]
    assert times == sorted(times) and times[0] < 3.0 < times[-1] < 6.0


def test_the_report_types_load_no_decoder() -> None:
    # report/ serialises evidence's records; importing it starts no worker and loads neither decoder nor PyAV.
    import subprocess
    import sys

    code = "import provenance.report, sys; print(sorted(m for m in sys.modules if m.startswith('provenance.decode') or m == 'av'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == "['provenance.decode', 'provenance.decode.protocol']"


def test_frames_near_the_end_are_taken_before_it(testsrc_clip: Path) -> None:
    # A time at or past the end asks for the frame END_MARGIN_S before it, which exists.
    from provenance.decode import Media
    from provenance.evidence import END_MARGIN_S, grab_frames
    from provenance.probe import probe

    media = Media.of(probe(testsrc_clip))
    for name in ("libav", "ffmpeg"):
        decoder = choose_decoder(name)
        late = grab_frames(decoder, testsrc_clip, [media.duration_s, media.duration_s + 5.0], media=media)
        assert all(f is not None for f in late)
        last = decoder.grab(testsrc_clip, [media.duration_s - END_MARGIN_S], media, 320)
        assert all(np.array_equal(a, b) for a, b in zip(late, last * 2, strict=True))  # type: ignore[arg-type]


@pytest.mark.parametrize("views", [True, False], ids=["views stored", "index made before views"])
def test_the_reports_reference_frames_are_taken_in_verifys_decode(
    excerpt_query: Path, sample_index: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, views: bool
) -> None:
    # A copy verify leaves where the matcher put it: its reference is decoded once. With the views
    # stored at ingest verify decodes nothing and that one decode is the report's frame pairs; in an
    # index made before them, verify's window and the report's pairs are one pass. Either way the
    # report shows the frames a decode of their own gives.
    import shutil
    import sqlite3

    from provenance import check
    from provenance.decode import libav
    from provenance.evidence import make_keyframes
    from provenance.index import open_index
    from provenance.probe import probe

    index = tmp_path / "index.sqlite"
    shutil.copy(sample_index, index)
    if not views:
        with sqlite3.connect(index) as db:
            db.execute("DROP TABLE view_chunks")
    asked: list[object] = []
    real = libav.grab
    monkeypatch.setattr(libav, "grab", lambda req, timeout: asked.append(req) or real(req, timeout=timeout))
    with open_index(f"sqlite:///{index}") as idx:
        report = check(excerpt_query, index=idx)
    (match,) = report.matches
    assert Path(match.reference.path).name == "animated_dinner.mp4"
    assert match.relation == "same_footage"
    grabs = [r for r in asked if Path(r.path).name == "animated_dinner.mp4"]  # type: ignore[attr-defined]
    assert len(grabs) == 1 and len(grabs[0].more) == (0 if views else 1)  # type: ignore[attr-defined]
    assert report.keyframes is not None
    shown = report.keyframes.matches[0].pairs
    assert len(shown) >= 2 and all(p.reference is not None for p in shown)
    monkeypatch.setattr(libav, "grab", real)
    own = make_keyframes(excerpt_query, probe(excerpt_query), [], report.matches, decoder=choose_decoder("libav"))
    assert [p.reference.jpeg_b64 for p in own.matches[0].pairs] == [p.reference.jpeg_b64 for p in shown]  # type: ignore[union-attr]


def test_a_window_within_one_already_decoded_is_not_decoded_again(
    sample_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Verify asks again for a reference's window when it checks a segment at another speed or moment:
    # within a short reference both windows reach its ends, and the second is the first's frames.
    from provenance.decode import libav
    from provenance.evidence import KeptFrames, reference_window
    from provenance.index import open_index

    with open_index(f"sqlite:///{sample_index}") as idx:
        ref = next(r for r in idx.references() if Path(r.path).name == "animated_dinner.mp4")
    asked: list[object] = []
    real = libav.grab
    monkeypatch.setattr(libav, "grab", lambda req, timeout: asked.append(req) or real(req, timeout=timeout))
    decoder = choose_decoder("libav")
    kept = KeptFrames(report=False)
    first = reference_window(decoder, ref, -10.0, 20.0, fps=4.0, long_side=128, kept=kept)
    again = reference_window(decoder, ref, -5.0, 30.0, fps=4.0, long_side=128, kept=kept)
    alone = reference_window(decoder, ref, -5.0, 30.0, fps=4.0, long_side=128)
    assert first is not None and again is not None and alone is not None
    assert len(asked) == 2  # the first window and the one taken without `kept`
    assert np.array_equal(again[0], alone[0]) and np.array_equal(again[1], alone[1])
    later = reference_window(decoder, ref, 4.1, 30.0, fps=5.0, long_side=128, kept=kept)  # other ticks: decoded
    assert later is not None and len(asked) == 3
