"""Per-case listing of what a picture match's sound says (issue 21): BER, chance BER, agreement, verdict.

Reads the media `bench/sound.py --make-only` made under OUT (one folder per
seed) and, for each seed, compares the sound of the cut copies with the
reference's the way `diagnose.with_sound_evidence` does (`match.compare_sound`
over the whole copy, within `SOUND_SYNC_S` of the true offset, which the
mono 360p copy's sound gives), without the picture match: fast enough to
list every case, and the place to see why a case fails::

    PYTHONPATH=$PWD python bench/sound.py --make-only --seeds 0-11 --out /tmp/sound-bench
    PYTHONPATH=$PWD python bench/sound_verdict.py --out /tmp/sound-bench --seeds 0-11

Prints one line per case (with the verdict the agreement alone would give,
for an index whose references have no landmarks) and a table per part (dev 0-7, held-out 8-11,
fresh 20-27) of how often each case gave what it should.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sound import part  # noqa: E402

from provenance.audio import align_sound, fingerprint_sound, mark_votes  # noqa: E402
from provenance.match import SOUND_SYNC_S, compare_sound, sound_verdict  # noqa: E402
from provenance.probe import probe  # noqa: E402

#: The cut copies and the sound verdicts that are right for each.
WANT = {
    "copy360": ("agrees",),
    "replaced": ("replaced",),
    "under_music": ("overlaid",),
    "over_music": ("agrees", "overlaid"),
}


def seeds_of(text: str) -> list[int]:
    if "-" in text and "," not in text:
        lo, hi = (int(x) for x in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(x) for x in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", default="0-11")
    args = ap.parse_args()
    tally: dict[tuple[str, str], list[int]] = {}
    wrong: dict[tuple[str, str], list[str]] = {}
    for seed in seeds_of(args.seeds):
        d = args.out / f"s{seed:02d}"
        ref_path = d / "ref.mp4"
        ref = fingerprint_sound(ref_path, probe(ref_path))
        copy = fingerprint_sound(d / "copy360.mp4", probe(d / "copy360.mp4"))
        found = align_sound(copy, ref, range(-len(copy), len(ref)))
        if found is None:
            print(f"s{seed:02d}: the copy's sound does not align with the reference's; skipped")
            continue
        for case, ok in WANT.items():
            path = d / f"{case}.mp4"
            q = fingerprint_sound(path, probe(path))
            a = compare_sound(q, ref, offset_s=found.offset_s, query_span=(0.0, q.duration_s))
            marks = mark_votes(q, ref, found.offset_s, SOUND_SYNC_S)[0] if a is not None else 0
            verdict = str(sound_verdict(a, marks)) if a is not None else "not_compared"
            old = str(sound_verdict(a)) if a is not None else "not_compared"  # by the agreement alone
            key = (case, part(seed))
            cell = tally.setdefault(key, [0, 0])
            cell[0] += verdict in ok
            cell[1] += 1
            if verdict not in ok:
                wrong.setdefault(key, []).append(f"s{seed:02d}:{verdict}")
            if a is not None:
                print(
                    f"s{seed:02d} {part(seed):8s} {case:12s} ber {a.ber:.3f} chance {a.chance_ber:.3f} "
                    f"agreement {a.agreement:+.3f} items {a.items:3d} landmarks {marks:3d} -> {verdict} "
                    f"(by the agreement alone: {old})",
                    flush=True,
                )
    print("\n| case | should give | dev | held-out | fresh |\n|---|---|---|---|---|")
    for case, ok in WANT.items():
        cells = []
        for name in ("dev", "held-out", "fresh"):
            got = tally.get((case, name))
            cells.append(f"{got[0]}/{got[1]}" if got else "-")
        print(f"| `{case}` | {' or '.join(ok)} | {' | '.join(cells)} |")
    for (case, name), items in sorted(wrong.items()):
        print(f"{case} {name} wrong: {' '.join(items)}")


if __name__ == "__main__":
    main()
