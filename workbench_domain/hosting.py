"""How a realtime endpoint routes and caches, and what every endpoint reports: the settings the
config reads and the endpoint constructs write.

RoutingStrategy: CloudFormation's schema (cfn-lint 1.58, AWS::SageMaker::EndpointConfig
RoutingConfig) accepts LEAST_OUTSTANDING_REQUESTS, PREFIX_AWARE and RANDOM; the API also has
KV_AWARE (botocore 1.44), which the schema does not, so an endpoint this app deploys cannot
use it yet. PrefixAwareRoutingConfig: PrefixLength 1024..65536, ConcurrencyThreshold 1..1024;
MetricsConfig.MetricPublishFrequencyInSeconds: 10, 30, 60, 120, 180, 240 or 300 (same schema).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROUTING = {
    "least_outstanding_requests": "LEAST_OUTSTANDING_REQUESTS",
    "prefix_aware": "PREFIX_AWARE",
    "random": "RANDOM",
}
API_ONLY_ROUTING = {"kv_aware": "KV_AWARE"}
PREFIX_LENGTH_RANGE = (1024, 65536)
CONCURRENCY_THRESHOLD_RANGE = (1, 1024)
PUBLISH_SECONDS = (10, 30, 60, 120, 180, 240, 300)


@dataclass(frozen=True)
class Routing:
    """Least outstanding requests by default: LLM requests differ a lot in length, so a
    request-blind policy queues behind long ones. Prefix-aware routing sends requests that
    share a prompt prefix (a chat's system prompt) to the copy that has it cached."""

    strategy: str = "least_outstanding_requests"
    prefix_length: int | None = None
    concurrency_threshold: int | None = None


@dataclass(frozen=True)
class Metrics:
    """Enhanced metrics (per instance and container) and detailed observability (per GPU and
    copy) are off unless asked: each adds CloudWatch metrics, billed per metric."""

    enhanced: bool = False
    detailed: bool = False
    publish_seconds: int | None = None

    @property
    def wanted(self) -> bool:
        return self.enhanced or self.detailed or self.publish_seconds is not None


# Instance pools: up to five instance types, priority 1 (first tried) to 5; provisioning falls
# back in that order on insufficient capacity, at creation, scale-out and scale-in (SageMaker
# guide, "Deploy to multiple instance types with instance pools": "Instance pools support both
# real-time and asynchronous inference endpoints. You can use them with single-model endpoints
# and with inference components."). Limits from cfn-lint 1.58's schema: InstancePools maxItems 5,
# Priority 1..5, VariantInstanceProvisionTimeoutInSeconds 300..3600, MlReservationArn pattern.
MAX_INSTANCE_POOLS = 5
PROVISION_TIMEOUT_RANGE = (300, 3600)
# The only CapacityReservationPreference the schema accepts.
RESERVATION_PREFERENCE = "capacity-reservations-only"
RESERVATION_ARN_PATTERN = r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:[a-z0-9\-]{1,14}/.+"


@dataclass(frozen=True)
class Capacity:
    """Where an endpoint's instances may come from besides its instance type: instance types
    to fall back to in order, a capacity reservation, and how long to keep trying."""

    fallback_instance_types: tuple[str, ...] = ()
    reservation_arn: str | None = None
    provision_timeout_seconds: int | None = None


def variant_instance_types(variant: Mapping[str, Any]) -> list[str]:
    """The instance types of a synthesized ProductionVariant in the order SageMaker tries them
    (its InstanceType, or its InstancePools by priority); empty for a serverless variant."""
    pools = variant.get("InstancePools")
    if isinstance(pools, list):
        ordered = sorted(pools, key=lambda pool: int(pool.get("Priority", 0)))
        return [str(pool["InstanceType"]) for pool in ordered if "InstanceType" in pool]
    instance_type = variant.get("InstanceType")
    return [instance_type] if isinstance(instance_type, str) else []
