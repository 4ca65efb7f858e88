"""The execution role of one LLM endpoint: what SageMaker needs to start and run its model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from features.endpoints.dlc_images import ContainerImage
from features.endpoints.model_artifacts import ModelArtifacts
from features.shared.nag_acknowledgments import acknowledge, acknowledge_wildcards


class EndpointExecutionRole(Construct):
    """Owns the role SageMaker assumes for one endpoint and its model, least privilege.

    Reads the model's files (and any extra model data channel), uses the project key, pulls the
    serving image, writes the endpoint's logs and metrics. An async endpoint adds its own
    prefixes, topics and key use (`role.add_to_policy`, `objects_reasons`, `grant_encrypt`).
    No managed policy.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        description: str,
        image: ContainerImage,
        artifacts: Sequence[ModelArtifacts],
        key: kms.IKey,
        objects_reasons: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Resource",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=description,
        )
        for source in artifacts:
            for statement in source.read_statements():
                self.role.add_to_policy(statement)
        # Decrypt: the model's files (SSE-KMS) and an async endpoint's inputs. An endpoint that
        # writes under the key (async outputs, SNS messages) adds `grant_encrypt`.
        self.key = key
        key.grant(self.role, "kms:Decrypt")
        image.grant_pull(self, self.role)
        log_groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/Endpoints/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                ],
                resources=[log_groups],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"]}
                },
            )
        )
        model_reason = "Objects under one prefix: the model's files; object keys are not known."
        acknowledge_wildcards(
            self.role,
            {
                **{a.objects_arn: model_reason for a in artifacts},
                **(objects_reasons or {}),
                log_groups: (
                    "SageMaker names the endpoint's log group after the generated endpoint "
                    "name, which exists only after this role (the model needs the role first)."
                ),
            },
        )
        acknowledge(
            self.role,
            {
                "NIST.800.53.R5-IAMNoInlinePolicy": (
                    "The role's statements are scoped to this endpoint's model, prefixes, "
                    "topics, key and image repository; CDK writes them as the role's inline "
                    "default policy."
                ),
                "AwsSolutions-IAM5[Resource::*]": (
                    "ecr:GetAuthorizationToken has no resource-level permissions, and "
                    "cloudwatch:PutMetricData is limited by a namespace condition instead."
                ),
            },
        )

    def grant_encrypt(self) -> None:
        """Lets the role write under the project key (S3 outputs, SNS messages)."""
        self.key.grant(self.role, "kms:GenerateDataKey*")
        acknowledge(
            self.role,
            {
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": (
                    "SNS and S3 ask for the GenerateDataKey family to encrypt messages and "
                    "objects with the project key; the statement names that one key."
                ),
            },
        )

    @property
    def policy(self) -> IConstruct:
        """The role's default policy: what a model or endpoint must be created after (SageMaker
        checks the role's permissions when it starts the model, not the role alone)."""
        return self.role.node.find_child("DefaultPolicy")
