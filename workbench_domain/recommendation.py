"""SageMaker AI recommendation jobs: the workload they benchmark, the request, and the answer.

A recommendation job (`CreateAIRecommendationJob`) deploys a model from S3 on up to three
instance types, benchmarks each candidate with a workload config (`CreateAIWorkloadConfig`,
NVIDIA AIPerf) and returns deployment configurations with their expected performance. Field
names and limits are botocore's (`api_limits`, read from the service model); the workload spec
follows AWS's sample (aws-samples/sagemaker-genai-hosting-examples at 80ee5eb,
`03-features/gen-ai-inference-recommendations/inference_optimization_recommendation_boto3.ipynb`):
`{"benchmark": {"type": "aiperf"}, "parameters": {...}}` as JSON in `WorkloadSpec.Inline`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench_domain import api_limits, uris
from workbench_domain.errors import ValidationError

_RECOMMEND = api_limits.SAGEMAKER_MODEL.operation_model("CreateAIRecommendationJob").input_shape
_COMPUTE = _RECOMMEND.members["ComputeSpec"].members
_DESCRIBE = api_limits.SAGEMAKER_MODEL.operation_model("DescribeAIRecommendationJob").output_shape

# What a job can optimize for: time to first token, throughput or cost.
TARGETS: tuple[str, ...] = tuple(
    _RECOMMEND.members["PerformanceTarget"].members["Constraints"].member.members["Metric"].enum
)
FRAMEWORKS: tuple[str, ...] = tuple(
    _RECOMMEND.members["InferenceSpecification"].members["Framework"].enum
)
INSTANCE_TYPES: tuple[str, ...] = tuple(_COMPUTE["InstanceTypes"].member.enum)
MAX_INSTANCE_TYPES: int = _COMPUTE["InstanceTypes"].metadata["max"]
NAME_PATTERN: str = _RECOMMEND.members["AIRecommendationJobName"].metadata["pattern"]
NAME_MAX: int = _RECOMMEND.members["AIRecommendationJobName"].metadata["max"]
STATUSES: tuple[str, ...] = tuple(_DESCRIBE.members["AIRecommendationJobStatus"].enum)


def workload_spec(
    *, input_tokens: int, output_tokens: int, concurrency: int, request_count: int | None = None
) -> dict[str, Any]:
    """The AIPerf workload of a traffic profile: synthetic prompts of the profile's mean lengths,
    at its concurrency (the sample's keys; a public dataset would override the lengths). A
    benchmark also fixes its request count and makes every answer the full output length
    (`request_count`, `extra_inputs: ignore_eos:true`, as the sample's benchmark notebook
    `inference_optimization_benchmark_inference_component_boto3.ipynb` does)."""
    numbers = [
        ("input_tokens", input_tokens),
        ("output_tokens", output_tokens),
        ("concurrency", concurrency),
    ]
    if request_count is not None:
        numbers.append(("request_count", request_count))
    for name, value in numbers:
        if type(value) is not int or value < 1:
            raise ValidationError(name, "must be a whole number >= 1", value)
    spec: dict[str, Any] = {
        "benchmark": {"type": "aiperf"},
        "parameters": {
            "concurrency": concurrency,
            "prompt_input_tokens_mean": input_tokens,
            "prompt_input_tokens_stddev": 0,
            "output_tokens_mean": output_tokens,
            "output_tokens_stddev": 0,
        },
    }
    if request_count is not None:
        spec["parameters"].update(request_count=request_count, extra_inputs="ignore_eos:true")
    return spec


def benchmark_job_request(
    *,
    name: str,
    endpoint_name: str,
    inference_component: str,
    output_s3_uri: str,
    workload_config: str,
    role_arn: str,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The CreateAIBenchmarkJob request against one inference component of a realtime endpoint
    (the sample's target: endpoint plus `InferenceComponents`)."""
    problem = uris.s3_uri_problem(output_s3_uri)
    if problem is not None:
        raise ValidationError("output_s3_uri", problem, output_s3_uri, "s3://<bucket>/<prefix>/")
    request: dict[str, Any] = {
        "AIBenchmarkJobName": name,
        "BenchmarkTarget": {
            "Endpoint": {
                "Identifier": endpoint_name,
                "InferenceComponents": [{"Identifier": inference_component}],
            }
        },
        "OutputConfig": {"S3OutputLocation": output_s3_uri},
        "AIWorkloadConfigIdentifier": workload_config,
        "RoleArn": role_arn,
    }
    if tags:
        request["Tags"] = tag_list(tags)
    return request


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """SageMaker's `Tags` of a mapping, in key order."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def workload_config_request(
    name: str, spec: Mapping[str, Any], tags: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The CreateAIWorkloadConfig request of `spec`."""
    request: dict[str, Any] = {
        "AIWorkloadConfigName": name,
        "AIWorkloadConfigs": {"WorkloadSpec": {"Inline": json.dumps(spec, sort_keys=True)}},
    }
    if tags:
        request["Tags"] = tag_list(tags)
    return request


def job_request(
    *,
    name: str,
    model_s3_uri: str,
    output_s3_uri: str,
    workload_config: str,
    role_arn: str,
    target: str,
    instance_types: Sequence[str],
    framework: str | None = None,
    optimize: bool = False,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The CreateAIRecommendationJob request; a ValidationError names the first bad value."""
    if target not in TARGETS:
        raise ValidationError("target", "unknown", target, ", ".join(TARGETS))
    if not instance_types or len(instance_types) > MAX_INSTANCE_TYPES:
        raise ValidationError(
            "instance_types", "one to three", list(instance_types), f"1..{MAX_INSTANCE_TYPES}"
        )
    for instance_type in instance_types:
        if instance_type not in INSTANCE_TYPES:
            raise ValidationError(
                "instance_types",
                "not one a recommendation job runs on",
                instance_type,
                "GPU instance types such as ml.g6e.12xlarge, ml.p4d.24xlarge, ml.p5.48xlarge",
            )
    if framework is not None and framework not in FRAMEWORKS:
        raise ValidationError("framework", "unknown", framework, ", ".join(FRAMEWORKS))
    for what, uri in (("model_s3_uri", model_s3_uri), ("output_s3_uri", output_s3_uri)):
        problem = uris.s3_uri_problem(uri)
        if problem is not None:
            raise ValidationError(what, problem, uri, "s3://<bucket>/<prefix>/")
    request: dict[str, Any] = {
        "AIRecommendationJobName": name,
        "ModelSource": {"S3": {"S3Uri": model_s3_uri}},
        "OutputConfig": {"S3OutputLocation": output_s3_uri},
        "AIWorkloadConfigIdentifier": workload_config,
        "RoleArn": role_arn,
        "PerformanceTarget": {"Constraints": [{"Metric": target}]},
        "ComputeSpec": {"InstanceTypes": list(instance_types)},
        "OptimizeModel": optimize,
    }
    if framework is not None:
        request["InferenceSpecification"] = {"Framework": framework}
    if tags:
        request["Tags"] = tag_list(tags)
    return request


@dataclass(frozen=True)
class Performance:
    metric: str
    value: str
    stat: str = ""
    unit: str = ""

    def __str__(self) -> str:
        stat = f" {self.stat}" if self.stat else ""
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.metric}{stat} {self.value}{unit}"


@dataclass(frozen=True)
class Recommendation:
    """One deployment configuration a job recommends, as DescribeAIRecommendationJob gives it."""

    instance_type: str
    instance_count: int
    copies_per_instance: int
    image_uri: str
    optimizations: tuple[str, ...]
    performance: tuple[Performance, ...]
    environment: Mapping[str, str] = field(default_factory=dict)
    # Channel name -> S3 URI of the model data the deployment mounts.
    channels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


def recommendations(described: Mapping[str, Any]) -> list[Recommendation]:
    """The recommendations of a DescribeAIRecommendationJob response (empty until it completes)."""
    found = []
    for item in described.get("Recommendations") or []:
        deployment = item.get("DeploymentConfiguration") or {}
        found.append(
            Recommendation(
                instance_type=str(deployment.get("InstanceType", "")),
                instance_count=int(deployment.get("InstanceCount", 1)),
                copies_per_instance=int(deployment.get("CopyCountPerInstance", 1)),
                image_uri=str(deployment.get("ImageUri", "")),
                optimizations=tuple(
                    str(o["OptimizationType"]) for o in item.get("OptimizationDetails") or []
                ),
                performance=tuple(
                    Performance(
                        metric=str(p["Metric"]),
                        value=str(p["Value"]),
                        stat=str(p.get("Stat", "")),
                        unit=str(p.get("Unit", "")),
                    )
                    for p in item.get("ExpectedPerformance") or []
                ),
                environment=dict(deployment.get("EnvironmentVariables") or {}),
                channels={
                    str(c.get("ChannelName", "")): str(c.get("Uri", ""))
                    for c in deployment.get("S3") or []
                },
                description=str(item.get("RecommendationDescription", "")),
            )
        )
    return found


# The channel a recommendation mounts the model from, when it names several (AWS's samples
# deploy a recommendation's `S3` list as ModelDataSource/AdditionalModelDataSources: unverified
# which name the service gives the model's own channel; one channel needs no name).
MODEL_CHANNEL = "model"


def recommendation_entry(recommendation: Recommendation) -> dict[str, Any]:
    """The endpoint entry (workbench_domain.endpoint_entry) serving `recommendation`: its
    image where the serving table knows it (settings checked at synth), else engine `custom`
    with the recommendation's environment unchanged; its model channel as the model."""
    from workbench_domain.endpoint_entry import entry_for_model

    channels = dict(recommendation.channels)
    if len(channels) == 1:
        model = next(iter(channels.values()))
    elif MODEL_CHANNEL in channels:
        model = channels.pop(MODEL_CHANNEL)
    else:
        raise ValidationError(
            "recommendation.channels", "names no model channel", sorted(channels), MODEL_CHANNEL
        )
    others = sorted(k for k in channels if channels[k] != model)
    if others:
        raise ValidationError(
            "recommendation.channels",
            "mounts model data an endpoint entry cannot carry (it mounts one model, plus a "
            "speculative model of a known image); promote by hand",
            others,
        )
    if not recommendation.image_uri:
        raise ValidationError("recommendation.image_uri", "missing: nothing to serve with")
    return entry_for_model(
        model_s3_uri=model,
        instance_type=recommendation.instance_type,
        image_uri=recommendation.image_uri,
        environment=recommendation.environment,
    )
