"""Stage report: one self-contained HTML file a fact-checker can open, print or attach.

No script, no font, no stylesheet and no image is fetched: the pictures are
``data:`` URIs carried by the report itself (`images.Keyframes`), the style is
inline, and a Content-Security-Policy (``default-src 'none'; img-src data:;
style-src 'unsafe-inline'``) makes the browser refuse anything else. The
order is the reader's: the verdict and its evidence first; the claim against
the evidence; the matched spans on a timeline; each match with the clip's and
the reference's frames side by side at aligned times, the diagnosis drawn on
them; the metadata findings; the checked file; tool versions, thresholds and
the input's SHA-256 at the end::

    >>> html = render_html(report)
    >>> html.startswith("<!DOCTYPE html>")
    True

A pure function of the report. Every string that came from a file, a
sidecar, a claim or an article is escaped (`text.html_text`); links are made
only for http(s) URLs.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit

from ..evidence import REFERENCE_OK, Thumbnail
from . import Report
from .summary import (
    Diagnosis,
    Rect,
    claim_facts,
    claim_of,
    claim_rows,
    diagnosis_of,
    findings_of,
    headline_thresholds,
    text_of,
    verdict_label,
    verdict_tone,
)
from .text import html_text
from .words import (
    ORIGINS_UNRECORDED,
    alteration_details,
    alteration_label,
    ambiguity_note,
    candidate_evidence,
    channel_sentences,
    coverage_sentence,
    finding_details,
    frames_sentence,
    held_frame,
    held_moment,
    is_still,
    number,
    origin_words,
    origins_unrecorded,
    reference_span,
    relation_sentence,
    screen_place,
    searched_speeds,
    seconds,
    signed,
    sound_facts_sentence,
    span,
    speed_matters,
    speed_words,
    still_frame,
    still_frame_at,
    text_kind,
)

#: The page may load nothing: images only from data: URIs, style only inline.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
#: Colours of matches 1..10 on the timeline and their frames (repeats after 10).
PALETTE = (
    "#1f6fb5",
    "#d9480f",
    "#2b8a3e",
    "#9c36b5",
    "#c2255c",
    "#0b7285",
    "#e67700",
    "#5f3dc4",
    "#5c940d",
    "#495057",
)
#: The page's one style sheet, inline (the CSP allows no other), with a one-column layout under 40 rem
#: and print rules (docs/report-formats.md).
STYLE = """
:root { color-scheme: light; --ink: #1b1f24; --muted: #5a636e; --line: #d5dae0; --paper: #fff; --soft: #f4f6f8; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--soft); color: var(--ink);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
main { max-width: 64rem; margin: 0 auto; padding: 1rem; }
section, header.verdict, footer { background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  padding: 1rem 1.25rem; margin: 0 0 1rem; }
h1 { font-size: 1.7rem; line-height: 1.2; margin: .2rem 0 .5rem; }
h2 { font-size: 1.25rem; margin: 0 0 .75rem; }
h3 { font-size: 1.05rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
p { margin: .4rem 0; }
a { color: #0b57d0; overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .85em;
  overflow-wrap: anywhere; word-break: break-all; }
.kicker { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0; }
header.verdict { border-left: 8px solid #6c757d; }
header.verdict.alert { border-left-color: #c92a2a; background: #fff5f5; }
header.verdict.weak { border-left-color: #e67700; background: #fff9db; }
header.verdict.neutral { border-left-color: #1971c2; background: #f1f7ff; }
.verdict .summary { font-size: 1.1rem; }
.verdict .code { color: var(--muted); font-size: .85rem; }
ul.evidence { margin: .5rem 0 0; padding-left: 1.2rem; }
ul.evidence li { margin: .25rem 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line);
  overflow-wrap: anywhere; }
th { font-weight: 600; overflow-wrap: normal; }
table.claim th[scope="row"] { width: 9rem; }
table.claim td { width: 40%; }
table.claim.evidence-only td { width: 75%; }
td.fits-no { background: #fff0f0; }
td.fits-yes { background: #effaf1; }
.mark { font-weight: 700; white-space: nowrap; }
.fits-no .mark { color: #c92a2a; }
.fits-yes .mark { color: #2b8a3e; }
blockquote { margin: 0 0 .75rem; padding: .5rem .75rem; border-left: 4px solid var(--line); background: var(--soft);
  overflow-wrap: anywhere; }
.timeline { margin: .25rem 0 1rem; }
.track { display: grid; grid-template-columns: minmax(6rem, 11rem) 1fr; gap: .5rem; align-items: center; margin: .3rem 0; }
.track .name { font-size: .85rem; color: var(--muted); overflow-wrap: anywhere; }
.bar { position: relative; height: 1.4rem; background: repeating-linear-gradient(90deg, #e9ecef 0 2px, #f8f9fa 2px 10%);
  border: 1px solid var(--line); border-radius: 4px; }
.seg { position: absolute; top: 0; bottom: 0; min-width: 3px; border-radius: 3px; color: #fff; font-size: .75rem;
  font-weight: 700; text-align: center; line-height: 1.3rem; overflow: hidden; }
.axis { display: flex; justify-content: space-between; font-size: .75rem; color: var(--muted); }
.axis-row { display: grid; grid-template-columns: minmax(6rem, 11rem) 1fr; gap: .5rem; }
article.match { border-top: 1px solid var(--line); padding-top: .9rem; margin-top: .9rem; }
article.match:first-of-type { border-top: 0; margin-top: 0; padding-top: 0; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: baseline; margin-right: .35rem; }
.score { font-weight: 400; color: var(--muted); font-size: .9rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: .25rem 0 .6rem; font-size: .95rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul.alterations { padding-left: 1.2rem; margin: .25rem 0 .75rem; }
ul.reading { margin: .25rem 0 0; padding-left: 1.2rem; }
ul.reading li.warn { color: #a61e1e; }
ul.alterations li { margin: .2rem 0; }
.detail { color: var(--muted); font-size: .85rem; }
.pairs { display: grid; grid-template-columns: 1fr; gap: .75rem; max-width: 46rem; }
figure.pair { margin: 0; }
.frames { display: grid; grid-template-columns: 1fr 1fr; gap: .35rem; }
.frame { position: relative; background: #111; border-radius: 4px; overflow: hidden; line-height: 0; }
.frame img { display: block; width: 100%; height: auto; }
.frame svg.overlay { position: absolute; inset: 0; width: 100%; height: 100%; }
.frame .side { position: absolute; left: 0; bottom: 0; background: rgba(0,0,0,.65); color: #fff; font-size: .7rem;
  line-height: 1.2; padding: .15rem .35rem; border-top-right-radius: 4px; }
.frame .badge { position: absolute; bottom: .3rem; right: .3rem; background: #ffd43b; color: #000; font-size: .7rem;
  font-weight: 700; line-height: 1.2; padding: .1rem .35rem; border-radius: 3px; }
.frame .box-label { position: absolute; background: #ffd43b; color: #000; font-size: .65rem; line-height: 1.2;
  padding: 0 .25rem; white-space: nowrap; }
.frame .box-label.above { transform: translateY(-100%); }
.frame .box-label.left { transform: translateX(-100%); }
.textframe { max-width: 40rem; margin: .5rem 0; }
.frame.missing { display: flex; align-items: center; justify-content: center; min-height: 6rem; line-height: 1.3;
  color: #ced4da; font-size: .8rem; padding: .5rem; text-align: center; background: #343a40; }
.frame .box-label.above { transform: translateY(-100%); }
.frame .flip { transform: scaleX(-1); }
.frame .flip, .frame .asis { position: relative; line-height: 0; }
.stored-only { display: none; }
input.as-stored { margin: 0 .35rem 0 0; vertical-align: middle; }
label.as-stored { font-size: .85rem; color: var(--muted); display: inline-block; margin: 0 0 .4rem; }
input.as-stored:checked ~ .pairs .flip { transform: none; }
input.as-stored:checked ~ .pairs .shown-only { display: none; }
input.as-stored:checked ~ .pairs .stored-only { display: inline; }
.origin { color: var(--muted); font-size: .85rem; }
figcaption { font-size: .8rem; color: var(--muted); margin-top: .25rem; }
.note { background: #fff9db; border: 1px solid #ffe066; border-radius: 4px; padding: .4rem .6rem; font-size: .9rem;
  overflow-wrap: anywhere; }
.shots { display: grid; grid-template-columns: repeat(auto-fill, minmax(7rem, 1fr)); gap: .35rem; margin-top: .5rem; }
.shots figure { margin: 0; }
.shots img { width: 100%; height: auto; display: block; border-radius: 3px; }
.sev { display: inline-block; min-width: 4.5rem; font-size: .75rem; font-weight: 700; text-transform: uppercase;
  border-radius: 3px; padding: .05rem .35rem; text-align: center; background: #e9ecef; }
.sev.warning { background: #ffe3e3; color: #a61e1e; }
.sev.notice { background: #fff3bf; color: #7a5200; }
ul.findings { list-style: none; padding: 0; margin: 0; }
ul.findings li { padding: .4rem 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
footer { font-size: .85rem; color: var(--muted); }
footer h2 { color: var(--ink); }
footer table { width: auto; }
footer table td, footer table th { padding: .2rem .6rem .2rem 0; }
@media (max-width: 40rem) {
  main { padding: .5rem; }
  section, header.verdict, footer { padding: .75rem; }
  h1 { font-size: 1.4rem; }
  .track, .axis-row { grid-template-columns: 5.5rem 1fr; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dt { margin-top: .3rem; }
  table.claim thead { display: none; }
  table.claim, table.claim tbody, table.claim tr, table.claim th, table.claim td { display: block; width: auto; }
  table.claim tr { border-bottom: 1px solid var(--line); padding: .3rem 0; }
  table.claim th, table.claim td { border: 0; padding: .15rem 0; }
  table.claim td::before { content: attr(data-label) ": "; color: var(--muted); font-size: .85rem; }
}
@media print {
  body { background: #fff; font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  section, header.verdict, footer { border: 0; border-radius: 0; padding: .4rem 0; margin: 0 0 .6rem; }
  header.verdict { border-left: 6px solid; padding-left: .6rem; }
  article.match, figure.pair, .track, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .pairs { grid-template-columns: 1fr 1fr; }
}
"""


#: A box's label goes outside it when this share of the frame's height (0-1) is free above or below it:
#: the label is ~0.8 rem tall, 8-12% of a 320 px thumbnail's shown height (docs/report-formats.md).
LABEL_ROOM = 0.12


def e(text: object, limit: int = 500) -> str:
    """Untrusted text, escaped for element content and quoted attributes."""
    return html_text(text, limit)


def _link(url: object, text: object | None = None, limit: int = 300) -> str:
    """An http(s) URL as a link that opens nothing by itself; any other value as plain text."""
    if url is None:
        return ""
    shown = e(text if text is not None else url, limit)
    raw = str(url).strip()
    try:
        scheme = urlsplit(raw).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme in ("http", "https") and len(raw) <= 2000 and not any(c in raw for c in "\"'<> \n\r\t"):
        return f'<a href="{e(raw, 2000)}" rel="noopener noreferrer nofollow">{shown}</a>'
    return shown


def _pct(value: float) -> str:
    return f"{max(0.0, min(100.0, value)):.2f}%"


def _data_uri(thumb: Thumbnail | None) -> str | None:
    """A safe data: URI for a thumbnail, or None when its bytes are not a JPEG."""
    if thumb is None:
        return None
    try:
        data = base64.b64decode(thumb.jpeg_b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def _img(thumb: Thumbnail | None, alt: str) -> str | None:
    uri = _data_uri(thumb)
    if uri is None or thumb is None:
        return None
    return f'<img src="{uri}" width="{int(thumb.width)}" height="{int(thumb.height)}" alt="{e(alt)}">'


def _boxes_svg(boxes: tuple[Rect, ...]) -> str:
    if not boxes:
        return ""
    parts = ['<svg class="overlay" viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true">']
    for b in boxes:
        x, y, w, h = (round(v * 100, 2) for v in (b.x0, b.y0, b.width, b.height))
        common = f'x="{x}" y="{y}" width="{w}" height="{h}" fill="none" vector-effect="non-scaling-stroke"'
        parts.append(f'<rect {common} stroke="#000" stroke-opacity=".7" stroke-width="5"/>')
        parts.append(f'<rect {common} stroke="#ffd43b" stroke-width="2.5" stroke-dasharray="6 4"/>')
    parts.append("</svg>")
    return "".join(parts)


def _text_labels(boxes: list[tuple[float, float, float, float]], numbers: list[int]) -> str:
    """Each text box's number just outside it, where it covers no box of the frame: left of the line,
    above it, below it or right of it, the first with room (a two-line caption's second number goes
    beside its line, not on the first line's words); above the box when none has room."""
    out = []
    for n, (x0, y0, x1, y1) in zip(numbers, boxes, strict=True):
        spots = (
            ("left", x0 - TEXT_LABEL_WIDTH, y0, x0, y0 + LABEL_ROOM, x0, y0),
            ("above", x0, y0 - LABEL_ROOM, x0 + TEXT_LABEL_WIDTH, y0, x0, y0),
            ("", x0, y1, x0 + TEXT_LABEL_WIDTH, y1 + LABEL_ROOM, x0, y1),
            ("", x1, y0, x1 + TEXT_LABEL_WIDTH, y0 + LABEL_ROOM, x1, y0),
        )
        where, left, top = "above", x0, y0
        for cls, a0, b0, a1, b1, px, py in spots:
            inside = a0 >= 0 and b0 >= 0 and a1 <= 1 and b1 <= 1
            if inside and not any(a0 < c1 and a1 > c0 and b0 < d1 and b1 > d0 for c0, d0, c1, d1 in boxes):
                where, left, top = cls, px, py
                break
        out.append(
            f'<span class="box-label{" " + where if where else ""}" style="left:{_pct(left * 100)};'
            f'top:{_pct(top * 100)}">{int(n)}</span>'
        )
    return "".join(out)


#: Width (share of the frame's width, 0-1) kept free for a text box's number: ~20 px, 3-6% of a
#: 320-640 px thumbnail; its height is `LABEL_ROOM`.
TEXT_LABEL_WIDTH = 0.07


def _text_section(r: Report) -> str:
    """The words read on the picture: a frame with their boxes (numbered outside them) and a table."""
    reading = r.text
    if reading is None:
        return ""
    out = ['<section id="text"><h2>Words on the picture</h2>']
    if reading.status != "read":
        why = reading.note or "the text stage did not run"
        out.append(f"<p>Not read: {e(why, 600)}.</p></section>")
        return "".join(out)
    out.append(
        f"<p>Read with {e(reading.engine or '?', 60)} on {int(reading.frames_read)} frames of the clip "
        f"({number(reading.seconds, 3)} s){e(_ref_note(reading.reference_frames_read))}. OCR can misread: "
        "each line shows Tesseract's confidence (0-100).</p>"
    )
    if not reading.texts:
        out.append("<p>No text was read on the picture.</p></section>")
        return "".join(out)
    shots = r.keyframes.query if r.keyframes else ()
    # The shot frame on which the most texts show carries their boxes.
    thumb = max(shots, key=lambda th: sum(t.start_s <= th.t <= t.end_s for t in reading.texts), default=None)
    if thumb is not None:
        shown = [(n, t) for n, t in enumerate(reading.texts) if t.start_s <= thumb.t <= t.end_s]
        img = _img(thumb, f"clip at {seconds(thumb.t)}")
        if img is not None and shown:
            rects = "".join(
                f'<rect x="{round(t.box[0] * 100, 2)}" y="{round(t.box[1] * 100, 2)}" '
                f'width="{round((t.box[2] - t.box[0]) * 100, 2)}" height="{round((t.box[3] - t.box[1]) * 100, 2)}" '
                'fill="none" stroke="#4dabf7" stroke-width="2" vector-effect="non-scaling-stroke"/>'
                for _, t in shown
            )
            labels = _text_labels([t.box for _, t in shown], [n + 1 for n, _ in shown])
            out.append(
                f'<div class="frame textframe">{img}<svg class="overlay" viewBox="0 0 100 100" '
                f'preserveAspectRatio="none" aria-hidden="true">{rects}</svg>{labels}'
                f'<span class="side">clip {seconds(thumb.t)}</span></div>'
            )
    out.append(
        '<table class="texts"><thead><tr><th>#</th><th>When</th><th>Kind</th><th>Where</th><th>Text</th><th>Language</th>'
        "<th>Confidence</th><th>On the reference</th></tr></thead><tbody>"
    )
    for n, t in enumerate(reading.texts):
        extra = ""
        if t.clock is not None and t.clock.dates:
            extra = f' <span class="detail">date {e(" or ".join(t.clock.dates), 80)}</span>'
        ref = {True: "yes", False: "no: added in this copy", None: "not compared"}[t.in_reference]
        out.append(
            f"<tr><td>{n + 1}</td><td>{e('the picture' if is_still(r) else span(t.start_s, t.end_s), 40)}</td>"
            f"<td>{e(text_kind(t.kind, t.static, t.cut), 120)}</td><td>{e(screen_place(t.box), 40)}</td>"
            f'<td><bdi dir="auto">{e(t.text, 400)}</bdi>{extra}</td><td>{e(t.language, 10)} ({e(t.script, 20)})</td>'
            f"<td>{number(t.confidence, 3)}</td><td>{e(ref, 40)}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "".join(out)


def _ref_note(frames: int) -> str:
    return f", and on {int(frames)} frames of the matched reference" if frames else ""


def _box_labels(boxes: tuple[Rect, ...], *, mirrored: bool = False, cls: str = "") -> str:
    """Each box's label at its left edge as seen (the stored box's right edge when mirrored), outside the box
    where the frame has room (above it, else below it) so that it covers none of what the box marks (a
    caption's words), inside its top corner only when the box fills the frame's height."""
    out = []
    for b in boxes:
        left = (1.0 - b.x1) if mirrored else b.x0
        if b.y0 >= LABEL_ROOM:
            where, top = " above", b.y0 * 100
        elif b.y1 <= 1.0 - LABEL_ROOM:
            where, top = "", b.y1 * 100
        else:
            where, top = "", b.y0 * 100 + 2
        out.append(
            f'<span class="box-label{where}{cls}" style="left:{_pct(left * 100 + 1)};top:{_pct(top)}">'
            f"{e(b.label, 40)}</span>"
        )
    return "".join(out)


def _frame(
    thumb: Thumbnail | None,
    side: str,
    t: float,
    boxes: tuple[Rect, ...],
    badges: list[str],
    why: str,
    *,
    mirror: bool = False,
    at: bool = True,
) -> str:
    """One picture of a pair with its boxes and label; `mirror` shows it mirrored (the reference of a mirrored
    copy, as the copy shows it) with a label saying so, and as stored when the page's toggle is set."""
    img = _img(thumb, f"{side} at {seconds(t)}" + (", mirrored to match the clip" if mirror else ""))
    if img is None:
        return f'<div class="frame missing">{e(why)}</div>'
    badge = f'<span class="badge">{e(" · ".join(badges), 60)}</span>' if badges else ""
    when = f" {seconds(t)}" if at else ""
    if not mirror:
        return (
            f'<div class="frame">{img}{_boxes_svg(boxes)}{_box_labels(boxes)}{badge}'
            f'<span class="side">{e(side)}{when}</span></div>'
        )
    labels = _box_labels(boxes, mirrored=True, cls=" shown-only") + _box_labels(boxes, cls=" stored-only")
    return (
        f'<div class="frame"><div class="flip">{img}{_boxes_svg(boxes)}</div>{labels}{badge}'
        f'<span class="side"><span class="shown-only">{e(side)} mirrored to match the clip</span>'
        f'<span class="stored-only">{e(side)} as stored</span>{when}</span></div>'
    )


def _verdict(r: Report) -> str:
    tone = verdict_tone(r.verdict.code)
    items = "".join(f"<li>{e(item, 800)}</li>" for item in r.verdict.evidence)
    return (
        f'<header class="verdict {tone}" id="verdict">'
        f'<p class="kicker">Provenance report · {e(r.created_at, 40)}</p>'
        f"<h1>{e(verdict_label(r.verdict.code), 120)}</h1>"
        f'<p class="summary">{e(r.verdict.summary, 800)}</p>'
        f'<p class="code">Verdict code <code>{e(r.verdict.code, 80)}</code> · checked file '
        f"<code>{e(_basename(r.input.path), 120)}</code></p>" + (f'<ul class="evidence">{items}</ul>' if items else "")
    ) + "</header>"


def _basename(path: object) -> str:
    text = str(path)
    return text.replace("\\", "/").rsplit("/", 1)[-1] or text


def _claim_section(r: Report) -> str:
    claim = claim_facts(r)
    rows = claim_rows(r)
    if not claim and not rows:
        return ""
    out = ['<section id="claim"><h2>The claim and the evidence</h2>']
    if claim and claim.text:
        out.append(f"<blockquote>{e(claim.text, 1000)}</blockquote>")
    if not claim:
        out.append("<p>No claim was given with this check; the evidence alone:</p>")
    claim_col = '<th scope="col">The claim says</th>' if claim else ""
    out.append(
        f'<table class="claim{"" if claim else " evidence-only"}"><thead><tr><th scope="col"></th>{claim_col}<th scope="col">The evidence says</th></tr>'
        "</thead><tbody>"
    )
    for row in rows:
        cls = {True: ' class="fits-yes"', False: ' class="fits-no"', None: ""}[row.fits]
        mark = {True: '<span class="mark">fits</span> ', False: '<span class="mark">does not fit</span> ', None: ""}
        claimed = _link(row.claimed) if row.label == "Source" and row.claimed else e(row.claimed or "–")
        out.append(
            f'<tr><th scope="row">{e(row.label)}</th>'
            + (f'<td data-label="The claim says">{claimed}</td>' if claim else "")
            + f'<td{cls} data-label="The evidence says">{mark[row.fits]}{e(row.found or "–")}</td></tr>'
        )
    out.append("</tbody></table>")
    out.append(_claim_reading(r))
    out.append("</section>")
    return "".join(out)


def _claim_reading(r: Report) -> str:
    """How the claim was read (sources, dates and places found, warnings), so a wrong reading can be corrected."""
    raw = claim_of(r)
    if not raw:
        return ""
    origin = [str(o) for o in raw.get("origin") or () if o]
    items = []
    for d in (raw.get("dates") or ())[:10]:
        if isinstance(d, dict):
            items.append(f"date: “{e(d.get('text'), 80)}” → {e(d.get('date'), 20)} ({e(d.get('rule'), 80)})")
    for p in (raw.get("places") or ())[:10]:
        if isinstance(p, dict):
            items.append(f"place: “{e(p.get('query'), 80)}” → {e(text_of(p), 120)} ({e(p.get('kind'), 20)})")
    warnings = [f'<li class="warn">{e(w, 400)}</li>' for w in (raw.get("warnings") or ())[:10]]
    note = ambiguity_note(raw.get("place"))
    if note:
        warnings.append(f'<li class="warn">{e(note, 1000)}</li>')
    if not origin and not items and not warnings:
        return ""
    head = (
        f'<p class="detail">Claim read from {e(", ".join(origin) or "flags", 600)}; later sources override '
        "earlier ones. Correct it with --claim-date, --claim-place or --claim-text.</p>"
    )
    listing = "".join(f"<li>{i}</li>" for i in items) + "".join(warnings)
    return head + (f'<ul class="reading detail">{listing}</ul>' if listing else "")


def _timeline(r: Report) -> str:
    if not r.matches:
        return ""
    dur = r.input.duration_s if r.input.duration_s > 0 else max(m.query_end_s for m in r.matches) or 1.0
    segs = []
    for n, m in enumerate(r.matches):
        colour = PALETTE[n % len(PALETTE)]
        left, width = m.query_start_s / dur * 100, max(0.0, m.query_end_s - m.query_start_s) / dur * 100
        segs.append(
            f'<span class="seg" style="left:{_pct(left)};width:{_pct(width)};background:{colour}" '
            f'title="match {n + 1}: clip {span(m.query_start_s, m.query_end_s)}">{n + 1}</span>'
        )
    still = is_still(r)
    rows = ['<div class="timeline" aria-label="Timeline of the matched spans">']
    if not still:  # a picture has no span: only where it sits in each reference is drawn
        rows.append(
            f'<div class="track"><span class="name">Checked clip ({seconds(dur)})</span>'
            f'<div class="bar">{"".join(segs)}</div></div>'
        )
    rows += _sound_tracks(r, dur)
    for n, m in enumerate(r.matches):
        colour = PALETTE[n % len(PALETTE)]
        ref = m.reference
        rdur = ref.duration_s if ref.duration_s > 0 else max(m.reference_end_s, 1.0)
        left = m.reference_start_s / rdur * 100
        width = max(0.0, m.reference_end_s - m.reference_start_s) / rdur * 100
        if ref.kind == "image":  # a picture has no time: the whole bar is it
            where, left, width, length = "the reference picture", 0.0, 100.0, "a picture"
        else:
            length = seconds(rdur)
            where = (
                f"{still_frame(m)} ({seconds(m.reference_start_s)})"
                if still
                else span(m.reference_start_s, m.reference_end_s)
            )
        rows.append(
            f'<div class="track"><span class="name">{n + 1}. reference #{int(ref.id)} ({length})</span>'
            f'<div class="bar"><span class="seg" style="left:{_pct(left)};width:{_pct(width)};background:{colour}" '
            f'title="match {n + 1}: reference {where}">{n + 1}</span>'
            "</div></div>"
        )
    rows.append(
        '<div class="axis-row"><span></span><div class="axis"><span>start</span><span>middle</span><span>end</span></div></div>'
    )
    rows.append("</div>")
    return "".join(rows)


def _sound_tracks(r: Report, dur: float) -> list[str]:
    """Under the clip's track, one row per match whose sound was compared: each aligned second
    coloured by its bit error rate (green: the reference's sound, red: other sound)."""
    rows = []
    for n, m in enumerate(r.matches):
        heard = [c for c in getattr(m, "channels", ()) if c.channel == "audio" and c.seconds]
        for c in heard[:1]:
            marks = []
            for t, ber in c.seconds:
                hue = round(120 * (1 - min(1.0, max(0.0, float(ber)) / 0.5)))
                left, width = float(t) / dur * 100, 1.0 / dur * 100
                marks.append(
                    f'<span class="seg" style="left:{_pct(left)};width:{_pct(width)};background:hsl({hue},60%,42%)" '
                    f'title="{seconds(float(t))}: bit error rate {number(float(ber), 2)}"></span>'
                )
            rows.append(
                f'<div class="track"><span class="name">Sound vs match {n + 1} (green: the same sound, red: other sound '
                "over it or in its place)</span>"
                f'<div class="bar">{"".join(marks)}</div></div>'
            )
    return rows


def _badges(diag: Diagnosis) -> list[str]:
    badges = []
    if diag.mirrored:
        badges.append("mirrored ⇋")
    if diag.rotation_deg:
        turn = "clockwise" if diag.rotation_deg > 0 else "counter-clockwise"
        badges.append(f"turned {number(abs(diag.rotation_deg), 1)}° {turn}")
    return badges


def _match(r: Report, n: int) -> str:
    m = r.matches[n]
    ref = m.reference
    s = ref.source
    colour = PALETTE[n % len(PALETTE)]
    diag = diagnosis_of(m, (r.input.width, r.input.height))
    still = is_still(r)
    out = [
        f'<article class="match" id="match-{n + 1}">',
        f'<h3><span class="swatch" style="background:{colour}"></span>{n + 1}. {e(s.title or _basename(ref.path), 200)} '
        f'<span class="score">score {m.score:.2f}</span></h3>',
        '<dl class="facts">',
    ]
    if still:
        out.append(f"<dt>In the reference</dt><dd>The picture matches {e(still_frame(m))}{e(still_frame_at(m))}</dd>")
    elif ref.kind == "image":  # a still reference: the clip shows that picture, at no time of it
        out.append(f"<dt>Clip span</dt><dd>{span(m.query_start_s, m.query_end_s)} shows the reference picture</dd>")
    elif held_frame(m):  # one picture held: a moment of the reference, at no speed
        out += [
            f"<dt>Clip span</dt><dd>{span(m.query_start_s, m.query_end_s)} holds one frame</dd>",
            f"<dt>In the reference</dt><dd>{e(held_moment(m))}</dd>",
            f"<dt>Speed</dt><dd>{e(speed_words(m))}</dd>",
        ]
    else:
        out += [
            f"<dt>Clip span</dt><dd>{span(m.query_start_s, m.query_end_s)}</dd>",
            f"<dt>Reference span</dt><dd>{e(reference_span(m))} (offset {signed(m.offset_s)} s)</dd>",
        ]
        searched = searched_speeds(r)
        speed = e(speed_words(m))
        if searched and speed_matters(m):
            speed += f' <span class="origin">(speeds searched: {e(searched)})</span>'
        out.append(f"<dt>Speed</dt><dd>{speed}</dd>")
    out += [
        _fact_row("First seen", s, "first_seen", e(s.first_seen or "unknown")),
        _fact_row("Publisher", s, "publisher", e(s.publisher or "unknown")),
        _fact_row("Source", s, "source_url", _link(s.source_url) if s.source_url else "unknown"),
        (
            "<dt>Evidence</dt><dd>the sound alone (no frame of the picture matched)</dd>"
            if getattr(m, "channel", "frames") == "audio"
            else f"<dt>Evidence</dt><dd>{e(frames_sentence(m, r), 600)}</dd>"
        ),
        f'<dt>Reference file</dt><dd><span class="mono">{e(ref.path, 300)}</span> (#{int(ref.id)}, SHA-256 '
        f'<span class="mono">{e(ref.sha256, 80)}</span>)</dd>',
    ]
    if origins_unrecorded(s):
        out.append(f'<dt>Origins</dt><dd class="origin">{e(ORIGINS_UNRECORDED, 300)}</dd>')
    if s.licence:
        out.append(f"<dt>Licence</dt><dd>{e(s.licence)}</dd>")
    relation = relation_sentence(m, still=still)
    if relation:
        out.append(f"<dt>Moment</dt><dd>{e(relation, 1000)}</dd>")
    for sentence in channel_sentences(m):
        head, _, rest = sentence.partition(": ")
        out.append(f"<dt>{e(head, 20)}</dt><dd>{e(rest, 2000)}</dd>")
    out.append("</dl>")
    if diag.alterations:
        out.append('<p><strong>How the clip differs from the reference</strong></p><ul class="alterations">')
        for alt in diag.alterations:
            detail = alteration_details(alt.code, alt.evidence)
            out.append(
                f"<li><strong>{e(alteration_label(alt.code), 60)}</strong>: {e(alt.summary)}"
                + (f' <span class="detail">{e(detail, 1000)}</span>' if detail else "")
                + "</li>"
            )
        out.append("</ul>")
    elif diag.mirrored:
        out.append(
            '<ul class="alterations"><li><strong>mirrored</strong>: the picture is mirrored left to right.</li></ul>'
        )
    mf = r.keyframes.for_match(n) if r.keyframes else None
    if mf is not None and mf.note:
        out.append(f'<p class="note">{e(mf.note, 600)}</p>')
    if mf is not None and mf.pairs:
        why_ref = {
            REFERENCE_OK: "frame not decoded",
        }.get(mf.reference_status, f"reference {mf.reference_status}: no frame")
        if diag.mirrored:
            # The reference is shown as the copy shows it (mirrored), with a toggle back to the file as stored.
            out.append(
                f'<input type="checkbox" class="as-stored" id="as-stored-{n + 1}">'
                f'<label class="as-stored" for="as-stored-{n + 1}">Show the reference as stored (not mirrored)</label>'
            )
        out.append('<div class="pairs">')
        q_side = "picture" if still else "clip"
        for pair in mf.pairs:
            q = _frame(
                pair.query, q_side, pair.query_t, diag.query_boxes, _badges(diag), "frame not decoded", at=not still
            )
            rf = _frame(
                pair.reference, "reference", pair.reference_t, diag.reference_boxes, [], why_ref, mirror=diag.mirrored
            )
            dist = f" · hash distance {int(pair.distance)}" if pair.distance is not None else ""
            caption = (
                f"picture ↔ reference {seconds(pair.reference_t)}"
                if still
                else f"clip {seconds(pair.query_t)} ↔ reference {seconds(pair.reference_t)}"
            )
            out.append(
                f'<figure class="pair"><div class="frames">{q}{rf}</div><figcaption>{caption}{dist}</figcaption></figure>'
            )
        out.append("</div>")
    elif r.keyframes is None:
        out.append('<p class="detail">This report carries no keyframes (checked without them).</p>')
    out.append("</article>")
    return "".join(out)


def _fact_row(label: str, source: Any, fact: str, value: str) -> str:
    """A source fact of a reference (already escaped or linked) with where it came from beside it."""
    origin = origin_words(source, fact)
    return (
        f"<dt>{e(label)}</dt><dd>{value}"
        + (f' <span class="origin">({e(origin, 300)})</span>' if origin else "")
        + "</dd>"
    )


def _matches_section(r: Report) -> str:
    out = ['<section id="matches"><h2>Matches</h2>']
    if not r.matches:
        still = is_still(r)
        out.append(
            f"<p>No footage in this index matches the {'picture' if still else 'clip'}. This means <strong>not "
            "found in this index</strong>, not that the footage is authentic or new.</p>"
        )
        searched = searched_speeds(r)
        if searched and not still:
            out.append(
                f'<p class="detail">Speeds searched: {e(searched)}; footage played faster or slower than that is '
                "not found.</p>"
            )
    else:
        out.append(_timeline(r))
        covered = coverage_sentence(r)
        if covered:
            out.append(f'<p class="coverage">Parts of the clip ({seconds(r.input.duration_s)}): {e(covered, 1000)}</p>')
        out.extend(_match(r, n) for n in range(len(r.matches)))
    out.append("</section>")
    return "".join(out)


def _findings_section(r: Report) -> str:
    findings = findings_of(r)
    out = ['<section id="metadata"><h2>Metadata findings</h2>']
    if findings:
        out.append('<ul class="findings">')
        for f in findings:
            severity = str(f.get("severity", "info")).lower()
            sev_class = severity if severity in ("info", "notice", "warning") else "info"
            text = f.get("explanation") or f.get("summary") or f.get("message") or ""
            ev = f.get("evidence")
            detail = finding_details(str(f.get("code", "")), ev) if isinstance(ev, dict) else (str(ev) if ev else "")
            out.append(
                f'<li><span class="sev {sev_class}">{e(severity, 20)}</span> <code>{e(f.get("code", "?"), 80)}</code> '
                f"{e(text, 800)}" + (f' <span class="detail">{e(detail, 1000)}</span>' if detail else "") + "</li>"
            )
        out.append("</ul>")
    else:
        probe = r.metadata.get("probe") or {}
        tags = probe.get("tags") if isinstance(probe, dict) else None
        if isinstance(tags, dict) and tags:
            out.append("<p>No findings were computed for this report; the file's container tags are:</p><table><tbody>")
            for key, value in list(tags.items())[:40]:
                out.append(f'<tr><th scope="row">{e(key, 80)}</th><td>{e(value, 300)}</td></tr>')
            out.append("</tbody></table>")
        else:
            out.append("<p>No findings were computed and the file has no container tags.</p>")
    out.append("</section>")
    return "".join(out)


def _file_section(r: Report) -> str:
    i = r.input
    probe: dict[str, Any] = r.metadata.get("probe") or {}
    out = [
        '<section id="file"><h2>Checked file</h2><dl class="facts">',
        f'<dt>File</dt><dd><span class="mono">{e(i.path, 300)}</span></dd>',
        f'<dt>SHA-256</dt><dd><span class="mono">{e(i.sha256, 80)}</span></dd>',
        f"<dt>Kind</dt><dd>{e(i.kind, 20)}"
        + (f", {e(probe.get('video_codec'), 40)}" if isinstance(probe, dict) and probe.get("video_codec") else "")
        + "</dd>",
        f"<dt>Sound</dt><dd>{e(sound_facts_sentence(i.sound), 400)}</dd>",
    ]
    if i.kind == "image":
        out.append(f"<dt>Size</dt><dd>{int(i.width)}×{int(i.height)}</dd>")
    else:
        out += [
            f"<dt>Duration</dt><dd>{seconds(i.duration_s)}</dd>",
            f"<dt>Size</dt><dd>{int(i.width)}×{int(i.height)}"
            + (f", {number(i.fps, 3)} frames/s" if i.fps else "")
            + "</dd>",
            f"<dt>Frames compared</dt><dd>{int(i.frames_informative)} of {int(i.frames_sampled)} sampled at "
            f"{number(i.sample_fps, 3)} per second</dd>",
        ]
    if i.unreadable:
        unread = ", ".join(span(a, b) for a, b in i.unreadable)
        out.append(f"<dt>Unreadable</dt><dd>{e(unread)}</dd>")
    out.append("</dl>")
    shots = r.keyframes.query if r.keyframes else ()
    figures = []
    for n, thumb in enumerate(shots):
        img = _img(thumb, f"shot {n + 1} at {seconds(thumb.t)}")
        if img:
            figures.append(f"<figure>{img}<figcaption>{seconds(thumb.t)}</figcaption></figure>")
    if figures:
        out.append(
            f'<p>Keyframes of the clip, one or more per shot (the ones <code>provenance frames</code> writes):</p><div class="shots">{"".join(figures)}</div>'
        )
    out.append("</section>")
    return "".join(out)


def _extra_sections(r: Report) -> str:
    out = []
    if r.candidates:
        out.append(
            '<section id="candidates"><h2>Weaker candidates</h2><p>Below the decision threshold: not evidence.</p><ul>'
        )
        for m in r.candidates:
            out.append(
                f"<li>{e(m.reference.source.title or _basename(m.reference.path), 200)}: score {m.score:.2f}, "
                f"{e(candidate_evidence(m, r))}</li>"
            )
        out.append("</ul></section>")
    if r.warnings:
        out.append('<section id="warnings"><h2>Warnings</h2><ul>')
        out.extend(f"<li>{e(w, 600)}</li>" for w in r.warnings)
        out.append("</ul></section>")
    return "".join(out)


def _footer(r: Report) -> str:
    tool = r.tool
    headline, by_stage = headline_thresholds(tool)
    rows = "".join(f'<tr><th scope="row">{e(k, 60)}</th><td>{e(v, 60)}</td></tr>' for k, v in headline)
    more = f"<p>{by_stage} more thresholds, by stage, in the JSON report.</p>" if by_stage else ""
    idx = r.index
    return (
        '<footer id="reproducibility"><h2>Reproducibility</h2><dl class="facts">'
        f"<dt>Tool</dt><dd>{e(tool.get('name', 'provenance'), 40)} {e(tool.get('version', '?'), 40)}</dd>"
        f"<dt>ffmpeg</dt><dd>{e(tool.get('ffmpeg_version', '?'), 60)}</dd>"
        f"<dt>Hash</dt><dd>{e(tool.get('hash_algorithm', '?'), 60)}</dd>"
        f"<dt>Report schema</dt><dd>{e(r.schema, 60)}</dd>"
        f'<dt>Input SHA-256</dt><dd><span class="mono">{e(r.input.sha256, 80)}</span></dd>'
        f'<dt>Index</dt><dd>{e(idx.get("backend", "?"), 30)} <span class="mono">{e(idx.get("index_id", ""), 80)}</span>, '
        f"{e(idx.get('references', '?'), 20)} references, {e(idx.get('hashes', '?'), 20)} hashes, "
        f"schema {e(idx.get('schema_version', '?'), 10)}</dd>"
        f"<dt>Created</dt><dd>{e(r.created_at, 40)}</dd>"
        "</dl>" + (f"<p>Thresholds</p><table><tbody>{rows}</tbody></table>" if rows else "") + more + "</footer>"
    )


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (no scripts, nothing fetched)."""
    r = report
    title = f"{verdict_label(r.verdict.code)}: {_basename(r.input.path)}"
    body = "".join(
        [
            _verdict(r),
            _claim_section(r),
            _matches_section(r),
            _findings_section(r),
            _text_section(r),
            _file_section(r),
            _extra_sections(r),
            _footer(r),
        ]
    )
    return page(title, body)


def page(title: str, body: str, *, style: str = "") -> str:
    """A self-contained page: the content security policy, no referrer, the house style (and `style`) and
    `body` (already escaped) in its main element; the shell every HTML form of a report shares."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="generator" content="provenance">'
        f"<title>{e(title, 200)}</title><style>{STYLE}{style}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
