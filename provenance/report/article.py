"""Stage report: the article report, one record for every piece of media an article references.

`provenance.article.check_article` builds an `ArticleReport`: the
article's facts and claim, then one `ArticleItem` per piece of media (what
it is, how the page references it, its caption and credit, its own claim,
the downloaded file paired with it and that file's full `Report`, or "not
downloaded" with the command that fetches it), and the files of the media
folder that pair with nothing. Its JSON form (schema
``provenance.article/1``, docs/article-schema.json) holds every item's
report whole; Markdown, HTML and ClaimReview are rendered from it::

    >>> text = render_article(report, "md")
    >>> ArticleReport.from_dict(json.loads(render_article(report, "json"))) == report
    True

Pure functions of the record. Every string from the page, a file name, a
sidecar or a report passes through `text.md`, `text.html_text` or a code
span; links are made only for http(s) URLs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..claims import Claim, MediaRef
from ..errors import BadInputError
from . import RenderOptions, Report, check_options
from .summary import verdict_label, verdict_tone
from .text import clean, json_safe, md

#: The article report's schema and version (docs/article-schema.json); only a breaking change bumps it.
SCHEMA = "provenance.article/1"
#: The forms `render_article` writes.
FORMATS = ("json", "md", "html", "claimreview")


class ItemStatus(StrEnum):
    """What became of an item: its file checked, no file for it in the media folder, or its file failed."""

    CHECKED = "checked"
    NOT_DOWNLOADED = "not_downloaded"
    FAILED = "failed"


class PairedBy(StrEnum):
    """How a downloaded file was paired with an item, strongest first."""

    MAP = "map"
    SIDECAR_URL = "sidecar_url"
    SIDECAR_ID = "sidecar_id"
    FILE_NAME = "file_name"
    POST_ID = "post_id"


#: How each pairing reads in a report.
PAIRED_BY_WORDS = {
    PairedBy.MAP: "named with --map",
    PairedBy.SIDECAR_URL: "its yt-dlp sidecar's URL is the item's",
    PairedBy.SIDECAR_ID: "its yt-dlp sidecar names the item's platform and post id",
    PairedBy.FILE_NAME: "its file name is the one in the item's URL",
    PairedBy.POST_ID: "its file name holds the item's post id",
}


@dataclass(frozen=True)
class ArticleItem:
    """One piece of media of the article, its claim, and what the check of its file found.

    `number` is its place in the report (1-based, the page's order);
    `file` the paired file (None when not downloaded); `paired_by` and
    `pairing` say how it was paired and on what evidence; `fetch` is a
    command that downloads an item not downloaded; `report` is the file's
    full report; `error` and `exit_code` say why a file could not be checked.
    """

    number: int
    media: MediaRef
    claim: Claim
    status: ItemStatus
    file: str | None = None
    paired_by: PairedBy | None = None
    pairing: str | None = None
    fetch: str | None = None
    report: Report | None = None
    error: str | None = None
    exit_code: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": str(self.status),
            "media": self.media.to_dict(),
            "claim": self.claim.to_dict(),
            "file": self.file,
            "paired_by": str(self.paired_by) if self.paired_by else None,
            "pairing": self.pairing,
            "fetch": self.fetch,
            "error": self.error,
            "exit_code": self.exit_code,
            "report": self.report.to_dict() if self.report else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArticleItem:
        return cls(
            number=int(data["number"]),
            media=MediaRef.from_dict(data["media"]),
            claim=Claim.from_dict(data["claim"]),
            status=ItemStatus(data["status"]),
            file=data.get("file"),
            paired_by=PairedBy(data["paired_by"]) if data.get("paired_by") else None,
            pairing=data.get("pairing"),
            fetch=data.get("fetch"),
            report=Report.from_dict(data["report"]) if data.get("report") else None,
            error=data.get("error"),
            exit_code=int(data.get("exit_code") or 0),
        )


@dataclass(frozen=True)
class UnpairedFile:
    """A file of the media folder that no item of the article names, and why it was left."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnpairedFile:
        return cls(path=str(data["path"]), reason=str(data["reason"]))


@dataclass(frozen=True)
class ArticleFacts:
    """The article: where it was read from, its content hash, address, headline, date and the claim it makes."""

    path: str
    sha256: str
    url: str | None
    headline: str | None
    published: str | None
    claim: Claim

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "url": self.url,
            "headline": self.headline,
            "published": self.published,
            "claim": self.claim.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArticleFacts:
        return cls(
            path=str(data["path"]),
            sha256=str(data["sha256"]),
            url=data.get("url"),
            headline=data.get("headline"),
            published=data.get("published"),
            claim=Claim.from_dict(data["claim"]),
        )


@dataclass(frozen=True)
class ArticleReport:
    """Every piece of media an article references, each with its claim and its file's check.

    `media` is in the page's order; `unpaired` lists the media folder's
    files no item names; `tool` and `index` say what made the checks;
    `warnings` what could not be read (of the page or the folder).
    """

    article: ArticleFacts
    media: tuple[ArticleItem, ...]
    unpaired: tuple[UnpairedFile, ...]
    tool: dict[str, Any]
    index: dict[str, Any] | None
    created_at: str
    media_folder: str | None = None
    warnings: tuple[str, ...] = ()
    schema: str = SCHEMA

    def count(self, status: ItemStatus) -> int:
        return sum(1 for item in self.media if item.status == status)

    @property
    def exit_code(self) -> int:
        """The worst exit code of a file that could not be checked (0 when every paired file was)."""
        return max((item.exit_code for item in self.media), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "created_at": self.created_at,
            "article": self.article.to_dict(),
            "summary": {str(s): self.count(s) for s in ItemStatus} | {"unpaired_files": len(self.unpaired)},
            "media": [item.to_dict() for item in self.media],
            "media_folder": self.media_folder,
            "unpaired": [f.to_dict() for f in self.unpaired],
            "warnings": list(self.warnings),
            "tool": self.tool,
            "index": self.index,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArticleReport:
        """Rebuild an article report from its JSON form.

        Raises:
            BadInputError: the document is not an article report this version reads.
        """
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise BadInputError(
                f"not a {SCHEMA} report (schema: {found!r}); give a JSON report written by 'provenance article'"
            )
        try:
            return cls(
                article=ArticleFacts.from_dict(data["article"]),
                media=tuple(ArticleItem.from_dict(m) for m in data.get("media", ())),
                unpaired=tuple(UnpairedFile.from_dict(f) for f in data.get("unpaired", ())),
                tool=dict(data.get("tool") or {}),
                index=dict(data["index"]) if data.get("index") else None,
                created_at=str(data.get("created_at", "")),
                media_folder=data.get("media_folder"),
                warnings=tuple(str(w) for w in data.get("warnings", ())),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadInputError(
                f"article report JSON is incomplete or malformed ({exc!r}); re-run 'provenance article'"
            ) from exc


_GIVE = "give a JSON report written by 'provenance check' or 'provenance article'"


def _load(path: str | Path) -> Any:
    """The saved report's JSON, read within the same bounds as a check's report (`report.load_report_json`)."""
    from . import load_report_json

    return load_report_json(path)


def read_article_report(path: str | Path) -> ArticleReport:
    """Read a JSON article report written by ``provenance article``.

    Raises:
        BadInputError: missing, too large, not JSON or not an article report.
    """
    return ArticleReport.from_dict(_load(path))


def read_any_report(path: str | Path) -> Report | ArticleReport:
    """Read a JSON report of either kind: ``provenance check``'s or ``provenance article``'s (by its schema).

    Raises:
        BadInputError: missing, too large, not JSON, or neither kind of report.
    """
    data = _load(path)
    if isinstance(data, dict) and data.get("schema") == SCHEMA:
        return ArticleReport.from_dict(data)
    from . import report_from_json

    return report_from_json(data, path)


# -- words shared by the forms -------------------------------------------------------------


def item_title(item: ArticleItem) -> str:
    """What an item is, in a few words: "Telegram post", "X post", "YouTube video", "photo", "video"."""
    ref = item.media
    what = {"video": "video", "image": "photo", "post": "post"}[str(ref.kind)]
    return f"{ref.platform} {what}" if ref.platform else what


def where_in_text(ref: MediaRef) -> str:
    """Where the page references an item: "after paragraph 4", "before the first paragraph", "page metadata only"."""
    if ref.paragraph is None:
        return "page metadata only (" + ", ".join(str(r) for r in ref.referenced) + ")"
    if ref.paragraph == 0:
        return "before the first paragraph"
    return f"after paragraph {ref.paragraph}"


def status_words(item: ArticleItem) -> str:
    """The item's state for a reader: its verdict, "not downloaded" or why its file failed."""
    if item.status == ItemStatus.CHECKED and item.report is not None:
        return verdict_label(item.report.verdict.code)
    if item.status == ItemStatus.NOT_DOWNLOADED:
        return "not downloaded"
    return "could not be checked"


def claim_words(claim: Claim) -> str:
    """The item's claim in one line: date, place and where they came from."""
    place = claim.place.label() if claim.place is not None else "no place"
    told = [o.split(": ", 1)[1] for o in claim.origin if ": " in o and o.startswith("media item")]
    source = f" ({'; '.join(told)})" if told else " (the article's)"
    return f"{claim.date or 'no date'}, {place}{source}"


def _credit_words(ref: MediaRef) -> str | None:
    credit = ref.credit
    if credit is None:
        return None
    parts = []
    if credit.agencies:
        parts.append("agencies " + ", ".join(credit.agencies))
    if credit.photographer:
        parts.append("photographer " + credit.photographer)
    return f"{credit.text}" + (f" ({'; '.join(parts)})" if parts else "")


def _code(text: object, limit: int = 300) -> str:
    s = clean(text, limit).replace("`", "'")
    return f"`{s}`" if s else "``"


# -- JSON and Markdown -----------------------------------------------------------------------


def render_article_json(report: ArticleReport) -> str:
    """The article report as indented JSON (the single source of truth)."""
    return json_safe(json.dumps(report.to_dict(), indent=2, ensure_ascii=False)) + "\n"


def item_report_name(item: ArticleItem, assets_dir: str) -> str:
    """Where an item's own Markdown report goes, relative to the article's Markdown (``NAME_files/item-01.md``)."""
    return f"{assets_dir.rstrip('/')}/item-{item.number:02d}.md"


def article_assets(report: ArticleReport, fmt: str, options: RenderOptions | None = None) -> dict[str, bytes]:
    """Files next to a rendered article report: {path relative to it: bytes}.

    Only Markdown saved with an assets folder has any: each checked item's
    own Markdown report (``NAME_files/item-01.md``) with its keyframes in a
    folder beside it (``NAME_files/item-01_files/``), as `provenance check` writes them.
    """
    options = options or RenderOptions()
    if fmt != "md" or not options.assets_dir:
        return {}
    from .markdown import markdown_assets, render_markdown

    out: dict[str, bytes] = {}
    folder = options.assets_dir.rstrip("/")
    for item in report.media:
        if item.report is None:
            continue
        own = f"item-{item.number:02d}_files"
        out[item_report_name(item, folder)] = render_markdown(item.report, assets_dir=own).encode("utf-8")
        for rel, data in markdown_assets(item.report, own).items():
            out[f"{folder}/{rel}"] = data
    return out


def render_article_markdown(report: ArticleReport, *, assets_dir: str | None = None) -> str:
    """The article report as Markdown: the article, a table of items, then each item in full.

    With `assets_dir`, each checked item links its own full report there (`article_assets`).
    """
    r = report
    a = r.article
    lines = [
        "# Provenance article report",
        "",
        f"**{md(a.headline or Path(a.path).name, 300)}**",
        "",
        f"- Article: {md(a.url or a.path, 300)}; published {md(a.published or 'date not stated')}",
        f"- The article's claim: {md(claim_words(a.claim), 600)}",
        f"- Media referenced: {len(r.media)}; checked {r.count(ItemStatus.CHECKED)}, not downloaded "
        f"{r.count(ItemStatus.NOT_DOWNLOADED)}, failed {r.count(ItemStatus.FAILED)}; files paired with nothing "
        f"{len(r.unpaired)}",
        "",
    ]
    if a.claim.text:
        lines += [f"> {md(a.claim.text, 1000)}", ""]
    lines += ["| # | What | URL | File | Result |", "|---|---|---|---|---|"]
    for item in r.media:
        lines.append(
            f"| {item.number} | {md(item_title(item))} | {md(item.media.url, 200)} | "
            f"{md(Path(item.file).name if item.file else '-', 120)} | {md(status_words(item))} |"
        )
    lines.append("")
    for item in r.media:
        lines += _markdown_item(item, assets_dir)
    if r.unpaired:
        lines += [f"## Files in {md(r.media_folder or 'the media folder')} paired with no item", ""]
        lines += [f"- {md(f.path, 300)}: {md(f.reason, 300)}" for f in r.unpaired]
        lines.append("")
    if r.warnings:
        lines += ["## Warnings", ""] + [f"- {md(w)}" for w in r.warnings] + [""]
    lines += [
        "## Reproducibility",
        "",
        f"- provenance {md(r.tool.get('version', '?'))}, article report schema {md(r.schema)}",
        f"- Article SHA-256: {_code(a.sha256, 80)}",
    ]
    if r.index:
        lines.append(
            f"- Index: {md(r.index.get('backend', '?'))} {md(r.index.get('index_id', ''))}, "
            f"{md(r.index.get('references', '?'))} references"
        )
    lines += [f"- Report created {md(r.created_at)}", ""]
    return "\n".join(lines)


def _markdown_item(item: ArticleItem, assets_dir: str | None) -> list[str]:
    ref = item.media
    lines = [f"## {item.number}. {md(item_title(item))}: {md(status_words(item))}", ""]
    lines.append(f"- URL: {md(ref.url, 400)}")
    lines.append(f"- In the page: {md(where_in_text(ref))}; referenced as {md(', '.join(map(str, ref.referenced)))}")
    if ref.caption:
        lines.append(f"- Caption: {md(ref.caption, 1000)}")
    credit = _credit_words(ref)
    if credit:
        lines.append(f"- Credit: {md(credit, 400)}")
    if ref.alt:
        lines.append(f"- Alt text: {md(ref.alt, 400)}")
    lines.append(f"- Claim: {md(claim_words(item.claim), 600)}")
    for sentence in ref.context:
        lines.append(f"  - around it: {md(sentence, 400)}")
    if item.status == ItemStatus.NOT_DOWNLOADED:
        lines += ["- File: **not downloaded**. Fetch it into the media folder and run again:", ""]
        lines += ["  ```", f"  {clean(item.fetch or '', 2500)}", "  ```", ""]
        return lines
    lines.append(
        f"- File: {md(item.file, 300)} ({md(PAIRED_BY_WORDS.get(item.paired_by, '') if item.paired_by else '')}"
        + (f": {md(item.pairing, 300)}" if item.pairing else "")
        + ")"
    )
    if item.status == ItemStatus.FAILED or item.report is None:
        lines += [f"- **Could not be checked**: {md(item.error or 'no report', 600)}", ""]
        return lines
    rep = item.report
    lines.append(
        f"- **Verdict: {md(verdict_label(rep.verdict.code))}** ({_code(rep.verdict.code)}): {md(rep.verdict.summary, 800)}"
    )
    lines += [f"  - {md(e, 800)}" for e in rep.verdict.evidence]
    for n, m in enumerate(rep.matches, 1):
        s = m.reference.source
        lines.append(
            f"- Match {n}: {md(s.title or Path(m.reference.path).name, 200)}, first seen {md(s.first_seen or 'unknown')}"
            f", source {md(s.source_url or 'unknown', 300)} (score {m.score:.2f})"
        )
    if assets_dir:
        lines.append(f"- [Its full report, with the frames]({quote(item_report_name(item, assets_dir))})")
    lines.append("")
    return lines


# -- HTML --------------------------------------------------------------------------------------

#: Rules the article page adds to the check report's style sheet.
ARTICLE_STYLE = """
section.item { border-left: 6px solid #adb5bd; }
section.item.alert { border-left-color: #c92a2a; }
section.item.weak { border-left-color: #e67700; }
section.item.neutral { border-left-color: #1971c2; }
section.item.todo { border-left-color: #868e96; background: #f8f9fa; }
table.items td, table.items th { font-size: .92rem; }
pre.fetch { background: #212529; color: #f8f9fa; padding: .5rem .75rem; border-radius: 4px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; font-size: .85rem; }
.status { font-weight: 700; }
"""


def render_article_html(report: ArticleReport) -> str:
    """The article report as one self-contained HTML page: every item, with its check's frames."""
    from .html import _link, e, page

    r = report
    a = r.article
    rows = []
    for item in r.media:
        rows.append(
            f'<tr><td><a href="#item-{item.number}">{item.number}</a></td><td>{e(item_title(item), 60)}</td>'
            f"<td>{_link(item.media.url, None, 120)}</td>"
            f'<td><span class="mono">{e(Path(item.file).name if item.file else "–", 120)}</span></td>'
            f'<td class="status">{e(status_words(item), 80)}</td></tr>'
        )
    head = (
        '<header class="verdict neutral" id="article">'
        f'<p class="kicker">Provenance article report · {e(r.created_at, 40)}</p>'
        f"<h1>{e(a.headline or Path(a.path).name, 300)}</h1>"
        f'<p class="summary">{len(r.media)} pieces of media referenced: {r.count(ItemStatus.CHECKED)} checked, '
        f"{r.count(ItemStatus.NOT_DOWNLOADED)} not downloaded, {r.count(ItemStatus.FAILED)} could not be checked.</p>"
        '<dl class="facts">'
        f"<dt>Article</dt><dd>{_link(a.url) if a.url else e(a.path, 300)}</dd>"
        f"<dt>Published</dt><dd>{e(a.published or 'date not stated', 40)}</dd>"
        f"<dt>Its claim</dt><dd>{e(claim_words(a.claim), 600)}</dd>"
        "</dl>" + (f"<blockquote>{e(a.claim.text, 1000)}</blockquote>" if a.claim.text else "") + "</header>"
    )
    table = (
        '<section id="items"><h2>Media of the article</h2><table class="items"><thead><tr><th>#</th><th>What</th>'
        "<th>URL</th><th>File</th><th>Result</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )
    items = "".join(_html_item(item) for item in r.media)
    extra = ""
    if r.unpaired:
        extra += (
            f'<section id="unpaired"><h2>Files in {e(r.media_folder or "the media folder", 300)} paired with no item</h2><ul>'
            + "".join(f'<li><span class="mono">{e(f.path, 300)}</span>: {e(f.reason, 300)}</li>' for f in r.unpaired)
            + "</ul></section>"
        )
    if r.warnings:
        extra += (
            '<section id="warnings"><h2>Warnings</h2><ul>'
            + "".join(f"<li>{e(w, 600)}</li>" for w in r.warnings)
            + "</ul></section>"
        )
    idx = r.index or {}
    footer = (
        '<footer id="reproducibility"><h2>Reproducibility</h2><dl class="facts">'
        f"<dt>Tool</dt><dd>provenance {e(r.tool.get('version', '?'), 40)}</dd>"
        f"<dt>Report schema</dt><dd>{e(r.schema, 60)}</dd>"
        f'<dt>Article SHA-256</dt><dd><span class="mono">{e(a.sha256, 80)}</span></dd>'
        + (
            f'<dt>Index</dt><dd>{e(idx.get("backend", "?"), 30)} <span class="mono">{e(idx.get("index_id", ""), 80)}</span>, '
            f"{e(idx.get('references', '?'), 20)} references</dd>"
            if idx
            else ""
        )
        + f"<dt>Created</dt><dd>{e(r.created_at, 40)}</dd></dl></footer>"
    )
    title = f"Article report: {a.headline or Path(a.path).name}"
    return page(title, f"{head}{table}{items}{extra}{footer}", style=ARTICLE_STYLE)


def _html_item(item: ArticleItem) -> str:
    from .html import _img, _link, _match, e
    from .words import seconds

    ref = item.media
    rep = item.report
    tone = (
        verdict_tone(rep.verdict.code)
        if rep is not None
        else ("todo" if item.status == ItemStatus.NOT_DOWNLOADED else "weak")
    )
    facts = [
        f"<dt>URL</dt><dd>{_link(ref.url, None, 400)}</dd>",
        f"<dt>In the page</dt><dd>{e(where_in_text(ref), 200)}; referenced as {e(', '.join(map(str, ref.referenced)), 200)}</dd>",
    ]
    if ref.caption:
        facts.append(f"<dt>Caption</dt><dd>{e(ref.caption, 1000)}</dd>")
    credit = _credit_words(ref)
    if credit:
        facts.append(f"<dt>Credit</dt><dd>{e(credit, 400)}</dd>")
    if ref.alt:
        facts.append(f"<dt>Alt text</dt><dd>{e(ref.alt, 400)}</dd>")
    facts.append(f"<dt>Claim</dt><dd>{e(claim_words(item.claim), 600)}</dd>")
    if ref.context:
        facts.append("<dt>Around it</dt><dd>" + " ".join(f"“{e(s, 400)}”" for s in ref.context) + "</dd>")
    if item.file:
        how = PAIRED_BY_WORDS.get(item.paired_by, "") if item.paired_by else ""
        facts.append(
            f'<dt>File</dt><dd><span class="mono">{e(item.file, 300)}</span> ({e(how, 100)}'
            + (f": {e(item.pairing, 300)}" if item.pairing else "")
            + ")</dd>"
        )
    out = [
        f'<section class="item {tone}" id="item-{item.number}">',
        f"<h2>{item.number}. {e(item_title(item), 60)}: {e(status_words(item), 80)}</h2>",
        '<dl class="facts">' + "".join(facts) + "</dl>",
    ]
    if item.status == ItemStatus.NOT_DOWNLOADED:
        out.append("<p><strong>Not downloaded.</strong> Fetch it into the media folder and run again:</p>")
        out.append(f'<pre class="fetch">{e(item.fetch or "", 2500)}</pre>')
    elif rep is None:
        out.append(f'<p class="note">Could not be checked: {e(item.error or "no report", 600)}</p>')
    else:
        out.append(
            f'<p class="summary"><strong>{e(verdict_label(rep.verdict.code), 120)}</strong> '
            f"(<code>{e(rep.verdict.code, 80)}</code>): {e(rep.verdict.summary, 800)}</p>"
        )
        if rep.verdict.evidence:
            out.append(
                '<ul class="evidence">' + "".join(f"<li>{e(x, 800)}</li>" for x in rep.verdict.evidence) + "</ul>"
            )
        shots = [
            f"<figure>{img}<figcaption>{seconds(t.t)}</figcaption></figure>"
            for n, t in enumerate(rep.keyframes.query if rep.keyframes else ())
            if (img := _img(t, f"item {item.number}, shot {n + 1} at {seconds(t.t)}"))
        ]
        if shots:
            out.append(f'<p>The file, one frame per shot:</p><div class="shots">{"".join(shots)}</div>')
        if rep.matches:
            out.append(
                "".join(_match(rep, n) for n in range(len(rep.matches))).replace(
                    'id="match-', f'id="item-{item.number}-match-'
                )
            )
        else:
            out.append(
                "<p>No footage in this index matches the file: <strong>not found in this index</strong>, not authentic.</p>"
            )
    out.append("</section>")
    return "".join(out)


# -- ClaimReview ---------------------------------------------------------------------------------


def article_claimreviews(report: ArticleReport, options: RenderOptions) -> list[dict[str, Any]]:
    """One ClaimReview (with its MediaReview) per checked item, as `report.claimreview` makes them.

    Raises:
        BadInputError: the review URL or the organisation is missing, or a URL is not http(s).
    """
    from .claimreview import claimreview

    return [claimreview(item.report, options) for item in report.media if item.report is not None]


def render_article(report: ArticleReport, fmt: str = "json", options: RenderOptions | None = None) -> str:
    """Render an article report in one of `FORMATS` (a pure function of the record and options).

    Raises:
        BadInputError: the format is unknown, or claimreview lacks its review URL or organisation.
    """
    options = options or RenderOptions()
    check_options(fmt, options)
    if fmt == "json":
        return render_article_json(report)
    if fmt == "md":
        return render_article_markdown(report, assets_dir=options.assets_dir)
    if fmt == "html":
        return render_article_html(report)
    docs = article_claimreviews(report, options)
    text = json.dumps(docs, indent=2, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"
