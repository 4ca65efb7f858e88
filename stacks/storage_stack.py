"""Storage: the stateful resources every other stack uses. Data outlives everything else."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from features.shared.deployment_record import DeploymentRecord
from features.shared.project_key import ProjectKey
from features.shared.secure_bucket import SecureBucket
from workbench_config.storage import StorageConfig
from workbench_domain.deployment_records import StorageRecord


class StorageStack(cdk.Stack):
    """The project KMS key, the artifacts and inference buckets, and their access-log bucket."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        storage: StorageConfig,
        retain_data: bool,
        parameter_prefix: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.key = ProjectKey(
            self,
            "DataKey",
            description=f"Encrypts the model artifacts, async inference data, topics and notebook "
            f"volume of {self.stack_name}",
            retain=retain_data,
        ).key
        self.access_log_bucket = SecureBucket(
            self,
            "AccessLogs",
            encryption_key=None,
            access_log_bucket=None,
            expire_objects_after_days=storage.access_log_expiry_days,
            retain=retain_data,
            noncurrent_version_expiry_days=storage.noncurrent_version_expiry_days,
        ).bucket
        # Model weights, draft models and optimization outputs: kept until deleted on purpose.
        self.artifacts_bucket = SecureBucket(
            self,
            "Artifacts",
            encryption_key=self.key,
            access_log_bucket=self.access_log_bucket,
            access_log_prefix="artifacts/",
            retain=retain_data,
            noncurrent_version_expiry_days=storage.noncurrent_version_expiry_days,
        ).bucket
        # Async inference inputs, outputs and failures: transient, so they expire.
        self.inference_bucket = SecureBucket(
            self,
            "Inference",
            encryption_key=self.key,
            access_log_bucket=self.access_log_bucket,
            access_log_prefix="inference/",
            expire_objects_after_days=storage.inference_expiry_days,
            retain=retain_data,
            noncurrent_version_expiry_days=storage.noncurrent_version_expiry_days,
        ).bucket

        DeploymentRecord(
            self,
            "Record",
            parameter_prefix=parameter_prefix,
            record=StorageRecord(
                region=self.region,
                artifacts_bucket=self.artifacts_bucket.bucket_name,
                inference_bucket=self.inference_bucket.bucket_name,
                kms_key_arn=self.key.key_arn,
            ),
        )
        cdk.CfnOutput(self, "ArtifactsBucketName", value=self.artifacts_bucket.bucket_name)
        cdk.CfnOutput(self, "InferenceBucketName", value=self.inference_bucket.bucket_name)
        cdk.CfnOutput(self, "DataKeyArn", value=self.key.key_arn)
