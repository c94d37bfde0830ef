"""Stage article: the media an article references, paired with downloaded files and checked (issue 23).

Pages: tests/data/articles/baymak.html (the seed article with a figure and
an agency credit, a Telegram embed that is also og:video, an X link, a
YouTube iframe, tracking parameters and hostile markup), baymak_heldout.html
(another outlet's page on the same events, kept out of tuning: a figure, a
Telegram widget also in og:video, an X link) and pages built here. Media
are made with ffmpeg from samples/ and lavfi; the index is a real SQLite
index built with the CLI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from chromium import Chromium, chromium_path
from conftest import DOCS, ROOT, cli_here, ffmpeg, lavfi_clip
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.article import check_article, fetch_command, pair_media
from provenance.claims import (
    Claim,
    HowReferenced,
    MediaKind,
    article_from_html,
    canonical_url,
    claim_for_media,
    claim_from_article,
    read_article,
    split_credit,
)
from provenance.claims.article import MAX_ARTICLE_BYTES
from provenance.errors import BadInputError
from provenance.report.article import ArticleReport, PairedBy, render_article

ARTICLES = ROOT / "tests" / "data" / "articles"
SEED = ARTICLES / "baymak.html"
HELD_OUT = ARTICLES / "baymak_heldout.html"
NO_CHROMIUM = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (apt-get install chromium)")
HOSTILE_CAPTION = "<script>alert(1)</script> [x](javascript:alert(2)) | *bold* `code` <img src=x onerror=alert(3)>"


# -- canonical URLs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forms", "url"),
    [
        (
            [
                "https://t.me/baymak_news/4512",
                "https://t.me/s/baymak_news/4512",
                "https://t.me/baymak_news/4512?embed=1&userpic=true",
                "http://telegram.me/baymak_news/4512?single",
                "//t.me/s/baymak_news/4512?utm_source=share#comments",
            ],
            "https://t.me/baymak_news/4512",
        ),
        (
            [
                "https://twitter.com/baymak_watch/status/1747654321987654321?s=20&t=Zx9",
                "https://x.com/baymak_watch/status/1747654321987654321/video/1",
                "https://mobile.twitter.com/baymak_watch/status/1747654321987654321?ref_src=twsrc%5Etfw",
                "https://x.com/i/web/status/1747654321987654321",
            ],
            "https://x.com/baymak_watch/status/1747654321987654321",
        ),
        (
            [
                "https://youtu.be/Ab3dEf9HiJk?si=abc&t=12",
                "https://www.youtube.com/watch?v=Ab3dEf9HiJk&feature=share",
                "https://m.youtube.com/watch?v=Ab3dEf9HiJk",
                "https://www.youtube-nocookie.com/embed/Ab3dEf9HiJk?start=4",
                "https://www.youtube.com/shorts/Ab3dEf9HiJk",
            ],
            "https://www.youtube.com/watch?v=Ab3dEf9HiJk",
        ),
        (
            [
                "https://www.tiktok.com/@user.name/video/7321234567890123456?is_from_webapp=1",
                "https://www.tiktok.com/embed/v2/7321234567890123456",
            ],
            "https://www.tiktok.com/@user.name/video/7321234567890123456",
        ),
        (
            [
                "https://www.instagram.com/p/C2abcDEF123/?igsh=xyz",
                "https://instagram.com/p/C2abcDEF123/embed/captioned",
            ],
            "https://www.instagram.com/p/C2abcDEF123/",
        ),
        (
            [
                "https://vk.com/video-12345_456239017",
                "https://vk.com/video_ext.php?oid=-12345&id=456239017&hash=abc",
            ],
            "https://vk.com/video-12345_456239017",
        ),
        (
            [
                "https://www.facebook.com/ExamplePage/videos/1234567890123/",
                "https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2FExamplePage%2Fvideos%2F1234567890123%2F&show_text=0",
            ],
            "https://www.facebook.com/ExamplePage/videos/1234567890123",
        ),
    ],
)
def test_every_form_of_a_post_is_one_canonical_url(forms: list[str], url: str) -> None:
    found = [canonical_url(f) for f in forms]
    assert all(c is not None for c in found)
    assert {c.key for c in found if c} == {found[0].key if found[0] else ""}
    named = [c for c in found if c and c.named]
    assert named[0].url == url


def test_tracking_parameters_go_and_other_parameters_stay() -> None:
    a = canonical_url("https://cdn.example.com/p/a.jpg?w=800&utm_source=x&fbclid=1&gclid=2#top")
    b = canonical_url("https://CDN.example.com:443/p/a.jpg?w=800")
    assert a is not None and b is not None
    assert a.url == b.url == "https://cdn.example.com/p/a.jpg?w=800"
    assert canonical_url("https://cdn.example.com/p/a.jpg?w=1200") != a


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
        "file:///etc/passwd",
        "mailto:desk@example.org",
        "blob:https://example.org/1",
        "https://exa mple.org/a.mp4",
        "https://example.org/a\u202e4pm.exe",
        'https://example.org/"><script>',
        "https://example.org/" + "a" * 3000,
        "https://[::1/x",
    ],
)
def test_urls_that_are_not_http_are_dropped(url: str) -> None:
    assert canonical_url(url) is None


def test_profiles_and_share_links_are_no_posts() -> None:
    for url in ("https://t.me/examplenews", "https://x.com/examplenews", "https://t.me/share/url?url=x"):
        found = canonical_url(url)
        assert found is not None and not found.key


# -- credits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caption", "rest", "agencies", "photographer"),
    [
        (
            "Activist Fail Alsynov (C) in a court in the town of Baymak on January 17, 2024. -/SOTA/AFP/Getty Images",
            "Activist Fail Alsynov (C) in a court in the town of Baymak on January 17, 2024.",
            ("SOTA", "AFP", "Getty Images"),
            None,
        ),
        (
            "Police in Ufa, January 19, 2024. REUTERS/Maxim Shemetov",
            "Police in Ufa, January 19, 2024.",
            ("Reuters",),
            "Maxim Shemetov",
        ),
        ("A rally in Washington. (AP Photo/Evan Vucci)", "A rally in Washington.", ("AP",), "Evan Vucci"),
        (
            "Flooded streets in Paiporta. Photograph: José Jordán/AFP via Getty Images",
            "Flooded streets in Paiporta.",
            ("AFP", "Getty Images"),
            "José Jordán",
        ),
        ("Rescue workers in Valencia © EPA-EFE/Biel Alino", "Rescue workers in Valencia", ("EPA-EFE",), "Biel Alino"),
        ("Cars piled up in Paiporta | Manaure Quintero/AFP", "Cars piled up in Paiporta", ("AFP",), "Manaure Quintero"),
        (
            "Smoke over the city, January 2024. Anadolu Agency",
            "Smoke over the city, January 2024.",
            ("Anadolu Agency",),
            None,
        ),
        (
            "Firefighters at the scene. Stringer/AFP via Getty Images",
            "Firefighters at the scene.",
            ("AFP", "Getty Images"),
            None,
        ),
    ],
)
def test_credits_in_the_common_agency_formats(
    caption: str, rest: str, agencies: tuple[str, ...], photographer: str | None
) -> None:
    text, credit = split_credit(caption)
    assert text == rest
    assert credit is not None and credit.agencies == agencies and credit.photographer == photographer


@pytest.mark.parametrize(
    "caption",
    [
        "A still from the video shared on TikTok.",
        "The town square on Friday (C) where people gathered.",
        "Baymak, 2024.",
    ],
)
def test_a_caption_without_a_credit_keeps_its_words(caption: str) -> None:
    assert split_credit(caption) == (caption, None)


#: Written before the code had seen them and run once (docs/article.md, "How it was tested"): the first
#: run read 11 of 12 credits and 11 of 12 URLs; the two misses were fixed by general rules (a handout
#: names no photographer; a platform's short link is an item of its own), so these are held out no more.
HELD_OUT_CREDITS = [
    (
        "Ukrainian servicemen fire a howitzer near Bakhmut, Ukraine, on March 5, 2023. (Photo by Libkos/Getty Images)",
        ("Getty Images",),
        "Libkos",
    ),
    (
        "Firefighters battle a blaze in Los Angeles on January 8, 2025. Photo: Etienne Laurent/AFP",
        ("AFP",),
        "Etienne Laurent",
    ),
    (
        "A woman walks past a damaged building in Kharkiv. Image: Sergey Bobok/AFP via Getty Images",
        ("AFP", "Getty Images"),
        "Sergey Bobok",
    ),
    ("Protesters in Tbilisi, Georgia, December 2, 2024. REUTERS/Irakli Gedenidze", ("Reuters",), "Irakli Gedenidze"),
    ("Smoke rises in Gaza City, October 2023. Mohammed Abed/AFP", ("AFP",), "Mohammed Abed"),
    ("Police officers at the scene in Southport on July 29, 2024. Picture: PA", ("PA",), None),
    ("Floodwater in Paiporta, Valencia, Spain. EFE/Manuel Bruque", ("EFE",), "Manuel Bruque"),
    (
        "Rescuers work at the site of a strike in Dnipro (Ukrainian Emergency Service/Handout via REUTERS)",
        ("Reuters",),
        None,
    ),
    ("Demonstrators in Caracas. Photo by Jesus Vargas/dpa", ("dpa",), "Jesus Vargas"),
    (
        "A destroyed tank near Kyiv in 2022. Credit: Anadolu Agency via Getty Images",
        ("Anadolu Agency", "Getty Images"),
        None,
    ),
    ("The crowd at the rally (Jim Watson/AFP)", ("AFP",), "Jim Watson"),
    ("Volunteers clear mud in Sedavi, 3 November 2024 | Jose Jordan / AFP", ("AFP",), "Jose Jordan"),
]
HELD_OUT_URLS = [
    ("https://t.me/c/1234567890/555?thread=1", "telegram:c/1234567890/555"),
    ("https://twitter.com/i/status/1234567890123456789", "x:1234567890123456789"),
    ("https://www.youtube.com/live/AbCdEfGhIjK?feature=shared", "youtube:AbCdEfGhIjK"),
    ("https://vm.tiktok.com/ZMabc123/", "tiktok-short:ZMabc123"),
    ("https://www.instagram.com/reel/C9xYz123abc/?igsh=MWQ1ZGUxMzBkMA==", "instagram:C9xYz123abc"),
    ("https://fb.watch/abcDEF123/", "facebook:abcDEF123"),
    ("https://www.facebook.com/watch/?v=1234567890123", "facebook:1234567890123"),
    ("https://vk.com/wall-12345_678", "vk:wall-12345_678"),
    ("https://x.com/user/status/123/photo/2", "x:123"),
    ("https://t.me/channel/123?comment=45", "telegram:channel/123"),
    ("https://youtube.com/shorts/AbCdEfGhIjK?si=x", "youtube:AbCdEfGhIjK"),
    ("https://www.dailymotion.com/video/x8abcd1", "dailymotion:x8abcd1"),
]


@pytest.mark.parametrize(("caption", "agencies", "photographer"), HELD_OUT_CREDITS)
def test_held_out_credits(caption: str, agencies: tuple[str, ...], photographer: str | None) -> None:
    credit = split_credit(caption)[1]
    assert credit is not None and (credit.agencies, credit.photographer) == (agencies, photographer)


@pytest.mark.parametrize(("url", "key"), HELD_OUT_URLS)
def test_held_out_urls(url: str, key: str) -> None:
    found = canonical_url(url)
    assert found is not None and found.key == key and found.platform is not None


# -- reading a saved page --------------------------------------------------------------------


def test_the_seed_page_lists_each_piece_of_media_once() -> None:
    page = read_article(SEED)
    assert page.url == "https://news.example.com/world/2024/01/19/baymak-video"
    assert [m.url for m in page.media] == [
        "https://t.me/baymak_news/4512",
        "https://cdn.news.example.com/photos/2024/01/alsynov-court.jpg?w=800",
        "https://x.com/baymak_watch/status/1747654321987654321",
        "https://www.youtube.com/watch?v=Ab3dEf9HiJk",
    ]
    telegram, photo, x, youtube = page.media
    assert set(telegram.referenced) == {
        HowReferenced.OG_VIDEO,
        HowReferenced.EMBED,
        HowReferenced.IFRAME,
        HowReferenced.LINK,
    }
    assert telegram.kind == MediaKind.VIDEO and telegram.platform == "Telegram"  # og:video says it is a video
    assert set(photo.referenced) == {HowReferenced.OG_IMAGE, HowReferenced.TWITTER_IMAGE, HowReferenced.FIGURE}
    assert photo.caption == "Activist Fail Alsynov (C) in a court in the town of Baymak on January 17, 2024."
    assert photo.credit is not None and photo.credit.agencies == ("SOTA", "AFP", "Getty Images")
    assert photo.alt == "A man in a dark jacket stands in a courtroom cage"
    assert x.kind == MediaKind.POST and len(x.urls) == 2
    assert youtube.referenced == (HowReferenced.IFRAME, HowReferenced.LINK)
    # positions follow the text: each item after the paragraph it follows, in order
    assert [m.paragraph for m in page.media] == sorted(m.paragraph or 0 for m in page.media)
    assert page.text[: telegram.offset].rstrip().endswith("since Wednesday.")
    assert "uploaded to YouTube in 2019:" in youtube.context[1]
    # the sentences around an item are the article's, never a caption (its own or a neighbour's)
    assert not any(photo.caption in s or "Getty Images" in s for m in page.media for s in m.context)
    assert x.nearest_first[0].startswith("Several Telegram channels")


def test_hostile_markup_makes_no_item_and_no_text() -> None:
    page = read_article(SEED)
    urls = " ".join(u for m in page.media for u in (m.url, *m.urls))
    for absent in (
        "evil",
        "javascript",
        "data:",
        "file:",
        "srcdoc_channel",
        "nav_channel",
        "aside_channel",
        "in_a_style",
        "ads.example",
    ):
        assert absent not in urls
    assert "\ue000" not in page.text
    assert "alert" not in page.text and "AAAAAAAA" not in page.text


def test_the_held_out_page() -> None:
    """Held out while the reading rules were written (see docs/article.md for what it changed)."""
    page = read_article(HELD_OUT)
    assert [m.url for m in page.media] == [
        "https://courier.example.net/wp-content/uploads/2024/01/baymak-court-crowd-1024x683.jpg",
        "https://t.me/sotavision/70123",
        "https://x.com/ural_watch/status/1747912345678901234",
    ]
    photo = page.media[0]
    assert photo.credit is not None and "AFP" in photo.credit.agencies
    assert photo.caption == "People gather outside the court in Baymak, January 17, 2024."


def test_a_hostile_page_makes_the_tool_fetch_and_run_nothing(tmp_path: Path) -> None:
    """Reading the hostile seed page and rendering every form opens no socket and starts no process."""
    import sys

    from provenance.report import RenderOptions

    events: list[str] = []
    watching = [True]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if watching[0] and event.startswith(
            ("socket.", "subprocess.", "os.exec", "os.posix_spawn", "os.system", "urllib.")
        ):
            events.append(event)

    sys.addaudithook(hook)  # audit hooks cannot be removed: this one stops watching at the end
    try:
        report = check_article(SEED, None, f"sqlite:///{tmp_path / 'none.sqlite'}")
        options = RenderOptions("Example Desk", None, "https://desk.example.org/fc/23")
        for fmt in ("json", "md", "html", "claimreview"):
            render_article(report, fmt, options)
    finally:
        watching[0] = False
    assert events == []
    assert len(report.media) == 4


def _normal(text: str) -> str:
    """A page's text as the reader squeezes it: one space, lines trimmed, at most one blank line."""
    lines = "\n".join(" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", lines).strip()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["word", " ", "\n", "\n\n", "\ue000", ".", "Ab"]), max_size=40))
