"""Malformed events: ValidationError naming the field, one message, and no SageMaker call."""

from __future__ import annotations

import pytest

from features.optimization.launcher_function import handler
from tests.unit.malformed_requests import GOOD, MALFORMED, with_
from workbench_domain.errors import ValidationError
from workbench_domain.request_event import parse_request


@pytest.mark.parametrize(("event", "field", "shows_value"), MALFORMED)
def test_malformed_event_is_refused_before_any_call(
    sagemaker, lambda_context, event, field, shows_value
):
    stubber, calls = sagemaker  # nothing queued: any SageMaker call would fail differently

    with pytest.raises(ValidationError) as caught:
        handler.handler(event, lambda_context)

    message = str(caught.value)
    assert caught.value.field == field
    assert message.startswith(f"{field}: ")
    assert ("; got " in message) is shows_value
    assert "; allowed: " in message
    assert message.count("; got ") <= 1 and message.count("; allowed: ") == 1  # one message
    assert calls == []
    stubber.assert_no_pending_responses()


def test_there_are_at_least_25_malformed_events():
    assert len(MALFORMED) >= 25


def test_null_optional_values_count_as_absent(sagemaker, lambda_context):
    from features.optimization.launcher_function import launcher, settings

    plain = launcher.plan_job(parse_request(GOOD), settings.launcher_settings())
    nulls = with_(GOOD, model_name=None, image_uri=None, tags=None, job_name=None)
    assert parse_request(nulls) == parse_request(GOOD)
    assert launcher.plan_job(parse_request(nulls), settings.launcher_settings()) == plain
