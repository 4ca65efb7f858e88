"""The application: one Stage holding every stack, deployed from a workstation or a pipeline."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.config import AppConfig
from stacks.endpoint_stack import EndpointStack
from stacks.storage_stack import StorageStack
from stacks.workspace_stack import WorkspaceStack


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

        # One stack per enabled endpoint: each takes 10-40 minutes to create and may fail on a
        # quota, so a failure rolls back that endpoint alone.
        self.endpoints: dict[str, EndpointStack] = {
            key: EndpointStack(
                self,
                f"Endpoint-{key}",
                description=f"Model optimization workbench: async endpoint {key} "
                f"({endpoint.instance_type}) that scales to zero",
                endpoint=endpoint,
                key=self.storage.key,
                artifacts_bucket=self.storage.artifacts_bucket,
                inference_bucket=self.storage.inference_bucket,
                parameter_prefix=config.parameter_prefix,
            )
            for key, endpoint in config.endpoints.items()
            if endpoint.enabled
        }
        self.workspace = WorkspaceStack(
            self,
            "Workspace",
            description="Model optimization workbench: notebook instance, lifecycle, role",
            workspace=config.workspace,
            project=config.project,
            env_name=config.env_name,
            parameter_prefix=config.parameter_prefix,
            key=self.storage.key,
            artifacts_bucket=self.storage.artifacts_bucket,
            inference_bucket=self.storage.inference_bucket,
            # With the Optimization stack: state_machine=self.optimization.state_machine,
        )
