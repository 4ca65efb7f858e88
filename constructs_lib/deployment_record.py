"""Publishes what a stack deployed, for the notebooks and operator scripts to discover."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct


class DeploymentRecord(Construct):
    """Owns one SSM parameter `<prefix>/deployment/<part>` holding a JSON document.

    Each stack describes itself (bucket names, endpoint names, ARNs) in its own record, so a
    reader such as the notebook workspace finds everything with one GetParametersByPath call
    and needs no deploy-time dependency on the stacks it describes: an endpoint stack that takes
    40 minutes never holds the workspace back.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        parameter_prefix: str,
        part: str,
        document: dict[str, Any],
    ) -> None:
        super().__init__(scope, id_)
        self.parameter_name = f"{parameter_prefix}/deployment/{part}"
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=self.parameter_name,
            description=f"What the {part} part of this deployment provides (JSON)",
            string_value=cdk.Stack.of(self).to_json_string(document),
        )
