"""An S3 bucket with the project's baseline: private, TLS only, versioned, logged, encrypted."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from features.shared.nag_acknowledgments import acknowledge, checkov_skip

# The function CDK adds to a stack for `auto_delete_objects` (aws-cdk-lib aws_s3), and why
# checkov's Lambda checks do not apply to it.
AUTO_DELETE_PROVIDER = "Custom::S3AutoDeleteObjectsCustomResourceProvider"
AUTO_DELETE_PROVIDER_REASONS = {
    "CKV_AWS_115": "CDK's auto-delete custom resource: CloudFormation invokes it when a "
    "bucket is deleted, a few times per stack lifetime.",
    "CKV_AWS_116": "Invoked synchronously by CloudFormation, which records every failure on "
    "the stack; a dead-letter queue applies to asynchronous calls.",
    "CKV_AWS_117": "It calls only S3 APIs over TLS with IAM auth; the stack has no VPC.",
}


class SecureBucket(Construct):
    """Owns one bucket that blocks public access, refuses plain HTTP and keeps object versions.

    With `encryption_key` the bucket uses SSE-KMS with an S3 Bucket Key (one KMS request per
    object batch instead of per object, which keeps KMS costs flat for multi-GB model weights).
    Without it the bucket uses SSE-S3: that is the only encryption S3 server access logging
    accepts on a log destination bucket.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        encryption_key: kms.IKey | None,
        access_log_bucket: s3.IBucket | None,
        access_log_prefix: str | None = None,
        retain: bool,
        expire_objects_after_days: int | None = None,
        noncurrent_version_expiry_days: int,
    ) -> None:
        super().__init__(scope, id_)
        lifecycle = [
            s3.LifecycleRule(
                id="expire-noncurrent-versions",
                noncurrent_version_expiration=cdk.Duration.days(noncurrent_version_expiry_days),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
            )
        ]
        if expire_objects_after_days is not None:
            lifecycle.append(
                s3.LifecycleRule(
                    id="expire-objects", expiration=cdk.Duration.days(expire_objects_after_days)
                )
            )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS
            if encryption_key
            else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            bucket_key_enabled=encryption_key is not None,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=access_log_bucket,
            server_access_logs_prefix=access_log_prefix,
            lifecycle_rules=lifecycle,
            removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
            auto_delete_objects=not retain,
        )
        acknowledge(
            self.bucket,
            {
                "NIST.800.53.R5-S3BucketReplicationEnabled": (
                    "Versioning and RETAIN protect the data in prod; cross-region replication "
                    "would double the storage bill for model weights that can be downloaded "
                    "again from their source."
                ),
            },
        )
        if access_log_bucket is None:
            checkov_skip(
                self._cfn_bucket(),
                {
                    "CKV_AWS_18": "This is the access-log destination bucket: logging its own "
                    "accesses into itself would write a log object for every log delivery.",
                },
            )
        if not retain:
            self._skip_auto_delete_provider_checks()
        if encryption_key is None:
            acknowledge(
                self.bucket,
                {
                    "NIST.800.53.R5-S3DefaultEncryptionKMS": (
                        "S3 server access logging delivers only to destination buckets "
                        "encrypted with SSE-S3, so this bucket cannot use KMS."
                    ),
                },
            )

    def _cfn_bucket(self) -> cdk.CfnResource:
        resource = self.bucket.node.default_child
        assert isinstance(resource, cdk.CfnResource)
        return resource

    def _skip_auto_delete_provider_checks(self) -> None:
        """checkov's Lambda checks on CDK's auto-delete provider (one per stack)."""
        provider = cdk.Stack.of(self).node.try_find_child(AUTO_DELETE_PROVIDER)
        handler = provider.node.try_find_child("Handler") if provider else None
        if isinstance(handler, cdk.CfnResource):
            checkov_skip(handler, AUTO_DELETE_PROVIDER_REASONS)
