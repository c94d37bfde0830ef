"""Stage service: the FastAPI application, its routes, and the `Desk` they share.

The routes parse, hand the work to the library or the pool, and render; they
run no stage themselves. Checks go through `provenance.pipeline.check` in the
pool's workers; reports are rendered by `provenance.report.render`; the
references are the index's (`provenance.index`), read here on one thread
that owns the connection. Errors are the library's, one line each, as JSON
``{"error": ..., "exit_code": ...}`` with an HTTP status for their kind::

    >>> desk = Desk(ServiceConfig(index_url="sqlite:///desk.sqlite"))
    >>> with desk:
    ...     uvicorn.run(create_app(desk), host="127.0.0.1", port=8080)
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..errors import (
    EXIT_BAD_INPUT,
    BadInputError,
    IndexUnavailableError,
    NotFoundError,
    ProcessingError,
    ProvenanceError,
    ToolMissingError,
)
from ..report import FORMATS
from ..report.text import terminal
from . import ServiceConfig, default_workers
from .auth import COOKIE, CSRF_HEADER, Token, TokenFile, cross_site, host_name
from .jobs import JOB_ID, Job, JobKind, JobStatus, JobStore, Pool, Work, new_job_id
from .page import PAGE_CSP, REPORT_CSP, DeskView, desk_page, login_page, not_found_page, progress_page
from .uploads import UploadedFile, UploadTimedOut, UploadTooLarge, read_form

#: Longest long poll (``GET /api/v1/checks/{id}?wait=S``), seconds: under common proxies' 60 s read timeout.
MAX_WAIT_S = 50.0
#: Most references and checks the desk page lists (the API pages through all of them).
PAGE_LIST = 200
#: Seconds the index's identity is reused by /healthz before it is read again (it counts rows).
IDENTITY_TTL_S = 5.0
#: Text fields of a check's form, with the file fields.
CHECK_FIELDS = frozenset({"claim_date", "claim_place", "claim_text", "format"})
CHECK_FILES = frozenset({"file", "article"})
#: Text fields of a reference's form (its source facts), with the file fields (the footage and a yt-dlp sidecar).
REFERENCE_FIELDS = frozenset({"source_url", "publisher", "title", "first_seen", "licence", "note"})
REFERENCE_FILES = frozenset({"file", "info_json"})
#: The CLI's claim flags and the form fields that stand for them, for the messages of a bad claim.
CLAIM_FLAGS = {
    "--claim-date": "claim_date",
    "--claim-place": "claim_place",
    "--claim-text": "claim_text",
    "--article": "article",
}
#: Headers every response carries: no MIME sniffing of uploads or reports, no referrer, no framing.
HARDENING = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
#: Paths served without a token: the health probe and the page's own script and style.
OPEN_PATHS = frozenset({"/healthz", "/static/desk.css", "/static/desk.js"})

_STATIC = Path(__file__).with_name("static")
_T = TypeVar("_T")


def http_status(exc: ProvenanceError) -> int:
    """The HTTP status of a library error: bad input 400 (not found 404), unavailable 503, processing 500."""
    if isinstance(exc, UploadTooLarge):
        return 413
    if isinstance(exc, _Forbidden):
        return 403
    if isinstance(exc, _Busy):
        return 503
    if isinstance(exc, UploadTimedOut):
        return 408
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, BadInputError):
        return 400
    if isinstance(exc, (IndexUnavailableError, ToolMissingError)):
        return 503
    return 500


def error_json(
    message: str, status: int, exit_code: int = EXIT_BAD_INPUT, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A one-line error as JSON: ``{"error": ..., "exit_code": ...}`` (the exit code the CLI would give)."""
    return JSONResponse({"error": terminal(message, 1000), "exit_code": exit_code}, status_code=status, headers=headers)


