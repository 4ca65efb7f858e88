"""The two endpoint kinds and their scaling settings.

One definition for every runtime: `workbench_config` reads them from cdk.json (without aws-cdk),
`features.endpoints` builds them into alarms and scaling policies, and the usage simulator
(`workbench.usage_sim`) replays what the templates made of them.
"""

from __future__ import annotations

from dataclasses import dataclass

# `async`: requests queue in S3 and wait out a cold start. `realtime`: requests are answered (and
# streamed) at once by an inference component, which can scale to zero copies and instances.
ASYNC = "async"
REALTIME = "realtime"
KINDS = (ASYNC, REALTIME)
# What the runaway alarm does besides notifying: nothing more, or set the capacity to zero.
RUNAWAY_ACTIONS = ("notify", "zero")


@dataclass(frozen=True)
class EndpointScaling:
    """Timings of the scaling policies (see `AsyncLlmEndpoint` and `RealtimeLlmEndpoint` for how
    they work together). The target of the load policy depends on the kind: the async queue's
    backlog per instance, or a realtime copy's concurrent requests."""

    target_backlog_per_instance: float = 2
    target_concurrent_requests_per_copy: float = 4
    scale_out_cooldown_seconds: int = 300
    scale_in_cooldown_seconds: int = 600
    idle_minutes_before_zero: int = 10
    wake_period_seconds: int = 60
    wake_evaluation_periods: int = 1
    target_tracking_scale_in: bool = False
    # Runaway guard: instances still running this long after the idle window without any work
    # (scale-in did not happen) notify the error topic, and with action "zero" set 0 again.
    runaway_margin_minutes: int = 30
    runaway_action: str = "notify"
