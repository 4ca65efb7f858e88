"""The notebook client: request shapes checked by botocore's Stubber, S3 and SSM by moto."""

from __future__ import annotations

import json
import re
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import botocore.session
import genai_workbench as wb
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from workbench_domain.async_inference import MISSING_OBJECT_CODES

REGION = "eu-west-1"
T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


class FakeTime:
    """A clock that moves only when the code under test sleeps; hooks run on each sleep."""

    def __init__(self, start: datetime = T0):
        self.start = start
        self.elapsed = 0.0
        self.hooks: list = []
        self.sleeps = 0

    def sleep(self, seconds: float) -> None:
        self.elapsed += seconds
        self.sleeps += 1
        for hook in self.hooks:
            hook(self.sleeps)

    def clock(self) -> float:
        return self.elapsed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def kwargs(self) -> dict:
        return {"sleep": self.sleep, "clock": self.clock, "now": self.now}


def stubbed(deployment, service: str) -> Stubber:
    client = boto3.client(service, region_name=deployment.region)
    deployment.use_client(service, client)
    stub = Stubber(client)
    stub.activate()
    return stub


@pytest.fixture(scope="module")
def moto_s3():
    """One moto S3 for the module (tests use distinct keys): starting moto is the slow part."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        client = boto3.client("s3", region_name=REGION)
        for bucket in ("genai-artifacts-bucket", "genai-inference-bucket"):
            client.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        yield client


@pytest.fixture
def s3(deployment, moto_s3):
    deployment.use_client("s3", moto_s3)
    return moto_s3


# ------------------------------------------------------------------------------ deployment


def test_from_dict_reads_every_endpoint(document):
    deployment = wb.Deployment.from_dict(document)
    assert set(deployment.endpoints) == {"p4d", "inf2", "chat"}
    chat = deployment.realtime_endpoint("chat")
    assert (chat.kind, chat.instance_type) == ("realtime", "ml.g5.12xlarge")
    inf2 = deployment.endpoint("inf2")
    assert inf2.instance_type == "ml.inf2.48xlarge"
    assert inf2.price_usd_per_hour == pytest.approx(15.58)
    assert inf2.max_capacity == 1


@pytest.mark.parametrize("key", ["storage", "endpoints", "optimization"])
def test_from_dict_names_a_missing_key(document, key):
    del document[key]
    with pytest.raises(wb.WorkbenchError, match=key):
        wb.Deployment.from_dict(document)


@pytest.mark.parametrize(
    ("part", "key", "named"),
    [
        ("storage", "kms_key_arn", "storage"),
        ("storage", "region", "storage"),
        ("optimization", "job_defaults", "optimization"),
    ],
)
def test_from_dict_names_a_missing_record_key(document, part, key, named):
    del document[part][key]
    with pytest.raises(wb.WorkbenchError, match=rf"{named}: lacks key\(s\) {key}"):
        wb.Deployment.from_dict(document)


def test_from_dict_names_a_missing_endpoint_key(document):
    del document["endpoints"]["p4d"]["output_prefix"]
    with pytest.raises(wb.WorkbenchError, match=r"endpoints\.p4d: lacks key\(s\) output_prefix"):
        wb.Deployment.from_dict(document)


@pytest.mark.parametrize(
    ("part", "key", "named"),
    [
        ("storage", "region", r"storage\.region: must be a string"),
        ("optimization", "job_role_arn", r"optimization\.job_role_arn: must be a string"),
    ],
)
def test_from_dict_rejects_a_non_string_record_value(document, part, key, named):
    document[part][key] = 5
    with pytest.raises(wb.WorkbenchError, match=named):
        wb.Deployment.from_dict(document)


def test_from_dict_rejects_a_non_numeric_price(document):
    document["endpoints"]["inf2"]["price_usd_per_hour"] = "cheap"
    with pytest.raises(wb.WorkbenchError, match=r"endpoints\.inf2"):
        wb.Deployment.from_dict(document)


def test_unknown_endpoint_lists_the_known_ones(deployment):
    with pytest.raises(wb.WorkbenchError, match="have: chat, inf2, p4d"):
        deployment.endpoint("g5")


def test_each_kind_of_endpoint_is_refused_by_the_other_kinds_functions(deployment):
    with pytest.raises(wb.WorkbenchError, match=r"'chat' is realtime: .* use chat"):
        deployment.endpoint("chat")
    with pytest.raises(wb.WorkbenchError, match="'p4d' is async: submit requests with invoke"):
        deployment.realtime_endpoint("p4d")


def test_a_record_of_an_unknown_kind_is_refused(document):
    document["endpoints"]["chat"]["kind"] = "serverless"
    with pytest.raises(wb.WorkbenchError, match=r"endpoints\.chat\.kind: is not an endpoint kind"):
        wb.Deployment.from_dict(document)


def test_load_reads_the_file_named_by_the_env_var(tmp_path, monkeypatch, document, aws_env):
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps(document))
    monkeypatch.setenv(wb.DEPLOYMENT_FILE_ENV, str(path))
    assert wb.Deployment.load().state_machine_arn == document["optimization"]["state_machine_arn"]


def parameter(name: str, value: str) -> dict:
    return {"Parameter": {"Name": name, "Type": "String", "Value": value, "Version": 1}}


def test_load_without_file_or_path_says_what_to_set(tmp_path, monkeypatch, aws_env):
    monkeypatch.setenv(wb.DEPLOYMENT_FILE_ENV, str(tmp_path / "absent.json"))
    monkeypatch.delenv(wb.DEPLOYMENT_PATH_ENV, raising=False)
    with pytest.raises(wb.DeploymentNotFoundError, match=wb.DEPLOYMENT_PATH_ENV):
        wb.Deployment.load()


def test_load_reports_unreadable_parameters(tmp_path, monkeypatch, aws_env):
    monkeypatch.setenv(wb.DEPLOYMENT_FILE_ENV, str(tmp_path / "absent.json"))
    ssm = boto3.client("ssm", region_name=REGION)
    with (
        Stubber(ssm) as stub,
        pytest.raises(wb.DeploymentNotFoundError, match="/p/dev/deployment/"),
    ):
        stub.add_client_error("get_parameters_by_path", "AccessDeniedException", "denied")
        wb.Deployment.load(deployment_path="/p/dev/deployment/", ssm_client=ssm)


def test_load_reports_a_broken_file(tmp_path, aws_env):
    path = tmp_path / "deployment.json"
    path.write_text("{not json")
    with pytest.raises(wb.WorkbenchError, match="not valid JSON"):
        wb.Deployment.load(path)


def test_default_file_is_the_one_on_the_notebook_volume():
    assert wb.DEFAULT_DEPLOYMENT_FILE == (
        "/home/ec2-user/SageMaker/.genai-optimization/deployment.json"
    )


# ------------------------------------------------------------------------- launcher events


def awq_request(**overrides) -> wb.OptimizationRequest:
    values = {
        "technique": "quantization",
        "quantization_method": "awq",
        "instance_type": "ml.p4d.24xlarge",
        "model_s3_uri": "s3://jumpstart-bucket/llama-3-70b/",
        "accept_eula": True,
    }
    return wb.OptimizationRequest(**{**values, **overrides})


def test_quantization_event_has_the_contract_shape():
    event = awq_request(max_runtime_seconds=7200, tags={"team": "ml"}).to_event()
    assert event == {
        "technique": "quantization",
        "model_s3_uri": "s3://jumpstart-bucket/llama-3-70b/",
        "accept_eula": True,
        "instance_type": "ml.p4d.24xlarge",
        "quantization": {"method": "awq"},
        "max_runtime_seconds": 7200,
        "tags": {"team": "ml"},
    }


def test_compilation_event_carries_the_neuron_environment():
    event = wb.OptimizationRequest(
        technique="compilation",
        instance_type="ml.inf2.48xlarge",
        model_name="llama-3-70b",
        environment=wb.NEURON_INF2_ENVIRONMENT,
    ).to_event()
    assert event["model_name"] == "llama-3-70b"
    assert "model_s3_uri" not in event and "quantization" not in event
    assert event["environment"]["OPTION_TENSOR_PARALLEL_DEGREE"] == "24"
    assert event["environment"]["OPTION_N_POSITIONS"] == "8192"


@pytest.mark.parametrize(
    ("data", "section"),
    [
        (
            "s3://genai-artifacts-bucket/eagle/",
            {"training_data_s3_uri": "s3://genai-artifacts-bucket/eagle/"},
        ),
        (None, {}),
    ],
)
def test_speculative_event_sends_its_section(data, section):
    event = wb.OptimizationRequest(
        technique="speculative_decoding",
        instance_type="ml.p4d.24xlarge",
        model_s3_uri="s3://m/llama/",
        training_data_s3_uri=data,
    ).to_event()
    assert event["speculative_decoding"] == section


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"technique": "pruning"}, "technique: unknown technique"),
        ({"model_name": "also-a-model"}, "model_s3_uri: model_s3_uri and model_name are mutually"),
        ({"model_s3_uri": None}, "model_s3_uri: a model source is required"),
        ({"quantization_method": "int3"}, "quantization.method: unknown quantization method"),
        ({"technique": "compilation"}, "quantization: is only for technique quantization"),
        ({"training_data_s3_uri": "s3://d/x"}, "speculative_decoding: is only for technique"),
        ({"instance_type": "p4d.24xlarge"}, "instance_type: is not a CreateOptimizationJob"),
        ({"instance_type": "ml.t3.medium"}, "instance_type: is not a CreateOptimizationJob"),
        ({"environment": {f"V{i}": "1" for i in range(26)}}, "environment: has too many"),
        ({"environment": {"OPTION_DTYPE": 16}}, "environment.OPTION_DTYPE: value must be a"),
        ({"environment": {"AWS_REGION": "x"}}, "environment: AWS_* variables are reserved"),
        ({"job_name": "bad_name"}, "job_name: is not a valid optimization job name"),
        ({"max_runtime_seconds": 0}, "max_runtime_seconds: is out of range"),
        ({"model_s3_uri": "https://example.com/model/"}, "model_s3_uri: is not an s3:// URI"),
        ({"model_s3_uri": "s3://bucket/model.tar.gz"}, "model_s3_uri: must end with '/'"),
        ({"output_s3_uri": "s3://elsewhere/out/"}, "output_s3_uri: must be under the"),
    ],
)
def test_bad_requests_are_refused_with_the_launchers_message(deployment, overrides, message):
    """The full launcher check (schema and rules, with the published job defaults) runs before
    anything starts; the cross-runtime test compares the messages with the Lambda's."""
    with pytest.raises(wb.InvalidRequestError, match=re.escape(message)):
        wb.checked_event(deployment, awq_request(**overrides))


