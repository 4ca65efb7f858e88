"""The client's JumpStart entries, from the hub document the SageMaker SDK records."""

from __future__ import annotations

import sys

import genai_workbench as wb
import pytest

from tests.unit.workbench_domain.jumpstart_documents import SDK_HUB_DOCUMENT, hub_client

MODEL = "meta-textgeneration-llama-2-13b-f"
ARTIFACTS = (
    "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/"
    "meta-textgeneration-llama-2-13b-f/artifacts/inference-prepack/v1.1.0/"
)


def entry(document=SDK_HUB_DOCUMENT, **kwargs):
    client, stubber = hub_client(document)
    result = wb.jumpstart_entry(MODEL, accept_eula=True, sagemaker_client=client, **kwargs)
    stubber.assert_no_pending_responses()
    return result


def test_without_a_config_the_pinned_image_serves_and_tgi_variables_are_dropped():
    # The document's default is TGI: SM_NUM_GPUS=4 would become LMI's TENSOR_PARALLEL_DEGREE.
    assert entry() == {
        "instance_type": "ml.p4d.24xlarge",
        "model": {"s3_uri": ARTIFACTS, "accept_eula": True},
        "serving": {"engine": "vllm", "environment": {}},
    }


def test_the_draft_of_lmi_optimized_becomes_a_speculative_config_with_the_variant_settings():
    serving = entry(with_draft=True)["serving"]
    assert serving["tensor_parallel_degree"] == 2  # the ml.p4d.24xlarge variant's
    assert serving["speculative_decoding"] == {
        "method": "draft_model",
        "model": {
            "s3_uri": "s3://sagemaker-sd-models-prod-us-east-1/"
            "sagemaker-speculative-decoding-llama2-tiny-v2/",
            "jumpstart": True,
            "accept_eula": True,
        },
        "num_speculative_tokens": 5,
    }
    # The legacy key of JumpStart's LMI 10 config is dropped: LMI 15+ ignores it.
    assert "OPTION_SPECULATIVE_DRAFT_MODEL" not in serving["environment"]
    assert serving["environment"]["OPTION_GPU_MEMORY_UTILIZATION"] == "0.85"


def test_jumpstart_image_keeps_the_image_of_the_instance_family_as_a_custom_image():
    # The recorded `lmi` component laid over the document, as if it were the default config.
    document = {**SDK_HUB_DOCUMENT, **SDK_HUB_DOCUMENT["InferenceConfigComponents"]["lmi"]}
    serving = entry(document, jumpstart_image=True, instance_type="ml.g5.12xlarge")
    assert serving["serving"]["engine"] == "custom"
    assert serving["serving"]["image_uri"] == (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124"
    )


def test_jumpstart_image_on_a_document_with_only_an_unpinned_framework_is_named():
    with pytest.raises(wb.WorkbenchError, match="HostingEcrSpecs framework is none this app pins"):
        entry(jumpstart_image=True)


def test_jumpstart_image_with_only_a_pinned_framework_serves_the_pinned_image():
    # The lmi config's component with its images removed: only HostingEcrSpecs (djl-lmi) stays.
    lmi = dict(SDK_HUB_DOCUMENT["InferenceConfigComponents"]["lmi-optimized"])
    lmi.pop("HostingInstanceTypeVariants")
    lmi.pop("HostingEcrUri")
    document = {**SDK_HUB_DOCUMENT, "InferenceConfigComponents": {"lmi-optimized": lmi}}
    result = entry(document, jumpstart_image=True, with_draft=True)
    assert result["serving"]["engine"] == "vllm"
    assert "image_uri" not in result["serving"]


def test_a_jumpstart_model_without_the_draft_config_is_named():
    document = {k: v for k, v in SDK_HUB_DOCUMENT.items() if k != "InferenceConfigs"}
    with pytest.raises(wb.WorkbenchError, match="no deployment config 'lmi-optimized'"):
        entry(document, with_draft=True)


def test_the_client_never_imports_the_sagemaker_sdk(monkeypatch):
    monkeypatch.setitem(sys.modules, "sagemaker", None)
    assert entry()["serving"]["engine"] == "vllm"
