"""Running a SageMaker AI job from the workstation: create it (or find the one the same request
started), follow it to its end, and clean up what it no longer needs.

Shared by `make recommend` and `make benchmark`; names come from `workbench_domain.ai_jobs`,
so the same command finds the same job again instead of paying for a second run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workbench.assembly import OperatorError
from workbench.common import aws_problem
from workbench_domain import recommendation as rec
from workbench_domain.ai_jobs import ENDED


@dataclass(frozen=True)
class JobKind:
    """The calls and fields of one kind of SageMaker AI job."""

    noun: str  # botocore's: AIBenchmarkJob, AIRecommendationJob
    operation: str  # boto3's: ai_benchmark_job, ai_recommendation_job

    @property
    def name_field(self) -> str:
        return f"{self.noun}Name"

    @property
    def status_field(self) -> str:
        return f"{self.noun}Status"


BENCHMARK = JobKind("AIBenchmarkJob", "ai_benchmark_job")
RECOMMENDATION = JobKind("AIRecommendationJob", "ai_recommendation_job")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def create_unless_exists(create: Callable[..., Any], request: Mapping[str, Any]) -> bool:
    """Call `create(**request)`; False when the resource exists already (same name, same
    request: names are derived from it), True when it was created now."""
    try:
        create(**request)
    except ClientError as error:
        if _code(error) != "ResourceInUse":
            raise
        return False
    return True


def follow(
    describe: Callable[[], dict[str, Any]],
    *,
    job: str,
    status_key: str,
    poll_seconds: float,
    timeout_seconds: float,
    sleep: Callable[[float], None],
    now: Callable[[], float],
) -> dict[str, Any]:
    """Describe the job until it ends, printing each status change."""
    started, last = now(), None
    while True:
        described = describe()
        status = described[status_key]
        if status != last:
            print(f"{now() - started:7.0f} s  {job}: {status}")
            last = status
        if status in ENDED:
            return described
        if now() - started >= timeout_seconds:
            raise OperatorError(
                f"{job} still {status} after {timeout_seconds:.0f} s; run the same command "
                "again to follow it (it reuses the job)"
            )
        sleep(poll_seconds)


def clean_up(client: Any, calls: list[tuple[str, dict[str, Any]]]) -> None:
    """Each (operation, parameters) in turn; one that AWS refuses is a warning line."""
    for operation, params in calls:
        try:
            getattr(client, operation)(**params)
        except (BotoCoreError, ClientError) as error:
            print(f"warning: {operation} {params}: {aws_problem(error) or error}", file=sys.stderr)


def run(
    sagemaker: Any,
    kind: JobKind,
    *,
    job: str,
    request: Mapping[str, Any],
    config_name: str,
    spec: Mapping[str, Any],
    tags: Mapping[str, str],
    started: str,
    poll_seconds: float,
    timeout_seconds: float,
    sleep: Callable[[float], None],
    now: Callable[[], float],
) -> dict[str, Any]:
    """Create the workload config and the job (or find them, made by the same request), then
    follow the job to its end; its last description."""
    create_unless_exists(
        sagemaker.create_ai_workload_config, rec.workload_config_request(config_name, spec, tags)
    )
    if create_unless_exists(getattr(sagemaker, f"create_{kind.operation}"), request):
        print(started)
    else:
        print(f"Following {job}, started earlier with the same request")
    describe = getattr(sagemaker, f"describe_{kind.operation}")
    return follow(
        lambda: describe(**{kind.name_field: job}),
        job=job,
        status_key=kind.status_field,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
        sleep=sleep,
        now=now,
    )


def finish(sagemaker: Any, kind: JobKind, *, job: str, config_name: str, delete_job: bool) -> None:
    """An ended job's workload config is no longer needed; the job itself only if asked, since
    the same command reads a kept job's answer again instead of paying for a new run."""
    calls = [("delete_ai_workload_config", {"AIWorkloadConfigName": config_name})]
    if delete_job:
        calls.append((f"delete_{kind.operation}", {kind.name_field: job}))
    clean_up(sagemaker, calls)
