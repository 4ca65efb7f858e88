"""The optimization request: one schema for the launcher Lambda, the notebooks and `make optimize`.

:func:`request_event.parse_request` checks an event's shape and each field's format;
:meth:`OptimizationRequest.to_event` is its inverse. Checks that need the deployment's settings
or relate fields to the instance type (which technique runs where, which image a technique
needs, where outputs may go) are in ``optimization_rules.py``;
:func:`optimization_rules.check_request` runs both, and is what every runtime calls, so a request
the Lambda refuses is refused everywhere with the same message.

Event (a JSON object; unknown keys are refused; a key whose value is null counts as absent):

    technique            required  "quantization" | "speculative_decoding" | "compilation"
    model_s3_uri         one of    s3://bucket/prefix/ of uncompressed weights (ends with "/")
    model_name           one of    an existing SageMaker model name
    accept_eula          optional  bool, default false; only with model_s3_uri
    instance_type        required  a CreateOptimizationJob DeploymentInstanceType enum value
    quantization         required with technique quantization, refused otherwise:
                                   {"method": "awq" | "fp8" | "smoothquant"}
    speculative_decoding optional, only with technique speculative_decoding:
                                   {"training_data_s3_uri": "s3://..."} (EAGLE, S3Prefix)
    environment          optional  container env overrides, see ENVIRONMENT RULE below;
                                   not with speculative_decoding (its config has no environment)
    image_uri            optional  ECR image URI with tag or digest; not with speculative_decoding
    output_s3_uri        optional  s3:// prefix ending with "/" inside the artifacts bucket
    job_name             optional  1-63 characters, [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
    max_runtime_seconds  optional  int, 1..2419200 (28 days), default 36000 (10 h)
    tags                 optional  map of at most 47 tags (50 minus the 3 project tags)

ENVIRONMENT RULE: keys are upper-case environment names ``[A-Z][A-Z0-9_]*`` (which covers the LMI
``OPTION_*`` settings and names such as ``HF_MODEL_ID`` or ``TENSOR_PARALLEL_DEGREE``), at most 256
characters; keys starting with ``AWS_`` are refused (they could override the container's AWS
credentials or region); ``OPTION_QUANTIZE`` is refused (set it with ``quantization.method``).
Values are strings of at most 256 characters. At most 25 entries in total in the container's
OverrideEnvironment, i.e. 24 with technique quantization (OPTION_QUANTIZE takes one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench_domain import api_limits

QUANTIZATION = "quantization"
SPECULATIVE_DECODING = "speculative_decoding"
COMPILATION = "compilation"
TECHNIQUES = (QUANTIZATION, SPECULATIVE_DECODING, COMPILATION)
# The OptimizationConfigs union member of each technique (CreateOptimizationJob).
CONFIG_MEMBERS = {
    QUANTIZATION: "ModelQuantizationConfig",
    SPECULATIVE_DECODING: "ModelSpeculativeDecodingConfig",
    COMPILATION: "ModelCompilationConfig",
}
QUANTIZATION_METHODS = ("awq", "fp8", "smoothquant")

# The SageMaker Python SDK's optimize() default (aws/sagemaker-python-sdk,
# src/sagemaker/serve/builder/model_builder.py: max_runtime_in_sec=36000).
DEFAULT_MAX_RUNTIME_SECONDS = 36_000
# "The maximum value is 28 days" (StoppingCondition.MaxRuntimeInSeconds documentation); the model's
# metadata only has min 1.
MAX_RUNTIME_LIMIT_SECONDS = 28 * 24 * 3600

QUANTIZE_ENV = "OPTION_QUANTIZE"
ENV_NAME_RE = re.compile(r"[A-Z][A-Z0-9_]*")
RESERVED_ENV_PREFIX = "AWS_"

# Tags the launcher always sets; users cannot override them.
PROJECT_TAG_KEYS = ("project", "env", "optimization-technique")
USER_TAGS_MAX = api_limits.TAGS_MAX - len(PROJECT_TAG_KEYS)

ALLOWED_KEYS = (
    "technique",
    "model_s3_uri",
    "model_name",
    "accept_eula",
    "instance_type",
    "quantization",
    "speculative_decoding",
    "environment",
    "image_uri",
    "output_s3_uri",
    "job_name",
    "max_runtime_seconds",
    "tags",
)


@dataclass(frozen=True)
class OptimizationRequest:
    """What to optimize. :func:`parse_request` builds it from an event, ``to_event`` goes back."""

    technique: str
    instance_type: str
    model_s3_uri: str | None = None
    model_name: str | None = None
    accept_eula: bool = False
    quantization_method: str | None = None
    training_data_s3_uri: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    image_uri: str | None = None
    output_s3_uri: str | None = None
    job_name: str | None = None
    max_runtime_seconds: int = DEFAULT_MAX_RUNTIME_SECONDS
    tags: Mapping[str, str] = field(default_factory=dict)

    def canonical(self) -> dict[str, Any]:
        """Every field that defines the job, except its name, as plain JSON-able values."""
        return {
            "technique": self.technique,
            "instance_type": self.instance_type,
            "model_s3_uri": self.model_s3_uri,
            "model_name": self.model_name,
            "accept_eula": self.accept_eula,
            "quantization_method": self.quantization_method,
            "training_data_s3_uri": self.training_data_s3_uri,
            "environment": dict(sorted(self.environment.items())),
            "image_uri": self.image_uri,
            "output_s3_uri": self.output_s3_uri,
            "max_runtime_seconds": self.max_runtime_seconds,
            "tags": dict(sorted(self.tags.items())),
        }

    def job_environment(self) -> dict[str, str]:
        """The environment the job runs with: the request's, plus OPTION_QUANTIZE for a
        quantization job (the method the job quantizes with). The launcher sends it as the
        config's OverrideEnvironment; a promoted result served on an image the app does not
        know keeps it, as the job ran."""
        environment = dict(self.environment)
        if self.technique == QUANTIZATION and self.quantization_method is not None:
            environment[QUANTIZE_ENV] = self.quantization_method
        return environment

    def to_event(self) -> dict[str, Any]:
        """The launcher event (the schema above); unset and default-valued keys are left out,
        so the same request always gives the same event."""
        event: dict[str, Any] = {
            "technique": self.technique,
            "instance_type": self.instance_type,
            "model_s3_uri": self.model_s3_uri,
            "model_name": self.model_name,
            "accept_eula": self.accept_eula or None,
            "image_uri": self.image_uri,
            "output_s3_uri": self.output_s3_uri,
            "job_name": self.job_name,
            "environment": dict(self.environment) or None,
            "tags": dict(self.tags) or None,
        }
        if self.max_runtime_seconds != DEFAULT_MAX_RUNTIME_SECONDS:
            event["max_runtime_seconds"] = self.max_runtime_seconds
        if self.quantization_method is not None or self.technique == QUANTIZATION:
            event["quantization"] = {"method": self.quantization_method}
        if self.training_data_s3_uri is not None or self.technique == SPECULATIVE_DECODING:
            data = self.training_data_s3_uri
            # {}: the job's own training data (ModelSpeculativeDecodingConfig without a source).
            event["speculative_decoding"] = {} if data is None else {"training_data_s3_uri": data}
        return {key: value for key, value in event.items() if value is not None}