def test_marks_come_out_where_they_stood(pieces: list[str]) -> None:
    from provenance.claims.article import _MARK, _unmarked

    raw = "".join(pieces)
    body = "\n".join(" ".join(line.split()) for line in raw.splitlines())
    body = re.sub(r"\n{2,}", "\n\n", body).strip()
    text, marks = _unmarked(body)
    assert text == _normal(body.replace(_MARK, ""))
    assert len(marks) == body.count(_MARK) and marks == sorted(marks)
    starts = [i for i, ch in enumerate(body) if ch == _MARK]
    for mark, start in zip(marks, starts, strict=True):
        assert text[:mark].rstrip() == _normal(body[:start].replace(_MARK, "")).rstrip()


FRAGMENTS = [
    "<figure>",
    "</figure>",
    "<figcaption>",
    "</figcaption>",
    '<span class="credit">',
    "</span>",
    "<p>",
    "</p>",
    '<img src="https://cdn.example.com/a-800x600.jpg">',
    '<img src="data:image/gif;base64,R0lGOD">',
    '<img srcset="https://cdn.example.com/a.jpg 2x, javascript:alert(1) 3x">',
    '<iframe src="https://t.me/c/9/1">',
    "</iframe>",
    '<iframe src="javascript:alert(1)">',
    '<video><source src="/v.mp4">',
    "</video>",
    '<a href="https://x.com/u/status/1">',
    '<a href="javascript:void(0)">',
    "</a>",
    '<blockquote class="twitter-tweet">',
    "</blockquote>",
    '<script data-telegram-post="c/2">',
    "</script>",
    "<nav>",
    "</nav>",
    "<aside>",
    '<meta property="og:video" content="https://youtu.be/AbCdEfGhIjK">',
    "\ue000",
    "Baymak, January 17, 2024. ",
    "REUTERS/Name Surname",
    " text ",
    "\n\n",
    "<br>",
    "&lt;script&gt;",
    "<!--",
    "-->",
    "<![CDATA[",
    "<",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60))
