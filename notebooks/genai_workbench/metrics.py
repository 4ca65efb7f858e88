"""Endpoint state and CloudWatch metrics, cold starts, and the numbers derived from them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from genai_workbench.async_inference import AsyncResult, invoke_async, poll_async_result
from genai_workbench.common import (
    REQUEST_TTL_RANGE,
    AsyncInferenceFailedError,
    Printer,
    WorkbenchError,
    _format_seconds,
    _now,
    aws_errors,
)
from genai_workbench.deployment import Deployment
from workbench_domain import comparison
from workbench_domain.async_inference import variant_instance_count
from workbench_domain.errors import ValidationError
from workbench_domain.measurements import percentile_cuts


@dataclass(frozen=True)
class InstanceSample:
    """The endpoint variant's instance count at a moment."""

    at: datetime
    count: int


@aws_errors
def endpoint_instance_count(deployment: Deployment, endpoint_key: str) -> int:
    """``CurrentInstanceCount`` of the endpoint's variant (0 while scaled to zero)."""
    info = deployment.endpoint(endpoint_key)
    desc = deployment.client("sagemaker").describe_endpoint(EndpointName=info.endpoint_name)
    try:
        return variant_instance_count(desc, info.variant_name)
    except ValidationError as error:
        raise WorkbenchError(str(error)) from None


@aws_errors
def watch_instance_count(
    deployment: Deployment,
    endpoint_key: str,
    *,
    until: Callable[[int], bool],
    timeout_seconds: float = 3600,
    poll_seconds: float = 30,
    printer: Printer = print,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _now,
) -> list[InstanceSample]:
    """Sample the instance count until ``until(count)`` holds or the timeout passes."""
    samples: list[InstanceSample] = []
    deadline = clock() + timeout_seconds
    while True:
        count = endpoint_instance_count(deployment, endpoint_key)
        if not samples or samples[-1].count != count:
            printer(f"{now():%H:%M:%S} {endpoint_key}: {count} instance(s)")
        samples.append(InstanceSample(now(), count))
        if until(count) or clock() >= deadline:
            return samples
        sleep(poll_seconds)


@dataclass(frozen=True)
class ColdStart:
    """One request sent to an endpoint, timed from submission to capacity and to result."""

    initial_instances: int
    capacity_seconds: float | None
    result_seconds: float
    samples: list[InstanceSample]
    result: AsyncResult


@aws_errors
def measure_cold_start(
    deployment: Deployment,
    endpoint_key: str,
    payload: Any,
    *,
    timeout_seconds: float = 3600,
    poll_seconds: float = 15,
    printer: Printer = print,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _now,
) -> ColdStart:
    """Send one request and time how long capacity and the first result take."""
    initial = endpoint_instance_count(deployment, endpoint_key)
    if initial:
        printer(f"{endpoint_key} already has {initial} instance(s): this is a warm request.")
    invocation = invoke_async(
        deployment, endpoint_key, payload, request_ttl_seconds=REQUEST_TTL_RANGE[1], now=now
    )
    samples = [InstanceSample(invocation.submitted_at, initial)]
    capacity_at = invocation.submitted_at if initial else None
    deadline = clock() + timeout_seconds
    while True:
        if capacity_at is None:
            count = endpoint_instance_count(deployment, endpoint_key)
            samples.append(InstanceSample(now(), count))
            if count:
                capacity_at = samples[-1].at
                printer(
                    f"{now():%H:%M:%S} capacity after "
                    f"{_format_seconds((capacity_at - invocation.submitted_at).total_seconds())}"
                )
        result = poll_async_result(deployment, invocation, now=now)
        if result is not None:
            if not result.succeeded:
                raise AsyncInferenceFailedError(f"request failed: {result.body!r:.500}")
            capacity = (
                (capacity_at - invocation.submitted_at).total_seconds() if capacity_at else None
            )
            printer(f"{now():%H:%M:%S} result after {_format_seconds(result.latency_seconds)}")
            return ColdStart(initial, capacity, result.latency_seconds, samples, result)
        if clock() >= deadline:
            raise TimeoutError(f"no result after {_format_seconds(timeout_seconds)}")
        sleep(poll_seconds)


ASYNC_BACKLOG_METRICS = ("ApproximateBacklogSize", "HasBacklogWithoutCapacity")


@aws_errors
def metric_series(
    deployment: Deployment,
    endpoint_key: str,
    *,
    start: datetime,
    end: datetime | None = None,
    metrics: Sequence[str] = ASYNC_BACKLOG_METRICS,
    period_seconds: int = 60,
    statistic: str = "Average",
) -> dict[str, list[tuple[datetime, float]]]:
    """CloudWatch series of the endpoint's async metrics (``AWS/SageMaker``, ``EndpointName``).

    Returns ``{metric: [(timestamp, value), ...]}`` in time order.
    """
    info = deployment.endpoint(endpoint_key)
    queries: list[dict[str, Any]] = [
        {
            "Id": f"m{i}",
            "Label": name,
            "ReturnData": True,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SageMaker",
                    "MetricName": name,
                    "Dimensions": [{"Name": "EndpointName", "Value": info.endpoint_name}],
                },
                "Period": period_seconds,
                "Stat": statistic,
            },
        }
        for i, name in enumerate(metrics)
    ]
    by_id: dict[str, list[tuple[datetime, float]]] = {q["Id"]: [] for q in queries}
    cloudwatch = deployment.client("cloudwatch")
    kwargs: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end or _now(),
        "ScanBy": "TimestampAscending",
    }
    while True:
        page = cloudwatch.get_metric_data(**kwargs)
        for result in page["MetricDataResults"]:
            values = result["Values"]
            by_id[result["Id"]].extend(
                (stamp, values[i]) for i, stamp in enumerate(result["Timestamps"])
            )
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return {q["Label"]: sorted(by_id[q["Id"]]) for q in queries}


def cost_per_million_tokens(price_usd_per_hour: float, tokens_per_second: float) -> float:
    """USD per million generated tokens at a sustained throughput on one instance."""
    try:
        return comparison.cost_per_million_tokens(price_usd_per_hour, tokens_per_second)
    except ValueError as error:
        raise WorkbenchError(str(error)) from None


def latency_summary(samples: Iterable[float]) -> dict[str, float]:
    """count, mean, min, p50, p90, p99, max of latency samples (linear interpolation)."""
    ordered = sorted(float(s) for s in samples)
    if not ordered:
        raise WorkbenchError("no latency samples")
    cuts = percentile_cuts(ordered)
    return {
        "count": float(len(ordered)),
        "mean": statistics.fmean(ordered),
        "min": ordered[0],
        "p50": cuts[49],
        "p90": cuts[89],
        "p99": cuts[98],
        "max": ordered[-1],
    }
