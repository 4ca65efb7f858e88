"""The notebook client's endpoint entries and model uploads."""

from __future__ import annotations

import json
import sys
import types

import genai_workbench as wb
import pytest

from tests.unit.notebooks.client_kit import RESULT, awq_request

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