def test_any_markup_gives_items_or_a_one_line_refusal(fragments: list[str]) -> None:
    try:
        page = article_from_html("<html><body>" + "".join(fragments) + "</body></html>")
    except BadInputError as exc:
        assert "\n" not in str(exc)
        return
    assert "\ue000" not in page.text
    for m in page.media:
        assert m.url.startswith(("https://", "http://", "/")) and "javascript" not in m.url.lower()
        assert m.offset is None or 0 <= m.offset <= len(page.text)
    assert len({r.key for r in page.media}) == len(page.media)


def _page(body: str, head: str = "") -> str:
    return (
        f'<!DOCTYPE html><html><head><meta property="article:published_time" content="2024-01-19">{head}</head>'
        f"<body><article><h1>Headline</h1><p>A video that users say shows protesters in Baymak on Wednesday has spread.</p>"
        f"{body}</article></body></html>"
    )


def test_every_embed_kind() -> None:
    html = _page(
        '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@baymak.live/video/7324111111111111111" '
        'data-video-id="7324111111111111111"><a href="https://www.tiktok.com/@baymak.live">@baymak.live</a></blockquote>'
        '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/reel/C2xyzABC987/?utm_source=ig_embed">'
        "</blockquote>"
        '<blockquote class="twitter-tweet"><p>Look</p><a href="https://twitter.com/someone/status/1747000000000000001?ref_src=twsrc">'
        "January 17, 2024</a></blockquote>"
        '<iframe src="https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2Fbaymak.page%2Fvideos%2F998877665544%2F"></iframe>'
        '<iframe src="https://vk.com/video_ext.php?oid=-220754053&amp;id=456239501&amp;hash=1a2b"></iframe>'
        '<iframe data-src="https://player.vimeo.com/video/905123456?h=abc"></iframe>'
        '<div class="fb-video" data-href="https://www.facebook.com/baymak.page/videos/998877665544/"></div>'
        '<video controls poster="/p.jpg"><source src="https://media.example.com/clips/baymak.mp4?utm_medium=x" type="video/mp4"></video>'
        '<p>Also on <a href="https://www.youtube.com/shorts/Zy9xWv8UtSr">YouTube Shorts</a>.</p>',
        head='<meta name="twitter:player" content="https://www.youtube.com/embed/Zy9xWv8UtSr">'
        '<script type="application/ld+json">{"@type": "VideoObject", "embedUrl": "https://vk.com/video-220754053_456239501"}'
        "</script>",
    )
    media = article_from_html(html).media
    assert [(m.platform, m.kind) for m in media] == [
        ("TikTok", MediaKind.VIDEO),
        ("Instagram", MediaKind.VIDEO),
        ("X", MediaKind.POST),
        ("Facebook", MediaKind.VIDEO),
        ("VK", MediaKind.VIDEO),
        ("Vimeo", MediaKind.VIDEO),
        (None, MediaKind.VIDEO),
        ("YouTube", MediaKind.VIDEO),
    ]
    assert set(media[3].referenced) == {HowReferenced.IFRAME, HowReferenced.EMBED}  # the plugin and the SDK's div
    assert set(media[4].referenced) == {HowReferenced.IFRAME, HowReferenced.JSON_LD}
    assert media[6].url == "https://media.example.com/clips/baymak.mp4"
    assert set(media[-1].referenced) == {HowReferenced.LINK, HowReferenced.TWITTER_PLAYER}
    assert all(m.offset is not None for m in media)


