"""Fuzzing: the parsers we own, with hypothesis, and ``check`` over mutated clips.

Parsers take anything and either return a well-formed value or raise the
one error type meant for bad input (`BadInputError`); values survive their
JSON round trip unchanged. The mutation run feeds ``provenance check``
damaged variants of small clips for a bounded time and accepts only clean
outcomes: exit 0, 1 or 2 with a one-line message, never an unexpected
exception or a hang.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import os
import random
import shutil
import subprocess
import tempfile
import time
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.errors import BadInputError
from provenance.ingest import read_sidecar
from provenance.probe import MediaFacts, facts_from_ffprobe
from provenance.report import Report, render_json

#: The mutation run checks at least `MIN_MUTATIONS` files, and more while its wall-clock budget
#: (seconds) lasts; ``PROVENANCE_FUZZ_SECONDS`` runs a longer campaign, ``PROVENANCE_FUZZ_SEED``
#: another sequence. A busy machine checks fewer in the budget, never fewer than the minimum.
MUTATION_BUDGET_S = float(os.environ.get("PROVENANCE_FUZZ_SECONDS", "30"))
MIN_MUTATIONS = 10

# -- generic strategies --------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
#: Values a hostile ffprobe JSON may hold where a number is expected.
NUMBERISH = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.sampled_from(
        ["N/A", "nan", "inf", "-inf", "1e308", "-1", "0", "30000/1001", "0/0", "1/0", "-5/2", "", "abc", "1e999"]
    ),
    st.text(max_size=8),
)
TAGS = st.dictionaries(st.text(max_size=30), st.one_of(st.text(max_size=200), JSON_SCALARS), max_size=6)


def _stream() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "index": NUMBERISH,
            "codec_type": st.sampled_from(["video", "audio", "data", "subtitle", "attachment", ""])
            | st.text(max_size=5),
            "codec_name": st.sampled_from(["h264", "hevc", "mjpeg", "png", "rawvideo"]) | JSON_SCALARS,
            "width": NUMBERISH,
            "height": NUMBERISH,
            "avg_frame_rate": NUMBERISH,
            "r_frame_rate": NUMBERISH,
            "duration": NUMBERISH,
            "bit_rate": NUMBERISH,
            "nb_frames": NUMBERISH,
            "tags": TAGS | JSON_VALUES,
            "disposition": st.dictionaries(st.sampled_from(["attached_pic", "default"]), NUMBERISH, max_size=2)
            | JSON_VALUES,
            "side_data_list": st.lists(
                st.dictionaries(st.sampled_from(["rotation", "side_data_type", "displaymatrix"]), NUMBERISH, max_size=3)
                | JSON_VALUES,
                max_size=2,
            )
            | JSON_VALUES,
        },
    )


FFPROBE_JSON = st.fixed_dictionaries(
    {},
    optional={
        "format": st.fixed_dictionaries(
            {},
            optional={
                "format_name": st.text(max_size=20) | JSON_SCALARS,
                "duration": NUMBERISH,
                "bit_rate": NUMBERISH,
                "tags": TAGS | JSON_VALUES,
            },
        )
        | JSON_VALUES,
        "streams": st.lists(_stream() | JSON_VALUES, max_size=4) | JSON_VALUES,
    },
)


def _finite(value: Any) -> bool:
    """No NaN or infinity anywhere inside a JSON-like value."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    return True


