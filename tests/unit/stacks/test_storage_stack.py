"""The Storage stack: key, buckets and their protections, as synthesized for dev and prod."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import SynthesizedApp


@pytest.fixture(scope="module")
def storage(dev: SynthesizedApp) -> Template:
    return dev.template(dev.stage.storage)


@pytest.fixture(scope="module")
def storage_prod(prod: SynthesizedApp) -> Template:
    return prod.template(prod.stage.storage)


def logical_id(dev: SynthesizedApp, construct) -> str:
    return dev.stage.storage.resolve(construct.node.default_child.logical_id)


def buckets(template: Template) -> dict:
    return template.find_resources("AWS::S3::Bucket")


def test_key_is_customer_managed_with_rotation(storage: Template):
    storage.resource_count_is("AWS::KMS::Key", 1)
    storage.has_resource_properties(
        "AWS::KMS::Key", {"EnableKeyRotation": True, "PendingWindowInDays": 7}
    )


def test_every_bucket_blocks_public_access_and_is_versioned(storage: Template):
    assert len(buckets(storage)) == 3
    for bucket in buckets(storage).values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_every_bucket_refuses_plain_http_and_old_tls(storage: Template):
    policies = storage.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        conditions = [s["Condition"] for s in statements if s["Effect"] == "Deny"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions


def test_data_buckets_use_the_project_key_with_bucket_keys(dev: SynthesizedApp, storage: Template):
    key_id = logical_id(dev, dev.stage.storage.key)
    for bucket in (dev.stage.storage.artifacts_bucket, dev.stage.storage.inference_bucket):
        props = buckets(storage)[logical_id(dev, bucket)]["Properties"]
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["BucketKeyEnabled"] is True
        assert rule["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
        }


def test_log_bucket_uses_sse_s3_as_access_logging_requires(dev: SynthesizedApp, storage: Template):
    props = buckets(storage)[logical_id(dev, dev.stage.storage.access_log_bucket)]["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "LoggingConfiguration" not in props


def test_data_buckets_log_to_the_log_bucket(dev: SynthesizedApp, storage: Template):
    log_bucket = {"Ref": logical_id(dev, dev.stage.storage.access_log_bucket)}
    for bucket, prefix in (
        (dev.stage.storage.artifacts_bucket, "artifacts/"),
        (dev.stage.storage.inference_bucket, "inference/"),
    ):
        props = buckets(storage)[logical_id(dev, bucket)]["Properties"]
        assert props["LoggingConfiguration"] == {
            "DestinationBucketName": log_bucket,
            "LogFilePrefix": prefix,
        }


def lifecycle(template: Template, dev: SynthesizedApp, bucket) -> dict[str, dict]:
    props = buckets(template)[logical_id(dev, bucket)]["Properties"]
    return {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}


def test_inference_data_expires_after_configured_days(dev: SynthesizedApp, storage: Template):
    rules = lifecycle(storage, dev, dev.stage.storage.inference_bucket)
    expected = dev.app.node.try_get_context("workbench")["environments"]["dev"]["storage"]
    assert rules["expire-objects"]["ExpirationInDays"] == expected["inference_expiry_days"]
    assert (
        rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"]
        == expected["noncurrent_version_expiry_days"]
    )


def test_artifacts_never_expire(dev: SynthesizedApp, storage: Template):
    assert "expire-objects" not in lifecycle(storage, dev, dev.stage.storage.artifacts_bucket)


def test_dev_deletes_buckets_and_their_objects(storage: Template):
    for bucket in buckets(storage).values():
        assert bucket["DeletionPolicy"] == "Delete"
    storage.resource_count_is("Custom::S3AutoDeleteObjects", 3)
    storage.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Delete"})


def test_prod_retains_buckets_key_and_objects(storage_prod: Template):
    for bucket in buckets(storage_prod).values():
        assert bucket["DeletionPolicy"] == "Retain"
        assert bucket["UpdateReplacePolicy"] == "Retain"
    storage_prod.resource_count_is("Custom::S3AutoDeleteObjects", 0)
    storage_prod.has_resource(
        "AWS::KMS::Key",
        {"DeletionPolicy": "Retain", "Properties": Match.object_like({"PendingWindowInDays": 30})},
    )


def test_prod_storage_stack_has_termination_protection(prod: SynthesizedApp, dev: SynthesizedApp):
    assert prod.stage.storage.termination_protection is True
    assert dev.stage.storage.termination_protection is False


def test_no_physical_names(storage: Template):
    for bucket in buckets(storage).values():
        assert "BucketName" not in bucket["Properties"]


def test_stateful_logical_ids_stay_fixed(dev: SynthesizedApp):
    # Renaming one of these replaces the resource (a new, empty bucket or key): change on purpose.
    storage = dev.stage.storage
    ids = {
        name: logical_id(dev, getattr(storage, attribute))
        for name, attribute in (
            ("key", "key"),
            ("artifacts", "artifacts_bucket"),
            ("inference", "inference_bucket"),
            ("logs", "access_log_bucket"),
        )
    }
    assert ids == {
        "key": "DataKey2A0DE9E6",
        "artifacts": "ArtifactsBucket88671897",
        "inference": "InferenceBucket3DEFCF70",
        "logs": "AccessLogsBucketCD784A59",
    }


def test_outputs_name_the_buckets_and_key(storage: Template):
    outputs = storage.find_outputs("*")
    assert {"ArtifactsBucketName", "InferenceBucketName", "DataKeyArn"} <= set(outputs)


def test_publishes_its_deployment_record_for_the_notebooks(dev: SynthesizedApp, storage: Template):
    storage.has_resource_properties(
        "AWS::SSM::Parameter",
        {
            "Name": "/genai-opt/dev/deployment/storage",
            "Type": "String",
            "Value": {
                "Fn::Join": [
                    "",
                    Match.array_with([Match.string_like_regexp('"artifacts_bucket":')]),
                ]
            },
        },
    )
