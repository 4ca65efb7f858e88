"""The `endpoints` config section: defaults, typed values, and every bad value refused at synth."""

from __future__ import annotations

import pytest

from workbench_config import ConfigError, load_config
from workbench_domain import serving
from workbench_domain.api_limits import enum
from workbench_domain.instances import EBS_ONLY_FAMILIES, LOCAL_NVME_FAMILIES, instance_family
from workbench_domain.serving_environment import container_environment

PATH = "workbench.environments.dev.endpoints"


def endpoints(ctx: dict) -> dict:
    return ctx["environments"]["dev"]["endpoints"]


def p4d(ctx: dict) -> dict:
    return endpoints(ctx)["p4d"]


def inf2(ctx: dict) -> dict:
    return endpoints(ctx)["inf2"]


def legacy_inf2(ctx: dict) -> dict:
    """The inf2 endpoint on the legacy transformers-neuronx image, as before Neuron vLLM."""
    inf2(ctx)["serving"] = {
        "engine": "neuron",
        "tensor_parallel_degree": 24,
        "max_model_len": 8192,
        "max_concurrent_sequences": 4,
        "dtype": "fp16",
        "environment": {"OPTION_ROLLING_BATCH": "auto", "OPTION_NEURON_OPTIMIZE_LEVEL": "2"},
    }
    return inf2(ctx)


def chat(ctx: dict) -> dict:
    return endpoints(ctx)["chat"]


def test_default_config_has_the_async_p4d_and_inf2_endpoints(config_context):
    config = load_config(config_context, "dev").endpoints
    assert sorted(config) == ["chat", "inf2", "p4d"]
    gpu, neuron = config["p4d"], config["inf2"]
    assert (gpu.kind, neuron.kind) == ("async", "async")
    assert gpu.realtime is None and neuron.realtime is None
    assert (gpu.instance_type, gpu.serving.engine) == ("ml.p4d.24xlarge", "vllm")
    assert gpu.serving.tensor_parallel_degree == 8
    assert gpu.volume_size_gb is None
    assert gpu.serving.speculative == serving.SpeculativeDecoding("draft_model", 5)
    assert gpu.speculative_model is not None
    assert gpu.speculative_model.location.key_prefix == "models/meta-llama-3-8b/"
    assert gpu.speculative_model.channel == "draft_model"
    assert (neuron.instance_type, neuron.serving.engine) == ("ml.inf2.48xlarge", "neuron_vllm")
    assert neuron.serving.tensor_parallel_degree == 24
    # Hugging Face's vLLM Neuron DLC, on the AMI its sample deploys Llama 3.3 70B with.
    assert neuron.inference_ami_version == "al2-ami-sagemaker-inference-neuron-2"
    assert (gpu.request_schema, neuron.request_schema) == ("lmi", "openai")
    assert gpu.inference_ami_version is None
    assert neuron.volume_size_gb == 512
    assert neuron.model_data_download_timeout_seconds == 3600
    assert neuron.container_startup_health_check_timeout_seconds == 3600
    for endpoint in (gpu, neuron):
        assert endpoint.enabled
        assert endpoint.scaling.idle_minutes_before_zero == 10
        assert endpoint.scaling.wake_period_seconds == 60
        assert endpoint.scaling.wake_evaluation_periods == 1
        assert endpoint.scaling.target_tracking_scale_in is False
        assert endpoint.price_usd_per_hour > 0


def test_default_config_names_no_real_bucket(config_context):
    for env in ("dev", "prod"):
        for endpoint in load_config(config_context, env).endpoints.values():
            assert endpoint.model.location.uri is None
            assert endpoint.model.location.key_prefix.startswith(("models/", "optimized/"))


def test_omitted_scaling_and_optional_keys_take_documented_defaults(config_context):
    for key in ("scaling", "max_capacity", "max_concurrent_invocations_per_instance"):
        inf2(config_context).pop(key)
    endpoint = load_config(config_context, "dev").endpoints["inf2"]
    assert endpoint.max_capacity == 1
    assert endpoint.max_concurrent_invocations_per_instance == 4
    scaling = endpoint.scaling
    assert (scaling.target_backlog_per_instance, scaling.idle_minutes_before_zero) == (2, 10)
    assert (scaling.scale_out_cooldown_seconds, scaling.scale_in_cooldown_seconds) == (300, 600)


