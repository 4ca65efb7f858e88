"""What the CDK app sets in an endpoint's container, from settings `serving.check` accepted: the
environment the pinned image reads, and advice that does not stop a deploy."""

from __future__ import annotations

import json
from typing import Any

from workbench_domain.engine_keys import (
    ENGINE_ENVIRONMENT,
    MODEL_LOADING_TIMEOUT_KEY,
    SPECULATIVE_KEYS,
    TYPED_KEYS,
)
from workbench_domain.instances import compute_capability
from workbench_domain.serving import ServingSettings, resolve_image


def advice(settings: ServingSettings, instance_type: str) -> list[str]:
    """What runs but runs worse than it could (settings that pass `check`): one line each."""
    row = resolve_image(settings)
    notes = []
    if row is not None and row.status == "legacy":
        notes.append(f"serving: {row.repository}:{row.tag} is legacy: {row.legacy_reason}")
    capability = compute_capability(instance_type)
    marlin = row.awq_marlin_min_capability if row is not None else None
    if (
        settings.quantization == "awq"
        and marlin is not None
        and capability is not None
        and capability >= marlin
    ):
        notes.append(
            f"serving.quantization awq forces vLLM's slower AWQ kernel on {instance_type} "
            f"(compute capability {capability}), where awq_marlin runs (>= {marlin}); remove "
            "it: vLLM reads the quantization of a pre-quantized checkpoint itself (LMI vLLM user "
            'guide: "If you bring a pre-quantized model to LMI, you should not set the '
            '`option.quantize` configuration.")'
        )
    return notes


def container_environment(settings: ServingSettings) -> dict[str, str]:
    """The container's environment for the settings (call `check` first)."""
    engine = settings.engine
    environment: dict[str, str] = {}
    environment.update(ENGINE_ENVIRONMENT.get(engine, {}))
    for name, keys in TYPED_KEYS.items():
        value = getattr(settings, name)
        if value is not None and engine in keys:
            environment[keys[engine]] = str(value)
    spec = settings.speculative
    if spec is not None and engine in SPECULATIVE_KEYS:
        config: dict[str, Any] = {
            "method": spec.method,
            "model": spec.path,
            "num_speculative_tokens": spec.num_speculative_tokens,
        }
        if spec.draft_tensor_parallel_degree is not None:
            config["draft_tensor_parallel_size"] = spec.draft_tensor_parallel_degree
        environment[SPECULATIVE_KEYS[engine]] = json.dumps(config, separators=(",", ":"))
    row = resolve_image(settings)
    if (
        row is not None
        and settings.model_loading_timeout_seconds is not None
        and MODEL_LOADING_TIMEOUT_KEY in row.accepted_keys
    ):
        environment[MODEL_LOADING_TIMEOUT_KEY] = str(settings.model_loading_timeout_seconds)
    environment.update(settings.environment)
    return environment
