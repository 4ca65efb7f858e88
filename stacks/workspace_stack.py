"""Workspace: the notebook instance users open, with the project's notebooks on it."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from features.workspace.notebook_workspace import NotebookWorkspace, WorkflowAccess
from workbench_config.workspace import WorkspaceConfig


class WorkspaceStack(cdk.Stack):
    """The notebook workspace; depends on Storage (and on Optimization once it is passed in).

    It never depends on the endpoint stacks: the notebooks find endpoints through their SSM
    deployment records, and the role reaches them by tag.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        workspace: WorkspaceConfig,
        project: str,
        env_name: str,
        parameter_prefix: str,
        key: kms.IKey,
        artifacts_bucket: s3.IBucket,
        inference_bucket: s3.IBucket,
        state_machine: sfn.StateMachine | None = None,
        measurement_role: iam.IRole | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.workspace = NotebookWorkspace(
            self,
            "Notebook",
            project=project,
            env_name=env_name,
            parameter_prefix=parameter_prefix,
            instance_type=workspace.instance_type,
            volume_size_gb=workspace.volume_size_gb,
            idle_minutes=workspace.idle_minutes,
            network=workspace.network,
            key=key,
            artifacts_bucket=artifacts_bucket,
            inference_bucket=inference_bucket,
            workflow=(
                WorkflowAccess(state_machine, measurement_role)
                if state_machine is not None and measurement_role is not None
                else None
            ),
        )
        cdk.CfnOutput(
            self,
            "NotebookUrl",
            value=self.workspace.console_url,
            description="Open the workbench notebook (JupyterLab) through the SageMaker console",
        )
        cdk.CfnOutput(
            self,
            "NotebookInstanceName",
            value=self.workspace.notebook_instance_name,
            description="The notebook instance (stops itself when idle; start it in the console)",
        )
        cdk.CfnOutput(
            self,
            "DeploymentPath",
            value=self.workspace.deployment_path,
            description="SSM path of this deployment's records (GENAI_OPT_DEPLOYMENT_PATH)",
        )