def test_no_endpoints_section_means_no_endpoints(config_context):
    del config_context["environments"]["dev"]["endpoints"]
    assert dict(load_config(config_context, "dev").endpoints) == {}


def test_an_endpoint_can_be_switched_off(config_context):
    p4d(config_context)["enabled"] = False
    assert load_config(config_context, "dev").endpoints["p4d"].enabled is False


def test_model_may_live_outside_the_artifacts_bucket(config_context):
    model = p4d(config_context)["model"]
    del model["s3_key_prefix"]
    model["s3_uri"] = "s3://jumpstart-private-cache-prod-{region}/meta/llama-3-70b/"
    p4d(config_context)["serving"]["speculative_decoding"]["model"] = {
        "jumpstart": True,
        "s3_uri": "s3://drafts-{region}/llama/",
    }
    config = load_config(config_context, "dev").endpoints["p4d"]
    assert config.model.location.uri.startswith("s3://jumpstart-private-cache-prod-{region}/")
    assert config.speculative_model.jumpstart is True


def test_an_eagle_head_is_mounted_on_the_eagle_channel(config_context):
    p4d(config_context)["serving"].update(
        image_tag="0.36.0-lmi18.0.0-cu128",
        speculative_decoding={"method": "eagle3", "model": {"s3_key_prefix": "heads/x/"}},
    )
    endpoint = load_config(config_context, "dev").endpoints["p4d"]
    assert endpoint.speculative_model.channel == "eagle"
    assert endpoint.serving.speculative.path == "/opt/ml/additional-model-data-sources/eagle"


def test_a_custom_image_takes_its_environment_unchecked(config_context):
    p4d(config_context)["serving"] = {
        "engine": "custom",
        "image_uri": "123456789012.dkr.ecr.{region}.amazonaws.com/llm/serve@sha256:" + "a" * 64,
        "environment": {"OPTION_ANYTHING": "1", "SM_NUM_GPUS": "8"},
    }
    settings = load_config(config_context, "dev").endpoints["p4d"].serving
    assert container_environment(settings) == {
        "OPTION_ANYTHING": "1",
        "SM_NUM_GPUS": "8",
    }


def test_an_image_uri_of_a_pinned_image_is_checked_as_that_image(config_context):
    # What an optimization job recommends (RecommendedInferenceImage) is often a pinned image.
    legacy_inf2(config_context)["serving"]["image_uri"] = (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0-neuronx-sdk2.19.1"
    )
    inf2(config_context)["serving"]["environment"]["OPTION_SPECULATIVE_CONFIG"] = "{}"
    with pytest.raises(ConfigError, match="reads no such key") as error:
        load_config(config_context, "dev")
    assert error.value.path == f"{PATH}.inf2.serving.environment.OPTION_SPECULATIVE_CONFIG"


def test_every_instance_family_is_classified_for_the_volume_rule():
    families = {instance_family(t) for t in enum("ProductionVariantInstanceType")}
    assert not LOCAL_NVME_FAMILIES & EBS_ONLY_FAMILIES
    assert families == LOCAL_NVME_FAMILIES | EBS_ONLY_FAMILIES
    assert {"p4d", "g5"} <= LOCAL_NVME_FAMILIES
    assert "inf2" in EBS_ONLY_FAMILIES


# (test id, mutation, expected key path under PATH, expected words in the message)
def p4d_serving(ctx: dict) -> dict:
    return p4d(ctx)["serving"]


def p4d_speculative(ctx: dict) -> dict:
    return p4d_serving(ctx)["speculative_decoding"]


