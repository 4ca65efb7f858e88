"""A SageMaker asynchronous-inference LLM endpoint that scales to zero and wakes by itself."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from features.endpoints.endpoint_scaling import ScaleToZeroScaling
from features.endpoints.llm_endpoint import NAMESPACE, EndpointSpec, LlmEndpoint
from features.shared.secure_topic import SecureTopic


class AsyncLlmEndpoint(LlmEndpoint):
    """Owns a SageMaker async endpoint for an LLM and everything that runs or watches it.

    Model (CfnModel, or a `SageMakerApiModel` when a speculative model needs the extra model
    data channel CloudFormation lacks), endpoint config, endpoint, execution role, success and
    error topics, scalable target, scaling policies and alarms, failure alarm and dashboard.

    Asynchronous requests wait in SageMaker's queue, so the endpoint can run at zero instances:

    * Load: target tracking keeps `ApproximateBacklogSizePerInstance` (queued + in-flight requests
      per instance, dimension `EndpointName`) near the target, between 1 and `max_capacity`.
      That metric does not exist at zero instances, so it cannot wake the endpoint.
    * Wake: an alarm on `HasBacklogWithoutCapacity` (1 when requests wait and no instance runs;
      Average >= 1 over one 60-second period by default) triggers a single-step policy that sets
      the capacity to exactly 1. `ExactCapacity` rather than `+1`: CloudWatch re-invokes a scaling
      action every minute while its alarm stays in ALARM, and the alarm stays there for the whole
      10-30 minute cold start of a 70B model; `+1` would add an instance each time the cooldown
      ended, `ExactCapacity 1` is idempotent. The alarm can only be in ALARM while no instance
      runs, so the policy never lowers a capacity target tracking has raised.
    * Zero: an alarm on `ApproximateBacklogSize` (Maximum per minute; it counts queued AND
      in-flight requests) below 1 for `idle_minutes_before_zero` consecutive minutes triggers a
      policy that sets the capacity to 0. It cannot cut work in progress: any in-flight request
      keeps the backlog at >= 1. It cannot fight the wake-up: the wake alarm needs a backlog,
      the idle alarm its absence, over the same minute's data (a missing backlog datapoint
      counts as idle: both metrics come from the same queue, and it must never keep an idle
      instance billed). In
      the one race left (a request arriving in the minute the idle action fires), the request
      waits in the queue and the wake alarm brings an instance back; nothing is lost.
    * Target tracking's own scale-in is disabled by default (`target_tracking_scale_in`): it
      would remove instances while some still process requests, and its built-in alarm needs
      15 minutes of low load. The endpoint then keeps its scaled-out capacity until it is fully
      idle for the idle window, then goes straight to zero. With it enabled, Application Auto
      Scaling scales in only as far as every policy allows (the largest capacity wins).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        spec: EndpointSpec,
        key: kms.IKey,
        inference_bucket: s3.IBucket,
        max_concurrent_invocations_per_instance: int,
    ) -> None:
        self.inference_bucket = inference_bucket
        # Everything this endpoint reads and writes in the inference bucket lives under its prefix.
        self.prefix = f"endpoints/{spec.endpoint_key}/"
        self.input_prefix = f"{self.prefix}input/"
        self.output_prefix = f"{self.prefix}output/"
        self.failure_prefix = f"{self.prefix}failure/"
        super().__init__(
            scope,
            id_,
            spec=spec,
            key=key,
            role_description="SageMaker execution role of one async LLM endpoint: reads its "
            "model, writes its own async prefix, publishes its topics",
            objects_reasons=dict.fromkeys(
                (
                    self._objects(p)
                    for p in (self.input_prefix, self.output_prefix, self.failure_prefix)
                ),
                "Objects under this endpoint's own async input, output or failure prefix; "
                "object keys are not known in advance.",
            ),
        )
        self.execution_role.grant_encrypt()
        # Async inference reads each request from the input location and writes the response or
        # the error with this role.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self._objects(self.input_prefix)]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[self._objects(self.output_prefix), self._objects(self.failure_prefix)],
            )
        )
        self.success_topic = self._topic("SuccessTopic", "succeeded")
        self.error_topic = self._topic("ErrorTopic", "failed")
        self.model_name = self._model()

        variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=self.variant_name,
            model_name=self.model_name,
            **self._placement(model_overrides=True),
            # The API's minimum; the scaling policies take the endpoint to zero once it is idle.
            initial_instance_count=1,
            initial_variant_weight=1,
            **self._variant_loading(),
        )
        # No EndpointConfigName: a generated name lets any change roll to a new config.
        endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[variant],
            # Encrypts the EBS volume; instance-local NVMe storage is encrypted by the hardware.
            kms_key_id=key.key_arn,
            metrics_config=self._metrics_config(),
            async_inference_config=sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
                output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                    s3_output_path=self.s3_uri(self.output_prefix),
                    s3_failure_path=self.s3_uri(self.failure_prefix),
                    kms_key_id=key.key_arn,
                    notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                        success_topic=self.success_topic.topic_arn,
                        error_topic=self.error_topic.topic_arn,
                    ),
                ),
                client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                    max_concurrent_invocations_per_instance=max_concurrent_invocations_per_instance
                ),
            ),
        )
        self._endpoint(endpoint_config)

        self.scaling = ScaleToZeroScaling(
            self,
            "Scaling",
            endpoint_name=self.endpoint_name,
            variant_name=self.variant_name,
            max_capacity=spec.max_capacity,
            scaling=spec.scaling,
            metric=self.metric,
            error_topic=self.error_topic,
        )
        self.wake_policy = self.scaling.wake_policy
        self.zero_policy = self.scaling.zero_policy
        self._failure_alarm(
            description="Async invocations failed (details in the failure prefix)",
            metric=self.metric("InvocationFailures", statistic="Sum", per_variant=True, period=300),
            topic=self.error_topic,
        )
        self._dashboard(
            [
                [
                    ("Backlog (queued + in flight)", [self.metric("ApproximateBacklogSize")]),
                    (
                        "Backlog per instance",
                        [self.metric("ApproximateBacklogSizePerInstance")],
                    ),
                    (
                        "Backlog without capacity (wakes the endpoint)",
                        [self.metric("HasBacklogWithoutCapacity", statistic="Maximum")],
                    ),
                ],
                [
                    (
                        "Age of oldest request (s)",
                        [self.metric("ApproximateAgeOfOldestRequest", statistic="Maximum")],
                    ),
                    (
                        "Model latency (microseconds)",
                        [
                            self.metric("ModelLatency", per_variant=True),
                            self.metric("ModelLatency", statistic="p90", per_variant=True),
                        ],
                    ),
                    (
                        "Invocation failures",
                        [
                            self.metric(
                                "InvocationFailures", statistic="Sum", per_variant=True, period=300
                            )
                        ],
                    ),
                ],
            ]
        )

    # -- helpers ------------------------------------------------------------------------------

    def s3_uri(self, key_prefix: str) -> str:
        return f"s3://{self.inference_bucket.bucket_name}/{key_prefix}"

    def _objects(self, key_prefix: str) -> str:
        return self.inference_bucket.arn_for_objects(f"{key_prefix}*")

    def metric(
        self, name: str, *, statistic: str = "Average", per_variant: bool = False, period: int = 60
    ) -> cloudwatch.Metric:
        """A metric of this endpoint in `AWS/SageMaker`.

        The async queue metrics carry the `EndpointName` dimension only (not `VariantName`);
        invocation metrics such as `InvocationFailures` and `ModelLatency` carry both.
        """
        dimensions = {"EndpointName": self.endpoint_name}
        if per_variant:
            dimensions["VariantName"] = self.variant_name
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=cdk.Duration.seconds(period),
        )

    def _topic(self, id_: str, outcome: str) -> sns.ITopic:
        topic = SecureTopic(
            self,
            id_,
            display_name=f"Async inference requests that {outcome}",
            encryption_key=self.key,
        ).topic
        topic.grant_publish(self.role)
        return topic

    # -- grants -------------------------------------------------------------------------------

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Lets `grantee` submit async requests and read their results.

        `sagemaker:InvokeEndpointAsync` on this endpoint, write of its input prefix, read of its
        output and failure prefixes, and use of the key that encrypts them.
        """
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpointAsync"],
            resource_arns=[self.endpoint_arn],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:PutObject"],
            resource_arns=[self._objects(self.input_prefix)],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[self._objects(self.output_prefix), self._objects(self.failure_prefix)],
        )
        self.key.grant(grantee, "kms:Decrypt", "kms:GenerateDataKey")
        return grant