def test_ten_thousand_links() -> None:
    """A page of 10,000 links: articles and profiles are no media, 10,000 links to 3 posts are 3 items."""
    links = "".join(f'<a href="https://news.example.com/story/{i}?utm_source=x">story {i}</a> ' for i in range(7000))
    links += "".join(f'<a href="https://t.me/s/chan/{i % 3 + 1}?embed=1&n={i}">post</a> ' for i in range(3000))
    page = article_from_html(_page(f"<p>{links}</p>"))
    assert [m.url for m in page.media] == ["https://t.me/chan/1", "https://t.me/chan/2", "https://t.me/chan/3"]
    many = "".join(f'<a href="https://t.me/chan/{i}">p</a> ' for i in range(1, 10_001))
    page = article_from_html(_page(f"<p>{many}</p>"))
    assert len(page.media) == 500 and any("more than 500" in w for w in page.warnings)


def test_a_plain_text_article_names_posts_by_url() -> None:
    text = (ROOT / "samples" / "article.txt").read_text(encoding="utf-8")
    text += "\nThe first post: https://t.me/s/baymak_news/4512?embed=1. A copy: twitter.com/u/status/1747654321987654321?s=20.\n"
    path_media = article_from_html(f"<html><body><p>{text}</p></body></html>").media
    from provenance.claims import article_from_text

    media = article_from_text(text).media
    assert [m.url for m in media] == ["https://t.me/baymak_news/4512", "https://x.com/u/status/1747654321987654321"]
    assert [m.url for m in path_media] == []  # in HTML only markup references count, not URLs in the words


# -- a claim per item -------------------------------------------------------------------------


def test_a_caption_date_and_place_override_the_article() -> None:
    html = _page(
        '<figure><img src="https://cdn.example.com/ufa-2023.jpg"><figcaption>Riot police in Ufa on 12 March 2023. '
        "REUTERS/Maxim Shemetov</figcaption></figure>"
        '<figure><img src="https://cdn.example.com/crowd.jpg"><figcaption>The crowd outside the court.</figcaption></figure>'
    )
    page = article_from_html(html)
    base = claim_from_article(page)
    assert base.date == "2024-01-17" and base.place is not None and base.place.name == "Baymak"
    first, second = (claim_for_media(base, m, label=f"media item {n}") for n, m in enumerate(page.media, 1))
    assert first.date == "2023-03-12" and first.place is not None and first.place.name == "Ufa"
    assert first.origin[-1] == "media item 1: date from its caption, place from its caption"
    assert first.text and first.text.startswith("Riot police in Ufa")
    assert second.date == base.date and second.place == base.place  # no date or place in its caption
    assert second.text == "The crowd outside the court."
    assert first.source == "https://cdn.example.com/ufa-2023.jpg"


