"""Stage claims: flags, claim files and articles (text and saved HTML) into a `Claim`.

The articles in tests/data/articles are written like real news reports (a
headline, a dateline, relative dates, places with their country, platforms,
and a page saved with its navigation, scripts, JSON-LD and sidebar), and
samples/article.txt is the sample case's article.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.claims import (
    MAX_ARTICLE_BYTES,
    MAX_CLAIM_FILE_BYTES,
    Claim,
    DateMention,
    Place,
    article_from_text,
    build_claim,
    claim_from_article,
    claim_from_file,
    date_range,
    distance_km,
    find_dates,
    find_places,
    find_platforms,
    merge,
    nearest_town,
    parse_claim_date,
    read_article,
    resolve_place,
)
from provenance.cli import main
from provenance.errors import BadInputError

ARTICLES = Path(__file__).resolve().parent / "data" / "articles"


@pytest.fixture(scope="module")
def valencia_txt() -> Path:
    """A fact-check style news report as plain text: dated Thursday 7 November 2024, the video said to be
    filmed "on Tuesday" (5 November) in Valencia, Spain; mentions last year, September 2023, 2019, Libya."""
    return ARTICLES / "valencia_floods.txt"


@pytest.fixture(scope="module")
def valencia_html() -> Path:
    """The same report saved as an HTML page: JSON-LD and article:published_time date it; its nav
    (Monday, Washington), sidebar (3 March 2020, Lisbon), footer (Instagram) and scripts must be ignored."""
    return ARTICLES / "valencia_floods.html"


# -- articles ------------------------------------------------------------------------


def test_sample_article_gives_the_claim_of_the_sample_case() -> None:
    claim = claim_from_article(SAMPLES / "article.txt")
    assert claim.article_date == "2024-01-19"
    assert claim.date == "2024-01-17"  # "since Wednesday", "filmed on Wednesday" from Friday 19 January
    assert claim.place is not None and claim.place.name == "Baymak" and claim.place.country_code == "RU"
    assert claim.place.latitude == pytest.approx(52.59, abs=0.05)
    assert claim.place.longitude == pytest.approx(58.31, abs=0.05)
    assert claim.platforms == ("Telegram", "X")
    assert any("filmed on Wednesday" in s for s in claim.media_sentences)
    assert claim.text and "shows police officers" in claim.text
    assert {d.date for d in claim.dates} == {"2024-01-17"}
    assert all(d.rule.startswith("weekday") for d in claim.dates)
    assert claim.warnings == ()
    assert claim.origin == (f"article:{SAMPLES / 'article.txt'}",)


@pytest.mark.parametrize("fixture", ["valencia_txt", "valencia_html"])
def test_news_report_as_text_and_as_saved_html(request: pytest.FixtureRequest, fixture: str) -> None:
    claim = claim_from_article(request.getfixturevalue(fixture))
    assert claim.article_date == "2024-11-07"
    assert claim.date == "2024-11-05"  # "filmed on Tuesday", from Thursday 7 November
    assert claim.place is not None
    assert (claim.place.name, claim.place.country_code) == ("Valencia", "ES")  # not Valencia, Venezuela
    assert [p.label().split(" (")[0] for p in claim.places] == ["Valencia, Spain", "Spain", "Paiporta, Spain", "Libya"]
    assert claim.platforms == ("TikTok", "Facebook", "X", "Telegram", "YouTube")
    resolved = {d.text.lower(): d.date for d in claim.dates}
    assert resolved["on tuesday"] == "2024-11-05"
    assert resolved["on wednesday"] == "2024-11-06"
    assert resolved["last year"] == "2023"
    assert resolved["in september 2023"] == "2023-09"
    assert resolved["in 2019"] == "2019"
    assert "2024-11-07" not in resolved.values()  # the dateline dates the article, not the event
    assert claim.warnings == ()


def test_html_ignores_navigation_sidebar_footer_and_scripts(valencia_html: Path) -> None:
    article = read_article(valencia_html)
    assert article.published == "2024-11-07"
    assert article.headline == "Viral flood video is not from this week's storm in Valencia"
    for absent in ("Washington", "Lisbon", "3 March 2020", "Instagram", "dataLayer", "12 March 2021", "2019-01-01"):
        assert absent not in article.text
    assert "swept down a street in Valencia" in article.text


def test_html_dated_only_by_its_time_element(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><article><h1>Clip</h1><time datetime='2023-06-02'>2 June</time>"
        "<p>The video was filmed yesterday in Kharkiv, Ukraine and posted on Telegram.</p></article></body></html>",
        encoding="utf-8",
    )
    claim = claim_from_article(page)
    assert (claim.article_date, claim.date) == ("2023-06-02", "2023-06-01")
    assert claim.place is not None and claim.place.country_code == "UA"


def test_article_without_a_date_says_so_and_resolves_only_explicit_dates() -> None:
    article = article_from_text(
        "Old video shared as new\n\nThe clip, filmed on Monday in Lagos, Nigeria, first appeared on 3 May 2021 "
        "on Facebook. It was shared again last year."
    )
    claim = claim_from_article(article)
    assert claim.article_date is None
    assert claim.date == "2021-05-03"
    assert [d.text for d in claim.dates] == ["on 3 May 2021"] or [d.date for d in claim.dates] == ["2021-05-03"]
    assert any("states no date of its own" in w for w in claim.warnings)
    assert claim.place is not None and claim.place.name == "Lagos"


def test_article_date_given_by_the_claim_file_resolves_relative_dates(tmp_path: Path) -> None:
    text = tmp_path / "undated.txt"
    text.write_text("Protest video\n\nThe video was filmed on Monday in Tbilisi, Georgia.\n", encoding="utf-8")
    spec = tmp_path / "claim.yml"
    spec.write_text("article_date: 2024-05-15\n", encoding="utf-8")  # a Wednesday
    claim = build_claim(article=text, file=spec)
    assert claim is not None
    assert claim.date == "2024-05-13"
    assert claim.place is not None and claim.place.country_code == "GE"
    assert not any("no date" in w for w in claim.warnings)


def test_article_with_no_place_or_date_warns() -> None:
    claim = claim_from_article(article_from_text("Headline\n\nSomething was posted online."))
    assert claim.date is None and claim.place is None
    assert any("no date of the event" in w for w in claim.warnings)
    assert any("no place" in w for w in claim.warnings)


def test_non_utf8_article_is_read_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(
        "Vidéo virale\n\n19 January 2024\n\nLa vidéo a été filmée on Wednesday à Paris, France.\n".encode("latin-1")
    )
    claim = claim_from_article(path)
    assert claim.date == "2024-01-17"
    assert any("not valid UTF-8" in w for w in claim.warnings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary" * 10, "binary file"),
        (b"<html><body><nav>menu</nav></body></html>", "no article text"),
    ],
)
def test_unusable_articles_are_refused_clearly(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / ("a.html" if b"html" in content else "a.txt")
    path.write_bytes(content)
    with pytest.raises(BadInputError, match=message):
        read_article(path) if message != "empty" else claim_from_article(path)


def test_huge_article_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:
        handle.truncate(MAX_ARTICLE_BYTES + 1)
    with pytest.raises(BadInputError, match="larger than"):
        read_article(path)


def test_deeply_nested_html_and_json_ld_do_not_crash(tmp_path: Path) -> None:
    nested_ld = "[" * 100_000 + "]" * 100_000
    page = tmp_path / "deep.html"
    page.write_text(
        "<html><head><script type='application/ld+json'>"
        + nested_ld
        + "</script></head><body>"
        + "<div>" * 20_000
        + "<p>Published 19 January 2024. The video was filmed on Wednesday in Baymak, Russia.</p>"
        + "</div>" * 20_000
        + "</body></html>",
        encoding="utf-8",
    )
    claim = claim_from_article(page)
    assert claim.date == "2024-01-17"


# -- dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It happened on Wednesday.", "2024-01-17"),  # article: Friday 19 January 2024
        ("It happened last Friday.", "2024-01-12"),
        ("It happened on Friday.", "2024-01-19"),
        ("It happened yesterday.", "2024-01-18"),
        ("It happened the day before yesterday.", "2024-01-17"),
        ("It happened three days ago.", "2024-01-16"),
        ("It happened last year.", "2023"),
        ("It happened last month.", "2023-12"),
        ("It happened earlier this month.", "2024-01"),
        ("It happened on 17 January.", "2024-01-17"),
        ("It happened on December 30.", "2023-12-30"),  # the latest 30 December not after the article
        ("It happened on 17th of January 2024.", "2024-01-17"),
        ("It happened on January 17, 2023.", "2023-01-17"),
        ("It happened on 2022-02-24.", "2022-02-24"),
        ("It happened in March 2020.", "2020-03"),
        ("It happened in 2015.", "2015"),
    ],
)
def test_dates_resolve_against_the_article_date(text: str, expected: str) -> None:
    found = find_dates(text, date(2024, 1, 19))
    assert [d.date for d in found] == [expected]


def test_titles_that_contain_weekdays_are_not_dates() -> None:
    assert find_dates("Shops opened for Black Friday.", date(2024, 1, 19)) == []


def test_an_impossible_date_is_not_a_date() -> None:
    assert find_dates("It happened on 31 February 2024.", date(2024, 3, 1)) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-17", "2024-01-17"),
        ("2024-01", "2024-01"),
        ("2024", "2024"),
        (date(2024, 1, 17), "2024-01-17"),
        ("2024-01-17T10:00:00Z", "2024-01-17"),
    ],
)
def test_claim_dates(value: object, expected: str) -> None:
    assert parse_claim_date(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "17/01/2024", "2024-13-01", "2024-02-30", "0001-01-01", "9" * 5000, ""])
def test_bad_claim_dates_are_refused_with_the_value(value: str) -> None:
    with pytest.raises(BadInputError, match="not a date; use YYYY-MM-DD"):
        parse_claim_date(value)


def test_date_ranges() -> None:
    assert date_range("2023") == (date(2023, 1, 1), date(2023, 12, 31))
    assert date_range("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert date_range("2024-01-17") == (date(2024, 1, 17), date(2024, 1, 17))


# -- places and platforms ---------------------------------------------------------------


def test_places_resolve_offline() -> None:
    baymak = resolve_place("Baymak, Bashkortostan, Russia")
    assert (baymak.kind, baymak.name, baymak.country) == ("city", "Baymak", "Russia")
    assert resolve_place("Paris").country_code == "FR"  # the most populous Paris
    assert resolve_place("Paris, Texas, United States").country_code == "US"
    assert resolve_place("Kiev, Ukraine").name == "Kyiv"  # by its other name
    russia = resolve_place("Russia")
    assert (russia.kind, russia.country_code, russia.has_coordinates) == ("country", "RU", False)
    point = resolve_place("52.59, 58.31")
    assert point.kind == "coordinates" and point.latitude == 52.59
    nowhere = resolve_place("Qwertyuiop Heights")
    assert nowhere.kind == "unresolved" and nowhere.name == "Qwertyuiop Heights"


@pytest.mark.parametrize("value", ["", "x" * 300, "95.0, 10.0"])
def test_bad_places_are_refused(value: str) -> None:
    with pytest.raises(BadInputError, match="claim place"):
        resolve_place(value)


def test_ambiguous_town_names_are_not_silently_resolved() -> None:
    """ "Springfield" is no more Missouri's than Illinois' or Massachusetts': the place says so and lists them."""
    springfield = resolve_place("Springfield")
    assert springfield.kind == "ambiguous" and springfield.is_ambiguous
    assert not springfield.has_coordinates and springfield.country_code is None
    towns = [(p.region, p.country_code) for p in springfield.alternatives]
    assert towns[:3] == [("Missouri", "US"), ("Massachusetts", "US"), ("Illinois", "US")]
    assert all(p.kind == "city" and p.has_coordinates for p in springfield.alternatives)
    assert springfield.label().startswith("Springfield (ambiguous: Springfield, Missouri, United States (")
    # different countries of similar size
    assert {p.country_code for p in resolve_place("Cambridge").alternatives} >= {"GB", "CA", "US"}
    assert {p.country_code for p in resolve_place("Valencia").alternatives} == {"VE", "ES"}
    # a country or a US state named beside it picks one
    assert resolve_place("Springfield, Illinois").geonameid == resolve_place("Springfield, IL").geonameid
    assert resolve_place("Springfield, Illinois").kind == "city"
    assert resolve_place("Springfield, Illinois").latitude == pytest.approx(39.80, abs=0.05)
    assert resolve_place("Valencia, Spain").country_code == "ES"
    assert resolve_place("Cambridge, UK").country_code == "GB"
    assert resolve_place("Springfield, USA").kind == "ambiguous"  # still several states
    # names whose largest town dwarfs the others resolve as before
    for name, country in [("Paris", "FR"), ("London", "GB"), ("Birmingham", "GB"), ("Moscow", "RU"), ("Baymak", "RU")]:
        place = resolve_place(name)
        assert (place.kind, place.country_code) == ("city", country), name
    # in running text, too, unless the text names the country
    assert [p.kind for p in find_places("It was filmed in Springfield last week.")] == ["ambiguous"]
    found = find_places("It was filmed in Springfield and in Cambridge, United Kingdom.")
    assert [(p.kind, p.country_code) for p in found] == [("ambiguous", None), ("city", "GB"), ("country", "GB")]


