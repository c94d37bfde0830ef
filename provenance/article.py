"""Stage article: every piece of media an article references, paired with downloaded files and checked.

`check_article` reads the article (`provenance.claims.read_article`: confined,
offline, bounded), lists the media it references (`Article.media`), gives
each item its own claim (`claims.claim_for_media`: the article's, with the
caption's date and place first), pairs items with the files of a media
folder (an explicit ``--map``, a yt-dlp ``.info.json`` sidecar's URL or
platform and id, the file name in an image's URL, the post id in a file
name) and checks each paired file with `pipeline.check` and its item's
claim. Items without a file are listed as not downloaded, with the command
that fetches them; files no item names are listed too::

    >>> report = check_article("saved.html", media="downloads/", index="sqlite:///refs.sqlite")
    >>> [(i.number, str(i.status)) for i in report.media]
    [(1, 'checked'), (2, 'checked'), (3, 'not_downloaded')]

Nothing is fetched: the page's URLs are only read.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .claims import Claim, MediaKind, MediaRef, canonical_url, claim_for_media, claim_from_article, read_article
from .claims.media import picture_stem
from .errors import BadInputError, ProvenanceError
from .files import read_bounded
from .index import Index, open_index
from .ingest import MAX_SIDECAR_BYTES, iter_media, sidecar_path
from .pipeline import check
from .query import sha256_of
from .report.article import ArticleFacts, ArticleItem, ArticleReport, ItemStatus, PairedBy, UnpairedFile

#: Most files of a media folder considered (a desk's download folder for one article holds a few dozen).
MAX_MEDIA_FILES = 2_000
#: yt-dlp's extractor names for the platforms an item may be on (``extractor_key`` lower-cased, prefix match).
EXTRACTORS = {
    "telegram": "Telegram",
    "twitter": "X",
    "youtube": "YouTube",
    "tiktok": "TikTok",
    "instagram": "Instagram",
    "facebook": "Facebook",
    "vk": "VK",
    "vimeo": "Vimeo",
    "dailymotion": "Dailymotion",
    "rumble": "Rumble",
    "odnoklassniki": "Odnoklassniki",
    "reddit": "Reddit",
    "bluesky": "Bluesky",
    "threads": "Threads",
}


@dataclass(frozen=True)
class MediaFile:
    """A file of the media folder, with what its yt-dlp sidecar says about where it came from."""

    path: Path
    urls: tuple[str, ...] = ()
    post_id: str | None = None
    platform: str | None = None
    problem: str | None = None


def check_article(
    article: Path | str,
    media: Path | str | None = None,
    index: Index | str | Path | None = None,
    *,
    maps: Sequence[tuple[Path | str, str]] = (),
    article_date: str | None = None,
    keyframes: bool = True,
    on_item: Callable[[ArticleItem], None] | None = None,
) -> ArticleReport:
    """Check every piece of media an article references that the desk has downloaded.

    Args:
        article: the article saved as HTML or text (read as ``--article`` is).
        media: the folder holding the downloaded media (yt-dlp's files and
            sidecars, saved pictures); None lists every item as not downloaded.
        index: an open `Index`, its URL or path (the default index when None);
            opened only when a file is to be checked.
        maps: explicit pairs (file, URL of an item), as ``--map FILE=URL``.
        article_date: the article's date (``YYYY-MM-DD``) when the page states none or
            states it wrongly; relative dates ("on Wednesday") are resolved against it.
        keyframes: put each check's frames in its report (as `pipeline.check`).
        on_item: called with each item when it is done (progress).

    Returns:
        The `ArticleReport`: each item with its claim and its file's report,
        or "not downloaded" with a command to fetch it; unpaired files.

    Raises:
        BadInputError: the article cannot be read, the media folder is missing
            or not a folder, a --map names a missing file or no item's URL.
        IndexUnavailableError: the index cannot be opened (before any file is checked).
    """
    path = Path(article)
    page = read_article(path)
    article_claim = claim_from_article(page, article_date=article_date, origin=f"article:{path.name}")
    folder = Path(media) if media is not None else None
    pairs, unpaired = pair_media(page.media, folder, maps)
    own = bool(pairs) and not isinstance(index, Index)
    idx: Index | None = None
    if pairs:  # the index is opened only when there is a file to check
        idx = index if isinstance(index, Index) else open_index(index)
    items: list[ArticleItem] = []
    try:
        for number, ref in enumerate(page.media, 1):
            claim = claim_for_media(article_claim, ref, label=f"media item {number}")
            if ref.key not in pairs:
                item = ArticleItem(number, ref, claim, ItemStatus.NOT_DOWNLOADED, fetch=fetch_command(ref, folder))
            else:
                file, how, evidence = pairs[ref.key]
                assert idx is not None
                item = _checked(number, ref, claim, file, how, evidence, idx, keyframes)
            items.append(item)
            if on_item is not None:
                on_item(item)
        identity = idx.identity() if idx is not None else None
    finally:
        if own and idx is not None:
            idx.close()
    return ArticleReport(
        article=ArticleFacts(
            path=_shown(path),
            sha256=sha256_of(path),
            url=page.url,
            headline=page.headline,
            published=article_claim.article_date,
            claim=article_claim,
        ),
        media=tuple(items),
        unpaired=tuple(unpaired),
        tool={"name": "provenance", "version": __version__},
        index=identity,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        media_folder=_shown(folder) if folder is not None else None,
        warnings=tuple(page.warnings),
    )


def _checked(
    number: int,
    ref: MediaRef,
    claim: Claim,
    file: Path,
    how: PairedBy,
    evidence: str,
    idx: Index,
    keyframes: bool,
) -> ArticleItem:
    """The item with its file checked by `pipeline.check`; a file that cannot be checked is a failed item."""
    try:
        report = check(file, idx, claim, keyframes=keyframes)
    except ProvenanceError as exc:
        if exc.exit_code == 3:
            raise  # a missing tool or a lost index fails every item alike: stop here
        return ArticleItem(
            number, ref, claim, ItemStatus.FAILED, _shown(file), how, evidence, error=str(exc), exit_code=exc.exit_code
        )
    return ArticleItem(number, ref, claim, ItemStatus.CHECKED, _shown(file), how, evidence, report=report)


def pair_media(
    refs: Sequence[MediaRef], folder: Path | None, maps: Sequence[tuple[Path | str, str]] = ()
) -> tuple[dict[str, tuple[Path, PairedBy, str]], list[UnpairedFile]]:
    """Pair an article's items with the files of a media folder, strongest evidence first.

    In order: ``--map FILE=URL``; a yt-dlp sidecar whose ``webpage_url`` or
    ``original_url`` is the item's URL (canonically); a sidecar naming the
    item's platform and post id; the picture's file name in the item's URL
    (at any size or format); the post id in the file name (yt-dlp's
    ``Title [ID].mp4``). A file pairs with one item at most.

    Args:
        refs: the article's items (`Article.media`).
        folder: the media folder (recursive), or None.
        maps: explicit (file, URL) pairs.

    Returns:
        ({item key: (file, how, evidence)}, the files that pair with nothing, each with why).

    Raises:
        BadInputError: the folder is missing or not a folder; a --map names a missing file or no item.
    """
    files, problems = _media_files(folder) if folder is not None else ([], [])
    pairs = _pair(refs, files, _explicit(maps, refs))
    paired = {p for p, _, _ in pairs.values()}
    unpaired = [UnpairedFile(_shown(f.path), f.problem or _unpaired_reason(f)) for f in files if f.path not in paired]
    return pairs, unpaired + [UnpairedFile(_shown(p), why) for p, why in problems]


def _shown(path: Path) -> str:
    return os.fsencode(path).decode("utf-8", "backslashreplace")


# -- the media folder --------------------------------------------------------------------


def _media_files(folder: Path) -> tuple[list[MediaFile], list[tuple[Path, str]]]:
    """The media files of the folder (recursive, sorted), each with its sidecar's facts; entries that cannot be read."""
    try:
        folder.stat()
    except OSError as exc:
        raise BadInputError(
            f"--media {folder}: media folder not found ({exc.strerror}); give the folder the media were downloaded to"
        ) from exc
    if not folder.is_dir():
        kind = "a file" if folder.is_file() else "not a folder (a pipe or device)"
        raise BadInputError(f"--media {folder}: {kind}; give the folder the media were downloaded to")
    files: list[MediaFile] = []
    problems: list[tuple[Path, str]] = []
    for path, problem in iter_media([folder]):
        if problem is not None:
            problems.append((path, problem))
            continue
        if len(files) >= MAX_MEDIA_FILES:
            problems.append((folder, f"more than {MAX_MEDIA_FILES} media files; the rest were not paired"))
            break
        files.append(_with_sidecar(path))
    return files, problems


