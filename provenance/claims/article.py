"""Stage claims: reading an article saved as text or HTML, confined and offline.

An article is reduced to its text, headline and publication date. HTML is
read with the standard library's parser (no recursion, no network; scripts,
styles, navigation and footers dropped); the date comes from the page's
metadata (JSON-LD ``datePublished``, ``article:published_time``, ``<time
datetime>``) or, in plain text, from a dateline among the first lines.
Input is bounded by `MAX_ARTICLE_BYTES` and `MAX_ARTICLE_CHARS`::

    >>> article = read_article("samples/article.txt")
    >>> article.published, article.headline[:40]
    ('2024-01-19', 'Video said to show police retreating fro')
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from ..files import read_bounded
from .dates import first_date, sentences
from .media import (
    MAX_CAPTION_CHARS,
    MAX_MEDIA_ITEMS,
    MAX_URLS_PER_ITEM,
    META_REFERENCES,
    Canonical,
    Credit,
    HowReferenced,
    MediaKind,
    MediaRef,
    canonical_url,
    is_post,
    merge_refs,
    parse_credit,
    picture_stem,
    split_credit,
)

#: Largest article file (text or saved HTML) read, bytes. Saved pages carry
#: inline scripts and styles, hence the margin.
MAX_ARTICLE_BYTES = 10 << 20
#: Most characters of article text analysed (after HTML is reduced to text).
MAX_ARTICLE_CHARS = 200_000
#: Most characters of a page's JSON-LD scripts kept (1 MiB, the largest claim file).
MAX_JSON_LD_CHARS = 1 << 20


#: Most media references (links, embeds, pictures) read from one page before the rest are ignored.
MAX_RAW_REFERENCES = 20_000
#: Sentences kept on each side of an item as its context, 1-5: 2 holds the sentence that introduces an
#: embed and the one that comments on it on the seed and held-out pages (docs/article.md).
CONTEXT_SENTENCES = 2
#: Marks where a media reference sits while the page's text is assembled (a private-use character,
#: removed from the page's own text first).
_MARK = "\ue000"


@dataclass(frozen=True)
class Article:
    """An article reduced to text: its headline, publication date (if stated), body and the media it references.

    `url` is the page's own address when the page states it (``og:url``,
    ``<link rel="canonical">``); `media` lists every piece of media it
    references, each once, in the order of the page (`MediaRef`).
    """

    text: str
    headline: str | None = None
    published: str | None = None
    warnings: tuple[str, ...] = ()
    url: str | None = None
    media: tuple[MediaRef, ...] = ()


@dataclass
class _Raw:
    """One reference as the parser met it, before URLs are resolved and references merged."""

    urls: list[str]
    how: HowReferenced
    mark: int | None = None
    alt: str | None = None
    figure: _Figure | None = None
    kind: MediaKind | None = None


@dataclass
class _Figure:
    """A ``<figure>`` being read: its caption's text and any credit printed apart from it."""

    caption: list[str]
    credit: list[str]
    in_caption: int = 0
    in_credit: int = 0


