"""The sound benchmark (issue 21): references with sound, edited copies, and what `check` says of them.

Each seed gives one reference: one of the benchmark corpus's pan-and-zoom
clips (8-15 s of a real photograph, bench/data/items) with its own seeded tune (tests/sound_media.py), and one two-minute tune
alone (.m4a). From each, ffmpeg makes the queries below; seeds 0-7 are the
development part (the thresholds were read off them), 8-11 the held-out
part, reported apart and never tuned on, and 20-27 a fresh held-out part
made after the landmarks' thresholds were set (run in an index of its own:
its pictures are the first 12 clips again). ``--make-only`` makes the media
for bench/sound_verdict.py and bench/sound_landmarks.py without checking::

    PYTHONPATH=$PWD nice -n 10 python bench/sound.py --out /tmp/sound-bench [--items bench/data/items]
    PYTHONPATH=$PWD nice -n 10 python bench/sound.py --out /tmp/sound-fresh --seeds 20-27

Cases: ``excerpt5_m4a`` (5 s of the long tune, mono 64 kb/s AAC),
``excerpt8_mp3`` (8 s, 32 kb/s MP3), ``copy360_mono64`` (8 s of the
footage at 360p with mono 64 kb/s sound), ``replaced`` (the picture with
another tune), ``under_music`` (the sound at -6 dB under another tune),
``over_music`` (another tune at -6 dB under the sound), ``pip30`` (the
footage at 30% of the frame over unseen footage, keeping its sound),
``under_music_m4a`` (that mix's sound alone), ``shared_tune`` (unseen
footage with the reference's tune: the same sound, never the same
footage), and the negatives ``unseen`` (unseen footage with
an unseen tune) and ``unseen_m4a`` (an unseen tune alone).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sound_media import melody, write_wav  # noqa: E402

from provenance import check  # noqa: E402
from provenance.index import open_index  # noqa: E402
from provenance.ingest import add_paths  # noqa: E402

DEV = range(0, 8)
HELD_OUT = range(8, 12)
#: Seeds made after the chance-corrected sound verdict was set (never tuned on); their references'
#: pictures are the first 12 clips again (seed % 12), so run them in an index of their own.
FRESH = range(20, 28)
#: Seeds made after round 10's landmark changes were final and run once with them (docs/benchmark.md).
NEW = range(40, 48)
#: Seeds made after round 11's code was final and run once with it (docs/benchmark.md, Round 11).
LAST = range(60, 68)
#: Seeds made after round 12's code was final and run once with it (80-87; 88-91 after the speed fix; 92-95 after the last; docs/benchmark.md).
ROUND12 = range(80, 96)


def part(seed: int) -> str:
    """Which part of the benchmark a seed belongs to."""
    if seed in NEW:
        return "new"
    if seed in LAST:
        return "last"
    if seed in ROUND12:
        return "round12"
    return "dev" if seed in DEV else "held-out" if seed in HELD_OUT else "fresh" if seed in FRESH else "other"


def ff(*args: object) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, args)], check=True, timeout=600)


#: Where the benchmark corpus's pan-and-zoom clips are (bench/make_cases.py, from Debian's
#: mate-backgrounds): real pictures, 8-15 s each; the first 12 are the references' pictures.
ITEMS_DIR = Path(__file__).resolve().parent / "data" / "items"
ITEMS: list[Path] = []


def picture(clip: Path, out: Path, sound: Path) -> Path:
    """`clip`'s picture with `sound` as its sound track, as long as the picture."""
    ff("-i", clip, "-i", sound, "-map", "0:v", "-map", "1:a", "-shortest",
       "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", out)  # fmt: skip
    return out


def duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout.strip())


def starts(seed: int, length: float) -> tuple[float, float, float]:
    """The seed's cut points: the 5 s and 8 s excerpts' starts in the long tune, the copies' in the reference."""
    r = random.Random(seed)
    s5 = round(r.uniform(5, 110), 2)
    s8 = round(r.uniform(5, 100), 2)
    return s5, s8, round(r.uniform(0, max(0.0, length - 8)), 2)


