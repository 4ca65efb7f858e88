"""Where a model's files are: an S3 prefix, and the statements that read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from workbench_domain import uris


@dataclass(frozen=True)
class ModelArtifacts:
    """Uncompressed model files under one S3 prefix (`ModelDataSource`, `S3Prefix`, no compression).

    Build it with `in_bucket` (a prefix of a bucket of this app) or `at_uri` (any `s3://` prefix,
    e.g. a SageMaker JumpStart bucket; `{region}` stands for the deployment region).
    """

    s3_uri: str
    bucket_arn: str
    key_prefix: str
    accept_eula: bool = False

    @classmethod
    def in_bucket(
        cls, bucket: s3.IBucket, key_prefix: str, *, accept_eula: bool = False
    ) -> ModelArtifacts:
        return cls(
            s3_uri=f"s3://{bucket.bucket_name}/{key_prefix}",
            bucket_arn=bucket.bucket_arn,
            key_prefix=key_prefix,
            accept_eula=accept_eula,
        )

    @classmethod
    def at_uri(cls, uri: str, *, accept_eula: bool = False) -> ModelArtifacts:
        # The config loader checked `uri` against the domain's grammar; split it by the same.
        location = uris.parse_s3_uri(uri)
        return cls(
            s3_uri=uri.replace("{region}", cdk.Aws.REGION),
            bucket_arn=f"arn:{cdk.Aws.PARTITION}:s3:::"
            + location.bucket.replace("{region}", cdk.Aws.REGION),
            key_prefix=location.key,
            accept_eula=accept_eula,
        )

    def data_source(self) -> dict[str, Any]:
        """The `S3DataSource` of CreateModel (same field names in CloudFormation and the API)."""
        source: dict[str, Any] = {
            "S3Uri": self.s3_uri,
            "S3DataType": "S3Prefix",
            "CompressionType": "None",
        }
        if self.accept_eula:
            source["ModelAccessConfig"] = {"AcceptEula": True}
        return source

    @property
    def objects_arn(self) -> str:
        """Every object under the prefix."""
        return f"{self.bucket_arn}/{self.key_prefix}*"

    def read_statements(self) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.objects_arn]),
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{self.key_prefix}*"]}},
            ),
        ]