class _ArticleHTML(HTMLParser):
    """Text, headline and publication date of a saved news page (stdlib parser: no recursion, no network)."""

    SKIP = {"script", "style", "nav", "footer", "aside", "form", "noscript", "svg", "template", "button", "iframe"}
    #: Parts of a page that are not the article: media referenced there are not the article's.
    OUTSIDE = {"nav", "footer", "aside", "form"}
    BLOCK = {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "li",
        "blockquote",
        "figcaption",
        "div",
        "section",
        "article",
        "br",
        "tr",
        "time",
        "header",
        "title",
    }
    DATE_META = {
        "article:published_time",
        "og:published_time",
        "datepublished",
        "date",
        "pubdate",
        "publishdate",
        "dc.date",
        "dc.date.issued",
        "dcterms.created",
        "parsely-pub-date",
        "sailthru.date",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.stack: list[str] = []
        self.in_title = False
        self.in_h1 = False
        self.title = ""
        self.h1 = ""
        self.dates: list[str] = []
        self.og_title: str | None = None
        self.json_ld: list[str] = []
        self.in_json_ld = False
        self.json_buf: list[str] = []
        self.raw: list[_Raw] = []
        self.marks = 0
        self.page_urls: list[str] = []
        self.figures: list[_Figure] = []
        self.outside = 0  # inside navigation, footers, asides, forms: not the article
        self.embed_depth = 0  # inside a <blockquote> a widget script turns into an embed
        self.video_depth = 0
        self.dropped = 0

    # -- media references -----------------------------------------------------------

    def _reference(
        self, urls: list[str], how: HowReferenced, *, alt: str | None = None, kind: MediaKind | None = None
    ) -> None:
        urls = [u for u in urls if u and u.strip()]
        if not urls or (self.outside and how not in META_REFERENCES):
            return
        if len(self.raw) >= MAX_RAW_REFERENCES:
            self.dropped += 1
            return
        mark = None
        if how not in META_REFERENCES:
            mark = self.marks
            self.marks += 1
            self.parts.append(_MARK)
        figure = (
            self.figures[-1]
            if self.figures
            and how in (HowReferenced.FIGURE, HowReferenced.VIDEO, HowReferenced.IFRAME, HowReferenced.EMBED)
            else None
        )
        self.raw.append(_Raw(urls, how, mark, alt, figure, kind))

    def _media_tag(self, tag: str, a: dict[str, str]) -> None:
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            how = {
                "og:video": HowReferenced.OG_VIDEO,
                "og:video:url": HowReferenced.OG_VIDEO,
                "og:video:secure_url": HowReferenced.OG_VIDEO,
                "og:image": HowReferenced.OG_IMAGE,
                "og:image:url": HowReferenced.OG_IMAGE,
                "og:image:secure_url": HowReferenced.OG_IMAGE,
                "twitter:player": HowReferenced.TWITTER_PLAYER,
                "twitter:player:stream": HowReferenced.TWITTER_PLAYER,
                "twitter:image": HowReferenced.TWITTER_IMAGE,
                "twitter:image:src": HowReferenced.TWITTER_IMAGE,
            }.get(key)
            if how is not None:
                kind = (
                    MediaKind.IMAGE if how in (HowReferenced.OG_IMAGE, HowReferenced.TWITTER_IMAGE) else MediaKind.VIDEO
                )
                self._reference([a.get("content", "")], how, kind=kind)
            elif key == "og:url" and a.get("content"):
                self.page_urls.insert(0, a["content"])
            return
        if tag == "link" and "canonical" in a.get("rel", "").lower().split() and a.get("href"):
            self.page_urls.append(a["href"])
        elif tag == "figure":
            self.figures.append(_Figure([], []))
        elif tag == "figcaption" and self.figures:
            self.figures[-1].in_caption += 1
        elif self.figures and self.figures[-1].in_credit and tag not in _VOID:
            self.figures[-1].in_credit += 1
        elif self.figures and self.figures[-1].in_caption and tag not in _VOID and _is_credit(a):
            self.figures[-1].in_credit += 1
        elif tag == "video":
            self.video_depth += 1
            self._reference([a.get("src", ""), a.get("data-src", "")], HowReferenced.VIDEO, kind=MediaKind.VIDEO)
        elif tag == "source" and self.video_depth:
            self._reference([a.get("src", ""), a.get("data-src", "")], HowReferenced.VIDEO, kind=MediaKind.VIDEO)
        elif tag == "img" and self.figures:
            urls = [a.get("src", ""), a.get("data-src", ""), a.get("data-lazy-src", ""), a.get("data-original", "")]
            urls += _srcset(a.get("srcset", "") or a.get("data-srcset", ""))
            self._reference(urls, HowReferenced.FIGURE, alt=a.get("alt") or None, kind=MediaKind.IMAGE)
        elif tag == "iframe":
            self._reference([a.get("src", ""), a.get("data-src", "")], HowReferenced.IFRAME)
        elif tag == "script" and a.get("data-telegram-post"):
            post = a["data-telegram-post"].strip().strip("/")
            self._reference([f"https://t.me/{post}"], HowReferenced.EMBED)
        elif tag == "blockquote":
            classes = a.get("class", "").lower()
            if any(
                w in classes
                for w in (
                    "twitter-tweet",
                    "instagram-media",
                    "tiktok-embed",
                    "reddit-embed",
                    "bluesky-embed",
                    "text-post-media",
                )
            ):
                self.embed_depth += 1
                self._reference(
                    [a.get("data-instgrm-permalink", ""), a.get("cite", ""), a.get("data-bluesky-uri", "")],
                    HowReferenced.EMBED,
                )
        elif tag == "div" and a.get("data-href") and re.search(r"\bfb-(?:video|post)\b", a.get("class", "")[:500]):
            self._reference([a["data-href"]], HowReferenced.EMBED)  # the Facebook SDK's embed, before its script runs
        elif tag == "a" and a.get("href"):
            self._reference([a["href"]], HowReferenced.EMBED if self.embed_depth else HowReferenced.LINK)

    def _media_end(self, tag: str) -> None:
        if tag == "figure" and self.figures:
            self.figures.pop()
        elif tag == "figcaption" and self.figures and self.figures[-1].in_caption:
            self.figures[-1].in_caption -= 1
        elif tag == "video" and self.video_depth:
            self.video_depth -= 1
        elif tag == "blockquote" and self.embed_depth:
            self.embed_depth -= 1
        elif tag not in _VOID and self.figures and self.figures[-1].in_credit:
            self.figures[-1].in_credit -= 1

    # -- text --------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        self._media_tag(tag, a)
        if tag in self.OUTSIDE:
            self.outside += 1
        if tag == "script" and a.get("type", "").lower() == "application/ld+json":
            self.in_json_ld = True
            self.json_buf = []
        if tag in self.SKIP:
            self.skip_depth += 1
            return
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key in self.DATE_META and a.get("content"):
                self.dates.append(a["content"])
            if key in ("og:title", "twitter:title") and a.get("content") and not self.og_title:
                self.og_title = a["content"]
            return
        if tag == "time" and a.get("datetime"):
            self.dates.append(a["datetime"])
        if a.get("itemprop", "").lower() == "datepublished" and (a.get("content") or a.get("datetime")):
            self.dates.append(a.get("content") or a.get("datetime") or "")
        if tag == "title":
            self.in_title = True
        if tag == "h1":
            self.in_h1 = True
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        self._media_end(tag)
        if tag in self.OUTSIDE:
            self.outside = max(0, self.outside - 1)
        if tag == "script" and self.in_json_ld:
            self.in_json_ld = False
            self.json_ld.append("".join(self.json_buf))
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "title":
            self.in_title = False
        if tag == "h1":
            self.in_h1 = False
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("meta",) and tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        if tag in self.OUTSIDE:
            self.outside = max(0, self.outside - 1)
        if tag in ("figure", "video", "blockquote", "figcaption"):
            self._media_end(tag)

    def handle_data(self, data: str) -> None:
        if self.in_json_ld:
            if sum(len(b) for b in self.json_buf) < MAX_JSON_LD_CHARS:
                self.json_buf.append(data)
            return
        if self.skip_depth:
            return
        data = data.replace(_MARK, "")
        figure = self.figures[-1] if self.figures else None
        if figure is not None and figure.in_caption:
            (figure.credit if figure.in_credit else figure.caption).append(data)
        if self.in_title:
            self.title += data
            return
        if self.in_h1:
            self.h1 += data
        self.parts.append(data)


_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
_CREDIT_CLASS = re.compile(r"credit|copyright|byline|source|author|photographer|caption__source|attribution", re.I)


def _is_credit(a: dict[str, str]) -> bool:
    """Whether an element inside a caption holds the picture's credit (by its class or itemprop)."""
    return bool(
        _CREDIT_CLASS.search(a.get("class", "")[:500])
        or a.get("itemprop", "").lower() in ("copyrightholder", "creator", "author")
    )


def _srcset(value: str) -> list[str]:
    """The URLs of a ``srcset``, largest first (``a.jpg 480w, b.jpg 1200w``)."""
    found: list[tuple[float, str]] = []
    for part in value[:20_000].split(",")[:50]:
        bits = part.split()
        if not bits:
            continue
        size = 0.0
        if len(bits) > 1:
            m = re.fullmatch(r"(\d+(?:\.\d+)?)[wx]", bits[1])
            size = float(m.group(1)) if m else 0.0
        found.append((size, bits[0]))
    return [url for _, url in sorted(found, key=lambda f: -f[0])]


def _json_ld_facts(blobs: list[str], videos: list[str] | None = None) -> tuple[list[str], str | None]:
    dates: list[str] = []
    headline: str | None = None
    stack: list[Any] = []
    for blob in blobs[:20]:
        try:
            stack.append(json.loads(blob))
        except (json.JSONDecodeError, RecursionError, ValueError):
            continue
    visited = 0
    while stack and visited < 10_000:
        node = stack.pop()
        visited += 1
        if isinstance(node, dict):
            for key in ("datePublished", "dateCreated", "uploadDate"):
                if isinstance(node.get(key), str):
                    dates.append(node[key])
            if headline is None and isinstance(node.get("headline"), str):
                headline = node["headline"]
            if videos is not None and str(node.get("@type")) == "VideoObject":
                videos.extend(str(node[k]) for k in ("contentUrl", "embedUrl") if isinstance(node.get(k), str))
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node[:1000] if isinstance(v, (dict, list)))
    return dates, headline


