"""Deep Learning Containers images: registry account per region through a CfnMapping."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import region_info
from aws_cdk.assertions import Template

from features.endpoints.dlc_images import ACCOUNTS, MAPPING_ID, dlc_image, explicit_image
from workbench_domain import dlc_registry, serving_images

DEFAULT_ACCOUNT = "763104351884"

PINNED_TAGS = {
    engine: serving_images.default_tag(engine) for engine in ("vllm", "trtllm", "neuron")
}


@pytest.fixture(scope="module")
def images():
    stack = cdk.Stack(cdk.App(), "Images")
    found = {engine: dlc_image(stack, tag) for engine, tag in PINNED_TAGS.items()}
    # Any resource, so the template renders the mapping the images use.
    cdk.CfnOutput(stack, "Lmi", value=found["vllm"].uri)
    cdk.CfnOutput(stack, "Repo", value=found["neuron"].repository_arn)
    return stack, found


def test_one_mapping_per_stack_maps_every_region_to_its_registry(images):
    stack, _ = images
    mappings = Template.from_stack(stack).to_json()["Mappings"]
    assert list(mappings) == [MAPPING_ID]
    table = {region: row["account"] for region, row in mappings[MAPPING_ID].items()}
    assert table == ACCOUNTS
    assert table["us-east-1"] == table["us-west-2"] == table["eu-central-1"] == DEFAULT_ACCOUNT
    assert table["af-south-1"] == "626614931356"
    assert table["ap-east-1"] == "871362719292"
    # From aws-cdk-lib's region facts (the SageMaker SDK lists the same account).
    assert table["ap-south-2"] == "772153158452"


def test_the_registry_table_is_the_cdk_facts_plus_the_sdk_only_regions():
    facts = {
        info.name: info.dlc_repository_account
        for info in region_info.RegionInfo.regions
        if info.dlc_repository_account
    }
    # When an aws-cdk-lib upgrade adds one of the SDK-only regions, its row comes from the facts.
    assert not set(facts) & dlc_registry.SDK_ONLY_REGIONS
    assert {r: a for r, a in ACCOUNTS.items() if r not in dlc_registry.SDK_ONLY_REGIONS} == facts


def test_the_operator_commands_build_the_same_uri_as_the_stacks():
    assert dlc_registry.image_uri("vllm", "t", "us-east-1") == (
        f"{DEFAULT_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/vllm:t"
    )
    assert dlc_registry.image_uri("vllm", "t", "xx-nowhere-1") is None


def test_uri_is_resolved_by_cloudformation_in_the_deployment_region(images):
    stack, found = images
    assert stack.resolve(found["vllm"].uri) == {
        "Fn::Join": [
            "",
            [
                {"Fn::FindInMap": [MAPPING_ID, {"Ref": "AWS::Region"}, "account"]},
                ".dkr.ecr.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/djl-inference:" + PINNED_TAGS["vllm"],
            ],
        ]
    }


def test_each_engine_has_its_pinned_tag_and_a_repository_can_be_given(images):
    stack, found = images
    for family, image in found.items():
        assert (
            stack.resolve(image.uri)["Fn::Join"][1][-1] == "/djl-inference:" + PINNED_TAGS[family]
        )
    assert "neuronx" in PINNED_TAGS["neuron"]
    assert "tensorrtllm" in PINNED_TAGS["trtllm"]
    other = dlc_image(stack, "2.3.0-gpu-py311", repository="pytorch-inference")
    assert stack.resolve(other.uri)["Fn::Join"][1][-1] == "/pytorch-inference:2.3.0-gpu-py311"


def test_repository_arn_is_in_the_registry_account(images):
    stack, found = images
    assert stack.resolve(found["neuron"].repository_arn) == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ecr:",
                {"Ref": "AWS::Region"},
                ":",
                {"Fn::FindInMap": [MAPPING_ID, {"Ref": "AWS::Region"}, "account"]},
                ":repository/djl-inference",
            ],
        ]
    }


def test_explicit_uri_gives_its_repository():
    image = explicit_image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/llm:1.2")
    stack = cdk.Stack(cdk.App(), "Explicit")
    assert stack.resolve(image.repository_arn) == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":ecr:eu-west-1:123456789012:repository/team/llm"],
        ]
    }
    assert image.uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/llm:1.2"
    with pytest.raises(ValueError, match="not an ECR image URI"):
        explicit_image("docker.io/library/python:3")


def test_pull_grants_share_one_import_per_repository_in_a_scope():
    """A scope may grant several roles, and one role several repositories: each repository is
    imported once (an import makes no resource), and every grantee gets its pull statement."""
    from aws_cdk import aws_iam as iam

    stack = cdk.Stack(cdk.App(), "Pulls")
    lmi, other = dlc_image(stack, "lmi-tag"), dlc_image(stack, "vllm-tag", "vllm")
    roles = [
        iam.Role(stack, name, assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
        for name in ("First", "Second")
    ]
    for role in roles:
        lmi.grant_pull(stack, role)
    other.grant_pull(stack, roles[0])
    imported = sorted(c.node.id for c in stack.node.children if c.node.id.startswith("Image"))
    assert imported == ["ImageRepository-djl-inference", "ImageRepository-vllm"]
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    pulls = [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "ecr:BatchGetImage" in statement["Action"]
    ]
    assert len(pulls) == 3
