"""AWS Deep Learning Containers (DJL/LMI) image URIs, resolved per region at deploy time.

The stacks are environment-agnostic (the region is a token at synth), so the registry account is
looked up by CloudFormation with `Fn::FindInMap` in a `DlcAccounts` mapping, one per stack, instead
of a Python dict lookup. A region missing from the map fails the deploy with "Mapping key not
found"; pass an explicit image URI there.

The tags an endpoint serves with are
pinned, with what each image reads, in workbench_domain/serving_images.json; optimization jobs
pin theirs in cdk.json (`optimization.images`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from workbench_domain import dlc_registry, uris

REPOSITORY = "djl-inference"

# The registry account per region: one table for the stacks and the operator commands.
ACCOUNTS = dlc_registry.ACCOUNTS

MAPPING_ID = "DlcAccounts"


@dataclass(frozen=True)
class ContainerImage:
    """An image URI and the ARN of its ECR repository (what an execution role must pull from)."""

    uri: str
    repository_arn: str
    repository_name: str

    def grant_pull(self, scope: Construct, grantee: iam.IGrantable) -> iam.Grant:
        """Lets `grantee` pull this image (aws-cdk-lib's own ECR pull grant: the repository's
        three read actions, and ecr:GetAuthorizationToken, which has no resource)."""
        # One imported repository per name in `scope` (a role may pull from several; an import
        # makes no resource, so its id is free to name the repository).
        construct_id = f"ImageRepository-{self.repository_name}"
        found = scope.node.try_find_child(construct_id)
        repository = (
            cast(ecr.IRepository, found)
            if found is not None
            else ecr.Repository.from_repository_attributes(
                scope,
                construct_id,
                repository_arn=self.repository_arn,
                repository_name=self.repository_name,
            )
        )
        return repository.grant_pull(grantee)


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
        repository_name=repository,
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
        repository_name=image.repository,
    )
