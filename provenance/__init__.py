"""provenance: has this footage been seen before, where, and how was it changed?

    >>> import provenance
    >>> report = provenance.check("samples/viral.mp4", index="sqlite:///samples.sqlite")
    >>> report.verdict.code, report.matches[0].reference.source.first_seen

Each stage is usable alone, one module or package per stage in pipeline order
(docs/design.md): `tools`, `probe`, `decode`, `hashing`, `layout`, `shots`,
`index`, `match`, `diagnose`, `claims`, `metadata`, `verdict`, `evidence`,
`report`; `pipeline` runs them for `check`, `ingest` for ``index add``.
"""

from __future__ import annotations

__version__ = "0.1.0"


def check(path, index=None, claim=None):  # type: ignore[no-untyped-def]
    """Check a clip against a reference index (and a claim); see `provenance.pipeline.check`."""
    from .pipeline import check as _check

    return _check(path, index, claim)


__all__ = ["__version__", "check"]
