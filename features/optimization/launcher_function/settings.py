"""Configuration from the environment variables set by the CDK app, read once per cold start.

The names, and what each holds, are in `workbench_domain.launcher_environment` (imported here
as `env`), which the construct that sets them uses too.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from workbench_domain import api_limits, uris
from workbench_domain import launcher_environment as env
from workbench_domain.optimization_rules import JobDefaults

from .errors import ConfigurationError

DEFAULT_OUTPUT_PREFIX = "optimized/"
_OUTPUT_PREFIX_RE = re.compile(r"(?:[A-Za-z0-9!_.*'()-]+/)+")
# SSM parameter names: a-zA-Z0-9_.- and "/" between levels, at most 15 levels, and no name
# starting with "aws" or "ssm" (ssm model, PutParameterRequest.Name documentation).
_PARAMETER_PATH_RE = re.compile(r"(?:/[A-Za-z0-9_.-]+)+")
_PARAMETER_MAX_LEVELS = 15


@dataclass(frozen=True)
class LauncherSettings(JobDefaults):
    """The job defaults the rules need, and what the launcher adds to each job."""

    job_role_arn: str
    kms_key_arn: str
    project_name: str
    env_name: str


@dataclass(frozen=True)
class RecorderSettings:
    results_parameter_prefix: str
    job_topic_arn: str
    kms_key_arn: str


def _required(environ: Mapping[str, str], name: str, what: str) -> str:
    value = environ.get(name, "")
    if not value.strip():
        raise ConfigurationError(
            f"environment variable {name} is not set; it must hold {what} (set by the CDK app)"
        )
    if value != value.strip():
        raise ConfigurationError(f"environment variable {name} has surrounding whitespace")
    return value


def _bad(name: str, value: str, what: str) -> ConfigurationError:
    return ConfigurationError(f"environment variable {name}={value!r} is invalid; expected {what}")


def _image(environ: Mapping[str, str], name: str) -> str:
    what = (
        "an ECR image URI with a tag or digest, "
        "e.g. <account>.dkr.ecr.<region>.amazonaws.com/djl-inference:<tag>"
    )
    value = _required(environ, name, what)
    if uris.parse_ecr_image(value) is None:
        raise _bad(name, value, what)
    return value


def _tag_value(environ: Mapping[str, str], name: str) -> str:
    what = f"a tag value of at most {api_limits.TAG_VALUE_MAX} letters, digits, spaces or _.:/=+-@"
    value = _required(environ, name, what)
    if len(value) > api_limits.TAG_VALUE_MAX or not uris.tag_text_ok(value):
        raise _bad(name, value, what)
    return value


def _kms_key_arn(environ: Mapping[str, str]) -> str:
    what = "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"
    value = _required(environ, env.KMS_KEY_ARN, what)
    if len(value) > api_limits.KMS_KEY_ID_MAX or not uris.KMS_KEY_ARN_RE.fullmatch(value):
        raise _bad(env.KMS_KEY_ARN, value, what)
    return value


def load_launcher_settings(environ: Mapping[str, str]) -> LauncherSettings:
    role_what = "an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
    role = _required(environ, env.JOB_ROLE_ARN, role_what)
    if not re.fullmatch(api_limits.ROLE_ARN_PATTERN, role):
        raise _bad(env.JOB_ROLE_ARN, role, role_what)

    bucket = _required(environ, env.ARTIFACTS_BUCKET, "the artifacts bucket name")
    if not uris.is_bucket_name(bucket):
        raise _bad(env.ARTIFACTS_BUCKET, bucket, "an S3 bucket name (not a URI or ARN)")

    prefix = environ.get(env.OUTPUT_PREFIX, DEFAULT_OUTPUT_PREFIX)
    if not _OUTPUT_PREFIX_RE.fullmatch(prefix):
        raise _bad(
            env.OUTPUT_PREFIX,
            prefix,
            "a key prefix such as 'optimized/' (no leading '/', ending in '/', no empty segment)",
        )

    return LauncherSettings(
        job_role_arn=role,
        artifacts_bucket=bucket,
        output_prefix=prefix,
        kms_key_arn=_kms_key_arn(environ),
        project_name=_tag_value(environ, env.PROJECT_NAME),
        env_name=_tag_value(environ, env.ENV_NAME),
        lmi_image_uri=_image(environ, env.LMI_IMAGE_URI),
        trtllm_image_uri=_image(environ, env.TRTLLM_IMAGE_URI),
        neuron_image_uri=_image(environ, env.NEURON_IMAGE_URI),
    )


def load_recorder_settings(environ: Mapping[str, str]) -> RecorderSettings:
    prefix_what = (
        "an SSM parameter path such as '/genai-opt/dev/optimization-results' (leading '/', "
        "no trailing '/', characters a-zA-Z0-9_.-, not starting with aws or ssm)"
    )
    prefix = _required(environ, env.RESULTS_PARAMETER_PREFIX, prefix_what)
    levels = prefix.split("/")[1:]
    if (
        not _PARAMETER_PATH_RE.fullmatch(prefix)
        or levels[0].lower().startswith(("aws", "ssm"))
        or len(levels) + 1 > _PARAMETER_MAX_LEVELS
    ):
        raise _bad(env.RESULTS_PARAMETER_PREFIX, prefix, prefix_what)

    topic_what = "a standard (not FIFO) SNS topic ARN"
    topic = _required(environ, env.JOB_TOPIC_ARN, topic_what)
    if not uris.SNS_TOPIC_ARN_RE.fullmatch(topic):
        raise _bad(env.JOB_TOPIC_ARN, topic, topic_what)

    return RecorderSettings(
        results_parameter_prefix=prefix, job_topic_arn=topic, kms_key_arn=_kms_key_arn(environ)
    )


@functools.cache
def launcher_settings() -> LauncherSettings:
    """The launcher's settings, read from ``os.environ`` on first use (once per cold start)."""
    return load_launcher_settings(os.environ)


@functools.cache
def recorder_settings() -> RecorderSettings:
    """The recorder's settings, read from ``os.environ`` on first use (once per cold start)."""
    return load_recorder_settings(os.environ)
