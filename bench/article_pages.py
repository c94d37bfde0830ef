"""How long reading a saved page takes, with its media references (docs/article.md, "Speed").

Pages made here: the seed page (tests/data/articles/baymak.html, 125 kB with a
120 kB attribute), 10,000 links to articles, 10,000 links to 10,000 distinct
Telegram posts (the item cap cuts at 500), 10,000 links to 3 posts, and a page
just under the 10 MiB limit. Best of 3 runs of `provenance.claims.read_article`,
one process, wall-clock and CPU time (CPU time is what a loaded machine does not inflate)::

    PYTHONPATH=$PWD python bench/article_pages.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from provenance.claims import read_article
from provenance.claims.article import MAX_ARTICLE_BYTES

ROOT = Path(__file__).resolve().parent.parent


def _page(body: str) -> str:
    return (
        '<!DOCTYPE html><html><head><meta property="article:published_time" content="2024-01-19"></head><body>'
        f"<article><h1>Headline</h1><p>A video that users say shows protesters in Baymak on Wednesday.</p>{body}"
        "</article></body></html>"
    )


def pages(folder: Path) -> dict[str, Path]:
    made = {"seed page (baymak.html)": ROOT / "tests" / "data" / "articles" / "baymak.html"}
    bodies = {
        "10,000 links to articles": "".join(
            f'<a href="https://news.example.com/story/{i}?utm_source=x">story {i}</a> ' for i in range(10_000)
        ),
        "10,000 links to 10,000 posts": "".join(f'<a href="https://t.me/chan/{i}">p</a> ' for i in range(1, 10_001)),
        "10,000 links to 3 posts": "".join(
            f'<a href="https://t.me/s/chan/{i % 3 + 1}?embed=1&n={i}">post</a> ' for i in range(10_000)
        ),
    }
    paragraph = "<p>" + "Police and protesters in Baymak on Wednesday. " * 40 + "</p>"
    bodies["10 MiB of paragraphs"] = paragraph * ((MAX_ARTICLE_BYTES - 4096) // len(paragraph))
    for name, body in bodies.items():
        path = folder / (name.replace(" ", "_").replace(",", "") + ".html")
        path.write_text(_page(body), encoding="utf-8")
        made[name] = path
    return made


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print("| page | size | items | wall (best of 3) | CPU (best of 3) |")
        print("|---|---|---|---|---|")
        for name, path in pages(Path(tmp)).items():
            wall = cpu = float("inf")
            for _ in range(3):
                start, start_cpu = time.perf_counter(), time.process_time()
                article = read_article(path)
                wall = min(wall, time.perf_counter() - start)
                cpu = min(cpu, time.process_time() - start_cpu)
            size = path.stat().st_size
            print(f"| {name} | {size / 1e6:.2f} MB | {len(article.media)} | {wall:.3f} s | {cpu:.3f} s |")


if __name__ == "__main__":
    main()
