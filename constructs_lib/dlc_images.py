"""AWS Deep Learning Containers (DJL/LMI) image URIs, resolved per region at deploy time.

The stacks are environment-agnostic (the region is a token at synth), so the registry account is
looked up by CloudFormation with `Fn::FindInMap` in a `DlcAccounts` mapping, one per stack, instead
of a Python dict lookup. A region missing from the map fails the deploy with "Mapping key not
found"; pass an explicit image URI there.

Source: sagemaker-python-sdk `src/sagemaker/image_uri_config/djl-lmi.json` (`registries`), the
same map for the TensorRT-LLM and Neuron repositories. The tags an endpoint serves with are
pinned, with what each image reads, in workbench_domain/serving_images.json; optimization jobs
pin theirs in cdk.json (`optimization.images`).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from constructs import IConstruct

from workbench_domain import uris

REPOSITORY = "djl-inference"

DEFAULT_ACCOUNT = "763104351884"
# Regions whose DLC registry is not the default account.
ACCOUNT_EXCEPTIONS: dict[str, str] = {
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-northeast-3": "364406365360",
    "ap-southeast-3": "907027046896",
    "ca-west-1": "204538143572",
    "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807",
    "eu-south-1": "692866216735",
    "il-central-1": "780543022126",
    "me-central-1": "914824155844",
    "me-south-1": "217643126080",
    "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353",
}
DEFAULT_ACCOUNT_REGIONS = (
    "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
    "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
)  # fmt: skip
ACCOUNTS: dict[str, str] = {
    **dict.fromkeys(DEFAULT_ACCOUNT_REGIONS, DEFAULT_ACCOUNT),
    **ACCOUNT_EXCEPTIONS,
}

MAPPING_ID = "DlcAccounts"


@dataclass(frozen=True)
class ContainerImage:
    """An image URI and the ARN of its ECR repository (what an execution role must pull from)."""

    uri: str
    repository_arn: str


def _accounts_mapping(scope: IConstruct) -> cdk.CfnMapping:
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(MAPPING_ID)
    if existing is not None:
        return existing  # type: ignore[return-value]
    return cdk.CfnMapping(
        stack,
        MAPPING_ID,
        mapping={region: {"account": account} for region, account in sorted(ACCOUNTS.items())},
    )


def dlc_image(scope: IConstruct, tag: str, repository: str = REPOSITORY) -> ContainerImage:
    """The Deep Learning Containers image `repository:tag` in the deployment region."""
    account = _accounts_mapping(scope).find_in_map(cdk.Aws.REGION, "account")
    registry = f"{account}.dkr.ecr.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}"
    return ContainerImage(
        uri=f"{registry}/{repository}:{tag}",
        repository_arn=(
            f"arn:{cdk.Aws.PARTITION}:ecr:{cdk.Aws.REGION}:{account}:repository/{repository}"
        ),
    )


def explicit_image(uri: str) -> ContainerImage:
    """An ECR image URI given in full; `{region}` stands for the deployment region."""
    image = uris.parse_ecr_image(uri, region_placeholder=True)
    if image is None:
        raise ValueError(f"not an ECR image URI: {uri!r}")
    region = cdk.Aws.REGION if image.region == uris.REGION_PLACEHOLDER else image.region
    return ContainerImage(
        uri=uri.replace(uris.REGION_PLACEHOLDER, cdk.Aws.REGION),
        repository_arn=(
            f"arn:{cdk.Aws.PARTITION}:ecr:{region}:{image.registry}:repository/{image.repository}"
        ),
    )
