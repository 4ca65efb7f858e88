"""handler.handler against botocore's Stubber: exact CreateOptimizationJob requests, idempotency."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from features.optimization.launcher_function import handler
from tests.unit.features.optimization.launcher_function.testkit import (
    ACCOUNT,
    BUCKET,
    DLC,
    KMS_KEY_ARN,
    LMI_IMAGE,
    NEURON_IMAGE,
    REGION,
    ROLE_ARN,
    TRTLLM_IMAGE,
)
from workbench_domain.errors import ValidationError
from workbench_domain.request_event import parse_request

SOURCE = "s3://genai-opt-dev-models/meta-llama-3-70b/"
PROJECT_TAGS = [{"Key": "project", "Value": "genai-opt"}, {"Key": "env", "Value": "dev"}]
NEURON_COMPILE_ENV = {
    "OPTION_TENSOR_PARALLEL_DEGREE": "24",
    "OPTION_N_POSITIONS": "8192",
    "OPTION_DTYPE": "fp16",
    "OPTION_ROLLING_BATCH": "auto",
    "OPTION_MAX_ROLLING_BATCH_SIZE": "4",
    "OPTION_NEURON_OPTIMIZE_LEVEL": "2",
}


class Matches:
    """Equal to any string that fully matches ``pattern``; remembers what it was compared with."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)
        self.seen: list[str] = []

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str) and self.pattern.fullmatch(other):
            self.seen.append(other)
            return True
        return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Matches({self.pattern.pattern!r})"


