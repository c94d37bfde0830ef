"""Stage cli: a thin click skin over the library.

Parse, call the library, render. Results go to stdout, progress and errors to
stderr. Exit codes: 0 done (whatever the verdict), 1 processing failure,
2 bad input or usage, 3 missing tool or unusable index. Errors are one line;
``PROVENANCE_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import EXIT_FAILURE, BadInputError, ProvenanceError
from .service import DEFAULT_CHECK_TIMEOUT_S, DEFAULT_MAX_QUEUE, DEFAULT_MAX_UPLOAD_MB

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


class _FormatChoice(click.Choice):
    """A report format's name; ``markdown`` is taken for ``md``, as users type it."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.lower() == "markdown" and "md" in self.choices:
            value = "md"
        return super().convert(value, param, ctx)


def format_option(choices: tuple[str, ...], default: str) -> Callable[[F], F]:
    def wrap(f: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=_FormatChoice(choices),
            default=default,
            show_default=True,
            help="Output format.",
        )(f)

    return wrap


def claim_options(f: F) -> F:
    """--claim-date, --claim-place, --claim-text, --claim FILE and --article FILE, passed on as one `claim`."""

    @functools.wraps(f)
    def wrapper(
        *args: Any,
        claim_date: str | None,
        claim_place: str | None,
        claim_text: str | None,
        claim_file: Path | None,
        article: Path | None,
        **kwargs: Any,
    ) -> Any:
        from .claims import build_claim

        kwargs["claim"] = build_claim(
            date=claim_date, place=claim_place, text=claim_text, file=claim_file, article=article
        )
        return f(*args, **kwargs)

    options = [
        click.option("--claim-date", metavar="DATE", help="Claimed date of the event (YYYY-MM-DD, YYYY-MM or YYYY)."),
        click.option("--claim-place", metavar="PLACE", help="Claimed place ('Baymak, Russia' or 'LAT, LON')."),
        click.option("--claim-text", metavar="TEXT", help="What the clip is said to show."),
        click.option(
            "--claim",
            "claim_file",
            metavar="FILE",
            type=click.Path(path_type=Path),
            help="The claim as a YAML/JSON file (keys: text, date, place, platforms, source, article_date).",
        ),
        click.option(
            "--article",
            metavar="FILE",
            type=click.Path(path_type=Path),
            help="The article carrying the claim (.txt or saved .html); flags and --claim override what is read.",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def publisher_options(f: F) -> F:
    """--org-name, --org-url, --review-url: the fact-checker, for the claimreview format."""
    options = [
        click.option("--org-name", metavar="NAME", help="Fact-checking organisation (ClaimReview author)."),
        click.option("--org-url", metavar="URL", help="The organisation's web site."),
        click.option("--review-url", metavar="URL", help="The fact-check article's URL (ClaimReview url)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _render_options(
    fmt: str, output: Path | None, org_name: str | None, org_url: str | None, review_url: str | None
) -> Any:
    """The render options, refused (exit 2, naming the flag) before any work when the format cannot use them."""
    from .report import RenderOptions, check_options

    assets = f"{output.stem}_files" if output is not None and fmt == "md" else None
    options = RenderOptions(org_name, org_url, review_url, assets)
    check_options(fmt, options)
    return options


def _write_report(
    report: Any, fmt: str, output: Path | None, options: Any, renderers: tuple[Any, Any] | None = None
) -> None:
    """Render a report; Markdown saved with -o gets its keyframes in a folder next to it (NAME_files/).

    `renderers` is (render, render_assets) for another kind of report (an article report).
    Every file is written by `files.write_file`: never through a symlink
    planted in the output folder or its keyframe folder.
    """
    from .files import refuse_link, write_file
    from .report import render, render_assets

    if renderers is not None:
        render, render_assets = renderers
    text = render(report, fmt, options)
    if output is not None:
        refuse_link(output)
        for rel, data in render_assets(report, fmt, options).items():
            write_file(output.parent / rel, data, base=output.parent, make=True)
    _emit(text, output)


def _emit(text: str, output: Path | None) -> None:
    from .files import write_file

    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    write_file(output, text.encode("utf-8"))
    click.echo(f"wrote {output}", err=True)


@contextlib.contextmanager
def _output_place(path: Path | None, *, flag: str = "-o", folder: bool = False) -> Iterator[None]:
    """Make sure an output can be written before the work starts, and leave nothing behind if the work fails.

    The folders missing on the way to `path` (or `path` itself, for a
    folder output) are created first; a place that cannot be made or
    written, or that holds the wrong kind of thing, is a usage error naming
    it (exit 2). When the command then fails, the folders made here are
    removed again if they are still empty.

    Raises:
        BadInputError: the output cannot be written there.
    """
    if path is None:
        yield
        return
    made = _make_output_place(path, flag, folder)
    try:
        yield
    except BaseException:
        _remove_empty(made)
        raise


def _make_output_place(path: Path, flag: str, folder: bool) -> list[Path]:
    """The checks and folders `_output_place` makes before the work, returning the folders it made."""
    target = path if folder else path.parent
    made: list[Path] = []
    try:
        if folder and path.exists() and not path.is_dir():
            raise BadInputError(
                f"{flag} {path}: a file is there, not a folder; give a folder (it is made when missing)"
            )
        if not folder and path.is_dir():
            raise BadInputError(f"{flag} {path}: a folder is there; give a file name")
        here = target
        while not here.exists() and here != here.parent:
            made.append(here)
            here = here.parent
        if not here.is_dir():
            raise BadInputError(f"{flag} {path}: {here} is a file, not a folder; give another {flag}")
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_empty(made)
        raise BadInputError(
            f"{flag} {str(path)[:300]}: cannot be written there ({exc.strerror}); give another {flag}"
        ) from exc
    if not os.access(target, os.W_OK | os.X_OK):
        _remove_empty(made)
        raise BadInputError(f"{flag} {path}: the folder {target} cannot be written to; give another {flag}")
    return made


def _remove_empty(folders: list[Path]) -> None:
    """Remove folders made for an output that was never written (innermost first), if still empty."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _first_seen(value: str | None) -> str | None:
    """--first-seen checked whole: a date (YYYY-MM-DD) or an ISO date and time; anything after it is refused."""
    if value is None:
        return None
    text = value.strip()
    try:
        parsed = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or not 1800 <= parsed.year <= 2200 or not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].+)?", text):
        shown = text if len(text) <= 60 else text[:60] + "…"
        raise BadInputError(f"--first-seen {shown!r}: not a date; use YYYY-MM-DD (or an ISO date and time)")
    return parsed.isoformat()


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
@format_option(("json", "md", "html", "claimreview"), "json")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write the report to this file instead of stdout."
)
@claim_options
@publisher_options
@click.option(
    "--no-text",
    "no_text",
    is_flag=True,
    help="Do not read the words on the picture (captions, handles, clocks): saves the OCR's time.",
)
def check(
    clip: Path,
    index_url: str | None,
    fmt: str,
    output: Path | None,
    claim: Any,
    org_name: str | None,
    org_url: str | None,
    review_url: str | None,
    no_text: bool,
) -> None:
    """Check CLIP against the reference index (and a claim) and print a report."""
    from .pipeline import check as run_check

    options = _render_options(fmt, output, org_name, org_url, review_url)
    with _output_place(output):
        report = run_check(clip, index_url, claim, text=not no_text)
        _write_report(report, fmt, output, options)


@main.command("article")
@click.argument("article_file", metavar="ARTICLE", type=click.Path(path_type=Path))
@click.option(
    "--media",
    "media_dir",
    metavar="DIR",
    type=click.Path(path_type=Path),
    help="Folder of the downloaded media (yt-dlp files with their .info.json, saved pictures).",
)
@click.option(
    "--map",
    "maps",
    metavar="FILE=URL",
    multiple=True,
    help="Pair FILE with the item at URL when no sidecar or file name does (repeatable).",
)
@click.option(
    "--article-date",
    metavar="DATE",
    help="The article's date (YYYY-MM-DD) when the page states none; relative dates are resolved against it.",
)
@index_option
@format_option(("json", "md", "html", "claimreview"), "json")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write the report to this file instead of stdout."
)
@publisher_options
def article_command(
    article_file: Path,
    media_dir: Path | None,
    maps: tuple[str, ...],
    article_date: str | None,
    index_url: str | None,
    fmt: str,
    output: Path | None,
    org_name: str | None,
    org_url: str | None,
    review_url: str | None,
) -> None:
    """Check every piece of media the article ARTICLE references (a saved .html page or .txt).

    Lists each video, photo, embed and linked post once, with its caption,
    credit and its own claim; pairs items with the files in --media (by
    yt-dlp sidecar, file name or --map) and checks each paired file as
    'provenance check' does; lists the rest as not downloaded, with the
    command that fetches them. Nothing is fetched. Exit 0 when every paired
    file was checked, else the worst failure's code (the report is still written).
    """
    from .article import check_article
    from .report.article import article_assets, render_article
    from .report.text import terminal

    options = _render_options(fmt, output, org_name, org_url, review_url)
    pairs = []
    for value in maps:
        file, sep, url = value.partition("=")
        if not sep or not file or not url:
            raise BadInputError(f"--map {value!r}: give FILE=URL (a downloaded file and the URL the article uses)")
        pairs.append((Path(file), url))

    def progress(item: Any) -> None:
        shown = Path(item.file).name if item.file else item.media.url
        click.echo(f"{item.number:>3}. {item.status:15} {terminal(shown, 120)}", err=True)

    with _output_place(output):
        report = check_article(
            article_file, media_dir, index_url, maps=pairs, article_date=article_date, on_item=progress
        )
        _write_report(report, fmt, output, options, (render_article, article_assets))
    if report.exit_code:
        sys.exit(report.exit_code)


@main.command("report")
@click.argument("report_file", metavar="REPORT.json", type=click.Path(path_type=Path))
@format_option(("json", "md", "html", "claimreview"), "html")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write the report to this file instead of stdout."
)
@publisher_options
def report_command(
    report_file: Path,
    fmt: str,
    output: Path | None,
    org_name: str | None,
    org_url: str | None,
    review_url: str | None,
) -> None:
    """Render a JSON report saved by 'provenance check' (or 'provenance article') again, in any format, without the media."""
    from .report.article import ArticleReport, article_assets, read_any_report, render_article

    options = _render_options(fmt, output, org_name, org_url, review_url)
    with _output_place(output):
        report = read_any_report(report_file)
        renderers = (render_article, article_assets) if isinstance(report, ArticleReport) else None
        _write_report(report, fmt, output, options, renderers)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
def probe(file: Path) -> None:
    """Print the media facts and metadata of FILE as JSON."""
    from .probe import probe as run_probe

    click.echo(_json(run_probe(file).to_dict()))


@main.command()
@click.argument("clip", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="A new or empty folder (or an earlier run's) for the JPEG files, shots.json and contact_sheet.jpg.",
)
@click.option(
    "--unmirror",
    is_flag=True,
    help="Also write each keyframe flipped left-right (for a clip that matched mirrored footage).",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(path_type=Path),
    help="A JSON report of 'provenance check CLIP': when a match found the clip mirrored, also write un-mirrored keyframes.",
)
def frames(clip: Path, out_dir: Path, unmirror: bool, report_file: Path | None) -> None:
    """Write CLIP's keyframes for reverse image search: full-resolution JPEGs, shots.json, a contact sheet."""
    from .decode import choose_decoder

    decoder = choose_decoder()
    decoder.start()  # the decoder's worker starts while the stages are imported
    from .evidence import write_keyframes

    warnings: list[str] = []
    if report_file is not None:
        unmirror = unmirror or _found_mirrored(report_file, clip)
    with _output_place(out_dir, folder=True):
        written = write_keyframes(clip, out_dir, warnings=warnings, unmirror=unmirror, decoder=decoder)
    if warnings:  # the report's modules only when there is something to print
        from .report.text import terminal

        for warning in warnings:
            click.echo(f"warning: {terminal(warning, 1000)}", err=True)
    for path in written:
        click.echo(str(path))


@main.command("text")
@click.argument("file", type=click.Path(path_type=Path))
@format_option(("text", "json"), "text")
def text_command(file: Path, fmt: str) -> None:
    """Read the words burned into FILE's picture (captions, handles, clocks), no index needed."""
    from .decode import choose_decoder

    decoder = choose_decoder()
    decoder.start()  # the decoder's worker starts while the stage is imported
    from .probe import probe as run_probe
    from .text import read_text

    reading = read_text(file, run_probe(file), decoder=decoder)
    if fmt == "json":
        click.echo(_json(reading.to_dict()))
        return
    from .report.text import terminal
    from .report.words import screen_place, span, text_kind

    for t in reading.texts:
        date = f"  [date {' or '.join(t.clock.dates)}]" if t.clock is not None and t.clock.dates else ""
        click.echo(
            f"{span(t.start_s, t.end_s):14} {text_kind(t.kind, t.static, t.cut)}, {screen_place(t.box)}, "
            f"{t.language}, confidence {t.confidence:.0f}: {terminal(t.text, 400)}{terminal(date, 120)}"
        )
    lines = f"{len(reading.texts)} line{'' if len(reading.texts) == 1 else 's'}"
    click.echo(f"{lines} read on {reading.frames_read} frames ({reading.engine}).", err=True)


def _found_mirrored(report_file: Path, clip: Path) -> bool:
    """Whether a report of `clip` holds a match that found it mirrored.

    Raises:
        BadInputError: the report cannot be read, or is the report of another file.
    """
    from .alteration import AlterationCode
    from .query import sha256_of
    from .report import read_report

    report = read_report(report_file)
    try:
        same = sha256_of(clip) == report.input.sha256
    except OSError as exc:
        raise BadInputError(f"{clip}: cannot be read ({exc.strerror}); check the path") from exc
    if not same:
        raise BadInputError(
            f"--report {report_file}: it is the report of {report.input.path}, not of {clip}; give the report of this clip"
        )
    return any(a.code == AlterationCode.MIRRORED for m in report.matches for a in m.alterations)


@main.group()
def index() -> None:
    """Build and inspect the reference index."""


@index.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@click.option("--source-url", help="Where the footage was published.")
@click.option("--publisher", help="Who published it.")
@click.option(
    "--first-seen",
    help="Date it was first seen (YYYY-MM-DD), or 'mtime': each file's modification time where no sidecar "
    "dates it (reports label it so).",
)
@click.option("--title", help="Its title.")
@click.option("--licence", help="Its licence.")
@click.option("--note", help="A free note.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    help="Worker processes hashing files, one file each [default: 0, all cores].",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="No per-file lines or progress on stderr (failures are still listed)."
)
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
    jobs: int,
    quiet: bool,
    fmt: str,
) -> None:
    """Add videos and images (folders recursively) to the index.

    A file already indexed (same SHA-256) is not added twice. Source facts
    come from the flags, else from a yt-dlp .info.json sidecar next to the file.
    Files are hashed in parallel and each is stored in one transaction: an
    interrupted batch keeps the files it finished, and running it again adds
    the rest. Failed files are listed at the end; the batch goes on.
    """
    from .index import SourceFacts, open_index
    from .ingest import FIRST_SEEN_FROM_MTIME, add_paths, default_jobs
    from .progress import IngestProgress
    from .report.text import terminal

    from_mtime = first_seen is not None and first_seen.strip().lower() == "mtime"
    source = SourceFacts(
        source_url,
        publisher,
        title,
        None if from_mtime else _first_seen(first_seen),
        licence,
        note,
        FIRST_SEEN_FROM_MTIME.origins if from_mtime else (),
    )
    progress = IngestProgress(sys.stderr, show_items=fmt == "text" and not quiet)
    if quiet:
        progress.live = False
    with _new_index_kept_if_used(index_url) as used, open_index(index_url, create=True) as idx:
        try:
            result = add_paths(
                paths,
                idx,
                source=source,
                on_start=progress.start,
                on_item=progress.item,
                jobs=jobs or default_jobs(),
            )
        finally:
            progress.close()
            used(idx)
    failed = [i for i in result.items if i.status == "failed"]
    if fmt == "json":
        click.echo(_json(result.to_dict()))
    else:
        for item in result.items:
            for warning in item.warnings:
                click.echo(f"warning  {terminal(item.path, 200)}: {terminal(warning, 1000)}", err=True)
        for item in failed:
            click.echo(f"failed   {terminal(item.error)}", err=True)
        click.echo(f"{result.count('added')} added, {result.count('present')} already present, {len(failed)} failed")
    if failed:
        sys.exit(max(i.exit_code for i in failed) or EXIT_FAILURE)


@contextlib.contextmanager
def _new_index_kept_if_used(index_url: str | None) -> Iterator[Callable[[Any], None]]:
    """An SQLite index `index add` creates is removed again when nothing was added to it.

    Yields a function to call with the open index at the end of the batch
    (it notes whether the index holds any reference, before it is closed).
    Only a file that did not exist before the command is removed, with the
    folders made for it, and only when it holds no reference (another
    writer may have added to it meanwhile). Other backends are left as they are.
    """
    from .index import default_url
    from .index.sqlite import path_from_url

    url = str(index_url) if index_url is not None else default_url()
    scheme = url.split("://", 1)[0].lower() if "://" in url else "sqlite"
    path = path_from_url(url) if scheme == "sqlite" else None
    if path is None or path.exists():
        yield lambda idx: None
        return
    made = []
    here = path.parent
    while not here.exists() and here != here.parent:
        made.append(here)
        here = here.parent
    empty = [True]

    def used(idx: Any) -> None:
        try:
            empty[0] = not idx.stats().get("references")
        except Exception:  # noqa: BLE001 - an index that cannot say stays where it is
            empty[0] = False

    try:
        yield used
    finally:
        if empty[0]:
            for leftover in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal"))):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            _remove_empty(made)


def _ref_line(ref: Any) -> str:
    from .report.text import terminal

    s = ref.source
    # A still picture under camera motion says so: a match on it proves the picture, not a moment.
    still = ref.camera is not None and str(ref.camera.kind) in ("still_picture", "partly_still_picture")
    return (
        f"#{ref.id:<5} {ref.kind:5} {ref.duration_s:7.1f}s  {terminal(s.first_seen or '-', 25):25}  "
        f"{terminal(s.title or Path(ref.path).name, 60)}" + (f"  [{ref.camera.sentence()}]" if still else "")
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
        click.echo(_json([r.to_dict() for r in refs]))
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
        facts = idx.facts(ref_id) or {}
        sound = idx.sound(ref_id)
    data = ref.to_dict()
    # None: no sound row at all (a reference added before the audio stage).
    data["sound"] = sound.summary() if sound is not None else None
    whole = facts.get("duration_s")
    if isinstance(whole, int | float) and whole > ref.duration_s + 1e-3:
        # A file longer than what was examined: its hashes cover duration_s, the file runs on.
        data["file_duration_s"] = round(float(whole), 3)
    if fmt == "json":
        click.echo(_json(data))
    else:
        if ref.camera is not None:
            data["camera"] = ref.camera.sentence()
        said = data["sound"]
        if said is None:
            data["sound"] = "none stored (added before the audio stage)"
        elif said["items"] == 0:
            data["sound"] = f"none ({said['status'].replace('_', ' ')})"
        else:
            data["sound"] = (
                f"{said['usable_items']} of {said['items']} Chromaprint items usable over {said['seconds']:.1f} s, "
                f"{said['landmarks']} spectral-peak landmarks"
            )
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
        click.echo(_json({"removed": ref.to_dict()}))
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


@index.command("export")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@index_option
@click.option("--strip-paths", is_flag=True, help="Keep only file names, not the folders files were indexed from.")
@format_option(("text", "json"), "text")
def index_export(file: Path, index_url: str | None, strip_paths: bool, fmt: str) -> None:
    """Write the index to FILE (JSON Lines, gzip when FILE ends in .gz) to share it.

    The file holds each reference's source and media facts and its frame
    hashes, no media. Load it elsewhere with 'provenance index import'.
    """
    from .index import open_index
    from .index.portable import export_index

    with _output_place(file, flag="FILE"), open_index(index_url) as idx:
        result = export_index(idx, file, strip_paths=strip_paths)
    if fmt == "json":
        click.echo(json.dumps({"file": str(file), **result.to_dict()}, indent=2))
    else:
        click.echo(f"exported {result.references} references ({result.hashes} hashes) to {file}")


@index.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@index_option
@format_option(("text", "json"), "text")
def index_import(file: Path, index_url: str | None, fmt: str) -> None:
    """Add the references of an exported FILE to the index.

    References already present (same SHA-256) are kept as they are, so an
    interrupted import can simply be run again.
    """
    from .index import open_index
    from .index.portable import import_index

    with open_index(index_url, create=True) as idx:
        result = import_index(idx, file)
    if fmt == "json":
        click.echo(json.dumps({"file": str(file), **result.to_dict()}, indent=2))
    else:
        click.echo(f"{result.added} added, {result.present} already present ({result.hashes} hashes read from {file})")


@index.command("check")
@index_option
@format_option(("text", "json"), "text")
def index_check(index_url: str | None, fmt: str) -> None:
    """Verify that the index is whole and say what to do about any damage.

    Checks the storage itself, the schema version, that each reference's
    hashes are all there, and that no hash row belongs to no reference.
    Exit 0 when the index is whole, 3 when it is damaged or cannot be opened.
    """
    from .errors import IndexUnavailableError
    from .index import open_index
    from .report.text import terminal

    with open_index(index_url) as idx:
        report = idx.integrity()
    if fmt == "json":
        click.echo(_json(report.to_dict()))
    else:
        for problem in report.problems:
            click.echo(f"problem  {terminal(problem.message, 1000)}; {terminal(problem.action, 1000)}")
        state = "whole" if report.ok else f"{len(report.problems)} problem(s)"
        click.echo(
            f"{terminal(report.url)}: {report.references} references, {report.hashes} hashes, "
            f"schema {report.schema_version}; checked {', '.join(report.checks)}: {state}"
        )
    if not report.ok:
        raise IndexUnavailableError(
            f"{report.url}: damaged ({len(report.problems)} problem(s), listed above with what to do)"
        )


@main.command()
@index_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on; any but loopback needs --token-file."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port to listen on.")
@click.option(
    "--token-file",
    type=click.Path(path_type=Path),
    help="Tokens, one a line ('TOKEN' or 'TOKEN admin'; admin may delete); re-read when it changes.",
)
@click.option("--workers", type=click.IntRange(min=0), default=0, help="Checks run at once [default: 0, all cores].")
@click.option(
    "--max-upload-mb",
    type=click.IntRange(1, 100_000),
    default=DEFAULT_MAX_UPLOAD_MB,
    show_default=True,
    help="Largest upload, MiB; larger ones get 413.",
)
@click.option(
    "--uploads",
    "uploads_dir",
    type=click.Path(path_type=Path),
    help="Keep uploaded clips in this folder [default: a private temporary folder, emptied after each check].",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    help="Folder for finished reports and uploaded references [default: INDEX.serve beside a SQLite index].",
)
@click.option(
    "--check-timeout",
    type=click.FloatRange(1, 86_400),
    default=DEFAULT_CHECK_TIMEOUT_S,
    show_default=True,
    help="Longest check, seconds.",
)
@click.option(
    "--max-queue", type=click.IntRange(min=1), default=DEFAULT_MAX_QUEUE, show_default=True, help="Most jobs waiting."
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Another Host name a desk without tokens answers to.",
)
def serve(
    index_url: str | None,
    host: str,
    port: int,
    token_file: Path | None,
    workers: int,
    max_upload_mb: int,
    uploads_dir: Path | None,
    data_dir: Path | None,
    check_timeout: float,
    max_queue: int,
    allowed_hosts: tuple[str, ...],
) -> None:
    """Run the desk: a web page and an HTTP API over the index (docs/service.md).

    Checks run in a pool of worker processes that stay warm between checks.
    On 127.0.0.1 a token is optional; on any other address it is required.
    Stop it with Ctrl-C or SIGTERM.
    """
    from .service import ServiceConfig
    from .service import serve as run_service

    config = ServiceConfig(
        index_url=index_url,
        host=host,
        port=port,
        token_file=token_file,
        workers=workers,
        max_upload_mb=max_upload_mb,
        uploads_dir=uploads_dir,
        data_dir=data_dir,
        check_timeout_s=check_timeout,
        max_queue=max_queue,
        allowed_hosts=tuple(h.lower() for h in allowed_hosts),
    )
    try:
        run_service(config, ready=lambda url: click.echo(f"provenance desk on {url} (Ctrl-C stops it)", err=True))
    except KeyboardInterrupt:
        click.echo("provenance serve stopped", err=True)


def run() -> None:
    """Console entry point.

    Third-party libraries' warnings and log records never reach the
    terminal (stderr carries only the tool's own lines) unless
    ``PROVENANCE_DEBUG=1``.
    """
    import logging
    import signal
    import warnings

    if os.environ.get("PROVENANCE_DEBUG") != "1":
        warnings.simplefilter("ignore")
        logging.getLogger().addHandler(logging.NullHandler())

    def terminated(signum: int, frame: Any) -> None:
        # Unwind like Ctrl-C: the open transaction rolls back, workers are stopped.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    main(prog_name="provenance")


def _json(data: Any) -> str:
    """Indented JSON for stdout, readable Unicode, nothing a terminal would act on."""
    from .report.text import json_safe

    return json_safe(json.dumps(data, indent=2, ensure_ascii=False))


def _one_line(exc: BaseException) -> str:
    from .report.text import terminal

    return terminal(str(exc), 1000)