def test_a_file_photo_caption_does_not_date_the_article() -> None:
    """The article's own sentences date it, even when they name no medium: a caption speaks for its picture only."""
    html = (
        '<html><head><meta property="article:published_time" content="2024-01-19"></head><body><article>'
        '<h1>Clashes</h1><figure><img src="https://cdn.example.com/ufa.jpg"><figcaption>Riot police in Ufa on '
        "12 March 2023. REUTERS/Maxim Shemetov</figcaption></figure>"
        "<p>Protesters clashed with police in Baymak on Wednesday.</p></article></body></html>"
    )
    page = article_from_html(html)
    base = claim_from_article(page)
    assert base.date == "2024-01-17" and base.place is not None and base.place.name == "Baymak"
    photo = claim_for_media(base, page.media[0])
    assert photo.date == "2023-03-12" and photo.place is not None and photo.place.name == "Ufa"


def test_a_sentence_next_to_an_embed_that_says_when_it_was_filmed() -> None:
    html = _page(
        "<p>The video below was filmed on Monday in Ufa, the regional capital.</p>"
        '<iframe src="https://t.me/ufa_now/77?embed=1"></iframe><p>It spread quickly.</p>'
    )
    page = article_from_html(html)
    claim = claim_for_media(claim_from_article(page), page.media[0], label="media item 1")
    assert claim.date == "2024-01-15" and claim.place is not None and claim.place.name == "Ufa"
    assert claim.platforms[0] == "Telegram"


# -- pairing ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s of testsrc2: a real video file to pair (pairing does not decode it)."""
    return lavfi_clip(tmp_path_factory.mktemp("tiny") / "tiny.mp4", "testsrc2=size=160x120:rate=10", seconds=1)


def test_pairing_by_sidecar_id_file_name_post_id_and_map(tmp_path: Path, tiny_clip: Path) -> None:
    page = read_article(SEED)
    folder = tmp_path / "media"
    folder.mkdir()
    shutil.copy(tiny_clip, folder / "clip.mp4")  # sidecar with the Telegram id only
    # yt-dlp's Telegram extractor: the message id, with the video's number when a post holds several
    (folder / "clip.info.json").write_text(
        json.dumps({"id": "4512-2", "extractor_key": "TelegramEmbed"}), encoding="utf-8"
    )
    shutil.copy(tiny_clip, folder / "alsynov-court-1200x800.webp")  # the picture's name at another size
    shutil.copy(tiny_clip, folder / "Police flee [Ab3dEf9HiJk].mp4")  # yt-dlp's default name
    shutil.copy(tiny_clip, folder / "other.mp4")
    (folder / "other.info.json").write_text(json.dumps({"webpage_url": "https://t.me/elsewhere/1"}), encoding="utf-8")
    os.mkfifo(folder / "pipe.mp4")
    shutil.copy(tiny_clip, tmp_path / "x.mp4")
    pairs, unpaired = pair_media(
        page.media, folder, [(tmp_path / "x.mp4", "https://twitter.com/baymak_watch/status/1747654321987654321")]
    )
    by_key = {k: (p.name, how) for k, (p, how, _) in pairs.items()}
    assert by_key == {
        "telegram:baymak_news/4512": ("clip.mp4", PairedBy.SIDECAR_ID),
        page.media[1].key: ("alsynov-court-1200x800.webp", PairedBy.FILE_NAME),
        "x:1747654321987654321": ("x.mp4", PairedBy.MAP),
        "youtube:Ab3dEf9HiJk": ("Police flee [Ab3dEf9HiJk].mp4", PairedBy.POST_ID),
    }
    reasons = {Path(u.path).name: u.reason for u in unpaired}
    assert set(reasons) == {"other.mp4", "pipe.mp4"}
    assert "https://t.me/elsewhere/1" in reasons["other.mp4"] and "--map" in reasons["other.mp4"]
    assert "not a regular file" in reasons["pipe.mp4"]


def test_a_file_pairs_with_one_item_and_the_sidecar_url_wins(tmp_path: Path, tiny_clip: Path) -> None:
    page = read_article(SEED)
    folder = tmp_path / "media"
    folder.mkdir()
    shutil.copy(tiny_clip, folder / "Ab3dEf9HiJk.mp4")  # its name holds the YouTube id, its sidecar names the post
    (folder / "Ab3dEf9HiJk.info.json").write_text(
        json.dumps({"webpage_url": "https://t.me/baymak_news/4512?single", "id": "4512"}), encoding="utf-8"
    )
    pairs, unpaired = pair_media(page.media, folder)
    assert {k: how for k, (_, how, _) in pairs.items()} == {"telegram:baymak_news/4512": PairedBy.SIDECAR_URL}
    assert unpaired == []


def test_fetch_commands() -> None:
    page = read_article(SEED)
    folder = Path("downloads/baymak")
    assert fetch_command(page.media[2], folder) == (
        "yt-dlp --write-info-json -P downloads/baymak -o '%(id)s.%(ext)s' "
        "https://x.com/baymak_watch/status/1747654321987654321"
    )
    assert fetch_command(page.media[1], folder) == (
        "curl -L --fail -o downloads/baymak/alsynov-court.jpg "
        "'https://cdn.news.example.com/photos/2024/01/alsynov-court.jpg?w=800'"
    )


