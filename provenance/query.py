"""Stage query: one `Query` record per input, built once and used by `check` and `index add` alike.

A clip becomes a query by one path: its SHA-256, its probe facts, its
samples, its layout (for a query) and its frame hashes with their variants.
`build_query` walks it once; `provenance.check` then matches, diagnoses and
reports over the record, and ``index add`` stores a reference's hashes from
the same record::

    >>> query = build_query("samples/viral.mp4", role=Role.QUERY, decoder=choose_decoder())
    >>> query.facts.kind, len(query.frames), query.informative_frames, query.sha256[:12]
    ('video', 28, 28, '78ff9449fbde')
    >>> [round(x, 2) for x in query.layout.content_box]
    [0.11, 0.06, 0.89, 0.94]
    >>> ref = build_query("samples/refs/tree_window.mp4", role=Role.REFERENCE)
    >>> ref.frames.fps, sorted(set(ref.hashes.variants.tolist()))
    (2.0, [0, 16, 24, 32])

The two roles differ in how densely and how carefully the file is decoded
and in what is hashed: a query at `QUERY_FPS` with every query variant
(`hashing.hash_query`) over its layout, a reference at `REF_FPS` with the
reference variants (`hashing.hash_reference`). What only a report records
(content credentials, ffmpeg's version, the decoder's name) is read for
queries alone. The channels still to come (sound, on-screen text, local
features) have their fields here, None until their stages exist.
"""

from __future__ import annotations

import hashlib
import math
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from . import features as features_mod
from . import tools
from .audio import SoundPrint, SoundStatus, fingerprint_sound
from .c2pa import ContentCredentials, read_content_credentials
from .camera import CameraMotion, describe_motion
from .decode import WORK_SIZE, Decoder, Decoding, Frames, Plan, Sparse, Unprobed, Views, choose_decoder, still_frames
from .errors import BadInputError, ProcessingError, ToolMissingError
from .hashing import VARIANT_FULL, FrameHashes, hash_query, hash_reference
from .layout import Layout, find_layout
from .probe import MediaFacts, image_format, is_animation, probe, probe_reading
from .text import TEXT_DETAIL, TextReading

#: Samples a second taken from a query clip (> 0, a multiple of `REF_FPS`): every reference
#: sample has a query sample at its own time, and a 3 s clip still gives 12 (docs/tuning.md).
QUERY_FPS = 4.0
#: How queries are decoded: every sample the frame a full decode gives (no frame dropped; the
#: libav worker skips only unreferenced frames that are no sample), deblocking skipped only on
#: unreferenced frames, one thread. Measured in docs/tuning.md.
QUERY_DECODING = Decoding(threads=1, skip_loop_filter="noref", skip_unsampled=True)
#: Most seconds of a query examined (> 0), the rest reported as not examined: query hashing holds
#: every sample several times over (content box, six orientations), about 350 kB per sample
#: here, so 30 min is ~2.5 GB (docs/tuning.md).
MAX_QUERY_DURATION_S = 1800.0
#: Samples a second taken from a reference (> 0, `QUERY_FPS` a multiple of it): what the index
#: stores per second of footage, four variants each (docs/tuning.md).
REF_FPS = 2.0
#: How references are decoded: unreferenced frames dropped (``-skip_frame noref``), deblocking
#: skipped, one thread per decoder (ingest runs one per core): 37% of the CPU of a dense decode,
#: 95% of hashes within 2 bits, the benchmark's matching table unchanged (docs/tuning.md).
REF_DECODING = Decoding(skip_frame="noref", threads=1, skip_loop_filter="all")
#: Decoder threads of a reference prepared while another core is idle (`ingest.spare_threads`):
#: frame threads, the same frames. One 2-minute 720p file, idle 2-core machine: 29.4x -> 31.4x real
#: time by the wall clock, with the camera finding beside the features (docs/tuning.md).
REF_SPARE_THREADS = 2
#: Samples a second a reference's pass takes, each kept as a view of verify's (`Query.views`, stored),
#: every `REF_HASHED_EVERY`-th hashed (a whole multiple of `REF_FPS`; docs/tuning.md).
REF_VIEWS_FPS = 4.0
#: The views' long side, pixels: the samples' own size (`decode.WORK_SIZE`), the query's views' size.
VIEW_LONG_SIDE = WORK_SIZE
#: Which of a reference's samples are hashed: every n-th, the ticks a pass at `REF_FPS` takes.
REF_HASHED_EVERY = round(REF_VIEWS_FPS / REF_FPS)
#: The features channel's frames of a reference, taken by the same sampling pass (`decode.Sparse`):
#: every `REF_VIEWS_FPS` / `features.REF_FPS`-th sample (4 today), at `features.REF_LONG_SIDE`.
#: The same frames a decode of their own gave, one decode fewer (docs/design.md).
REF_FEATURE_FRAMES = Sparse(features_mod.REF_LONG_SIDE, round(REF_VIEWS_FPS / features_mod.REF_FPS))
if (
    abs(REF_FEATURE_FRAMES.every * features_mod.REF_FPS - REF_VIEWS_FPS) > 1e-9
    or abs(REF_HASHED_EVERY * REF_FPS - REF_VIEWS_FPS) > 1e-9
):  # pragma: no cover - a constants' edit
    raise ImportError("query.REF_VIEWS_FPS must be a whole multiple of REF_FPS and features.REF_FPS: one pass")