def test_two_spellings_of_one_request_start_one_execution(deployment):
    spelled_out = {**awq_request().to_event(), "max_runtime_seconds": 36_000, "tags": None}
    assert wb.checked_event(deployment, spelled_out) == wb.checked_event(deployment, awq_request())


def test_execution_arn_is_derived_from_the_state_machine(deployment):
    assert wb.execution_arn(deployment.state_machine_arn, "run-1") == (
        f"arn:aws:states:{deployment.region}:111122223333:execution:genai-opt-workflow:run-1"
    )
    with pytest.raises(wb.WorkbenchError):
        wb.execution_arn("arn:aws:sns:x:1:topic", "run-1")


# --------------------------------------------------------------------- optimization workflow


def describe(deployment, arn, status, **extra):
    return {
        "executionArn": arn,
        "stateMachineArn": deployment.state_machine_arn,
        "name": "run-1",
        "status": status,
        "startDate": T0,
        **extra,
    }


def test_start_optimization_sends_the_event_under_a_deterministic_name(deployment):
    request = awq_request()
    event = request.to_event()
    name = wb.run_name(event, project=deployment.project, env_name=deployment.env)
    arn = wb.execution_arn(deployment.state_machine_arn, name)
    stub = stubbed(deployment, "stepfunctions")
    stub.add_response(
        "start_execution",
        {"executionArn": arn, "startDate": T0},
        {
            "stateMachineArn": deployment.state_machine_arn,
            "name": name,
            "input": json.dumps({**event, "job_name": name}, sort_keys=True),
        },
    )
    printed = []
    assert wb.start_optimization(deployment, request, printer=printed.append) == arn
    stub.assert_no_pending_responses()
    assert name in printed[0]