def test_ambiguous_place_round_trips_and_plain_places_keep_their_json() -> None:
    springfield = resolve_place("Springfield")
    assert Place.from_dict(json.loads(json.dumps(springfield.to_dict()))) == springfield
    claim = Claim(place=springfield)
    assert Claim.from_dict(json.loads(json.dumps(claim.to_dict()))) == claim
    # a place that is not ambiguous writes exactly the keys it always did
    assert list(resolve_place("Baymak").to_dict()) == [
        "query", "name", "kind", "country_code", "country", "latitude", "longitude", "geonameid", "population"
    ]  # fmt: skip


def test_ambiguous_claim_place_measures_no_distance(tmp_path: Path) -> None:
    """A GPS tag in Springfield, Illinois is not compared with any one Springfield: only its presence is reported."""
    from conftest import lavfi_clip

    from provenance.metadata import inspect
    from provenance.probe import probe

    clip = tmp_path / "gps.mp4"
    lavfi_clip(clip, "testsrc2=size=160x120:rate=10", seconds=1, extra=("-metadata", "location=+39.8017-089.6437/"))
    facts = probe(clip)
    ambiguous = {f.code for f in inspect(facts, claim=Claim(place=resolve_place("Springfield")))}
    assert "gps_present" in ambiguous
    assert not ambiguous & {"gps_near_claimed_place", "gps_far_from_claimed_place"}
    named = {f.code for f in inspect(facts, claim=Claim(place=resolve_place("Springfield, Illinois")))}
    assert "gps_near_claimed_place" in named


