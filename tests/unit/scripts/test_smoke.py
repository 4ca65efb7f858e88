"""smoke.py: one async request per endpoint, progress while it wakes, the result or the failure."""

from __future__ import annotations

import io
import json

import botocore.session
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY

import scripts.smoke as smoke
from tests.unit.scripts.helpers import FakeClock, FakeSession

PREFIX = "/genai-opt/dev"
BUCKET = "inference-bucket"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/abc"
OUTPUT = f"s3://{BUCKET}/endpoints/p4d/output/req.out"
FAILURE = f"s3://{BUCKET}/endpoints/p4d/failure/req-error.out"
RECORD = {
    "endpoint_name": "p4d-endpoint-abc",
    "variant_name": "AllTraffic",
    "instance_type": "ml.p4d.24xlarge",
    "input_prefix": f"s3://{BUCKET}/endpoints/p4d/input/",
    "output_prefix": f"s3://{BUCKET}/endpoints/p4d/output/",
    "failure_prefix": f"s3://{BUCKET}/endpoints/p4d/failure/",
    "success_topic_arn": "arn:aws:sns:us-east-1:123456789012:p4d-success",
    "error_topic_arn": "arn:aws:sns:us-east-1:123456789012:p4d-error",
    "max_capacity": 2,
    "price_usd_per_hour": 37.688,
    "kind": "async",
}


def body(text: str) -> StreamingBody:
    return StreamingBody(io.BytesIO(text.encode()), len(text))


def stub_records(session, records=None):
    ssm = session.stub("ssm")
    records = {"p4d": RECORD} if records is None else records
    ssm.add_response(
        "get_parameters_by_path",
        {
            "Parameters": [
                {"Name": f"{PREFIX}/deployment/endpoints/{k}", "Value": json.dumps(v)}
                for k, v in records.items()
            ]
        },
        {"Path": f"{PREFIX}/deployment/endpoints", "Recursive": True},
    )
    storage = {
        "region": "us-east-1",
        "artifacts_bucket": "artifacts-bucket",
        "inference_bucket": BUCKET,
        "kms_key_arn": KEY_ARN,
    }
    ssm.add_response(
        "get_parameter",
        {"Parameter": {"Value": json.dumps(storage)}},
        {"Name": f"{PREFIX}/deployment/storage"},
    )


def stub_endpoint(session, status="InService", count=0):
    session.stub("sagemaker").add_response(
        "describe_endpoint",
        {
            "EndpointName": RECORD["endpoint_name"],
            "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/p4d-endpoint-abc",
            "EndpointConfigName": "cfg",
            "EndpointStatus": status,
            "CreationTime": "2026-01-01T00:00:00Z",
            "LastModifiedTime": "2026-01-01T00:00:00Z",
            "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": count}],
        },
        {"EndpointName": RECORD["endpoint_name"]},
    )


def stub_send(session, ttl=600):
    session.stub("s3").add_response(
        "put_object",
        {},
        {
            "Bucket": BUCKET,
            "Key": ANY,
            "Body": ANY,
            "ContentType": "application/json",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": KEY_ARN,
        },
    )
    session.stub("sagemaker-runtime").add_response(
        "invoke_endpoint_async",
        {"InferenceId": "i", "OutputLocation": OUTPUT, "FailureLocation": FAILURE},
        {
            "EndpointName": RECORD["endpoint_name"],
            "InputLocation": ANY,
            "ContentType": "application/json",
            "RequestTTLSeconds": ttl,
        },
    )


def stub_missing(session, times=1):
    for _ in range(times):
        session.stub("s3").add_client_error("head_object", "404", http_status_code=404)


def stub_found(session, text):
    s3 = session.stub("s3")
    s3.add_response("head_object", {})
    s3.add_response("get_object", {"Body": body(text)})


def run(session, *args):
    return smoke.main(
        ["--timeout", "600", "--interval", "30", *args], session=session, clock=FakeClock()
    )


