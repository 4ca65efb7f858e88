"""Malformed optimization requests, and the job target they are checked against.

One table for every runtime that takes a request: the launcher Lambda's tests and the
cross-runtime contract test (Lambda, notebook client, `make optimize`) use it.
"""

from __future__ import annotations

import pytest

ACCOUNT = "111122223333"
REGION = "us-east-1"
DLC = f"763104351884.dkr.ecr.{REGION}.amazonaws.com/djl-inference"
LMI_IMAGE = f"{DLC}:0.31.0-lmi13.0.0-cu124"
TRTLLM_IMAGE = f"{DLC}:0.33.0-tensorrtllm0.21.0-cu128"
NEURON_IMAGE = f"{DLC}:0.29.0-neuronx-sdk2.19.1"
BUCKET = "genai-opt-dev-artifacts"
OUTPUT_PREFIX = "optimized/"

SOURCE = "s3://genai-opt-dev-models/meta-llama-3-70b/"
GOOD = {
    "technique": "quantization",
    "model_s3_uri": SOURCE,
    "instance_type": "ml.p4d.24xlarge",
    "quantization": {"method": "awq"},
}
COMPILE = {"technique": "compilation", "model_s3_uri": SOURCE, "instance_type": "ml.inf2.48xlarge"}
EAGLE = {
    "technique": "speculative_decoding",
    "model_s3_uri": SOURCE,
    "instance_type": "ml.p5.48xlarge",
}
MISSING = object()


def with_(base: dict, **changes) -> dict:
    event = dict(base)
    for key, value in changes.items():
        if value is MISSING:
            event.pop(key, None)
        else:
            event[key] = value
    return event


