"""An endpoint's routing, data cache and metrics keys (workbench_domain.hosting holds the values
CloudFormation and the API accept)."""

from __future__ import annotations

from workbench_config.reader import ConfigError, Reader
from workbench_domain import hosting


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