def test_wakes_from_zero_reports_time_to_first_result_and_output(capsys):
    session = FakeSession()
    stub_records(session)
    stub_endpoint(session, count=0)
    stub_send(session)
    # Poll 1: nothing yet, still 0 instances; poll 2: 1 instance; poll 3: the result.
    stub_missing(session, 2)
    stub_endpoint(session, count=0)
    stub_missing(session, 2)
    stub_endpoint(session, count=1)
    stub_found(session, '{"generated_text": "Guessing tokens ahead."}')
    assert run(session) == 0
    session.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert "at 0 instances: it wakes up first" in out
    assert "30 s  InService, 1 instance(s)" in out
    assert "PASS: first result after 60 s" in out
    assert "Guessing tokens ahead." in out
    assert out.rstrip().endswith("Smoke: p4d PASS")


def test_failure_location_is_reported(capsys):
    session = FakeSession()
    stub_records(session)
    stub_endpoint(session, count=1)
    stub_send(session)
    stub_missing(session)
    stub_found(session, "CUDA out of memory")
    assert run(session) == 1
    assert "FAIL: the request failed after 0 s: CUDA out of memory" in capsys.readouterr().out


def test_timeout_fails(capsys):
    session = FakeSession()
    stub_records(session)
    stub_endpoint(session, count=0)
    stub_send(session, ttl=60)
    for _ in range(2):
        stub_missing(session, 2)
        stub_endpoint(session, count=0)
    stub_missing(session, 2)
    clock = FakeClock()
    assert smoke.main(["--timeout", "60", "--interval", "30"], session=session, clock=clock) == 1
    session.assert_no_pending_responses()
    assert "FAIL: no result after 60 s" in capsys.readouterr().out


def test_wait_for_zero_waits_for_scale_in(capsys):
    session = FakeSession()
    stub_records(session)
    stub_endpoint(session, count=1)
    stub_send(session)
    stub_found(session, "ok")
    stub_endpoint(session, count=1)
    stub_endpoint(session, count=0)
    assert run(session, "--wait-for-zero") == 0
    assert "back at 0 instances after 30 s" in capsys.readouterr().out


def test_endpoint_not_in_service_fails(capsys):
    session = FakeSession()
    stub_records(session)
    stub_endpoint(session, status="Failed")
    assert run(session) == 1
    assert "endpoint is Failed" in capsys.readouterr().out


def test_unknown_endpoint_key_names_the_deployed_ones(capsys):
    session = FakeSession()
    stub_records(session)
    assert run(session, "--endpoint", "g5") == 2
    assert "--endpoint g5: not deployed; deployed: p4d" in capsys.readouterr().err


def test_nothing_deployed_says_deploy_first(capsys):
    session = FakeSession()
    stub_records(session, records={})
    assert run(session) == 2
    assert "deploy the endpoint stacks first" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "0"], "--timeout and --interval must be > 0"),
        (["--max-new-tokens", "0"], "--max-new-tokens must be >= 1"),
        (["--timeout", "soon"], "invalid float value: 'soon'"),
        (["--endpoint"], "expected one argument"),
    ],
)
def test_bad_flags_are_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        smoke.parse_args(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_request_ttl_is_clamped_to_the_api_range(capsys):
    """RequestTTLSeconds stays within InvokeEndpointAsync's range in botocore's model (the
    Stubber checks only its minimum)."""
    shape = (
        botocore.session.get_session()
        .get_service_model("sagemaker-runtime")
        .operation_model("InvokeEndpointAsync")
        .input_shape.members["RequestTTLSeconds"]
    )
    session = FakeSession()
    stub_records(session)
    stub_endpoint(session, count=1)
    stub_send(session, ttl=shape.metadata["max"])
    stub_found(session, "ok")
    timeout = str(shape.metadata["max"] + 1)
    assert smoke.main(["--timeout", timeout], session=session, clock=FakeClock()) == 0
    session.assert_no_pending_responses()
    assert shape.metadata["min"] == 60  # test_timeout_fails: --timeout 60 sends the minimum
