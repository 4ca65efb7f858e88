"""How a realtime endpoint routes and caches, and what every endpoint reports: the settings the
config reads and the endpoint constructs write.

RoutingStrategy: CloudFormation's schema (cfn-lint 1.58, AWS::SageMaker::EndpointConfig
RoutingConfig) accepts LEAST_OUTSTANDING_REQUESTS, PREFIX_AWARE and RANDOM; the API also has
KV_AWARE (botocore 1.44), which the schema does not, so an endpoint this app deploys cannot
use it yet. PrefixAwareRoutingConfig: PrefixLength 1024..65536, ConcurrencyThreshold 1..1024;
MetricsConfig.MetricPublishFrequencyInSeconds: 10, 30, 60, 120, 180, 240 or 300 (same schema).
"""

from __future__ import annotations

from dataclasses import dataclass

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
