"""Acknowledging cdk-nag findings, each with the exact finding id and the reason it is accepted."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


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
