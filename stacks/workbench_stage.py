"""The application: one Stage holding every stack, deployed from a workstation or a pipeline."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.budget_stack import BudgetStack
from stacks.endpoint_stack import EndpointStack
from stacks.optimization_stack import OptimizationStack
from stacks.storage_stack import StorageStack
from stacks.workspace_stack import WorkspaceStack
from workbench_config import AppConfig
from workbench_domain import cost_allocation


class WorkbenchStage(cdk.Stage):
    """All application stacks of one environment; stacks receive each other as arguments."""

    def __init__(self, scope: Construct, id_: str, *, config: AppConfig, **kwargs: Any) -> None:
        if config.permissions_boundary:
            # CDK applies it to every role of the stage, custom-resource providers' too
            # (aws-cdk-lib README, "IAM Permissions Boundary": "Any IAM Roles or Users created
            # within this Stage will have the default permissions boundary attached.").
            kwargs["permissions_boundary"] = cdk.PermissionsBoundary.from_name(
                config.boundary_policy_name
            )
        super().__init__(scope, id_, **kwargs)
        self.config = config
        cdk.Tags.of(self).add("project", config.project)
        cdk.Tags.of(self).add("environment", config.env_name)
        # One tag per deployment: what the budget and `make spend` filter the bill by.
        cdk.Tags.of(self).add(cost_allocation.TAG_KEY, config.stage_id)

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
                description=f"Model optimization workbench: {endpoint.kind} endpoint {key} "
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

        self.budget = BudgetStack(
            self,
            "Budget",
            description="Model optimization workbench: monthly budget of this environment",
            budget=config.budget,
            stage_id=config.stage_id,
            key=self.storage.key,
        )

        self.optimization = OptimizationStack(
            self,
            "Optimization",
            description="Model optimization workbench: optimization-job launcher and workflow",
            optimization=config.optimization,
            project=config.project,
            env_name=config.env_name,
            parameter_prefix=config.parameter_prefix,
            retain_data=config.retain_data,
            key=self.storage.key,
            artifacts_bucket=self.storage.artifacts_bucket,
        )

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
            state_machine=self.optimization.state_machine,
            measurement_role=self.optimization.measurement_role,
        )

    # --- Deployment order, for the pipeline -------------------------------------------------
    # Endpoint stacks take 20-40 minutes each to create and can fail on instance quotas. The
    # pipeline deploys them after every other stack of the stage, so a slow or failing endpoint
    # never holds the fast stacks back. Stacks are found by what the stage holds, so stacks
    # added later are picked up without changing the pipeline.

    @property
    def endpoint_stacks(self) -> list[cdk.Stack]:
        """One stack per enabled endpoint (`self.endpoints`), in configuration order."""
        return list(self.endpoints.values())

    @property
    def fast_stacks(self) -> list[cdk.Stack]:
        """Every other stack of the stage, in construction order."""
        slow = self.endpoint_stacks
        return [
            child
            for child in self.node.children
            if isinstance(child, cdk.Stack) and not any(child is stack for stack in slow)
        ]

    def deploy_endpoints_last(self) -> None:
        """Makes every endpoint stack depend on every fast stack.

        CDK Pipelines turns stack dependencies into run orders inside the stage's pipeline stage:
        the fast stacks deploy first (in parallel where independent), then the endpoint stacks
        in parallel with each other. A failed endpoint fails the stage only after every fast
        stack is deployed, and never stops another endpoint already deploying. (Separate
        pipeline stages would need separate cdk.Stages, which cannot share objects such as the
        Storage key.) Called by the pipeline only: a workstation `cdk deploy` of one endpoint
        stack should not drag the other stacks with it.
        """
        for endpoint in self.endpoint_stacks:
            for stack in self.fast_stacks:
                endpoint.add_stack_dependency(stack, "endpoints deploy after the fast stacks")
