"""The application: one Stage holding every stack, deployed from a workstation or a pipeline."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.config import AppConfig
from stacks.storage_stack import StorageStack


class WorkbenchStage(cdk.Stage):
    """All application stacks of one environment; stacks receive each other as arguments."""

    def __init__(self, scope: Construct, id_: str, *, config: AppConfig, **kwargs) -> None:
        super().__init__(scope, id_, **kwargs)
        cdk.Tags.of(self).add("project", config.project)
        cdk.Tags.of(self).add("environment", config.env_name)

        self.storage = StorageStack(
            self,
            "Storage",
            description="Model optimization workbench: KMS key and S3 buckets (stateful)",
            storage=config.storage,
            retain_data=config.retain_data,
            parameter_prefix=config.parameter_prefix,
            termination_protection=config.retain_data,
        )
