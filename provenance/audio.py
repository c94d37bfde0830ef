"""Stage audio: the sound track's Chromaprint fingerprint over time, and how two of them align.

Chromaprint (Lukáš Lalinský; the AcoustID project) turns sound into one
32-bit sub-fingerprint ("item") every 1365 samples at 11025 Hz (about
0.124 s), each the output of 16 classifiers over roughly 2 s of chroma
(the 12 notes of the scale). Two recordings of the same sound give items
whose bits mostly agree at the right time offset, so a copy is found by
voting on offsets and judged by the bit error rate (BER) of the aligned
items: about 0.1 for a re-encoded copy, about 0.5 for unrelated sound
(docs/audio.md)::

    >>> sound = fingerprint_sound("clip.mp4", probe("clip.mp4"))
    >>> sound.status, len(sound), round(sound.step_s, 4)
    ('fingerprinted', 80, 0.1238)
    >>> aligned = align_sound(sound, reference_sound, offsets=[40])
    >>> round(aligned.offset_s, 2), aligned.ber
    (4.95, 0.07)

The sound is decoded by the confined ffmpeg call (`tools.run_ffmpeg` with
`tools.input_args`) to raw mono PCM in a temporary file, and only that file
is given to fpcalc (`tools.run_fpcalc`), whose own demuxers the confinement
cannot reach. Loudness is measured on the same samples, so silence (which
Chromaprint turns into one constant item) is never taken for sound.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from . import tools
from .errors import ProcessingError
from .probe import MediaFacts

#: Chromaprint's input rate, Hz (its own resampling target; fpcalc is fed at this rate).
SAMPLE_RATE = 11025
#: Seconds between two Chromaprint items: its frame step of 4096 / 3 samples (algorithm 2).
ITEM_STEP_S = 1365 / SAMPLE_RATE
#: Seconds of sound one item hears: a 4096-sample frame and the 15 frames its widest classifier adds.
ITEM_SPAN_S = (4096 + 15 * 1365) / SAMPLE_RATE
#: An item is silent when the RMS of what it hears is below this, dBFS (-90..0); ambient room
#: noise recorded by a phone sits at -60 to -45, speech and music at -35 to -10 (docs/tuning.md).
SILENCE_DBFS = -55.0
#: Most seconds of sound fingerprinted from one file (> 0): four hours of a reference; what lies
#: beyond is left out with a warning (about 8 items a second, 1 MB of PCM a minute).
MAX_SOUND_S = 4 * 3600.0
#: Relative speeds tried around a picture match's speed when a sped-up copy's sound is stretched back
#: with its pitch (`Resampling.RATE`): a 0.8% error in speed cost 0.07 -> 0.24 BER (docs/tuning.md).
RATE_REFINE_STEPS = (-0.008, -0.004, 0.0, 0.004, 0.008)
#: Chromaprint's item for digital silence (AcoustID's ``SILENCE``), never used as evidence.
SILENT_ITEM = 627964279
#: Items per aligned "second" when BERs are reported (8 x 0.124 s = 0.99 s).
ITEMS_PER_SECOND = 8

#: The thresholds this stage decides with, as the report records them (`pipeline.thresholds`).
THRESHOLDS: dict[str, float] = {"silence_dbfs": SILENCE_DBFS, "max_sound_s": MAX_SOUND_S}

_FINGERPRINT_LINE = re.compile(rb"^FINGERPRINT=([0-9,]*)\s*$", re.MULTILINE)


class SoundStatus(StrEnum):
    """What became of a file's sound track."""

    #: The sound was fingerprinted and some of it is loud enough to compare.
    FINGERPRINTED = "fingerprinted"
    #: The file has no audio stream.
    NO_AUDIO_STREAM = "no_audio_stream"
    #: The audio stream holds only silence (or sound below `SILENCE_DBFS`).
    SILENT = "silent"
    #: The sound holds still (a steady tone, a hum): too few items that change to compare.
    STEADY = "steady"
    #: ffmpeg could not decode the audio stream.
    UNDECODABLE = "undecodable"
    #: fpcalc is not installed; the sound was not fingerprinted.
    FPCALC_MISSING = "fpcalc_missing"


