"""Publishes what a stack deployed, for the notebooks and operator scripts to discover."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from workbench_domain import deployment_records
from workbench_domain.deployment_records import Record


class DeploymentRecord(Construct):
    """Owns one SSM parameter `<prefix>/deployment/<part>` holding a record as JSON.

    Each stack describes itself (bucket names, endpoint names, ARNs) in its own record, so a
    reader such as the notebook workspace finds everything with one GetParametersByPath call
    and needs no deploy-time dependency on the stacks it describes: an endpoint stack that takes
    40 minutes never holds the workspace back. The record types, and their readers, are
    `workbench_domain.deployment_records`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        parameter_prefix: str,
        record: Record,
        endpoint_key: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        part = deployment_records.part_name(record, endpoint_key)
        self.parameter_name = deployment_records.parameter_name(parameter_prefix, part)
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=self.parameter_name,
            description=f"What the {part} part of this deployment provides (JSON)",
            string_value=cdk.Stack.of(self).to_json_string(deployment_records.to_document(record)),
        )