def test_capitalised_words_are_not_taken_for_towns_without_a_cue() -> None:
    # "Police" and "Mobile" are towns in the gazetteer; only "in Mobile" names a place
    places = find_places("Police said the video was filmed in Mobile, United States.")
    assert [(p.name, p.country_code) for p in places] == [("Mobile", "US"), ("United States", "US")]


def test_distance_and_nearest_town() -> None:
    assert distance_km(52.59172, 58.31132, 52.59172, 58.31132) == 0.0
    assert distance_km(48.8566, 2.3522, 51.5072, -0.1276) == pytest.approx(344, abs=5)
    town = nearest_town(52.60, 58.30)
    assert town is not None and town.name == "Baymak"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Shared on Telegram and X since Wednesday.", ("Telegram", "X")),
        ("Posted on X, formerly Twitter, and TikTok.", ("X", "TikTok")),
        ("Viral on Twitter and in WhatsApp groups.", ("X", "WhatsApp")),
        ("An X-ray and Malcolm X appear; so does Instagram.", ("Instagram",)),
        ("Copies on VKontakte and YouTube.", ("VK", "YouTube")),
    ],
)
def test_platforms(text: str, expected: tuple[str, ...]) -> None:
    assert find_platforms(text) == expected


# -- claim files, flags and merging ----------------------------------------------------------


