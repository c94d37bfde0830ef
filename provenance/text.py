"""Stage text: words burned into the picture (captions, handles, clocks), with their times and boxes.

A caption is often the claim itself, a handle or a station's bug names a
source, and a CCTV or dashcam clock says when the footage was filmed. This
stage finds where text is, reads it offline with Tesseract (through
tesserocr, in this process) and says what kind of text it is::

    >>> reading = read_text("viral.mp4", probe("viral.mp4"), decoder=choose_decoder())
    >>> [(t.kind, t.text, t.language) for t in reading.texts]
    [('clock', '2019-06-14 18:22:07', 'eng'), ('caption', 'ПОЛИЦИЯ БЕЖИТ ОТ ТОЛПЫ В БАЙМАКЕ', 'rus'), ...]
    >>> reading.texts[0].clock.dates
    ('2019-06-14',)

How (measured in docs/tuning.md and docs/benchmark.md): a few frames spread
over the clip, `TEXT_LONG_SIDE` pixels long, come with the clip's samples
(`TEXT_DETAIL`, asked of the sampling pass: no second decode); in each,
stroke edges (a morphological gradient of at least `EDGE_LEVEL`) are joined
into line-shaped bands; edges at the same place and grey level on
consecutive frames are overlays (burned-in text does not move with the
footage, so this is what finds them and keeps OCR off the rest of the
picture; on a busy frame, dense texture of few grey levels, more frame pairs
are asked, `BUSY_SHARE`; a scrolling ticker keeps its band too, and is read
once where most of it shows, `MOVING_SHARE`). Each region is cut out,
stretched to full contrast, made dark-on-light and scaled so a line is about
`TARGET_LINE_PX` high, and read on a few of the frames where it shows; an
unsure reading is tried again from the letters' fill alone (an outline or a
shadow stripped, in either polarity when the first reading is under
`POLARITY_SURE`) and from the region's frames combined (moving texture
faded); the readings vote. Words below `MIN_WORD_CONFIDENCE` and lines below
`MIN_LINE_CONFIDENCE` are dropped, so texture read as letters rarely reaches
a report. The script of each line (Latin, Cyrillic, Arabic) picks the
language data: Latin and Cyrillic are read together, a Cyrillic line with
Ukrainian letters is read again with Ukrainian data, a region read unsurely
is tried with Arabic, and a Latin line whose function words are Spanish,
French or German is read again with that language's data.

The clock's date is parsed here, from the numeric forms camera overlays use
(``2019-06-14``, ``14.06.2019``, ``06/14/2019``); where day and month could be
swapped, both dates are kept. Holding it against a claim is the metadata
stage's job (`provenance.metadata`), which ranks after the claims.
"""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .decode.protocol import Detail
from .errors import ToolMissingError
from .hashing import Rect, area, overlap_area

if TYPE_CHECKING:
    from .decode import Decoder, Frames
    from .probe import MediaFacts

#: Long side of the frames read, pixels (≥ 640): burned-in captions of 720p and 1080p footage keep
#: 20+ px letters at 1280; smaller sizes lost the small-text cases (docs/tuning.md).
TEXT_LONG_SIDE = 1280
#: Seconds of clip per frame grabbed for text (> 0), between `MIN_TEXT_FRAMES` and `MAX_TEXT_FRAMES`
#: frames a clip: a caption shown 2.5 s is on two frames (docs/tuning.md).
TEXT_FRAME_SPACING_S = 1.25
MIN_TEXT_FRAMES = 3
MAX_TEXT_FRAMES = 24
#: Grey-level step (0-255) of the morphological gradient that counts as a letter's edge: a white
#: caption on a dark box steps ~150, a 45%-opaque handle on sky ~50 (docs/tuning.md).
EDGE_LEVEL = 40
#: Frames (≥ 1) on which a band must be at the same place to be an overlay; a still image has one.
PERSIST_FRAMES = 2
#: Share (0-1) of the frames showing a band on which its pixels must be edges to count as persisting.
PERSIST_SHARE = 0.6
#: Most grey-level change (0-255) of an edge pixel between consecutive frames read for it to be the
#: same overlay's edge; and the share (0-1) of frames on which a pixel that is an edge at changing
#: levels (a ticker, a see-through handle over moving footage) must be one to persist (docs/tuning.md).
STABLE_LEVEL = 30
ALWAYS_SHARE = 0.8
#: A block too tall for a line is searched for rows whose letters run, joined, at least this share
#: (0-1) of its width: a caption joined to still texture around it is its longest rows (docs/tuning.md).
LONG_ROW_SHARE = 0.3
#: Least share (0-1) of persistent edge pixels around a pixel, over a letter's width along the line
#: and 9 px across, for it to be part of a line of text rather than texture (docs/tuning.md).
DENSE_SHARE = 0.15
#: Lowest line height read, pixels at `TEXT_LONG_SIDE` (smaller bands are noise); highest, a share
#: of the frame's height (taller bands are picture, not a line of text).
MIN_LINE_PX = 9
MAX_LINE_SHARE = 0.2
#: Tallest region read as one block, a share of the frame's height: a taller one is a caption
#: grown into the picture's own edges (a static shot), read once for sparse text (docs/tuning.md).
MAX_BLOCK_SHARE = 0.3
#: A region is scaled so a line is about this high for Tesseract (it reads best at 30-50 px
#: capitals), never more than `MAX_UPSCALE` times.
TARGET_LINE_PX = 44
MAX_UPSCALE = 3.0
#: Most regions read a clip (> 0): the best text-shaped ones first, so a textured static shot
#: cannot cost more than this many OCR runs times `READS_PER_REGION`.
MAX_REGIONS = 10
#: Frames (≥ 1) a region is read on; the readings vote (first, middle and last frame showing it).
READS_PER_REGION = 3
#: Mean word confidence (0-100) of every line of a region above which it is not read on more frames
#: nor prepared another way (`_Way`).
CONFIDENT_LINE = 92.0
#: A reading prepared another way replaces the first when it says this many times more (≥ 1;
#: `_line_score`: letters weighed by confidence), so a tie keeps the plain frame (docs/tuning.md).
BETTER_READING = 1.1
#: Least confidence (0-100) of a region's best plain line for the letters' polarity to stand untried
#: the other way (`_Way.FILL_OTHER`): white outlined or shadowed letters over light pictures, polarity
#: wrong, read 0-86 on dev; a box caption's unsure line 91 (docs/tuning.md).
POLARITY_SURE = 88.0
#: Fewest frames (≥ 2) showing a region for its frames to be combined (`_Way.STILL`), and most combined.
STILL_MIN_FRAMES = 3
STILL_FRAMES = 8
#: Least and most share (0-1) of a region's pixels that keep their grey over its frames (within
#: `STABLE_LEVEL`) for their grey, against the rest's, to say the letters' polarity when frames are
#: combined: letters cover at most about a third of their crop; dev automata 0.11-0.27, life 0.6 (docs/tuning.md).
STEADY_MIN_SHARE = 0.05
STEADY_MAX_SHARE = 0.3
#: Least mean spread (0-255) of a region's grey over its frames for them to be combined at all: a static
#: street's regions spread 1.4-3.5 (dev5), regions over moving or noisy upscaled footage 9.9+ (docs/tuning.md).
STILL_MIN_CHANGE = 8.0
#: Narrowest region, in line heights (> 0), read other ways when its first reading is unsure: a few
#: letters' worth; narrower blobs are mostly texture, and each way costs an OCR run (docs/tuning.md).
VARIANT_MIN_WIDTH = 4.0
#: Fewest grey-class crossings per line height of a region's width (`_strokes_per_line`) for a region
#: whose plain frame read nothing to be read the other ways: text read on dev, dev2, dev4 2.10+, the
#: static street's kerbs, tape and rooflines 0.45-1.17 (docs/tuning.md).
MIN_STROKES_PER_LINE = 1.5
#: Tesseract's word confidence (0-100) below which a word is dropped, and the mean confidence of a
#: line's words below which the line is dropped: set on the dev cases so texture reads as nothing.
MIN_WORD_CONFIDENCE = 55.0
MIN_LINE_CONFIDENCE = 72.0
#: Fewest letters or digits a line must have to be reported, and fewest letters of a line read with
#: Arabic data (tried on regions nothing else read, where texture gave 2-3 letter "words").
MIN_LINE_CHARS = 3
ARABIC_MIN_LETTERS = 6
#: Least share (0-1) of a line read with Arabic data that must be Arabic letters (not digits, marks
#: or Latin): texture read as Arabic is letters among digits and marks (docs/tuning.md).
ARABIC_LETTER_SHARE = 0.85
#: Fewest Arabic letters a word of such a line must have on average (> 0): texture read as Arabic
#: is runs of 1-3 letters (means 2.0-2.8 on dev2), real lines' words 4-8 (means 5-7) (docs/tuning.md).
ARABIC_MEAN_WORD = 3.5
#: Fewest words (≥ 1) of a line read with Arabic data: a fast pan over an automaton read as one made-up
#: 7-letter word, twice (dev5's kind, round four); captions on every split have 3-7 words (docs/tuning.md).
ARABIC_MIN_WORDS = 2
#: A line read with Arabic data that repeats one letter more than this many times running, or one
#: letter pair three times running ("لالالا"), is strokes of texture: Arabic spelling never does.
ARABIC_MAX_RUN = 2
_STROKES = re.compile(rf"(\w)\1{{{ARABIC_MAX_RUN}}}|(\w\w)\2\2")
#: Most share (0-1) of the frame whose edges persist before persistence asks more consecutive frame
#: pairs at one level (up to all): captioned footage 0.01-0.05 on dev, dense texture 0.13-0.58.
BUSY_SHARE = 0.1
#: Most share (0-1) of a region's edge pixels at one grey level over three consecutive frames for its
#: line to be moving (a ticker's letters pass: 0.22-0.23 on dev; still captions 0.80-1.0).
MOVING_SHARE = 0.5
#: Least normalised correlation (0-1) of a moving line's middle with a neighbouring frame's band,
#: shifted along it, for the line to be a ticker: dev tickers 0.998, texture bands 0.09-0.14.
TICKER_MATCH = 0.8
#: Two readings (0-1 similarity of their characters) at least this alike are the same text.
SAME_TEXT_SIMILARITY = 0.6
#: A short text (≤ 3 words) shown on this share of the clip or more in a corner is a channel bug.
BUG_MIN_SHARE = 0.8
#: Fewest function words of one language (≥ 1) a Latin line must hold, more than of English and of
#: any other, to be read again with that language's data (docs/tuning.md).
LANGUAGE_MIN_WORDS = 2
#: The frames this stage reads, asked of the sampling pass (`decode.Plan.detail`): no second decode.
TEXT_DETAIL = Detail(TEXT_LONG_SIDE, TEXT_FRAME_SPACING_S, MIN_TEXT_FRAMES, MAX_TEXT_FRAMES)
#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`).
THRESHOLDS: dict[str, float] = {
    "text_long_side": TEXT_LONG_SIDE,
    "text_frame_spacing_s": TEXT_FRAME_SPACING_S,
    "min_text_frames": MIN_TEXT_FRAMES,
    "max_text_frames": MAX_TEXT_FRAMES,
    "edge_level": EDGE_LEVEL,
    "persist_frames": PERSIST_FRAMES,
    "persist_share": PERSIST_SHARE,
    "stable_level": STABLE_LEVEL,
    "always_share": ALWAYS_SHARE,
    "dense_share": DENSE_SHARE,
    "long_row_share": LONG_ROW_SHARE,
    "min_line_px": MIN_LINE_PX,
    "max_line_share": MAX_LINE_SHARE,
    "max_block_share": MAX_BLOCK_SHARE,
    "target_line_px": TARGET_LINE_PX,
    "max_upscale": MAX_UPSCALE,
    "max_regions": MAX_REGIONS,
    "reads_per_region": READS_PER_REGION,
    "confident_line": CONFIDENT_LINE,
    "better_reading": BETTER_READING,
    "polarity_sure": POLARITY_SURE,
    "still_min_frames": STILL_MIN_FRAMES,
    "still_frames": STILL_FRAMES,
    "still_min_change": STILL_MIN_CHANGE,
    "steady_min_share": STEADY_MIN_SHARE,
    "steady_max_share": STEADY_MAX_SHARE,
    "variant_min_width": VARIANT_MIN_WIDTH,
    "min_strokes_per_line": MIN_STROKES_PER_LINE,
    "min_word_confidence": MIN_WORD_CONFIDENCE,
    "min_line_confidence": MIN_LINE_CONFIDENCE,
    "min_line_chars": MIN_LINE_CHARS,
    "arabic_min_letters": ARABIC_MIN_LETTERS,
    "arabic_letter_share": ARABIC_LETTER_SHARE,
    "arabic_mean_word": ARABIC_MEAN_WORD,
    "arabic_max_run": ARABIC_MAX_RUN,
    "arabic_min_words": ARABIC_MIN_WORDS,
    "busy_share": BUSY_SHARE,
    "moving_share": MOVING_SHARE,
    "ticker_match": TICKER_MATCH,
    "same_text_similarity": SAME_TEXT_SIMILARITY,
    "bug_min_share": BUG_MIN_SHARE,
    "language_min_words": LANGUAGE_MIN_WORDS,
}
#: Where Tesseract's language data is looked for when neither ``PROVENANCE_TESSDATA`` nor
#: ``TESSDATA_PREFIX`` names a folder (Debian 12's, then other distributions').
TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
#: Language data the stage needs: Latin and Cyrillic read together, then Ukrainian and Arabic.
LANGUAGES = ("eng", "rus", "ukr", "ara")
#: Language data a Latin line is read again with when its words say it is that language
#: (`_latin_language`), each where it is installed: Spanish, French, German.
LATIN_LANGUAGES = ("spa", "fra", "deu")
#: What to run when the engine or its data is missing.
INSTALL_HINT = (
    "install tesseract-ocr with its language data (apt-get install tesseract-ocr tesseract-ocr-rus "
    "tesseract-ocr-ukr tesseract-ocr-ara) and tesserocr (pip install 'provenance[text]'), "
    "or set PROVENANCE_TESSDATA; --no-text skips the stage"
)


