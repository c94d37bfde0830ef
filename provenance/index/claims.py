"""Stage 5, index: claims, so that concurrent writers never decode one file twice.

A writer claims a file by its content SHA-256 in the index before decoding
it; another writer meeting the same file while the claim is alive skips it
for now and comes back once the file is stored (or the claim is given up).
A claim is a row of the ``claims`` table: who holds it (a token per
`add_paths` run, its host and process id) and until when. The holder keeps
its claims alive with a heartbeat; a claim is stale, and any writer may take
it over, once it has expired or when its holder was a process on this host
that no longer exists (a crash, ``kill -9``)::

    >>> with ClaimKeeper(index) as claims:
    ...     holder = claims.take(sha256)  # None: ours, decode it; else who has it
    ...     claims.release(sha256)
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ProvenanceError

if TYPE_CHECKING:
    from .base import Index

#: Seconds a claim lives without a heartbeat; then any writer may take it over. Longer than a few
#: heartbeats plus SQLite's 60 s busy wait; shorter means a crashed writer elsewhere blocks its
#: files less long. Chosen, not measured (a dead writer on the same host is seen at once).
CLAIM_TTL_S = 120.0
#: Seconds between heartbeats of a writer's claims: a quarter of `CLAIM_TTL_S`, so three may
#: fail or wait before a live writer's claims expire.
CLAIM_REFRESH_S = CLAIM_TTL_S / 4


@dataclass(frozen=True)
class ClaimOwner:
    """One writer: a token of its own, and the host and process that hold its claims."""

    token: str
    host: str
    pid: int

    @classmethod
    def here(cls) -> ClaimOwner:
        """A new owner for this process (a fresh token, so two runs in one process never share claims)."""
        return cls(uuid.uuid4().hex, socket.gethostname(), os.getpid())


@dataclass(frozen=True)
class Claim:
    """A file being added: its SHA-256, its holder, and when the claim was taken and expires (epoch seconds)."""

    sha256: str
    owner: str
    host: str
    pid: int
    claimed_at: float
    expires_at: float

    def is_stale(self, now: float, host: str) -> bool:
        """Expired, or held by a process of this `host` that has exited (it can no longer finish or release it)."""
        return self.expires_at < now or (self.host == host and not _alive(self.pid))

    def describe(self) -> str:
        """Who holds the claim, for messages: ``process 4242 on desk-3``."""
        return f"process {self.pid} on {self.host}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


class ClaimKeeper:
    """The claims of one ingest run: taken, released, and kept alive by a heartbeat thread.

    Use it as a context manager: the heartbeat runs inside the block, and
    claims still held when it ends (an interrupted batch) are released.
    """

    def __init__(self, index: Index, *, ttl_s: float = CLAIM_TTL_S, refresh_s: float = CLAIM_REFRESH_S) -> None:
        self.index = index
        self.owner = ClaimOwner.here()
        self.ttl_s = ttl_s
        self.refresh_s = refresh_s
        self.held: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self, sha256: str) -> Claim | None:
        """Claim a file before decoding it.

        Returns:
            None when the claim is now this run's; else the live claim that
            holds the file (another writer's, or this run's own when the same
            file is already in hand).

        Raises:
            IndexUnavailableError: the index cannot be written.
        """
        if sha256 in self.held:
            return Claim(sha256, self.owner.token, self.owner.host, self.owner.pid, 0.0, 0.0)
        holder = self.index.claim(sha256, self.owner, self.ttl_s)
        if holder is None:
            self.held.add(sha256)
        return holder

    def release(self, sha256: str) -> None:
        """Give a claim up (the file is stored, or failed).

        Raises:
            IndexUnavailableError: the index cannot be written.
        """
        if sha256 in self.held:
            self.held.discard(sha256)
            self.index.release_claim(sha256, self.owner)

    def _beat(self) -> None:
        while not self._stop.wait(self.refresh_s):
            if self.held:
                try:
                    self.index.refresh_claims(self.owner, self.ttl_s)
                except ProvenanceError:
                    continue  # the main thread meets the same trouble and reports it

    def __enter__(self) -> ClaimKeeper:
        self._thread = threading.Thread(target=self._beat, name="claim-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.held:
            self.held.clear()
            try:
                self.index.release_claims(self.owner)
            except ProvenanceError:
                pass  # they expire on their own