# -- end to end, with a real index ----------------------------------------------------------


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, sample_refs: Path) -> dict[str, Any]:
    """An index holding footage first seen in 2019 and a photo first seen in 2020, and a desk's download folder.

    The folder holds the Telegram post's video (street_cyclists 2-8 s, 480 px, 300 kb/s) with its
    yt-dlp sidecar, the figure's photo (downscaled, JPEG quality 8) and a clip no item names.
    """
    root = tmp_path_factory.mktemp("desk")
    refs = root / "refs"
    refs.mkdir()
    shutil.copy(sample_refs / "street_cyclists.mp4", refs / "street.mp4")
    ffmpeg("-f", "lavfi", "-i", "mandelbrot=size=800x600", "-frames:v", "1", "-q:v", "2", refs / "court.jpg")
    index = f"sqlite:///{root / 'index.sqlite'}"
    for path, seen, url in (
        (refs / "street.mp4", "2019-06-01", "https://archive.example.org/watch/street-2019"),
        (refs / "court.jpg", "2020-03-02", "https://photos.example.org/2020/court"),
    ):
        run = cli_here("index", "add", path, "--index", index, "--first-seen", seen, "--source-url", url, "-q")
        assert run.code == 0, run.stderr
    media = root / "media"
    media.mkdir()
    ffmpeg("-i", sample_refs / "street_cyclists.mp4", "-ss", "2", "-t", "6", "-vf", "scale=480:-2", "-c:v", "libx264",
           "-b:v", "300k", media / "70123.mp4")  # fmt: skip
    (media / "70123.info.json").write_text(
        json.dumps(
            {
                "id": "70123",
                "extractor": "telegram",
                "extractor_key": "Telegram",
                "webpage_url": "https://t.me/sotavision/70123?single",
                "original_url": "https://t.me/s/sotavision/70123",
                "title": "Baymak",
                "upload_date": "20240117",
            }
        ),
        encoding="utf-8",
    )
    ffmpeg("-i", refs / "court.jpg", "-vf", "scale=640:-1", "-q:v", "8", media / "baymak-court-crowd.jpg")
    lavfi_clip(media / "unrelated.mp4", "life=size=160x120:rate=10:seed=2", seconds=2)
    return {"root": root, "index": index, "media": media}


@pytest.fixture(scope="module")
def held_out_json(desk: dict[str, Any]) -> dict[str, Any]:
    """`provenance article` on the held-out page with the desk's folder and index, as JSON written with -o."""
    out = desk["root"] / "article.json"
    run = cli_here("article", HELD_OUT, "--media", desk["media"], "--index", desk["index"], "-o", out)
    assert run.code == 0, run.stderr
    return dict(json.loads(out.read_text(encoding="utf-8")))


def test_the_issue_done_when(held_out_json: dict[str, Any], desk: dict[str, Any]) -> None:
    doc = held_out_json
    assert doc["schema"] == "provenance.article/1"
    media = doc["media"]
    assert len(media) == 3
    photo, telegram, x = media
    assert photo["media"]["kind"] == "image" and telegram["media"]["platform"] == "Telegram"
    assert photo["claim"]["place"]["name"] == "Baymak" and photo["claim"]["date"] == "2024-01-17"
    assert "AFP" in photo["media"]["credit"]["agencies"]
    assert telegram["status"] == photo["status"] == "checked"
    assert telegram["paired_by"] == "sidecar_url" and photo["paired_by"] == "file_name"
    for item, seen in ((telegram, "2019-06-01"), (photo, "2020-03-02")):
        report = item["report"]
        assert report["verdict"]["code"] == "footage_predates_claim"
        assert report["matches"][0]["reference"]["first_seen"] == seen
        assert report["claim"]["source"] == item["media"]["url"]
    assert x["status"] == "not_downloaded" and x["file"] is None
    assert x["fetch"].startswith("yt-dlp ") and x["media"]["url"] in x["fetch"]
    assert [Path(u["path"]).name for u in doc["unpaired"]] == ["unrelated.mp4"]
    assert doc["summary"] == {"checked": 2, "not_downloaded": 1, "failed": 0, "unpaired_files": 1}


