"""JumpStart hub documents as the SDK records them: artifacts, image per instance type, draft."""

from __future__ import annotations

import json

import pytest

from tests.unit.workbench_domain.jumpstart_documents import (
    LLAMA31_70B_DRAFT_SOURCE,
    SDK_HUB_DOCUMENT,
    hub_response,
    pascal_case,
)
from workbench_domain import jumpstart

LMI10 = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124"
ARTIFACTS = (
    "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/"
    "meta-textgeneration-llama-2-13b-f/artifacts/inference-prepack/v1.1.0/"
)


def parse(
    document=SDK_HUB_DOCUMENT, config=None, instance_type="ml.p4d.24xlarge", region="us-east-1"
):
    return jumpstart.parse_model(
        hub_response(document), config, instance_type=instance_type, region=region
    )


def test_the_recorded_document_without_a_config_needs_no_top_level_image():
    model = parse()
    assert model.artifacts_uri == ARTIFACTS
    # Its default is TGI (HostingEcrSpecs huggingface-llm): no image for p4d, no pinned framework.
    assert model.image_uri is None
    assert model.framework_engine is None
    assert model.environment["SM_NUM_GPUS"] == "4"
    assert model.draft_s3_uri is None


def test_the_draft_is_found_in_the_snake_case_channel_list_of_lmi_optimized():
    model = parse(config="lmi-optimized")
    assert model.draft_s3_uri == (
        "s3://sagemaker-sd-models-prod-us-east-1/sagemaker-speculative-decoding-llama2-tiny-v2/"
    )
    assert model.framework_engine == "vllm"  # HostingEcrSpecs djl-lmi


def test_the_image_and_environment_come_from_the_variants_of_the_instance_type():
    p4d = parse(config="lmi-optimized")
    assert p4d.image_uri == LMI10  # the p4d family's variant
    assert p4d.environment["OPTION_TENSOR_PARALLEL_DEGREE"] == "2"  # ml.p4d.24xlarge's own
    p5 = parse(config="lmi-optimized", instance_type="ml.p5.48xlarge")
    assert p5.environment["OPTION_TENSOR_PARALLEL_DEGREE"] == "1"
    assert p5.environment["OPTION_GPU_MEMORY_UTILIZATION"] == "0.95"  # over the config's 0.85
    g5 = parse(config="lmi-optimized", instance_type="ml.g5.12xlarge")
    assert "OPTION_TENSOR_PARALLEL_DEGREE" not in g5.environment
    assert g5.environment["OPTION_GPU_MEMORY_UTILIZATION"] == "0.85"


def test_the_config_replaces_the_environment_list_instead_of_merging_it():
    # The SDK's deep_override_dict replaces lists: the TGI variables of the default do not leak.
    assert "SM_NUM_GPUS" not in parse(config="lmi-optimized").environment


def test_both_spellings_of_every_key_parse_the_same():
    assert parse(pascal_case(SDK_HUB_DOCUMENT), "lmi-optimized") == parse(config="lmi-optimized")
    respelled = json.dumps(pascal_case(SDK_HUB_DOCUMENT))
    assert '"SpeculativeDecoding"' in respelled and '"speculative_decoding"' not in respelled


def test_the_draft_bucket_is_the_one_of_the_region_as_the_sdk_sets_it():
    model = parse(config="lmi-optimized", region="eu-west-1")
    assert model.draft_s3_uri == (
        "s3://sagemaker-sd-models-prod-eu-west-1/sagemaker-speculative-decoding-llama2-tiny-v2/"
    )


def test_a_gated_jumpstart_draft_lives_in_the_private_bucket():
    source = jumpstart.snake_keys(LLAMA31_70B_DRAFT_SOURCE)
    assert jumpstart.draft_uri(source, "us-west-2") == (
        "s3://jumpstart-private-cache-prod-us-west-2/meta-textgeneration/"
        "meta-textgeneration-llama-3-2-1b/artifacts/inference-prepack/v1.0.0/"
    )
    ungated = {**source, "provider": {"name": "JumpStart", "classification": "ungated"}}
    assert jumpstart.draft_uri(ungated, "us-west-2").startswith(
        "s3://jumpstart-cache-prod-us-west-2/"
    )
    # A JumpStart bucket exists in every JumpStart region; the SageMaker draft bucket does not.
    assert jumpstart.draft_uri(source, "af-south-1").startswith(
        "s3://jumpstart-private-cache-prod-af-south-1/"
    )


def test_a_sagemaker_draft_in_a_region_without_its_bucket_is_named():
    with pytest.raises(jumpstart.JumpStartError, match="not published in af-south-1"):
        parse(config="lmi-optimized", region="af-south-1")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: {k: v for k, v in d.items() if k != "HostingArtifactUri"},
            "no HostingArtifactUri",
        ),
        (lambda d: {**d, "HostingArtifactUri": "https://x/y"}, "is not an s3:// URI"),
    ],
)
def test_a_document_without_usable_artifacts_is_named(change, message):
    with pytest.raises(jumpstart.JumpStartError, match=message):
        parse(change(SDK_HUB_DOCUMENT))


def test_an_unknown_config_lists_the_ones_the_document_has():
    with pytest.raises(jumpstart.JumpStartError, match="it has: lmi, lmi-optimized, tgi"):
        parse(config="nope")


@pytest.mark.parametrize("document", ["{not json", "[1, 2]"])
def test_a_document_that_is_not_a_json_object_is_named(document):
    response = {**hub_response(), "HubContentDocument": document}
    with pytest.raises(jumpstart.JumpStartError, match="hub document of meta-textgeneration"):
        jumpstart.parse_model(response, instance_type="ml.p4d.24xlarge", region="us-east-1")
