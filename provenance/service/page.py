"""Stage service: the desk page's HTML (upload, progress, recent checks, references, sign-in).

Pure functions of records, like the report's renderers: every string that
came from a user, a file or the index is escaped (`provenance.report.text.html_text`),
links are made only of http(s) URLs, and the page loads nothing but its own
``/static/desk.css`` and ``/static/desk.js`` (no framework, nothing from the
network; the Content-Security-Policy says so to the browser)::

    >>> html = desk_page(DeskView(checks=[...], references=[...], csrf="...", admin=False))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..report.summary import verdict_label, verdict_tone
from ..report.text import html_text
from .jobs import Job, JobStatus

#: The desk page's Content-Security-Policy: its own script and style, requests to itself only.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: The policy a report page is served with: the report's own (inline styles, data: images) and no framing.
REPORT_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def e(value: object, limit: int = 300) -> str:
    """Untrusted text for HTML content or a quoted attribute."""
    return html_text("" if value is None else value, limit)


def _link(url: object, text: object) -> str:
    """A link only for an http(s) URL; anything else is shown as text."""
    value = "" if url is None else str(url).strip()
    if value.lower().startswith(("http://", "https://")) and len(value) <= 2000:
        return f'<a href="{e(value, 2000)}" rel="noopener noreferrer nofollow" target="_blank">{e(text)}</a>'
    return e(text if text else value)


def _layout(title: str, body: str, *, csrf: str | None = None, signed_in: bool = False) -> str:
    meta = f'<meta name="csrf-token" content="{e(csrf)}">' if csrf else ""
    sign_out = (
        '<form method="post" action="/logout" class="signout" data-api="/logout">'
        '<button type="submit">Sign out</button></form>'
        if signed_in
        else ""
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"{meta}<title>{e(title)}</title>"
        '<link rel="stylesheet" href="/static/desk.css">'
        '<script src="/static/desk.js" defer></script></head>'
        f'<body><header><a href="/" class="home">provenance desk</a>{sign_out}</header>'
        f"<main>{body}</main>"
        "<noscript><p>The desk page needs JavaScript for uploads; the API works without it (docs/service.md).</p></noscript>"
        "</body></html>\n"
    )


@dataclass(frozen=True)
class DeskView:
    """What the desk page shows: recent checks, the index's references, and who is looking."""

    checks: Sequence[Job] = ()
    references: Sequence[dict[str, Any]] = ()
    reference_count: int = 0
    reference_jobs: Sequence[Job] = ()
    index: dict[str, Any] = field(default_factory=dict)
    csrf: str | None = None
    signed_in: bool = False
    can_delete: bool = False
    max_upload_mb: int = 0


def _status(job: Job) -> str:
    if job.status == JobStatus.DONE and job.kind == "check":
        tone = verdict_tone(job.verdict or "")
        return (
            f'<span class="verdict {tone}" data-verdict="{e(job.verdict)}">{e(verdict_label(job.verdict or ""))}</span>'
        )
    if job.status == JobStatus.FAILED:
        return f'<span class="failed">failed: {e(job.error, 200)}</span>'
    return f'<span class="pending">{e(job.status)}</span>'


def _check_rows(checks: Sequence[Job]) -> str:
    if not checks:
        return '<p class="empty">No checks yet.</p>'
    rows = "".join(
        f'<tr data-job="{e(j.id)}"><td><a href="/checks/{e(j.id)}">{e(j.name, 120)}</a></td>'
        f"<td>{e(j.claim_text, 120)}</td><td>{_status(j)}</td>"
        f"<td>{e(j.created_at[:19].replace('T', ' '))}</td></tr>"
        for j in checks
    )
    return f'<table class="checks"><thead><tr><th>Clip</th><th>Claim</th><th>Result</th><th>Posted (UTC)</th></tr></thead><tbody>{rows}</tbody></table>'


