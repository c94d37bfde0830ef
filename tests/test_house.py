"""House rules over the whole package (docs/design.md, "Modules and the import order"; STYLE.md).

Read from the source with `ast`, nothing run: constants' comments stay short
(their history lives in docs/tuning.md), every threshold a decision uses is
recorded in the report, and no module imports one below it in the pipeline.
Which modules start processes or load PyAV is checked in tests/test_tools.py.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

from provenance import audio, camera, diagnose, features, hashing, layout, match, metadata, shots, text, verdict, verify
from provenance.claims import places
from provenance.pipeline import HEADLINE_THRESHOLDS, thresholds, thresholds_by_stage

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "provenance"
DESIGN = ROOT / "docs" / "design.md"
REPORT_DOC = ROOT / "docs" / "report.md"
TUNING = ROOT / "docs" / "tuning.md"
SOURCES = sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py"))

#: Longest comment a module-level constant may carry (DESIGN.md, "Comments and tuning history").
MAX_COMMENT_LINES = 3
#: Files whose constants' comments are shortened on another branch of this round, which the merge brings in.
LONG_COMMENTS_ELSEWHERE: dict[str, str] = {}

_CONSTANT = re.compile(r"_?[A-Z][A-Z0-9_]*")


def _constants(tree: ast.Module) -> Iterator[tuple[ast.stmt, list[str]]]:
    """Each module-level assignment to UPPER_CASE names (type variables aside), with those names."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        names = [
            n.id
            for t in targets
            for n in (t.elts if isinstance(t, ast.Tuple) else [t])
            if isinstance(n, ast.Name) and _CONSTANT.fullmatch(n.id)
        ]
        value = node.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "TypeVar":
            continue
        if names:
            yield node, names


def _comment_above(lines: list[str], lineno: int) -> int:
    """How many comment lines sit directly above line `lineno` (1-based)."""
    n, i = 0, lineno - 2
    while i >= 0 and lines[i].lstrip().startswith("#"):
        n, i = n + 1, i - 1
    return n


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(s, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=LONG_COMMENTS_ELSEWHERE[s]))
        if s in LONG_COMMENTS_ELSEWHERE
        else s
        for s in SOURCES
    ],
)
def test_constant_comments_are_at_most_three_lines(source: str) -> None:
    # The rule, its range and where the value comes from; how it was found goes to docs/tuning.md.
    text = (ROOT / source).read_text(encoding="utf-8")
    lines = text.splitlines()
    long = {
        ", ".join(names): n
        for node, names in _constants(ast.parse(text))
        if (n := _comment_above(lines, node.lineno)) > MAX_COMMENT_LINES
    }
    assert not long, f"{source}: comments longer than {MAX_COMMENT_LINES} lines (move the history to docs/tuning.md)"


def test_every_public_constant_has_a_comment() -> None:
    # A run of constants with no blank line between them may share the comment above the first.
    bare = []
    for source in SOURCES:
        text = (ROOT / source).read_text(encoding="utf-8")
        lines = text.splitlines()
        previous_end, previous_commented = -1, False
        for node, names in _constants(ast.parse(text)):
            commented = _comment_above(lines, node.lineno) > 0 or (
                previous_end == node.lineno - 1 and previous_commented
            )
            if not commented and not all(n.startswith("_") for n in names):
                bare.append(f"{source}:{node.lineno} {', '.join(names)}")
            previous_end, previous_commented = node.end_lineno or node.lineno, commented
    assert not bare, bare


def test_every_tuning_section_names_a_constant_of_its_module() -> None:
    # docs/tuning.md: "### NAME (module.py)" per constant; a moved or renamed constant takes its section along.
    sections = re.findall(r"^### ([A-Z][A-Z0-9_]*) \(([a-z0-9_/]+)\.py\)$", TUNING.read_text(encoding="utf-8"), re.M)
    assert len(sections) >= 40
    for name, module in sections:
        dotted = "provenance." + module.removesuffix("/__init__").replace("/", ".")
        assert hasattr(importlib.import_module(dotted), name), f"docs/tuning.md: {name} is not in {dotted}"


# -- thresholds in the report --------------------------------------------------------

