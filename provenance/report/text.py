"""Making untrusted strings safe for each output: Markdown, terminal, HTML.

Every string that comes from a media file, a sidecar, a claim or an article
passes through one of these before it is written into a report.
"""

from __future__ import annotations

import html
import re

#: Longest untrusted string written into a human-readable report.
MAX_FIELD_CHARS = 500

#: Every format character (Unicode category Cf, as of Unicode 15): soft hyphen, Arabic letter mark,
#: zero-width characters, bidi controls, the byte order mark, tag characters.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_FORMAT}]")
#: Lone surrogates (a file name that is not UTF-8, a JSON "\\ud800" escape): no UTF-8 output accepts them.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Markdown (CommonMark + GFM) characters that start inline markup anywhere (escapes, code, emphasis,
# links, raw HTML, autolinks, table cells, strikethrough); "_" only at a word edge and "&" only before
# an entity's name or "#"; "." "-" "+" "!" "(" ")" "#" are inert mid-line.
_MD_INLINE = re.compile(r"[\\`*\[\]<|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#?[A-Za-z0-9]+;)")
# Block markers that act at the start of a line (or of a list item's text):
# headings, quotes, bullets, setext underlines and ordered-list numbers ("12. ").
_MD_BLOCK_START = re.compile(r"^[#>+=-]|^(?=\d{1,9}[.)](?:\s|$))\d{1,9}")


def clean(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """One line: control and format characters (bidi, zero-width, tags) removed, whitespace collapsed, cut at `limit`."""
    s = _SURROGATE.sub("\ufffd", _CONTROL.sub("", str(text)))
    s = " ".join(s.split())
    if len(s) > limit:
        s = s[:limit] + f"… [{len(s) - limit} more characters cut]"
    return s


_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_FORMAT}\u2028\u2029\ud800-\udfff]")


def json_safe(text: str) -> str:
    """JSON text with C1 controls, format characters (bidi, zero-width, tags) and lone surrogates as ``\\uXXXX`` escapes.

    ``json.dumps(..., ensure_ascii=False)`` escapes C0 controls (ESC, BEL) but
    leaves these raw, and a terminal or editor may act on them (U+009B is a
    one-character CSI; U+202E reverses the text shown). They can only occur
    inside JSON strings, so the escaped text is the same JSON value.
    """
    return _JSON_UNSAFE.sub(lambda m: _json_escape(ord(m.group(0))), text)


def _json_escape(code: int) -> str:
    """``\\uXXXX``, or the UTF-16 surrogate pair JSON spells a character beyond U+FFFF with."""
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def md(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text as inert but readable Markdown, for inline use (table cells, list items).

    Only what could start markup is escaped: ``0.1.0`` and ``street_cyclists.mp4``
    stay as they are, ``<script>``, ``[a](b)``, ``*x*`` and ``a|b`` do not act.
    """
    s = _MD_INLINE.sub(lambda m: "\\" + m.group(0), clean(text, limit))
    # A leading "#", ">", "-" or "12." would open a heading, quote or list:
    # escape the marker ("\\#", "12\\.").
    m = _MD_BLOCK_START.match(s)
    if m is None:
        return s
    if m.group(0)[0].isdigit():
        return s[: m.end()] + "\\" + s[m.end() :]
    return "\\" + s


def terminal(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text safe to print on a terminal (no escape sequences)."""
    return clean(text, limit)


def html_text(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text escaped for HTML element content and quoted attributes."""
    return html.escape(clean(text, limit), quote=True)