class Desk:
    """What the routes share: the configuration, the job store, the pool, the index's thread, the tokens."""

    def __init__(self, config: ServiceConfig) -> None:
        from ..index import default_url

        self.config = config
        self.index_url = str(config.index_url) if config.index_url is not None else default_url()
        self.data_dir = config.data_dir or _default_data_dir(self.index_url)
        self.tokens = TokenFile(config.token_file) if config.token_file is not None else None
        self.workers = config.workers or default_workers()
        self.store: JobStore | None = None
        self.pool: Pool | None = None
        self.uploads_root: Path | None = None
        self._uploads_temporary = config.uploads_dir is None
        self._index_thread = ThreadPoolExecutor(1, thread_name_prefix="provenance-index")
        self._index: Any = None
        self._identity: tuple[float, dict[str, Any]] | None = None
        self.started = time.monotonic()

    # -- life ------------------------------------------------------------------------

    def __enter__(self) -> Desk:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Open (or create) the index, the job store and the upload folder, and start the workers."""
        self._index_thread.submit(self._open_index, True).result()
        self.store = JobStore(self.data_dir)
        (self.data_dir / "references").mkdir(mode=0o700, exist_ok=True)
        if self.config.uploads_dir is not None:
            try:
                self.config.uploads_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise BadInputError(
                    f"--uploads {self.config.uploads_dir}: cannot be made ({exc.strerror}); give another folder"
                ) from exc
            self.uploads_root = self.config.uploads_dir
        else:
            self.uploads_root = Path(tempfile.mkdtemp(prefix="provenance-serve-"))  # mode 0700
        self.pool = Pool(self.workers, self.index_url, self.store, timeout_s=self.config.check_timeout_s)
        self.pool.start()

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.stop()
        self._index_thread.submit(self._close_index).result()
        self._index_thread.shutdown()
        if self._uploads_temporary and self.uploads_root is not None:
            shutil.rmtree(self.uploads_root, ignore_errors=True)

    # -- the index, on its own thread ---------------------------------------------------

    def _open_index(self, create: bool = False) -> Any:
        from ..index import open_index

        if self._index is None:
            self._index = open_index(self.index_url, create=create)
        return self._index

    def _close_index(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    async def index(self, call: Callable[[Any], _T]) -> _T:
        """`call(index)` on the index's thread; a failing connection is reopened on the next call."""

        def run() -> _T:
            try:
                return call(self._open_index())
            except IndexUnavailableError:
                self._close_index()
                raise

        return await asyncio.get_running_loop().run_in_executor(self._index_thread, run)

    @property
    def keeps_uploads(self) -> bool:
        """Whether uploaded clips stay after their check (`--uploads`)."""
        return not self._uploads_temporary

    def forget_identity(self) -> None:
        """The index changed here: /healthz reads its identity again."""
        self._identity = None

    async def identity(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._identity is None or now - self._identity[0] > IDENTITY_TTL_S:
            self._identity = (now, await self.index(lambda idx: idx.identity()))
        return self._identity[1]

    # -- uploads -----------------------------------------------------------------------

    def upload_folder(self, job_id: str, *, reference: bool) -> Path:
        """A new private folder for one upload: in the data folder for a reference (it stays), else the uploads'."""
        root = self.data_dir / "references" if reference else self.uploads_root
        assert root is not None
        folder = root / job_id
        folder.mkdir(mode=0o700)
        return folder

    def admit(self) -> None:
        assert self.pool is not None
        if self.pool.queued() >= self.config.max_queue:
            raise _Busy(
                f"{self.pool.queued()} jobs are waiting for a worker (--max-queue {self.config.max_queue}); "
                "post it again in a minute"
            )


class _Busy(ProcessingError):
    """The queue is full (HTTP 503 with Retry-After)."""


def _default_data_dir(index_url: str) -> Path:
    """Beside a SQLite index (``INDEX.serve``), else the user's data folder."""
    from ..index.sqlite import path_from_url

    scheme = index_url.split("://", 1)[0].lower() if "://" in index_url else "sqlite"
    path = path_from_url(index_url) if scheme == "sqlite" else None
    if path is not None:
        return path.with_name(path.name + ".serve")
    return Path.home() / ".local" / "share" / "provenance" / "serve"


# -- the guard: tokens, sessions, other sites --------------------------------------------


class Guard:
    """ASGI middleware in front of every route: the Host, other sites' requests, then the token.

    Sets ``scope["state"]["token"]`` to the `Token` proven (None on a desk
    without tokens) and ``scope["state"]["session"]`` when it came from the
    page's cookie.
    """

    def __init__(self, app: ASGIApp, desk: Desk) -> None:
        self.app, self.desk = app, desk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_hardened(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HARDENING if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        refusal = self.refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_hardened)
            return
        await self.app(scope, receive, send_hardened)

    def refusal(self, scope: Scope) -> Response | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path, method = scope["path"], scope["method"]
        state = scope.setdefault("state", {})
        state["token"], state["session"] = None, False
        tokens = self.desk.tokens
        if tokens is None:
            host = host_name(headers.get("host", ""))
            if not (is_loopback_name(host) or host in self.desk.config.allowed_hosts):
                return error_json(
                    f"this desk answers requests for this machine only, not for host {host[:100]!r}; "
                    "open it as http://127.0.0.1:PORT or start it with --allow-host NAME",
                    421,
                )
        why = cross_site(method, headers)
        if why is not None:
            return error_json(why, 403)
        if tokens is None or path in OPEN_PATHS:
            return None
        token = tokens.bearer(headers.get("authorization"))
        if token is None:
            token = tokens.session(_cookie(headers.get("cookie", ""), COOKIE))
            if token is not None:
                state["session"] = True
                if (
                    method in ("POST", "PUT", "PATCH", "DELETE")
                    and path not in ("/login", "/logout")
                    and not _same(headers.get(CSRF_HEADER, ""), token.derived("csrf"))
                ):
                    return error_json(
                        "the page's request lacks its CSRF token; reload the desk page and try again", 403
                    )
        if token is not None:
            state["token"] = token
            return None
        if path == "/login" and method == "POST":
            return None
        if method == "GET" and (path in ("/", "/login") or path.startswith("/checks/")):
            return HTMLResponse(login_page(), status_code=401, headers={"Content-Security-Policy": PAGE_CSP})
        given = "a wrong token" if headers.get("authorization") else "no token"
        return error_json(
            f"this desk needs a token and the request has {given}; send 'Authorization: Bearer TOKEN'",
            401,
            headers={"WWW-Authenticate": 'Bearer realm="provenance"'},
        )


def is_loopback_name(host: str) -> bool:
    """A Host name that means this machine, without resolving anything (a rebinding name must not pass)."""
    from . import LOOPBACK_NAMES

    if host in LOOPBACK_NAMES:
        return True
    try:
        import ipaddress

        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def _cookie(header: str, name: str) -> str | None:
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def _proves_token(tokens: TokenFile, request: Request) -> bool:
    """Whether a request on an open path carries a valid token anyway (Bearer header or the page's cookie)."""
    return (
        tokens.bearer(request.headers.get("authorization")) is not None
        or tokens.session(request.cookies.get(COOKIE)) is not None
    )


def _token(request: Request) -> Token | None:
    return request.scope.get("state", {}).get("token")


def _may_delete(desk: Desk, request: Request) -> bool:
    """Without tokens anyone on this machine may; with tokens, an admin token only."""
    if desk.tokens is None:
        return True
    token = _token(request)
    return token is not None and token.admin


# -- the application --------------------------------------------------------------------

_MULTIPART_CHECK = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The clip or still image."},
                        "claim_date": {"type": "string", "description": "Claimed date: YYYY-MM-DD, YYYY-MM or YYYY."},
                        "claim_place": {"type": "string", "description": "Claimed place: a name or 'LAT, LON'."},
                        "claim_text": {"type": "string", "description": "What the clip is said to show."},
                        "article": {
                            "type": "string",
                            "format": "binary",
                            "description": "The article carrying the claim (.txt or saved .html).",
                        },
                        "format": {
                            "type": "string",
                            "enum": ["json", "md", "html", "claimreview"],
                            "description": "The format the response's report URL asks for.",
                        },
                    },
                }
            }
        },
    }
}
_MULTIPART_REFERENCE = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The earlier footage."},
                        "info_json": {
                            "type": "string",
                            "format": "binary",
                            "description": "Its yt-dlp .info.json sidecar (fills source facts not given).",
                        },
                        **{
                            name: {"type": "string"}
                            for name in ("source_url", "publisher", "title", "first_seen", "licence", "note")
                        },
                    },
                }
            }
        },
    }
}
_JOB_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "A bad upload: not multipart, no 'file', an empty file, a bad claim field."},
    401: {"description": "No token or a wrong token (when the server has tokens)."},
    403: {"description": "Sent by another site's page, or a page request without its CSRF token."},
    408: {"description": "The upload stalled."},
    413: {"description": "The upload is over the server's limit (refused before it is stored)."},
    503: {"description": "Too many jobs waiting (Retry-After), or the index is unavailable."},
}


