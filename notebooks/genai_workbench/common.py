"""Constants, errors and small helpers every module of the client uses."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from workbench_domain import (
    api_limits,
    optimization_request,
    serving,
    uris,
)
from workbench_domain.errors import ValidationError, aws_setup_problem
from workbench_domain.serving_environment import container_environment

UTC = timezone(timedelta(0))


DEPLOYMENT_FILE_ENV = "GENAI_OPT_DEPLOYMENT_FILE"


DEPLOYMENT_PATH_ENV = "GENAI_OPT_DEPLOYMENT_PATH"


DEFAULT_DEPLOYMENT_FILE = "/home/ec2-user/SageMaker/.genai-optimization/deployment.json"


LLAMA3_70B = "meta-textgeneration-llama-3-70b"


TECHNIQUES = optimization_request.TECHNIQUES


QUANTIZATION_METHODS = optimization_request.QUANTIZATION_METHODS


#: Llama-3-70B compiled for ml.inf2.48xlarge: the environment of the inf2 serving settings.
NEURON_INF2_ENVIRONMENT: Mapping[str, str] = container_environment(serving.LLAMA3_70B_INF2)


#: InvokeEndpointAsync limits (botocore sagemaker-runtime model).
REQUEST_TTL_RANGE = api_limits.REQUEST_TTL_RANGE


INVOCATION_TIMEOUT_RANGE = api_limits.INVOCATION_TIMEOUT_RANGE


_DOCUMENT_KEYS = ("project", "env", "storage", "optimization", "endpoints")


Printer = Callable[[str], None]


class WorkbenchError(Exception):
    """A problem the user can fix; the message says what and how."""


class DeploymentNotFoundError(WorkbenchError):
    """Neither the deployment file nor the deployment parameter could be read."""


class OptimizationFailedError(WorkbenchError):
    """The optimization workflow ended without a result."""


class AsyncInferenceFailedError(WorkbenchError):
    """The endpoint wrote the request's failure file."""


class AwsCallError(WorkbenchError):
    """An AWS call failed (refused, throttled, no credentials, no region); the message says
    which call and why, and `__cause__` holds botocore's error."""


Function = TypeVar("Function", bound=Callable[..., Any])


def aws_errors(function: Function) -> Function:
    """Turns botocore's errors escaping `function` into AwsCallError: every error of this
    client is a WorkbenchError."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (ClientError, BotoCoreError) as error:
            problem = aws_setup_problem(error) or str(error)
            raise AwsCallError(f"{function.__name__}: {problem}") from error

    return cast(Function, wrapper)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``("bucket", "key")``; ``WorkbenchError`` naming a bad URI."""
    try:
        location = uris.split_s3_uri(uri)
    except ValidationError as error:
        raise WorkbenchError(str(error)) from error
    return location.bucket, location.key


def _prefix_key(prefix_uri: str, name: str) -> tuple[str, str]:
    bucket, prefix = split_s3_uri(prefix_uri)
    prefix = prefix.rstrip("/")
    return bucket, f"{prefix}/{name}" if prefix else name


def _now() -> datetime:
    return datetime.now(UTC)


def _format_seconds(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return (
        f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"
    )
