"""A month of a user's traffic replayed through an endpoint's scaling, minute by minute.

`make cost ARGS="--usage usage.yml"` reads a traffic profile per endpoint key and the scaling
settings from the synthesized templates (`ScalingSettings.from_template`), and reports what the
month costs and how long requests wait, for the deployed settings, an always-on endpoint and
AWS's published async example (target tracking alone).

Semantics, one-minute steps (what each rule stands for, and its source):

* Alarms go to ALARM when the last `EvaluationPeriods` datapoints all breach
  (`DatapointsToAlarm` equals them): CloudWatch User Guide, "Evaluating an alarm". A datapoint
  is the alarm's statistic over its `Period` (read from the template; the wake alarm's may be
  several minutes): an Average of a 0/1 metric reaches 1 only when every minute of the period
  breached, a Sum or Maximum when any did. The idle alarms have 60-second periods. A scaling
  action runs when its alarm enters ALARM and again every minute while it stays there
  (Application Auto Scaling, step scaling): the policies are ExactCapacity, so a repeat
  changes nothing.
* Wake (async): `HasBacklogWithoutCapacity` is 1 while requests wait and no instance runs
  (SageMaker docs, async-inference-autoscale). Wake (realtime): a request finding no copy is
  refused and counted in `NoCapacityInvocationFailures`; the client retries until a copy
  answers, so it waits like a queued request (endpoint-auto-scaling-zero-instances).
* Idle: a minute is idle when no request was queued, in flight or served at any moment of it
  (the async alarm reads the backlog's Maximum over the minute; the realtime one adds the
  minute's Sum of Invocations and refusals to the in-flight Maximum); the idle alarm's periods
  of idle minutes set the capacity to 0. In-flight work keeps a minute busy, so nothing is cut.
* Target tracking scales out when the load per instance stays above the target for 3 minutes
  (Application Auto Scaling creates the scale-out alarm with 3 one-minute datapoints: User
  Guide, "How target tracking scaling works"), to ceil(load / target), at most max capacity,
  then waits its scale-out cooldown. Its scale-in is disabled in these templates. With the
  published async example's target tracking alone (min 0, no wake policy) the metric does not
  exist at zero instances, so it never leaves zero (AWS docs, async-inference-autoscale;
  philschmid/terraform-aws-sagemaker-huggingface#9).
* While an instance is starting, target tracking adds none: the endpoint is `Updating` and
  refuses capacity changes, and the load-per-instance metric does not exist while no instance
  serves (it is computed over serving instances only).
* A request that waits longer than its TTL is dropped unserved: SageMaker drops an async
  request past its `RequestTTLSeconds` (InvokeEndpointAsync), and a realtime client gives up
  after its wait (`max_wait_seconds`, defaults in DEFAULT_MAX_WAIT_SECONDS).
* A new instance (or copy) serves after the cold start; it is billed from the scale-out until
  it is removed. A realtime endpoint bills at least `MinInstanceCount` instances
  (ManagedInstanceScaling) even with no copy. Each instance serves up to `concurrency`
  requests at once, each for output tokens / tokens per second (or `service_seconds`):
  notebook 06 measures tokens per second end to end, prompt included, so `input_tokens` is
  shown with the result, not added to the service time again.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.traffic import Traffic
from workbench_domain import hosting
from workbench_domain.endpoint_kinds import ASYNC, REALTIME

# Cold start (scale-out to first answer) by instance type, minutes, when the profile sets none:
# a 70B model on GPUs 10-25 minutes (the async notebook's measurement range), on Neuron the
# compiled artifacts load slower, and a realtime copy with SageMaker's container caching about
# 6 minutes (AWS ML blog, Dec 2024, Llama 3.1 70B). SageMaker's data cache (2026) lives on the
# instance: it shortens copy restarts on an instance that stays, not starts from zero, which
# these model (docs/cost.md, "Cold starts and SageMaker's caching").
DEFAULT_COLD_START_MINUTES = {
    "ml.p4d.24xlarge": 15.0,
    "ml.p4de.24xlarge": 15.0,
    "ml.p5.48xlarge": 15.0,
    "ml.inf2.48xlarge": 20.0,
    "ml.g5.12xlarge": 8.0,
    "ml.g5.48xlarge": 8.0,
}
FALLBACK_COLD_START_MINUTES = 15.0
# Target tracking's scale-out alarm: 3 one-minute datapoints above the target.
TARGET_TRACKING_MINUTES = 3


@dataclass(frozen=True)
class ScalingSettings:
    """What the templates say about one endpoint's scaling."""

    kind: str  # endpoint_kinds.ASYNC or REALTIME
    instance_type: str
    max_capacity: int
    wake_minutes: int | None  # evaluation periods of the wake alarm; None: no wake policy
    idle_minutes: int | None  # periods of the idle alarm; None: never scales to zero by itself
    target_per_instance: float
    scale_out_cooldown_minutes: float
    concurrency: int
    min_capacity: int = 0
    # The wake alarm's period and statistic: an Average over a period breaches only when every
    # minute of it breached; a Sum or Maximum when any did.
    wake_period_minutes: int = 1
    wake_statistic: str = "Maximum"
    # Realtime: ManagedInstanceScaling.MinInstanceCount, instances billed even with no copy.
    min_instances: int = 0

    @classmethod
    def from_template(cls, resources: dict[str, dict[str, Any]]) -> ScalingSettings:
        def of_type(kind: str) -> list[tuple[str, dict[str, Any]]]:
            return [(k, r) for k, r in resources.items() if r.get("Type") == kind]

        ((_, config),) = of_type("AWS::SageMaker::EndpointConfig")
        (variant,) = config["Properties"]["ProductionVariants"]
        managed = variant.get("ManagedInstanceScaling") or {}
        ((_, target),) = of_type("AWS::ApplicationAutoScaling::ScalableTarget")
        alarms = [r["Properties"] for _, r in of_type("AWS::CloudWatch::Alarm")]
        wake_alarm: dict[str, Any] | None = None
        idle = None
        tracking: dict[str, Any] = {}
        for logical_id, policy in of_type("AWS::ApplicationAutoScaling::ScalingPolicy"):
            props = policy["Properties"]
            if props["PolicyType"] == "TargetTrackingScaling":
                tracking = props["TargetTrackingScalingPolicyConfiguration"]
                continue
            (step,) = props["StepScalingPolicyConfiguration"]["StepAdjustments"]
            (alarm,) = [a for a in alarms if {"Ref": logical_id} in a.get("AlarmActions", [])]
            if step["ScalingAdjustment"] == 1:
                wake_alarm = alarm
            elif "MetricIntervalUpperBound" in step:  # the idle alarm (not the runaway guard)
                idle = int(alarm["EvaluationPeriods"])
                periods = {int(m.get("Period", 60)) for m in alarm.get("Metrics", [])} | (
                    {int(alarm["Period"])} if "Period" in alarm else set()
                )
                if periods - {60}:
                    raise ValueError(f"idle alarm periods {sorted(periods)}: expected 60 s")
        async_config = config["Properties"].get("AsyncInferenceConfig") or {}
        concurrency = (async_config.get("ClientConfig") or {}).get(
            "MaxConcurrentInvocationsPerInstance", 4
        )
        return cls(
            kind=REALTIME if managed else ASYNC,
            # The first instance pool (priority 1): what runs while it has capacity.
            instance_type=hosting.variant_instance_types(variant)[0],
            max_capacity=int(target["Properties"]["MaxCapacity"]),
            wake_minutes=int(wake_alarm["EvaluationPeriods"]) if wake_alarm else None,
            idle_minutes=idle,
            target_per_instance=float(tracking.get("TargetValue", 1)),
            scale_out_cooldown_minutes=float(tracking.get("ScaleOutCooldown", 300)) / 60,
            concurrency=int(concurrency),
            wake_period_minutes=int(wake_alarm.get("Period", 60)) // 60 if wake_alarm else 1,
            wake_statistic=str(wake_alarm.get("Statistic", "Maximum")) if wake_alarm else "Maximum",
            min_instances=int(managed.get("MinInstanceCount", 0)),
        )

    def always_on(self) -> ScalingSettings:
        """The same endpoint kept at one instance or more (no scale to zero)."""
        return replace(self, min_capacity=1, idle_minutes=None)

    def target_tracking_only(self) -> ScalingSettings:
        """AWS's published async example: target tracking, min 0, no wake or idle policy."""
        return replace(self, wake_minutes=None, idle_minutes=None)


