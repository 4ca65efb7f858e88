"""Lambda entry ``recorder.handler``: record and announce the outcome of an ended optimization job.

Called by the Step Functions workflow once DescribeOptimizationJob reports a terminal status. Event:

    {"job_name": "<name>", "job": {<DescribeOptimizationJob response>}, ...}

(other keys, e.g. the launcher's output, are ignored; a flat event holding the
DescribeOptimizationJob fields at the top level next to "job_name" is accepted too).

- COMPLETED: writes the result to the SSM parameter ``<RESULTS_PARAMETER_PREFIX>/<job_name>`` and to
  ``optimization-result.json`` under the job's output prefix (SSE-KMS with KMS_KEY_ARN), then
  publishes a short message to JOB_TOPIC_ARN.
- FAILED / STOPPED: publishes the FailureReason to JOB_TOPIC_ARN.
- Any other status raises JobNotFinishedError (the workflow should keep polling).

Returns the result dict; the workflow branches on ``status`` ("COMPLETED", "FAILED", "STOPPED") or
``succeeded`` (bool). On success it also holds ``parameter_name`` and ``result_s3_uri``.
SNS message attributes ``status`` and ``job_name`` allow subscription filter policies.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from workbench_domain.errors import ValidationError

from . import job_result
from .errors import JobNotFinishedError
from .settings import RecorderSettings, recorder_settings

logger = Logger(service="optimization-recorder")


@functools.cache
def aws_clients() -> tuple[Any, Any, Any]:
    """(ssm, s3, sns) clients, created once per cold start."""
    return boto3.client("ssm"), boto3.client("s3"), boto3.client("sns")


def _job_of(event: Any) -> tuple[str, Mapping[str, Any]]:
    if not isinstance(event, dict):
        raise ValidationError("event", "must be a JSON object", event, 'keys "job_name" and "job"')
    job_name = event.get("job_name")
    if not isinstance(job_name, str) or not job_name:
        raise ValidationError("job_name", "is required (a non-empty string)", job_name)
    job = event.get("job", event)
    if not isinstance(job, dict):
        raise ValidationError("job", "must be the DescribeOptimizationJob response object", job)
    return job_name, job


def record(event: Any, settings: RecorderSettings, ssm: Any, s3: Any, sns: Any) -> dict[str, Any]:
    job_name, job = _job_of(event)
    result = job_result.summarize(job_name, job)
    status = result["status"]
    if status not in job_result.TERMINAL_STATUSES:
        raise JobNotFinishedError(
            f"optimization job {job_name} is still {status}; nothing recorded"
        )

    parameter_name = None
    returned = dict(result, succeeded=status == job_result.COMPLETED)
    if status == job_result.COMPLETED:
        location = job_result.result_location(result["output_s3_uri"] or "")  # check before writing
        body = json.dumps(result, sort_keys=True)
        parameter_name = f"{settings.results_parameter_prefix}/{job_name}"
        ssm.put_parameter(
            Name=parameter_name,
            Description=f"Result of SageMaker optimization job {job_name}",
            Value=body,
            Type="String",
            Tier="Standard",
            Overwrite=True,  # a retried recording rewrites the same value
        )
        s3.put_object(
            Bucket=location.bucket,
            Key=location.key,
            Body=body.encode(),
            ContentType="application/json",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=settings.kms_key_arn,
        )
        returned.update(parameter_name=parameter_name, result_s3_uri=location.uri)

    subject, message = job_result.notification(result, parameter_name)
    sns.publish(
        TopicArn=settings.job_topic_arn,
        Subject=subject,
        Message=message,
        MessageAttributes={
            "status": {"DataType": "String", "StringValue": status},
            "job_name": {"DataType": "String", "StringValue": job_name},
        },
    )
    return returned


@logger.inject_lambda_context
def handler(event: Any, context: Any) -> dict[str, Any]:
    settings = recorder_settings()
    ssm, s3, sns = aws_clients()
    result = record(event, settings, ssm, s3, sns)
    logger.info("Recorded optimization job outcome", outcome=result)
    return result
