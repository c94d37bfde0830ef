"""How the report describes still pictures cut from indexed footage: found, placed in time, never trimmed.

Each case is one frame taken with ffmpeg (`-ss T -frames:v 1`, JPEG) from a
reference at a time drawn uniformly over its length (half a second kept
from each end), mirrored for every other case. Two sets, each with its own
seed: *development* (samples/refs, the footage the wording was written on)
and *held out* (the development set's references in bench/data, never
looked at while writing the report). Every reference of both sets is
indexed once; each still is checked with the report frames and rendered
to Markdown.

Per set it counts: the still's reference found as the top match; its
frame's time in the reference within 1 s of T; no alteration a picture
cannot have (`trimmed`, `embedded`, `speed_changed`, `reversed`); and the
Markdown saying "The picture matches the frame at M:SS.s" with no span,
offset or speed::

    python bench/stills.py --data bench/data --out bench/out/stills
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from provenance.index import open_index  # noqa: E402
from provenance.ingest import add_paths  # noqa: E402
from provenance.pipeline import check  # noqa: E402
from provenance.probe import probe  # noqa: E402
from provenance.report import render  # noqa: E402

#: Alterations a still picture cannot have: it is one frame, with no span or speed.
NOT_FOR_A_PICTURE = frozenset({"trimmed", "embedded", "speed_changed", "reversed", "partly_explained"})
#: Most a still's reported time may differ from the time it was cut at, seconds (issue 18).
TIME_TOLERANCE_S = 1.0


def _cases(refs: list[Path], seed: int, per_ref: int, out: Path, prefix: str) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = []
    for ref in refs:
        duration = probe(ref).duration_s
        for k in range(per_ref):
            at = round(rng.uniform(0.5, max(0.6, duration - 0.5)), 2)
            mirrored = len(cases) % 2 == 1
            still = out / f"{prefix}-{ref.stem}-{k}.jpg"
            vf = ["-vf", "hflip"] if mirrored else []
            subprocess.run(
                ["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", str(at), "-i", str(ref), *vf]
                + ["-frames:v", "1", "-q:v", "3", str(still)],
                check=True,
                timeout=60,
            )
            cases.append({"still": still, "reference": ref, "at": at, "mirrored": mirrored})
    return cases


def _score(case: dict[str, Any], url: str) -> dict[str, Any]:
    report = check(case["still"], url)
    top = report.matches[0] if report.matches else None
    found = top is not None and Path(top.reference.path).resolve() == case["reference"].resolve()
    md = render(report, "md")
    result: dict[str, Any] = {
        "still": case["still"].name,
        "at": case["at"],
        "mirrored": case["mirrored"],
        "found": found,
        "verdict": str(report.verdict.code),
        "top_reference": Path(top.reference.path).name if top is not None else None,
    }
    if top is not None:
        codes = sorted({str(a.code) for a in top.alterations})
        result.update(
            reported_at=top.reference_start_s,
            error_s=round(abs(top.reference_start_s - case["at"]), 3),
            codes=codes,
            wrong_codes=sorted(set(codes) & NOT_FOR_A_PICTURE),
            worded="The picture matches the frame at " in md
            and not any(w in md for w in ("offset", "speed ×", "Trimmed", "0.0–0.0 s")),
        )
    return result


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    found = [r for r in results if r["found"]]
    return {
        "stills": len(results),
        "found": len(found),
        "time_within_1s": sum(1 for r in found if r["error_s"] <= TIME_TOLERANCE_S),
        "no_wrong_codes": sum(1 for r in found if not r["wrong_codes"]),
        "worded_as_a_picture": sum(1 for r in found if r["worded"]),
        "max_error_s": max((r["error_s"] for r in found), default=None),
    }


def indexed_references(data: Path, work: Path) -> tuple[list[Path], list[Path], str]:
    """The development references (samples/refs), the held-out ones (`data`'s), and an index of both in `work`."""
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    held_refs = [data / i["path"] for i in manifest["items"] if i["split"] == "reference"]
    dev_refs = sorted((ROOT / "samples" / "refs").glob("*.mp4"))
    url = f"sqlite:///{work / 'index.sqlite'}"
    with open_index(url, create=True) as idx:
        add_paths([*dev_refs, *held_refs], idx, jobs=1)
    return dev_refs, held_refs, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "stills")
    parser.add_argument("--per-ref", type=int, default=2, help="stills per development reference")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dev_refs, held_refs, url = indexed_references(args.data, work)
        sets = {
            "development": _cases(dev_refs, 18, args.per_ref, work, "dev"),
            "held_out": _cases(held_refs, 1818, 1, work, "held"),
        }
        results = {name: [_score(c, url) for c in cases] for name, cases in sets.items()}
    out = {name: {"summary": _summary(rs), "results": rs} for name, rs in results.items()}
    (args.out / "results.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    print("| set | stills | found | time within 1 s | no trimmed/embedded/speed | worded as a picture | max error s |")
    print("|---|---|---|---|---|---|---|")
    for name, data in out.items():
        s = data["summary"]
        print(
            f"| {name} | {s['stills']} | {s['found']} | {s['time_within_1s']} | {s['no_wrong_codes']} | "
            f"{s['worded_as_a_picture']} | {s['max_error_s']} |"
        )


if __name__ == "__main__":
    main()