def make(seed: int, root: Path) -> tuple[list[Path], list[dict[str, object]]]:
    """The seed's two references and its queries, each with what it should give."""
    d = root / f"s{seed:02d}"
    d.mkdir(parents=True, exist_ok=True)
    tune = write_wav(d / "tune.wav", melody(seed, 40.0))
    long_tune = d / "long.m4a"
    ff("-i", write_wav(d / "long.wav", melody(1000 + seed, 120.0)), "-c:a", "aac", "-b:a", "128k", long_tune)
    ref = picture(ITEMS[seed % 12], d / "ref.mp4", tune)
    length = duration(ref)
    other = write_wav(d / "other.wav", melody(2000 + seed, 40.0))
    unseen_tune = write_wav(d / "unseen.wav", melody(3000 + seed, 20.0))
    unseen_pic = picture(ITEMS[12 + seed % 10], d / "unseen_pic.mp4", unseen_tune)
    q: list[dict[str, object]] = []
    s5, s8, sv = starts(seed, length)
    ff("-ss", s5, "-t", 5, "-i", long_tune, "-ac", 1, "-c:a", "aac", "-b:a", "64k", d / "excerpt5.m4a")
    q.append({"case": "excerpt5_m4a", "path": d / "excerpt5.m4a", "ref": "long", "offset": s5})
    ff("-ss", s8, "-t", 8, "-i", long_tune, "-ac", 1, "-c:a", "libmp3lame", "-b:a", "32k", d / "excerpt8.mp3")
    q.append({"case": "excerpt8_mp3", "path": d / "excerpt8.mp3", "ref": "long", "offset": s8})
    cut = ["-ss", sv, "-t", 8, "-i", ref]
    ff(*cut, "-vf", "scale=-2:360", "-ac", 1, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "64k",
       d / "copy360.mp4")  # fmt: skip
    q.append({"case": "copy360_mono64", "path": d / "copy360.mp4", "ref": "ref", "offset": sv})
    ff(*cut, "-i", other, "-map", "0:v", "-map", "1:a", "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
       "-c:a", "aac", "-b:a", "96k", d / "replaced.mp4")  # fmt: skip
    q.append({"case": "replaced", "path": d / "replaced.mp4", "ref": "ref", "offset": sv})
    for name, (mine, theirs) in {"under_music": ("-6dB", "0dB"), "over_music": ("0dB", "-6dB")}.items():
        mix = f"[0:a]volume={mine}[a];[1:a]volume={theirs}[b];[a][b]amix=inputs=2:normalize=0:duration=first[m]"
        ff(*cut, "-i", other, "-filter_complex", mix, "-map", "0:v", "-map", "[m]", "-c:v", "libx264",
           "-preset", "ultrafast", "-c:a", "aac", "-b:a", "96k", d / f"{name}.mp4")  # fmt: skip
        q.append({"case": name, "path": d / f"{name}.mp4", "ref": "ref", "offset": sv})
    mix = "[0:a]volume=-6dB[a];[1:a]volume=0dB[b];[a][b]amix=inputs=2:normalize=0:duration=first[m]"
    ff(*cut, "-i", other, "-filter_complex", mix, "-map", "[m]", "-c:a", "aac", "-b:a", "96k", d / "under.m4a")
    q.append({"case": "under_music_m4a", "path": d / "under.m4a", "ref": "ref", "offset": sv})
    pip = "[1:v]scale=640:360[bg];[0:v]scale=192:-2[fg];[bg][fg]overlay=40:40[v]"
    ff(*cut, "-i", unseen_pic, "-filter_complex", pip, "-map", "[v]", "-map", "0:a", "-t", 8, "-c:v", "libx264",
       "-preset", "ultrafast", "-c:a", "aac", "-b:a", "96k", d / "pip30.mp4")  # fmt: skip
    q.append({"case": "pip30", "path": d / "pip30.mp4", "ref": "ref", "offset": sv})
    ff("-i", unseen_pic, "-i", tune, "-map", "0:v", "-map", "1:a", "-shortest", "-c:v", "copy", "-c:a", "aac",
       "-b:a", "96k", d / "shared_tune.mp4")  # fmt: skip
    q.append({"case": "shared_tune", "path": d / "shared_tune.mp4", "ref": "ref", "offset": 0.0})
    q.append({"case": "unseen", "path": unseen_pic, "ref": None})
    ff("-i", write_wav(d / "unseen2.wav", melody(4000 + seed, 12.0)), "-c:a", "aac", "-b:a", "64k", d / "u.m4a")
    q.append({"case": "unseen_m4a", "path": d / "u.m4a", "ref": None})
    return [ref, long_tune], q


def judge(report: object, query: dict[str, object], refs: dict[str, int]) -> dict[str, object]:
    data = report.to_dict()  # type: ignore[attr-defined]
    matches = data["matches"]
    want = refs.get(str(query["ref"])) if query["ref"] else None
    row: dict[str, object] = {"case": query["case"], "verdict": data["verdict"]["code"]}
    # The picture's channels: ``frames`` and ``features`` (``video`` in reports made before the merge).
    by_picture = [m for m in matches if m.get("channel", "frames") != "audio"]
    by_sound = [m for m in matches if m.get("channel") == "audio"]
    row["false_footage_from_sound"] = any(m.get("relation") != "same_sound" for m in by_sound)
    row["wrong_refs"] = sorted({m["reference"]["id"] for m in matches} - ({want} if want else set()))
    hit = [m for m in matches if m["reference"]["id"] == want]
    row["found"] = bool(hit)
    supporting = {"audio" if m.get("channel") == "audio" else "video" for m in hit}
    for m in hit:
        if any(c["channel"] == "audio" and c.get("verdict") in ("agrees", "overlaid") for c in m.get("channels", [])):
            supporting.add("audio")
    row["found_by"] = sorted(supporting)
    if hit:
        m = hit[0]
        row["offset_err_s"] = round(abs(m["reference_start_s"] - m["query_start_s"] - float(query["offset"])), 2)  # type: ignore[arg-type]
        heard = [c for c in m.get("channels", []) if c["channel"] == "audio"]
        row["sound"] = heard[0].get("verdict") if heard else None
        row["ber"] = heard[0].get("ber") if heard else None
        row["codes"] = [a["code"] for a in m["alterations"] if a["code"].startswith("audio_")]
    row["picture_matches"] = len(by_picture)
    return row


