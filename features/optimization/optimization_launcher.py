"""The launcher and recorder Lambda functions of the optimization workflow."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from features.shared.boto3_layer import Boto3Layer
from features.shared.domain_bundle import with_domain
from features.shared.nag_acknowledgments import acknowledge_wildcards
from features.shared.scoped_function import ARCHITECTURE, RUNTIME, ScopedFunction
from workbench_domain import launcher_environment as env
from workbench_domain.optimization_rules import JobDefaults

CODE_DIR = Path(__file__).resolve().parent / "launcher_function"
# Reserved concurrency of the launcher (each call starts at most one job).
LAUNCHER_CONCURRENCY = 2
# How the workflow uses both functions, as the NIST Lambda findings ask.
WORKFLOW_STEP_REASONS = {
    "NIST.800.53.R5-LambdaConcurrency": (
        "Called only by the optimization workflow, once per finished job; the launcher's "
        "reserved concurrency already bounds how many jobs run."
    ),
    "NIST.800.53.R5-LambdaDLQ": (
        "Invoked synchronously by Step Functions, which retries and records every "
        "failure in the execution history; a dead-letter queue applies to async calls."
    ),
    "NIST.800.53.R5-LambdaInsideVPC": (
        "The function only calls AWS APIs (SageMaker, SSM, S3, SNS) over TLS with IAM "
        "auth; the workbench has no VPC of its own to place it in."
    ),
}
# Powertools for AWS Lambda (Python) v3, public layer (docs.powertools.aws.dev, "Lambda Layer":
# arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-{python}-{arch}:{n},
# version 27 published for python3.9 to python3.14 in every commercial Region). The China and
# GovCloud partitions publish it from other accounts: not supported here.
POWERTOOLS_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_VERSION = 27
POWERTOOLS_ENVIRONMENT = {"POWERTOOLS_LOG_LEVEL": "INFO"}


def powertools_layer_arn(region: str, partition: str) -> str:
    python = RUNTIME.name.replace(".", "")
    arch = ARCHITECTURE.name  # "arm64" or "x86_64", as in the layer names
    return (
        f"arn:{partition}:lambda:{region}:{POWERTOOLS_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{python}-{arch}:{POWERTOOLS_LAYER_VERSION}"
    )


class OptimizationLauncher(Construct):
    """Owns the launcher (`launcher_function.handler.handler`) and recorder
    (`launcher_function.recorder.handler`) functions.

    Both run the package `launcher_function/` beside this file (one asset) with Powertools from its
    public layer and boto3/botocore from the layer `make bootstrap` builds out of that folder's
    requirements.txt. Each function has its own role, scoped to what its code calls, and its own
    KMS-encrypted log group. Environment variables are the contract with `settings.py`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project: str,
        env_name: str,
        key: kms.IKey,
        artifacts_bucket: s3.IBucket,
        job_defaults: JobDefaults,
        job_role: iam.IRole,
        results_parameter_prefix: str,
        job_topic: sns.ITopic,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        # The function's folder plus `workbench_domain/` (the request schema and rules it shares
        # with the notebooks and `make optimize`), copied at synth.
        code = lambda_.Code.from_asset(
            str(with_domain(CODE_DIR, "optimization_launcher", as_package=True)),
            exclude=["requirements.txt"],
        )
        layers = [
            lambda_.LayerVersion.from_layer_version_arn(
                self, "Powertools", powertools_layer_arn(stack.region, stack.partition)
            ),
            # The Powertools layer ships no boto3 since v2 (powertools-lambda-python#1340), so the
            # two layers do not compete for it (CDK orders a function's layers itself).
            Boto3Layer(
                self, "Boto3", runtime=RUNTIME, requirements=CODE_DIR / "requirements.txt"
            ).layer,
        ]
        output_prefix = job_defaults.output_prefix

        launcher = ScopedFunction(
            self,
            "Launcher",
            code=code,
            layers=layers,
            key=key,
            log_retention=log_retention,
            usage_reasons=WORKFLOW_STEP_REASONS,
            # At most this many jobs start at once, whoever calls: a runaway caller cannot fan
            # out GPU jobs (make preflight checks the account can reserve it).
            reserved_concurrency=LAUNCHER_CONCURRENCY,
            handler="launcher_function.handler.handler",
            description="Validates an optimization request and starts the SageMaker job once",
            environment={
                **POWERTOOLS_ENVIRONMENT,
                env.JOB_ROLE_ARN: job_role.role_arn,
                env.ARTIFACTS_BUCKET: artifacts_bucket.bucket_name,
                env.OUTPUT_PREFIX: output_prefix,
                env.KMS_KEY_ARN: key.key_arn,
                env.PROJECT_NAME: project,
                env.ENV_NAME: env_name,
                # Default job images by family: optimization_rules picks one.
                env.LMI_IMAGE_URI: job_defaults.lmi_image_uri,
                env.TRTLLM_IMAGE_URI: job_defaults.trtllm_image_uri,
                env.NEURON_IMAGE_URI: job_defaults.neuron_image_uri,
            },
        )
        self.launcher = launcher.function
        launcher_role = launcher.role
        self.jobs_arn = stack.format_arn(
            service="sagemaker", resource="optimization-job", resource_name="*"
        )
        for statement in (
            # CreateOptimizationJob's dependent actions are iam:PassRole and sagemaker:AddTags
            # (Service Authorization Reference); DescribeOptimizationJob makes launches idempotent.
            iam.PolicyStatement(
                sid="LaunchOptimizationJobs",
                actions=[
                    "sagemaker:CreateOptimizationJob",
                    "sagemaker:DescribeOptimizationJob",
                    "sagemaker:AddTags",
                ],
                resources=[self.jobs_arn],
            ),
            iam.PolicyStatement(
                sid="PassJobRoleToSageMaker",
                actions=["iam:PassRole"],
                resources=[job_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ):
            self.launcher.add_to_role_policy(statement)

        recorder = ScopedFunction(
            self,
            "Recorder",
            code=code,
            layers=layers,
            key=key,
            log_retention=log_retention,
            usage_reasons=WORKFLOW_STEP_REASONS,
            handler="launcher_function.recorder.handler",
            description="Records the outcome of an optimization job and notifies the job topic",
            environment={
                **POWERTOOLS_ENVIRONMENT,
                env.RESULTS_PARAMETER_PREFIX: results_parameter_prefix,
                env.JOB_TOPIC_ARN: job_topic.topic_arn,
                env.KMS_KEY_ARN: key.key_arn,
            },
        )
        self.recorder = recorder.function
        recorder_role = recorder.role
        results_arn = stack.format_arn(
            service="ssm",
            resource="parameter",
            resource_name=f"{results_parameter_prefix.lstrip('/')}/*",
        )
        outputs_arn = artifacts_bucket.arn_for_objects(f"{output_prefix}*")
        for statement in (
            iam.PolicyStatement(
                sid="WriteJobResults",
                actions=["ssm:PutParameter"],
                resources=[results_arn],
            ),
            iam.PolicyStatement(
                sid="WriteResultFiles",
                actions=["s3:PutObject"],
                resources=[outputs_arn],
            ),
            # SSE-KMS for the result file and for the encrypted job topic.
            iam.PolicyStatement(
                sid="UseProjectKey",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key.key_arn],
            ),
            iam.PolicyStatement(
                sid="NotifyJobTopic", actions=["sns:Publish"], resources=[job_topic.topic_arn]
            ),
        ):
            self.recorder.add_to_role_policy(statement)

        acknowledge_wildcards(
            launcher_role,
            {
                self.jobs_arn: (
                    "Job names are derived from each request at run time, so the launcher may "
                    "create and describe any optimization job of this account and Region."
                ),
            },
        )
        acknowledge_wildcards(
            recorder_role,
            {
                results_arn: (
                    "One result parameter per job, named after the job, under the project's "
                    "results path; the recorder can write nowhere else in Parameter Store."
                ),
                outputs_arn: (
                    "The result file goes next to the job's artifacts, under the project's "
                    "output prefix, in a folder named after the job."
                ),
            },
        )