def create_app(desk: Desk) -> FastAPI:
    """The ASGI application over a `Desk` (started by the caller, e.g. `provenance.service.serve`)."""
    app = FastAPI(
        title="provenance desk",
        version=__version__,
        summary="Check clips against a reference index of earlier footage; grow the index.",
        description="The HTTP API of `provenance serve` (docs/service.md). Errors are "
        '`{"error": "one line", "exit_code": N}` with the exit code `provenance` would give.',
        docs_url=None,
        redoc_url=None,
    )

    @app.exception_handler(ProvenanceError)
    async def provenance_error(request: Request, exc: ProvenanceError) -> JSONResponse:
        headers = {"Retry-After": "30"} if isinstance(exc, _Busy) else {}
        return error_json(str(exc), http_status(exc), exc.exit_code, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        what = {404: f"nothing at {request.url.path[:200]}; see /openapi.json", 405: "method not allowed here"}
        return error_json(what.get(exc.status_code, str(exc.detail)), exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_json(f"{where}: {first.get('msg', 'invalid')}; see /openapi.json", 400)

    app.add_middleware(Guard, desk=desk)

    # -- health ------------------------------------------------------------------------

    @app.get("/healthz", tags=["service"], summary="Alive, with the version and the index's identity.")
    async def healthz(request: Request) -> dict[str, Any]:
        assert desk.pool is not None and desk.store is not None
        identity = await desk.identity()
        if desk.tokens is not None and not _proves_token(desk.tokens, request):
            # Without a token: alive and which index, not where it is or what it holds.
            identity = {k: identity.get(k) for k in ("backend", "index_id", "schema_version")}
        return {
            "status": "ok",
            "version": __version__,
            "index": identity,
            "workers": desk.workers,
            "decoder": desk.pool.described.get("decoder"),
            "queued": desk.pool.queued(),
            "jobs": desk.store.counts(),
            "uptime_s": round(time.monotonic() - desk.started, 1),
        }

    # -- checks ------------------------------------------------------------------------

    @app.post(
        "/api/v1/checks",
        status_code=202,
        tags=["checks"],
        summary="Post a clip (and its claim) to be checked.",
        openapi_extra=_MULTIPART_CHECK,
        responses=_JOB_RESPONSES,
    )
    async def post_check(request: Request) -> JSONResponse:
        desk.admit()
        job_id = new_job_id()
        folder = desk.upload_folder(job_id, reference=False)
        try:
            form = await read_form(
                request,
                folder,
                max_bytes=desk.config.max_upload_bytes,
                files=set(CHECK_FILES),
                fields=set(CHECK_FIELDS),
            )
            clip = _the_file(form.files.get("file"))
            fmt = form.fields.get("format", "json").strip() or "json"
            if fmt not in FORMATS:
                raise BadInputError(f"format {fmt[:40]!r}: use one of {', '.join(FORMATS)}")
            claim = await asyncio.get_running_loop().run_in_executor(None, _claim_of, form)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        assert desk.store is not None and desk.pool is not None
        job = Job(
            id=job_id,
            kind=JobKind.CHECK,
            status=JobStatus.QUEUED,
            name=clip.name,
            size_bytes=clip.size_bytes,
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            claim_text=claim.text if claim is not None else None,
            kept_upload=desk.keeps_uploads,
            fmt=fmt,
        )
        desk.store.add(job)
        cleanup = (lambda: None) if job.kept_upload else (lambda: shutil.rmtree(folder, ignore_errors=True))
        payload = {"folder": str(folder / "file"), "name": clip.name, "claim": claim.to_dict() if claim else None}
        desk.pool.submit(Work(job_id, JobKind.CHECK, payload, cleanup))
        return JSONResponse(_accepted(job), status_code=202, headers={"Location": f"/api/v1/checks/{job_id}"})

    @app.get("/api/v1/checks", tags=["checks"], summary="The latest checks, newest first (no reports).")
    async def list_checks(limit: int = Query(50, ge=1, le=1000)) -> dict[str, Any]:
        assert desk.store is not None
        return {"checks": [_status_dict(desk, j) for j in desk.store.recent(JobKind.CHECK, limit)]}

    @app.get(
        "/api/v1/checks/{job_id}",
        tags=["checks"],
        summary="A check's status and progress; its JSON report once done.",
        responses={404: {"description": "No such check."}},
    )
    async def get_check(job_id: str, wait: float = Query(0, ge=0, le=MAX_WAIT_S)) -> Response:
        job = await _job(desk, job_id, JobKind.CHECK, wait)
        body = json.dumps(_status_dict(desk, job), ensure_ascii=False)
        if job.status == JobStatus.DONE:
            assert desk.store is not None
            report = await asyncio.get_running_loop().run_in_executor(None, _read_text, desk.store.report_path(job.id))
            body = body[:-1] + ', "report": ' + report.strip() + "}"
        else:
            body = body[:-1] + ', "report": null}'
        return Response(body, media_type="application/json")

    @app.get(
        "/api/v1/checks/{job_id}/report",
        tags=["checks"],
        summary="A finished check's report in a format (claimreview needs org_name and review_url).",
        responses={404: {"description": "No such check."}, 409: {"description": "Not finished, or failed."}},
    )
    async def get_report(
        job_id: str,
        format: str | None = Query(None, description="json, md, html or claimreview [default: the check's own]"),
        org_name: str | None = Query(None, max_length=500),
        org_url: str | None = Query(None, max_length=2000),
        review_url: str | None = Query(None, max_length=2000),
    ) -> Response:
        job = await _job(desk, job_id, JobKind.CHECK, 0)
        fmt = format or job.fmt
        from ..report import RenderOptions, check_options

        options = RenderOptions(org_name, org_url, review_url)
        check_options(fmt, options)
        if job.status != JobStatus.DONE:
            return error_json(_not_done(job), 409, job.exit_code or EXIT_BAD_INPUT)
        assert desk.store is not None
        text = await asyncio.get_running_loop().run_in_executor(
            None, _render, desk.store.report_path(job.id), fmt, options
        )
        media = {
            "json": "application/json",
            "md": "text/markdown; charset=utf-8",
            "html": "text/html; charset=utf-8",
            "claimreview": "application/ld+json",
        }[fmt]
        headers = {"Content-Security-Policy": REPORT_CSP} if fmt == "html" else {}
        return Response(text, media_type=media, headers=headers)

    @app.delete("/api/v1/checks/{job_id}", tags=["checks"], summary="Forget a finished check and its report (admin).")
    async def delete_check(job_id: str, request: Request) -> dict[str, Any]:
        job = await _job(desk, job_id, JobKind.CHECK, 0)
        _require_delete(desk, request)
        if not job.status.finished:
            raise BadInputError(f"check {job_id} is still {job.status}; delete it once it has finished")
        assert desk.store is not None
        desk.store.delete(job.id)
        return {"deleted": job.id}

    # -- references --------------------------------------------------------------------

    @app.get("/api/v1/references", tags=["references"], summary="The index's references with their source facts.")
    async def list_references(
        limit: int = Query(1000, ge=1, le=100_000), offset: int = Query(0, ge=0)
    ) -> dict[str, Any]:
        refs = await desk.index(lambda idx: idx.references())
        return {"total": len(refs), "references": [r.to_dict() for r in refs[offset : offset + limit]]}

    @app.get(
        "/api/v1/references/{ref_id}",
        tags=["references"],
        summary="One reference with its source facts.",
        responses={404: {"description": "No such reference."}},
    )
    async def get_reference(ref_id: int) -> dict[str, Any]:
        ref = await desk.index(lambda idx: idx.get(ref_id))
        return dict(ref.to_dict())

    @app.post(
        "/api/v1/references",
        status_code=202,
        tags=["references"],
        summary="Post earlier footage with its source facts, to be added to the index.",
        openapi_extra=_MULTIPART_REFERENCE,
        responses=_JOB_RESPONSES,
    )
    async def post_reference(request: Request) -> JSONResponse:
        desk.admit()
        job_id = new_job_id()
        folder = desk.upload_folder(job_id, reference=True)
        try:
            form = await read_form(
                request,
                folder,
                max_bytes=desk.config.max_upload_bytes,
                files=set(REFERENCE_FILES),
                fields=set(REFERENCE_FIELDS),
            )
            footage = _the_file(form.files.get("file"))
            source = _source_of(form.fields)
            sidecar = form.files.get("info_json")
            if sidecar is not None:  # where ingest looks for it: beside the footage, as NAME.info.json
                sidecar.path.replace(footage.path.with_name(Path(footage.name).stem + ".info.json"))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        assert desk.store is not None and desk.pool is not None
        job = Job(
            id=job_id,
            kind=JobKind.REFERENCE,
            status=JobStatus.QUEUED,
            name=footage.name,
            size_bytes=footage.size_bytes,
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            kept_upload=True,
        )
        desk.store.add(job)
        store = desk.store

        def cleanup() -> None:
            done = store.get(job_id)
            if done is None or done.status != JobStatus.DONE or (done.result or {}).get("status") != "added":
                shutil.rmtree(folder, ignore_errors=True)  # already indexed, or not indexable: nothing to keep

        desk.pool.submit(Work(job_id, JobKind.REFERENCE, {"path": str(footage.path), "source": source}, cleanup))
        desk.forget_identity()
        return JSONResponse(
            _accepted(job), status_code=202, headers={"Location": f"/api/v1/references/uploads/{job_id}"}
        )

    @app.get(
        "/api/v1/references/uploads/{job_id}",
        tags=["references"],
        summary="A posted reference's status; the reference once added.",
        responses={404: {"description": "No such upload."}},
    )
    async def get_reference_upload(job_id: str, wait: float = Query(0, ge=0, le=MAX_WAIT_S)) -> dict[str, Any]:
        job = await _job(desk, job_id, JobKind.REFERENCE, wait)
        return {**_status_dict(desk, job), "result": job.result}

    @app.delete(
        "/api/v1/references/{ref_id}",
        tags=["references"],
        summary="Remove a reference and its hashes (admin token); footage the desk stored is deleted too.",
        responses={403: {"description": "The token may not delete."}, 404: {"description": "No such reference."}},
    )
    async def delete_reference(ref_id: int, request: Request) -> dict[str, Any]:
        _require_delete(desk, request)
        ref = await desk.index(lambda idx: idx.remove(ref_id))
        stored = (desk.data_dir / "references").resolve()
        folder = Path(ref.path).resolve().parent.parent
        if folder.parent == stored and JOB_ID.fullmatch(folder.name):
            shutil.rmtree(folder, ignore_errors=True)
        desk.forget_identity()
        return {"removed": ref.to_dict()}

    # -- the desk page -----------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def page(request: Request) -> HTMLResponse:
        assert desk.store is not None
        refs = await desk.index(lambda idx: idx.references())
        token = _token(request)
        view = DeskView(
            checks=desk.store.recent(JobKind.CHECK, PAGE_LIST),
            references=[r.to_dict() for r in reversed(refs[-PAGE_LIST:])],
            reference_count=len(refs),
            reference_jobs=[j for j in desk.store.recent(JobKind.REFERENCE, 20) if j.status != JobStatus.DONE][:10],
            index=await desk.identity(),
            csrf=token.derived("csrf") if token is not None else None,
            signed_in=bool(request.scope["state"].get("session")),
            can_delete=_may_delete(desk, request),
            max_upload_mb=desk.config.max_upload_mb,
        )
        return _page(desk_page(view))

    @app.get("/checks/{job_id}", include_in_schema=False)
    async def check_page(job_id: str, request: Request) -> HTMLResponse:
        assert desk.store is not None and desk.pool is not None
        job = desk.store.get(job_id)
        if job is None or job.kind != JobKind.CHECK:
            return _page(not_found_page(f"There is no check {job_id[:40]} on this desk."), 404)
        if job.status == JobStatus.DONE:
            from ..report import RenderOptions

            html = await asyncio.get_running_loop().run_in_executor(
                None, _render, desk.store.report_path(job.id), "html", RenderOptions()
            )
            return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})
        token = _token(request)
        return _page(
            progress_page(
                job,
                job.progress(desk.pool.position(job.id)),
                csrf=token.derived("csrf") if token is not None else None,
                signed_in=bool(request.scope["state"].get("session")),
            )
        )

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        if desk.tokens is None:
            return RedirectResponse("/", status_code=303)
        body = await request.body() if int(request.headers.get("content-length") or 0) <= 4096 else b""
        from urllib.parse import parse_qs

        given = parse_qs(body.decode("utf-8", "replace")).get("token", [""])[0]
        token = desk.tokens.given(given)
        if token is None:
            await asyncio.sleep(0.5)  # a wrong guess costs time
            return _page(login_page("That token is not one of this desk's."), 401)
        response = RedirectResponse("/", status_code=303)
        secure = request.url.scheme == "https"
        response.set_cookie(COOKIE, token.derived("session"), httponly=True, samesite="strict", secure=secure, path="/")
        return response

    @app.get("/login", include_in_schema=False)
    async def login_form() -> Response:
        return RedirectResponse("/", status_code=303)  # signed in already (the guard shows the form otherwise)

    @app.post("/logout", include_in_schema=False)
    async def logout() -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        types = {"desk.css": "text/css; charset=utf-8", "desk.js": "text/javascript; charset=utf-8"}
        if name not in types:
            return PlainTextResponse("not found", status_code=404)
        return Response((_STATIC / name).read_bytes(), media_type=types[name], headers={"Cache-Control": "no-cache"})

    return app


