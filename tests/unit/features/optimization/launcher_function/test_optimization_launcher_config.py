"""Settings from the environment, the botocore guard, and the model-derived rule tables."""

from __future__ import annotations

import contextlib
import copy

import boto3
import botocore
import botocore.session
import pytest
from botocore.model import ServiceModel
from botocore.stub import Stubber

from features.optimization.launcher_function import (
    handler,
    job_result,
    launcher,
    recorder,
    settings,
)
from features.optimization.launcher_function.errors import ConfigurationError
from tests.unit.features.optimization.launcher_function.testkit import (
    LAUNCHER_ENV,
    model_violations,
)
from workbench_domain import api_limits, instances, optimization_request
from workbench_domain.errors import UnsupportedBotocoreError

RECORDER_ENV = {
    "RESULTS_PARAMETER_PREFIX": "/genai-opt/dev/optimization-results",
    "JOB_TOPIC_ARN": "arn:aws:sns:us-east-1:111122223333:genai-opt-dev-jobs",
    "KMS_KEY_ARN": LAUNCHER_ENV["KMS_KEY_ARN"],
}


def test_launcher_settings_are_read_from_the_environment():
    loaded = settings.load_launcher_settings(LAUNCHER_ENV)
    assert loaded == settings.LauncherSettings(
        job_role_arn=LAUNCHER_ENV["JOB_ROLE_ARN"],
        artifacts_bucket="genai-opt-dev-artifacts",
        output_prefix="optimized/",
        kms_key_arn=LAUNCHER_ENV["KMS_KEY_ARN"],
        project_name="genai-opt",
        env_name="dev",
        lmi_image_uri=LAUNCHER_ENV["LMI_IMAGE_URI"],
        trtllm_image_uri=LAUNCHER_ENV["TRTLLM_IMAGE_URI"],
        neuron_image_uri=LAUNCHER_ENV["NEURON_IMAGE_URI"],
    )


def test_output_prefix_defaults_to_optimized():
    environ = {k: v for k, v in LAUNCHER_ENV.items() if k != "OUTPUT_PREFIX"}
    assert settings.load_launcher_settings(environ).output_prefix == "optimized/"


def test_settings_are_read_once_per_cold_start(monkeypatch, launcher_env):
    first = settings.launcher_settings()
    monkeypatch.setenv("ENV_NAME", "prod")
    assert settings.launcher_settings() is first


@pytest.mark.parametrize("name", sorted(set(LAUNCHER_ENV) - {"OUTPUT_PREFIX"}))
def test_missing_launcher_variable_is_named(name):
    environ = {k: v for k, v in LAUNCHER_ENV.items() if k != name}
    with pytest.raises(ConfigurationError, match=rf"environment variable {name} is not set"):
        settings.load_launcher_settings(environ)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JOB_ROLE_ARN", "genai-opt-dev-job-role"),
        ("ARTIFACTS_BUCKET", "s3://genai-opt-dev-artifacts"),
        ("OUTPUT_PREFIX", "/optimized"),
        ("KMS_KEY_ARN", "alias/aws/s3"),
        ("PROJECT_NAME", "genai#opt"),
        ("LMI_IMAGE_URI", "djl-inference:latest"),
        ("NEURON_IMAGE_URI", " 763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:x"),
    ],
)
def test_malformed_launcher_variable_is_named(name, value):
    with pytest.raises(ConfigurationError, match=name):
        settings.load_launcher_settings({**LAUNCHER_ENV, name: value})


def test_handler_fails_clearly_without_configuration(monkeypatch, lambda_context):
    for name in LAUNCHER_ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="JOB_ROLE_ARN"):
        handler.handler({"technique": "compilation"}, lambda_context)


def test_recorder_settings():
    loaded = settings.load_recorder_settings(RECORDER_ENV)
    assert loaded.results_parameter_prefix == "/genai-opt/dev/optimization-results"
    assert loaded.job_topic_arn == RECORDER_ENV["JOB_TOPIC_ARN"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RESULTS_PARAMETER_PREFIX", "genai-opt/dev"),
        ("RESULTS_PARAMETER_PREFIX", "/genai-opt/dev/"),
        ("RESULTS_PARAMETER_PREFIX", "/aws/reserved"),
        ("RESULTS_PARAMETER_PREFIX", "/a b"),
        ("RESULTS_PARAMETER_PREFIX", "/" + "/".join("l" * 15)),
        ("JOB_TOPIC_ARN", "arn:aws:sns:us-east-1:111122223333:jobs.fifo"),
        ("JOB_TOPIC_ARN", ""),
        ("KMS_KEY_ARN", "1234abcd-12ab-34cd-56ef-1234567890ab"),
    ],
)
def test_malformed_recorder_variable_is_named(name, value):
    with pytest.raises(ConfigurationError, match=name):
        settings.load_recorder_settings({**RECORDER_ENV, name: value})


def _sagemaker_model_without(shape: str, member: str) -> ServiceModel:
    loader = botocore.session.get_session().get_component("data_loader")
    raw = copy.deepcopy(loader.load_service_model("sagemaker", "service-2"))
    del raw["shapes"][shape]["members"][member]
    return ServiceModel(raw, service_name="sagemaker")


def test_loaded_botocore_knows_the_optimization_api():
    api_limits.require_optimization_api(api_limits.SAGEMAKER_MODEL, botocore.__version__)