# -- ffprobe JSON -> MediaFacts ------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(FFPROBE_JSON, st.integers(0, 2**40))
def test_ffprobe_json_gives_facts_or_bad_input(data: dict[str, Any], size: int) -> None:
    try:
        facts = facts_from_ffprobe("clip.mp4", size, data)
    except BadInputError as exc:
        assert "\n" not in str(exc)
        return
    if facts.kind == "audio":  # a sound file: no picture, and a sound stream it came from
        assert facts.width == 0 and facts.height == 0 and facts.fps is None
        assert any(s.codec_type == "audio" for s in facts.streams)
    else:
        assert facts.kind == "video" and facts.width > 0 and facts.height > 0
    assert math.isfinite(facts.duration_s) and facts.duration_s >= 0
    assert facts.fps is None or (math.isfinite(facts.fps) and facts.fps > 0)
    as_dict = facts.to_dict()
    assert _finite(as_dict), "NaN or infinity would make invalid JSON"
    text = json.dumps(as_dict, allow_nan=False)
    assert MediaFacts.from_dict(json.loads(text)) == facts


@settings(max_examples=100, deadline=None)
@given(JSON_VALUES)
def test_ffprobe_json_of_any_shape(data: Any) -> None:
    try:
        facts_from_ffprobe("clip.mp4", 1, data if isinstance(data, dict) else {"streams": data})
    except BadInputError:
        pass


# -- sidecars ------------------------------------------------------------------------------------


def _read_sidecar_bytes(content: bytes) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.info.json"
        path.write_bytes(content)
        return read_sidecar(path)


SIDECAR_OBJECTS = st.fixed_dictionaries(
    {},
    optional={
        k: JSON_VALUES | st.text(max_size=3000)
        for k in ("webpage_url", "original_url", "uploader", "channel", "title", "license", "upload_date", "timestamp")
    },
)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        SIDECAR_OBJECTS.map(lambda d: json.dumps(d).encode()),
        JSON_VALUES.map(lambda d: json.dumps(d).encode()),
    )
)
def test_sidecar_gives_source_facts_or_bad_input(content: bytes) -> None:
    try:
        facts = _read_sidecar_bytes(content)
    except BadInputError as exc:
        assert "\n" not in str(exc)
        return
    for key, value in dataclasses.asdict(facts).items():
        if key == "origins":  # where each fact came from: one per fact read, naming the sidecar's field
            assert {o["fact"] for o in value} <= {k for k, v in dataclasses.asdict(facts).items() if v}
            continue
        assert value is None or (isinstance(value, str) and 0 < len(value) <= 2000)
    if facts.first_seen is not None:
        from datetime import datetime

        datetime.fromisoformat(facts.first_seen)


# -- report JSON round trip ----------------------------------------------------------------------

_FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)


def _field_overrides() -> dict[str, st.SearchStrategy[Any]]:
    """Fields whose type allows more than their class accepts (validated in __post_init__)."""
    out: dict[str, st.SearchStrategy[Any]] = {}
    try:
        from provenance.metadata import SEVERITIES
    except ImportError:
        return out
    out["severity"] = st.sampled_from(SEVERITIES)
    return out


FIELD_OVERRIDES = _field_overrides()