@dataclass
class Result:
    instance_minutes: float = 0.0
    waits: list[float] = field(default_factory=list)  # arrival to first result, minutes
    cold_waits: int = 0  # requests that arrived with no instance able to serve them
    unserved: int = 0  # never served: expired (waited past the request TTL) or still waiting
    expired: int = 0  # of which expired
    trace: list[tuple[int, int, int]] = field(default_factory=list)  # (minute, instances, backlog)

    def percentile(self, q: float) -> float | None:
        if not self.waits:
            return None
        ordered = sorted(self.waits)
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def simulate(
    settings: ScalingSettings,
    traffic: Traffic,
    times: Iterable[float | tuple[float, float]],
    *,
    minutes: int,
    cold_start_minutes: float,
    trace: bool = False,
) -> Result:
    """Replays arrivals (minutes, or (minute, service minutes) pairs from a recorded trace)
    through the settings; see the module docstring."""
    result = Result()
    concurrency = traffic.concurrency or settings.concurrency
    ttl = traffic.max_wait_minutes(settings.kind)
    pending = deque(
        sorted(t if isinstance(t, tuple) else (t, traffic.service_minutes) for t in times)
    )
    queue: deque[tuple[float, float]] = deque()  # waiting requests: (arrival, service)
    in_flight: list[float] = []  # finish times (heap)
    ready: list[float] = []  # when each instance (or copy) can serve; billed from its start
    desired = settings.min_capacity
    wake_flags: list[bool] = []  # the wake condition in each minute of the current period
    wake_breaches = idle_breaches = tracking_breaches = 0
    last_scale_out = -math.inf
    ready.extend(0.0 for _ in range(settings.min_capacity))

    def start_waiting(now: float, serving: int, earliest: float) -> None:
        while queue and len(in_flight) < serving * concurrency:
            arrival, service = queue.popleft()
            start = max(arrival, earliest)
            if start - arrival > ttl:  # SageMaker drops it: past its RequestTTLSeconds
                result.expired += 1
                continue
            result.waits.append(start - arrival + service)
            heapq.heappush(in_flight, start + service)

    for minute in range(minutes):
        end = minute + 1.0
        result.instance_minutes += max(len(ready), settings.min_instances)
        # Whether the minute saw any request at all: the idle alarm reads the Maximum of the
        # backlog over the minute (async) or the Sum of invocations with the in-flight Maximum
        # (realtime), so a request that comes and goes within the minute still counts.
        busy = bool(queue) or any(finish > minute for finish in in_flight)
        # Work within the minute: arrivals, completions, and starts of queued requests.
        while True:
            next_arrival = pending[0][0] if pending and pending[0][0] < end else math.inf
            next_finish = in_flight[0] if in_flight and in_flight[0] < end else math.inf
            now = min(next_arrival, next_finish)
            if now == math.inf:
                break
            if next_finish <= next_arrival:
                heapq.heappop(in_flight)
            else:
                arrival = pending.popleft()
                busy = True
                if not any(r <= arrival[0] for r in ready):
                    result.cold_waits += 1
                queue.append(arrival)
            start_waiting(now, sum(1 for r in ready if r <= now), now)
        # Instances that finished their cold start this minute take queued work at once.
        serving = sum(1 for r in ready if r < end)
        start_waiting(end, serving, max((r for r in ready if r < end), default=minute))
        while queue and end - queue[0][0] > ttl:  # expired while waiting for capacity
            queue.popleft()
            result.expired += 1

        backlog = len(queue) + len(in_flight)
        starting = any(r >= end for r in ready)
        # The minute's datapoints and the alarms' states.
        wake_flags.append(bool(queue) and serving == 0)
        if len(wake_flags) == settings.wake_period_minutes:  # the period's datapoint
            breached = all(wake_flags) if settings.wake_statistic == "Average" else any(wake_flags)
            wake_breaches = wake_breaches + 1 if breached else 0
            wake_flags = []
            if settings.wake_minutes is not None and wake_breaches >= settings.wake_minutes:
                desired = max(desired, 1)
        idle_breaches = idle_breaches + 1 if not busy and backlog < 1 else 0
        # The load per instance exists only while an instance serves; while one is still
        # starting, the endpoint is Updating and refuses capacity changes.
        per_instance = backlog / serving if serving else 0.0
        tracking_breaches = (
            tracking_breaches + 1 if serving and per_instance > settings.target_per_instance else 0
        )
        if (
            settings.idle_minutes is not None
            and idle_breaches >= settings.idle_minutes
            and not in_flight
        ):
            desired = settings.min_capacity
        if (
            tracking_breaches >= TARGET_TRACKING_MINUTES
            and not starting
            and end - last_scale_out >= settings.scale_out_cooldown_minutes
        ):
            wanted = min(settings.max_capacity, math.ceil(backlog / settings.target_per_instance))
            if wanted > desired:
                desired = wanted
                last_scale_out = end
        # Scale: start instances, or remove them (the idle rule removes only when nothing runs).
        while len(ready) < desired:
            ready.append(end + cold_start_minutes)
        if len(ready) > desired and not in_flight:
            del ready[desired:]
        if trace:
            result.trace.append((minute, len(ready), backlog))
    result.unserved = result.expired + len(queue) + len(pending)
    return result
