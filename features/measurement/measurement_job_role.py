"""The role SageMaker assumes for AI recommendation and benchmark jobs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from features.shared.nag_acknowledgments import acknowledge, acknowledge_wildcards

# Where the jobs write, in the artifacts bucket (the CLI's default output locations).
RESULT_PREFIXES = ("recommendations/", "benchmarks/")


class MeasurementJobRole(Construct):
    """Owns the job role (`RoleArn` of CreateAIRecommendationJob and CreateAIBenchmarkJob).

    What AWS's guide asks of it ("an IAM execution role that grants SageMaker AI access to your
    endpoint and output bucket", docs.aws.amazon.com/sagemaker/latest/dg/
    generative-ai-inference-recommendations-benchmark.html), scoped: read the model under any
    prefix of the artifacts bucket, write results under `recommendations/` and `benchmarks/`
    only, use the project key, invoke this project's endpoints and inference components (tag
    condition, as the workspace's), write the logs and metrics of the training jobs the service
    runs AIPerf in, and read SageMaker's service quotas (AWS's sample role probes them when a
    recommendation job is submitted). No managed policy.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project: str,
        env_name: str,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="SageMaker AI recommendation and benchmark jobs: read models, invoke "
            "the project's endpoints, write results",
        )
        models = artifacts_bucket.arn_for_objects("*")
        results = [artifacts_bucket.arn_for_objects(f"{prefix}*") for prefix in RESULT_PREFIXES]
        endpoints = stack.format_arn(service="sagemaker", resource="endpoint", resource_name="*")
        components = stack.format_arn(
            service="sagemaker", resource="inference-component", resource_name="*"
        )
        log_groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        quotas = stack.format_arn(service="servicequotas", resource="sagemaker", resource_name="*")
        statements = [
            iam.PolicyStatement(
                sid="ListArtifacts",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[artifacts_bucket.bucket_arn],
            ),
            iam.PolicyStatement(sid="ReadModels", actions=["s3:GetObject"], resources=[models]),
            iam.PolicyStatement(
                sid="WriteResults",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=results,
            ),
            iam.PolicyStatement(
                sid="UseProjectKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[key.key_arn],
            ),
            # A realtime request names the inference component; IAM checks both resources.
            iam.PolicyStatement(
                sid="InvokeProjectEndpoints",
                actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
                resources=[endpoints, components],
                conditions={
                    "StringEquals": {
                        "aws:ResourceTag/project": project,
                        "aws:ResourceTag/environment": env_name,
                    }
                },
            ),
            iam.PolicyStatement(
                sid="WriteJobLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_groups],
            ),
            iam.PolicyStatement(
                sid="PutJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            ),
            iam.PolicyStatement(
                sid="ReadSageMakerQuotas",
                actions=["servicequotas:GetServiceQuota"],
                resources=[quotas],
            ),
        ]
        for statement in statements:
            self.role.add_to_policy(statement)

        acknowledge_wildcards(
            self.role,
            {
                models: "A recommendation job reads the model under the S3 prefix its request "
                "names; any prefix of the project's own artifacts bucket may hold it. Read-only.",
                **dict.fromkeys(
                    results,
                    "Jobs write their results under this prefix, in a folder per job; nowhere "
                    "else in the bucket.",
                ),
                endpoints: "Endpoint names are generated by the endpoint stacks; the tag "
                "condition limits invocation to this project and environment.",
                components: "Inference component names are generated by the endpoint stacks; "
                "the tag condition limits invocation to this project and environment.",
                log_groups: "The service names the log groups of the jobs it runs under "
                "/aws/sagemaker/; the role can write logs there only.",
                quotas: "Read-only: the SageMaker quotas a recommendation job checks are chosen "
                "by the service per instance type.",
            },
        )
        acknowledge(
            self.role,
            {
                "AwsSolutions-IAM5[Resource::*]": (
                    "cloudwatch:PutMetricData has no resource type (Service Authorization "
                    "Reference); it is limited to the /aws/sagemaker/ namespaces by condition."
                ),
                "NIST.800.53.R5-IAMNoInlinePolicy": (
                    "The role's only policy is the inline one CDK writes for the statements "
                    "above; it lives and dies with the role, which nothing else uses."
                ),
            },
        )
