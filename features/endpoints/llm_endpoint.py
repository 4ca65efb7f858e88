"""What both endpoint kinds are built from, and the parts they share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from features.endpoints.dlc_images import ContainerImage
from features.endpoints.endpoint_execution_role import EndpointExecutionRole
from features.endpoints.llm_model import LlmModel
from features.endpoints.model_artifacts import ModelArtifacts
from workbench_domain import hosting
from workbench_domain.endpoint_kinds import EndpointScaling

NAMESPACE = "AWS/SageMaker"


@dataclass(frozen=True)
class PoolSpec:
    """A fallback pool's own serving (config `pool_overrides`): its model files and environment,
    which make a SageMaker model of its own when they differ from the endpoint's, and on a
    realtime endpoint the GPUs one copy reserves there."""

    model: ModelArtifacts
    environment: Mapping[str, str]
    accelerators: int | None = None


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint of the config, with its image and model files resolved: what
    `AsyncLlmEndpoint` and `RealtimeLlmEndpoint` both take (each adds its kind's own settings)."""

    endpoint_key: str
    instance_type: str
    image: ContainerImage
    model: ModelArtifacts
    max_capacity: int
    # Channel name -> artifacts mounted at /opt/ml/additional-model-data-sources/<channel>.
    channels: Mapping[str, ModelArtifacts] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    network_isolation: bool = True
    volume_size_gb: int | None = None
    model_data_download_timeout_seconds: int = 1800
    container_startup_health_check_timeout_seconds: int = 1800
    scaling: EndpointScaling = field(default_factory=EndpointScaling)
    metrics: hosting.Metrics = field(default_factory=hosting.Metrics)
    capacity: hosting.Capacity = field(default_factory=hosting.Capacity)
    # The host AMI the image needs (InferenceAmiVersion); None keeps SageMaker's default.
    inference_ami_version: str | None = None
    # Fallback instance type -> what differs there.
    pools: Mapping[str, PoolSpec] = field(default_factory=dict)

    @property
    def instance_types(self) -> tuple[str, ...]:
        """The instance type, then its fallbacks: the order SageMaker tries them in."""
        return (self.instance_type, *self.capacity.fallback_instance_types)


