#!/usr/bin/env python3
"""The provenance benchmark: recall, false matches, localisation and speed on a built data set.

    python bench/run.py --data bench/data                              # all methods
    python bench/run.py --data bench/data --methods provenance         # quick run of the tool only
    python bench/run.py --data bench/data --queries q001,q014          # debug a few queries

Every method sees the same references (manifest items with split == "reference")
and the same queries (truth.json), and is scored by the same code:

- provenance: the library itself (`provenance.ingest.add_paths` into a fresh
  index, `provenance.pipeline.check` per query with the open Index).
- phash_vote: the naive baseline; imagehash.phash of every frame at 1 fps, each
  query frame votes for the reference holding its nearest hash (distance <= 10),
  a match needs >= 50% of the query frames. No localisation.
- vpdq: Meta's vPDQ (PyPI `vpdq`) with the defaults of ThreatExchange's matcher:
  PDQ distance <= 31, quality >= 50, deduplicated hashes, a match when >= 80% of
  the query's frames have a reference frame within the distance. No localisation.

Writes OUT/results.json (everything, including every miss and false match with
what was found) and OUT/table.md (the tables printed at the end). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ALL_METHODS = ("provenance", "phash_vote", "vpdq")
#: A matched reference span is "localised" when both ends are within this of the truth.
SPAN_TOLERANCE_S = 1.0

# phash_vote parameters (the naive baseline; fixed, not tuned).
PHASH_FPS = 1.0
PHASH_MAX_DISTANCE = 10
PHASH_MIN_SHARE = 0.5
#: Frames are scaled to this square inside ffmpeg before PIL: imagehash.phash
#: squashes every image to 32x32 grey anyway (aspect ignored), so this only
#: saves piping full-size RGB frames.
PHASH_DECODE_SIZE = 256

# vPDQ defaults (ThreatExchange python-threatexchange extensions/vpdq/vpdq_util.py).
VPDQ_SECONDS_PER_HASH = 1.0
VPDQ_DISTANCE = 31  # match when hamming distance <= 31 (of 256 bits)
VPDQ_QUALITY = 50  # frames with quality < 50 are ignored
VPDQ_QUERY_MATCH_PERCENT = 80.0  # share of the query's frames that must match
VPDQ_COMPARED_MATCH_PERCENT = 0.0  # share of the reference's frames (default: no requirement)

DECODE_TIMEOUT_S = 600.0


def cpu_seconds() -> float:
    """CPU seconds used so far by this process (all threads) and its finished children (ffmpeg).

    Unlike wall time it hardly moves when other work shares the machine.
    """
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Item:
    id: str
    path: Path
    duration: float
    split: str
    negative_kind: str | None


@dataclass(frozen=True)
class Query:
    id: str
    path: Path
    duration: float
    group: str  # transform name, "combo", or "negative:<kind>"
    transforms: tuple[str, ...]
    ref_id: str | None
    ref_span: tuple[float, float] | None
    query_span: tuple[float, float] | None
    negative_kind: str | None

    @property
    def is_copy(self) -> bool:
        return self.ref_id is not None


def query_group(q: dict[str, Any]) -> str:
    """Transform group of a truth entry: its one edit, ``combo`` for chained edits, negatives by kind."""
    if q.get("ref_id") is None:
        return f"negative:{q.get('negative_kind') or 'unknown'}"
    names = [t["name"] for t in q.get("transforms") or []]
    if q.get("label") == "combo" or len(names) > 1:
        return "combo"
    return names[0] if names else "identity"


def load_data(data: Path, only: set[str] | None) -> tuple[dict[str, Any], list[Item], list[Query]]:
    manifest = json.loads((data / "manifest.json").read_text())
    truth = json.loads((data / "truth.json").read_text())
    items = [
        Item(
            id=i["id"],
            path=(data / i["path"]).resolve(),
            duration=float(i["duration"]),
            split=i["split"],
            negative_kind=i.get("negative_kind"),
        )
        for i in manifest["items"]
    ]
    queries = []
    for q in truth["queries"]:
        if only and q["id"] not in only:
            continue
        queries.append(
            Query(
                id=q["id"],
                path=(data / q["path"]).resolve(),
                duration=float(q.get("duration") or 0.0),
                group=query_group(q),
                transforms=tuple(t["name"] for t in q.get("transforms") or []),
                ref_id=q.get("ref_id"),
                ref_span=tuple(q["ref_span"]) if q.get("ref_span") else None,  # type: ignore[arg-type]
                query_span=tuple(q["query_span"]) if q.get("query_span") else None,  # type: ignore[arg-type]
                negative_kind=q.get("negative_kind"),
            )
        )
    if only:
        missing = only - {q.id for q in queries}
        if missing:
            raise SystemExit(f"--queries names queries not in truth.json: {', '.join(sorted(missing))}")
    meta = {"seed": truth.get("seed", manifest.get("seed")), "ffmpeg_at_build": manifest.get("ffmpeg")}
    return meta, items, queries


# --------------------------------------------------------------------------- results


@dataclass
class Found:
    """One thing a method reported for a query: a reference (as a manifest item id) and its evidence."""

    item: str | None  # manifest item id, None when the reference is not a manifest item
    ref: str  # the reference as the method names it (path)
    score: float
    span: tuple[float, float] | None = None  # reference span, seconds
    query_span: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"item": self.item, "ref": self.ref, "score": round(float(self.score), 4)}
        if self.span is not None:
            d["ref_span"] = [round(self.span[0], 3), round(self.span[1], 3)]
        if self.query_span is not None:
            d["query_span"] = [round(self.query_span[0], 3), round(self.query_span[1], 3)]
        d.update(self.extra)
        return d


@dataclass
class Outcome:
    """What a method returned for one query: matches (best first, above its threshold) and below-threshold candidates."""

    matches: list[Found]
    candidates: list[Found] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Method:
    name = "?"
    localises = False

    def available(self) -> str | None:
        """None when usable, else the reason it is not."""
        return None

    def ingest(self, refs: list[Item]) -> dict[str, Any]:
        raise NotImplementedError

    def query(self, q: Query) -> Outcome:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- provenance


class ProvenanceMethod(Method):
    name = "provenance"
    localises = True

    def __init__(self, index_url: str | None, workdir: Path) -> None:
        self.index_url = index_url or f"sqlite:///{workdir / 'provenance-index.sqlite'}"
        self.idx: Any = None
        self.by_ref_id: dict[int, str] = {}
        self.by_path: dict[str, str] = {}

    def available(self) -> str | None:
        try:
            import provenance.pipeline  # noqa: F401
        except Exception as exc:  # noqa: BLE001 - report any import failure as unavailability
            return f"{type(exc).__name__}: {exc}"
        return None

    def params(self) -> dict[str, Any]:
        import provenance
        from provenance import __version__
        from provenance.pipeline import thresholds

        return {
            "version": __version__,
            "thresholds": thresholds(),
            "index_url": self.index_url,
            "source": source_identity(Path(provenance.__file__).parent),
        }

    def ingest(self, refs: list[Item]) -> dict[str, Any]:
        from provenance.index import open_index
        from provenance.ingest import add_paths

        path_to_item = {str(r.path): r.id for r in refs}
        self.idx = open_index(self.index_url, create=True)
        failed: list[dict[str, Any]] = []
        statuses: dict[str, int] = defaultdict(int)

        def on_item(it: Any) -> None:
            statuses[it.status] += 1
            item_id = path_to_item.get(it.path)
            if it.reference is not None and item_id is not None:
                self.by_ref_id[int(it.reference.id)] = item_id
                self.by_path[str(it.reference.path)] = item_id
            if it.status == "failed":
                failed.append({"item": item_id, "path": it.path, "error": it.error})
            log(f"  [provenance] ingest {item_id}: {it.status}")

        t0 = time.perf_counter()
        add_paths([str(r.path) for r in refs], self.idx, on_item=on_item)
        wall = time.perf_counter() - t0
        self.by_path.update(path_to_item)
        stats = self.idx.stats()
        return {"wall_s": wall, "statuses": dict(statuses), "failed": failed, "index_stats": stats}

    def _found(self, m: Any) -> Found:
        ref = m.reference
        item = self.by_ref_id.get(int(ref.id)) or self.by_path.get(str(ref.path))
        return Found(
            item=item,
            ref=str(ref.path),
            score=float(m.score),
            span=(float(m.reference_start_s), float(m.reference_end_s)),
            query_span=(float(m.query_start_s), float(m.query_end_s)),
            extra={
                "speed": round(float(m.speed), 4),
                "mirrored": bool(m.mirrored),
                "offset_s": round(float(m.offset_s), 3),
                "frames": f"{m.frames_matched}/{m.frames_total}",
                "mean_distance": round(float(m.mean_distance), 2),
            },
        )

    def query(self, q: Query) -> Outcome:
        from provenance.pipeline import check

        report = check(q.path, index=self.idx, keyframes=False)  # report images are not part of matching
        return Outcome(
            matches=[self._found(m) for m in report.matches],
            candidates=[self._found(m) for m in report.candidates[:3]],
            extra={
                "verdict": report.verdict.code,
                "frames": f"{report.input.frames_informative}/{report.input.frames_sampled}",
                "warnings": list(report.warnings),
            },
        )

    def close(self) -> None:
        if self.idx is not None:
            self.idx.close()
            self.idx = None


def source_identity(package_dir: Path) -> dict[str, Any]:
    """Which code was measured: git commit, whether the package differs from it, and a hash of its sources."""
    import hashlib

    digest = hashlib.sha256()
    for f in sorted(package_dir.rglob("*.py")):
        digest.update(str(f.relative_to(package_dir)).encode() + b"\0" + f.read_bytes() + b"\0")
    info: dict[str, Any] = {"sources_sha256": digest.hexdigest()[:16]}
    try:
        git = ["git", "-C", str(package_dir.parent)]
        info["git_commit"] = (
            subprocess.run(
                [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
            or None
        )
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", str(package_dir)], capture_output=True, text=True, timeout=30
        ).stdout
        info["uncommitted_changes"] = bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


# --------------------------------------------------------------------------- phash_vote


def decode_gray_1fps(path: Path, fps: float = PHASH_FPS, size: int = PHASH_DECODE_SIZE) -> np.ndarray:
    """(N, size, size) uint8 grey frames sampled at `fps` by ffmpeg (argument list, one local file)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg not found on PATH")
    argv = [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
        "-protocol_whitelist", "file", "-i", f"file:{path}",
        "-an", "-sn", "-dn",
        "-vf", f"fps={fps}:round=near,scale={size}:{size}:flags=area,format=gray",
        "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1",
    ]  # fmt: skip
    res = subprocess.run(argv, capture_output=True, timeout=DECODE_TIMEOUT_S, check=False)
    n = len(res.stdout) // (size * size)
    if n == 0:
        tail = res.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no frame decoded"]
        raise RuntimeError(f"{path.name}: ffmpeg decoded no frame ({tail[0][:200]})")
    return np.frombuffer(res.stdout[: n * size * size], dtype=np.uint8).reshape(n, size, size)


