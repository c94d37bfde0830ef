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

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from ..files import read_bounded
from .dates import first_date

#: Largest article file (text or saved HTML) read, bytes. Saved pages carry
#: inline scripts and styles, hence the margin.
MAX_ARTICLE_BYTES = 10 << 20
#: Most characters of article text analysed (after HTML is reduced to text).
MAX_ARTICLE_CHARS = 200_000
#: Most characters of a page's JSON-LD scripts kept (1 MiB, the largest claim file).
MAX_JSON_LD_CHARS = 1 << 20


@dataclass(frozen=True)
class Article:
    """An article reduced to text: its headline, publication date (if stated) and body."""

    text: str
    headline: str | None = None
    published: str | None = None
    warnings: tuple[str, ...] = ()


class _ArticleHTML(HTMLParser):
    """Text, headline and publication date of a saved news page (stdlib parser: no recursion, no network)."""

    SKIP = {"script", "style", "nav", "footer", "aside", "form", "noscript", "svg", "template", "button", "iframe"}
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

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
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

    def handle_data(self, data: str) -> None:
        if self.in_json_ld:
            if sum(len(b) for b in self.json_buf) < MAX_JSON_LD_CHARS:
                self.json_buf.append(data)
            return
        if self.skip_depth:
            return
        if self.in_title:
            self.title += data
            return
        if self.in_h1:
            self.h1 += data
        self.parts.append(data)


def _json_ld_facts(blobs: list[str]) -> tuple[list[str], str | None]:
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
    return Article(text=text, headline=headline, published=published, warnings=tuple(warns))


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
    ld_dates, ld_headline = _json_ld_facts(parser.json_ld)
    raw = "".join(parser.parts)
    body = "\n".join(" ".join(line.split()) for line in raw.splitlines())
    body = re.sub(r"\n{2,}", "\n\n", body).strip()
    body = _bounded(body, warns)
    if not body:
        raise BadInputError("the HTML page has no article text; save the article's page, not an index or a login page")
    headline = " ".join((ld_headline or parser.h1 or parser.og_title or parser.title or "").split())[:300] or None
    day = first_date(ld_dates + parser.dates)
    text_article = article_from_text(body)
    published = day.isoformat() if day else text_article.published
    return Article(text=body, headline=headline, published=published, warnings=tuple(warns))


def _bounded(text: str, warnings: list[str]) -> str:
    if len(text) > MAX_ARTICLE_CHARS:
        warnings.append(f"the article has {len(text)} characters; only the first {MAX_ARTICLE_CHARS} were read")
        return text[:MAX_ARTICLE_CHARS]
    return text