class Role(StrEnum):
    """What an input is built for: a clip to check, or footage to index."""

    #: Checked against the index: sampled at `QUERY_FPS`, its layout found, every query variant hashed.
    QUERY = "query"
    #: Added to the index: sampled at `REF_FPS`, the reference variants hashed.
    REFERENCE = "reference"


@dataclass(frozen=True)
class Query:
    """One input as every later stage sees it, built once by `build_query`.

    `credentials`, `ffmpeg_version` and `decoder` are what a report records
    beside the evidence; they are read for a query and None for a reference.
    `layout` is None for a reference (references are hashed whole and by
    centred crops). `sound`, `text` and `features` are the channels of
    stages still to come, None until then.
    """

    path: Path
    role: Role
    sha256: str
    facts: MediaFacts
    frames: Frames
    hashes: FrameHashes
    layout: Layout | None = None
    credentials: ContentCredentials | None = None
    ffmpeg_version: str | None = None
    decoder: str | None = None
    #: The sound track's fingerprints over time (the audio stage); None only for a still image.
    sound: SoundPrint | None = None
    #: Words burned into the picture, with times and boxes (the text stage; `pipeline.check`
    #: reads them beside the matching and sets them here).
    text: TextReading | None = None
    #: Local descriptors of a sparse sample of frames (the features stage): a reference's are
    #: described from its sampling pass; a query's are None until described (`describe_features`;
    #: `check` describes a query only when the index has features).
    features: features_mod.Features | None = None
    #: A reference's camera finding (`camera.describe_motion` of its samples), made while its
    #: features are described; None for a query and a still image.
    camera: CameraMotion | None = None
    #: A video reference's grey samples at `REF_VIEWS_FPS` (`frames` holds every `REF_HASHED_EVERY`-th):
    #: verify's views of it, stored in the index; None for a query, a still image and sound.
    views: Views | None = None

    @property
    def is_audio(self) -> bool:
        """Whether the input is sound only (no picture to match: the picture channel does not apply)."""
        return self.facts.kind == "audio"

    @property
    def is_image(self) -> bool:
        """Whether the input is a still image (one frame at t = 0)."""
        return self.facts.kind == "image"

    @property
    def informative_frames(self) -> int:
        """Samples with enough texture to be hashed (`hashing.MIN_FRAME_STD`)."""
        return len(self.hashes.select(VARIANT_FULL))

    @property
    def flat_frames(self) -> int:
        """Samples too flat (black, blank) to be hashed or compared."""
        return len(self.frames) - self.informative_frames

    @property
    def unreadable(self) -> tuple[tuple[float, float], ...]:
        """(start_s, end_s) spans of the input that could not be decoded."""
        return self.frames.unreadable

    @property
    def warnings(self) -> tuple[str, ...]:
        """The input's own warnings: the decoder's, tags cut at their limit, frames too flat to compare."""
        out = list(self.frames.warnings)
        out += [f"tag {t} was longer than the limit and was cut" for t in self.facts.truncated_tags]
        if self.flat_frames:
            out.append(
                f"{self.flat_frames} of {len(self.frames)} sampled frames were too flat (black, blank) to compare"
            )
        if self.sound is not None and self.sound.note and self.sound.status != SoundStatus.NO_AUDIO_STREAM:
            out.append(f"sound: {self.sound.note}")
        return tuple(out)


