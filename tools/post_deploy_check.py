"""Checks a deployed environment: every stack deployed cleanly, every endpoint in service.

The pipeline runs it after each stage (CodeBuild, in the pipeline account), with the stage's stack
names and the endpoint names read from the endpoint stacks' outputs; it reads the target account
through the CDK bootstrap lookup role there (`--role-arn`, ReadOnlyAccess). By hand:

    .venv/bin/python -m tools.post_deploy_check --region us-east-1 \\
        --stack genai-opt-dev-Storage --endpoint ENDPOINT_NAME

Exit status 0 when everything is healthy, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import boto3
from botocore.exceptions import ClientError

HEALTHY_STACK = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
# An endpoint is usable while it scales (autoscaling updates its capacity: Updating) or while
# SageMaker patches it (SystemUpdating); async requests queue meanwhile.
SERVING_ENDPOINT = frozenset({"InService", "Updating", "SystemUpdating"})
# Transitions that end by themselves: wait for them, up to --wait-minutes.
SETTLING_ENDPOINT = frozenset({"Creating", "RollingBack"})


def _problem(what: str, status: str, reason: str | None) -> str:
    return f"{what}: {status}" + (f" ({reason})" if reason else "")


def check_stacks(cloudformation: Any, names: Sequence[str]) -> list[str]:
    """One problem per stack that is missing or not in a *_COMPLETE state of a successful deploy."""
    problems = []
    for name in names:
        try:
            [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
        except ClientError as error:
            problems.append(f"stack {name}: {error.response['Error']['Message']}")
            continue
        status = stack["StackStatus"]
        if status in HEALTHY_STACK:
            print(f"ok    stack {name}: {status}")
        else:
            problems.append(_problem(f"stack {name}", status, stack.get("StackStatusReason")))
    return problems


def check_endpoints(
    sagemaker: Any,
    names: Sequence[str],
    *,
    wait_seconds: float,
    poll_seconds: float = 30,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """One problem per endpoint that is missing, failed, or still settling after the wait."""
    problems = []
    deadline = clock() + wait_seconds
    for name in names:
        while True:
            try:
                endpoint = sagemaker.describe_endpoint(EndpointName=name)
            except ClientError as error:
                problems.append(f"endpoint {name}: {error.response['Error']['Message']}")
                break
            status = endpoint["EndpointStatus"]
            if status in SERVING_ENDPOINT:
                print(f"ok    endpoint {name}: {status}")
                break
            if status in SETTLING_ENDPOINT and clock() < deadline:
                print(f"wait  endpoint {name}: {status}")
                sleep(poll_seconds)
                continue
            problems.append(_problem(f"endpoint {name}", status, endpoint.get("FailureReason")))
            break
    return problems


def clients(role_arn: str | None, region: str, *, sts: Any = None) -> tuple[Any, Any]:
    """CloudFormation and SageMaker clients, as `role_arn` when given (the target account)."""
    session = boto3.Session(region_name=region)
    if role_arn:
        sts = sts or session.client("sts")
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="post-deploy-check")[
            "Credentials"
        ]
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
    return session.client("cloudformation"), session.client("sagemaker")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", required=True)
    parser.add_argument("--role-arn", help="role to assume in the target account (optional)")
    parser.add_argument("--stack", action="append", default=[], help="stack name (repeatable)")
    parser.add_argument(
        "--endpoint", action="append", default=[], help="endpoint name (repeatable)"
    )
    parser.add_argument(
        "--wait-minutes",
        type=float,
        default=10,
        help="how long an endpoint may stay Creating/RollingBack (default 10)",
    )
    args = parser.parse_args(argv)
    # An empty name means a stack output the pipeline expected was not there.
    if not args.stack or any(not name for name in [*args.stack, *args.endpoint]):
        parser.error("give at least one --stack, and no empty --stack/--endpoint name")
    return args


def main(argv: Sequence[str], *, make_clients: Callable[..., tuple[Any, Any]] = clients) -> int:
    args = parse_args(argv)
    cloudformation, sagemaker = make_clients(args.role_arn, args.region)
    problems = check_stacks(cloudformation, args.stack)
    problems += check_endpoints(sagemaker, args.endpoint, wait_seconds=args.wait_minutes * 60)
    for problem in problems:
        print(f"FAIL  {problem}", file=sys.stderr)
    checked = f"{len(args.stack)} stack(s), {len(args.endpoint)} endpoint(s)"
    print(f"post-deploy check: {checked}, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
