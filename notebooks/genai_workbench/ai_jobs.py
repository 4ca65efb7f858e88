"""SageMaker AI recommendation and benchmark jobs: create one (or find the one the same request
started), follow it to its end, read its answer, and clean up what it no longer needs.

Shared by the notebooks and the operator commands (`make recommend`, `make benchmark`); names
come from `workbench_domain.ai_jobs`, so the same request finds the same job again instead of
paying for a second run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from genai_workbench.common import Printer, WorkbenchError, aws_errors
from genai_workbench.deployment import Deployment
from genai_workbench.measurements import BenchmarkArchive, benchmark_export
from workbench_domain import ai_jobs, cost_allocation
from workbench_domain import measurements as m
from workbench_domain import recommendation as rec
from workbench_domain.ai_jobs import ENDED
from workbench_domain.errors import ValidationError, aws_setup_problem

BENCHMARK = ai_jobs.KINDS["benchmark"]
RECOMMENDATION = ai_jobs.KINDS["recommendation"]


@dataclass(frozen=True)
class PreparedJob:
    """A job's names and request, checked; nothing has been called yet."""

    kind: ai_jobs.Kind
    job: str
    config_name: str
    spec: Mapping[str, Any]
    request: Mapping[str, Any]
    tags: Mapping[str, str]


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
    printer: Printer = print,
) -> dict[str, Any]:
    """Describe the job until it ends, printing each status change."""
    started, last = now(), None
    while True:
        described = describe()
        status = described[status_key]
        if status != last:
            printer(f"{now() - started:7.0f} s  {job}: {status}")
            last = status
        if status in ENDED:
            return described
        if now() - started >= timeout_seconds:
            raise WorkbenchError(
                f"{job} still {status} after {timeout_seconds:.0f} s; run the same command "
                "again to follow it (it reuses the job)"
            )
        sleep(poll_seconds)


def clean_up(client: Any, calls: list[tuple[str, dict[str, Any]]]) -> None:
    """Each (operation, parameters) in turn; one that AWS refuses is a warning line on stderr
    (the job has ended and its answer is read: a left-over workload config costs nothing)."""
    for operation, params in calls:
        try:
            getattr(client, operation)(**params)
        except (BotoCoreError, ClientError) as error:
            problem = aws_setup_problem(error) or error
            print(f"warning: {operation} {params}: {problem}", file=sys.stderr)


def run(
    sagemaker: Any,
    prepared: PreparedJob,
    *,
    started: str,
    poll_seconds: float,
    timeout_seconds: float,
    sleep: Callable[[float], None],
    now: Callable[[], float],
    printer: Printer = print,
) -> dict[str, Any]:
    """Create the workload config and the job (or find them, made by the same request), then
    follow the job to its end; its last description."""
    kind, job = prepared.kind, prepared.job
    create_unless_exists(
        sagemaker.create_ai_workload_config,
        rec.workload_config_request(prepared.config_name, prepared.spec, prepared.tags),
    )
    if create_unless_exists(getattr(sagemaker, f"create_{kind.operation}"), prepared.request):
        printer(started)
    else:
        printer(f"Following {job}, started earlier with the same request")
    describe = getattr(sagemaker, f"describe_{kind.operation}")
    return follow(
        lambda: describe(**{kind.name_field: job}),
        job=job,
        status_key=kind.status_field,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
        sleep=sleep,
        now=now,
        printer=printer,
    )


def finish(sagemaker: Any, prepared: PreparedJob, *, delete_job: bool) -> None:
    """An ended job's workload config is no longer needed; the job itself only if asked, since
    the same command reads a kept job's answer again instead of paying for a new run."""
    calls = [("delete_ai_workload_config", {"AIWorkloadConfigName": prepared.config_name})]
    if delete_job:
        calls.append(
            (f"delete_{prepared.kind.operation}", {prepared.kind.name_field: prepared.job})
        )
    clean_up(sagemaker, calls)


def stage_id(deployment: Deployment) -> str:
    """The stage the deployment belongs to (WorkbenchConfig.stage_id): what names its jobs."""
    return cost_allocation.stage_id(deployment.project, deployment.env)


