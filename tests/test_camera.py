"""A still picture under camera motion (`camera`), and what a match on one can prove (`verify`).

Pans and zooms over one photograph are made with ffmpeg's zoompan (as the
benchmark's references are); real moving footage is the samples'.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from provenance.camera import CameraMotion, Picture, describe_motion, register
from provenance.relation import Relation

X264 = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p")


def _pan(photo: Path, out: Path, *, seconds: float, zoom: tuple[float, float], start: tuple[float, float],
         end: tuple[float, float]) -> Path:  # fmt: skip
    """`seconds` of a pan/zoom over `photo` at 25 frames/s, 640x360 (make_set.py's expressions)."""
    from conftest import ffmpeg

    n = int(round(seconds * 25))
    (z0, z1), (x0, y0), (x1, y1) = zoom, start, end
    t = f"on/{n - 1}"
    ffmpeg(
        "-i", photo, "-vf",
        f"scale=2560:1440:flags=lanczos,zoompan=z='{z0}+({z1 - z0})*{t}':"
        f"x='({x0}+({x1 - x0})*{t})*iw-iw/zoom/2':y='({y0}+({y1 - y0})*{t})*ih-ih/zoom/2':"
        f"d={n}:s=640x360:fps=25,format=yuv420p",
        "-frames:v", str(n), *X264, out,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def pans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Pans over one photograph (the first frame of samples/refs/storm_road_panzoom.mp4, 1280x720).

    - ``reference``: 10 s, zoom 1.15 -> 1.9, the centre drifting right and down (indexed).
    - ``copy``: its 2-8 s, scaled to 480x270 and re-encoded at a low quality.
    - ``other``: another pan over the same picture (zoom 1.7 -> 1.2, drifting left), its 2-8 s:
      the same photograph, another "moment".
    - ``moving``: samples/refs/street_cyclists.mp4's 2-8 s re-encoded: real footage, indexed whole.
    """
    from conftest import ffmpeg

    root = tmp_path_factory.mktemp("pans")
    refs = Path(__file__).resolve().parent.parent / "samples" / "refs"
    photo = root / "photo.png"
    ffmpeg("-i", refs / "storm_road_panzoom.mp4", "-frames:v", "1", photo)
    reference = _pan(photo, root / "pan.mp4", seconds=10, zoom=(1.15, 1.9), start=(0.45, 0.45), end=(0.58, 0.55))
    other_full = _pan(photo, root / "other_full.mp4", seconds=10, zoom=(1.7, 1.2), start=(0.6, 0.5), end=(0.42, 0.47))
    copy, other, moving = root / "copy.mp4", root / "other.mp4", root / "moving.mp4"
    ffmpeg("-ss", "2", "-t", "6", "-i", reference, "-vf", "scale=480:270", "-c:v", "libx264", "-crf", "32", copy)
    ffmpeg("-ss", "2", "-t", "6", "-i", other_full, *X264, other)
    ffmpeg("-ss", "2", "-t", "6", "-i", refs / "street_cyclists.mp4", "-c:v", "libx264", "-crf", "30", moving)
    return {
        "reference": reference,
        "copy": copy,
        "other": other,
        "moving": moving,
        "street": refs / "street_cyclists.mp4",
    }


def _samples(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from provenance.query import Role, build_query

    q = build_query(path, role=Role.REFERENCE)
    return q.frames.times, q.frames.images


def test_a_pan_over_a_photograph_is_a_still_picture_under_camera_motion(pans: dict[str, Path]) -> None:
    motion = describe_motion(*_samples(pans["reference"]))
    assert motion.kind == Picture.STILL_PICTURE
    assert motion.still_share >= 0.8 and motion.spans and motion.spans[0][0] == 0.0
    assert motion.residual is not None and motion.residual < 2.0
    assert motion.still_within(2.0, 8.0) == 1.0


@pytest.mark.parametrize(
    ("sample", "kind"),
    [
        ("street_cyclists.mp4", Picture.MOVING),
        ("animated_dinner.mp4", Picture.MOVING),
        ("tree_window.mp4", Picture.STATIC),
    ],
)
def test_real_footage_is_not_a_still_picture(sample: str, kind: Picture) -> None:
    refs = Path(__file__).resolve().parent.parent / "samples" / "refs"
    motion = describe_motion(*_samples(refs / sample))
    assert motion.kind == kind
    assert motion.spans == ()


def test_a_slideshow_of_pans_has_its_still_spans_between_the_cuts(pans: dict[str, Path], tmp_path: Path) -> None:
    """Two pans over the photograph joined by a cut to real footage: two spans, the footage outside them."""
    from conftest import ffmpeg

    joined = tmp_path / "joined.mp4"
    ffmpeg(
        "-i", pans["reference"], "-i", pans["street"], "-filter_complex",
        "[0:v]trim=0:4,setpts=PTS-STARTPTS,fps=25,format=yuv420p[a];"
        "[1:v]trim=0:4,setpts=PTS-STARTPTS,scale=640:360,setsar=1,fps=25,format=yuv420p[b];"
        "[0:v]trim=5:9,setpts=PTS-STARTPTS,fps=25,format=yuv420p[c];[a][b][c]concat=n=3:v=1",
        *X264, joined,
    )  # fmt: skip
    motion = describe_motion(*_samples(joined))
    assert motion.kind == Picture.PARTLY_STILL_PICTURE
    assert len(motion.spans) == 2
    assert motion.still_within(0.5, 3.0) == 1.0 and motion.still_within(9.0, 11.5) == 1.0
    assert motion.still_within(5.0, 7.5) == 0.0


def test_register_finds_the_shift_between_two_frames() -> None:
    rng = np.random.default_rng(3)
    picture = rng.normal(128, 40, (90, 160)).astype(np.float32)
    import cv2

    picture = cv2.GaussianBlur(picture, (0, 0), 2.0)
    moved = cv2.warpAffine(picture, np.array([[1, 0, 3.0], [0, 1, -2.0]], dtype=np.float32), (160, 90))
    fit = register(picture[8:-8, 8:-8], moved[8:-8, 8:-8])
    assert fit is not None and fit.rigid
    assert fit.matrix[0, 2] == pytest.approx(3.0, abs=0.2) and fit.matrix[1, 2] == pytest.approx(-2.0, abs=0.2)
    assert register(np.full((90, 160), 7.0), moved) is None  # a flat frame relates nothing


def test_a_fit_not_judged_is_the_judged_fit_without_its_residual() -> None:
    # Verify's camera path needs only the map and its correlation: the same as the judged fit's, and
    # refused in the same cases (a mask leaving too little), with the residual and the move not measured.
    import cv2

    rng = np.random.default_rng(5)
    picture = cv2.GaussianBlur(rng.normal(128, 40, (72, 128)).astype(np.float32), (0, 0), 2.0)
    turned = cv2.warpAffine(picture, np.array([[0.99, -0.05, 2.5], [0.05, 0.99, -1.0]], dtype=np.float32), (128, 72))
    half = np.zeros((72, 128), dtype=bool)
    half[:, :20] = True
    for mask in (None, ~half, half):
        judged, bare = register(picture, turned, None, mask), register(picture, turned, None, mask, judged=False)
        assert (judged is None) == (bare is None)
        if judged is not None and bare is not None:
            assert np.array_equal(judged.matrix, bare.matrix) and judged.correlation == bare.correlation
            assert np.isnan(bare.residual) and np.isnan(bare.move_px) and not np.isnan(judged.residual)
    assert register(picture, turned, None, half, judged=False) is None  # too little picture: refused either way


def test_camera_motion_round_trips() -> None:
    m = CameraMotion(Picture.PARTLY_STILL_PICTURE, 20, 1, 0.4, 0.1, ((0.0, 3.5), (6.0, 9.5)), 0.52)
    assert CameraMotion.from_dict(json.loads(json.dumps(m.to_dict()))) == m
    assert "0-3.5 s" in m.sentence()
    with pytest.raises(ValueError):
        CameraMotion.from_dict({"kind": "still_picture", "spans": [[3.0, 1.0]]})


def test_another_pan_over_the_same_photograph_is_not_the_same_footage(pans: dict[str, Path], tmp_path: Path) -> None:
    """The copy repeats the reference's camera path: the same footage. The other pan shows the same
    picture at other places and zooms: never the same footage, and its report says why. Real moving
    footage is judged as before."""
    from provenance.index import SourceFacts, open_index
    from provenance.ingest import add_paths
    from provenance.pipeline import check
    from provenance.verify import MAX_PATH_DRIFT_PX, STILL_PICTURE_SENTENCE

    with open_index(tmp_path / "index.sqlite", create=True) as idx:
        add_paths([pans["reference"], pans["street"]], idx, source=SourceFacts(first_seen="2019-07-15"))
        stored = {Path(r.path).name: r for r in idx.references()}
        copy = check(pans["copy"], idx, keyframes=False)
        other = check(pans["other"], idx, keyframes=False)
        moving = check(pans["moving"], idx, keyframes=False)
    assert stored["pan.mp4"].camera is not None and stored["pan.mp4"].camera.kind == Picture.STILL_PICTURE
    assert stored["street_cyclists.mp4"].camera is not None
    assert stored["street_cyclists.mp4"].camera.kind == Picture.MOVING

    assert copy.matches and copy.matches[0].relation == Relation.SAME_FOOTAGE
    v = copy.matches[0].verification
    assert v is not None and v.path_drift_px is not None and "repeats its camera path" in v.reason
    assert copy.matches[0].reference_start_s == pytest.approx(2.0, abs=1.0)

    # The other pan is found (the picture is the same) but its camera path parts from the reference's.
    assert other.matches and all(m.relation == Relation.SAME_SCENE for m in other.matches)
    assert other.verdict.code == "same_place_as_known_footage"
    assert "does not date the clip" in other.verdict.summary
    for m in other.matches:
        assert m.verification is not None and STILL_PICTURE_SENTENCE in m.verification.reason
        assert m.verification.path_drift_px is not None and m.verification.path_drift_px > MAX_PATH_DRIFT_PX
    assert v.path_drift_px <= MAX_PATH_DRIFT_PX

    assert moving.matches and moving.matches[0].relation == Relation.SAME_FOOTAGE
    mv = moving.matches[0].verification
    assert mv is not None and mv.path_drift_px is None and "camera path" not in mv.reason


def test_an_index_made_before_the_finding_gets_it_at_check_time(pans: dict[str, Path], tmp_path: Path) -> None:
    """A reference stored without its camera finding (an older index): verify makes it from its own frames."""
    import sqlite3

    from provenance.index import open_index
    from provenance.ingest import add_paths
    from provenance.pipeline import check

    path = tmp_path / "old.sqlite"
    with open_index(path, create=True) as idx:
        add_paths([pans["reference"]], idx)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE refs SET camera = NULL")
    conn.close()
    with open_index(path) as idx:
        assert idx.references()[0].camera is None
        copy = check(pans["copy"], idx, keyframes=False)
        other = check(pans["other"], idx, keyframes=False)
    assert copy.matches and copy.matches[0].relation == Relation.SAME_FOOTAGE
    assert "repeats its camera path" in copy.matches[0].verification.reason  # type: ignore[union-attr]
    assert all(m.relation != Relation.SAME_FOOTAGE for m in other.matches)


def test_the_finding_is_stored_listed_exported_and_imported(
    pans: dict[str, Path], index_url: str, tmp_path: Path
) -> None:
    from conftest import cli_here

    from provenance.index import open_index
    from provenance.index.portable import export_index, import_index
    from provenance.ingest import add_paths

    with open_index(index_url, create=True) as idx:
        add_paths([pans["reference"]], idx)
        (ref,) = idx.references()
        assert ref.camera is not None and ref.camera.kind == Picture.STILL_PICTURE
        assert idx.get(ref.id).camera == ref.camera
        export_index(idx, tmp_path / "x.jsonl")
    line = json.loads((tmp_path / "x.jsonl").read_text().splitlines()[1])
    assert line["reference"]["camera"]["kind"] == "still_picture"
    with open_index(tmp_path / "copy.sqlite", create=True) as other:
        import_index(other, tmp_path / "x.jsonl")
        (imported,) = other.references()
        assert imported.camera == ref.camera
    listed = cli_here("index", "list", "--index", str(tmp_path / "copy.sqlite"))
    assert listed.code == 0 and "still picture under camera motion" in listed.stdout
    as_json = cli_here("index", "list", "--index", str(tmp_path / "copy.sqlite"), "--format", "json")
    assert json.loads(as_json.stdout)[0]["camera"]["kind"] == "still_picture"
