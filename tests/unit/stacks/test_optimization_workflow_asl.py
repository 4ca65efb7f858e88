"""The synthesized state machine definition is valid Amazon States Language (asl-validator)."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from tests.conftest import ROOT, SynthesizedApp
from tests.unit.stacks.optimization_templates import state_machine_definition

NODE = ROOT / ".venv" / "bin" / "node"
VALIDATOR = ROOT / "node_modules" / "asl-validator" / "dist" / "bin" / "asl-validator.js"


def validate(definition: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    if not (NODE.exists() and VALIDATOR.exists()):
        pytest.fail("asl-validator or Node is not installed: run `make bootstrap`")
    path = tmp_path / "definition.asl.json"
    path.write_text(json.dumps(definition, indent=2))
    return subprocess.run(
        [str(NODE), str(VALIDATOR), "--json-path", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture(scope="module", params=["dev", "prod"])
def definition(request) -> dict:
    synthesized: SynthesizedApp = request.getfixturevalue(request.param)
    stage = synthesized.stage
    template: Template = synthesized.template(stage.optimization)
    others = {stage.storage.stack_name: synthesized.template(stage.storage).to_json()}
    return state_machine_definition(template, others)


def test_definition_is_valid_asl(definition: dict, tmp_path: Path):
    result = validate(definition, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout


def test_validator_rejects_a_broken_definition(definition: dict, tmp_path: Path):
    """The check above means something: a transition to a missing state is refused."""
    broken = copy.deepcopy(definition)
    broken["States"]["WaitForJob"]["Next"] = "NoSuchState"
    result = validate(broken, tmp_path)
    assert result.returncode != 0
    assert "NoSuchState" in result.stdout + result.stderr
