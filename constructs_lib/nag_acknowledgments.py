"""Acknowledging cdk-nag findings, each with the exact finding id and the reason it is accepted."""

from __future__ import annotations

import hashlib
import json
import re

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


def cross_stack_reference_text(resource: cdk.CfnResource, attribute: str) -> str:
    """How cdk-nag writes, inside a finding id, a reference to another stack's resource attribute.

    With weak cross-stack references (`@aws-cdk/core:defaultCrossStackReferences`), the consuming
    template reads the value with `Fn::GetStackOutput` from an output that CDK adds to the producing
    stack under `Publish/Output<resolved reference>`; cdk-nag prints that intrinsic as JSON, e.g.
    `AwsSolutions-IAM5[Resource::<this text>/models/*]`. The output's logical id follows CDK's
    `makeUniqueId` (path components stripped to alphanumerics, then an MD5 suffix): if a CDK
    upgrade changes it, the synth fails on the unacknowledged finding and shows the new id.
    """
    producer = cdk.Stack.of(resource)
    output_id = "Output" + json.dumps(
        producer.resolve(resource.get_att(attribute)), separators=(",", ":")
    )
    components = ["Publish", output_id]
    human = "".join(re.sub(r"[^A-Za-z0-9]", "", c) for c in components)
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()
    return json.dumps(
        {
            "Fn::GetStackOutput": {
                "StackName": producer.stack_name,
                "Region": producer.resolve(producer.region),
                "OutputName": human + digest[:8].upper(),
            }
        },
        separators=(",", ":"),
    )


def reference_text(consumer: IConstruct, resource: cdk.CfnResource, attribute: str) -> str:
    """How cdk-nag writes `resource`'s `attribute` (e.g. a bucket's Arn) in a finding id of a
    construct in `consumer`'s stack: `<LogicalId.Arn>` in the same stack, else the weak
    cross-stack reference (`cross_stack_reference_text`)."""
    producer = cdk.Stack.of(resource)
    if producer is cdk.Stack.of(consumer):
        return f"<{producer.resolve(resource.logical_id)}.{attribute}>"
    return cross_stack_reference_text(resource, attribute)


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
            return argument[0].join(_nag_text(part) for part in argument[1])
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
