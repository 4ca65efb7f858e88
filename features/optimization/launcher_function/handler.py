"""Lambda entry ``handler.handler``: validate an optimization request and start the job once.

Returns ``{"job_name", "job_arn", "output_s3_uri", "created"}``; ``created`` is False when a job of
that name already existed (same request sent twice). Invalid input raises ``ValidationError``
(catchable by that name in Step Functions) before any SageMaker call. The event schema is in
``workbench_domain/optimization_request.py``, the configuration (environment variables) in
``settings.py``, the rules in ``workbench_domain/optimization_rules.py`` (shared with the
notebook client and `make optimize`).
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from workbench_domain import api_limits
from workbench_domain.errors import ValidationError
from workbench_domain.request_event import parse_request

from .launcher import launch, plan_job
from .settings import launcher_settings

logger = Logger(service="optimization-launcher")


@functools.cache
def sagemaker_client() -> Any:
    """One client per cold start, built on the botocore session whose model was checked."""
    return boto3.session.Session(botocore_session=api_limits.BOTOCORE_SESSION).client("sagemaker")


@logger.inject_lambda_context
def handler(event: Any, context: Any) -> dict[str, Any]:
    settings = launcher_settings()
    try:
        plan = plan_job(parse_request(event), settings)
    except ValidationError as error:
        logger.warning("Refused optimization request", field=error.field, reason=str(error))
        raise
    logger.info(
        "Launching optimization job",
        job_name=plan.job_name,
        request=plan.create_params,
    )
    result = launch(sagemaker_client(), plan)
    logger.info("Optimization job ready", job=result)
    return result
