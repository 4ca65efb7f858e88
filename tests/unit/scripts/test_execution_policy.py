"""execution_policy.py: the CloudFormation execution policy covers every resource type of the
synthesized templates, uses only real actions and condition keys, keeps to this deployment's
names where it can, limits SageMaker to the configured instance types, and fits IAM's size."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import scripts.execution_policy as ep
from scripts.operator_common import read_assembly
from tests.conftest import SynthesizedApp

VARIANTS = ["dev", "prod", "realtime"]


_BUILT: dict[str, tuple] = {}


def built(synthesized: SynthesizedApp):
    """The policy of a synthesized variant, built once per test session."""
    directory = synthesized.assembly.directory
    if directory not in _BUILT:
        _BUILT[directory] = _build(synthesized)
    return _BUILT[directory]


def _build(synthesized: SynthesizedApp):
    stacks = read_assembly(Path(synthesized.assembly.directory))
    config = synthesized.stage.config
    documents, left_out = ep.build(
        stacks,
        project=config.project,
        env=config.env_name,
        region="us-east-1",
        account="111111111111",
        partition="aws",
    )
    return stacks, documents, left_out


def policy_actions(documents) -> set[str]:
    return {a for d in documents for s in d["Statement"] for a in s["Action"]}


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_resource_type_of_the_templates_is_covered(request, variant):
    stacks, documents, left_out = built(request.getfixturevalue(variant))
    actions = policy_actions(documents)
    for resource_type in ep.resource_types(stacks):
        needed = ep.handler_actions(resource_type, "us-east-1")
        assert needed <= actions | left_out, (resource_type, needed - actions - left_out)
    assert "sagemaker:CreateInferenceComponent" in actions or variant != "realtime"
    assert "budgets:ModifyBudget" in actions
    assert "lambda:InvokeFunction" in actions  # the custom resources' handlers


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_action_and_condition_key_is_in_the_service_authorization_reference(request, variant):
    _, documents, _ = built(request.getfixturevalue(variant))
    for document in documents:
        for statement in document["Statement"]:
            for action in statement["Action"]:
                entry = ep.privilege(action)
                assert entry is not None, action
                keys = {
                    k for spec in entry["resource_types"].values() for k in spec["condition_keys"]
                }
                for operator in statement.get("Condition", {}).values():
                    for key in operator:
                        assert key in keys, (action, key)


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_document_fits_a_managed_policy(request, variant):
    _, documents, _ = built(request.getfixturevalue(variant))
    for document in documents:
        assert len(re.sub(r"\s", "", json.dumps(document))) <= ep.MAX_POLICY_CHARACTERS
    sids = [s["Sid"] for d in documents for s in d["Statement"]]
    assert len(sids) == len(set(sids)) and all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids)


def test_named_resources_are_this_deployment_s_and_instance_types_the_configured_ones(dev):
    _, documents, _ = built(dev)
    statements = {s["Sid"]: s for d in documents for s in d["Statement"]}
    assert statements["IamOfThisDeployment"]["Resource"] == [
        "arn:aws:iam::111111111111:role/genai-opt-dev-*"
    ]
    assert "iam:PassRole" in statements["IamOfThisDeployment"]["Action"]
    assert statements["S3OfThisDeployment"]["Resource"] == ["arn:aws:s3:::genai-opt-dev-*"]
    assert statements["SsmOfThisDeployment"]["Resource"] == [
        "arn:aws:ssm:us-east-1:111111111111:parameter/genai-opt/dev/*"
    ]
    limited = statements["SageMakerOnTheConfiguredInstanceTypes"]
    assert "sagemaker:CreateEndpointConfig" in limited["Action"]
    assert limited["Condition"] == {
        "ForAllValues:StringEquals": {
            "sagemaker:InstanceTypes": ["ml.inf2.48xlarge", "ml.p4d.24xlarge", "ml.t3.medium"]
        }
    }
    # No action is both limited and allowed everywhere, which would undo the limit.
    anywhere = set(statements["NoNameKnownInAdvance"]["Action"])
    assert not anywhere & set(limited["Action"])
    assert not any(a.endswith(":*") or a == "*" for a in anywhere)


def test_main_writes_the_documents_and_prints_the_bootstrap_command(dev, tmp_path, capsys):
    code = ep.main(
        [
            "--env",
            "dev",
            "--assembly",
            dev.assembly.directory,
            "--out",
            str(tmp_path),
            "--account",
            "222222222222",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    files = sorted(tmp_path.glob("genai-opt-dev-cfn-exec-*.json"))
    assert files and all(json.loads(f.read_text())["Version"] == "2012-10-17" for f in files)
    assert "npx cdk bootstrap aws://222222222222/REGION --cloudformation-execution-policies " in out
    assert "arn:aws:iam::222222222222:policy/genai-opt-dev-cfn-exec-1" in out
    assert "Left out, not IAM actions" in out
