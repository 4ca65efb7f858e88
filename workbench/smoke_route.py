"""`make smoke`'s try of the OpenAI-compatible route on a realtime endpoint, once it is awake:
a bearer token from the operator's credentials, one Chat Completions request through the
route (workbench_domain.openai_route), with the openai package as any client would use it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench_domain import openai_route as route
from workbench_domain.deployment_records import RealtimeEndpointRecord


def open_client(base_url: str, token: str) -> Any:
    from openai import OpenAI

    return OpenAI(base_url=base_url, api_key=token, max_retries=0)


def try_route(
    key: str,
    record: RealtimeEndpointRecord,
    session: Any,
    *,
    prompt: str,
    max_tokens: int,
    out: Callable[[str], None],
) -> bool:
    """Whether the route answered (or is not the endpoint's to serve); one line either way."""
    from openai import OpenAIError

    if not record.openai_route:
        out(f"[{key}] OpenAI route: skipped (its image does not serve it; openai_route false)")
        return True

    credentials = session.get_credentials()
    if credentials is None:
        out(f"[{key}] OpenAI route: FAIL: no credentials to sign a bearer token with")
        return False
    token = route.bearer_token(
        credentials.get_frozen_credentials(), session.region_name, expires_seconds=900
    )
    url = route.base_url(session.region_name, record.endpoint_name, record.inference_component_name)
    try:
        answer = open_client(url, token).chat.completions.create(
            model="", messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens
        )
    except OpenAIError as error:
        out(f"[{key}] OpenAI route: FAIL: {str(error)[:500]}")
        return False
    text = answer.choices[0].message.content or ""
    out(f"[{key}] OpenAI route: PASS ({url}): {text[:200]}")
    return True
