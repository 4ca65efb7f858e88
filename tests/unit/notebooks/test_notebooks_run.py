"""The shipped notebooks run top to bottom, on an IPython kernel, against the AWS stand-in of
aws_standin.py: a renamed client function, a changed record or a wrong call fails here."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.conftest import ROOT

RUN = [
    "01_speculative_decoding_sagemaker_draft",
    "02_speculative_decoding_custom_draft",
    "03_awq_quantization",
    "04_neuron_compilation_inf2",
    "05_async_scale_to_zero",
    "06_benchmark_variants",
    "07_realtime_chat_langchain",
]


def run(name: str, workdir) -> nbformat.NotebookNode:
    notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    setup = f"from tests.unit.notebooks import aws_standin\naws_standin.install({name!r})"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(setup))
    notebook.cells.append(nbformat.v4.new_code_cell("aws_standin.finish()"))
    env = {
        **os.environ,
        # The project's packages are installed; the tests' stand-in is imported from the root.
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ in notebooks/, which ships as an asset
    }
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    return client.execute(env=env)


def test_every_shipped_notebook_is_run():
    shipped = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert shipped == RUN


@pytest.mark.parametrize("name", RUN)
def test_the_notebook_runs_top_to_bottom(name, tmp_path):
    try:
        executed = run(name, tmp_path)
    except CellExecutionError as error:
        pytest.fail(f"{name}: {str(error)[-2000:]}")
    errors = [
        output
        for cell in executed.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
