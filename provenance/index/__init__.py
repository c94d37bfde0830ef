"""Stage 5, index: open a reference index by URL.

Backends are `Dialect`s of the one `SqlIndex`, registered here by URL scheme;
optional ones are imported only when a URL asks for them, and their absence
gives an install hint::

    >>> from provenance.index import open_index
    >>> with open_index("sqlite:///tmp/refs.sqlite", create=True) as idx:
    ...     idx.stats()["references"]
    0
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from ..errors import BadInputError, ToolMissingError
from .base import (
    CHUNKS,
    SCHEMA_VERSION,
    Candidates,
    FactOrigin,
    Index,
    IntegrityProblem,
    IntegrityReport,
    OriginKind,
    Reference,
    SourceFacts,
)
from .claims import Claim, ClaimKeeper, ClaimOwner
from .sql import Dialect, SqlIndex
from .sqlite import default_path

__all__ = [
    "CHUNKS",
    "SCHEMA_VERSION",
    "Candidates",
    "Claim",
    "ClaimKeeper",
    "ClaimOwner",
    "Dialect",
    "FactOrigin",
    "Index",
    "IntegrityProblem",
    "IntegrityReport",
    "OriginKind",
    "Reference",
    "SourceFacts",
    "SqlIndex",
    "default_url",
    "open_index",
]

#: URL scheme -> "module:Dialect" of the backend that serves it (a plain path is SQLite).
BACKENDS: dict[str, str] = {
    "sqlite": "provenance.index.sqlite:SQLiteDialect",
    "postgresql": "provenance.index.postgres:PostgresDialect",
    "postgres": "provenance.index.postgres:PostgresDialect",
}


def default_url() -> str:
    """``PROVENANCE_INDEX`` if set, else the SQLite file in the user's data directory."""
    return os.environ.get("PROVENANCE_INDEX") or f"sqlite:///{default_path()}"


def open_index(url: str | Path | None = None, *, create: bool = False) -> Index:
    """Open the index a URL names (``sqlite:///path``, a plain path, ``postgresql://...``).

    Args:
        url: the index; `default_url()` when None.
        create: create an empty index when there is none (for ``index add``).

    Raises:
        IndexUnavailableError: the index is missing (and not `create`), damaged, newer or unreachable.
        ToolMissingError: the backend's optional package is not installed.
        BadInputError: the URL scheme is unknown.
    """
    text = str(url) if url is not None else default_url()
    scheme = text.split("://", 1)[0].lower() if "://" in text else "sqlite"
    if scheme not in BACKENDS:
        raise BadInputError(f"unknown index URL scheme {scheme!r} in {text!r}; use sqlite:///PATH or postgresql://...")
    module_name, class_name = BACKENDS[scheme].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ToolMissingError(
            f"the {scheme} backend needs an optional package ({exc.name}); install it with pip install 'provenance[postgres]'"
        ) from exc
    dialect: type[Dialect] = getattr(module, class_name)
    return SqlIndex(dialect(text), create=create)
