"""The environment keys each engine's settings become, and the keys the app or an image's
entrypoint sets itself (so an endpoint's `environment` may not set them again). Standard library
only."""

from __future__ import annotations

# The draft-model keys of lmi-dist (LMI <= 14) and transformers-neuronx, which JumpStart's older
# LMI configs set; the app mounts and configures a draft model itself.
LEGACY_DRAFT_KEYS = frozenset(
    {"OPTION_SPECULATIVE_DRAFT_MODEL", "OPTION_SPECULATIVE_LENGTH", "OPTION_DRAFT_MODEL_TP_SIZE"}
)
# Async mode of LMI's vLLM service, as in the AWS EAGLE sample (also LMI 17+'s default).
VLLM_ASYNC_SERVICE = {
    "OPTION_ASYNC_MODE": "true",
    "OPTION_ROLLING_BATCH": "disable",
    "OPTION_ENTRYPOINT": "djl_python.lmi_vllm.vllm_async_service",
}
# The key each typed setting becomes, per engine: LMI's names (LMI maps them to the engine's),
# the vLLM server's flags (AWS's vLLM DLC: SM_VLLM_<FLAG>), and optimum-cli neuron serve's
# arguments (Hugging Face's vLLM Neuron DLC: SM_ON_<ARGUMENT>). An engine missing from a setting's
# map has no such setting (the exported Neuron model fixes its dtype).
LMI_ENGINES = ("vllm", "trtllm", "neuron")
TYPED_KEYS: dict[str, dict[str, str]] = {
    "tensor_parallel_degree": {
        **dict.fromkeys(LMI_ENGINES, "OPTION_TENSOR_PARALLEL_DEGREE"),
        "vllm_dlc": "SM_VLLM_TENSOR_PARALLEL_SIZE",
        "neuron_vllm": "SM_ON_TENSOR_PARALLEL_SIZE",
    },
    "max_model_len": {
        "vllm": "OPTION_MAX_MODEL_LEN",
        "trtllm": "OPTION_MAX_SEQ_LEN",
        "neuron": "OPTION_N_POSITIONS",
        "vllm_dlc": "SM_VLLM_MAX_MODEL_LEN",
        "neuron_vllm": "SM_ON_SEQUENCE_LENGTH",
    },
    "max_concurrent_sequences": {
        **dict.fromkeys(LMI_ENGINES, "OPTION_MAX_ROLLING_BATCH_SIZE"),
        "vllm_dlc": "SM_VLLM_MAX_NUM_SEQS",
        "neuron_vllm": "SM_ON_BATCH_SIZE",
    },
    "dtype": {**dict.fromkeys(LMI_ENGINES, "OPTION_DTYPE"), "vllm_dlc": "SM_VLLM_DTYPE"},
    "quantization": {
        **dict.fromkeys(LMI_ENGINES, "OPTION_QUANTIZE"),
        "vllm_dlc": "SM_VLLM_QUANTIZATION",
    },
}
# Where the speculative configuration goes: vLLM's `speculative_config`, through LMI or the DLC.
SPECULATIVE_KEYS = {"vllm": "OPTION_SPECULATIVE_CONFIG", "vllm_dlc": "SM_VLLM_SPECULATIVE_CONFIG"}
# SageMaker mounts the model data here; the DLCs are told (or find) it there.
MODEL_DIR = "/opt/ml/model"
# What the app sets in every container of an engine, beside the typed settings: LMI's vLLM async
# service; the Neuron DLC's model path (optimum-cli neuron serve requires --model).
ENGINE_ENVIRONMENT: dict[str, dict[str, str]] = {
    "vllm": VLLM_ASYNC_SERVICE,
    "neuron_vllm": {"SM_ON_MODEL": MODEL_DIR},
}
# Keys the app or the image's entrypoint sets, which an environment must not set again: the
# entrypoints start with `--port 8080` (SageMaker's port), and a second `--port` would win.
RESERVED_KEYS: dict[str, dict[str, str]] = {
    "vllm_dlc": {
        "SM_VLLM_MODEL": f"the model (mounted at {MODEL_DIR}, which the entrypoint serves)",
        "SM_VLLM_PORT": "the image's entrypoint (port 8080, which SageMaker calls)",
    },
    "neuron_vllm": {
        "SM_ON_MODEL": f"the model (the app sets it to {MODEL_DIR}, where SageMaker mounts it)",
        "SM_ON_PORT": "the image's entrypoint (port 8080, which SageMaker calls)",
    },
}
# The typed settings that are counts (the others are names).
INTEGER_SETTINGS = frozenset(
    {"tensor_parallel_degree", "max_model_len", "max_concurrent_sequences"}
)
# How long the model server waits for the model to load. The LMI images set
# MODEL_LOADING_TIMEOUT=1200 in their Dockerfiles (deepjavalibrary/djl-serving 0.36.0-lmi20-dlc
# serving/docker/lmi.Dockerfile: "ENV MODEL_LOADING_TIMEOUT=1200"; the same line in 0.36.0-lmi18-dlc
# lmi.Dockerfile, 0.33.0-dlc tensorrt-llm.Dockerfile and 0.29.0-dlc pytorch-inf2.Dockerfile), and
# `option.model_loading_timeout` replaces it (PyModel.java: case "model_loading_timeout":). The app
# sets it to the endpoint's container start-up health-check timeout, so the container does not
# give up on a large model before SageMaker does.
MODEL_LOADING_TIMEOUT_KEY = "OPTION_MODEL_LOADING_TIMEOUT"


def typed_keys(engine: str) -> dict[str, str]:
    """Environment key -> the typed setting (a field of ServingSettings) it comes from."""
    return {keys[engine]: name for name, keys in TYPED_KEYS.items() if engine in keys}


def derived_keys(engine: str) -> dict[str, str]:
    """Environment key -> what sets it, for every key `container_environment` derives."""
    derived = {key: f"serving.{name}" for key, name in typed_keys(engine).items()}
    if engine in SPECULATIVE_KEYS:
        derived[SPECULATIVE_KEYS[engine]] = "serving.speculative_decoding"
    why = f"serving.engine (what the app sets for every {engine} container)"
    derived.update(dict.fromkeys(ENGINE_ENVIRONMENT.get(engine, {}), why))
    derived.update(RESERVED_KEYS.get(engine, {}))
    return derived


def app_set_keys(engine: str) -> frozenset[str]:
    """The keys the app or the engine's entrypoint sets whatever the settings say: an entry's
    environment drops them (the app sets them again)."""
    return frozenset(ENGINE_ENVIRONMENT.get(engine, {})) | frozenset(RESERVED_KEYS.get(engine, {}))
