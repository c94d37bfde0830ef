"""Stage report: Markdown for a CMS or a newsroom ticket.

The same content as the HTML report, in the same order (verdict and evidence
first, then the claim against the evidence, each match with its aligned
frames, the metadata, reproducibility). Keyframes are files next to the
Markdown, in a folder it links to by relative path::

    text = render_markdown(report, assets_dir="report_files")
    for name, data in markdown_assets(report, "report_files").items():
        (out_dir / name).write_bytes(data)

Pure functions of the report. Every string from a file, sidecar, claim or
article goes through `text.md` (inert but readable) or `_code` (code span).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..evidence import Thumbnail
from . import Report, words
from .summary import (
    claim_facts,
    claim_of,
    claim_rows,
    diagnosis_of,
    findings_of,
    headline_thresholds,
    verdict_label,
)
from .text import clean, md


def _code(text: object, limit: int = 200) -> str:
    """Untrusted text as a Markdown code span (backticks cannot occur inside it)."""
    s = clean(text, limit).replace("`", "'")
    return f"`{s}`" if s else "``"


def asset_names(report: Report, assets_dir: str) -> dict[tuple[str, int, int, str], tuple[str, Thumbnail]]:
    """Every keyframe file of the report: {(kind, i, j, side): (relative path, thumbnail)}.

    ``("shot", n, 0, "query")`` for the clip's shots, ``("pair", match, pair,
    "query" | "reference")`` for the aligned frames of each match.
    """
    out: dict[tuple[str, int, int, str], tuple[str, Thumbnail]] = {}
    kf = report.keyframes
    if kf is None:
        return out
    folder = assets_dir.rstrip("/")
    for n, shot in enumerate(kf.query):
        out[("shot", n, 0, "query")] = (f"{folder}/shot{n + 1:02d}_t{shot.t:08.3f}.jpg", shot)
    for mf in kf.matches:
        for j, pair in enumerate(mf.pairs):
            for side, thumb in (("query", pair.query), ("reference", pair.reference)):
                if thumb is not None:
                    name = f"{folder}/match{mf.match + 1:02d}_{j + 1}_{side}_t{thumb.t:08.3f}.jpg"
                    out[("pair", mf.match, j, side)] = (name, thumb)
    return out


def markdown_assets(report: Report, assets_dir: str) -> dict[str, bytes]:
    """The keyframe files the Markdown links to: {relative path: JPEG bytes}."""
    return {name: thumb.jpeg() for name, thumb in asset_names(report, assets_dir).values()}


def _image(names: dict[Any, tuple[str, Thumbnail]], key: tuple[str, int, int, str], alt: str) -> str:
    entry = names.get(key)
    if entry is None:
        return "*(no frame)*"
    return f"![{alt}]({quote(entry[0])})"


def _fact_line(label: str, source: object, fact: str) -> str:
    """A source fact of a reference with where it came from: ``- First seen: 2021-09-12 (read from ...)``."""
    value = getattr(source, fact, None)
    if not value:
        return f"- {label}: unknown"
    origin = words.origin_words(source, fact)
    return f"- {label}: {md(value)}" + (f" ({md(origin)})" if origin else "")


def render_markdown(report: Report, *, assets_dir: str | None = None) -> str:
    """The report as Markdown; keyframes are linked under `assets_dir` when given."""
    r = report
    names = asset_names(r, assets_dir) if assets_dir else {}
    query_size = (r.input.width, r.input.height)
    lines = [
        "# Provenance report",
        "",
        f"**Verdict: {md(verdict_label(r.verdict.code))}** ({_code(r.verdict.code)}): {md(r.verdict.summary)}",
        "",
    ]
    for item in r.verdict.evidence:
        lines.append(f"- {md(item)}")
    lines.append("")

    claim = claim_facts(r)
    rows = claim_rows(r)
    if claim or rows:
        lines += ["## The claim and the evidence", ""]
        if claim and claim.text:
            lines += [f"> {md(claim.text, 1000)}", ""]
        lines += ["| | The claim says | The evidence says |", "|---|---|---|"]
        for row in rows:
            mark = {True: " (fits)", False: " (**does not fit**)", None: ""}[row.fits]
            lines.append(f"| {md(row.label)} | {md(row.claimed or '-')} | {md(row.found or '-')}{mark} |")
        lines.append("")
        read = r.claim  # how the claim was read, so a wrong extraction can be corrected with the flags
        if read is not None:
            lines.append(
                f"Claim read from {md(', '.join(read.origin) or 'flags')} (later sources override earlier ones; "
                "correct it with --claim-date, --claim-place or --claim-text)."
            )
            lines.append("")
            lines += [f"- date: {md(d.text)} → {md(d.date)} ({md(d.rule)})" for d in read.dates[:10]]
            lines += [f"- place: {md(p.query)} → {md(p.label())} ({md(p.kind)})" for p in read.places[:10]]
            lines += [f"- **warning**: {md(w)}" for w in read.warnings]
            note = words.ambiguity_note((claim_of(r) or {}).get("place"))
            lines += [f"- **warning**: {md(note, 1000)}"] if note else []
            lines.append("")

    still = words.is_still(r)
    lines += ["## Matches", ""]
    if not r.matches:
        lines += [
            f"No footage in this index matches the {'picture' if still else 'clip'}. This means *not found in "
            "this index*, not authentic.",
            "",
        ]
        searched = words.searched_speeds(r)
        if searched and not still:
            lines += [f"Speeds searched: {searched}; footage played faster or slower than that is not found.", ""]
    covered = words.coverage_sentence(r)
    if covered:
        lines += [f"Parts of the clip ({words.seconds(r.input.duration_s)}): {covered}", ""]
    for n, m in enumerate(r.matches):
        ref = m.reference
        s = ref.source
        diag = diagnosis_of(m, query_size)
        mirrored = ", mirrored" if diag.mirrored else ""
        if still:
            where = f"- The picture matches {words.still_frame(m)} of the reference{mirrored}{words.still_frame_at(m)}"
        elif ref.kind == "image":
            where = f"- Clip {words.span(m.query_start_s, m.query_end_s)} shows the reference picture{mirrored}"
        elif words.held_frame(m):
            where = (
                f"- Clip {words.span(m.query_start_s, m.query_end_s)} holds {words.held_moment(m)} "
                f"({words.speed_words(m)}{mirrored})"
            )
        else:
            where = (
                f"- Clip {words.span(m.query_start_s, m.query_end_s)} ↔ reference "
                f"{words.reference_span(m)} (offset {words.signed(m.offset_s)} s, "
                f"{words.speed_words(m)}{mirrored})"
            )
        lines += [f"### {n + 1}. {md(s.title or ref.path)} (score {m.score:.2f})", "", where]
        searched = words.searched_speeds(r)
        if searched and not still and words.speed_matters(m):
            lines.append(f"- Speeds searched: {searched}")
        lines += [
            "- Found by the sound alone (no frame of the picture matched)"
            if m.channel == "audio"
            else f"- {words.frames_sentence(m, r)}",
            _fact_line("First seen", s, "first_seen"),
            _fact_line("Publisher", s, "publisher"),
            _fact_line("Source", s, "source_url"),
            f"- Reference: {md(ref.path)} (#{ref.id}, SHA-256 {_code(ref.sha256[:16])}…)",
        ]
        if words.origins_unrecorded(s):
            lines.append(f"- *{md(words.ORIGINS_UNRECORDED)}*")
        relation = words.relation_sentence(m, still=still)
        if relation:
            lines.append(f"- **{md(relation, 1000)}**")
        lines += [f"- {md(sentence, 2000)}" for sentence in words.channel_sentences(m)]
        for alt in diag.alterations:
            detail = words.alteration_details(alt.code, alt.evidence)
            lines.append(
                f"- **{md(words.alteration_label(alt.code))}**: {md(alt.summary)}"
                + (f" {md(detail)}" if detail else "")
            )
        lines.append("")
        mf = r.keyframes.for_match(n) if r.keyframes else None
        if mf is not None and mf.note:
            lines += [f"*{md(mf.note)}*", ""]
        if mf is not None and mf.pairs and names:
            # Markdown cannot mirror a picture: the reference is shown as stored, and says so.
            as_stored = " (as stored; the clip is its mirror image)" if diag.mirrored else ""
            lines += [f"| {'Picture' if still else 'Clip'} | Reference{as_stored} |", "|---|---|"]
            for j, pair in enumerate(mf.pairs):
                q = _image(names, ("pair", n, j, "query"), f"clip at {words.seconds(pair.query_t)}")
                rf = _image(names, ("pair", n, j, "reference"), f"reference at {words.seconds(pair.reference_t)}")
                q_at = "" if still else f"<br>{words.seconds(pair.query_t)}"
                lines.append(f"| {q}{q_at} | {rf}<br>{words.seconds(pair.reference_t)} |")
            lines.append("")
        elif mf is not None and mf.pairs and assets_dir is None:
            lines += ["*(Keyframes are written as files when the report is saved with -o.)*", ""]

    findings = findings_of(r)
    lines += ["## Metadata findings", ""]
    if findings:
        for f in findings:
            severity = f.get("severity", "info")
            text = f.get("explanation") or f.get("summary") or f.get("message") or ""
            ev = f.get("evidence")
            detail = (
                words.finding_details(str(f.get("code", "")), ev) if isinstance(ev, dict) else (clean(ev) if ev else "")
            )
            lines.append(
                f"- **{md(severity)}** {_code(f.get('code', '?'))}: {md(text)}"
                + (f" {md(detail, 1000)}" if detail else "")
            )
    else:
        probe = r.metadata.get("probe")
        tags = probe.get("tags") if isinstance(probe, dict) else None
        if isinstance(tags, dict) and tags:
            lines.append("No findings were computed; the file's container tags:")
            lines.append("")
            for key, value in list(tags.items())[:40]:
                lines.append(f"- {md(key, 80)}: {md(value, 200)}")
        else:
            lines.append("No findings were computed and the file has no container tags.")
    lines.append("")

    lines += _text_lines(r)
    lines += [
        "## Checked file",
        "",
        "| | |",
        "|---|---|",
        f"| File | {md(r.input.path)} |",
        f"| SHA-256 | {_code(r.input.sha256, 80)} |",
        f"| Kind | {md(r.input.kind)} |",
        f"| Sound | {md(words.sound_facts_sentence(r.input.sound))} |",
    ]
    if not still:
        lines.append(f"| Duration | {words.seconds(r.input.duration_s)} |")
    lines.append(f"| Size | {r.input.width}×{r.input.height} |")
    if still:
        lines += [f"| Detail | {'enough' if r.input.frames_informative else 'too little'} texture to compare |", ""]
    else:
        lines += [
            f"| Frames sampled | {r.input.frames_sampled} ({r.input.frames_informative} with enough texture to "
            "compare) |",
            "",
        ]
    shots = [k for k in names if k[0] == "shot"]
    if shots:
        lines += [
            "Shots of the clip: " + " ".join(_image(names, k, f"shot {k[1] + 1}") for k in sorted(shots)),
            "",
        ]
    if r.candidates:
        lines += ["## Weaker candidates (below the decision threshold)", ""]
        for m in r.candidates:
            lines.append(
                f"- {md(m.reference.source.title or m.reference.path)}: score {m.score:.2f}, "
                f"{md(words.candidate_evidence(m, r))}"
            )
        lines.append("")
    if r.warnings:
        lines += ["## Warnings", ""] + [f"- {md(w)}" for w in r.warnings] + [""]
    tool = r.tool
    headline, by_stage = headline_thresholds(tool)
    lines += [
        "## Reproducibility",
        "",
        f"- provenance {md(tool.get('version', '?'))}, ffmpeg {md(tool.get('ffmpeg_version', '?'))}, "
        f"report schema {md(r.schema)}",
        f"- Hash: {md(tool.get('hash_algorithm', '?'))}; thresholds: "
        + ", ".join(f"{md(k)}={md(v)}" for k, v in headline)
        + (f" ({by_stage} more, by stage, in the JSON report)" if by_stage else ""),
        f"- Input SHA-256: {_code(r.input.sha256, 80)}",
        f"- Index: {md(r.index.get('backend', '?'))} {md(r.index.get('index_id', ''))}, "
        f"{md(r.index.get('references', '?'))} references, {md(r.index.get('hashes', '?'))} hashes",
        f"- Report created {md(r.created_at)}",
        "",
    ]
    return "\n".join(lines)


def _text_lines(r: Report) -> list[str]:
    """The words read on the picture, as a table (every cell escaped: OCR output is untrusted text)."""
    reading = r.text
    if reading is None:
        return []
    lines = ["## Words on the picture", ""]
    if reading.status != "read":
        return [*lines, f"Not read: {md(reading.note or 'the text stage did not run')}.", ""]
    ref = (
        f", and on {int(reading.reference_frames_read)} frames of the matched reference"
        if reading.reference_frames_read
        else ""
    )
    lines += [
        f"Read with {md(reading.engine or '?')} on {int(reading.frames_read)} frames of the clip "
        f"({words.seconds(reading.seconds)}){ref}. OCR can misread: each line shows Tesseract's confidence (0-100).",
        "",
    ]
    if not reading.texts:
        return [*lines, "No text was read on the picture.", ""]
    lines += [
        "| When | Kind | Where | Text | Language | Confidence | On the reference |",
        "|---|---|---|---|---|---|---|",
    ]
    still = words.is_still(r)
    for t in reading.texts:
        date = f" (date {md(' or '.join(t.clock.dates))})" if t.clock is not None and t.clock.dates else ""
        on_ref = {True: "yes", False: "no: added in this copy", None: "not compared"}[t.in_reference]
        when = "the picture" if still else words.span(t.start_s, t.end_s)  # a still has no time of its own
        lines.append(
            f"| {md(when)} | {md(words.text_kind(t.kind, t.static, t.cut))} | {md(words.screen_place(t.box))} | "
            f"{md(t.text, 400)}{date} | "
            f"{md(t.language)} ({md(t.script)}) | {t.confidence:.0f} | {on_ref} |"
        )
    return [*lines, ""]
