"""Any OpenAI client on a realtime endpoint: the route's URL and a fresh bearer token.

    client = wb.openai_client(deployment, "chat")        # an openai.OpenAI
    answer = wb.route_chat(deployment, "chat", [{"role": "user", "content": "Hi"}])

The route and the token are ``workbench_domain.openai_route``'s; the token is signed with the
caller's AWS credentials and lives ``expires_seconds`` (at most 12 hours). ``route_chat`` waits
for a scaled-to-zero endpoint like ``chat`` does. Needs the optional ``openai`` package
(extra ``openai``) for the client; ``openai_route`` alone needs only botocore, for other tools
(LangChain's ChatOpenAI, LiteLLM, load generators).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from genai_workbench.common import Printer, WorkbenchError
from genai_workbench.deployment import Deployment
from genai_workbench.realtime_inference import (
    WAKE_RETRY_SECONDS,
    WAKE_TIMEOUT_SECONDS,
    call_waking,
)
from workbench_domain import openai_route as route
from workbench_domain import realtime_inference as rt
from workbench_domain.errors import ValidationError


@dataclass(frozen=True)
class Route:
    """Where an OpenAI client sends a realtime endpoint's chat requests, and how it signs in."""

    base_url: str
    token: str


def openai_route(
    deployment: Deployment, endpoint_key: str, *, expires_seconds: int = 3600
) -> Route:
    """The route of the endpoint's inference component and a bearer token for it; refused for
    an endpoint whose image does not serve the route fully (its record's `openai_route`)."""
    info = deployment.realtime_endpoint(endpoint_key)
    if not info.openai_route:
        raise WorkbenchError(
            f"endpoint {endpoint_key!r} does not serve the OpenAI-compatible route: its image "
            "does not stream server-sent events (LMI streams JSON lines), or openai_route is "
            "false in cdk.json; use chat() or stream_chat(), or serve it with engine vllm_dlc"
        )
    return signed_route(
        boto3.session.Session().get_credentials(),
        deployment.region,
        info.endpoint_name,
        info.inference_component_name,
        expires_seconds=expires_seconds,
    )


def signed_route(
    credentials: Any,
    region: str,
    endpoint_name: str,
    inference_component: str,
    *,
    expires_seconds: int = 3600,
) -> Route:
    """The route of an inference component, with a bearer token signed with `credentials`
    (botocore Credentials; None, as a session without any gives, is refused)."""
    if credentials is None:
        raise WorkbenchError("no AWS credentials to sign the bearer token with")
    try:
        token = route.bearer_token(
            credentials.get_frozen_credentials(), region, expires_seconds=expires_seconds
        )
    except ValidationError as error:
        raise WorkbenchError(str(error)) from None
    return Route(base_url=route.base_url(region, endpoint_name, inference_component), token=token)


def route_client(target: Route) -> Any:
    """An ``openai.OpenAI`` on `target`, its own retries off (callers wait for a sleeping
    endpoint themselves)."""
    from openai import OpenAI

    return OpenAI(base_url=target.base_url, api_key=target.token, max_retries=0)


def openai_client(
    deployment: Deployment,
    endpoint_key: str,
    *,
    expires_seconds: int = 3600,
    found: Route | None = None,
) -> Any:
    """An ``openai.OpenAI`` on the endpoint's route (its own retries off: ``route_chat`` waits
    for a sleeping endpoint). `found` replaces the route (a proxy, a test stub)."""
    return route_client(
        found or openai_route(deployment, endpoint_key, expires_seconds=expires_seconds)
    )


def route_chat(
    deployment: Deployment,
    endpoint_key: str,
    messages: Sequence[Any],
    *,
    max_tokens: int = 512,
    temperature: float | None = None,
    stream: bool = False,
    client: Any = None,
    timeout: float = WAKE_TIMEOUT_SECONDS,
    interval: float = WAKE_RETRY_SECONDS,
    out: Printer = print,
    now: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The answer to `messages` through the OpenAI route (streamed and joined when `stream`),
    retried while the endpoint has no copy, as ``chat`` is."""
    from openai import OpenAIError

    try:  # the same checked body as `chat` sends; the client adds `stream` itself
        options = json.loads(rt.chat_body(messages, max_tokens=max_tokens, temperature=temperature))
    except ValidationError as error:
        raise WorkbenchError(str(error)) from error
    # SageMaker routes by the URL; the model name is left empty, as AWS's route sample does.
    options["model"] = ""
    openai = client or openai_client(deployment, endpoint_key)

    def ask() -> str:
        if not stream:
            answer = openai.chat.completions.create(**options)
            return str(answer.choices[0].message.content or "")
        parts = []
        for chunk in openai.chat.completions.create(stream=True, **options):
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
        return "".join(parts)

    try:
        woken = call_waking(
            ask, endpoint_key=endpoint_key, timeout=timeout, interval=interval, out=out,
            now=now, sleep=sleep,
        )  # fmt: skip
    except OpenAIError as error:
        raise WorkbenchError(f"route_chat: {error}") from error
    return str(woken.result)
