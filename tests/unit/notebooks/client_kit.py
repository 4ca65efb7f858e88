"""Helpers of the notebook client's tests: a fake clock and Stubber-wrapped clients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import genai_workbench as wb
from botocore.stub import Stubber

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


def runtime_response(deployment, inference_id: str) -> dict:
    info = deployment.endpoint("p4d")
    return {
        "InferenceId": inference_id,
        "OutputLocation": f"{info.output_prefix}{inference_id}.out",
        "FailureLocation": f"{info.failure_prefix}{inference_id}-error.out",
    }


def put(s3, uri: str, body: bytes) -> None:
    bucket, key = wb.split_s3_uri(uri)
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def parameter(name: str, value: str) -> dict:
    return {"Parameter": {"Name": name, "Type": "String", "Value": value, "Version": 1}}


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


def awq_request(**overrides) -> wb.OptimizationRequest:
    values = {
        "technique": "quantization",
        "quantization_method": "awq",
        "instance_type": "ml.p4d.24xlarge",
        "model_s3_uri": "s3://jumpstart-bucket/llama-3-70b/",
        "accept_eula": True,
    }
    return wb.OptimizationRequest(**{**values, **overrides})


RESULT = {
    "job_name": "genai-opt-awq-0123456789",
    "output_s3_uri": "s3://genai-artifacts-bucket/optimized/genai-opt-awq-0123456789/",
    "recommended_inference_image": "example.ecr/djl-inference:0.31.0-lmi13.0.0-cu124",
    "deployment_instance_type": "ml.p4d.24xlarge",
    "started": "2025-01-01T12:00:00Z",
    "ended": "2025-01-01T14:00:00Z",
    "duration_seconds": 7200,
}