class LlmEndpoint(Construct):
    """The parts of an LLM endpoint both kinds own: the execution role, the model, the endpoint,
    the failure alarm and the dashboard. A subclass adds its endpoint config, topics, scaling and
    grants, and calls the builders below in its own order."""

    VARIANT_NAME = "AllTraffic"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        spec: EndpointSpec,
        key: kms.IKey,
        role_description: str,
        objects_reasons: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.spec = spec
        self.key = key
        self.variant_name = self.VARIANT_NAME
        self.execution_role = EndpointExecutionRole(
            self,
            "ExecutionRole",
            description=role_description,
            image=spec.image,
            artifacts=[
                spec.model,
                *spec.channels.values(),
                *(pool.model for pool in spec.pools.values() if pool.model != spec.model),
            ],
            key=key,
            objects_reasons=dict(objects_reasons or {}),
        )
        self.role = self.execution_role.role

    def _model(self) -> str:
        """The model (image, weights, channels, environment); its name. Also a model of its own
        for each fallback pool whose files or environment differ (`pool_model_names`)."""
        self.pool_model_names: dict[str, str] = {}
        for priority, instance_type in enumerate(self.spec.instance_types, 1):
            pool = self.spec.pools.get(instance_type)
            if pool is None or (
                pool.model == self.spec.model and pool.environment == self.spec.environment
            ):
                continue
            self.pool_model_names[instance_type] = self._llm_model(
                f"Pool{priority}Model",
                f"{self.spec.endpoint_key}-pool{priority}",
                pool.model,
                pool.environment,
            )
        return self._llm_model(
            "Model", self.spec.endpoint_key, self.spec.model, self.spec.environment
        )

    def _llm_model(
        self, id_: str, name_prefix: str, model: ModelArtifacts, environment: Mapping[str, str]
    ) -> str:
        return LlmModel(
            self,
            id_,
            endpoint_key=name_prefix,
            image=self.spec.image,
            model=model,
            channels=dict(self.spec.channels),
            environment=dict(environment),
            network_isolation=self.spec.network_isolation,
            role=self.execution_role,
            key=self.key,
        ).model_name

    def _variant_loading(self) -> dict[str, Any]:
        """The variant's host AMI, volume and loading budget, as keyword arguments of its
        property."""
        return {
            "inference_ami_version": self.spec.inference_ami_version,
            "volume_size_in_gb": self.spec.volume_size_gb,
            "model_data_download_timeout_in_seconds": (
                self.spec.model_data_download_timeout_seconds
            ),
            "container_startup_health_check_timeout_in_seconds": (
                self.spec.container_startup_health_check_timeout_seconds
            ),
        }

    def _placement(self, *, model_overrides: bool) -> dict[str, Any]:
        """Where the variant's instances come from, as keyword arguments of its property: its
        instance type, or instance pools in priority order when it has fallbacks (with a pool's
        own model where `model_overrides`: a variant that names a model); a capacity reservation
        and the provisioning timeout when set."""
        spec, capacity = self.spec, self.spec.capacity
        placement: dict[str, Any] = {}
        if capacity.fallback_instance_types:
            overrides = self.pool_model_names if model_overrides else {}
            placement["instance_pools"] = [
                sagemaker.CfnEndpointConfig.InstancePoolProperty(
                    instance_type=instance_type,
                    priority=priority,
                    model_name_override=overrides.get(instance_type),
                )
                for priority, instance_type in enumerate(spec.instance_types, 1)
            ]
        else:
            placement["instance_type"] = spec.instance_type
        if capacity.reservation_arn is not None:
            placement["capacity_reservation_config"] = (
                sagemaker.CfnEndpointConfig.CapacityReservationConfigProperty(
                    capacity_reservation_preference=hosting.RESERVATION_PREFERENCE,
                    ml_reservation_arn=capacity.reservation_arn,
                )
            )
        if capacity.provision_timeout_seconds is not None:
            placement["variant_instance_provision_timeout_in_seconds"] = (
                capacity.provision_timeout_seconds
            )
        return placement

    def _metrics_config(self) -> sagemaker.CfnEndpointConfig.MetricsConfigProperty | None:
        """The endpoint config's MetricsConfig, when the config asks for more than the default."""
        metrics = self.spec.metrics
        if not metrics.wanted:
            return None
        return sagemaker.CfnEndpointConfig.MetricsConfigProperty(
            enable_enhanced_metrics=metrics.enhanced,
            enable_detailed_observability=metrics.detailed,
            metric_publish_frequency_in_seconds=metrics.publish_seconds,
        )

    def _endpoint(self, config: sagemaker.CfnEndpointConfig) -> None:
        """The endpoint of `config`, created once the role's policy exists."""
        self.endpoint_config = config
        # The role's policy (S3, KMS, SNS, ECR) must exist before SageMaker starts an instance.
        config.node.add_dependency(self.execution_role.policy)
        self.endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint", endpoint_config_name=config.attr_endpoint_config_name
        )
        self.endpoint_name = self.endpoint.attr_endpoint_name
        # Ref of AWS::SageMaker::Endpoint is its ARN (with the name lower-cased, as IAM expects).
        self.endpoint_arn = self.endpoint.ref

    def _failure_alarm(
        self, *, description: str, metric: cloudwatch.IMetric, topic: sns.ITopic
    ) -> cloudwatch.Alarm:
        """One failed invocation in five minutes notifies `topic`."""
        self.failure_alarm = cloudwatch.Alarm(
            self,
            "FailureAlarm",
            alarm_description=description,
            metric=metric,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.failure_alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        # CloudWatch publishes to the KMS-encrypted topic only if the key lets it use the key.
        self.key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"),
            "kms:Decrypt",
            "kms:GenerateDataKey*",
        )
        return self.failure_alarm

    def _dashboard(
        self, rows: Sequence[Sequence[tuple[str, Sequence[cloudwatch.IMetric]]]]
    ) -> None:
        """A dashboard of `rows` of (title, metrics) graphs."""
        # Named after the stack (as CloudFormation names generated resources): the execution
        # policy scopes dashboard actions to this deployment's names.
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"{cdk.Stack.of(self).stack_name}-dashboard"
        )
        for row in rows:
            self.dashboard.add_widgets(
                *(
                    cloudwatch.GraphWidget(title=title, left=list(metrics), width=8, height=6)
                    for title, metrics in row
                )
            )