@pytest.mark.parametrize("status", ["RUNNING", "SUCCEEDED"])
def test_start_optimization_reuses_an_existing_execution(deployment, status):
    request = awq_request()
    name = wb.run_name(request.to_event(), project=deployment.project, env_name=deployment.env)
    arn = wb.execution_arn(deployment.state_machine_arn, name)
    stub = stubbed(deployment, "stepfunctions")
    stub.add_client_error("start_execution", "ExecutionAlreadyExists", "exists")
    stub.add_response(
        "describe_execution",
        describe(deployment, arn, status),
        {"executionArn": arn},
    )
    printed = []
    assert wb.start_optimization(deployment, request, printer=printed.append) == arn
    assert "Reusing" in printed[0]


def test_start_optimization_asks_for_a_new_attempt_after_a_failure(deployment):
    request = awq_request()
    name = wb.run_name(request.to_event(), project=deployment.project, env_name=deployment.env)
    arn = wb.execution_arn(deployment.state_machine_arn, name)
    stub = stubbed(deployment, "stepfunctions")
    stub.add_client_error("start_execution", "ExecutionAlreadyExists", "exists")
    stub.add_response(
        "describe_execution",
        describe(deployment, arn, "FAILED"),
    )
    with pytest.raises(wb.OptimizationFailedError, match="attempt=2"):
        wb.start_optimization(deployment, request, printer=lambda _: None)


def test_start_optimization_passes_other_errors_on_as_the_clients_own(deployment):
    stub = stubbed(deployment, "stepfunctions")
    stub.add_client_error("start_execution", "StateMachineDoesNotExist", "gone")
    with pytest.raises(wb.AwsCallError, match=r"start_optimization: .*StateMachineDoesNotExist"):
        wb.start_optimization(deployment, awq_request(), printer=lambda _: None)
    # Every error of the client is a WorkbenchError; botocore's is kept as the cause.
    assert issubclass(wb.AwsCallError, wb.WorkbenchError)


@pytest.mark.parametrize(
    ("call", "service", "operation"),
    [
        (lambda d: wb.list_results(d), "ssm", "get_parameters_by_path"),
        (lambda d: wb.endpoint_instance_count(d, "p4d"), "sagemaker", "describe_endpoint"),
        (lambda d: wb.component_copies(d, "chat"), "sagemaker", "describe_inference_component"),
    ],
)
def test_no_botocore_error_escapes_the_client(deployment, call, service, operation):
    stub = stubbed(deployment, service)
    stub.add_client_error(operation, "AccessDeniedException", "not authorized", 400)
    with pytest.raises(wb.AwsCallError, match="not authorized") as raised:
        call(deployment)
    assert isinstance(raised.value.__cause__, wb.ClientError)


def test_no_credentials_is_one_line_naming_the_fix(deployment, monkeypatch):
    from botocore.exceptions import NoCredentialsError

    def no_credentials(*_, **__):
        raise NoCredentialsError()

    client = deployment.client("ssm")
    monkeypatch.setattr(client, "get_paginator", no_credentials)
    with pytest.raises(wb.AwsCallError, match="list_results: no AWS credentials: sign in"):
        wb.list_results(deployment)


RESULT = {
    "job_name": "genai-opt-awq-0123456789",
    "output_s3_uri": "s3://genai-artifacts-bucket/optimized/genai-opt-awq-0123456789/",
    "recommended_inference_image": "example.ecr/djl-inference:0.31.0-lmi13.0.0-cu124",
    "deployment_instance_type": "ml.p4d.24xlarge",
    "started": "2025-01-01T12:00:00Z",
    "ended": "2025-01-01T14:00:00Z",
    "duration_seconds": 7200,
}


DLC = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference"
COMPILED = {
    **RESULT,
    "techniques": ["compilation"],
    "recommended_inference_image": None,
    "job_images": [f"{DLC}:0.32.0-tensorrtllm0.12.0-cu125"],
}


