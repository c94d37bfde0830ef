"""Stage match: the vote table against a plain oracle; speed changes measured on real clips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ffmpeg

from provenance.hashing import FrameHashes
from provenance.index import Candidates
from provenance.match import MIN_VOTES, OFFSET_BIN_S, SPEEDS, TOP_BINS, _Votes


def oracle_bins(query: FrameHashes, cands: Candidates, explained: np.ndarray) -> list[tuple[int, ...]]:
    """The best vote bins the slow way: rows of (ref, qv, rv, speed, bin, frame time), np.unique per row."""
    ok = ~explained[cands.query_row]
    rows = cands.query_row[ok]
    qt = query.times[rows]
    keys = []
    for s_idx, speed in enumerate(SPEEDS):
        bins = np.floor((cands.ref_t[ok] - speed * qt) / OFFSET_BIN_S).astype(np.int64)
        for shift in (0, 1):
            keys.append(
                np.stack(
                    [
                        cands.ref_id[ok].astype(np.int64),
                        query.variants[rows].astype(np.int64),
                        cands.ref_variant[ok].astype(np.int64),
                        np.full(len(rows), s_idx),
                        bins - shift,
                        np.round(qt * 1000).astype(np.int64),
                    ],
                    axis=1,
                )
            )
    table = np.unique(np.concatenate(keys), axis=0)
    bins_only, counts = np.unique(table[:, :5], axis=0, return_counts=True)
    gap = np.abs(np.log(np.asarray(SPEEDS)[bins_only[:, 3]]))
    order = np.lexsort((gap, -counts))
    out = []
    for i in order[: TOP_BINS * 4]:
        if counts[i] < MIN_VOTES:
            break
        out.append((*(int(v) for v in bins_only[i]), int(counts[i])))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_packed_votes_equal_the_row_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_frames, n_variants = 60, 3
    times = np.repeat(np.arange(n_frames) / 4.0, n_variants)
    query = FrameHashes(
        times=times,
        variants=np.tile(np.arange(n_variants), n_frames).astype(np.int8),
        hashes=rng.integers(0, 2**63, len(times), dtype=np.uint64),
    )
    n = 4000
    rows = rng.integers(0, len(times), n)
    # Hits that follow real alignments (several references, speeds, offsets) plus noise.
    ref_id = rng.choice([3, 17, 250, 9001], n)
    speed = rng.choice([0.8, 1.0, 1.25], n)
    ref_t = np.where(rng.random(n) < 0.7, 5.0 + speed * times[rows], rng.random(n) * 600)
    cands = Candidates(
        query_row=rows.astype(np.int64),
        ref_id=ref_id.astype(np.int64),
        ref_t=np.round(ref_t * 2) / 2,
        ref_variant=rng.integers(0, 4, n).astype(np.int8),
        distance=rng.integers(0, 15, n).astype(np.int16),
    )
    votes = _Votes(query, cands, set())
    explained = np.zeros(len(times), dtype=bool)
    for _ in range(3):
        got = [(h.ref_id, h.q_variant, h.r_variant, SPEEDS.index(h.speed), round(h.offset / OFFSET_BIN_S) - 1, h.votes)
               for h in votes.best(query, explained)]  # fmt: skip
        assert got == oracle_bins(query, cands, explained)
        assert got  # the planted alignments always leave bins with votes
        # Explain a random third of the frames (all variants of a frame together, as the matcher does).
        frames = np.unique(times)
        explained |= np.isin(times, frames[rng.random(len(frames)) < 0.33])


def _check(clip: Path, index_file: Path) -> Any:
    from provenance.pipeline import check

    return check(clip, f"sqlite:///{index_file}", keyframes=False)


def _codes(report: Any) -> dict[str, Any]:
    assert report.matches, report.verdict
    return {a.code: a for a in report.matches[0].alterations}


@pytest.mark.parametrize("factor", [1.25, 0.8])
def test_speed_change_is_measured_with_its_range(
    tmp_path: Path, sample_refs: Path, sample_index_file: Path, factor: float
) -> None:
    clip = tmp_path / "fast.mp4"
    src = sample_refs / "street_cyclists.mp4"
    ffmpeg(
        "-ss", "1", "-t", "7", "-i", src, "-vf", f"setpts=PTS/{factor}", "-an", "-c:v", "libx264", "-crf", "26", clip
    )
    codes = _codes(_check(clip, sample_index_file))
    assert "speed_changed" in codes
    ev = codes["speed_changed"].evidence
    assert ev["reference_seconds_per_query_second"] == pytest.approx(factor, rel=0.05)
    lo, hi = ev["plausible_range"]
    assert lo <= ev["reference_seconds_per_query_second"] <= hi
    assert not lo <= 1.0 <= hi
    if ev.get("measured_by") == "what_moves":  # the hashes' speed measured again on what moves (verify)
        assert ev["moving_difference_at_normal_speed"] > ev["moving_difference_at_speed"]
    else:
        assert ev["mean_distance_at_normal_speed"] > ev["lowest_mean_distance"]
    assert ("faster" if factor > 1 else "slower") in codes["speed_changed"].summary


def test_normal_speed_copies_report_no_speed_change(tmp_path: Path, sample_refs: Path, sample_index_file: Path) -> None:
    for name in ("street_cyclists.mp4", "storm_road_panzoom.mp4", "tree_window.mp4"):
        clip = tmp_path / f"copy-{name}"
        ffmpeg("-ss", "2", "-t", "6", "-i", sample_refs / name, "-vf", "scale=-2:360", "-b:v", "300k", "-an", clip)
        codes = _codes(_check(clip, sample_index_file))
        assert "speed_changed" not in codes, (name, codes["speed_changed"].evidence)


@pytest.mark.parametrize(
    ("setpts", "factor"), [("0.5*PTS", 2.0), ("2*PTS", 0.5), ("4*PTS", 0.25), ("0.25*PTS", 4.0), ("PTS/1.5", 1.5)]
)
def test_speeds_outside_the_ordinary_grid_are_found_and_measured(
    tmp_path: Path, sample_refs: Path, sample_index_file: Path, setpts: str, factor: float
) -> None:
    """The whole reference played at 0.25x-4x: found, speed within 10%, no claim of other footage."""
    clip = tmp_path / "speed.mp4"
    src = sample_refs / "street_cyclists.mp4"
    ffmpeg("-i", src, "-vf", f"setpts={setpts}", "-an", "-c:v", "libx264", "-crf", "26", clip)
    report = _check(clip, sample_index_file)
    assert report.matches, report.verdict
    top = report.matches[0]
    assert top.score >= 0.5
    assert top.reference.path.endswith("street_cyclists.mp4")
    assert top.speed == pytest.approx(factor, rel=0.10)
    codes = {a.code: a for a in top.alterations}
    assert "speed_changed" in codes
    ev = codes["speed_changed"].evidence
    assert ev["reference_seconds_per_query_second"] == pytest.approx(factor, rel=0.10)
    assert ev["searched_speed_range"] == [0.25, 4.0]
    assert "embedded" not in codes
    assert "reversed" not in codes
    assert len(report.matches) == 1, [(m.speed, m.query_start_s, m.query_end_s) for m in report.matches]


def test_reversed_footage_is_found_and_reported(tmp_path: Path, sample_refs: Path, sample_index_file: Path) -> None:
    clip = tmp_path / "reversed.mp4"
    ffmpeg("-i", sample_refs / "street_cyclists.mp4", "-vf", "reverse", "-an", "-c:v", "libx264", "-crf", "26", clip)
    report = _check(clip, sample_index_file)
    top = report.matches[0]
    assert top.score >= 0.5
    assert top.speed == pytest.approx(-1.0, rel=0.10)
    codes = {a.code: a for a in top.alterations}
    assert "reversed" in codes
    assert codes["reversed"].evidence["reference_seconds_per_query_second"] < 0
    assert "speed_changed" not in codes
    assert "embedded" not in codes
    assert top.reference_start_s < 1.0 and top.reference_end_s > 9.0


def test_report_records_the_searched_speed_range() -> None:
    from provenance.pipeline import thresholds_by_stage

    match = thresholds_by_stage()["match"]
    assert (match["min_speed"], match["max_speed"]) == (0.25, 4.0)
