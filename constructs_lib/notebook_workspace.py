"""The notebook workspace: a SageMaker notebook instance with the project's notebooks on it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib.domain_bundle import with_domain
from constructs_lib.nag_acknowledgments import acknowledge, acknowledge_wildcards

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO / "notebooks"
LIFECYCLE_DIR = Path(__file__).resolve().parent / "assets" / "notebook_lifecycle"

# The newest Amazon Linux platform that CloudFormation accepts: cfn-lint's schema for
# AWS::SageMaker::NotebookInstance allows up to notebook-al2023-v1 (botocore already lists
# notebook-al2023-v2, the CloudFormation resource does not yet).
PLATFORM_IDENTIFIER = "notebook-al2023-v1"
# NotebookInstanceLifecycleHook.Content: base64, 1..16384 characters (botocore model).
LIFECYCLE_CONTENT_LIMIT = 16384
# While synthesizing, asset URIs and the Region are tokens; each one is counted as this many
# characters when checking the limit (an asset URI is about 110 characters).
TOKEN_LENGTH_ALLOWANCE = 200
# Fn::Sub placeholders (${Name}, not ${!Name}) in a lifecycle script.
_PLACEHOLDER = re.compile(r"\$\{(?!!)([^}]*)\}")
PSEUDO_PARAMETERS = frozenset({"AWS::Region"})

NOTEBOOK_ASSET_EXCLUDES = [
    "__pycache__",
    "**/__pycache__",
    "*.pyc",
    ".ipynb_checkpoints",
    "**/.ipynb_checkpoints",
    ".*",
]

# Interface endpoints a notebook without internet needs (service names as in
# aws_ec2.InterfaceVpcEndpointAwsService); S3 is a gateway endpoint.
VPC_INTERFACE_ENDPOINTS = {
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "StepFunctions": ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
}


class LifecycleScriptError(ValueError):
    """A lifecycle script does not fit the API or does not match its Fn::Sub variables."""


def lifecycle_placeholders(script: str) -> set[str]:
    """The Fn::Sub placeholders a script uses (``${Name}``; ``${!Name}`` is a literal)."""
    return set(_PLACEHOLDER.findall(script))


def lifecycle_content(name: str, script: str, variables: dict[str, str]) -> str:
    """``Fn::Base64(Fn::Sub(script, variables))``, checked against the placeholders and limit.

    Every placeholder must be a variable or a pseudo parameter and every variable must be used;
    the encoded content, with each unresolved token counted as ``TOKEN_LENGTH_ALLOWANCE``
    characters, must stay within the API's 16384 characters.
    """
    used = lifecycle_placeholders(script)
    unknown = used - set(variables) - PSEUDO_PARAMETERS
    unused = set(variables) - used
    if unknown or unused:
        raise LifecycleScriptError(
            f"lifecycle script {name}: placeholders without a value: {sorted(unknown)}; "
            f"values without a placeholder: {sorted(unused)}"
        )
    resolved = script
    for key in used:
        value = variables.get(key, "")
        length = TOKEN_LENGTH_ALLOWANCE if cdk.Token.is_unresolved(value) or not value else None
        resolved = resolved.replace("${" + key + "}", "x" * length if length else value)
    encoded = 4 * math.ceil(len(resolved.encode("utf-8")) / 3)
    if encoded > LIFECYCLE_CONTENT_LIMIT:
        raise LifecycleScriptError(
            f"lifecycle script {name} is {encoded} characters in base64, over the "
            f"{LIFECYCLE_CONTENT_LIMIT} the SageMaker API accepts: move work into a shipped file"
        )
    if not used:
        # Nothing to substitute: a plain string (cfn-lint W1020 flags Fn::Sub without variables).
        return cdk.Fn.base64(script.replace("${!", "${"))
    return cdk.Fn.base64(cdk.Fn.sub(script, variables))


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

    def _network(self, network: str, key: kms.IKey) -> dict:
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

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="notebook", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        flow_log_group = logs.LogGroup(
            self, "FlowLogs", retention=logs.RetentionDays.ONE_YEAR, encryption_key=key
        )
        flow_log = self.vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group)
        )
        acknowledge(
            flow_log,
            {
                "NIST.800.53.R5-IAMNoInlinePolicy": "CDK's flow-log role: write access to its "
                "one log group, defined by aws-ec2 next to the role it belongs to.",
            },
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=self.vpc,
            description="Notebook instance: no inbound; HTTPS out to the VPC endpoints",
            allow_all_outbound=False,
        )
        endpoint_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="VPC interface endpoints: HTTPS from the notebook only",
            allow_all_outbound=False,
        )
        endpoint_group.add_ingress_rule(self.security_group, ec2.Port.tcp(443), "notebook")
        cannot_evaluate = (
            "The only ingress is HTTPS from the notebook's security group, a reference the "
            "rule cannot evaluate (it throws on intrinsics); no CIDR range is open."
        )
        acknowledge(
            endpoint_group,
            {
                "AwsSolutions-EC23": cannot_evaluate,
                "NIST.800.53.R5-EC2RestrictedCommonPorts": cannot_evaluate,
                "NIST.800.53.R5-EC2RestrictedSSH": cannot_evaluate,
            },
        )
        # The subnets have no route to the internet: HTTPS leaves only to the interface
        # endpoints and the S3 gateway endpoint (whose prefix list is only known at deploy time).
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to VPC endpoints and the S3 gateway"
        )
        subnet = self.vpc.isolated_subnets[0]
        # One AZ, the notebook's: interface endpoints are billed per AZ-hour.
        for name, service in VPC_INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                security_groups=[endpoint_group],
                private_dns_enabled=True,
                open=False,  # HTTPS from the notebook only (endpoint_group)
                subnets=ec2.SubnetSelection(subnets=[subnet]),
            )
        return {
            "direct_internet_access": "Disabled",
            "subnet_id": subnet.subnet_id,
            "security_group_ids": [self.security_group.security_group_id],
        }