def _decode(data: bytes, path: str) -> tuple[str, list[str]]:
    warnings: list[str] = []
    try:
        return data.decode("utf-8-sig"), warnings
    except UnicodeDecodeError:
        pass
    m = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]{2,40})", data[:4096], re.I)
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"), "replace"), warnings
        except LookupError:
            pass
    text = data.decode("utf-8", "replace")
    warnings.append(f"{path}: not valid UTF-8; {text.count(chr(0xFFFD))} unreadable characters were replaced")
    return text, warnings


def read_article(path: Path | str) -> Article:
    """Read an article saved as plain text or HTML, within `MAX_ARTICLE_BYTES`.

    For HTML the publication date comes from the page's metadata (JSON-LD
    ``datePublished``, ``article:published_time``, ``<time datetime>``) and
    navigation, footers, scripts and styles are dropped. For text, a date on
    its own among the first lines (or after "Published") is the article's date.

    Args:
        path: a .txt or .html file (HTML is also recognised by its first bytes).

    Returns:
        The `Article`: text, headline, publication date, warnings.

    Raises:
        BadInputError: missing, unreadable, too large, binary or empty.
    """
    file = Path(path)
    data = read_bounded(
        file,
        what="article",
        limit=MAX_ARTICLE_BYTES,
        expected="an article saved as .txt or .html",
        too_large="save only the article's page or its text",
    )
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInputError(f"{path}: binary file, not an article; save the article as text or HTML")
    text, warnings = _decode(data, str(path))
    looks_html = file.suffix.lower() in (".html", ".htm", ".xhtml") or re.match(
        r"\s*(<!doctype html|<html|<head|<body|<meta)", text[:1000], re.I
    )
    if looks_html:
        return article_from_html(text, warnings=warnings)
    return article_from_text(text, warnings=warnings)


