"""Stage text, the hard cases: outlined and shadowed captions, captions over moving texture,
regular-weight Arabic, Spanish with its own data; and the stage's frames taken in the one
sampling pass (`decode.Plan.detail`), so that ``--no-text`` asks the decoder for nothing more.

Every clip is built here with ffmpeg's drawtext over real footage or a lavfi source and read by
the real Tesseract; the decoder is the real one (the recording decoder only notes what it was asked).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SAMPLES, cli_here, ffmpeg

from provenance import pipeline
from provenance import text as text_mod
from provenance.decode import Frames, Media, Plan, choose_decoder
from provenance.decode.libav import LibavDecoder
from provenance.decode.protocol import Detail, SampleReply, SampleRequest, UnprobedPlan, decode, encode, work_size
from provenance.probe import MediaFacts, probe
from provenance.query import Role, plan_for
from provenance.text import TextKind, TextReading, read_text

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
LIBERATION = Path("/usr/share/fonts/truetype/liberation")
SANS_BOLD = DEJAVU / "DejaVuSans-Bold.ttf"
SANS = DEJAVU / "DejaVuSans.ttf"
SERIF_BOLD = LIBERATION / "LiberationSerif-Bold.ttf"

pytestmark = pytest.mark.skipif(
    not (SANS_BOLD.is_file() and SANS.is_file() and SERIF_BOLD.is_file()), reason="fonts-dejavu/liberation missing"
)


#: x264 on one thread: its output then depends on its input alone. With its threads it follows their
#: number (ffmpeg's default is 1.5 a core), and the outlined caption below, encoded on 2 and 3
#: threads, read "VIELAGE" where the encode on 1 thread read "VILLAGE".
X264 = ("-c:v", "libx264", "-threads", "1", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p")


def _esc(path: Path) -> str:
    return str(path).replace(":", "\\:").replace("'", "\\'")


def _long_words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text.casefold()) if len(w) >= 4]


def _share_read(line: str, reading: TextReading) -> float:
    """The share of `line`'s words of 4+ letters found among the words read."""
    read = {w for t in reading.texts for w in _long_words(t.text)}
    wanted = _long_words(line)
    return sum(w in read for w in wanted) / len(wanted)


def _drawn(out: Path, name: str, source: list[str | Path], lines: str, style: str, font: Path, size: int) -> Path:
    """A 5 s 1280x720 clip of `source` with `lines` drawn in white, centred low, in `style`."""
    text = out / f"{name}.txt"
    text.write_text(lines, encoding="utf-8")
    extra = {
        "outline": ":borderw=3:bordercolor=black",
        "shadow": ":shadowx=3:shadowy=3:shadowcolor=black@0.9",
        "box": ":box=1:boxcolor=black@0.6:boxborderw=10",
    }[style]
    draw = (
        f"drawtext=fontfile='{_esc(font)}':textfile='{_esc(text)}':fontsize={size}:fontcolor=white"
        f":line_spacing=8:x=(w-tw)/2:y=h-th-60{extra}"
    )
    clip = out / f"{name}.mp4"
    ffmpeg(
        *source, "-t", "5", "-vf", f"scale=1280:720:flags=neighbor,setsar=1,{draw}",
        *X264, "-an", clip,
    )  # fmt: skip
    return clip


def _read(clip: Path) -> TextReading:
    """The stage as `check` runs it: its frames from the sampling pass."""
    facts = probe(clip)
    decoder = choose_decoder()
    frames = decoder.sample(clip, plan_for(Role.QUERY, text=True), facts)
    return read_text(clip, facts, decoder=decoder, frames=frames)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("text-reading")


def test_the_sample_clips_outlined_caption_is_read_whole() -> None:
    """samples/viral.mp4: white letters with a black outline, no box, over street footage; the
    caption had read "POLICE BAYMAK" (the outline's edges read as noise, words dropped as unsure)."""
    reading = _read(SAMPLES / "viral.mp4")
    captions = reading.of_kind(TextKind.CAPTION)
    assert [t.text for t in captions] == ["POLICE FLEE RIOTERS IN BAYMAK"], [t.text for t in reading.texts]
    assert captions[0].box[1] < 0.2


@pytest.mark.parametrize("style", ["outline", "shadow"])
def test_an_outlined_or_shadowed_caption_over_footage_is_read_whole(clips: Path, style: str) -> None:
    line = "SOLDIERS ENTER THE VILLAGE AT DAWN"
    source: list[str | Path] = ["-ss", "1", "-i", SAMPLES / "refs/street_cyclists.mp4"]
    reading = _read(_drawn(clips, style, source, line, style, SERIF_BOLD, 38))
    assert _share_read(line, reading) == 1.0, [t.text for t in reading.texts]


