"""What the features channel adds to an index per hour of footage, and what a lookup costs.

Builds an SQLite index holding HOURS of described reference frames (`features.REF_FPS` a
second), made from the real descriptors of a source index (each frame a real frame's
descriptors with 8% of their bits flipped, so keys spread as real ones do, not uniformly),
then times the features lookup (`Index.feature_lookup` over a query's keys, then the votes)
of real query clips against it::

    python bench/features_scale.py --source /tmp/cd.sqlite --hours 1 --queries q1.mp4 q2.mp4

Prints rows and bytes per hour (SQLite's dbstat) and the lookup's time per query.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from provenance import features as features_mod
from provenance.features import Features, FrameFeatures
from provenance.hashing import FrameHashes
from provenance.index import Reference, open_index
from provenance.match import feature_pairs
from provenance.probe import probe
from provenance.query import Role, describe_features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="an index with features (sqlite path)")
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--queries", nargs="+", required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(16)
    with open_index(f"sqlite:///{args.source}") as src:
        pool = [f for r in src.references() for f in src.reference_features(r.id)]
    frames_per_ref = 600  # 10 minutes a reference at 1 frame/s
    n_frames = int(args.hours * 3600 * features_mod.REF_FPS)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scale.sqlite'}"
        t0 = time.perf_counter()
        with open_index(url, create=True) as idx:
            for k in range(0, n_frames, frames_per_ref):
                made = []
                for j in range(min(frames_per_ref, n_frames - k)):
                    base = pool[int(rng.integers(len(pool)))]
                    flips = np.packbits(rng.random((len(base), 256)) < 0.08, axis=1)
                    made.append(FrameFeatures(float(j), base.width, base.height, base.points, base.descriptors ^ flips))
                ref = Reference(0, f"{k:064x}", f"/synthetic/{k}.mp4", "video", 600.0, 480, 270, 25.0, 1, 2.0, 1, "x")
                hashes = FrameHashes(np.zeros(1), np.zeros(1, np.int8), rng.integers(0, 2**63, 1).astype(np.uint64))
                idx.add(ref, hashes, features=Features(tuple(made)))
            build_s = time.perf_counter() - t0
            frames, keys = idx.feature_counts()
            conn = sqlite3.connect(str(Path(tmp) / "scale.sqlite"))
            sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
            conn.close()
            per_hour = 1.0 / args.hours
            print(
                f"{args.hours} h: {frames} frames, {keys} inverted-list rows ({keys * per_hour / 1e6:.2f} M/h), built in {build_s:.0f} s"
            )
            fb = sizes.get("feature_frames", 0) + sizes.get("feature_frames_ref", 0)
            kb = sizes.get("feature_keys", 0)
            print(f"bytes per hour: frames {fb * per_hour / 1e6:.1f} MB, inverted lists {kb * per_hour / 1e6:.1f} MB")
            for q in args.queries:
                described = describe_features(q, probe(q), role=Role.QUERY)
                keys_q = np.unique(
                    np.concatenate([features_mod.lsh_keys(f.descriptors).ravel() for f in described.frames])
                )
                best = []
                for _ in range(3):
                    t1 = time.perf_counter()
                    rows = idx.feature_lookup(keys_q)
                    t2 = time.perf_counter()
                    feature_pairs(described.frames, idx)
                    t3 = time.perf_counter()
                    best.append((t2 - t1, t3 - t2))
                look, whole = min(best)
                print(
                    f"{Path(q).name}: {len(described.frames)} frames, {len(keys_q)} keys, {len(rows)} rows read; "
                    f"lookup {look * 1000:.0f} ms, lookup+votes+verification {whole * 1000:.0f} ms"
                )


if __name__ == "__main__":
    main()