@pytest.mark.parametrize(
    ("shape", "member"),
    [
        ("OptimizationConfig", "ModelSpeculativeDecodingConfig"),
        ("CreateOptimizationJobRequest", "MaxInstanceCount"),
        ("OptimizationJobModelSource", "SageMakerModel"),
    ],
)
def test_old_botocore_is_refused_with_its_version(shape, member):
    old = _sagemaker_model_without(shape, member)
    with pytest.raises(UnsupportedBotocoreError) as caught:
        api_limits.require_optimization_api(old, "1.35.99")
    message = str(caught.value)
    assert "botocore 1.35.99" in message
    assert f"{shape}.{member}" in message
    assert "requirements.txt" in message


def test_instance_types_come_from_botocore():
    model = botocore.session.get_session().get_service_model("sagemaker")
    enum = model.shape_for("OptimizationJobDeploymentInstanceType").enum
    assert tuple(enum) == api_limits.DEPLOYMENT_INSTANCE_TYPES
    assert {"ml.p4d.24xlarge", "ml.inf2.48xlarge"} <= set(api_limits.DEPLOYMENT_INSTANCE_TYPES)


def test_every_deployment_instance_type_has_a_rule():
    """Fails when a botocore upgrade adds an instance family: classify it in instances.py."""
    families = {instances.instance_family(t) for t in api_limits.DEPLOYMENT_INSTANCE_TYPES}
    assert families <= instances.GPU_FAMILIES | instances.NEURON_FAMILIES
    assert not instances.GPU_FAMILIES & instances.NEURON_FAMILIES
    assert instances.FP8_FAMILIES <= instances.GPU_FAMILIES
    assert {"p4d", "p4de", "g5", "g4dn"}.isdisjoint(instances.FP8_FAMILIES)


def test_strict_checker_catches_what_botocore_does_not():
    shape = api_limits.SAGEMAKER_MODEL.operation_model("CreateOptimizationJob").input_shape
    problems = model_violations(
        shape,
        {
            "OptimizationJobName": "bad_name",
            "DeploymentInstanceType": "ml.p3.2xlarge",
            "OptimizationConfigs": [
                {"ModelQuantizationConfig": {"Image": "x" * 256}},
            ],
        },
    )
    assert len(problems) == 3


def _documentation(shape_name: str, member: str) -> str:
    return api_limits.SAGEMAKER_MODEL.shape_for(shape_name).members[member].documentation


def test_error_codes_the_launcher_handles_are_the_modeled_ones():
    def errors(operation: str) -> set[str]:
        return {e.name for e in api_limits.SAGEMAKER_MODEL.operation_model(operation).error_shapes}

    assert launcher.RESOURCE_NOT_FOUND in errors("DescribeOptimizationJob")
    assert launcher.RESOURCE_IN_USE in errors("CreateOptimizationJob")


def test_recorded_statuses_and_technique_members_are_the_modeled_ones():
    assert set(job_result.TERMINAL_STATUSES) <= set(api_limits.JOB_STATUSES)
    members = api_limits.SAGEMAKER_MODEL.shape_for("OptimizationConfig").members
    assert set(job_result.TECHNIQUE_NAMES) == set(members)
    assert set(optimization_request.CONFIG_MEMBERS.values()) <= set(members)


def test_documented_limits_the_model_metadata_lacks():
    # MaxRuntimeInSeconds has only min 1 in the metadata; the 28-day cap is in its documentation.
    assert "maximum value is 28 days" in _documentation("StoppingCondition", "MaxRuntimeInSeconds")
    assert optimization_request.MAX_RUNTIME_LIMIT_SECONDS == 28 * 24 * 3600
    sns = botocore.session.get_session().get_service_model("sns")
    subject = sns.operation_model("Publish").input_shape.members["Subject"].documentation
    assert "less than 100 characters" in subject  # job_result.notification keeps under it


def test_every_recorder_request_is_valid_for_its_service_model(monkeypatch):
    """Enums (SSM Type and Tier, S3 ServerSideEncryption), patterns and sizes of each call."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    violations: list[str] = []
    calls: list[str] = []

    def inspect(params, model, **_):
        calls.append(model.name)
        violations.extend(model_violations(model.input_shape, params, model.name))

    clients = {name: boto3.client(name) for name in ("ssm", "s3", "sns")}
    responses = {
        "put_parameter": {"Version": 1},
        "put_object": {},
        "publish": {"MessageId": "m-1"},
    }
    with contextlib.ExitStack() as stack:
        for name, client in clients.items():
            client.meta.events.register(f"before-parameter-build.{name}", inspect)
            stubber = stack.enter_context(Stubber(client))
            for operation, response in responses.items():
                if hasattr(client, operation):
                    stubber.add_response(operation, response)
        job = {
            "OptimizationJobStatus": "COMPLETED",
            "OutputConfig": {"S3OutputLocation": "s3://genai-opt-dev-artifacts/optimized/j/"},
        }
        recorder.record(
            {"job_name": "j", "job": job},
            settings.load_recorder_settings(RECORDER_ENV),
            clients["ssm"],
            clients["s3"],
            clients["sns"],
        )
    assert calls == ["PutParameter", "PutObject", "Publish"]
    assert violations == []
