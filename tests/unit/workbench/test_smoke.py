"""smoke.py: one async request per endpoint, progress while it wakes, the result or the failure."""

from __future__ import annotations

import io
import json
import types

import botocore.session
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY

import workbench.smoke as smoke
import workbench.smoke_route as smoke_route
from tests.unit.workbench.helpers import FakeClock, FakeSession

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
    """The deployment records as the stacks publish them, read in one GetParametersByPath."""
    records = {"p4d": RECORD} if records is None else records
    storage = {
        "region": "us-east-1",
        "artifacts_bucket": "artifacts-bucket",
        "inference_bucket": BUCKET,
        "kms_key_arn": KEY_ARN,
    }
    parameters = {"storage": storage} | {f"endpoints/{k}": v for k, v in records.items()}
    session.stub("ssm").add_response(
        "get_parameters_by_path",
        {
            "Parameters": [
                {"Name": f"{PREFIX}/deployment/{name}", "Value": json.dumps(value)}
                for name, value in parameters.items()
            ]
        },
        {"Path": f"{PREFIX}/deployment", "Recursive": True, "WithDecryption": True},
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
            # The client's request (workbench_domain.async_inference.invocation_request).
            "EndpointName": RECORD["endpoint_name"],
            "InputLocation": ANY,
            "InferenceId": ANY,
            "ContentType": "application/json",
            "Accept": "application/json",
            "RequestTTLSeconds": ttl,
            "InvocationTimeoutSeconds": 900,
        },
    )


def stub_missing(session, times=1):
    for _ in range(times):
        session.stub("s3").add_client_error("head_object", "404", http_status_code=404)


def stub_found(session, text):
    s3 = session.stub("s3")
    s3.add_response("head_object", {})
    s3.add_response("get_object", {"Body": body(text)})