def test_a_caption_over_dense_moving_texture_is_read(clips: Path) -> None:
    """Game of life cells scaled up: every frame is full of edges that move, so the caption's band
    cannot be found by edges alone; the overlay keeps its grey level across frames, the texture does not.

    The pattern is seeded (seeds 1-4 all read both lines whole); an unseeded pattern read nothing
    once in three runs: still lifes beside the caption persist exactly as letters do.
    """
    ru, en = "ПОЛИЦИЯ БЕЖИТ ОТ ТОЛПЫ В БАЙМАКЕ", "POLICE FLEE RIOTERS IN BAYMAK"
    source: list[str | Path] = ["-f", "lavfi", "-i", "life=s=320x180:mold=10:ratio=0.4:r=25:seed=3"]
    reading = _read(_drawn(clips, "texture", source, f"{ru}\n{en}", "outline", SANS_BOLD, 38))
    assert _share_read(ru, reading) >= 0.75, [t.text for t in reading.texts]
    assert _share_read(en, reading) >= 0.75, [t.text for t in reading.texts]


def test_a_caption_over_a_cellular_automaton_is_read(clips: Path) -> None:
    """A rule-110 automaton scaled up: black and white cells, edges on about 70% of every frame, and
    at one of two grey levels, so edges persist at the same level on two frames by chance nearly
    everywhere; the caption's band is found only when persistence asks every frame pair (`BUSY_SHARE`).
    It read nothing before; now both lines are found and read in part (the frames combined still keep
    a thirty-second of the cells, and they touch the letters: docs/benchmark.md, round three)."""
    ru, en = "ПОЖАРНЫЕ ТУШАТ СКЛАД ВТОРЫЕ СУТКИ", "FIREFIGHTERS BATTLE WAREHOUSE BLAZE"
    source: list[str | Path] = ["-f", "lavfi", "-i", "cellauto=rule=110:s=320x180:r=25:random_fill_ratio=0.5:seed=5"]
    reading = _read(_drawn(clips, "automaton", source, f"{ru}\n{en}", "outline", SANS_BOLD, 40))
    captions = reading.of_kind(TextKind.CAPTION)
    assert len(captions) == 2 and all(t.box[1] > 0.7 for t in captions), [(t.text, t.kind) for t in reading.texts]
    assert _share_read(ru, reading) >= 0.4, [t.text for t in reading.texts]  # 2 of its 5 longer words
    assert _share_read(en, reading) >= 0.5, [t.text for t in reading.texts]  # 2 of 4


def test_a_ticker_is_read_where_most_of_it_shows(clips: Path) -> None:
    """A line scrolling right to left across a box: each frame shows another part, and only the part
    shown on every frame read had persisted ("BREAKING NEWS: thousands gather in"). It is read as one
    moving line on the frame where its band runs widest."""
    line = "BREAKING NEWS: thousands gather in the main square as protests continue"
    text = clips / "ticker.txt"
    text.write_text(line, encoding="utf-8")
    draw = (
        f"drawtext=fontfile='{_esc(SANS_BOLD)}':textfile='{_esc(text)}':fontsize=30:fontcolor=yellow"
        ":box=1:boxcolor=black@0.8:boxborderw=12:x=w-mod(t*200\\,w+tw):y=h-th-30"
    )
    clip = clips / "ticker.mp4"
    ffmpeg(
        "-ss", "1", "-stream_loop", "-1", "-i", SAMPLES / "refs/street_cyclists.mp4", "-t", "6",
        "-vf", f"scale=1280:720,setsar=1,{draw}", *X264, "-an", clip,
    )  # fmt: skip
    reading = _read(clip)
    moving = [t for t in reading.texts if not t.static]
    assert len(moving) == 1 and len(reading.texts) == 1, [(t.text, t.static) for t in reading.texts]
    assert _share_read(line, reading) >= 0.75, moving[0].text
    # 6 s at 200 px/s: the line's end has not scrolled in; the reading says it ran past the right edge.
    assert moving[0].cut == ("right",), (moving[0].text, moving[0].cut)


