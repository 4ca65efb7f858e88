"""A SageMaker real-time LLM endpoint that streams, scales to zero and wakes on a request."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from features.endpoints.copy_scaling import ScaleToZeroCopies
from features.endpoints.llm_endpoint import NAMESPACE, EndpointSpec, LlmEndpoint
from features.shared.secure_topic import SecureTopic
from workbench_domain import hosting

# InferenceComponentName: "^[a-zA-Z0-9](-*[a-zA-Z0-9])*$", at most 63 characters (cfn-lint's
# schema of AWS::SageMaker::InferenceComponent).
COMPONENT_NAME_MAX = 63


class RealtimeLlmEndpoint(LlmEndpoint):
    """Owns a real-time endpoint that hosts one inference component, and what runs or watches it.

    Only endpoints that host inference components can run at zero instances (SageMaker docs,
    endpoint-auto-scaling-zero-instances):

    * The endpoint config has the execution role at the top and one variant without a model,
      with managed instance scaling from `min_instances` (0: no instance while no copy runs)
      to `max_capacity`, and the configured routing (least outstanding requests unless the
      config says otherwise: `workbench_domain.hosting.Routing`).
    * The inference component holds the model (image, weights, environment, start-up timeouts)
      and reserves `accelerators` GPUs and `min_memory_mb` of host memory per copy. It is
      created with one copy (0 passes botocore and the schema; unverified against the
      service); the copy scaling takes it to zero once the
      endpoint is idle (`ScaleToZeroCopies`: load, wake and zero policies).
    * Tokens stream through `InvokeEndpointWithResponseStream` with `InferenceComponentName`;
      while no copy runs, SageMaker refuses requests at once (nothing queues, unlike async), so
      clients retry until the copy is up (the notebook client does).

    The failure alarm and the dashboard watch the component's invocations; failures publish to
    the error topic.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        spec: EndpointSpec,
        key: kms.IKey,
        min_instances: int = 0,
        accelerators: int,
        min_memory_mb: int = 1024,
        routing: hosting.Routing | None = None,
        data_cache: bool | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            spec=spec,
            key=key,
            role_description="SageMaker execution role of one real-time LLM endpoint: reads its "
            "model, pulls its image, writes its logs",
        )
        self.model_name = self._model()

        variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=self.variant_name,
            # An inference component's endpoint has no model: each pool's model is named by the
            # component's specification for that instance type.
            **self._placement(model_overrides=False),
            # The API's minimum to create the variant; managed instance scaling releases it once
            # no copy runs (MinInstanceCount 0).
            initial_instance_count=1,
            managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                status="ENABLED",
                min_instance_count=min_instances,
                max_instance_count=spec.max_capacity,
                # Release an instance as soon as no copy runs on it (not consolidation: one
                # copy fills an instance here).
                scale_in_policy=sagemaker.CfnEndpointConfig.ScaleInPolicyProperty(
                    strategy="IDLE_RELEASE"
                ),
            ),
            routing_config=self._routing_config(routing or hosting.Routing()),
            **self._variant_loading(),
        )
        # No EndpointConfigName: a generated name lets any change roll to a new config.
        endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[variant],
            # An endpoint that hosts inference components takes the role here, not per model.
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=spec.network_isolation,
            # Encrypts the EBS volume; instance-local NVMe storage is encrypted by the hardware.
            kms_key_id=key.key_arn,
            metrics_config=self._metrics_config(),
        )
        self._endpoint(endpoint_config)

        # CloudFormation returns no name of an inference component, and the scaling target and
        # alarms need it: CDK generates one from the construct path (unique per stack), in
        # lower case as SageMaker writes it in ARNs.
        self.component_name = cdk.Names.unique_resource_name(
            self, max_length=COMPONENT_NAME_MAX, separator="-"
        ).lower()
        self.component = sagemaker.CfnInferenceComponent(
            self,
            "InferenceComponent",
            inference_component_name=self.component_name,
            endpoint_name=self.endpoint_name,
            variant_name=self.variant_name,
            # One specification, or one per instance type when the endpoint has instance
            # pools (CloudFormation's schema: "Specify exactly one of Specification or
            # Specifications"; Specification is for a single instance type).
            **self._component_specification(spec, accelerators, min_memory_mb, data_cache),
            # Zero copies at creation is allowed by botocore (InferenceComponentCopyCount, min 0)
            # and by CloudFormation's schema; whether the service accepts it is not settled
            # offline (unverified), so the component starts with one and scaling takes it to 0.
            runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(
                copy_count=1
            ),
        )
        self.component_arn = self.component.attr_inference_component_arn

        self.error_topic = SecureTopic(
            self,
            "ErrorTopic",
            display_name="Real-time inference requests that failed",
            encryption_key=key,
        ).topic
        # One copy fills an instance (it reserves the instance's GPUs): copies = instances.
        self.scaling = ScaleToZeroCopies(
            self,
            "Scaling",
            component_name=self.component_name,
            component=self.component,
            endpoint_name=self.endpoint_name,
            variant_name=self.variant_name,
            max_copies=spec.max_capacity,
            scaling=spec.scaling,
            metric=self.metric,
            error_topic=self.error_topic,
        )
        self.wake_policy = self.scaling.wake_policy
        self.zero_policy = self.scaling.zero_policy
        errors = cloudwatch.MathExpression(
            expression="FILL(model, 0) + FILL(server, 0)",
            using_metrics={
                "model": self.metric("InvocationModelErrors", statistic="Sum", period=300),
                "server": self.metric("Invocation5XXErrors", statistic="Sum", period=300),
            },
            label="Failed invocations",
            period=cdk.Duration.minutes(5),
        )
        alarm = self._failure_alarm(
            description="Real-time invocations failed in the model or with a 5xx",
            metric=errors,
            topic=self.error_topic,
        )
        alarm.node.add_dependency(self.component)
        self._dashboard(
            [
                [
                    (
                        "Requests in flight per copy",
                        [self.metric("ConcurrentRequestsPerCopy", statistic="Maximum")],
                    ),
                    (
                        "Refused for lack of a copy (wakes the endpoint)",
                        [self.metric("NoCapacityInvocationFailures", statistic="Sum")],
                    ),
                    ("Invocations", [self.metric("Invocations", statistic="Sum")]),
                ],
                [
                    (
                        "Model latency (microseconds)",
                        [self.metric("ModelLatency"), self.metric("ModelLatency", statistic="p90")],
                    ),
                    (
                        "Invocation errors",
                        [
                            self.metric(name, statistic="Sum", period=300)
                            for name in (
                                "Invocation4XXErrors",
                                "Invocation5XXErrors",
                                "InvocationModelErrors",
                            )
                        ],
                    ),
                ],
            ]
        )

    def metric(
        self, name: str, *, statistic: str = "Average", period: int = 60
    ) -> cloudwatch.Metric:
        """A metric of this endpoint's inference component in `AWS/SageMaker`: the invocation
        metrics of an endpoint that hosts inference components carry the
        `InferenceComponentName` dimension (SageMaker docs, monitoring-cloudwatch, "SageMaker
        AI inference component metrics"); `make smoke` lists them after its first request."""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map={"InferenceComponentName": self.component_name},
            statistic=statistic,
            period=cdk.Duration.seconds(period),
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Lets `grantee` invoke the component, streaming or not, and see its copy count."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[self.endpoint_arn, self.component_arn],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:DescribeInferenceComponent"],
            resource_arns=[self.component_arn],
        )
        return grant

    @staticmethod
    def _routing_config(
        routing: hosting.Routing,
    ) -> sagemaker.CfnEndpointConfig.RoutingConfigProperty:
        prefix = None
        if routing.prefix_length is not None or routing.concurrency_threshold is not None:
            prefix = sagemaker.CfnEndpointConfig.PrefixAwareRoutingConfigProperty(
                prefix_length=routing.prefix_length,
                concurrency_threshold=routing.concurrency_threshold,
            )
        return sagemaker.CfnEndpointConfig.RoutingConfigProperty(
            routing_strategy=hosting.ROUTING[routing.strategy],
            prefix_aware_routing_config=prefix,
        )

    def _component_specification(
        self, spec: EndpointSpec, accelerators: int, min_memory_mb: int, data_cache: bool | None
    ) -> dict[str, Any]:
        ic = sagemaker.CfnInferenceComponent
        compute = ic.InferenceComponentComputeResourceRequirementsProperty(
            number_of_accelerator_devices_required=accelerators,
            min_memory_required_in_mb=min_memory_mb,
        )
        parts: dict[str, Any] = {
            "model_name": self.model_name,
            "startup_parameters": ic.InferenceComponentStartupParametersProperty(
                model_data_download_timeout_in_seconds=spec.model_data_download_timeout_seconds,
                container_startup_health_check_timeout_in_seconds=(
                    spec.container_startup_health_check_timeout_seconds
                ),
            ),
            "compute_resource_requirements": compute,
            "data_cache_config": (
                None
                if data_cache is None
                else ic.InferenceComponentDataCacheConfigProperty(enable_caching=data_cache)
            ),
        }
        if not spec.capacity.fallback_instance_types:
            return {"specification": ic.InferenceComponentSpecificationProperty(**parts)}
        specifications = []
        for instance_type in spec.instance_types:
            pool = spec.pools.get(instance_type)
            pool_compute = ic.InferenceComponentComputeResourceRequirementsProperty(
                number_of_accelerator_devices_required=(pool and pool.accelerators) or accelerators,
                min_memory_required_in_mb=min_memory_mb,
            )
            own = {
                "model_name": self.pool_model_names.get(instance_type, self.model_name),
                "compute_resource_requirements": pool_compute,
            }
            specifications.append(
                ic.InferenceComponentSpecificationForInstanceTypeProperty(
                    instance_type=instance_type, **{**parts, **own}
                )
            )
        return {"specifications": specifications}
