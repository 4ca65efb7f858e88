"""workbench_domain.realtime_inference: chat bodies, the wake-retry loop and stream decoding."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.unit.workbench.helpers import FakeClock
from workbench_domain import realtime_inference as rt
from workbench_domain.errors import ValidationError

USER = [{"role": "user", "content": "Hello"}]
NO_CAPACITY = (
    "Inference Component has no capacity to process this request. ApproximateBacklogSize: 0"
)


def refused(message: str = NO_CAPACITY, code: str = "ValidationError") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "InvokeEndpoint")


def chunk(text: str) -> bytes:
    return json.dumps(
        {"object": "chat.completion.chunk", "choices": [{"delta": {"content": text}}]}
    ).encode()


def test_chat_body_is_the_lmi_chat_schema():
    body = json.loads(rt.chat_body(USER, max_tokens=64, temperature=0.2, stream=True))
    assert body == {"messages": USER, "max_tokens": 64, "temperature": 0.2, "stream": True}
    assert json.loads(rt.chat_body(USER)) == {"messages": USER, "max_tokens": 512}


@pytest.mark.parametrize(
    ("messages", "field"),
    [
        ([], "messages"),
        ("Hello", "messages"),
        ([{"role": "user"}], "messages[0]"),
        ([{"role": "robot", "content": "x"}], "messages[0].role"),
        ([{"role": "user", "content": 1}], "messages[0].content"),
        ([*USER, {"role": "user", "content": "x", "name": "n"}], "messages[1]"),
    ],
)
def test_bad_messages_name_the_field(messages, field):
    with pytest.raises(ValidationError) as error:
        rt.chat_body(messages)
    assert error.value.field == field


@pytest.mark.parametrize("max_tokens", [0, -1, True, 1.5])
def test_max_tokens_must_be_a_positive_integer(max_tokens):
    with pytest.raises(ValidationError, match="max_tokens"):
        rt.chat_body(USER, max_tokens=max_tokens)


def test_a_whole_answer_is_its_message_content():
    body = {"object": "chat.completion", "choices": [{"message": {"content": "Hi there"}}]}
    assert rt.answer_text(json.dumps(body).encode()) == "Hi there"
    with pytest.raises(rt.StreamError, match="not a chat completion"):
        rt.answer_text(b'{"generated_text": "x"}')


def test_json_lines_split_anywhere_decode_to_the_deltas():
    stream = chunk("Hé") + b"\n" + chunk(" there") + b"\n\n"
    decoder = rt.StreamDecoder()
    deltas = []
    for i in range(0, len(stream), 3):  # parts that cut lines and the two-byte 'é'
        deltas += decoder.feed(stream[i : i + 3])
    deltas += decoder.close()
    assert deltas == ["Hé", " there"]


def test_server_sent_events_decode_and_done_ends_nothing():
    stream = b"data: " + chunk("A") + b"\n\ndata: " + chunk("B") + b"\n\ndata: [DONE]\n\n"
    assert list(rt.stream_deltas([{"PayloadPart": {"Bytes": stream}}])) == ["A", "B"]


def test_chunks_without_text_and_a_last_line_without_newline():
    usage = json.dumps({"choices": [], "usage": {"completion_tokens": 2}}).encode()
    role = json.dumps({"choices": [{"delta": {"role": "assistant"}}]}).encode()
    events = [{"PayloadPart": {"Bytes": role + b"\n" + usage + b"\n" + chunk("end")}}]
    assert list(rt.stream_deltas(events)) == ["end"]


def test_a_malformed_chunk_is_an_error_naming_it():
    with pytest.raises(rt.StreamError, match="not a chat chunk: 'oops'"):
        list(rt.stream_deltas([{"PayloadPart": {"Bytes": chunk("ok") + b"\noops\n"}}]))


def test_only_the_no_capacity_validation_error_counts_as_asleep():
    assert rt.is_no_capacity(refused())
    assert not rt.is_no_capacity(refused("Endpoint x not found"))
    assert not rt.is_no_capacity(refused(code="ModelError"))
    assert not rt.is_no_capacity(RuntimeError("no capacity"))


def test_call_waking_retries_until_a_copy_answers():
    clock, answers, waits = FakeClock(), [refused(), refused(), "answer"], []

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    woken = rt.call_waking(
        call,
        timeout=300,
        interval=30,
        now=clock.now,
        sleep=clock.sleep,
        on_wait=lambda waited, left: waits.append((waited, left)),
    )
    assert woken == rt.Woken("answer", waited=60, attempts=3, answered_attempt_started=60)
    assert waits == [(0, 300), (30, 270)]


def test_call_waking_gives_up_after_the_timeout():
    clock = FakeClock()

    def call():
        raise refused()

    with pytest.raises(rt.EndpointAsleepError, match=r"no copy for 90 s \(4 attempts\)"):
        rt.call_waking(call, timeout=100, interval=30, now=clock.now, sleep=clock.sleep)


def test_call_waking_raises_any_other_error_at_once():
    clock = FakeClock()

    def call():
        raise refused("Received client error (400) from primary", code="ModelError")

    with pytest.raises(ClientError, match="ModelError"):
        rt.call_waking(call, timeout=100, interval=30, now=clock.now, sleep=clock.sleep)
    assert clock.t == 0
