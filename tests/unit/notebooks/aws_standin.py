"""A stand-in for AWS inside a notebook's kernel, so that `make test` runs the notebooks.

`install(notebook)` runs as a cell before the notebook's own:

* moto (in the kernel's process) for what it implements: S3, SSM, CloudWatch;
* for what it does not (DescribeHubContent, the optimization workflow, endpoint descriptions,
  async invocations), botocore Stubber responses, each validated against botocore's model,
  queued in the order the notebook calls them, and checked all used at the end (`finish`);
* a fake clock: the client's waits (its `sleep` and `clock` defaults) advance fake time, so a
  notebook that polls for an hour runs in a second;
* the deployment the notebook loads is the client tests' sample deployment.

Documents that stand for AWS or container output are recorded ones: the JumpStart hub document
(tests/unit/workbench_domain/jumpstart_documents.py), the optimization result the Lambda's own
code writes from a botocore-validated DescribeOptimizationJob response, and LMI's response
example (deepjavalibrary/djl-serving 0.36.0-lmi20-dlc
serving/docs/lmi/user_guides/lmi_input_output_schema.md: `"generated_text": "Deep Learning is a
really cool field",`).
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
# LMI's documented non-streaming response (see the module docstring).
LMI_RESPONSE = {"generated_text": "Deep Learning is a really cool field"}
_STUBBERS: list[Any] = []


def _fake_clock() -> tuple[Any, Any]:
    offset = [0.0]
    real_monotonic = time.monotonic

    def sleep(seconds: float) -> None:
        offset[0] += max(0.0, float(seconds))

    def monotonic() -> float:
        return real_monotonic() + offset[0]

    return sleep, monotonic


def _import_client_with_fake_clock() -> Any:
    """Imports the client while `time.sleep`/`time.monotonic` are fake: its functions bind them
    as defaults; the rest of the kernel keeps the real ones."""
    sleep, monotonic = _fake_clock()
    real = time.sleep, time.monotonic
    time.sleep, time.monotonic = sleep, monotonic  # type: ignore[assignment]
    try:
        import genai_workbench
        import genai_workbench.langchain_models
    finally:
        time.sleep, time.monotonic = real  # type: ignore[assignment]
    return genai_workbench


def _stubbed(client: Any) -> Any:
    """The client's Stubber (one per client: its responses queue in call order)."""
    from botocore.stub import Stubber

    for stubber in _STUBBERS:
        if stubber.client is client:
            return stubber
    stubber = Stubber(client)
    stubber.activate()
    _STUBBERS.append(stubber)
    return stubber


def _fake_hugging_face_hub() -> None:
    """Stands in for the Hub (no network here): `snapshot_download` writes a small model."""
    import types

    def snapshot_download(repo_id: str, local_dir: str, **_: Any) -> str:
        target = Path(local_dir)
        target.mkdir(parents=True, exist_ok=True)
        (target / "config.json").write_text(json.dumps({"_name_or_path": repo_id}))
        (target / "model.safetensors").write_bytes(b"weights")
        return str(target)

    module = types.ModuleType("huggingface_hub")
    module.snapshot_download = snapshot_download  # type: ignore[attr-defined]
    sys.modules["huggingface_hub"] = module


def _result(technique: str, instance_type: str, member: str, image: str) -> dict[str, Any]:
    """The result document the workflow's recorder writes, from a validated describe."""
    from botocore.validate import validate_parameters

    from features.optimization.launcher_function import job_result
    from workbench_domain import api_limits

    job = {
        "OptimizationJobArn": "arn:aws:sagemaker:eu-west-1:111122223333:optimization-job/nb",
        "OptimizationJobStatus": "COMPLETED",
        "OptimizationStartTime": datetime(2026, 1, 1, 10, tzinfo=UTC),
        "OptimizationEndTime": datetime(2026, 1, 1, 12, tzinfo=UTC),
        "CreationTime": datetime(2026, 1, 1, 9, 58, tzinfo=UTC),
        "LastModifiedTime": datetime(2026, 1, 1, 12, tzinfo=UTC),
        "OptimizationJobName": f"genai-opt-{technique}",
        "ModelSource": {"S3": {"S3Uri": "s3://genai-artifacts-bucket/models/llama-3-70b/"}},
        "DeploymentInstanceType": instance_type,
        "OptimizationConfigs": [{member: {"Image": image}}],
        "OutputConfig": {
            "S3OutputLocation": f"s3://genai-artifacts-bucket/optimized/genai-opt-{technique}/"
        },
        "RoleArn": "arn:aws:iam::111122223333:role/genai-opt-job",
        "StoppingCondition": {"MaxRuntimeInSeconds": 36000},
    }
    shape = api_limits.SAGEMAKER_MODEL.operation_model("DescribeOptimizationJob").output_shape
    validate_parameters(job, shape)
    return job_result.summarize(f"genai-opt-{technique}", job)


