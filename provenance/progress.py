"""Progress of a long ingest on stderr: files, minutes of footage, rate and ETA.

Drawn on one self-rewriting line only when the stream is a terminal, so logs
and pipes get nothing but the per-file lines (and those only when asked)::

    progress = IngestProgress(sys.stderr, show_items=True)
    add_paths(paths, index, on_start=progress.start, on_item=progress.item, jobs=4)
    progress.close()

The ETA comes from bytes: every file's size is known once the folders are
walked, while its duration is known only after probing it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from .ingest import IngestItem
from .report.text import terminal


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class IngestProgress:
    """Renders `add_paths` callbacks (``on_start``, ``on_item``) to a text stream."""

    def __init__(self, stream: TextIO, *, show_items: bool = True, live: bool | None = None) -> None:
        self.stream = stream
        self.show_items = show_items
        isatty = getattr(stream, "isatty", None)
        self.live = bool(isatty and isatty()) if live is None else live
        self.files = 0
        self.total_bytes = 0
        self.done = 0
        self.done_bytes = 0
        self.footage_s = 0.0
        self.failed = 0
        self.started = time.monotonic()
        self._drawn = False

    def start(self, files: int, total_bytes: int) -> None:
        self.files, self.total_bytes = files, total_bytes
        self.started = time.monotonic()
        self._draw()

    def item(self, item: IngestItem) -> None:
        self.done += 1
        if item.status == "failed":
            self.failed += 1
        try:
            self.done_bytes += Path(item.path).stat().st_size
        except OSError:
            pass
        ref = item.reference
        if ref is not None and item.status == "added":
            self.footage_s += ref.duration_s
        if self.show_items and item.status != "failed" and ref is not None:
            self._clear()
            self.stream.write(f"{item.status:8} #{ref.id:<5} {terminal(item.path)}\n")
        self._draw()

    def line(self) -> str:
        """The status line: ``12/40 files, 35.2 min of footage, 41x real time, ETA 3m10s``."""
        elapsed = max(1e-6, time.monotonic() - self.started)
        parts = [f"{self.done}/{self.files} files", f"{self.footage_s / 60:.1f} min of footage"]
        if self.footage_s > 0:
            parts.append(f"{self.footage_s / elapsed:.1f}x real time")
        if self.failed:
            parts.append(f"{self.failed} failed")
        if 0 < self.done_bytes < self.total_bytes:
            parts.append(f"ETA {_duration(elapsed * (self.total_bytes - self.done_bytes) / self.done_bytes)}")
        return ", ".join(parts)

    def _clear(self) -> None:
        if self.live and self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False

    def _draw(self) -> None:
        if not self.live:
            return
        self.stream.write("\r\x1b[K" + self.line())
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the live line (call once, after the batch)."""
        if self.live and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
