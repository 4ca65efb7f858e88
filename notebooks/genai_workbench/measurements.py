"""Measured speed and accuracy records: stored in the artifacts bucket, read back for the
report and the cost.

The record formats and the AIPerf parsing are ``workbench_domain.measurements`` and
``workbench_domain.accuracy``; this module moves records and benchmark archives between S3
and the caller.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from genai_workbench.benchmark import BenchmarkResult
from genai_workbench.common import WorkbenchError, _now, aws_errors, split_s3_uri
from genai_workbench.deployment import Deployment
from workbench_domain import accuracy as acc
from workbench_domain import measurements as m
from workbench_domain import speculative_metrics as sm
from workbench_domain.errors import ValidationError

ARCHIVE = "output/output.tar.gz"


@aws_errors
def store_record(deployment: Deployment, key: str, document: dict[str, Any]) -> str:
    """Write one record to the artifacts bucket (project key); returns its S3 URI."""
    deployment.client("s3").put_object(
        Bucket=deployment.artifacts_bucket,
        Key=key,
        Body=json.dumps(document, indent=2).encode(),
        ContentType="application/json",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=deployment.kms_key_arn,
    )
    return f"s3://{deployment.artifacts_bucket}/{key}"


def store_speed(deployment: Deployment, speed: m.Speed) -> str:
    return store_record(deployment, speed.key(), m.to_document(speed))


def store_accuracy(deployment: Deployment, accuracy: acc.Accuracy) -> str:
    return store_record(deployment, accuracy.key(), acc.to_document(accuracy))


@aws_errors
def load_records(deployment: Deployment, kind: str) -> dict[str, list[Any]]:
    """The stored records of one kind (`speed`, `accuracy`) by endpoint key, as documents."""
    s3 = deployment.client("s3")
    found: dict[str, list[Any]] = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=deployment.artifacts_bucket, Prefix=f"{m.PREFIX}/"):
        for item in page.get("Contents", []):
            parts = item["Key"].split("/")
            if len(parts) != 4 or parts[2] != kind or not parts[3].endswith(".json"):
                continue
            body = s3.get_object(Bucket=deployment.artifacts_bucket, Key=item["Key"])["Body"]
            try:
                found.setdefault(parts[1], []).append(m.loads(body.read(), item["Key"]))
            except ValidationError as error:
                raise WorkbenchError(str(error)) from None
    return found


def load_speeds(deployment: Deployment) -> dict[str, m.Speed]:
    """The newest stored speed record of each endpoint key."""
    try:
        return newest_speeds(load_records(deployment, m.SPEED))
    except ValidationError as error:
        raise WorkbenchError(str(error)) from None


def load_accuracies(deployment: Deployment) -> dict[str, dict[str, acc.Accuracy]]:
    """The newest stored accuracy of each endpoint key and task."""
    try:
        return newest_accuracies(load_records(deployment, acc.ACCURACY))
    except ValidationError as error:
        raise WorkbenchError(str(error)) from None


def newest_speeds(documents: dict[str, list[Any]]) -> dict[str, m.Speed]:
    found = {key: m.newest(docs, f"{m.PREFIX}/{key}") for key, docs in documents.items()}
    return {key: speed for key, speed in found.items() if speed is not None}


def newest_accuracies(documents: dict[str, list[Any]]) -> dict[str, dict[str, acc.Accuracy]]:
    found: dict[str, dict[str, acc.Accuracy]] = {}
    for key, docs in documents.items():
        for i, doc in enumerate(docs):
            record = acc.parse_accuracy(doc, f"{m.PREFIX}/{key}/{acc.ACCURACY}[{i}]")
            tasks = found.setdefault(key, {})
            if record.task not in tasks or record.measured_at > tasks[record.task].measured_at:
                tasks[record.task] = record
    return found


@dataclass(frozen=True)
class BenchmarkArchive:
    """What a finished AI benchmark job wrote: AIPerf's export, the archive's URI, its plots."""

    export: dict[str, Any]
    uri: str
    plots: dict[str, bytes]


@aws_errors
def benchmark_export(deployment: Deployment, output_s3_uri: str) -> BenchmarkArchive:
    """The AIPerf export and plots of a finished AI benchmark job, and its archive's URI.

    AWS's sample reads `<S3OutputLocation>output/output.tar.gz`; a job that nests its output one
    level deeper (a folder per job) is found by listing the location."""
    bucket, prefix = split_s3_uri(output_s3_uri)
    prefix = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"
    s3 = deployment.client("s3")
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
        if item["Key"].endswith(ARCHIVE)
    ]
    if not keys:
        raise WorkbenchError(f"no {ARCHIVE} under {output_s3_uri}: has the job completed?")
    key = min(keys, key=len)  # the sample's place first
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        files = m.read_archive(data)
        export = m.loads(files[m.AIPERF_EXPORT], m.AIPERF_EXPORT)
    except ValidationError as error:
        raise WorkbenchError(f"s3://{bucket}/{key}: {error}") from None
    if not isinstance(export, dict):
        raise WorkbenchError(f"s3://{bucket}/{key}: {m.AIPERF_EXPORT} is not a JSON object")
    plots = {name: data for name, data in files.items() if name.endswith(m.PLOT_SUFFIX)}
    return BenchmarkArchive(export, f"s3://{bucket}/{key}", plots)


def speed_of_async_run(
    result: BenchmarkResult,
    *,
    run: str,
    measured_at: datetime,
    concurrency: int,
    input_tokens: int,
    output_tokens: int,
) -> m.Speed:
    """The async runner's result (``benchmark_endpoint``) under the record's names: latency is
    submission to result file (queueing and polling included); no TTFT or ITL without a
    stream."""
    ok = result.ok
    per_request = [s.output_tokens / s.latency_seconds for s in ok if s.latency_seconds > 0]
    return m.Speed(
        endpoint_key=result.endpoint_key,
        runner="async-runner",
        run=run,
        measured_at=measured_at.isoformat(),
        requests=len(result.samples),
        error_rate_percent=(
            100.0 * (len(result.samples) - len(ok)) / len(result.samples) if result.samples else 0.0
        ),
        concurrency=concurrency,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        ttft_ms=m.Distribution(),
        itl_ms=m.Distribution(),
        request_latency_ms=m.distribution([s.latency_seconds * 1000 for s in ok]),
        tokens_per_second_per_request=statistics.fmean(per_request) if per_request else None,
        tokens_per_second=result.throughput_tokens_per_second or None,
        instance_type=result.instance_type,
        instances=max(1, result.instances),
        source="genai_workbench.benchmark_endpoint (end to end through the async queue)",
    )


@aws_errors
def speculative_acceptance(
    deployment: Deployment,
    endpoint_key: str,
    *,
    hours: float = 24,
    poll_seconds: float = 2,
    timeout_seconds: float = 300,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = _now,
) -> sm.Acceptance | None:
    """Speculative decoding's acceptance over the endpoint's last `hours` of logs (a Logs
    Insights query of vLLM's metric line); None when no line was written."""
    info = deployment._any_endpoint(endpoint_key)
    logs = deployment.client("logs")
    end = now()
    query = logs.start_query(
        logGroupName=sm.log_group(info.endpoint_name),
        startTime=int((end - timedelta(hours=hours)).timestamp()),
        endTime=int(end.timestamp()),
        queryString=sm.query(),
        limit=sm.MAX_LINES,
    )
    waited = 0.0
    while True:
        result = logs.get_query_results(queryId=query["queryId"])
        if result["status"] == "Complete":
            break
        if result["status"] in ("Failed", "Cancelled", "Timeout") or waited >= timeout_seconds:
            raise WorkbenchError(f"{endpoint_key}: the log query ended {result['status']}")
        sleep(poll_seconds)
        waited += poll_seconds
    messages = [
        cell.get("value", "")
        for fields_ in result.get("results", [])
        for cell in fields_
        if cell.get("field") == "@message"
    ]
    return sm.acceptance(messages)
