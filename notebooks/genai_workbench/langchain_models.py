"""LangChain for both kinds of endpoint (optional: the ``langchain`` extra of this package).

* ``chat_model(deployment, key)``: a LangChain chat model for a realtime endpoint, built on
  langchain-aws's ``ChatSagemakerEndpoint`` (``invoke``, ``stream``, chains, agents). It sends
  the container's chat schema (``workbench_domain.realtime_inference``) with the endpoint's
  inference component, and its SageMaker client waits for a sleeping endpoint: a request refused
  for lack of a copy is retried until the wake alarm has started one.
* ``route_chat_model(deployment, key)``: LangChain's ``ChatOpenAI`` on the realtime endpoint's
  OpenAI-compatible route (extra ``langchain-openai``), for code already written for OpenAI.
* ``async_llm(deployment, key)``: a LangChain LLM for an async endpoint: each call writes the
  request to the endpoint's input prefix, invokes it, and waits for the output object (an
  endpoint at zero instances wakes itself on the queued request), then returns the text.

Install on the notebook instance with ``%pip install -q ".[langchain]"`` from the notebooks
folder (it holds this package's pyproject.toml); langchain-aws needs Python >= 3.10.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from genai_workbench.async_inference import (
    generated_text,
    invoke_async,
    llm_payload,
    wait_for_async_result,
)
from genai_workbench.common import Printer, WorkbenchError
from genai_workbench.deployment import Deployment
from genai_workbench.realtime_inference import (
    WAKE_RETRY_SECONDS,
    WAKE_TIMEOUT_SECONDS,
    call_waking,
)
from workbench_domain import realtime_inference as rt
from workbench_domain.errors import ValidationError

try:
    from langchain_aws.chat_models.sagemaker_endpoint import (
        ChatModelContentHandler,
        ChatSagemakerEndpoint,
    )
    from langchain_core.callbacks import CallbackManagerForLLMRun
    from langchain_core.language_models.llms import LLM
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGenerationChunk
except ImportError as error:  # the extra is not installed
    raise WorkbenchError(
        "LangChain is not installed: run  %pip install -q '.[langchain]'  in the notebooks "
        f"folder (langchain-aws needs Python >= 3.10); {error}"
    ) from error


class WakingRuntime:
    """A sagemaker-runtime client whose invocations wait for a sleeping endpoint."""

    def __init__(
        self,
        client: Any,
        *,
        endpoint_key: str,
        timeout: float = WAKE_TIMEOUT_SECONDS,
        interval: float = WAKE_RETRY_SECONDS,
        out: Printer = print,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._key, self._timeout, self._interval = endpoint_key, timeout, interval
        self._out, self._now, self._sleep = out, now, sleep

    def _waking(self, call: Callable[[], Any]) -> Any:
        return call_waking(
            call,
            endpoint_key=self._key,
            timeout=self._timeout,
            interval=self._interval,
            out=self._out,
            now=self._now,
            sleep=self._sleep,
        ).result

    def invoke_endpoint(self, **request: Any) -> Any:
        return self._waking(lambda: self._client.invoke_endpoint(**request))

    def invoke_endpoint_with_response_stream(self, **request: Any) -> Any:
        return self._waking(lambda: self._client.invoke_endpoint_with_response_stream(**request))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class LmiChatContentHandler(ChatModelContentHandler):
    """The LMI container's chat schema, as ``workbench_domain.realtime_inference`` writes and
    reads it; a streamed line and a whole answer both become messages."""

    content_type = "application/json"
    accepts = "application/json"

    def transform_input(self, prompt: Any, model_kwargs: dict[str, Any]) -> bytes:
        try:
            return rt.chat_body(
                prompt,
                max_tokens=model_kwargs.get("max_tokens", 512),
                temperature=model_kwargs.get("temperature"),
                stream=bool(model_kwargs.get("stream")),
            )
        except ValidationError as error:
            raise WorkbenchError(str(error)) from error

    def transform_output(self, output: Any) -> BaseMessage:
        if isinstance(output, (bytes, bytearray)):  # one line of a stream
            decoder = rt.StreamDecoder()
            text = "".join(decoder.feed(bytes(output) + b"\n"))
            return AIMessageChunk(content=text)
        return AIMessage(content=rt.answer_text(output.read()))


class WorkbenchChatModel(ChatSagemakerEndpoint):
    """``ChatSagemakerEndpoint`` that asks the container to stream when LangChain streams."""

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        yield from super()._stream(messages, stop, run_manager, stream=True, **kwargs)


def chat_model(
    deployment: Deployment,
    endpoint_key: str,
    *,
    max_tokens: int = 512,
    temperature: float | None = None,
    timeout: float = WAKE_TIMEOUT_SECONDS,
    interval: float = WAKE_RETRY_SECONDS,
    out: Printer = print,
    now: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WorkbenchChatModel:
    """A LangChain chat model answering from the realtime endpoint ``endpoint_key``."""
    info = deployment.realtime_endpoint(endpoint_key)
    kwargs: dict[str, Any] = {"max_tokens": max_tokens}
    if temperature is not None:
        kwargs["temperature"] = temperature
    return WorkbenchChatModel(
        endpoint_name=info.endpoint_name,
        inference_component_name=info.inference_component_name,
        region_name=deployment.region,
        client=WakingRuntime(
            deployment.client("sagemaker-runtime"),
            endpoint_key=endpoint_key,
            timeout=timeout,
            interval=interval,
            out=out,
            now=now,
            sleep=sleep,
        ),
        content_handler=LmiChatContentHandler(),
        model_kwargs=kwargs,
    )


class AsyncEndpointLLM(LLM):
    """A LangChain LLM answering from an async endpoint (a request queued in S3 per call)."""

    deployment: Any
    endpoint_key: str
    max_new_tokens: int = 256
    temperature: float = 0.6
    timeout_seconds: float = 3600
    poll_seconds: float = 5

    @property
    def _llm_type(self) -> str:
        return "genai_workbench_async_endpoint"

    @property
    def _identifying_params(self) -> Mapping[str, Any]:
        return {"endpoint_key": self.endpoint_key, "max_new_tokens": self.max_new_tokens}

    def _call(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        payload = llm_payload(
            prompt,
            max_new_tokens=kwargs.get("max_new_tokens", self.max_new_tokens),
            temperature=kwargs.get("temperature", self.temperature),
            details=False,
        )
        invocation = invoke_async(self.deployment, self.endpoint_key, payload)
        result = wait_for_async_result(
            self.deployment,
            invocation,
            timeout_seconds=self.timeout_seconds,
            poll_seconds=self.poll_seconds,
        )
        text = generated_text(result.body)
        for marker in stop or ():
            text = text.split(marker, 1)[0]
        return text


def async_llm(
    deployment: Deployment,
    endpoint_key: str,
    *,
    max_new_tokens: int = 256,
    temperature: float = 0.6,
    timeout_seconds: float = 3600,
    poll_seconds: float = 5,
) -> AsyncEndpointLLM:
    """A LangChain LLM answering from the async endpoint ``endpoint_key``."""
    deployment.endpoint(endpoint_key)  # refuses a realtime or unknown key now, not at first use
    return AsyncEndpointLLM(
        deployment=deployment,
        endpoint_key=endpoint_key,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        timeout_seconds=timeout_seconds,
        poll_seconds=poll_seconds,
    )


def route_chat_model(
    deployment: Deployment,
    endpoint_key: str,
    *,
    max_tokens: int = 512,
    temperature: float | None = None,
    expires_seconds: int = 3600,
    found: Any = None,
) -> Any:
    """LangChain's own ``ChatOpenAI`` on the endpoint's OpenAI-compatible route (extra
    ``langchain-openai``), with a bearer token that lives ``expires_seconds``. It does not wait
    for a sleeping endpoint: wake it first (``route_chat`` or ``chat``), or use ``chat_model``.
    `found` replaces the route (a proxy, a test stub)."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    from genai_workbench.openai_route import openai_route

    target = found or openai_route(deployment, endpoint_key, expires_seconds=expires_seconds)
    options: dict[str, Any] = {"max_tokens": max_tokens}
    if temperature is not None:
        options["temperature"] = temperature
    # The model field goes to the container as it is; the route picks the model by its URL.
    return ChatOpenAI(
        model="",
        base_url=target.base_url,
        api_key=SecretStr(target.token),
        max_retries=0,
        **options,
    )
