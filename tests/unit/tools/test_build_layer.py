"""tools/build_layer.py: builds the boto3 layer once per requirements file and Python version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from features.shared.layer_build import build_problem, record_path
from tools import build_layer


class FakePip:
    """Writes what `pip install --target` would, and counts the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Path, Path, str]] = []

    def __call__(self, requirements: Path, target: Path, python_version: str) -> None:
        self.calls.append((requirements, target, python_version))
        for name, version in (
            ("boto3", "1.44.5"),
            ("botocore", "1.44.5"),
            ("python_dateutil", "2.9.0.post0"),
        ):
            (target / f"{name}-{version}.dist-info").mkdir(parents=True)
        (target / "boto3").mkdir()
        (target / "boto3" / "__init__.py").write_text("")
        (target / "bin").mkdir()


@pytest.fixture
def requirements(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("boto3==1.44.5\nbotocore==1.44.5\n")
    return path


def test_builds_the_layer_and_records_what_it_holds(tmp_path: Path, requirements: Path):
    pip, layer = FakePip(), tmp_path / "build" / "boto3"
    assert build_layer.build(requirements, layer, "3.14", install=pip) is True
    assert pip.calls == [(requirements, tmp_path / "build" / "boto3.tmp" / "python", "3.14")]
    assert (layer / "python" / "boto3" / "__init__.py").is_file()
    assert not (layer / "python" / "bin").exists()
    record = json.loads(record_path(layer).read_text())
    assert record["python_version"] == "3.14"
    assert record["packages"] == {
        "boto3": "1.44.5",
        "botocore": "1.44.5",
        "python-dateutil": "2.9.0.post0",
    }
    assert build_problem(layer, requirements, "3.14") is None


def test_a_second_run_changes_nothing(tmp_path: Path, requirements: Path):
    pip, layer = FakePip(), tmp_path / "boto3"
    build_layer.build(requirements, layer, "3.14", install=pip)
    assert build_layer.build(requirements, layer, "3.14", install=pip) is False
    assert len(pip.calls) == 1


def test_new_pins_or_a_new_runtime_rebuild(tmp_path: Path, requirements: Path):
    pip, layer = FakePip(), tmp_path / "boto3"
    build_layer.build(requirements, layer, "3.14", install=pip)
    requirements.write_text("boto3==1.44.6\nbotocore==1.44.6\n")
    assert "another version of" in build_problem(layer, requirements, "3.14")
    assert build_layer.build(requirements, layer, "3.14", install=pip) is True
    assert "built for Python 3.14, not 3.15" in build_problem(layer, requirements, "3.15")
    assert build_layer.build(requirements, layer, "3.15", install=pip) is True
    assert len(pip.calls) == 3


def test_a_missing_build_is_reported(tmp_path: Path, requirements: Path):
    assert "not built" in build_problem(tmp_path / "boto3", requirements, "3.14")


def test_the_layer_is_built_for_the_functions_runtime():
    from features.optimization.optimization_launcher import RUNTIME

    assert RUNTIME.name == f"python{build_layer.PYTHON_VERSION}"


def test_pip_gets_pure_python_wheels_for_the_runtime(monkeypatch, tmp_path: Path):
    commands = []
    monkeypatch.setattr(build_layer.subprocess, "run", lambda cmd, check: commands.append(cmd))
    build_layer.pip_install(Path("req.txt"), tmp_path / "python", "3.14")
    (command,) = commands
    joined = " ".join(command)
    for part in (
        "--only-binary=:all:",
        "--platform any",
        "--implementation py",
        "--python-version 3.14",
        "--no-compile",
        f"--target {tmp_path / 'python'}",
        "-r req.txt",
    ):
        assert part in joined
