"""Hostile text: sidecars, articles, claims and metadata tags written by someone else.

Strings that come from files are data, never markup or terminal commands:
escaped in Markdown and HTML, stripped of control characters on the
terminal, and cut with a note when too long. Oversized, deeply nested and
malformed documents give a one-line `BadInputError`, quickly.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from conftest import cli_here, ffmpeg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.errors import BadInputError
from provenance.ingest import MAX_SIDECAR_BYTES, read_sidecar
from provenance.probe import MAX_TAG_CHARS
from provenance.report import text as report_text

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")

#: Markup that must never act, and the tell-tales of it acting.
HTML_PAYLOAD = '<script>alert("tag")</script><img src=x onerror=alert(1)>'
MD_PAYLOAD = "**bold** [click](javascript:alert(1)) ![pixel](http://evil.example/p.png) `code` | cell |"
TERMINAL_PAYLOAD = "\x1b]0;pwned\x07\x1b[31mred\x1b[0m\x9b31m \u202eexe.txt\u2066\x08\rover"
#: Characters a terminal may act on: C0 (but newline), DEL, C1, and bidi controls.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def rendered_markdown(text: str) -> str:
    """HTML of a Markdown document as a CommonMark + GFM-tables renderer sees it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)


# -- the escaping functions, as properties -------------------------------------------------

ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("\\`*_{}[]()#+-.!|<>~&=:;\"'\x1b\x07\x9b\u202e\r\n\t 0123456789")),
    ),
    max_size=80,
)


@given(ANY_TEXT)
def test_terminal_text_has_no_control_characters(text: str) -> None:
    out = report_text.terminal(text)
    assert not CONTROL.search(out.replace("\n", "\x00")), repr(out)
    assert "\n" not in out


@given(ANY_TEXT)
def test_html_text_is_inert_and_lossless(text: str) -> None:
    out = report_text.html_text(text)
    assert not re.search(r"[<>\"']", out)
    assert html.unescape(out) == report_text.clean(text)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_markdown_text_renders_as_exactly_its_text(text: str) -> None:
    """Whatever the string, a Markdown renderer shows it verbatim: no emphasis, link, code, HTML or block."""
    out = rendered_markdown(report_text.md(text))
    body = out.strip()
    if not report_text.clean(text):
        assert body == ""
        return
    assert body.startswith("<p>") and body.endswith("</p>"), out
    inner = body[3:-4]
    assert "<" not in inner, out
    assert html.unescape(inner) == report_text.clean(text)


@pytest.mark.parametrize("payload", [HTML_PAYLOAD, MD_PAYLOAD, TERMINAL_PAYLOAD])
def test_each_payload_is_neutralised(payload: str) -> None:
    assert "<script" not in report_text.html_text(payload)
    assert not CONTROL.search(report_text.terminal(payload))
    shown = rendered_markdown(report_text.md(payload))
    assert "<script" not in shown and "<img" not in shown and "<a " not in shown and "<strong>" not in shown


def test_long_text_is_cut_with_a_note() -> None:
    out = report_text.terminal("A" * 1_000_000)
    assert len(out) < report_text.MAX_FIELD_CHARS + 100
    assert "more characters cut" in out


# -- sidecars ----------------------------------------------------------------------------------