# (event, field named by the error, whether the message shows a bad value)
MALFORMED = [
    pytest.param(["not", "an", "object"], "event", True, id="event-not-object"),
    pytest.param(with_(GOOD, model_uri=SOURCE), "model_uri", True, id="unknown-key"),
    pytest.param(with_(GOOD, technique=MISSING), "technique", False, id="technique-missing"),
    pytest.param(with_(GOOD, technique="pruning"), "technique", True, id="technique-unknown"),
    pytest.param(with_(GOOD, technique=3), "technique", True, id="technique-not-string"),
    pytest.param(with_(GOOD, model_s3_uri=MISSING), "model_s3_uri", False, id="no-model-source"),
    pytest.param(with_(GOOD, model_name="llama"), "model_s3_uri", True, id="two-model-sources"),
    pytest.param(
        with_(GOOD, model_s3_uri="https://example.com/llama/"),
        "model_s3_uri",
        True,
        id="source-https",
    ),
    pytest.param(
        with_(GOOD, model_s3_uri="s3://genai-opt-dev-models/model.tar.gz"),
        "model_s3_uri",
        True,
        id="source-not-prefix",
    ),
    pytest.param(
        with_(GOOD, model_s3_uri="s3://Bad_Bucket/llama/"), "model_s3_uri", True, id="source-bucket"
    ),
    pytest.param(
        with_(GOOD, model_s3_uri="s3://genai-opt-dev-models/"),
        "model_s3_uri",
        True,
        id="source-bucket-root",
    ),
    pytest.param(
        with_(GOOD, model_s3_uri=MISSING, model_name="llama_3"), "model_name", True, id="model-name"
    ),
    pytest.param(with_(GOOD, accept_eula="yes"), "accept_eula", True, id="eula-not-bool"),
    pytest.param(
        with_(GOOD, model_s3_uri=MISSING, model_name="llama", accept_eula=True),
        "accept_eula",
        True,
        id="eula-with-model-name",
    ),
    pytest.param(with_(GOOD, instance_type=MISSING), "instance_type", False, id="instance-missing"),
    pytest.param(
        with_(GOOD, instance_type="ml.p3.2xlarge"), "instance_type", True, id="instance-enum"
    ),
    pytest.param(
        with_(GOOD, instance_type="ml.t3.medium"), "instance_type", True, id="instance-no-gpu"
    ),
    pytest.param(
        with_(GOOD, instance_type="p4d.24xlarge"), "instance_type", True, id="instance-no-ml"
    ),
    pytest.param(
        with_(GOOD, quantization=MISSING), "quantization", False, id="quantization-missing"
    ),
    pytest.param(
        with_(GOOD, quantization={"method": "int4"}), "quantization.method", True, id="quant-method"
    ),
    pytest.param(
        with_(GOOD, quantization={"method": "awq", "bits": 4}),
        "quantization.bits",
        True,
        id="quant-extra-key",
    ),
    pytest.param(with_(GOOD, quantization="awq"), "quantization", True, id="quant-not-object"),
    pytest.param(
        with_(COMPILE, quantization={"method": "awq"}),
        "quantization",
        True,
        id="quant-with-compile",
    ),
    pytest.param(
        with_(GOOD, speculative_decoding={}),
        "speculative_decoding",
        True,
        id="specdec-with-quantization",
    ),
    pytest.param(
        with_(EAGLE, speculative_decoding={"training_data_s3_uri": "/data/sharegpt"}),
        "speculative_decoding.training_data_s3_uri",
        True,
        id="specdec-data-not-s3",
    ),
    pytest.param(
        with_(GOOD, environment={"option_dtype": "fp16"}), "environment", True, id="env-lower-case"
    ),
    pytest.param(
        with_(GOOD, environment={"AWS_REGION": "us-west-2"}), "environment", True, id="env-aws"
    ),
    pytest.param(
        with_(GOOD, environment={"OPTION_QUANTIZE": "fp8"}), "environment", True, id="env-quantize"
    ),
    pytest.param(
        with_(GOOD, environment={"OPTION_TENSOR_PARALLEL_DEGREE": 8}),
        "environment.OPTION_TENSOR_PARALLEL_DEGREE",
        True,
        id="env-value-not-string",
    ),
    pytest.param(
        with_(GOOD, environment={"OPTION_X": "x" * 257}),
        "environment.OPTION_X",
        True,
        id="env-value-too-long",
    ),
    pytest.param(
        with_(GOOD, environment={f"OPTION_X{i}": "1" for i in range(25)}),
        "environment",
        True,
        id="env-25-entries-with-quantization",
    ),
    pytest.param(
        with_(COMPILE, environment={f"OPTION_X{i}": "1" for i in range(26)}),
        "environment",
        True,
        id="env-26-entries",
    ),
    pytest.param(
        with_(EAGLE, environment={"OPTION_X": "1"}), "environment", True, id="env-with-specdec"
    ),
    pytest.param(
        with_(GOOD, image_uri="vllm/vllm-openai:latest"), "image_uri", True, id="image-not-ecr"
    ),
    pytest.param(
        with_(GOOD, image_uri=LMI_IMAGE.rsplit(":", 1)[0]),
        "image_uri",
        True,
        id="image-without-tag",
    ),
    pytest.param(with_(EAGLE, image_uri=LMI_IMAGE), "image_uri", True, id="image-with-specdec"),
    pytest.param(
        with_(GOOD, image_uri="111122223333.dkr.ecr.us-east-1.amazonaws.com/my-lmi:0.31.0-lmi13"),
        "image_uri",
        True,
        id="image-outside-dlc-repository",
    ),
    pytest.param(
        with_(GOOD, output_s3_uri=f"s3://{BUCKET}/models/out/"),
        "output_s3_uri",
        True,
        id="output-outside-optimized-prefix",
    ),
    pytest.param(
        with_(GOOD, output_s3_uri="s3://someone-elses-bucket/out/"),
        "output_s3_uri",
        True,
        id="output-other-bucket",
    ),
    pytest.param(
        with_(GOOD, output_s3_uri=f"s3://{BUCKET}/out"), "output_s3_uri", True, id="output-no-slash"
    ),
    pytest.param(
        with_(GOOD, output_s3_uri=f"s3://{BUCKET}/a/../b/"), "output_s3_uri", True, id="output-dots"
    ),
    pytest.param(with_(GOOD, job_name="bad_name"), "job_name", True, id="job-name-underscore"),
    pytest.param(with_(GOOD, job_name="-starts-with-dash"), "job_name", True, id="job-name-dash"),
    pytest.param(with_(GOOD, job_name="a" * 64), "job_name", True, id="job-name-64"),
    pytest.param(with_(GOOD, max_runtime_seconds=0), "max_runtime_seconds", True, id="runtime-0"),
    pytest.param(
        with_(GOOD, max_runtime_seconds=2419201), "max_runtime_seconds", True, id="runtime-28d+1"
    ),
    pytest.param(
        with_(GOOD, max_runtime_seconds="3600"), "max_runtime_seconds", True, id="runtime-string"
    ),
    pytest.param(
        with_(GOOD, max_runtime_seconds=True), "max_runtime_seconds", True, id="runtime-bool"
    ),
    pytest.param(
        with_(GOOD, max_runtime_seconds=3600.5), "max_runtime_seconds", True, id="runtime-float"
    ),
    pytest.param(with_(GOOD, tags={"aws:owner": "me"}), "tags", True, id="tag-aws-prefix"),
    pytest.param(with_(GOOD, tags={"project": "other"}), "tags", True, id="tag-project-override"),
    pytest.param(with_(GOOD, tags={"team#1": "a"}), "tags", True, id="tag-key-charset"),
    pytest.param(with_(GOOD, tags={"team": 7}), "tags.team", True, id="tag-value-not-string"),
    pytest.param(with_(GOOD, tags={"team": "v" * 257}), "tags.team", True, id="tag-value-long"),
    pytest.param(with_(GOOD, tags={f"k{i}": "v" for i in range(48)}), "tags", True, id="tags-48"),
    pytest.param(["list"], "event", True, id="event-list"),
    # Compatibility rules (optimization_rules.py).
    pytest.param(
        with_(GOOD, instance_type="ml.inf2.48xlarge"), "technique", True, id="quantize-on-inf2"
    ),
    pytest.param(
        with_(EAGLE, instance_type="ml.trn1.32xlarge"), "technique", True, id="specdec-on-trn1"
    ),
    pytest.param(
        with_(GOOD, quantization={"method": "fp8"}), "quantization.method", True, id="fp8-on-p4d"
    ),
    pytest.param(
        with_(GOOD, quantization={"method": "fp8"}, instance_type="ml.p4de.24xlarge"),
        "quantization.method",
        True,
        id="fp8-on-p4de",
    ),
    pytest.param(
        with_(GOOD, quantization={"method": "fp8"}, instance_type="ml.g5.48xlarge"),
        "quantization.method",
        True,
        id="fp8-on-g5",
    ),
    pytest.param(
        with_(GOOD, quantization={"method": "fp8"}, instance_type="ml.g4dn.12xlarge"),
        "quantization.method",
        True,
        id="fp8-on-g4dn",
    ),
    pytest.param(
        with_(GOOD, quantization={"method": "smoothquant"}, image_uri=LMI_IMAGE),
        "image_uri",
        True,
        id="smoothquant-with-lmi-image",
    ),
    pytest.param(
        with_(COMPILE, instance_type="ml.p4d.24xlarge", image_uri=LMI_IMAGE),
        "image_uri",
        True,
        id="gpu-compile-with-lmi-image",
    ),
    pytest.param(
        with_(COMPILE, instance_type="ml.g5.12xlarge", image_uri=NEURON_IMAGE),
        "image_uri",
        True,
        id="gpu-compile-with-neuron-image",
    ),
    pytest.param(
        with_(COMPILE, image_uri=TRTLLM_IMAGE), "image_uri", True, id="neuron-compile-trtllm-image"
    ),
    pytest.param(with_(GOOD, image_uri=NEURON_IMAGE), "image_uri", True, id="awq-neuron-image"),
]
