"""Async inference: payloads, InvokeEndpointAsync, waiting for the output object."""

from __future__ import annotations

import contextlib
import json
import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from genai_workbench.common import (
    AsyncInferenceFailedError,
    WorkbenchError,
    _format_seconds,
    _now,
    aws_errors,
    split_s3_uri,
)
from genai_workbench.deployment import Deployment
from workbench_domain import async_inference as domain
from workbench_domain.async_inference import llm_payload as llm_payload  # for the notebooks
from workbench_domain.errors import ValidationError


@dataclass(frozen=True)
class AsyncInvocation:
    """A request accepted by an async endpoint."""

    endpoint_key: str
    endpoint_name: str
    inference_id: str
    input_location: str
    output_location: str
    failure_location: str | None
    submitted_at: datetime


@dataclass(frozen=True)
class AsyncResult:
    """The outcome of an async request, read from S3."""

    invocation: AsyncInvocation
    succeeded: bool
    location: str
    body: Any
    detected_at: datetime

    @property
    def latency_seconds(self) -> float:
        """Submission to detection of the output, by this client's clock (upper bound)."""
        return (self.detected_at - self.invocation.submitted_at).total_seconds()


def invoke_async(
    deployment: Deployment,
    endpoint_key: str,
    payload: Any,
    *,
    inference_id: str | None = None,
    request_ttl_seconds: int = 3600,
    invocation_timeout_seconds: int = domain.DEFAULT_INVOCATION_TIMEOUT_SECONDS,
    now: Callable[[], datetime] = _now,
) -> AsyncInvocation:
    """Upload ``payload`` as JSON under the endpoint's input prefix and queue it.

    The object is encrypted with the project's KMS key. ``request_ttl_seconds`` (60-21600) is
    how long the request may wait in the queue, e.g. while the endpoint wakes from zero;
    ``invocation_timeout_seconds`` (1-3600) bounds its processing.
    """
    info = deployment.endpoint(endpoint_key)
    try:
        body = json.dumps(domain.request_body(info.request_schema, payload)).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise WorkbenchError(f"payload for {endpoint_key!r} is not JSON: {error}") from None
    inference_id = inference_id or uuid.uuid4().hex
    try:
        target = domain.input_location(info.input_prefix, inference_id)
        request = domain.invocation_request(
            endpoint_name=info.endpoint_name,
            input_location=f"s3://{target.bucket}/{target.key}",
            inference_id=inference_id,
            request_ttl_seconds=request_ttl_seconds,
            invocation_timeout_seconds=invocation_timeout_seconds,
        )
    except ValidationError as error:
        raise WorkbenchError(str(error)) from None
    bucket, key = target.bucket, target.key
    s3 = deployment.client("s3")
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=deployment.kms_key_arn,
        )
    except (ClientError, BotoCoreError) as error:
        raise WorkbenchError(f"upload of the payload to s3://{bucket}/{key}: {error}") from error
    submitted_at = now()
    try:
        response = deployment.client("sagemaker-runtime").invoke_endpoint_async(**request)
    except (ClientError, BotoCoreError) as error:
        # Nothing was queued: the payload would only sit in the bucket until it expires.
        with contextlib.suppress(ClientError, BotoCoreError):
            s3.delete_object(Bucket=bucket, Key=key)
        raise WorkbenchError(
            f"endpoint {endpoint_key} ({info.endpoint_name}) refused the request: {error}"
        ) from error
    return AsyncInvocation(
        endpoint_key=endpoint_key,
        endpoint_name=info.endpoint_name,
        inference_id=response.get("InferenceId") or inference_id,
        input_location=f"s3://{bucket}/{key}",
        output_location=response["OutputLocation"],
        failure_location=response.get("FailureLocation"),
        submitted_at=submitted_at,
    )


def _read_s3_object(s3: Any, uri: str) -> bytes | None:
    bucket, key = split_s3_uri(uri)
    try:
        body: bytes | None = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body
    except ClientError as err:
        if domain.is_missing_object(str(err.response.get("Error", {}).get("Code", ""))):
            return None
        raise


def _decode(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@aws_errors
def poll_async_result(
    deployment: Deployment, invocation: AsyncInvocation, *, now: Callable[[], datetime] = _now
) -> AsyncResult | None:
    """The result if the endpoint has written it (output or failure file), else ``None``."""
    s3 = deployment.client("s3")
    raw = _read_s3_object(s3, invocation.output_location)
    if raw is not None:
        return AsyncResult(invocation, True, invocation.output_location, _decode(raw), now())
    if invocation.failure_location:
        raw = _read_s3_object(s3, invocation.failure_location)
        if raw is not None:
            return AsyncResult(invocation, False, invocation.failure_location, _decode(raw), now())
    return None


@aws_errors
def wait_for_async_result(
    deployment: Deployment,
    invocation: AsyncInvocation,
    *,
    timeout_seconds: float = 3600,
    poll_seconds: float = 5,
    raise_on_failure: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _now,
) -> AsyncResult:
    """Poll the output and failure locations until one appears.

    Raises ``AsyncInferenceFailedError`` when the failure file appears (unless
    ``raise_on_failure`` is false) and ``TimeoutError`` after ``timeout_seconds``.
    """
    deadline = clock() + timeout_seconds
    while True:
        result = poll_async_result(deployment, invocation, now=now)
        if result is not None:
            if not result.succeeded and raise_on_failure:
                raise AsyncInferenceFailedError(
                    f"{invocation.endpoint_name} request {invocation.inference_id} failed: "
                    f"{result.body!r:.500}"
                )
            return result
        if clock() >= deadline:
            raise TimeoutError(
                f"No result for {invocation.inference_id} after {_format_seconds(timeout_seconds)}"
                f" at {invocation.output_location}. If the endpoint is awake, check that this "
                "role may s3:ListBucket the inference bucket (S3 answers 403 for a missing "
                "object otherwise)."
            )
        sleep(poll_seconds)


def generated_text(body: Any) -> str:
    """The generated text of an LMI response (object or one-element list), or of an OpenAI
    completion or chat completion (`choices[0].text` or `.message.content`)."""
    if isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, Mapping) and isinstance(body.get("choices"), list) and body["choices"]:
        choice = body["choices"][0]
        if isinstance(choice, Mapping):
            message = choice.get("message")
            text = message.get("content") if isinstance(message, Mapping) else choice.get("text")
            return "" if text is None else str(text)
    if isinstance(body, Mapping):
        return str(body.get("generated_text", ""))
    return str(body)


def output_token_count(body: Any) -> tuple[int, bool]:
    """``(tokens, estimated)`` generated in an LMI or OpenAI response.

    Exact from ``usage.completion_tokens`` (OpenAI) or ``details.generated_tokens`` (LMI, sent
    with ``details: true``), else estimated as
    4/3 tokens per whitespace-separated word.
    """
    item = body[0] if isinstance(body, list) and body else body
    usage = item.get("usage") if isinstance(item, Mapping) else None
    if isinstance(usage, Mapping) and isinstance(usage.get("completion_tokens"), int):
        return usage["completion_tokens"], False
    details = item.get("details") if isinstance(item, Mapping) else None
    if isinstance(details, Mapping):
        if isinstance(details.get("generated_tokens"), int):
            return details["generated_tokens"], False
        if isinstance(details.get("tokens"), list):
            return len(details["tokens"]), False
    return math.ceil(len(generated_text(body).split()) * 4 / 3), True