def _sidecar(tmp_path: Path, content: bytes | str, name: str = "clip.info.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


BAD_SIDECARS: dict[str, bytes] = {
    "deep list": b"[" * 200_000 + b"]" * 200_000,
    "deep object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "unclosed": b'{"title": "abc',
    "top-level list": b'[{"title": "x"}]',
    "not json": b"<html><body>404</body></html>",
    "empty": b"",
    "binary": bytes(range(256)) * 10,
}


@pytest.mark.parametrize("case", list(BAD_SIDECARS))
def test_malformed_sidecar_is_refused_quickly(tmp_path: Path, case: str) -> None:
    path = _sidecar(tmp_path, BAD_SIDECARS[case])
    start = time.process_time()  # CPU time: immune to a loaded machine
    with pytest.raises(BadInputError) as info:
        read_sidecar(path)
    assert time.process_time() - start < 5
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_sidecar_with_lone_surrogates_is_stored(tmp_path: Path) -> None:
    """JSON may escape half a surrogate pair; no database or UTF-8 output takes it, so it becomes U+FFFD."""
    facts = read_sidecar(_sidecar(tmp_path, '{"title": "a \\ud800 b", "uploader": "\\udfff"}'))
    assert facts.title == "a \ufffd b" and facts.publisher == "\ufffd"


def test_huge_sidecar_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "clip.info.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_SIDECAR_BYTES + 1)  # sparse: costs no disk, would cost time to read
    start = time.process_time()  # CPU time: immune to a loaded machine
    with pytest.raises(BadInputError, match="larger than"):
        read_sidecar(path)
    assert time.process_time() - start < 1


def test_odd_but_valid_sidecar_keeps_what_it_can(tmp_path: Path) -> None:
    data = {
        "webpage_url": {"nested": "object"},
        "uploader": ["a", "list"],
        "title": "T" * 5_000_000,
        "upload_date": "20219999",
        "timestamp": 1e308,
        "license": None,
        "channel": 12,
    }
    raw = json.dumps(data).replace("1e+308", "1e999")  # json reads 1e999 as infinity
    facts = read_sidecar(_sidecar(tmp_path, raw))
    assert facts.source_url is None and facts.first_seen is None
    assert facts.title is not None and len(facts.title) <= 2000
    assert facts.publisher is None or len(facts.publisher) <= 2000


# -- claim files and articles --------------------------------------------------------------------

claims = pytest.importorskip("provenance.claims")

BAD_CLAIMS: dict[str, tuple[str, bytes]] = {
    "billion laughs": (
        "claim.yml",
        b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + b"".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode() for i in range(8))
        + b"text: *i\n",
    ),
    "deep yaml": ("claim.yml", b"text: " + b"[" * 50_000 + b"]" * 50_000 + b"\n"),
    "deep json": ("claim.json", b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "python tag": ("claim.yml", b"text: !!python/object/apply:os.system ['echo pwned']\n"),
    "not a mapping": ("claim.yml", b"- just\n- a list\n"),
    "unknown key": ("claim.yml", b"text: x\nexec: y\n"),
    "wrong type": ("claim.yml", b"date: [2024, 1, 17]\n"),
    "not utf-8": ("claim.yml", b"text: \xff\xfe\xfa\n"),
    "too large": ("claim.yml", b"text: " + b"x" * (2 << 20) + b"\n"),
}


@pytest.mark.parametrize("case", list(BAD_CLAIMS))
def test_hostile_claim_file_is_refused_quickly(tmp_path: Path, case: str) -> None:
    name, content = BAD_CLAIMS[case]
    path = _sidecar(tmp_path, content, name)
    start = time.process_time()  # CPU time: immune to a loaded machine
    with pytest.raises(BadInputError) as info:
        claims.claim_from_file(path)
    assert time.process_time() - start < 5
    assert "\n" not in str(info.value)


def _articles(tmp_path: Path) -> dict[str, Path]:
    out = {}
    out["deep"] = _sidecar(tmp_path, "<html><body>" + "<div>" * 100_000 + "Baymak" + "</div>" * 100_000, "deep.html")
    out["malformed"] = _sidecar(
        tmp_path,
        "<html><head><title>x</title><meta property='article:published_time' content='9999-99-99'>"
        "<script>var a = '</div>';</script><body><p>Filmed in <b>Paris<i> on 17 January 2024</b></p><<<>>>&&&;"
        '<a href="javascript:alert(1)">x</a><p>unclosed <table><tr><td>cell',
        "malformed.html",
    )
    out["huge"] = tmp_path / "huge.html"
    with open(out["huge"], "wb") as handle:
        handle.truncate(claims.MAX_ARTICLE_BYTES + 1)
    out["long"] = _sidecar(
        tmp_path, "<html><body><p>" + ("Telegram video from Baymak. " * 100_000) + "</p>", "long.html"
    )
    out["binary"] = _sidecar(tmp_path, b"\x00\x01\x02" * 1000, "binary.txt")
    out["json-ld"] = _sidecar(
        tmp_path,
        '<html><head><script type="application/ld+json">' + "[" * 50_000 + "]" * 50_000 + "</script></head>"
        "<body><p>Video from Paris.</p></body></html>",
        "jsonld.html",
    )
    return out


@pytest.mark.parametrize("case", ["deep", "malformed", "huge", "long", "binary", "json-ld"])
def test_hostile_article_is_read_or_refused_quickly(tmp_path: Path, case: str) -> None:
    path = _articles(tmp_path)[case]
    start = time.process_time()  # CPU time: immune to a loaded machine
    try:
        claim = claims.claim_from_article(path)
    except BadInputError as exc:
        assert case in ("huge", "binary"), exc
        assert "\n" not in str(exc)
    else:
        assert case not in ("huge", "binary")
        assert claim is not None
        json.dumps(claim.to_dict())
    assert time.process_time() - start < 20


# -- metadata tags, end to end -------------------------------------------------------------------


def _ffmetadata_escape(value: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A reference clip and its index, and a copy of it whose tags carry every payload and a 1 MB value.

    The clip has a yt-dlp sidecar whose title and uploader are payloads too.
    """
    from provenance.index import open_index
    from provenance.ingest import add_paths

    root = tmp_path_factory.mktemp("tags")
    ref = root / "ref.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=4", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(ref))
    meta = root / "meta.txt"
    lines = [
        ";FFMETADATA1",
        f"title={_ffmetadata_escape(HTML_PAYLOAD)}",
        f"artist={_ffmetadata_escape(MD_PAYLOAD)}",
        f"description={_ffmetadata_escape(TERMINAL_PAYLOAD)}",
        f"comment={'M' * 1_000_000}",
        f"{_ffmetadata_escape('<b>key</b>')}=value",
    ]
    meta.write_text("\n".join(lines) + "\n", encoding="utf-8")
    clip = root / "tagged.mkv"
    ffmpeg("-i", str(ref), "-i", str(meta), "-map", "0", "-map_metadata", "1", "-c", "copy", str(clip))
    sidecar = {
        "webpage_url": "javascript:alert(1)",
        "uploader": TERMINAL_PAYLOAD,
        "title": HTML_PAYLOAD + MD_PAYLOAD,
        "upload_date": "20210912",
    }
    (root / "ref.info.json").write_text(json.dumps(sidecar))
    index = root / "index.sqlite"
    with open_index(index, create=True) as idx:
        assert add_paths([ref], idx).count("added") == 1
    return {"ref": ref, "clip": clip, "index": index}


@needs_ffmpeg
def test_probe_cuts_long_tags_and_escapes_controls(tagged: dict[str, Path]) -> None:
    run = cli_here("probe", tagged["clip"])
    assert run.code == 0, run
    assert not CONTROL.search(run.stdout.replace("\n", "")), "raw control characters on stdout"
    facts = json.loads(run.stdout)
    tags = {k.lower(): v for k, v in facts["tags"].items()}  # Matroska upper-cases tag names
    assert tags["title"] == HTML_PAYLOAD  # the JSON keeps the data as it was
    assert tags["description"].startswith("\x1b]0;pwned\x07")
    assert len(tags["comment"]) <= MAX_TAG_CHARS
    assert any(t.lower().endswith("comment") for t in facts["truncated_tags"])


@needs_ffmpeg
@pytest.mark.parametrize("fmt", ["json", "md", "html", "claimreview"])
def test_reports_neutralise_tag_and_sidecar_payloads(tagged: dict[str, Path], fmt: str) -> None:
    from provenance.report import FORMATS

    if fmt not in FORMATS:
        pytest.skip(f"no {fmt} renderer")
    publisher = ("--org-name", "Desk", "--review-url", "https://desk.example.org/fc/1") if fmt == "claimreview" else ()
    run = cli_here("check", tagged["clip"], "--index", tagged["index"], "--format", fmt, *publisher)
    assert run.code == 0, run
    out = run.stdout
    assert not CONTROL.search(out.replace("\n", "")), "raw control characters in the report"
    assert len(out) < 900_000, "the 1 MB tag must not be copied whole into the report"
    if fmt == "json":
        report = json.loads(out)
        assert any("comment" in w.lower() and "cut" in w for w in report["warnings"]), report["warnings"]
    if fmt == "md":
        shown = rendered_markdown(out)
        for tell in ("<script", "<img", 'href="javascript:', "<b>key"):
            assert tell not in shown, tell
        assert "cut" in out
    if fmt == "html":
        for tell in ("<script>alert", "<img src=x", 'href="javascript:', "<b>key"):
            assert tell not in out, tell


@needs_ffmpeg
def test_terminal_listings_strip_controls(tagged: dict[str, Path]) -> None:
    for args in (["index", "list"], ["index", "show", "1"]):
        run = cli_here(*args, "--index", tagged["index"])
        assert run.code == 0, run
        assert not CONTROL.search(run.stdout.replace("\n", "")), repr(run.stdout)
    listing = cli_here("index", "list", "--index", tagged["index"]).stdout
    assert len(listing.strip().splitlines()) == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_sidecar_title_prints_on_one_clean_line(tmp_path: Path, title: str) -> None:
    """The sidecar's strings reach the terminal through `terminal` only."""
    path = tmp_path / "x.info.json"
    path.write_text(json.dumps({"title": title, "uploader": title}))
    facts = read_sidecar(path)
    line = report_text.terminal(facts.title or "")
    assert "\n" not in line and not CONTROL.search(line)