def article_from_text(text: str, *, warnings: list[str] | None = None) -> Article:
    """An `Article` from plain text: the first line is the headline; a dateline among the first lines dates it.

    Args:
        text: the article's text.
        warnings: warnings so far (for example about its encoding), kept in the article.

    Returns:
        The article, its text cut to `MAX_ARTICLE_CHARS`.

    Raises:
        BadInputError: the text is empty.
    """
    warns = list(warnings or ())
    text = _bounded(text, warns)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise BadInputError("the article is empty; give the text of the news report")
    headline = lines[0][:300] if len(lines) > 1 else None
    published = None
    for line in lines[:6]:
        short = len(line) <= 80
        m = re.match(r"(?i)^(?:published|posted|updated|date|dated)\s*:?\s*(?:on\s+)?(.*)$", line)
        if m or short:
            day = first_date([m.group(1) if m else line])
            if day is not None:
                published = day.isoformat()
                break
    return Article(
        text=text, headline=headline, published=published, warnings=tuple(warns), media=_text_media(text, warns)
    )


#: A URL written out in plain text (its trailing punctuation is the sentence's, not the URL's).
_TEXT_URL = re.compile(
    r"(?:https?://|(?<![\w./@])(?:t\.me|x\.com|twitter\.com|youtu\.be|youtube\.com|www\.youtube\.com|tiktok\.com|www\.tiktok\.com|instagram\.com|www\.instagram\.com|vk\.com|fb\.watch|facebook\.com|www\.facebook\.com)/)[^\s<>\"'\]\[(){}]+"
)