#: What each case should give, as a test on its row (the table's "holds" column).
EXPECT = {
    "excerpt5_m4a": ("found by sound, start within 1 s", lambda r: "audio" in r["found_by"] and r["offset_err_s"] <= 1),
    "excerpt8_mp3": ("found by sound, start within 1 s", lambda r: "audio" in r["found_by"] and r["offset_err_s"] <= 1),
    "copy360_mono64": ("picture match, sound agrees", lambda r: r["found_by"] == ["audio", "video"]),
    "replaced": ("picture match kept, audio_replaced", lambda r: r["found"] and "audio_replaced" in r["codes"]),
    "under_music": ("picture match, audio_overlaid", lambda r: r["found"] and "audio_overlaid" in r["codes"]),
    "over_music": (
        "picture match, sound agrees or overlaid",
        lambda r: r["found"] and r["sound"] in ("agrees", "overlaid"),
    ),
    "under_music_m4a": ("found by sound", lambda r: "audio" in r["found_by"] and r["offset_err_s"] <= 1),
    "pip30": ("found (by sound), start within 1 s", lambda r: r["found"] and r["offset_err_s"] <= 1),
    "shared_tune": ("same sound only, never footage", lambda r: r["verdict"] == "same_sound_as_known_footage"),
    "unseen": ("no match", lambda r: not r["found"] and not r["wrong_refs"]),
    "unseen_m4a": ("no match", lambda r: not r["found"] and not r["wrong_refs"]),
}


def table(rows: list[dict[str, object]]) -> str:
    """The benchmark's Markdown table: per case, how often it held on each part the rows hold."""
    names = [n for n in ("dev", "held-out", "fresh", "new", "last", "round12") if any(r["part"] == n for r in rows)]
    out = [
        f"| case | should give | {' | '.join(names)} | median BER (all) |",
        "|---|---|" + "---|" * len(names) + "---|",
    ]
    for case, (want, ok) in EXPECT.items():
        cells = []
        for name in names:
            mine = [r for r in rows if r["case"] == case and r["part"] == name]
            cells.append(f"{sum(1 for r in mine if ok(r))}/{len(mine)}" if mine else "-")
        bers = sorted(float(r["ber"]) for r in rows if r["case"] == case and r.get("ber") is not None)  # type: ignore[arg-type]
        med = f"{bers[len(bers) // 2]:.3f}" if bers else "-"
        out.append(f"| `{case}` | {want} | {' | '.join(cells)} | {med} |")
    false_footage = sum(1 for r in rows if r["false_footage_from_sound"])
    wrong = sum(1 for r in rows if r["wrong_refs"])
    out.append("")
    out.append(f"False footage matches from sound alone: {false_footage} of {len(rows)} queries; "
               f"queries matching a wrong reference: {wrong}.")  # fmt: skip
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", default="0-11", help="LO-HI, or a comma list (in the order run)")
    ap.add_argument("--table", action="store_true", help="print the table of OUT/rows.json and stop")
    ap.add_argument("--make-only", action="store_true", help="make the seeds' media under OUT and stop")
    ap.add_argument("--items", type=Path, default=ITEMS_DIR, help="the corpus's items (bench/make_cases.py)")
    args = ap.parse_args()
    ITEMS[:] = sorted(args.items.glob("p-*.mp4"))
    if len(ITEMS) < 22:
        raise SystemExit(f"{args.items}: {len(ITEMS)} p-*.mp4 clips, 22 needed; run bench/make_cases.py first")
    if args.table:
        print(table(json.loads((args.out / "rows.json").read_text())))
        return
    if "-" in args.seeds:
        lo, hi = (int(x) for x in args.seeds.split("-"))
        seeds = list(range(lo, hi + 1))
    else:
        seeds = [int(x) for x in args.seeds.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    if args.make_only:
        for seed in seeds:
            make(seed, args.out)
        return
    url = f"sqlite:///{args.out / 'index.sqlite'}"
    if (args.out / "index.sqlite").exists():
        (args.out / "index.sqlite").unlink()
    rows = []
    with open_index(url, create=True) as idx:
        for seed in seeds:
            refs, queries = make(seed, args.out)
            t0 = time.perf_counter()
            items = add_paths(refs, idx).items
            ingest_s = time.perf_counter() - t0
            ids = {"ref": items[0].reference.id, "long": items[1].reference.id}  # type: ignore[union-attr]
            for query in queries:
                t0 = time.perf_counter()
                report = check(query["path"], index=idx, keyframes=False)  # type: ignore[arg-type]
                row = judge(report, query, ids)
                row.update(
                    seed=seed,
                    part=part(seed),
                    check_s=round(time.perf_counter() - t0, 2),
                )
                row["ingest_s_seed"] = round(ingest_s, 2)
                rows.append(row)
                print(json.dumps(row), flush=True)
    (args.out / "rows.json").write_text(json.dumps(rows, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
