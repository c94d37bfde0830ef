"""Stage service: what runs in one worker process of the pool, one job at a time.

The process keeps what a check needs between jobs (the index connection,
the libav decoder's own worker, the gazetteer), so a check through the
service skips the start-up every ``provenance check`` pays. It reads jobs
from its pipe and answers with messages (`Stage`, `Done`, `Failed`); the
checks are `provenance.pipeline.check` and `provenance.ingest.add_file`,
the calls the CLI makes::

    parent -> worker   ("check", job_id, {"folder": ..., "name": ..., "claim": {...}})
    worker -> parent   ("stage", job_id, "query") ... ("done", job_id, "<report JSON>")

A clip is checked from inside its job's folder under the name it was
uploaded with, so the report and any error name the file as the user knows
it and never the server's folders.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from ..errors import EXIT_FAILURE, IndexUnavailableError, ProvenanceError


def _one_line(text: str) -> str:
    from ..report.text import terminal

    return terminal(text, 1000)


class _Warm:
    """The open index, reopened when it fails."""

    def __init__(self, index_url: str | None) -> None:
        self.index_url = index_url
        self.index: Any = None

    def open(self) -> Any:
        from ..index import open_index

        if self.index is None:
            self.index = open_index(self.index_url)
        return self.index

    def drop(self) -> None:
        if self.index is not None:
            try:
                self.index.close()
            except Exception:  # noqa: BLE001 - a broken connection is being thrown away anyway
                pass
        self.index = None


def warm_up(warm: _Warm) -> dict[str, Any]:
    """Load what every check needs before the first one: the stages, the decoder's worker, the gazetteer, the index."""
    from .. import pipeline  # noqa: F401 - imports every stage once
    from ..claims import places
    from ..decode import choose_decoder

    described = choose_decoder().describe()
    places.nearest_town(51.5, -0.12)
    try:
        warm.open()
    except ProvenanceError:
        pass  # each job says why, once the index is there
    return {"pid": os.getpid(), "decoder": described}


def run_check(warm: _Warm, job_id: str, payload: dict[str, Any], send: Any) -> str:
    """Check the clip in the job's folder; the report as JSON text."""
    from ..claims import Claim
    from ..pipeline import check
    from ..report import render_json

    claim = Claim.from_dict(payload["claim"]) if payload.get("claim") else None
    os.chdir(payload["folder"])
    try:
        report = check(Path(payload["name"]), warm.open(), claim, on_stage=lambda stage: send(("stage", job_id, stage)))
    finally:
        os.chdir("/")
    return render_json(report)


def run_reference(warm: _Warm, payload: dict[str, Any]) -> str:
    """Add the uploaded file to the index; the outcome (added or present, the reference) as JSON text."""
    from ..index import SourceFacts
    from ..ingest import add_file

    item = add_file(Path(payload["path"]), warm.open(), source=SourceFacts.from_dict(payload.get("source") or {}))
    return json.dumps({"status": item.status, "reference": item.reference.to_dict() if item.reference else None})


def main(conn: Any, index_url: str | None) -> None:
    """The worker's loop: warm up, then one job per message until told to stop (None) or the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when its workers stop
    warm = _Warm(index_url)
    conn.send(("ready", warm_up(warm)))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break
        if message is None:
            break
        kind, job_id, payload = message
        # The server's folders stay out of messages (a check runs inside its job's folder).
        hidden = str(payload["folder"]) + os.sep if payload.get("folder") else "\0"
        try:
            if kind == "check":
                result = run_check(warm, job_id, payload, conn.send)
            else:
                result = run_reference(warm, payload)
            conn.send(("done", job_id, result))
        except ProvenanceError as exc:
            if isinstance(exc, IndexUnavailableError):
                warm.drop()
            conn.send(("failed", job_id, _one_line(str(exc).replace(hidden, "")), exc.exit_code))
        except Exception as exc:  # noqa: BLE001 - one bad file fails its job, never the worker
            message = f"unexpected {type(exc).__name__}: {exc}".replace(hidden, "")
            conn.send(("failed", job_id, _one_line(message), EXIT_FAILURE))
    warm.drop()
