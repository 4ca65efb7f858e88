"""Build the CreateOptimizationJob request and start the job at most once.

Field names and shapes follow botocore's SageMaker model (CreateOptimizationJobRequest); the unit
tests send every request through ``botocore.stub.Stubber``, which validates it against that model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from workbench_domain import job_names, optimization_rules
from workbench_domain.errors import ValidationError
from workbench_domain.optimization_request import (
    CONFIG_MEMBERS,
    SPECULATIVE_DECODING,
    OptimizationRequest,
)

from .settings import LauncherSettings

SPECULATIVE_TECHNIQUE = "EAGLE"
TRAINING_DATA_TYPE = "S3Prefix"

RESOURCE_IN_USE = "ResourceInUse"
RESOURCE_NOT_FOUND = "ResourceNotFound"


@dataclass(frozen=True)
class JobPlan:
    job_name: str
    output_s3_uri: str
    create_params: dict[str, Any]


def _optimization_config(request: OptimizationRequest, image: str | None) -> dict[str, Any]:
    if request.technique == SPECULATIVE_DECODING:
        config: dict[str, Any] = {"Technique": SPECULATIVE_TECHNIQUE}
        if request.training_data_s3_uri is not None:
            config["TrainingDataSource"] = {
                "S3Uri": request.training_data_s3_uri,
                "S3DataType": TRAINING_DATA_TYPE,
            }
        return {CONFIG_MEMBERS[SPECULATIVE_DECODING]: config}
    environment = request.job_environment()
    config = {"Image": image}
    if environment:
        config["OverrideEnvironment"] = dict(sorted(environment.items()))
    return {CONFIG_MEMBERS[request.technique]: config}


def _model_source(request: OptimizationRequest) -> dict[str, Any]:
    if request.model_name is not None:
        return {"SageMakerModel": {"ModelName": request.model_name}}
    s3: dict[str, Any] = {"S3Uri": request.model_s3_uri}
    # Like the SageMaker Python SDK (aws/sagemaker-python-sdk v2,
    # src/sagemaker/serve/utils/optimize_utils.py), send ModelAccessConfig only to accept a EULA;
    # AcceptEula is required inside it.
    if request.accept_eula:
        s3["ModelAccessConfig"] = {"AcceptEula": True}
    return {"S3": s3}


def plan_job(request: OptimizationRequest, settings: LauncherSettings) -> JobPlan:
    """Apply the rules and build the CreateOptimizationJob parameters; no AWS call."""
    image = optimization_rules.check_and_resolve_image(request, settings)
    job_name = request.job_name or job_names.run_name(
        request, project=settings.project_name, env_name=settings.env_name
    )
    output = (
        request.output_s3_uri
        or f"s3://{settings.artifacts_bucket}/{settings.output_prefix}{job_name}/"
    )
    tags = [
        {"Key": "project", "Value": settings.project_name},
        {"Key": "env", "Value": settings.env_name},
        {"Key": "optimization-technique", "Value": request.technique},
        *({"Key": key, "Value": value} for key, value in sorted(request.tags.items())),
    ]
    params: dict[str, Any] = {
        "OptimizationJobName": job_name,
        "RoleArn": settings.job_role_arn,
        "ModelSource": _model_source(request),
        "DeploymentInstanceType": request.instance_type,
        "OptimizationConfigs": [_optimization_config(request, image)],
        "OutputConfig": {"S3OutputLocation": output, "KmsKeyId": settings.kms_key_arn},
        "StoppingCondition": {"MaxRuntimeInSeconds": request.max_runtime_seconds},
        "Tags": tags,
    }
    if request.technique == SPECULATIVE_DECODING:
        params["MaxInstanceCount"] = 1
    return JobPlan(job_name=job_name, output_s3_uri=output, create_params=params)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def describe_job(client: Any, job_name: str) -> dict[str, Any] | None:
    """DescribeOptimizationJob, or None when the job does not exist (ResourceNotFound)."""
    try:
        response: dict[str, Any] = client.describe_optimization_job(OptimizationJobName=job_name)
    except ClientError as error:
        if _error_code(error) == RESOURCE_NOT_FOUND:
            return None
        raise
    return response


def _identity(
    model_source: dict[str, Any], instance_type: str, configs: list[dict[str, Any]]
) -> dict[str, Any]:
    """The parts of a job that say what it does, compared when a job of the same name exists."""
    source = model_source.get("S3", {}).get("S3Uri") or model_source.get("SageMakerModel", {}).get(
        "ModelName"
    )
    return {
        "model source": source,
        "instance type": instance_type,
        "techniques": sorted(key for config in configs for key in config),
    }


def _existing(plan: JobPlan, job: dict[str, Any]) -> dict[str, Any]:
    wanted = _identity(
        plan.create_params["ModelSource"],
        plan.create_params["DeploymentInstanceType"],
        plan.create_params["OptimizationConfigs"],
    )
    found = _identity(
        job.get("ModelSource", {}),
        job.get("DeploymentInstanceType", ""),
        job.get("OptimizationConfigs", []),
    )
    if wanted != found:
        different = "; ".join(
            f"{key} {found[key]!r} instead of {wanted[key]!r}"
            for key in wanted
            if wanted[key] != found[key]
        )
        raise ValidationError(
            "job_name",
            f"already names an optimization job that does something else ({different})",
            plan.job_name,
            "a job_name not used yet in this account and region, or omit job_name",
        )
    return {
        "job_name": plan.job_name,
        "job_arn": job["OptimizationJobArn"],
        "output_s3_uri": job.get("OutputConfig", {}).get("S3OutputLocation", plan.output_s3_uri),
        "created": False,
    }


def launch(client: Any, plan: JobPlan) -> dict[str, Any]:
    """Start the job unless a job of that name exists; return its name, ARN and output location.

    Idempotent: a second call with the same plan returns the first job with ``created: False``,
    found either by DescribeOptimizationJob or, when two calls race, by CreateOptimizationJob's
    ResourceInUse error.
    """
    job = describe_job(client, plan.job_name)
    if job is not None:
        return _existing(plan, job)
    try:
        response = client.create_optimization_job(**plan.create_params)
    except ClientError as error:
        if _error_code(error) != RESOURCE_IN_USE:
            raise
        job = describe_job(client, plan.job_name)
        if job is None:
            raise
        return _existing(plan, job)
    return {
        "job_name": plan.job_name,
        "job_arn": response["OptimizationJobArn"],
        "output_s3_uri": plan.output_s3_uri,
        "created": True,
    }
