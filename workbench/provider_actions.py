"""What CloudFormation's resource providers need to deploy the synthesized templates: the
permissions each resource type's handlers declare (cfn-lint's provider schemas), less those of
features no template uses, and what the templates' roles attach, trust and run on."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from workbench.assembly import OperatorError, StackTemplate
from workbench_domain import hosting

HANDLERS = ("create", "read", "update", "delete")
# Resource types that need no permission: CDK's metadata resource.
NO_PERMISSIONS = frozenset({"AWS::CDK::Metadata"})
# The code of Lambda functions and layers is read from CDK's bootstrap asset bucket.
ASSET_READS = frozenset({"s3:GetObject", "s3:GetObjectVersion"})


def _absent(*properties: str) -> Any:
    return lambda props: not any(name in props for name in properties)


# Provider permissions for features the templates do not use, left out while no resource of the
# type sets the property that needs them: (resource type, actions, unused when, the feature).
UNUSED_FEATURES: tuple[tuple[str, frozenset[str], Any, str], ...] = (
    ("AWS::IAM::Policy",
     frozenset({"iam:PutUserPolicy", "iam:DeleteUserPolicy", "iam:GetUserPolicy"}),
     _absent("Users"), "inline policies on IAM users (Users)"),
    ("AWS::IAM::Policy",
     frozenset({"iam:PutGroupPolicy", "iam:DeleteGroupPolicy", "iam:GetGroupPolicy"}),
     _absent("Groups"), "inline policies on IAM groups (Groups)"),
    ("AWS::IAM::Role", frozenset({"iam:AttachRolePolicy", "iam:DetachRolePolicy"}),
     _absent("ManagedPolicyArns"), "managed policies on roles (ManagedPolicyArns)"),
    ("AWS::IAM::Role", frozenset({"iam:PutRolePermissionsBoundary"}),
     _absent("PermissionsBoundary"), "a permissions boundary (PermissionsBoundary)"),
    ("AWS::S3::Bucket",
     frozenset({
         "s3tables:CreateNamespace", "s3tables:CreateTable", "s3tables:CreateTableBucket",
         "s3tables:GetTable", "s3tables:GetTableMetadataLocation", "s3tables:PutTableBucketPolicy",
         "s3tables:PutTableEncryption", "s3tables:PutTablePolicy",
         "s3tables:UpdateTableMetadataLocation",
     }),
     _absent("MetadataTableConfiguration", "MetadataConfiguration"), "S3 Metadata tables"),
    ("AWS::Logs::LogGroup",
     frozenset({"logs:PutResourcePolicy", "logs:DeleteResourcePolicy",
                "logs:DescribeResourcePolicies"}),
     _absent("ResourcePolicyDocument"), "a log group resource policy (ResourcePolicyDocument)"),
    ("AWS::Logs::LogGroup",
     frozenset({"logs:PutIndexPolicy", "logs:DeleteIndexPolicy", "logs:DescribeIndexPolicies"}),
     _absent("FieldIndexPolicies"), "field index policies (FieldIndexPolicies)"),
    ("AWS::Lambda::Function", frozenset({"elasticfilesystem:DescribeMountTargets"}),
     _absent("FileSystemConfigs"), "EFS file systems (FileSystemConfigs)"),
    ("AWS::Lambda::Function", frozenset({"lambda:PassCapacityProvider"}),
     _absent("CapacityProviderConfig"), "Lambda capacity providers (CapacityProviderConfig)"),
    ("AWS::Lambda::Function",
     frozenset({"ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets", "ec2:DescribeVpcs"}),
     _absent("VpcConfig"), "functions in a VPC (VpcConfig)"),
    ("AWS::SageMaker::NotebookInstance",
     frozenset({"ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
                "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"}),
     _absent("SubnetId"), "a notebook in a VPC (SubnetId)"),
    ("AWS::ApplicationAutoScaling::ScalableTarget",
     frozenset({"lambda:DeleteProvisionedConcurrencyConfig",
                "lambda:GetProvisionedConcurrencyConfig",
                "lambda:PutProvisionedConcurrencyConfig"}),
     lambda props: props.get("ServiceNamespace") != "lambda", "Lambda scalable targets"),
    ("AWS::Lambda::Function",
     frozenset({"lambda:GetCodeSigningConfig", "lambda:PutFunctionCodeSigningConfig",
                "lambda:DeleteFunctionCodeSigningConfig"}),
     _absent("CodeSigningConfigArn"), "code signing (CodeSigningConfigArn)"),
    ("AWS::SNS::Topic", frozenset({"sns:Unsubscribe"}),
     _absent("Subscription"), "subscriptions declared on a topic (Subscription)"),
    ("AWS::Budgets::Budget", frozenset({"billing:GetBillingViewData"}),
     lambda props: "BillingViewArn" not in (props.get("Budget") or {}), "billing views"),
    ("AWS::StepFunctions::StateMachine", ASSET_READS,
     _absent("DefinitionS3Location"), "a definition in S3 (DefinitionS3Location)"),
)  # fmt: skip
# Never granted: it would take the permissions boundary off a role.
NEVER_GRANTED = {"iam:DeleteRolePermissionsBoundary": "it takes the boundary off a role"}
# AWS managed policies the templates attach, and the actions they allow (their documents are
# AWS's, not in a package here: unverified offline; `make execution-policy` refuses others).
MANAGED_POLICY_ACTIONS = {
    "service-role/AWSLambdaBasicExecutionRole": (
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
}


def resource_types(stacks: list[StackTemplate]) -> dict[str, set[str]]:
    """Resource type -> the stacks that hold it."""
    found: dict[str, set[str]] = defaultdict(set)
    for stack in stacks:
        for resource in stack.resources.values():
            found[resource["Type"]].add(stack.name)
    return dict(found)


@cache
def handler_actions(
    resource_type: str, region: str, handlers_: tuple[str, ...] = HANDLERS
) -> frozenset[str]:
    """What CloudFormation's resource provider needs for the type (the permissions its
    `handlers_` declare)."""
    if (
        resource_type.startswith("Custom::")
        or resource_type == "AWS::CloudFormation::CustomResource"
    ):
        return frozenset({"lambda:InvokeFunction"})
    if resource_type in NO_PERMISSIONS:
        return frozenset()
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    handlers = schema.get("handlers") or {}
    if not handlers:
        raise OperatorError(
            f"{resource_type}: its provider schema declares no handler permissions; add them by "
            "hand to workbench/provider_actions.py"
        )
    return frozenset(
        action
        for handler in handlers_
        for action in (handlers.get(handler) or {}).get("permissions", [])
    )


def needed_actions(stacks: list[StackTemplate]) -> tuple[set[str], dict[str, str]]:
    """(the actions CloudFormation needs for these templates, the provider permissions left out
    -> why): a feature no template uses, or an action never granted."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for stack in stacks:
        for resource in stack.resources.values():
            by_type[resource["Type"]].append(resource.get("Properties") or {})
    actions: set[str] = set()
    unused: dict[str, str] = {}
    for resource_type, resources in by_type.items():
        needed = set(handler_actions(resource_type, "us-east-1"))
        # What the read handler needs stays whatever the templates use: CloudFormation reads
        # every property of a resource after each change.
        read = handler_actions(resource_type, "us-east-1", ("read",))
        for rule_type, features, unused_when, feature in UNUSED_FEATURES:
            if rule_type == resource_type and all(unused_when(props) for props in resources):
                dropped = (needed & features) - read
                for action in dropped:
                    unused.setdefault(action, f"{feature}: no {resource_type} uses it")
                needed -= dropped
        actions |= needed
    for action, why in NEVER_GRANTED.items():
        if action in actions:
            actions.discard(action)
            unused[action] = why
    # An action dropped for one type but needed by another stays.
    return actions, {a: why for a, why in unused.items() if a not in actions}


