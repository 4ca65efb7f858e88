"""Pipeline: CDK Pipelines deploying the WorkbenchStage of each configured environment, in order.

Source (CodeConnections) -> Synth (`make test`, then synth of the pipeline variant) ->
UpdatePipeline (self-mutation) -> Assets -> one pipeline stage per `pipeline.stages` entry, each
behind a manual approval where configured and followed by a post-deploy check.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Construct

from features.shared.nag_acknowledgments import acknowledge
from features.shared.project_key import ProjectKey
from features.shared.secure_bucket import SecureBucket
from stacks.workbench_stage import WorkbenchStage
from workbench_config import AppConfig
from workbench_config.pipeline import PipelineConfig, PipelineStageConfig

# The commands the README tells users to run, in the same order. `make test` bootstraps .venv,
# Node and the CDK CLI pinned in package.json, then runs ruff, pytest, cfn-lint and cdk-nag;
# `make synth-pipeline` writes the pipeline variant (this pipeline, from cdk.json) to cdk.out.
SYNTH_COMMANDS = ("make test", "make synth-pipeline PIPELINE_EXAMPLE=false")
ASSEMBLY_DIR = "cdk.out"
# Ubuntu 24.04 standard image: Python 3.10-3.14 and Node.js 22/24 (standard:7.0 stops at Node
# 20, which would make the bootstrap download Node from PyPI on every build).
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_8_0
RUNTIME_VERSIONS = {"python": "3.12", "nodejs": "22"}
# A build's artifacts (source zip, cloud assembly) are only needed to retry or roll back recent
# executions.
ARTIFACT_EXPIRY_DAYS = 90
# Run as a module from the source root (its package imports nothing beyond boto3).
POST_DEPLOY_CHECK = "tools.post_deploy_check"
# CfnOutput id by which an endpoint stack names its endpoint; the post-deploy check reads it.
ENDPOINT_NAME_OUTPUT = "EndpointName"


def pinned_cdk_cli_version(package_json: Path) -> str:
    """The exact CDK CLI version pinned in package.json, for the pipeline's own CDK commands."""
    version = json.loads(package_json.read_text()).get("devDependencies", {}).get("aws-cdk")
    if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ValueError(f"{package_json}: devDependencies.aws-cdk must be an exact version")
    return version


def pinned_version(requirements: Path, package: str) -> str:
    """The `package==X` pin of a requirements file."""
    for line in requirements.read_text().splitlines():
        match = re.fullmatch(rf"{re.escape(package)}==(\S+)", line.split("#", 1)[0].strip())
        if match:
            return match.group(1)
    raise ValueError(f"{requirements}: no exact pin for {package}")


