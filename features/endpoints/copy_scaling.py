"""Scaling of an inference component's copies between zero and N, woken by refused requests.

How the parts work together (the realtime counterpart of `ScaleToZeroScaling`):

* Load: target tracking keeps `ConcurrentRequestsPerCopy` (requests in flight per copy, the
  high-resolution predefined metric) near the target, between 1 and `max_copies`. Its own
  scale-in is off by default (`target_tracking_scale_in`), as for async endpoints.
* Wake: at zero copies SageMaker refuses each request at once and counts it in
  `NoCapacityInvocationFailures` (dimension `InferenceComponentName`; SageMaker docs,
  endpoint-auto-scaling-zero-instances). An alarm on its Sum >= 1 over one period fires on the
  first refused request and drives a single-step policy that sets the copy count to exactly 1:
  idempotent while the alarm stays in ALARM for the whole cold start (CloudWatch repeats the
  action every minute), where `+1` would add a copy, and with it an instance, each time.
* Zero: when no request was in flight, refused or served for `idle_minutes_before_zero`
  minutes, a policy sets the copy count to 0, and managed instance scaling then releases the
  instance. A request in flight keeps `ConcurrentRequestsPerCopy` >= 1, so none is cut; a
  refused one keeps the idle alarm out of ALARM, so the zero policy never fights a wake-up.
  Missing data counts as idle: at zero copies no copy reports, and repeating "set 0" is
  harmless, where an idle copy whose metric went silent would bill every hour.
"""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from features.endpoints.endpoint_scaling import (
    runaway_guard,
    scale_to_zero_target,
    wake_from_zero,
    zero_when_idle,
)
from workbench_domain.endpoint_kinds import EndpointScaling

COPY_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"


class ScaleToZeroCopies(Construct):
    """Owns the scalable target of the copies (min 0), target tracking on concurrent requests
    per copy, the wake policy and its alarm, and the scale-to-zero policy and its alarm.

    `component_name` is the inference component's name, `component` the resource that creates
    it (the target and alarms wait for it); `metric` builds a metric of the component (name,
    statistic, period).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        component_name: str,
        component: IConstruct,
        endpoint_name: str,
        variant_name: str,
        max_copies: int,
        scaling: EndpointScaling,
        metric: Callable[..., cloudwatch.Metric],
        error_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, id_)
        self.scalable_target = scale_to_zero_target(
            self,
            resource_id=f"inference-component/{component_name}",
            dimension=COPY_DIMENSION,
            max_capacity=max_copies,
        )
        # The component is named by a string (CloudFormation returns no name attribute of an
        # inference component): registration must wait for it explicitly.
        self.scalable_target.node.add_dependency(component)

        self.target_tracking = self.scalable_target.scale_to_track_metric(
            "ConcurrentRequestsPerCopy",
            target_value=scaling.target_concurrent_requests_per_copy,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION,
            scale_out_cooldown=cdk.Duration.seconds(scaling.scale_out_cooldown_seconds),
            scale_in_cooldown=cdk.Duration.seconds(scaling.scale_in_cooldown_seconds),
            disable_scale_in=not scaling.target_tracking_scale_in,
        )

        self.wake_alarm, self.wake_policy = wake_from_zero(
            self,
            target=self.scalable_target,
            metric=metric(
                "NoCapacityInvocationFailures", statistic="Sum", period=scaling.wake_period_seconds
            ),
            scaling=scaling,
            aggregation=appscaling.MetricAggregationType.MAXIMUM,
            description="A request was refused for lack of a copy: start one",
        )
        # `ConcurrentRequestsPerCopy` is a sampled gauge: a short request between two samples
        # leaves no trace in it. `Invocations` counts every request the component served (the
        # per-copy invocation metric exists for inference components: Application Auto
        # Scaling's predefined SageMakerInferenceComponentInvocationsPerCopy, botocore
        # application-autoscaling MetricType), so any request in a minute keeps the copy.
        self.activity = cloudwatch.MathExpression(
            expression="FILL(inflight, 0) + FILL(refused, 0) + FILL(served, 0)",
            using_metrics={
                "inflight": metric("ConcurrentRequestsPerCopy", statistic="Maximum"),
                "refused": metric("NoCapacityInvocationFailures", statistic="Sum"),
                "served": metric("Invocations", statistic="Sum"),
            },
            label="Requests in flight, refused or served",
            period=cdk.Duration.minutes(1),
        )
        self.idle_alarm, self.zero_policy = zero_when_idle(
            self,
            target=self.scalable_target,
            metric=self.activity,
            scaling=scaling,
            description=f"No request in flight, refused or served for "
            f"{scaling.idle_minutes_before_zero} "
            "minutes: scale the copies to zero",
        )
        # Copies follow the policies and instances follow the copies: instances running
        # without work mean the copies were not scaled in.
        self.runaway_alarm = runaway_guard(
            self,
            target=self.scalable_target,
            endpoint_name=endpoint_name,
            variant_name=variant_name,
            work=self.activity,
            scaling=scaling,
            topic=error_topic,
        )
        for alarm in (self.wake_alarm, self.idle_alarm, self.runaway_alarm):
            alarm.node.add_dependency(component)
