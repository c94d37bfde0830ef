"""Stage service: the jobs (checks and references posted to the desk), where they are kept, and who runs them.

A `Job` is a small frozen record; the `JobStore` keeps each in a JSON file
under the data folder (``jobs/ID.json``, the finished report beside it in
``reports/ID.json``), so a restart loses no finished report. The `Pool`
runs jobs in a fixed number of worker processes (`provenance.service.worker`),
each fed one job at a time by a thread of its own; jobs beyond them wait in
order. A worker that dies or runs past the time limit costs its job only:
the job fails with one line, and the worker is replaced::

    >>> store = JobStore(Path("desk.sqlite.serve"))
    >>> pool = Pool(2, "sqlite:///desk.sqlite", store, timeout_s=900)
    >>> pool.start()                       # returns once both workers are warm
    >>> store.add(job); pool.submit(Work(job.id, JobKind.CHECK, payload, cleanup=lambda: None))

Each finished job is one line of the ``provenance.service`` log (``serve``
sends it to stderr).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import queue
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..errors import EXIT_FAILURE, BadInputError
from ..pipeline import CHECK_STAGES

#: A job id: 16 lower-case hex digits (64 random bits), so an id in a URL never names anything else.
JOB_ID = re.compile(r"[0-9a-f]{16}")
#: Longest wait for a new worker process to load the stages and say it is ready, seconds.
WORKER_START_S = 120.0
#: Longest wait for a worker to finish its job and exit when the server stops, seconds.
WORKER_STOP_S = 10.0
#: Job records kept in memory for listing (the most recent); older ones are read from disk when asked for.
RECENT_KEPT = 5000
#: The stages a reference goes through, as its progress says them.
REFERENCE_STAGES = ("stored",)


_log = logging.getLogger("provenance.service")


class JobKind(StrEnum):
    """What a job does: check a clip, or add a reference to the index."""

    CHECK = "check"
    REFERENCE = "reference"


class JobStatus(StrEnum):
    """Where a job is: waiting for a worker, running, finished with a result, or failed with one line."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_job_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Job:
    """One posted clip or reference: what was sent, where it is, what came of it.

    `stages` are the stages done (`CHECK_STAGES` for a check); `error` is the
    one-line message of a failed job, as the CLI prints it, and `exit_code`
    the CLI's exit code for it. `verdict` and `top_reference` summarise a
    finished check for the desk's list; `result` is a reference job's outcome
    (``{"status": "added"|"present", "reference": {...}}``).
    """

    id: str
    kind: JobKind
    status: JobStatus
    name: str
    size_bytes: int
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    stages: tuple[str, ...] = ()
    error: str | None = None
    exit_code: int | None = None
    claim_text: str | None = None
    verdict: str | None = None
    top_reference: int | None = None
    result: dict[str, Any] | None = None
    kept_upload: bool = False
    #: The report format the check was posted asking for (the default of its report URL).
    fmt: str = "json"

    @property
    def stage_names(self) -> tuple[str, ...]:
        return CHECK_STAGES if self.kind == JobKind.CHECK else REFERENCE_STAGES

    def progress(self, queue_position: int | None = None) -> dict[str, Any]:
        """How far the job is: the stages done of all, the share done, its place in the queue, seconds so far."""
        names = self.stage_names
        done = [s for s in names if s in self.stages]
        fraction = 1.0 if self.status == JobStatus.DONE else round(len(done) / len(names), 3)
        elapsed = None
        if self.started_at is not None:
            end = datetime.fromisoformat(self.finished_at) if self.finished_at else datetime.now(UTC)
            elapsed = round((end - datetime.fromisoformat(self.started_at)).total_seconds(), 3)
        return {
            "stages_done": done,
            "stages": list(names),
            "fraction": fraction,
            "stage": names[len(done)] if self.status == JobStatus.RUNNING and len(done) < len(names) else None,
            "queue_position": queue_position if self.status == JobStatus.QUEUED else None,
            "elapsed_s": elapsed,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": str(self.kind),
            "status": str(self.status),
            "name": self.name,
            "size_bytes": self.size_bytes,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "stages": list(self.stages),
            "error": self.error,
            "exit_code": self.exit_code,
            "claim_text": self.claim_text,
            "verdict": self.verdict,
            "top_reference": self.top_reference,
            "result": self.result,
            "kept_upload": self.kept_upload,
            "fmt": self.fmt,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(
            id=str(data["id"]),
            kind=JobKind(data["kind"]),
            status=JobStatus(data["status"]),
            name=str(data.get("name") or ""),
            size_bytes=int(data.get("size_bytes") or 0),
            created_at=str(data["created_at"]),
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            stages=tuple(str(s) for s in data.get("stages", ())),
            error=data.get("error"),
            exit_code=data.get("exit_code"),
            claim_text=data.get("claim_text"),
            verdict=data.get("verdict"),
            top_reference=data.get("top_reference"),
            result=data.get("result"),
            kept_upload=bool(data.get("kept_upload")),
            fmt=str(data.get("fmt") or "json"),
        )


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@dataclass
class _Waiters:
    """The requests waiting for a job to change (long polls), woken from the pool's threads."""

    events: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = field(default_factory=dict)


class JobStore:
    """Job records and finished reports in a folder, with the recent records in memory.

    Records are written when a job is created, starts and finishes (a stage
    done changes the record in memory only). On start, a job a previous run
    left queued or running is marked failed: its upload is gone with the
    private folder, so it is posted again.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.jobs_dir = folder / "jobs"
        self.reports_dir = folder / "reports"
        try:
            for d in (folder, self.jobs_dir, self.reports_dir):
                d.mkdir(parents=True, exist_ok=True)
                os.chmod(d, 0o700)
        except OSError as exc:
            raise BadInputError(
                f"--data {folder}: cannot be made or written ({exc.strerror}); give another folder"
            ) from exc
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._waiters = _Waiters()
        self._load()

    def _load(self) -> None:
        found: list[Job] = []
        for path in self.jobs_dir.glob("*.json"):
            if not JOB_ID.fullmatch(path.stem):
                continue
            try:
                found.append(Job.from_dict(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a record cut short by a crash; its report, if any, stays on disk
        found.sort(key=lambda j: j.created_at)
        for job in found[-RECENT_KEPT:]:
            if not job.status.finished:
                job = replace(
                    job,
                    status=JobStatus.FAILED,
                    finished_at=_now(),
                    error=f"{job.name}: the server stopped before this {job.kind} finished; post the file again",
                    exit_code=EXIT_FAILURE,
                )
                self._save(job)
            self._jobs[job.id] = job

    def _save(self, job: Job) -> None:
        _write_atomic(self.jobs_dir / f"{job.id}.json", json.dumps(job.to_dict(), ensure_ascii=False))

    def add(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job
            self._save(job)
            while len(self._jobs) > RECENT_KEPT:
                self._jobs.pop(next(iter(self._jobs)))

    def get(self, job_id: str) -> Job | None:
        """The job with this id, from memory or its record on disk; None when there is none."""
        if not JOB_ID.fullmatch(job_id):
            return None
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            return job
        try:
            return Job.from_dict(json.loads((self.jobs_dir / f"{job_id}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def update(self, job_id: str, *, save: bool = True, **changes: Any) -> Job:
        with self._lock:
            job = replace(self._jobs[job_id], **changes)
            self._jobs[job_id] = job
            if save:
                self._save(job)
            waiting = self._waiters.events.pop(job_id, [])
        for loop, event in waiting:
            with contextlib.suppress(RuntimeError):  # that request's loop has closed
                loop.call_soon_threadsafe(event.set)
        return job

    def recent(self, kind: JobKind, limit: int) -> list[Job]:
        """The latest jobs of a kind, newest first."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.kind == kind]
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)[:limit]

    def counts(self) -> dict[str, int]:
        with self._lock:
            statuses = [j.status for j in self._jobs.values()]
        return {str(s): statuses.count(s) for s in JobStatus}

    def report_path(self, job_id: str) -> Path:
        return self.reports_dir / f"{job_id}.json"

    def save_report(self, job_id: str, text: str) -> None:
        _write_atomic(self.report_path(job_id), text)

    def delete(self, job_id: str) -> None:
        """Forget a finished job and its report."""
        with self._lock:
            self._jobs.pop(job_id, None)
        for path in (self.jobs_dir / f"{job_id}.json", self.report_path(job_id)):
            path.unlink(missing_ok=True)

    async def wait(self, job_id: str, timeout: float) -> None:
        """Return when the job changes (a stage done, finished) or after `timeout` seconds."""
        event = asyncio.Event()
        with self._lock:
            self._waiters.events.setdefault(job_id, []).append((asyncio.get_running_loop(), event))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


