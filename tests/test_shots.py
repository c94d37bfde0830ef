"""Stage shots: cuts, fades and dissolves found on real footage cut together by ffmpeg, and the keyframes.

The clips are pieces of the sample references (`samples/refs`: a tree
through a window, a camera panning and zooming over a storm photograph,
street footage, an animated film) joined with ffmpeg's `concat` and `xfade`,
so every boundary's time is known. The detector runs on the samples `check`
takes (`evidence.clip_shots`), with the libav worker (the default) and the
ffmpeg command line (``PROVENANCE_DECODER=ffmpeg``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import cli_here, ffmpeg

from provenance.decode import Frames, choose_decoder
from provenance.evidence import clip_shots
from provenance.shots import Shot, Shots, Transition, find_shots, shot_keyframes

#: A boundary is found when it lies within this many seconds of the true one (bench/shots.py's tolerance).
TOLERANCE_S = 0.5
SIZE = "640x360"


def piece(src: Path, start: float, seconds: float, out: Path, extra: str = "") -> Path:
    """`seconds` of `src` from `start`, scaled to fill 640x360 at 25 fps (the parts a test joins)."""
    vf = f"scale=640:360:force_original_aspect_ratio=increase,crop=640:360,fps=25,setsar=1,format=yuv420p{extra}"
    ffmpeg("-ss", f"{start}", "-i", src, "-t", f"{seconds}", "-vf", vf, "-c:v", "libx264", "-preset", "veryfast", out)
    return out


def join(parts: list[Path], out: Path, steps: list[str], post: str = "") -> Path:
    """Join `parts` in order; each step is ``cut`` or an xfade ``transition:duration:offset``."""
    inputs = [a for p in parts for a in ("-i", str(p))]
    graph = [f"[{k}:v]settb=1/25[s{k}]" for k in range(len(parts))]
    label = "[s0]"
    for k, step in enumerate(steps, start=1):
        if step == "cut":
            graph.append(f"{label}[s{k}]concat=n=2:v=1:a=0,settb=1/25[j{k}]")
        else:
            kind, duration, offset = step.split(":")
            graph.append(f"{label}[s{k}]xfade=transition={kind}:duration={duration}:offset={offset},settb=1/25[j{k}]")
        label = f"[j{k}]"
    graph.append(f"{label}{post or 'null'},format=yuv420p[out]")
    ffmpeg(*inputs, "-filter_complex", ";".join(graph), "-map", "[out]", "-c:v", "libx264", "-preset", "veryfast", out)
    return out


@pytest.fixture(scope="session")
def parts(media_dir: Path, sample_refs: Path) -> dict[str, Path]:
    """Pieces of four real clips, each inside one of its shots: a tree through a window (4 s), a pan
    over a photograph (4 s), street footage (1.8 s) and an animated film (2.5 s, its last shot)."""
    return {
        "tree": piece(sample_refs / "tree_window.mp4", 1.0, 4.0, media_dir / "part-tree.mp4"),
        "storm": piece(sample_refs / "storm_road_panzoom.mp4", 2.0, 4.0, media_dir / "part-storm.mp4"),
        "street": piece(sample_refs / "street_cyclists.mp4", 5.6, 1.8, media_dir / "part-street.mp4"),
        "film": piece(sample_refs / "animated_dinner.mp4", 7.4, 2.5, media_dir / "part-film.mp4"),
    }


@pytest.fixture(scope="session")
def cuts_clip(media_dir: Path, parts: dict[str, Path]) -> Path:
    """Tree 4 s | storm pan 4 s | film 2.5 s, joined by hard cuts at 4.0 and 8.0 s."""
    return join([parts["tree"], parts["storm"], parts["film"]], media_dir / "cuts.mp4", ["cut", "cut"])


@pytest.fixture(scope="session")
def fade_clip(media_dir: Path, parts: dict[str, Path]) -> Path:
    """Tree, then a 1 s fade through black (3.0-4.0 s) to the storm pan: one boundary, a fade."""
    return join([parts["tree"], parts["storm"]], media_dir / "fade.mp4", ["fadeblack:1.0:3.0"])


@pytest.fixture(scope="session")
def white_fade_clip(media_dir: Path, parts: dict[str, Path]) -> Path:
    """The storm pan, then a 0.8 s fade through white (3.2-4.0 s) to the film: one boundary, a fade."""
    return join([parts["storm"], parts["film"]], media_dir / "fade-white.mp4", ["fadewhite:0.8:3.2"])


@pytest.fixture(scope="session")
def exposure_clip(media_dir: Path, parts: dict[str, Path]) -> Path:
    """The tree for 4 s, its light cut to 60% from 2.0 s on (a camera's exposure, a cloud): one shot."""
    return join([parts["tree"]], media_dir / "exposure.mp4", [], post="lutyuv=y='val*0.6':enable='gte(t,2)'")


@pytest.fixture(scope="session")
def dissolve_clip(media_dir: Path, parts: dict[str, Path]) -> Path:
    """The film, then a 1.2 s dissolve (1.3-2.5 s) to the tree: one boundary, a dissolve."""
    return join([parts["film"], parts["tree"]], media_dir / "dissolve.mp4", ["fade:1.2:1.3"])


@pytest.fixture(scope="session")
def flash_clip(media_dir: Path, parts: dict[str, Path]) -> Path:
    """The tree for 4 s with two frames much brighter at 2.0 s (a camera flash): one shot."""
    return join([parts["tree"]], media_dir / "flash.mp4", [], post="eq=brightness=0.6:enable='between(t,1.98,2.06)'")


@pytest.fixture(scope="session")
def pan_clip(sample_refs: Path) -> Path:
    """storm_road_panzoom.mp4: 10 s of a camera panning and zooming over one photograph, no cut."""
    return sample_refs / "storm_road_panzoom.mp4"


@pytest.fixture(scope="session")
def whip_clip(media_dir: Path, sample_refs: Path) -> Path:
    """A virtual camera over one photograph (the storm pan's first frame, zoom 1.6) that holds 2 s,
    whips from the sky down to the road in 0.32 s with no motion blur (as bench/shots.py's whips)
    and holds 2 s: one shot, though the samples either side of the whip differ as a cut's do."""
    still = media_dir / "storm-still.png"
    ffmpeg("-i", sample_refs / "storm_road_panzoom.mp4", "-frames:v", "1", still)
    y = "if(lt(on,50),0,if(lt(on,58),(on-50)/8,1))"
    vf = f"scale=1280:720,zoompan=z=1.6:x='0.5*(iw-iw/zoom)':y='({y})*(ih-ih/zoom)':d=1:s=640x360:fps=25,format=yuv420p"
    out = media_dir / "whip.mp4"
    ffmpeg("-loop", "1", "-framerate", "25", "-i", still, "-vf", vf, "-frames:v", "110", "-c:v", "libx264", out)
    return out


@pytest.fixture(scope="session")
def vertical_clip(media_dir: Path, cuts_clip: Path) -> Path:
    """cuts_clip letterboxed in a 720x1280 vertical frame: the picture is a third of its height."""
    out = media_dir / "cuts-vertical.mp4"
    vf = "scale=720:-2,pad=720:1280:(ow-iw)/2:(oh-ih)/2:black,format=yuv420p"
    ffmpeg("-i", cuts_clip, "-vf", vf, "-c:v", "libx264", "-preset", "veryfast", out)
    return out


@pytest.fixture(params=["libav", "ffmpeg"])
def decoder_name(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The decoder the test samples with."""
    monkeypatch.setenv("PROVENANCE_DECODER", request.param)
    return str(request.param)


def shots_of(path: Path, decoder_name: str) -> Shots:
    return clip_shots(path, decoder=choose_decoder(decoder_name))[0]


def boundaries(shots: Shots) -> list[tuple[float, float, str | None]]:
    """(end of the shot before, start of the shot after, transition) for each boundary."""
    s = shots.shots
    return [(s[k - 1].end_s, s[k].start_s, s[k].transition) for k in range(1, len(s))]


def test_cuts_are_found_within_tolerance(cuts_clip: Path, decoder_name: str) -> None:
    found = boundaries(shots_of(cuts_clip, decoder_name))
    assert [kind for _, _, kind in found] == [Transition.CUT, Transition.CUT]
    for (start, end, _), true in zip(found, (4.0, 8.0), strict=True):
        assert start == end
        assert abs(start - true) <= TOLERANCE_S


def test_a_fade_is_one_boundary(fade_clip: Path, decoder_name: str) -> None:
    shots = shots_of(fade_clip, decoder_name)
    (start, end, kind), *rest = boundaries(shots)
    assert not rest, boundaries(shots)
    assert kind == Transition.FADE
    assert 3.0 - TOLERANCE_S <= start < end <= 4.0 + TOLERANCE_S


def test_a_fade_through_white_is_one_boundary(white_fade_clip: Path, decoder_name: str) -> None:
    shots = shots_of(white_fade_clip, decoder_name)
    (start, end, kind), *rest = boundaries(shots)
    assert not rest, boundaries(shots)
    assert kind == Transition.FADE
    assert 3.2 - TOLERANCE_S <= start < end <= 4.0 + TOLERANCE_S


def test_a_change_of_exposure_is_no_boundary(exposure_clip: Path, decoder_name: str) -> None:
    frames = clip_shots(exposure_clip, decoder=choose_decoder(decoder_name))[1]
    # The step is in the samples: the picture is much darker after 2 s than before.
    means = frames.images.reshape(len(frames), -1).mean(axis=1)
    assert means[frames.times < 1.8].mean() - means[frames.times > 2.2].mean() > 30
    shots = shots_of(exposure_clip, decoder_name)
    assert len(shots.shots) == 1, boundaries(shots)


def test_a_dissolve_is_one_boundary(dissolve_clip: Path, decoder_name: str) -> None:
    shots = shots_of(dissolve_clip, decoder_name)
    (start, end, kind), *rest = boundaries(shots)
    assert not rest, boundaries(shots)
    assert kind == Transition.DISSOLVE
    assert 1.3 - TOLERANCE_S <= start < end <= 2.5 + TOLERANCE_S


@pytest.mark.parametrize(("clip", "span"), [("fade_clip", (3.0, 4.0)), ("dissolve_clip", (1.3, 2.5))])
def test_no_keyframe_inside_a_transition(clip: str, span: tuple[float, float], request: pytest.FixtureRequest) -> None:
    shots = shots_of(request.getfixturevalue(clip), "libav")
    times = shots.keyframe_times
    assert all(s.keyframes for s in shots.shots)  # one or more per shot
    assert not [t for t in times if span[0] <= t <= span[1]], times


def test_a_continuous_pan_and_zoom_has_no_boundary(pan_clip: Path, decoder_name: str) -> None:
    shots = shots_of(pan_clip, decoder_name)
    assert len(shots.shots) == 1, boundaries(shots)
    assert shots.shots[0].transition is None
    assert (shots.shots[0].start_s, shots.shots[0].end_s) == (0.0, pytest.approx(10.0, abs=0.05))


def test_a_whip_pan_is_no_boundary(whip_clip: Path, decoder_name: str) -> None:
    frames = clip_shots(whip_clip, decoder=choose_decoder(decoder_name))[1]
    # The whip is in the samples (else the test proves nothing): two neighbours far apart.
    small = frames.images.reshape(len(frames), -1).astype(float)
    assert np.abs(np.diff(small, axis=0)).mean(axis=1).max() > 20
    shots = shots_of(whip_clip, decoder_name)
    assert len(shots.shots) == 1, boundaries(shots)


def test_a_flash_is_no_boundary(flash_clip: Path, decoder_name: str) -> None:
    frames = clip_shots(flash_clip, decoder=choose_decoder(decoder_name))[1]
    # The flash is in the samples (else the test proves nothing): one sample far brighter than its neighbours.
    means = frames.images.reshape(len(frames), -1).mean(axis=1)
    assert (means - np.median(means)).max() > 40
    assert len(shots_of(flash_clip, decoder_name).shots) == 1


def test_cuts_of_a_vertical_letterboxed_clip_are_found(vertical_clip: Path, decoder_name: str) -> None:
    shots = shots_of(vertical_clip, decoder_name)
    assert shots.content_box is not None and shots.content_box[3] - shots.content_box[1] < 0.5
    found = boundaries(shots)
    assert len(found) == 2, found
    for (start, _, kind), true in zip(found, (4.0, 8.0), strict=True):
        assert kind == Transition.CUT and abs(start - true) <= TOLERANCE_S


def test_a_pan_that_reveals_new_things_gets_more_than_one_keyframe(pan_clip: Path) -> None:
    (shot,) = shots_of(pan_clip, "libav").shots
    assert len(shot.keyframes) >= 2
    assert len(set(shot.keyframes)) == len(shot.keyframes)


def test_keyframes_lie_in_their_shots_and_avoid_flat_frames(fade_clip: Path) -> None:
    shots, frames = clip_shots(fade_clip, decoder=choose_decoder("libav"))
    for shot in shots.shots:
        for t in shot.keyframes:
            assert shot.start_s <= t <= shot.end_s
            i = int(np.argmin(np.abs(frames.times - t)))
            assert frames.images[i].std() > 10  # not the black middle of the fade


def test_no_frames_no_shots_and_one_frame_one_shot() -> None:
    empty = Frames(times=np.zeros(0), images=np.zeros((0, 72, 128), np.uint8), fps=4.0, duration_s=0.0)
    assert find_shots(empty).shots == ()
    rng = np.random.default_rng(3)
    one = Frames(times=np.zeros(1), images=rng.integers(0, 255, (1, 72, 128), np.uint8), fps=0.0, duration_s=0.0)
    assert [(s.start_s, s.keyframes) for s in find_shots(one).shots] == [(0.0, (0.0,))]


def test_shots_round_trip_through_json(cuts_clip: Path) -> None:
    shots = shots_of(cuts_clip, "libav")
    again = Shots.from_dict(json.loads(json.dumps(shots.to_dict())))
    assert again == shots
    assert Shot.from_dict({"start_s": 1, "end_s": 2, "transition": "fade"}).transition == "fade"
    with pytest.raises(ValueError):
        Shot.from_dict({"start_s": 1, "end_s": 2, "transition": "wipe"})


def test_shot_keyframes_gives_every_keyframe_with_its_shot(cuts_clip: Path) -> None:
    shots, frames = clip_shots(cuts_clip, decoder=choose_decoder("libav"))
    keys = shot_keyframes(frames, shots.content_box)
    assert [k.t for k in keys] == shots.keyframe_times
    assert all(k.shot_start_s <= k.t <= k.shot_end_s for k in keys)


def test_frames_command_and_report_strip_give_the_same_keyframes(
    cuts_clip: Path, tmp_path: Path, sample_index: Path
) -> None:
    from provenance.pipeline import check

    out = tmp_path / "frames"
    run = cli_here("frames", cuts_clip, "-o", out)
    assert run.code == 0, run.stderr
    listing = json.loads((out / "shots.json").read_text())
    written = [k["t"] for s in listing["shots"] for k in s["keyframes"]]
    report = check(cuts_clip, str(sample_index))
    assert report.keyframes is not None and report.keyframes.shots is not None
    assert [t.t for t in report.keyframes.query] == written
    assert report.keyframes.shots.keyframe_times == written
    assert [s["transition"] for s in listing["shots"]] == [None, "cut", "cut"]


def test_frames_are_cropped_to_the_picture_at_full_resolution_and_unmirrored(
    vertical_clip: Path, tmp_path: Path
) -> None:
    import cv2

    from provenance.evidence import write_keyframes

    written = write_keyframes(vertical_clip, tmp_path / "k", decoder=choose_decoder("libav"), unmirror=True)
    listing = json.loads((tmp_path / "k" / "shots.json").read_text())
    keys = [k for s in listing["shots"] for k in s["keyframes"]]
    assert len(keys) >= 3 and (tmp_path / "k" / "contact_sheet.jpg") in written
    for key in keys:
        image = cv2.imread(str(tmp_path / "k" / key["file"]))
        flipped = cv2.imread(str(tmp_path / "k" / key["unmirrored_file"]))
        # The 720x1280 frame's picture is 720x405: the bars are gone, the width is the source's.
        assert image.shape[1] == 720 and abs(image.shape[0] - 405) <= 12, image.shape
        assert (key["width"], key["height"]) == (image.shape[1], image.shape[0])
        assert np.abs(flipped[:, ::-1].astype(int) - image.astype(int)).mean() < 3
        assert np.abs(flipped.astype(int) - image.astype(int)).mean() > 10
    sheet = cv2.imread(str(tmp_path / "k" / "contact_sheet.jpg"))
    assert sheet is not None and sheet.shape[1] >= 3 * 240


def test_frames_unmirrors_when_the_report_found_the_clip_mirrored(
    viral_clip: Path, cuts_clip: Path, sample_index: Path, tmp_path: Path
) -> None:
    # samples/viral.mp4 is a mirrored copy of refs/street_cyclists.mp4 (samples/README.md).
    report = tmp_path / "viral.json"
    assert cli_here("check", viral_clip, "--index", sample_index, "-o", report).code == 0
    codes = {a["code"] for m in json.loads(report.read_text())["matches"] for a in m["alterations"]}
    assert "mirrored" in codes
    run = cli_here("frames", viral_clip, "-o", tmp_path / "k", "--report", report)
    assert run.code == 0, run.stderr
    keys = [k for s in json.loads((tmp_path / "k" / "shots.json").read_text())["shots"] for k in s["keyframes"]]
    assert keys and all((tmp_path / "k" / k["unmirrored_file"]).is_file() for k in keys)
    # Without the report, or with the report of another clip (exit 2, nothing written), no un-mirrored copies.
    assert cli_here("frames", viral_clip, "-o", tmp_path / "plain").code == 0
    assert not list((tmp_path / "plain").glob("*_unmirrored.jpg"))
    other = cli_here("frames", cuts_clip, "-o", tmp_path / "other", "--report", report)
    assert other.code == 2 and "not of" in other.stderr
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize("budget", [None, 1])
def test_frames_are_full_size_from_the_one_decode_or_grabbed_past_the_budget(
    cuts_clip: Path, tmp_path: Path, decoder_name: str, budget: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full-size colour samples when they fit `FULL_SIZE_MAX_BYTES` (the files are the samples), else a grab:
    the same keyframes, at the source's 640x360 either way."""
    import cv2

    from provenance.decode import protocol
    from provenance.evidence import write_keyframes

    if budget is not None:
        monkeypatch.setattr(protocol, "FULL_SIZE_MAX_BYTES", budget)
    write_keyframes(cuts_clip, tmp_path / "k", decoder=choose_decoder(decoder_name))
    listing = json.loads((tmp_path / "k" / "shots.json").read_text())
    keys = [k for s in listing["shots"] for k in s["keyframes"]]
    assert [k["t"] for k in keys] == shots_of(cuts_clip, decoder_name).keyframe_times
    for key in keys:
        image = cv2.imread(str(tmp_path / "k" / key["file"]))
        assert image.shape[:2] == (360, 640) == (key["height"], key["width"])
