"""`make smoke`'s try of the OpenAI-compatible route on a realtime endpoint, once it is awake:
a bearer token from the operator's credentials, one Chat Completions request through the route
with the openai package, as any client would use it (the notebook client's `signed_route` and
`route_client`, so the smoke test exercises what users call)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genai_workbench.common import WorkbenchError
from genai_workbench.openai_route import route_client, signed_route

from workbench_domain.deployment_records import RealtimeEndpointRecord


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
    try:
        target = signed_route(
            session.get_credentials(),
            session.region_name,
            record.endpoint_name,
            record.inference_component_name,
            expires_seconds=900,
        )
    except WorkbenchError as error:
        out(f"[{key}] OpenAI route: FAIL: {error}")
        return False
    try:
        answer = route_client(target).chat.completions.create(
            model="", messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens
        )
    except OpenAIError as error:
        out(f"[{key}] OpenAI route: FAIL: {str(error)[:500]}")
        return False
    text = answer.choices[0].message.content or ""
    out(f"[{key}] OpenAI route: PASS ({target.base_url}): {text[:200]}")
    return True
