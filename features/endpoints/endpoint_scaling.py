"""Scaling of an async endpoint variant between zero and N instances, woken by its queue."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from workbench_domain.endpoint_kinds import EndpointScaling

SCALING_SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def scale_to_zero_target(
    scope: Construct, *, resource_id: str, dimension: str, max_capacity: int
) -> appscaling.ScalableTarget:
    """A SageMaker scalable target from 0 to `max_capacity`, in `scope`."""
    return appscaling.ScalableTarget(
        scope,
        "ScalableTarget",
        service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
        resource_id=resource_id,
        scalable_dimension=dimension,
        min_capacity=0,
        max_capacity=max_capacity,
        # Application Auto Scaling's service-linked role for SageMaker (created on first use
        # when its ARN is given; its policy, AWSApplicationAutoscalingSageMakerEndpointPolicy,
        # covers variants and inference components); CDK's default would be a role with no
        # permissions.
        role=iam.Role.from_role_arn(
            scope,
            "AutoScalingRole",
            cdk.Stack.of(scope).format_arn(
                service="iam",
                region="",
                resource="role",
                resource_name=SCALING_SERVICE_LINKED_ROLE,
            ),
            mutable=False,
        ),
    )


def set_exactly(
    scope: Construct,
    id_: str,
    *,
    target: appscaling.ScalableTarget,
    capacity: int,
    alarm: cloudwatch.Alarm,
    aggregation: appscaling.MetricAggregationType,
    cooldown_seconds: int,
    breaches_above: bool,
) -> appscaling.StepScalingAction:
    """A single-step policy, in `scope`, that sets `target` to exactly `capacity` while `alarm`
    is in ALARM. One step, so StepScalingAction and a hand-made alarm (scale_on_metric needs at
    least two intervals); ExactCapacity, so CloudWatch repeating the action every minute while
    the alarm stays in ALARM changes nothing."""
    policy = appscaling.StepScalingAction(
        scope,
        id_,
        scaling_target=target,
        adjustment_type=appscaling.AdjustmentType.EXACT_CAPACITY,
        metric_aggregation_type=aggregation,
        cooldown=cdk.Duration.seconds(cooldown_seconds),
    )
    # The step starts at the threshold: above it for an alarm that breaches above (wake,
    # runaway), below it for one that breaches below (idle).
    if breaches_above:
        policy.add_adjustment(adjustment=capacity, lower_bound=0)
    else:
        policy.add_adjustment(adjustment=capacity, upper_bound=0)
    alarm.add_alarm_action(cloudwatch_actions.ApplicationScalingAction(policy))
    return policy


def wake_alarm(
    scope: Construct, *, metric: cloudwatch.IMetric, scaling: EndpointScaling, description: str
) -> cloudwatch.Alarm:
    """In ALARM once `metric` >= 1 for the wake periods (a missing datapoint is no request)."""
    return cloudwatch.Alarm(
        scope,
        "WakeAlarm",
        alarm_description=description,
        metric=metric,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=scaling.wake_evaluation_periods,
        datapoints_to_alarm=scaling.wake_evaluation_periods,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def idle_alarm(
    scope: Construct, *, metric: cloudwatch.IMetric, scaling: EndpointScaling, description: str
) -> cloudwatch.Alarm:
    """In ALARM once `metric` < 1 for `idle_minutes_before_zero` one-minute periods.

    Missing data counts as idle: work in progress always reports, so a silent metric means no
    work. Were it "not breaching", an idle instance whose metric stops reporting would never
    scale in and bill $7-38 per hour until someone noticed; at zero, repeating "set 0" is
    harmless.
    """
    minutes = scaling.idle_minutes_before_zero
    return cloudwatch.Alarm(
        scope,
        "IdleAlarm",
        alarm_description=description,
        metric=metric,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluation_periods=minutes,
        datapoints_to_alarm=minutes,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )


def wake_from_zero(
    scope: Construct,
    *,
    target: appscaling.ScalableTarget,
    metric: cloudwatch.IMetric,
    scaling: EndpointScaling,
    aggregation: appscaling.MetricAggregationType,
    description: str,
) -> tuple[cloudwatch.Alarm, appscaling.StepScalingAction]:
    """The wake alarm on `metric` and the policy that sets exactly 1 while it is in ALARM."""
    alarm = wake_alarm(scope, metric=metric, scaling=scaling, description=description)
    policy = set_exactly(
        scope,
        "WakeFromZero",
        target=target,
        capacity=1,
        alarm=alarm,
        aggregation=aggregation,
        cooldown_seconds=scaling.wake_period_seconds,
        breaches_above=True,
    )
    return alarm, policy


def zero_when_idle(
    scope: Construct,
    *,
    target: appscaling.ScalableTarget,
    metric: cloudwatch.IMetric,
    scaling: EndpointScaling,
    description: str,
) -> tuple[cloudwatch.Alarm, appscaling.StepScalingAction]:
    """The idle alarm on `metric` and the policy that sets exactly 0 while it is in ALARM."""
    alarm = idle_alarm(scope, metric=metric, scaling=scaling, description=description)
    policy = set_exactly(
        scope,
        "ScaleToZero",
        target=target,
        capacity=0,
        alarm=alarm,
        aggregation=appscaling.MetricAggregationType.MAXIMUM,
        cooldown_seconds=scaling.scale_in_cooldown_seconds,
        breaches_above=False,
    )
    return alarm, policy


def runaway_guard(
    scope: Construct,
    *,
    target: appscaling.ScalableTarget,
    endpoint_name: str,
    variant_name: str,
    work: cloudwatch.IMetric,
    scaling: EndpointScaling,
    topic: sns.ITopic,
) -> cloudwatch.Alarm:
    """An alarm for instances that keep running without work: scale-in did not happen.

    Instances are running while the variant reports `CPUUtilization` (namespace
    `/aws/sagemaker/Endpoints`, dimensions EndpointName and VariantName: SageMaker docs,
    monitoring-cloudwatch, "SageMaker AI endpoint metrics"); `work` is the metric the idle
    alarm watches (>= 1 while there is work). After `idle_minutes_before_zero` plus
    `runaway_margin_minutes` of both at once, the alarm notifies `topic` and, with
    `runaway_action` "zero", sets the capacity to 0 once more. A missing datapoint (no
    instance reports) is not a runaway.
    """
    minutes = scaling.idle_minutes_before_zero + scaling.runaway_margin_minutes
    instances = cloudwatch.Metric(
        namespace="/aws/sagemaker/Endpoints",
        metric_name="CPUUtilization",
        dimensions_map={"EndpointName": endpoint_name, "VariantName": variant_name},
        statistic="SampleCount",
        period=cdk.Duration.minutes(1),
    )
    runaway = cloudwatch.MathExpression(
        expression="IF(FILL(instances, 0) > 0 AND FILL(work, 0) < 1, 1, 0)",
        using_metrics={"instances": instances, "work": work},
        label="Instances running without work",
        period=cdk.Duration.minutes(1),
    )
    alarm = cloudwatch.Alarm(
        scope,
        "RunawayAlarm",
        alarm_description=f"Instances ran {minutes} minutes without work: scale-in did not "
        "happen" + ("; capacity set to 0" if scaling.runaway_action == "zero" else ""),
        metric=runaway,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=minutes,
        datapoints_to_alarm=minutes,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    if scaling.runaway_action == "zero":
        set_exactly(
            scope,
            "RunawayToZero",
            target=target,
            capacity=0,
            alarm=alarm,
            aggregation=appscaling.MetricAggregationType.MAXIMUM,
            cooldown_seconds=scaling.scale_in_cooldown_seconds,
            breaches_above=True,
        )
    return alarm


class ScaleToZeroScaling(Construct):
    """Owns the scalable target (min 0), the target-tracking policy on the backlog per instance,
    the wake-from-zero step policy and its alarm, the scale-to-zero policy and its alarm, and the
    runaway alarm (see `AsyncLlmEndpoint` for how they work together). `metric` builds a metric
    of the endpoint (name, statistic, period)."""

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
        error_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, id_)
        self.scalable_target = scale_to_zero_target(
            self,
            resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
            dimension="sagemaker:variant:DesiredInstanceCount",
            max_capacity=max_capacity,
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

        # Wake from zero: requests wait and no instance runs.
        self.wake_alarm, self.wake_policy = wake_from_zero(
            self,
            target=self.scalable_target,
            metric=metric("HasBacklogWithoutCapacity", period=scaling.wake_period_seconds),
            scaling=scaling,
            aggregation=appscaling.MetricAggregationType.AVERAGE,
            description="Requests wait and no instance runs: start one",
        )
        # Scale to zero once nothing has been queued or in flight for the idle window. The
        # backlog counts a request from its enqueueing to its answer, and the Maximum of each
        # minute sees one that comes and goes within it. `Invocations`, which the realtime idle
        # signal adds, is not published for async endpoints (SageMaker docs,
        # async-inference-monitor: "Any metric not listed below is not published if the
        # endpoint is enabled for asynchronous inference. Such metrics include ... Invocations").
        self.idle_alarm, self.zero_policy = zero_when_idle(
            self,
            target=self.scalable_target,
            metric=metric("ApproximateBacklogSize", statistic="Maximum"),
            scaling=scaling,
            description=f"No request queued or in flight for {scaling.idle_minutes_before_zero} "
            "minutes: scale to zero",
        )
        self.runaway_alarm = runaway_guard(
            self,
            target=self.scalable_target,
            endpoint_name=endpoint_name,
            variant_name=variant_name,
            work=metric("ApproximateBacklogSize", statistic="Maximum"),
            scaling=scaling,
            topic=error_topic,
        )
