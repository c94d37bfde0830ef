"""Reference ingest: files and folders into the index, one transaction per file.

Each file is hashed (SHA-256 of its bytes) first, so a file already indexed
is skipped without decoding; otherwise it becomes a reference `Query`
(`query.build_query`: probed, sampled at `REF_FPS`, perceptually hashed, the
same path `check` takes; one decode of the picture also gives the features
channel's frames, and the sound is fingerprinted beside it) and is stored
with its source facts. Source facts
come from flags first, then from a yt-dlp ``.info.json`` sidecar next to the file,
each with where it came from (`index.FactOrigin`: given, or the sidecar's name
and field, with the time it was recorded and who added the file)::

    >>> result = add_paths(["samples/refs"], index, jobs=2)
    >>> [(r.path, r.added) for r in result.items]

With ``jobs > 1`` files are hashed by worker processes (one file each at a
time) and the calling process alone writes to the index, so workers need no
database access: several machines can feed one PostgreSQL index the same way.
Each file is stored in one transaction, so an interrupted batch leaves only
whole references behind, and running it again skips what is already there.
"""

from __future__ import annotations

import getpass
import json
import multiprocessing
import os
import queue
import re
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .audio import SoundPrint, SoundStatus
from .decode import Decoder
from .errors import EXIT_FAILURE, BadInputError, ProvenanceError
from .features import Features
from .files import read_bounded
from .hashing import FrameHashes
from .index import Claim, ClaimKeeper, FactOrigin, Index, OriginKind, Reference, SourceFacts
from .index import views as views_mod
from .probe import probe
from .query import REF_DECODING as REF_DECODING
from .query import REF_FPS, REF_SPARE_THREADS, Role, build_query, sha256_of

#: Largest sidecar accepted, bytes (yt-dlp's are typically 50-500 kB).
MAX_SIDECAR_BYTES = 16 << 20
#: File name suffixes taken when walking a folder (case-insensitive).
MEDIA_SUFFIXES = frozenset(
    ".mp4 .m4v .mov .mkv .webm .avi .ts .mts .m2ts .flv .wmv .asf .mpg .mpeg .3gp .3g2 .ogv "
    ".jpg .jpeg .png .apng .gif .webp .bmp .tif .tiff .heic .heif "
    ".m4a .mp3 .aac .wav .ogg .oga .opus .flac".split()
)


@dataclass(frozen=True)
class IngestItem:
    """What happened to one file: added, already present, or failed (with why)."""

    path: str
    status: str  # "added" | "present" | "failed"
    reference: Reference | None = None
    error: str | None = None
    exit_code: int = 0
    #: When present: the other writer that was adding it as this batch met it and stored it meanwhile.
    added_by: str | None = None
    #: What the user should know of an added file: the part not examined, video streams left out.
    warnings: tuple[str, ...] = ()
    #: The file's own length when it is longer than what was examined and stored (`reference.duration_s`).
    file_duration_s: float | None = None

    @property
    def added(self) -> bool:
        return self.status == "added"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "reference": self.reference.to_dict() if self.reference else None,
            "error": self.error,
            "exit_code": self.exit_code,
            "warnings": list(self.warnings),
            "file_duration_s": self.file_duration_s,
        }


@dataclass
class IngestResult:
    """Every file's outcome, in the order files were met."""

    items: list[IngestItem] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.count("added"),
            "present": self.count("present"),
            "failed": self.count("failed"),
            "added_by_others": sum(1 for i in self.items if i.added_by is not None),
            "items": [i.to_dict() for i in self.items],
        }


def _iso_date(upload_date: Any, timestamp: Any) -> str | None:
    if isinstance(timestamp, (int, float)) and 0 < timestamp < 4e9:
        return datetime.fromtimestamp(float(timestamp), UTC).isoformat(timespec="seconds")
    text = str(upload_date or "")
    if len(text) == 8 and text.isdigit():
        try:
            return datetime.strptime(text, "%Y%m%d").date().isoformat()
        except ValueError:
            return None
    return None


def _text(value: Any, limit: int = 2000) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    # A JSON "\\ud800" escape gives a lone surrogate, which no UTF-8 output or database accepts.
    text = re.sub(r"[\ud800-\udfff]", "\ufffd", str(value)).strip()
    return text[:limit] if text else None


