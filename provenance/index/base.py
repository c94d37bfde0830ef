"""Stage 5, index: the records and the interface every backend implements.

A backend stores references (one row per indexed file, with its source facts)
and their frame hashes, and answers candidate queries without scanning every
stored hash, through multi-index hashing (Norouzi, Punjani and Fleet, "Fast
Search in Hamming Space with Multi-Index Hashing", CVPR 2012): each 64-bit
hash is split into `CHUNKS` 16-bit chunks, each chunk is indexed with a plain
B-tree, and a query looks up its chunks exactly. Any stored hash within
Hamming distance ``CHUNKS - 1`` of the query shares at least one chunk with
it (pigeonhole), and farther near-duplicates usually still do; candidates are
then verified with a popcount. The matcher never relies on one frame: a clip
match needs many frames, so a lookup that misses some far frames costs little.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np

from ..audio import SoundPrint
from ..camera import CameraMotion
from ..decode import Views
from ..errors import NotFoundError
from ..features import Features, FrameFeatures
from ..hashing import FrameHashes, hamming
from .claims import Claim, ClaimOwner

#: Chunks a 64-bit hash is split into for lookup: any stored hash within CHUNKS - 1 bits shares
#: a whole chunk with the query (pigeonhole; Norouzi et al. 2012). 4 x 16 bits: each chunk
#: value selects ~N/65,536 rows (docs/scale.md); more chunks would mean more, wider probes.
CHUNKS = 4
#: Bits per chunk: 64 / `CHUNKS`.
CHUNK_BITS = 16
#: Schema version written into every index; an index with a newer one is refused.
#: 2: SQLite chunk indexes cover a packed record of each stored frame (`rec`).
SCHEMA_VERSION = 2


class OriginKind(StrEnum):
    """Where a source fact of a reference came from (docs/report.md, "Where source facts came from")."""

    #: Given when the file was added: an ``index add`` flag or the Python API's `SourceFacts`.
    GIVEN = "given"
    #: Read from a yt-dlp ``.info.json`` sidecar next to the file (`detail` names it and its field).
    SIDECAR = "sidecar"
    #: The file's modification time, taken as the first-seen date only because the user asked for it:
    #: it dates the copy on disk, not the footage's first publication.
    FILE_MTIME = "file_mtime"


#: The source facts whose origin is recorded (`SourceFacts.origins`).
ORIGIN_FACTS = ("source_url", "publisher", "title", "first_seen", "licence")


@dataclass(frozen=True)
class FactOrigin:
    """Where one source fact came from: `kind`, a `detail` (a sidecar's name and field, a flag), when and by whom."""

    fact: str
    kind: str
    detail: str = ""
    recorded_at: str = ""
    recorded_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FactOrigin:
        return cls(**{k: str(data.get(k) or "") for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SourceFacts:
    """Where a reference came from, as the user or a sidecar says: all optional.

    `origins` says, for each fact given, where it came from (`FactOrigin`);
    references indexed before origins were recorded have none.
    """

    source_url: str | None = None
    publisher: str | None = None
    title: str | None = None
    first_seen: str | None = None
    licence: str | None = None
    notes: str | None = None
    origins: tuple[FactOrigin, ...] = ()

    def origin(self, fact: str) -> FactOrigin | None:
        """Where `fact` (a field name) came from, or None when it is not recorded."""
        return next((o for o in self.origins if o.fact == fact), None)

    def merged_over(self, other: SourceFacts) -> SourceFacts:
        """These facts, with gaps filled from `other` (flags win over sidecars); each keeps its own origin."""
        values: dict[str, Any] = {}
        origins: list[FactOrigin] = []
        for name in self.__dataclass_fields__:
            if name == "origins":
                continue
            mine = getattr(self, name)
            source = self if mine is not None else other
            values[name] = getattr(source, name)
            origin = source.origin(name)
            if values[name] is not None and origin is not None:
                origins.append(origin)
        return SourceFacts(**values, origins=tuple(origins))

    def with_origin(self, kind: str, detail: str = "", *, at: str = "", by: str = "") -> SourceFacts:
        """These facts, each given fact without a recorded origin marked as coming from `kind`."""
        added = [
            FactOrigin(name, str(kind), detail, at, by)
            for name in ORIGIN_FACTS
            if getattr(self, name) is not None and self.origin(name) is None
        ]
        return replace(self, origins=self.origins + tuple(added)) if added else self

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "origins"}
        data["origins"] = [o.to_dict() for o in self.origins]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceFacts:
        values = {k: data.get(k) for k in cls.__dataclass_fields__ if k != "origins"}
        origins = tuple(FactOrigin.from_dict(o) for o in data.get("origins") or () if isinstance(o, dict))
        return cls(**values, origins=origins)


@dataclass(frozen=True)
class Reference:
    """One indexed file: its identity, media summary and source facts."""

    id: int
    sha256: str
    path: str
    kind: str
    duration_s: float
    width: int
    height: int
    fps: float | None
    size_bytes: int
    sample_fps: float
    frames: int
    added_at: str
    source: SourceFacts = field(default_factory=SourceFacts)
    #: Whether it is a still picture under camera motion (`camera.describe_motion`, at ``index add``);
    #: None for a reference indexed before the finding was made.
    camera: CameraMotion | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("source")
        data.update(self.source.to_dict())
        data["camera"] = self.camera.to_dict() if self.camera is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        skip = ("source", "camera")
        values: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__ if k not in skip}
        return cls(**values, source=SourceFacts.from_dict(data), camera=camera_from_json(data.get("camera")))

    def with_id(self, ref_id: int) -> Reference:
        return replace(self, id=ref_id)


#: The refs columns every backend selects, in the order `reference_from_row` reads them.
REF_COLUMNS = (
    "id, sha256, path, kind, duration_s, width, height, fps, size_bytes, sample_fps, frames, added_at, "
    "source_url, publisher, title, first_seen, licence, notes, origins, camera"
)


def reference_from_row(row: tuple[Any, ...]) -> Reference:
    """A `Reference` from a row of `REF_COLUMNS`."""
    (
        ref_id,
        sha,
        path,
        kind,
        dur,
        w,
        h,
        fps,
        size,
        sfps,
        frames,
        added,
        url,
        pub,
        title,
        first,
        lic,
        notes,
        orig,
        cam,
    ) = row
    return Reference(
        id=int(ref_id),
        sha256=sha,
        path=path,
        kind=kind,
        duration_s=dur,
        width=w,
        height=h,
        fps=fps,
        size_bytes=size,
        sample_fps=sfps,
        frames=frames,
        added_at=added,
        source=SourceFacts(url, pub, title, first, lic, notes, origins_from_json(orig)),
        camera=camera_from_json(cam),
    )


def camera_from_json(value: Any) -> CameraMotion | None:
    """The `camera` column (JSON text) or an export's object as a record; None when absent or unreadable."""
    if not value:
        return None
    try:
        data = json.loads(str(value)) if isinstance(value, str) else value
        return CameraMotion.from_dict(data) if isinstance(data, dict) else None
    except (ValueError, TypeError, KeyError, RecursionError):
        return None


def camera_to_json(ref: Reference) -> str | None:
    """A reference's camera finding as the `camera` column stores it (None when not made)."""
    return json.dumps(ref.camera.to_dict()) if ref.camera is not None else None


def origins_from_json(text: Any) -> tuple[FactOrigin, ...]:
    """The `origins` column (JSON list) as records; () when absent or unreadable (an older index)."""
    if not text:
        return ()
    try:
        data = json.loads(str(text))
    except (ValueError, RecursionError):
        return ()
    return tuple(FactOrigin.from_dict(o) for o in data if isinstance(o, dict)) if isinstance(data, list) else ()


def origins_to_json(source: SourceFacts) -> str | None:
    """A reference's fact origins as the `origins` column stores them (None for none)."""
    return json.dumps([o.to_dict() for o in source.origins]) if source.origins else None


@dataclass(frozen=True)
class Candidates:
    """Frame-level hits of a candidate lookup, one row each (parallel arrays).

    `query_row` indexes the query's `FrameHashes`; `ref_t` is the reference
    frame's time in seconds; `distance` the Hamming distance.
    """

    query_row: np.ndarray
    ref_id: np.ndarray
    ref_t: np.ndarray
    ref_variant: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.query_row)


