"""Scaling of an async endpoint variant between zero and N instances, woken by its queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from constructs import Construct

SCALING_SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


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


class ScaleToZeroScaling(Construct):
    """Owns the scalable target (min 0), the target-tracking policy on the backlog per instance,
    the wake-from-zero step policy and its alarm, and the scale-to-zero policy and its alarm
    (see `AsyncLlmEndpoint` for how they work together). `metric` builds a metric of the
    endpoint (name, statistic, period)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        endpoint_name: str,
        variant_name: str,
        max_capacity: int,
        scaling: EndpointScaling,
        metric: Callable[..., cloudwatch.Metric],
    ) -> None:
        super().__init__(scope, id_)
        self.scalable_target = appscaling.ScalableTarget(
            self,
            "ScalableTarget",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=0,
            max_capacity=max_capacity,
            # Application Auto Scaling's service-linked role for SageMaker variants (created on
            # first use when its ARN is given); CDK's default would be a role with no permissions.
            role=iam.Role.from_role_arn(
                self,
                "AutoScalingRole",
                cdk.Stack.of(self).format_arn(
                    service="iam",
                    region="",
                    resource="role",
                    resource_name=SCALING_SERVICE_LINKED_ROLE,
                ),
                mutable=False,
            ),
        )
        # Registration needs an InService endpoint: the ResourceId's GetAtt of the endpoint name
        # orders the target after the endpoint (an explicit DependsOn would repeat it, W3005).

        self.target_tracking = self.scalable_target.scale_to_track_metric(
            "BacklogPerInstance",
            target_value=scaling.target_backlog_per_instance,
            custom_metric=metric("ApproximateBacklogSizePerInstance"),
            scale_out_cooldown=cdk.Duration.seconds(scaling.scale_out_cooldown_seconds),
            scale_in_cooldown=cdk.Duration.seconds(scaling.scale_in_cooldown_seconds),
            disable_scale_in=not scaling.target_tracking_scale_in,
        )

        # Wake from zero: one step, so StepScalingAction + a hand-made alarm (scale_on_metric
        # needs at least two intervals).
        self.wake_policy = appscaling.StepScalingAction(
            self,
            "WakeFromZero",
            scaling_target=self.scalable_target,
            adjustment_type=appscaling.AdjustmentType.EXACT_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.AVERAGE,
            cooldown=cdk.Duration.seconds(scaling.wake_period_seconds),
        )
        self.wake_policy.add_adjustment(adjustment=1, lower_bound=0)
        self.wake_alarm = cloudwatch.Alarm(
            self,
            "WakeAlarm",
            alarm_description="Requests wait and no instance runs: start one",
            metric=metric("HasBacklogWithoutCapacity", period=scaling.wake_period_seconds),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=scaling.wake_evaluation_periods,
            datapoints_to_alarm=scaling.wake_evaluation_periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.wake_alarm.add_alarm_action(
            cloudwatch_actions.ApplicationScalingAction(self.wake_policy)
        )

        # Scale to zero once nothing has been queued or in flight for the idle window.
        self.zero_policy = appscaling.StepScalingAction(
            self,
            "ScaleToZero",
            scaling_target=self.scalable_target,
            adjustment_type=appscaling.AdjustmentType.EXACT_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
            cooldown=cdk.Duration.seconds(scaling.scale_in_cooldown_seconds),
        )
        self.zero_policy.add_adjustment(adjustment=0, upper_bound=0)
        idle_minutes = scaling.idle_minutes_before_zero
        self.idle_alarm = cloudwatch.Alarm(
            self,
            "IdleAlarm",
            alarm_description=f"No request queued or in flight for {idle_minutes} minutes: "
            "scale to zero",
            metric=metric("ApproximateBacklogSize", statistic="Maximum"),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=idle_minutes,
            datapoints_to_alarm=idle_minutes,
            # Missing data counts as idle: a queued or in-flight request always reports a
            # backlog >= 1, so a silent metric means no work. Were it "not breaching", an idle
            # instance whose backlog metric stops reporting would never scale in and bill
            # $15-38 per hour until someone noticed; at zero, repeating "set 0" is harmless.
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        self.idle_alarm.add_alarm_action(
            cloudwatch_actions.ApplicationScalingAction(self.zero_policy)
        )