def _with_sidecar(path: Path) -> MediaFile:
    """A file and what its yt-dlp sidecar says: its URLs, its platform and post id."""
    side = sidecar_path(path)
    if side is None:
        return MediaFile(path)
    try:
        raw = read_bounded(
            side,
            what="sidecar",
            limit=MAX_SIDECAR_BYTES,
            expected="a yt-dlp .info.json file",
            too_large=f"larger than {MAX_SIDECAR_BYTES} bytes; not read",
        )
    except BadInputError as exc:
        return MediaFile(path, problem=f"its sidecar {side.name} was not read ({exc}); pair it with --map")
    try:
        data = json.loads(raw.decode("utf-8", "replace"))
    except (json.JSONDecodeError, RecursionError) as exc:
        return MediaFile(
            path, problem=f"its sidecar {side.name} is not readable JSON ({type(exc).__name__}); pair it with --map"
        )
    if not isinstance(data, dict):
        return MediaFile(path, problem=f"its sidecar {side.name} is not a JSON object; pair it with --map")
    urls = tuple(str(data[k])[:2000] for k in ("webpage_url", "original_url", "url") if isinstance(data.get(k), str))
    extractor = str(data.get("extractor_key") or data.get("extractor") or "").lower()
    platform = next((name for key, name in EXTRACTORS.items() if extractor.startswith(key)), None)
    post = data.get("display_id") or data.get("id")
    return MediaFile(path, urls=urls, post_id=str(post)[:200] if post is not None else None, platform=platform)


