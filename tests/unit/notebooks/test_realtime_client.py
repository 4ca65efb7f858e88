"""The client's chat() and stream_chat(): request shapes through Stubber, the wait for a
sleeping endpoint, time to first token, and a malformed chunk."""

from __future__ import annotations

import io
import json

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from tests.unit.notebooks.conftest import NO_CAPACITY
from tests.unit.notebooks.conftest import workbench as wb
from tests.unit.workbench.helpers import FakeClock
from workbench_domain import realtime_inference as rt

USER = [{"role": "user", "content": "What is AWQ?"}]


def expected(deployment, body: bytes, **extra) -> dict:
    chat = deployment.realtime_endpoint("chat")
    return {
        "EndpointName": chat.endpoint_name,
        "InferenceComponentName": chat.inference_component_name,
        "ContentType": "application/json",
        "Body": body,
        **extra,
    }


def refuse(stubber: Stubber, operation: str, times: int) -> None:
    for _ in range(times):
        stubber.add_client_error(operation, "ValidationError", NO_CAPACITY, 400)


def test_chat_waits_for_a_sleeping_endpoint_and_returns_the_answer(deployment, runtime):
    _, stubber = runtime
    body = rt.chat_body(USER, max_tokens=128)
    refuse(stubber, "invoke_endpoint", 2)
    answer = json.dumps({"choices": [{"message": {"role": "assistant", "content": "A method"}}]})
    stubber.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(answer.encode()), len(answer))},
        expected(deployment, body, Accept="application/json"),
    )
    clock, lines = FakeClock(), []
    result = wb.chat(
        deployment,
        "chat",
        USER,
        max_tokens=128,
        interval=30,
        out=lines.append,
        now=clock.now,
        sleep=clock.sleep,
    )
    assert result.text == "A method"
    assert (result.wake_seconds, result.attempts) == (60, 3)
    assert lines == [
        "[chat] no copy running yet (scaled to zero): waking it, waited 0 s, giving up in 1200 s",
        "[chat] no copy running yet (scaled to zero): waking it, waited 30 s, giving up in 1170 s",
    ]


def swap_stream(client, events: list[dict]) -> None:
    """Stubber cannot return an event stream: the stubbed call validates the request, then the
    parsed body is replaced with these events (what botocore's EventStream yields)."""

    def replace(parsed, **_):
        parsed["Body"] = iter(events)

    client.meta.events.register(
        "after-call.sagemaker-runtime.InvokeEndpointWithResponseStream", replace
    )


def part(text: str) -> dict:
    chunk = {"object": "chat.completion.chunk", "choices": [{"delta": {"content": text}}]}
    return {"PayloadPart": {"Bytes": json.dumps(chunk).encode() + b"\n"}}


class TickingClock(FakeClock):
    """Each reading of the clock takes 0.5 s (so the first token arrives after a while)."""

    def now(self) -> float:
        self.t += 0.5
        return self.t


def test_stream_chat_yields_deltas_and_reports_wake_and_time_to_first_token(deployment, runtime):
    client, stubber = runtime
    body = rt.chat_body(USER, max_tokens=64, stream=True)
    refuse(stubber, "invoke_endpoint_with_response_stream", 1)
    stubber.add_response(
        "invoke_endpoint_with_response_stream",
        {"Body": {"PayloadPart": {"Bytes": b""}}},
        expected(deployment, body),
    )
    swap_stream(client, [part("Activation"), part("-aware"), part(" quantization")])
    clock = TickingClock()
    stream = wb.stream_chat(
        deployment,
        "chat",
        USER,
        max_tokens=64,
        interval=15,
        out=lambda _: None,
        now=clock.now,
        sleep=clock.sleep,
    )
    assert stream.result is None  # known once the stream is read
    assert list(stream) == ["Activation", "-aware", " quantization"]
    result = stream.result
    assert result is not None
    assert result.text == "Activation-aware quantization"
    assert result.attempts == 2
    # One 15 s pause, and the clock readings between the two attempts.
    assert 15 < result.wake_seconds < 17
    assert result.ttft_seconds is not None and 0 < result.ttft_seconds < 2
    assert result.total_seconds > result.wake_seconds + result.ttft_seconds - 1e-9


