"""Realtime endpoints: chat requests, streamed or whole, that wait for a sleeping endpoint.

A realtime endpoint scales its inference component to zero copies when idle. The first request
after that is refused (nothing queues); the endpoint's wake alarm starts a copy, which takes
minutes for a 70B model. `chat` and `stream_chat` retry with a visible countdown until a copy
answers or `timeout` passes, and report how long the wake took and the time to first token.
The request body, the retry loop and the stream parsing are `workbench_domain.realtime_inference`
(shared with `make smoke` and the LangChain classes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from genai_workbench.common import AwsCallError, Printer, WorkbenchError, aws_errors
from genai_workbench.deployment import Deployment
from workbench_domain import realtime_inference as rt
from workbench_domain.errors import ValidationError

#: How long a request waits for a sleeping endpoint by default: a copy of a 70B model starts
#: in about 6-15 minutes (AWS reported about 6 with container caching).
WAKE_TIMEOUT_SECONDS = 20 * 60
WAKE_RETRY_SECONDS = 15

EndpointAsleepError = rt.EndpointAsleepError


@dataclass
class ChatResult:
    """A chat answer and its timings (seconds, by this client's clock)."""

    endpoint_key: str
    text: str
    #: Time spent waiting for a copy (0 when one was running).
    wake_seconds: float
    #: From the request that was answered to its first text (streamed), or to the whole answer.
    ttft_seconds: float | None
    total_seconds: float
    attempts: int


@dataclass
class ChatStream:
    """The text deltas of a streamed answer; iterate it, then read ``result``."""

    endpoint_key: str
    _deltas: Iterator[str]
    _started: float
    _answered_attempt_started: float
    _wake_seconds: float
    _attempts: int
    _now: Callable[[], float]
    _parts: list[str] = field(default_factory=list)
    _first: float | None = None
    result: ChatResult | None = None

    def __iter__(self) -> Iterator[str]:
        try:
            for delta in self._deltas:
                if self._first is None:
                    self._first = self._now()
                self._parts.append(delta)
                yield delta
        except (ClientError, BotoCoreError) as error:  # the stream broke off mid-answer
            raise AwsCallError(f"stream_chat: {error}") from error
        end = self._now()
        self.result = ChatResult(
            endpoint_key=self.endpoint_key,
            text="".join(self._parts),
            wake_seconds=self._wake_seconds,
            ttft_seconds=(
                None if self._first is None else self._first - self._answered_attempt_started
            ),
            total_seconds=end - self._started,
            attempts=self._attempts,
        )


def call_waking(
    call: Callable[[], Any],
    *,
    endpoint_key: str,
    timeout: float,
    interval: float,
    out: Printer,
    now: Callable[[], float],
    sleep: Callable[[float], None],
) -> rt.Woken[Any]:
    """``call()`` retried with a countdown while the endpoint has no copy."""

    def countdown(waited: float, left: float) -> None:
        out(
            f"[{endpoint_key}] no copy running yet (scaled to zero): waking it, waited "
            f"{waited:.0f} s, giving up in {left:.0f} s"
        )

    return rt.call_waking(
        call, timeout=timeout, interval=interval, now=now, sleep=sleep, on_wait=countdown
    )


def _request(
    deployment: Deployment,
    endpoint_key: str,
    messages: Sequence[Any],
    max_tokens: int,
    temperature: float | None,
    stream: bool,
) -> dict[str, Any]:
    info = deployment.realtime_endpoint(endpoint_key)
    try:
        body = rt.chat_body(messages, max_tokens=max_tokens, temperature=temperature, stream=stream)
    except ValidationError as error:
        raise WorkbenchError(str(error)) from error
    return rt.invocation(info.endpoint_name, info.inference_component_name, body)


@aws_errors
def chat(
    deployment: Deployment,
    endpoint_key: str,
    messages: Sequence[Any],
    *,
    max_tokens: int = 512,
    temperature: float | None = None,
    timeout: float = WAKE_TIMEOUT_SECONDS,
    interval: float = WAKE_RETRY_SECONDS,
    out: Printer = print,
    now: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ChatResult:
    """The whole answer to ``messages`` (``[{"role": "user", "content": "..."}]``)."""
    request = _request(deployment, endpoint_key, messages, max_tokens, temperature, False)
    runtime = deployment.client("sagemaker-runtime")
    started = now()
    woken = call_waking(
        lambda: runtime.invoke_endpoint(Accept="application/json", **request),
        endpoint_key=endpoint_key,
        timeout=timeout,
        interval=interval,
        out=out,
        now=now,
        sleep=sleep,
    )
    text = rt.answer_text(woken.result["Body"].read())
    end = now()
    return ChatResult(
        endpoint_key=endpoint_key,
        text=text,
        wake_seconds=woken.waited,
        # Without streaming the first token arrives with the last.
        ttft_seconds=end - woken.answered_attempt_started,
        total_seconds=end - started,
        attempts=woken.attempts,
    )


@aws_errors
def stream_chat(
    deployment: Deployment,
    endpoint_key: str,
    messages: Sequence[Any],
    *,
    max_tokens: int = 512,
    temperature: float | None = None,
    timeout: float = WAKE_TIMEOUT_SECONDS,
    interval: float = WAKE_RETRY_SECONDS,
    out: Printer = print,
    now: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ChatStream:
    """The answer to ``messages`` as it is generated: iterate the returned stream for text
    deltas; its ``result`` then holds the text and the timings (wake, time to first token)."""
    request = _request(deployment, endpoint_key, messages, max_tokens, temperature, True)
    runtime = deployment.client("sagemaker-runtime")
    started = now()
    woken = call_waking(
        lambda: runtime.invoke_endpoint_with_response_stream(**request),
        endpoint_key=endpoint_key,
        timeout=timeout,
        interval=interval,
        out=out,
        now=now,
        sleep=sleep,
    )
    return ChatStream(
        endpoint_key=endpoint_key,
        _deltas=iter(rt.stream_deltas(woken.result["Body"])),
        _started=started,
        _answered_attempt_started=woken.answered_attempt_started,
        _wake_seconds=woken.waited,
        _attempts=woken.attempts,
        _now=now,
    )


@aws_errors
def component_copies(deployment: Deployment, endpoint_key: str) -> int:
    """Copies of the realtime endpoint's inference component running now (0 while asleep)."""
    info = deployment.realtime_endpoint(endpoint_key)
    described = deployment.client("sagemaker").describe_inference_component(
        InferenceComponentName=info.inference_component_name
    )
    return rt.running_copies(described)


@aws_errors
def wait_for_copies(
    deployment: Deployment,
    endpoint_key: str,
    copies: int = 0,
    *,
    timeout_seconds: float = 3600,
    poll_seconds: float = 60,
    out: Printer = print,
    now: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Seconds until the component runs ``copies`` copies (by default: back at zero, after the
    idle window and the alarm periods); TimeoutError after ``timeout_seconds``."""
    started = now()
    last = None
    while True:
        running = component_copies(deployment, endpoint_key)
        waited = now() - started
        if running != last:
            out(f"[{endpoint_key}] {waited:5.0f} s  {running} copy(ies)")
            last = running
        if running == copies:
            return waited
        if waited >= timeout_seconds:
            raise TimeoutError(
                f"{endpoint_key} still runs {running} copy(ies) after {timeout_seconds:.0f} s"
            )
        sleep(poll_seconds)
