"""The notebook client's optimization jobs: launcher events, the workflow, results."""

from __future__ import annotations

import json
import re

import genai_workbench as wb
import pytest

from tests.unit.notebooks.client_kit import (
    RESULT,
    T0,
    FakeTime,
    awq_request,
    parameter,
    stubbed,
)

# ------------------------------------------------------------------------- launcher events


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
