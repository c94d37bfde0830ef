"""Table and growth-curve plot from bench/scale/results.json (needs matplotlib: pip install '.[bench]').

python bench/scale/report.py      # prints the Markdown table, writes docs/scale.png
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).with_name("results.json")
LOOKUP = Path(__file__).with_name("lookup.json")
PLOT = ROOT / "docs" / "scale.png"


def _size(n: int) -> str:
    return f"{n / 1e6:g} M" if n >= 1_000_000 else f"{n / 1e3:g} k"


def _merge(runs: list[dict]) -> list[dict]:
    """Add the lookup-only timings of lookup.json (repeated, on a quieter machine) to the check runs."""
    if not LOOKUP.exists():
        return runs
    alone = {(r["backend"], r["hashes"], r["query"]): r for r in json.loads(LOOKUP.read_text())}
    for r in runs:
        extra = alone.get((r["backend"], r["hashes"], r["query"]))
        if extra:
            r["lookup_alone_median_ms"] = extra["wall_ms_median"]
            r["lookup_alone_min_ms"] = extra["wall_ms_min"]
    return runs


def table(runs: list[dict]) -> str:
    lines = [
        "| backend | stored hashes | query | query hashes | candidates | index lookup ms, wall median (min) | "
        "index lookup in check ms (CPU / wall) | whole search ms (CPU / wall) | size on disk | peak RSS of check | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {"sqlite": 0, "postgresql": 1}
    for r in sorted(runs, key=lambda r: (order.get(r["backend"], 9), r["hashes"], r["query"])):
        lines.append(
            f"| {r['backend']} | {_size(r['hashes'])} | {r['query']} | {r['query_hashes']} | {r['candidates']} | "
            f"{r.get('lookup_alone_median_ms', float('nan')):.0f} ({r.get('lookup_alone_min_ms', float('nan')):.0f}) | "
            f"{r['lookup_cpu_ms']:.0f} / {r['lookup_wall_ms']:.0f} | {r['search_cpu_ms']:.0f} / {r['search_wall_ms']:.0f} | "
            f"{r['bytes_on_disk'] / 1e6:.0f} MB | {r['peak_rss_mb']:.0f} MB | {r['verdict']} |"
        )
    return "\n".join(lines)


def plot(runs: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for backend, style in (("sqlite", "o-"), ("postgresql", "s--")):
        rows = [r for r in runs if r["backend"] == backend]
        if not rows:
            continue
        for query in sorted({r["query"] for r in rows}):
            pts = sorted(
                (r["hashes"], r.get("lookup_alone_median_ms", r["lookup_cpu_ms"])) for r in rows if r["query"] == query
            )
            axes[0].plot([p[0] for p in pts], [p[1] for p in pts], style, label=f"{backend}, {query}")
        sizes = sorted({(r["hashes"], r["bytes_on_disk"] / 1e6) for r in rows})
        axes[1].plot([s[0] for s in sizes], [s[1] for s in sizes], style, label=backend)
        mem = sorted({(r["hashes"], r["peak_rss_mb"]) for r in rows})
        axes[2].plot([m[0] for m in mem], [m[1] for m in mem], style, label=backend)
    axes[0].axhline(200, color="tab:blue", lw=0.8, ls=":", label="target, SQLite")
    axes[0].axhline(500, color="tab:red", lw=0.8, ls=":", label="target, PostgreSQL")
    axes[2].axhline(1024, color="grey", lw=0.8, ls=":", label="target")
    axes[2].set_ylim(0, 1100)
    axes[0].set_title("index lookup, 30 s clip (wall ms, median)")
    axes[1].set_title("size on disk (MB)")
    axes[2].set_title("peak RSS of check (MB)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("stored frame hashes")
        ax.grid(True, which="both", lw=0.3)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=110)


def main() -> None:
    data = json.loads(RESULTS.read_text())
    runs = _merge(data["runs"])
    print(table(runs))
    plot(runs)
    print(f"\nwrote {PLOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