def sha256_of(path: Path | str) -> str:
    """SHA-256 of a file's bytes, hex.

    Args:
        path: a local file.

    Returns:
        The digest as 64 hex digits.

    Raises:
        BadInputError: the path is not a regular file (reading a named pipe would block for ever).
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    # O_NONBLOCK: opening a named pipe must not wait for a writer that never comes.
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise BadInputError(f"{path}: not a regular file (a pipe, socket or device); give a downloaded media file")
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plan_for(role: Role | str, *, keyframes: int | None = None, text: bool = False) -> Plan:
    """How an input of `role` is sampled.

    Args:
        role: `Role.QUERY` or `Role.REFERENCE`.
        keyframes: for a query, also keep colour samples this many pixels
            long (the report's thumbnails, `evidence.THUMB_LONG_SIDE`), so
            the clip need not be decoded again; None keeps none.
        text: for a query, also keep the text stage's large frames
            (`text.TEXT_DETAIL`) from the same pass; False keeps none.

    Returns:
        The `Plan`.

    Raises:
        ValueError: `role` is not a `Role`.
    """
    if Role(role) is Role.REFERENCE:
        return Plan(REF_VIEWS_FPS, decoding=REF_DECODING, sparse=REF_FEATURE_FRAMES)
    return Plan(
        QUERY_FPS,
        decoding=QUERY_DECODING,
        max_duration_s=MAX_QUERY_DURATION_S,
        colour_long_side=keyframes,
        detail=TEXT_DETAIL if text else None,
    )


def build_query(
    path: Path | str,
    *,
    role: Role | str,
    decoder: Decoder | None = None,
    keyframes: int | None = None,
    sha256: str | None = None,
    facts: MediaFacts | None = None,
    text: bool = False,
    threads: int = 1,
) -> Query:
    """Read, sample and hash one input once, for checking or for indexing.

    A query's facts are read from the decoder's own reading of its container
    while it samples it, else probed (`_probe_while_sampling`); its SHA-256, content credentials and ffmpeg's
    version are read on a side thread meanwhile. A reference is probed, then
    sampled once for every picture channel (the hashes' samples and, from the
    same pass, the features channel's frames, `REF_FEATURE_FRAMES`, described
    into `Query.features`) while its sound is fingerprinted on a thread of its
    own; only its SHA-256 is read besides, and the camera finding
    (`camera.describe_motion`) is made beside the features.

    Args:
        path: the clip or still image.
        role: `Role.QUERY` or `Role.REFERENCE` (or their values).
        decoder: samples the file; `provenance.decode.choose_decoder`'s when
            None (for a reference, chosen only when the file is a video).
        keyframes: for a query, the long side of colour samples to keep for
            the report's thumbnails (`plan_for`); None keeps none.
        sha256: the file's SHA-256 when the caller has read it already
            (ingest reads it first to skip a file already indexed).
        facts: the file's probe result when the caller has it (then the file
            is not probed again).
        text: for a query, keep the text stage's large frames from the
            sampling pass (`plan_for`), so reading the words decodes nothing more.
        threads: for a reference, the picture's decoder threads (`REF_SPARE_THREADS`
            when a core would otherwise be idle); a query is decoded on one.

    Returns:
        The `Query`.

    Raises:
        BadInputError: the file cannot be read, probed or decoded at all.
        ProcessingError: the decoder failed or exceeded its time limit.
        ToolMissingError: ffmpeg/ffprobe are missing.
        OSError: the file could not be read for its SHA-256 (ingest reads it first and says why).
        ValueError: `role` is not a `Role`.
    """
    path = Path(path)
    role = Role(role)
    plan = plan_for(role, keyframes=keyframes, text=text)
    if role is Role.REFERENCE:
        if threads > 1:
            plan = replace(plan, decoding=replace(plan.decoding, threads=int(threads)))
        return _reference(path, plan, decoder, sha256, facts)
    decoder = decoder or choose_decoder()
    with ThreadPoolExecutor(max_workers=1) as side:
        reads = _SideReads(side, path, sha256)
        if facts is None:
            facts, early = _probe_while_sampling(path, side, decoder, plan, then=reads.start)
        else:
            reads.start(facts)
            early = None
        if facts.kind == "audio":
            return _sound_query(path, facts, reads)
        sampled = early if early is not None else decoder.sample(path, plan, facts)
        layout = find_layout(sampled.images)
        hashes = hash_query(sampled.times, sampled.images, layout.content_box, layout.inner_rect)
        credentials, sha, version = reads.results()
        return Query(
            path,
            role,
            sha,
            facts,
            sampled,
            hashes,
            layout=layout,
            credentials=credentials,
            ffmpeg_version=version,
            decoder=decoder.describe(still=facts.kind == "image" or is_animation(facts)),
            sound=reads.sound(),
        )


def _reference(path: Path, plan: Plan, decoder: Decoder | None, sha256: str | None, facts: MediaFacts | None) -> Query:
    """A reference's `Query`: one decode of the picture feeds the hashes, the camera's samples and the
    features channel (`REF_FEATURE_FRAMES`); the sound is fingerprinted on a thread of its own meanwhile,
    and the camera finding is made on another while the features are described (both mostly in
    OpenCV, which lets go of the interpreter: a spare core takes one)."""
    sha = sha256 if sha256 is not None else sha256_of(path)
    facts = facts or probe(path)
    hearing = _Beside(fingerprint_sound, path, facts) if facts.kind != "image" else None
    sampled = _sample(path, plan, facts, decoder)
    views = Views(sampled.times, sampled.images) if facts.kind == "video" else None
    hashed = _hashed_samples(sampled) if facts.kind == "video" else sampled
    moving = _Beside(describe_motion, hashed.times, hashed.images) if facts.kind == "video" else None
    # The features' sparse frames are counted on the whole pass (every `REF_FEATURE_FRAMES.every`-th sample).
    described = _reference_features(path, facts, sampled, decoder)
    hashes = hash_reference(hashed.times, hashed.images)
    sound = hearing.result() if hearing is not None else None
    camera = moving.result() if moving is not None else None
    # The large frames are described: let them go rather than keep them with the record.
    hashed = replace(hashed, sparse=None, sparse_times=None)
    return Query(
        path, Role.REFERENCE, sha, facts, hashed, hashes, sound=sound, features=described, camera=camera, views=views
    )


def _hashed_samples(sampled: Frames) -> Frames:
    """The samples at `REF_FPS` of a pass at `REF_VIEWS_FPS`: those of every `REF_HASHED_EVERY`-th tick,
    the very frames a pass at `REF_FPS` takes (the sampling rule is the last frame shown at or
    before a tick's time, and tick k at `REF_FPS` is tick k x `REF_HASHED_EVERY` here)."""
    ticks = np.round(np.asarray(sampled.times, dtype=np.float64) * sampled.fps).astype(np.int64)
    keep = ticks % REF_HASHED_EVERY == 0
    colour = None if sampled.colour is None else sampled.colour[keep]
    return replace(sampled, times=sampled.times[keep], images=sampled.images[keep], fps=REF_FPS, colour=colour)


def _reference_features(
    path: Path, facts: MediaFacts, sampled: Frames, decoder: Decoder | None
) -> features_mod.Features:
    """The features of a reference from its sampling pass's sparse frames; from a decode of their own
    only when that pass did not give them all (a decoder that stopped early on a damaged file)."""
    if facts.kind == "audio":
        return features_of(sampled, role=Role.REFERENCE)
    wanted = REF_FEATURE_FRAMES.count(len(sampled)) if facts.kind != "image" else 1
    if sampled.sparse is None or sampled.sparse_times is None or len(sampled.sparse) != wanted:
        return describe_features(path, facts, role=Role.REFERENCE, decoder=decoder)
    return features_mod.describe(
        sampled.sparse_times,
        sampled.sparse,
        long_side=features_mod.REF_LONG_SIDE,
        n_features=features_mod.REF_FEATURES,
    )


T = TypeVar("T")


class _Beside(Generic[T]):
    """A call run on a daemon thread of its own (a stop signal to the process is not held up by it);
    `result` waits for it and returns its value or raises its error."""

    def __init__(self, call: Callable[..., T], *args: object) -> None:
        self.value: T | None = None
        self.error: BaseException | None = None
        name = f"reference-{getattr(call, '__name__', 'work')}"
        self.thread = threading.Thread(target=self._run, args=(call, *args), daemon=True, name=name)
        self.thread.start()

    def _run(self, call: Callable[..., T], *args: object) -> None:
        try:
            self.value = call(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by `result`
            self.error = exc

    def result(self) -> T:
        self.thread.join()
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


def describe_features(
    path: Path | str, facts: MediaFacts, *, role: Role | str, decoder: Decoder | None = None
) -> features_mod.Features:
    """The local features of an input (`features.describe`), from a decode of their own.

    A reference is sampled at `features.REF_FPS` (decoded as `REF_DECODING`)
    at `features.REF_LONG_SIDE`; a query at up to `features.QUERY_FPS`, at
    most `features.MAX_QUERY_FRAMES` frames spread over the clip, at
    `features.QUERY_LONG_SIDE`, and also mirrored. A still image is one frame.

    Args:
        path: the clip or still image.
        facts: its probe facts.
        role: `Role.QUERY` or `Role.REFERENCE`.
        decoder: samples the file (`choose_decoder`'s when None and the file is a video).

    Returns:
        The `Features` (frames with no corner left out).

    Raises:
        BadInputError, ProcessingError: as `build_query`.
    """
    sampled = sample_for_features(path, facts, role=role, decoder=decoder)
    return features_of(sampled, role=role)


def sample_for_features(
    path: Path | str, facts: MediaFacts, *, role: Role | str, decoder: Decoder | None = None
) -> Frames:
    """The grey frames the features channel describes (`describe_features`' decode).

    A reference at `features.REF_FPS` and `features.REF_LONG_SIDE`; a query at
    up to `features.QUERY_FPS` (at most `features.MAX_QUERY_FRAMES` frames) and
    `features.DECODE_LONG_SIDE`, so that regions of it (a split screen's pane,
    an inner picture) can be cut at the reference's scale
    (`features.describe_region`).

    Raises:
        BadInputError, ProcessingError: as `build_query`.
    """
    path = Path(path)
    if Role(role) is Role.REFERENCE:
        plan = Plan(features_mod.REF_FPS, long_side=features_mod.REF_LONG_SIDE, decoding=REF_DECODING)
    else:
        fps = features_mod.query_times(min(facts.duration_s, MAX_QUERY_DURATION_S))
        plan = Plan(
            fps, long_side=features_mod.DECODE_LONG_SIDE, decoding=QUERY_DECODING, max_duration_s=MAX_QUERY_DURATION_S
        )
    return _sample(path, plan, facts, decoder)


def features_of(sampled: Frames, *, role: Role | str) -> features_mod.Features:
    """The local features of frames sampled by `sample_for_features` (a query's mirrored too)."""
    if Role(role) is Role.REFERENCE:
        return features_mod.describe(
            sampled.times, sampled.images, long_side=features_mod.REF_LONG_SIDE, n_features=features_mod.REF_FEATURES
        )
    return features_mod.describe(
        sampled.times,
        sampled.images,
        long_side=features_mod.QUERY_LONG_SIDE,
        n_features=features_mod.QUERY_FEATURES,
        mirror=True,
    )


def _query_sound(path: Path, facts: MediaFacts) -> SoundPrint:
    """A query's sound fingerprint; without fpcalc, a note instead (the picture is still checked)."""
    try:
        return fingerprint_sound(path, facts, max_s=MAX_QUERY_DURATION_S, lookup=True)
    except ToolMissingError as exc:
        return SoundPrint(SoundStatus.FPCALC_MISSING, note=f"not fingerprinted: {exc}")


def _sound_query(path: Path, facts: MediaFacts, reads: _SideReads) -> Query:
    """A sound file as a query: no picture (no samples, no hashes), its sound fingerprinted.

    Raises:
        ToolMissingError: fpcalc is missing (sound is all there is to check).
    """
    sound = fingerprint_sound(path, facts, max_s=MAX_QUERY_DURATION_S, lookup=True)
    credentials, sha, version = reads.results()
    empty = _no_picture(facts)
    return Query(
        path,
        Role.QUERY,
        sha,
        facts,
        empty,
        hash_query(empty.times, empty.images, None, None),
        layout=find_layout(empty.images),
        credentials=credentials,
        ffmpeg_version=version,
        decoder="none: a sound file has no picture",
        sound=sound,
    )


class _SideReads:
    """A query's SHA-256, content credentials and ffmpeg's version, read on a side thread, and its sound.

    All of them wait on I/O or a subprocess, so they run while the clip
    decodes; they start (`start`) only once the file's facts are read (the
    worker's reading of the container, or the probe's) and it is accepted.
    A video's sound is fingerprinted on a thread of its own (`sound`), so
    that it runs beside the frames' decode rather than after the reads.
    """

    def __init__(self, side: ThreadPoolExecutor, path: Path, sha256: str | None) -> None:
        self.side, self.path, self.sha256 = side, path, sha256
        self.jobs: tuple[Future[str] | None, Future[ContentCredentials], Future[str]] | None = None
        self.hearing: ThreadPoolExecutor | None = None
        self.heard: Future[SoundPrint] | None = None

    def start(self, facts: MediaFacts) -> None:
        """Queue the three reads on the side thread (a SHA-256 already known is not read again), and a video's sound."""
        if facts.kind == "video":
            self.hearing = ThreadPoolExecutor(max_workers=1)
            self.heard = self.hearing.submit(_query_sound, self.path, facts)
        self.jobs = (
            self.side.submit(sha256_of, self.path) if self.sha256 is None else None,
            self.side.submit(read_content_credentials, self.path),
            self.side.submit(tools.ffmpeg_version),
        )

    def sound(self) -> SoundPrint | None:
        """The video's sound fingerprint once made (None for a still image or a sound file)."""
        if self.hearing is None or self.heard is None:
            return None
        try:
            return self.heard.result()
        finally:
            self.hearing.shutdown(wait=False)

    def results(self) -> tuple[ContentCredentials, str, str]:
        """(credentials, SHA-256, ffmpeg's version), once read; a read's error is raised here."""
        assert self.jobs is not None, "the side reads were never started"
        sha_job, credentials_job, version_job = self.jobs
        credentials = credentials_job.result()
        sha = sha_job.result() if sha_job is not None else str(self.sha256)
        return credentials, sha, version_job.result()


def _sample(path: Path, plan: Plan, facts: MediaFacts, decoder: Decoder | None) -> Frames:
    """`Decoder.sample`, with a decoder chosen only when a video needs one."""
    if facts.kind == "image":
        return still_frames(path, plan.long_side, plan.sparse)
    if facts.kind == "audio":
        return _no_picture(facts)
    return (decoder or choose_decoder()).sample(path, plan, facts)


def _no_picture(facts: MediaFacts) -> Frames:
    """The samples of a sound file: none."""
    return Frames(times=np.zeros(0), images=np.zeros((0, 1, 1), dtype=np.uint8), fps=0.0, duration_s=facts.duration_s)


def _probe_while_sampling(
    path: Path, side: ThreadPoolExecutor, decoder: Decoder, plan: Plan, *, then: Callable[[MediaFacts], None]
) -> tuple[MediaFacts, Frames | None]:
    """Sample the clip before it is probed (`Decoder.sample_unprobed`), its facts read from the decoder's
    own reading of the container, else probed with ffprobe.

    The libav worker opens the file to decode it and, before it decodes, gives
    its reading of the container in ffprobe's JSON shape: the facts are read
    from that (`probe.probe_reading`, on `side`, meanwhile; the display
    rotation then from the first frame decoded) and no ffprobe starts, which
    saves its 0.05-0.08 CPU s a clip. `then` is called once the file is
    accepted, with the first facts known. ffprobe probes the file, and its
    verdict and words come first, wherever that reading is missing or refused,
    no frame decoded (its message says why better than "no frame"), or the
    decoder failed. Returns the facts and the samples, or None for the samples
    when the clip is a still image, the decoder cannot sample before the
    probe, or it read the stream differently from the facts (then
    `Decoder.sample` samples it again).
    """
    if not (decoder.can_sample_unprobed and path.is_file()) or image_format(path) is not None:
        facts = probe(path)  # (a named pipe must not be opened: probe refuses it first)
        then(facts)
        return facts, None

    tools.ffprobe_path()  # a missing ffprobe is said before the decode, whether or not this file needs it

    def read_then(reading: dict[str, Any]) -> MediaFacts | None:
        try:
            facts = probe_reading(path, reading)
        except BadInputError:
            return None  # ffprobe's verdict, below
        if facts.kind != "video":
            return None
        then(facts)
        return facts

    read: list[Future[MediaFacts | None]] = []
    early: Unprobed | None = None
    failed: ProcessingError | None = None
    try:
        early = decoder.sample_unprobed(path, plan, container=lambda r: read.append(side.submit(read_then, r)))
    except ProcessingError as exc:  # a time limit or a crash: the same decode would meet it again
        failed = exc
    except BadInputError:
        pass  # Decoder.sample, with the probe's facts, says why in the usual words
    reading = read[0].result() if read else None
    if reading is not None and failed is None and early is not None and early.chosen is not None:
        facts = _turned(reading, early.chosen.rotation)
        return facts, decoder.frames_from(early, facts)
    probed = probe(path)
    if reading is None:
        then(probed)
    if probed.kind == "image":
        return probed, None
    if failed is not None:
        raise failed
    return probed, decoder.frames_from(early, probed) if early is not None else None


def _turned(facts: MediaFacts, rotation: float | None) -> MediaFacts:
    """`facts` with the display rotation the decoder's first frame gave (counter-clockwise degrees; None: 0)."""
    turn = float(rotation) % 360 if rotation is not None and math.isfinite(rotation) else 0.0
    streams = tuple(replace(s, rotation=turn) if s.index == facts.video_stream else s for s in facts.streams)
    return replace(facts, rotation=turn, streams=streams)