@dataclass(frozen=True)
class Work:
    """A job handed to the pool: its record's id, what the worker needs, and what to remove afterwards."""

    job_id: str
    kind: JobKind
    payload: dict[str, Any]
    cleanup: Callable[[], None]


class _Gone(Exception):
    """The worker process died or was stopped while it held a job."""


class Pool:
    """`workers` worker processes, each fed by a thread of this process; jobs beyond them wait in order."""

    def __init__(self, workers: int, index_url: str | None, store: JobStore, *, timeout_s: float) -> None:
        self.workers = max(1, int(workers))
        self.index_url = index_url
        self.store = store
        self.timeout_s = timeout_s
        self._queue: queue.Queue[Work | None] = queue.Queue()
        self._order: deque[str] = deque()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._context = multiprocessing.get_context("spawn")
        self._stopping = threading.Event()
        self.ready = threading.Semaphore(0)
        self.described: dict[str, Any] = {}

    def start(self, *, wait: bool = True) -> None:
        """Start the workers; with `wait`, return once each has loaded the stages (or `WORKER_START_S` passed)."""
        for n in range(self.workers):
            thread = threading.Thread(target=self._slot, name=f"provenance-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + WORKER_START_S
        for _ in range(self.workers if wait else 0):
            if not self.ready.acquire(timeout=max(0.0, deadline - time.monotonic())):
                break

    def submit(self, work: Work) -> None:
        with self._lock:
            self._order.append(work.job_id)
        self._queue.put(work)

    def queued(self) -> int:
        with self._lock:
            return len(self._order)

    def position(self, job_id: str) -> int | None:
        """1 for the next job to start; None when the job is not waiting."""
        with self._lock:
            try:
                return self._order.index(job_id) + 1
            except ValueError:
                return None

    def stop(self) -> None:
        """Let each worker finish its job (up to `WORKER_STOP_S`), then stop it; waiting jobs are failed on restart."""
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(WORKER_STOP_S + 5)

    # -- one slot: a thread and its worker process ------------------------------------

    def _slot(self) -> None:
        proc: Any = None
        conn: Any = None
        try:
            proc, conn = self._start_worker()  # warm before the first job
        except _Gone:
            self.ready.release()  # the first job tries again and fails with the reason
        while True:
            work = self._queue.get()
            if work is None or self._stopping.is_set():
                break
            with self._lock:
                with contextlib.suppress(ValueError):
                    self._order.remove(work.job_id)
            try:
                if proc is None or not proc.is_alive():
                    proc, conn = self._start_worker()
                self._run(work, conn, proc)
            except _Gone as gone:
                self._fail(work, str(gone), EXIT_FAILURE)
                self._end(proc, conn, kill=True)
                proc = None
            except Exception as exc:  # noqa: BLE001 - a slot outlives any one job
                self._fail(work, f"{self._name(work)}: the server could not run it ({type(exc).__name__}: {exc})", 1)
                self._end(proc, conn, kill=True)
                proc = None
            finally:
                with contextlib.suppress(OSError):
                    work.cleanup()
        self._end(proc, conn, kill=False)

    def _start_worker(self) -> tuple[Any, Any]:
        from . import worker

        parent, child = self._context.Pipe()
        proc = self._context.Process(target=worker.main, args=(child, self.index_url), daemon=True)
        proc.start()
        child.close()
        if not parent.poll(WORKER_START_S):
            proc.kill()
            raise _Gone(f"a worker process did not start within {WORKER_START_S:g} s; see the server's log")
        try:
            kind, described = parent.recv()
        except (EOFError, OSError) as exc:
            raise _Gone(
                f"a worker process stopped while starting (exit code {proc.exitcode}); see the server's log"
            ) from exc
        self.described = described
        self.ready.release()
        return proc, parent

    def _name(self, work: Work) -> str:
        job = self.store.get(work.job_id)
        return job.name if job is not None else work.job_id

    def _run(self, work: Work, conn: Any, proc: Any) -> None:
        self.store.update(work.job_id, status=JobStatus.RUNNING, started_at=_now())
        conn.send((str(work.kind), work.job_id, work.payload))
        deadline = time.monotonic() + self.timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Gone(
                    f"{self._name(work)}: still running after {self.timeout_s:g} s, so it was stopped "
                    "(--check-timeout); try a shorter clip or raise the limit"
                )
            if not conn.poll(min(left, 1.0)):
                if not proc.is_alive() and not conn.poll(0):
                    raise _Gone(self._died(work, proc))
                continue
            try:
                message = conn.recv()
            except (EOFError, OSError):
                proc.join(1.0)
                raise _Gone(self._died(work, proc)) from None
            if message[0] == "stage":
                job = self.store.get(work.job_id)
                if job is not None:
                    self.store.update(work.job_id, save=False, stages=(*job.stages, str(message[2])))
            elif message[0] == "done":
                self._done(work, message[2])
                return
            elif message[0] == "failed":
                self._fail(work, str(message[2]), int(message[3]))
                return

    def _died(self, work: Work, proc: Any) -> str:
        code = proc.exitcode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        return (
            f"{self._name(work)}: the worker process checking it {how} (a damaged or hostile file, or too little "
            "memory); the server goes on and the file was not checked"
        )

    def _done(self, work: Work, text: str) -> None:
        if work.kind == JobKind.CHECK:
            self.store.save_report(work.job_id, text)
            data = json.loads(text)
            matches = data.get("matches") or []
            top = matches[0]["reference"]["id"] if matches else None
            verdict = (data.get("verdict") or {}).get("code")
            job = self.store.update(
                work.job_id,
                status=JobStatus.DONE,
                finished_at=_now(),
                stages=CHECK_STAGES,
                verdict=verdict,
                top_reference=top,
            )
            _log.info("check %s done: %s, top reference %s (%s)", job.id, verdict, top, _seconds(job))
        else:
            result = json.loads(text)
            job = self.store.update(
                work.job_id, status=JobStatus.DONE, finished_at=_now(), stages=REFERENCE_STAGES, result=result
            )
            ref = (result.get("reference") or {}).get("id")
            _log.info("reference %s done: %s as #%s (%s)", job.id, result.get("status"), ref, _seconds(job))

    def _fail(self, work: Work, message: str, exit_code: int) -> None:
        if self.store.get(work.job_id) is None:
            return
        job = self.store.update(
            work.job_id, status=JobStatus.FAILED, finished_at=_now(), error=message, exit_code=exit_code
        )
        _log.info("%s %s failed (exit code %s, %s): %s", job.kind, job.id, exit_code, _seconds(job), _terminal(message))

    def _end(self, proc: Any, conn: Any, *, kill: bool) -> None:
        """Stop a worker process (asked first, unless `kill`)."""
        if proc is None:
            return
        if not kill and proc.is_alive():
            with contextlib.suppress(OSError, ValueError):
                conn.send(None)
            proc.join(WORKER_STOP_S)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        with contextlib.suppress(OSError):
            conn.close()


def _seconds(job: Job) -> str:
    """How long a finished job ran, for the log."""
    elapsed = job.progress().get("elapsed_s")
    return f"{elapsed:.2f} s" if elapsed is not None else "never started"


def _terminal(text: str) -> str:
    from ..report.text import terminal

    return terminal(text, 1000)
