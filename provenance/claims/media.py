"""Stage claims: the media an article references, each once, with its caption and credit.

A saved page names its media in many ways: a ``<video>``, a photo in a
``<figure>`` with a ``<figcaption>``, an ``<iframe>`` or a widget script that
embeds a Telegram, X, YouTube, TikTok, Instagram, Facebook or VK post, a
plain link to such a post, and the page's ``og:video``, ``og:image`` and
``twitter:player`` tags. One post reached several ways is one item: every
URL is reduced to a canonical form (`canonical_url`: ``t.me/s/x/1?embed=1``
and ``t.me/x/1`` are one post, ``twitter.com`` is ``x.com``, ``youtu.be/ID``
is ``youtube.com/watch?v=ID``, tracking parameters are dropped)::

    >>> canonical_url("https://t.me/s/baymak_news/4512?embed=1&single").url
    'https://t.me/baymak_news/4512'
    >>> split_credit("Alsynov in Baymak on January 17, 2024. -/SOTA/AFP/Getty Images")[1].agencies
    ('SOTA', 'AFP', 'Getty Images')

Nothing is fetched: URLs are only parsed. A URL that is not http(s)
(``javascript:``, ``data:``, ``file:``), longer than `MAX_URL_CHARS` or
holding control characters is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

#: Longest URL kept from a page, characters (browsers accept about 2,000 in practice).
MAX_URL_CHARS = 2_000
#: Longest caption, alt text or credit kept, characters (a caption is one or two sentences).
MAX_CAPTION_CHARS = 1_000
#: Most items kept from one page; a page naming more is cut, with a warning (a news page names a few dozen).
MAX_MEDIA_ITEMS = 500
#: Most raw URLs kept per item (the forms a page used to reach it), for the user to see.
MAX_URLS_PER_ITEM = 8

#: Query parameters that only track who shared a link (dropped from every URL).
TRACKING_PARAMETERS = frozenset(
    "fbclid gclid dclid gbraid wbraid msclkid yclid igshid igsh mc_cid mc_eid _ga _gl ref ref_src ref_url "
    "s si t feature share_id spm cmpid ocid smid at_medium at_campaign xtor cid".split()
)
#: Query parameter prefixes that only track (utm_source, utm_medium, ...).
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "oly_")


class MediaKind(StrEnum):
    """What an item is, as far as the page tells: a video, a still image, or a post whose media is not stated."""

    VIDEO = "video"
    IMAGE = "image"
    POST = "post"


class HowReferenced(StrEnum):
    """How the page references an item (an item may be reached several ways)."""

    VIDEO = "video"
    FIGURE = "figure"
    IFRAME = "iframe"
    EMBED = "embed"
    LINK = "link"
    OG_VIDEO = "og:video"
    OG_IMAGE = "og:image"
    TWITTER_PLAYER = "twitter:player"
    TWITTER_IMAGE = "twitter:image"
    JSON_LD = "json-ld"


#: Ways of reference that are page metadata (no position in the text).
META_REFERENCES = frozenset(
    {
        HowReferenced.OG_VIDEO,
        HowReferenced.OG_IMAGE,
        HowReferenced.TWITTER_PLAYER,
        HowReferenced.TWITTER_IMAGE,
        HowReferenced.JSON_LD,
    }
)


@dataclass(frozen=True)
class Canonical:
    """A URL reduced to one form per post or file: `key` is what deduplicates (``x:1234``), `url` what is shown."""

    url: str
    key: str
    platform: str | None = None
    post_id: str | None = None
    kind: MediaKind | None = None
    #: A post URL that names its account (x.com/user/status/1) beats one that does not (x.com/i/status/1).
    named: bool = True


@dataclass(frozen=True)
class Credit:
    """Who a picture is credited to: the credit as printed, the agencies in it and the photographer, if named.

    ``-/SOTA/AFP/Getty Images`` is agencies (SOTA, AFP, Getty Images) and no
    photographer (``-``, "Stringer" and "Handout" name nobody);
    ``REUTERS/Maxim Shemetov`` is Reuters and Maxim Shemetov.
    """

    text: str
    agencies: tuple[str, ...] = ()
    photographer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "agencies": list(self.agencies), "photographer": self.photographer}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Credit:
        return cls(
            text=str(data.get("text") or ""),
            agencies=tuple(str(a) for a in data.get("agencies") or ()),
            photographer=data.get("photographer"),
        )


@dataclass(frozen=True)
class MediaRef:
    """One piece of media an article references, found however many ways the page reaches it.

    `url` is the canonical URL and `key` what made two references one;
    `urls` the forms the page used; `referenced` how (`HowReferenced`);
    `caption`, `alt` and `credit` come from its ``<figure>`` or element;
    `offset` is where it sits in the article's text (characters, None for
    page metadata such as ``og:video``), `paragraph` the paragraph it
    follows (1-based, 0 before the first); `context` the sentences around it,
    the first `context_before` of them before it.
    """

    url: str
    key: str
    kind: MediaKind
    platform: str | None = None
    post_id: str | None = None
    urls: tuple[str, ...] = ()
    referenced: tuple[HowReferenced, ...] = ()
    caption: str | None = None
    alt: str | None = None
    credit: Credit | None = None
    offset: int | None = None
    paragraph: int | None = None
    context: tuple[str, ...] = ()
    context_before: int = 0

    @property
    def nearest_first(self) -> tuple[str, ...]:
        """The context sentences, the nearest to the item first (before and after it in turn)."""
        before = list(reversed(self.context[: self.context_before]))
        after = list(self.context[self.context_before :])
        out: list[str] = []
        for i in range(max(len(before), len(after))):
            out += [s[i] for s in (before, after) if i < len(s)]
        return tuple(out)

    @property
    def file_name(self) -> str | None:
        """The last part of the URL's path when it names a file (``alsynov.jpg``), else None."""
        path = urlsplit(self.url).path
        name = unquote(path.rsplit("/", 1)[-1])
        return name if "." in name.strip(".") and len(name) <= 255 else None

    @property
    def picture_stems(self) -> frozenset[str]:
        """The file-name stems of every URL the page used for the item, without a CMS's size suffix (`picture_stem`)."""
        return frozenset(stem for u in (self.url, *self.urls) if (stem := picture_stem(u)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "key": self.key,
            "kind": str(self.kind),
            "platform": self.platform,
            "post_id": self.post_id,
            "urls": list(self.urls),
            "referenced": [str(r) for r in self.referenced],
            "caption": self.caption,
            "alt": self.alt,
            "credit": self.credit.to_dict() if self.credit else None,
            "offset": self.offset,
            "paragraph": self.paragraph,
            "context": list(self.context),
            "context_before": self.context_before,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaRef:
        return cls(
            url=str(data["url"]),
            key=str(data["key"]),
            kind=MediaKind(data["kind"]),
            platform=data.get("platform"),
            post_id=data.get("post_id"),
            urls=tuple(str(u) for u in data.get("urls") or ()),
            referenced=tuple(HowReferenced(r) for r in data.get("referenced") or ()),
            caption=data.get("caption"),
            alt=data.get("alt"),
            credit=Credit.from_dict(data["credit"]) if data.get("credit") else None,
            offset=data.get("offset"),
            paragraph=data.get("paragraph"),
            context=tuple(str(s) for s in data.get("context") or ()),
            context_before=int(data.get("context_before") or 0),
        )


# -- canonical URLs ------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\"<>`\\]")
_HOST_PREFIXES = ("www.", "m.", "mobile.", "web.", "mbasic.", "vm.")
_VIDEO_SUFFIXES = frozenset(".mp4 .m4v .mov .webm .mkv .avi .ogv .m3u8 .mpd .3gp .ts".split())
_IMAGE_SUFFIXES = frozenset(".jpg .jpeg .png .webp .gif .avif .heic .heif .tif .tiff .bmp".split())


def _host(netloc_host: str) -> str:
    host = netloc_host.lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    return host


def _clean_query(query: str) -> str:
    kept = [
        (k, v)
        for k, v in parse_qsl(query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMETERS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlencode(sorted(kept))


def _post(platform: str, post_id: str, url: str, kind: MediaKind, *, named: bool = True) -> Canonical:
    return Canonical(
        url=url, key=f"{platform.lower()}:{post_id}", platform=platform, post_id=post_id, kind=kind, named=named
    )


_ID = r"[A-Za-z0-9_-]{1,64}"


def _telegram(path: str, query: dict[str, str]) -> Canonical | None:
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["s"]:
        parts = parts[1:]
    if len(parts) >= 3 and parts[0] == "c" and parts[1].isdigit() and parts[2].isdigit():
        return _post("Telegram", f"c/{parts[1]}/{parts[2]}", f"https://t.me/c/{parts[1]}/{parts[2]}", MediaKind.POST)
    if len(parts) >= 2 and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{2,64}", parts[0]) and parts[1].isdigit():
        channel = parts[0].lower()
        return _post("Telegram", f"{channel}/{parts[1]}", f"https://t.me/{parts[0]}/{parts[1]}", MediaKind.POST)
    return None


def _x(path: str, query: dict[str, str]) -> Canonical | None:
    m = re.match(r"/(?:(?P<user>[A-Za-z0-9_]{1,30})|i(?:/web)?)/status(?:es)?/(?P<id>\d{1,25})", path)
    if m:
        user = m.group("user")
        if user and user.lower() != "i":
            return _post("X", m.group("id"), f"https://x.com/{user}/status/{m.group('id')}", MediaKind.POST)
        return _post("X", m.group("id"), f"https://x.com/i/status/{m.group('id')}", MediaKind.POST, named=False)
    if path.startswith("/embed/tweet") or path.startswith("/embed/Tweet"):
        tweet = query.get("id", "")
        if tweet.isdigit():
            return _post("X", tweet, f"https://x.com/i/status/{tweet}", MediaKind.POST, named=False)
    return None


def _youtube(host: str, path: str, query: dict[str, str]) -> Canonical | None:
    video: str | None = None
    if host == "youtu.be":
        video = path.strip("/").split("/")[0]
    elif path == "/watch":
        video = query.get("v")
    else:
        m = re.match(r"/(?:embed|shorts|live|v|e)/([A-Za-z0-9_-]{6,20})", path)
        video = m.group(1) if m else None
    if video and re.fullmatch(r"[A-Za-z0-9_-]{6,20}", video) and video != "videoseries":
        return _post("YouTube", video, f"https://www.youtube.com/watch?v={video}", MediaKind.VIDEO)
    return None


def _tiktok(path: str) -> Canonical | None:
    m = re.match(r"/@(?P<user>[A-Za-z0-9_.]{1,40})/(?:video|photo)/(?P<id>\d{5,25})", path)
    if m:
        return _post(
            "TikTok", m.group("id"), f"https://www.tiktok.com/@{m.group('user')}/video/{m.group('id')}", MediaKind.VIDEO
        )
    m = re.match(r"/(?:embed(?:/v2)?|player/v1|v)/(?P<id>\d{5,25})", path)
    if m:
        return _post(
            "TikTok", m.group("id"), f"https://www.tiktok.com/embed/v2/{m.group('id')}", MediaKind.VIDEO, named=False
        )
    return None


def _instagram(path: str) -> Canonical | None:
    m = re.match(r"/(?:[A-Za-z0-9_.]{1,30}/)?(?P<kind>p|reel|reels|tv)/(?P<id>[A-Za-z0-9_-]{5,40})", path)
    if not m:
        return None
    kind = "reel" if m.group("kind") in ("reel", "reels") else m.group("kind")
    media = MediaKind.VIDEO if kind in ("reel", "tv") else MediaKind.POST
    return _post("Instagram", m.group("id"), f"https://www.instagram.com/{kind}/{m.group('id')}/", media)


def _facebook(host: str, path: str, query: dict[str, str], depth: int) -> Canonical | None:
    if path.startswith("/plugins/") and query.get("href") and depth == 0:
        inner = canonical_url(query["href"], depth=1)
        return inner if inner is not None and inner.platform == "Facebook" else None
    if host == "fb.watch":
        code = path.strip("/").split("/")[0]
        return (
            _post("Facebook", code, f"https://fb.watch/{code}/", MediaKind.VIDEO) if re.fullmatch(_ID, code) else None
        )
    m = re.match(
        r"/(?P<page>[A-Za-z0-9_.-]{1,80})/(?P<what>videos|posts|reel|photos)/(?:[^/]+/)?(?P<id>[A-Za-z0-9_-]{5,40})",
        path,
    )
    if m and m.group("page") not in ("watch", "plugins"):
        kind = MediaKind.VIDEO if m.group("what") in ("videos", "reel") else MediaKind.POST
        url = f"https://www.facebook.com/{m.group('page')}/{m.group('what')}/{m.group('id')}"
        return _post("Facebook", m.group("id"), url, kind)
    m = re.match(r"/reel/(?P<id>\d{5,25})", path)
    if m:
        return _post("Facebook", m.group("id"), f"https://www.facebook.com/reel/{m.group('id')}", MediaKind.VIDEO)
    for route, param, kind in (
        ("/watch", "v", MediaKind.VIDEO),
        ("/video.php", "v", MediaKind.VIDEO),
        ("/photo", "fbid", MediaKind.IMAGE),
        ("/photo.php", "fbid", MediaKind.IMAGE),
        ("/permalink.php", "story_fbid", MediaKind.POST),
        ("/story.php", "story_fbid", MediaKind.POST),
    ):
        value = query.get(param, "")
        if path.rstrip("/") == route and re.fullmatch(_ID, value):
            return _post("Facebook", value, f"https://www.facebook.com{route}?{param}={value}", kind, named=False)
    return None


def _vk(path: str, query: dict[str, str]) -> Canonical | None:
    m = re.match(r"/(?:[A-Za-z0-9_.]+\?z=)?(?P<what>video|clip|wall|photo)(?P<id>-?\d{1,20}_\d{1,20})", path)
    if m:
        kind = {"wall": MediaKind.POST, "photo": MediaKind.IMAGE}.get(m.group("what"), MediaKind.VIDEO)
        what = "video" if m.group("what") == "clip" else m.group("what")
        ident = f"{what}{m.group('id')}"
        return _post("VK", ident, f"https://vk.com/{ident}", kind)
    if path.startswith("/video_ext.php"):
        oid, vid = query.get("oid", ""), query.get("id", "")
        if re.fullmatch(r"-?\d{1,20}", oid) and re.fullmatch(r"\d{1,20}", vid):
            return _post("VK", f"video{oid}_{vid}", f"https://vk.com/video{oid}_{vid}", MediaKind.VIDEO)
    z = query.get("z", "")
    if z:
        return _vk("/" + z.split("/")[0], {})
    return None


def _simple(platform: str, pattern: str, template: str, kind: MediaKind, path: str) -> Canonical | None:
    m = re.match(pattern, path)
    return _post(platform, m.group("id"), template.format(**m.groupdict()), kind) if m else None


_SIMPLE = {
    "vimeo.com": ("Vimeo", r"/(?:video/)?(?P<id>\d{3,15})", "https://vimeo.com/{id}", MediaKind.VIDEO),
    "player.vimeo.com": ("Vimeo", r"/video/(?P<id>\d{3,15})", "https://vimeo.com/{id}", MediaKind.VIDEO),
    "dailymotion.com": (
        "Dailymotion",
        r"/(?:embed/)?video/(?P<id>[A-Za-z0-9]{4,20})",
        "https://www.dailymotion.com/video/{id}",
        MediaKind.VIDEO,
    ),
    "dai.ly": ("Dailymotion", r"/(?P<id>[A-Za-z0-9]{4,20})", "https://www.dailymotion.com/video/{id}", MediaKind.VIDEO),
    "rumble.com": ("Rumble", r"/(?:embed/)?(?P<id>v[A-Za-z0-9]{3,15})", "https://rumble.com/{id}", MediaKind.VIDEO),
    "ok.ru": ("Odnoklassniki", r"/video(?:embed)?/(?P<id>\d{3,25})", "https://ok.ru/video/{id}", MediaKind.VIDEO),
    "threads.net": (
        "Threads",
        r"/@(?P<user>[A-Za-z0-9_.]{1,30})/post/(?P<id>[A-Za-z0-9_-]{5,40})",
        "https://www.threads.net/@{user}/post/{id}",
        MediaKind.POST,
    ),
    "bsky.app": (
        "Bluesky",
        r"/profile/(?P<user>[A-Za-z0-9_.:-]{1,100})/post/(?P<id>[a-z0-9]{5,20})",
        "https://bsky.app/profile/{user}/post/{id}",
        MediaKind.POST,
    ),
    "reddit.com": (
        "Reddit",
        r"/r/(?P<sub>[A-Za-z0-9_]{1,30})/comments/(?P<id>[a-z0-9]{3,12})",
        "https://www.reddit.com/r/{sub}/comments/{id}/",
        MediaKind.POST,
    ),
}
_TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog"})
_X_HOSTS = frozenset({"twitter.com", "x.com", "fxtwitter.com", "vxtwitter.com", "fixupx.com", "platform.twitter.com"})
_YOUTUBE_HOSTS = frozenset({"youtube.com", "youtu.be", "youtube-nocookie.com", "music.youtube.com"})
_FACEBOOK_HOSTS = frozenset({"facebook.com", "fb.com", "fb.watch"})
_VK_HOSTS = frozenset({"vk.com", "vk.ru", "vkvideo.ru", "vkontakte.ru"})
#: Hosts whose pages are social posts: a link to one that names no post (a profile, a channel) is no item.
SOCIAL_HOSTS = (
    _TELEGRAM_HOSTS
    | _X_HOSTS
    | _YOUTUBE_HOSTS
    | _FACEBOOK_HOSTS
    | _VK_HOSTS
    | {"tiktok.com", "instagram.com", "telegram.org"}
    | set(_SIMPLE)
)


def canonical_url(raw: str, base: str | None = None, *, depth: int = 0) -> Canonical | None:
    """The canonical form of a media or post URL, or None when it is not an http(s) URL worth keeping.

    Platform posts become one URL per post (their query dropped); any other
    URL keeps its path and its query without tracking parameters (sorted),
    and loses its fragment.

    Args:
        raw: the URL as the page wrote it (HTML entities already decoded).
        base: the page's own URL, to resolve relative URLs (``/photos/a.jpg``); without
            it a relative URL is kept as a relative key.
        depth: how deep inside another URL's parameter this one was (a
            Facebook plugin's ``href``); one level is read.

    Returns:
        The `Canonical`, or None for ``javascript:``, ``data:``, ``file:``, ``mailto:``
        and other schemes, control characters, and URLs over `MAX_URL_CHARS`.
    """
    text = raw.strip()
    if not text or len(text) > MAX_URL_CHARS or _CONTROL.search(text):
        return None
    if text.startswith("//"):
        text = "https:" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not scheme:
        if base is None:
            return _relative(parts)
        try:
            parts = urlsplit(urljoin(base, text))
        except ValueError:
            return None
        scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return None
    try:
        host = _host(parts.hostname or "")
        port = parts.port
    except ValueError:
        return None
    if not host or not re.fullmatch(r"[a-z0-9.-]{1,253}", host):
        return None
    short = _short_link(parts)
    if short is not None:
        return short
    # only these platforms' post URLs hold the post in their query (?v=, ?href=, ?oid=)
    needs_query = (
        host in _YOUTUBE_HOSTS or host in _FACEBOOK_HOSTS or host in _VK_HOSTS or host == "platform.twitter.com"
    )
    query = dict(parse_qsl(parts.query, keep_blank_values=True)) if needs_query and parts.query else {}
    path = parts.path or "/"
    found: Canonical | None = None
    if host in _TELEGRAM_HOSTS:
        found = _telegram(path, query)
    elif host in _X_HOSTS:
        found = _x(path, query)
    elif host in _YOUTUBE_HOSTS:
        found = _youtube(host, path, query)
    elif host == "tiktok.com":
        found = _tiktok(path)
    elif host == "instagram.com":
        found = _instagram(path)
    elif host in _FACEBOOK_HOSTS:
        found = _facebook(host, path, query, depth)
    elif host in _VK_HOSTS:
        found = _vk(path, query)
    elif host in _SIMPLE:
        platform, pattern, template, kind = _SIMPLE[host]
        found = _simple(platform, pattern, template, kind, path)
    if found is not None:
        return found
    if host in SOCIAL_HOSTS:
        return Canonical(url="", key="", platform=None)  # a profile or channel page: no post (see `is_post`)
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query_text = _clean_query(parts.query) if parts.query else ""
    url = urlunsplit((scheme, netloc, path, query_text, ""))
    return Canonical(url=url, key=url.split("://", 1)[1], kind=_kind_of_path(path))


#: Platforms' link shorteners for one post: {host: (platform, kind)}; offline the post behind one is
#: unknown, so the short link is the item's key (a yt-dlp sidecar's `original_url` still pairs it).
SHORT_LINK_HOSTS = {
    "vm.tiktok.com": ("TikTok", MediaKind.VIDEO),
    "vt.tiktok.com": ("TikTok", MediaKind.VIDEO),
    "instagr.am": ("Instagram", MediaKind.POST),
    "vk.cc": ("VK", MediaKind.POST),
}


def _short_link(parts: Any) -> Canonical | None:
    host = (parts.hostname or "").lower()
    found = SHORT_LINK_HOSTS.get(host)
    code = parts.path.strip("/").split("/")[0]
    if found is None or not re.fullmatch(_ID, code):
        return None
    platform, kind = found
    return Canonical(
        url=f"https://{host}/{code}/", key=f"{platform.lower()}-short:{code}", platform=platform, kind=kind, named=False
    )


def _relative(parts: Any) -> Canonical | None:
    """A relative URL on a page saved without its address: kept as written, without tracking parameters."""
    if parts.netloc or not parts.path:
        return None
    url = urlunsplit(("", "", parts.path, _clean_query(parts.query), ""))
    return Canonical(url=url, key=url, kind=_kind_of_path(parts.path))


def _kind_of_path(path: str) -> MediaKind | None:
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in _VIDEO_SUFFIXES:
        return MediaKind.VIDEO
    if suffix in _IMAGE_SUFFIXES:
        return MediaKind.IMAGE
    return None


#: A size or density a CMS appends to a resized picture's name ("-1024x683", "_800x600", "@2x", "-scaled").
_SIZE_SUFFIX = re.compile(r"(?:[-_]\d{2,5}x\d{2,5}|@[1-4]x|-scaled|-e\d{10,13})+$")


def picture_stem(url: str) -> str | None:
    """The name of the picture a URL serves, whatever its size or format: ``a-1024x683.webp`` and ``a.jpg`` are ``a``.

    Returns:
        The lower-case stem, or None when the URL's path names no file.
    """
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    name = unquote(path.rsplit("/", 1)[-1]).lower()
    if "." not in name.strip(".") or len(name) > 255:
        return None
    stem = _SIZE_SUFFIX.sub("", name.rsplit(".", 1)[0])
    return stem or None


def is_post(found: Canonical | None) -> bool:
    """Whether a canonical URL names a platform post (a link worth an item), not a profile or an article."""
    return found is not None and found.platform is not None and bool(found.key)


# -- credits ---------------------------------------------------------------------------

#: News agencies and picture libraries a credit names, as printed; matched case-insensitively.
AGENCIES = (
    "Agence France-Presse",
    "AFP",
    "Associated Press",
    "AP",
    "Reuters",
    "Getty Images",
    "Getty",
    "EPA-EFE",
    "EPA",
    "EFE",
    "ANSA",
    "dpa",
    "picture alliance",
    "Anadolu Agency",
    "Anadolu",
    "Xinhua",
    "TASS",
    "RIA Novosti",
    "Sputnik",
    "Kommersant",
    "SOTA",
    "Shutterstock",
    "Alamy",
    "Bloomberg",
    "NurPhoto",
    "SIPA",
    "Sipa USA",
    "ZUMA Press",
    "ZUMA Wire",
    "Pool",
    "UPI",
    "Kyodo",
    "Yonhap",
    "PA Images",
    "PA Media",
    "PA Wire",
    "Abaca",
    "Imago",
    "AAP",
    "Ukrinform",
    "Interfax",
    "Belga",
    "Keystone",
    "Rex Features",
    "Rex",
    "WENN",
    "Magnum Photos",
    "Polaris",
    "Redux",
    "VII",
    "Hans Lucas",
    "Hollandse Hoogte",
    "TT News Agency",
    "NTB",
    "Ritzau Scanpix",
    "Scanpix",
    "Lehtikuva",
    "ČTK",
    "PAP",
    "MTI",
    "Agencia Brasil",
    "Europa Press",
    "Anadolu Images",
    "Mediapunkt",
    "Meduza",
    "Novaya Gazeta",
)
_AGENCY_BY_LOWER = {a.lower(): a for a in AGENCIES}
#: Credit parts that name no one (an unnamed photographer).
_NOBODY = frozenset({"-", "--", "—", "str", "stringer", "handout", "ho", "staff", "n/a", "unknown", "anonymous"})
_CREDIT_LEAD = re.compile(
    r"(?i)^(?:photo(?:graph)?s?|pictures?|images?|video|footage|foto|credits?|source|screenshot|screengrab|"
    r"courtesy(?: of)?)\s*(?:by|:|：)?\s*"
)
_TRAILING_PAREN = re.compile(r"\s*\(([^()]{2,200})\)\s*$")
_TRAILING_LABELLED = re.compile(
    r"(?i)(?:^|[.!?…\"”’)]\s+|\s+[|–—-]\s+)((?:photo(?:graph)?|pictures?|image|video|foto|credits?|source|courtesy of)\s*[:：]\s*.{2,200})$"
)
#: The last sentence of a caption ("... January 17, 2024. -/SOTA/AFP/Getty Images"), or what follows " | " or " - ".
_LAST_PART = re.compile(r"(?:[.!?…\"”’]\s+|\s+[|–—]\s+|\s+-\s+)(?=\S)(?!.*(?:[.!?…]\s|\s[|–—]\s|\s-\s))(.{2,200})$")
#: A run of slash-separated names at the end of a caption that has no sentence break before it.
_TRAILING_SLASHED = re.compile(r"(?:^|\s)(\S*/\S*(?:\s+(?:via\s+)?[A-Z][\w.-]*){0,3})$")
_COPYRIGHT = re.compile(r"\s*©\s*(.{2,200})$")


def _segments(credit: str) -> list[str]:
    text = _CREDIT_LEAD.sub("", credit.strip().lstrip("©").strip())
    pieces = re.split(r"\s*/\s*|\s+via\s+|\s*;\s*|\s*,\s*(?=[A-Z])|\s+(?:for|and)\s+(?=[A-Z])", text)
    return [p.strip(" .") for p in pieces if p.strip(" .")]


def _agency(piece: str) -> str | None:
    key = piece.lower().removesuffix(" photo").removesuffix(" photos").removesuffix(" images").strip()
    for candidate in (piece.lower(), key):
        if candidate in _AGENCY_BY_LOWER:
            return _AGENCY_BY_LOWER[candidate]
    if piece.lower().startswith("ap photo"):
        return "AP"
    # an outlet printed in capitals (SOTA, TASS, EPA-EFE): an agency, not a person
    if re.fullmatch(r"[A-Z][A-Z0-9&.-]{1,11}", piece):
        return piece
    return None


def parse_credit(text: str) -> Credit | None:
    """A credit line read into its agencies and photographer.

    Args:
        text: the credit as printed (``-/SOTA/AFP/Getty Images``, ``REUTERS/Maxim Shemetov``,
            ``(AP Photo/Evan Vucci)``, ``Photo: Jane Doe for Example News``).

    Returns:
        The `Credit`, or None when the text is empty.
    """
    raw = " ".join(text.split()).strip()
    raw = raw[1:-1].strip() if raw.startswith("(") and raw.endswith(")") else raw
    if not raw:
        return None
    agencies: list[str] = []
    photographer: str | None = None
    pieces = _segments(raw)
    # "Emergency Service/Handout via REUTERS": a handout's source is an organisation, not a photographer
    handout = any(p.lower() in ("handout", "ho") for p in pieces)
    for piece in pieces:
        agency = _agency(piece)
        if agency is not None:
            if agency not in agencies:
                agencies.append(agency)
            continue
        if piece.lower() in _NOBODY:
            continue
        words = piece.split()
        if (
            not handout
            and photographer is None
            and 1 <= len(words) <= 5
            and all(w[:1].isupper() or w in ("de", "van", "von", "da", "al") for w in words)
        ):
            photographer = piece
    return Credit(text=raw[:MAX_CAPTION_CHARS], agencies=tuple(agencies), photographer=photographer)


def split_credit(caption: str) -> tuple[str, Credit | None]:
    """A caption and the credit printed at its end, apart: "Baymak, 17 January. -/SOTA/AFP/Getty Images".

    The credit is the last part when it is in parentheses with a slash or a
    "Photo"/"Credit" label, follows "©", is labelled ("Photo: ...",
    "Photograph: ..."), or is a run of slash-separated names of which at
    least one is a known agency (`AGENCIES`).

    Args:
        caption: the figure's caption as shown.

    Returns:
        (caption without the credit, the credit or None).
    """
    text = " ".join(caption.split())
    for pattern in (_COPYRIGHT, _TRAILING_LABELLED, _TRAILING_PAREN, _LAST_PART, _TRAILING_SLASHED):
        m = pattern.search(text)
        if m is None:
            continue
        inner = m.group(1).strip()
        credit = parse_credit(inner if pattern is not _COPYRIGHT else "©" + inner)
        if credit is None:
            continue
        labelled = pattern in (_COPYRIGHT, _TRAILING_LABELLED) or bool(_CREDIT_LEAD.match(inner))
        if pattern is _TRAILING_PAREN and not (labelled or "/" in inner):
            continue
        if pattern in (_LAST_PART, _TRAILING_SLASHED) and not (
            credit.agencies and ("/" in inner or len(inner.split()) <= 4)
        ):
            continue
        rest = text[: m.start(1)].rstrip(" -–—|(©")
        return rest, credit
    return text, None


def merge_refs(first: MediaRef, second: MediaRef, *, url: str | None = None) -> MediaRef:
    """Two references to one item as one: the first's place in the text (else the second's), every way and form.

    A caption, alt text or credit missing from one is taken from the other;
    a stated kind (video, image) beats "post"; `url`, when given, is the
    canonical URL kept (the caller knows which form names the post best).
    """
    placed = first if first.offset is not None or second.offset is None else second
    return replace(
        placed,
        url=url or first.url,
        kind=first.kind if first.kind != MediaKind.POST else second.kind,
        urls=tuple(dict.fromkeys(first.urls + second.urls))[:MAX_URLS_PER_ITEM],
        referenced=tuple(dict.fromkeys(first.referenced + second.referenced)),
        caption=first.caption or second.caption,
        alt=first.alt or second.alt,
        credit=first.credit or second.credit,
    )
