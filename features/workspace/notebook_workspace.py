"""The notebook workspace: a SageMaker notebook instance with the project's notebooks on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from features.shared.domain_bundle import with_domain
from features.shared.nag_acknowledgments import acknowledge, acknowledge_wildcards
from features.workspace.lifecycle_script import lifecycle_content
from features.workspace.notebook_permissions import NotebookPermissions
from features.workspace.private_notebook_network import PrivateNotebookNetwork
from workbench_domain import cost_allocation

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO / "notebooks"
LIFECYCLE_DIR = Path(__file__).resolve().parent / "notebook_lifecycle"

# The newest Amazon Linux platform that CloudFormation accepts: cfn-lint's schema for
# AWS::SageMaker::NotebookInstance allows up to notebook-al2023-v1 (botocore already lists
# notebook-al2023-v2, the CloudFormation resource does not yet).
PLATFORM_IDENTIFIER = "notebook-al2023-v1"
NOTEBOOK_ASSET_EXCLUDES = [
    "__pycache__",
    "**/__pycache__",
    "*.pyc",
    ".ipynb_checkpoints",
    "**/.ipynb_checkpoints",
    ".*",
]


@dataclass(frozen=True)
class WorkflowAccess:
    """The optimization workflow the notebooks start and follow, and the role of the jobs that
    measure its results (None until the Optimization stack is deployed)."""

    state_machine: sfn.StateMachine
    # The role SageMaker assumes for AI recommendation and benchmark jobs.
    measurement_role: iam.IRole


class NotebookWorkspace(Construct):
    """Owns the notebook instance, its lifecycle configuration, role, assets and network.

    The notebooks find the deployment through SSM parameters under ``deployment_path``; the
    workspace never depends on the endpoint stacks: endpoint access is scoped to endpoints
    tagged with this project and environment.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project: str,
        env_name: str,
        parameter_prefix: str,
        instance_type: str,
        volume_size_gb: int,
        idle_minutes: int,
        network: str,
        key: kms.IKey,
        artifacts_bucket: s3.IBucket,
        inference_bucket: s3.IBucket,
        workflow: WorkflowAccess | None = None,
    ) -> None:
        super().__init__(scope, id_)
        if network not in ("public", "vpc"):
            raise ValueError(f"network must be 'public' or 'vpc', got {network!r}")
        stack = cdk.Stack.of(self)
        self.deployment_path = f"{parameter_prefix}/deployment/"

        self.notebooks_asset = s3_assets.Asset(
            self,
            "Notebooks",
            # The client imports workbench_domain, shipped beside it.
            path=str(with_domain(NOTEBOOKS_DIR, "notebooks")),
            exclude=NOTEBOOK_ASSET_EXCLUDES,
        )
        self.autostop_asset = s3_assets.Asset(
            self, "Autostop", path=str(LIFECYCLE_DIR / "autostop.py")
        )

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Notebook workspace of {project} {env_name}: data, endpoints, workflow",
        )
        permissions = NotebookPermissions(self.role)
        permissions.grant_data(key, artifacts_bucket, inference_bucket)
        permissions.grant_endpoints(project, env_name)
        permissions.grant_discovery(parameter_prefix)
        permissions.grant_jumpstart()
        if workflow is not None:
            permissions.grant_workflow(workflow.state_machine)
            permissions.grant_measurement(
                cost_allocation.stage_id(project, env_name), workflow.measurement_role
            )
        # The on-start script reads exactly these two objects of the CDK assets bucket.
        permissions.add(
            "ReadShippedAssets",
            ["s3:GetObject"],
            [
                asset.bucket.arn_for_objects(asset.s3_object_key)
                for asset in (self.notebooks_asset, self.autostop_asset)
            ],
        )

        self.lifecycle = sagemaker.CfnNotebookInstanceLifecycleConfig(
            self,
            "Lifecycle",
            on_create=[self._hook("on_create.sh", {})],
            on_start=[
                self._hook(
                    "on_start.sh",
                    {
                        "IdleMinutes": str(idle_minutes),
                        "NotebooksS3Uri": self.notebooks_asset.s3_object_url,
                        "AutostopS3Uri": self.autostop_asset.s3_object_url,
                        "DeploymentPath": self.deployment_path,
                    },
                )
            ],
        )

        network_props = self._network(network, key)
        self.instance = sagemaker.CfnNotebookInstance(
            self,
            "Instance",
            instance_type=instance_type,
            role_arn=self.role.role_arn,
            kms_key_id=key.key_id,
            volume_size_in_gb=volume_size_gb,
            root_access="Disabled",
            platform_identifier=PLATFORM_IDENTIFIER,
            instance_metadata_service_configuration=sagemaker.CfnNotebookInstance.InstanceMetadataServiceConfigurationProperty(
                minimum_instance_metadata_service_version="2"
            ),
            lifecycle_config_name=self.lifecycle.attr_notebook_instance_lifecycle_config_name,
            **network_props,
        )
        # The first on-start runs while the instance is created: its permissions must exist.
        self.instance.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
        self.notebook_instance_name = self.instance.attr_notebook_instance_name

        # Auto-stop and the SageMaker SDK (get_execution_role) act on this instance only. A
        # separate policy: it names the instance, which itself needs the role first.
        self_policy = iam.Policy(
            self,
            "SelfPolicy",
            statements=[
                iam.PolicyStatement(
                    sid="StopAndDescribeItself",
                    actions=[
                        "sagemaker:StopNotebookInstance",
                        "sagemaker:DescribeNotebookInstance",
                    ],
                    resources=[self.instance.attr_notebook_instance_arn],
                )
            ],
        )
        self_policy.attach_to_role(self.role)

        region = stack.region
        self.console_url = (
            f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
            f"#/notebook-instances/openNotebook/{self.notebook_instance_name}?view=lab"
        )
        acknowledge_wildcards(self.role, permissions.wildcards)
        acknowledge(
            self.role,
            {
                "NIST.800.53.R5-IAMNoInlinePolicy": "The notebook role's permissions are "
                "scoped statements written for this role alone; an inline policy keeps them "
                "next to the role they belong to.",
            },
        )
        acknowledge(
            self_policy,
            {
                "NIST.800.53.R5-IAMNoInlinePolicy": "Stop and describe on this one notebook "
                "instance, attached to its own role only (auto-stop and the SageMaker SDK).",
            },
        )

    # ---------------------------------------------------------------------------------------

    def _hook(
        self, file_name: str, variables: dict[str, str]
    ) -> sagemaker.CfnNotebookInstanceLifecycleConfig.NotebookInstanceLifecycleHookProperty:
        script = (LIFECYCLE_DIR / file_name).read_text(encoding="utf-8")
        return sagemaker.CfnNotebookInstanceLifecycleConfig.NotebookInstanceLifecycleHookProperty(
            content=lifecycle_content(file_name, script, variables)
        )

    def _network(self, network: str, key: kms.IKey) -> dict[str, Any]:
        if network == "public":
            acknowledge(
                self,
                {
                    "AwsSolutions-SM1": "network 'public' (config workspace.network): the "
                    "notebook pulls models from public hubs (Hugging Face, pip), which needs "
                    "direct internet; choose 'vpc' for a private notebook.",
                    "AwsSolutions-SM3": "network 'public' (config workspace.network): direct "
                    "internet access is needed to pull models from public hubs such as "
                    "Hugging Face; choose 'vpc' to disable it.",
                    "NIST.800.53.R5-SageMakerNotebookInVPC": "network 'public' (config "
                    "workspace.network): models are pulled from public hubs; the 'vpc' mode "
                    "places the notebook in private subnets.",
                    "NIST.800.53.R5-SageMakerNotebookNoDirectInternetAccess": "network "
                    "'public' (config workspace.network): models are pulled from public hubs, "
                    "which needs direct internet; 'vpc' disables it.",
                },
            )
            return {"direct_internet_access": "Enabled"}

        private = PrivateNotebookNetwork(self, "Network", key=key)
        return {
            "direct_internet_access": "Disabled",
            "subnet_id": private.subnet.subnet_id,
            "security_group_ids": [private.security_group.security_group_id],
        }