# -- helpers of the routes ---------------------------------------------------------------


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Content-Security-Policy": PAGE_CSP},
    )


def _the_file(upload: UploadedFile | None) -> UploadedFile:
    if upload is None:
        raise BadInputError("the upload has no file; send the clip as the form field 'file' (curl -F 'file=@CLIP')")
    if upload.size_bytes == 0:
        raise BadInputError(f"{upload.name}: the uploaded file is empty; send the whole file")
    return upload


def _claim_of(form: Any) -> Any:
    """The claim from the form's fields and article, as the CLI's flags make it; the article named as uploaded."""
    from dataclasses import replace

    from ..claims import build_claim

    article = form.files.get("article")
    fields = form.fields

    def named(text: str) -> str:
        """A message or origin in the form's words: its field names, the article as uploaded."""
        for flag, name in CLAIM_FLAGS.items():
            text = text.replace(flag, name)
        return text.replace(str(article.path), article.name) if article is not None else text

    try:
        claim = build_claim(
            date=(fields.get("claim_date") or "").strip() or None,
            place=(fields.get("claim_place") or "").strip() or None,
            text=(fields.get("claim_text") or "").strip() or None,
            article=article.path if article is not None else None,
        )
    except BadInputError as exc:
        raise BadInputError(named(str(exc))) from exc
    if claim is None or article is None:
        return claim

    return replace(claim, origin=tuple(map(named, claim.origin)), warnings=tuple(map(named, claim.warnings)))


