"""A measurement, not a stage: would spectral-peak landmarks find sound mixed under louder music?

Chromaprint's items are computed from the chroma of the whole spectrum, so a
tune 6 dB louder than the reference's sound decides most of their bits
(docs/audio.md): the mixed sound's agreement with its reference stays in the
range of chance alignments, and it cannot be found by its sound alone. Peak
landmarks (Wang 2003, "An industrial-strength audio search algorithm"; Ellis's
audfprint) keep only local maxima of the spectrogram and hash pairs of them;
a peak of the quieter sound survives where the louder one has no energy near
it. This script measures that on the media `bench/sound.py --make-only` made:

    PYTHONPATH=$PWD python bench/sound_landmarks.py --out /tmp/sound-bench --seeds 0-11

Every seed's two references (`ref.mp4`, `long.m4a`) are hashed into one
in-memory table; each query (`under.m4a`: the reference's sound at -6 dB
under another tune; `replaced.mp4`; `u.m4a` and `unseen_pic.mp4`, unseen
sound) is looked up, and the hits vote on (reference, offset). It prints, per
query, the three strongest bins with their votes, Chromaprint's agreement
beyond chance at their offset, whether each is the true one, and whether
`match.score_marks` makes it a match; then a table of found and false bins.
The landmark code here is the measurement's first version (the stage's is
`audio.sound_marks`, the same parameters).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sound import part  # noqa: E402
from sound_verdict import seeds_of  # noqa: E402

from provenance.audio import SoundPrint, align_sound, fingerprint_sound  # noqa: E402
from provenance.match import MATCH_THRESHOLD, score_marks  # noqa: E402
from provenance.probe import probe  # noqa: E402

PRINTS: dict[str, SoundPrint] = {}


def chromaprint(path: Path) -> SoundPrint:
    if str(path) not in PRINTS:
        PRINTS[str(path)] = fingerprint_sound(path, probe(path))
    return PRINTS[str(path)]


def agreement_at(query: Path, reference: Path, offset_s: float) -> float | None:
    """Chromaprint's agreement beyond chance of the whole query at a landmark bin's offset (within 2 items)."""
    q, r = chromaprint(query), chromaprint(reference)
    centre = int(round(offset_s / q.step_s))
    a = align_sound(q, r, range(centre - 2, centre + 3))
    return None if a is None else round(a.agreement, 3)


RATE = 11025
#: STFT frame and hop, samples (93 ms and 23 ms at 11025 Hz, as audfprint's defaults in spirit).
N_FFT, HOP = 1024, 256
#: Peaks kept per second, the strongest; the neighbourhood a peak must top (frequency bins, frames).
PEAKS_PER_S, NEIGHBOURHOOD = 20, (21, 21)
#: Each anchor is paired with this many following peaks within DT frames and DF bins.
FAN_OUT, DT, DF = 4, 63, 63


def pcm(path: Path) -> np.ndarray:
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(RATE),
         "-f", "s16le", "-"], capture_output=True, check=True, timeout=300,
    ).stdout  # fmt: skip
    return np.frombuffer(out, dtype="<i2").astype(np.float32) / 32768.0


def max_filter(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Each cell's maximum over a (rows, cols) window centred on it (separable, edges padded)."""
    out = a
    for axis, n in enumerate(size):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (n // 2, n - 1 - n // 2)
        padded = np.pad(out, pad, mode="constant", constant_values=-np.inf)
        out = np.lib.stride_tricks.sliding_window_view(padded, n, axis=axis).max(axis=-1)
    return out


def landmarks(x: np.ndarray) -> list[tuple[int, int]]:
    """(hash, anchor frame) pairs of a sound."""
    if len(x) < N_FFT:
        return []
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP] * np.hanning(N_FFT)
    spec = np.log(np.abs(np.fft.rfft(frames, axis=1))[:, 1:] + 1e-6).T  # (freq, time)
    peaks = (spec == max_filter(spec, NEIGHBOURHOOD)) & (spec > np.median(spec) + 2.0)
    f, t = np.nonzero(peaks)
    keep = int(PEAKS_PER_S * len(x) / RATE)
    if len(f) > keep:
        top = np.argsort(-spec[f, t])[:keep]
        f, t = f[top], t[top]
    order = np.lexsort((f, t))
    f, t = f[order], t[order]
    out = []
    for i in range(len(t)):
        n = 0
        for j in range(i + 1, len(t)):
            dt = t[j] - t[i]
            if dt > DT:
                break
            if dt == 0 or abs(int(f[j]) - int(f[i])) > DF:
                continue
            out.append(((int(f[i]) << 13) | ((int(f[j]) - int(f[i]) + DF) << 6) | int(dt), int(t[i])))
            n += 1
            if n == FAN_OUT:
                break
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", default="0-11")
    args = ap.parse_args()
    seeds = seeds_of(args.seeds)
    table: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for seed in seeds:
        for name in ("ref.mp4", "long.m4a"):
            key = f"s{seed:02d}/{name}"
            for h, t in landmarks(pcm(args.out / key)):
                table[h].append((key, t))
    print(f"{sum(len(v) for v in table.values())} landmarks stored, {len(table)} distinct hashes", flush=True)
    verdicts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for seed in seeds:
        d = args.out / f"s{seed:02d}"
        true_votes: Counter[int] = Counter()
        for h, t in landmarks(pcm(d / "copy360.mp4")):  # a clean copy: where the cut lies in the reference
            true_votes.update(tr - t for key, tr in table.get(h, ()) if key == f"s{seed:02d}/ref.mp4")
        truth = true_votes.most_common(1)[0][0] if true_votes else None
        for name, want in (("under.m4a", "ref.mp4"), ("replaced.mp4", None), ("u.m4a", None), ("unseen_pic.mp4", None)):
            marks = landmarks(pcm(d / name))
            votes: Counter[tuple[str, int]] = Counter()
            for h, t in marks:
                for key, tr in table.get(h, ()):
                    votes[(key, tr - t)] += 1
            ranked = votes.most_common(3)
            best = ranked[0] if ranked else (("-", 0), 0)
            second = ranked[1][1] if len(ranked) > 1 else 0
            rows = []
            for (k, off), v in ranked:
                agr = agreement_at(d / name, args.out / k, off * HOP / RATE)
                true_bin = k == f"s{seed:02d}/{want}" and truth is not None and abs(off - truth) <= 2
                match = agr is not None and score_marks(v, agr) >= MATCH_THRESHOLD
                rows.append((v, agr, true_bin, match))
                verdicts[(name, part(seed))][0 if true_bin else 1] += match
            verdicts[(name, part(seed))][2] += 1
            bins = " ".join(f"[{v} {a} {'T' if t else 'F'}{' MATCH' if m else ''}]" for v, a, t, m in rows)
            right = (
                want is not None
                and truth is not None
                and best[0][0] == f"s{seed:02d}/{want}"
                and abs(best[0][1] - truth) <= 2
            )
            print(
                f"s{seed:02d} {part(seed):8s} {name:15s} marks {len(marks):4d} best {best[1]:3d} ({best[0][0]}, "
                f"{best[0][1] * HOP / RATE:+.2f} s) runner-up {second:3d} right {right} top3 (votes agreement) {bins}",
                flush=True,
            )
    print(
        "\n| query | part | found (true bin a match) | false (another bin a match) | queries |\n|---|---|---|---|---|"
    )
    for (name, which), (hit, false, n) in sorted(verdicts.items()):
        print(f"| `{name}` | {which} | {hit} | {false} | {n} |")


if __name__ == "__main__":
    main()
