"""The SageMakerApiModel custom-resource handler, against botocore's SageMaker model (Stubber)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from features.endpoints.model_function import handler

ROLE = "arn:aws:iam::123456789012:role/exec"
MODEL = {
    "ExecutionRoleArn": ROLE,
    "EnableNetworkIsolation": True,
    "PrimaryContainer": {
        "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0",
        "ModelDataSource": {
            "S3DataSource": {
                "S3Uri": "s3://artifacts/models/llama/",
                "S3DataType": "S3Prefix",
                "CompressionType": "None",
                "ModelAccessConfig": {"AcceptEula": True},
            }
        },
        "AdditionalModelDataSources": [
            {
                "ChannelName": "draft_model",
                "S3DataSource": {
                    "S3Uri": "s3://artifacts/models/draft/",
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                },
            }
        ],
        # What the stack derives for LMI 20 (vLLM): the legacy draft key would be ignored.
        "Environment": {
            "OPTION_SPECULATIVE_CONFIG": '{"method":"draft_model",'
            '"model":"/opt/ml/additional-model-data-sources/draft_model","num_speculative_tokens":5}'
        },
    },
}
NOT_FOUND = "Could not find model"


def event(request_type: str, physical_id: str | None = None) -> dict:
    base = {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-response.example/put",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "req-1",
        "LogicalResourceId": "Model",
        "ResourceProperties": {"ModelName": "p4d-0123456789abcdef", "Model": json.dumps(MODEL)},
    }
    if physical_id:
        base["PhysicalResourceId"] = physical_id
    return base


@pytest.fixture
def client():
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(sagemaker) as stub:
        yield sagemaker, stub
        stub.assert_no_pending_responses()


@pytest.fixture
def responses(monkeypatch) -> list[tuple]:
    sent: list[tuple] = []
    monkeypatch.setattr(
        handler, "respond", lambda ev, status, pid, reason="": sent.append((status, pid, reason))
    )
    return sent


def test_create_calls_create_model_with_the_draft_channel(client, responses):
    sagemaker, stub = client
    stub.add_client_error("describe_model", "ValidationException", NOT_FOUND)
    stub.add_response(
        "create_model",
        {"ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/p4d-0123456789abcdef"},
        {"ModelName": "p4d-0123456789abcdef", **MODEL},
    )
    handler.handler(event("Create"), None, client=sagemaker)
    assert responses == [("SUCCESS", "p4d-0123456789abcdef", "")]


def test_update_back_to_an_existing_model_adopts_it(client, responses):
    # A rolled-back update asks again for the previous model, which CloudFormation has not
    # deleted yet: creating it again would fail the rollback.
    sagemaker, stub = client
    stub.add_response(
        "describe_model",
        {
            "ModelName": "p4d-0123456789abcdef",
            "ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/p4d-0123456789abcdef",
            "CreationTime": "2026-01-01T00:00:00Z",
        },
        {"ModelName": "p4d-0123456789abcdef"},
    )
    handler.handler(event("Update", "p4d-fedcba9876543210"), None, client=sagemaker)
    assert responses == [("SUCCESS", "p4d-0123456789abcdef", "")]


def test_delete_removes_the_model_and_tolerates_a_missing_one(client, responses):
    sagemaker, stub = client
    stub.add_response("delete_model", {}, {"ModelName": "p4d-old"})
    stub.add_client_error("delete_model", "ValidationException", NOT_FOUND)
    handler.handler(event("Delete", "p4d-old"), None, client=sagemaker)
    handler.handler(event("Delete", "p4d-old"), None, client=sagemaker)
    assert responses == [("SUCCESS", "p4d-old", ""), ("SUCCESS", "p4d-old", "")]


def test_delete_after_a_failed_create_touches_nothing(client, responses):
    sagemaker, _ = client
    handler.handler(event("Delete", handler.NOT_CREATED), None, client=sagemaker)
    assert responses == [("SUCCESS", handler.NOT_CREATED, "")]


def test_failure_is_reported_to_cloudformation_with_the_reason(client, responses):
    sagemaker, stub = client
    stub.add_client_error("describe_model", "ValidationException", NOT_FOUND)
    stub.add_client_error("create_model", "ResourceLimitExceeded", "too many models")
    handler.handler(event("Create"), None, client=sagemaker)
    [(status, physical_id, reason)] = responses
    assert (status, physical_id) == ("FAILED", handler.NOT_CREATED)
    assert "too many models" in reason


def test_access_denied_on_delete_is_a_failure_not_a_silent_success(client, responses):
    sagemaker, stub = client
    stub.add_client_error("delete_model", "AccessDeniedException", "no")
    handler.handler(event("Delete", "p4d-old"), None, client=sagemaker)
    assert responses[0][0] == "FAILED"


def test_respond_puts_the_cloudformation_response(monkeypatch):
    captured = {}

    class Answer:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request, timeout):
        captured.update(
            url=request.full_url, method=request.get_method(), body=json.loads(request.data)
        )
        return Answer()

    monkeypatch.setattr(handler.urllib.request, "urlopen", urlopen)
    handler.respond(event("Create"), "SUCCESS", "p4d-0123456789abcdef")
    assert captured["method"] == "PUT"
    assert captured["url"] == "https://cloudformation-response.example/put"
    assert captured["body"] == {
        "Status": "SUCCESS",
        "Reason": "SUCCESS",
        "PhysicalResourceId": "p4d-0123456789abcdef",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "req-1",
        "LogicalResourceId": "Model",
        "Data": {"ModelName": "p4d-0123456789abcdef"},
    }
