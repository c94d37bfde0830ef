"""The one-call pipeline: probe, sample, hash, match, decide, report.

>>> from provenance import check
>>> claim = build_claim(file="samples/claim.yml")      # provenance.claims
>>> report = check("samples/viral.mp4", index="sqlite:///samples.sqlite", claim=claim)
>>> report.verdict.code, [f.code for f in report.findings][:2]
('footage_predates_claim', ['reencoded_by_ffmpeg', 'metadata_stripped'])
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from . import __version__, tools
from . import diagnose as diagnose_mod
from . import hashing as hashing_mod
from . import layout as layout_mod
from . import match as match_mod
from . import metadata as metadata_mod
from . import shots as shots_mod
from . import verdict as verdict_mod
from .c2pa import ContentCredentials, read_content_credentials
from .claims import Claim
from .claims import places as places_mod
from .decode import Decoder, Decoding, Frames, Plan, Unprobed, choose_decoder
from .diagnose import diagnose_match, with_frame_evidence
from .errors import BadInputError, ProcessingError
from .evidence import THUMB_LONG_SIDE, make_keyframes
from .hashing import ALGORITHM, VARIANT_FULL, hash_query
from .index import Index, open_index
from .ingest import REF_FPS, sha256_of
from .layout import find_layout
from .metadata import first_seen_days, inspect
from .probe import MediaFacts, image_format, probe
from .report import InputFacts, Report
from .shots import shot_keyframes
from .verdict import decide

#: Frames per second sampled from a query clip: dense enough for a 3 s clip
#: and so that every reference frame (sampled at REF_FPS) has a query frame
#: within 1/8 s of it.
QUERY_FPS = 4.0
#: How queries are decoded: every sample the frame a full decode gives (no frame dropped; the
#: libav worker skips only unreferenced frames that are no sample), deblocking skipped only on
#: unreferenced frames, one thread. Measured in docs/tuning.md.
QUERY_DECODING = Decoding(threads=1, skip_loop_filter="noref", skip_unsampled=True)
#: Most seconds of a query examined; the rest is reported as not examined.
#: Query hashing holds every sampled frame several times over (content box,
#: six orientations), about 350 kB per sample here, so 30 min is ~2.5 GB.
MAX_QUERY_DURATION_S = 1800.0


def query_plan(*, keyframes: bool) -> Plan:
    """How a query clip is sampled; with `keyframes`, colour samples at the thumbnails' size too."""
    return Plan(
        QUERY_FPS,
        decoding=QUERY_DECODING,
        max_duration_s=MAX_QUERY_DURATION_S,
        colour_long_side=THUMB_LONG_SIDE if keyframes else None,
    )


#: The thresholds reports carried before they were recorded by stage, under their old flat names
#: (the name in its stage's `THRESHOLDS`): they stay first in `tool.thresholds`, unprefixed.
HEADLINE_THRESHOLDS = (
    ("match_threshold", "match"),
    ("frame_match_distance", "match"),
    ("candidate_distance", "match"),
    ("min_matched_frames", "match"),
    ("min_frame_std", "hashing"),
    ("min_informative_frames", "verdict"),
    ("query_fps", "sampling"),
    ("reference_fps", "sampling"),
)


def thresholds_by_stage() -> dict[str, dict[str, float]]:
    """Every threshold a decision of `check` uses, by stage in pipeline order (each stage's `THRESHOLDS`).

    Returns:
        {stage: {name: value}}; names are the constants' names in lower case, with a
        unit or an end where the constant is a time span or a pair (docs/report.md).
    """
    sampling = {"query_fps": QUERY_FPS, "reference_fps": REF_FPS, "max_query_duration_s": MAX_QUERY_DURATION_S}
    return {
        "sampling": sampling,
        "hashing": dict(hashing_mod.THRESHOLDS),
        "layout": dict(layout_mod.THRESHOLDS),
        "shots": dict(shots_mod.THRESHOLDS),
        "match": dict(match_mod.THRESHOLDS),
        "diagnose": dict(diagnose_mod.THRESHOLDS),
        "claims": dict(places_mod.THRESHOLDS),
        "metadata": dict(metadata_mod.THRESHOLDS),
        "verdict": dict(verdict_mod.THRESHOLDS),
    }


