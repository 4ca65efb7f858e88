"""The SageMaker model of an LLM endpoint: CloudFormation's, or the API's when it needs more."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from features.endpoints.dlc_images import ContainerImage
from features.endpoints.endpoint_execution_role import EndpointExecutionRole
from features.endpoints.model_artifacts import ModelArtifacts
from features.endpoints.sagemaker_api_model import SageMakerApiModel


class LlmModel(Construct):
    """Owns the model: image, weights (uncompressed, under an S3 prefix), environment and any
    extra model data channel (mounted at /opt/ml/additional-model-data-sources/<channel>).

    A `CfnModel` without a name (CloudFormation generates one, and any change replaces the
    model), or a `SageMakerApiModel` when a channel is needed: CloudFormation's
    AWS::SageMaker::Model has no AdditionalModelDataSources. Either waits for the role's policy.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        endpoint_key: str,
        image: ContainerImage,
        model: ModelArtifacts,
        channels: Mapping[str, ModelArtifacts],
        environment: Mapping[str, str],
        network_isolation: bool,
        role: EndpointExecutionRole,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id_)
        if not channels:
            cfn_model = sagemaker.CfnModel(
                self,
                "Resource",
                execution_role_arn=role.role.role_arn,
                enable_network_isolation=network_isolation,
                primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                    image=image.uri,
                    model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(
                        s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                            s3_uri=model.s3_uri,
                            s3_data_type="S3Prefix",
                            compression_type="None",
                            model_access_config=sagemaker.CfnModel.ModelAccessConfigProperty(
                                accept_eula=True
                            )
                            if model.accept_eula
                            else None,
                        )
                    ),
                    environment=dict(environment) or None,
                ),
            )
            cfn_model.node.add_dependency(role.policy)
            self.model_name = cfn_model.attr_model_name
            return
        api_model = SageMakerApiModel(
            self,
            "Resource",
            name_prefix=endpoint_key,
            execution_role=role.role,
            log_key=key,
            definition={
                "ExecutionRoleArn": role.role.role_arn,
                "EnableNetworkIsolation": network_isolation,
                "PrimaryContainer": {
                    "Image": image.uri,
                    "ModelDataSource": {"S3DataSource": model.data_source()},
                    "AdditionalModelDataSources": [
                        {"ChannelName": channel, "S3DataSource": source.data_source()}
                        for channel, source in channels.items()
                    ],
                    "Environment": dict(environment),
                },
            },
        )
        api_model.resource.node.add_dependency(role.policy)
        self.model_name = api_model.model_name