def phash_frames(frames: np.ndarray) -> np.ndarray:
    """imagehash.phash of each frame, as uint64 (bit order of str(hash))."""
    import imagehash
    from PIL import Image

    out = np.empty(len(frames), dtype=np.uint64)
    for i, f in enumerate(frames):
        h = imagehash.phash(Image.fromarray(f, mode="L"))
        out[i] = np.uint64(int(str(h), 16))
    return out


def popcount64(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x).astype(np.int64)


class PhashVoteMethod(Method):
    name = "phash_vote"

    def __init__(self) -> None:
        self.hashes = np.zeros(0, dtype=np.uint64)
        self.owner = np.zeros(0, dtype=np.int64)
        self.items: list[Item] = []

    def available(self) -> str | None:
        try:
            import imagehash  # noqa: F401
            from PIL import Image  # noqa: F401
        except ImportError as exc:
            return f"ImportError: {exc}"
        if shutil.which("ffmpeg") is None:
            return "ffmpeg not found on PATH"
        return None

    def params(self) -> dict[str, Any]:
        import imagehash

        return {
            "imagehash": getattr(imagehash, "__version__", "?"),
            "fps": PHASH_FPS,
            "max_distance": PHASH_MAX_DISTANCE,
            "min_vote_share": PHASH_MIN_SHARE,
            "decode_size": PHASH_DECODE_SIZE,
        }

    def ingest(self, refs: list[Item]) -> dict[str, Any]:
        t0 = time.perf_counter()
        hs, owners, failed = [], [], []
        for r in refs:
            try:
                h = phash_frames(decode_gray_1fps(r.path))
            except Exception as exc:  # noqa: BLE001 - one bad reference must not stop the run
                failed.append({"item": r.id, "error": f"{type(exc).__name__}: {exc}"})
                continue
            self.items.append(r)
            hs.append(h)
            owners.append(np.full(len(h), len(self.items) - 1, dtype=np.int64))
        wall = time.perf_counter() - t0
        if hs:
            self.hashes = np.concatenate(hs)
            self.owner = np.concatenate(owners)
        return {"wall_s": wall, "frames": int(len(self.hashes)), "failed": failed}

    def query(self, q: Query) -> Outcome:
        qh = phash_frames(decode_gray_1fps(q.path))
        n = len(qh)
        if len(self.hashes) == 0:
            return Outcome(matches=[], extra={"query_frames": n})
        dist = popcount64(qh[:, None] ^ self.hashes[None, :])  # (n, R)
        nearest = dist.argmin(axis=1)
        nd = dist[np.arange(n), nearest]
        votes: dict[int, list[int]] = defaultdict(list)
        for row in range(n):
            if nd[row] <= PHASH_MAX_DISTANCE:
                votes[int(self.owner[nearest[row]])].append(int(nd[row]))
        ranked = sorted(votes.items(), key=lambda kv: (-len(kv[1]), float(np.mean(kv[1])), kv[0]))
        found = [
            Found(
                item=self.items[ref].id,
                ref=str(self.items[ref].path),
                score=len(d) / n,
                extra={"votes": f"{len(d)}/{n}", "mean_distance": round(float(np.mean(d)), 2)},
            )
            for ref, d in ranked
        ]
        matches = [f for f in found[:1] if f.score >= PHASH_MIN_SHARE]
        candidates = [f for f in found if f not in matches][:3]
        return Outcome(matches=matches, candidates=candidates, extra={"query_frames": n})


