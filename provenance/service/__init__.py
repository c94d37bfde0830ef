"""Stage service: the desk's web page and HTTP API over the same library (``provenance serve``).

A verification desk posts clips and references to one server; each check
runs `provenance.pipeline.check` (the CLI's call) in a bounded pool of warm
worker processes, and the finished report is rendered by `provenance.report`
in any of its formats::

    >>> config = ServiceConfig(index_url="sqlite:///desk.sqlite", port=8080)
    >>> serve(config)        # blocks; Ctrl-C or SIGTERM stops it

The rooms: `jobs.py` (the job records, kept in a folder beside the index, and
the worker pool), `worker.py` (what runs in a worker process), `uploads.py`
(multipart bodies streamed to disk under a size cap), `auth.py` (tokens,
the page's session cookie, cross-site request refusal), `page.py` (the desk
page's HTML, every string escaped) and `app.py` (the FastAPI routes).
FastAPI and uvicorn are the optional extra ``provenance[serve]``; docs/service.md
says how a desk runs it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadInputError, ToolMissingError

#: Default upload cap, MiB: a 5-minute 1080p clip at 5 Mb/s is ~190 MB; `--max-upload-mb` changes it (1-100000).
DEFAULT_MAX_UPLOAD_MB = 200
#: Default longest time one check or reference may run in its worker, seconds (`--check-timeout`);
#: a 10-minute clip checks in about a minute on one core (docs/benchmark.md).
DEFAULT_CHECK_TIMEOUT_S = 900.0
#: Default most jobs waiting for a worker (`--max-queue`); more get 503 with Retry-After.
DEFAULT_MAX_QUEUE = 200
#: Names that mean this machine, accepted as the Host of a request to a server with no token.
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


@dataclass(frozen=True)
class ServiceConfig:
    """How a `provenance serve` runs: where the index and its files are, who may use it, its limits.

    `data_dir` holds the finished reports (``checks/``) and the references
    uploaded through the API (``references/``); None puts it beside a SQLite
    index (``INDEX.serve/``), else under ``~/.local/share/provenance/serve``.
    `uploads_dir` keeps uploaded clips there; None stores each in a private
    temporary folder removed after its check.
    """

    index_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    token_file: Path | None = None
    workers: int = 0
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    uploads_dir: Path | None = None
    data_dir: Path | None = None
    check_timeout_s: float = DEFAULT_CHECK_TIMEOUT_S
    max_queue: int = DEFAULT_MAX_QUEUE
    allowed_hosts: tuple[str, ...] = ()
    #: Forwarded headers (X-Forwarded-For, -Proto) trusted from these proxy addresses.
    forwarded_allow: tuple[str, ...] = field(default=("127.0.0.1", "::1"))

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb) << 20


def is_loopback(host: str) -> bool:
    """Whether binding to `host` listens on this machine only (127.0.0.0/8, ::1, a name resolving only to them)."""
    name = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    if name.lower() in LOOPBACK_NAMES:
        return True
    try:
        found = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(str(a).split("%", 1)[0]).is_loopback for a in found)


def check_config(config: ServiceConfig) -> None:
    """Refuse a configuration before anything starts (exit 2, one line).

    Raises:
        BadInputError: a shared address without a token, a bad token file, limits out of range.
        ToolMissingError: FastAPI or uvicorn are not installed.
    """
    from .auth import read_tokens

    if config.token_file is None and not is_loopback(config.host):
        raise BadInputError(
            f"--host {config.host} is reachable from other machines; give --token-file FILE (one token per line) "
            "or serve on 127.0.0.1"
        )
    if config.token_file is not None:
        read_tokens(config.token_file)
    if not 1 <= config.max_upload_mb <= 100_000:
        raise BadInputError(f"--max-upload-mb {config.max_upload_mb}: give 1 to 100000 (MiB)")
    if not 1 <= config.check_timeout_s <= 86_400:
        raise BadInputError(f"--check-timeout {config.check_timeout_s:g}: give 1 to 86400 seconds")
    if config.max_queue < 1:
        raise BadInputError(f"--max-queue {config.max_queue}: give at least 1")
    for flag, folder in (("--uploads", config.uploads_dir), ("--data", config.data_dir)):
        if folder is not None and folder.exists() and not folder.is_dir():
            raise BadInputError(
                f"{flag} {folder}: a file is there, not a folder; give a folder (it is made when missing)"
            )
    _framework()


def _framework() -> Any:
    """uvicorn, or the install hint for the optional extra."""
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise ToolMissingError(
            f"provenance serve needs {exc.name}; install it with pip install 'provenance[serve]'"
        ) from exc
    return uvicorn


def default_workers() -> int:
    """Worker processes when none are asked for: every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def serve(config: ServiceConfig, *, ready: Callable[[str], None] | None = None) -> None:
    """Run the service until interrupted (Ctrl-C, SIGTERM): start the workers, listen, stop them again.

    Args:
        config: the service's configuration.
        ready: called with the desk's URL once the workers have started and it listens.

    Raises:
        BadInputError: as `check_config`; the port is taken.
        IndexUnavailableError: the index cannot be opened.
        ToolMissingError: FastAPI or uvicorn are missing.
    """
    check_config(config)
    uvicorn = _framework()
    from .app import Desk, create_app

    _log_to_stderr()
    desk = Desk(config)
    app = create_app(desk)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host.strip("[]"),
            port=config.port,
            log_level="warning",
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=list(config.forwarded_allow),
            limit_concurrency=LIMIT_CONCURRENCY,
            timeout_keep_alive=KEEP_ALIVE_S,
            timeout_graceful_shutdown=GRACEFUL_S,
            server_header=False,
            date_header=True,
        )
    )
    try:
        sock = _bind(config.host.strip("[]"), config.port)
    except OSError as exc:
        raise BadInputError(
            f"cannot listen on {config.host}:{config.port} ({exc.strerror}); choose another --port or --host"
        ) from exc
    with desk:
        if ready is not None:
            bound = sock.getsockname()
            name = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
            ready(f"http://{name}:{bound[1]}/")
        server.run(sockets=[sock])


#: Connections served at once; beyond it uvicorn answers 503 (uploads in flight hold one each).
LIMIT_CONCURRENCY = 256
#: Seconds an idle keep-alive connection stays open.
KEEP_ALIVE_S = 5
#: Seconds requests in flight (long polls, uploads) get to finish once the server is told to stop.
GRACEFUL_S = 5


def _log_to_stderr() -> None:
    """One line on stderr per finished job (``provenance.service`` at INFO), unless the caller set up logging."""
    import logging

    log = logging.getLogger("provenance.service")
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, made here so that a taken port is a one-line error before the workers start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


__all__ = ["ServiceConfig", "check_config", "default_workers", "is_loopback", "serve"]
