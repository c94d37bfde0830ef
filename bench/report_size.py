#!/usr/bin/env python3
"""Size and rendering time of the HTML report for a 60 s clip with 10 matches.

    python bench/report_size.py                  # builds everything under bench/out/report_size/
    python bench/report_size.py --runs 7 --out /tmp/rs

Ten references are made with ffmpeg: the four sample clips (samples/refs) and
six lavfi sources (Mandelbrot zooms from four places, Life, a cellular
automaton), 8 s each at 640x360. The query is 6 s of each, seconds
1-7, joined into one 60 s clip and re-encoded, so a check finds 10 segments.
The script indexes the references, checks the query with keyframes (timed),
renders the HTML (timed), then opens it in headless Chromium `--runs` times
in fresh tabs and reports the median time from navigation to the load event
and to the first contentful paint. Writes OUT/report.html, OUT/report.json
and OUT/report_size.json; the figures go in docs/report-formats.md.

Targets (issue 5): under 3 MB, rendered in under 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the Chromium driver the browser test uses

from chromium import Chromium, chromium_path  # noqa: E402

SIZE = "640x360"
REF_SECONDS = 8
PIECE = (1.0, 7.0)
LAVFI = {
    "mandel_a": "mandelbrot=size=640x360:rate=25:start_scale=3:end_scale=0.3",
    "mandel_b": "mandelbrot=size=640x360:rate=25:start_x=-0.75:start_y=0.1:start_scale=1.5:end_scale=0.05",
    "mandel_c": "mandelbrot=size=640x360:rate=25:start_x=-1.25:start_y=0.05:start_scale=0.5:end_scale=0.01",
    "mandel_d": "mandelbrot=size=640x360:rate=25:start_x=0.275:start_y=0.007:start_scale=0.2:end_scale=0.005",
    "life": "life=size=640x360:rate=25:mold=10:ratio=0.5:seed=11:life_color=#f0e0a0:death_color=#203040",
    "cellauto": "cellauto=size=640x360:rate=25:rule=110:seed=5,format=yuv420p",
}


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *map(str, args)], check=True)


def encode_args() -> list[str]:
    return ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-g", "50", "-an"]


def build_media(out: Path) -> tuple[Path, Path]:
    refs = out / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    sources = []
    for clip in sorted((ROOT / "samples" / "refs").glob("*.mp4")):
        target = refs / clip.name
        if not target.exists():
            ffmpeg("-i", clip, "-t", str(REF_SECONDS), "-vf", f"scale={SIZE.replace('x', ':')},setsar=1,fps=25",
                   *encode_args(), target)  # fmt: skip
        sources.append(target)
    for name, graph in LAVFI.items():
        target = refs / f"{name}.mp4"
        if not target.exists():
            ffmpeg("-f", "lavfi", "-i", graph, "-t", str(REF_SECONDS), *encode_args(), target)
        sources.append(target)
    query = out / "query-60s-10-matches.mp4"
    if not query.exists():
        inputs: list[str] = []
        chains = []
        for i, src in enumerate(sources):
            inputs += ["-i", str(src)]
            chains.append(f"[{i}:v]trim={PIECE[0]}:{PIECE[1]},setpts=PTS-STARTPTS,scale=640:360,setsar=1,fps=25[v{i}]")
        joined = "".join(f"[v{i}]" for i in range(len(sources)))
        graph = ";".join(chains) + f";{joined}concat=n={len(sources)}:v=1:a=0[out]"
        ffmpeg(*inputs, "-filter_complex", graph, "-map", "[out]", *encode_args(), query)
    return refs, query


def _cpu() -> float:
    """CPU seconds of this process and its finished children (ffmpeg), immune to a busy machine."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "report_size")
    parser.add_argument("--runs", type=int, default=5, help="page loads to time (fresh tab each)")
    args = parser.parse_args()
    if chromium_path() is None:
        print("chromium is not installed: apt-get install chromium", file=sys.stderr)
        return 3

    from provenance.index import open_index
    from provenance.ingest import add_paths
    from provenance.pipeline import check
    from provenance.report import render
    from provenance.report.html import render_html

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    refs, query = build_media(out)
    index = out / "index.sqlite"
    for stale in out.glob("index.sqlite*"):
        stale.unlink()
    with open_index(f"sqlite:///{index}", create=True) as idx:
        add_paths([refs], idx)

    start, cpu0 = time.perf_counter(), _cpu()
    plain = check(query, f"sqlite:///{index}", keyframes=False)
    check_s, check_cpu = time.perf_counter() - start, _cpu() - cpu0
    start, cpu0 = time.perf_counter(), _cpu()
    report = check(query, f"sqlite:///{index}")
    check_kf_s, check_kf_cpu = time.perf_counter() - start, _cpu() - cpu0
    start = time.perf_counter()
    html = render_html(report)
    render_s = time.perf_counter() - start
    page = out / "report.html"
    page.write_text(html, encoding="utf-8")
    (out / "report.json").write_text(render(report, "json"), encoding="utf-8")
    images = html.count("<img ")

    loads, paints = [], []
    with Chromium() as browser:
        browser.open(page.as_uri())  # warm-up: browser start-up and disk cache
        for _ in range(args.runs):
            tab = browser.open(page.as_uri(), width=1000, height=900)
            loads.append(tab.load_s)
            fcp = tab.evaluate(
                "(performance.getEntriesByName('first-contentful-paint')[0] || {startTime: null}).startTime"
            )
            if fcp is not None:
                paints.append(fcp / 1000.0)
            broken = tab.evaluate("[...document.images].filter(i => !i.naturalWidth).length")
            fetched = [u for u in tab.requests if u != tab.url and not u.startswith("data:")]
            assert broken == 0 and not fetched, (broken, fetched)

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "query": {"path": str(query.relative_to(out)), "duration_s": report.input.duration_s},
        "matches": len(report.matches),
        "matches_without_keyframes": len(plain.matches),
        "images": images,
        "html_bytes": len(html.encode("utf-8")),
        "json_bytes": (out / "report.json").stat().st_size,
        "check_s": round(check_s, 2),
        "check_with_keyframes_s": round(check_kf_s, 2),
        "keyframes_cost_s": round(check_kf_s - check_s, 2),
        "keyframes_cost_cpu_s": round(check_kf_cpu - check_cpu, 2),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "render_html_s": round(render_s, 4),
        "chromium": subprocess.run(
            [chromium_path() or "chromium", "--version"], capture_output=True, text=True
        ).stdout.strip(),
        "load_event_s": {"median": round(statistics.median(loads), 3), "max": round(max(loads), 3), "runs": len(loads)},
        "first_contentful_paint_s": round(statistics.median(paints), 3) if paints else None,
        "targets": {"html_bytes_under": 3_000_000, "load_s_under": 2.0},
    }
    (out / "report_size.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    ok = result["html_bytes"] < 3_000_000 and result["load_event_s"]["median"] < 2.0  # type: ignore[index]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