def test_the_json_follows_its_schema_and_round_trips(held_out_json: dict[str, Any]) -> None:
    schema = json.loads((DOCS / "article-schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(held_out_json)
    reports = jsonschema.Draft202012Validator(json.loads((DOCS / "report-schema.json").read_text(encoding="utf-8")))
    for item in held_out_json["media"]:
        if item["report"] is not None:
            reports.validate(item["report"])
    report = ArticleReport.from_dict(held_out_json)
    assert json.loads(render_article(report, "json")) == held_out_json


def test_every_item_is_in_the_markdown(held_out_json: dict[str, Any]) -> None:
    text = render_article(ArticleReport.from_dict(held_out_json), "md")
    for n, item in enumerate(held_out_json["media"], 1):
        assert f"## {n}. " in text
        assert item["media"]["url"].split("://")[1][:30] in text
    assert text.count("Footage predates claim") >= 2 and "not downloaded" in text
    assert "yt-dlp --write-info-json" in text
    assert "agencies SOTA, AFP" in text


def test_markdown_saved_with_its_items_reports(desk: dict[str, Any], tmp_path: Path) -> None:
    """-o NAME.md writes each checked item's own report (with its frames) beside it and links it."""
    out = tmp_path / "a.md"
    run = cli_here("article", HELD_OUT, "--media", desk["media"], "--index", desk["index"], "--format", "md", "-o", out)
    assert run.code == 0, run.stderr
    text = out.read_text(encoding="utf-8")
    assert "(a_files/item-01.md)" in text and "(a_files/item-02.md)" in text and "item-03.md" not in text
    item = (tmp_path / "a_files" / "item-02.md").read_text(encoding="utf-8")
    assert item.startswith("# Provenance report") and "item-02_files/" in item
    frames = list((tmp_path / "a_files" / "item-02_files").glob("*.jpg"))
    assert frames and all(f.read_bytes()[:3] == b"\xff\xd8\xff" for f in frames)
    for link in re.findall(r"\]\((item-02_files/[^)]+)\)", item):
        assert (tmp_path / "a_files" / link).is_file()


def test_a_saved_article_report_renders_again(held_out_json: dict[str, Any], desk: dict[str, Any]) -> None:
    saved = desk["root"] / "article.json"
    run = cli_here("report", saved, "--format", "md")
    assert run.code == 0, run.stderr
    assert run.stdout == render_article(ArticleReport.from_dict(held_out_json), "md")
    html = cli_here("report", saved)
    assert html.code == 0 and "<h1>Clashes after Baymak verdict: what the videos show</h1>" in html.stdout


def test_claimreview_per_checked_item_needs_the_publisher(held_out_json: dict[str, Any]) -> None:
    report = ArticleReport.from_dict(held_out_json)
    with pytest.raises(BadInputError, match="--review-url"):
        render_article(report, "claimreview")
    from provenance.report import RenderOptions

    text = render_article(report, "claimreview", RenderOptions("Example Desk", None, "https://desk.example.org/fc/23"))
    docs = json.loads(text)
    assert [d["@type"] for d in docs] == ["ClaimReview", "ClaimReview"]
    assert all(
        d["associatedMediaReview"]["mediaAuthenticityCategory"].endswith("DecontextualizedContent") for d in docs
    )
    appearances = [a.get("url") for d in docs for a in d["itemReviewed"]["appearance"]]
    assert "https://t.me/sotavision/70123" in appearances
    for private in ("/tmp", "70123.mp4", "baymak-court-crowd.jpg", "index.sqlite", "street.mp4", "court.jpg"):
        assert private not in text


def test_the_seed_page_with_hostile_captions(desk: dict[str, Any], tmp_path: Path) -> None:
    """A caption full of markup reaches every form as text: nothing runs, nothing links, nothing is fetched."""
    page = SEED.read_text(encoding="utf-8").replace(
        "Activist Fail Alsynov (C) in a court",
        HOSTILE_CAPTION.replace("<", "&lt;").replace(">", "&gt;") + " Activist Fail Alsynov (C) in a court",
    )
    saved = tmp_path / "hostile.html"
    saved.write_text(page, encoding="utf-8")
    media = tmp_path / "media"
    media.mkdir()
    shutil.copy(desk["media"] / "baymak-court-crowd.jpg", media / "alsynov-court.jpg")
    out = tmp_path / "out.html"
    run = cli_here("article", saved, "--media", media, "--index", desk["index"], "--format", "html", "-o", out)
    assert run.code == 0, run.stderr
    html = out.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "onerror=alert(3)&gt;" in html and "<img src=x" not in html
    assert 'href="javascript' not in html
    md = cli_here("article", saved, "--media", media, "--index", desk["index"], "--format", "md")
    assert md.code == 0, md.stderr
    caption_line = next(line for line in md.stdout.splitlines() if line.startswith("- Caption:"))
    assert "\\<script>" in caption_line and "\\[x\\](javascript:alert(2))" in caption_line
    assert "\\*bold\\*" in caption_line and "\\`code\\`" in caption_line and "\\|" in caption_line


@pytest.fixture(scope="module")
def browser() -> Any:
    with Chromium() as b:
        yield b


@NO_CHROMIUM
def test_the_html_in_chromium(held_out_json: dict[str, Any], tmp_path: Path, browser: Chromium) -> None:
    """One page, every item with its check's frames, nothing fetched, readable on a phone."""
    saved = tmp_path / "article.html"
    saved.write_text(render_article(ArticleReport.from_dict(held_out_json), "html"), encoding="utf-8")
    page = browser.open(saved.as_uri())
    assert [u for u in page.requests if u != page.url and not u.startswith("data:")] == []
    assert not [c for c in page.console if "Content Security Policy" in c or "Refused" in c], page.console
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("[...document.querySelectorAll('section.item h2')].map(h => h.innerText)") == [
        "1. photo: Footage predates claim",
        "2. Telegram video: Footage predates claim",
        "3. X post: not downloaded",
    ]
    images = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth, i.src.slice(0, 23)])")
    assert len(images) >= 4 and all(c and w > 0 and src == "data:image/jpeg;base64," for c, w, src in images)
    assert page.evaluate("document.querySelectorAll('#item-2 .pair img').length") >= 2  # the video's aligned frames
    assert page.evaluate("document.querySelectorAll('#item-2 .shots img').length") >= 1  # and its shots
    assert page.evaluate("(() => { const ids = [...document.querySelectorAll('[id]')].map(e => e.id); "
                         "return ids.length === new Set(ids).size; })()")  # fmt: skip
    assert "yt-dlp --write-info-json" in page.evaluate("document.querySelector('#item-3 pre.fetch').innerText")
    phone = browser.new_page()
    phone.set_viewport(390, 844, mobile=True, scale=2)
    phone.call("Page.navigate", {"url": saved.as_uri()})
    browser.wait_event("Page.loadEventFired", phone.session)
    width = phone.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], width


@NO_CHROMIUM
def test_a_hostile_caption_in_chromium(desk: dict[str, Any], tmp_path: Path, browser: Chromium) -> None:
    page = SEED.read_text(encoding="utf-8").replace(
        "Activist Fail Alsynov (C)", HOSTILE_CAPTION.replace("<", "&lt;").replace(">", "&gt;")
    )
    saved = tmp_path / "hostile.html"
    saved.write_text(page, encoding="utf-8")
    out = tmp_path / "out.html"
    run = cli_here("article", saved, "--format", "html", "-o", out)
    assert run.code == 0, run.stderr
    shown = browser.open(out.as_uri())
    assert HOSTILE_CAPTION in shown.evaluate("document.body.innerText")
    assert shown.evaluate("document.scripts.length") == 0
    assert shown.evaluate("document.querySelectorAll('[onerror]').length") == 0
    links = shown.evaluate("[...document.links].map(a => a.protocol)")
    assert set(links) <= {"https:", "http:", "file:"} and "javascript:" not in links
    assert [u for u in shown.requests if u != shown.url and not u.startswith("data:")] == []


