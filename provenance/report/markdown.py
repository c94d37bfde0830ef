"""Markdown rendering of a `Report`, for a CMS or a newsroom ticket.

A pure function of the report; every string from a file, sidecar or claim is
escaped with `text.md`.
"""

from __future__ import annotations

from . import Report
from .text import md


def _fmt_s(value: float) -> str:
    return f"{value:.1f} s"


def render_markdown(report: Report) -> str:
    """The report as Markdown."""
    r = report
    lines = [
        "# Provenance report",
        "",
        f"**Verdict: {md(r.verdict.code)}** — {md(r.verdict.summary)}",
        "",
    ]
    for item in r.verdict.evidence:
        lines.append(f"- {md(item)}")
    lines += [
        "",
        "## Checked file",
        "",
        "| | |",
        "|---|---|",
        f"| File | {md(r.input.path)} |",
        f"| SHA-256 | `{r.input.sha256}` |",
        f"| Kind | {md(r.input.kind)} |",
        f"| Duration | {_fmt_s(r.input.duration_s)} |",
        f"| Size | {r.input.width}x{r.input.height} |",
        f"| Frames sampled | {r.input.frames_sampled} ({r.input.frames_informative} with enough texture to compare) |",
        "",
        "## Matches",
        "",
    ]
    if not r.matches:
        lines.append("No footage in this index matches the clip. This means *not found in this index*, not authentic.")
    for n, m in enumerate(r.matches, 1):
        ref = m.reference
        s = ref.source
        lines += [
            f"### {n}. {md(s.title or ref.path)} (score {m.score:.2f})",
            "",
            f"- Query {_fmt_s(m.query_start_s)}–{_fmt_s(m.query_end_s)} ↔ reference "
            f"{_fmt_s(m.reference_start_s)}–{_fmt_s(m.reference_end_s)} "
            f"(offset {m.offset_s:+.2f} s, speed ×{m.speed:g}{', mirrored' if m.mirrored else ''})",
            f"- {m.frames_matched} of {m.frames_total} frames matched, mean distance {m.mean_distance:.1f} of 64 bits",
            f"- Reference: {md(ref.path)} (id {ref.id}, SHA-256 `{ref.sha256[:16]}…`)",
            f"- First seen: {md(s.first_seen or 'unknown')}; publisher: {md(s.publisher or 'unknown')}",
            f"- Source: {md(s.source_url or 'unknown')}",
            "",
        ]
    if r.candidates:
        lines += ["## Weaker candidates (below the decision threshold)", ""]
        for m in r.candidates:
            lines.append(
                f"- {md(m.reference.source.title or m.reference.path)}: score {m.score:.2f}, "
                f"{m.frames_matched}/{m.frames_total} frames"
            )
        lines.append("")
    if r.warnings:
        lines += ["## Warnings", ""] + [f"- {md(w)}" for w in r.warnings] + [""]
    tool = r.tool
    lines += [
        "## Reproducibility",
        "",
        f"- provenance {md(tool.get('version', '?'))}, ffmpeg {md(tool.get('ffmpeg_version', '?'))}",
        f"- Hash: {md(tool.get('hash_algorithm', '?'))}; thresholds: "
        + ", ".join(f"{md(k)}={md(v)}" for k, v in sorted(tool.get("thresholds", {}).items())),
        f"- Index: {md(r.index.get('backend', '?'))} {md(r.index.get('index_id', ''))}, "
        f"{r.index.get('references', '?')} references, {r.index.get('hashes', '?')} hashes",
        f"- Report created {md(r.created_at)}",
        "",
    ]
    return "\n".join(lines)