def _source_of(fields: dict[str, str]) -> dict[str, Any]:
    """A reference's source facts from the form, the first-seen date checked as ``index add`` checks it."""
    values = {k: (fields.get(k) or "").strip() or None for k in REFERENCE_FIELDS}
    first_seen = values["first_seen"]
    if first_seen is not None:
        try:
            values["first_seen"] = date.fromisoformat(first_seen[:10]).isoformat() + first_seen[10:]
        except ValueError as exc:
            raise BadInputError(f"first_seen {first_seen[:40]!r}: not a date; use YYYY-MM-DD") from exc
    values["notes"] = values.pop("note")
    return values


def _accepted(job: Job) -> dict[str, Any]:
    if job.kind == JobKind.CHECK:
        return {
            "id": job.id,
            "status": str(job.status),
            "url": f"/api/v1/checks/{job.id}",
            "page": f"/checks/{job.id}",
            "report_url": f"/api/v1/checks/{job.id}/report?format={job.fmt}",
        }
    return {"id": job.id, "status": str(job.status), "url": f"/api/v1/references/uploads/{job.id}"}


def _status_dict(desk: Desk, job: Job) -> dict[str, Any]:
    assert desk.pool is not None
    return {
        "id": job.id,
        "status": str(job.status),
        "name": job.name,
        "progress": job.progress(desk.pool.position(job.id)),
        "error": job.error,
        "exit_code": job.exit_code,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "verdict": job.verdict,
        "top_reference": job.top_reference,
    }