def _reference_rows(view: DeskView) -> str:
    if not view.references:
        return '<p class="empty">The index holds no reference yet: add the earlier footage you know of below.</p>'
    rows = []
    for ref in view.references:
        source = ref  # a reference's dict carries its source facts at the top level
        title = source.get("title") or str(ref.get("path", "")).rsplit("/", 1)[-1]
        delete = (
            f'<button type="button" class="delete" data-delete="/api/v1/references/{int(ref["id"])}">Remove</button>'
            if view.can_delete
            else ""
        )
        rows.append(
            f'<tr data-ref="{int(ref["id"])}"><td>#{int(ref["id"])}</td><td>{e(title, 120)}</td>'
            f"<td>{e(source.get('publisher'), 80)}</td><td>{e(source.get('first_seen'), 30)}</td>"
            f"<td>{_link(source.get('source_url'), source.get('source_url'))}</td>"
            f"<td>{float(ref.get('duration_s') or 0):.1f} s</td><td>{delete}</td></tr>"
        )
    shown = len(view.references)
    more = (
        f'<p class="more">{shown} most recent of {view.reference_count}; all of them: '
        '<a href="/api/v1/references">/api/v1/references</a></p>'
        if view.reference_count > shown
        else ""
    )
    return (
        '<table class="references"><thead><tr><th>Id</th><th>Title</th><th>Publisher</th><th>First seen</th>'
        f"<th>Source</th><th>Length</th><th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )


def _pending_references(jobs: Sequence[Job]) -> str:
    items = "".join(
        f'<li data-job="{e(j.id)}">{e(j.name, 120)}: {_status(j) if j.status != JobStatus.DONE else e((j.result or {}).get("status"))}</li>'
        for j in jobs
    )
    return f'<ul class="reference-jobs">{items}</ul>' if items else ""


def desk_page(view: DeskView) -> str:
    """The desk: post a clip (and its claim), recent checks, the references, add a reference."""
    limit = f"up to {view.max_upload_mb} MiB" if view.max_upload_mb else ""
    index = view.index
    body = f"""
<section class="upload">
<h1>Check a clip</h1>
<form id="check-form" data-api="/api/v1/checks" enctype="multipart/form-data">
<label class="drop" id="drop"><span>Drop a clip or image here, or choose one ({e(limit)})</span>
<input type="file" name="file" id="file" required></label>
<fieldset><legend>What is it said to show? (optional)</legend>
<label>Date <input type="text" name="claim_date" placeholder="2024-01-17" maxlength="40"></label>
<label>Place <input type="text" name="claim_place" placeholder="Baymak, Russia" maxlength="200"></label>
<label class="wide">Claim <textarea name="claim_text" rows="2" maxlength="4000" placeholder="Police flee rioters in Baymak"></textarea></label>
<label class="wide">Article carrying it (.txt or saved .html) <input type="file" name="article"></label>
</fieldset>
<button type="submit">Check</button> <progress id="check-sent" max="1" value="0" hidden></progress>
<p class="error" id="check-error" role="alert"></p>
</form>
</section>
<section class="recent">
<h2>Recent checks</h2>
{_check_rows(view.checks)}
</section>
<section class="index">
<h2>References in the index <small>{e(index.get("references", view.reference_count))} files, index {e(str(index.get("index_id", ""))[:8])}</small></h2>
{_reference_rows(view)}
<h3>Add a reference</h3>
<form id="reference-form" data-api="/api/v1/references" enctype="multipart/form-data">
<label class="wide">Earlier footage <input type="file" name="file" required></label>
<label>Source URL <input type="url" name="source_url" maxlength="2000"></label>
<label>Publisher <input type="text" name="publisher" maxlength="300"></label>
<label>Title <input type="text" name="title" maxlength="500"></label>
<label>First seen <input type="text" name="first_seen" placeholder="2021-09-12" maxlength="40"></label>
<label>Licence <input type="text" name="licence" maxlength="300"></label>
<label class="wide">Note <input type="text" name="note" maxlength="2000"></label>
<button type="submit">Add to the index</button> <progress id="reference-sent" max="1" value="0" hidden></progress>
<p class="error" id="reference-error" role="alert"></p>
{_pending_references(view.reference_jobs)}
</form>
</section>
"""
    return _layout("provenance desk", body, csrf=view.csrf, signed_in=view.signed_in)


def progress_page(job: Job, progress: dict[str, Any], *, csrf: str | None, signed_in: bool) -> str:
    """A check not finished yet, or failed: its stages, its place in the queue, or its one-line error."""
    stages = "".join(
        f'<li class="{"done" if s in progress["stages_done"] else ("now" if s == progress.get("stage") else "todo")}">'
        f"{e(s)}</li>"
        for s in progress["stages"]
    )
    if job.status == JobStatus.FAILED:
        state = f'<p class="error" id="job-error">{e(job.error, 1000)}</p>'
    elif job.status == JobStatus.QUEUED:
        state = f'<p id="job-state">Waiting for a worker (place {e(progress.get("queue_position") or "?")} in the queue).</p>'
    else:
        state = f'<p id="job-state">Checking: {e(progress.get("stage") or "starting")}.</p>'
    body = (
        f'<section class="job" id="job" data-job="{e(job.id)}" data-status="{e(job.status)}">'
        f"<h1>{e(job.name, 200)}</h1>"
        + (f'<p class="claim">Claim: {e(job.claim_text, 1000)}</p>' if job.claim_text else "")
        + f'{state}<ol class="stages">{stages}</ol><p><a href="/">Back to the desk</a></p></section>'
    )
    return _layout(f"{job.name} - provenance desk", body, csrf=csrf, signed_in=signed_in)


def login_page(message: str | None = None) -> str:
    """Sign in with a token (kept by the browser as a session cookie made from it)."""
    note = f'<p class="error" role="alert">{e(message)}</p>' if message else ""
    body = (
        '<section class="login"><h1>Sign in</h1>'
        "<p>This desk needs a token. Ask whoever runs it.</p>"
        f"{note}"
        '<form method="post" action="/login"><label>Token <input type="password" name="token" '
        'autocomplete="current-password" required></label> <button type="submit">Sign in</button></form></section>'
    )
    return _layout("Sign in - provenance desk", body)


def not_found_page(what: str) -> str:
    return _layout(
        "Not found - provenance desk",
        f'<section><h1>Not found</h1><p>{e(what)}</p><p><a href="/">Back to the desk</a></p></section>',
    )