def test_python_api_from_the_package_root(desk: dict[str, Any]) -> None:
    import provenance

    report = provenance.check_article(HELD_OUT, desk["media"], desk["index"], keyframes=False)
    assert isinstance(report, provenance.ArticleReport)
    assert [str(i.status) for i in report.media] == ["checked", "checked", "not_downloaded"]
    assert report.media[1].report is not None and report.media[1].report.keyframes is None
    assert provenance.render_article(report, "md").startswith("# Provenance article report")


def test_without_a_media_folder_every_item_is_to_do(tmp_path: Path) -> None:
    """No file to check: the index is not opened (a missing one is no error) and every item is listed to fetch."""
    report = check_article(SEED, None, f"sqlite:///{tmp_path / 'nothing' / 'none.sqlite'}")
    assert [str(i.status) for i in report.media] == ["not_downloaded"] * 4
    assert report.index is None and not (tmp_path / "nothing").exists()


# -- bad input: one line, the right exit code ------------------------------------------------


def _one_line_error(run: Any, code: int, *words: str) -> None:
    assert run.code == code, (run.code, run.stderr)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    for word in words:
        assert word in lines[0]


def test_an_undated_plain_text_article_dated_by_flag(tmp_path: Path) -> None:
    page = tmp_path / "post.txt"
    page.write_text(
        "Police flee rioters\n\nA video said to show police fleeing in Baymak on Wednesday was posted at "
        "https://t.me/s/baymak_news/4512 and shared widely.\n",
        encoding="utf-8",
    )
    undated = json.loads(cli_here("article", page).stdout)
    assert undated["media"][0]["claim"]["date"] is None and undated["article"]["published"] is None
    dated = json.loads(cli_here("article", page, "--article-date", "2024-01-19").stdout)
    assert dated["media"][0]["claim"]["date"] == "2024-01-17" and dated["article"]["published"] == "2024-01-19"
    _one_line_error(cli_here("article", page, "--article-date", "last week"), 2, "article date")


def test_an_index_that_cannot_be_opened_stops_before_any_check(desk: dict[str, Any], tmp_path: Path) -> None:
    run = cli_here(
        "article", HELD_OUT, "--media", desk["media"], "--index", f"sqlite:///{tmp_path / 'no' / 'i.sqlite'}"
    )
    _one_line_error(run, 3, "i.sqlite")
    assert "checked" not in run.stderr


def test_a_missing_media_folder(tmp_path: Path) -> None:
    _one_line_error(cli_here("article", SEED, "--media", tmp_path / "nope"), 2, "media folder not found", "nope")


def test_a_media_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f.mp4").write_bytes(b"x")
    _one_line_error(cli_here("article", SEED, "--media", tmp_path / "f.mp4"), 2, "a file", "--media")


def test_an_article_that_is_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "page.html"
    os.mkfifo(fifo)
    _one_line_error(cli_here("article", fifo), 2, "not a regular file")


def test_a_page_of_50_mb(tmp_path: Path) -> None:
    big = tmp_path / "big.html"
    with big.open("wb") as f:
        f.write(b"<html><body><p>" + b"a" * (50 << 20) + b"</p></body></html>")
    assert big.stat().st_size > MAX_ARTICLE_BYTES
    _one_line_error(cli_here("article", big), 2, "larger than", "big.html")


def test_a_missing_article(tmp_path: Path) -> None:
    _one_line_error(cli_here("article", tmp_path / "gone.html"), 2, "not found", "gone.html")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("no-equals-sign", ("FILE=URL",)),
        ("{file}=https://t.me/not_in_the_article/1", ("references no such URL",)),
        ("{missing}=https://t.me/baymak_news/4512", ("is not a file",)),
    ],
)
def test_bad_map_values(tmp_path: Path, tiny_clip: Path, value: str, words: tuple[str, ...]) -> None:
    value = value.format(file=tiny_clip, missing=tmp_path / "missing.mp4")
    _one_line_error(cli_here("article", SEED, "--map", value), 2, *words)


def test_claimreview_without_publisher_fails_before_any_work() -> None:
    _one_line_error(cli_here("article", SEED, "--format", "claimreview"), 2, "--review-url")


def test_a_file_that_does_not_decode_is_a_failed_item(desk: dict[str, Any], tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (media / "70123.mp4").write_text("<html>error page saved as the video</html>", encoding="utf-8")
    shutil.copy(desk["media"] / "70123.info.json", media / "70123.info.json")
    out = tmp_path / "a.json"
    run = cli_here("article", HELD_OUT, "--media", media, "--index", desk["index"], "-o", out)
    assert run.code == 2, run.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    telegram = doc["media"][1]
    assert telegram["status"] == "failed" and telegram["exit_code"] == 2 and "70123.mp4" in telegram["error"]
    assert doc["summary"]["failed"] == 1


def test_an_empty_claim_is_not_needed() -> None:
    assert isinstance(claim_for_media(Claim(), read_article(SEED).media[0]), Claim)


def test_the_readme_article_demo(sample_index: Path) -> None:
    """samples/article.html with samples/viral.mp4 named by --map, as scripts/demo.sh runs it."""
    run = cli_here(
        "article",
        ROOT / "samples" / "article.html",
        "--map",
        f"{ROOT / 'samples' / 'viral.mp4'}=https://t.me/s/baymak_news/4512?embed=1",
        "--index",
        f"sqlite:///{sample_index}",
        "--format",
        "md",
    )
    assert run.code == 0, run.stderr
    assert "## 1. Telegram video: Footage predates claim" in run.stdout
    assert "## 2. photo: not downloaded" in run.stdout and "## 3. X post: not downloaded" in run.stdout
    assert "first seen 2021-09-12" in run.stdout
    assert "agencies SOTA, AFP, Getty Images" in run.stdout