def chunks_of(hashes: np.ndarray) -> np.ndarray:
    """(N, CHUNKS) chunk values of uint64 hashes, most significant chunk first."""
    h = np.asarray(hashes, dtype=np.uint64)
    shifts = np.array([CHUNK_BITS * (CHUNKS - 1 - c) for c in range(CHUNKS)], dtype=np.uint64)
    return ((h[:, None] >> shifts[None, :]) & np.uint64((1 << CHUNK_BITS) - 1)).astype(np.int64)


def to_signed(hashes: np.ndarray) -> np.ndarray:
    """uint64 hashes as int64 (SQLite and PostgreSQL integers are signed)."""
    return np.asarray(hashes, dtype=np.uint64).view(np.int64)


def to_unsigned(values: Any) -> np.ndarray:
    """int64 values read back from a database as uint64 hashes."""
    return np.asarray(values, dtype=np.int64).view(np.uint64)


def spread_to_rows(unique_rows: np.ndarray, inverse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hits on deduplicated query hashes, spread back to every query row that carried them.

    A backend looks each distinct query hash up once (a still shot sampled
    several times gives identical hashes); `inverse` maps query rows to
    distinct hashes (``np.unique(..., return_inverse=True)``).

    Args:
        unique_rows: for each hit, the index of its distinct query hash.
        inverse: for each query row, the index of its distinct hash.

    Returns:
        (hit index, query row) pairs: hit `i` repeated once per query row
        that holds its hash.
    """
    inverse = np.asarray(inverse, dtype=np.int64).ravel()
    unique_rows = np.asarray(unique_rows, dtype=np.int64)
    counts = np.bincount(inverse, minlength=int(unique_rows.max(initial=-1)) + 1)
    order = np.argsort(inverse, kind="stable")
    starts = np.cumsum(counts) - counts
    per_hit = counts[unique_rows]
    hit = np.repeat(np.arange(len(unique_rows)), per_hit)
    within = np.arange(len(hit)) - np.repeat(np.cumsum(per_hit) - per_hit, per_hit)
    return hit, order[starts[unique_rows[hit]] + within]


def verify(
    query: np.ndarray, rows_q: np.ndarray, rows_h: np.ndarray, max_distance: int
) -> tuple[np.ndarray, np.ndarray]:
    """Keep rows whose stored hash is within `max_distance` of their query hash.

    Returns:
        (mask, distances) for the rows.
    """
    dist = hamming(query[rows_q], rows_h)
    return dist <= max_distance, dist


@dataclass(frozen=True)
class IntegrityProblem:
    """One way an index is damaged: a stable code, what was found and what to do about it."""

    code: str
    message: str
    action: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class IntegrityReport:
    """What `Index.integrity` checked and every problem it found (none: the index is whole)."""

    backend: str
    url: str
    schema_version: int | None
    references: int
    hashes: int
    checks: tuple[str, ...]
    problems: tuple[IntegrityProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["checks"] = list(self.checks)
        data["problems"] = [p.to_dict() for p in self.problems]
        data["ok"] = self.ok
        return data


def count_problem(ref_id: int, path: str, recorded: int, stored: int) -> IntegrityProblem:
    """The problem of a reference whose stored hashes do not add up to its recorded count."""
    return IntegrityProblem(
        "hash_count",
        f"reference #{ref_id} ({path}) records {recorded} hashes but {stored} are stored",
        f"remove it with 'provenance index remove {ref_id}' and add its file again",
    )


def schema_problem(found: Any) -> IntegrityProblem:
    """The problem of an index whose schema version is not the one this code writes."""
    return IntegrityProblem(
        "schema_version",
        f"schema version {found!r}, this provenance reads and writes {SCHEMA_VERSION}",
        "open it once with this version of provenance to upgrade it, or upgrade provenance if it is newer",
    )


class Index(abc.ABC):
    """A reference index: `NAME` is its backend, `url` what messages and reports show of where it is."""

    NAME: str
    url: str

    @abc.abstractmethod
    def find_sha256(self, sha256: str) -> Reference | None:
        """The reference with this content hash, if indexed."""

    @abc.abstractmethod
    def add(
        self,
        ref: Reference,
        hashes: FrameHashes,
        *,
        facts: dict[str, Any] | None = None,
        features: Features | None = None,
        sound: SoundPrint | None = None,
        views: Sequence[tuple[int, int, bytes, bytes]] = (),
    ) -> tuple[Reference, bool]:
        """Store a reference, its hashes, its media facts, its sound's fingerprint, its local features
        and verify's views of it (`index.views.encode`; each when given) in one transaction.

        Returns:
            (the stored reference with its id, True) or, when a file with the
            same SHA-256 is already indexed, (that reference, False).
        """

    @abc.abstractmethod
    def get(self, ref_id: int) -> Reference:
        """One reference by id. Raises NotFoundError."""

    def get_many(self, ref_ids: Iterable[int]) -> dict[int, Reference]:
        """References by id, in one round trip where the backend allows; ids not found are left out."""
        out: dict[int, Reference] = {}
        for ref_id in ref_ids:
            try:
                out[int(ref_id)] = self.get(int(ref_id))
            except NotFoundError:
                continue
        return out

    @abc.abstractmethod
    def facts(self, ref_id: int) -> dict[str, Any] | None:
        """The media facts stored with a reference at ingest, if any."""

    @abc.abstractmethod
    def references(self) -> list[Reference]:
        """All references, oldest first."""

    @abc.abstractmethod
    def remove(self, ref_id: int) -> Reference:
        """Delete a reference and its hashes in one transaction. Raises NotFoundError."""

    @abc.abstractmethod
    def frame_hashes(self, ref_id: int) -> FrameHashes:
        """Every stored hash of one reference, in time order."""

    @abc.abstractmethod
    def lookup(self, hashes: np.ndarray, max_distance: int) -> Candidates:
        """Stored frames near each query hash, found through the chunk indexes."""

    def sound(self, ref_id: int) -> SoundPrint | None:
        """A reference's sound fingerprint (`audio.SoundPrint`), or None when it was stored without one."""
        return None

    def sound_lookup(self, keys: np.ndarray) -> np.ndarray:
        """(query item, reference id, reference item) for each stored loud item sharing a lookup key.

        Args:
            keys: the query items' lookup keys (`audio.item_keys`), shape (n, 3).
        """
        return np.zeros((0, 3), dtype=np.int64)

    def sound_mark_lookup(self, hashes: np.ndarray) -> np.ndarray:
        """(query landmark row, reference id, reference frame) for each stored landmark with a query's hash.

        Args:
            hashes: the query's landmark hashes (`audio.sound_marks`' first column).
        """
        return np.zeros((0, 3), dtype=np.int64)

    # The features channel (features.py). An index without feature tables, or a backend
    # without them, has no features: the channel is then absent.

    def has_features(self) -> bool:
        """Whether any reference has local features stored (else the features channel is absent)."""
        return False

    def reference_views(self, ref_id: int, start_s: float, end_s: float) -> Views | None:
        """Verify's stored views of a reference from `start_s` to `end_s` (`index.views`), or None when it
        has none there (an index or a reference made before them: verify decodes the file instead)."""
        return None

    def feature_lookup(self, keys: np.ndarray) -> np.ndarray:
        """The inverted lists of LSH `keys` (`features.lsh_keys`): (M, 2) int64 rows [key, frame id]."""
        return np.zeros((0, 2), dtype=np.int64)

    def feature_frames(self, frame_ids: Iterable[int]) -> dict[int, tuple[int, FrameFeatures]]:
        """Described reference frames by id: {frame id: (reference id, `FrameFeatures`)}."""
        return {}

    def feature_frame_times(self, frame_ids: Iterable[int]) -> dict[int, tuple[int, float]]:
        """Described reference frames' reference and time by id: {frame id: (reference id, seconds)}."""
        return {}

    def reference_features(
        self, ref_id: int, start_s: float | None = None, end_s: float | None = None
    ) -> list[FrameFeatures]:
        """The described frames of one reference (from `start_s` to `end_s`, seconds, when given), in time order."""
        return []

    def feature_counts(self) -> tuple[int, int]:
        """(described frames, inverted-list rows) stored."""
        return (0, 0)

    @abc.abstractmethod
    def stats(self) -> dict[str, Any]:
        """Counts and sizes: references, hashes, footage seconds, bytes on disk."""

    @abc.abstractmethod
    def identity(self) -> dict[str, Any]:
        """What a report records about the index: backend, id, schema, counts."""

    def integrity(self) -> IntegrityReport:
        """Check that the index is whole, for ``provenance index check``.

        This default uses only the interface: the schema version, and that
        each reference's stored hashes number what it records. Backends add
        what they alone can see (orphan rows, the storage's own check).

        Returns:
            An `IntegrityReport`; ``report.ok`` when nothing is wrong.
        """
        problems: list[IntegrityProblem] = []
        refs = self.references()
        total = 0
        for ref in refs:
            stored = len(self.frame_hashes(ref.id))
            total += stored
            if stored != ref.frames:
                problems.append(count_problem(ref.id, ref.path, ref.frames, stored))
        version = self.identity().get("schema_version")
        if version != SCHEMA_VERSION:
            problems.insert(0, schema_problem(version))
        return IntegrityReport(
            self.NAME, self.url, version, len(refs), total, ("schema_version", "hash_counts"), tuple(problems)
        )

    @abc.abstractmethod
    def claim(self, sha256: str, owner: ClaimOwner, ttl_s: float) -> Claim | None:
        """Claim a file by its SHA-256 before decoding it (see `claims`), taking over a stale claim.

        Returns:
            None when `owner` now holds the claim (for `ttl_s` seconds unless
            refreshed); else the live claim of the writer that holds it.
        """

    @abc.abstractmethod
    def release_claim(self, sha256: str, owner: ClaimOwner) -> None:
        """Give up `owner`'s claim on one file (no-op when it holds none)."""

    @abc.abstractmethod
    def release_claims(self, owner: ClaimOwner) -> None:
        """Give up every claim `owner` holds."""

    @abc.abstractmethod
    def refresh_claims(self, owner: ClaimOwner, ttl_s: float) -> None:
        """The heartbeat: `owner`'s claims live `ttl_s` seconds from now."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