def arn(job_name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:optimization-job/{job_name}"


def not_found(stubber, job_name) -> None:
    stubber.add_client_error(
        "describe_optimization_job",
        service_error_code="ResourceNotFound",
        service_message=f"Optimization job {job_name} not found",
        http_status_code=400,
        expected_params={"OptimizationJobName": job_name},
    )


def describe_response(create_params: dict, status: str = "INPROGRESS") -> dict:
    """A DescribeOptimizationJob response echoing a create request (validated by the Stubber)."""
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    response = {
        key: copy.deepcopy(value) for key, value in create_params.items() if key not in ("Tags",)
    }
    response.update(
        OptimizationJobArn=arn(create_params["OptimizationJobName"]),
        OptimizationJobStatus=status,
        CreationTime=now,
        LastModifiedTime=now,
    )
    return response


def expect_launch(stubber, job_name, create_params) -> None:
    not_found(stubber, job_name)
    stubber.add_response("create_optimization_job", {"OptimizationJobArn": arn("x")}, create_params)


def quantization_config(image: str, environment: dict) -> list[dict]:
    return [{"ModelQuantizationConfig": {"Image": image, "OverrideEnvironment": environment}}]


def compilation_config(image: str, environment: dict) -> list[dict]:
    return [{"ModelCompilationConfig": {"Image": image, "OverrideEnvironment": environment}}]


# (id, event, expected DeploymentInstanceType-specific parts)
CASES = [
    pytest.param(
        {
            "technique": "quantization",
            "model_s3_uri": SOURCE,
            "accept_eula": True,
            "instance_type": "ml.p4d.24xlarge",
            "quantization": {"method": "awq"},
        },
        "genai-opt-dev-awq",
        {
            "ModelSource": {"S3": {"S3Uri": SOURCE, "ModelAccessConfig": {"AcceptEula": True}}},
            "OptimizationConfigs": quantization_config(LMI_IMAGE, {"OPTION_QUANTIZE": "awq"}),
        },
        id="awq-p4d-default-lmi-image-eula",
    ),
    pytest.param(
        {
            "technique": "quantization",
            "model_s3_uri": SOURCE,
            "instance_type": "ml.g5.12xlarge",
            "quantization": {"method": "awq"},
            "environment": {"OPTION_TENSOR_PARALLEL_DEGREE": "4"},
        },
        "genai-opt-dev-awq",
        {
            "ModelSource": {"S3": {"S3Uri": SOURCE}},
            "OptimizationConfigs": quantization_config(
                LMI_IMAGE, {"OPTION_QUANTIZE": "awq", "OPTION_TENSOR_PARALLEL_DEGREE": "4"}
            ),
        },
        id="awq-g5-environment-merged",
    ),
    pytest.param(
        {
            "technique": "quantization",
            "model_s3_uri": SOURCE,
            "instance_type": "ml.g5.48xlarge",
            "quantization": {"method": "smoothquant"},
        },
        "genai-opt-dev-smoothquant",
        {
            "ModelSource": {"S3": {"S3Uri": SOURCE}},
            "OptimizationConfigs": quantization_config(
                TRTLLM_IMAGE, {"OPTION_QUANTIZE": "smoothquant"}
            ),
        },
        id="smoothquant-g5-default-trtllm-image",
    ),
    pytest.param(
        {
            "technique": "quantization",
            "model_s3_uri": SOURCE,
            "instance_type": "ml.p5.48xlarge",
            "quantization": {"method": "fp8"},
        },
        "genai-opt-dev-fp8",
        {
            "ModelSource": {"S3": {"S3Uri": SOURCE}},
            "OptimizationConfigs": quantization_config(LMI_IMAGE, {"OPTION_QUANTIZE": "fp8"}),
        },
        id="fp8-p5",
    ),
    pytest.param(
        {
            "technique": "quantization",
            "model_s3_uri": SOURCE,
            "instance_type": "ml.g6e.12xlarge",
            "quantization": {"method": "fp8"},
        },
        "genai-opt-dev-fp8",
        {
            "ModelSource": {"S3": {"S3Uri": SOURCE}},
            "OptimizationConfigs": quantization_config(LMI_IMAGE, {"OPTION_QUANTIZE": "fp8"}),
        },
        id="fp8-g6e",
    ),
    pytest.param(
        {
            "technique": "compilation",
            "model_s3_uri": SOURCE,
            "accept_eula": True,
            "instance_type": "ml.inf2.48xlarge",
            "environment": NEURON_COMPILE_ENV,
        },
        "genai-opt-dev-neuron",
        {
            "ModelSource": {"S3": {"S3Uri": SOURCE, "ModelAccessConfig": {"AcceptEula": True}}},
            "OptimizationConfigs": compilation_config(NEURON_IMAGE, NEURON_COMPILE_ENV),
        },
        id="compile-inf2-default-neuron-image",
    ),
    pytest.param(
        {
            "technique": "compilation",
            "model_name": "llama-3-70b",
            "instance_type": "ml.trn1.32xlarge",
        },
        "genai-opt-dev-neuron",
        {
            "ModelSource": {"SageMakerModel": {"ModelName": "llama-3-70b"}},
            "OptimizationConfigs": [{"ModelCompilationConfig": {"Image": NEURON_IMAGE}}],
        },
        id="compile-trn1-model-name",
    ),
    pytest.param(
        {
            "technique": "compilation",
            "model_s3_uri": SOURCE,
            "instance_type": "ml.p4d.24xlarge",
            "environment": {"OPTION_ROLLING_BATCH": "trtllm", "OPTION_TENSOR_PARALLEL_DEGREE": "8"},
        },
        "genai-opt-dev-compile",
        {
            "ModelSource": {"S3": {"S3Uri": SOURCE}},
            "OptimizationConfigs": compilation_config(
                TRTLLM_IMAGE,
                {"OPTION_ROLLING_BATCH": "trtllm", "OPTION_TENSOR_PARALLEL_DEGREE": "8"},
            ),
        },
        id="compile-p4d-default-trtllm-image",
    ),
    pytest.param(
        {
            "technique": "speculative_decoding",
            "model_s3_uri": SOURCE,
            "instance_type": "ml.p5.48xlarge",
            "speculative_decoding": {"training_data_s3_uri": "s3://genai-opt-dev-data/sharegpt/"},
        },
        "genai-opt-dev-eagle",
        {
            "ModelSource": {"S3": {"S3Uri": SOURCE}},
            "OptimizationConfigs": [
                {
                    "ModelSpeculativeDecodingConfig": {
                        "Technique": "EAGLE",
                        "TrainingDataSource": {
                            "S3Uri": "s3://genai-opt-dev-data/sharegpt/",
                            "S3DataType": "S3Prefix",
                        },
                    }
                }
            ],
            "MaxInstanceCount": 1,
        },
        id="eagle-p5-training-data",
    ),
    pytest.param(
        {
            "technique": "speculative_decoding",
            "model_name": "llama-3-70b",
            "instance_type": "ml.g6e.48xlarge",
        },
        "genai-opt-dev-eagle",
        {
            "ModelSource": {"SageMakerModel": {"ModelName": "llama-3-70b"}},
            "OptimizationConfigs": [{"ModelSpeculativeDecodingConfig": {"Technique": "EAGLE"}}],
            "MaxInstanceCount": 1,
        },
        id="eagle-g6e-no-training-data",
    ),
]


@pytest.mark.parametrize(("event", "name_start", "specific"), CASES)
def test_launch_sends_exact_request(sagemaker, lambda_context, event, name_start, specific):
    stubber, calls = sagemaker
    name = Matches(rf"{name_start}-[0-9a-f]{{12}}")
    output = Matches(rf"s3://{BUCKET}/optimized/{name_start}-[0-9a-f]{{12}}/")
    expected = {
        "OptimizationJobName": name,
        "RoleArn": ROLE_ARN,
        "DeploymentInstanceType": event["instance_type"],
        "OutputConfig": {"S3OutputLocation": output, "KmsKeyId": KMS_KEY_ARN},
        "StoppingCondition": {"MaxRuntimeInSeconds": 36000},
        "Tags": [*PROJECT_TAGS, {"Key": "optimization-technique", "Value": event["technique"]}],
        **specific,
    }
    stubber.add_client_error(
        "describe_optimization_job",
        service_error_code="ResourceNotFound",
        http_status_code=400,
        expected_params={"OptimizationJobName": name},
    )
    stubber.add_response("create_optimization_job", {"OptimizationJobArn": arn("job")}, expected)

    result = handler.handler(event, lambda_context)

    job_name = result["job_name"]
    assert name.seen == [job_name, job_name]  # the same name described, then created
    assert result == {
        "job_name": job_name,
        "job_arn": arn("job"),
        "output_s3_uri": f"s3://{BUCKET}/optimized/{job_name}/",
        "created": True,
    }
    assert output.seen == [result["output_s3_uri"]]
    assert calls == ["DescribeOptimizationJob", "CreateOptimizationJob"]


def test_explicit_options_are_sent_verbatim(sagemaker, lambda_context):
    stubber, _ = sagemaker
    custom_image = (
        f"763104351884.dkr.ecr.{REGION}.amazonaws.com/djl-inference:0.30.0-lmi12.0.0-cu124"
    )
    event = {
        "technique": "quantization",
        "model_s3_uri": SOURCE,
        "instance_type": "ml.g6.12xlarge",
        "quantization": {"method": "fp8"},
        "image_uri": custom_image,
        "output_s3_uri": f"s3://{BUCKET}/optimized/experiments/fp8-run-1/",
        "job_name": "llama3-70b-fp8-run-1",
        "max_runtime_seconds": 7200,
        "tags": {"team": "ml-platform", "cost-center": "1234"},
    }
    params = {
        "OptimizationJobName": "llama3-70b-fp8-run-1",
        "RoleArn": ROLE_ARN,
        "ModelSource": {"S3": {"S3Uri": SOURCE}},
        "DeploymentInstanceType": "ml.g6.12xlarge",
        "OptimizationConfigs": quantization_config(custom_image, {"OPTION_QUANTIZE": "fp8"}),
        "OutputConfig": {
            "S3OutputLocation": f"s3://{BUCKET}/optimized/experiments/fp8-run-1/",
            "KmsKeyId": KMS_KEY_ARN,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
        "Tags": [
            *PROJECT_TAGS,
            {"Key": "optimization-technique", "Value": "quantization"},
            {"Key": "cost-center", "Value": "1234"},
            {"Key": "team", "Value": "ml-platform"},
        ],
    }
    expect_launch(stubber, "llama3-70b-fp8-run-1", params)

    result = handler.handler(event, lambda_context)

    assert result["job_name"] == "llama3-70b-fp8-run-1"
    assert result["output_s3_uri"] == f"s3://{BUCKET}/optimized/experiments/fp8-run-1/"
    assert result["created"] is True


def _awq_event(**changes) -> dict:
    event = {
        "technique": "quantization",
        "model_s3_uri": SOURCE,
        "instance_type": "ml.p4d.24xlarge",
        "quantization": {"method": "awq"},
    }
    event.update(changes)
    return event


def _plan(event):
    from features.optimization.launcher_function import launcher, settings

    return launcher.plan_job(parse_request(event), settings.launcher_settings())


def test_job_name_is_deterministic(launcher_env):
    event = _awq_event(tags={"b": "2", "a": "1"}, environment={"Y": "1", "X": "2"})
    reordered = dict(reversed(list(event.items())))
    reordered["tags"] = {"a": "1", "b": "2"}
    reordered["environment"] = {"X": "2", "Y": "1"}
    assert _plan(event).job_name == _plan(reordered).job_name
    # Pinned: changing the canonical form renames jobs and defeats de-duplication across deploys.
    assert _plan(_awq_event()).job_name == "genai-opt-dev-awq-bd812276b7b7"


@pytest.mark.parametrize(
    "change",
    [
        {"instance_type": "ml.p4de.24xlarge"},
        {"model_s3_uri": "s3://genai-opt-dev-models/other/"},
        {"accept_eula": True},
        {"max_runtime_seconds": 3600},
        {"environment": {"OPTION_TENSOR_PARALLEL_DEGREE": "8"}},
        {"tags": {"team": "a"}},
        {"image_uri": f"{DLC}:0.30.0-lmi12.0.0-cu124"},
        {"output_s3_uri": f"s3://{BUCKET}/optimized/elsewhere/"},
    ],
)
def test_job_name_changes_with_the_request(launcher_env, change):
    assert _plan(_awq_event(**change)).job_name != _plan(_awq_event()).job_name


def test_job_name_differs_between_environments(monkeypatch, launcher_env):
    from features.optimization.launcher_function import settings

    dev = _plan(_awq_event()).job_name
    monkeypatch.setenv("ENV_NAME", "prod")
    settings.launcher_settings.cache_clear()
    assert _plan(_awq_event()).job_name != dev


def test_same_request_twice_starts_one_job(sagemaker, lambda_context):
    stubber, calls = sagemaker
    event = _awq_event()
    plan = _plan(event)
    expect_launch(stubber, plan.job_name, plan.create_params)
    stubber.add_response(
        "describe_optimization_job",
        describe_response(plan.create_params),
        {"OptimizationJobName": plan.job_name},
    )

    first = handler.handler(event, lambda_context)
    second = handler.handler(dict(event), lambda_context)

    assert first["created"] is True
    assert second == {
        "job_name": plan.job_name,
        "job_arn": arn(plan.job_name),
        "output_s3_uri": plan.output_s3_uri,
        "created": False,
    }
    assert calls == [
        "DescribeOptimizationJob",
        "CreateOptimizationJob",
        "DescribeOptimizationJob",
    ]


def test_resource_in_use_race_returns_the_other_job(sagemaker, lambda_context):
    stubber, calls = sagemaker
    event = _awq_event()
    plan = _plan(event)
    not_found(stubber, plan.job_name)
    stubber.add_client_error(
        "create_optimization_job",
        service_error_code="ResourceInUse",
        service_message="Job name already in use",
        http_status_code=400,
        expected_params=plan.create_params,
    )
    stubber.add_response(
        "describe_optimization_job",
        describe_response(plan.create_params, status="STARTING"),
        {"OptimizationJobName": plan.job_name},
    )

    result = handler.handler(event, lambda_context)

    assert result == {
        "job_name": plan.job_name,
        "job_arn": arn(plan.job_name),
        "output_s3_uri": plan.output_s3_uri,
        "created": False,
    }
    assert calls == [
        "DescribeOptimizationJob",
        "CreateOptimizationJob",
        "DescribeOptimizationJob",
    ]


def test_existing_job_with_another_request_is_refused(sagemaker, lambda_context):
    stubber, calls = sagemaker
    event = _awq_event(job_name="my-job")
    other = _plan(_awq_event(job_name="my-job", instance_type="ml.g5.48xlarge"))
    stubber.add_response(
        "describe_optimization_job",
        describe_response(other.create_params, status="COMPLETED"),
        {"OptimizationJobName": "my-job"},
    )

    with pytest.raises(ValidationError) as caught:
        handler.handler(event, lambda_context)

    assert caught.value.field == "job_name"
    assert "ml.g5.48xlarge" in str(caught.value)
    assert calls == ["DescribeOptimizationJob"]


@pytest.mark.parametrize("code", ["ResourceLimitExceeded", "ThrottlingException"])
def test_other_create_errors_propagate(sagemaker, lambda_context, code):
    stubber, _ = sagemaker
    plan = _plan(_awq_event())
    not_found(stubber, plan.job_name)
    stubber.add_client_error(
        "create_optimization_job", service_error_code=code, http_status_code=400
    )
    with pytest.raises(ClientError) as caught:
        handler.handler(_awq_event(), lambda_context)
    assert caught.value.response["Error"]["Code"] == code


def test_describe_errors_other_than_not_found_propagate(sagemaker, lambda_context):
    stubber, calls = sagemaker
    stubber.add_client_error(
        "describe_optimization_job",
        service_error_code="AccessDeniedException",
        http_status_code=403,
    )
    with pytest.raises(ClientError):
        handler.handler(_awq_event(), lambda_context)
    assert calls == ["DescribeOptimizationJob"]
