"""Turn a DescribeOptimizationJob response into the result the project records (pure, no AWS).

The response may come straight from boto3 (timestamps as ``datetime``) or through a Step Functions
AWS SDK task (timestamps as ISO 8601 strings such as ``2024-07-10T12:00:00.123Z``); epoch numbers
are accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from workbench_domain import api_limits, uris, workflow_states
from workbench_domain.errors import ValidationError
from workbench_domain.optimization_request import CONFIG_MEMBERS

COMPLETED = workflow_states.JOB_COMPLETED
TERMINAL_STATUSES = workflow_states.JOB_TERMINAL_STATUSES

# OptimizationConfigs union member -> technique name (the launcher's "technique" names; sharding,
# which the launcher does not start, can still be described).
TECHNIQUE_NAMES = {
    **{member: technique for technique, member in CONFIG_MEMBERS.items()},
    "ModelShardingConfig": "sharding",
}

RESULT_FILE_NAME = "optimization-result.json"


def parse_timestamp(value: Any, field: str) -> datetime | None:
    """A timezone-aware UTC datetime from a datetime, an ISO 8601 string or epoch seconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(field, "is not an ISO 8601 timestamp", value) from None
    else:
        raise ValidationError(field, "is not a timestamp", value, "ISO 8601 string or datetime")
    if moment.tzinfo is None:  # the API's timestamps are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def techniques(configs: Any) -> list[str]:
    names = []
    for config in configs or []:
        for member in config:
            names.append(TECHNIQUE_NAMES.get(member, member))
    return names


def job_images(configs: Any) -> list[str]:
    """The image each optimization config ran with (`<member>.Image`), in order: a compiled
    engine loads only in the TensorRT-LLM (or Neuron SDK) that built it."""
    return [
        str(member["Image"])
        for config in configs or []
        for member in config.values()
        if isinstance(member, Mapping) and member.get("Image")
    ]


def result_location(output_s3_uri: str) -> uris.S3Location:
    """Where optimization-result.json goes: next to the artifacts, under the output prefix."""
    problem = uris.s3_uri_problem(output_s3_uri)
    if problem is not None:
        raise ValidationError("OutputConfig.S3OutputLocation", problem, output_s3_uri)
    location = uris.parse_s3_uri(output_s3_uri)
    prefix = location.key if not location.key or location.key.endswith("/") else f"{location.key}/"
    return uris.S3Location(location.bucket, f"{prefix}{RESULT_FILE_NAME}")


def summarize(job_name: str, job: Mapping[str, Any]) -> dict[str, Any]:
    """The result dict recorded for a job (any status)."""
    status = job.get("OptimizationJobStatus")
    if status not in api_limits.JOB_STATUSES:
        raise ValidationError(
            "job.OptimizationJobStatus",
            "is not an optimization job status",
            status,
            ", ".join(api_limits.JOB_STATUSES),
        )
    described_name = job.get("OptimizationJobName")
    if described_name is not None and described_name != job_name:
        raise ValidationError(
            "job.OptimizationJobName", "does not match job_name", described_name, job_name
        )
    started = parse_timestamp(job.get("OptimizationStartTime"), "job.OptimizationStartTime")
    ended = parse_timestamp(job.get("OptimizationEndTime"), "job.OptimizationEndTime")
    duration = int((ended - started).total_seconds()) if started and ended else None
    return {
        "job_name": job_name,
        "job_arn": job.get("OptimizationJobArn"),
        "status": status,
        "techniques": techniques(job.get("OptimizationConfigs")),
        "job_images": job_images(job.get("OptimizationConfigs")),
        "deployment_instance_type": job.get("DeploymentInstanceType"),
        "output_s3_uri": (job.get("OutputConfig") or {}).get("S3OutputLocation"),
        "recommended_inference_image": (job.get("OptimizationOutput") or {}).get(
            "RecommendedInferenceImage"
        ),
        "started": _iso(started),
        "ended": _iso(ended),
        "duration_seconds": duration,
        "failure_reason": job.get("FailureReason"),
    }


def _duration_text(seconds: int | None) -> str:
    if seconds is None:
        return "unknown"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s"


def notification(result: Mapping[str, Any], parameter_name: str | None) -> tuple[str, str]:
    """(subject, message) for the job topic. The subject stays under SNS's 100-character limit."""
    subject = f"Optimization job {result['job_name']} {result['status']}"
    lines = [
        f"Optimization job {result['job_name']} ended with status {result['status']}.",
        f"Technique: {', '.join(result['techniques']) or 'unknown'}",
        f"Instance type: {result['deployment_instance_type']}",
        f"Duration: {_duration_text(result['duration_seconds'])}",
    ]
    if result["status"] == COMPLETED:
        lines += [
            f"Output: {result['output_s3_uri']}",
            f"Recommended inference image: {result['recommended_inference_image']}",
            f"Result parameter: {parameter_name}",
        ]
    else:
        lines.append(f"Reason: {result['failure_reason'] or 'not given'}")
    lines.append(f"Job ARN: {result['job_arn']}")
    return subject, "\n".join(lines)