def test_a_plain_caption_over_an_automaton_of_its_own_grey_is_found_from_the_frames_combined(clips: Path) -> None:
    """Plain white letters (no outline, no box) over a rule-90 automaton whose cells are black and white:
    a letter's edge shows only where a black cell lies beside it, so no frame pair holds the band and
    nothing was found (dev5 d5x5). In the frames' minimum the letters stay white and the cells go dark."""
    ru, en = "ОБСТРЕЛ ЖИЛОГО КВАРТАЛА НОЧЬЮ", "SHELLING HITS A HOUSING BLOCK AT NIGHT"
    text = clips / "rule90.txt"
    text.write_text(f"{ru}\n{en}", encoding="utf-8")
    draw = (
        f"drawtext=fontfile='{_esc(SANS_BOLD)}':textfile='{_esc(text)}':fontsize=38:fontcolor=white"
        ":line_spacing=8:x=(w-tw)/2:y=h-th-60"
    )
    clip = clips / "rule90.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "cellauto=rule=90:s=320x180:r=25:random_fill_ratio=0.5:seed=7", "-t", "5",
        "-vf", f"scale=1280:720:flags=neighbor,setsar=1,{draw}", *X264, "-an", clip,
    )  # fmt: skip
    reading = _read(clip)
    captions = [t for t in reading.of_kind(TextKind.CAPTION) if t.box[1] > 0.7]
    assert captions, [(t.text, t.kind, t.box) for t in reading.texts]
    assert _share_read(f"{ru} {en}", reading) >= 0.4, [t.text for t in reading.texts]


def test_white_outlined_italics_over_a_light_picture_are_read(clips: Path) -> None:
    """White italic letters with a black outline over a bright sky: the letters are not the minority
    of the region's pixels, so the polarity test calls them dark; the fill of the other polarity reads them."""
    line = "Thousands queue for bread outside shops"
    font = LIBERATION / "LiberationSansNarrow-BoldItalic.ttf"
    source: list[str | Path] = ["-f", "lavfi", "-i", "color=c=0xd8dde4:s=1280x720:r=25"]
    reading = _read(_drawn(clips, "italic", source, line, "outline", font, 44))
    assert _share_read(line, reading) >= 0.75, [t.text for t in reading.texts]


def test_a_regular_weight_arabic_caption_is_read_with_arabic_data(clips: Path) -> None:
    line = "احتجاجات واسعة في العاصمة"
    source: list[str | Path] = ["-ss", "1", "-i", SAMPLES / "refs/storm_road_panzoom.mp4"]
    reading = _read(_drawn(clips, "arabic", source, line, "box", SANS, 36))
    arabic = [t for t in reading.texts if t.script == "Arabic"]
    assert arabic and arabic[0].language == "ara", [t.text for t in reading.texts]
    assert _share_read(line, reading) >= 0.75, [t.text for t in reading.texts]


def test_a_spanish_caption_is_read_with_spanish_data_and_keeps_its_accents(clips: Path) -> None:
    line = "La policía desaloja la plaza del pueblo en Málaga"
    source: list[str | Path] = ["-ss", "1", "-i", SAMPLES / "refs/animated_dinner.mp4"]
    reading = _read(_drawn(clips, "spanish", source, line, "box", SANS_BOLD, 36))
    captions = reading.of_kind(TextKind.CAPTION)
    assert captions and captions[0].language == "spa", [(t.text, t.language) for t in reading.texts]
    assert "policía" in captions[0].text.casefold() and "málaga" in captions[0].text.casefold()


def test_english_captions_stay_english() -> None:
    """A line of English whose function words other languages share too is not read again."""
    assert text_mod._latin_language("POLICE FLEE RIOTERS IN BAYMAK") is None
    assert text_mod._latin_language("Flood waters cover the city centre of the town") is None
    assert text_mod._latin_language("Des milliers de manifestants dans les rues") == "fra"
    assert text_mod._latin_language("Die Polizei räumt den Platz vor dem Rathaus") == "deu"


# -- the frames: one sampling pass --------------------------------------------------------


class RecordingDecoder(LibavDecoder):
    """The libav decoder, noting each plan it samples with and each size it grabs at."""

    def __init__(self) -> None:
        super().__init__()
        self.plans: list[Plan] = []
        self.grabs: list[tuple[int, int]] = []

    def sample(self, path: Path | str, plan: Plan, facts: MediaFacts | None = None) -> Frames:
        self.plans.append(plan)
        return super().sample(path, plan, facts)

    def sample_unprobed(self, path: Path | str, plan: Plan, **kwargs: Any) -> Any:
        self.plans.append(plan)
        return super().sample_unprobed(path, plan, **kwargs)

    def grab(self, path: Path | str, times: Sequence[float], media: Media, long_side: int) -> list[np.ndarray | None]:
        self.grabs.append((len(times), long_side))
        return super().grab(path, times, media, long_side)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> RecordingDecoder:
    decoder = RecordingDecoder()
    monkeypatch.setattr(pipeline, "choose_decoder", lambda: decoder)
    return decoder