def strategy_for(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """A strategy for a type annotation: dataclasses field by field, JSON-native values for Any."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return JSON_VALUES
    if tp is type(None):
        return st.none()
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*[strategy_for(a, depth) for a in args])
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**31), 2**31)
    if tp is float:
        return _FLOATS
    if tp is str:
        return st.text(max_size=12)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            if depth >= 2:  # empty, as max_size=0 made it, without recursing into a record that holds itself
                return st.just(())
            return st.lists(strategy_for(args[0], depth + 1), max_size=2).map(tuple)
        return st.tuples(*[strategy_for(a, depth + 1) for a in args])
    if origin is list:
        return st.lists(strategy_for(args[0], depth + 1), max_size=2)
    if origin is dict:
        return st.dictionaries(st.text(max_size=6), strategy_for(args[1], depth + 1), max_size=3)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = {
            f.name: FIELD_OVERRIDES[f.name] if f.name in FIELD_OVERRIDES else strategy_for(hints[f.name], depth + 1)
            for f in dataclasses.fields(tp)
            if f.init and f.name != "schema"
        }
        return st.builds(tp, **fields)
    raise NotImplementedError(f"no strategy for {tp!r}")


REPORTS = strategy_for(Report)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(REPORTS)
def test_report_json_round_trip(report: Report) -> None:
    text = render_json(report)
    again = Report.from_dict(json.loads(text))
    assert again == report
    assert render_json(again) == text


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(JSON_VALUES, REPORTS.map(lambda r: r.to_dict())).flatmap(lambda d: st.just(d) | _mangled(d)))
def test_report_from_any_json_is_a_report_or_bad_input(data: Any) -> None:
    try:
        Report.from_dict(data)
    except BadInputError as exc:
        assert "\n" not in str(exc)


def _mangled(data: Any) -> st.SearchStrategy[Any]:
    """The document with one key dropped or one value replaced by something else."""
    if not isinstance(data, dict) or not data:
        return st.just(data)
    keys = sorted(data)

    def drop(key: str) -> dict[str, Any]:
        return {k: v for k, v in data.items() if k != key}

    def swap(pair: tuple[str, Any]) -> dict[str, Any]:
        return {**data, pair[0]: pair[1]}

    return st.sampled_from(keys).map(drop) | st.tuples(st.sampled_from(keys), JSON_VALUES).map(swap)


# -- claims and articles ---------------------------------------------------------------------------

claims = pytest.importorskip("provenance.claims")


@settings(max_examples=120, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        JSON_VALUES.map(lambda d: json.dumps(d).encode()),
        st.fixed_dictionaries({}, optional={k: JSON_VALUES | st.text(max_size=40) for k in claims.CLAIM_KEYS}).map(
            lambda d: json.dumps(d).encode()
        ),
    ),
    st.sampled_from(["claim.yml", "claim.json"]),
)
def test_claim_file_gives_a_claim_or_bad_input(content: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        try:
            claim = claims.claim_from_file(path)
        except BadInputError as exc:
            assert "\n" not in str(exc)
            return
    # One JSON pass may join a surrogate pair that YAML kept apart; after it the claim is stable.
    data = json.loads(json.dumps(claim.to_dict(), allow_nan=False))
    assert json.loads(json.dumps(claims.Claim.from_dict(data).to_dict())) == data


ARTICLE_PIECES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<script>",
            "</script>",
            "<time datetime='2024-01-17'>",
            "<!--",
            "-->",
            "&amp;",
            "&#0;",
            "<meta property='article:published_time' content='2024-02-30'>",
            "<",
            ">",
            "\n",
            " on Monday ",
            " yesterday ",
            " 17 January 2024 ",
            " in Paris ",
            " Telegram ",
            '<script type="application/ld+json">{"datePublished": "x"}',
        ]
    ),
)
ARTICLE_TEXT = st.lists(ARTICLE_PIECES, max_size=40).map("".join)


@settings(max_examples=120, deadline=None)
@given(ARTICLE_TEXT)
def test_article_parsers_take_any_text(text: str) -> None:
    for parse in (claims.article_from_text, claims.article_from_html):
        try:
            article = parse(text)
        except BadInputError as exc:  # an empty article, a page with no text
            assert "\n" not in str(exc)
        else:
            assert article is not None


@settings(max_examples=60, deadline=None)
@given(ARTICLE_TEXT, st.sampled_from(["a.txt", "a.html"]))
def test_claim_from_any_article_file(text: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            claim = claims.claim_from_article(path)
        except BadInputError as exc:
            assert "\n" not in str(exc)
            return
    if claim is not None:
        json.dumps(claim.to_dict(), allow_nan=False)


@given(JSON_VALUES | st.text(max_size=20))
def test_claim_dates_parse_or_refuse(value: Any) -> None:
    try:
        out = claims.parse_claim_date(value)
    except BadInputError:
        return
    assert isinstance(out, str)
    claims.date_range(out)


# -- check over mutated clips ----------------------------------------------------------------------


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args], check=True, timeout=120)


def _mutate(data: bytes, rng: random.Random, other: bytes) -> bytes:
    """One random damage: bit flips, an overwritten, zeroed, repeated or removed block, a cut, a splice."""
    b = bytearray(data)
    n = len(b)
    kind = rng.randrange(7)
    if kind == 0:
        for _ in range(rng.randint(1, 40)):
            b[rng.randrange(n)] ^= 1 << rng.randrange(8)
    elif kind == 1:
        at = rng.randrange(n)
        size = rng.randint(1, 4096)
        b[at : at + size] = rng.randbytes(min(size, n - at))
    elif kind == 2:
        at = rng.randrange(n)
        b[at : at + rng.randint(1, 4096)] = bytes(min(4096, n - at))[: len(b[at : at + 4096])]
    elif kind == 3:
        at, size = rng.randrange(n), rng.randint(1, 8192)
        b[at:at] = b[at : at + size]
    elif kind == 4:
        at = rng.randrange(n)
        del b[at : at + rng.randint(1, 8192)]
    elif kind == 5:
        b = b[: rng.randrange(1, n)]
    else:
        at = rng.randrange(n)
        b = b[:at] + bytearray(other[rng.randrange(len(other)) :])
    # Header fields are where a small change does most: bias one more flip towards the start.
    if b and rng.random() < 0.5:
        b[rng.randrange(min(len(b), 512))] ^= 0xFF
    return bytes(b)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Small valid clips in the containers we accept: MP4 (both atom orders), Matroska, AVI, MPEG-TS, FLV."""
    root = tmp_path_factory.mktemp("seeds")
    source = ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=2"]
    out = {}
    for name, codec in (
        ("a.mp4", ["-c:v", "libx264", "-g", "5"]),
        ("b.mp4", ["-c:v", "libx264", "-movflags", "+faststart"]),
        ("c.mkv", ["-c:v", "libx264"]),
        ("d.avi", ["-c:v", "mpeg4"]),
        ("e.ts", ["-c:v", "mpeg2video"]),
        ("f.flv", ["-c:v", "flv"]),
    ):
        _ffmpeg(*source, *codec, str(root / name))
        out[name] = (root / name).read_bytes()
    return out


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_check_over_mutated_clips(seeds: dict[str, bytes], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from provenance.cli import main
    from provenance.index import open_index
    from provenance.ingest import add_paths

    index = tmp_path / "index.sqlite"
    (tmp_path / "a.mp4").write_bytes(seeds["a.mp4"])
    with open_index(index, create=True) as idx:
        add_paths([tmp_path / "a.mp4"], idx)
    rng = random.Random(int(os.environ.get("PROVENANCE_FUZZ_SEED", "1")))
    names = sorted(seeds)
    outcomes: dict[int, int] = {}
    deadline = time.monotonic() + MUTATION_BUDGET_S
    runner = CliRunner()
    n = 0
    while n < MIN_MUTATIONS or time.monotonic() < deadline:
        name = names[n % len(names)]
        data = _mutate(seeds[name], rng, seeds[names[(n + 1) % len(names)]])
        clip = tmp_path / f"m{n % 4}{Path(name).suffix}"
        clip.write_bytes(data)
        start = time.monotonic()
        result = runner.invoke(main, ["check", str(clip), "--index", str(index)], prog_name="provenance")
        took = time.monotonic() - start
        context = f"iteration {n} ({name}, {len(data)} bytes, {took:.1f} s): exit {result.exit_code}\n{result.stderr}"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            (tmp_path / "crash.bin").write_bytes(data)
            raise AssertionError(f"{context}\nescaped: {result.exception!r}") from result.exception
        assert result.exit_code in (0, 1, 2), context
        assert took < 60, context
        assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, context
        if result.exit_code == 0:
            json.loads(result.stdout)
        else:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), context
        outcomes[result.exit_code] = outcomes.get(result.exit_code, 0) + 1
        n += 1
    print(f"mutation run: {n} files, outcomes by exit code {dict(sorted(outcomes.items()))}")
