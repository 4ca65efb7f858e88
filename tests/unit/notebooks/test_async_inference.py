"""The notebook client's async invocations, through Stubber and moto S3."""

from __future__ import annotations

import json

import genai_workbench as wb
import pytest

from tests.unit.notebooks.client_kit import T0, FakeTime, put, runtime_response, stubbed

# ----------------------------------------------------------------------------- async calls


def test_invoke_async_uploads_the_payload_and_queues_it(deployment, s3):
    info = deployment.endpoint("p4d")
    stub = stubbed(deployment, "sagemaker-runtime")
    stub.add_response(
        "invoke_endpoint_async",
        runtime_response(deployment, "req-1"),
        {
            "EndpointName": info.endpoint_name,
            "ContentType": "application/json",
            "Accept": "application/json",
            "InputLocation": "s3://genai-inference-bucket/async/p4d/input/req-1.json",
            "InferenceId": "req-1",
            "RequestTTLSeconds": 21600,
            "InvocationTimeoutSeconds": 3600,
        },
    )
    invocation = wb.invoke_async(
        deployment,
        "p4d",
        wb.llm_payload("hi"),
        inference_id="req-1",
        request_ttl_seconds=21600,
        invocation_timeout_seconds=3600,
        now=lambda: T0,
    )
    stub.assert_no_pending_responses()
    assert invocation.output_location.endswith("req-1.out")
    assert invocation.submitted_at == T0
    obj = s3.get_object(Bucket="genai-inference-bucket", Key="async/p4d/input/req-1.json")
    assert obj["ContentType"] == "application/json"
    assert obj["ServerSideEncryption"] == "aws:kms"
    assert obj["SSEKMSKeyId"] == deployment.kms_key_arn
    assert json.loads(obj["Body"].read())["inputs"] == "hi"


@pytest.mark.parametrize(("ttl", "timeout"), [(59, 900), (21601, 900), (3600, 0), (3600, 3601)])
def test_invoke_async_refuses_values_outside_the_api_limits(deployment, ttl, timeout):
    with pytest.raises(wb.WorkbenchError):
        wb.invoke_async(
            deployment, "p4d", {}, request_ttl_seconds=ttl, invocation_timeout_seconds=timeout
        )


def test_a_refused_async_invoke_removes_the_payload_it_uploaded(deployment, s3):
    stub = stubbed(deployment, "sagemaker-runtime")
    stub.add_client_error(
        "invoke_endpoint_async", "ValidationError", "Endpoint p4d-x not found.", 400
    )
    with pytest.raises(wb.WorkbenchError, match=r"refused the request: .*not found"):
        wb.invoke_async(deployment, "p4d", wb.llm_payload("hi"), inference_id="gone")
    listed = s3.list_objects_v2(Bucket="genai-inference-bucket", Prefix="async/p4d/input/gone")
    assert listed.get("KeyCount", 0) == 0


def test_a_payload_that_is_not_json_is_refused_before_any_upload(deployment, s3):
    with pytest.raises(wb.WorkbenchError, match="payload for 'p4d' is not JSON"):
        wb.invoke_async(deployment, "p4d", {"inputs": object()}, inference_id="never")
    listed = s3.list_objects_v2(Bucket="genai-inference-bucket", Prefix="async/p4d/input/never")
    assert listed.get("KeyCount", 0) == 0


def invocation_for(deployment, inference_id: str) -> wb.AsyncInvocation:
    response = runtime_response(deployment, inference_id)
    return wb.AsyncInvocation(
        endpoint_key="p4d",
        endpoint_name="genai-p4d-endpoint",
        inference_id=inference_id,
        input_location="s3://genai-inference-bucket/async/p4d/input/x.json",
        output_location=response["OutputLocation"],
        failure_location=response["FailureLocation"],
        submitted_at=T0,
    )


def test_wait_for_async_result_polls_until_the_output_appears(deployment, s3):
    invocation = invocation_for(deployment, "poll")
    fake = FakeTime()
    body = json.dumps({"generated_text": "hello", "details": {"generated_tokens": 7}})
    fake.hooks.append(lambda n: n == 3 and put(s3, invocation.output_location, body.encode()))
    result = wb.wait_for_async_result(deployment, invocation, poll_seconds=5, **fake.kwargs())
    assert result.succeeded
    assert wb.generated_text(result.body) == "hello"
    assert result.latency_seconds == 15
    assert wb.output_token_count(result.body) == (7, False)


def test_wait_for_async_result_raises_on_the_failure_file(deployment, s3):
    invocation = invocation_for(deployment, "fail")
    put(s3, invocation.failure_location, b"ModelError: CUDA out of memory")
    with pytest.raises(wb.AsyncInferenceFailedError, match="CUDA out of memory"):
        wb.wait_for_async_result(deployment, invocation, **FakeTime().kwargs())
    result = wb.wait_for_async_result(
        deployment, invocation, raise_on_failure=False, **FakeTime().kwargs()
    )
    assert not result.succeeded


def test_wait_for_async_result_times_out(deployment, s3):
    with pytest.raises(TimeoutError, match="s3:ListBucket"):
        wb.wait_for_async_result(
            deployment,
            invocation_for(deployment, "late"),
            timeout_seconds=10,
            poll_seconds=5,
            **FakeTime().kwargs(),
        )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"generated_text": "a b c", "details": {"generated_tokens": 12}}, (12, False)),
        ([{"generated_text": "x", "details": {"tokens": [{}, {}, {}]}}], (3, False)),
        ({"generated_text": "one two three"}, (4, True)),
        ("plain text answer", (4, True)),
    ],
)
def test_output_token_count(body, expected):
    assert wb.output_token_count(body) == expected


def test_an_openai_endpoint_is_sent_a_completion_request(deployment, s3):
    """inf2 serves vLLM on Neuron (request_schema openai): the same LMI payload goes out as the
    completion request vLLM's /invocations takes."""
    stub = stubbed(deployment, "sagemaker-runtime")
    stub.add_response("invoke_endpoint_async", runtime_response(deployment, "req-2"), None)
    wb.invoke_async(
        deployment, "inf2", wb.llm_payload("hi", max_new_tokens=32), inference_id="req-2"
    )
    obj = s3.get_object(Bucket="genai-inference-bucket", Key="async/inf2/input/req-2.json")
    body = json.loads(obj["Body"].read())
    assert body == {"prompt": "hi", "max_tokens": 32, "temperature": 0.6, "top_p": 0.9}


@pytest.mark.parametrize(
    ("body", "text", "tokens"),
    [
        # vLLM's completion and chat completion answers: the text, and usage's exact count.
        (
            {"object": "text_completion", "choices": [{"index": 0, "text": " four"}],
             "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}},
            " four", (2, False),
        ),
        (
            {"object": "chat.completion",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "four"}}],
             "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}},
            "four", (1, False),
        ),
        # LMI's, as before.
        ({"generated_text": "four", "details": {"generated_tokens": 1}}, "four", (1, False)),
        ({"choices": []}, "", (0, True)),
    ],
    ids=["completion", "chat", "lmi", "no-choice"],
)  # fmt: skip
def test_answers_of_either_server_are_read(body, text, tokens):
    assert wb.generated_text(body) == text
    assert wb.output_token_count(body) == tokens