#: Each stage module whose THRESHOLDS the report records, by its stage's name in `thresholds_by_stage`.
STAGE_MODULES: dict[str, ModuleType] = {
    "audio": audio,
    "hashing": hashing,
    "layout": layout,
    "shots": shots,
    "text": text,
    "features": features,
    "camera": camera,
    "match": match,
    "verify": verify,
    "diagnose": diagnose,
    "claims": places,
    "metadata": metadata,
    "verdict": verdict,
}
#: Numeric constants of those modules that are not thresholds, and why.
NOT_THRESHOLDS = {
    "camera": {"METHOD": "the method's name and version, stored with each finding"},
    "verify": {"STILL_PICTURE_SENTENCE": "the report's sentence, not a number"},
    "features": {
        "DESCRIPTOR_BYTES": "ORB's descriptor size",
        "LSH_SEED": "fixes the bits the keys sample, part of the index's content",
    },
    "audio": {
        "SAMPLE_RATE": "Chromaprint's definition",
        "ITEM_STEP_S": "Chromaprint's definition",
        "ITEM_SPAN_S": "Chromaprint's definition",
        "SILENT_ITEM": "Chromaprint's definition",
        "ITEMS_PER_SECOND": "how BERs are reported",
        "KEY_CHUNKS": "the index's lookup keys",
        "RATE_REFINE_STEPS": "a search grid",
    },
    "hashing": {
        "HASH_BITS": "the hash's definition",
        "DCT_SIZE": "the hash's definition",
        "LOW": "the hash's definition",
        "CENTRE_KEEP": "the reference crops stored, part of the index's content",
        "OP_": "variant codes",
        "REGION_": "variant codes",
        "VARIANT_": "variant codes",
        "REFERENCE_VARIANTS": "variant codes",
        "QUERY_OPS": "variant codes",
    },
    "match": {
        "SPEEDS": "a search grid",
        "SPEED_STEPS": "a search grid",
        "SPEED_SCAN": "a search grid",
        "SPEED_SCAN_OFFSETS": "a search grid",
        "WIDE_SPEED_STEP": "a search grid",
    },
    "metadata": {"CODEC_FIRST_YEAR": "facts (each codec's first public year)"},
}


def _numeric(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | timedelta):
        return True
    if isinstance(value, tuple | frozenset):
        return bool(value) and all(_numeric(v) for v in value)
    if isinstance(value, dict):
        return bool(value) and all(_numeric(v) for v in value.values())
    return False


def _defined_constants(module: ModuleType) -> list[str]:
    """The public UPPER_CASE names a module assigns at its top level (not those it imports)."""
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    return [n for _, names in _constants(tree) for n in names if not n.startswith("_") and n != "THRESHOLDS"]


@pytest.mark.parametrize("stage", sorted(STAGE_MODULES))
def test_every_threshold_of_a_stage_is_recorded(stage: str) -> None:
    module = STAGE_MODULES[stage]
    recorded = module.THRESHOLDS
    assert thresholds_by_stage()[stage] == recorded
    skipped = NOT_THRESHOLDS.get(stage, {})
    names = _defined_constants(module)
    for name in names:
        if not _numeric(getattr(module, name)) or any(
            name == s or (s.endswith("_") and name.startswith(s)) for s in skipped
        ):
            continue
        key = name.lower()
        keys = [k for k in recorded if k == key or k.startswith(key + "_")]
        assert keys, f"{stage}: {name} is not in {module.__name__}.THRESHOLDS (or NOT_THRESHOLDS, saying why)"
        if key in recorded:
            assert recorded[key] == getattr(module, name)
    # ... and every recorded name is one of the stage's constants, in lower case (a unit or an end may follow).
    lowered = sorted((n.lower() for n in names + ["CLAIM_DATE_TOLERANCE_DAYS"]), key=len, reverse=True)
    for key in recorded:
        assert any(key == n or key.startswith(n + "_") for n in lowered), key
        assert isinstance(recorded[key], int | float) and not isinstance(recorded[key], bool), key


