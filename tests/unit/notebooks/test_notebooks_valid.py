"""The shipped notebooks: valid, clean, thin, and free of account-specific values."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import genai_workbench
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[3] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
REGION = re.compile(r"\b(us|eu|ap|sa|ca|me|af|il|mx|cn)(-gov|-iso[a-z]?)?-[a-z]+-\d\b")
ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def code_of(cell: dict) -> str:
    """Cell source without IPython magics and shell escapes."""
    return "\n".join(
        line for line in source(cell).splitlines() if not line.lstrip().startswith(("%", "!"))
    )


def test_the_seven_scenarios_are_shipped():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_nbformat_4(path):
    nbformat = pytest.importorskip("nbformat", reason="pip install nbformat")
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert notebook.nbformat == 4
    nbformat.validate(notebook)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_shipped_without_outputs(path):
    notebook = load(path)
    assert notebook["nbformat"] == 4
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == []
            assert cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_compile(path):
    for index, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] == "code":
            compile(code_of(cell), f"{path.name}[{index}]", "exec")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_says_what_it_costs_and_how_long_it_takes(path):
    first = load(path)["cells"][0]
    assert first["cell_type"] == "markdown"
    text = source(first).lower()
    assert text.startswith("# ")
    assert "what it does" in text
    assert "cost" in text and "$" in text
    assert "duration" in text and re.search(r"\d+\s*(minutes|hours?)", text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_holds_no_account_region_or_arn(path):
    text = path.read_text(encoding="utf-8")
    assert not ACCOUNT.search(text)
    assert not REGION.search(text)
    assert "arn:aws" not in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_only_what_the_client_offers(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(code_of(cell))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "genai_workbench"
            ):
                # A submodule (the optional LangChain classes) is checked in its own file.
                module = (
                    genai_workbench
                    if node.module == "genai_workbench"
                    else importlib.import_module(node.module)
                )
                for alias in node.names:
                    assert hasattr(module, alias.name), alias.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_conda_python3_kernel(path):
    assert load(path)["metadata"]["kernelspec"]["name"] == "conda_python3"