def _text_media(text: str, warnings: list[str]) -> tuple[MediaRef, ...]:
    """The posts and video files a plain-text article names by URL, each once, where they stand in the text."""
    raws: list[_Raw] = []
    offsets: list[int] = []
    for m in _TEXT_URL.finditer(text):
        if len(raws) >= MAX_RAW_REFERENCES:
            warnings.append(f"the article names more than {MAX_RAW_REFERENCES} URLs; the rest were not read")
            break
        url = m.group(0).rstrip(".,;:!?…")
        if not url.startswith("http"):
            url = "https://" + url
        raws.append(_Raw([url], HowReferenced.LINK, mark=len(offsets)))
        offsets.append(m.start())
    return _media(raws, offsets, text, None, warnings) if raws else ()


def article_from_html(html: str, *, warnings: list[str] | None = None) -> Article:
    """An `Article` from a saved HTML page (text, headline, publication date).

    Args:
        html: the page.
        warnings: warnings so far (for example about its encoding), kept in the article.

    Returns:
        The article; damaged markup gives the text read before the damage, with a warning.

    Raises:
        BadInputError: the page has no article text.
    """
    warns = list(warnings or ())
    parser = _ArticleHTML()
    try:
        parser.feed(html[:MAX_ARTICLE_BYTES])
        parser.close()
    except (AssertionError, ValueError, RecursionError) as exc:  # html.parser asserts on some broken markup
        warns.append(f"the HTML is damaged ({type(exc).__name__}); the text read before the damage is used")
    ld_videos: list[str] = []
    ld_dates, ld_headline = _json_ld_facts(parser.json_ld, ld_videos)
    for url in ld_videos[:50]:
        parser._reference([url], HowReferenced.JSON_LD, kind=MediaKind.VIDEO)
    raw = "".join(parser.parts)
    body = "\n".join(" ".join(line.split()) for line in raw.splitlines())
    body, marks = _unmarked(re.sub(r"\n{2,}", "\n\n", body).strip())
    body = _bounded(body, warns)
    if not body:
        raise BadInputError("the HTML page has no article text; save the article's page, not an index or a login page")
    headline = " ".join((ld_headline or parser.h1 or parser.og_title or parser.title or "").split())[:300] or None
    day = first_date(ld_dates + parser.dates)
    text_article = article_from_text(body)
    published = day.isoformat() if day else text_article.published
    page_url = next((c.url for u in parser.page_urls[:5] if (c := canonical_url(u)) is not None and c.url), None)
    if parser.dropped:
        warns.append(f"the page references more than {MAX_RAW_REFERENCES} links and media; the rest were not read")
    media = _media(parser.raw, marks, body, page_url, warns)
    return Article(text=body, headline=headline, published=published, warnings=tuple(warns), url=page_url, media=media)