class PipelineStack(cdk.Stack):
    """The pipeline that deploys every configured environment's WorkbenchStage."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        pipeline: PipelineConfig,
        environments: Mapping[str, AppConfig],
        cli_version: str,
        boto3_version: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        if pipeline.repository is None or pipeline.connection_arn is None:
            raise ValueError("PipelineStack needs a complete, enabled pipeline config")
        self._boto3_version = boto3_version

        # Artifacts: our own bucket (TLS only, versioned, access-logged) under a rotated
        # customer-managed key. The stage roles in the target accounts get decrypt on it
        # through the key policy, which cross-account deployment requires.
        self.artifacts_key = ProjectKey(
            self,
            "ArtifactsKey",
            description=f"Encrypts the artifacts of the {id_} pipeline (sources, cloud assemblies)",
            retain=True,
        ).key
        access_logs = SecureBucket(
            self,
            "ArtifactsAccessLogs",
            encryption_key=None,
            access_log_bucket=None,
            retain=True,
            expire_objects_after_days=365,
            noncurrent_version_expiry_days=30,
        ).bucket
        self.artifacts_bucket = SecureBucket(
            self,
            "Artifacts",
            encryption_key=self.artifacts_key,
            access_log_bucket=access_logs,
            access_log_prefix="artifacts/",
            retain=True,
            expire_objects_after_days=ARTIFACT_EXPIRY_DAYS,
            noncurrent_version_expiry_days=30,
        ).bucket

        self.source = pipelines.CodePipelineSource.connection(
            pipeline.repository, pipeline.branch, connection_arn=pipeline.connection_arn
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            synth=pipelines.CodeBuildStep(
                "Synth",
                input=self.source,
                commands=list(SYNTH_COMMANDS),
                primary_output_directory=ASSEMBLY_DIR,
            ),
            # The CLI that self-mutates the pipeline is the one the project pins, not whatever
            # `npm install aws-cdk` serves that day.
            cli_version=cli_version,
            # Cross-account deploys need KMS-encrypted artifacts: our bucket has its own key
            # (granted to each target account's deploy role); these two make any key CDK would
            # add itself a rotated customer-managed key as well.
            cross_account_keys=True,
            enable_key_rotation=True,
            artifact_bucket=self.artifacts_bucket,
            # Lambda code is packaged with Code.from_asset: synth needs no Docker.
            docker_enabled_for_synth=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
                partial_build_spec=codebuild.BuildSpec.from_object(
                    {"phases": {"install": {"runtime-versions": RUNTIME_VERSIONS}}}
                ),
            ),
            # `make test` runs pytest and synthesizes twice: more memory and cores than SMALL.
            synth_code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    compute_type=codebuild.ComputeType.MEDIUM
                )
            ),
        )

        self.stages: dict[str, WorkbenchStage] = {}
        for stage_config in pipeline.stages:
            self.stages[stage_config.env] = self._add_stage(
                stage_config, environments[stage_config.env]
            )

        self.pipeline.build_pipeline()
        self._acknowledge_pipeline_internals()

    def _add_stage(self, stage_config: PipelineStageConfig, config: AppConfig) -> WorkbenchStage:
        # The same Stage class as the workstation deploy; stack names are `<project>-<env>-<id>`
        # either way, so the pipeline takes over stacks deployed from a workstation.
        stage = WorkbenchStage(
            self,
            config.stage_id,
            config=config,
            env=cdk.Environment(account=stage_config.account, region=stage_config.region),
        )
        stage.deploy_endpoints_last()
        pre: list[pipelines.Step] = []
        if stage_config.approval:
            pre.append(
                pipelines.ManualApprovalStep(
                    "Approve",
                    comment=f"Deploy {config.stage_id} to account {stage_config.account} "
                    f"({stage_config.region})?",
                )
            )
        self.pipeline.add_stage(stage, pre=pre, post=[self._post_deploy_check(stage, stage_config)])
        return stage

    def _post_deploy_check(
        self, stage: WorkbenchStage, stage_config: PipelineStageConfig
    ) -> pipelines.CodeBuildStep:
        """Stack status of every stack, endpoint status of every endpoint (from stack outputs).

        The check runs in the pipeline account and reads the target account through the CDK
        bootstrap lookup role there (ReadOnlyAccess, trusted by `cdk bootstrap --trust`).
        """
        qualifier = (
            self.node.try_get_context("@aws-cdk/core:bootstrapQualifier")
            or cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        account, region = stage_config.account, stage_config.region
        lookup_role = f"cdk-{qualifier}-lookup-role-{account}-{region}"
        lookup_role_arn = f"arn:{self.partition}:iam::{account}:role/{lookup_role}"
        endpoint_outputs = {
            f"ENDPOINT_NAME_{index}": output
            for index, output in enumerate(_endpoint_name_outputs(stage), start=1)
        }
        arguments = ["--region", region]
        for stack in [*stage.fast_stacks, *stage.endpoint_stacks]:
            arguments += ["--stack", stack.stack_name]
        command = " ".join(
            [
                f'python3 -m {POST_DEPLOY_CHECK} --role-arn "$CHECK_ROLE_ARN"',
                shlex.join(arguments),
                *(f'--endpoint "${variable}"' for variable in endpoint_outputs),
            ]
        )
        return pipelines.CodeBuildStep(
            "CheckDeployment",
            input=self.source,
            install_commands=[f"python3 -m pip install --quiet boto3=={self._boto3_version}"],
            commands=[command],
            env={"CHECK_ROLE_ARN": lookup_role_arn},
            env_from_cfn_outputs=endpoint_outputs,
            role_policy_statements=[
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[lookup_role_arn])
            ],
        )

    def _acknowledge_pipeline_internals(self) -> None:
        """cdk-nag findings on the roles CDK Pipelines creates itself, which it does not let us
        shape. Each is acknowledged with its exact id on the construct that owns the role (the
        ids embed this stack's account, region and generated logical ids)."""
        bucket = self.get_logical_id(_cfn(self.artifacts_bucket))
        artifact_access = (
            "CDK Pipelines grants each pipeline, action and CodeBuild role read/write on the "
            "pipeline's own artifact bucket and key only; the wildcard is CDK's grant on that "
            "single bucket or key"
        )
        acknowledge(
            self.pipeline,
            {
                "NIST.800.53.R5-IAMNoInlinePolicy": (
                    "CDK Pipelines attaches its pipeline, source, CodeBuild and asset roles' "
                    "permissions as CDK-generated DefaultPolicies scoped to this pipeline's "
                    "resources; the construct has no managed-policy option."
                ),
                f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]": (
                    "Pipeline artifacts (source zips, cloud assemblies) are objects with "
                    "per-execution generated keys in the pipeline's own artifact bucket."
                ),
                **dict.fromkeys(
                    [
                        f"AwsSolutions-IAM5[Action::{action}]"
                        for action in (
                            "s3:GetObject*",
                            "s3:GetBucket*",
                            "s3:List*",
                            "s3:DeleteObject*",
                            "s3:Abort*",
                            "kms:GenerateDataKey*",
                            "kms:ReEncrypt*",
                        )
                    ],
                    artifact_access,
                ),
            },
        )
        arn = f"arn:{self.resolve(self.partition)}"
        where = f"{self.region}:{self.account}"
        for project in self.pipeline.node.find_all():
            if isinstance(project, codebuild.Project):
                name = self.get_logical_id(_cfn(project))
                acknowledge(
                    project,
                    {
                        f"AwsSolutions-IAM5[Resource::{arn}:logs:{where}:log-group:"
                        f"/aws/codebuild/<{name}>:*]": (
                            "CodeBuild writes build logs to streams with generated names in "
                            "this project's own log group /aws/codebuild/<project>."
                        ),
                        f"AwsSolutions-IAM5[Resource::{arn}:codebuild:{where}:report-group/"
                        f"<{name}>-*]": (
                            "CodeBuild creates this project's report groups on demand, named "
                            "with the project name as prefix; CDK scopes the grant to it."
                        ),
                    },
                )
        acknowledge(
            self.pipeline.self_mutation_project,
            {
                f"AwsSolutions-IAM5[Resource::arn:*:iam::{self.account}:role/*]": (
                    "CDK Pipelines' self-mutation assumes the CDK bootstrap roles of the "
                    "pipeline account; a condition on the aws-cdk:bootstrap-role tag limits it "
                    "to the deploy and publishing roles."
                ),
                "AwsSolutions-IAM5[Resource::*]": (
                    "The CDK CLI in CDK Pipelines' self-mutation step calls "
                    "cloudformation:DescribeStacks and s3:ListBucket on stacks and buckets it "
                    "resolves at run time (CDK-generated statement)."
                ),
            },
        )
        assets = self.pipeline.node.try_find_child("Assets")
        file_role = assets.node.try_find_child("FileRole") if assets else None
        if file_role is not None:
            shared_role = (
                "CDK Pipelines shares one role across all asset-publishing CodeBuild projects, "
                "whose names are generated"
            )
            acknowledge(
                file_role,
                {
                    "AwsSolutions-IAM5[Resource::*]": (
                        f"{shared_role}; it starts and watches those builds "
                        "(codebuild:StartBuild/BatchGetBuilds/StopBuild on '*')."
                    ),
                    f"AwsSolutions-IAM5[Resource::{arn}:logs:{where}:log-group:"
                    "/aws/codebuild/*]": f"{shared_role}, so CDK grants logs on all of them.",
                    f"AwsSolutions-IAM5[Resource::{arn}:codebuild:{where}:report-group/*]": (
                        f"{shared_role}, so CDK grants report groups on all of them."
                    ),
                },
            )


def _endpoint_name_outputs(stage: WorkbenchStage) -> list[cdk.CfnOutput]:
    """Each endpoint stack's `CfnOutput(..., "EndpointName", ...)`, in endpoint order."""
    outputs = []
    for stack in stage.endpoint_stacks:
        found = [
            child
            for child in stack.node.find_all()
            if isinstance(child, cdk.CfnOutput) and child.node.id == ENDPOINT_NAME_OUTPUT
        ]
        if not found:
            cdk.Annotations.of(stack).add_warning_v2(
                "workbench:endpoint-name-output",
                f"No CfnOutput '{ENDPOINT_NAME_OUTPUT}': the pipeline's post-deploy check "
                "checks this stack's status but not its endpoint's",
            )
        outputs += found
    return outputs


def _cfn(construct: Construct) -> cdk.CfnElement:
    """The L1 resource of an L2 construct (typed: `default_child` is any construct)."""
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnElement), construct.node.path
    return child