def test_a_malformed_chunk_stops_the_stream_with_its_text(deployment, runtime):
    client, stubber = runtime
    stubber.add_response(
        "invoke_endpoint_with_response_stream",
        {"Body": {"PayloadPart": {"Bytes": b""}}},
        expected(deployment, rt.chat_body(USER, stream=True)),
    )
    swap_stream(client, [part("ok"), {"PayloadPart": {"Bytes": b"<html>502</html>\n"}}])
    stream = wb.stream_chat(deployment, "chat", USER, out=lambda _: None)
    with pytest.raises(rt.StreamError, match="not a chat chunk: '<html>502</html>'"):
        list(stream)


def test_a_sleeping_endpoint_past_the_timeout_is_an_error_saying_so(deployment, runtime):
    _, stubber = runtime
    refuse(stubber, "invoke_endpoint", 3)
    clock = FakeClock()
    with pytest.raises(wb.EndpointAsleepError, match="no copy for 60 s"):
        wb.chat(
            deployment,
            "chat",
            USER,
            timeout=80,
            interval=30,
            out=lambda _: None,
            now=clock.now,
            sleep=clock.sleep,
        )


@pytest.mark.parametrize(
    ("messages", "words"),
    [
        ("What is AWQ?", "messages: must be a non-empty list"),
        ([{"role": "bot", "content": "x"}], "messages[0].role: is not a chat role"),
    ],
)
def test_bad_messages_are_refused_before_any_call(deployment, runtime, messages, words):
    with pytest.raises(wb.WorkbenchError) as error:
        wb.chat(deployment, "chat", messages)
    assert words in str(error.value)


def test_chat_with_an_async_endpoint_says_what_to_use(deployment, runtime):
    with pytest.raises(wb.WorkbenchError, match="'p4d' is async"):
        wb.stream_chat(deployment, "p4d", USER)


def describe_component(deployment, copies: int) -> tuple[dict, dict]:
    chat = deployment.realtime_endpoint("chat")
    arn = "arn:aws:sagemaker:eu-west-1:111122223333"
    response = {
        "InferenceComponentName": chat.inference_component_name,
        "InferenceComponentArn": f"{arn}:inference-component/{chat.inference_component_name}",
        "EndpointName": chat.endpoint_name,
        "EndpointArn": f"{arn}:endpoint/{chat.endpoint_name}",
        "CreationTime": "2026-01-01T00:00:00Z",
        "LastModifiedTime": "2026-01-01T00:00:00Z",
        "RuntimeConfig": {"DesiredCopyCount": copies, "CurrentCopyCount": copies},
    }
    return response, {"InferenceComponentName": chat.inference_component_name}


def test_wait_for_copies_reports_changes_until_the_component_is_back_at_zero(deployment):
    client = deployment.client("sagemaker")
    stubber = Stubber(client)
    for copies in (1, 1, 0):
        stubber.add_response(
            "describe_inference_component", *describe_component(deployment, copies)
        )
    stubber.activate()
    clock, lines = FakeClock(), []
    waited = wb.wait_for_copies(
        deployment, "chat", poll_seconds=60, out=lines.append, now=clock.now, sleep=clock.sleep
    )
    assert waited == 120
    assert lines == ["[chat]     0 s  1 copy(ies)", "[chat]   120 s  0 copy(ies)"]
    stubber.assert_no_pending_responses()


def test_wait_for_copies_gives_up_after_the_timeout(deployment):
    stubber = Stubber(deployment.client("sagemaker"))
    for _ in range(2):
        stubber.add_response("describe_inference_component", *describe_component(deployment, 1))
    stubber.activate()
    clock = FakeClock()
    with pytest.raises(TimeoutError, match="chat still runs 1 copy"):
        wb.wait_for_copies(
            deployment,
            "chat",
            timeout_seconds=60,
            poll_seconds=60,
            out=lambda _: None,
            now=clock.now,
            sleep=clock.sleep,
        )
