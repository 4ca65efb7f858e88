"""workbench_domain.errors: one (field, value, allowed) error for every runtime."""

from __future__ import annotations

import pytest

from workbench_config.reader import ConfigError
from workbench_domain.errors import ValidationError, shown
from workbench_domain.serving_images import ServingError


def test_the_sentence_names_field_value_and_what_is_allowed():
    error = ValidationError("instance_type", "unknown", "ml.p9", "ml.p4d.24xlarge")
    assert str(error) == "instance_type: unknown; got 'ml.p9'; allowed: ml.p4d.24xlarge"
    assert (error.field, error.value, error.allowed) == (
        "instance_type",
        "ml.p9",
        "ml.p4d.24xlarge",
    )


def test_without_a_value_or_allowed_the_sentence_leaves_them_out():
    assert str(ValidationError("job_name", "is required")) == "job_name: is required"


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            ConfigError("workbench.defaults.region", "mars", "allowed: eu-west-1"),
            "config workbench.defaults.region: got 'mars'; allowed: eu-west-1",
        ),
        (
            ServingError("dtype", "fp64", "allowed: bf16, fp16"),
            "serving.dtype: got 'fp64'; allowed: bf16, fp16",
        ),
    ],
)
def test_layer_errors_are_validation_errors_in_their_own_words(error, text):
    assert isinstance(error, ValidationError)
    assert str(error) == text


def test_a_huge_value_is_cut():
    text = shown("x" * 10_000)
    assert len(text) < 200
    assert text.endswith("(10002 characters)")


def test_a_huge_config_path_is_cut():
    error = ConfigError("k" * 1000, 1, "allowed: 2")
    assert "... (1000 characters)" in str(error)
    assert len(str(error)) < 400
