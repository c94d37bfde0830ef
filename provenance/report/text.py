"""Making untrusted strings safe for each output: Markdown, terminal, HTML.

Every string that comes from a media file, a sidecar, a claim or an article
passes through one of these before it is written into a report.
"""

from __future__ import annotations

import html
import re

#: Longest untrusted string written into a human-readable report.
MAX_FIELD_CHARS = 500

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")


def clean(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """One line: control and bidi characters removed, whitespace collapsed, cut at `limit`."""
    s = _CONTROL.sub("", str(text))
    s = " ".join(s.split())
    if len(s) > limit:
        s = s[:limit] + f"… [{len(s) - limit} more characters cut]"
    return s


def md(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text as inert Markdown (every markup character escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", clean(text, limit))


def terminal(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text safe to print on a terminal (no escape sequences)."""
    return clean(text, limit)


def html_text(text: object, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text escaped for HTML element content and quoted attributes."""
    return html.escape(clean(text, limit), quote=True)