def thresholds() -> dict[str, float]:
    """Every threshold a report depends on, as the report's flat `tool.thresholds` records them.

    Returns:
        The `HEADLINE_THRESHOLDS` under their old names first, then every
        threshold of `thresholds_by_stage` as ``"stage.name"``.
    """
    by_stage = thresholds_by_stage()
    flat = {name: by_stage[stage][name] for name, stage in HEADLINE_THRESHOLDS}
    flat.update((f"{stage}.{name}", value) for stage, values in by_stage.items() for name, value in values.items())
    return flat


def check(
    path: Path | str,
    index: Index | str | Path | None = None,
    claim: Claim | None = None,
    *,
    keyframes: bool = True,
) -> Report:
    """Check a clip or still image against a reference index.

    Args:
        path: the clip.
        index: an open `Index`, or its URL/path (`open_index` default when None).
        claim: what the clip is said to show (`provenance.claims.build_claim`);
            the verdict dates matches against its date and the metadata findings
            compare the file's tags with its date and place.
        keyframes: put thumbnails of the clip and of each match's aligned
            frames in the report (for the HTML and Markdown forms; costs a few
            ffmpeg seeks per match, so speed benchmarks turn it off).

    Returns:
        The `Report`.

    Raises:
        BadInputError: the clip cannot be read or decoded at all.
        IndexUnavailableError: the index cannot be opened.
        ToolMissingError: ffmpeg/ffprobe are missing.
    """
    own = not isinstance(index, Index)
    idx = open_index(index) if own else index  # type: ignore[arg-type]
    assert isinstance(idx, Index)
    try:
        return _check(Path(path), idx, keyframes=keyframes, claim=claim)
    finally:
        if own:
            idx.close()


def _check(path: Path, idx: Index, *, keyframes: bool = True, claim: Claim | None = None) -> Report:
    # The file's digest, its content credentials and ffmpeg's version string
    # are read while the clip decodes (all three wait on I/O or a subprocess).
    decoder = choose_decoder()
    with ThreadPoolExecutor(max_workers=1) as side:
        facts, early = _probe_while_sampling(path, side, decoder, keyframes=keyframes)
        sha_job = side.submit(sha256_of, path)
        credentials_job = side.submit(read_content_credentials, path)
        version_job = side.submit(tools.ffmpeg_version)
        return _checked(
            path,
            idx,
            facts,
            sha_job,
            credentials_job,
            version_job,
            decoder,
            keyframes=keyframes,
            claim=claim,
            early=early,
        )


def _probe_while_sampling(
    path: Path, side: ThreadPoolExecutor, decoder: Decoder, *, keyframes: bool
) -> tuple[MediaFacts, Frames | None]:
    """Probe the clip with ffprobe on `side` while the decoder samples it (`Decoder.sample_unprobed`).

    Returns the facts and the samples, or None for the samples when the
    clip is a still image, the decoder cannot sample before the probe, or it
    read the stream differently from ffprobe (then `Decoder.sample` samples it again).
    The probe's verdict on the file comes first: a file ffprobe refuses is
    refused with its message whatever the worker made of it. Saves the
    probe's time on the wall clock (~0.1 s a clip).
    """
    if not (decoder.can_sample_unprobed and path.is_file()) or image_format(path) is not None:
        return probe(path), None  # (a named pipe must not be opened: probe refuses it first)
    probe_job = side.submit(probe, path)
    early: Unprobed | None = None
    failed: ProcessingError | None = None
    try:
        early = decoder.sample_unprobed(path, query_plan(keyframes=keyframes))
    except ProcessingError as exc:  # a time limit or a crash: the same decode would meet it again
        failed = exc
    except BadInputError:
        pass  # Decoder.sample, with the probe's facts, says why in the usual words
    facts = probe_job.result()
    if facts.kind == "image":
        return facts, None
    if failed is not None:
        raise failed
    return facts, decoder.frames_from(early, facts) if early is not None else None