@dataclass(frozen=True)
class SoundPrint:
    """A sound track's Chromaprint items over time.

    Item ``i`` starts at ``i * step_s`` seconds into the file and hears about
    `ITEM_SPAN_S` from there. `values` are the 32-bit items (uint32);
    `loud` says which items hear sound above `SILENCE_DBFS` (only those are
    compared). `status` says why there are no items when there are none;
    `note` is a sentence for the report when something was left out.
    """

    status: SoundStatus
    values: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))
    loud: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    step_s: float = ITEM_STEP_S
    duration_s: float = 0.0
    note: str | None = None
    #: Spectral-peak landmarks (`sound_marks`): an (n, 2) int64 array of (hash, frame), frames
    #: `MARK_STEP_S` apart; empty for prints made before them. What an index stores.
    marks: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    #: The denser landmarks a clip is looked up with (`sound_landmarks`: `MARK_DENSE_PEAKS_PER_S`
    #: peaks a second, each paired with `MARK_DENSE_FAN_OUT` successors); empty for prints made before them, or read from an index.
    dense_marks: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    #: The same dense landmarks from frames that start `MARK_HALF_HOP` samples later (frame ``k`` at
    #: ``(k + 0.5) * MARK_STEP_S``): a clip cut between two of the reference's frames meets them on one
    #: grid or the other (`match.look_up_marks`); empty where `dense_marks` are.
    half_marks: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    def __len__(self) -> int:
        return len(self.values)

    @property
    def usable(self) -> int:
        """Items that hear sound (loud, and not Chromaprint's silent item)."""
        return int(np.count_nonzero(self.usable_mask))

    @property
    def usable_mask(self) -> np.ndarray:
        """Which items may be compared: loud, not the silent item, and not a repeat of the item before.

        A steady tone or hum gives the same item over and over; only the
        first of such a run says anything about the sound.
        """
        repeat = np.zeros(len(self.values), dtype=bool)
        repeat[1:] = self.values[1:] == self.values[:-1]
        return self.loud & (self.values != SILENT_ITEM) & ~repeat

    @property
    def times(self) -> np.ndarray:
        """Start time of each item, seconds."""
        return np.arange(len(self.values), dtype=np.float64) * self.step_s

    @property
    def distinct_share(self) -> float:
        """Distinct values among the usable items, as a share of them (a steady tone or hum gives few)."""
        used = self.values[self.usable_mask]
        return float(len(np.unique(used)) / len(used)) if len(used) else 0.0

    def summary(self) -> dict[str, Any]:
        """What a print holds, in counts (`provenance index show`): its status, items, the usable ones
        (loud, not repeats), the seconds they cover and its landmarks."""
        return {
            "status": str(self.status),
            "items": len(self.values),
            "usable_items": self.usable,
            "seconds": round(len(self.values) * self.step_s, 3),
            "landmarks": len(self.marks),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "values": [int(v) for v in self.values],
            "loud": [bool(x) for x in self.loud],
            "step_s": self.step_s,
            "duration_s": self.duration_s,
            "note": self.note,
            "marks": self.marks.tolist(),
            "dense_marks": self.dense_marks.tolist(),
            "half_marks": self.half_marks.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SoundPrint:
        values = np.asarray(data.get("values", ()), dtype=np.uint32)
        loud = np.asarray(data.get("loud", [True] * len(values)), dtype=bool)
        return cls(
            SoundStatus(data["status"]),
            values,
            loud,
            float(data.get("step_s", ITEM_STEP_S)),
            float(data.get("duration_s", 0.0)),
            data.get("note"),
            np.asarray(data.get("marks", ()), dtype=np.int64).reshape(-1, 2),
            np.asarray(data.get("dense_marks", ()), dtype=np.int64).reshape(-1, 2),
            np.asarray(data.get("half_marks", ()), dtype=np.int64).reshape(-1, 2),
        )

    @property
    def lookup_marks(self) -> np.ndarray:
        """The landmarks to look this sound up with: the dense ones when made, else the stored kind."""
        return self.dense_marks if len(self.dense_marks) else self.marks


def has_audio(facts: MediaFacts) -> bool:
    """Whether the probe found an audio stream in the file."""
    return any(s.codec_type == "audio" for s in facts.streams)


class Resampling(StrEnum):
    """How a sped-up copy's sound is brought back to the reference's time before it is fingerprinted."""

    #: ``atempo``: the tempo undone, the pitch kept (a copy sped up with its pitch kept).
    TEMPO = "tempo"
    #: ``asetrate``: tempo and pitch undone together (a copy played faster, pitch and all).
    RATE = "rate"


def fingerprint_sound(
    path: Path | str,
    facts: MediaFacts,
    *,
    max_s: float = MAX_SOUND_S,
    speed: float = 1.0,
    resampling: Resampling = Resampling.TEMPO,
    lookup: bool = False,
) -> SoundPrint:
    """Fingerprint a file's first audio stream with Chromaprint, over time.

    Args:
        path: the media file (already probed).
        facts: its probe facts (whether it has an audio stream, its duration).
        max_s: most seconds of sound fingerprinted; the rest is left out with a note.
        speed: reference seconds per second of this file (a picture match's
            speed, 0.25-4): its sound is stretched by it first, so item ``i``
            then hears the reference's time ``i * step_s`` after the match's offset.
        resampling: how the stretch is made (`Resampling`).
        lookup: whether the dense landmarks a clip is looked up with are made too
            (`SoundPrint.dense_marks` and `SoundPrint.half_marks`; a query's, not a reference's).

    Returns:
        The `SoundPrint`; its `status` says when there is nothing to compare
        (no audio stream, silence, a stream ffmpeg cannot decode).

    Raises:
        ToolMissingError: ffmpeg or fpcalc is missing (callers decide whether a
            check goes on without sound).
        ProcessingError: a tool exceeded its time limit.
    """
    if not has_audio(facts):
        return SoundPrint(SoundStatus.NO_AUDIO_STREAM, note="the file has no sound track")
    tools.fpcalc_path()  # a missing fpcalc is said before any decoding
    seconds = min(max_s, (facts.duration_s or max_s) * speed)
    fd, name = tempfile.mkstemp(prefix="provenance-sound-", suffix=".s16")
    os.close(fd)
    try:
        pcm = _decode_pcm(Path(path), Path(name), seconds, max_s, _stretch(speed, resampling))
        if pcm is None:
            return SoundPrint(SoundStatus.UNDECODABLE, note="the sound track could not be decoded")
        duration = len(pcm) / SAMPLE_RATE
        loud = _loud_items(pcm)
        if not loud.any():
            return SoundPrint(SoundStatus.SILENT, duration_s=duration, note="the sound track is silent")
        values = _fpcalc_items(Path(name), seconds)
    finally:
        os.unlink(name)
    n = min(len(values), len(loud))
    note = None
    if facts.duration_s and facts.duration_s > max_s:
        note = f"only the first {max_s:.0f} s of sound were fingerprinted ({facts.duration_s:.0f} s long)"
    marks, dense = sound_landmarks(pcm, dense=lookup)
    half = sound_landmarks(pcm[MARK_HALF_HOP:])[1] if lookup else np.zeros((0, 2), dtype=np.int64)
    sound = SoundPrint(SoundStatus.FINGERPRINTED, values[:n], loud[:n], ITEM_STEP_S, duration, note, marks, dense, half)
    if sound.usable < ITEMS_PER_SECOND:
        what = "holds still (a steady tone or hum) or is too short"
        return SoundPrint(
            SoundStatus.STEADY,
            values[:n],
            loud[:n],
            ITEM_STEP_S,
            duration,
            f"the sound track {what}",
            marks,
            dense,
            half,
        )
    return sound


def _stretch(speed: float, resampling: Resampling) -> list[str]:
    """ffmpeg's audio filter that makes one second of the file last `speed` seconds (none at speed 1)."""
    if abs(speed - 1.0) < 1e-6:
        return []
    if not 0.25 <= speed <= 4.0:
        raise ValueError(f"speed {speed} is outside 0.25-4")
    if resampling is Resampling.RATE:
        chain = f"aresample={SAMPLE_RATE},asetrate={SAMPLE_RATE / speed:.3f},aresample={SAMPLE_RATE}"
    else:
        tempo, parts = 1.0 / speed, []
        while tempo < 0.5:  # atempo takes 0.5-100 per instance
            parts.append("atempo=0.5")
            tempo /= 0.5
        chain = ",".join([*parts, f"atempo={tempo:.6f}"])
    return ["-af", chain]


def _decode_pcm(
    path: Path, out: Path, seconds: float, max_s: float, stretch: list[str] | None = None
) -> np.ndarray | None:
    """The first audio stream as mono 16-bit PCM at `SAMPLE_RATE` (stretched), written to `out` and returned."""
    args = [*tools.input_args(path), "-map", "0:a:0", "-vn", "-sn", "-dn", *(stretch or [])]
    args += ["-ac", "1", "-ar", str(SAMPLE_RATE)]
    args += ["-t", f"{max_s:.3f}", "-f", "s16le", "-y", f"file:{out}"]
    # Decoding sound is cheap (a 2 min track in ~0.1 s); the limit is the decode stage's rule.
    result = tools.run_ffmpeg(args, timeout=60.0 + seconds / 2, max_stdout=1 << 16)
    pcm = np.fromfile(out, dtype="<i2") if out.stat().st_size else np.zeros(0, dtype=np.int16)
    if result.returncode != 0 and len(pcm) == 0:
        return None
    return pcm


def _loud_items(pcm: np.ndarray) -> np.ndarray:
    """Per Chromaprint item, whether what it hears is above `SILENCE_DBFS`."""
    step, span = 1365, 4096 + 15 * 1365
    n = max(0, (len(pcm) - 4096) // step + 1)
    if n == 0:
        return np.zeros(0, dtype=bool)
    energy = np.concatenate([[0.0], np.cumsum(pcm.astype(np.float64) ** 2)])
    starts = np.arange(n) * step
    ends = np.minimum(starts + span, len(pcm))
    rms = np.sqrt((energy[ends] - energy[starts]) / np.maximum(ends - starts, 1)) / 32768.0
    return 20 * np.log10(np.maximum(rms, 1e-9)) > SILENCE_DBFS


def _fpcalc_items(pcm: Path, seconds: float) -> np.ndarray:
    """fpcalc's raw items for the PCM file (uint32)."""
    # ~8 items a second, at most 11 characters each.
    bound = int(seconds * 8.1 * 11) + 4096
    result = tools.run_fpcalc(pcm, rate=SAMPLE_RATE, timeout=30.0 + seconds / 10, max_stdout=bound)
    found = _FINGERPRINT_LINE.search(result.stdout)
    # fpcalc 1.5.1 built on FFmpeg 5 exits 3 ("Error decoding audio frame (End of file)") after
    # printing a complete fingerprint of a raw input; its output, not its exit code, says.
    if found is None and (b"DURATION=" in result.stdout or "Empty fingerprint" in result.stderr):
        return np.zeros(0, dtype=np.uint32)  # too short for one item (under ~2.5 s)
    if found is None:
        raise ProcessingError(f"fpcalc gave no fingerprint ({result.stderr.strip()[:200]}); check its installation")
    text = found.group(1).decode("ascii")
    return np.array([int(x) for x in text.split(",") if x], dtype=np.uint64).astype(np.uint32)


# -- spectral-peak landmarks: sound under louder sound ---------------------------------------------

#: Landmarks' spectrogram: frames of this many samples at `SAMPLE_RATE` (93 ms), every `MARK_HOP` (23 ms).
MARK_FFT = 1024
MARK_HOP = 256
#: Seconds between two landmark frames.
MARK_STEP_S = MARK_HOP / SAMPLE_RATE
#: A peak tops every cell within this many (frequency bins, frames) around it (±215 Hz, ±230 ms) and
#: stands this far above the spectrogram's median log magnitude (natural log, 2.0 = x7.4).
MARK_NEIGHBOURHOOD = (21, 21)
MARK_FLOOR = 2.0
#: Strongest peaks kept per second of sound, and pairs made from each (anchor, a later peak within
#: `MARK_MAX_DT` frames and `MARK_MAX_DF` bins): 20 x 4 = 80 landmarks a second (docs/tuning.md).
MARK_PEAKS_PER_S = 20
MARK_FAN_OUT = 4
MARK_MAX_DT = 63
MARK_MAX_DF = 63
#: A clip looked up by its landmarks takes the peaks of this smaller neighbourhood (bins, frames), keeps
#: this many a second and pairs each with up to this many successors, so that the pairs a reference
#: stored are still made under louder sound (development mixes, docs/tuning.md).
MARK_DENSE_NEIGHBOURHOOD = (11, 11)
MARK_DENSE_PEAKS_PER_S = 40
MARK_DENSE_FAN_OUT = 16
#: A clip looked up is also framed this many samples later (half a hop, 11.6 ms), so that a cut between
#: two of the reference's frames lands near one grid or the other (scale seeds, docs/tuning.md).
MARK_HALF_HOP = MARK_HOP // 2
#: Spectrogram frames peaks are found over at once (about 95 s; bounds the memory for long sound).
_MARK_BLOCK = 4096
THRESHOLDS.update(
    mark_fft=MARK_FFT,
    mark_hop=MARK_HOP,
    mark_step_s=MARK_STEP_S,
    mark_neighbourhood_bins=MARK_NEIGHBOURHOOD[0],
    mark_neighbourhood_frames=MARK_NEIGHBOURHOOD[1],
    mark_floor=MARK_FLOOR,
    mark_peaks_per_s=MARK_PEAKS_PER_S,
    mark_fan_out=MARK_FAN_OUT,
    mark_max_dt=MARK_MAX_DT,
    mark_max_df=MARK_MAX_DF,
    mark_dense_neighbourhood_bins=MARK_DENSE_NEIGHBOURHOOD[0],
    mark_dense_neighbourhood_frames=MARK_DENSE_NEIGHBOURHOOD[1],
    mark_dense_peaks_per_s=MARK_DENSE_PEAKS_PER_S,
    mark_dense_fan_out=MARK_DENSE_FAN_OUT,
    mark_half_hop=MARK_HALF_HOP,
)


def sound_marks(pcm: np.ndarray) -> np.ndarray:
    """The sound's spectral-peak landmarks as an index stores them: (hash, frame) pairs, an (n, 2) int64 array.

    Chromaprint's items summarise the chroma of the whole spectrum, so a
    louder tune mixed over the sound decides most of their bits. A landmark
    (Wang 2003, "An industrial-strength audio search algorithm", Shazam; Ellis's
    audfprint) keeps only local maxima of the spectrogram and hashes pairs of
    them: a peak of the quieter sound survives wherever the louder one has no
    energy near it, and a pair that survives matches exactly. The hash packs
    the anchor's frequency bin (9 bits), the second peak's bin difference (7)
    and their frame difference (6): 22 bits.

    Args:
        pcm: mono 16-bit samples at `SAMPLE_RATE`.
    """
    return sound_landmarks(pcm, dense=False)[0]


def sound_landmarks(pcm: np.ndarray, *, dense: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The stored landmarks (`sound_marks`) and the denser ones a clip is looked up with, from one spectrogram.

    Under louder sound most of the reference's peaks are no longer the
    largest within `MARK_NEIGHBOURHOOD` of the mix (a peak of the other
    sound within ±10 bins and ±10 frames hides them, though it does not
    cover them), a surviving anchor's `MARK_FAN_OUT` next peaks are mostly
    the other sound's, and the strongest `MARK_PEAKS_PER_S` are mostly
    the other sound's. The clip's dense landmarks therefore take the peaks of
    a smaller neighbourhood (`MARK_DENSE_NEIGHBOURHOOD`), keep
    `MARK_DENSE_PEAKS_PER_S` a second and pair each with up to
    `MARK_DENSE_FAN_OUT` successors (same hash, same limits): a pair the
    reference stored from two peaks that stayed local maxima is among them
    (docs/tuning.md).

    Args:
        pcm: mono 16-bit samples at `SAMPLE_RATE`.
        dense: whether the dense landmarks are made (a clip to look up); else the second array is empty.

    Returns:
        (stored, dense): two (n, 2) int64 arrays of (hash, frame).
    """
    x = np.asarray(pcm, dtype=np.float32) / 32768.0
    empty = np.zeros((0, 2), dtype=np.int64)
    if len(x) < MARK_FFT:
        return empty, empty.copy()
    window = np.hanning(MARK_FFT).astype(np.float32)
    n_frames = (len(x) - MARK_FFT) // MARK_HOP + 1
    half_t = MARK_NEIGHBOURHOOD[1] // 2
    found: dict[bool, tuple[list[np.ndarray], list[np.ndarray]]] = {False: ([], []), True: ([], [])}
    for start in range(0, n_frames, _MARK_BLOCK):
        lo, hi = max(0, start - half_t), min(n_frames, start + _MARK_BLOCK + half_t)
        frames = np.lib.stride_tricks.sliding_window_view(x[lo * MARK_HOP : (hi - 1) * MARK_HOP + MARK_FFT], MARK_FFT)
        spec = np.log(np.abs(np.fft.rfft(frames[::MARK_HOP] * window, axis=1))[:, 1:] + 1e-6).T
        floor = np.median(spec) + MARK_FLOOR
        seconds = min(_MARK_BLOCK, n_frames - start) * MARK_STEP_S
        for kind in (False, True) if dense else (False,):
            size, per_s = (
                (MARK_DENSE_NEIGHBOURHOOD, MARK_DENSE_PEAKS_PER_S) if kind else (MARK_NEIGHBOURHOOD, MARK_PEAKS_PER_S)
            )
            f, t = np.nonzero((spec == _max_filter(spec, size)) & (spec > floor))
            core = (t + lo >= start) & (t + lo < start + _MARK_BLOCK)
            f, t = f[core], t[core]
            keep = int(np.ceil(per_s * seconds))
            if len(f) > keep:
                top = np.argsort(-spec[f, t], kind="stable")[:keep]
                f, t = f[top], t[top]
            found[kind][0].append(f)
            found[kind][1].append(t + lo)
    out = []
    for kind in (False, True):
        if not found[kind][0]:
            out.append(empty.copy())
            continue
        f, t = np.concatenate(found[kind][0]).astype(np.int64), np.concatenate(found[kind][1]).astype(np.int64)
        order = np.lexsort((f, t))
        fan, per_s = (MARK_DENSE_FAN_OUT, MARK_DENSE_PEAKS_PER_S) if kind else (MARK_FAN_OUT, MARK_PEAKS_PER_S)
        out.append(_pair_peaks(f[order], t[order], fan, per_s))
    return out[0], out[1]


def _max_filter(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Each cell's maximum over a (rows, cols) window centred on it (separable; outside counts as -inf)."""
    out = a
    for axis, n in enumerate(size):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (n // 2, n - 1 - n // 2)
        out = _running_max(np.pad(out, pad, mode="constant", constant_values=-np.inf), n, axis)
    return out


def _running_max(a: np.ndarray, n: int, axis: int) -> np.ndarray:
    """The maximum of each run of `n` cells along `axis` (length shrinks by n - 1), by doubling:
    about 2 log2(n) array maxima instead of n."""
    a = np.moveaxis(a, axis, 0)
    length = a.shape[0] - n + 1
    out: np.ndarray | None = None
    span, block, start = 1, a, 0
    remaining = n
    while remaining:
        if remaining & span:
            piece = block[start : start + length]
            out = piece if out is None else np.maximum(out, piece)
            start += span
            remaining -= span
        if remaining:
            block = np.maximum(block[:-span], block[span:])
            span *= 2
    assert out is not None
    return np.moveaxis(out, 0, axis)


def _pair_peaks(f: np.ndarray, t: np.ndarray, fan_out: int, per_s: int) -> np.ndarray:
    """Landmarks from peaks sorted by time: each anchor with its first `fan_out` valid successors
    (`per_s`: peaks a second, which bounds how many peaks lie within `MARK_MAX_DT`)."""
    n = len(t)
    hashes: list[np.ndarray] = []
    anchors: list[np.ndarray] = []
    taken = np.zeros(n, dtype=np.int64)
    # Peaks within MARK_MAX_DT frames: at most per_s x 1.5 s ahead, a few more where dense.
    for k in range(1, 4 * per_s):
        if k >= n:
            break
        i = np.arange(n - k)
        dt = t[i + k] - t[i]
        if not (dt <= MARK_MAX_DT).any():
            break
        df = f[i + k] - f[i]
        ok = (dt > 0) & (dt <= MARK_MAX_DT) & (np.abs(df) <= MARK_MAX_DF) & (taken[i] < fan_out)
        i = i[ok]
        taken[i] += 1
        hashes.append((f[i] << 13) | ((df[ok] + MARK_MAX_DF) << 6) | dt[ok])
        anchors.append(t[i])
    if not hashes:
        return np.zeros((0, 2), dtype=np.int64)
    return np.column_stack([np.concatenate(hashes), np.concatenate(anchors)]).astype(np.int64)


def mark_votes(query: SoundPrint, reference: SoundPrint, offset_s: float, reach_s: float) -> tuple[int, float]:
    """The most of the query's landmarks that meet the reference's at one offset within `reach_s` of `offset_s`.

    Returns:
        (landmarks, that offset in seconds); (0, `offset_s`) when either side has none.
    """
    if not len(query.marks) or not len(reference.marks):
        return 0, offset_s
    common, qi, ri = np.intersect1d(query.marks[:, 0], reference.marks[:, 0], return_indices=True)
    if not len(common):
        return 0, offset_s
    # Every pair of equal hashes (a hash can repeat on either side), by frame offset.
    q = query.marks[np.isin(query.marks[:, 0], common)]
    r = reference.marks[np.isin(reference.marks[:, 0], common)]
    r = r[np.argsort(r[:, 0], kind="stable")]
    lo = np.searchsorted(r[:, 0], q[:, 0], side="left")
    hi = np.searchsorted(r[:, 0], q[:, 0], side="right")
    offsets = np.concatenate(
        [r[a:b, 1] - t for a, b, t in zip(lo.tolist(), hi.tolist(), q[:, 1].tolist(), strict=True)]
    )
    centre, reach = int(round(offset_s / MARK_STEP_S)), int(round(reach_s / MARK_STEP_S))
    near = offsets[np.abs(offsets - centre) <= reach]
    if not len(near):
        return 0, offset_s
    values, counts = np.unique(near, return_counts=True)
    best = int(np.argmax(counts))
    return int(counts[best]), float(values[best] * MARK_STEP_S)


_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def bit_errors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Differing bits (0-32) between two equally long uint32 arrays, item by item."""
    x = np.bitwise_xor(a.astype(np.uint32), b.astype(np.uint32))
    return _POPCOUNT8[x.view(np.uint8)].reshape(-1, 4).sum(axis=1)


#: The lookup keys of an item: its 32 bits cut into chunks of these (shift, width), most significant
#: first. Any chunk kept whole by a copy finds it (multi-index hashing, as for frames); measured
#: survival of at least one chunk per item: 0.85-1.0 re-encoded, 0.0-0.9 under other sound.
KEY_CHUNKS: tuple[tuple[int, int], ...] = ((21, 11), (10, 11), (0, 10))


def item_keys(values: np.ndarray) -> np.ndarray:
    """The `KEY_CHUNKS` of each item, as an (n, 3) int64 array."""
    v = np.asarray(values, dtype=np.uint32).astype(np.int64)
    return np.stack([(v >> shift) & ((1 << width) - 1) for shift, width in KEY_CHUNKS], axis=1)


@dataclass(frozen=True)
class SoundAlignment:
    """Two fingerprints aligned in time: query item ``i`` hears reference item ``i + offset_items``.

    `ber` is the mean bit error rate over the compared items (0 = identical,
    about 0.5 = unrelated); `chance_ber` the rate two unrelated tracks with
    these items' bit frequencies would give (`chance_ber`: 0.35-0.48 on our
    tunes, not 0.5, since a classifier's bit is often mostly 0 or mostly 1);
    `seconds` the (query second start, BER) of each aligned second with
    enough loud items on both sides; `items` how many items were compared;
    `span` the first and last compared query items.
    """

    offset_items: int
    step_s: float
    ber: float
    items: int
    span: tuple[int, int]
    seconds: tuple[tuple[float, float], ...] = ()
    chance_ber: float = 0.5

    @property
    def agreement(self) -> float:
        """Agreement beyond chance, Cohen's kappa over the bits: 1 identical, 0 no better than unrelated sound."""
        return (self.chance_ber - self.ber) / self.chance_ber if self.chance_ber > 0 else 0.0

    @property
    def offset_s(self) -> float:
        """Reference time minus query time, seconds."""
        return self.offset_items * self.step_s

    @property
    def query_span_s(self) -> tuple[float, float]:
        """The compared query span, seconds (the last item's start plus one step)."""
        return self.span[0] * self.step_s, (self.span[1] + 1) * self.step_s

    @property
    def reference_span_s(self) -> tuple[float, float]:
        """The compared reference span, seconds."""
        q0, q1 = self.query_span_s
        return q0 + self.offset_s, q1 + self.offset_s


def align_sound(
    query: SoundPrint, reference: SoundPrint, offsets: Iterable[int], *, query_items: slice | None = None
) -> SoundAlignment | None:
    """The best of the given offsets, by the mean bit error rate of the aligned loud items.

    Args:
        query: the clip's fingerprint.
        reference: a reference's fingerprint (same `step_s`).
        offsets: offsets in items (reference item = query item + offset) to try.
        query_items: only these query items are compared (a picture match's span).

    Returns:
        The best `SoundAlignment`, or None when no offset leaves at least
        `ITEMS_PER_SECOND` loud items on both sides to compare.
    """
    q_mask = query.usable_mask.copy()
    if query_items is not None:
        keep = np.zeros(len(q_mask), dtype=bool)
        keep[query_items] = True
        q_mask &= keep
    r_mask = reference.usable_mask
    best: SoundAlignment | None = None
    for off in sorted(set(int(o) for o in offsets)):
        lo, hi = max(0, -off), min(len(query), len(reference) - off)
        if hi - lo < ITEMS_PER_SECOND:
            continue
        both = q_mask[lo:hi] & r_mask[lo + off : hi + off]
        n = int(both.sum())
        if n < ITEMS_PER_SECOND:
            continue
        errors = bit_errors(query.values[lo:hi], reference.values[lo + off : hi + off]) / 32.0
        ber = float(errors[both].mean())
        if best is None or ber < best.ber:
            rows = np.nonzero(both)[0] + lo
            best = SoundAlignment(
                off,
                query.step_s,
                ber,
                n,
                (int(rows[0]), int(rows[-1])),
                _per_second(rows, errors[both], query.step_s),
                chance_ber(query.values[rows], reference.values[rows + off]),
            )
    return best


_BIT_SHIFTS = np.arange(32, dtype=np.uint32)


def chance_ber(a: np.ndarray, b: np.ndarray) -> float:
    """The bit error rate two unrelated sequences with the bit frequencies of `a` and `b` would have.

    Each of Chromaprint's 32 bits is one half of a Gray-coded classifier
    output, and on a given sound many are mostly 0 or mostly 1, so unrelated
    sound disagrees on fewer than half the bits (0.35-0.48 on our tunes, docs/audio.md).
    With ``p``, ``q`` the shares of items with a bit set, chance disagrees on
    ``p (1 - q) + q (1 - p)`` of them: the expected agreement of Cohen's kappa.
    """
    if len(a) == 0 or len(b) == 0:
        return 0.5
    p = ((np.asarray(a, dtype=np.uint32)[:, None] >> _BIT_SHIFTS) & 1).mean(axis=0)
    q = ((np.asarray(b, dtype=np.uint32)[:, None] >> _BIT_SHIFTS) & 1).mean(axis=0)
    return float((p * (1 - q) + q * (1 - p)).mean())


def _per_second(rows: np.ndarray, errors: np.ndarray, step_s: float) -> tuple[tuple[float, float], ...]:
    """(second start, mean BER) per aligned second that holds at least half its items."""
    out: list[tuple[float, float]] = []
    groups = rows // ITEMS_PER_SECOND
    for g in np.unique(groups):
        sel = groups == g
        if sel.sum() * 2 >= ITEMS_PER_SECOND:
            out.append((round(float(g * ITEMS_PER_SECOND * step_s), 3), round(float(errors[sel].mean()), 4)))
    return tuple(out)
