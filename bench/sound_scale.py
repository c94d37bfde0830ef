"""The sound channel in a bigger index (issue 21): true matches, chance bins and false matches by sound alone.

The landmark rule (`match.score_marks`) was read off tables of 16-24
references; a (reference, offset) bin reached by chance holds more landmarks
as the index grows. This script puts the references of many seeds (each
seed's `ref.mp4` and `long.m4a`, made by `bench/sound.py --make-only`) into
one index, then looks up every seed's queries by their sound, through the
stage itself (`audio.fingerprint_sound`, `match.find_sound_matches`), and
lists per query: the anchors (`match.mark_bins`) of the true bin, the strongest bin of
any other reference or offset (the chance level), and whether a wrong
reference became a sound match. ``--check`` also runs `provenance.check` on
each seed's negatives and sound-only queries and counts footage matches::

    PYTHONPATH=$PWD nice -n 10 python bench/sound_scale.py --index /tmp/sound-scale/index.sqlite \\
        --refs /tmp/sound-base:0-11 --refs /tmp/sound-scale:100-133 --add-only
    PYTHONPATH=$PWD python bench/sound_scale.py --index /tmp/sound-scale/index.sqlite \\
        --refs /tmp/sound-base:0-11 --refs /tmp/sound-scale:100-133 --queries /tmp/sound-base:0-11 [--check]

A folder's seeds are named ``DIR:LO-HI`` or ``DIR:A,B,C``; the references of
every ``--refs`` part are added first when the index lacks them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sound import duration, part, starts  # noqa: E402
from sound_verdict import seeds_of  # noqa: E402

from provenance import check  # noqa: E402
from provenance.audio import MARK_STEP_S, SoundPrint, fingerprint_sound  # noqa: E402
from provenance.index import open_index  # noqa: E402
from provenance.index.base import Index  # noqa: E402
from provenance.ingest import add_paths  # noqa: E402
from provenance.match import MATCH_THRESHOLD, find_sound_matches, look_up_marks  # noqa: E402

#: The unit of `match.look_up_marks`'s offsets: half a landmark frame, seconds.
HALF_FRAME_S = MARK_STEP_S / 2
from provenance.probe import probe  # noqa: E402

#: The queries looked up by their sound: (file, which reference it comes from, which start).
QUERIES = (
    ("under.m4a", "ref", "sv"),
    ("excerpt5.m4a", "long", "s5"),
    ("excerpt8.mp3", "long", "s8"),
    ("copy360.mp4", "ref", "sv"),
    ("pip30.mp4", "ref", "sv"),
    ("shared_tune.mp4", "ref", "zero"),
    ("replaced.mp4", None, None),
    ("unseen_pic.mp4", None, None),
    ("u.m4a", None, None),
)
#: The queries `--check` runs through `provenance.check`, and the verdicts each may give.
CHECKED = {
    "under.m4a": ("same_sound_as_known_footage",),
    "shared_tune.mp4": ("same_sound_as_known_footage",),
    "unseen_pic.mp4": ("no_prior_match_in_index",),
    "u.m4a": ("no_prior_match_in_index",),
}


def parts(specs: list[str]) -> list[tuple[Path, int]]:
    out = []
    for spec in specs:
        folder, _, seeds = spec.rpartition(":")
        out += [(Path(folder), seed) for seed in seeds_of(seeds)]
    return out


def add_references(idx: Index, refs: list[tuple[Path, int]]) -> dict[str, int]:
    """Every seed's two references in the index (added when missing): {path: reference id}."""
    have = {r.path: r.id for r in idx.references() if r.id is not None}
    want = [folder / f"s{seed:02d}" / name for folder, seed in refs for name in ("ref.mp4", "long.m4a")]
    missing = [p for p in want if str(p.resolve()) not in have and str(p) not in have]
    if missing:
        t0 = time.perf_counter()
        result = add_paths(missing, idx, jobs=2)
        print(f"added {len(missing)} references in {time.perf_counter() - t0:.0f} s", flush=True)
        for item in result.items:
            if item.reference is not None and item.reference.id is not None:
                have[item.path] = item.reference.id
    ids = {}
    for p in want:
        ids[str(p)] = have.get(str(p.resolve()), have.get(str(p), -1))
    return ids