BAD_ENDPOINTS = [
    # -- model locations: the domain's one S3 grammar (workbench_domain/uris.py)
    (
        "bucket-with-two-dots",
        lambda c: p4d(c).update(model={"s3_uri": "s3://my..bucket/x/"}),
        "p4d.model.s3_uri",
        "a valid bucket name",
    ),
    (
        "empty-key-segment",
        lambda c: p4d(c).update(model={"s3_key_prefix": "models//x/"}),
        "p4d.model.s3_key_prefix",
        "without empty, '.' or '..' segments",
    ),
    (
        "dot-dot-key-segment",
        lambda c: p4d_speculative(c).update(model={"s3_uri": "s3://bucket/models/../x/"}),
        "p4d.serving.speculative_decoding.model.s3_uri",
        "without empty, '.' or '..' segments",
    ),
    # -- serving: what vLLM refuses at start-up, and the container's loading budget
    (
        "awq-kernel-with-bf16",
        lambda c: p4d_serving(c).update(quantization="awq", dtype="bf16"),
        "p4d.serving.quantization",
        "vLLM's AWQ kernel takes only fp16 activations, not dtype bf16",
    ),
    (
        "draft-parallel-degree-not-the-targets",
        lambda c: p4d_speculative(c).update(draft_tensor_parallel_degree=1),
        "p4d.serving.speculative_decoding.draft_tensor_parallel_degree",
        "allowed: 8; a draft model runs with the target's degree",
    ),
    (
        "draft-parallel-degree-zero",
        lambda c: p4d_speculative(c).update(draft_tensor_parallel_degree=0),
        "p4d.serving.speculative_decoding.draft_tensor_parallel_degree",
        "got 0; allowed: an integer in 1..inf",
    ),
    (
        "eagle-parallel-degree-neither-1-nor-the-targets",
        lambda c: p4d_speculative(c).update(method="eagle3", draft_tensor_parallel_degree=4),
        "p4d.serving.speculative_decoding.draft_tensor_parallel_degree",
        "allowed: 1 or 8; an EAGLE head",
    ),
    (
        "draft-parallel-degree-without-the-targets",
        lambda c: (
            p4d_serving(c).pop("tensor_parallel_degree"),
            p4d_speculative(c).update(draft_tensor_parallel_degree=8),
        ),
        "p4d.serving.speculative_decoding.draft_tensor_parallel_degree",
        "set tensor_parallel_degree too",
    ),
    (
        "draft-vocabulary-not-the-targets",
        lambda c: (
            p4d(c)["model"].update(vocab_size=128256),
            p4d_speculative(c)["model"].update(vocab_size=32000),
        ),
        "p4d.serving.speculative_decoding.model.vocab_size",
        "vLLM needs the draft's vocabulary to be the target's (128256)",
    ),
    (
        "vocabulary-size-zero",
        lambda c: p4d(c)["model"].update(vocab_size=0),
        "p4d.model.vocab_size",
        "got 0; allowed: an integer in 1..inf",
    ),
    (
        "async-scheduling-with-a-draft-model",
        lambda c: p4d_serving(c).update(environment={"OPTION_ASYNC_SCHEDULING": "true"}),
        "p4d.serving.environment.OPTION_ASYNC_SCHEDULING",
        'supported only "with EAGLE/MTP kind of speculative decoding."',
    ),
    (
        "loading-timeout-below-the-health-check",
        lambda c: p4d_serving(c).update(environment={"OPTION_MODEL_LOADING_TIMEOUT": "1200"}),
        "p4d.serving.environment.OPTION_MODEL_LOADING_TIMEOUT",
        "got '1200'; at least 1800 s, the endpoint's container_startup_health_check_timeout",
    ),
    (
        "loading-timeout-below-the-neuron-health-check",
        lambda c: legacy_inf2(c)["serving"]["environment"].update(
            OPTION_MODEL_LOADING_TIMEOUT="1800"
        ),
        "inf2.serving.environment.OPTION_MODEL_LOADING_TIMEOUT",
        "at least 3600 s",
    ),
    (
        "loading-timeout-not-a-number",
        lambda c: p4d_serving(c).update(environment={"OPTION_MODEL_LOADING_TIMEOUT": "forever"}),
        "p4d.serving.environment.OPTION_MODEL_LOADING_TIMEOUT",
        "at least 1800 s",
    ),
    # -- serving: what the pinned image reads and supports (workbench_domain/serving_images.json)
    (
        "neuron-engine-on-p4d",
        lambda c: p4d_serving(c).update(engine="neuron", speculative_decoding={"method": "none"}),
        "p4d.serving.engine",
        "needs a neuron instance, and ml.p4d.24xlarge is a gpu instance",
    ),
    (
        "vllm-engine-on-inf2",
        lambda c: inf2(c)["serving"].update(engine="vllm", environment={}),
        "inf2.serving.engine",
        "needs a gpu instance",
    ),
    (
        "trtllm-engine-on-cpu",
        lambda c: (
            p4d(c).update(instance_type="ml.m5.xlarge", volume_size_gb=30),
            p4d_serving(c).update(engine="trtllm", speculative_decoding={"method": "none"}),
        ),
        "p4d.serving.engine",
        "ml.m5.xlarge is neither GPU nor Neuron",
    ),
    (
        "unknown-engine",
        lambda c: p4d_serving(c).update(engine="tgi"),
        "p4d.serving.engine",
        "allowed: custom, neuron, neuron_vllm, trtllm, vllm, vllm_dlc",
    ),
    (
        "tensor-parallel-above-the-gpus",
        lambda c: p4d_serving(c).update(tensor_parallel_degree=16),
        "p4d.serving.tensor_parallel_degree",
        "ml.p4d.24xlarge has 8 GPUs: allowed 1..8",
    ),
    (
        "tensor-parallel-above-the-neuron-cores",
        lambda c: inf2(c)["serving"].update(tensor_parallel_degree=32),
        "inf2.serving.tensor_parallel_degree",
        "ml.inf2.48xlarge has 24 NeuronCores: allowed 1..24",
    ),
    (
        "tensor-parallel-zero",
        lambda c: p4d_serving(c).update(tensor_parallel_degree=0),
        "p4d.serving.tensor_parallel_degree",
        "1..inf",
    ),
    (
        "draft-model-on-a-vllm-without-it",
        # vLLM 0.12.0 raises NotImplementedError("Speculative decoding with draft model is not
        # supported yet") at start-up: the endpoint would never become InService.
        lambda c: p4d_serving(c).update(image_tag="0.36.0-lmi18.0.0-cu128"),
        "p4d.serving.speculative_decoding.method",
        "the vLLM 0.12.0 of 0.36.0-lmi18.0.0-cu128 accepts: eagle, eagle3",
    ),
    (
        "speculative-decoding-on-trtllm",
        lambda c: p4d_serving(c).update(engine="trtllm"),
        "p4d.serving.speculative_decoding.method",
        "has no speculative decoding this app can set up",
    ),
    (
        "speculative-decoding-on-neuron",
        lambda c: inf2(c)["serving"].update(
            speculative_decoding={"method": "draft_model", "model": {"s3_key_prefix": "d/"}}
        ),
        "inf2.serving.speculative_decoding.method",
        "has no speculative decoding",
    ),
    (
        "unknown-speculative-method",
        lambda c: p4d_speculative(c).update(method="medusa"),
        "p4d.serving.speculative_decoding.method",
        "allowed: draft_model, eagle, eagle3, none",
    ),
    (
        "speculative-model-missing",
        lambda c: p4d_speculative(c).pop("model"),
        "p4d.serving.speculative_decoding.model",
        "needs the speculative model's location",
    ),
    (
        "speculative-model-without-location",
        lambda c: p4d_speculative(c).update(model={"accept_eula": True}),
        "p4d.serving.speculative_decoding.model",
        "exactly one of s3_key_prefix",
    ),
    (
        "zero-speculative-tokens",
        lambda c: p4d_speculative(c).update(num_speculative_tokens=0),
        "p4d.serving.speculative_decoding.num_speculative_tokens",
        "1..inf",
    ),
    (
        "legacy-draft-key-on-lmi15-plus",
        lambda c: p4d_serving(c).update(environment={"OPTION_SPECULATIVE_DRAFT_MODEL": "/x/"}),
        "p4d.serving.environment.OPTION_SPECULATIVE_DRAFT_MODEL",
        "0.36.0-lmi20.0.0-cu128 ignores it",
    ),
    (
        "legacy-speculative-length",
        lambda c: p4d_serving(c).update(environment={"OPTION_SPECULATIVE_LENGTH": "5"}),
        "p4d.serving.environment.OPTION_SPECULATIVE_LENGTH",
        "use speculative_decoding.num_speculative_tokens",
    ),
    (
        "misspelt-option-key",
        lambda c: p4d_serving(c).update(environment={"OPTION_GPU_MEMORY_UTILISATION": "0.9"}),
        "p4d.serving.environment.OPTION_GPU_MEMORY_UTILISATION",
        "did you mean OPTION_GPU_MEMORY_UTILIZATION",
    ),
    (
        "vllm-key-on-neuron",
        lambda c: legacy_inf2(c)["serving"]["environment"].update(
            OPTION_ENABLE_PREFIX_CACHING="true"
        ),
        "inf2.serving.environment.OPTION_ENABLE_PREFIX_CACHING",
        "0.29.0-neuronx-sdk2.19.1 reads no such key",
    ),
    (
        "typed-setting-repeated-in-environment",
        lambda c: p4d_serving(c).update(environment={"OPTION_TENSOR_PARALLEL_DEGREE": "8"}),
        "p4d.serving.environment.OPTION_TENSOR_PARALLEL_DEGREE",
        "set by serving.tensor_parallel_degree",
    ),
    (
        "speculative-config-by-hand",
        lambda c: p4d_serving(c).update(environment={"OPTION_SPECULATIVE_CONFIG": "{}"}),
        "p4d.serving.environment.OPTION_SPECULATIVE_CONFIG",
        "set by serving.speculative_decoding",
    ),
    (
        "unknown-image-tag",
        lambda c: p4d_serving(c).update(image_tag="0.33.0-lmi15.0.0-cu128"),
        "p4d.serving.image_tag",
        "the vllm images whose settings this app knows: 0.36.0-lmi27.0.0-cu130, "
        "0.36.0-lmi20.0.0-cu128",
    ),
    (
        "neuron-vllm-on-trn2",
        lambda c: inf2(c).update(instance_type="ml.trn2.48xlarge"),
        "inf2.serving.engine",
        "does not run on Trn2",
    ),
    (
        "neuron-vllm-dtype",
        lambda c: inf2(c)["serving"].update(dtype="bf16"),
        "inf2.serving.dtype",
        "engine neuron_vllm has no such setting",
    ),
    (
        "neuron-vllm-flag-with-a-value",
        lambda c: inf2(c)["serving"].update(environment={"SM_ON_ALLOW_NON_CACHED_MODEL": "true"}),
        "inf2.serving.environment.SM_ON_ALLOW_NON_CACHED_MODEL",
        'allowed: "" (the argument takes no value',
    ),
    (
        "neuron-vllm-batch-by-hand",
        lambda c: inf2(c)["serving"].update(environment={"SM_ON_MAX_NUM_SEQS": "8"}),
        "inf2.serving.environment.SM_ON_MAX_NUM_SEQS",
        "use max_concurrent_sequences",
    ),
    (
        "neuron-vllm-model-by-hand",
        lambda c: inf2(c)["serving"].update(environment={"SM_ON_MODEL": "/tmp/x"}),
        "inf2.serving.environment.SM_ON_MODEL",
        "set by the model (the app sets it to /opt/ml/model",
    ),
    (
        "lmi-key-on-neuron-vllm",
        lambda c: inf2(c)["serving"].update(environment={"OPTION_ROLLING_BATCH": "auto"}),
        "inf2.serving.environment.OPTION_ROLLING_BATCH",
        "reads SM_ON_* and would ignore it",
    ),
    (
        "vllm-dlc-port",
        lambda c: chat(c)["serving"].update(environment={"SM_VLLM_PORT": "8000"}),
        "chat.serving.environment.SM_VLLM_PORT",
        "set by the image's entrypoint (port 8080",
    ),
    (
        "vllm-dlc-misspelt-flag",
        lambda c: chat(c)["serving"].update(environment={"SM_VLLM_MAX_NUM_SEQ": "8"}),
        "chat.serving.environment.SM_VLLM_MAX_NUM_SEQ",
        "did you mean SM_VLLM_MAX_NUM_SEQS",
    ),
    (
        "vllm-dlc-speculative-config-by-hand",
        lambda c: chat(c)["serving"].update(environment={"SM_VLLM_SPECULATIVE_CONFIG": "{}"}),
        "chat.serving.environment.SM_VLLM_SPECULATIVE_CONFIG",
        "set by serving.speculative_decoding",
    ),
    (
        "vllm-dlc-lmi-dtype",
        lambda c: chat(c)["serving"].update(dtype="fp16"),
        "chat.serving.dtype",
        "takes: auto, half, float16, bfloat16, float, float32",
    ),
    (
        "openai-route-on-lmi",
        lambda c: chat(c).update(openai_route=True, serving={"engine": "vllm"}),
        "chat.openai_route",
        "streams JSON lines",
    ),
    (
        "openai-route-on-async",
        lambda c: p4d(c).update(openai_route=True),
        "p4d.openai_route",
        "openai_route applies to realtime (inference-component) endpoints;",
    ),
    (
        "pool-accelerators-on-async",
        lambda c: p4d(c).update(
            fallback_instance_types=["ml.p4de.24xlarge"],
            pool_overrides={"ml.p4de.24xlarge": {"accelerators": 8}},
        ),
        "p4d.pool_overrides['ml.p4de.24xlarge'].accelerators",
        "accelerators applies to realtime (inference-component) endpoints only",
    ),
    (
        "neuron-ami-on-gpu",
        lambda c: p4d(c).update(inference_ami_version="al2-ami-sagemaker-inference-neuron-2"),
        "p4d.inference_ami_version",
        "an AMI for gpu instances like ml.p4d.24xlarge: al2-ami-sagemaker-inference-gpu-2, ",
    ),
    (
        "unknown-ami",
        lambda c: p4d(c).update(inference_ami_version="al2-ami-sagemaker-inference-gpu-5"),
        "p4d.inference_ami_version",
        "al2023-ami-sagemaker-inference-gpu-4-1",
    ),
    (
        "unknown-image-uri",
        lambda c: p4d_serving(c).update(
            image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1"
        ),
        "p4d.serving.image_uri",
        "for any other image use engine custom",
    ),
    (
        "image-uri-and-tag",
        lambda c: p4d_serving(c).update(
            image_tag="0.36.0-lmi20.0.0-cu128",
            image_uri="763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:"
            "0.36.0-lmi20.0.0-cu128",
        ),
        "p4d.serving.image_uri",
        "not both",
    ),
    (
        "image-uri-not-ecr",
        lambda c: p4d_serving(c).update(image_uri="docker.io/vllm/vllm-openai:latest"),
        "p4d.serving.image_uri",
        "ECR image URI",
    ),
    (
        "dtype-the-image-does-not-take",
        lambda c: legacy_inf2(c)["serving"].update(dtype="auto"),
        "inf2.serving.dtype",
        "takes: fp16, bf16, fp32",
    ),
    (
        "quantization-the-image-does-not-take",
        lambda c: p4d_serving(c).update(quantization="smoothquant"),
        "p4d.serving.quantization",
        "takes: awq",
    ),
    (
        "typed-settings-on-a-custom-image",
        lambda c: p4d_serving(c).update(
            engine="custom", image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1"
        ),
        "p4d.serving.tensor_parallel_degree",
        "put them in serving.environment",
    ),
    (
        "jumpstart-draft-without-isolation",
        lambda c: (
            p4d(c)["model"].update(network_isolation=False),
            p4d_speculative(c)["model"].update(jumpstart=True),
        ),
        "p4d.model.network_isolation",
        "requires network isolation",
    ),
    (
        "environment-value-not-a-string",
        lambda c: p4d_serving(c).update(environment={"OPTION_MAX_LOGPROBS": 8}),
        "p4d.serving.environment.OPTION_MAX_LOGPROBS",
        "expected a string",
    ),
    (
        "old-model-image-key",
        lambda c: p4d(c)["model"].update(image={"family": "lmi"}),
        "p4d.model.image",
        "unknown key",
    ),
    (
        "volume-on-p4d",
        lambda c: p4d(c).update(volume_size_gb=512),
        "p4d.volume_size_gb",
        "local NVMe instance storage",
    ),
    (
        "no-volume-on-inf2",
        lambda c: inf2(c).pop("volume_size_gb"),
        "inf2.volume_size_gb",
        "has no instance storage",
    ),
    (
        "volume-too-large",
        lambda c: inf2(c).update(volume_size_gb=600),
        "inf2.volume_size_gb",
        "1..512",
    ),
    (
        "download-timeout-30",
        lambda c: p4d(c).update(model_data_download_timeout_seconds=30),
        "p4d.model_data_download_timeout_seconds",
        "60..3600",
    ),
    (
        "startup-timeout-4000",
        lambda c: inf2(c).update(container_startup_health_check_timeout_seconds=4000),
        "inf2.container_startup_health_check_timeout_seconds",
        "60..3600",
    ),
    ("max-capacity-0", lambda c: p4d(c).update(max_capacity=0), "p4d.max_capacity", "1..100"),
    (
        "concurrency-0",
        lambda c: p4d(c).update(max_concurrent_invocations_per_instance=0),
        "p4d.max_concurrent_invocations_per_instance",
        "1..1000",
    ),
    (
        "unknown-instance-type",
        lambda c: p4d(c).update(instance_type="ml.p4d.48xlarge"),
        "p4d.instance_type",
        "closest: ml.p4d.24xlarge",
    ),
    (
        "s3-prefix-without-trailing-slash",
        lambda c: p4d(c)["model"].update(s3_key_prefix="models/llama"),
        "p4d.model.s3_key_prefix",
        "ends with '/'",
    ),
    (
        "s3-uri-not-s3",
        lambda c: (
            p4d(c)["model"].pop("s3_key_prefix"),
            p4d(c)["model"].update(s3_uri="https://bucket/models/"),
        ),
        "p4d.model.s3_uri",
        "an S3 prefix URI of a valid bucket name, ending with '/'",
    ),
    (
        "both-prefix-and-uri",
        lambda c: p4d(c)["model"].update(s3_uri="s3://bucket/models/"),
        "p4d.model",
        "exactly one of s3_key_prefix",
    ),
    (
        "unknown-setting-key",
        lambda c: p4d(c).update(instance_count=2),
        "p4d.instance_count",
        "unknown key",
    ),
    (
        "unknown-scaling-key",
        lambda c: p4d(c)["scaling"].update(idle_minutes=5),
        "p4d.scaling.idle_minutes",
        "unknown key",
    ),
    (
        "bad-endpoint-key",
        lambda c: endpoints(c).update({"P4D_big": endpoints(c).pop("p4d")}),
        "P4D_big",
        "lower-case letters",
    ),
    (
        "endpoint-key-too-long",
        lambda c: endpoints(c).update({"a" * 21: endpoints(c).pop("p4d")}),
        "a" * 21,
        "1-20",
    ),
    (
        "wake-period-not-whole-minutes",
        lambda c: p4d(c)["scaling"].update(wake_period_seconds=90),
        "p4d.scaling.wake_period_seconds",
        "multiple of 60",
    ),
    (
        "idle-window-zero",
        lambda c: p4d(c)["scaling"].update(idle_minutes_before_zero=0),
        "p4d.scaling.idle_minutes_before_zero",
        "1..1440",
    ),
    (
        "missing-price",
        lambda c: p4d(c).pop("price_usd_per_hour"),
        "p4d.price_usd_per_hour",
        "required",
    ),
    (
        "enabled-not-boolean",
        lambda c: p4d(c).update(enabled="no"),
        "p4d.enabled",
        "true or false",
    ),
    (
        "runaway-margin-past-a-day",
        lambda c: p4d(c)["scaling"].update(
            idle_minutes_before_zero=100, runaway_margin_minutes=1380
        ),
        "p4d.scaling.runaway_margin_minutes",
        "allowed: at most 1340 (idle_minutes_before_zero 100 plus the margin",
    ),
    (
        "unknown-runaway-action",
        lambda c: p4d(c)["scaling"].update(runaway_action="stop"),
        "p4d.scaling.runaway_action",
        "allowed: notify, zero",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [case[1:] for case in BAD_ENDPOINTS],
    ids=[case[0] for case in BAD_ENDPOINTS],
)
def test_bad_endpoint_config_is_refused_with_a_clear_message(config_context, mutate, path, words):
    mutate(config_context)
    with pytest.raises(ConfigError) as error:
        load_config(config_context, "dev")
    assert error.value.path == f"{PATH}.{path}"
    assert words in str(error.value)


def test_a_bad_prod_endpoint_fails_the_dev_synth_too(config_context):
    config_context["environments"]["prod"]["endpoints"]["p4d"]["volume_size_gb"] = 100
    with pytest.raises(ConfigError, match=r"prod\.endpoints\.p4d\.volume_size_gb"):
        load_config(config_context, "dev")