async def _job(desk: Desk, job_id: str, kind: JobKind, wait: float) -> Job:
    """The job (after waiting up to `wait` s for it to change, unless finished); NotFoundError when none."""
    assert desk.store is not None
    job = desk.store.get(job_id)
    if job is None or job.kind != kind:
        raise NotFoundError(f"no {kind} with id {job_id[:40]!r} on this desk; see GET /api/v1/checks")
    if wait > 0 and not job.status.finished:
        await desk.store.wait(job.id, wait)
        job = desk.store.get(job_id) or job
    return job


def _not_done(job: Job) -> str:
    if job.status == JobStatus.FAILED:
        return f"check {job.id} failed, so it has no report: {job.error}"
    return f"check {job.id} is {job.status}; ask again when it is done (GET /api/v1/checks/{job.id}?wait=30)"


def _require_delete(desk: Desk, request: Request) -> None:
    if not _may_delete(desk, request):
        raise _Forbidden("this token may not delete; use a token marked admin in the --token-file")


class _Forbidden(BadInputError):
    """The token may not do this (HTTP 403)."""


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _render(path: Path, fmt: str, options: Any) -> str:
    from ..report import Report, render

    if fmt == "json":
        return _read_text(path)
    return render(Report.from_dict(json.loads(_read_text(path))), fmt, options)