class TextKind(StrEnum):
    """What a text on the picture is."""

    #: Words laid over the footage to say what it shows (often the claim itself).
    CAPTION = "caption"
    #: An @name, a URL or a channel's bug: names a source (a lead, never proof).
    HANDLE = "handle"
    #: A date or time laid over the picture by a camera (CCTV, dashcam) or an editor.
    CLOCK = "clock"
    #: Anything else read (signs, shop fronts, plates): reported, not interpreted.
    OTHER = "other"


class TextStatus(StrEnum):
    """Whether the stage ran."""

    READ = "read"
    SKIPPED = "skipped"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Clock:
    """A date and time read on screen: the dates it can mean (two when day and month could swap)."""

    dates: tuple[str, ...]
    time: str | None
    form: str

    def to_dict(self) -> dict[str, Any]:
        return {"dates": list(self.dates), "time": self.time, "form": self.form}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Clock:
        return cls(tuple(str(d) for d in data.get("dates", ())), data.get("time"), str(data.get("form", "")))


@dataclass(frozen=True)
class ScreenText:
    """One line of text read on the picture.

    `box` is (x0, y0, x1, y1) as shares of the frame's width and height;
    `start_s`/`end_s` the span of the frames it was seen on (half a frame
    spacing either side); `confidence` Tesseract's mean word confidence
    (0-100); `reads` the frames whose readings agreed on it; `static` False
    for a moving line (a ticker, read on one frame); `cut` the frame's edges
    (``left``, ``right``) a moving line ran past on the frame read, so that
    only the part shown then was read (a ticker still scrolling in when the
    clip ends); `language` the language data that read it; `script` what its
    letters are; `in_reference` whether the matched reference shows the same
    words (None: not compared).
    """

    text: str
    kind: str
    script: str
    language: str
    confidence: float
    start_s: float
    end_s: float
    box: tuple[float, float, float, float]
    reads: int = 1
    static: bool = True
    clock: Clock | None = None
    in_reference: bool | None = None
    cut: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.text.split())

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "words": list(self.words),
            "kind": str(self.kind),
            "script": self.script,
            "language": self.language,
            "confidence": self.confidence,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "box": list(self.box),
            "reads": self.reads,
            "static": self.static,
            "clock": self.clock.to_dict() if self.clock else None,
            "in_reference": self.in_reference,
            "cut": list(self.cut),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScreenText:
        box = tuple(float(v) for v in data["box"])
        if len(box) != 4:
            raise ValueError(f"a text's box has 4 numbers, not {len(box)}")
        return cls(
            text=str(data["text"]),
            kind=str(data["kind"]),
            script=str(data.get("script", "")),
            language=str(data.get("language", "")),
            confidence=float(data.get("confidence", 0.0)),
            start_s=float(data["start_s"]),
            end_s=float(data["end_s"]),
            box=(box[0], box[1], box[2], box[3]),
            reads=int(data.get("reads", 1)),
            static=bool(data.get("static", True)),
            clock=Clock.from_dict(data["clock"]) if data.get("clock") else None,
            in_reference=data.get("in_reference"),
            cut=tuple(str(c) for c in data.get("cut") or ()),
        )