@pytest.fixture(scope="module")
def empty_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An index of refs/tree_window.mp4 alone: viral.mp4 matches nothing in it, so only the clip is decoded."""
    folder = tmp_path_factory.mktemp("idx")
    shutil.copy(SAMPLES / "refs/tree_window.mp4", folder / "tree_window.mp4")
    url = f"sqlite:///{folder / 'index.sqlite'}"
    result = cli_here("index", "add", "--index", url, "-q", folder / "tree_window.mp4")
    assert result.code == 0, result.stderr
    return url


def test_check_reads_the_text_from_the_sampling_pass(recording: RecordingDecoder, empty_index: str) -> None:
    report = pipeline.check(SAMPLES / "viral.mp4", empty_index, keyframes=False)
    assert report.text is not None and report.text.status == "read" and report.text.frames_read >= 3
    # The query's one sampling pass asks for the detail frames; no other decode does (the features
    # channel's own sparse pass, when the index has features, asks for none).
    assert [p.detail for p in recording.plans][0] == text_mod.TEXT_DETAIL
    assert all(p.detail is None for p in recording.plans[1:])
    # Nothing grabbed at the text stage's size: the frames came with the samples.
    assert all(size != text_mod.TEXT_LONG_SIDE for _, size in recording.grabs), recording.grabs


def test_no_text_asks_the_decoder_for_nothing_more(recording: RecordingDecoder, empty_index: str) -> None:
    report = pipeline.check(SAMPLES / "viral.mp4", empty_index, keyframes=False, text=False)
    assert report.text is not None and report.text.status == "skipped"
    assert recording.plans[0] == plan_for(Role.QUERY)
    assert all(p.detail is None for p in recording.plans)
    assert recording.grabs == []


@pytest.mark.parametrize("name", ["libav", "ffmpeg"])
def test_both_decoders_take_the_same_detail_frames(name: str) -> None:
    """The detail frames are the samples at their ticks, large: the same pixels from either decoder,
    and within a few grey levels of the frame a grab at that time gives (a neighbouring frame)."""
    clip = SAMPLES / "viral.mp4"
    facts = probe(clip)
    detail = Detail(640, 1.25, 3, 24)
    frames = choose_decoder(name).sample(clip, Plan(4.0, detail=detail), facts)
    assert frames.detail is not None
    times = detail.frames_at(facts.duration_s)
    assert frames.detail.shape == (len(times), *reversed(work_size(*facts.display_size, 640)))
    assert frames.detail_times == tuple(round(k / 4.0, 3) for k in detail.ticks(facts.duration_s, 4.0))
    other = choose_decoder("ffmpeg" if name == "libav" else "libav").sample(clip, Plan(4.0, detail=detail), facts)
    assert other.detail is not None and np.array_equal(frames.detail, other.detail)
    grabbed = choose_decoder(name).grab(clip, list(frames.detail_times), Media.of(facts), 640)
    for big, rgb in zip(frames.detail, grabbed, strict=True):
        assert rgb is not None
        assert float(np.abs(big.astype(int) - rgb.mean(axis=2)).mean()) < 12


def test_a_clip_not_yet_probed_gets_its_detail_frames_too() -> None:
    clip = SAMPLES / "viral.mp4"
    facts = probe(clip)
    decoder = choose_decoder("libav")
    plan = plan_for(Role.QUERY, text=True)
    early = decoder.frames_from(decoder.sample_unprobed(clip, plan), facts)
    late = decoder.sample(clip, plan, facts)
    assert early is not None and early.detail is not None and late.detail is not None
    assert early.detail_times == late.detail_times and np.array_equal(early.detail, late.detail)


def test_detail_plans_cross_the_worker_protocol() -> None:
    detail = Detail(1280, 1.25, 3, 24)
    assert detail.ticks(10.0, 4.0) == (3, 8, 13, 18, 23, 28, 33, 38)  # 0.625 s, 1.875 s, ... rounded up
    # A long clip: at most 24 frames, evenly spread, half a step in.
    assert len(detail.frames_at(100.0)) == 24 and detail.frames_at(100.0)[0] == round(100 / 48, 3)
    request = SampleRequest(
        "/x.mp4", 4.0, 40, "mov,mp4", 100, plan_for(Role.QUERY).decoding,
        plan=UnprobedPlan(128, None, 120.0, 60.0, detail),
    )  # fmt: skip
    assert decode(encode(request)) == request
    sized = SampleRequest(
        "/x.mp4", 4.0, 40, "mov,mp4", 100, plan_for(Role.QUERY).decoding,
        size=(128, 72), detail_size=(1280, 720), detail_ticks=(2, 7),
    )  # fmt: skip
    assert decode(encode(sized)) == sized
    reply = SampleReply(3, False, 0, 3, "", None, (2, 7))
    assert decode(encode(reply)) == reply
    with pytest.raises(ValueError):
        SampleRequest("/x.mp4", 4.0, 40, "mp4", 100, plan_for(Role.QUERY).decoding, size=(8, 8), detail_ticks=(2,))
    with pytest.raises(ValueError):
        decode(encode(reply).replace(b"[2, 7]", b"[7, 2]"))
    with pytest.raises(ValueError):
        Detail(1280, 0.0, 3, 24)
