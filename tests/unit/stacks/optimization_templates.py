"""Helpers to read the synthesized templates: policies, the state machine, token stand-ins.

Imported as `tests.unit.stacks.optimization_templates` (pytest runs with --import-mode=importlib).
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template

ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
PROJECT_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
# What every SageMaker job role writes (features/shared/sagemaker_job_policy.py), as the role
# tests summarize a statement: its actions, rendered resources and condition, by Sid.
JOB_LOGS_AND_METRICS: dict[str, Any] = {
    "WriteJobLogs": {
        "actions": {
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
        },
        "resources": [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/*"],
        "condition": None,
    },
    "PutJobMetrics": {
        "actions": {"cloudwatch:PutMetricData"},
        "resources": ["*"],
        "condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
    },
}


def resources(template: Template, type_: str) -> dict[str, dict]:
    return template.find_resources(type_)


def only(template: Template, type_: str) -> tuple[str, dict]:
    found = resources(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def role_statements(template: Template, role_logical_id: str) -> list[dict]:
    """Statements of every policy attached to the role, in template order."""
    statements = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def by_sid(statements: list[dict]) -> dict[str, dict]:
    return {s["Sid"]: s for s in statements if "Sid" in s}


def actions(statement: dict) -> set[str]:
    value = statement["Action"]
    return {value} if isinstance(value, str) else set(value)


def placeholder(node: Any, template: dict, others: dict[str, dict]) -> str:
    """A plausible deploy-time value for a CloudFormation token of `template`.

    `others` maps stack names to the templates a `Fn::GetStackOutput` may read. Raises on a
    token it does not know, so a new kind of reference is noticed.
    """
    if isinstance(node, str):
        return node
    if "Fn::Join" in node:
        delimiter, parts = node["Fn::Join"]
        return delimiter.join(placeholder(p, template, others) for p in parts)
    pseudo = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
    }
    if "Ref" in node and node["Ref"] in pseudo:
        return pseudo[node["Ref"]]
    if "Fn::FindInMap" in node:
        name, key, attribute = (placeholder(p, template, others) for p in node["Fn::FindInMap"])
        return template["Mappings"][name][key][attribute]
    if "Fn::GetStackOutput" in node:
        output = node["Fn::GetStackOutput"]
        producer = others[output["StackName"]]
        return placeholder(producer["Outputs"][output["OutputName"]]["Value"], producer, others)
    if "Ref" in node:
        logical_id, attribute = node["Ref"], "Ref"
    elif "Fn::GetAtt" in node:
        logical_id, attribute = node["Fn::GetAtt"]
    else:
        raise AssertionError(f"no placeholder for {json.dumps(node)}")
    kind = template["Resources"][logical_id]["Type"]
    name = logical_id.lower()
    values = {
        ("AWS::S3::Bucket", "Ref"): name,
        ("AWS::S3::Bucket", "Arn"): f"arn:aws:s3:::{name}",
        ("AWS::KMS::Key", "Arn"): PROJECT_KEY_ARN,
        ("AWS::Lambda::Function", "Ref"): name,
        ("AWS::Lambda::Function", "Arn"): f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        ("AWS::StepFunctions::StateMachine", "Ref"): (
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{logical_id}"
        ),
        ("AWS::SNS::Topic", "Ref"): f"arn:aws:sns:{REGION}:{ACCOUNT}:{logical_id}",
        ("AWS::IAM::Role", "Arn"): f"arn:aws:iam::{ACCOUNT}:role/{logical_id}",
        ("AWS::SageMaker::Endpoint", "EndpointName"): name,
    }
    if (kind, attribute) not in values:
        raise AssertionError(f"no placeholder for {json.dumps(node)} ({kind})")
    return values[(kind, attribute)]


def state_machine_definition(template: Template, others: dict[str, dict]) -> dict:
    """The state machine's ASL, its tokens replaced by placeholders."""
    _, machine = only(template, "AWS::StepFunctions::StateMachine")
    definition = machine["Properties"]["DefinitionString"]
    return json.loads(placeholder(definition, template.to_json(), others))


def successors(state: dict) -> list[str]:
    names = [choice["Next"] for choice in state.get("Choices", [])]
    names += [state[key] for key in ("Default", "Next") if key in state]
    names += [catch["Next"] for catch in state.get("Catch", [])]
    return names