@aws_errors
def benchmark_with_job(
    deployment: Deployment,
    endpoint_key: str,
    spec: Mapping[str, Any],
    *,
    role_arn: str | None = None,
    output_s3_uri: str | None = None,
    delete_job: bool = False,
    poll_seconds: float = 30,
    timeout_seconds: float = 3 * 3600,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
    printer: Printer = print,
) -> tuple[m.Speed, BenchmarkArchive]:
    """Measure a realtime endpoint with a SageMaker AI benchmark job (AIPerf against its
    inference component, the workload `spec` of ``recommendation.workload_spec``); its speed
    record (not yet stored) and what the job wrote."""
    info = deployment.realtime_endpoint(endpoint_key)
    stage = stage_id(deployment)
    output = output_s3_uri or f"s3://{deployment.artifacts_bucket}/benchmarks/"
    role = role_arn or deployment.require_optimization().measurement_role_arn
    asked = {"spec": spec, "component": info.inference_component_name, "output": output}
    config_name = ai_jobs.name(stage, "workload", asked)
    job = ai_jobs.name(stage, "benchmark", asked)
    tags = {cost_allocation.TAG_KEY: stage}
    # A ValidationError (a bad output URI) is raised here, before any call.
    request = rec.benchmark_job_request(
        name=job,
        endpoint_name=info.endpoint_name,
        inference_component=info.inference_component_name,
        output_s3_uri=f"{output.rstrip('/')}/{job}/",
        workload_config=config_name,
        role_arn=role,
        tags=tags,
    )
    prepared = PreparedJob(BENCHMARK, job, config_name, spec, request, tags)
    sagemaker = deployment.client("sagemaker")
    described = run(
        sagemaker, prepared, poll_seconds=poll_seconds, timeout_seconds=timeout_seconds,
        sleep=sleep, now=now, printer=printer,
        started=f"Started {job} against {info.endpoint_name} ({info.inference_component_name})",
    )  # fmt: skip
    status = described[BENCHMARK.status_field]
    try:
        if status != "Completed":
            raise WorkbenchError(f"{job} ended {status}: {described.get('FailureReason', '')}")
        archive = benchmark_export(deployment, described["OutputConfig"]["S3OutputLocation"])
        ended = described.get("EndTime") or datetime.now(timezone.utc)
        parameters = spec["parameters"]
        try:
            speed = m.speed_from_aiperf(
                archive.export,
                endpoint_key=endpoint_key,
                run=job,
                measured_at=ended.astimezone(timezone.utc).isoformat(),
                concurrency=parameters["concurrency"],
                input_tokens=parameters["prompt_input_tokens_mean"],
                output_tokens=parameters["output_tokens_mean"],
                instance_type=info.instance_type,
                source=archive.uri,
            )
        except ValidationError as error:
            raise WorkbenchError(f"{archive.uri}: {error}") from None
    finally:
        finish(sagemaker, prepared, delete_job=delete_job)
    return speed, archive


def recommendation_names(
    stage: str,
    spec: Mapping[str, Any],
    model_s3_uri: str,
    target: str,
    instance_types: Sequence[str],
    output_s3_uri: str,
) -> tuple[str, str]:
    """(workload config name, job name), derived from everything the job is asked."""
    asked = {
        "spec": spec,
        "args": [model_s3_uri, target, list(instance_types)],
        "output": output_s3_uri,
    }
    return ai_jobs.name(stage, "workload", asked), ai_jobs.name(stage, "recommendation", asked)


def prepare_recommendation(
    *,
    stage: str,
    spec: Mapping[str, Any],
    model_s3_uri: str,
    output_s3_uri: str,
    role_arn: str,
    target: str,
    instance_types: Sequence[str],
    framework: str | None = None,
    optimize: bool = False,
) -> PreparedJob:
    """The recommendation job of the workload `spec`; a ValidationError names a bad value."""
    config_name, job = recommendation_names(
        stage, spec, model_s3_uri, target, instance_types, output_s3_uri
    )
    tags = {cost_allocation.TAG_KEY: stage}
    request = rec.job_request(
        name=job, model_s3_uri=model_s3_uri, output_s3_uri=output_s3_uri,
        workload_config=config_name, role_arn=role_arn, target=target,
        instance_types=instance_types, framework=framework, optimize=optimize, tags=tags,
    )  # fmt: skip
    return PreparedJob(RECOMMENDATION, job, config_name, spec, request, tags)


@aws_errors
def recommend(
    sagemaker: Any,
    prepared: PreparedJob,
    *,
    delete_job: bool = False,
    poll_seconds: float = 60,
    timeout_seconds: float = 12 * 3600,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
    printer: Printer = print,
) -> tuple[list[rec.Recommendation], dict[str, Any]]:
    """Run (or follow) the prepared recommendation job; its recommendations and its last
    description. A job that does not complete is a WorkbenchError."""
    job = prepared.job
    instance_types = prepared.request["ComputeSpec"]["InstanceTypes"]
    target = prepared.request["PerformanceTarget"]["Constraints"][0]["Metric"]
    described = run(
        sagemaker, prepared, poll_seconds=poll_seconds, timeout_seconds=timeout_seconds,
        sleep=sleep, now=now, printer=printer,
        started=f"Started {job}: {len(instance_types)} instance type(s), target {target}",
    )  # fmt: skip
    finish(sagemaker, prepared, delete_job=delete_job)
    status = described[RECOMMENDATION.status_field]
    if status != "Completed":
        raise WorkbenchError(f"{job} ended {status}: {described.get('FailureReason', '')}")
    return rec.recommendations(described), described
