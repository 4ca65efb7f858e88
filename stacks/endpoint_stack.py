"""Endpoint-<key>: one LLM endpoint, async or realtime. Each is a stack of its own because creating
one takes 10-40 minutes and may fail on a quota; a failure then rolls back only that endpoint."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from features.endpoints.async_llm_endpoint import AsyncLlmEndpoint
from features.endpoints.dlc_images import ContainerImage, dlc_image, explicit_image
from features.endpoints.llm_endpoint import EndpointSpec, PoolSpec
from features.endpoints.model_artifacts import ModelArtifacts
from features.endpoints.realtime_llm_endpoint import RealtimeLlmEndpoint
from features.shared.deployment_record import DeploymentRecord
from workbench_config.endpoints import EndpointConfig
from workbench_config.models import S3Location
from workbench_config.pools import pool_serving
from workbench_domain import serving, serving_environment, serving_images
from workbench_domain.deployment_records import EndpointRecord, RealtimeEndpointRecord, Record


class EndpointStack(cdk.Stack):
    """Composes an `AsyncLlmEndpoint` or a `RealtimeLlmEndpoint` (the config's `kind`) and
    publishes where to send requests."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        endpoint: EndpointConfig,
        key: kms.IKey,
        artifacts_bucket: s3.IBucket,
        inference_bucket: s3.IBucket,
        parameter_prefix: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)

        def artifacts(location: S3Location, accept_eula: bool) -> ModelArtifacts:
            if location.key_prefix is not None:
                return ModelArtifacts.in_bucket(
                    artifacts_bucket, location.key_prefix, accept_eula=accept_eula
                )
            return ModelArtifacts.at_uri(location.uri or "", accept_eula=accept_eula)

        model, settings, draft = endpoint.model, endpoint.serving, endpoint.speculative_model
        weights = artifacts(model.location, model.accept_eula)
        for note in serving_environment.advice(settings, endpoint.instance_type):
            cdk.Annotations.of(self).add_warning_v2("workbench:serving", note)
        # The config loader has checked the settings against the image (serving.check).
        spec = EndpointSpec(
            endpoint_key=endpoint.key,
            instance_type=endpoint.instance_type,
            image=self._image(settings),
            model=weights,
            max_capacity=endpoint.max_capacity,
            channels={draft.channel: artifacts(draft.location, draft.accept_eula)} if draft else {},
            environment=serving_environment.container_environment(settings),
            network_isolation=model.network_isolation,
            volume_size_gb=endpoint.volume_size_gb,
            model_data_download_timeout_seconds=endpoint.model_data_download_timeout_seconds,
            container_startup_health_check_timeout_seconds=(
                endpoint.container_startup_health_check_timeout_seconds
            ),
            scaling=endpoint.scaling,
            metrics=endpoint.metrics,
            capacity=endpoint.capacity,
            inference_ami_version=endpoint.inference_ami_version,
            pools={
                instance_type: PoolSpec(
                    model=artifacts(pool.model.location, pool.model.accept_eula)
                    if pool.model
                    else weights,
                    environment=serving_environment.container_environment(
                        pool_serving(endpoint, instance_type)
                    ),
                    accelerators=pool.accelerators,
                )
                for instance_type, pool in endpoint.pool_overrides.items()
            },
        )

        record: Record
        self.endpoint: AsyncLlmEndpoint | RealtimeLlmEndpoint
        if endpoint.realtime is not None:
            realtime = self.endpoint = RealtimeLlmEndpoint(
                self,
                "Endpoint",
                spec=spec,
                key=key,
                min_instances=endpoint.realtime.min_instances,
                accelerators=endpoint.realtime.accelerators,
                min_memory_mb=endpoint.realtime.min_memory_mb,
                routing=endpoint.realtime.routing,
                data_cache=endpoint.realtime.data_cache,
            )
            record = RealtimeEndpointRecord(
                endpoint_name=realtime.endpoint_name,
                inference_component_name=realtime.component_name,
                variant_name=realtime.variant_name,
                instance_type=endpoint.instance_type,
                error_topic_arn=realtime.error_topic.topic_arn,
                max_capacity=endpoint.max_capacity,
                price_usd_per_hour=endpoint.price_usd_per_hour,
                request_schema=endpoint.request_schema,
                openai_route=bool(endpoint.realtime.openai_route),
            )
            outputs = {
                "EndpointName": realtime.endpoint_name,
                "InferenceComponentName": realtime.component_name,
                "ErrorTopicArn": realtime.error_topic.topic_arn,
            }
        else:
            queued = self.endpoint = AsyncLlmEndpoint(
                self,
                "Endpoint",
                spec=spec,
                key=key,
                inference_bucket=inference_bucket,
                max_concurrent_invocations_per_instance=(
                    endpoint.max_concurrent_invocations_per_instance
                ),
            )
            record = EndpointRecord(
                endpoint_name=queued.endpoint_name,
                variant_name=queued.variant_name,
                instance_type=endpoint.instance_type,
                input_prefix=queued.s3_uri(queued.input_prefix),
                output_prefix=queued.s3_uri(queued.output_prefix),
                failure_prefix=queued.s3_uri(queued.failure_prefix),
                success_topic_arn=queued.success_topic.topic_arn,
                error_topic_arn=queued.error_topic.topic_arn,
                max_capacity=endpoint.max_capacity,
                price_usd_per_hour=endpoint.price_usd_per_hour,
                request_schema=endpoint.request_schema,
            )
            outputs = {
                "EndpointName": queued.endpoint_name,
                "InputPrefix": record.input_prefix,
                "OutputPrefix": record.output_prefix,
                "FailurePrefix": record.failure_prefix,
                "SuccessTopicArn": record.success_topic_arn,
                "ErrorTopicArn": record.error_topic_arn,
            }

        DeploymentRecord(
            self,
            "Record",
            parameter_prefix=parameter_prefix,
            endpoint_key=endpoint.key,
            record=record,
        )
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)

    def _image(self, settings: serving.ServingSettings) -> ContainerImage:
        if settings.image_uri is not None:
            return explicit_image(settings.image_uri)
        row = serving_images.image_for(settings.engine, settings.image_tag)
        return dlc_image(self, row.tag, row.repository)
