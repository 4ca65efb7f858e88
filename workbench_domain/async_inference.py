"""Async invocations: one contract for the notebook client and `make smoke`.

The LMI text-generation payload, the InvokeEndpointAsync request (its TTL and timeout within the
API's ranges), where the payload goes, which S3 errors mean "no output yet", and the instance
count of the endpoint's variant. Standard library and botocore only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench_domain import api_limits, uris
from workbench_domain.errors import ValidationError

# S3 answers for an object that is not there yet. Without s3:ListBucket on the prefix, a missing
# key answers 403 (AccessDenied), not 404: both mean "not written yet" for an output location.
MISSING_OBJECT_CODES = ("404", "NoSuchKey", "NotFound", "403", "AccessDenied", "Forbidden")
# How long the model may take for one request (InvokeEndpointAsync InvocationTimeoutSeconds).
DEFAULT_INVOCATION_TIMEOUT_SECONDS = 900


def llm_payload(
    prompt: str,
    *,
    max_new_tokens: int = 256,
    temperature: float = 0.6,
    top_p: float = 0.9,
    details: bool = True,
) -> dict[str, Any]:
    """An LMI (DJL serving) text-generation request; `details` asks for token counts."""
    return {
        "inputs": prompt,
        "parameters": {
            "max_new_tokens": max_new_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "details": details,
        },
    }


# LMI's text-generation parameters that vLLM's CompletionRequest names otherwise or not at all
# (vLLM's own server answers /invocations with a completion request for a `prompt`: vllm v0.20.2
# vllm/entrypoints/openai/generate/factories.py); the other sampling parameters (temperature,
# top_p, top_k, stop, seed, repetition_penalty) have the same names in both (a test checks the
# translated request against each image's `completion_fields`, generated from vLLM's source).
_LMI_ONLY = ("max_new_tokens", "do_sample", "details", "return_full_text")


def request_body(schema: str, payload: Any) -> Any:
    """`payload` as the endpoint's /invocations takes it (`schema`: serving_images
    .REQUEST_SCHEMAS). An LMI text-generation request (`inputs`, `parameters`) becomes a
    completion request for an `openai` endpoint; anything else is sent as it is."""
    if schema != "openai" or not (isinstance(payload, Mapping) and "inputs" in payload):
        return payload
    parameters = dict(payload.get("parameters") or {})
    body: dict[str, Any] = {"prompt": payload["inputs"]}
    if "max_new_tokens" in parameters:
        body["max_tokens"] = parameters["max_new_tokens"]
    if parameters.get("do_sample") is False:
        body["temperature"] = 0  # greedy, as LMI reads do_sample false
    body.update({k: v for k, v in parameters.items() if k not in _LMI_ONLY and k not in body})
    return body


def input_location(input_prefix: str, inference_id: str) -> uris.S3Location:
    """Where the payload of `inference_id` goes, under the endpoint's input prefix."""
    location = uris.split_s3_uri(input_prefix)
    prefix = location.key.rstrip("/")
    return uris.S3Location(
        location.bucket, f"{prefix}/{inference_id}.json" if prefix else f"{inference_id}.json"
    )


def invocation_request(
    *,
    endpoint_name: str,
    input_location: str,
    inference_id: str,
    request_ttl_seconds: int,
    invocation_timeout_seconds: int,
) -> dict[str, Any]:
    """The InvokeEndpointAsync request; ValidationError for a TTL or timeout out of range."""
    for name, value, (low, high) in (
        ("request_ttl_seconds", request_ttl_seconds, api_limits.REQUEST_TTL_RANGE),
        (
            "invocation_timeout_seconds",
            invocation_timeout_seconds,
            api_limits.INVOCATION_TIMEOUT_RANGE,
        ),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(name, "is out of the API's range", value, f"{low}..{high}")
    return {
        "EndpointName": endpoint_name,
        "ContentType": "application/json",
        "Accept": "application/json",
        "InputLocation": input_location,
        "InferenceId": inference_id,
        "RequestTTLSeconds": request_ttl_seconds,
        "InvocationTimeoutSeconds": invocation_timeout_seconds,
    }


def is_missing_object(error_code: str) -> bool:
    """Whether an S3 error code of a GetObject/HeadObject means the object is not there yet."""
    return error_code in MISSING_OBJECT_CODES


def variant_instance_count(described: Mapping[str, Any], variant_name: str) -> int:
    """`CurrentInstanceCount` of the variant `variant_name` in a DescribeEndpoint response (0
    while scaled to zero); ValidationError when the endpoint has no such variant."""
    for variant in described.get("ProductionVariants") or []:
        if variant.get("VariantName") == variant_name:
            return int(variant.get("CurrentInstanceCount", 0))
    raise ValidationError(
        "variant_name",
        f"{described.get('EndpointName')} ({described.get('EndpointStatus')}) has no such variant",
        variant_name,
    )