def instance_types(stacks: list[StackTemplate]) -> list[str]:
    types = set()
    for stack in stacks:
        for _, config in stack.of_type("AWS::SageMaker::EndpointConfig"):
            for variant in config["Properties"].get("ProductionVariants", []):
                types.update(hosting.variant_instance_types(variant))  # every pool
        for _, notebook in stack.of_type("AWS::SageMaker::NotebookInstance"):
            if isinstance(notebook["Properties"].get("InstanceType"), str):
                types.add(notebook["Properties"]["InstanceType"])
    return sorted(types)


def passed_to_services(stacks: list[StackTemplate]) -> list[str]:
    """The services the templates' roles trust: the only ones they may be passed to."""
    services: set[str] = set()
    for stack in stacks:
        for _, role in stack.of_type("AWS::IAM::Role"):
            for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
                principal = statement.get("Principal", {}).get("Service", [])
                services |= set(principal if isinstance(principal, list) else [principal])
    return sorted(services)


def attached_managed_policies(stacks: list[StackTemplate], partition: str) -> dict[str, str]:
    """Managed policy ARN -> its name below `policy/`, for every one a template attaches."""
    found: dict[str, str] = {}
    for stack in stacks:
        for _, role in stack.of_type("AWS::IAM::Role"):
            for arn in role["Properties"].get("ManagedPolicyArns", []):
                text = arn.get("Fn::Sub", "") if isinstance(arn, dict) else str(arn)
                name = text.rsplit(":policy/", 1)[-1]
                if name not in MANAGED_POLICY_ACTIONS:
                    raise OperatorError(
                        f"{stack.name}: a role attaches {text!r}, whose actions this script does "
                        "not know: add them to MANAGED_POLICY_ACTIONS "
                        "(workbench/provider_actions.py)"
                    )
                found[f"arn:{partition}:iam::aws:policy/{name}"] = name
    return found
