"""Stage 11, cli: a thin click skin over the library.

Parse, call the library, render. Results go to stdout, progress and errors to
stderr. Exit codes: 0 done (whatever the verdict), 1 processing failure,
2 bad input or usage, 3 missing tool or unusable index. Errors are one line;
``PROVENANCE_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import EXIT_FAILURE, BadInputError, ProvenanceError

F = TypeVar("F", bound=Callable[..., Any])


def index_option(f: F) -> F:
    return click.option(
        "--index",
        "index_url",
        metavar="URL",
        default=None,
        help="Reference index: sqlite:///PATH, a plain path, or postgresql://... "
        "[default: $PROVENANCE_INDEX, else ~/.local/share/provenance/index.sqlite]",
    )(f)


def format_option(choices: tuple[str, ...], default: str) -> Callable[[F], F]:
    def wrap(f: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=default,
            show_default=True,
            help="Output format.",
        )(f)

    return wrap


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    click.echo(f"wrote {output}", err=True)


def _first_seen(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat() + value[10:]
    except ValueError as exc:
        raise BadInputError(f"--first-seen {value!r}: not a date; use YYYY-MM-DD") from exc


class ProvenanceGroup(click.Group):
    """The top-level group: the one place errors become exit codes and one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = os.environ.get("PROVENANCE_DEBUG") == "1"
        try:
            return super().invoke(ctx)
        except ProvenanceError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"error: {_one_line(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted; the index is unchanged by the unfinished file", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - unexpected errors become exit 1 here and only here
            if debug:
                traceback.print_exc()
            click.echo(
                f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (set PROVENANCE_DEBUG=1 for details)",
                err=True,
            )
            ctx.exit(EXIT_FAILURE)


@click.group(cls=ProvenanceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provenance")
def main() -> None:
    """Has this footage been seen before, where, and how was it changed?

    Build a reference index of earlier footage with 'provenance index add',
    then check a clip with 'provenance check CLIP'.
    """


@main.command()
@click.argument("clip", type=click.Path(path_type=Path))
@index_option
@format_option(("json", "md"), "json")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write the report to this file instead of stdout."
)
def check(clip: Path, index_url: str | None, fmt: str, output: Path | None) -> None:
    """Check CLIP against the reference index and print a report."""
    from .pipeline import check as run_check
    from .report import render

    report = run_check(clip, index_url)
    _emit(render(report, fmt), output)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
def probe(file: Path) -> None:
    """Print the media facts and metadata of FILE as JSON."""
    from .probe import probe as run_probe

    click.echo(json.dumps(run_probe(file).to_dict(), indent=2, ensure_ascii=False))


@main.command()
@click.argument("clip", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path), help="Folder for the JPEG files."
)
def frames(clip: Path, out_dir: Path) -> None:
    """Write one keyframe per shot of CLIP as JPEG, named by timestamp."""
    from .frames import write_keyframes

    for path in write_keyframes(clip, out_dir):
        click.echo(str(path))


@main.group()
def index() -> None:
    """Build and inspect the reference index."""


@index.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@click.option("--source-url", help="Where the footage was published.")
@click.option("--publisher", help="Who published it.")
@click.option("--first-seen", help="Date it was first seen (YYYY-MM-DD).")
@click.option("--title", help="Its title.")
@click.option("--licence", help="Its licence.")
@click.option("--note", help="A free note.")
@format_option(("text", "json"), "text")
def index_add(
    paths: tuple[Path, ...],
    index_url: str | None,
    source_url: str | None,
    publisher: str | None,
    first_seen: str | None,
    title: str | None,
    licence: str | None,
    note: str | None,
    fmt: str,
) -> None:
    """Add videos and images (folders recursively) to the index.

    A file already indexed (same SHA-256) is not added twice. Source facts
    come from the flags, else from a yt-dlp .info.json sidecar next to the file.
    """
    from .index import SourceFacts, open_index
    from .ingest import add_paths
    from .report.text import terminal

    source = SourceFacts(source_url, publisher, title, _first_seen(first_seen), licence, note)

    def progress(item: Any) -> None:
        if fmt == "text" and item.status != "failed":
            click.echo(f"{item.status:8} #{item.reference.id:<5} {terminal(item.path)}", err=True)

    with open_index(index_url, create=True) as idx:
        result = add_paths(paths, idx, source=source, on_item=progress)
    failed = [i for i in result.items if i.status == "failed"]
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        for item in failed:
            click.echo(f"failed   {terminal(item.error)}", err=True)
        click.echo(f"{result.count('added')} added, {result.count('present')} already present, {len(failed)} failed")
    if failed:
        sys.exit(max(i.exit_code for i in failed) or EXIT_FAILURE)


def _ref_line(ref: Any) -> str:
    from .report.text import terminal

    s = ref.source
    return (
        f"#{ref.id:<5} {ref.kind:5} {ref.duration_s:7.1f}s  {terminal(s.first_seen or '-', 25):25}  "
        f"{terminal(s.title or Path(ref.path).name, 60)}"
    )


@index.command("list")
@index_option
@format_option(("text", "json"), "text")
def index_list(index_url: str | None, fmt: str) -> None:
    """List the references in the index."""
    from .index import open_index

    with open_index(index_url) as idx:
        refs = idx.references()
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in refs], indent=2, ensure_ascii=False))
    else:
        for ref in refs:
            click.echo(_ref_line(ref))


@index.command("show")
@click.argument("ref_id", type=int)
@index_option
@format_option(("text", "json"), "text")
def index_show(ref_id: int, index_url: str | None, fmt: str) -> None:
    """Show one reference with its source facts."""
    from .index import open_index
    from .report.text import terminal

    with open_index(index_url) as idx:
        ref = idx.get(ref_id)
    data = ref.to_dict()
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for key, value in data.items():
            click.echo(f"{key:12} {terminal(value if value is not None else '-')}")


@index.command("remove")
@click.argument("ref_id", type=int)
@index_option
@format_option(("text", "json"), "text")
def index_remove(ref_id: int, index_url: str | None, fmt: str) -> None:
    """Remove one reference and its hashes."""
    from .index import open_index

    with open_index(index_url) as idx:
        ref = idx.remove(ref_id)
    if fmt == "json":
        click.echo(json.dumps({"removed": ref.to_dict()}, indent=2, ensure_ascii=False))
    else:
        click.echo(f"removed {_ref_line(ref)}")


@index.command("stats")
@index_option
@format_option(("text", "json"), "text")
def index_stats(index_url: str | None, fmt: str) -> None:
    """Counts and sizes of the index."""
    from .index import open_index

    with open_index(index_url) as idx:
        stats = idx.stats()
    if fmt == "json":
        click.echo(json.dumps(stats, indent=2))
    else:
        for key, value in stats.items():
            click.echo(f"{key:15} {value}")


def run() -> None:
    """Console entry point."""
    main(prog_name="provenance")


def _one_line(exc: BaseException) -> str:
    from .report.text import terminal

    return terminal(str(exc), 1000)