def _workflow(deployment: Any, result: dict[str, Any]) -> None:
    sfn = _stubbed(deployment.client("stepfunctions"))
    arn = f"{deployment.state_machine_arn.replace(':stateMachine:', ':execution:')}:run"
    started = datetime(2026, 1, 1, 10, tzinfo=UTC)
    sfn.add_response("start_execution", {"executionArn": arn, "startDate": started})
    for status in ("RUNNING", "SUCCEEDED"):
        response = {
            "executionArn": arn,
            "stateMachineArn": deployment.state_machine_arn,
            "name": "run",
            "status": status,
            "startDate": started,
        }
        if status == "SUCCEEDED":
            response.update(output=json.dumps(result), stopDate=started)
        sfn.add_response("describe_execution", response)


def _jumpstart(genai_workbench: Any, region: str) -> None:
    import boto3

    from tests.unit.workbench_domain.jumpstart_documents import SDK_HUB_DOCUMENT, hub_response

    client = boto3.client("sagemaker", region_name=region)
    _stubbed(client).add_response(
        "describe_hub_content", hub_response(SDK_HUB_DOCUMENT, genai_workbench.LLAMA3_70B)
    )
    real_client = boto3.client

    def make_client(service: str, *args: Any, **kwargs: Any) -> Any:
        return client if service == "sagemaker" else real_client(service, *args, **kwargs)

    genai_workbench.entries.boto3.client = make_client


def _endpoint_counts(deployment: Any, key: str, counts: list[int]) -> None:
    info = deployment.endpoint(key)
    sagemaker = _stubbed(deployment.client("sagemaker"))
    for count in counts:
        sagemaker.add_response(
            "describe_endpoint",
            {
                "EndpointName": info.endpoint_name,
                "EndpointArn": f"arn:aws:sagemaker:eu-west-1:111122223333:endpoint/{key}",
                "EndpointConfigName": f"{key}-config",
                "EndpointStatus": "InService",
                "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                "LastModifiedTime": datetime(2026, 1, 1, tzinfo=UTC),
                "ProductionVariants": [
                    {"VariantName": info.variant_name, "CurrentInstanceCount": count}
                ],
            },
            {"EndpointName": info.endpoint_name},
        )


def _async_answers(deployment: Any, key: str, count: int) -> None:
    """`count` queued invocations, each answered at once with LMI's response in S3."""
    info = deployment.endpoint(key)
    runtime = _stubbed(deployment.client("sagemaker-runtime"))
    s3 = deployment.client("s3")
    for index in range(count):
        output = f"{info.output_prefix}standin-{index}.out"
        bucket, _, name = output.removeprefix("s3://").partition("/")
        s3.put_object(Bucket=bucket, Key=name, Body=json.dumps(LMI_RESPONSE).encode())
        runtime.add_response(
            "invoke_endpoint_async",
            {"InferenceId": f"standin-{index}", "OutputLocation": output},
        )


# LMI's chat answers, from its documented examples (deepjavalibrary/djl-serving
# 0.36.0-lmi20-dlc serving/docs/lmi/user_guides/chat_input_output_schema.md; logprobs left out):
# `"object":"chat.completion",` with `"content":"Hello! I\\'m here to help you with any
# questions you may have. ..."`, and the streamed chunks `"delta": {"content": " Oh", "role":
# "assistant"},` then `"delta": {"content": " assist"},`.
LMI_CHAT_ANSWER = {
    "id": "chatcmpl-0",
    "object": "chat.completion",
    "created": 1711997860,
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello! I\\'m here to help you with any questions you may have. Deep "
                "learning is a subfield of machine learning that involves the use",
            },
            "logprobs": None,
            "finish_reason": "length",
        }
    ],
    "usage": {"prompt_tokens": 33, "completion_tokens": 30, "total_tokens": 63},
}
LMI_CHAT_CHUNKS = [
    {
        "id": "chatcmpl-0",
        "object": "chat.completion.chunk",
        "created": 1712792433,
        "choices": [
            {"index": 0, "delta": {"content": " Oh", "role": "assistant"}, "finish_reason": None}
        ],
    },
    {
        "id": "chatcmpl-0",
        "object": "chat.completion.chunk",
        "created": 1712792436,
        "choices": [{"index": 0, "delta": {"content": " assist"}, "finish_reason": "length"}],
    },
]


def _streams(client: Any, count: int) -> None:
    """Stubber cannot return an event stream: each stubbed streaming call validates the request,
    then its parsed body becomes LMI's chunks as JSON lines (what botocore's EventStream
    yields)."""
    events = [
        {"PayloadPart": {"Bytes": json.dumps(chunk).encode() + b"\n"}} for chunk in LMI_CHAT_CHUNKS
    ]
    left = [count]

    def replace(parsed: dict[str, Any], **_: Any) -> None:
        if left[0] and "Body" in parsed:
            left[0] -= 1
            parsed["Body"] = iter(list(events))

    client.meta.events.register(
        "after-call.sagemaker-runtime.InvokeEndpointWithResponseStream", replace
    )


