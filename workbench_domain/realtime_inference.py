"""Chat with a realtime endpoint's inference component, for every runtime that does it (the
notebook client, its LangChain classes, `make smoke`): the request body, waking a component
whose copies scaled to zero, and the streamed answer as text deltas. No AWS call here: the
callers pass the boto3 call to make.

What the container answers (djl-serving `0.36.0-lmi20-dlc`, the pinned image's branch): a chat
request is ``messages`` (``role``, ``content``) plus sampling fields
(serving/docs/lmi/user_guides/chat_input_output_schema.md). Without ``stream`` the answer is one
``chat.completion`` object, the text in ``choices[0].message.content``. With ``"stream": true``
it is JSON lines: the vLLM async service takes vLLM's server-sent events apart
(engines/python/setup/djl_python/lmi_vllm/request_response_utils.py,
``vllm_stream_output_formatter`` strips ``data: ``, ``[DONE]`` ends the stream) and writes one
``chat.completion.chunk`` per line, the text in ``choices[0].delta.content``, then an empty line
(djl_python/async_utils.py, ``create_stream_chunk_output``, ``application/jsonlines``). An image
that streams the events themselves (``data: {...}``) is read as well.

While the component has no copy, SageMaker refuses the request at once with a
``ValidationError`` whose message says it "has no capacity to process this request" (SageMaker
docs, endpoint-auto-scaling-zero-instances); the endpoint's wake alarm then starts a copy,
which takes minutes, so callers retry (`call_waking`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from workbench_domain.errors import ValidationError

T = TypeVar("T")

ROLES = ("system", "user", "assistant")
# Part of SageMaker's message for a request that found no copy.
NO_CAPACITY_TEXT = "no capacity"
# Application/jsonlines (LMI) and text/event-stream (vLLM) both end an item with a newline.
_SSE_PREFIX = "data:"
_SSE_DONE = "[DONE]"


class EndpointAsleepError(RuntimeError):
    """The component had no copy for the whole wait; the message says how long was waited."""


class StreamError(ValueError):
    """A streamed chunk that is neither a JSON line nor an SSE data line of a chat chunk."""


def check_messages(messages: Any) -> list[dict[str, str]]:
    """``messages`` as a list of ``{"role", "content"}`` dicts, or a ValidationError naming the
    first bad one."""
    if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)) or not messages:
        raise ValidationError("messages", "must be a non-empty list of {role, content}", messages)
    checked = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, Mapping) or set(message) != {"role", "content"}:
            raise ValidationError(where, "must be an object with role and content", message)
        if message["role"] not in ROLES:
            raise ValidationError(
                f"{where}.role", "is not a chat role", message["role"], ", ".join(ROLES)
            )
        if not isinstance(message["content"], str):
            raise ValidationError(f"{where}.content", "must be a string", message["content"])
        checked.append({"role": message["role"], "content": message["content"]})
    return checked


def chat_body(
    messages: Any,
    *,
    max_tokens: int = 512,
    temperature: float | None = None,
    stream: bool = False,
) -> bytes:
    """The JSON body of a chat request."""
    if type(max_tokens) is not int or max_tokens < 1:
        raise ValidationError("max_tokens", "must be a positive integer", max_tokens)
    body: dict[str, Any] = {"messages": check_messages(messages), "max_tokens": max_tokens}
    if temperature is not None:
        body["temperature"] = temperature
    if stream:
        body["stream"] = True
    return json.dumps(body).encode("utf-8")


def invocation(endpoint_name: str, inference_component_name: str, body: bytes) -> dict[str, Any]:
    """The InvokeEndpoint (or ...WithResponseStream) request for a component's chat body."""
    return {
        "EndpointName": endpoint_name,
        "InferenceComponentName": inference_component_name,
        "ContentType": "application/json",
        "Body": body,
    }


def running_copies(described: Mapping[str, Any]) -> int:
    """The copies running now, from a DescribeInferenceComponent response (0 while asleep)."""
    return int((described.get("RuntimeConfig") or {}).get("CurrentCopyCount", 0))


