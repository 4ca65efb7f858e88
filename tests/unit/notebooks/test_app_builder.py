"""The Application Builder settings of the chat endpoint, run through the Application Builder's
own content handler (tests/fixtures/gaab, recorded from its public source): the request it
builds is LMI's chat request, and its JSONPath finds the answer in LMI's documented response."""

from __future__ import annotations

import importlib
import io
import json
import sys
from pathlib import Path

import pytest
from genai_workbench.app_builder import app_builder_settings

from tests.unit.notebooks.aws_standin import LMI_CHAT_ANSWER
from workbench_domain import realtime_inference as rt

GAAB = Path(__file__).resolve().parents[2] / "fixtures" / "gaab"


@pytest.fixture
def content_handler(monkeypatch):
    """GAAB's module, imported from its recorded files (its `utils` package is top-level)."""
    monkeypatch.syspath_prepend(str(GAAB))
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "test")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    for name in [m for m in sys.modules if m == "utils" or m.startswith(("utils.", "llms"))]:
        monkeypatch.delitem(sys.modules, name)
    module = importlib.import_module("llms.models.sagemaker.content_handler")
    yield module
    for name in [m for m in sys.modules if m == "utils" or m.startswith(("utils.", "llms"))]:
        sys.modules.pop(name, None)


# GAAB's handler flushes its (empty) metrics through Powertools on each request.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_application_builder_sends_lmis_chat_request_and_finds_the_answer(
    deployment, content_handler
):
    params = app_builder_settings(deployment, "chat", max_tokens=300)
    sagemaker = params["SageMakerLlmParams"]
    handler = content_handler.SageMakerContentHandler(
        sagemaker["ModelInputPayloadSchema"], sagemaker["ModelOutputJSONPath"]
    )
    # The Lambda passes the model params' values (and the temperature) as placeholders.
    body = json.loads(
        handler.transform_input("What is AWQ?", {"max_tokens": 300, "temperature": 0.2})
    )
    assert body == {
        "messages": [{"role": "user", "content": "What is AWQ?"}],
        "max_tokens": 300,
        "temperature": 0.2,
    }
    # The same body this client sends (and checks) for a chat request.
    assert json.loads(rt.chat_body(body["messages"], max_tokens=300, temperature=0.2)) == body
    answer = handler.transform_output(io.BytesIO(json.dumps(LMI_CHAT_ANSWER).encode()))
    assert answer == LMI_CHAT_ANSWER["choices"][0]["message"]["content"]
    # The component is an endpoint argument of InvokeEndpoint (SAGEMAKER_ENDPOINT_ARGS).
    constants = importlib.import_module("utils.constants")
    assert "InferenceComponentName" in constants.SAGEMAKER_ENDPOINT_ARGS
    info = deployment.realtime_endpoint("chat")
    assert params["ModelParams"]["InferenceComponentName"]["Value"] == info.inference_component_name
    assert sagemaker["EndpointName"] == info.endpoint_name
