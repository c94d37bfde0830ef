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
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from ..hashing import FrameHashes, hamming

#: Number of 16-bit chunks a 64-bit hash is split into for candidate lookup.
CHUNKS = 4
CHUNK_BITS = 16
#: Schema version written into every index; an index with a newer one is refused.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SourceFacts:
    """Where a reference came from, as the user or a sidecar says: all optional."""

    source_url: str | None = None
    publisher: str | None = None
    title: str | None = None
    first_seen: str | None = None
    licence: str | None = None
    notes: str | None = None

    def merged_over(self, other: SourceFacts) -> SourceFacts:
        """These facts, with gaps filled from `other` (flags win over sidecars)."""
        return SourceFacts(**{k: v if v is not None else getattr(other, k) for k, v in asdict(self).items()})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceFacts:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("source")
        data.update(self.source.to_dict())
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        values = {k: data.get(k) for k in cls.__dataclass_fields__ if k != "source"}
        return cls(**values, source=SourceFacts.from_dict(data))

    def with_id(self, ref_id: int) -> Reference:
        return replace(self, id=ref_id)


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


def verify(
    query: np.ndarray, rows_q: np.ndarray, rows_h: np.ndarray, max_distance: int
) -> tuple[np.ndarray, np.ndarray]:
    """Keep rows whose stored hash is within `max_distance` of their query hash.

    Returns:
        (mask, distances) for the rows.
    """
    dist = hamming(query[rows_q], rows_h)
    return dist <= max_distance, dist


class Index(abc.ABC):
    """A reference index. Backends set `NAME` and the URL schemes they accept."""

    NAME: ClassVar[str]
    SCHEMES: ClassVar[tuple[str, ...]]

    url: str

    @abc.abstractmethod
    def find_sha256(self, sha256: str) -> Reference | None:
        """The reference with this content hash, if indexed."""

    @abc.abstractmethod
    def add(
        self, ref: Reference, hashes: FrameHashes, *, facts: dict[str, Any] | None = None
    ) -> tuple[Reference, bool]:
        """Store a reference, its hashes and its media facts in one transaction.

        Returns:
            (the stored reference with its id, True) or, when a file with the
            same SHA-256 is already indexed, (that reference, False).
        """

    @abc.abstractmethod
    def get(self, ref_id: int) -> Reference:
        """One reference by id. Raises NotFoundError."""

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

    @abc.abstractmethod
    def stats(self) -> dict[str, Any]:
        """Counts and sizes: references, hashes, footage seconds, bytes on disk."""

    @abc.abstractmethod
    def identity(self) -> dict[str, Any]:
        """What a report records about the index: backend, id, schema, counts."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
