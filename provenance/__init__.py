"""provenance: has this footage been seen before, where, and how was it changed?

    >>> import provenance
    >>> claim = provenance.claim(date="2024-01-17", place="Baymak, Russia", text="Police flee rioters in Baymak")
    >>> report = provenance.check("samples/viral.mp4", index="sqlite:///samples.sqlite", claim=claim)
    >>> report.verdict.code, report.matches[0].reference.source.first_seen
    ('footage_predates_claim', '2021-09-12')
    >>> html = provenance.render(report, "html")

The names at the top: `check`, `check_article` (every piece of media an
article references, checked: an `ArticleReport`, rendered by `render_article`),
`claim` (a `Claim` from flag-like keyword arguments), `Claim`, `Report`, `render`, `RenderOptions`, `read_report`,
`open_index` and the error types (`ProvenanceError` and its subclasses, each
with its exit code). Importing the package loads none of the stages: each
name is imported when first used.

Each stage is usable alone, one module or package per stage in pipeline order
(docs/design.md): `tools`, `probe`, `decode`, `hashing`, `layout`, `shots`,
`index`, `match`, `diagnose`, `claims`, `metadata`, `verdict`, `evidence`,
`report`; `pipeline` runs them for `check`, `ingest` for ``index add``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import (
    BadInputError,
    IndexUnavailableError,
    NotFoundError,
    ProcessingError,
    ProvenanceError,
    ToolMissingError,
)

if TYPE_CHECKING:
    from .claims import Claim
    from .index import Index, open_index
    from .report import RenderOptions, Report, read_report, render
    from .report.article import ArticleReport

__version__ = "0.1.0"

#: The names the package root gives, each from the module that holds it, imported on first use.
LAZY = {
    "Claim": "provenance.claims",
    "Report": "provenance.report",
    "RenderOptions": "provenance.report",
    "render": "provenance.report",
    "read_report": "provenance.report",
    "open_index": "provenance.index",
    "ArticleReport": "provenance.report.article",
    "render_article": "provenance.report.article",
}


def __getattr__(name: str) -> Any:
    """`LAZY`'s names, imported when first asked for (so ``import provenance`` loads no stage)."""
    if name in LAZY:
        value = getattr(importlib.import_module(LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'provenance' has no attribute {name!r}")


def check(
    path: str | Path,
    index: Index | str | Path | None = None,
    claim: Claim | None = None,
    **options: Any,
) -> Report:
    """Check a clip or still image against a reference index (and a claim).

    Args:
        path: the clip or image.
        index: an open index (`open_index`), or its URL or path; the default
            index when None.
        claim: what the clip is said to show (`claim`), or None.
        **options: passed on to `provenance.pipeline.check` (``keyframes=False``).

    Returns:
        The `Report` (render it with `render`).

    Raises:
        ProvenanceError: as `provenance.pipeline.check` says: a clip that does not
            decode (`BadInputError`), an index that cannot be opened
            (`IndexUnavailableError`), ffmpeg missing (`ToolMissingError`).
    """
    from .pipeline import check as _check

    return _check(path, index, claim, **options)


def check_article(
    article: str | Path,
    media: str | Path | None = None,
    index: Index | str | Path | None = None,
    **options: Any,
) -> ArticleReport:
    """Check every piece of media an article references that the desk has downloaded.

    Args:
        article: the article, a saved HTML page or plain text.
        media: the folder of downloaded media (yt-dlp files with sidecars, pictures), or None.
        index: an open index (`open_index`), or its URL or path; the default index when None.
        **options: passed on to `provenance.article.check_article` (``maps=[(file, url)]``,
            ``keyframes=False``, ``on_item``).

    Returns:
        The `ArticleReport` (render it with `provenance.report.article.render_article`).

    Raises:
        ProvenanceError: as `provenance.article.check_article` says: an unreadable article or
            missing media folder (`BadInputError`), an index that cannot be opened.
    """
    from .article import check_article as _check_article

    return _check_article(article, media, index, **options)


def claim(
    text: str | None = None,
    *,
    date: str | None = None,
    place: str | None = None,
    platforms: Iterable[str] = (),
    file: str | Path | None = None,
    article: str | Path | None = None,
) -> Claim | None:
    """A claim as the command line's flags make it: ``--claim-text``, ``--claim-date``, ``--claim-place``, ...

    Args:
        text: what the clip is said to show.
        date: the claimed date, ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.
        place: the claimed place, a name (``"Baymak, Russia"``) or ``"LAT, LON"``;
            a name several towns bear is kept as ambiguous.
        platforms: where it was shared (``["Telegram", "X"]``).
        file: a claim file, YAML or JSON (``--claim``).
        article: an article carrying the claim, text or saved HTML (``--article``);
            the file and the other arguments override what is read from it.

    Returns:
        The `Claim`, or None when no argument was given.

    Raises:
        BadInputError: a date, place, file or article cannot be used.
    """
    from .claims import build_claim

    return build_claim(date=date, place=place, text=text, platforms=tuple(platforms), file=file, article=article)


__all__ = [
    "ArticleReport",
    "BadInputError",
    "Claim",
    "IndexUnavailableError",
    "NotFoundError",
    "ProcessingError",
    "ProvenanceError",
    "RenderOptions",
    "Report",
    "ToolMissingError",
    "__version__",
    "check",
    "check_article",
    "claim",
    "open_index",
    "read_report",
    "render",
    "render_article",
]
