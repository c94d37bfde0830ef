"""The package root: the Python API from the top, and the README's Python section run as written.

``import provenance`` loads no stage (the names come on first use, through
the module's ``__getattr__``); ``provenance.check``, ``claim``, ``Claim``,
``render``, ``open_index``, ``Report`` and the error types are all there.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLES

import provenance
from provenance import errors

ROOT = Path(__file__).resolve().parent.parent


def test_import_loads_no_stage() -> None:
    code = "import provenance, sys; print(sorted(m for m in sys.modules if m.startswith('provenance')))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert json.loads(out.replace("'", '"')) == ["provenance", "provenance.errors"]


def test_every_public_name_is_at_the_top() -> None:
    from provenance.claims import Claim
    from provenance.index import open_index
    from provenance.report import RenderOptions, Report, read_report, render

    assert (provenance.Claim, provenance.Report, provenance.RenderOptions) == (Claim, Report, RenderOptions)
    assert (provenance.render, provenance.read_report, provenance.open_index) == (render, read_report, open_index)
    for name in ("ProvenanceError", "BadInputError", "ProcessingError", "ToolMissingError", "IndexUnavailableError"):
        assert getattr(provenance, name) is getattr(errors, name)
    for name in provenance.__all__:
        assert getattr(provenance, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = provenance.nothing  # type: ignore[attr-defined]


def test_claim_takes_what_the_flags_take(tmp_path: Path) -> None:
    claim = provenance.claim("Police flee", date="2024-01-17", place="Baymak, Russia", platforms=["twitter"])
    assert claim is not None
    assert (claim.text, claim.date, claim.place.name if claim.place else None) == (
        "Police flee",
        "2024-01-17",
        "Baymak",
    )
    assert claim.platforms == ("X",) and claim.origin == ("flags",)
    assert provenance.claim() is None
    from_file = provenance.claim(file=SAMPLES / "claim.yml", date="2024-01-16")
    assert from_file is not None and from_file.date == "2024-01-16" and from_file.text
    with pytest.raises(provenance.BadInputError, match="--claim-date"):
        provenance.claim(date="last tuesday")


def _readme_python() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("From Python", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "README.md has no Python example after 'From Python'"
    return found.group(1)


def test_readme_python_section_runs(sample_index: Path, viral_clip: Path, tmp_path: Path) -> None:
    """The README's snippet, with its index, clip and page pointed at a temporary index of samples/refs."""
    code = _readme_python()
    assert "provenance.claim(" in code and 'provenance.render(report, "html")' in code
    code = code.replace("sqlite:///newsroom.sqlite", f"sqlite:///{sample_index}")
    code = code.replace('"viral.mp4"', repr(str(viral_clip))).replace('"missing.mp4"', repr(str(tmp_path / "m.mp4")))
    code = code.replace('"report.html"', repr(str(tmp_path / "report.html")))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})  # the README's own example, run as written
    lines = printed.getvalue().splitlines()
    assert lines[0] == "footage_predates_claim ['2021-09-12']"
    assert lines[1] == "4 references"
    assert lines[2].startswith("2 ") and "m.mp4" in lines[2]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Footage predates claim" in page