#: What removing a mark can leave behind: two spaces, a space at a line's edge, two blank lines.
_SQUEEZE = re.compile(r"(?<=\n) +| +(?=\n)|(?P<spaces> {2,})|(?P<lines>\n{3,})")


def _unmarked(text: str) -> tuple[str, list[int]]:
    """`text` without its media marks, and where each mark stood (in the text returned).

    Removing a mark may leave a line empty or two spaces together; these
    are squeezed as the page's text is (one space, at most one blank line),
    and the marks' offsets follow. Linear in the text (regular expressions
    over the whole text, a pass over the marks).
    """
    if _MARK not in text:
        return text.strip(), []
    pieces = text.split(_MARK)
    marks: list[int] = []
    total = 0
    for piece in pieces[:-1]:
        total += len(piece)
        marks.append(total)
    joined = "".join(pieces)
    out: list[str] = []
    shifts: list[tuple[int, int, int]] = []  # (start, end, length kept) of each squeezed run
    last = 0
    for m in _SQUEEZE.finditer(joined):
        run = m.group(0)
        keep = 2 if m.group("lines") else 1 if m.group("spaces") else 0
        out.append(joined[last : m.start()] + run[:keep])
        shifts.append((m.start(), m.end(), keep))
        last = m.end()
    out.append(joined[last:])
    squeezed = "".join(out)
    moved: list[int] = []
    removed, i = 0, 0
    for mark in marks:  # marks ascend, runs ascend
        while i < len(shifts) and shifts[i][1] <= mark:
            removed += (shifts[i][1] - shifts[i][0]) - shifts[i][2]
            i += 1
        inside = i < len(shifts) and shifts[i][0] < mark
        moved.append((shifts[i][0] + shifts[i][2] if inside else mark) - removed)
    lead = len(squeezed) - len(squeezed.lstrip())
    stripped = squeezed.strip()
    return stripped, [max(0, min(m - lead, len(stripped))) for m in moved]


def _media(
    raws: list[_Raw], marks: list[int], text: str, base: str | None, warnings: list[str]
) -> tuple[MediaRef, ...]:
    """Every reference of the page resolved, each item once (by canonical key), in the page's order."""
    ends = [m.end() for m in re.finditer(r"\n\s*\n", text)]
    items: dict[str, MediaRef] = {}
    named: dict[str, bool] = {}
    alias: dict[str, str] = {}  # every key and picture name an item was reached by -> the item's key
    for raw in raws:
        found: Canonical | None = None
        chosen = ""
        forms: list[Canonical] = []
        for url in raw.urls[:8]:
            c = canonical_url(url, base)
            if c is not None and c.key:
                forms.append(c)
                if found is None:
                    found, chosen = c, url
        if found is None:
            continue
        if (
            raw.how in (HowReferenced.LINK, HowReferenced.IFRAME)
            and not is_post(found)
            and found.kind != MediaKind.VIDEO
        ):
            continue  # a link to an article or a profile, an ad's iframe: no media
        if raw.how == HowReferenced.EMBED and not is_post(found):
            continue
        offset = marks[raw.mark] if raw.mark is not None and raw.mark < len(marks) else None
        names = {c.key for c in forms}
        if raw.kind == MediaKind.IMAGE or found.kind == MediaKind.IMAGE:  # one picture at several sizes or formats
            names |= {f"picture:{stem}" for c in forms if c.platform is None and (stem := picture_stem(c.url))}
        known = next((alias[n] for n in names if n in alias), None)
        if known is not None and _adds_nothing(items[known], raw, chosen, offset, found.named and not named[known]):
            continue  # the hundredth link to the same post: nothing new to keep
        caption, credit = _caption(raw.figure)
        kind = raw.kind if raw.kind in (MediaKind.VIDEO, MediaKind.IMAGE) and found.kind != MediaKind.VIDEO else None
        ref = MediaRef(
            url=found.url,
            key=found.key,
            kind=kind or found.kind or MediaKind.POST,
            platform=found.platform,
            post_id=found.post_id,
            urls=(" ".join(chosen.split())[:2000],),
            referenced=(raw.how,),
            caption=caption,
            alt=" ".join(raw.alt.split())[:MAX_CAPTION_CHARS] if raw.alt and raw.alt.strip() else None,
            credit=credit,
            offset=offset,
            paragraph=_paragraph(ends, text, offset),
        )
        key = known
        if key is not None:
            # a post URL that names its account, else the form the text itself uses, is the one shown
            better = (found.named and not named[key]) or (items[key].offset is None and ref.offset is not None)
            items[key] = merge_refs(items[key], ref, url=found.url if better else None)
            named[key] = named[key] or found.named
        elif len(items) < MAX_MEDIA_ITEMS:
            key = found.key
            items[key] = ref
            named[key] = found.named
        else:
            warnings.append(
                f"the page references more than {MAX_MEDIA_ITEMS} pieces of media; only the first were read"
            )
            break
        for n in names:
            alias.setdefault(n, key)
    ordered = sorted(items.values(), key=lambda r: (r.offset is None, r.offset or 0))
    captions = [" ".join(x for x in (r.caption, r.credit.text if r.credit else None) if x) for r in ordered]
    out = []
    for r in ordered:
        before, after = _context(text, r, [c for c in captions if c])
        out.append(replace(r, context=before + after, context_before=len(before)))
    return tuple(out)


