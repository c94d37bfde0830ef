"""Sound for the audio tests and the sound benchmark: seeded tunes written as WAV, then muxed by ffmpeg.

No package on this machine ships music, so tunes are made here: one to three
voices of harmonic notes on a seeded random walk over 2.5 octaves, with
decaying envelopes, tempos of 2-7 notes a second and, for most seeds, noise
drums on the beat. Different seeds give unrelated tunes; the same seed the
same samples on every machine (numpy's and Python's seeded generators).
"""

from __future__ import annotations

import random
import wave
from pathlib import Path

import numpy as np

#: Sample rate of the tunes written, Hz.
RATE = 22050


def melody(seed: int, seconds: float, rate: int = RATE) -> np.ndarray:
    """A seeded tune, mono int16 at `rate`, peaking at 80% of full scale."""
    r = random.Random(seed)
    n = int(seconds * rate)
    out = np.zeros(n)
    tempo = r.uniform(2.0, 7.0)
    for v in range(r.choice([1, 2, 3])):
        base = r.choice([98, 110, 131, 147, 165, 196, 220, 262])
        t0, note = 0.0, r.randrange(24)
        while t0 < seconds:
            dur = r.choice([1, 1, 2, 2, 3, 4]) / tempo * (1 + v)
            note = (note + r.choice([-7, -5, -3, -2, -1, 1, 2, 3, 4, 5, 7, 12, -12])) % 30
            f = base * 2 ** (note / 12)
            i0, i1 = int(t0 * rate), min(n, int((t0 + dur) * rate))
            t = np.arange(i1 - i0) / rate
            env = np.exp(-t * r.uniform(1.0, 6.0)) * np.minimum(1, t * 200)
            partials = ((1, 1.0), (2, r.uniform(0.2, 0.6)), (3, r.uniform(0.1, 0.4)), (4, 0.1))
            out[i0:i1] += r.uniform(0.15, 0.3) * env * sum(a * np.sin(2 * np.pi * f * h * t) for h, a in partials)
            t0 += dur
    if r.random() < 0.6:
        noise = np.random.default_rng(seed)
        beat = r.choice([1, 2]) / tempo
        for k in range(int(seconds / beat)):
            i0 = int(k * beat * rate)
            m = min(n - i0, int(0.08 * rate))
            out[i0 : i0 + m] += 0.15 * noise.standard_normal(m) * np.exp(-np.arange(m) / (0.02 * rate))
    peak = float(np.max(np.abs(out))) or 1.0
    return (out / peak * 0.8 * 32767).astype(np.int16)


def write_wav(path: Path, pcm: np.ndarray, rate: int = RATE) -> Path:
    """Write mono int16 samples as a WAV file; returns the path."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path
