"""The house rules of the code base (docs/architecture.md), checked on every tracked source file."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import ROOT

MAX_LINES = 400


def sources() -> list[str]:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [name for name in tracked if not name.startswith("tests/")]


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return {name: (ROOT / name).read_text(encoding="utf-8") for name in sources()}


def test_no_source_file_is_over_400_lines(files):
    long = {name: text.count("\n") for name, text in files.items() if text.count("\n") > MAX_LINES}
    assert long == {}


def test_nothing_but_the_tests_edits_sys_path(files):
    # Every package is installed (pip install -e .): nothing needs a path of its own.
    edits = [
        name
        for name, text in files.items()
        if re.search(r"sys\.path\.(insert|append)|sys\.path\[", text)
    ]
    assert edits == []


def test_the_rules_see_the_source_tree(files):
    assert "workbench/__main__.py" in files and "features/endpoints/llm_endpoint.py" in files