def test_a_gpu_compilation_serves_on_the_tensorrt_llm_that_compiled_it():
    # TensorRT-LLM 0.12 engines do not load in the pinned 0.21 image, nor in vLLM.
    entry = wb.endpoint_entry_from_result(COMPILED)
    assert entry["serving"] == {
        "engine": "custom",
        "image_uri": f"{DLC}:0.32.0-tensorrtllm0.12.0-cu125",
        "environment": {},
    }
    pinned = {**COMPILED, "job_images": [f"{DLC}:0.33.0-tensorrtllm0.21.0-cu128"]}
    assert wb.endpoint_entry_from_result(pinned)["serving"]["engine"] == "trtllm"


def test_a_gpu_compilation_result_without_any_image_is_refused_with_the_reason():
    with pytest.raises(wb.WorkbenchError, match="serves only on the TensorRT-LLM that built it"):
        wb.endpoint_entry_from_result({**COMPILED, "job_images": []})


def test_a_neuron_compilation_serves_on_the_pinned_neuron_image():
    neuron = {**COMPILED, "deployment_instance_type": "ml.inf2.48xlarge", "job_images": []}
    assert wb.endpoint_entry_from_result(neuron)["serving"]["engine"] == "neuron"


def test_wait_for_optimization_prints_progress_and_returns_the_result(deployment):
    arn = wb.execution_arn(deployment.state_machine_arn, "run-1")
    stub = stubbed(deployment, "stepfunctions")
    for status in ("RUNNING", "RUNNING", "RUNNING"):
        stub.add_response(
            "describe_execution", describe(deployment, arn, status), {"executionArn": arn}
        )
    stub.add_response(
        "describe_execution",
        describe(deployment, arn, "SUCCEEDED", output=json.dumps(RESULT), stopDate=T0),
    )
    fake, printed = FakeTime(), []
    result = wb.wait_for_optimization(
        deployment,
        arn,
        poll_seconds=60,
        report_every_seconds=120,
        printer=printed.append,
        **fake.kwargs(),
    )
    assert result == RESULT
    assert printed[0].endswith("run-1: RUNNING, elapsed 0m00s")
    assert printed[1].endswith("run-1: RUNNING, elapsed 2m00s")
    assert printed[-1].endswith("run-1: SUCCEEDED, elapsed 3m00s")


def test_wait_for_optimization_raises_with_the_cause(deployment):
    arn = wb.execution_arn(deployment.state_machine_arn, "run-1")
    stub = stubbed(deployment, "stepfunctions")
    stub.add_response(
        "describe_execution",
        describe(deployment, arn, "FAILED", error="JobFailed", cause="quota exceeded"),
    )
    with pytest.raises(wb.OptimizationFailedError, match="FAILED: JobFailed quota exceeded"):
        wb.wait_for_optimization(deployment, arn, printer=lambda _: None, **FakeTime().kwargs())


def test_wait_for_optimization_times_out_without_stopping_the_job(deployment):
    arn = wb.execution_arn(deployment.state_machine_arn, "run-1")
    stub = stubbed(deployment, "stepfunctions")
    for _ in range(3):
        stub.add_response("describe_execution", describe(deployment, arn, "RUNNING"))
    with pytest.raises(TimeoutError, match="call wait_for_optimization again"):
        wb.wait_for_optimization(
            deployment,
            arn,
            timeout_seconds=120,
            poll_seconds=60,
            printer=lambda _: None,
            **FakeTime().kwargs(),
        )
    stub.assert_no_pending_responses()


def test_results_are_read_from_the_parameter_prefix(deployment):
    prefix = deployment.results_parameter_prefix
    older = {**RESULT, "job_name": "old", "ended": "2024-12-01T00:00:00Z"}
    stub = stubbed(deployment, "ssm")
    name = f"{prefix}/{RESULT['job_name']}"
    stub.add_response("get_parameter", parameter(name, json.dumps(RESULT)), {"Name": name})
    stub.add_response(
        "get_parameters_by_path",
        {
            "Parameters": [parameter(f"{prefix}/old", json.dumps(older))["Parameter"]],
            "NextToken": "more",
        },
        {"Path": prefix, "Recursive": True},
    )
    stub.add_response(
        "get_parameters_by_path",
        {"Parameters": [parameter(name, json.dumps(RESULT))["Parameter"]]},
        {"Path": prefix, "Recursive": True, "NextToken": "more"},
    )
    stub.add_client_error("get_parameter", "ParameterNotFound", "not found")
    assert wb.load_result(deployment, RESULT["job_name"]) == RESULT
    assert [r["job_name"] for r in wb.list_results(deployment)] == [RESULT["job_name"], "old"]
    with pytest.raises(wb.WorkbenchError, match="No result for job 'nope'"):
        wb.load_result(deployment, "nope")


# ------------------------------------------------------------------------- endpoint entries


def test_entry_from_result_keeps_an_image_the_app_does_not_know_as_a_custom_image():
    request = awq_request()
    entry = wb.endpoint_entry_from_result(
        RESULT, environment=wb.deployment_environment(request), instance_type="ml.g5.12xlarge"
    )
    assert entry == {
        "instance_type": "ml.g5.12xlarge",
        "model": {"s3_uri": RESULT["output_s3_uri"], "accept_eula": False},
        "serving": {
            "engine": "custom",
            "image_uri": RESULT["recommended_inference_image"],
            "environment": {"OPTION_QUANTIZE": "awq"},
        },
    }
    assert json.loads(wb.entry_json(entry)) == entry


