"""The role SageMaker assumes to run optimization jobs."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from features.endpoints.dlc_images import ContainerImage
from features.shared.nag_acknowledgments import acknowledge, acknowledge_wildcards
from features.shared.sagemaker_job_policy import (
    job_log_groups,
    job_logs_and_metrics,
    use_project_key,
)

# Buckets SageMaker JumpStart serves model weights from (SageMaker Python SDK
# `src/sagemaker/jumpstart/region_config.json`); the private cache holds gated models such as
# Llama 3, which a job reads once its request accepts the EULA.
JUMPSTART_BUCKETS = ("jumpstart-cache-prod-{region}", "jumpstart-private-cache-prod-{region}")


class OptimizationJobRole(Construct):
    """Owns the job execution role (`RoleArn` of CreateOptimizationJob), least privilege.

    A job may read model weights from the artifacts bucket and from the JumpStart buckets of
    its Region, write only under `output_prefix` of the artifacts bucket, use the project key
    for both, write its logs and metrics, and pull the images it runs from the AWS Deep
    Learning Containers registry: the DJL inference images of optimization jobs, and the vLLM
    Neuron image `make neuron-export` runs as a training job. No managed policy.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        output_prefix: str,
        images: Sequence[ContainerImage],
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="SageMaker optimization and Neuron export jobs: read model sources, write "
            "optimized models",
        )
        jumpstart = [
            f"arn:{stack.partition}:s3:::{name.format(region=stack.region)}"
            for name in JUMPSTART_BUCKETS
        ]
        self.output_objects_arn = artifacts_bucket.arn_for_objects(f"{output_prefix}*")
        log_groups = job_log_groups(stack)
        statements = [
            iam.PolicyStatement(
                sid="ListModelSources",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[artifacts_bucket.bucket_arn, *jumpstart],
            ),
            iam.PolicyStatement(
                sid="ReadModelSources",
                actions=["s3:GetObject"],
                resources=[
                    artifacts_bucket.arn_for_objects("*"),
                    *(f"{bucket}/*" for bucket in jumpstart),
                ],
            ),
            iam.PolicyStatement(
                sid="WriteOptimizedModels",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self.output_objects_arn],
            ),
            use_project_key(key),
            *job_logs_and_metrics(stack),
        ]
        for statement in statements:
            self.role.add_to_policy(statement)
        for image in images:
            image.grant_pull(self, self.role)

        acknowledge_wildcards(
            self.role,
            {
                artifacts_bucket.arn_for_objects("*"): (
                    "A job reads the model weights under the S3 prefix its request names; any "
                    "prefix of the project's own artifacts bucket may hold them."
                ),
                **{
                    f"{bucket}/*": (
                        "SageMaker JumpStart serves model weights (gated ones in the private "
                        "cache) from this bucket of the Region; read-only, objects only."
                    )
                    for bucket in jumpstart
                },
                self.output_objects_arn: (
                    "Jobs write their optimized models under the project's output prefix, in a "
                    "folder named after the job; nowhere else in the bucket."
                ),
                log_groups: (
                    "SageMaker names a job's log group and streams itself under /aws/sagemaker/; "
                    "the role can write logs there only."
                ),
            },
        )
        acknowledge(
            self.role,
            {
                "AwsSolutions-IAM5[Resource::*]": (
                    "ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource "
                    "type (Service Authorization Reference); metrics are limited to the "
                    "/aws/sagemaker/ namespaces by condition."
                ),
                "NIST.800.53.R5-IAMNoInlinePolicy": (
                    "The role's only policy is the inline one CDK writes for the statements "
                    "above; it lives and dies with the role, which nothing else uses."
                ),
            },
        )