def bins(sound: SoundPrint, idx: Index) -> dict[tuple[int, int], int]:
    """The anchors of every (reference, offset in half frames) bin, as `match.find_sound_by_marks` counts them
    (both frame grids, `match.look_up_marks`)."""
    keys, anchors, _ = look_up_marks(sound, idx)
    return {(int(k[0]), int(k[1])): int(v) for k, v in zip(keys, anchors, strict=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--refs", action="append", default=[], help="DIR:SEEDS whose references the index holds")
    ap.add_argument("--queries", action="append", default=[], help="DIR:SEEDS whose queries are looked up")
    ap.add_argument("--add-only", action="store_true")
    ap.add_argument("--check", action="store_true", help="also run provenance.check on the negatives")
    ap.add_argument("--rows", type=Path, help="write the rows here (JSON)")
    args = ap.parse_args()
    rows = []
    with open_index(f"sqlite:///{args.index}", create=True) as idx:
        ids = add_references(idx, parts(args.refs))
        n_refs = len(idx.references())
        print(f"{n_refs} references in the index", flush=True)
        if args.add_only:
            return
        for folder, seed in parts(args.queries):
            d = folder / f"s{seed:02d}"
            s5, s8, sv = starts(seed, duration(d / "ref.mp4"))
            at = {"s5": s5, "s8": s8, "sv": sv, "zero": 0.0}
            for name, ref, start in QUERIES:
                path = d / name
                sound = fingerprint_sound(path, probe(path), lookup=True)
                want = ids.get(str(d / f"{ref}.{'mp4' if ref == 'ref' else 'm4a'}")) if ref else None
                truth = at[start] if start else None
                votes = bins(sound, idx)
                true_votes = 0
                if want is not None and truth is not None:
                    tf = int(round(truth / HALF_FRAME_S))
                    true_votes = max((v for (r, o), v in votes.items() if r == want and abs(o - tf) <= 4), default=0)
                others = [
                    (o, v)
                    for (r, o), v in votes.items()
                    if not (want is not None and truth is not None and r == want and abs(o - truth / HALF_FRAME_S) <= 4)
                ]
                chance = max((v for _, v in others), default=0)
                chance_half = max((v for o, v in others if o % 2), default=0)
                found = [f for f in find_sound_matches(sound, idx) if f.score >= MATCH_THRESHOLD]
                right = [
                    f
                    for f in found
                    if f.reference.id == want and truth is not None and abs(f.alignment.offset_s - truth) <= 1.0
                ]
                wrong = [f for f in found if f.reference.id != want]
                row = {
                    "seed": seed,
                    "part": part(seed),
                    "query": name,
                    "marks": len(sound.lookup_marks),
                    "true_votes": true_votes if want is not None else None,
                    "chance_votes": chance,
                    "chance_half": chance_half,
                    "found": bool(right),
                    "by_marks": bool(right and right[0].by_marks),
                    "wrong": [(f.reference.id, f.landmarks, round(f.alignment.agreement, 3)) for f in wrong],
                }
                if args.check and name in CHECKED:
                    report = check(path, index=idx, keyframes=False).to_dict()
                    row["verdict"] = report["verdict"]["code"]
                    row["verdict_ok"] = row["verdict"] in CHECKED[name]
                    row["footage_from_sound"] = any(
                        m.get("channel") == "audio" and m.get("relation") != "same_sound" for m in report["matches"]
                    )
                rows.append(row)
                print(json.dumps(row), flush=True)
    if args.rows:
        args.rows.write_text(json.dumps(rows, indent=1))
    print(summary(rows, n_refs))


def summary(rows: list[dict[str, object]], n_refs: int) -> str:
    """Per query kind: how often the true reference was found, the true bins' votes, and the chance level."""
    out = [
        f"\n{n_refs} references.",
        "| query | should | found | true bin anchors (min-max) | chance bin anchors (max; half-frame grid) "
        "| wrong reference by sound |",
        "|---|---|---|---|---|---|",
    ]
    for name, ref, _ in QUERIES:
        mine = [r for r in rows if r["query"] == name]
        if not mine:
            continue
        tv = [int(r["true_votes"]) for r in mine if r["true_votes"] is not None]  # type: ignore[call-overload]
        found = f"{sum(1 for r in mine if r['found'])}/{len(mine)}" if ref else "-"
        tvs = f"{min(tv)}-{max(tv)}" if tv else "-"
        chance = max(int(r["chance_votes"]) for r in mine)  # type: ignore[call-overload]
        half = max(int(r.get("chance_half", 0)) for r in mine)  # type: ignore[call-overload]
        wrong = sum(1 for r in mine if r["wrong"])
        out.append(f"| `{name}` | {'found' if ref else 'nothing'} | {found} | {tvs} | {chance}; {half} | {wrong} |")
    checked = [r for r in rows if "verdict" in r]
    if checked:
        ok = sum(1 for r in checked if r["verdict_ok"])
        ff = sum(1 for r in checked if r["footage_from_sound"])
        out.append(
            f"\n`check`: {ok} of {len(checked)} verdicts as they should be; footage matches from sound alone: {ff}."
        )
    return "\n".join(out)


if __name__ == "__main__":
    main()
