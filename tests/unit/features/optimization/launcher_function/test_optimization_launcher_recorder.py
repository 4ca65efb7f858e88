"""recorder.handler against moto: SSM parameter, S3 result with SSE-KMS, SNS notification."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from botocore.validate import validate_parameters
from moto import mock_aws

from features.optimization.launcher_function import job_result, recorder
from features.optimization.launcher_function.errors import JobNotFinishedError
from tests.unit.features.optimization.launcher_function.testkit import (
    BUCKET,
    KMS_KEY_ARN,
    LMI_IMAGE,
    REGION,
    ROLE_ARN,
)
from workbench_domain import api_limits
from workbench_domain.errors import ValidationError

JOB = "genai-opt-dev-awq-bd812276b7b7"
OUTPUT = f"s3://{BUCKET}/optimized/{JOB}/"
PREFIX = "/genai-opt/dev/optimization-results"
RECOMMENDED = LMI_IMAGE


def describe_output(status: str, **extra) -> dict:
    """A DescribeOptimizationJob response as boto3 returns it (datetimes)."""
    job = {
        "OptimizationJobArn": f"arn:aws:sagemaker:{REGION}:111122223333:optimization-job/{JOB}",
        "OptimizationJobStatus": status,
        "OptimizationStartTime": datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC),
        "OptimizationEndTime": datetime(2025, 3, 1, 12, 3, 4, tzinfo=UTC),
        "CreationTime": datetime(2025, 3, 1, 9, 58, 0, tzinfo=UTC),
        "LastModifiedTime": datetime(2025, 3, 1, 12, 3, 4, tzinfo=UTC),
        "OptimizationJobName": JOB,
        "ModelSource": {"S3": {"S3Uri": "s3://genai-opt-dev-models/meta-llama-3-70b/"}},
        "DeploymentInstanceType": "ml.p4d.24xlarge",
        "OptimizationConfigs": [
            {
                "ModelQuantizationConfig": {
                    "Image": LMI_IMAGE,
                    "OverrideEnvironment": {"OPTION_QUANTIZE": "awq"},
                }
            }
        ],
        "OutputConfig": {"S3OutputLocation": OUTPUT},
        "RoleArn": ROLE_ARN,
        "StoppingCondition": {"MaxRuntimeInSeconds": 36000},
        **extra,
    }
    output_shape = api_limits.SAGEMAKER_MODEL.operation_model(
        "DescribeOptimizationJob"
    ).output_shape
    validate_parameters(job, output_shape)  # real field names, real shapes
    return job


def as_step_functions_json(job: dict) -> dict:
    """What a Step Functions AWS SDK task hands over: timestamps as ISO 8601 strings."""

    def encode(value):
        if isinstance(value, datetime):
            return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        raise TypeError(value)

    return json.loads(json.dumps(job, default=encode))


@pytest.fixture(scope="module")
def moto_account():
    """One moto account per module (starting moto is the slow part); `aws` empties it per test."""
    with mock_aws():
        kms_key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="genai-opt-dev-jobs")["TopicArn"]
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="job-topic-tap")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

        def notifications() -> list[dict]:
            received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            for message in received.get("Messages", []):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            return [json.loads(m["Body"]) for m in received.get("Messages", [])]

        yield {
            "kms_key": kms_key,
            "topic": topic,
            "s3": s3,
            "ssm": boto3.client("ssm", region_name=REGION),
            "notifications": notifications,
        }


@pytest.fixture
def aws(moto_account, monkeypatch):
    monkeypatch.setenv("RESULTS_PARAMETER_PREFIX", PREFIX)
    monkeypatch.setenv("JOB_TOPIC_ARN", moto_account["topic"])
    monkeypatch.setenv("KMS_KEY_ARN", moto_account["kms_key"])
    moto_account["notifications"]()  # start with an empty queue
    yield moto_account
    for key in moto_account["s3"].list_objects_v2(Bucket=BUCKET).get("Contents", []):
        moto_account["s3"].delete_object(Bucket=BUCKET, Key=key["Key"])
    names = [p["Name"] for p in moto_account["ssm"].describe_parameters().get("Parameters", [])]
    if names:
        moto_account["ssm"].delete_parameters(Names=names)


@pytest.fixture
def no_aws_calls(monkeypatch):
    """Recorder clients that fail on any call (Stubbers with nothing queued)."""
    monkeypatch.setenv("RESULTS_PARAMETER_PREFIX", PREFIX)
    monkeypatch.setenv("JOB_TOPIC_ARN", f"arn:aws:sns:{REGION}:111122223333:genai-opt-dev-jobs")
    monkeypatch.setenv("KMS_KEY_ARN", KMS_KEY_ARN)
    clients = tuple(boto3.client(name, region_name=REGION) for name in ("ssm", "s3", "sns"))
    stubbers = [Stubber(client) for client in clients]
    for stubber in stubbers:
        stubber.activate()
    monkeypatch.setattr(recorder, "aws_clients", lambda: clients)
    yield
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()


EXPECTED_RESULT = {
    "job_name": JOB,
    "job_arn": f"arn:aws:sagemaker:{REGION}:111122223333:optimization-job/{JOB}",
    "status": "COMPLETED",
    "techniques": ["quantization"],
    "job_images": [LMI_IMAGE],
    "deployment_instance_type": "ml.p4d.24xlarge",
    "output_s3_uri": OUTPUT,
    "recommended_inference_image": RECOMMENDED,
    "started": "2025-03-01T10:00:00Z",
    "ended": "2025-03-01T12:03:04Z",
    "duration_seconds": 2 * 3600 + 3 * 60 + 4,
    "failure_reason": None,
}


def completed_event() -> dict:
    job = describe_output(
        "COMPLETED", OptimizationOutput={"RecommendedInferenceImage": RECOMMENDED}
    )
    # As the workflow passes it: the launcher's output plus the describe result under "job".
    return {
        "job_name": JOB,
        "job_arn": job["OptimizationJobArn"],
        "output_s3_uri": OUTPUT,
        "created": True,
        "job": as_step_functions_json(job),
    }


def test_completed_job_is_recorded_everywhere(aws, lambda_context):
    returned = recorder.handler(completed_event(), lambda_context)

    assert returned == {
        **EXPECTED_RESULT,
        "succeeded": True,
        "parameter_name": f"{PREFIX}/{JOB}",
        "result_s3_uri": f"{OUTPUT}optimization-result.json",
    }

    parameter = aws["ssm"].get_parameter(Name=f"{PREFIX}/{JOB}")["Parameter"]
    assert parameter["Type"] == "String"
    assert json.loads(parameter["Value"]) == EXPECTED_RESULT

    stored = aws["s3"].get_object(Bucket=BUCKET, Key=f"optimized/{JOB}/optimization-result.json")
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["SSEKMSKeyId"] == aws["kms_key"]
    assert stored["ContentType"] == "application/json"
    assert json.loads(stored["Body"].read()) == EXPECTED_RESULT

    (note,) = aws["notifications"]()
    assert note["Subject"] == f"Optimization job {JOB} COMPLETED"
    assert note["MessageAttributes"]["status"]["Value"] == "COMPLETED"
    assert note["MessageAttributes"]["job_name"]["Value"] == JOB
    assert OUTPUT in note["Message"]
    assert RECOMMENDED in note["Message"]
    assert "2h 03m 04s" in note["Message"]


def test_recording_twice_overwrites_the_same_result(aws, lambda_context):
    recorder.handler(completed_event(), lambda_context)
    recorder.handler(completed_event(), lambda_context)
    parameter = aws["ssm"].get_parameter(Name=f"{PREFIX}/{JOB}")["Parameter"]
    assert json.loads(parameter["Value"]) == EXPECTED_RESULT
    assert parameter["Version"] == 2


@pytest.mark.parametrize("status", ["FAILED", "STOPPED"])
def test_failed_or_stopped_job_is_announced_not_recorded(aws, lambda_context, status):
    reason = "ClientError: Insufficient capacity for ml.p4d.24xlarge"
    job = describe_output(status, FailureReason=reason)
    job.pop("OptimizationEndTime")

    returned = recorder.handler(
        {"job_name": JOB, "job": as_step_functions_json(job)}, lambda_context
    )

    assert returned["status"] == status
    assert returned["succeeded"] is False
    assert returned["failure_reason"] == reason
    assert returned["duration_seconds"] is None
    assert "parameter_name" not in returned
    with pytest.raises(aws["ssm"].exceptions.ParameterNotFound):
        aws["ssm"].get_parameter(Name=f"{PREFIX}/{JOB}")
    assert aws["s3"].list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
    (note,) = aws["notifications"]()
    assert note["Subject"] == f"Optimization job {JOB} {status}"
    assert note["MessageAttributes"]["status"]["Value"] == status
    assert reason in note["Message"]


@pytest.mark.parametrize("status", ["INPROGRESS", "STARTING", "STOPPING"])
def test_unfinished_job_is_not_recorded(no_aws_calls, lambda_context, status):
    job = as_step_functions_json(describe_output(status))
    with pytest.raises(JobNotFinishedError, match=status):
        recorder.handler({"job_name": JOB, "job": job}, lambda_context)


def test_flat_event_with_datetimes_is_accepted(aws, lambda_context):
    job = describe_output(
        "COMPLETED", OptimizationOutput={"RecommendedInferenceImage": RECOMMENDED}
    )
    returned = recorder.handler({**job, "job_name": JOB}, lambda_context)
    assert returned["status"] == "COMPLETED"
    assert returned["started"] == "2025-03-01T10:00:00Z"
    assert returned["duration_seconds"] == 7384


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"job": {}}, "job_name"),
        ({"job_name": JOB, "job": "COMPLETED"}, "job"),
        ({"job_name": JOB, "job": {"OptimizationJobStatus": "DONE"}}, "job.OptimizationJobStatus"),
        (
            {
                "job_name": JOB,
                "job": {"OptimizationJobStatus": "COMPLETED", "OptimizationJobName": "other"},
            },
            "job.OptimizationJobName",
        ),
        (
            {
                "job_name": JOB,
                "job": {"OptimizationJobStatus": "FAILED", "OptimizationStartTime": "yesterday"},
            },
            "job.OptimizationStartTime",
        ),
    ],
)
def test_bad_recorder_event_is_refused(no_aws_calls, lambda_context, event, field):
    with pytest.raises(ValidationError) as caught:
        recorder.handler(event, lambda_context)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_completed_job_without_usable_output_writes_nothing(no_aws_calls, lambda_context):
    job = as_step_functions_json(describe_output("COMPLETED"))
    job["OutputConfig"]["S3OutputLocation"] = "https://example.com/out/"
    with pytest.raises(ValidationError) as caught:
        recorder.handler({"job_name": JOB, "job": job}, lambda_context)
    assert caught.value.field == "OutputConfig.S3OutputLocation"


@pytest.mark.parametrize(
    "value",
    [
        datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
        "2025-03-01T10:00:00Z",
        "2025-03-01T10:00:00.000Z",
        "2025-03-01T11:00:00+01:00",
        "2025-03-01T10:00:00",
        1740823200,
        1740823200.0,
    ],
)
def test_timestamps_in_every_serialization(value):
    parsed = job_result.parse_timestamp(value, "t")
    assert parsed == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def test_result_location_is_next_to_the_artifacts():
    assert job_result.result_location(f"s3://{BUCKET}/optimized/x").uri == (
        f"s3://{BUCKET}/optimized/x/optimization-result.json"
    )
    assert job_result.result_location(f"s3://{BUCKET}/").uri == (
        f"s3://{BUCKET}/optimization-result.json"
    )


def test_sns_subject_stays_under_the_limit():
    longest = {**EXPECTED_RESULT, "job_name": "a" * 63, "status": "COMPLETED"}
    subject, _ = job_result.notification(longest, "/p")
    assert len(subject) < 100
