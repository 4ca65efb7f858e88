"""Any OpenAI client on the route: the openai SDK against a local stub of the route (plain and
streamed answers, the bearer token in the header), and the wait for a sleeping endpoint."""

from __future__ import annotations

import dataclasses
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import genai_workbench as wb
import pytest
from genai_workbench.openai_route import Route, openai_client, openai_route, route_chat

from tests.unit.notebooks.aws_standin import LMI_CHAT_ANSWER
from tests.unit.notebooks.conftest import NO_CAPACITY

PATH = "/endpoints/genai-chat-endpoint/inference-components/ic/openai/v1/chat/completions"


class Stub(BaseHTTPRequestHandler):
    """Answers from a script: each entry is (status, body or a list of SSE chunks)."""

    protocol_version = "HTTP/1.1"
    script: list = []
    seen: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Stub.seen.append((self.path, self.headers["Authorization"], body))
        status, answer = Stub.script.pop(0)
        if isinstance(answer, list):  # a stream
            data = "".join(f"data: {json.dumps(c)}\n\n" for c in answer) + "data: [DONE]\n\n"
            payload, kind = data.encode(), "text/event-stream"
        else:
            payload, kind = json.dumps(answer).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def stub():
    Stub.script, Stub.seen = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}{PATH.removesuffix('/chat/completions')}"
    yield Route(base_url=base, token="sagemaker-api-key-dGVzdA==")
    server.shutdown()


def chunk(text: str) -> dict:
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": None}
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [choice]}  # fmt: skip


def test_a_sleeping_endpoint_is_waited_for_then_answers(deployment, stub):
    Stub.script = [(400, {"message": NO_CAPACITY}), (200, LMI_CHAT_ANSWER)]
    waits, slept = [], []
    client = openai_client(deployment, "chat", found=stub)
    answer = route_chat(
        deployment, "chat", [{"role": "user", "content": "Hi"}], client=client, interval=15,
        out=waits.append, sleep=slept.append, now=lambda: 15.0 * len(slept),
    )  # fmt: skip
    assert answer == LMI_CHAT_ANSWER["choices"][0]["message"]["content"]
    assert slept == [15] and "no copy running yet" in waits[0]
    path, authorization, body = Stub.seen[-1]
    assert path == PATH and authorization == "Bearer sagemaker-api-key-dGVzdA=="
    assert body["messages"] == [{"role": "user", "content": "Hi"}] and body["max_tokens"] == 512


def test_a_streamed_answer_is_joined(deployment, stub):
    Stub.script = [(200, [chunk(" Oh"), chunk(" assist")])]
    client = openai_client(deployment, "chat", found=stub)
    answer = route_chat(deployment, "chat", [{"role": "user", "content": "Hi"}], client=client,
                        stream=True)  # fmt: skip
    assert answer == " Oh assist" and Stub.seen[-1][2]["stream"] is True


def test_another_refusal_is_one_error_at_once(deployment, stub):
    Stub.script = [(403, {"message": "not authorized to perform sagemaker:CallWithBearerToken"})]
    client = openai_client(deployment, "chat", found=stub)
    with pytest.raises(Exception, match=r"route_chat: .*403.*CallWithBearerToken"):
        route_chat(deployment, "chat", [{"role": "user", "content": "Hi"}], client=client)


def test_an_endpoint_whose_image_does_not_serve_the_route_is_refused(deployment):
    """LMI answers the route but streams JSON lines, which an OpenAI client reads as nothing:
    its record says openai_route false, and the client says why before any request."""
    lmi = dataclasses.replace(deployment.endpoints["chat"], openai_route=False)
    other = dataclasses.replace(deployment, endpoints={**deployment.endpoints, "chat": lmi})
    with pytest.raises(wb.WorkbenchError, match="does not serve the OpenAI-compatible route"):
        openai_route(other, "chat")


def test_the_route_of_a_deployment_is_its_components_with_a_signed_token(deployment):
    found = openai_route(deployment, "chat", expires_seconds=600)
    info = deployment.realtime_endpoint("chat")
    assert found.base_url == (
        f"https://runtime.sagemaker.{deployment.region}.amazonaws.com/endpoints/"
        f"{info.endpoint_name}/inference-components/{info.inference_component_name}/openai/v1"
    )
    assert found.token.startswith("sagemaker-api-key-")


def test_bad_messages_are_refused_before_any_request(deployment, stub):
    client = openai_client(deployment, "chat", found=stub)
    with pytest.raises(Exception, match="messages"):
        route_chat(deployment, "chat", [], client=client)
    assert Stub.seen == []


def test_langchains_chat_openai_answers_on_the_route(deployment, stub):
    from genai_workbench.langchain_models import route_chat_model

    Stub.script = [(200, LMI_CHAT_ANSWER)]
    model = route_chat_model(deployment, "chat", max_tokens=64, temperature=0.0, found=stub)
    answer = model.invoke("What is AWQ?")
    assert answer.content == LMI_CHAT_ANSWER["choices"][0]["message"]["content"]
    path, authorization, body = Stub.seen[-1]
    assert (path, authorization) == (PATH, "Bearer sagemaker-api-key-dGVzdA==")
    assert body["messages"] == [{"role": "user", "content": "What is AWQ?"}]
    # ChatOpenAI sends max_completion_tokens, which vLLM's chat request reads beside the
    # deprecated max_tokens (vllm v0.15.1 entrypoints/openai/chat_completion/protocol.py).
    assert (body["max_completion_tokens"], body["temperature"]) == (64, 0.0)