class FakeRoute:
    """The openai client smoke opens on the route: records what it is asked, answers or fails."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.opened: list[tuple[str, str]] = []
        self.asked: list[dict] = []
        self.fail = fail
        self.chat = types.SimpleNamespace(completions=types.SimpleNamespace(create=self.create))

    def open(self, target) -> FakeRoute:
        self.opened.append((target.base_url, target.token))
        return self

    def create(self, **request):
        self.asked.append(request)
        if self.fail is not None:
            raise self.fail
        message = types.SimpleNamespace(content="Routed.")
        return types.SimpleNamespace(choices=[types.SimpleNamespace(message=message)])


@pytest.fixture(autouse=True)
def route(monkeypatch) -> FakeRoute:
    fake = FakeRoute()
    monkeypatch.setattr(smoke_route, "route_client", fake.open)
    return fake


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


def test_no_storage_record_says_which_stack_to_deploy(capsys):
    session = FakeSession()
    session.stub("ssm").add_response("get_parameters_by_path", {"Parameters": []})
    assert run(session) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no /genai-opt/dev/deployment/storage parameter" in err
    assert "is the Storage stack of genai-opt-dev deployed" in err


def test_a_malformed_record_is_one_line(capsys):
    session = FakeSession()
    stub_records(session, records={"p4d": {**RECORD, "endpoint_name": 7}})
    assert run(session) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "endpoints.p4d" in err


def test_nothing_deployed_says_deploy_first(capsys):
    session = FakeSession()
    stub_records(session, records={})
    assert run(session) == 2
    assert "deploy the endpoint stacks first" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "0"], "argument --timeout: must be a finite number above 0"),
        (["--interval", "nan"], "argument --interval: must be a finite number above 0"),
        (["--max-new-tokens", "0"], "--max-new-tokens must be >= 1"),
        (["--timeout", "soon"], "argument --timeout: not a number: 'soon'"),
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


# -- realtime endpoints ---------------------------------------------------------------------------

CHAT = {
    "kind": "realtime",
    "endpoint_name": "chat-endpoint-abc",
    "inference_component_name": "genai-opt-dev-endpoint-chat-component-1a2b",
    "variant_name": "AllTraffic",
    "instance_type": "ml.g5.12xlarge",
    "error_topic_arn": "arn:aws:sns:us-east-1:123456789012:chat-error",
    "max_capacity": 1,
    "price_usd_per_hour": 7.09,
    "request_schema": "openai",
    "openai_route": True,
}
NO_CAPACITY = (
    "Inference Component has no capacity to process this request. ApproximateBacklogSize: 0"
)


def stub_chat_state(session, copies: int, instances: int):
    sagemaker = session.stub("sagemaker")
    sagemaker.add_response(
        "describe_endpoint",
        {
            "EndpointName": CHAT["endpoint_name"],
            "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat-endpoint-abc",
            "EndpointConfigName": "cfg",
            "EndpointStatus": "InService",
            "CreationTime": "2026-01-01T00:00:00Z",
            "LastModifiedTime": "2026-01-01T00:00:00Z",
            "ProductionVariants": [
                {"VariantName": "AllTraffic", "CurrentInstanceCount": instances}
            ],
        },
        {"EndpointName": CHAT["endpoint_name"]},
    )
    sagemaker.add_response(
        "describe_inference_component",
        {
            "InferenceComponentName": CHAT["inference_component_name"],
            "InferenceComponentArn": (
                "arn:aws:sagemaker:us-east-1:123456789012:inference-component/"
                + CHAT["inference_component_name"]
            ),
            "EndpointName": CHAT["endpoint_name"],
            "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat-endpoint-abc",
            "CreationTime": "2026-01-01T00:00:00Z",
            "LastModifiedTime": "2026-01-01T00:00:00Z",
            "RuntimeConfig": {"DesiredCopyCount": copies, "CurrentCopyCount": copies},
        },
        {"InferenceComponentName": CHAT["inference_component_name"]},
    )


def chunk_event(text: str) -> dict:
    line = json.dumps({"choices": [{"delta": {"content": text}}]}).encode() + b"\n"
    return {"PayloadPart": {"Bytes": line}}


def stub_chat(session, refusals: int, events: list[dict]):
    runtime = session.stub("sagemaker-runtime")
    request = {
        "EndpointName": CHAT["endpoint_name"],
        "InferenceComponentName": CHAT["inference_component_name"],
        "ContentType": "application/json",
        "Body": ANY,
    }
    for _ in range(refusals):
        runtime.add_client_error(
            "invoke_endpoint_with_response_stream",
            "ValidationError",
            NO_CAPACITY,
            400,
            None,
            request,
        )
    runtime.add_response(
        "invoke_endpoint_with_response_stream", {"Body": {"PayloadPart": {"Bytes": b""}}}, request
    )

    # Stubber cannot return an event stream: swap in these events after the validated call.
    def replace(parsed, **_):
        parsed["Body"] = iter(events)

    session.client("sagemaker-runtime").meta.events.register(
        "after-call.sagemaker-runtime.InvokeEndpointWithResponseStream", replace
    )


def stub_metrics(session, names):
    session.stub("cloudwatch").add_response(
        "list_metrics",
        {
            "Metrics": [
                {
                    "Namespace": "AWS/SageMaker",
                    "MetricName": name,
                    "Dimensions": [
                        {
                            "Name": "InferenceComponentName",
                            "Value": CHAT["inference_component_name"],
                        }
                    ],
                }
                for name in names
            ]
        },
        {
            "Namespace": "AWS/SageMaker",
            "Dimensions": [
                {"Name": "InferenceComponentName", "Value": CHAT["inference_component_name"]}
            ],
        },
    )


def awake_chat(chat: dict = CHAT, metrics: list[str] | None = None) -> FakeSession:
    """A session whose `chat` endpoint has a copy running, answers "ok", and lists `metrics`."""
    session = FakeSession()
    stub_records(session, {"chat": chat})
    stub_chat_state(session, copies=1, instances=1)
    stub_chat(session, refusals=0, events=[chunk_event("ok")])
    stub_metrics(session, metrics or ["Invocations"])
    return session


def test_a_realtime_endpoint_is_woken_and_streams_its_first_token(capsys):
    session = FakeSession()
    stub_records(session, {"chat": CHAT})
    stub_chat_state(session, copies=0, instances=0)
    stub_chat(session, refusals=2, events=[chunk_event("Guessing"), chunk_event(" ahead.")])
    stub_metrics(
        session, ["ConcurrentRequestsPerCopy", "NoCapacityInvocationFailures", "Invocations"]
    )
    assert run(session) == 0
    session.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert "not (yet) published" not in out
    assert "component genai-opt-dev-endpoint-chat-component-1a2b: InService, 0 copy(ies)" in out
    assert "0 s  no copy yet (waking); giving up in 600 s" in out
    assert "PASS: woke in 60 s (3 attempt(s)); time to first token 0.0 s" in out
    assert "answer: Guessing ahead." in out
    assert (
        "metrics of the component: ConcurrentRequestsPerCopy, Invocations, "
        "NoCapacityInvocationFailures" in out
    )
    assert out.rstrip().endswith("Smoke: chat PASS")


def test_the_route_is_asked_once_the_component_is_awake_with_a_signed_token(capsys, route):
    session = awake_chat()
    assert run(session) == 0
    ((url, token),) = route.opened
    assert url == (
        "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/"
        f"{CHAT['endpoint_name']}/inference-components/{CHAT['inference_component_name']}"
        "/openai/v1"
    )
    assert token.startswith("sagemaker-api-key-")
    assert route.asked[0]["messages"][0]["role"] == "user"
    assert "[chat] OpenAI route: PASS" in capsys.readouterr().out


def test_a_route_that_refuses_fails_the_smoke_test_with_its_reason(capsys, route):
    import openai

    route.fail = openai.OpenAIError(
        "Error code: 403 - not authorized: sagemaker:CallWithBearerToken"
    )
    session = awake_chat()
    assert run(session) == 1
    out = capsys.readouterr().out
    assert "[chat] OpenAI route: FAIL: Error code: 403" in out
    assert out.rstrip().endswith("Smoke: chat FAIL")


def test_a_session_without_credentials_fails_the_route_in_one_line(capsys, route, monkeypatch):
    session = awake_chat()
    monkeypatch.setattr(session, "get_credentials", lambda: None)
    assert run(session) == 1
    out = capsys.readouterr().out
    assert "[chat] OpenAI route: FAIL: no AWS credentials to sign the bearer token with" in out
    assert route.opened == []


def test_an_endpoint_whose_image_does_not_serve_the_route_is_not_asked(capsys, route):
    """An LMI chat endpoint (openai_route false in its record): the route is skipped, said so."""
    session = awake_chat(chat={**CHAT, "request_schema": "lmi", "openai_route": False})
    assert run(session) == 0
    assert route.opened == []
    out = capsys.readouterr().out
    assert "[chat] OpenAI route: skipped (its image does not serve it" in out
    assert out.rstrip().endswith("Smoke: chat PASS")


def test_a_metric_the_alarms_watch_that_is_not_published_is_named(capsys):
    session = awake_chat()
    assert run(session) == 0
    out = capsys.readouterr().out
    assert "not (yet) published: ConcurrentRequestsPerCopy, NoCapacityInvocationFailures" in out


def test_a_realtime_endpoint_asleep_past_the_timeout_fails(capsys):
    session = FakeSession()
    stub_records(session, {"chat": CHAT})
    stub_chat_state(session, copies=0, instances=0)
    runtime = session.stub("sagemaker-runtime")
    for _ in range(3):
        runtime.add_client_error(
            "invoke_endpoint_with_response_stream", "ValidationError", NO_CAPACITY, 400
        )
    assert (
        smoke.main(["--timeout", "60", "--interval", "30"], session=session, clock=FakeClock()) == 1
    )
    assert "FAIL: the endpoint had no copy for 60 s (3 attempts)" in capsys.readouterr().out


def test_wait_for_zero_waits_for_no_copy_and_no_instance(capsys):
    session = awake_chat(metrics=["ConcurrentRequestsPerCopy", "NoCapacityInvocationFailures"])
    stub_chat_state(session, copies=0, instances=1)  # copies gone, instance not yet released
    stub_chat_state(session, copies=0, instances=0)
    assert run(session, "--wait-for-zero") == 0
    session.assert_no_pending_responses()
    assert "back at 0 copies and 0 instances after 30 s" in capsys.readouterr().out
