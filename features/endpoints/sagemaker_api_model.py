"""A SageMaker model created through the API, for model fields CloudFormation does not have."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from features.shared.scoped_function import ScopedFunction

HANDLER_DIR = Path(__file__).resolve().parent / "model_function"


class SageMakerApiModel(Construct):
    """Owns a custom resource, its small Lambda and role, that run CreateModel/DeleteModel.

    `definition` is the CreateModel request without `ModelName`, in the API's field names
    (`PrimaryContainer.AdditionalModelDataSources`, ...). CloudFormation's AWS::SageMaker::Model
    lacks `AdditionalModelDataSources` (checked against cfn-lint's resource schema and aws-cdk-lib
    2.275.0's CfnModel), which a draft model for speculative decoding needs.

    The model name is `<name_prefix>-<16 hex>`, the hex a hash of the resolved definition and the
    stack: every change of the definition is a new model, so CloudFormation replaces it (create
    the new one, update the endpoint config, delete the old one) like a generated name would.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name_prefix: str,
        definition: dict[str, Any],
        execution_role: iam.IRole,
        log_key: kms.IKey,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        fingerprint = hashlib.sha256(
            json.dumps(
                [stack.stack_name, self.node.path, stack.resolve(definition)], sort_keys=True
            ).encode()
        ).hexdigest()[:16]
        self.physical_name = physical_name = f"{name_prefix}-{fingerprint}"
        model_arn = stack.format_arn(
            service="sagemaker", resource="model", resource_name=physical_name
        )

        scoped = ScopedFunction(
            self,
            "Handler",
            description="CloudFormation custom resource: SageMaker CreateModel/DeleteModel",
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(HANDLER_DIR)),
            key=log_key,
            log_retention=logs.RetentionDays.ONE_MONTH,
            timeout=cdk.Duration.minutes(2),
            usage_reasons={
                "NIST.800.53.R5-LambdaConcurrency": (
                    "Invoked only by CloudFormation, a few times per deployment; reserved "
                    "concurrency would take capacity from accounts with low Lambda limits."
                ),
                "NIST.800.53.R5-LambdaDLQ": (
                    "CloudFormation custom-resource events are retried by CloudFormation and a "
                    "failure is reported to the stack; a dead-letter queue would hold nothing."
                ),
                "NIST.800.53.R5-LambdaInsideVPC": (
                    "The function only calls the SageMaker control-plane API and CloudFormation's "
                    "response URL; it touches no data and needs no private network."
                ),
            },
        )
        role, function = scoped.role, scoped.function
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateModel",
                    "sagemaker:DescribeModel",
                    "sagemaker:DeleteModel",
                ],
                resources=[model_arn],
            )
        )
        execution_role.grant_pass_role(role)
        resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=function.function_arn,
            resource_type="Custom::SageMakerModel",
            properties={
                "ModelName": physical_name,
                "Model": stack.to_json_string(definition),
            },
        )
        # The role's policy must exist before CloudFormation asks the function to create the model.
        resource.node.add_dependency(role.node.find_child("DefaultPolicy"))
        self.resource = resource
        # The name as an attribute of the custom resource, never the plain string: whoever
        # names the model (an endpoint config) is then created after it. A plain string gives
        # CloudFormation no order, and SageMaker answers "Could not find model".
        self.model_name = resource.get_att_string("ModelName")