def test_report_thresholds_keep_the_eight_first_then_every_stage() -> None:
    flat = thresholds()
    by_stage = thresholds_by_stage()
    headline = [name for name, _ in HEADLINE_THRESHOLDS]
    assert headline == [
        "match_threshold",
        "frame_match_distance",
        "candidate_distance",
        "min_matched_frames",
        "min_frame_std",
        "min_informative_frames",
        "query_fps",
        "reference_fps",
    ]
    assert list(flat)[:8] == headline
    assert json.dumps({k: flat[k] for k in headline}) == (
        '{"match_threshold": 0.5, "frame_match_distance": 12, "candidate_distance": 14, "min_matched_frames": 3, '
        '"min_frame_std": 4.0, "min_informative_frames": 3, "query_fps": 4.0, "reference_fps": 2.0}'
    )
    assert list(flat)[8:] == [f"{stage}.{name}" for stage, values in by_stage.items() for name in values]
    for name, stage in HEADLINE_THRESHOLDS:
        assert flat[name] == flat[f"{stage}.{name}"]
    assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in flat.values())
    assert list(by_stage)[0] == "sampling" and list(by_stage)[1:] == list(STAGE_MODULES)


def test_every_recorded_threshold_is_documented() -> None:
    doc = REPORT_DOC.read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([a-z]+)` \|[^|]*\| (.*) \|$", doc, re.MULTILINE)}
    for stage, values in thresholds_by_stage().items():
        assert stage in rows, f"docs/report.md has no row for the stage {stage}"
        assert re.findall(r"`([a-z0-9_]+)`", rows[stage]) == list(values), stage


# -- the import order ----------------------------------------------------------------------


def _ranks() -> dict[str, int]:
    """Each top-level module's rank, from the table in docs/design.md under "Modules and the import order"."""
    text = DESIGN.read_text(encoding="utf-8")
    table = text.split("| rank | stage | modules |", 1)[1].split("\n\n", 1)[0]
    ranks: dict[str, int] = {}
    for row in table.splitlines()[2:]:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        for name in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cells[2]):
            ranks[name] = int(cells[0])
    return ranks


def _module_name(source: str) -> str:
    parts = source.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(source: str) -> set[str]:
    """The package's modules `source` imports, anywhere in it (lazy and TYPE_CHECKING imports count)."""
    module = _module_name(source)
    package = module if source.endswith("__init__.py") else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse((ROOT / source).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "provenance" or target.startswith("provenance."):
                # `from . import match` imports the module provenance.match
                out.update(f"{target}.{a.name}" if target == "provenance" else target for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("provenance"))
    return out


def _stage(module: str) -> str:
    """The key of a module in the rank table: its top-level name under the package, or ``provenance``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _against_the_order() -> set[tuple[str, str]]:
    ranks = _ranks()
    found = set()
    for source in SOURCES:
        module = _module_name(source)
        if module == "provenance":
            continue  # the root's `check` imports pipeline when called: the facade, loading no stage on import
        for target in _imports(source):
            if _stage(target) == _stage(module) and _stage(module) != "provenance":
                continue  # inside one package
            if _stage(target) not in ranks:
                target = target.rsplit(".", 1)[0]  # `from . import __version__` names no module
            if ranks[_stage(target)] > ranks[_stage(module)]:
                found.add((module, target))
    return found


def test_every_module_has_a_rank_in_design_md() -> None:
    ranks = _ranks()
    assert {"errors", "tools", "probe", "decode", "hashing", "query", "index", "match", "cli"} <= set(ranks)
    unranked = sorted({_stage(_module_name(s)) for s in SOURCES} - set(ranks))
    assert not unranked, f"docs/design.md gives these modules no rank: {unranked}"


def test_no_import_against_the_pipeline_order() -> None:
    # A module imports only its own package and modules of its rank or lower (docs/design.md).
    assert not _against_the_order()


def test_the_import_order_checker_sees_lazy_relative_imports(tmp_path: Path) -> None:
    # A lazy import inside a function (the package root's check), and relative imports, must be seen.
    assert "provenance.pipeline" in _imports("provenance/__init__.py")
    assert "provenance.match" in _imports("provenance/pipeline.py")  # from . import match as match_mod
    assert "provenance.claims" in _imports("provenance/report/__init__.py")  # from ..claims import Claim