def test_entry_from_result_splits_a_pinned_images_environment_into_typed_settings():
    neuron = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0-neuronx-sdk2.19.1"
    result = {
        **RESULT,
        "deployment_instance_type": "ml.inf2.48xlarge",
        "recommended_inference_image": neuron,
    }
    entry = wb.endpoint_entry_from_result(result, environment=wb.NEURON_INF2_ENVIRONMENT)
    assert entry["instance_type"] == "ml.inf2.48xlarge"
    assert entry["serving"] == {
        "engine": "neuron",
        "image_uri": neuron,
        "tensor_parallel_degree": 24,
        "max_model_len": 8192,
        "dtype": "fp16",
        "max_concurrent_sequences": 4,
        "environment": {"OPTION_ROLLING_BATCH": "auto", "OPTION_NEURON_OPTIMIZE_LEVEL": "2"},
    }


def test_entry_from_result_without_an_image_takes_the_pinned_engine_of_the_instance():
    result = {**RESULT, "deployment_instance_type": "ml.inf2.48xlarge"}
    del result["recommended_inference_image"]
    entry = wb.endpoint_entry_from_result(result, environment={"OPTION_N_POSITIONS": "4096"})
    assert entry["serving"] == {"engine": "neuron", "max_model_len": 4096, "environment": {}}


def test_an_eagle_result_serves_the_base_model_with_the_head_from_draft():
    result = {**RESULT, "techniques": ["speculative_decoding"]}
    with pytest.raises(wb.WorkbenchError, match="pass base_model_s3_uri"):
        wb.endpoint_entry_from_result(result)
    entry = wb.endpoint_entry_from_result(
        result, base_model_s3_uri="s3://models/llama-3-70b", accept_eula=True
    )
    assert entry["model"] == {"s3_uri": "s3://models/llama-3-70b/", "accept_eula": True}
    # LMI 13 (lmi-dist) has no speculative config: the pinned vLLM image serves the head.
    assert entry["serving"] == {
        "engine": "vllm",
        "speculative_decoding": {
            "method": "eagle3",
            "model": {"s3_uri": RESULT["output_s3_uri"] + "draft/"},
            "num_speculative_tokens": 5,
        },
        "environment": {},
    }


def test_entry_from_result_needs_the_output_location():
    with pytest.raises(wb.WorkbenchError, match="output_s3_uri"):
        wb.endpoint_entry_from_result({"deployment_instance_type": "ml.p4d.24xlarge"})


def test_custom_draft_model_is_set_on_a_copy():
    result = {**RESULT}
    del result["recommended_inference_image"]
    entry = wb.endpoint_entry_from_result(result)
    drafted = wb.with_custom_draft_model(entry, "s3://genai-artifacts-bucket/draft-models/x")
    assert drafted["serving"]["speculative_decoding"] == {
        "method": "draft_model",
        "model": {"s3_uri": "s3://genai-artifacts-bucket/draft-models/x/"},
        "num_speculative_tokens": 5,
    }
    assert "speculative_decoding" not in entry["serving"]
    # A custom image: the app cannot derive its speculative settings.
    with pytest.raises(wb.WorkbenchError, match="needs the vllm engine"):
        wb.with_custom_draft_model(
            wb.endpoint_entry_from_result(RESULT), "s3://genai-artifacts-bucket/d/"
        )


def test_save_entry_writes_json(tmp_path):
    path = wb.save_entry({"instance_type": "ml.p4d.24xlarge"}, tmp_path / "entries" / "e.json")
    assert json.loads(path.read_text()) == {"instance_type": "ml.p4d.24xlarge"}


# ------------------------------------------------------------------------ draft model upload


