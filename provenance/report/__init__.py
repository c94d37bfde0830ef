"""Stage 10, report: the frozen `Report` and its pure renderers.

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
from typing import Any

from ..errors import BadInputError
from ..match import MatchSegment

SCHEMA = "provenance.report/1"
FORMATS = ("json", "md")


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

    def to_dict(self) -> dict[str, Any]:
        return {
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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputFacts:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["unreadable"] = tuple((float(a), float(b)) for a, b in data.get("unreadable", ()))
        return cls(**values)


@dataclass(frozen=True)
class Verdict:
    """One plain verdict code, a one-sentence summary and the evidence behind it."""

    code: str
    summary: str
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "summary": self.summary, "evidence": list(self.evidence)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(str(data["code"]), str(data["summary"]), tuple(str(e) for e in data.get("evidence", ())))


@dataclass(frozen=True)
class Report:
    """Everything a check found, with what is needed to reproduce it."""

    input: InputFacts
    matches: tuple[MatchSegment, ...]
    candidates: tuple[MatchSegment, ...]
    verdict: Verdict
    tool: dict[str, Any]
    index: dict[str, Any]
    created_at: str
    warnings: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
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
                f"not a {SCHEMA} report (schema: {found!r}); give a JSON report written by 'provenance check'"
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
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInputError(f"report JSON is incomplete or malformed ({exc!r}); re-run 'provenance check'") from exc


def render_json(report: Report) -> str:
    """The report as indented JSON (the single source of truth)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render(report: Report, fmt: str) -> str:
    """Render a report in one of `FORMATS`.

    Raises:
        BadInputError: the format is unknown.
    """
    if fmt == "json":
        return render_json(report)
    if fmt == "md":
        from .markdown import render_markdown

        return render_markdown(report)
    raise BadInputError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