def test_sample_claim_file() -> None:
    claim = claim_from_file(SAMPLES / "claim.yml")
    assert claim.date == "2024-01-17" and claim.article_date == "2024-01-19"
    assert claim.place is not None and claim.place.name == "Baymak"
    assert claim.platforms == ("Telegram", "X")
    assert claim.source == "https://news.example.com/2024/01/19/baymak-protest-video"


def test_json_claim_file(tmp_path: Path) -> None:
    path = tmp_path / "claim.json"
    path.write_text(json.dumps({"date": "2023-06", "place": "Kherson, Ukraine", "platforms": "twitter, Telegram"}))
    claim = claim_from_file(path)
    assert claim.date == "2023-06" and claim.platforms == ("X", "Telegram")
    assert claim.place is not None and claim.place.country_code == "UA"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("date: [unclosed", "not valid YAML/JSON"),
        ("- a\n- b\n", "not a list"),
        ("", "empty"),
        ("dat: 2024-01-17\n", "unknown key"),
        ("date: yesterday\n", "not a date"),
        ("platforms: {a: 1}\n", "platforms must be a list"),
        ("text: {nested: [1, 2]}\n", "text must be text"),
        ("place: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply|not valid YAML|place must be text"),
        ("a: &a [x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b]\n", "unknown key"),
    ],
)
def test_malformed_claim_files_are_refused_clearly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "claim.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BadInputError, match=message):
        claim_from_file(path)