@dataclass(frozen=True)
class TextReading:
    """What the text stage gives: the texts read, how, and what it cost."""

    status: str
    texts: tuple[ScreenText, ...] = ()
    engine: str | None = None
    frames_read: int = 0
    regions: int = 0
    seconds: float = 0.0
    note: str | None = None
    reference_frames_read: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "engine": self.engine,
            "frames_read": self.frames_read,
            "regions": self.regions,
            "seconds": self.seconds,
            "note": self.note,
            "reference_frames_read": self.reference_frames_read,
            "texts": [t.to_dict() for t in self.texts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextReading:
        return cls(
            status=str(data["status"]),
            texts=tuple(ScreenText.from_dict(t) for t in data.get("texts") or ()),
            engine=data.get("engine"),
            frames_read=int(data.get("frames_read", 0)),
            regions=int(data.get("regions", 0)),
            seconds=float(data.get("seconds", 0.0)),
            note=data.get("note"),
            reference_frames_read=int(data.get("reference_frames_read", 0)),
        )

    def of_kind(self, kind: TextKind | str) -> tuple[ScreenText, ...]:
        return tuple(t for t in self.texts if t.kind == kind)


def skipped(note: str) -> TextReading:
    """The record of a check that did not read text (``--no-text``, or the engine missing)."""
    return TextReading(TextStatus.SKIPPED, note=note)


# -- the engine ------------------------------------------------------------------------

_local = threading.local()
_engine_lock = threading.Lock()
_tessdata: str | None = None


def tessdata_dir() -> str:
    """The folder holding Tesseract's language data with every language of `LANGUAGES`.

    Raises:
        ToolMissingError: tesserocr is not installed, or no folder has the data.
    """
    global _tessdata
    if _tessdata is not None:
        return _tessdata
    import os

    try:
        import tesserocr
    except ImportError as exc:
        raise ToolMissingError(f"text stage unavailable: the tesserocr package is missing; {INSTALL_HINT}") from exc
    wanted = [os.environ.get("PROVENANCE_TESSDATA"), os.environ.get("TESSDATA_PREFIX"), *TESSDATA_DIRS]
    for folder in wanted:
        if not folder:
            continue
        for candidate in (Path(folder), Path(folder) / "tessdata"):
            have = {p.stem for p in candidate.glob("*.traineddata")} if candidate.is_dir() else set()
            if set(LANGUAGES) <= have:
                _tessdata = str(candidate)
                return _tessdata
    del tesserocr
    shown = [w for w in wanted if w]
    raise ToolMissingError(
        f"text stage unavailable: no Tesseract language data for {'+'.join(LANGUAGES)} in {', '.join(shown)}; "
        f"{INSTALL_HINT}"
    )


def engine_version() -> str:
    """``tesseract 5.5.4`` (the library tesserocr runs), for the report.

    Raises:
        ToolMissingError: tesserocr or the language data is missing.
    """
    tessdata_dir()
    import tesserocr

    return str(tesserocr.tesseract_version()).split("\n", 1)[0].strip()


def _api(lang: str) -> Any:
    """This thread's Tesseract instance for `lang` (made once: loading a model costs ~0.1 s)."""
    apis = getattr(_local, "apis", None)
    if apis is None:
        apis = _local.apis = {}
    if lang not in apis:
        import tesserocr

        with _engine_lock:
            path = tessdata_dir()
        api = tesserocr.PyTessBaseAPI(path=path, lang=lang, psm=tesserocr.PSM.SINGLE_BLOCK)
        # The region is made dark-on-light here; Tesseract's own inverted retry would read texture twice.
        api.SetVariable("tessedit_do_invert", "0")
        apis[lang] = api
    return apis[lang]


@dataclass(frozen=True)
class _Line:
    text: str
    confidence: float
    box: tuple[int, int, int, int]  # in the region's pixels, before scaling back
    words: int
    #: Words read below `MIN_WORD_CONFIDENCE` and left out of `text`.
    dropped: int = 0


def _ocr(image: np.ndarray, lang: str, *, sparse: bool = False) -> list[_Line]:
    """Tesseract's lines of a prepared grey region, each with its kept words' mean confidence.

    Words below `MIN_WORD_CONFIDENCE` are dropped from a line. Arabic lines
    keep Tesseract's whole-line text (its word texts come out in visual,
    left-to-right order) when every word is kept.
    """
    import tesserocr
    from PIL import Image

    api = _api(lang)
    api.SetPageSegMode(tesserocr.PSM.SPARSE_TEXT if sparse else tesserocr.PSM.SINGLE_BLOCK)
    api.SetImage(Image.fromarray(image))
    api.Recognize()
    out: list[_Line] = []
    if lang == "ara":
        # Tesseract's word and line iterators give right-to-left words in visual order; its page text is logical.
        confs = [c for c in api.AllWordConfidences() if c >= MIN_WORD_CONFIDENCE]
        page = [" ".join(x.split()) for x in (api.GetUTF8Text() or "").splitlines() if x.strip()]
        h, w = image.shape[:2]
        dropped = sum(c < MIN_WORD_CONFIDENCE for c in api.AllWordConfidences())
        return [_Line(x, sum(confs) / len(confs), (0, 0, w, h), len(x.split()), dropped) for x in page] if confs else []
    it = api.GetIterator()
    if it is None:
        return out
    level_word, level_line = tesserocr.RIL.WORD, tesserocr.RIL.TEXTLINE
    lines: list[tuple[str, tuple[int, int, int, int], list[tuple[str, float]]]] = []
    for word in tesserocr.iterate_level(it, level_word):
        if word.IsAtBeginningOf(level_line) or not lines:
            try:
                whole = word.GetUTF8Text(level_line) or ""
            except RuntimeError:  # tesserocr's "No text returned" for an empty line
                whole = ""
            lines.append((" ".join(whole.split()), word.BoundingBox(level_line) or (0, 0, 0, 0), []))
        try:
            w = word.GetUTF8Text(level_word)
        except RuntimeError:
            continue
        if w and w.strip():
            lines[-1][2].append((w.strip(), float(word.Confidence(level_word))))
    for whole, box, words in lines:
        kept = [(w, c) for w, c in words if c >= MIN_WORD_CONFIDENCE]
        if not kept:
            continue
        text = whole if lang == "ara" and len(kept) == len(words) else " ".join(w for w, _ in kept)
        out.append(_Line(text, sum(c for _, c in kept) / len(kept), box, len(kept), len(words) - len(kept)))
    return out


# -- clocks ----------------------------------------------------------------------------

_TIME = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:.;]([0-5]\d)(?:[:.;]([0-5]\d))?(?:\s*([AaPp])\.?[Mm]\.?)?(?!\d)")
_MONTHS = {m: i for i, m in enumerate(("jan feb mar apr may jun jul aug sep oct nov dec").split(), 1)}
_YMD = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/.]([01]?\d)[-/.]([0-3]?\d)(?!\d)")
_XXY = re.compile(r"(?<!\d)([0-3]?\d)([-/.])([0-3]?\d)\2((?:19|20)\d\d)(?!\d)")
_NAMED = re.compile(r"(?<!\w)([0-3]?\d)[-\s/.]?([A-Za-z]{3})[A-Za-z]*[-\s/.,]+((?:19|20)\d\d)(?!\d)")
_NAMED_FIRST = re.compile(r"(?<![A-Za-z])([A-Za-z]{3})[A-Za-z]*[-\s/.]+([0-3]?\d)[-\s/.,]+((?:19|20)\d\d)(?!\d)")