def test_upload_directory_encrypts_with_the_project_key(deployment, s3, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "model" / "model-00001.safetensors").write_bytes(b"weights")
    (tmp_path / "model" / ".cache").mkdir()
    (tmp_path / "model" / ".cache" / "lock").write_text("")
    uri = wb.upload_directory(deployment, tmp_path / "model", "s3://genai-artifacts-bucket/d/m")
    assert uri == "s3://genai-artifacts-bucket/d/m/"
    keys = wb.list_s3_prefix(deployment, uri)
    assert keys == [
        "s3://genai-artifacts-bucket/d/m/config.json",
        "s3://genai-artifacts-bucket/d/m/model-00001.safetensors",
    ]
    head = s3.head_object(Bucket="genai-artifacts-bucket", Key="d/m/config.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == deployment.kms_key_arn


def test_upload_directory_to_the_bucket_root_keeps_subfolders(deployment, s3, tmp_path):
    (tmp_path / "tokenizer").mkdir()
    (tmp_path / "tokenizer" / "vocab.json").write_text("{}")
    uri = wb.upload_directory(deployment, tmp_path, "s3://genai-artifacts-bucket/")
    assert uri == "s3://genai-artifacts-bucket/"
    head = s3.head_object(Bucket="genai-artifacts-bucket", Key="tokenizer/vocab.json")
    assert head["ServerSideEncryption"] == "aws:kms"


def test_upload_draft_model_goes_under_draft_models(deployment, s3, tmp_path, monkeypatch):
    calls = []

    def snapshot_download(repo_id, local_dir, token, allow_patterns):
        calls.append((repo_id, token, allow_patterns))
        (tmp_path / "dl").mkdir(exist_ok=True)
        (tmp_path / "dl" / "config.json").write_text("{}")
        return local_dir

    hub = types.ModuleType("huggingface_hub")
    hub.snapshot_download = snapshot_download
    monkeypatch.setitem(sys.modules, "huggingface_hub", hub)
    uri = wb.upload_draft_model(
        deployment, "meta-llama/Meta-Llama-3-8B", local_dir=tmp_path / "dl", token="hf_x"
    )
    assert uri == "s3://genai-artifacts-bucket/draft-models/Meta-Llama-3-8B/"
    assert calls[0][:2] == ("meta-llama/Meta-Llama-3-8B", "hf_x")
    assert "*.safetensors" in calls[0][2]


# ----------------------------------------------------------------------------- async calls


def runtime_response(deployment, inference_id: str) -> dict:
    info = deployment.endpoint("p4d")
    return {
        "InferenceId": inference_id,
        "OutputLocation": f"{info.output_prefix}{inference_id}.out",
        "FailureLocation": f"{info.failure_prefix}{inference_id}-error.out",
    }


def test_invoke_async_uploads_the_payload_and_queues_it(deployment, s3):
    info = deployment.endpoint("p4d")
    stub = stubbed(deployment, "sagemaker-runtime")
    stub.add_response(
        "invoke_endpoint_async",
        runtime_response(deployment, "req-1"),
        {
            "EndpointName": info.endpoint_name,
            "ContentType": "application/json",
            "Accept": "application/json",
            "InputLocation": "s3://genai-inference-bucket/async/p4d/input/req-1.json",
            "InferenceId": "req-1",
            "RequestTTLSeconds": 21600,
            "InvocationTimeoutSeconds": 3600,
        },
    )
    invocation = wb.invoke_async(
        deployment,
        "p4d",
        wb.llm_payload("hi"),
        inference_id="req-1",
        request_ttl_seconds=21600,
        invocation_timeout_seconds=3600,
        now=lambda: T0,
    )
    stub.assert_no_pending_responses()
    assert invocation.output_location.endswith("req-1.out")
    assert invocation.submitted_at == T0
    obj = s3.get_object(Bucket="genai-inference-bucket", Key="async/p4d/input/req-1.json")
    assert obj["ContentType"] == "application/json"
    assert obj["ServerSideEncryption"] == "aws:kms"
    assert obj["SSEKMSKeyId"] == deployment.kms_key_arn
    assert json.loads(obj["Body"].read())["inputs"] == "hi"


@pytest.mark.parametrize(("ttl", "timeout"), [(59, 900), (21601, 900), (3600, 0), (3600, 3601)])
def test_invoke_async_refuses_values_outside_the_api_limits(deployment, ttl, timeout):
    with pytest.raises(wb.WorkbenchError):
        wb.invoke_async(
            deployment, "p4d", {}, request_ttl_seconds=ttl, invocation_timeout_seconds=timeout
        )


def test_a_refused_async_invoke_removes_the_payload_it_uploaded(deployment, s3):
    stub = stubbed(deployment, "sagemaker-runtime")
    stub.add_client_error(
        "invoke_endpoint_async", "ValidationError", "Endpoint p4d-x not found.", 400
    )
    with pytest.raises(wb.WorkbenchError, match=r"refused the request: .*not found"):
        wb.invoke_async(deployment, "p4d", wb.llm_payload("hi"), inference_id="gone")
    listed = s3.list_objects_v2(Bucket="genai-inference-bucket", Prefix="async/p4d/input/gone")
    assert listed.get("KeyCount", 0) == 0


def test_a_payload_that_is_not_json_is_refused_before_any_upload(deployment, s3):
    with pytest.raises(wb.WorkbenchError, match="payload for 'p4d' is not JSON"):
        wb.invoke_async(deployment, "p4d", {"inputs": object()}, inference_id="never")
    listed = s3.list_objects_v2(Bucket="genai-inference-bucket", Prefix="async/p4d/input/never")
    assert listed.get("KeyCount", 0) == 0


def invocation_for(deployment, inference_id: str) -> wb.AsyncInvocation:
    response = runtime_response(deployment, inference_id)
    return wb.AsyncInvocation(
        endpoint_key="p4d",
        endpoint_name="genai-p4d-endpoint",
        inference_id=inference_id,
        input_location="s3://genai-inference-bucket/async/p4d/input/x.json",
        output_location=response["OutputLocation"],
        failure_location=response["FailureLocation"],
        submitted_at=T0,
    )


def put(s3, uri: str, body: bytes) -> None:
    bucket, key = wb.split_s3_uri(uri)
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def test_wait_for_async_result_polls_until_the_output_appears(deployment, s3):
    invocation = invocation_for(deployment, "poll")
    fake = FakeTime()
    body = json.dumps({"generated_text": "hello", "details": {"generated_tokens": 7}})
    fake.hooks.append(lambda n: n == 3 and put(s3, invocation.output_location, body.encode()))
    result = wb.wait_for_async_result(deployment, invocation, poll_seconds=5, **fake.kwargs())
    assert result.succeeded
    assert wb.generated_text(result.body) == "hello"
    assert result.latency_seconds == 15
    assert wb.output_token_count(result.body) == (7, False)


def test_wait_for_async_result_raises_on_the_failure_file(deployment, s3):
    invocation = invocation_for(deployment, "fail")
    put(s3, invocation.failure_location, b"ModelError: CUDA out of memory")
    with pytest.raises(wb.AsyncInferenceFailedError, match="CUDA out of memory"):
        wb.wait_for_async_result(deployment, invocation, **FakeTime().kwargs())
    result = wb.wait_for_async_result(
        deployment, invocation, raise_on_failure=False, **FakeTime().kwargs()
    )
    assert not result.succeeded


def test_wait_for_async_result_times_out(deployment, s3):
    with pytest.raises(TimeoutError, match="s3:ListBucket"):
        wb.wait_for_async_result(
            deployment,
            invocation_for(deployment, "late"),
            timeout_seconds=10,
            poll_seconds=5,
            **FakeTime().kwargs(),
        )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"generated_text": "a b c", "details": {"generated_tokens": 12}}, (12, False)),
        ([{"generated_text": "x", "details": {"tokens": [{}, {}, {}]}}], (3, False)),
        ({"generated_text": "one two three"}, (4, True)),
        ("plain text answer", (4, True)),
    ],
)
def test_output_token_count(body, expected):
    assert wb.output_token_count(body) == expected