def test_deeply_nested_json_claim_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "claim.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BadInputError, match="nested too deeply|not a list"):
        claim_from_file(path)


def test_huge_and_non_utf8_claim_files_are_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yml"
    huge.write_text("text: " + "x" * (MAX_CLAIM_FILE_BYTES + 1))
    with pytest.raises(BadInputError, match="larger than"):
        claim_from_file(huge)
    latin = tmp_path / "latin.yml"
    latin.write_bytes("text: vidéo\n".encode("latin-1"))
    with pytest.raises(BadInputError, match="not UTF-8"):
        claim_from_file(latin)
    with pytest.raises(BadInputError, match="not found"):
        claim_from_file(tmp_path / "missing.yml")


def test_flags_override_file_override_article() -> None:
    claim = build_claim(
        article=SAMPLES / "article.txt", file=SAMPLES / "claim.yml", date="2024-01-16", place="Sibay, Russia"
    )
    assert claim is not None
    assert claim.date == "2024-01-16" and claim.place is not None and claim.place.name == "Sibay"
    assert claim.text and claim.text.startswith("A video shared on Telegram and X")  # from the file
    assert claim.dates  # the article's extraction is kept for the user to check
    assert claim.origin == (f"article:{SAMPLES / 'article.txt'}", f"file:{SAMPLES / 'claim.yml'}", "flags")
    assert build_claim() is None


def test_unresolved_place_is_kept_with_a_warning() -> None:
    claim = build_claim(place="Qwertyuiop Heights")
    assert claim is not None and claim.place is not None and claim.place.kind == "unresolved"
    assert any("not in the offline gazetteer" in w for w in claim.warnings)


def test_merge_keeps_base_where_override_is_silent() -> None:
    base = Claim(text="t", date="2024", platforms=("X",), origin=("a",))
    assert merge(base, Claim(date="2023", origin=("b",))) == Claim(
        text="t", date="2023", platforms=("X",), origin=("a", "b")
    )
    assert merge(None, base) is base and merge(base, None) is base


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_place = st.builds(
    Place,
    query=_text,
    name=_text,
    kind=st.sampled_from(["city", "country", "coordinates", "unresolved"]),
    country_code=st.none() | st.just("RU"),
    latitude=st.none() | st.floats(-90, 90),
    longitude=st.none() | st.floats(-180, 180),
)


@settings(max_examples=50, deadline=None)
@given(
    st.builds(
        Claim,
        text=st.none() | _text,
        date=st.none() | st.sampled_from(["2024", "2024-01", "2024-01-17"]),
        place=st.none() | _place,
        platforms=st.lists(_text, max_size=3).map(tuple),
        dates=st.lists(st.builds(DateMention, text=_text, date=st.just("2024"), rule=_text), max_size=2).map(tuple),
        places=st.lists(_place, max_size=2).map(tuple),
        warnings=st.lists(_text, max_size=2).map(tuple),
    )
)
def test_claim_round_trips_through_json(claim: Claim) -> None:
    assert Claim.from_dict(json.loads(json.dumps(claim.to_dict()))) == claim


# -- the CLI ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--claim-date", "yesterday"], "--claim-date 'yesterday': not a date"),
        (["--claim", "{tmp}/missing.yml"], "missing.yml: claim file not found"),
        (["--article", "{tmp}/missing.txt"], "missing.txt: article not found"),
        (["--claim-place", "95, 10"], "coordinates off the globe"),
    ],
)
def test_cli_bad_claims_exit_2_before_any_work(tmp_path: Path, args: list[str], message: str) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not read: the claim is checked first")
    args = [a.format(tmp=tmp_path) for a in args]
    result = CliRunner().invoke(main, ["check", str(clip), "--index", str(tmp_path / "i.sqlite"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_a_claim_file_that_is_a_named_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    """The claim reader shares the article's bounded reader: a FIFO is refused before it is opened."""
    import os

    from provenance.claims import build_claim

    fifo = tmp_path / "claim.yml"
    os.mkfifo(fifo)
    with pytest.raises(BadInputError, match="not a regular file; give a claim saved as YAML or JSON"):
        build_claim(file=fifo)
