"""The `endpoints` section: async LLM endpoints that scale to zero, one stack per endpoint.

    "endpoints": {
      "<key>": {                            # names the stack (Endpoint-<key>) and S3/SSM paths
        "enabled": true,
        "instance_type": "ml.p4d.24xlarge",
        "model": {
          "s3_key_prefix": "models/x/",     # in the project's artifacts bucket, or
          "s3_uri": "s3://bucket/x/",       # anywhere ("{region}" is replaced at deploy time)
          "accept_eula": false, "network_isolation": true,
          "image": {"family": "lmi", "tag": "..."} | {"uri": "<ecr image uri>"},
          "environment": {"OPTION_TENSOR_PARALLEL_DEGREE": "8"},
          "draft_model": {"s3_key_prefix" | "s3_uri": ..., "jumpstart": false, "accept_eula": false}
        },
        "max_capacity": 1, "max_concurrent_invocations_per_instance": 4, "volume_size_gb": null,
        "model_data_download_timeout_seconds": 1800,
        "container_startup_health_check_timeout_seconds": 1800,
        "price_usd_per_hour": 37.688,
        "scaling": {...}                     # see parse_scaling
      }
    }

Model locations are relative to the artifacts bucket by default (`s3_key_prefix`), so the shipped
config names no real account's bucket; `s3_uri` points anywhere else (e.g. a JumpStart bucket).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from workbench_config.hosting import (
    check_fallbacks,
    check_volume,
    parse_ami,
    parse_capacity,
    parse_metrics,
    parse_routing,
    resolve_ami,
    resolve_openai_route,
)
from workbench_config.models import (
    ModelConfig,
    SpeculativeModelConfig,
    parse_model,
    parse_serving,
)
from workbench_config.pools import PoolOverride, check_pool_overrides, parse_pool_overrides
from workbench_config.reader import ConfigError, Reader
from workbench_domain import api_limits, hosting, serving, serving_images
from workbench_domain.endpoint_kinds import ASYNC, KINDS, REALTIME, RUNAWAY_ACTIONS, EndpointScaling
from workbench_domain.instances import (
    accelerator_devices,
    accelerator_kind,
    memory_mb,
)
from workbench_domain.serving import ServingSettings

# The key names the stack (`Endpoint-<key>`), the S3 prefix `endpoints/<key>/` and the SSM record;
# CloudFormation generates the SageMaker names. 20 characters keep every derived name (stack
# names, the API-created model's `<key>-<16 hex>`) far inside SageMaker's 63-character limit.
ENDPOINT_KEY_PATTERN = r"[a-z][a-z0-9]*(-[a-z0-9]+)*"
ENDPOINT_KEY_MAX = 20

MAX_ALARM_MINUTES = 1440
# Keys that only one kind reads (refused on the other, so a setting never silently does nothing).
ASYNC_ONLY = ("max_concurrent_invocations_per_instance",)
ASYNC_ONLY_SCALING = ("target_backlog_per_instance",)
REALTIME_ONLY = (
    "min_instances",
    "accelerators",
    "min_memory_mb",
    "routing",
    "prefix_routing",
    "data_cache",
    "openai_route",
)
REALTIME_ONLY_SCALING = ("target_concurrent_requests_per_copy",)


@dataclass(frozen=True)
class RealtimeSettings:
    """How an inference component uses its instance (realtime endpoints only)."""

    # ManagedInstanceScaling.MinInstanceCount: 0 releases the last instance when no copy runs.
    min_instances: int
    # ComputeResourceRequirements: the accelerators and host memory one copy reserves.
    accelerators: int
    min_memory_mb: int
    routing: hosting.Routing = field(default_factory=hosting.Routing)
    # InferenceComponentSpecification.DataCacheConfig.EnableCaching: keep the model and image
    # on each instance for the next copy; None leaves it to SageMaker (on by itself on
    # instances with more than 232 GiB of local NVMe storage: cfn-lint's schema).
    data_cache: bool | None = None
    # Clients may use SageMaker's OpenAI-compatible route (the image serves it fully); None
    # until the image is known (hosting.resolve_openai_route).
    openai_route: bool | None = None


@dataclass(frozen=True)
class EndpointConfig:
    key: str
    enabled: bool
    instance_type: str
    model: ModelConfig
    serving: ServingSettings
    # The model behind serving.speculative (both or neither).
    speculative_model: SpeculativeModelConfig | None
    max_capacity: int
    max_concurrent_invocations_per_instance: int
    volume_size_gb: int | None
    model_data_download_timeout_seconds: int
    container_startup_health_check_timeout_seconds: int
    scaling: EndpointScaling
    price_usd_per_hour: float
    # Set for realtime endpoints, None for async ones.
    realtime: RealtimeSettings | None = None
    metrics: hosting.Metrics = field(default_factory=hosting.Metrics)
    capacity: hosting.Capacity = field(default_factory=hosting.Capacity)
    # ProductionVariant.InferenceAmiVersion (None: SageMaker's default host AMI).
    inference_ami_version: str | None = None
    # What the image's /invocations takes (serving_images.REQUEST_SCHEMAS).
    request_schema: str = "lmi"
    # Fallback instance type -> what differs there (pools.py).
    pool_overrides: Mapping[str, PoolOverride] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return ASYNC if self.realtime is None else REALTIME


def parse_endpoints(section: Reader) -> Mapping[str, EndpointConfig]:
    keys = section.keys(
        pattern=ENDPOINT_KEY_PATTERN,
        max_length=ENDPOINT_KEY_MAX,
        describe=f"an endpoint key is 1-{ENDPOINT_KEY_MAX} lower-case letters, digits and single "
        "'-', starting with a letter (it names the stack, S3 prefixes and SSM records)",
    )
    return MappingProxyType(
        {key: section.section(key, functools.partial(parse_endpoint, key=key)) for key in keys}
    )


def parse_scaling(section: Reader, kind: str = ASYNC) -> EndpointScaling:
    # The construct's own defaults are the config's defaults.
    default = EndpointScaling()
    other = REALTIME_ONLY_SCALING if kind == ASYNC else ASYNC_ONLY_SCALING
    set_keys = {key for key in other if section.has(key)}
    wake_period = section.integer(
        "wake_period_seconds", default.wake_period_seconds, minimum=60, maximum=3600
    )
    if wake_period % 60:
        raise ConfigError(
            section.child_path("wake_period_seconds"),
            wake_period,
            "allowed: a multiple of 60 (SageMaker publishes its async metrics every minute)",
        )
    scaling = EndpointScaling(
        # Target of ApproximateBacklogSizePerInstance (queued + in-flight requests per instance).
        target_backlog_per_instance=section.number(
            "target_backlog_per_instance", default.target_backlog_per_instance, minimum=0.1
        ),
        # Target of ConcurrentRequestsPerCopy (requests in flight per copy; realtime endpoints).
        target_concurrent_requests_per_copy=section.number(
            "target_concurrent_requests_per_copy",
            default.target_concurrent_requests_per_copy,
            minimum=1,
        ),
        scale_out_cooldown_seconds=section.integer(
            "scale_out_cooldown_seconds",
            default.scale_out_cooldown_seconds,
            minimum=0,
            maximum=3600,
        ),
        scale_in_cooldown_seconds=section.integer(
            "scale_in_cooldown_seconds", default.scale_in_cooldown_seconds, minimum=0, maximum=3600
        ),
        # An alarm evaluates at most one day of data: 1440 one-minute periods.
        idle_minutes_before_zero=section.integer(
            "idle_minutes_before_zero", default.idle_minutes_before_zero, minimum=1, maximum=1440
        ),
        wake_period_seconds=wake_period,
        wake_evaluation_periods=section.integer(
            "wake_evaluation_periods", default.wake_evaluation_periods, minimum=1, maximum=10
        ),
        target_tracking_scale_in=section.boolean(
            "target_tracking_scale_in", default.target_tracking_scale_in
        ),
        runaway_margin_minutes=section.integer(
            "runaway_margin_minutes", default.runaway_margin_minutes, minimum=5, maximum=1380
        ),
        runaway_action=section.string(
            "runaway_action", default.runaway_action, choices=RUNAWAY_ACTIONS
        ),
    )
    watched = scaling.idle_minutes_before_zero + scaling.runaway_margin_minutes
    if watched > MAX_ALARM_MINUTES:
        raise ConfigError(
            section.child_path("runaway_margin_minutes"),
            scaling.runaway_margin_minutes,
            f"allowed: at most {MAX_ALARM_MINUTES - scaling.idle_minutes_before_zero} "
            f"(idle_minutes_before_zero {scaling.idle_minutes_before_zero} plus the margin is "
            f"what the runaway alarm evaluates, and an alarm evaluates at most one day)",
        )
    _refuse_other_kind(section, kind, {key: getattr(scaling, key) for key in set_keys})
    return scaling


def parse_endpoint(section: Reader, key: str) -> EndpointConfig:
    download_low, download_high = api_limits.integer_limits(
        "ProductionVariantModelDataDownloadTimeoutInSeconds"
    )
    startup_low, startup_high = api_limits.integer_limits(
        "ProductionVariantContainerStartupHealthCheckTimeoutInSeconds"
    )
    volume_low, volume_high = api_limits.integer_limits("ProductionVariantVolumeSizeInGB")
    concurrency_low, concurrency_high = api_limits.integer_limits(
        "MaxConcurrentInvocationsPerInstance"
    )
    # Every key is read before any rule across keys is checked (config/schema.py records the
    # reads to describe the section).
    kind = section.string("kind", ASYNC, choices=KINDS)
    set_keys = {name for name in (*ASYNC_ONLY, *REALTIME_ONLY) if section.has(name)}
    instance_type = section.string(
        "instance_type", choices=api_limits.enum("ProductionVariantInstanceType")
    )
    devices = accelerator_devices(instance_type)
    model = section.section("model", parse_model)
    settings, speculative_model = section.section("serving", parse_serving)
    # Read for both kinds, so a realtime-only key set on an async endpoint is refused with its
    # value (`_check_kind`).
    realtime = RealtimeSettings(
        min_instances=section.integer("min_instances", 0, minimum=0, maximum=100),
        accelerators=section.integer("accelerators", devices or 1, minimum=1),
        # InferenceComponentComputeResourceRequirements.MinMemoryRequiredInMb: at least 128.
        min_memory_mb=section.integer("min_memory_mb", 1024, minimum=128),
        routing=parse_routing(section),
        data_cache=section.boolean("data_cache", None),
        openai_route=section.boolean("openai_route", None),
    )
    ami = parse_ami(section)
    startup_timeout = section.integer(
        "container_startup_health_check_timeout_seconds",
        1800,
        minimum=startup_low,
        maximum=startup_high,
    )
    # The container's loading budget is the platform's (engine_keys.MODEL_LOADING_TIMEOUT_KEY).
    settings = dataclasses.replace(
        settings, model_loading_timeout_seconds=startup_timeout, vocab_size=model.vocab_size
    )
    config = EndpointConfig(
        key=key,
        enabled=section.boolean("enabled", True),
        instance_type=instance_type,
        model=model,
        serving=settings,
        speculative_model=speculative_model,
        max_capacity=section.integer("max_capacity", 1, minimum=1, maximum=100),
        max_concurrent_invocations_per_instance=section.integer(
            "max_concurrent_invocations_per_instance",
            4,
            minimum=concurrency_low,
            maximum=concurrency_high,
        ),
        volume_size_gb=section.integer(
            "volume_size_gb", None, minimum=volume_low, maximum=volume_high
        ),
        model_data_download_timeout_seconds=section.integer(
            "model_data_download_timeout_seconds",
            1800,
            minimum=download_low,
            maximum=download_high,
        ),
        container_startup_health_check_timeout_seconds=startup_timeout,
        scaling=section.section(
            "scaling", functools.partial(parse_scaling, kind=kind), optional=True
        ),
        price_usd_per_hour=section.number("price_usd_per_hour", minimum=0),
        realtime=realtime if kind == REALTIME else None,
        metrics=section.section("metrics", parse_metrics, optional=True),
        capacity=parse_capacity(section, api_limits.enum("ProductionVariantInstanceType")),
        pool_overrides=section.section("pool_overrides", parse_pool_overrides, optional=True),
    )
    _check_kind(section, config, realtime, set_keys)

    try:
        row = serving.check(settings, instance_type)
    except serving_images.ServingError as error:
        raise ConfigError(
            section.child_path(f"serving.{error.field}"), error.value, error.allowed
        ) from None
    config = dataclasses.replace(
        config,
        inference_ami_version=resolve_ami(section, ami, row, instance_type),
        request_schema=row.request_schema if row else "lmi",
        realtime=config.realtime
        and dataclasses.replace(
            config.realtime,
            openai_route=resolve_openai_route(section, config.realtime.openai_route, row),
        ),
    )
    if (
        speculative_model is not None
        and speculative_model.jumpstart
        and not model.network_isolation
    ):
        raise ConfigError(
            section.child_path("model.network_isolation"),
            model.network_isolation,
            "the SageMaker-provided (jumpstart) draft model requires network isolation",
        )
    check_pool_overrides(section, config)
    check_fallbacks(section, config)
    check_volume(section, config)
    return config


def _refuse_other_kind(section: Reader, kind: str, values: Mapping[str, object]) -> None:
    """Refuses a key of `values` (set in `section`) that only the other kind of endpoint reads."""
    which = (
        "realtime (inference-component) endpoints; an async endpoint scales to zero through "
        "its own queue"
        if kind == ASYNC
        else "async endpoints (their request queue); a realtime endpoint scales its inference "
        "component's copies"
    )
    for key, value in sorted(values.items()):
        raise ConfigError(section.child_path(key), value, f"{key} applies to {which} only")


def _check_kind(
    section: Reader, config: EndpointConfig, realtime: RealtimeSettings, set_keys: set[str]
) -> None:
    """Refuses what the endpoint's kind cannot honour: keys only the other kind reads (`realtime`
    holds the realtime keys as read, for either kind), and the rules of realtime endpoints."""
    values = {
        "max_concurrent_invocations_per_instance": config.max_concurrent_invocations_per_instance,
        **dataclasses.asdict(realtime),
        "routing": realtime.routing.strategy,
        "prefix_routing": dataclasses.asdict(realtime.routing),
    }
    other = REALTIME_ONLY if config.kind == ASYNC else ASYNC_ONLY
    _refuse_other_kind(section, config.kind, {key: values[key] for key in set_keys & set(other)})
    if config.kind == ASYNC:
        return
    if accelerator_kind(config.instance_type) != "gpu":
        raise ConfigError(
            section.child_path("instance_type"),
            config.instance_type,
            "a realtime endpoint needs a GPU instance (inference components on Neuron "
            "instances are not set up by this app)",
        )
    devices = accelerator_devices(config.instance_type)
    if devices is not None and realtime.accelerators > devices:
        raise ConfigError(
            section.child_path("accelerators"),
            realtime.accelerators,
            f"{config.instance_type} has {devices} GPUs: allowed 1..{devices}",
        )
    memory = memory_mb(config.instance_type)
    if memory is not None and realtime.min_memory_mb > memory:
        raise ConfigError(
            section.child_path("min_memory_mb"),
            realtime.min_memory_mb,
            f"{config.instance_type} has {memory // 1024} GiB of memory: allowed 128..{memory} "
            "(a copy that asks for more never finds room, and the deploy waits until it fails)",
        )
    tp = config.serving.tensor_parallel_degree
    if tp is not None and tp > realtime.accelerators:
        raise ConfigError(
            section.child_path("serving.tensor_parallel_degree"),
            tp,
            f"a copy has {realtime.accelerators} GPUs (accelerators): allowed 1.."
            f"{realtime.accelerators}",
        )
    if realtime.min_instances > config.max_capacity:
        raise ConfigError(
            section.child_path("min_instances"),
            realtime.min_instances,
            f"allowed: 0..{config.max_capacity} (max_capacity)",
        )
    spec = config.speculative_model
    if spec is not None and spec.jumpstart:
        raise ConfigError(
            section.child_path("serving.speculative_decoding.model.jumpstart"),
            True,
            "the SageMaker-provided (jumpstart) draft model cannot be deployed to "
            "inference-component endpoints (SageMaker docs, model-optimize-create-job); use "
            "your own draft model (s3_key_prefix or s3_uri) or an async endpoint",
        )