def _adds_nothing(item: MediaRef, raw: _Raw, url: str, offset: int | None, better_url: bool) -> bool:
    """Whether one more reference to a known item would change nothing kept of it."""
    return (
        not better_url
        and raw.how in item.referenced
        and raw.figure is None
        and not raw.alt
        and (item.offset is not None or offset is None)
        and (len(item.urls) >= MAX_URLS_PER_ITEM or url in item.urls)
        and (item.kind != MediaKind.POST or raw.kind is None)
    )


def _caption(figure: _Figure | None) -> tuple[str | None, Credit | None]:
    if figure is None:
        return None, None
    caption = " ".join("".join(figure.caption).split())[:MAX_CAPTION_CHARS]
    printed = " ".join("".join(figure.credit).split())[:MAX_CAPTION_CHARS]
    if printed:
        return caption or None, parse_credit(printed)
    if not caption:
        return None, None
    rest, credit = split_credit(caption)
    return rest or None, credit


def _paragraph(ends: list[int], text: str, offset: int | None) -> int | None:
    """Which paragraph the item follows (1-based; 0 before the first), or None for page metadata.

    `ends` are where the text's paragraph breaks (blank lines) end, ascending: every
    break that ends before the offset starts a paragraph before it.
    """
    if offset is None:
        return None
    if not text[:offset].strip():
        return 0
    return bisect.bisect_left(ends, offset) + 1


def _context(text: str, ref: MediaRef, captions: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Up to `CONTEXT_SENTENCES` sentences before the item, and after it, leaving out every item's caption."""
    if ref.offset is None:
        return (), ()
    window = 1500

    def keep(sentence: str) -> bool:
        return bool(sentence) and not any(sentence in c or c in sentence for c in captions)

    before = [s for s in sentences(text[max(0, ref.offset - window) : ref.offset]) if keep(s)]
    after = [s for s in sentences(text[ref.offset : ref.offset + window]) if keep(s)]
    if ref.offset - window > 0 and before:
        before = before[1:]  # the window may start mid-sentence
    return tuple(s[:400] for s in before[-CONTEXT_SENTENCES:]), tuple(s[:400] for s in after[:CONTEXT_SENTENCES])


def _bounded(text: str, warnings: list[str]) -> str:
    if len(text) > MAX_ARTICLE_CHARS:
        warnings.append(f"the article has {len(text)} characters; only the first {MAX_ARTICLE_CHARS} were read")
        return text[:MAX_ARTICLE_CHARS]
    return text