def _day(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def parse_clock(text: str) -> Clock | None:
    """The date and time a camera overlay shows, from the numeric forms cameras write.

    ``2019-06-14 18:22:07``, ``2019/06/14``, ``14.06.2019 18:22`` (day first
    with dots), ``06/14/2019 06:22:07 PM``, ``14-JUN-2019``. Where day and month
    could be either (``06/07/2019``), both dates are given, day-first first.

    Args:
        text: a line read on screen.

    Returns:
        The `Clock`, or None when the line holds no date and no time.
    """
    # OCR reads a date's dot as a comma between digits ("22.04,2015"); no clock writes one there.
    s = re.sub(r"(?<=\d),(?=\d)", ".", text.strip())
    dates: list[str] = []
    form = ""
    m = _YMD.search(s)
    if m:
        d = _day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        dates, form = ([d] if d else []), "year-month-day"
    elif (m := _XXY.search(s)) is not None:
        a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        day_first, month_first = _day(y, b, a), _day(y, a, b)
        if sep == "." or month_first is None:
            dates, form = ([day_first] if day_first else []), "day-month-year"
        elif day_first is None:
            dates, form = [month_first], "month-day-year"
        else:
            dates = [day_first] if day_first == month_first else [day_first, month_first]
            form = "day-month-year or month-day-year" if len(dates) == 2 else "day-month-year"
    elif (m := _NAMED.search(s)) is not None and m.group(2).lower() in _MONTHS:
        d = _day(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
        dates, form = ([d] if d else []), "day month-name year"
    elif (m := _NAMED_FIRST.search(s)) is not None and m.group(1).lower() in _MONTHS:
        d = _day(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
        dates, form = ([d] if d else []), "month-name day year"
    rest = s[m.end() :] + " " + s[: m.start()] if m else s
    t = _TIME.search(rest)
    clock_time = None
    if t and (t.group(3) or t.group(4) or dates):
        hour = int(t.group(1))
        if t.group(4):
            if hour > 12:
                t = None
            else:
                hour = hour % 12 + (12 if t.group(4).lower() == "p" else 0)
        if t is not None:
            clock_time = f"{hour:02d}:{t.group(2)}" + (f":{t.group(3)}" if t.group(3) else "")
    if not dates and clock_time is None:
        return None
    return Clock(tuple(d for d in dates if d), clock_time, form or "time only")


# -- kinds -----------------------------------------------------------------------------

_HANDLE = re.compile(
    r"(?<!\w)@[\w.]{2,}|https?://\S+|\bwww\.\S+|\bt\.me/\S+|\b[\w-]{2,}\.(?:com|ru|ua|net|org|tv|news|info|me|io)\b",
    re.I,
)


def kind_of(text: str, *, box: tuple[float, float, float, float], share: float, frames: int) -> TextKind:
    """The kind of a line from its words, its place and how long it is shown.

    Args:
        text: the line.
        box: where it is, as shares of the frame.
        share: the share of the clip it is shown for.
        frames: the frames read; a still picture (fewer than `MIN_TEXT_FRAMES`) shows no line persisting,
            so a short line in its corner is no channel's bug by its place alone.
    """
    if parse_clock(text) is not None and sum(c.isdigit() for c in text) >= 4:
        return TextKind.CLOCK
    if _HANDLE.search(text):
        return TextKind.HANDLE
    words = [w for w in text.split() if sum(c.isalnum() for c in w) >= 2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    corner = (cx < 0.25 or cx > 0.75) and (cy < 0.2 or cy > 0.8)
    # A channel's bug is a name: a short line in a corner that is mostly digits is a clock's piece or a number.
    named = sum(c.isalpha() for c in text) > sum(c.isdigit() for c in text)
    persists = frames >= MIN_TEXT_FRAMES and share >= BUG_MIN_SHARE
    if len(words) <= 3 and len(text) <= 20 and corner and persists and named:
        return TextKind.HANDLE
    if len(words) >= 2:
        return TextKind.CAPTION
    return TextKind.OTHER


# -- scripts ---------------------------------------------------------------------------

# Letters that look alike in Latin and Cyrillic capitals: Tesseract reading both picks either.
_CYR_TO_LAT = str.maketrans("АВЕКМНОРСТУХаеорсух", "ABEKMHOPCTYXaeopcyx")
_LAT_TO_CYR = str.maketrans("ABEKMHOPCTYXaeopcyx", "АВЕКМНОРСТУХаеорсух")
_UKRAINIAN = set("ІіЇїЄєҐґ")


def script_of(text: str) -> str:
    """The script most of a text's letters are in: ``Latin``, ``Cyrillic``, ``Arabic``, or ``Common`` (none)."""
    counts: Counter[str] = Counter()
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        for script in ("LATIN", "CYRILLIC", "ARABIC"):
            if name.startswith(script):
                counts[script.title()] += 1
    return counts.most_common(1)[0][0] if counts else "Common"


def _one_script(line: str) -> str:
    """Words made only of look-alike letters written in the line's main script (``ВАУМАК`` in a Latin line)."""
    main = script_of(line)
    if main not in ("Latin", "Cyrillic"):
        return line
    table = _CYR_TO_LAT if main == "Latin" else _LAT_TO_CYR
    out = []
    for word in line.split():
        if script_of(word) != main and word.translate(table) != word and script_of(word.translate(table)) == main:
            word = word.translate(table)
        out.append(word)
    return " ".join(out)


# Ukrainian data reads a bold "і" between Cyrillic letters as "!", "|" or "1" (dev cases: "м!ст"); at
# a word's end "!" stays (it may be one).
_UKR_I = re.compile(r"(?<=[а-яіїєґ])[!|1](?=[а-яіїєґ])")
# Marks Tesseract reads from a box's edge or a letter's outline at a line's ends (``> فيضانات``, ``| POLICE``).
_JUNK_ENDS = re.compile(r"^[\s>|<_~=•·»«\\/\-—]+(?=\w)|(?<=\w)[\s>|<_~=•·»«\\/\-—]+$")
_SPLIT_HANDLE = re.compile(r"@[\w.]+(?: [\w.]+){1,2}")


def _handle_joined(line: str) -> str:
    """An @handle read in pieces joined by underscores: a faint ``_`` at the baseline reads as a space
    (``@ural_news 24``), and a handle has no spaces. Only a line that is the handle alone (≤ 3 pieces)."""
    if _SPLIT_HANDLE.fullmatch(line) and len(line) <= 32:
        return line.replace(" ", "_")
    return line


def _looks_ukrainian(line: str) -> bool:
    """A Cyrillic line with Ukrainian letters, or what Russian data makes of "і" inside Cyrillic words (i, !, |)."""
    if any(c in _UKRAINIAN for c in line):
        return True
    return any(script_of(w) == "Cyrillic" and re.search(r"[iI]|(?<=\w)[!|](?=\w)", w) for w in line.split())


# -- finding and reading regions -------------------------------------------------------


@dataclass(frozen=True)
class _Region:
    x0: int
    y0: int
    x1: int
    y1: int
    line_px: float
    present: tuple[int, ...]  # indices of the frames it shows on
    score: float
    #: A moving line (a ticker): the frame on which its band runs widest and the band's x-range
    #: there; the line is read on that frame alone, over that range (`_moving_band`).
    moving: tuple[int, int, int] | None = None


def _stroke_masks(greys: Sequence[np.ndarray]) -> np.ndarray:
    """Per frame, edges of letter strokes joined along the line (N, H, W) bool."""
    import cv2

    k3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    join = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1))
    out = []
    for g in greys:
        grad = cv2.morphologyEx(g, cv2.MORPH_GRADIENT, k3)
        bw = (grad >= EDGE_LEVEL).astype(np.uint8)
        out.append(cv2.morphologyEx(bw, cv2.MORPH_CLOSE, join) > 0)
    return np.stack(out)


def find_regions(greys: Sequence[np.ndarray]) -> list[_Region]:
    """Regions where text is likely: line-shaped bands of stroke edges that stay put across frames.

    Args:
        greys: the frames read, grey, all one size.

    Returns:
        At most `MAX_REGIONS` regions, the most text-like first.
    """
    import cv2

    masks = _stroke_masks(greys)
    n, h, w = masks.shape
    need = min(n, PERSIST_FRAMES)
    count = masks.sum(axis=0)
    held = np.ones((h, w), bool)  # edges at one level over three frames or more: not a passing ticker
    if n == 1:
        persistent = masks[0].astype(np.uint8)
    else:
        # An overlay's edge is an edge at the same grey level on consecutive frames; texture moving
        # under it gives edges at the same place by chance, at other levels. A band with edges on
        # nearly every frame (a ticker's letters passing) persists whatever their level.
        stable = np.zeros((h, w), np.int16)
        for k in range(n - 1):
            same = np.abs(greys[k].astype(np.int16) - greys[k + 1].astype(np.int16)) <= STABLE_LEVEL
            stable += masks[k] & masks[k + 1] & same
        always = max(need, math.ceil(ALWAYS_SHARE * n))
        held = stable >= 2
        persistent = ((stable >= need - 1) | (count >= always)).astype(np.uint8)
        # Dense texture of few grey levels (a cellular automaton, a binary pattern) makes edges at the
        # same place and level on two frames everywhere by chance; an overlay's hold on every pair.
        pairs = need - 1
        busy = bool(persistent.mean() > BUSY_SHARE)
        while persistent.mean() > BUSY_SHARE and pairs < n - 1:
            pairs += 1
            persistent = (stable >= pairs).astype(np.uint8)
        if busy and n >= STILL_MIN_FRAMES:
            # Plain letters over fine texture of their own grey (white cells of an automaton) have an edge
            # at a place only on the frames where the texture beside it differs: no pair holds them. Over
            # the frames combined (the minimum: a light overlay stays light, the texture goes dark; the
            # maximum for a dark one) their edges are whole, the texture's a sparse speckle.
            # Only runs of edges a few letters long along the line: the texture's leftover speckle is
            # short strokes, which would give OCR runs on small blobs of clips without text.
            stack = np.stack(greys)
            word = cv2.getStructuringElement(cv2.MORPH_RECT, (4 * MIN_LINE_PX, 1))
            for combined in _stroke_masks([stack.min(axis=0), stack.max(axis=0)]):
                if combined.mean() <= 2 * BUSY_SHARE:
                    persistent |= cv2.morphologyEx(combined.astype(np.uint8), cv2.MORPH_OPEN, word)
    # Letters' edges are dense along their line; texture's chance agreements are scattered strokes
    # that would join a caption to the picture around it.
    dense = cv2.blur(persistent.astype(np.float32), (max(9, w // 60), 9)) >= DENSE_SHARE
    persistent &= dense.astype(np.uint8)
    # Join letters into lines and lines into blocks (a two-line caption is one region).
    line_gap = cv2.getStructuringElement(cv2.MORPH_RECT, (max(9, w // 60), 7))
    blocks = cv2.dilate(persistent, line_gap)
    count_cc, labels, stats, _ = cv2.connectedComponentsWithStats(blocks, connectivity=8)
    regions: list[_Region] = []

    def consider(x: int, y: int, bw: int, bh: int, inner: np.ndarray, split: bool) -> None:
        """A block as a region when it is line-shaped; a block too tall for a line (a caption joined to
        texture around it) is searched once for its long rows, a line's letters joined along it."""
        if bh < MIN_LINE_PX or bw < 2 * MIN_LINE_PX or bw < bh * 1.2:
            return
        fill = float(inner.mean())
        if fill < 0.08:
            return
        line_px = _line_height(inner, float(bh))
        if line_px > MAX_LINE_SHARE * h and split:
            closed = cv2.morphologyEx(inner.astype(np.uint8), cv2.MORPH_CLOSE, line_gap)
            long = max(8 * MIN_LINE_PX, int(LONG_ROW_SHARE * bw))
            rows = cv2.morphologyEx(closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (long, 1)))
            # A line's letters run joined along its top and its foot but not always through its middle
            # (a clock's dots and colons): its long rows are joined across a gap of up to twice a least line.
            rows = cv2.morphologyEx(
                rows, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 2 * MIN_LINE_PX))
            )
            found, sub_labels, sub_stats, _ = cv2.connectedComponentsWithStats(
                cv2.dilate(rows, line_gap), connectivity=8
            )
            for j in range(1, found):
                sx, sy, sw, sh, _ = (int(v) for v in sub_stats[j])
                part = inner[sy : sy + sh, sx : sx + sw] & (sub_labels[sy : sy + sh, sx : sx + sw] == j)
                consider(x + sx, y + sy, sw, sh, part, False)
            return
        if line_px < MIN_LINE_PX or line_px > MAX_LINE_SHARE * h:
            return
        # The frames it shows on: most of its persistent edge pixels are edges there too.
        on = inner.sum()
        present = tuple(k for k in range(n) if (masks[k, y : y + bh, x : x + bw] & inner).sum() >= PERSIST_SHARE * on)
        if not present:
            return
        # Text is dense in edges along its line and has gaps between lines and letters.
        score = fill * min(1.0, bw / (4 * line_px)) * len(present)
        moving = None
        if n > 2 and float(held[y : y + bh, x : x + bw][inner].mean()) < MOVING_SHARE:
            moving = _moving_band(greys, masks[:, y : y + bh], (x, y, x + bw, y + bh), line_px)
        regions.append(_Region(x, y, x + bw, y + bh, line_px, present, score, moving))

    for i in range(1, count_cc):
        x, y, bw, bh, _area = (int(v) for v in stats[i])
        inner = persistent[y : y + bh, x : x + bw].astype(bool) & (labels[y : y + bh, x : x + bw] == i)
        consider(x, y, bw, bh, inner, True)
    regions.sort(key=lambda r: -r.score)
    kept: list[_Region] = []
    for r in regions:  # a piece of a stronger moving line's band is read with it
        if not any(m.moving and _piece_of(r, m) for m in kept):
            kept.append(r)
    return kept[:MAX_REGIONS]


def _moving_band(
    greys: Sequence[np.ndarray], band: np.ndarray, box: tuple[int, int, int, int], line_px: float
) -> tuple[int, int, int] | None:
    """Where a moving line shows most: the frame on which the run of columns with edges through the
    region's rows, gaps under two line heights bridged, is widest (a ticker's text entering or
    leaving shows in part on the others), and that run's x-range; None unless the run's middle half
    is found again on a neighbouring frame, shifted along the line (`TICKER_MATCH`), and the picture
    beside it is not shifted alike: texture whose edges came and went by chance is not a ticker, nor
    is a pan's picture."""
    import cv2

    x0, y0, x1, y1 = box
    best: tuple[int, int, int] | None = None
    for k in range(band.shape[0]):
        runs = _runs(np.asarray(band[k].any(axis=0)))
        merged: list[list[int]] = []
        for a, b in runs:
            if merged and a - merged[-1][1] < 2 * line_px:
                merged[-1][1] = b
            else:
                merged.append([a, b])
        for a, b in merged:
            if a < x1 and b > x0 and (best is None or b - a > best[2] - best[1]):
                best = (k, a, b)
    if best is None or best[2] - best[1] <= x1 - x0:
        return None
    k, a, b = best
    quarter = (b - a) // 4
    template = greys[k][y0:y1, a + quarter : b - quarter]
    # The picture beside the line (a line's height above it, or below at the top of the frame).
    bh = y1 - y0
    py0 = y0 - bh if y0 >= bh else y1
    beside = greys[k][py0 : py0 + bh, a + quarter : b - quarter]
    for j in (k - 1, k + 1):
        if 0 <= j < len(greys):
            strip = greys[j][max(0, y0 - 4) : y1 + 4]
            _, match, _, (at, _) = cv2.minMaxLoc(cv2.matchTemplate(strip, template, cv2.TM_CCOEFF_NORMED))
            if match < TICKER_MATCH or abs(at - (a + quarter)) < line_px / 2:
                continue
            # A pan moves the picture beside the line by the same step: then it is footage, not a ticker.
            shifted = greys[j][py0 : py0 + bh, at : at + beside.shape[1]]
            if shifted.shape == beside.shape and beside.std() > 1:
                same = float(cv2.matchTemplate(shifted, beside, cv2.TM_CCOEFF_NORMED).max())
                if same >= TICKER_MATCH:
                    continue
            return best
    return None


def _piece_of(region: _Region, moving: _Region) -> bool:
    """Whether a region is a piece of a moving line's band: on its rows and within its widest run."""
    assert moving.moving is not None
    _, a, b = moving.moving
    rows = min(region.y1, moving.y1) - max(region.y0, moving.y0)
    return rows > 0.5 * (region.y1 - region.y0) and region.x0 >= a and region.x1 <= b


def _line_height(inner: np.ndarray, default: float) -> float:
    """A block's line height: the median height of its runs of rows with edges, each run weighed by its
    edge pixels, so a speck of texture one or two rows high beside a line cannot pull it below a letter's."""
    runs = _runs(np.asarray(inner.any(axis=1)))
    if not runs:
        return default
    heights = np.array([b - a for a, b in runs], float)
    mass = np.array([inner[a:b].sum() for a, b in runs], float)
    order = np.argsort(heights)
    cumulative = np.cumsum(mass[order])
    return float(heights[order][int(np.searchsorted(cumulative, cumulative[-1] / 2))])


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    out, start = [], None
    for i, f in enumerate(list(flags) + [False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i))
            start = None
    return out


class _Way(StrEnum):
    """How a region's pixels are made ready for Tesseract (`_prepare`)."""

    #: One frame, stretched to full contrast, dark letters on light.
    PLAIN = "plain"
    #: One frame, only the letters' fill kept (the extreme grey class): strips an outline or a shadow.
    FILL = "fill"
    #: The region's frames combined (a light overlay's minimum, a dark one's maximum): a background
    #: moving under the overlay fades, the overlay stays (then stretched as `PLAIN`).
    STILL = "still"
    #: `STILL`, then only the fill kept as `FILL`.
    STILL_FILL = "still_fill"
    #: `FILL` of the other grey extreme: light letters over a light picture with a dark shadow or
    #: outline are not the minority of the region's pixels (`_light_letters` calls them dark).
    FILL_OTHER = "fill_other"
    #: `STILL_FILL` of the other grey extreme, as `FILL_OTHER`.
    STILL_FILL_OTHER = "still_fill_other"


def _light_letters(crop: np.ndarray) -> bool:
    """Whether a region's letters are light: letters are the minority of its pixels (Otsu's two classes)."""
    import cv2

    _, otsu = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return bool((otsu > 0).mean() < 0.5)


def _strokes_per_line(crop: np.ndarray, line_px: float) -> float:
    """How often a region's rows cross from one grey class to the other (Otsu's two), per line height
    of its width: the 75th percentile over its rows, so a row through the letters' middles counts and
    the gap of a two-line block does not. Letters cross twice a stroke, several strokes a line height
    wide whatever their size or polarity; a kerb, a tape or a roofline runs along the line and crosses
    rarely. In line heights, not pixels: no letter size is assumed (docs/tuning.md)."""
    import cv2

    if crop.size == 0:
        return 0.0
    _, two = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    crossings = np.count_nonzero(np.diff(two, axis=1), axis=1)
    return float(np.percentile(crossings, 75)) / max(1.0, crop.shape[1] / max(1.0, line_px))


def _prepare(crop: np.ndarray, line_px: float, *, fill: bool = False, flip: bool = False) -> tuple[np.ndarray, float]:
    """A region made for Tesseract: full contrast, dark letters on light, a line ~`TARGET_LINE_PX` high.

    With `fill`, only the darkest grey class of the dark-letter picture is
    kept, black on white (Otsu's threshold taken again within the darker
    class): a white letter's black outline or shadow, and the picture
    behind it, turn white, the letter's fill black. With `flip`, the letters
    are taken to be of the other polarity than `_light_letters` says.
    """
    import cv2

    lo, hi = np.percentile(crop, (2, 98))
    stretched = np.clip((crop.astype(np.float32) - lo) * (255.0 / max(1.0, hi - lo)), 0, 255).astype(np.uint8)
    if _light_letters(stretched) != flip:
        stretched = 255 - stretched
    scale = min(MAX_UPSCALE, max(1.0, TARGET_LINE_PX / max(1.0, line_px)))
    if scale > 1.0:
        stretched = cv2.resize(stretched, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if fill:  # after scaling: the letters' edges stay smooth (binarised first, they come out stepped)
        level, _ = cv2.threshold(stretched, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        darker = stretched[stretched <= level]
        if darker.size > 16:
            inner, _ = cv2.threshold(darker.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            stretched = np.where(stretched <= inner, 0, 255).astype(np.uint8)
            stretched = _without_picture(stretched, line_px * scale)
    pad = int(0.3 * TARGET_LINE_PX)
    return cv2.copyMakeBorder(stretched, pad, pad, pad, pad, cv2.BORDER_REPLICATE), scale


def _without_picture(binary: np.ndarray, line_px: float) -> np.ndarray:
    """A region's fill (black on white) without the picture's dark patches: a black blob that touches the
    crop's edge and is wider than three line heights or taller than one and a half is picture (the
    crop keeps a margin around its line; a letter, or italic letters run together, fit in it)."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats((binary == 0).astype(np.uint8), connectivity=8)
    h, w = binary.shape
    out = binary.copy()
    for i in range(1, count):
        x, y, bw, bh, _ = (int(v) for v in stats[i])
        edge = x == 0 or y == 0 or x + bw == w or y + bh == h
        if edge and (bw > 3 * line_px or bh > 1.5 * line_px):
            out[labels == i] = 255
    return out


@dataclass(frozen=True)
class _Read:
    frame: int
    text: str
    confidence: float
    language: str
    box: tuple[int, int, int, int]  # in frame pixels
    #: Words of the line read too unsurely to keep.
    dropped: int = 0
    #: Read from the region's frames combined (`_Way.STILL`): a ticking clock's seconds are several at once.
    combined: bool = False


def _crop_box(region: _Region, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The region with a margin of a third of a line, inside the frame."""
    h, w = shape[:2]
    m = int(max(4, 0.35 * region.line_px))
    return max(0, region.x0 - m), max(0, region.y0 - m), min(w, region.x1 + m), min(h, region.y1 + m)


def _still(
    greys: Sequence[np.ndarray], region: _Region, box: tuple[int, int, int, int], *, flip: bool = False
) -> np.ndarray:
    """The region over the frames showing it (up to `STILL_FRAMES`), combined: the minimum where the
    letters are light, the maximum where they are dark. The overlay is at the same pixels on every
    frame and keeps its level; a background moving under it goes dark (or light) around the letters."""
    x0, y0, x1, y1 = box
    frames = _spread(region.present, STILL_FRAMES)
    stack = np.stack([greys[k][y0:y1, x0:x1] for k in frames])
    lo, hi = stack.min(axis=0), stack.max(axis=0)
    # Where only a line's letters keep their grey on every frame (a texture moving everywhere else),
    # they are lighter than what moves around them for a light overlay (the minimum keeps it), darker
    # for a dark one: one frame's majority cannot tell over a texture of the letters' own grey. Where
    # more keeps still (dead cells, a still part of the picture), the middle frame's letters decide.
    steady = (hi.astype(np.int16) - lo) <= STABLE_LEVEL
    if STEADY_MIN_SHARE <= steady.mean() <= STEADY_MAX_SHARE:
        light = float(hi[steady].mean()) > float(hi[~steady].mean() + lo[~steady].mean()) / 2
    else:
        light = _light_letters(greys[region.present[len(region.present) // 2]][y0:y1, x0:x1])
    return lo if light != flip else hi


def _pixels(greys: Sequence[np.ndarray], region: _Region, frame: int, way: _Way) -> np.ndarray:
    """The region's pixels as `way` takes them: one frame's, or the frames' combined."""
    x0, y0, x1, y1 = box = _crop_box(region, greys[frame].shape)
    if way in (_Way.STILL, _Way.STILL_FILL, _Way.STILL_FILL_OTHER):
        return _still(greys, region, box, flip=way == _Way.STILL_FILL_OTHER)
    return greys[frame][y0:y1, x0:x1]


def _read_region(
    greys: Sequence[np.ndarray], region: _Region, frame: int, way: _Way = _Way.PLAIN, *, try_arabic: bool = True
) -> list[_Read]:
    """The lines Tesseract reads in one region of one frame (prepared `way`), each in its script's language
    data; Arabic data is tried on an unsure reading unless `try_arabic` is False (another way will try it)."""
    h = greys[frame].shape[0]
    x0, y0, _, _ = _crop_box(region, greys[frame].shape)
    fill = way in (_Way.FILL, _Way.STILL_FILL, _Way.FILL_OTHER, _Way.STILL_FILL_OTHER)
    flip = way in (_Way.FILL_OTHER, _Way.STILL_FILL_OTHER)
    image, scale = _prepare(_pixels(greys, region, frame, way), region.line_px, fill=fill, flip=flip)
    pad = int(0.3 * TARGET_LINE_PX)
    sparse = region.y1 - region.y0 > MAX_BLOCK_SHARE * h
    lines = _ocr(image, "eng+rus", sparse=sparse)
    language = "eng+rus"
    if any(_looks_ukrainian(_one_script(line.text)) for line in lines):  # "MicT": look-alikes of "міст"
        lines, language = _ocr(image, "ukr", sparse=sparse), "ukr"
    good = [ln for ln in lines if _keep(ln)]
    # Arabic is tried on the letters' fill: the dev splits' Arabic captions read there whenever they read
    # at all, never only from a plain frame, frames combined unfilled, or the other polarity's fill.
    if _weak(good) and try_arabic and way in (_Way.PLAIN, _Way.FILL, _Way.STILL_FILL):
        arabic = [ln for ln in _ocr(image, "ara", sparse=sparse) if _keep(ln, arabic=True)]
        if arabic and _line_score(arabic) > _line_score(good):
            good, language = arabic, "ara"
    if language == "eng+rus" and good and script_of(" ".join(ln.text for ln in good)) == "Latin":
        other = _latin_language(" ".join(ln.text for ln in good))
        if other is not None:
            again = [ln for ln in _ocr(image, other, sparse=sparse) if _keep(ln)]
            if again:
                good, language = again, other
    out = []
    for ln in good:
        bx0, by0, bx1, by1 = ln.box
        box = (
            int(x0 + (bx0 - pad) / scale),
            int(y0 + (by0 - pad) / scale),
            int(x0 + (bx1 - pad) / scale),
            int(y0 + (by1 - pad) / scale),
        )
        # A line centred in the crop's margin is the cut-off edge of the line or box beside the
        # region (a two-line caption's next line shows its ascenders there), not a line of this one.
        if not region.y0 <= (box[1] + box[3]) / 2 <= region.y1:
            continue
        text = _handle_joined(_one_script(_JUNK_ENDS.sub("", ln.text)))
        if not text:
            continue
        if language == "ukr":
            text = _UKR_I.sub("і", text)
        combined = way in (_Way.STILL, _Way.STILL_FILL, _Way.STILL_FILL_OTHER)
        out.append(_Read(frame, text, ln.confidence, _language_of(text, language), box, ln.dropped, combined))
    return out


def _weak(lines: Sequence[_Line]) -> bool:
    """Whether a reading is unsure: no line kept, or one below `CONFIDENT_LINE`."""
    return not lines or min(ln.confidence for ln in lines) < CONFIDENT_LINE


def _sure(reads: Sequence[_Read]) -> bool:
    """Whether a region's reading needs no other: every line at `CONFIDENT_LINE` or more, no word left
    out, no date that no calendar has (`_impossible_date`: a digit misread, however sure the engine)."""
    return bool(reads) and all(
        r.confidence >= CONFIDENT_LINE and not r.dropped and not _impossible_date(r.text) for r in reads
    )


# Three groups of digits in a camera's date form, year first or last, whatever their values.
_DATE_SHAPED = re.compile(r"(?<!\d)(?:\d{4}([-/.])\d{1,2}\1\d{1,2}|\d{1,2}([-/.])\d{1,2}\2\d{4})(?!\d)")


def _impossible_date(text: str) -> bool:
    """Whether a line holds a date in a camera's form that no calendar has (``91/18/2019``, ``19-16-2016``):
    a digit misread (a dotted or slashed zero read as 9 or 8), never what a clock shows."""
    for m in _DATE_SHAPED.finditer(re.sub(r"(?<=\d),(?=\d)", ".", text)):
        clock = parse_clock(m.group())
        if clock is None or not clock.dates:
            return True
    return False


def _dates_lost(before: Sequence[_Read], after: Sequence[_Read]) -> bool:
    """Whether a reading prepared another way turns a date the first reading had into one no calendar has."""
    return any(_impossible_date(r.text) for r in after) and not any(_impossible_date(r.text) for r in before)


def _line_score(lines: Sequence[_Line] | Sequence[_Read]) -> float:
    """How much a reading says: its letters and digits, each weighed by its line's confidence and by
    the share of the line's words read surely enough to keep (texture reads as many unsure words)."""
    total = 0.0
    for ln in lines:
        kept = len(ln.text.split())
        total += ln.confidence / 100.0 * sum(c.isalnum() for c in ln.text) * kept / max(1, kept + ln.dropped)
    return total


def _keep(line: _Line, *, arabic: bool = False) -> bool:
    """Whether a line read is text: confident, mostly letters and digits, long enough.

    A line read with Arabic data (tried where Latin and Cyrillic read
    nothing sure, `_weak`) must be Arabic letters, `ARABIC_MIN_LETTERS` of
    them at least and `ARABIC_LETTER_SHARE` of its characters.
    """
    chars = sum(c.isalnum() for c in line.text)
    if arabic:
        letters = sum(unicodedata.name(c, "").startswith("ARABIC") and c.isalpha() for c in line.text)
        # Texture read with Arabic data comes out as short letter runs among digits and marks.
        if letters < ARABIC_MIN_LETTERS or letters < ARABIC_LETTER_SHARE * len(line.text.replace(" ", "")):
            return False
        if letters < ARABIC_MEAN_WORD * len(line.text.split()):  # texture: one- and two-letter "words"
            return False
        words = [w for w in line.text.split() if any(unicodedata.name(c, "").startswith("ARABIC") for c in w)]
        if len(words) < ARABIC_MIN_WORDS:  # a lone "word" of texture (marks beside it are no words)
            return False
        if _STROKES.search(line.text):  # "ااا", "لالالا": strokes of texture
            return False
    return (
        line.confidence >= MIN_LINE_CONFIDENCE
        and chars >= MIN_LINE_CHARS
        and chars >= 0.5 * len(line.text.replace(" ", ""))
    )


def _language_of(text: str, data: str) -> str:
    """The one language data a line's script says read it (``eng+rus`` → ``rus`` for Cyrillic)."""
    script = script_of(text)
    if script == "Arabic":
        return "ara"
    if script == "Cyrillic":
        return "ukr" if data.startswith("ukr") else "rus"
    return data if data in LATIN_LANGUAGES else "eng"


# Short function words of each language, as English data reads them (accents may be lost); a word of
# two languages counts for both. Letters only one of them writes count too.
_FUNCTION_WORDS = {
    "eng": frozenset("the of and to in is for on with at by from as are was were this that an be it".split()),
    "spa": frozenset(
        "el la los las de del que en y con por para una un es se su sus al lo como mas pero este esta "
        "entre cuando muy sin sobre tambien hasta hay donde desde durante tras ante segun".split()
    ),
    "fra": frozenset(
        "le la les de des du et en un une est que qui dans pour sur par pas au aux ce ces se ne il elle "
        "sont avec plus son sa ses ont mais ou nous leur cette apres avant entre sans sous contre depuis".split()
    ),
    "deu": frozenset(
        "der die das den dem des und ist nicht mit fur auf ein eine einer einem einen im zu von vor nach "
        "bei aus sich wird werden wurde sind hat haben auch als am uber unter gegen durch noch nur".split()
    ),
}
_OWN_LETTERS = {"spa": set("ñÑ¿¡"), "fra": set("çÇœŒèÈêÊëËîÎôÔûÛ"), "deu": set("ßäÄöÖüÜ")}


def _latin_language(line: str) -> str | None:
    """The language of `LATIN_LANGUAGES` a Latin line is in, by its function words and letters, when
    its data is installed; None for English or when unsure (`LANGUAGE_MIN_WORDS`)."""
    folded = unicodedata.normalize("NFKD", line.casefold())
    words = re.findall(r"[a-z]+", "".join(c for c in folded if not unicodedata.combining(c)))
    hits = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()}
    for lang, letters in _OWN_LETTERS.items():
        hits[lang] += LANGUAGE_MIN_WORDS * any(c in letters for c in line)
    best = max(LATIN_LANGUAGES, key=lambda lang: hits[lang])
    others = [hits[lang] for lang in hits if lang != best]
    if hits[best] < LANGUAGE_MIN_WORDS or hits[best] <= max(others) or not _installed(best):
        return None
    return best


def _installed(lang: str) -> bool:
    """Whether Tesseract's data for `lang` is in the stage's language folder."""
    return (Path(tessdata_dir()) / f"{lang}.traineddata").is_file()


def _similarity(a: str, b: str) -> float:
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a.casefold(), b.casefold()).ratio()


def _vote(reads: list[_Read]) -> list[list[_Read]]:
    """Readings of one region grouped into texts: alike readings (`SAME_TEXT_SIMILARITY`) at overlapping lines."""
    groups: list[list[_Read]] = []
    for r in sorted(reads, key=lambda r: -r.confidence):
        for g in groups:
            top = g[0]
            overlap = min(r.box[3], top.box[3]) - max(r.box[1], top.box[1])
            lower = min(r.box[3] - r.box[1], top.box[3] - top.box[1])  # a line box grown over junk is taller
            if overlap > 0.4 * lower and _similarity(r.text, top.text) >= SAME_TEXT_SIMILARITY:
                g.append(r)
                break
        else:
            groups.append([r])
    return groups


def _agreed(groups: list[list[_Read]]) -> list[list[_Read]]:
    """One reading per line: of two groups read at the same place (boxes overlapping by half or
    more), the one read on fewer frames (then the one that says less, `_line_score`) is a misreading and is dropped."""

    def strength(g: list[_Read]) -> tuple[int, float]:
        return len(g), _line_score([_chosen(g)])

    kept: list[list[_Read]] = []
    for g in sorted(groups, key=strength, reverse=True):
        if all(_box_overlap(_chosen(g).box, _chosen(k).box) < 0.5 for k in kept):
            kept.append(g)
    return kept


def _chosen(group: list[_Read]) -> _Read:
    """The reading a group agrees on: the most frequent text, then one whose date a calendar has (a
    ticking clock's readings all differ), then the one that says most (`_line_score`: a reading that
    lost words to low confidence says less)."""
    counts = Counter(r.text for r in group)
    return max(group, key=lambda r: (counts[r.text], not _impossible_date(r.text), _line_score([r])))


def read_frames(
    times: Sequence[float], frames: Sequence[np.ndarray], *, duration_s: float, spacing_s: float
) -> tuple[list[ScreenText], int]:
    """The texts on a clip's frames (RGB or grey, one size), with their spans and kinds.

    Args:
        times: each frame's time, seconds.
        frames: the frames.
        duration_s: the clip's length (spans are clipped to it).
        spacing_s: the time between frames (a text is seen half of it either side of its frames).

    Returns:
        The texts, top of the picture first, and the number of regions read.
    """
    greys = [f if f.ndim == 2 else _grey(f) for f in frames]
    if not greys:
        return [], 0
    h, w = greys[0].shape
    regions = find_regions(greys)
    texts: list[ScreenText] = []
    for region in regions:
        reads = _reads_of(greys, region)
        for group in _agreed(_vote(reads)):
            best = _chosen(group)
            # The span is where the region shows (its band persists), not only the frames read.
            start = max(0.0, times[min(region.present)] - spacing_s / 2)
            end = min(duration_s, times[max(region.present)] + spacing_s / 2) if duration_s > 0 else times[-1]
            x0, y0, x1, y1 = best.box
            box = (round(x0 / w, 4), round(y0 / h, 4), round(x1 / w, 4), round(y1 / h, 4))
            share = len(region.present) / len(greys)
            kind = kind_of(best.text, box=box, share=share, frames=len(greys))
            clock = None
            if kind == TextKind.CLOCK:
                best, clock = _clock_reading(best, group)
            texts.append(
                ScreenText(
                    text=best.text,
                    kind=kind,
                    script=script_of(best.text),
                    language=best.language,
                    confidence=round(best.confidence, 1),
                    start_s=round(start, 3),
                    end_s=round(max(start, end), 3),
                    box=box,
                    reads=len(group),
                    static=region.moving is None,
                    clock=clock,
                    cut=_cut_edges(region, w),
                )
            )
    texts = _merged_captions(_joined_rows(_distinct(texts), w / h, frames=len(greys)))
    texts.sort(key=lambda t: (round(t.box[1], 2), t.box[0]))
    return texts, len(regions)


def _cut_edges(region: _Region, width: int) -> tuple[str, ...]:
    """The frame's edges a moving line's band ran to on the frame it was read on (within a quarter of a
    line): the line goes on past them, and what was read is the part the picture showed then."""
    if region.moving is None:
        return ()
    _, a, b = region.moving
    near = max(2.0, region.line_px / 4)
    return tuple(edge for edge, touches in (("left", a <= near), ("right", b >= width - near)) if touches)


def _distinct(texts: list[ScreenText]) -> list[ScreenText]:
    """One text per line on screen: two regions that overlap (a block cut around one line, and the
    two-line block holding it) read the same line twice; the reading of fewer frames, then the one of
    the less text-like region (`texts` come in the regions' order), goes when the boxes overlap by
    half the smaller one and the words are alike."""
    kept: list[ScreenText] = []
    for t in sorted(texts, key=lambda t: -t.reads):
        if not any(
            _box_overlap(t.box, k.box) >= 0.5 and _similarity(t.text, k.text) >= SAME_TEXT_SIMILARITY for k in kept
        ):
            kept.append(t)
    return kept


def _box_overlap(a: Rect, b: Rect) -> float:
    """The area two boxes (x0, y0, x1, y1) share, over the smaller one's."""
    smaller = min(area(a), area(b))
    return overlap_area(a, b) / smaller if smaller > 0 else 0.0


def _joined_rows(texts: list[ScreenText], aspect: float, *, frames: int) -> list[ScreenText]:
    """Pieces of one line read apart (a clock's date and its ticking time) joined, left to right."""
    out: list[ScreenText] = []
    for t in sorted(texts, key=lambda t: t.box[0]):
        for i, o in enumerate(out):
            height = min(o.box[3] - o.box[1], t.box[3] - t.box[1])
            overlap = min(o.box[3], t.box[3]) - max(o.box[1], t.box[1])
            gap = (t.box[0] - o.box[2]) * aspect  # in heights of the frame, as `height` is
            same_script = o.script == t.script or "Common" in (o.script, t.script)
            if overlap > 0.5 * height and -height < gap < 2.0 * height and same_script:
                text = f"{o.text} {t.text}"
                box = (o.box[0], min(o.box[1], t.box[1]), max(o.box[2], t.box[2]), max(o.box[3], t.box[3]))
                share = 1.0
                # The joined line's own kind: its first piece alone, a word in a corner, looked like a bug.
                kind = kind_of(text, box=box, share=share, frames=frames)
                clock = parse_clock(text) if kind == TextKind.CLOCK else None
                out[i] = ScreenText(
                    **{
                        **o.__dict__,
                        "text": text,
                        "box": box,
                        "kind": kind,
                        "clock": clock,
                        "confidence": round(min(o.confidence, t.confidence), 1),
                        "start_s": max(o.start_s, t.start_s),
                        "end_s": min(o.end_s, t.end_s),
                        "reads": min(o.reads, t.reads),
                    }
                )
                break
        else:
            out.append(t)
    return out


def _merged_captions(texts: list[ScreenText]) -> list[ScreenText]:
    """Lines of one block keep the block's kind: a caption's short second line is caption too."""
    out = []
    for t in texts:
        if t.kind == TextKind.OTHER:
            near = [
                o
                for o in texts
                if o is not t
                and o.kind == TextKind.CAPTION
                and abs(o.box[1] - t.box[3]) < 0.1
                and min(o.box[2], t.box[2]) > max(o.box[0], t.box[0])
            ]
            if near:
                t = ScreenText(**{**t.__dict__, "kind": TextKind.CAPTION})
        out.append(t)
    return out


def _clock_reading(best: _Read, group: list[_Read]) -> tuple[_Read, Clock | None]:
    """A clock's line and its `Clock`: read on one frame where one frame's reading has a date (frames
    combined overlay a ticking clock's seconds into digits no frame shows); from frames combined,
    its date alone (the time is no one frame's)."""
    single = [r for r in group if not r.combined and (c := parse_clock(r.text)) is not None and c.dates]
    if best.combined and single:
        best = max(single, key=lambda r: (parse_clock(r.text).time is not None, _line_score([r])))  # type: ignore[union-attr]
    clock = parse_clock(best.text)
    if clock is None or not clock.dates:
        clock = _voted_clock([r for r in group if not r.combined] or group)
    if clock is not None and best.combined:
        clock = Clock(clock.dates, None, clock.form)
    return best, clock


def _voted_clock(group: list[_Read]) -> Clock | None:
    """The clock the readings agree on: each date counted over the readings that parse."""
    clocks = [c for c in (parse_clock(r.text) for r in group) if c is not None]
    if not clocks:
        return None
    votes = Counter(c.dates for c in clocks if c.dates)
    best = max(clocks, key=lambda c: (votes.get(c.dates, 0), c.time is not None))
    return best


def _reads_of(greys: Sequence[np.ndarray], region: _Region) -> list[_Read]:
    """A region read on the middle frame showing it, then on up to `READS_PER_REGION` - 1 more to vote.

    The middle frame is read as it is (`_Way.PLAIN`); when that reading is
    unsure (`_weak`), the region is read again with the letters' fill alone
    and, where it shows on `STILL_MIN_FRAMES` frames or more, from its frames
    combined, and the reading that says most (`_line_score`) stands; the
    other frames are read the way that won (as they are, when the frames
    combined won) and vote with it. A region that reads as nothing every way
    is not read again, nor is one read surely (`_sure`).
    """
    if region.moving is not None:  # a ticker: its widest showing, alone (the other frames show other words)
        k, x0, x1 = region.moving
        region = _Region(x0, region.y0, x1, region.y1, region.line_px, (k,), region.score)
    middle = region.present[len(region.present) // 2]
    wide = region.x1 - region.x0 >= VARIANT_MIN_WIDTH * region.line_px
    # Arabic data is tried on the letters' fill, which a wide region read unsurely is read from next:
    # the dev splits' Arabic captions read there whenever they read at all; on a narrow blob of texture
    # (a few letters' worth, read no other way) it made up whole words.
    reads = _read_region(greys, region, middle, try_arabic=False)
    way = _Way.PLAIN
    # A region the plain frame read nothing in is read the other ways only where its rows cross strokes
    # as a line of letters does: a static shot's kerbs, tapes and rooflines persist as overlays do.
    crop = greys[middle][region.y0 : region.y1, region.x0 : region.x1]
    if wide and not _sure(reads) and (reads or _strokes_per_line(crop, region.line_px) >= MIN_STROKES_PER_LINE):
        # A plain reading this sure had the letters' polarity right; below it they may be the majority. A
        # sure word among more left out (a window's edge read as a letter) says nothing of the polarity.
        either = not any(r.confidence >= POLARITY_SURE and r.dropped < len(r.text.split()) for r in reads)
        ways = [_Way.FILL, *([_Way.FILL_OTHER] if either else [])]
        if len(region.present) >= STILL_MIN_FRAMES and _background_moves(greys, region):
            ways += [_Way.STILL, _Way.STILL_FILL, *([_Way.STILL_FILL_OTHER] if either else [])]
        for other in ways:
            again = _read_region(greys, region, middle, other)
            if _line_score(again) > _line_score(reads) * BETTER_READING and not _dates_lost(reads, again):
                reads, way = again, other
            if _sure(reads):
                break
    tall = region.y1 - region.y0 > MAX_BLOCK_SHARE * greys[middle].shape[0]
    if tall or not reads or _sure(reads):
        return reads
    # The other frames vote, each read as the middle one was (frames combined: read as they are).
    each = way if way in (_Way.PLAIN, _Way.FILL, _Way.FILL_OTHER) else _Way.PLAIN
    for k in _spread(region.present, READS_PER_REGION):
        if k != middle:
            reads += _read_region(greys, region, k, each)
    return reads


def _background_moves(greys: Sequence[np.ndarray], region: _Region) -> bool:
    """Whether the picture under a region changes across the frames showing it (the mean spread of its
    pixels' grey over them, `STILL_MIN_CHANGE`): where it does not (a static shot), the frames combined
    are one frame again, and reading them would repeat the one frame's readings."""
    x0, y0, x1, y1 = _crop_box(region, greys[region.present[0]].shape)
    stack = np.stack([greys[k][y0:y1, x0:x1] for k in _spread(region.present, STILL_FRAMES)])
    return float((stack.max(axis=0).astype(np.int16) - stack.min(axis=0)).mean()) >= STILL_MIN_CHANGE


def _spread(present: Sequence[int], k: int) -> list[int]:
    """Up to `k` of `present`, first, last and evenly between."""
    if len(present) <= k:
        return list(present)
    idx = np.linspace(0, len(present) - 1, k).round().astype(int)
    return sorted({present[i] for i in idx})


def _grey(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def frame_times(duration_s: float) -> list[float]:
    """The times a clip's frames are read at: evenly spread, `TEXT_FRAME_SPACING_S` apart at most."""
    return TEXT_DETAIL.frames_at(duration_s)


def read_text(path: Path | str, facts: MediaFacts, *, decoder: Decoder, frames: Frames | None = None) -> TextReading:
    """Find and read the words burned into a clip or still image.

    Args:
        path: the file.
        facts: its probe facts.
        decoder: grabs the frames read (`Decoder.grab`) when `frames` holds none.
        frames: the clip's samples; their detail frames (`Plan.detail`, taken
            in the sampling pass with `TEXT_DETAIL`) are read without decoding again.

    Returns:
        The `TextReading` (status ``read``).

    Raises:
        ToolMissingError: tesserocr or Tesseract's language data is missing (`INSTALL_HINT`).
    """
    from .decode import Media

    t0 = time.perf_counter()
    engine = engine_version()
    pairs: list[tuple[float, np.ndarray]]
    if frames is not None and frames.detail is not None and facts.kind != "image":
        pairs = list(zip(frames.detail_times, frames.detail, strict=True))
        examined = frames.examined_s if frames.examined_s is not None else facts.duration_s
        spacing = examined / max(1, len(TEXT_DETAIL.frames_at(examined)))
    else:
        times = [0.0] if facts.kind == "image" else frame_times(facts.duration_s)
        grabbed = decoder.grab(path, times, Media.of(facts), TEXT_LONG_SIDE)
        pairs = [(t, f) for t, f in zip(times, grabbed, strict=True) if f is not None]
        spacing = facts.duration_s / max(1, len(times)) if facts.kind != "image" else 0.0
    texts, regions = read_frames(
        [t for t, _ in pairs], [f for _, f in pairs], duration_s=facts.duration_s, spacing_s=spacing
    )
    return TextReading(
        TextStatus.READ,
        tuple(texts),
        engine=engine,
        frames_read=len(pairs),
        regions=regions,
        seconds=round(time.perf_counter() - t0, 3),
    )


def in_reference(texts: Sequence[ScreenText], reference_texts: Sequence[str]) -> tuple[ScreenText, ...]:
    """The texts marked with whether the matched reference shows the same words (`SAME_TEXT_SIMILARITY`).

    Args:
        texts: the clip's texts.
        reference_texts: the lines read on the reference's aligned frames.
    """
    out = []
    for t in texts:
        same = any(_similarity(t.text, r) >= SAME_TEXT_SIMILARITY for r in reference_texts)
        out.append(ScreenText(**{**t.__dict__, "in_reference": same}))
    return tuple(out)


__all__ = [
    "Clock",
    "ScreenText",
    "TextKind",
    "TextReading",
    "TextStatus",
    "find_regions",
    "in_reference",
    "kind_of",
    "parse_clock",
    "read_frames",
    "read_text",
    "script_of",
    "skipped",
]