# -------------------------------------------------------------------- endpoint and metrics


def describe_endpoint(deployment, count: int, variant: str = "AllTraffic") -> dict:
    info = deployment.endpoint("p4d")
    return {
        "EndpointName": info.endpoint_name,
        "EndpointArn": f"arn:aws:sagemaker:{deployment.region}:111122223333:endpoint/"
        f"{info.endpoint_name}",
        "EndpointStatus": "InService",
        "CreationTime": T0,
        "LastModifiedTime": T0,
        "ProductionVariants": [
            {"VariantName": variant, "CurrentInstanceCount": count, "DesiredInstanceCount": count}
        ],
    }


def test_endpoint_instance_count_reads_the_variant(deployment):
    stub = stubbed(deployment, "sagemaker")
    stub.add_response(
        "describe_endpoint",
        describe_endpoint(deployment, 0),
        {"EndpointName": "genai-p4d-endpoint"},
    )
    stub.add_response("describe_endpoint", describe_endpoint(deployment, 2))
    stub.add_response("describe_endpoint", describe_endpoint(deployment, 1, variant="Other"))
    assert wb.endpoint_instance_count(deployment, "p4d") == 0
    assert wb.endpoint_instance_count(deployment, "p4d") == 2
    with pytest.raises(wb.WorkbenchError, match=r"has no such variant; got .AllTraffic."):
        wb.endpoint_instance_count(deployment, "p4d")


def test_watch_instance_count_stops_when_the_condition_holds(deployment):
    stub = stubbed(deployment, "sagemaker")
    for count in (1, 1, 0):
        stub.add_response("describe_endpoint", describe_endpoint(deployment, count))
    printed = []
    samples = wb.watch_instance_count(
        deployment,
        "p4d",
        until=lambda n: n == 0,
        poll_seconds=60,
        printer=printed.append,
        **FakeTime().kwargs(),
    )
    assert [s.count for s in samples] == [1, 1, 0]
    assert len(printed) == 2


def test_metric_series_queries_the_async_metrics_by_endpoint_name(deployment):
    stub = stubbed(deployment, "cloudwatch")
    start, end = T0, T0 + timedelta(minutes=3)
    query = {
        "MetricDataQueries": [
            {
                "Id": f"m{i}",
                "Label": name,
                "ReturnData": True,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SageMaker",
                        "MetricName": name,
                        "Dimensions": [{"Name": "EndpointName", "Value": "genai-p4d-endpoint"}],
                    },
                    "Period": 60,
                    "Stat": "Average",
                },
            }
            for i, name in enumerate(("ApproximateBacklogSize", "HasBacklogWithoutCapacity"))
        ],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    t1, t2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": "m0",
                    "Label": "ApproximateBacklogSize",
                    "Timestamps": [t2],
                    "Values": [0.0],
                    "StatusCode": "PartialData",
                },
                {
                    "Id": "m1",
                    "Label": "HasBacklogWithoutCapacity",
                    "Timestamps": [t1],
                    "Values": [1.0],
                    "StatusCode": "PartialData",
                },
            ],
            "NextToken": "page-2",
        },
        query,
    )
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": "m0",
                    "Label": "ApproximateBacklogSize",
                    "Timestamps": [t1],
                    "Values": [3.0],
                    "StatusCode": "Complete",
                },
            ]
        },
        {**query, "NextToken": "page-2"},
    )
    series = wb.metric_series(deployment, "p4d", start=start, end=end)
    assert series == {
        "ApproximateBacklogSize": [(t1, 3.0), (t2, 0.0)],
        "HasBacklogWithoutCapacity": [(t1, 1.0)],
    }


# ------------------------------------------------------------ cold start and benchmarking


def test_measure_cold_start_times_capacity_and_first_result(deployment, s3):
    sagemaker = stubbed(deployment, "sagemaker")
    for count in (0, 0, 0, 1):
        sagemaker.add_response("describe_endpoint", describe_endpoint(deployment, count))
    runtime = stubbed(deployment, "sagemaker-runtime")
    runtime.add_response("invoke_endpoint_async", runtime_response(deployment, "cold"))
    fake = FakeTime()
    out = runtime_response(deployment, "cold")["OutputLocation"]
    fake.hooks.append(lambda n: n == 4 and put(s3, out, b'{"generated_text": "hi"}'))
    printed = []
    cold = wb.measure_cold_start(
        deployment,
        "p4d",
        {"inputs": "x"},
        poll_seconds=60,
        printer=printed.append,
        **fake.kwargs(),
    )
    assert cold.initial_instances == 0
    assert cold.capacity_seconds == 120
    assert cold.result_seconds == 240
    assert [s.count for s in cold.samples] == [0, 0, 0, 1]
    assert any("capacity after 2m00s" in line for line in printed)


