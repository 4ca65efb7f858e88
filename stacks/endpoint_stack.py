"""Endpoint-<key>: one async LLM endpoint. Each is a stack of its own because creating one takes
10-40 minutes and may fail on a quota; a failure then rolls back only that endpoint."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.async_llm_endpoint import AsyncLlmEndpoint
from constructs_lib.deployment_record import DeploymentRecord
from constructs_lib.dlc_images import ContainerImage, dlc_image, explicit_image
from constructs_lib.model_artifacts import ModelArtifacts
from stacks.config.endpoints import EndpointConfig, S3Location
from workbench_domain import serving
from workbench_domain.deployment_records import EndpointRecord


class EndpointStack(cdk.Stack):
    """Composes an `AsyncLlmEndpoint` from config and publishes where to send requests."""

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
        **kwargs,
    ) -> None:
        super().__init__(scope, id_, **kwargs)

        def artifacts(location: S3Location, accept_eula: bool) -> ModelArtifacts:
            if location.key_prefix is not None:
                return ModelArtifacts.in_bucket(
                    artifacts_bucket, location.key_prefix, accept_eula=accept_eula
                )
            return ModelArtifacts.at_uri(location.uri or "", accept_eula=accept_eula)

        model, settings = endpoint.model, endpoint.serving
        # The config loader has checked the settings against the image (serving.check).
        spec = endpoint.speculative_model
        channels = {spec.channel: artifacts(spec.location, spec.accept_eula)} if spec else {}
        self.endpoint = AsyncLlmEndpoint(
            self,
            "Endpoint",
            endpoint_key=endpoint.key,
            instance_type=endpoint.instance_type,
            image=self._image(settings),
            model=artifacts(model.location, model.accept_eula),
            additional_model_data=channels,
            environment=serving.container_environment(settings),
            network_isolation=model.network_isolation,
            key=key,
            inference_bucket=inference_bucket,
            max_capacity=endpoint.max_capacity,
            max_concurrent_invocations_per_instance=endpoint.max_concurrent_invocations_per_instance,
            volume_size_gb=endpoint.volume_size_gb,
            model_data_download_timeout_seconds=endpoint.model_data_download_timeout_seconds,
            container_startup_health_check_timeout_seconds=(
                endpoint.container_startup_health_check_timeout_seconds
            ),
            scaling=endpoint.scaling,
        )

        ep = self.endpoint
        DeploymentRecord(
            self,
            "Record",
            parameter_prefix=parameter_prefix,
            endpoint_key=endpoint.key,
            record=EndpointRecord(
                endpoint_name=ep.endpoint_name,
                variant_name=ep.variant_name,
                instance_type=endpoint.instance_type,
                input_prefix=ep.s3_uri(ep.input_prefix),
                output_prefix=ep.s3_uri(ep.output_prefix),
                failure_prefix=ep.s3_uri(ep.failure_prefix),
                success_topic_arn=ep.success_topic.topic_arn,
                error_topic_arn=ep.error_topic.topic_arn,
                max_capacity=endpoint.max_capacity,
                price_usd_per_hour=endpoint.price_usd_per_hour,
            ),
        )
        cdk.CfnOutput(self, "EndpointName", value=ep.endpoint_name)
        cdk.CfnOutput(self, "InputPrefix", value=ep.s3_uri(ep.input_prefix))
        cdk.CfnOutput(self, "OutputPrefix", value=ep.s3_uri(ep.output_prefix))
        cdk.CfnOutput(self, "FailurePrefix", value=ep.s3_uri(ep.failure_prefix))
        cdk.CfnOutput(self, "SuccessTopicArn", value=ep.success_topic.topic_arn)
        cdk.CfnOutput(self, "ErrorTopicArn", value=ep.error_topic.topic_arn)

    def _image(self, settings: serving.ServingSettings) -> ContainerImage:
        if settings.image_uri is not None:
            return explicit_image(settings.image_uri)
        row = serving.image_for(settings.engine, settings.image_tag)
        return dlc_image(self, row.tag, row.repository)
