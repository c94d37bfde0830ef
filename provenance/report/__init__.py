"""Stage report: the frozen `Report` and its pure renderers.

The JSON form is the single source of truth (schema ``provenance.report/1``,
docs/report-schema.json); Markdown and the other forms are rendered from it::

    >>> report = provenance.check("samples/viral.mp4", index="samples.sqlite")
    >>> text = render(report, "md")
    >>> Report.from_dict(json.loads(render(report, "json"))) == report
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..claims import Claim
from ..errors import BadInputError
from ..evidence import Keyframes
from ..match import MatchSegment
from ..metadata import Finding
from ..text import TextReading
from ..verdict import Verdict, VerdictCode

#: The report's schema and version (docs/report-schema.json); only a breaking change bumps it (docs/report.md).
SCHEMA = "provenance.report/1"
#: The forms `render` writes (docs/report-formats.md).
FORMATS = ("json", "md", "html", "claimreview")


@dataclass(frozen=True)
class InputFacts:
    """The checked file: where it was, its content hash and basic media facts."""

    path: str
    sha256: str
    kind: str
    duration_s: float
    width: int
    height: int
    fps: float | None
    frames_sampled: int
    frames_informative: int
    sample_fps: float
    unreadable: tuple[tuple[float, float], ...] = ()
    #: Seconds of the clip examined from its start (less than `duration_s` for a clip longer than
    #: the query limit or than its bytes can hold; the warnings say so); None for a still image.
    examined_s: float | None = None
    #: The sound track as the audio stage found it: status, items, loud items, seconds, note (None: not examined).
    sound: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sound": self.sound,
            "path": self.path,
            "sha256": self.sha256,
            "kind": self.kind,
            "duration_s": self.duration_s,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frames_sampled": self.frames_sampled,
            "frames_informative": self.frames_informative,
            "sample_fps": self.sample_fps,
            "unreadable": [list(span) for span in self.unreadable],
            "examined_s": self.examined_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputFacts:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["unreadable"] = tuple((float(a), float(b)) for a, b in data.get("unreadable", ()))
        return cls(**values)


@dataclass(frozen=True)
class Report:
    """Everything a check found, with what is needed to reproduce it.

    `claim` is the claim the clip was checked against, as read from flags, a
    file or an article (shown so the user can correct it); `findings` are the
    metadata findings (`provenance.metadata`, codes in docs/findings.md).
    `text` is what the text stage read on the picture (`provenance.text`).
    All three are optional in the JSON (null and [] when absent), so reports
    written before they existed still read.
    """

    input: InputFacts
    matches: tuple[MatchSegment, ...]
    candidates: tuple[MatchSegment, ...]
    verdict: Verdict
    tool: dict[str, Any]
    index: dict[str, Any]
    created_at: str
    warnings: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    keyframes: Keyframes | None = None
    claim: Claim | None = None
    findings: tuple[Finding, ...] = ()
    text: TextReading | None = None
    schema: str = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "created_at": self.created_at,
            "input": self.input.to_dict(),
            "verdict": self.verdict.to_dict(),
            "matches": [m.to_dict() for m in self.matches],
            "candidates": [m.to_dict() for m in self.candidates],
            "metadata": self.metadata,
            "warnings": list(self.warnings),
            "tool": self.tool,
            "index": self.index,
            "keyframes": self.keyframes.to_dict() if self.keyframes else None,
            "claim": self.claim.to_dict() if self.claim else None,
            "findings": [f.to_dict() for f in self.findings],
            "text": self.text.to_dict() if self.text else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Rebuild a report from its JSON form.

        Raises:
            BadInputError: the document is not a provenance report this version reads.
        """
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise BadInputError(
                f"not a {SCHEMA} report (schema: {repr(found)[:80]}); give a JSON report written by 'provenance check'"
            )
        try:
            return cls(
                input=InputFacts.from_dict(data["input"]),
                matches=tuple(MatchSegment.from_dict(m) for m in data.get("matches", ())),
                candidates=tuple(MatchSegment.from_dict(m) for m in data.get("candidates", ())),
                verdict=Verdict.from_dict(data["verdict"]),
                tool=dict(data.get("tool", {})),
                index=dict(data.get("index", {})),
                created_at=str(data.get("created_at", "")),
                warnings=tuple(str(w) for w in data.get("warnings", ())),
                metadata=dict(data.get("metadata", {})),
                keyframes=Keyframes.from_dict(data["keyframes"]) if data.get("keyframes") else None,
                claim=Claim.from_dict(data["claim"]) if data.get("claim") else None,
                findings=tuple(Finding.from_dict(f) for f in data.get("findings") or ()),
                text=TextReading.from_dict(data["text"]) if data.get("text") else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadInputError(f"report JSON is incomplete or malformed ({exc!r}); re-run 'provenance check'") from exc


#: Largest JSON report `read_report` accepts, bytes: keyframes make reports ~0.1-2 MB, so 64 MiB
#: leaves thirtyfold room while reading stays well under 1 GB (docs/security.md).
MAX_REPORT_BYTES = 64 << 20
#: Most JSON values (commas, objects, arrays) in a report read: ~500 in a typical report; each
#: parsed value costs 50-100 bytes, so 2 M keep parsing under ~200 MB (docs/security.md).
MAX_REPORT_ITEMS = 2_000_000


def load_report_json(path: str | Path) -> Any:
    """The JSON document of a saved report, read within bounds (any kind of report: check's, article's).

    Only a regular file of at most `MAX_REPORT_BYTES` is read (a named pipe
    or ``/dev/zero`` is refused unread); one with more than
    `MAX_REPORT_ITEMS` JSON values is refused before parsing (memory);
    ``NaN``/``Infinity`` and integers too long to convert are refused.

    Raises:
        BadInputError: missing, not a regular file, too large, too many values, or not JSON; naming the file.
    """
    from ..files import read_bounded

    p = Path(path)
    data = read_bounded(p, what="report", limit=MAX_REPORT_BYTES, expected=_AGAIN[5:], too_large=_AGAIN)
    items = data.count(b",") + data.count(b"{") + data.count(b"[")
    if items > MAX_REPORT_ITEMS:
        raise BadInputError(f"{p}: {items} JSON values are more than a report holds ({MAX_REPORT_ITEMS}); {_AGAIN}")

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        return json.loads(data.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadInputError(f"{p}: not JSON ({_short(exc)}); {_AGAIN}") from exc


#: The next step every refusal of a saved report gives.
_AGAIN = "give a JSON report written by 'provenance check'"


def read_report(path: str | Path) -> Report:
    """Read a JSON report written by ``provenance check``.

    Bounded whatever the file (`load_report_json`), and the report must
    render: a value of the wrong type or range, or a verdict code this
    version does not know, is refused here, naming the file, not met by a
    renderer.

    Raises:
        BadInputError: the file is missing, not a regular file, too large, not JSON or not a report.
    """
    p = Path(path)
    return report_from_json(load_report_json(p), p)


def report_from_json(document: Any, path: str | Path) -> Report:
    """A check's report from its JSON document (`load_report_json`), refused unless it renders.

    Raises:
        BadInputError: not a report, a value of the wrong type or range, or an unknown verdict code; naming `path`.
    """
    p = Path(path)
    try:
        report = Report.from_dict(document)
        VerdictCode(report.verdict.code)  # a code this version does not know would be rendered as if it meant something
        render_json(report)
        for fmt in ("md", "html"):
            render(report, fmt)
    except BadInputError as exc:
        raise BadInputError(f"{p}: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, IndexError, RecursionError) as exc:
        raise BadInputError(f"{p}: a value of the wrong type or range in the report ({_short(exc)}); {_AGAIN}") from exc
    return report


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def render_json(report: Report) -> str:
    """The report as indented JSON (the single source of truth)."""
    from .text import json_safe

    return json_safe(json.dumps(report.to_dict(), indent=2, ensure_ascii=False)) + "\n"


@dataclass(frozen=True)
class RenderOptions:
    """What a renderer needs besides the report.

    `organisation`, `organisation_url` and `review_url` name the fact-checker
    and its fact-check page (ClaimReview); `assets_dir` is the folder,
    relative to a Markdown file, its keyframe images are linked from (None:
    no images, e.g. Markdown on stdout).
    """

    organisation: str | None = None
    organisation_url: str | None = None
    review_url: str | None = None
    assets_dir: str | None = None


def check_options(fmt: str, options: RenderOptions | None = None) -> None:
    """Refuse what `render` would refuse, before any work: an unknown format, a bad or missing publisher option.

    The claimreview format needs the review's URL and the organisation
    (Google's fact-check markup); any URL given must be http(s) with a host,
    whatever the format.

    Args:
        fmt: one of `FORMATS`.
        options: the render options.

    Raises:
        BadInputError: the format is unknown, or an option is missing or malformed (naming its flag).
    """
    from .claimreview import check_publisher

    if fmt not in FORMATS:
        raise BadInputError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    check_publisher(options or RenderOptions(), required=fmt == "claimreview")


def render(report: Report, fmt: str = "html", options: RenderOptions | None = None) -> str:
    """Render a report in one of `FORMATS` (a pure function of the report and options).

    Args:
        report: the report.
        fmt: ``json``, ``md``, ``html`` (the default) or ``claimreview``.
        options: the organisation and review URL (claimreview needs both) and
            the Markdown's keyframe folder.

    Returns:
        The report as text.

    Raises:
        BadInputError: the format is unknown, or claimreview lacks its review URL or organisation.
    """
    options = options or RenderOptions()
    check_options(fmt, options)
    if fmt == "json":
        return render_json(report)
    if fmt == "md":
        from .markdown import render_markdown

        return render_markdown(report, assets_dir=options.assets_dir)
    if fmt == "html":
        from .html import render_html

        return render_html(report)
    if fmt == "claimreview":
        from .claimreview import render_claimreview

        return render_claimreview(report, options)
    raise BadInputError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


def render_assets(report: Report, fmt: str, options: RenderOptions | None = None) -> dict[str, bytes]:
    """Files that go next to a rendered report: {path relative to it: bytes}.

    Only Markdown has any (its keyframes, under ``options.assets_dir``).
    """
    options = options or RenderOptions()
    if fmt == "md" and options.assets_dir:
        from .markdown import markdown_assets

        return markdown_assets(report, options.assets_dir)
    return {}