def test_benchmark_measures_latency_tokens_and_cost(deployment, s3):
    sagemaker = stubbed(deployment, "sagemaker")
    for _ in range(2):
        sagemaker.add_response("describe_endpoint", describe_endpoint(deployment, 1))
    runtime = stubbed(deployment, "sagemaker-runtime")
    for i in range(4):
        runtime.add_response("invoke_endpoint_async", runtime_response(deployment, f"b{i}"))
    fake = FakeTime()

    def answer(_):
        for i in range(4):
            body = {"generated_text": "t", "details": {"generated_tokens": 100}}
            put(
                s3,
                runtime_response(deployment, f"b{i}")["OutputLocation"],
                json.dumps(body).encode(),
            )

    fake.hooks.append(answer)
    result = wb.benchmark_endpoint(
        deployment,
        "p4d",
        ["a", "b", "c", "d"],
        concurrency=2,
        poll_seconds=1,
        printer=lambda _: None,
        **fake.kwargs(),
    )
    assert len(result.ok) == 4
    assert result.wall_seconds == 1
    assert result.throughput_tokens_per_second == 400
    row = result.summary()
    assert row["failed"] == 0 and row["tokens_estimated"] is False
    assert row["usd_per_million_tokens"] == pytest.approx(37.688 / 3600 / 400 * 1e6)


# ------------------------------------------------------------------------------- numbers


def test_cost_per_million_tokens():
    assert wb.cost_per_million_tokens(36.0, 1000) == pytest.approx(10.0)
    assert wb.cost_per_million_tokens(15.58, 100) == pytest.approx(43.277, abs=1e-3)
    with pytest.raises(wb.WorkbenchError):
        wb.cost_per_million_tokens(10, 0)


def test_latency_summary_interpolates_like_numpy():
    summary = wb.latency_summary(range(1, 101))
    assert summary["p50"] == pytest.approx(50.5)
    assert summary["p90"] == pytest.approx(90.1)
    assert summary["p99"] == pytest.approx(99.01)
    assert (summary["min"], summary["max"], summary["count"]) == (1, 100, 100)
    assert wb.latency_summary([4.0])["p99"] == 4.0
    with pytest.raises(wb.WorkbenchError):
        wb.latency_summary([])


def test_plots_build_figures():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    samples = [wb.InstanceSample(T0, 0), wb.InstanceSample(T0 + timedelta(minutes=5), 1)]
    figure = wb.plot_scaling(samples, {"ApproximateBacklogSize": [(T0, 1.0)]})
    assert len(figure.axes) == 2
    result = wb.BenchmarkResult(
        "p4d",
        "ml.p4d.24xlarge",
        37.688,
        1,
        10.0,
        [wb.BenchmarkSample("a", True, 2.0, 100, False)],
    )
    assert len(wb.plot_benchmarks([result]).axes) == 3
    matplotlib.pyplot.close("all")


def test_module_hard_codes_no_account_or_region():
    files = sorted(Path(wb.__file__).parent.glob("*.py"))
    assert len(files) >= 9  # the package, not only its __init__
    source = "\n".join(path.read_text(encoding="utf-8") for path in files)
    assert not re.search(r"(?<!\d)\d{12}(?!\d)", source)
    assert not re.search(r"\b(us|eu|ap|sa|ca|me|af|il|mx|cn)(-gov)?-[a-z]+-\d\b", source)
    assert "arn:aws:" not in source


# ------------------------------------------------------- AWS facts, checked against botocore


@pytest.fixture(scope="module")
def service():
    session = botocore.session.get_session()
    return session.get_service_model


def test_async_invocation_limits_are_the_documented_ones(service):
    """The InvokeEndpointAsync reference documents RequestTTLSeconds 60-21600 and
    InvocationTimeoutSeconds 1-3600; the client's ranges are those, read from botocore."""
    members = (
        service("sagemaker-runtime").operation_model("InvokeEndpointAsync").input_shape.members
    )
    for name, documented, client_range in (
        ("RequestTTLSeconds", (60, 21600), wb.REQUEST_TTL_RANGE),
        ("InvocationTimeoutSeconds", (1, 3600), wb.INVOCATION_TIMEOUT_RANGE),
    ):
        assert (members[name].metadata["min"], members[name].metadata["max"]) == documented
        assert client_range == documented


def test_step_functions_values_the_client_branches_on(service):
    sfn = service("stepfunctions")
    statuses = sfn.operation_model("DescribeExecution").output_shape.members["status"].enum
    assert {*wb._RUNNING, wb.workflow_states.EXECUTION_SUCCEEDED} <= set(statuses)
    errors = {e.name for e in sfn.operation_model("StartExecution").error_shapes}
    assert "ExecutionAlreadyExists" in errors


def test_enum_values_the_client_sends(service):
    scan_by = service("cloudwatch").operation_model("GetMetricData").input_shape.members["ScanBy"]
    assert "TimestampAscending" in scan_by.enum  # metric_series
    assert "aws:kms" in service("s3").shape_for("ServerSideEncryption").enum  # uploads
    assert "NoSuchKey" in {
        e.name for e in service("s3").operation_model("GetObject").error_shapes
    }  # one of MISSING_OBJECT_CODES; the others are HTTP statuses the model does not list
    assert "NoSuchKey" in MISSING_OBJECT_CODES