def _realtime(deployment: Any, key: str) -> None:
    """Notebook 07's calls, in order: copies (0), a streamed answer through one refusal, a whole
    answer, LangChain's streamed answer, the async LLM's answer (p4d), copies back at 0."""
    from botocore.response import StreamingBody

    from tests.unit.notebooks.conftest import NO_CAPACITY

    info = deployment.realtime_endpoint(key)
    sagemaker = _stubbed(deployment.client("sagemaker"))
    for _ in range(2):
        sagemaker.add_response(
            "describe_inference_component",
            {
                "InferenceComponentName": info.inference_component_name,
                "InferenceComponentArn": "arn:aws:sagemaker:eu-west-1:111122223333:"
                f"inference-component/{info.inference_component_name}",
                "EndpointName": info.endpoint_name,
                "EndpointArn": f"arn:aws:sagemaker:eu-west-1:111122223333:endpoint/{key}",
                "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                "LastModifiedTime": datetime(2026, 1, 1, tzinfo=UTC),
                "InferenceComponentStatus": "InService",
                "RuntimeConfig": {"DesiredCopyCount": 0, "CurrentCopyCount": 0},
            },
            {"InferenceComponentName": info.inference_component_name},
        )
    client = deployment.client("sagemaker-runtime")
    runtime = _stubbed(client)
    runtime.add_client_error(
        "invoke_endpoint_with_response_stream", "ValidationError", NO_CAPACITY, 400
    )
    runtime.add_response("invoke_endpoint_with_response_stream", {"Body": {}})
    answer = json.dumps(LMI_CHAT_ANSWER).encode()
    runtime.add_response(
        "invoke_endpoint", {"Body": StreamingBody(io.BytesIO(answer), len(answer))}
    )
    runtime.add_response("invoke_endpoint_with_response_stream", {"Body": {}})
    _streams(client, 2)
    _async_answers(deployment, "p4d", 1)


def _no_pip() -> None:
    """`%pip install` would reach the package index: the extras are installed already."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.register_magic_function(
            lambda line: print(f"(stand-in) skipped: pip {line}"), "line", "pip"
        )


# The job each optimization notebook runs, as the workflow reports it back: (technique,
# instance type, OptimizationConfigs member, the job image's djl-inference tag).
OPTIMIZATION_JOBS = {
    "03_": ("quantization", "ml.p4d.24xlarge", "ModelQuantizationConfig", "0.31.0-lmi13.0.0-cu124"),
    "04_": (
        "compilation",
        "ml.inf2.48xlarge",
        "ModelCompilationConfig",
        "0.29.0-neuronx-sdk2.19.1",
    ),
}


def install(notebook: str) -> None:
    """Sets up AWS and the clock for `notebook` (its file name without `.ipynb`)."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="eu-west-1",
        MPLBACKEND="Agg",
    )
    from moto import mock_aws

    mock_aws().start()
    genai_workbench = _import_client_with_fake_clock()
    import boto3

    from tests.unit.notebooks.conftest import REGION, sample_document

    s3 = boto3.client("s3", region_name=REGION)
    for bucket in ("genai-artifacts-bucket", "genai-inference-bucket"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    deployment = genai_workbench.Deployment.from_dict(sample_document())
    genai_workbench.Deployment.load = classmethod(lambda cls, *a, **k: deployment)
    if notebook.startswith("01_"):
        _jumpstart(genai_workbench, REGION)
    elif notebook.startswith("02_"):
        _jumpstart(genai_workbench, REGION)
        _fake_hugging_face_hub()
        os.environ["HF_TOKEN"] = "hf_standin"
        os.environ["HOME"] = os.getcwd()  # the draft is downloaded under ~/SageMaker
    elif notebook[:3] in OPTIMIZATION_JOBS:
        _jumpstart(genai_workbench, REGION)
        technique, instance_type, member, tag = OPTIMIZATION_JOBS[notebook[:3]]
        image = f"763104351884.dkr.ecr.{REGION}.amazonaws.com/djl-inference:{tag}"
        _workflow(deployment, _result(technique, instance_type, member, image))
    elif notebook.startswith("06_"):
        # Per async variant: a warm cold-start probe, then 8 prompts 4 at a time; the speed
        # records go to the (moto) artifacts bucket and are read back for the comparison.
        for key in ("p4d", "inf2"):
            _endpoint_counts(deployment, key, [1] * 3)
            _async_answers(deployment, key, 1 + 8)
    elif notebook.startswith("07_"):
        _realtime(deployment, "chat")
        _no_pip()
    elif notebook.startswith("05_"):
        # Asleep, still asleep, asleep when the request is sent, awake, and back at zero.
        _endpoint_counts(deployment, "p4d", [0, 0, 0, 1, 0])
        _async_answers(deployment, "p4d", 1 + 4)
    else:
        raise ValueError(f"no AWS stand-in for {notebook}")


def finish() -> None:
    """Every queued response was used: the notebook made the calls it was expected to."""
    for stubber in _STUBBERS:
        stubber.assert_no_pending_responses()
