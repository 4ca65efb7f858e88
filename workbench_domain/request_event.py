"""`parse_request`: an optimization request event (schema in ``optimization_request``) checked
field by field into an `OptimizationRequest`; a bad field is a ValidationError naming it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from workbench_domain import api_limits, uris
from workbench_domain.errors import ValidationError
from workbench_domain.optimization_request import (
    ALLOWED_KEYS,
    DEFAULT_MAX_RUNTIME_SECONDS,
    ENV_NAME_RE,
    MAX_RUNTIME_LIMIT_SECONDS,
    PROJECT_TAG_KEYS,
    QUANTIZATION,
    QUANTIZATION_METHODS,
    QUANTIZE_ENV,
    RESERVED_ENV_PREFIX,
    SPECULATIVE_DECODING,
    TECHNIQUES,
    USER_TAGS_MAX,
    OptimizationRequest,
)


def _choices(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


def _string(event: Mapping[str, Any], field: str, allowed: str) -> str | None:
    value = event.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string", value, allowed)
    return value


def _object(event: Mapping[str, Any], field: str, keys: tuple[str, ...]) -> dict[str, Any] | None:
    value = event.get(field)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError(field, "must be a JSON object", value, f"keys {_choices(keys)}")
    for key in value:
        if key not in keys:
            raise ValidationError(f"{field}.{key}", "unknown key", key, f"keys {_choices(keys)}")
    return value


def _s3_uri(value: str | None, field: str, allowed: str, *, prefix: bool) -> str | None:
    if value is None:
        return None
    problem = uris.s3_uri_problem(value)
    if problem is None and prefix and not value.endswith("/"):
        problem = "must end with '/' (an S3 prefix)"
    if problem is None and prefix and not uris.parse_s3_uri(value).key:
        problem = "must name a key prefix, not the bucket root"
    if problem is not None:
        raise ValidationError(field, problem, value, allowed)
    return value


def _technique(event: Mapping[str, Any]) -> str:
    technique = _string(event, "technique", _choices(TECHNIQUES))
    if technique is None:
        raise ValidationError("technique", "is required", allowed=_choices(TECHNIQUES))
    if technique not in TECHNIQUES:
        raise ValidationError("technique", "unknown technique", technique, _choices(TECHNIQUES))
    return technique


def _model_source(event: Mapping[str, Any]) -> tuple[str | None, str | None, bool]:
    s3_allowed = "s3://<bucket>/<prefix>/ of the uncompressed model weights"
    name_allowed = (
        f"an existing SageMaker model name, 1-{api_limits.MODEL_NAME_MAX} characters matching "
        f"{api_limits.MODEL_NAME_PATTERN}"
    )
    model_s3_uri = _s3_uri(
        _string(event, "model_s3_uri", s3_allowed), "model_s3_uri", s3_allowed, prefix=True
    )
    model_name = _string(event, "model_name", name_allowed)
    if model_name is not None and (
        len(model_name) > api_limits.MODEL_NAME_MAX
        or not re.fullmatch(api_limits.MODEL_NAME_PATTERN, model_name)
    ):
        raise ValidationError(
            "model_name", "is not a valid SageMaker model name", model_name, name_allowed
        )
    if model_s3_uri is not None and model_name is not None:
        raise ValidationError(
            "model_s3_uri",
            "model_s3_uri and model_name are mutually exclusive",
            {"model_s3_uri": model_s3_uri, "model_name": model_name},
            "exactly one of model_s3_uri or model_name",
        )
    if model_s3_uri is None and model_name is None:
        raise ValidationError(
            "model_s3_uri",
            "a model source is required",
            allowed="exactly one of model_s3_uri or model_name",
        )

    accept_eula = event.get("accept_eula")
    if accept_eula is None:
        accept_eula = False
    if not isinstance(accept_eula, bool):
        raise ValidationError("accept_eula", "must be a boolean", accept_eula, "true, false")
    if accept_eula and model_name is not None:
        raise ValidationError(
            "accept_eula",
            "applies only to model_s3_uri (the API's ModelAccessConfig belongs to an S3 source)",
            accept_eula,
            "false or absent with model_name",
        )
    return model_s3_uri, model_name, accept_eula


def _instance_type(event: Mapping[str, Any]) -> str:
    allowed = _choices(api_limits.DEPLOYMENT_INSTANCE_TYPES)
    instance_type = _string(event, "instance_type", allowed)
    if instance_type is None:
        raise ValidationError("instance_type", "is required", allowed=allowed)
    if instance_type not in api_limits.DEPLOYMENT_INSTANCE_TYPES:
        raise ValidationError(
            "instance_type",
            "is not a CreateOptimizationJob DeploymentInstanceType",
            instance_type,
            allowed,
        )
    return instance_type


def _quantization(event: Mapping[str, Any], technique: str) -> str | None:
    allowed = f'{{"method": one of {_choices(QUANTIZATION_METHODS)}}}'
    config = _object(event, "quantization", ("method",))
    if technique != QUANTIZATION:
        if config is not None:
            raise ValidationError(
                "quantization",
                f"is only for technique {QUANTIZATION}, not {technique}",
                config,
                "absent",
            )
        return None
    if config is None:
        raise ValidationError(
            "quantization", f"is required with technique {QUANTIZATION}", allowed=allowed
        )
    method = config.get("method")
    if method is None:
        raise ValidationError(
            "quantization.method", "is required", allowed=_choices(QUANTIZATION_METHODS)
        )
    if method not in QUANTIZATION_METHODS:
        raise ValidationError(
            "quantization.method",
            "unknown quantization method",
            method,
            _choices(QUANTIZATION_METHODS),
        )
    return str(method)


def _speculative_decoding(event: Mapping[str, Any], technique: str) -> str | None:
    config = _object(event, "speculative_decoding", ("training_data_s3_uri",))
    if config is None:
        return None
    if technique != SPECULATIVE_DECODING:
        raise ValidationError(
            "speculative_decoding",
            f"is only for technique {SPECULATIVE_DECODING}, not {technique}",
            config,
            "absent",
        )
    field = "speculative_decoding.training_data_s3_uri"
    allowed = "an s3:// prefix of ShareGPT / OpenAI (chat) completions training data"
    value = _string(config, "training_data_s3_uri", allowed)
    return _s3_uri(value, field, allowed, prefix=False)


def _environment(event: Mapping[str, Any], technique: str) -> dict[str, str]:
    value = event.get("environment")
    if value is None:
        return {}
    rule = (
        f"a map of at most {api_limits.ENVIRONMENT_MAX_ENTRIES} upper-case names [A-Z][A-Z0-9_]* "
        f"(not AWS_*, not {QUANTIZE_ENV}) to strings of at most "
        f"{api_limits.ENVIRONMENT_VALUE_MAX} characters"
    )
    if technique == SPECULATIVE_DECODING:
        raise ValidationError(
            "environment",
            "is not supported with technique speculative_decoding "
            "(ModelSpeculativeDecodingConfig has no environment)",
            value,
            "absent",
        )
    if not isinstance(value, dict):
        raise ValidationError("environment", "must be a JSON object", value, rule)
    limit = api_limits.ENVIRONMENT_MAX_ENTRIES - (1 if technique == QUANTIZATION else 0)
    if len(value) > limit:
        reason = (
            f" with technique {QUANTIZATION} "
            f"({QUANTIZE_ENV} takes one of {api_limits.ENVIRONMENT_MAX_ENTRIES})"
            if technique == QUANTIZATION
            else ""
        )
        raise ValidationError(
            "environment",
            f"has too many entries{reason}",
            f"{len(value)} entries",
            f"at most {limit}",
        )
    for key, item in value.items():
        field = f"environment.{key}"
        if len(key) > api_limits.ENVIRONMENT_KEY_MAX or not ENV_NAME_RE.fullmatch(key):
            raise ValidationError("environment", "invalid variable name", key, rule)
        if key.startswith(RESERVED_ENV_PREFIX):
            raise ValidationError("environment", "AWS_* variables are reserved", key, rule)
        if key == QUANTIZE_ENV:
            raise ValidationError(
                "environment", f"{QUANTIZE_ENV} is set from quantization.method", key, rule
            )
        if not isinstance(item, str):
            raise ValidationError(field, "value must be a string", item, rule)
        if len(item) > api_limits.ENVIRONMENT_VALUE_MAX:
            raise ValidationError(field, "value is too long", item, rule)
    return dict(sorted(value.items()))


def _image_uri(event: Mapping[str, Any], technique: str) -> str | None:
    allowed = "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>"
    value = _string(event, "image_uri", allowed)
    if value is None:
        return None
    if technique == SPECULATIVE_DECODING:
        raise ValidationError(
            "image_uri",
            "is not supported with technique speculative_decoding "
            "(ModelSpeculativeDecodingConfig has no Image)",
            value,
            "absent",
        )
    if uris.parse_ecr_image(value) is None:
        raise ValidationError(
            "image_uri", "is not an ECR image URI with a tag or digest", value, allowed
        )
    return value


def _output_s3_uri(event: Mapping[str, Any]) -> str | None:
    allowed = "s3://<artifacts bucket>/<prefix>/"
    return _s3_uri(_string(event, "output_s3_uri", allowed), "output_s3_uri", allowed, prefix=True)


def _job_name(event: Mapping[str, Any]) -> str | None:
    allowed = f"1-{api_limits.JOB_NAME_MAX} characters matching {api_limits.JOB_NAME_PATTERN}"
    value = _string(event, "job_name", allowed)
    if value is not None and (
        len(value) > api_limits.JOB_NAME_MAX or not re.fullmatch(api_limits.JOB_NAME_PATTERN, value)
    ):
        raise ValidationError("job_name", "is not a valid optimization job name", value, allowed)
    return value


def _max_runtime(event: Mapping[str, Any]) -> int:
    allowed = f"an integer from 1 to {MAX_RUNTIME_LIMIT_SECONDS} (28 days)"
    value = event.get("max_runtime_seconds")
    if value is None:
        return DEFAULT_MAX_RUNTIME_SECONDS
    if type(value) is not int:  # bool is an int subclass; refuse it, and floats
        raise ValidationError("max_runtime_seconds", "must be an integer", value, allowed)
    if not 1 <= value <= MAX_RUNTIME_LIMIT_SECONDS:
        raise ValidationError("max_runtime_seconds", "is out of range", value, allowed)
    return value


def _tags(event: Mapping[str, Any]) -> dict[str, str]:
    value = event.get("tags")
    if value is None:
        return {}
    rule = (
        f"a map of at most {USER_TAGS_MAX} tags; "
        f"keys {api_limits.TAG_KEY_MIN}-{api_limits.TAG_KEY_MAX} "
        f"and values 0-{api_limits.TAG_VALUE_MAX} letters, digits, spaces or _.:/=+-@; "
        f"no 'aws:' prefix; not {', '.join(PROJECT_TAG_KEYS)}"
    )
    if not isinstance(value, dict):
        raise ValidationError("tags", "must be a JSON object", value, rule)
    if len(value) > USER_TAGS_MAX:
        raise ValidationError(
            "tags",
            f"has too many tags ({len(PROJECT_TAG_KEYS)} of the API's "
            f"{api_limits.TAGS_MAX} are the project's)",
            f"{len(value)} tags",
            rule,
        )
    for key, item in value.items():
        if not api_limits.TAG_KEY_MIN <= len(key) <= api_limits.TAG_KEY_MAX or not uris.tag_text_ok(
            key
        ):
            raise ValidationError("tags", "invalid tag key", key, rule)
        if key.lower().startswith("aws:"):
            raise ValidationError("tags", "the 'aws:' prefix is reserved by AWS", key, rule)
        if key in PROJECT_TAG_KEYS:
            raise ValidationError("tags", "this tag is set by the launcher", key, rule)
        if not isinstance(item, str):
            raise ValidationError(f"tags.{key}", "value must be a string", item, rule)
        if len(item) > api_limits.TAG_VALUE_MAX or not uris.tag_text_ok(item):
            raise ValidationError(f"tags.{key}", "invalid tag value", item, rule)
    return dict(sorted(value.items()))


def parse_request(event: Any) -> OptimizationRequest:
    """Validate ``event``; raise ValidationError naming the first bad field."""
    if not isinstance(event, dict):
        raise ValidationError(
            "event", "must be a JSON object", event, f"keys {_choices(ALLOWED_KEYS)}"
        )
    for key in event:
        if key not in ALLOWED_KEYS:
            raise ValidationError(key, "unknown key", key, f"keys {_choices(ALLOWED_KEYS)}")
    technique = _technique(event)
    model_s3_uri, model_name, accept_eula = _model_source(event)
    return OptimizationRequest(
        technique=technique,
        instance_type=_instance_type(event),
        model_s3_uri=model_s3_uri,
        model_name=model_name,
        accept_eula=accept_eula,
        quantization_method=_quantization(event, technique),
        training_data_s3_uri=_speculative_decoding(event, technique),
        environment=_environment(event, technique),
        image_uri=_image_uri(event, technique),
        output_s3_uri=_output_s3_uri(event),
        job_name=_job_name(event),
        max_runtime_seconds=_max_runtime(event),
        tags=_tags(event),
    )
