"""No role the stacks create can escalate: parliament (with its community auditors) over every
identity policy of every synthesized variant finds no privilege escalation, and no action it
does not know is left in to hide a finding.

The execution policy has the same proof (tests/unit/workbench/test_execution_policy.py); this
one covers the roles the app runs as: the notebook workspace, the endpoints, the optimization,
measurement and launcher roles. Resources are CloudFormation expressions here; parliament's
escalation checks read actions only, so they are replaced by `*` (which can only add findings).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from parliament import analyze_policy_string, expand_action

from tests.conftest import SynthesizedApp
from workbench.iam_reference import NEWER_THAN_POLICY_SENTRY

VARIANTS = ["dev", "prod", "realtime"]
POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role")


def concrete(node: object) -> object:
    """`node` with every CloudFormation expression replaced by `*`."""
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)).startswith(("Fn::", "Ref")):
            return "*"
        return {key: concrete(value) for key, value in node.items()}
    if isinstance(node, list):
        return [concrete(value) for value in node]
    return node


def identity_policies(synthesized: SynthesizedApp) -> list[tuple[str, dict]]:
    """(stack and logical id, policy document) of every identity policy in the templates."""
    found = []
    for template_file in sorted(Path(synthesized.assembly.directory).rglob("*.template.json")):
        template = json.loads(template_file.read_text())
        for logical_id, resource in template.get("Resources", {}).items():
            if resource["Type"] not in POLICY_TYPES:
                continue
            properties = resource.get("Properties", {})
            documents = (
                [p["PolicyDocument"] for p in properties.get("Policies", [])]
                if resource["Type"] == "AWS::IAM::Role"
                else [properties["PolicyDocument"]]
            )
            for document in documents:
                found.append((f"{template_file.name} {logical_id}", concrete(document)))
    return found


def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def analyzed(document: dict) -> tuple[set[str], list]:
    """(actions parliament does not know, its findings on the rest of `document`)."""
    unknown: set[str] = set()
    statements = []
    for statement in document["Statement"]:
        actions = as_list(statement.get("Action", []))
        unknown |= {a for a in actions if not expand_action(a, raise_exceptions=False)}
        kept = [a for a in actions if a not in unknown]
        if kept:
            statements.append({**statement, "Action": kept})
    policy = {"Version": "2012-10-17", "Statement": statements}
    findings = analyze_policy_string(json.dumps(policy), include_community_auditors=True).findings
    return unknown, findings


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_role_policy_escalates_or_hides_a_finding_behind_an_unknown_action(request, variant):
    policies = identity_policies(request.getfixturevalue(variant))
    # The workspace role, the roles of every job and the endpoints' are among them.
    for role in ("NotebookRole", "JobRole", "MeasurementRole", "EndpointExecutionRole"):
        assert any(role in where for where, _ in policies), role
    for where, document in policies:
        unknown, findings = analyzed(document)
        # Actions newer than parliament's database are listed, with their source, apart.
        assert unknown <= set(NEWER_THAN_POLICY_SENTRY), (where, unknown)
        problems = [
            (f.issue, f.detail)
            for f in findings
            if "ESCALATION" in f.issue or f.issue.startswith("UNKNOWN") or "MISMATCHED" in f.issue
        ]
        assert not problems, (where, problems)


def test_the_check_finds_escalation_in_a_role_that_could_rewrite_its_policy():
    """It can fail: a role that may write a new version of a managed policy escalates."""
    statement = {"Effect": "Allow", "Action": ["iam:CreatePolicyVersion"], "Resource": {"Ref": "P"}}
    document = {"Version": "2012-10-17", "Statement": [statement]}
    _, findings = analyzed(concrete(document))
    assert any(f.issue == "PRIVILEGE_ESCALATION" for f in findings)
