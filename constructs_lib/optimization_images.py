"""The DJL inference DLC images the optimization launcher uses by default, per Region."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

REPOSITORY = "djl-inference"

# Account of the AWS Deep Learning Containers registry per Region, as in the SageMaker Python
# SDK's image config for the DJL LMI images (`src/sagemaker/image_uri_config/djl-lmi.json`,
# identical in djl-tensorrtllm.json; shared/reference/sagemaker-api.md 2.4).
DLC_ACCOUNTS = {
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-northeast-1": "763104351884",
    "ap-northeast-2": "763104351884",
    "ap-northeast-3": "364406365360",
    "ap-south-1": "763104351884",
    "ap-southeast-1": "763104351884",
    "ap-southeast-2": "763104351884",
    "ap-southeast-3": "907027046896",
    "ca-central-1": "763104351884",
    "ca-west-1": "204538143572",
    "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807",
    "eu-central-1": "763104351884",
    "eu-north-1": "763104351884",
    "eu-south-1": "692866216735",
    "eu-west-1": "763104351884",
    "eu-west-2": "763104351884",
    "eu-west-3": "763104351884",
    "il-central-1": "780543022126",
    "me-central-1": "914824155844",
    "me-south-1": "217643126080",
    "sa-east-1": "763104351884",
    "us-east-1": "763104351884",
    "us-east-2": "763104351884",
    "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353",
    "us-west-1": "763104351884",
    "us-west-2": "763104351884",
}


class OptimizationImages(Construct):
    """Owns the Region -> DLC-account mapping and builds the launcher's default image URIs.

    The account is looked up in the template (`Fn::FindInMap` on `AWS::Region`), so an
    environment-agnostic stack gets the right registry wherever it is deployed; a Region missing
    from the map fails the deployment with CloudFormation's mapping error rather than pulling an
    image from a wrong account.
    """

    def __init__(
        self, scope: Construct, id_: str, *, lmi_tag: str, tensorrt_llm_tag: str, neuron_tag: str
    ) -> None:
        super().__init__(scope, id_)
        self._mapping = cdk.CfnMapping(
            self,
            "DlcAccounts",
            mapping={region: {"account": a} for region, a in DLC_ACCOUNTS.items()},
        )
        self.registry_account = self._mapping.find_in_map(cdk.Aws.REGION, "account")
        self.lmi_uri = self.image_uri(lmi_tag)
        self.tensorrt_llm_uri = self.image_uri(tensorrt_llm_tag)
        self.neuron_uri = self.image_uri(neuron_tag)
        stack = cdk.Stack.of(self)
        self.repository_arn = stack.format_arn(
            service="ecr",
            account=self.registry_account,
            resource="repository",
            resource_name=REPOSITORY,
        )

    def image_uri(self, tag: str) -> str:
        return (
            f"{self.registry_account}.dkr.ecr.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}"
            f"/{REPOSITORY}:{tag}"
        )