def storable_path(path: Path | str) -> str:
    """A path as text any database or output accepts: bytes of a file name that are not UTF-8 shown as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def sidecar_path(path: Path) -> Path | None:
    """The yt-dlp sidecar of a media file (``clip.info.json`` or ``clip.mp4.info.json``)."""
    for candidate in (path.with_suffix(".info.json"), path.with_name(path.name + ".info.json")):
        if candidate.is_file():
            return candidate
    return None


def read_sidecar(path: Path, *, at: str = "", by: str = "") -> SourceFacts:
    """Source facts from a yt-dlp ``.info.json`` file, each with its origin (the sidecar's name and field).

    Uses ``webpage_url``, ``uploader`` (or ``channel``), ``upload_date`` or
    ``timestamp``, ``title`` and ``license``; `at` is when it was read, `by` who read it.

    Raises:
        BadInputError: the sidecar is too large or not a JSON object.
    """
    raw = read_bounded(
        path,
        what="sidecar",
        limit=MAX_SIDECAR_BYTES,
        expected="a yt-dlp .info.json file, or remove it",
        too_large="remove it or pass --source-url etc.",
    )
    try:
        data = json.loads(raw.decode("utf-8", "replace"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadInputError(f"{path}: sidecar is not valid JSON ({exc}); fix or remove it") from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: sidecar is not a JSON object; fix or remove it")
    fields = {
        "source_url": ("webpage_url", "original_url"),
        "publisher": ("uploader", "channel"),
        "title": ("title",),
        "licence": ("license",),
    }
    values: dict[str, str | None] = {}
    origins: list[FactOrigin] = []
    for fact, keys in fields.items():
        key = next((k for k in keys if _text(data.get(k)) is not None), None)
        values[fact] = _text(data.get(key)) if key else None
        if key:
            origins.append(FactOrigin(fact, OriginKind.SIDECAR, f"{path.name}, field {key}", at, by))
    first_seen = _iso_date(data.get("upload_date"), data.get("timestamp"))
    if first_seen is not None:
        key = "timestamp" if "T" in first_seen else "upload_date"
        origins.append(FactOrigin("first_seen", OriginKind.SIDECAR, f"{path.name}, field {key}", at, by))
    return SourceFacts(**values, first_seen=first_seen, origins=tuple(origins))


def _user() -> str:
    """Who is adding files, as the system names them ("" when it cannot say)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return ""


#: What `index add --first-seen mtime` passes: no date, only the request to take each file's
#: modification time where neither a flag nor a sidecar dates it (`with_origins`).
FIRST_SEEN_FROM_MTIME = SourceFacts(
    origins=(FactOrigin("first_seen", OriginKind.FILE_MTIME, "asked for with --first-seen mtime"),)
)


def with_origins(path: Path, given: SourceFacts, *, at: str) -> SourceFacts:
    """A file's source facts with where each came from: `given` (flags or the API) first, then its sidecar.

    A file's modification time becomes its first-seen date only when `given`
    asks for it (an origin of kind ``file_mtime`` for ``first_seen`` without
    a date, as `FIRST_SEEN_FROM_MTIME`) and nothing else dates the file; it is
    recorded as such, so reports label it: it dates a copy on disk, not the
    footage's first publication.

    Raises:
        BadInputError: the sidecar is too large or not a JSON object.
    """
    by = _user()
    asked = given.origin("first_seen")
    mtime_asked = given.first_seen is None and asked is not None and asked.kind == OriginKind.FILE_MTIME
    source = given.with_origin(OriginKind.GIVEN, "given with index add", at=at, by=by)
    sidecar = sidecar_path(path)
    if sidecar is not None:
        source = source.merged_over(read_sidecar(sidecar, at=at, by=by))
    source = replace(source, origins=tuple(o for o in source.origins if getattr(source, o.fact) is not None))
    if mtime_asked and source.first_seen is None:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
        detail = (asked.detail if asked is not None else "") or "asked for when the file was added"
        origin = FactOrigin("first_seen", OriginKind.FILE_MTIME, detail, at, by)
        source = replace(source, first_seen=modified, origins=(*source.origins, origin))
    return source


def iter_media(paths: Iterable[Path | str]) -> Iterator[tuple[Path, str | None]]:
    """Files to ingest from files and folders (recursive, sorted), with a problem if any.

    Yields:
        (path, None) for each media file; (path, reason) for entries that
        cannot be walked (unreadable folders, symlink loops).

    Raises:
        BadInputError: a given path does not exist.
    """
    for given in paths:
        p = Path(given)
        if not p.exists() and not p.is_symlink():
            raise BadInputError(f"{given}: no such file or folder; check the path")
        if p.is_dir():
            yield from _walk(p)
        else:
            yield p, None


def _walk(root: Path) -> Iterator[tuple[Path, str | None]]:
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError as exc:
            yield folder, f"cannot be read ({exc.strerror})"
            continue
        if (st.st_dev, st.st_ino) in seen:
            yield folder, "folder already visited (symlink loop)"
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield folder, f"folder cannot be read ({exc.strerror})"
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError as exc:
                yield path, f"cannot be read ({exc.strerror})"
                continue
            if is_dir:
                subdirs.append(path)
            elif is_file and path.suffix.lower() in MEDIA_SUFFIXES and not path.name.endswith(".info.json"):
                yield path, None
            elif not is_file and not is_dir and entry.is_symlink():
                yield path, "broken or looping symlink"
            elif not is_file and not is_dir and path.suffix.lower() in MEDIA_SUFFIXES:
                yield path, "not a regular file (a named pipe, socket or device); skipped"
        stack.extend(reversed(subdirs))


@dataclass(frozen=True)
class PreparedFile:
    """A file hashed and ready to store (what an ingest worker hands the writer).

    `reference` and `hashes` are None when the file was found already indexed
    by its SHA-256, before any decoding.
    """

    path: str
    sha256: str
    reference: Reference | None = None
    hashes: FrameHashes | None = None
    facts: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    file_duration_s: float | None = None
    #: The local features (the features channel), described from the sampling pass's sparse frames.
    features: Features | None = None
    #: The sound's fingerprint (None for a still image).
    sound: SoundPrint | None = None
    #: Verify's views of a video, encoded (`index.views.encode`: rows of stacked PNG), so a check decodes none.
    views: tuple[views_mod.Row, ...] = ()


#: How an unusable sound track is named in a refusal.
_SOUND_STATES = {"silent": "silent", "undecodable": "not decodable", "steady": "steady (a tone or hum) or too short"}


def prepare_file(
    path: Path,
    *,
    source: SourceFacts = SourceFacts(),
    is_indexed: Callable[[str], bool] | None = None,
    decoder: Decoder | None = None,
    threads: int = 1,
) -> PreparedFile:
    """Hash one file for the index without touching the index.

    Args:
        path: the file.
        source: source facts from flags (they win over a sidecar's).
        is_indexed: tells whether a SHA-256 is already indexed; such a file is not decoded.
        decoder: samples the file (`provenance.decode.choose_decoder`'s when None).
        threads: the picture's decoder threads (`spare_threads`).

    Raises:
        ProvenanceError: the file cannot be read, probed or decoded.
    """
    try:
        sha = sha256_of(path)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    if is_indexed is not None and is_indexed(sha):
        return PreparedFile(str(path), sha)
    facts = probe(path)
    added_at = datetime.now(UTC).isoformat(timespec="seconds")
    source = with_origins(path, source, at=added_at)
    query = build_query(path, role=Role.REFERENCE, decoder=decoder, sha256=sha, facts=facts, threads=threads)
    hashes = query.hashes
    sound = query.sound
    if len(hashes) == 0 and (sound is None or sound.status != SoundStatus.FINGERPRINTED):
        if facts.kind == "audio":
            raise BadInputError(
                f"{path}: its sound is {_SOUND_STATES.get(str(sound.status) if sound is not None else '', 'unusable')} and it "
                "has no picture: nothing to match it by; nothing added"
            )
        raise BadInputError(
            f"{path}: none of its {len(query.frames)} sampled frames has enough detail to index (black, blank or "
            "flat footage could never be matched); nothing added"
        )
    described = query.features
    assert described is not None, "a reference's query carries its features"
    disp_w, disp_h = facts.display_size
    # The reference records the seconds whose hashes are stored, never more (a file longer than what
    # is examined keeps its own length in its facts, and the item says so).
    examined = query.frames.examined_s
    stored_s = facts.duration_s if examined is None else min(facts.duration_s, examined)
    longer = round(facts.duration_s, 3) if facts.duration_s > stored_s + 1e-3 else None
    ref = Reference(
        id=0,
        sha256=sha,
        # Absolute, so that a check run from any other folder finds the file (its reference frames,
        # verify's moving cells); `abspath` keeps a symlink as given rather than resolving it.
        path=storable_path(os.path.abspath(path)),
        kind=facts.kind,
        duration_s=round(stored_s, 3),
        width=disp_w,
        height=disp_h,
        fps=facts.fps,
        size_bytes=facts.size_bytes,
        sample_fps=REF_FPS if facts.kind == "video" else 0.0,
        frames=len(hashes),
        added_at=added_at,
        source=source,
        camera=query.camera,
    )
    return PreparedFile(
        str(path),
        sha,
        ref,
        hashes,
        facts.to_dict(),
        warnings=query.warnings,
        file_duration_s=longer,
        features=described,
        sound=sound,
        views=tuple(views_mod.encode(query.views)) if query.views is not None else (),
    )


def store_prepared(prepared: PreparedFile, index: Index, *, source: SourceFacts = SourceFacts()) -> IngestItem:
    """Write a prepared file to the index (one transaction); idempotent by SHA-256."""
    if prepared.reference is None or prepared.hashes is None:
        existing = index.find_sha256(prepared.sha256)
        if existing is not None:
            return IngestItem(prepared.path, "present", existing)
        # Removed since the worker looked: hash it here after all.
        prepared = prepare_file(Path(prepared.path), source=source)
    assert prepared.reference is not None and prepared.hashes is not None
    stored, added = index.add(
        prepared.reference,
        prepared.hashes,
        facts=prepared.facts,
        features=prepared.features,
        sound=prepared.sound,
        views=prepared.views,
    )
    if not added:
        return IngestItem(prepared.path, "present", stored)
    return IngestItem(
        prepared.path, "added", stored, warnings=prepared.warnings, file_duration_s=prepared.file_duration_s
    )


def add_file(path: Path, index: Index, *, source: SourceFacts = SourceFacts()) -> IngestItem:
    """Ingest one file (see module docstring). Errors are raised, not caught.

    Raises:
        ProvenanceError: the file cannot be read, probed or decoded.
    """
    prepared = prepare_file(path, source=source, is_indexed=lambda sha: index.find_sha256(sha) is not None)
    return store_prepared(prepared, index, source=source)


# -- worker processes ------------------------------------------------------------

#: Seconds between looks at files another writer is adding, while this batch has a free place:
#: each look costs a few statements; a file stored meanwhile is seen at most this late.
#: Chosen, not measured: a short clip takes a worker about 0.3 s (docs/scale.md).
CLAIM_POLL_S = 0.5

_worker_source = SourceFacts()


def _init_worker(source: SourceFacts) -> None:
    global _worker_source
    # Ctrl-C reaches the whole process group; the parent alone decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The pool stops its workers with SIGTERM (on SIGTERM or Ctrl-C to the command): unwind, so a
    # running ffmpeg is killed by `tools.run`; the libav worker watches its parent and exits too.
    signal.signal(signal.SIGTERM, _stop_worker)
    _worker_source = source


_worker_busy = False


def _stop_worker(signum: int, frame: Any) -> None:
    # Only a file being prepared has anything to unwind. An idle worker may be exiting already (the
    # pool's terminate sends SIGTERM to a worker its stop sentinel is ending): raised there, inside
    # the interpreter's shutdown, the exit would print "Exception ignored" with a traceback.
    if not _worker_busy:
        os._exit(128 + signum)
    raise SystemExit(128 + signum)


#: What preparing one file gave: the file ready to store, or (message, exit code) of its failure.
Outcome = PreparedFile | tuple[str, int]


def _work(job: tuple[int, str]) -> tuple[int, Outcome]:
    global _worker_busy
    n, path = job
    _worker_busy = True
    try:
        return n, prepare_file(Path(path), source=_worker_source)
    except ProvenanceError as exc:
        return n, (str(exc), exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch; reported at the end
        return n, (f"{path}: unexpected {type(exc).__name__}: {exc}", EXIT_FAILURE)
    finally:
        _worker_busy = False


def default_jobs() -> int:
    """Worker processes used when none are asked for: every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def spare_threads(workers: int) -> int:
    """Decoder threads for each of `workers` files prepared at once: `REF_SPARE_THREADS` when that
    leaves no core idle that would otherwise be (one worker on two cores or more), else one."""
    return REF_SPARE_THREADS if workers == 1 and default_jobs() >= REF_SPARE_THREADS else 1


class _Here:
    """Prepares files in this process, one at a time (``jobs=1``); unexpected errors propagate."""

    capacity = 1

    def __init__(self, source: SourceFacts, threads: int = 1) -> None:
        self.source = source
        self.threads = threads
        self.jobs: deque[tuple[int, str]] = deque()

    def submit(self, n: int, path: str) -> None:
        self.jobs.append((n, path))

    def next(self, timeout: float | None) -> tuple[int, Outcome] | None:
        n, path = self.jobs.popleft()
        try:
            return n, prepare_file(Path(path), source=self.source, threads=self.threads)
        except ProvenanceError as exc:
            return n, (str(exc), exc.exit_code)


class _Workers:
    """Prepares files in a pool of worker processes, one file each at a time."""

    def __init__(self, pool: Any, workers: int) -> None:
        self.pool = pool
        self.capacity = workers
        self.done: queue.Queue[tuple[int, Outcome]] = queue.Queue()

    def submit(self, n: int, path: str) -> None:
        def lost(exc: BaseException) -> None:
            self.done.put((n, (f"{path}: unexpected {type(exc).__name__}: {exc}", EXIT_FAILURE)))

        self.pool.apply_async(_work, ((n, path),), callback=self.done.put, error_callback=lost)

    def next(self, timeout: float | None) -> tuple[int, Outcome] | None:
        try:
            return self.done.get(timeout=timeout)
        except queue.Empty:
            return None


class _Batch:
    """Files through claim, preparation and storage, with at most `capacity` in hand at once.

    A file is claimed in the index by its SHA-256 before it is prepared, and
    its claim released once it is stored or failed. A file another writer
    holds waits aside; it is looked at again whenever a place is free (every
    `CLAIM_POLL_S` while others are in hand): present once that writer
    stored it, prepared here if its claim was given up or went stale.
    """

    def __init__(
        self, index: Index, claims: ClaimKeeper, source: SourceFacts, finish: Callable[[int, IngestItem], None]
    ) -> None:
        self.index, self.claims, self.source, self.finish = index, claims, source, finish
        self.in_hand: dict[int, tuple[str, str | None]] = {}  # file -> (path, SHA-256 claimed; None: unreadable)
        self.aside: dict[int, tuple[str, str, str | None]] = {}  # file -> (path, SHA-256, other writer)

    def run(self, todo: Iterable[tuple[int, str]], executor: _Here | _Workers) -> None:
        pending = deque(todo)
        looked = 0.0
        while pending or self.in_hand or self.aside:
            while pending and len(self.in_hand) < executor.capacity:
                self._start(*pending.popleft(), executor)
            if self.aside and len(self.in_hand) < executor.capacity:
                if not self.in_hand or time.monotonic() - looked >= CLAIM_POLL_S:
                    looked = time.monotonic()
                    self._look(executor)
                if not self.in_hand and self.aside:
                    time.sleep(CLAIM_POLL_S)
                    continue
            if not self.in_hand:
                continue
            got = executor.next(CLAIM_POLL_S if self.aside else None)
            if got is None:
                continue
            n, outcome = got
            path, sha = self.in_hand.pop(n)
            # The next file first, so that a worker does not wait for this one's write.
            while pending and len(self.in_hand) < executor.capacity:
                self._start(*pending.popleft(), executor)
            self._store(n, path, outcome, sha)

    def _claim(self, sha: str) -> Reference | Claim | None:
        """The stored reference, another writer's claim, or None: claimed here."""
        existing = self.index.find_sha256(sha)
        if existing is not None:
            return existing
        holder = self.claims.take(sha)
        if holder is not None:
            return holder
        existing = self.index.find_sha256(sha)  # stored between the look and the claim
        if existing is not None:
            self.claims.release(sha)
        return existing

    def _start(self, n: int, path: str, executor: _Here | _Workers) -> None:
        try:
            sha = sha256_of(Path(path))
        except (OSError, ProvenanceError):
            self.in_hand[n] = (path, None)  # preparing it says why it cannot be read
            executor.submit(n, path)
            return
        state = self._claim(sha)
        if isinstance(state, Reference):
            self.finish(n, IngestItem(path, "present", state))
        elif isinstance(state, Claim):
            other = None if state.owner == self.claims.owner.token else state.describe()
            self.aside[n] = (path, sha, other)
        else:
            self.in_hand[n] = (path, sha)
            executor.submit(n, path)

    def _look(self, executor: _Here | _Workers) -> None:
        for n, (path, sha, other) in list(self.aside.items()):
            if len(self.in_hand) >= executor.capacity:
                return
            state = self._claim(sha)
            if isinstance(state, Claim):
                continue
            del self.aside[n]
            if isinstance(state, Reference):
                self.finish(n, IngestItem(path, "present", state, added_by=other))
            else:
                self.in_hand[n] = (path, sha)
                executor.submit(n, path)

    def _store(self, n: int, path: str, outcome: Outcome, sha: str | None) -> None:
        try:
            if isinstance(outcome, PreparedFile):
                try:
                    item = store_prepared(outcome, self.index, source=self.source)
                except ProvenanceError as exc:
                    item = IngestItem(outcome.path, "failed", error=str(exc), exit_code=exc.exit_code)
            else:
                item = IngestItem(path, "failed", error=outcome[0], exit_code=outcome[1])
        finally:
            if sha is not None:
                self.claims.release(sha)
        self.finish(n, item)


def add_paths(
    paths: Iterable[Path | str],
    index: Index,
    *,
    source: SourceFacts = SourceFacts(),
    on_item: Callable[[IngestItem], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    jobs: int = 1,
) -> IngestResult:
    """Ingest files and folders; a failing file is recorded and the batch goes on.

    Each file is claimed in the index by its SHA-256 before it is decoded, so
    writers running at once (other processes, other machines) never decode
    one file twice: a file another writer is adding waits until that writer
    has stored it (then it is reported present) or given it up.

    Args:
        paths: files and folders (walked recursively for media files).
        index: the index to add to.
        source: source facts from flags; they win over sidecars.
        on_item: called after each file (in the order files finish), for progress.
        on_start: called once the folders are walked, with (files, total bytes).
        jobs: worker processes that hash files; 1 hashes in this process.

    Returns:
        Every file's outcome, in the order files were met.

    Raises:
        BadInputError: a given path does not exist, or folders held no media.
        IndexUnavailableError: the index cannot be read or written.
    """
    given = list(paths)
    met = list(iter_media(given))
    if not met:
        names = ", ".join(str(g) for g in given)
        raise BadInputError(f"{names}: no video or image files found; give media files or folders that hold them")
    items: list[IngestItem | None] = [None] * len(met)
    todo: list[tuple[int, str]] = []
    for n, (path, problem) in enumerate(met):
        if problem is not None:
            items[n] = IngestItem(str(path), "failed", error=f"{path}: {problem}", exit_code=BadInputError.exit_code)
        else:
            todo.append((n, str(path)))
    if on_start is not None:
        on_start(len(met), sum(_size(Path(p)) for _, p in todo))
    for item in items:
        if item is not None and on_item is not None:
            on_item(item)

    def finish(n: int, item: IngestItem) -> None:
        items[n] = item
        if on_item is not None:
            on_item(item)

    workers = max(1, min(int(jobs), len(todo)))
    with ClaimKeeper(index) as claims:
        batch = _Batch(index, claims, source, finish)
        if workers == 1:
            batch.run(todo, _Here(source, spare_threads(workers)))
        else:
            # spawn: workers start clean, without copies of this process's database connections.
            context = multiprocessing.get_context("spawn")
            with context.Pool(workers, initializer=_init_worker, initargs=(source,), maxtasksperchild=50) as pool:
                batch.run(todo, _Workers(pool, workers))
                # Let the workers exit on their own (leaving the block would terminate them):
                # each then stops its libav decoder worker and waits for it.
                pool.close()
                pool.join()
    return IngestResult([i for i in items if i is not None])


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