# --------------------------------------------------------------------------- vpdq


class VpdqMethod(Method):
    name = "vpdq"

    def __init__(self) -> None:
        self.refs: list[tuple[Item, np.ndarray]] = []  # (item, (N, 32) uint8 filtered, deduplicated)

    def available(self) -> str | None:
        try:
            import vpdq  # noqa: F401
        except ImportError as exc:
            return (
                f"vpdq not importable ({exc}); install with `pip install vpdq` after "
                "`apt-get install libavcodec-dev libavformat-dev libavutil-dev libswscale-dev "
                "libavdevice-dev libavfilter-dev pkg-config cmake`"
            )
        return None

    def params(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {
            "vpdq": version("vpdq"),
            "seconds_per_hash": VPDQ_SECONDS_PER_HASH,
            "distance": VPDQ_DISTANCE,
            "quality": VPDQ_QUALITY,
            "query_match_percent": VPDQ_QUERY_MATCH_PERCENT,
            "compared_match_percent": VPDQ_COMPARED_MATCH_PERCENT,
        }

    @staticmethod
    def features(path: Path) -> tuple[np.ndarray, int]:
        """Quality-filtered, deduplicated PDQ hashes of a video as (N, 32) bytes, and the raw frame count."""
        import vpdq

        feats = vpdq.computeHash(str(path), seconds_per_hash=VPDQ_SECONDS_PER_HASH)
        seen: set[str] = set()
        rows = []
        for f in feats:
            if f.quality < VPDQ_QUALITY or f.hex in seen:
                continue
            seen.add(f.hex)
            rows.append(np.frombuffer(bytes.fromhex(f.hex), dtype=np.uint8))
        arr = np.stack(rows) if rows else np.zeros((0, 32), dtype=np.uint8)
        return arr, len(feats)

    def ingest(self, refs: list[Item]) -> dict[str, Any]:
        t0 = time.perf_counter()
        failed, frames = [], 0
        for r in refs:
            try:
                arr, _ = self.features(r.path)
            except Exception as exc:  # noqa: BLE001
                failed.append({"item": r.id, "error": f"{type(exc).__name__}: {exc}"})
                continue
            if len(arr) == 0:
                failed.append({"item": r.id, "error": f"no frame of quality >= {VPDQ_QUALITY}"})
                continue
            frames += len(arr)
            self.refs.append((r, arr))
        return {"wall_s": time.perf_counter() - t0, "frames": frames, "failed": failed}

    def query(self, q: Query) -> Outcome:
        qa, raw = self.features(q.path)
        if len(qa) == 0:
            return Outcome(
                matches=[], extra={"query_frames": f"0/{raw}", "note": f"no frame of quality >= {VPDQ_QUALITY}"}
            )
        found = []
        for item, ra in self.refs:
            dist = np.bitwise_count(qa[:, None, :] ^ ra[None, :, :]).sum(axis=2, dtype=np.int64)  # (Q, R)
            close = dist <= VPDQ_DISTANCE
            qpct = 100.0 * close.any(axis=1).sum() / len(qa)
            cpct = 100.0 * close.any(axis=0).sum() / len(ra)
            if qpct > 0:
                nearest = dist.min(axis=1)
                mean_d = float(nearest[nearest <= VPDQ_DISTANCE].mean())
                found.append(
                    Found(
                        item=item.id,
                        ref=str(item.path),
                        score=qpct / 100.0,
                        extra={
                            "query_match_percent": round(qpct, 1),
                            "compared_match_percent": round(cpct, 1),
                            "mean_distance": round(mean_d, 2),
                        },
                    )
                )
        # Best query match percentage first; ties (near-identical references) go to the closer one.
        found.sort(
            key=lambda f: (
                -f.extra["query_match_percent"],
                f.extra["mean_distance"],
                -f.extra["compared_match_percent"],
                f.item or "",
            )
        )
        passing = [
            f
            for f in found
            if f.extra["query_match_percent"] >= VPDQ_QUERY_MATCH_PERCENT
            and f.extra["compared_match_percent"] >= VPDQ_COMPARED_MATCH_PERCENT
        ]
        candidates = [f for f in found if f not in passing][:3]
        return Outcome(matches=passing, candidates=candidates, extra={"query_frames": f"{len(qa)}/{raw}"})


# --------------------------------------------------------------------------- scoring


def span_ok(found: Found, truth: tuple[float, float] | None) -> bool | None:
    if found.span is None or truth is None:
        return None
    return abs(found.span[0] - truth[0]) <= SPAN_TOLERANCE_S and abs(found.span[1] - truth[1]) <= SPAN_TOLERANCE_S


def score_query(q: Query, out: Outcome, wall: float, cpu: float) -> dict[str, Any]:
    top = out.matches[0] if out.matches else None
    row: dict[str, Any] = {
        "query": q.id,
        "group": q.group,
        "transforms": list(q.transforms),
        "truth": {
            "ref_id": q.ref_id,
            "ref_span": q.ref_span,
            "query_span": q.query_span,
            "negative_kind": q.negative_kind,
        },
        "wall_s": round(wall, 4),
        "cpu_s": round(cpu, 4),
        "error": out.error,
        "matches": [f.to_dict() for f in out.matches[:3]],
        "n_matches": len(out.matches),
        "candidates": [f.to_dict() for f in out.candidates[:3]],
        **out.extra,
    }
    if q.is_copy:
        # Where the true reference shows up at all (matches first, then below-threshold candidates).
        for where, pool in (("match", out.matches), ("candidate", out.candidates)):
            hit = next((k for k, f in enumerate(pool) if f.item == q.ref_id), None)
            if hit is not None:
                row["truth_found_as"] = {"as": where, "rank": hit + 1, "score": round(float(pool[hit].score), 4)}
                break
        row["hit"] = bool(top is not None and top.item == q.ref_id)
        row["wrong_reference"] = bool(top is not None and top.item != q.ref_id)
        if row["hit"]:
            assert top is not None
            row["span_ok"] = span_ok(top, q.ref_span)
            if top.query_span is not None and q.query_span is not None:
                row["query_span_ok"] = (
                    abs(top.query_span[0] - q.query_span[0]) <= SPAN_TOLERANCE_S
                    and abs(top.query_span[1] - q.query_span[1]) <= SPAN_TOLERANCE_S
                )
    else:
        row["false_match"] = bool(out.matches)
    return row


def timing(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "median": None, "p95": None, "max": None}
    return {
        "mean": round(statistics.fmean(values), 4),
        "median": round(statistics.median(values), 4),
        "p95": round(float(np.percentile(values, 95)), 4),
        "max": round(max(values), 4),
    }


def summarise(rows: list[dict[str, Any]], ingest: dict[str, Any], footage_s: float, localises: bool) -> dict[str, Any]:
    copies = [r for r in rows if "hit" in r]
    negs = [r for r in rows if "false_match" in r]
    hits = [r for r in copies if r["hit"]]
    wrong = [r for r in copies if r["wrong_reference"]]
    fms = [r for r in negs if r["false_match"]]
    spans = [r for r in hits if r.get("span_ok") is not None]
    groups: dict[str, dict[str, int]] = {}
    for r in rows:
        g = groups.setdefault(r["group"], {"n": 0, "hits": 0, "false_matches": 0, "wrong_reference": 0, "errors": 0})
        g["n"] += 1
        g["hits"] += int(r.get("hit", False))
        g["false_matches"] += int(r.get("false_match", False))
        g["wrong_reference"] += int(r.get("wrong_reference", False))
        g["errors"] += int(r.get("error") is not None)
    wall = ingest.get("wall_s") or 0.0
    return {
        "copies": len(copies),
        "hits": len(hits),
        "recall_at_1": round(len(hits) / len(copies), 4) if copies else None,
        "wrong_reference": len(wrong),
        # the true reference anywhere among the matches (not only first): near-duplicate references blur rank 1
        "truth_among_matches": sum(1 for r in copies if (r.get("truth_found_as") or {}).get("as") == "match"),
        "negatives": len(negs),
        "false_matches": len(fms),
        "false_match_rate": round(len(fms) / len(negs), 4) if negs else None,
        "span_within_1s": (round(sum(1 for r in spans if r["span_ok"]) / len(spans), 4) if spans else None)
        if localises
        else "n/a",
        "span_within_1s_count": f"{sum(1 for r in spans if r['span_ok'])}/{len(spans)}" if localises else "n/a",
        "query_span_within_1s_count": (
            f"{sum(1 for r in hits if r.get('query_span_ok'))}/{sum(1 for r in hits if 'query_span_ok' in r)}"
            if localises
            else "n/a"
        ),
        "errors": sum(1 for r in rows if r.get("error") is not None),
        "query_wall_s": timing([r["wall_s"] for r in rows]),
        "query_cpu_s": timing([r["cpu_s"] for r in rows]),
        "ingest_wall_s": round(wall, 3),
        "ingest_cpu_s": round(ingest.get("cpu_s") or 0.0, 3),
        "ingest_footage_s": round(footage_s, 3),
        "ingest_footage_min_per_wall_min": round(footage_s / wall, 2) if wall > 0 else None,
        "groups": groups,
    }


def debug_lists(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    def brief(r: dict[str, Any]) -> dict[str, Any]:
        keep = (
            "query", "group", "transforms", "truth", "error", "truth_found_as", "matches", "candidates",
            "verdict", "frames", "query_frames",
        )  # fmt: skip
        return {k: r[k] for k in keep if k in r}

    return {
        "misses": [brief(r) for r in rows if "hit" in r and not r["hit"]],
        "false_matches": [brief(r) for r in rows if r.get("false_match")],
        "wrong_span": [brief(r) for r in rows if r.get("hit") and r.get("span_ok") is False],
    }


# --------------------------------------------------------------------------- tables


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def fmt_s(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def group_order(groups: set[str]) -> list[str]:
    edits = sorted(g for g in groups if not g.startswith("negative:") and g != "combo")
    tail = ["combo"] if "combo" in groups else []
    negs = sorted(g for g in groups if g.startswith("negative:"))
    return edits + tail + negs


def render_tables(results: dict[str, Any]) -> str:
    methods = results["methods"]
    lines = []
    meta = results["meta"]
    lines.append(
        f"Data: {meta['data']['references']} references ({meta['data']['reference_footage_s']:.0f} s), "
        f"{meta['data']['copies']} copy queries, {meta['data']['negative_queries']} negative queries "
        f"(seed {meta['data']['seed']}). Machine: {meta['machine']['cpus']} cores, {meta['machine']['cpu']}, "
        f"load average {meta['machine']['loadavg_start'][0]:.1f} at start, "
        f"{meta['machine'].get('loadavg_end', [0.0])[0]:.1f} at end. {meta['date']}."
    )
    prov = methods.get("provenance", {}).get("params")
    if prov:
        src = prov.get("source", {})
        dirty = " + uncommitted changes" if src.get("uncommitted_changes") else ""
        lines.append(
            f"provenance {prov['version']} at commit {src.get('git_commit') or '?'}{dirty} "
            f"(sources {src.get('sources_sha256')}); thresholds: "
            + ", ".join(f"{k}={v}" for k, v in prov["thresholds"].items())
            + "."
        )
    if meta["data"].get("queries_subset"):
        lines.append(f"Only queries {', '.join(meta['data']['queries_subset'])}.")
    lines.append("")
    lines.append(
        "| method | recall@1 | false matches (negatives) | wrong reference (copies) | span ±1 s | "
        "query s mean | median | p95 | query CPU s mean | ingest s | ingest CPU s | footage min / wall min |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, m in methods.items():
        if m["status"] != "ok":
            lines.append(f"| {name} | {m['status']} | | | | | | | | | | |")
            continue
        s = m["summary"]
        span = "n/a" if s["span_within_1s"] == "n/a" else f"{pct(s['span_within_1s'])} ({s['span_within_1s_count']})"
        t = s["query_wall_s"]
        lines.append(
            f"| {name} | {pct(s['recall_at_1'])} ({s['hits']}/{s['copies']}) | "
            f"{s['false_matches']}/{s['negatives']} ({pct(s['false_match_rate'])}) | "
            f"{s['wrong_reference']}/{s['copies']} | {span} | {fmt_s(t['mean'])} | {fmt_s(t['median'])} | "
            f"{fmt_s(t['p95'])} | {fmt_s(s['query_cpu_s']['mean'])} | {fmt_s(s['ingest_wall_s'])} | "
            f"{fmt_s(s['ingest_cpu_s'])} | {fmt_s(s['ingest_footage_min_per_wall_min'])} |"
        )
    ok = {n: m for n, m in methods.items() if m["status"] == "ok"}
    if ok:
        groups: set[str] = set()
        for m in ok.values():
            groups |= set(m["summary"]["groups"])
        lines.append("")
        lines.append("Per edit: copies found at rank 1 (hits/n); negatives: false matches/n (lower is better).")
        lines.append("")
        lines.append("| group | n | " + " | ".join(ok) + " |")
        lines.append("|---|---|" + "---|" * len(ok))
        for g in group_order(groups):
            n = next(m["summary"]["groups"][g]["n"] for m in ok.values() if g in m["summary"]["groups"])
            cells = []
            for m in ok.values():
                gs = m["summary"]["groups"].get(g)
                if gs is None:
                    cells.append("")
                elif g.startswith("negative:"):
                    cells.append(f"{gs['false_matches']}/{gs['n']} FM")
                else:
                    cells.append(f"{gs['hits']}/{gs['n']}")
            lines.append(f"| {g} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        ff = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, timeout=30).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        ff = "?"
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        # other work on the machine skews the timings: compare with the core count
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "ffmpeg": ff,
    }


def make_method(name: str, index_url: str | None, workdir: Path) -> Method:
    if name == "provenance":
        return ProvenanceMethod(index_url, workdir)
    if name == "phash_vote":
        return PhashVoteMethod()
    if name == "vpdq":
        return VpdqMethod()
    raise SystemExit(f"unknown method {name!r}; choose from {', '.join(ALL_METHODS)}")


def run_method(method: Method, refs: list[Item], queries: list[Query], footage_s: float) -> dict[str, Any]:
    reason = method.available()
    if reason is not None:
        log(f"[{method.name}] unavailable: {reason}")
        return {"status": f"unavailable: {reason}"}
    try:
        params = method.params()
        log(f"[{method.name}] ingest {len(refs)} references")
        c0 = cpu_seconds()
        ingest = method.ingest(refs)
        ingest["cpu_s"] = cpu_seconds() - c0
        log(f"[{method.name}] ingest took {ingest['wall_s']:.1f} s")
    except Exception as exc:  # noqa: BLE001 - a broken method is reported, the others still run
        log(traceback.format_exc())
        method.close()
        return {"status": f"unavailable: ingest failed: {type(exc).__name__}: {exc}"}
    rows = []
    try:
        for i, q in enumerate(queries, 1):
            c0, t0 = cpu_seconds(), time.perf_counter()
            try:
                out = method.query(q)
            except Exception as exc:  # noqa: BLE001 - one failing query is recorded, not fatal
                out = Outcome(matches=[], error=f"{type(exc).__name__}: {exc}")
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            row = score_query(q, out, wall, cpu)
            rows.append(row)
            top = out.matches[0] if out.matches else None
            if q.is_copy:
                mark = "hit " if row["hit"] else ("WRONG" if row["wrong_reference"] else "miss")
            else:
                mark = "FALSE" if row["false_match"] else "ok  "
            found = f"{top.item or top.ref} {top.score:.2f}" if top else "-"
            err = f" ERROR {out.error}" if out.error else ""
            head = f"  [{method.name}] {i:3d}/{len(queries)} {q.id} {q.group:<32} {mark} {found}"
            log(f"{head} ({wall:.2f} s, cpu {cpu:.2f} s){err}")
    finally:
        method.close()
    summary = summarise(rows, ingest, footage_s, method.localises)
    return {
        "status": "ok",
        "params": params,
        "ingest": ingest,
        "summary": summary,
        **debug_lists(rows),
        "queries": rows,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--data", type=Path, required=True, help="data set folder made by make_set.py (manifest.json, truth.json)"
    )
    ap.add_argument("--out", type=Path, default=Path("bench/out"), help="output folder [bench/out]")
    ap.add_argument("--methods", default=",".join(ALL_METHODS), help=f"comma list of {', '.join(ALL_METHODS)} [all]")
    ap.add_argument(
        "--index-url",
        help="index for provenance (e.g. sqlite:///bench/out/index.sqlite to keep it); default: a fresh one in a temp dir",
    )
    ap.add_argument("--queries", help="comma list of query ids to run (debugging); default: all")
    args = ap.parse_args(argv)

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for m in methods:
        if m not in ALL_METHODS:
            ap.error(f"unknown method {m!r}; choose from {', '.join(ALL_METHODS)}")
    only = {q.strip() for q in args.queries.split(",")} if args.queries else None
    data = args.data.resolve()
    data_meta, items, queries = load_data(data, only)
    refs = [i for i in items if i.split == "reference"]
    footage_s = sum(r.duration for r in refs)
    args.out.mkdir(parents=True, exist_ok=True)

    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "machine": machine(),
            "data": {
                "path": str(data),
                **data_meta,
                "references": len(refs),
                "reference_footage_s": footage_s,
                "copies": sum(1 for q in queries if q.is_copy),
                "negative_queries": sum(1 for q in queries if not q.is_copy),
                "queries_subset": sorted(only) if only else None,
            },
            "span_tolerance_s": SPAN_TOLERANCE_S,
            "methods": methods,
        },
        "methods": {},
    }
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="provenance-bench-") as tmp:
        for name in methods:
            method = make_method(name, args.index_url, Path(tmp))
            t0 = time.perf_counter()
            results["methods"][name] = run_method(method, refs, queries, footage_s)
            results["methods"][name]["total_wall_s"] = round(time.perf_counter() - t0, 2)
    results["meta"]["total_wall_s"] = round(time.perf_counter() - t_start, 2)
    results["meta"]["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]

    table = render_tables(results)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (args.out / "table.md").write_text(table)
    print(table)
    for name, m in results["methods"].items():
        if m["status"] == "ok":
            print(
                f"{name}: {len(m['misses'])} misses, {len(m['false_matches'])} false matches, "
                f"{m['summary']['errors']} errors, {m['total_wall_s']:.0f} s total"
            )
    print(f"wrote {args.out / 'results.json'} and {args.out / 'table.md'} ({results['meta']['total_wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
