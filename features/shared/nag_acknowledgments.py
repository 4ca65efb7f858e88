"""Acknowledging cdk-nag findings, each with the exact finding id and the reason it is accepted."""

from __future__ import annotations

import json

import aws_cdk as cdk
import jsii
from constructs import IConstruct, IValidation


def acknowledge(scope: IConstruct, findings: dict[str, str]) -> None:
    """Acknowledges exact cdk-nag findings on `scope` (and its children), each with its reason.

    A finding id is the rule id (`AwsSolutions-S1`, `NIST.800.53.R5-IAMNoInlinePolicy`), plus
    `[Kind::value]` for rules that report several findings per resource
    (`AwsSolutions-IAM5[Resource::*]`). It is recorded in the form the validation report asks
    for, prefixed with its pack: `AwsSolutions::AwsSolutions-S1`.
    """
    for finding, reason in findings.items():
        pack = finding.split("-", 1)[0]
        cdk.Validations.of(scope).acknowledge(
            cdk.Acknowledgment(id=f"{pack}::{finding}", reason=reason)
        )


def nag_text(scope: IConstruct, value: str) -> str:
    """How cdk-nag writes a string value of `scope`'s stack inside a finding id.

    A plain string stays as it is; CloudFormation references become `<LogicalId>`,
    `<LogicalId.Attribute>` or `<AWS::Region>`. So an ARN built with `Stack.format_arn` reads
    `arn:<AWS::Partition>:logs:<AWS::Region>:...` in an environment-agnostic stack, and
    `arn:aws:logs:us-east-1:111111111111:...` in a stack with a concrete account and region (as
    the pipeline deploys them).
    """
    return _nag_text(cdk.Stack.of(scope).resolve(value))


def _nag_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        [(function, argument)] = value.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Fn::Join":
            joined: str = argument[0].join(_nag_text(part) for part in argument[1])
            return joined
    return json.dumps(value, separators=(",", ":"))


def acknowledge_wildcards(scope: IConstruct, resources: dict[str, str]) -> None:
    """Acknowledges AwsSolutions-IAM5 findings for wildcard `resources` (ARN -> reason) on `scope`.

    The finding id holds the resource as synthesized, and a reference to another stack only
    takes its final form (e.g. `Fn::GetStackOutput`) when the app is prepared for synthesis; so
    the ids are computed then, in a validation hook, which runs before the policy plugins.
    """
    scope.node.add_validation(_LateWildcardAcknowledgment(scope, resources))


@jsii.implements(IValidation)
class _LateWildcardAcknowledgment:
    def __init__(self, scope: IConstruct, resources: dict[str, str]) -> None:
        self._scope, self._resources = scope, resources

    def validate(self) -> list[str]:
        acknowledge(
            self._scope,
            {wildcard_resource(self._scope, arn): why for arn, why in self._resources.items()},
        )
        return []


def wildcard_resource(scope: IConstruct, resource: str) -> str:
    """The AwsSolutions-IAM5 finding id for a wildcard `resource` that may hold CDK tokens.

    Called after the app is prepared, a cross-stack reference reads as its compact
    `Fn::GetStackOutput` JSON, as cdk-nag prints it (`nag_text`).
    """
    return f"AwsSolutions-IAM5[Resource::{nag_text(scope, resource)}]"


def checkov_skip(resource: cdk.CfnResource, checks: dict[str, str]) -> None:
    """Skips checkov checks on one resource, each with its reason: CloudFormation `Metadata`
    `checkov.skip` (checkov docs, "Suppressing/Skipping", CloudFormation), merged with any skip
    the resource already has."""
    metadata = resource.get_metadata("checkov") or {}
    skips = {entry["id"]: entry["comment"] for entry in metadata.get("skip", [])}
    skips.update(checks)
    resource.add_metadata(
        "checkov",
        {"skip": [{"id": check, "comment": reason} for check, reason in sorted(skips.items())]},
    )
