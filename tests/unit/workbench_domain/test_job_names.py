"""workbench_domain.job_names: one name per run, for the execution and the job."""

from __future__ import annotations

import re

import botocore.session
import pytest

from workbench_domain import api_limits
from workbench_domain.errors import ValidationError
from workbench_domain.job_names import run_name
from workbench_domain.optimization_request import OptimizationRequest

# Step Functions execution names allow 80 characters of a wider set: the job name is stricter.
JOB_NAME = re.compile(api_limits.JOB_NAME_PATTERN)


def request(**overrides) -> OptimizationRequest:
    values = {
        "technique": "quantization",
        "quantization_method": "awq",
        "instance_type": "ml.p4d.24xlarge",
        "model_s3_uri": "s3://jumpstart-bucket/llama-3-70b/",
        "accept_eula": True,
    }
    return OptimizationRequest(**{**values, **overrides})


def name(req: OptimizationRequest | dict, **kwargs) -> str:
    return run_name(req, **{"project": "genai-opt", "env_name": "dev", **kwargs})


def test_the_name_says_project_env_and_method_and_fits_the_api():
    given = name(request())
    assert re.fullmatch(r"genai-opt-dev-awq-[0-9a-f]{12}", given)
    assert JOB_NAME.fullmatch(given) and len(given) <= api_limits.JOB_NAME_MAX


def test_a_request_and_its_event_have_one_name():
    assert name(request()) == name(request().to_event())


@pytest.mark.parametrize(
    ("overrides", "other"),
    [
        ({}, {"env_name": "prod"}),  # dev and prod sharing an account never collide
        ({}, {"project": "other"}),
        ({"accept_eula": False}, {}),
        ({"tags": {"team": "a"}}, {}),
        ({"image_uri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0"}, {}),
    ],
)
def test_another_setting_is_another_name(overrides, other):
    assert name(request(**overrides), **other) != name(request())


def test_a_new_attempt_is_a_new_name():
    assert name(request(), attempt=2) == name(request()) + "-a2"


@pytest.mark.parametrize(
    ("technique", "expected"),
    [
        ({"technique": "compilation", "instance_type": "ml.inf2.48xlarge"}, "neuron"),
        ({"technique": "compilation", "instance_type": "ml.p4d.24xlarge"}, "compile"),
        ({"technique": "speculative_decoding"}, "eagle"),
        ({"quantization_method": "fp8"}, "fp8"),
    ],
)
def test_the_label_says_what_the_job_does(technique, expected):
    overrides = (
        {"quantization_method": None, **technique} if "technique" in technique else technique
    )
    assert f"-{expected}-" in name(request(**overrides))


def test_a_long_project_name_is_cut_to_fit():
    given = name(request(), project="a_very_long_project_name" * 4, attempt=12)
    assert JOB_NAME.fullmatch(given) and len(given) <= api_limits.JOB_NAME_MAX
    assert given.endswith("-a12")


def test_attempt_starts_at_1():
    with pytest.raises(ValidationError, match="attempt: starts at 1"):
        name(request(), attempt=0)


def test_one_name_fits_both_apis():
    # The job name's rules come from botocore (api_limits); the execution name must take them.
    assert api_limits.JOB_NAME_MAX == 63  # CreateOptimizationJob's documented maximum
    start = botocore.session.get_session().get_service_model("stepfunctions")
    execution = start.operation_model("StartExecution").input_shape.members["name"]
    assert execution.metadata["max"] >= api_limits.JOB_NAME_MAX
