"""A SageMaker asynchronous-inference LLM endpoint that scales to zero and wakes by itself."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from features.endpoints.dlc_images import ContainerImage
from features.endpoints.endpoint_execution_role import EndpointExecutionRole
from features.endpoints.endpoint_scaling import ScaleToZeroScaling
from features.endpoints.llm_model import LlmModel
from features.endpoints.model_artifacts import ModelArtifacts
from features.shared.secure_topic import SecureTopic
from workbench_domain.endpoint_kinds import EndpointScaling

NAMESPACE = "AWS/SageMaker"


class AsyncLlmEndpoint(Construct):
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

    VARIANT_NAME = "AllTraffic"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        endpoint_key: str,
        instance_type: str,
        image: ContainerImage,
        model: ModelArtifacts,
        additional_model_data: Mapping[str, ModelArtifacts] | None = None,
        environment: Mapping[str, str] | None = None,
        network_isolation: bool = True,
        key: kms.IKey,
        inference_bucket: s3.IBucket,
        max_capacity: int,
        max_concurrent_invocations_per_instance: int,
        volume_size_gb: int | None = None,
        model_data_download_timeout_seconds: int = 1800,
        container_startup_health_check_timeout_seconds: int = 1800,
        scaling: EndpointScaling | None = None,
    ) -> None:
        super().__init__(scope, id_)
        scaling = scaling or EndpointScaling()
        self.key = key
        self.inference_bucket = inference_bucket
        self.variant_name = self.VARIANT_NAME
        # Everything this endpoint reads and writes in the inference bucket lives under its prefix.
        self.prefix = f"endpoints/{endpoint_key}/"
        self.input_prefix = f"{self.prefix}input/"
        self.output_prefix = f"{self.prefix}output/"
        self.failure_prefix = f"{self.prefix}failure/"

        # Channel name -> artifacts mounted at /opt/ml/additional-model-data-sources/<channel>.
        channels = dict(additional_model_data or {})
        self.execution_role = EndpointExecutionRole(
            self,
            "ExecutionRole",
            description="SageMaker execution role of one async LLM endpoint: reads its model, "
            "writes its own async prefix, publishes its topics",
            image=image,
            artifacts=[model, *channels.values()],
            key=key,
            objects_reasons=dict.fromkeys(
                (
                    self._objects(p)
                    for p in (self.input_prefix, self.output_prefix, self.failure_prefix)
                ),
                "Objects under this endpoint's own async input, output or failure prefix; "
                "object keys are not known in advance.",
            ),
        )
        self.role = self.execution_role.role
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
        self.model_name = LlmModel(
            self,
            "Model",
            endpoint_key=endpoint_key,
            image=image,
            model=model,
            channels=channels,
            environment=dict(environment or {}),
            network_isolation=network_isolation,
            role=self.execution_role,
            key=key,
        ).model_name

        variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=self.variant_name,
            model_name=self.model_name,
            instance_type=instance_type,
            # The API's minimum; the scaling policies take the endpoint to zero once it is idle.
            initial_instance_count=1,
            initial_variant_weight=1,
            volume_size_in_gb=volume_size_gb,
            model_data_download_timeout_in_seconds=model_data_download_timeout_seconds,
            container_startup_health_check_timeout_in_seconds=(
                container_startup_health_check_timeout_seconds
            ),
        )
        # No EndpointConfigName: a generated name lets any change roll to a new config.
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[variant],
            # Encrypts the EBS volume; instance-local NVMe storage is encrypted by the hardware.
            kms_key_id=key.key_arn,
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
        # The role's policy (S3, KMS, SNS, ECR) must exist before SageMaker starts an instance.
        self.endpoint_config.node.add_dependency(self.execution_role.policy)
        self.endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint", endpoint_config_name=self.endpoint_config.attr_endpoint_config_name
        )
        self.endpoint_name = self.endpoint.attr_endpoint_name
        # Ref of AWS::SageMaker::Endpoint is its ARN (with the name lower-cased, as IAM expects).
        self.endpoint_arn = self.endpoint.ref

        self.scaling = ScaleToZeroScaling(
            self,
            "Scaling",
            endpoint_name=self.endpoint_name,
            variant_name=self.variant_name,
            max_capacity=max_capacity,
            scaling=scaling,
            metric=self.metric,
            error_topic=self.error_topic,
        )
        self.wake_policy = self.scaling.wake_policy
        self.zero_policy = self.scaling.zero_policy
        self._failure_alarm()
        self._dashboard()

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

    def _failure_alarm(self) -> None:
        self.failure_alarm = cloudwatch.Alarm(
            self,
            "FailureAlarm",
            alarm_description="Async invocations failed (details in the failure prefix)",
            metric=self.metric("InvocationFailures", statistic="Sum", per_variant=True, period=300),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.failure_alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.error_topic))
        # CloudWatch publishes to the KMS-encrypted topic only if the key lets it use the key.
        self.key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"),
            "kms:Decrypt",
            "kms:GenerateDataKey*",
        )

    def _dashboard(self) -> None:
        def graph(title: str, *metrics: cloudwatch.Metric) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=list(metrics), width=8, height=6)

        # Named after the stack (as CloudFormation names generated resources): the execution
        # policy scopes dashboard actions to this deployment's names.
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"{cdk.Stack.of(self).stack_name}-dashboard"
        )
        self.dashboard.add_widgets(
            graph("Backlog (queued + in flight)", self.metric("ApproximateBacklogSize")),
            graph("Backlog per instance", self.metric("ApproximateBacklogSizePerInstance")),
            graph(
                "Backlog without capacity (wakes the endpoint)",
                self.metric("HasBacklogWithoutCapacity", statistic="Maximum"),
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "Age of oldest request (s)",
                self.metric("ApproximateAgeOfOldestRequest", statistic="Maximum"),
            ),
            graph(
                "Model latency (microseconds)",
                self.metric("ModelLatency", per_variant=True),
                self.metric("ModelLatency", statistic="p90", per_variant=True),
            ),
            graph(
                "Invocation failures",
                self.metric("InvocationFailures", statistic="Sum", per_variant=True, period=300),
            ),
        )

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
