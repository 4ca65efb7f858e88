"""Statements every role SageMaker assumes for a job needs: the project key, and the logs and
metrics of the job, which SageMaker names itself under /aws/sagemaker/."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms


def job_log_groups(stack: cdk.Stack) -> str:
    return stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name="/aws/sagemaker/*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def use_project_key(key: kms.IKey) -> iam.PolicyStatement:
    # Reads of SSE-KMS objects, and the outputs a job encrypts with the key.
    return iam.PolicyStatement(
        sid="UseProjectKey",
        actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
        resources=[key.key_arn],
    )


def job_logs_and_metrics(stack: cdk.Stack) -> list[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(
            sid="WriteJobLogs",
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            resources=[job_log_groups(stack)],
        ),
        iam.PolicyStatement(
            sid="PutJobMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        ),
    ]


def project_tagged(project: str, env_name: str) -> dict[str, dict[str, str]]:
    """The condition that limits a statement to resources of this project and environment (the
    stage tags every stack's resources: WorkbenchStage)."""
    return {
        "StringEquals": {
            "aws:ResourceTag/project": project,
            "aws:ResourceTag/environment": env_name,
        }
    }
