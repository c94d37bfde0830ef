"""Table and growth-curve plot from bench/scale/results.json (needs matplotlib: pip install '.[bench]').

python bench/scale/report.py      # prints the Markdown table, writes docs/scale.png
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).with_name("results.json")
PLOT = ROOT / "docs" / "scale.png"


def _size(n: int) -> str:
    return f"{n / 1e6:g} M" if n >= 1_000_000 else f"{n / 1e3:g} k"


def table(runs: list[dict]) -> str:
    lines = [
        "| backend | stored hashes | query | query hashes | candidates | index lookup ms (CPU / wall) | "
        "whole search ms (CPU / wall) | size on disk | peak RSS of check | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {"sqlite": 0, "postgresql": 1}
    for r in sorted(runs, key=lambda r: (order.get(r["backend"], 9), r["hashes"], r["query"])):
        lines.append(
            f"| {r['backend']} | {_size(r['hashes'])} | {r['query']} | {r['query_hashes']} | {r['candidates']} | "
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
            pts = sorted((r["hashes"], r["lookup_cpu_ms"]) for r in rows if r["query"] == query)
            axes[0].plot([p[0] for p in pts], [p[1] for p in pts], style, label=f"{backend}, {query}")
        sizes = sorted({(r["hashes"], r["bytes_on_disk"] / 1e6) for r in rows})
        axes[1].plot([s[0] for s in sizes], [s[1] for s in sizes], style, label=backend)
        mem = sorted({(r["hashes"], r["peak_rss_mb"]) for r in rows})
        axes[2].plot([m[0] for m in mem], [m[1] for m in mem], style, label=backend)
    axes[0].axhline(200, color="grey", lw=0.8, ls=":")
    axes[0].set_title("index lookup, 30 s clip (CPU ms)")
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
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=110)


def main() -> None:
    data = json.loads(RESULTS.read_text())
    print(table(data["runs"]))
    plot(data["runs"])
    print(f"\nwrote {PLOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
