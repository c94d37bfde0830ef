"""Stage claims: dates as a claim or an article writes them.

A claimed date is ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (`date_range`
gives the days it covers). In an article every date mentioned is found
sentence by sentence and resolved against the article's own date ("on
Wednesday", "yesterday", "last year"), with the rule that resolved it::

    >>> [(d.text, d.date, d.rule) for d in find_dates("It was filmed on Wednesday.", date(2024, 1, 18))]
    [('on Wednesday', '2024-01-17', 'weekday on or before the article date')]
    >>> date_range("2024-02")
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
"""

from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..errors import BadInputError

_MONTHS = {name: i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name: i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["Sept"] = 9
_WEEKDAYS = {name: i for i, name in enumerate(calendar.day_name)}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_RE = "|".join(calendar.day_name)


@dataclass(frozen=True)
class DateMention:
    """A date found in an article: the words, what they resolve to, and why.

    `date` is ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``; `rule` says how it was
    resolved (``explicit``, ``weekday before the article date``, ...).
    """

    text: str
    date: str
    rule: str
    sentence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DateMention:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def date_range(value: str) -> tuple[date, date]:
    """(first day, last day) of ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.

    Args:
        value: a claimed date.

    Returns:
        The first and last day it covers (a year covers 1 Jan-31 Dec).

    Raises:
        ValueError: not one of those forms.
    """
    parts = value.split("-")
    if len(parts) == 1 and len(parts[0]) == 4:
        year = int(parts[0])
        return date(year, 1, 1), date(year, 12, 31)
    if len(parts) == 2:
        year, month = int(parts[0]), int(parts[1])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    day = date.fromisoformat(value)
    return day, day


def parse_claim_date(value: Any, what: str = "claim date") -> str:
    """A claimed date as ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.

    Accepts a `date`/`datetime` (YAML reads unquoted dates as dates) or text
    in one of those forms (a time after the date is dropped).

    Args:
        value: the date as given.
        what: how to name it in a message.

    Returns:
        The date in one of those forms, between the years 1800 and 2200.

    Raises:
        BadInputError: anything else, quoting the value.
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    # A time after the day must be a time (junk after a date is refused, not dropped).
    m = re.fullmatch(
        r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?)?",
        text,
    )
    if m and len(text) <= 40:
        year, month, day = m.groups()
        candidate = year if month is None else f"{year}-{month}" if day is None else f"{year}-{month}-{day}"
        try:
            first, _ = date_range(candidate)
        except ValueError:
            pass
        else:
            if 1800 <= first.year <= 2200:
                return candidate
    shown = text if len(text) <= 60 else text[:60] + "…"
    raise BadInputError(f"{what} {shown!r}: not a date; use YYYY-MM-DD, YYYY-MM or YYYY")


def _shift_months(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + (day.month - 1) + months
    return index // 12, index % 12 + 1


def _resolve_day_month(day: int, month: int, ref: date | None) -> str | None:
    """A day and month without a year: the latest such date not after the article date."""
    if ref is None:
        return None
    for year in (ref.year, ref.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= ref:
            return candidate.isoformat()
    return None


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "iso"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?,?\s+(\d{{4}})\b"), "dmy"),
    (re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b"), "mdy"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\b(?!\.?,?\s+\d{{4}})"), "dm"),
    (re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!,?\s*\d{{4}})(?!\d)"), "md"),
    (re.compile(rf"\b(?:in|since|during|of|from)\s+({_MONTH_RE})\s+(\d{{4}})\b"), "my"),
    (re.compile(r"\b(?:in|since|during|from)\s+((?:19|20)\d\d)\b(?![-/]\d)"), "y"),
    (
        re.compile(rf"\b(?:(last|this|past|previous|on|since|from|by|late|early)\s+)?({_DAY_RE})\b(?:['’]s)?"),
        "weekday",
    ),
    (re.compile(r"\b(the day before yesterday|yesterday|today|tonight|this morning|last night)\b", re.I), "relday"),
    (re.compile(r"\b(last|this|next)\s+(year|month)\b", re.I), "relperiod"),
    (re.compile(r"\b(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\s+days?\s+ago\b", re.I), "daysago"),
    (re.compile(r"\bearlier this (month|year)\b", re.I), "earlier"),
]
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def _resolve(kind: str, m: re.Match[str], ref: date | None) -> tuple[str | None, str]:
    g = m.groups()
    if kind == "iso":
        return _valid(int(g[0]), int(g[1]), int(g[2])), "explicit"
    if kind == "dmy":
        return _valid(int(g[2]), _MONTHS[g[1]], int(g[0])), "explicit"
    if kind == "mdy":
        return _valid(int(g[2]), _MONTHS[g[0]], int(g[1])), "explicit"
    if kind == "dm":
        return _resolve_day_month(int(g[0]), _MONTHS[g[1]], ref), "day and month, year from the article date"
    if kind == "md":
        return _resolve_day_month(int(g[1]), _MONTHS[g[0]], ref), "day and month, year from the article date"
    if kind == "my":
        return f"{int(g[1]):04d}-{_MONTHS[g[0]]:02d}", "month and year"
    if kind == "y":
        return g[0], "year"
    if ref is None:
        return None, "relative date, but the article has no date"
    if kind == "weekday":
        qualifier = (g[0] or "").lower()
        target = _WEEKDAYS[g[1]]
        back = (ref.weekday() - target) % 7
        if qualifier in ("last", "past", "previous") and back == 0:
            back = 7
        return (ref - timedelta(days=back)).isoformat(), "weekday on or before the article date"
    if kind == "relday":
        word = g[0].lower()
        days = {"the day before yesterday": 2, "yesterday": 1, "last night": 1}.get(word, 0)
        return (ref - timedelta(days=days)).isoformat(), f"'{word}' from the article date"
    if kind == "relperiod":
        which, unit = g[0].lower(), g[1].lower()
        step = {"last": -1, "this": 0, "next": 1}[which]
        if unit == "year":
            return f"{ref.year + step:04d}", f"'{which} year' from the article date"
        year, month = _shift_months(ref, step)
        return f"{year:04d}-{month:02d}", f"'{which} month' from the article date"
    if kind == "daysago":
        n = int(g[0]) if g[0].isdigit() else _NUMBER_WORDS[g[0].lower()]
        return (ref - timedelta(days=n)).isoformat(), "days before the article date"
    if kind == "earlier":
        unit = g[0].lower()
        if unit == "year":
            return f"{ref.year:04d}", "'earlier this year' from the article date"
        return f"{ref.year:04d}-{ref.month:02d}", "'earlier this month' from the article date"
    return None, kind


def find_dates(text: str, article_date: date | None) -> list[DateMention]:
    """Every date mentioned in `text`, resolved against `article_date` where relative.

    Explicit dates win over the shorter forms found inside them ("17 January
    2024" is one mention, not also "17 January").

    Args:
        text: running text.
        article_date: the article's own date; without it relative dates are left out.

    Returns:
        The mentions in order, each with the rule that resolved it and its sentence.
    """
    out: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for sentence, start in _sentences_with_offsets(text):
        for pattern, kind in _DATE_PATTERNS:
            for m in pattern.finditer(sentence):
                a, b = start + m.start(), start + m.end()
                if any(a < e and s < b for s, e in taken):
                    continue
                if kind == "weekday" and m.group(1) is None and not _weekday_is_date(sentence, m):
                    continue
                value, rule = _resolve(kind, m, article_date)
                if value is None:
                    continue
                taken.append((a, b))
                out.append(DateMention(m.group(0), value, rule, sentence.strip()[:400]))
    return out


def _weekday_is_date(sentence: str, m: re.Match[str]) -> bool:
    """A bare weekday ("Wednesday evening", "on Wednesday") names a day; a title ("Black Friday") does not."""
    before = sentence[: m.start()].rstrip()
    return not re.search(r"\b(Black|Good|Cyber|Ash|Holy|Super|Palm|Easter)$", before)


_ABBREVIATIONS = re.compile(
    r"\b(Mr|Mrs|Ms|Dr|St|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|U\.K|No|vs|etc)\.$"
)


def _sentences_with_offsets(text: str) -> list[tuple[str, int]]:
    """Sentences of `text` with their start offsets; paragraph breaks always end a sentence."""
    out: list[tuple[str, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        chunk, base = para.group(0), para.start()
        start = 0
        for m in re.finditer(r"[.!?][\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])", chunk):
            piece = chunk[start : m.end()]
            if _ABBREVIATIONS.search(piece.rstrip().rstrip("\"'”’)")[:-1] + "."):
                continue
            out.append((piece, base + start))
            start = m.end()
        if start < len(chunk):
            out.append((chunk[start:], base + start))
    return [(s, o) for s, o in out if s.strip()]


def sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped.

    Args:
        text: running text; a paragraph break always ends a sentence.

    Returns:
        The sentences in order.
    """
    return [s.strip() for s, _ in _sentences_with_offsets(text)]


def first_date(candidates: list[str]) -> date | None:
    """The first full date among `candidates`: an ISO date at the start, else any date written out.

    Args:
        candidates: texts that may date an article (metadata values, a dateline).

    Returns:
        The day, or None when no candidate holds a full date.
    """
    for raw in candidates:
        raw = raw.strip()
        m = re.match(r"(\d{4})-(\d{2})-(\d{2})", raw)
        if m:
            value = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if value:
                return date.fromisoformat(value)
        for mention in find_dates(raw, None):
            if len(mention.date) == 10:
                return date.fromisoformat(mention.date)
    return None
