"""A Python Lambda function with a role and a log group of its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from features.shared.nag_acknowledgments import acknowledge, checkov_skip

CONCURRENCY_FINDING = "NIST.800.53.R5-LambdaConcurrency"
# The checkov checks that ask what the NIST Lambda rules ask (checkov's CloudFormation checks).
CHECKOV_IDS = {
    CONCURRENCY_FINDING: "CKV_AWS_115",
    "NIST.800.53.R5-LambdaDLQ": "CKV_AWS_116",
    "NIST.800.53.R5-LambdaInsideVPC": "CKV_AWS_117",
}

# cdk-nag's AwsSolutions-L1 asks for the newest runtime of the family aws-cdk-lib knows.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64


class ScopedFunction(Construct):
    """Owns a function, its execution role and its log group, encrypted with the project key.

    The role starts empty (no AWSLambdaBasicExecutionRole, which may write to every log group):
    it can write this function's log group, and callers add what the code calls. The three
    NIST Lambda findings (reserved concurrency, DLQ, VPC) depend on how the function is used,
    so the caller gives their reasons in `usage_reasons`, keyed by the finding id.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        description: str,
        handler: str,
        code: lambda_.Code,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
        usage_reasons: Mapping[str, str],
        layers: Sequence[lambda_.ILayerVersion] = (),
        environment: Mapping[str, str] | None = None,
        timeout: cdk.Duration | None = None,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention,
            encryption_key=key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description} (Lambda execution role)",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=code,
            layers=list(layers),
            role=self.role,
            log_group=self.log_group,
            memory_size=256,
            timeout=timeout or cdk.Duration.seconds(60),
            environment=dict(environment or {}),
            # The variables (ARNs, names, the bucket) encrypted with the project key at rest.
            environment_encryption=key if environment else None,
            reserved_concurrent_executions=reserved_concurrency,
        )
        acknowledge(
            self.role,
            {
                "NIST.800.53.R5-IAMNoInlinePolicy": (
                    "The function's role has only the inline policy CDK writes for its scoped "
                    "statements; it lives and dies with the function."
                ),
            },
        )
        reasons = dict(usage_reasons)
        if reserved_concurrency is not None:
            reasons.pop(CONCURRENCY_FINDING, None)  # the limit is set: nothing to acknowledge
        acknowledge(self.function, reasons)
        # checkov asks the same of Lambda functions: the same reasons answer it.
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, cdk.CfnResource)
        checkov_skip(
            cfn_function,
            {
                CHECKOV_IDS[finding]: reason
                for finding, reason in reasons.items()
                if finding in CHECKOV_IDS
            },
        )
