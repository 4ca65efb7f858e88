"""Boto3Layer: refuses a missing or stale build with the command that fixes it."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from features.shared.boto3_layer import Boto3Layer, MissingBuildError
from features.shared.layer_build import record_path, requirements_digest


@pytest.fixture
def requirements(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("boto3==1.44.5\n")
    return path


def built_layer(tmp_path: Path, requirements: Path, python_version: str = "3.14") -> Path:
    layer = tmp_path / "layer"
    (layer / "python" / "boto3").mkdir(parents=True)
    (layer / "python" / "boto3" / "__init__.py").write_text("__version__ = '1.44.5'\n")
    record_path(layer).write_text(
        json.dumps(
            {
                "requirements_sha256": requirements_digest(requirements),
                "python_version": python_version,
                "packages": {"boto3": "1.44.5", "botocore": "1.44.5"},
            }
        )
    )
    return layer


def synth_layer(requirements: Path, layer: Path) -> dict:
    stack = cdk.Stack(cdk.App())
    Boto3Layer(
        stack,
        "Boto3",
        runtime=lambda_.Runtime.PYTHON_3_14,
        requirements=requirements,
        layer_dir=layer,
    )
    (resource,) = Template.from_stack(stack).find_resources("AWS::Lambda::LayerVersion").values()
    return resource["Properties"]


def test_missing_build_fails_synth_with_the_fix(tmp_path: Path, requirements: Path):
    stack = cdk.Stack(cdk.App())
    with pytest.raises(MissingBuildError, match=r"not built .*run `make bootstrap`"):
        Boto3Layer(
            stack,
            "Boto3",
            runtime=lambda_.Runtime.PYTHON_3_14,
            requirements=requirements,
            layer_dir=tmp_path / "nothing",
        )


def test_layer_for_another_python_fails_synth(tmp_path: Path, requirements: Path):
    layer = built_layer(tmp_path, requirements, python_version="3.13")
    with pytest.raises(MissingBuildError, match=r"built for Python 3.13, not 3.14"):
        Boto3Layer(
            cdk.Stack(cdk.App()),
            "Boto3",
            runtime=lambda_.Runtime.PYTHON_3_14,
            requirements=requirements,
            layer_dir=layer,
        )


def test_layer_identity_follows_the_pins_not_the_resolved_files(tmp_path: Path, requirements: Path):
    layer = built_layer(tmp_path, requirements)
    first = synth_layer(requirements, layer)
    assert first["CompatibleRuntimes"] == ["python3.14"]
    assert "boto3 1.44.5, botocore 1.44.5" in first["Description"]
    # pip resolving a newer transitive wheel for the same pins: same asset, same template
    (layer / "python" / "boto3" / "__init__.py").write_text("__version__ = '1.44.5'  # rebuilt\n")
    assert synth_layer(requirements, layer)["Content"] == first["Content"]
    requirements.write_text("boto3==1.44.6\n")
    record = json.loads(record_path(layer).read_text())
    record["requirements_sha256"] = requirements_digest(requirements)
    record_path(layer).write_text(json.dumps(record))
    assert synth_layer(requirements, layer)["Content"] != first["Content"]
