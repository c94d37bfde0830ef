#!/usr/bin/env python3
"""Compare two benchmark runs' raw outputs, timings left out.

    python bench/diff_runs.py bench/out/before/results.json bench/out/after/results.json

Prints, per query, every field of the provenance method's record that differs
(matches, scores, spans, diagnoses, verdicts, candidates, warnings), then the
count of differing queries. Timing fields (`wall_s`, `cpu_s`, `match_cpu_s`,
`match_wall_s`, `total_wall_s`, the summary's time statistics) are ignored, since
they change from run to run. Exit status 0 when nothing differs, 1 otherwise:
a restructuring that keeps behaviour must leave this empty.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

TIMING_KEYS = frozenset({"wall_s", "cpu_s", "match_cpu_s", "match_wall_s", "total_wall_s"})
#: The summary's timing statistics: `query_wall_s`, `ingest_cpu_s`, `ingest_footage_min_per_wall_min`, ...
TIMING_PREFIXES = ("query_wall", "query_cpu", "ingest_wall", "ingest_cpu", "ingest_footage", "match_cpu", "match_wall")


def _timing(key: str) -> bool:
    return key in TIMING_KEYS or key.startswith(TIMING_PREFIXES)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not _timing(k)}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _diff(a: Any, b: Any, where: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            _diff(a.get(k), b.get(k), f"{where}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{where}[{i}]", out)
    elif a != b:
        out.append(f"{where}: {json.dumps(a)[:200]} -> {json.dumps(b)[:200]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--method", default="provenance")
    args = parser.parse_args()
    runs = [json.loads(p.read_text())["methods"][args.method] for p in (args.before, args.after)]
    queries = [{q["query"]: _strip(q) for q in run["queries"]} for run in runs]
    differing = 0
    for name in sorted(set(queries[0]) | set(queries[1])):
        lines: list[str] = []
        _diff(queries[0].get(name), queries[1].get(name), name, lines)
        if lines:
            differing += 1
            print("\n".join(lines))
    summary = [_strip(run.get("summary")) for run in runs]
    lines = []
    _diff(summary[0], summary[1], "summary", lines)
    print("\n".join(lines)) if lines else None
    print(f"{differing} of {len(queries[1])} queries differ; summary {'differs' if lines else 'identical'}")
    return 1 if differing or lines else 0


if __name__ == "__main__":
    sys.exit(main())
