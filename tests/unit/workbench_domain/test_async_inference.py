"""The async invocation contract the notebook client and `make smoke` share."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.validate import validate_parameters

from workbench_domain import async_inference as ai
from workbench_domain.errors import ValidationError

RUNTIME = botocore.session.get_session().get_service_model("sagemaker-runtime")


def request(**changes):
    fields = {
        "endpoint_name": "p4d-endpoint",
        "input_location": "s3://bucket/async/p4d/input/a.json",
        "inference_id": "a",
        "request_ttl_seconds": 3600,
        "invocation_timeout_seconds": ai.DEFAULT_INVOCATION_TIMEOUT_SECONDS,
        **changes,
    }
    return ai.invocation_request(**fields)


def test_the_request_is_one_botocore_accepts():
    shape = RUNTIME.operation_model("InvokeEndpointAsync").input_shape
    validate_parameters(request(), shape)  # raises on an unknown member or a bad type


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"request_ttl_seconds": 59}, "request_ttl_seconds"),
        ({"request_ttl_seconds": 21601}, "request_ttl_seconds"),
        ({"request_ttl_seconds": True}, "request_ttl_seconds"),
        ({"invocation_timeout_seconds": 0}, "invocation_timeout_seconds"),
        ({"invocation_timeout_seconds": 3601}, "invocation_timeout_seconds"),
    ],
)
def test_a_ttl_or_timeout_outside_the_api_range_is_refused(changes, field):
    with pytest.raises(ValidationError) as error:
        request(**changes)
    assert error.value.field == field


def test_the_payload_goes_under_the_input_prefix():
    location = ai.input_location("s3://bucket/async/p4d/input/", "req-1")
    assert (location.bucket, location.key) == ("bucket", "async/p4d/input/req-1.json")
    assert ai.input_location("s3://bucket/", "req-1").key == "req-1.json"


def test_the_instance_count_is_the_named_variants():
    described = {
        "EndpointName": "e",
        "EndpointStatus": "InService",
        "ProductionVariants": [
            {"VariantName": "Other", "CurrentInstanceCount": 3},
            {"VariantName": "AllTraffic", "CurrentInstanceCount": 1},
        ],
    }
    assert ai.variant_instance_count(described, "AllTraffic") == 1
    with pytest.raises(ValidationError, match="has no such variant"):
        ai.variant_instance_count(described, "Missing")


def test_a_missing_output_without_list_permission_is_not_yet_written():
    # Without s3:ListBucket, S3 answers 403 for a key that does not exist.
    assert all(ai.is_missing_object(code) for code in ("404", "NoSuchKey", "403", "AccessDenied"))
    assert not ai.is_missing_object("InternalError")


# ----------------------------------------------- the body an endpoint's /invocations takes


def test_an_lmi_endpoint_gets_the_payload_as_it_is():
    payload = ai.llm_payload("hi", max_new_tokens=64)
    assert ai.request_body("lmi", payload) is payload


def test_an_openai_endpoint_gets_a_completion_request():
    """vLLM's server answers /invocations with a completion request for a `prompt`; LMI's names
    that differ become vLLM's, the shared sampling names pass as they are."""
    body = ai.request_body(
        "openai", ai.llm_payload("hi", max_new_tokens=64, temperature=0.6, top_p=0.9)
    )
    assert body == {"prompt": "hi", "max_tokens": 64, "temperature": 0.6, "top_p": 0.9}


def test_greedy_and_stop_strings_survive_the_translation():
    payload = {"inputs": "Q: 2+2?", "parameters": {"max_new_tokens": 8, "do_sample": False,
                                                  "stop": ["\n\n"], "details": True}}  # fmt: skip
    assert ai.request_body("openai", payload) == {
        "prompt": "Q: 2+2?",
        "max_tokens": 8,
        "temperature": 0,
        "stop": ["\n\n"],
    }


def test_a_request_already_in_openai_form_is_sent_as_it_is():
    chat = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    assert ai.request_body("openai", chat) is chat
