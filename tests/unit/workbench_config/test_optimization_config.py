"""The `optimization` config section: defaults, derived limits, one clear error per bad value."""

from __future__ import annotations

import pytest

from workbench_config import ConfigError, load_config
from workbench_config.optimization import JOB_START_MARGIN_SECONDS

PATH = "workbench.environments.dev.optimization"


def section(ctx: dict) -> dict:
    return ctx["environments"]["dev"]["optimization"]


def test_defaults_when_the_section_is_omitted(config_context):
    del config_context["environments"]["dev"]["optimization"]
    config = load_config(config_context, "dev").optimization
    assert (config.poll_seconds, config.max_runtime_seconds, config.workflow_timeout_hours) == (
        300,
        36000,
        24,
    )
    assert config.output_prefix == "optimized/"
    assert (config.images.lmi, config.images.trtllm, config.images.neuron) == (
        "0.31.0-lmi13.0.0-cu124",
        "0.32.0-tensorrtllm0.12.0-cu125",
        "0.29.0-neuronx-sdk2.19.1",
    )


def test_requests_may_run_until_an_hour_before_the_workflow_gives_up(config_context):
    section(config_context)["workflow_timeout_hours"] = 12
    config = load_config(config_context, "dev").optimization
    assert config.workflow_timeout_seconds == 12 * 3600
    assert config.max_request_runtime_seconds == 12 * 3600 - JOB_START_MARGIN_SECONDS


def test_prod_follows_jobs_longer(config_context):
    assert load_config(config_context, "prod").optimization.workflow_timeout_hours == 48


BAD = [
    ("poll-too-short", {"poll_seconds": 30}, "poll_seconds", "allowed: an integer in 60..3600"),
    ("poll-too-long", {"poll_seconds": 7200}, "poll_seconds", "60..3600"),
    ("poll-not-int", {"poll_seconds": "300"}, "poll_seconds", "expected an integer"),
    ("runtime-zero", {"max_runtime_seconds": 0}, "max_runtime_seconds", "1..2419200"),
    (
        "runtime-past-28-days",
        {"max_runtime_seconds": 28 * 24 * 3600 + 1},
        "max_runtime_seconds",
        "1..2419200",
    ),
    (
        "runtime-longer-than-the-workflow-waits",
        {"workflow_timeout_hours": 10, "max_runtime_seconds": 36000},
        "max_runtime_seconds",
        "at most 32400",
    ),
    ("timeout-too-short", {"workflow_timeout_hours": 1}, "workflow_timeout_hours", "2..696"),
    (
        "prefix-leading-slash",
        {"output_prefix": "/optimized/"},
        "output_prefix",
        "no leading '/'",
    ),
    ("prefix-no-trailing-slash", {"output_prefix": "optimized"}, "output_prefix", "'optimized/'"),
    ("prefix-wildcard", {"output_prefix": "opt*/"}, "output_prefix", "key prefix"),
    (
        "image-of-another-family",
        {"images": {"lmi": "0.29.0-neuronx-sdk2.19.1"}},
        "images.lmi",
        "containing 'lmi'",
    ),
    ("image-tag-with-colon", {"images": {"neuron": "djl:0.29.0-neuronx"}}, "images.neuron", "tag"),
    ("unknown-key", {"poll_interval": 300}, "poll_interval", "unknown key"),
    ("unknown-image-key", {"images": {"vllm": "x"}}, "images.vllm", "unknown key"),
]


@pytest.mark.parametrize(("change", "key", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_values_name_the_key_and_what_is_allowed(config_context, change, key, words):
    section(config_context).update(change)
    with pytest.raises(ConfigError) as error:
        load_config(config_context, "dev")
    assert error.value.path == f"{PATH}.{key}"
    assert words in str(error.value)