def _checked(
    path: Path,
    idx: Index,
    facts: MediaFacts,
    sha_job: Future[str],
    credentials_job: Future[ContentCredentials],
    version_job: Future[str],
    decoder: Decoder,
    *,
    keyframes: bool,
    claim: Claim | None,
    early: Frames | None = None,
) -> Report:
    sampled = early if early is not None else decoder.sample(path, query_plan(keyframes=keyframes), facts)
    layout = find_layout(sampled.images)
    hashes = hash_query(sampled.times, sampled.images, layout.content_box, layout.inner_rect)
    informative = len(hashes.select(VARIANT_FULL))
    found = match_mod.find_matches(
        hashes,
        idx,
        query_fps=sampled.fps or QUERY_FPS,
        query_duration_s=facts.duration_s,
        query_is_image=facts.kind == "image",
    )
    disp_w, disp_h = facts.display_size
    segments = [
        diagnose_match(
            a,
            query_duration_s=facts.duration_s,
            content_box=layout.content_box,
            inner_rect=layout.inner_rect,
            query_fps=facts.fps if facts.kind == "video" else None,
            query_size=(disp_w, disp_h),
        )
        for a in found
    ]
    matches = tuple(s for s in segments if s.score >= match_mod.MATCH_THRESHOLD)
    candidates = tuple(s for s in segments if s.score < match_mod.MATCH_THRESHOLD)[:5]
    thumbs = None
    if keyframes:
        shots = [k.t for k in shot_keyframes(sampled)]
        thumbs = make_keyframes(path, facts, shots, matches, decoder=decoder, sampled=sampled)
        # The aligned frame pairs are evidence too: colour, overlays, blur, the measured crop.
        matches = tuple(
            with_frame_evidence(m, thumbs.for_match(i), layout.content_box, layout.inner_rect)
            for i, m in enumerate(matches)
        )
    first_seen = first_seen_days((m.reference.source.first_seen, m.reference.id) for m in matches)
    findings = inspect(facts, claim=claim, first_seen=first_seen, credentials=credentials_job.result())
    verdict = decide(
        matches, informative_frames=informative, is_image=facts.kind == "image", claim=claim, findings=findings
    )
    warnings = list(sampled.warnings) + [f"tag {t} was longer than the limit and was cut" for t in facts.truncated_tags]
    skipped = len(sampled) - informative
    if skipped:
        warnings.append(f"{skipped} of {len(sampled)} sampled frames were too flat (black, blank) to compare")
    if thumbs is not None:
        warnings.extend(thumbs.notes)
    return Report(
        input=InputFacts(
            path=str(path),
            sha256=sha_job.result(),
            kind=facts.kind,
            duration_s=round(facts.duration_s, 3),
            width=disp_w,
            height=disp_h,
            fps=facts.fps,
            frames_sampled=len(sampled),
            frames_informative=informative,
            sample_fps=sampled.fps,
            unreadable=sampled.unreadable,
        ),
        matches=matches,
        candidates=candidates,
        verdict=verdict,
        tool={
            "name": "provenance",
            "version": __version__,
            "ffmpeg_version": version_job.result(),
            "decoder": decoder.describe(still=facts.kind == "image"),
            "hash_algorithm": ALGORITHM,
            "thresholds": thresholds(),
        },
        index=idx.identity(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        warnings=tuple(warnings),
        metadata={"probe": facts.to_dict()},
        keyframes=thumbs,
        claim=claim,
        findings=findings,
    )
