"""`pool_overrides`: what differs on a fallback instance pool of an endpoint.

An instance pool may serve another SageMaker model than the variant's (`InstancePool.
ModelNameOverride`, "a different model optimized for the instance type in this pool": cfn-lint's
AWS::SageMaker::EndpointConfig schema), and an inference component takes one specification per
instance type (`Specifications`, each with its ModelName and ComputeResourceRequirements). So a
fallback pool may set its own tensor parallel degree, its own model files (an export or a
quantization made for that instance type) and, on a realtime endpoint, the GPUs one copy
reserves there. Everything else is the endpoint's.

    "fallback_instance_types": ["ml.p5.48xlarge"],
    "pool_overrides": {"ml.p5.48xlarge": {"tensor_parallel_degree": 8}}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from workbench_config.models import ModelConfig, parse_model
from workbench_config.reader import ConfigError, Reader, map_key_path
from workbench_domain.serving import ServingSettings

if TYPE_CHECKING:  # endpoints.py imports this module
    from workbench_config.endpoints import EndpointConfig


@dataclass(frozen=True)
class PoolOverride:
    """What one fallback pool changes; None keeps the endpoint's."""

    tensor_parallel_degree: int | None = None
    # The GPUs one copy reserves on this instance type (realtime endpoints).
    accelerators: int | None = None
    model: ModelConfig | None = None


def parse_pool_overrides(section: Reader) -> Mapping[str, PoolOverride]:
    """The `pool_overrides` object: instance type -> what differs there."""
    keys = section.keys(
        pattern=r"ml\.[a-z0-9.-]+",
        describe="allowed: a fallback instance type (ml.<family>.<size>)",
    )
    return MappingProxyType({key: section.map_section(key, _parse_override) for key in keys})


def _parse_override(section: Reader) -> PoolOverride:
    return PoolOverride(
        tensor_parallel_degree=section.integer("tensor_parallel_degree", None, minimum=1),
        accelerators=section.integer("accelerators", None, minimum=1),
        model=section.section("model", parse_model) if section.has("model") else None,
    )


def pool_serving(config: EndpointConfig, instance_type: str) -> ServingSettings:
    """The serving settings on `instance_type`: the endpoint's, with the pool's degree."""
    override = config.pool_overrides.get(instance_type)
    if override is None or override.tensor_parallel_degree is None:
        return config.serving
    return dataclasses.replace(
        config.serving, tensor_parallel_degree=override.tensor_parallel_degree
    )


def check_pool_overrides(section: Reader, config: EndpointConfig) -> None:
    """Each override names a fallback pool (the primary's settings are the endpoint's own);
    `accelerators` only on a realtime endpoint; a pool's model serves like the endpoint's."""
    fallbacks = config.capacity.fallback_instance_types
    for instance_type, override in config.pool_overrides.items():
        path = map_key_path(section.child_path("pool_overrides"), instance_type)
        if instance_type not in fallbacks:
            raise ConfigError(
                path,
                instance_type,
                "allowed: one of fallback_instance_types "
                f"({', '.join(fallbacks) or 'none set'}); the primary instance type's settings "
                "are the endpoint's own",
            )
        if override.accelerators is not None and config.realtime is None:
            raise ConfigError(
                f"{path}.accelerators",
                override.accelerators,
                "accelerators applies to realtime (inference-component) endpoints only",
            )
        model = override.model
        if model is not None and model.network_isolation != config.model.network_isolation:
            raise ConfigError(
                f"{path}.model.network_isolation",
                model.network_isolation,
                "every pool's model runs like the endpoint's: set it as the endpoint's model "
                f"does ({config.model.network_isolation})",
            )
