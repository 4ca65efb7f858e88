"""Fixtures for the optimization launcher and recorder Lambda code.

The code is the package ``features.optimization.launcher_function``; in the Lambda it is the
package ``launcher_function`` beside ``workbench_domain``, so it imports its neighbours relatively.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import pytest
from botocore.stub import Stubber

from features.optimization.launcher_function import handler, recorder, settings
from tests.unit.features.optimization.launcher_function.testkit import (
    ACCOUNT,
    LAUNCHER_ENV,
    REGION,
    model_violations,
)

# What the code caches once per cold start (kept here: tests monkeypatch the module attributes).
_PER_COLD_START = (
    settings.launcher_settings,
    settings.recorder_settings,
    handler.sagemaker_client,
    recorder.aws_clients,
)


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "optimization-launcher"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:optimization-launcher"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(autouse=True)
def _aws_sandbox(monkeypatch):
    """No real credentials, a fixed region, and a fresh cold start for every test."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    for cached in _PER_COLD_START:
        cached.cache_clear()
    yield
    for cached in _PER_COLD_START:
        cached.cache_clear()


@pytest.fixture
def launcher_env(monkeypatch) -> dict[str, str]:
    for name, value in LAUNCHER_ENV.items():
        monkeypatch.setenv(name, value)
    return dict(LAUNCHER_ENV)


@pytest.fixture
def sagemaker(monkeypatch, launcher_env):
    """A real SageMaker client whose calls go to a Stubber (validated against the service model).

    Every request is also checked for enum, pattern and maximum-size violations. Yields
    ``(stubber, calls)``; ``calls`` lists the operation names the code invoked.
    """
    client = boto3.client("sagemaker", region_name=REGION)
    calls: list[str] = []
    violations: list[str] = []

    def inspect(params, model, **_):
        calls.append(model.name)
        violations.extend(model_violations(model.input_shape, params, model.name))

    client.meta.events.register("before-parameter-build.sagemaker", inspect)
    monkeypatch.setattr(handler, "sagemaker_client", lambda: client)
    with Stubber(client) as stubber:
        yield stubber, calls
        stubber.assert_no_pending_responses()
    assert violations == []
