"""Optimization jobs: check a request as the launcher does, start the workflow, wait."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from genai_workbench.common import (
    OptimizationFailedError,
    Printer,
    WorkbenchError,
    _format_seconds,
    _now,
    aws_errors,
)
from genai_workbench.deployment import Deployment
from workbench_domain import (
    optimization_rules,
    workflow_states,
)
from workbench_domain.errors import ValidationError
from workbench_domain.job_names import run_name
from workbench_domain.optimization_request import OptimizationRequest


class InvalidRequestError(WorkbenchError):
    """The launcher would refuse this request; the message is the launcher's own."""


def checked_event(
    deployment: Deployment, request: OptimizationRequest | Mapping[str, Any]
) -> dict[str, Any]:
    """The launcher event of ``request``, checked as the launcher checks it (same rules, same
    message), with the job defaults the Optimization stack published; nothing starts.

    The event is the parsed request's own (``to_event``): two spellings of one request (a null
    or a default value written out) give one event, hence one execution name and one job."""
    event = request.to_event() if isinstance(request, OptimizationRequest) else request
    try:
        parsed, _ = optimization_rules.check_request(event, deployment.job_defaults())
    except ValidationError as error:
        raise InvalidRequestError(str(error)) from error
    return parsed.to_event()


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN of execution ``name`` of a (standard) state machine."""
    parts = state_machine_arn.split(":")
    if len(parts) != 7 or parts[2] != "states" or parts[5] != "stateMachine":
        raise WorkbenchError(f"not a state machine ARN: {state_machine_arn!r}")
    return ":".join([*parts[:5], "execution", parts[6], name])


@aws_errors
def start_optimization(
    deployment: Deployment,
    request: OptimizationRequest | Mapping[str, Any],
    *,
    attempt: int = 1,
    printer: Printer = print,
) -> str:
    """Start the optimization workflow for ``request``; return the execution ARN.

    The execution name (and job name, unless the request sets one) comes from ``run_name``
    (``workbench_domain.job_names``):
    running the same cell twice reuses the running or succeeded execution instead of paying
    for a second job. If that execution failed, pass ``attempt=2`` (3, ...) to start anew.
    """
    deployment.require_optimization()
    event = checked_event(deployment, request)
    name = run_name(event, project=deployment.project, env_name=deployment.env, attempt=attempt)
    event.setdefault("job_name", name)
    sfn = deployment.client("stepfunctions")
    try:
        arn: str = sfn.start_execution(
            stateMachineArn=deployment.state_machine_arn,
            name=name,
            input=json.dumps(event, sort_keys=True),
        )["executionArn"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        arn = execution_arn(deployment.state_machine_arn, name)
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status not in (
            *workflow_states.EXECUTION_RUNNING_STATUSES,
            workflow_states.EXECUTION_SUCCEEDED,
        ):
            raise OptimizationFailedError(
                f"Execution {name} already exists and ended {status}; call again with "
                f"attempt={attempt + 1} to start a new job."
            ) from err
        printer(f"Reusing execution {name} ({status}).")
        return arn
    printer(f"Started execution {name} (job {event['job_name']}).")
    return arn


@aws_errors
def wait_for_optimization(
    deployment: Deployment,
    execution: str,
    *,
    timeout_seconds: float = 6 * 3600,
    poll_seconds: float = 60,
    report_every_seconds: float = 600,
    printer: Printer = print,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _now,
) -> dict[str, Any]:
    """Wait for an execution; print status and elapsed time; return the result document.

    Prints when the status changes and every ``report_every_seconds``. Raises
    ``OptimizationFailedError`` if the workflow fails and ``TimeoutError`` after
    ``timeout_seconds`` (the execution keeps running: call again to keep waiting).
    """
    sfn = deployment.client("stepfunctions")
    deadline = clock() + timeout_seconds
    last_status, last_report = "", -math.inf
    while True:
        desc = sfn.describe_execution(executionArn=execution)
        status = desc["status"]
        elapsed = (now() - desc["startDate"]).total_seconds()
        if status != last_status or clock() - last_report >= report_every_seconds:
            printer(
                f"{now():%H:%M:%S} {desc.get('name', execution)}: {status}, "
                f"elapsed {_format_seconds(elapsed)}"
            )
            last_status, last_report = status, clock()
        if status == workflow_states.EXECUTION_SUCCEEDED:
            output: dict[str, Any] = json.loads(desc.get("output") or "{}")
            return output
        if status not in workflow_states.EXECUTION_RUNNING_STATUSES:
            raise OptimizationFailedError(
                f"{desc.get('name', execution)} ended {status}: {desc.get('error', '')} "
                f"{desc.get('cause', '')}".strip()
            )
        if clock() >= deadline:
            raise TimeoutError(
                f"{desc.get('name', execution)} still {status} after waiting "
                f"{_format_seconds(timeout_seconds)}; call wait_for_optimization again."
            )
        sleep(poll_seconds)


def _result_parameter(deployment: Deployment, job_name: str) -> str:
    deployment.require_optimization()
    return f"{deployment.results_parameter_prefix.rstrip('/')}/{job_name}"


@aws_errors
def load_result(deployment: Deployment, job_name: str) -> dict[str, Any]:
    """The result document of a finished job, from its SSM parameter."""
    name = _result_parameter(deployment, job_name)
    try:
        value = deployment.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as err:
        raise WorkbenchError(f"No result for job {job_name!r} at {name}: {err}") from err
    result: dict[str, Any] = json.loads(value)
    return result


@aws_errors
def list_results(deployment: Deployment) -> list[dict[str, Any]]:
    """Result documents of all finished jobs, newest first."""
    deployment.require_optimization()
    paginator = deployment.client("ssm").get_paginator("get_parameters_by_path")
    results: list[dict[str, Any]] = []
    for page in paginator.paginate(Path=deployment.results_parameter_prefix, Recursive=True):
        results.extend(json.loads(p["Value"]) for p in page["Parameters"])
    return sorted(results, key=lambda r: str(r.get("ended", "")), reverse=True)
