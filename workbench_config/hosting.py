"""An endpoint's routing, data cache, metrics, capacity and host keys (workbench_domain.hosting
holds the values CloudFormation and the API accept)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from workbench_config.pools import pool_serving
from workbench_config.reader import ConfigError, Reader, map_key_path
from workbench_domain import api_limits, hosting, serving, serving_images
from workbench_domain.instances import (
    EBS_ONLY_FAMILIES,
    LOCAL_NVME_FAMILIES,
    accelerator_devices,
    accelerator_kind,
    instance_family,
    memory_mb,
)

if TYPE_CHECKING:  # endpoints.py imports this module
    from workbench_config.endpoints import EndpointConfig


def local_nvme(instance_type: str) -> bool:
    return instance_family(instance_type) in LOCAL_NVME_FAMILIES


def parse_routing(section: Reader) -> hosting.Routing:
    """`routing` and its `prefix_routing` options (realtime endpoints)."""
    strategy = section.string(
        "routing",
        "least_outstanding_requests",
        choices=(*hosting.ROUTING, *hosting.API_ONLY_ROUTING),
    )
    prefix = section.section("prefix_routing", _parse_prefix_routing, optional=True)
    if strategy in hosting.API_ONLY_ROUTING:
        raise ConfigError(
            section.child_path("routing"),
            strategy,
            "allowed: least_outstanding_requests, prefix_aware, random (kv_aware is in the "
            "SageMaker API, but CloudFormation's AWS::SageMaker::EndpointConfig schema does not "
            "accept it yet)",
        )
    if section.has("prefix_routing") and strategy != "prefix_aware":
        raise ConfigError(
            section.child_path("prefix_routing"),
            section.raw_object("prefix_routing"),
            "prefix_routing goes with routing: prefix_aware",
        )
    return hosting.Routing(strategy, prefix.prefix_length, prefix.concurrency_threshold)


def _parse_prefix_routing(section: Reader) -> hosting.Routing:
    low, high = hosting.PREFIX_LENGTH_RANGE
    c_low, c_high = hosting.CONCURRENCY_THRESHOLD_RANGE
    return hosting.Routing(
        "prefix_aware",
        prefix_length=section.integer("prefix_length", None, minimum=low, maximum=high),
        concurrency_threshold=section.integer(
            "concurrency_threshold", None, minimum=c_low, maximum=c_high
        ),
    )


def parse_metrics(section: Reader) -> hosting.Metrics:
    """`metrics`: enhanced metrics, detailed observability and how often they are published."""
    metrics = hosting.Metrics(
        enhanced=section.boolean("enhanced", False),
        detailed=section.boolean("detailed", False),
        publish_seconds=section.integer(
            "publish_seconds", None, minimum=min(hosting.PUBLISH_SECONDS)
        ),
    )
    if (
        metrics.publish_seconds is not None
        and metrics.publish_seconds not in hosting.PUBLISH_SECONDS
    ):
        raise ConfigError(
            section.child_path("publish_seconds"),
            metrics.publish_seconds,
            f"allowed: {', '.join(map(str, hosting.PUBLISH_SECONDS))}",
        )
    return metrics


def parse_capacity(section: Reader, instance_types: Collection[str]) -> hosting.Capacity:
    """`fallback_instance_types`, `capacity_reservation_arn`, `provision_timeout_seconds`."""
    low, high = hosting.PROVISION_TIMEOUT_RANGE
    fallbacks = section.strings(
        "fallback_instance_types",
        (),
        pattern=r"ml\.[a-z0-9.-]+",
        max_items=hosting.MAX_INSTANCE_POOLS - 1,
        describe="allowed: an endpoint instance type (ml.<family>.<size>)",
    )
    for index, instance_type in enumerate(fallbacks):
        path = section.child_path(f"fallback_instance_types[{index}]")
        if instance_type not in instance_types:
            raise ConfigError(path, instance_type, "allowed: an endpoint instance type")
    return hosting.Capacity(
        fallback_instance_types=fallbacks,
        reservation_arn=section.string(
            "capacity_reservation_arn",
            None,
            pattern=hosting.RESERVATION_ARN_PATTERN,
            describe="allowed: a SageMaker ML capacity reservation ARN",
        ),
        provision_timeout_seconds=section.integer(
            "provision_timeout_seconds", None, minimum=low, maximum=high
        ),
    )


def check_fallbacks(section: Reader, config: EndpointConfig) -> None:
    """Every fallback instance type can serve what the primary one does: not the primary again,
    the same kind of storage (the variant has one volume setting), and the
    serving settings and a realtime copy's GPUs and memory checked against it like the
    primary's (at most four, distinct: the reader's)."""
    fallbacks = config.capacity.fallback_instance_types
    seen = {config.instance_type}
    for index, instance_type in enumerate(fallbacks):
        path = section.child_path(f"fallback_instance_types[{index}]")
        if instance_type in seen:
            raise ConfigError(path, instance_type, "already a pool of this endpoint")
        seen.add(instance_type)
        if local_nvme(instance_type) != local_nvme(config.instance_type):
            raise ConfigError(
                path,
                instance_type,
                f"its storage differs from {config.instance_type}'s (local NVMe or an EBS "
                "volume): the variant has one volume setting for every pool",
            )
        settings = pool_serving(config, instance_type)
        try:
            serving.check(settings, instance_type)
        except serving_images.ServingError as error:
            raise ConfigError(
                path, instance_type, f"serving.{error.field}: {error.allowed}"
            ) from None
        realtime = config.realtime
        if realtime is None:
            continue
        override = config.pool_overrides.get(instance_type)
        accelerators = (override and override.accelerators) or realtime.accelerators
        devices = accelerator_devices(instance_type)
        if devices is not None and accelerators > devices:
            raise ConfigError(
                path, instance_type, f"has {devices} GPUs; a copy reserves {accelerators}"
            )
        tp = settings.tensor_parallel_degree
        if tp is not None and tp > accelerators:
            raise ConfigError(
                path,
                instance_type,
                f"a copy reserves {accelerators} GPUs there, fewer than tensor_parallel_degree "
                f"{tp}: set {map_key_path('pool_overrides', instance_type)}.accelerators or its "
                "tensor_parallel_degree",
            )
        memory = memory_mb(instance_type)
        if memory is not None and realtime.min_memory_mb > memory:
            raise ConfigError(
                path, instance_type, f"has {memory} MiB; a copy reserves {realtime.min_memory_mb}"
            )


def parse_ami(section: Reader) -> str | None:
    """`inference_ami_version`: the host AMI (botocore's ProductionVariantInferenceAmiVersion)."""
    ami: str | None = section.string(
        "inference_ami_version",
        None,
        choices=api_limits.enum("ProductionVariantInferenceAmiVersion"),
    )
    return ami


def resolve_ami(
    section: Reader, chosen: str | None, row: serving_images.ServingImage | None, instance_type: str
) -> str | None:
    """The host AMI: the one chosen, else the one the image needs (None: SageMaker's default).
    An AMI is built for one accelerator (its name says gpu or neuron)."""
    ami = chosen if chosen is not None else (row.inference_ami_version if row else None)
    kind = accelerator_kind(instance_type)
    if chosen is not None and (kind is None or kind not in chosen):
        raise ConfigError(
            section.child_path("inference_ami_version"),
            chosen,
            f"an AMI for {kind or 'no accelerator'} instances like {instance_type}: "
            + ", ".join(
                sorted(
                    v
                    for v in api_limits.enum("ProductionVariantInferenceAmiVersion")
                    if kind and kind in v
                )
            ),
        )
    return ami


def resolve_openai_route(
    section: Reader, chosen: bool | None, row: serving_images.ServingImage | None
) -> bool:
    """`openai_route` (realtime endpoints): whether clients may use SageMaker's OpenAI-compatible
    route. By default, where the image serves it fully (streams server-sent events); refused on
    an image that does not."""
    serves = row is not None and row.openai_route == "sse"
    if chosen is None:
        return serves
    if chosen and not serves:
        why = (
            f"{row.tag}: {row.openai_route_note}"
            if row is not None
            else "engine custom: this app does not know what the image answers"
        )
        raise ConfigError(
            section.child_path("openai_route"),
            chosen,
            f"the image does not serve the route fully ({why}); use engine vllm_dlc, or set "
            "openai_route false",
        )
    return chosen


def check_volume(section: Reader, config: EndpointConfig) -> None:
    """`volume_size_gb` is set where the instance has no storage of its own, and only there."""
    instance_type, family = config.instance_type, instance_family(config.instance_type)
    volume_low, volume_high = api_limits.integer_limits("ProductionVariantVolumeSizeInGB")
    if config.volume_size_gb is not None and family in LOCAL_NVME_FAMILIES:
        raise ConfigError(
            section.child_path("volume_size_gb"),
            config.volume_size_gb,
            f"{instance_type} has local NVMe instance storage, which SageMaker uses instead of an "
            "EBS volume; remove volume_size_gb",
        )
    if config.volume_size_gb is None and family in EBS_ONLY_FAMILIES:
        raise ConfigError(
            section.child_path("volume_size_gb"),
            None,
            f"{instance_type} has no instance storage: set the EBS volume size in GB "
            f"({volume_low}..{volume_high}), large enough for the model weights",
        )
