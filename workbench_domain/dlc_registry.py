"""The AWS Deep Learning Containers registry account of each region: where the pinned serving
images live (`<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>`).

The CDK stacks put this table into each template (`Fn::FindInMap`, features/endpoints/
dlc_images.py); the operator commands, which do not load aws-cdk, read it here. It is aws-cdk-lib's
region facts (`FactName.DLC_REPOSITORY_ACCOUNT`) plus the regions where the SageMaker Python SDK's
registries (sagemaker 2.257.1, src/sagemaker/image_uri_config/djl-lmi.json, djl-tensorrtllm.json,
djl-neuronx.json) list djl-inference and the CDK facts name no account: marked below. A test
checks it against the installed aws-cdk-lib's facts. Standard library only.
"""

from __future__ import annotations

# The regions only the SageMaker Python SDK's registries name.
SDK_ONLY_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-northeast-3",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-west-1",
        "il-central-1",
        "mx-central-1",
        "us-gov-east-1",
        "us-gov-west-1",
    }
)

ACCOUNTS: dict[str, str] = {
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-east-2": "975050140332",
    "ap-northeast-1": "763104351884",
    "ap-northeast-2": "763104351884",
    "ap-northeast-3": "364406365360",
    "ap-south-1": "763104351884",
    "ap-south-2": "772153158452",
    "ap-southeast-1": "763104351884",
    "ap-southeast-2": "763104351884",
    "ap-southeast-3": "907027046896",
    "ap-southeast-4": "457447274322",
    "ap-southeast-5": "550225433462",
    "ap-southeast-6": "633930458069",
    "ap-southeast-7": "590183813437",
    "ca-central-1": "763104351884",
    "ca-west-1": "204538143572",
    "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807",
    "eu-central-1": "763104351884",
    "eu-central-2": "380420809688",
    "eu-north-1": "763104351884",
    "eu-south-1": "692866216735",
    "eu-south-2": "503227376785",
    "eu-west-1": "763104351884",
    "eu-west-2": "763104351884",
    "eu-west-3": "763104351884",
    "eusc-de-east-1": "204133271717",
    "il-central-1": "780543022126",
    "me-central-1": "914824155844",
    "me-south-1": "217643126080",
    "mx-central-1": "637423239942",
    "sa-east-1": "763104351884",
    "us-east-1": "763104351884",
    "us-east-2": "763104351884",
    "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353",
    "us-isof-east-1": "303241398832",
    "us-isof-south-1": "454834333376",
    "us-west-1": "763104351884",
    "us-west-2": "763104351884",
}


def image_uri(repository: str, tag: str, region: str) -> str | None:
    """The image's URI in `region`, or None where no registry account is known."""
    account = ACCOUNTS.get(region)
    if account is None:
        return None
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}/{repository}:{tag}"
