"""The serving table and the environment derived from typed settings."""

from __future__ import annotations

import json

import pytest

from workbench_domain import instances, serving


def test_every_row_cites_its_sources_and_its_default_tag_exists():
    for row in serving.images():
        assert row.sources and all(row.sources)
        # A key the image ignores is refused with the reason, not just as unknown.
        assert all(row.ignored.values()) and not set(row.ignored) & row.accepted_keys
        assert "OPTION_TENSOR_PARALLEL_DEGREE" in row.accepted_keys
    for engine in serving.ENGINE_ACCELERATOR:
        assert serving.image_for(engine).tag == serving.default_tag(engine)


def test_vllm_rows_accept_the_speculative_config_and_ignore_the_legacy_draft_key():
    for row in serving.images():
        if row.engine == "vllm":
            assert "OPTION_SPECULATIVE_CONFIG" in row.accepted_keys
            assert "OPTION_SPECULATIVE_DRAFT_MODEL" not in row.accepted_keys
            assert {"eagle", "eagle3"} <= set(row.speculative_methods)


def test_draft_models_need_vllm_0_15_or_later():
    methods = {row.vllm: set(row.speculative_methods) for row in serving.images() if row.vllm}
    assert "draft_model" in methods["0.15.1"]
    assert "draft_model" not in methods["0.12.0"]


def test_accelerators_of_the_default_instances():
    assert instances.accelerator_devices("ml.p4d.24xlarge") == 8
    assert instances.accelerator_devices("ml.inf2.48xlarge") == 24
    assert instances.accelerator_kind("ml.g5.12xlarge") == "gpu"
    assert instances.accelerator_kind("ml.t3.medium") is None


def test_environment_for_an_eagle_head():
    settings = serving.ServingSettings(
        engine="vllm",
        image_tag="0.36.0-lmi18.0.0-cu128",
        tensor_parallel_degree=8,
        speculative=serving.SpeculativeDecoding("eagle3", 5),
        environment={"OPTION_GPU_MEMORY_UTILIZATION": "0.9"},
    )
    assert serving.check(settings, "ml.p4d.24xlarge").tag == "0.36.0-lmi18.0.0-cu128"
    environment = serving.container_environment(settings)
    # As in AWS's EAGLE sample: channel `eagle`, method eagle3.
    assert json.loads(environment["OPTION_SPECULATIVE_CONFIG"]) == {
        "method": "eagle3",
        "model": "/opt/ml/additional-model-data-sources/eagle",
        "num_speculative_tokens": 5,
    }
    assert environment["OPTION_TENSOR_PARALLEL_DEGREE"] == "8"
    assert environment["OPTION_GPU_MEMORY_UTILIZATION"] == "0.9"


def test_an_error_names_the_setting_the_value_and_what_is_allowed():
    settings = serving.ServingSettings(engine="vllm", tensor_parallel_degree=16)
    with pytest.raises(serving.ServingError) as error:
        serving.check(settings, "ml.g5.12xlarge")
    assert error.value.field == "tensor_parallel_degree"
    assert str(error.value) == (
        "serving.tensor_parallel_degree: got 16; ml.g5.12xlarge has 4 GPUs: allowed 1..4"
    )


def test_an_image_uri_is_matched_to_its_row_by_repository_and_tag():
    uri = "763104351884.dkr.ecr.{region}.amazonaws.com/djl-inference:0.36.0-lmi20.0.0-cu128"
    assert serving.image_for_uri(uri).vllm == "0.15.1"
    assert serving.image_for_uri(uri.replace("djl-inference", "other")) is None


@pytest.mark.parametrize("row", serving.images(), ids=lambda row: row.tag)
def test_every_key_the_app_derives_is_one_the_image_reads(row):
    settings = serving.ServingSettings(
        engine=row.engine,
        image_tag=row.tag,
        tensor_parallel_degree=1,
        max_model_len=4096,
        max_concurrent_sequences=4,
        dtype=row.dtypes[0],
        quantization=row.quantizations[0],
        speculative=serving.SpeculativeDecoding(next(iter(row.speculative_methods)))
        if row.speculative_methods
        else None,
    )
    derived = serving.container_environment(settings)
    assert set(derived) - row.accepted_keys == set()
    assert len(derived) >= len(serving.TYPED_KEYS)


def test_the_inf2_endpoint_serves_what_the_neuron_compilation_job_compiles(dev):
    """Notebook 04 compiles with NEURON_INF2_ENVIRONMENT (LLAMA3_70B_INF2); the inf2 endpoint
    of cdk.json must serve the compiled model with the same settings, or it recompiles."""
    inf2 = dev.stage.config.endpoints["inf2"].serving
    assert serving.container_environment(inf2) == serving.container_environment(
        serving.LLAMA3_70B_INF2
    )
