"""Index lookup alone, many times: wall-clock distribution of `Index.lookup` for the 30 s queries.

`measure.py` times whole checks, a few times each; this hashes each query
once (as `pipeline.check` does) and then repeats only the candidate lookup,
so that on a shared machine the minimum and median show what the index costs
when it gets the cores.

    python bench/scale/lookup.py sqlite:////tmp/scale/10M.sqlite postgresql://.../scale10m --repeat 15
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale.measure import queries  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("urls", nargs="+")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("lookup.json"))
    args = ap.parse_args()
    from provenance.decode import extract_frames
    from provenance.hashing import hash_query
    from provenance.index import open_index
    from provenance.layout import find_layout
    from provenance.match import CANDIDATE_DISTANCE
    from provenance.pipeline import QUERY_FPS

    hashed = {}
    for name, clip in queries().items():
        frames = extract_frames(clip, fps=QUERY_FPS)
        layout = find_layout(frames.images)
        result = hash_query(frames.times, frames.images, layout.content_box, layout.inner_rect)
        hashed[name] = (result[0] if isinstance(result, tuple) else result).hashes
    rows = []
    for url in args.urls:
        with open_index(url) as idx:
            stats = idx.stats()
            for name, hashes in hashed.items():
                idx.lookup(hashes, CANDIDATE_DISTANCE)  # first call opens the reader connections
                walls = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    found = idx.lookup(hashes, CANDIDATE_DISTANCE)
                    walls.append(1000 * (time.perf_counter() - t))
                row = {
                    "backend": stats["backend"],
                    "hashes": stats["hashes"],
                    "query": name,
                    "query_hashes": len(hashes),
                    "candidates": len(found),
                    "wall_ms_min": round(min(walls), 1),
                    "wall_ms_median": round(statistics.median(walls), 1),
                    "wall_ms_max": round(max(walls), 1),
                    "load_average": [round(x, 1) for x in os.getloadavg()],
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