def answer_text(body: bytes) -> str:
    """The text of a whole (not streamed) chat answer."""
    try:
        document = json.loads(body)
        content = document["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise StreamError(f"not a chat completion: {body[:200]!r}") from None
    return str(content or "")


def _delta(line: str) -> str | None:
    """The text of one line of a stream (None for a line that carries none)."""
    text = line.strip()
    if text.startswith(_SSE_PREFIX):
        text = text[len(_SSE_PREFIX) :].strip()
    if not text or text == _SSE_DONE:
        return None
    try:
        chunk = json.loads(text)
        choice = chunk["choices"][0] if chunk.get("choices") else {}
        delta = choice.get("delta") or {}
    except (ValueError, AttributeError, TypeError, KeyError):
        raise StreamError(f"not a chat chunk: {text[:200]!r}") from None
    content = delta.get("content") if isinstance(delta, Mapping) else None
    return content if isinstance(content, str) and content else None


class StreamDecoder:
    """Turns the payload parts of ``InvokeEndpointWithResponseStream`` into text deltas.

    A part may end inside a line or inside a UTF-8 character: bytes are buffered up to the next
    newline. Call ``close()`` after the last part for a last line without a newline.
    """

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        return [d for d in (_delta(line.decode("utf-8")) for line in lines) if d is not None]

    def close(self) -> list[str]:
        rest, self._buffer = self._buffer, b""
        delta = _delta(rest.decode("utf-8")) if rest.strip() else None
        return [delta] if delta is not None else []


def stream_deltas(events: Any) -> Any:
    """Text deltas of an event stream (``response["Body"]`` of the streaming call)."""
    decoder = StreamDecoder()
    for event in events:
        part = event.get("PayloadPart") if isinstance(event, Mapping) else None
        if part is not None:
            yield from decoder.feed(part.get("Bytes", b""))
    yield from decoder.close()


def is_no_capacity(error: BaseException) -> bool:
    """Whether ``error`` is SageMaker refusing a request because the inference component has no
    copy: a botocore ClientError (InvokeEndpoint), or an OpenAI client's status error from the
    OpenAI-compatible route (HTTP 400 with SageMaker's message; the route's exact body is not
    documented, so the message is matched wherever it stands)."""
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        details = response.get("Error") or {}
        return (
            details.get("Code") == "ValidationError"
            and NO_CAPACITY_TEXT in str(details.get("Message", "")).lower()
        )
    return getattr(error, "status_code", None) == 400 and NO_CAPACITY_TEXT in str(error).lower()


@dataclass(frozen=True)
class Woken(Generic[T]):
    """What `call_waking` returns: the call's result and how it was reached."""

    result: T
    # Seconds from the first attempt to the start of the one that was answered.
    waited: float
    attempts: int
    # Clock reading at the start of the answered attempt (time to first token counts from it).
    answered_attempt_started: float


def call_waking(
    call: Callable[[], T],
    *,
    timeout: float,
    interval: float,
    now: Callable[[], float],
    sleep: Callable[[float], None],
    on_wait: Callable[[float, float], None] = lambda waited, left: None,
) -> Woken[T]:
    """``call()`` retried while the component has no copy. ``on_wait(waited, left)`` is told
    before each pause; any other error is raised at once, and EndpointAsleepError once
    ``timeout`` seconds have passed."""
    if timeout <= 0 or interval <= 0:
        raise ValidationError("timeout/interval", "must be positive", (timeout, interval))
    started = now()
    attempts = 0
    while True:
        attempts += 1
        attempt_started = now()
        try:
            return Woken(call(), attempt_started - started, attempts, attempt_started)
        except Exception as error:
            if not is_no_capacity(error):
                raise
            waited = now() - started
            left = timeout - waited
            if left < interval:
                raise EndpointAsleepError(
                    f"the endpoint had no copy for {waited:.0f} s ({attempts} attempts); its "
                    "wake alarm starts one within about a minute of the first refused request "
                    "and a 70B model takes several more to load: call again, or raise timeout"
                ) from error
            on_wait(waited, left)
            sleep(interval)
