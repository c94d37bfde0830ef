"""How the report describes frozen frames of indexed footage: found, said to be held, no speed or trim told.

Three cases per reference, each drawn with its own random parameters:

- *held*: the frame at a time T drawn over the reference's length, held for
  2.5-8 s (`loop`), scaled to 50-100% and re-encoded at CRF 20-32;
- *frozen end*: 2-5 s of the reference from a random start, then its last
  frame held for 2-6 s (`tpad`), re-encoded likewise;
- *control*: 3-8 s of the reference, re-encoded likewise: nothing is held.

Two sets, each with its own seed: *development* (samples/refs, the footage
the held-frame rules were written on) and *held out* (bench/data's
references, never looked at while writing them). Every reference of both
sets is indexed once. Per set it counts: the reference found as the top
match; `frozen_frame` said (all of the match for *held*, part of it for
*frozen end*, never for *control*); for *held*, the moment within 1 s of T;
no `speed_changed`, `reversed` or `trimmed` on a held match; and the
Markdown never saying "no speed change found" or a speed where it is untold::

    python bench/frozen.py --data bench/data --out bench/out/frozen
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

from stills import indexed_references  # noqa: E402

from provenance.pipeline import check  # noqa: E402
from provenance.probe import probe  # noqa: E402
from provenance.report import render  # noqa: E402

#: Alterations a held frame cannot show: it has no speed, direction or span of its own.
NOT_FOR_A_HELD_FRAME = frozenset({"speed_changed", "reversed", "trimmed"})
#: Most a held frame's reported moment may differ from the time it was taken at, seconds.
TIME_TOLERANCE_S = 1.0


def _encode(args: list[str], out: Path, rng: random.Random) -> None:
    scale = rng.uniform(0.5, 1.0)
    crf = rng.randint(20, 32)
    vf = f"scale=trunc(iw*{scale:.3f}/2)*2:trunc(ih*{scale:.3f}/2)*2,format=yuv420p"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *args[:-1], "-vf", f"{args[-1]},{vf}" if args[-1] else vf]
        + ["-an", "-c:v", "libx264", "-crf", str(crf), str(out)],
        check=True,
        timeout=120,
    )


def _cases(refs: list[Path], seed: int, out: Path, prefix: str) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = []
    for ref in refs:
        duration = probe(ref).duration_s
        at = round(rng.uniform(0.5, max(0.6, duration - 0.5)), 2)
        hold = round(rng.uniform(2.5, 8.0), 2)
        held = out / f"{prefix}-{ref.stem}-held.mp4"
        frames = int(hold * 25)
        loop = f"trim=end_frame=1,loop=loop={frames - 1}:size=1:start=0,setpts=N/25/TB"
        _encode(["-ss", str(at), "-i", str(ref), "-t", str(hold), loop], held, rng)
        cases.append({"kind": "held", "clip": held, "reference": ref, "at": at, "hold": hold})
        play = round(min(rng.uniform(2.0, 5.0), max(1.0, duration - 1.0)), 2)
        start = round(rng.uniform(0.0, max(0.0, duration - play - 0.5)), 2)
        hold = round(rng.uniform(2.0, 6.0), 2)
        end = out / f"{prefix}-{ref.stem}-end.mp4"
        _encode(
            ["-ss", str(start), "-t", str(play), "-i", str(ref), f"tpad=stop_mode=clone:stop_duration={hold}"], end, rng
        )
        cases.append({"kind": "frozen_end", "clip": end, "reference": ref, "at": start, "play": play, "hold": hold})
        length = round(min(rng.uniform(3.0, 8.0), max(1.0, duration - 0.5)), 2)
        start = round(rng.uniform(0.0, max(0.0, duration - length)), 2)
        control = out / f"{prefix}-{ref.stem}-control.mp4"
        _encode(["-ss", str(start), "-t", str(length), "-i", str(ref), ""], control, rng)
        cases.append({"kind": "control", "clip": control, "reference": ref, "at": start, "length": length})
    return cases


def _score(case: dict[str, Any], url: str) -> dict[str, Any]:
    report = check(case["clip"], url, keyframes=False)
    top = report.matches[0] if report.matches else None
    found = top is not None and Path(top.reference.path).resolve() == case["reference"].resolve()
    result: dict[str, Any] = {
        "clip": case["clip"].name,
        "kind": case["kind"],
        "at": case["at"],
        "found": found,
        "verdict": str(report.verdict.code),
    }
    if top is None:
        return result
    frozen = [a for a in top.alterations if str(a.code) == "frozen_frame"]
    codes = sorted({str(a.code) for a in top.alterations})
    md = render(report, "md")
    result.update(
        codes=codes,
        frozen=bool(frozen),
        whole=bool(frozen) and bool((frozen[0].evidence or {}).get("whole_match")),
        speed_untold=bool(getattr(top, "speed_untold", False)),
        reported_at=top.reference_start_s,
        error_s=round(abs(top.reference_start_s - case["at"]), 3),
        wrong_codes=sorted(set(codes) & NOT_FOR_A_HELD_FRAME) if frozen else [],
        untold_worded=not top.speed_untold or ("no speed change found" not in md and "the reference's speed" not in md),
    )
    return result


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("held", "frozen_end", "control"):
        rs = [r for r in results if r["kind"] == kind]
        found = [r for r in rs if r["found"]]
        out[kind] = {
            "clips": len(rs),
            "found": len(found),
            "frozen_said": sum(1 for r in found if r["frozen"]),
            "as_whole": sum(1 for r in found if r.get("whole")),
            "moment_within_1s": sum(1 for r in found if r.get("whole") and r["error_s"] <= TIME_TOLERANCE_S),
            "no_speed_or_trim": sum(1 for r in found if r["frozen"] and not r["wrong_codes"]),
            "untold_worded": sum(1 for r in found if r["untold_worded"]),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "frozen")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dev_refs, held_refs, url = indexed_references(args.data, work)
        sets = {"development": _cases(dev_refs, 6, work, "dev"), "held_out": _cases(held_refs, 606, work, "held")}
        results = {name: [_score(c, url) for c in cases] for name, cases in sets.items()}
    out = {name: {"summary": _summary(rs), "results": rs} for name, rs in results.items()}
    (args.out / "results.json").write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    print(
        "| set | case | clips | found | frozen_frame said | of them the whole match | moment within 1 s | "
        "no speed/trim | speed words honest |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, data in out.items():
        for kind, s in data["summary"].items():
            print(
                f"| {name} | {kind} | {s['clips']} | {s['found']} | {s['frozen_said']} | {s['as_whole']} | "
                f"{s['moment_within_1s']} | {s['no_speed_or_trim']} | {s['untold_worded']} |"
            )


if __name__ == "__main__":
    main()
