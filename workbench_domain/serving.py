"""What runs inside an endpoint's container: engines, pinned images, and the settings they read.

The facts live in one cited table, `serving_images.json` beside this file: per pinned image, the
`OPTION_*` keys its server reads (regenerated from the container's own source by
tools/serving_keys.py), the keys it ignores and why, the speculative-decoding methods its vLLM
accepts, its dtypes and quantizations; and the accelerators of each instance type.

From typed settings (`ServingSettings`) this module derives the container's environment for the
pinned image, and refuses what that image does not read or support (`ServingError`, naming the
setting, the value and what is allowed). Standard library only: the CDK app, the operator
scripts and the notebooks all use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from workbench_domain.engine_keys import (
    MODEL_LOADING_TIMEOUT_KEY,
    TYPED_KEYS,
    derived_keys,
)
from workbench_domain.instances import accelerator_devices, accelerator_kind, instance_family
from workbench_domain.serving_images import (
    ENGINE_ACCELERATOR,
    ENGINES,
    TABLE,
    ServingError,
    ServingImage,
    image_for,
    image_for_uri,
    images,
)

# Speculative methods this app can set up. `draft_model`: a smaller model of the same family
# (e.g. Llama-3 8B for 70B); `eagle`/`eagle3`: an EAGLE head, e.g. the `draft/` output of an
# EAGLE optimization job. vLLM's own names, passed as `speculative_config.method`.
SPECULATIVE_METHODS = ("none", "draft_model", "eagle", "eagle3")
# Channel of the extra model data source that mounts the speculative model, by method; the AWS
# EAGLE sample (aws-samples/sagemaker-genai-hosting-examples, EAGLE_train_deploy.ipynb) uses
# `eagle`, the SageMaker Python SDK `draft_model`.
SPECULATIVE_CHANNEL = {"draft_model": "draft_model", "eagle": "eagle", "eagle3": "eagle"}
ADDITIONAL_DATA_ROOT = "/opt/ml/additional-model-data-sources"
# vLLM's plain AWQ kernel: "def get_supported_act_dtypes(self) -> list[torch.dtype]: return
# [torch.half]" (vllm-project/vllm v0.15.1 vllm/model_executor/layers/quantization/awq.py), and
# vllm/config/vllm.py refuses the model at start-up: "is not supported for quantization".
BF16_DTYPES = ("bf16", "bfloat16")
# Explicit async scheduling with a draft model is refused at start-up: "with EAGLE/MTP kind of
# speculative decoding." (vllm v0.15.1 vllm/config/vllm.py, the end of "Currently, async
# scheduling is only supported ..."). The key is `<prefix>ASYNC_SCHEDULING` in both vLLM images.
ASYNC_SCHEDULING = "ASYNC_SCHEDULING"


@dataclass(frozen=True)
class SpeculativeDecoding:
    """`method` in SPECULATIVE_METHODS other than `none`; the speculative model is mounted from
    S3 as an extra model data channel (`channel`)."""

    method: str
    num_speculative_tokens: int = 5
    # vLLM's draft_tensor_parallel_size (None: vLLM's default, the target's degree).
    draft_tensor_parallel_degree: int | None = None
    # The speculative model's vocabulary size, when the config states it.
    vocab_size: int | None = None

    @property
    def channel(self) -> str:
        return SPECULATIVE_CHANNEL[self.method]

    @property
    def path(self) -> str:
        return f"{ADDITIONAL_DATA_ROOT}/{self.channel}"


@dataclass(frozen=True)
class ServingSettings:
    """How an endpoint serves its model. `image_uri` replaces the pinned image (`image_tag`)."""

    engine: str
    image_tag: str | None = None
    image_uri: str | None = None
    tensor_parallel_degree: int | None = None
    max_model_len: int | None = None
    max_concurrent_sequences: int | None = None
    dtype: str | None = None
    quantization: str | None = None
    speculative: SpeculativeDecoding | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    # The endpoint's container start-up health-check timeout: the model server's loading budget.
    model_loading_timeout_seconds: int | None = None
    # The served model's vocabulary size, when the config states it.
    vocab_size: int | None = None


# Llama-3 70B compiled for and served on ml.inf2.48xlarge (24 NeuronCores) by the legacy
# transformers-neuronx image, as in the AWS sample notebook the guidance's Neuron scenario
# follows: notebook 04's compilation job and the endpoint entry it writes. The inf2 endpoint of
# cdk.json serves Neuron vLLM instead (`make neuron-export`).
LLAMA3_70B_INF2 = ServingSettings(
    engine="neuron",
    tensor_parallel_degree=24,
    max_model_len=8192,
    max_concurrent_sequences=4,
    dtype="fp16",
    environment={"OPTION_ROLLING_BATCH": "auto", "OPTION_NEURON_OPTIMIZE_LEVEL": "2"},
)


def resolve_image(settings: ServingSettings) -> ServingImage | None:
    """The table row the settings run on; None for a `custom` image."""
    if settings.engine not in ENGINES:
        raise ServingError("engine", settings.engine, f"allowed: {', '.join(ENGINES)}")
    if settings.image_uri is not None and settings.image_tag is not None:
        raise ServingError("image_uri", settings.image_uri, "set image_uri or image_tag, not both")
    if settings.engine == "custom":
        if settings.image_uri is None:
            raise ServingError("image_uri", None, "engine custom needs image_uri (an ECR image)")
        return None
    if settings.image_uri is None:
        return image_for(settings.engine, settings.image_tag)
    row = image_for_uri(settings.image_uri)
    if row is None or row.engine != settings.engine:
        known = ", ".join(
            f"{r.repository}:{r.tag}" for r in images() if r.engine == settings.engine
        )
        raise ServingError(
            "image_uri",
            settings.image_uri,
            f"an image of engine {settings.engine} this app knows ({known}); for any other "
            "image use engine custom",
        )
    return row


def check(settings: ServingSettings, instance_type: str) -> ServingImage | None:
    """Refuses settings the image cannot honour on `instance_type`; returns the image row."""
    row = resolve_image(settings)
    if row is None:
        _check_custom(settings)
        return None
    kind = accelerator_kind(instance_type)
    needed = ENGINE_ACCELERATOR[row.engine]
    if kind != needed:
        raise ServingError(
            "engine",
            row.engine,
            f"a {row.engine} image needs a {needed} instance, and {instance_type} is "
            + (f"a {kind} instance" if kind else "neither GPU nor Neuron"),
        )
    family = instance_family(instance_type)
    if row.families and family not in row.families:
        raise ServingError(
            "engine",
            row.engine,
            row.unsupported_families.get(family)
            or f"{row.tag} serves {', '.join(row.families)} instances, not {instance_type}",
        )
    for name, keys in TYPED_KEYS.items():
        if getattr(settings, name) is not None and row.engine not in keys:
            raise ServingError(
                name,
                getattr(settings, name),
                f"engine {row.engine} has no such setting (its server takes it from the "
                "model): remove it",
            )
    devices = accelerator_devices(instance_type)
    tp = settings.tensor_parallel_degree
    if tp is not None:
        if devices is None:
            raise ServingError(
                "tensor_parallel_degree",
                tp,
                f"the accelerator table has no row for {instance_type}; add it to {TABLE.name}",
            )
        if tp > devices:
            unit = "GPUs" if needed == "gpu" else "NeuronCores"
            raise ServingError(
                "tensor_parallel_degree",
                tp,
                f"{instance_type} has {devices} {unit}: allowed 1..{devices}",
            )
    if settings.dtype is not None and settings.dtype not in row.dtypes:
        raise ServingError("dtype", settings.dtype, f"{row.tag} takes: {', '.join(row.dtypes)}")
    if settings.quantization is not None and settings.quantization not in row.quantizations:
        raise ServingError(
            "quantization",
            settings.quantization,
            f"{row.tag} takes: {', '.join(row.quantizations)}",
        )
    if row.vllm and settings.quantization == "awq" and settings.dtype in BF16_DTYPES:
        raise ServingError(
            "quantization",
            "awq",
            f"vLLM's AWQ kernel takes only fp16 activations, not dtype {settings.dtype} "
            "(vllm v0.15.1 quantization/awq.py): remove quantization, so that vLLM reads the "
            "checkpoint's and runs awq_marlin, which takes bf16; or set dtype fp16",
        )
    _check_speculative(settings, row)
    _check_environment(settings, row)
    return row


def _check_custom(settings: ServingSettings) -> None:
    for name in (*TYPED_KEYS, "speculative"):
        if getattr(settings, name) is not None:
            raise ServingError(
                name,
                getattr(settings, name),
                "engine custom runs an image this app does not know, so it cannot derive "
                "settings for it: put them in serving.environment",
            )


def _check_speculative(settings: ServingSettings, row: ServingImage) -> None:
    spec = settings.speculative
    if spec is None:
        return
    if spec.method not in SPECULATIVE_METHODS[1:]:
        raise ServingError(
            "speculative_decoding.method",
            spec.method,
            f"allowed: {', '.join(SPECULATIVE_METHODS)}",
        )
    if not row.speculative_methods:
        raise ServingError(
            "speculative_decoding.method",
            spec.method,
            f"{row.engine} ({row.tag}) has no speculative decoding this app can set up; "
            "use method none",
        )
    if spec.method not in row.speculative_methods:
        raise ServingError(
            "speculative_decoding.method",
            spec.method,
            f"the vLLM {row.vllm} of {row.tag} accepts: "
            f"{', '.join(row.speculative_methods)} (another image_tag may accept it)",
        )
    if spec.num_speculative_tokens < 1:
        raise ServingError(
            "speculative_decoding.num_speculative_tokens",
            spec.num_speculative_tokens,
            "vLLM needs at least 1",
        )
    _check_draft_parallelism(settings, spec)
    if spec.method == "draft_model":
        if (
            spec.vocab_size is not None
            and settings.vocab_size is not None
            and spec.vocab_size != settings.vocab_size
        ):
            raise ServingError(
                "speculative_decoding.model.vocab_size",
                spec.vocab_size,
                f"vLLM needs the draft's vocabulary to be the target's ({settings.vocab_size}): "
                '"Target and draft model should have the same vocabulary size." (vllm v0.15.1 '
                "vllm/config/speculative.py verify_equal_vocab_size_if_draft_model)",
            )
        scheduling_key = row.key_prefix + ASYNC_SCHEDULING
        scheduling = settings.environment.get(scheduling_key, "")
        if scheduling.strip().lower() in ("true", "1"):
            raise ServingError(
                f"environment.{scheduling_key}",
                scheduling,
                'vLLM refuses async scheduling with a draft model: it is supported only "with '
                'EAGLE/MTP kind of speculative decoding." (vllm v0.15.1 vllm/config/vllm.py); '
                "remove it (vLLM then turns it off by itself)",
            )


def _check_draft_parallelism(settings: ServingSettings, spec: SpeculativeDecoding) -> None:
    """vLLM's tensor-parallel rules for the speculative model.

    A separate draft model runs with the target's degree: "Currently, 'draft_tensor_parallel_size'
    and 'tensor_parallel_size' " ... "must be the same." (vllm v0.15.1
    vllm/v1/spec_decode/draft_model.py, _raise_if_draft_tp_mismatch). An EAGLE head may run with
    1 or the target's: "other value than 1 or target model tensor_parallel_size" (same release,
    vllm/config/speculative.py, _verify_and_get_draft_tp).
    """
    draft_tp = spec.draft_tensor_parallel_degree
    if draft_tp is None:
        return
    field_name = "speculative_decoding.draft_tensor_parallel_degree"
    target_tp = settings.tensor_parallel_degree
    if target_tp is None:
        raise ServingError(
            field_name,
            draft_tp,
            "set tensor_parallel_degree too: vLLM checks the draft's degree against it",
        )
    allowed = (target_tp,) if spec.method == "draft_model" else tuple(sorted({1, target_tp}))
    if draft_tp not in allowed:
        rule = (
            "a draft model runs with the target's degree (vllm v0.15.1 "
            "vllm/v1/spec_decode/draft_model.py _raise_if_draft_tp_mismatch)"
            if spec.method == "draft_model"
            else "an EAGLE head runs with 1 or the target's degree (vllm "
            "vllm/config/speculative.py _verify_and_get_draft_tp)"
        )
        raise ServingError(
            field_name, draft_tp, f"allowed: {' or '.join(map(str, allowed))}; {rule}"
        )


def _check_environment(settings: ServingSettings, row: ServingImage) -> None:
    derived = derived_keys(row.engine)
    for name, value in settings.environment.items():
        where = f"environment.{name}"
        if name == MODEL_LOADING_TIMEOUT_KEY and settings.model_loading_timeout_seconds:
            _check_loading_timeout(value, settings.model_loading_timeout_seconds)
            continue
        if name in derived:
            raise ServingError(where, value, f"set by {derived[name]}; remove it here")
        foreign = [
            other.engine
            for other in images()
            if other.key_prefix != row.key_prefix and name.startswith(other.key_prefix)
        ]
        if foreign:
            raise ServingError(
                where,
                value,
                f"a {foreign[0]} key: {row.tag} reads {row.key_prefix}* and would ignore it",
            )
        if not name.startswith(row.key_prefix):
            continue
        if name in row.flag_only_keys and value != "":
            raise ServingError(
                where,
                value,
                'allowed: "" (the argument takes no value, and the entrypoint would pass any '
                "other as an extra argument, which the server refuses)",
            )
        if name in row.ignored:
            raise ServingError(where, value, f"{row.tag} ignores it: {row.ignored[name]}")
        if name not in row.accepted_keys:
            close = difflib.get_close_matches(name, sorted(row.accepted_keys), n=3, cutoff=0.75)
            raise ServingError(
                where,
                value,
                f"{row.tag} reads no such key"
                + (f"; did you mean {', '.join(close)}?" if close else "")
                + f" ({len(row.accepted_keys)} keys it reads are listed in {TABLE.name})",
            )


def _check_loading_timeout(value: str, budget: int) -> None:
    try:
        seconds = int(value)
    except ValueError:
        seconds = None
    if seconds is None or seconds < budget:
        raise ServingError(
            f"environment.{MODEL_LOADING_TIMEOUT_KEY}",
            value,
            f"at least {budget} s, the endpoint's container_startup_health_check_timeout_seconds: "
            "the app sets it to that, so the container does not stop loading before SageMaker "
            "stops waiting; remove it, or raise the health-check timeout",
        )
