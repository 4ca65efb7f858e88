"""Measured speed records: stored in the artifacts bucket, read back for the report and the cost.

The record format and the AIPerf parsing are ``workbench_domain.measurements``; this module
moves records and benchmark archives between S3 and the caller.
"""

from __future__ import annotations

import json
import statistics
from datetime import datetime

from genai_workbench.benchmark import BenchmarkResult
from genai_workbench.common import WorkbenchError, aws_errors, split_s3_uri
from genai_workbench.deployment import Deployment
from workbench_domain import measurements as m
from workbench_domain.errors import ValidationError

ARCHIVE = "output/output.tar.gz"


@aws_errors
def store_speed(deployment: Deployment, speed: m.Speed) -> str:
    """Write the record to the artifacts bucket (project key); returns its S3 URI."""
    key = speed.key()
    deployment.client("s3").put_object(
        Bucket=deployment.artifacts_bucket,
        Key=key,
        Body=json.dumps(m.to_document(speed), indent=2).encode(),
        ContentType="application/json",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=deployment.kms_key_arn,
    )
    return f"s3://{deployment.artifacts_bucket}/{key}"


@aws_errors
def load_speeds(deployment: Deployment) -> dict[str, m.Speed]:
    """The newest stored speed record of each endpoint key."""
    s3 = deployment.client("s3")
    by_endpoint: dict[str, list[object]] = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=deployment.artifacts_bucket, Prefix=f"{m.PREFIX}/"):
        for item in page.get("Contents", []):
            parts = item["Key"].split("/")
            if len(parts) != 4 or parts[2] != m.SPEED or not parts[3].endswith(".json"):
                continue
            body = s3.get_object(Bucket=deployment.artifacts_bucket, Key=item["Key"])["Body"]
            try:
                by_endpoint.setdefault(parts[1], []).append(m.loads(body.read(), item["Key"]))
            except ValidationError as error:
                raise WorkbenchError(str(error)) from None
    try:
        found = {key: m.newest(docs, f"{m.PREFIX}/{key}") for key, docs in by_endpoint.items()}
    except ValidationError as error:
        raise WorkbenchError(str(error)) from None
    return {key: speed for key, speed in found.items() if speed is not None}


@aws_errors
def benchmark_export(deployment: Deployment, output_s3_uri: str) -> tuple[dict[str, object], str]:
    """The AIPerf export of a finished AI benchmark job, and the URI of the archive it came from.

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
    return export, f"s3://{bucket}/{key}"


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
