"""The optional LangChain classes, without AWS: the chat model of a realtime endpoint (whole
and streamed answers, waiting for a sleeping endpoint) and the LLM of an async endpoint."""

from __future__ import annotations

import io
import json
import re
import tomllib

import genai_workbench.langchain_models as lc
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from packaging.requirements import Requirement

from tests.unit.notebooks.conftest import NO_CAPACITY, NOTEBOOKS_DIR, REPO
from tests.unit.notebooks.conftest import workbench as wb
from tests.unit.workbench.helpers import FakeClock


def request(deployment, **body) -> dict:
    chat = deployment.realtime_endpoint("chat")
    return {
        "EndpointName": chat.endpoint_name,
        "InferenceComponentName": chat.inference_component_name,
        "ContentType": "application/json",
        "Accept": "application/json",
        "Body": json.dumps(body).encode(),
    }


def test_the_chat_model_waits_for_a_copy_and_returns_the_answer(deployment, runtime):
    _, stubber = runtime
    stubber.add_client_error("invoke_endpoint", "ValidationError", NO_CAPACITY, 400)
    answer = json.dumps({"choices": [{"message": {"content": "Four bits per weight."}}]})
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What does AWQ store?"},
    ]
    stubber.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(answer.encode()), len(answer))},
        request(deployment, messages=messages, max_tokens=64),
    )
    clock, lines = FakeClock(), []
    model = lc.chat_model(
        deployment,
        "chat",
        max_tokens=64,
        interval=20,
        out=lines.append,
        now=clock.now,
        sleep=clock.sleep,
    )
    reply = model.invoke([("system", "Be brief."), ("human", "What does AWQ store?")])
    assert reply.content == "Four bits per weight."
    assert lines == [
        "[chat] no copy running yet (scaled to zero): waking it, waited 0 s, giving up in 1200 s"
    ]
    assert clock.t == 20


def test_the_chat_model_streams_with_the_container_s_stream_flag(deployment, runtime):
    client, stubber = runtime
    messages = [{"role": "user", "content": "Hi"}]
    expected = request(deployment, messages=messages, max_tokens=512, stream=True)
    stubber.add_response(
        "invoke_endpoint_with_response_stream", {"Body": {"PayloadPart": {"Bytes": b""}}}, expected
    )
    lines = [
        json.dumps({"choices": [{"delta": {"role": "assistant"}}]}),
        json.dumps({"choices": [{"delta": {"content": "Hel"}}]}),
        json.dumps({"choices": [{"delta": {"content": "lo"}}]}),
        "",
    ]
    events = [
        {"PayloadPart": {"Bytes": "\n".join(lines).encode()[:20]}},
        {"PayloadPart": {"Bytes": "\n".join(lines).encode()[20:]}},
    ]

    def replace(parsed, **_):
        parsed["Body"] = iter(events)

    client.meta.events.register(
        "after-call.sagemaker-runtime.InvokeEndpointWithResponseStream", replace
    )
    model = lc.chat_model(deployment, "chat", out=lambda _: None)
    # LangChain ends a stream with an empty chunk of its own.
    assert [chunk.content for chunk in model.stream("Hi") if chunk.content] == ["Hel", "lo"]


def test_the_async_llm_queues_the_prompt_and_returns_the_generated_text(deployment):
    s3 = Stubber(deployment.client("s3"))
    runtime = Stubber(deployment.client("sagemaker-runtime"))
    info = deployment.endpoint("p4d")
    s3.add_response(
        "put_object",
        {},
        {
            "Bucket": "genai-inference-bucket",
            "Key": ANY,
            "Body": ANY,
            "ContentType": "application/json",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": deployment.kms_key_arn,
        },
    )
    runtime.add_response(
        "invoke_endpoint_async",
        {"InferenceId": "r1", "OutputLocation": f"{info.output_prefix}r1.out"},
        {
            "EndpointName": info.endpoint_name,
            "ContentType": "application/json",
            "Accept": "application/json",
            "InputLocation": ANY,
            "InferenceId": ANY,
            "RequestTTLSeconds": 3600,
            "InvocationTimeoutSeconds": 900,
        },
    )
    output = json.dumps({"generated_text": "Drafts guess, the target checks.\nQ: more"})
    s3.add_response("get_object", {"Body": StreamingBody(io.BytesIO(output.encode()), len(output))})
    s3.activate()
    runtime.activate()
    llm = lc.async_llm(deployment, "p4d", max_new_tokens=32)
    assert (
        llm.invoke("Explain speculative decoding.", stop=["\nQ:"])
        == "Drafts guess, the target checks."
    )
    s3.assert_no_pending_responses()
    runtime.assert_no_pending_responses()


def test_each_class_refuses_the_other_kind_of_endpoint(deployment):
    with pytest.raises(wb.WorkbenchError, match="'p4d' is async"):
        lc.chat_model(deployment, "p4d")
    with pytest.raises(wb.WorkbenchError, match="'chat' is realtime"):
        lc.async_llm(deployment, "chat")


def test_bad_messages_are_refused_with_the_field_named(deployment, runtime):
    model = lc.chat_model(deployment, "chat", out=lambda _: None)
    with pytest.raises(wb.WorkbenchError, match=r"messages\[0\]\.content: must be a string"):
        model.invoke([("human", [{"type": "image_url", "image_url": {"url": "x"}}])])


def test_every_extra_allows_the_versions_the_tests_pin():
    """Each package of each optional extra (langchain, langchain-openai, openai, evaluation) is
    pinned in requirements-dev.txt, at a version the extra allows: what users install is what
    the tests ran."""
    extras = tomllib.loads((NOTEBOOKS_DIR / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    pins = dict(
        re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (REPO / "requirements-dev.txt").read_text(), re.M)
    )
    assert set(extras) == {"langchain", "langchain-openai", "openai", "evaluation"}
    for extra, requirements in extras.items():
        for requirement in map(Requirement, requirements):
            assert requirement.name in pins, f"{extra}: {requirement.name} is not pinned"
            version = pins[requirement.name]
            assert requirement.specifier.contains(version), (extra, requirement, version)
