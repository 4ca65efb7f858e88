"""Shared fixtures: the notebook client, the auto-stop script and a sample deployment."""

from __future__ import annotations

from pathlib import Path

import boto3
import genai_workbench
import pytest
from botocore.stub import Stubber
from moto import mock_aws

REPO = Path(__file__).resolve().parents[3]
NOTEBOOKS_DIR = REPO / "notebooks"
LIFECYCLE_DIR = REPO / "features" / "workspace" / "notebook_lifecycle"
REGION = "eu-west-1"
ACCOUNT = "111122223333"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


workbench = genai_workbench


# What SageMaker answers while an inference component has no copy.
NO_CAPACITY = (
    "Inference Component has no capacity to process this request. ApproximateBacklogSize: 0"
)


def sample_document() -> dict:
    """A deployment document as the CDK app writes it. p4d's record predates `request_schema`
    (an older deploy: read as LMI); inf2 serves Neuron vLLM (OpenAI requests); chat serves the
    OpenAI-compatible route."""
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}"

    def endpoint(key: str, instance_type: str, price: float) -> dict:
        base = f"s3://genai-inference-bucket/async/{key}"
        return {
            "endpoint_name": f"genai-{key}-endpoint",
            "variant_name": "AllTraffic",
            "instance_type": instance_type,
            "input_prefix": f"{base}/input/",
            "output_prefix": f"{base}/output/",
            "failure_prefix": f"{base}/failure/",
            "success_topic_arn": f"{arn}:{key}-success",
            "error_topic_arn": f"{arn}:{key}-error",
            "max_capacity": 1,
            "price_usd_per_hour": price,
            "kind": "async",
        }

    dlc = f"763104351884.dkr.ecr.{REGION}.amazonaws.com/djl-inference"
    return {
        "project": "genai-opt",
        "env": "dev",
        "storage": {
            "region": REGION,
            "artifacts_bucket": "genai-artifacts-bucket",
            "inference_bucket": "genai-inference-bucket",
            "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}",
        },
        "optimization": {
            "state_machine_arn": (
                f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:genai-opt-workflow"
            ),
            "launcher_function_name": "genai-opt-launcher",
            "job_topic_arn": f"{arn}:genai-opt-jobs",
            "results_parameter_prefix": "/genai-opt/dev/results",
            "job_role_arn": f"arn:aws:iam::{ACCOUNT}:role/genai-opt-job",
            "measurement_role_arn": f"arn:aws:iam::{ACCOUNT}:role/genai-opt-measure",
            "job_defaults": {
                "artifacts_bucket": "genai-artifacts-bucket",
                "output_prefix": "optimized/",
                "lmi_image_uri": f"{dlc}:0.31.0-lmi13.0.0-cu124",
                "trtllm_image_uri": f"{dlc}:0.33.0-tensorrtllm0.21.0-cu128",
                "neuron_image_uri": f"{dlc}:0.29.0-neuronx-sdk2.19.1",
            },
        },
        "endpoints": {
            "p4d": endpoint("p4d", "ml.p4d.24xlarge", 37.688),
            "inf2": {**endpoint("inf2", "ml.inf2.48xlarge", 15.58), "request_schema": "openai"},
            "chat": {
                "kind": "realtime",
                "endpoint_name": "genai-chat-endpoint",
                "inference_component_name": "genai-opt-dev-endpoint-chat-component-1a2b3c4d",
                "variant_name": "AllTraffic",
                "instance_type": "ml.g5.12xlarge",
                "error_topic_arn": f"{arn}:chat-error",
                "max_capacity": 1,
                "price_usd_per_hour": 7.09,
                "request_schema": "openai",
                "openai_route": True,
            },
        },
    }


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and Region, so no test can reach a real account."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def document() -> dict:
    return sample_document()


@pytest.fixture
def deployment(aws_env, document):
    return workbench.Deployment.from_dict(document)


@pytest.fixture
def runtime(deployment):
    """The deployment's sagemaker-runtime client and its activated Stubber."""
    client = deployment.client("sagemaker-runtime")
    stubber = Stubber(client)
    stubber.activate()
    yield client, stubber
    stubber.assert_no_pending_responses()


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
