"""Stage claims: the `Claim` record, built from flags, a YAML/JSON file or an article.

Each source overrides the one before (an article, then a file, then flags);
the claim keeps where each part came from (`origin`), everything an article
yielded (`dates`, `places`, `media_sentences`) and what could not be read
or resolved (`warnings`)::

    >>> claim = claim_from_article(Path("samples/article.txt"))
    >>> claim.date, claim.place.name, claim.place.country_code, claim.platforms
    ('2024-01-17', 'Baymak', 'RU', ('Telegram', 'X'))
    >>> merge(claim, Claim(date="2024-01-16")).date     # a flag wins
    '2024-01-16'
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from .article import Article, read_article, read_bounded
from .dates import DateMention, date_range, find_dates, parse_claim_date, sentences
from .media import MediaRef
from .places import Place, find_places, resolve_place

_Day = date  # the type, where a Claim field named `date` hides it

#: Largest claim file (YAML/JSON) read, bytes (1 MiB; a claim is a few lines).
MAX_CLAIM_FILE_BYTES = 1 << 20
#: Longest free-text claim kept, characters.
MAX_CLAIM_TEXT_CHARS = 2_000
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


# -- platforms --------------------------------------------------------------------


def find_platforms(text: str) -> tuple[str, ...]:
    """Platforms named in `text`, in order of first mention (X only when it plainly means the platform).

    Args:
        text: running text.

    Returns:
        Platform names as printed (`PLATFORMS`).
    """
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


def claim_from_article(
    source: Path | str | Article, *, article_date: str | None = None, origin: str | None = None
) -> Claim:
    """Extract a claim from an article: its date, place, platforms and the sentences about the media.

    The claimed date is the date of the sentences that describe the media
    being filmed or shown (then those that mention the media, then any),
    most often mentioned, then earliest; the claimed place is the first town
    named in those sentences (else anywhere; else the first country).

    Args:
        source: a path to a .txt/.html file, or an `Article`.
        article_date: the article's date when the article does not state it
            (or to correct it), ``YYYY-MM-DD``.
        origin: how to name the source in `Claim.origin`.

    Returns:
        The claim, with every date, place and media sentence found and
        warnings for what could not be resolved.

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
    # a picture's caption speaks for that picture (claim_for_media), the article's own sentences for the article:
    # a file photo "in Ufa on 12 March 2023" dates nothing else, unless the text itself gives no date or place
    captions = [" ".join(x for x in (m.caption, m.credit.text if m.credit else None) if x) for m in article.media]
    captions = [c for c in captions if c]

    def own(sentence: str) -> bool:
        return not any(sentence.strip() and sentence.strip() in c for c in captions)

    claim_date = _pick_date([d for d in mentions if own(d.sentence)], ref) or _pick_date(mentions, ref)
    places = find_places(body)
    told = [s for s in media if own(s)]
    media_places = (find_places(" ".join(told)) if told else []) or (find_places(" ".join(media)) if media else [])
    own_places = find_places(" ".join(s for s in sents if own(s))) if captions else places
    place = (
        next((p for p in media_places if p.kind == "city"), None)
        or next((p for p in own_places if p.kind == "city"), None)
        or next((p for p in places if p.kind == "city"), None)
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


def claim_for_media(article_claim: Claim, ref: MediaRef, *, label: str = "media item") -> Claim:
    """The claim one piece of media carries: the article's, sharpened by the item's caption and its neighbours.

    A date or place in the item's caption overrides the article's for this
    item; failing that, a date or town in the nearest sentence around it
    that says the media was filmed or shows something ("the video, filmed
    on Monday in Ufa, shows ..."); failing that, the article's claim stands. The
    caption (else the article's claim text) is the claim's text, the item's
    platform comes first among the platforms and the item's URL is the
    claim's source. The caption and the sentences around the item are kept
    in `media_sentences`; `origin` says which parts came from the item.

    Args:
        article_claim: the claim read from the whole article (`claim_from_article`).
        ref: the item (`Article.media`).
        label: how to name the item in `origin` ("media item 2").

    Returns:
        The item's claim.
    """
    published = article_claim.article_date
    day = date.fromisoformat(published) if published and len(published) == 10 else None
    caption = ref.caption or ""
    caption_dates = find_dates(caption, day) if caption else []
    caption_places = find_places(caption) if caption else []
    # the nearest sentence that says the media was filmed or shows something speaks for this item
    told = next((s for s in ref.nearest_first if _MEDIA_WORDS.search(s) and _EVENT_WORDS.search(s)), None)
    near_dates = find_dates(told, day) if told else []
    near_places = [p for p in find_places(told) if p.kind == "city"] if told else []
    from_item: list[str] = []
    claim_date = _pick_date(caption_dates, day)
    if claim_date is not None:
        from_item.append("date from its caption")
    else:
        claim_date = _pick_date(near_dates, day)
        if claim_date is not None and claim_date != article_claim.date:
            from_item.append("date from the sentences around it")
        claim_date = claim_date or article_claim.date
    place = next((p for p in caption_places if p.kind == "city"), None) or (
        caption_places[0] if caption_places else None
    )
    if place is not None:
        from_item.append("place from its caption")
    else:
        place = near_places[0] if near_places else None
        if place is not None and article_claim.place is not None and place.geonameid != article_claim.place.geonameid:
            from_item.append("place from the sentences around it")
        place = place or article_claim.place
    platforms = ((ref.platform,) if ref.platform else ()) + tuple(
        p for p in article_claim.platforms if p != ref.platform
    )
    warnings = [
        w
        for w in article_claim.warnings
        if not (claim_date and "no date of the event" in w) and not (place and "no place the gazetteer" in w)
    ]
    origin = article_claim.origin + ((f"{label}: {', '.join(from_item)}",) if from_item else ())
    return Claim(
        text=(caption[:MAX_CLAIM_TEXT_CHARS] or None) or article_claim.text,
        date=claim_date,
        place=place,
        platforms=platforms,
        source=ref.url,
        article_date=published,
        dates=tuple(caption_dates + near_dates + list(article_claim.dates))[:50],
        places=tuple(dict.fromkeys(caption_places + near_places + list(article_claim.places)))[:30],
        media_sentences=tuple(s[:400] for s in ((caption,) if caption else ()) + ref.context)[:20],
        origin=origin,
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

    Args:
        path: the file (``.json`` is read as JSON, anything else as YAML).

    Returns:
        The claim, its place resolved offline.

    Raises:
        BadInputError: missing, too large, not YAML/JSON, nested too deeply,
            not a mapping, an unknown key, or a value of the wrong type.
    """
    import yaml

    file = Path(path)
    raw = read_bounded(
        file,
        what="claim file",
        limit=MAX_CLAIM_FILE_BYTES,
        expected="a claim saved as YAML or JSON",
        too_large="a claim is a few lines",
    )
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
    """Platform names as printed ("twitter" -> "X"); unknown names kept as written.

    Args:
        names: platform names as a user wrote them.

    Returns:
        The names, each once, in the order given.
    """
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
    """`base` with every field `override` sets replaced (flags over a file over an article).

    Args:
        base: the earlier claim, or None.
        override: the later claim, or None.

    Returns:
        The merged claim (origins and warnings joined; a warning about a
        missing date or place dropped once one is known), or None when both are.
    """
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
    itself does not.

    Args:
        date: ``--claim-date``.
        place: ``--claim-place`` (a name or "LAT, LON").
        text: ``--claim-text``.
        platforms: platform names, as a user writes them.
        file: a claim file, YAML/JSON (``--claim``).
        article: an article, text or HTML (``--article``).

    Returns:
        The claim, or None when no source was given.

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