def _explicit(maps: Sequence[tuple[Path | str, str]], refs: Sequence[MediaRef]) -> dict[str, tuple[Path, str]]:
    """``--map FILE=URL`` pairs as {item key: (file, URL as given)}; a missing file or a URL of no item is refused."""
    keys = {r.key: r for r in refs}
    out: dict[str, tuple[Path, str]] = {}
    for file, url in maps:
        path = Path(file)
        if not path.is_file():
            raise BadInputError(f"--map {file}={url}: {file} is not a file; give a downloaded file and an item's URL")
        found = canonical_url(url)
        if found is None or not found.key or (found.key not in keys and _image_key(found.url, refs) is None):
            raise BadInputError(
                f"--map {file}={url}: the article references no such URL; use a URL listed in the report "
                "(run without --map to see them)"
            )
        out[found.key if found.key in keys else _image_key(found.url, refs) or ""] = (path, url)
    return out


def _image_key(url: str, refs: Sequence[MediaRef]) -> str | None:
    """The item a picture's URL names, at whatever size or format the page used (`picture_stem`)."""
    stem = picture_stem(url)
    return next((r.key for r in refs if stem and r.platform is None and stem in r.picture_stems), None)


def _pair(
    refs: Sequence[MediaRef], files: Sequence[MediaFile], explicit: dict[str, tuple[Path, str]]
) -> dict[str, tuple[Path, PairedBy, str]]:
    """Each item's file, by the strongest evidence first; a file pairs with one item at most."""
    pairs: dict[str, tuple[Path, PairedBy, str]] = {}
    used: set[Path] = set()

    def take(key: str, path: Path, how: PairedBy, evidence: str) -> None:
        if key not in pairs and path not in used:
            pairs[key] = (path, how, evidence)
            used.add(path)

    for key, (path, url) in explicit.items():
        take(key, path, PairedBy.MAP, f"{path.name}={url[:300]}")
    by_key = {r.key: r for r in refs}
    for f in files:
        for url in f.urls:
            found = canonical_url(url)
            if found is not None and found.key in by_key:
                take(found.key, f.path, PairedBy.SIDECAR_URL, f"{_sidecar_name(f.path)}: {url[:300]}")
                break
    for f in files:
        if f.post_id and f.platform:
            for r in refs:
                if r.platform == f.platform and r.post_id and _same_post(r.post_id, f.post_id):
                    take(r.key, f.path, PairedBy.SIDECAR_ID, f"{_sidecar_name(f.path)}: {f.platform} id {f.post_id}")
    for f in files:
        stem = picture_stem(f.path.name)
        for r in refs:
            if stem and r.platform is None and stem in r.picture_stems:
                take(r.key, f.path, PairedBy.FILE_NAME, f"{f.path.name} ↔ {r.file_name or stem}")
    for f in files:
        for r in refs:
            short = (r.post_id or "").rsplit("/", 1)[-1]
            if short and len(short) >= 4 and (f"[{short}]" in f.path.stem or f.path.stem == short):
                take(r.key, f.path, PairedBy.POST_ID, f"{f.path.name} holds {short}")
    return pairs


def _same_post(item_id: str, file_id: str) -> bool:
    """A sidecar's id names an item's post: the whole id, or its last part (Telegram's ``channel/123`` is
    yt-dlp's ``123``), with or without the number yt-dlp gives one of a post's several videos (``123-2``)."""
    short = item_id.rsplit("/", 1)[-1]
    return file_id == item_id or bool(re.fullmatch(rf"{re.escape(short)}(?:[-_]\d{{1,3}})?", file_id))


def _sidecar_name(path: Path) -> str:
    side = sidecar_path(path)
    return side.name if side is not None else "sidecar"


def _unpaired_reason(f: MediaFile) -> str:
    if f.urls:
        return f"its sidecar names {f.urls[0][:200]}, which the article does not reference; pair it with --map FILE=URL"
    return "no item of the article names it (no sidecar, no matching file name); pair it with --map FILE=URL"


def fetch_command(ref: MediaRef, folder: Path | None) -> str:
    """A command that downloads an item into the media folder, for the desk's to-do list.

    Platform posts and videos: ``yt-dlp --write-info-json`` (its sidecar pairs
    the file on the next run). A picture or a file on the article's own site:
    ``curl`` into a file named as in the URL (which pairs it by name).
    """
    target = str(folder) if folder is not None else "."
    if ref.platform is not None or ref.kind == MediaKind.VIDEO:
        return shlex.join(["yt-dlp", "--write-info-json", "-P", target, "-o", "%(id)s.%(ext)s", ref.url])
    name = ref.file_name or "media"
    return shlex.join(["curl", "-L", "--fail", "-o", str(Path(target) / name), ref.url])
