"""The customer-managed KMS key that encrypts the project's data at rest."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class ProjectKey(Construct):
    """Owns one symmetric KMS key with yearly automatic rotation.

    Principals get access through `grant_*` calls where they are defined; the key policy itself
    keeps CDK's default (the account administers the key through IAM), plus the statement
    CloudWatch Logs needs to encrypt this account's log groups in this Region with the key
    (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS"): a log
    group created with a key its service cannot use fails to deploy.
    """

    def __init__(self, scope: Construct, id_: str, *, description: str, retain: bool) -> None:
        super().__init__(scope, id_)
        self.key = kms.Key(
            self,
            "Key",
            description=description,
            enable_key_rotation=True,
            # 7 days, the minimum, in dev: a deleted dev stack should not hold a key for 30 days.
            pending_window=cdk.Duration.days(30 if retain else 7),
            removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
        )
        stack = cdk.Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.{stack.url_suffix}")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
