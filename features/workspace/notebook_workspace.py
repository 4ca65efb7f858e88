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
from features.workspace.private_notebook_network import PrivateNotebookNetwork

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
    """The optimization workflow the notebooks start and follow (None until it is deployed)."""

    state_machine: sfn.StateMachine


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
        self._wildcards: dict[str, str] = {}
        self._grant_data(key, artifacts_bucket, inference_bucket)
        self._grant_endpoints(project, env_name)
        self._grant_discovery(parameter_prefix)
        self._grant_jumpstart()
        if workflow is not None:
            self._grant_workflow(workflow.state_machine)
        # The on-start script reads exactly these two objects of the CDK assets bucket.
        self._add(
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
        acknowledge_wildcards(self.role, self._wildcards)
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

    def _add(
        self,
        sid: str,
        actions: list[str],
        resources: list[str],
        *,
        wildcard_reason: str | None = None,
        conditions: dict[str, Any] | None = None,
    ) -> None:
        """One scoped statement; a resource with `*` needs the reason it is acceptable."""
        for resource in resources:
            if "*" in resource:
                if not wildcard_reason:
                    raise ValueError(f"{sid}: wildcard resource {resource} needs a reason")
                self._wildcards[resource] = f"{sid}: {wildcard_reason}"
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid=sid, actions=actions, resources=resources, conditions=conditions
            )
        )

    def _grant_data(
        self, key: kms.IKey, artifacts_bucket: s3.IBucket, inference_bucket: s3.IBucket
    ) -> None:
        self._add(
            "ListProjectBuckets",
            ["s3:ListBucket", "s3:GetBucketLocation"],
            [artifacts_bucket.bucket_arn, inference_bucket.bucket_arn],
        )
        self._add(
            "ReadWriteArtifacts",
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            [artifacts_bucket.arn_for_objects("*")],
            wildcard_reason="the artifacts bucket is the notebooks' workspace for model "
            "weights, draft models and optimization outputs, under keys the user chooses",
        )
        # Async inference (AsyncLlmEndpoint's layout): requests go to endpoints/<key>/input/,
        # results come back in endpoints/<key>/output/ and endpoints/<key>/failure/.
        self._add(
            "WriteAsyncInputs",
            ["s3:PutObject", "s3:AbortMultipartUpload"],
            [inference_bucket.arn_for_objects("endpoints/*/input/*")],
            wildcard_reason="request files under the input prefix of any endpoint of this "
            "deployment; endpoints are deployed later and their prefixes are not known here",
        )
        self._add(
            "ReadAsyncResults",
            ["s3:GetObject"],
            [
                inference_bucket.arn_for_objects("endpoints/*/output/*"),
                inference_bucket.arn_for_objects("endpoints/*/failure/*"),
            ],
            wildcard_reason="results of async requests under the output and failure prefixes "
            "of any endpoint of this deployment, named by SageMaker per request",
        )
        self._add(
            "UseProjectKey",
            ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            [key.key_arn],
        )

    def _grant_endpoints(self, project: str, env_name: str) -> None:
        stack = cdk.Stack.of(self)
        self._add(
            "InvokeProjectEndpoints",
            ["sagemaker:InvokeEndpointAsync", "sagemaker:DescribeEndpoint"],
            [stack.format_arn(service="sagemaker", resource="endpoint", resource_name="*")],
            wildcard_reason="endpoint names are generated by the endpoint stacks, deployed "
            "after the workspace; the tag condition limits it to this project and environment",
            # The endpoint stacks tag everything with the stage's tags (WorkbenchStage).
            conditions={
                "StringEquals": {
                    "aws:ResourceTag/project": project,
                    "aws:ResourceTag/environment": env_name,
                }
            },
        )
        # Realtime endpoints: the request names the inference component, and IAM checks both
        # the endpoint and the component (Service Authorization Reference, InvokeEndpoint).
        self._add(
            "InvokeProjectRealtimeEndpoints",
            [
                "sagemaker:InvokeEndpoint",
                "sagemaker:InvokeEndpointWithResponseStream",
                "sagemaker:DescribeInferenceComponent",
            ],
            [
                stack.format_arn(service="sagemaker", resource="endpoint", resource_name="*"),
                stack.format_arn(
                    service="sagemaker", resource="inference-component", resource_name="*"
                ),
            ],
            wildcard_reason="endpoint and inference component names are generated by the "
            "endpoint stacks, deployed after the workspace; the tag condition limits them to "
            "this project and environment",
            conditions={
                "StringEquals": {
                    "aws:ResourceTag/project": project,
                    "aws:ResourceTag/environment": env_name,
                }
            },
        )
        self._add(
            "ReadEndpointMetrics",
            ["cloudwatch:GetMetricData"],
            ["*"],
            wildcard_reason="cloudwatch:GetMetricData supports no resource-level permissions "
            "(Service Authorization Reference); it only reads metrics",
        )
        self._add(
            "DescribeOptimizationJobs",
            ["sagemaker:DescribeOptimizationJob"],
            [stack.format_arn(service="sagemaker", resource="optimization-job", resource_name="*")],
            wildcard_reason="job names come from each optimization request (workflow "
            "execution names); describe is read-only, in this account and Region",
        )
        self._add(
            "ListOptimizationJobs",
            ["sagemaker:ListOptimizationJobs"],
            ["*"],
            wildcard_reason="sagemaker:ListOptimizationJobs supports no resource-level "
            "permissions (Service Authorization Reference); it only lists",
        )

    def _grant_discovery(self, parameter_prefix: str) -> None:
        stack = cdk.Stack.of(self)
        path = parameter_prefix.strip("/")
        self._add(
            "ReadDeploymentParameters",
            ["ssm:GetParametersByPath", "ssm:GetParameter", "ssm:GetParameters"],
            [
                stack.format_arn(service="ssm", resource="parameter", resource_name=path),
                stack.format_arn(service="ssm", resource="parameter", resource_name=f"{path}/*"),
            ],
            wildcard_reason="read-only, this environment's parameter path: the stacks' "
            "deployment records and the optimization results",
        )

    def _grant_jumpstart(self) -> None:
        stack = cdk.Stack.of(self)
        region = stack.region
        # The SageMaker Python SDK reads JumpStart specs and artifacts from these buckets
        # (public models, and gated ones such as Llama after accepting the EULA).
        buckets = [f"jumpstart-cache-prod-{region}", f"jumpstart-private-cache-prod-{region}"]
        self._add(
            "ReadJumpStartBuckets",
            ["s3:GetObject", "s3:ListBucket"],
            [f"arn:{stack.partition}:s3:::{b}" for b in buckets]
            + [f"arn:{stack.partition}:s3:::{b}/*" for b in buckets],
            wildcard_reason="read-only, AWS-owned JumpStart buckets: the SageMaker SDK reads "
            "model specs and artifacts under keys it derives from the model id",
        )
        hub = f"arn:{stack.partition}:sagemaker:{region}:aws:hub/SageMakerPublicHub"
        content = f"arn:{stack.partition}:sagemaker:{region}:aws:hub-content/SageMakerPublicHub/*"
        self._add(
            "ReadJumpStartPublicHub",
            [
                "sagemaker:ListHubContents",
                "sagemaker:ListHubContentVersions",
                "sagemaker:DescribeHubContent",
                "sagemaker:DescribeHub",
            ],
            [hub, content],
            wildcard_reason="read-only, AWS-owned public hub: model ids and versions are "
            "chosen in the notebooks",
        )

    def _grant_workflow(self, state_machine: sfn.StateMachine) -> None:
        stack = cdk.Stack.of(self)
        self._add(
            "StartOptimizationWorkflow",
            ["states:StartExecution"],
            [state_machine.state_machine_arn],
        )
        self._add(
            "FollowOptimizationWorkflow",
            ["states:DescribeExecution", "states:GetExecutionHistory"],
            [
                stack.format_arn(
                    service="states",
                    resource="execution",
                    resource_name=f"{state_machine.state_machine_name}:*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            wildcard_reason="executions of the optimization workflow only; their names are "
            "derived from each request",
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
