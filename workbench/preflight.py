#!/usr/bin/env python3
"""Checks an account before deploying ENV, so a 40-minute endpoint deploy does not die at the end.

Checks, for the environment's config in cdk.json and the templates in cdk.out:
  credentials   STS GetCallerIdentity works
  region        a region is set, and it is the one cdk.json pins (if any)
  bootstrap     the CDKToolkit stack exists and its version (SSM /cdk-bootstrap/<qualifier>/version)
                is at least what the templates' CheckBootstrapVersion rule requires
  quota         Service Quotas "<instance type> for endpoint usage" >= each enabled endpoint's
                max capacity
  artifacts     every S3 location of each endpoint (model, speculative model) has objects
  image         an explicit image URI is in the deploy region
  lambda        the account's Lambda concurrency leaves 100 unreserved after the templates'
                reserved concurrency (the optimization launcher's); a new account's limit of 10
                cannot reserve any
  cost tag      the deployment's cost allocation tag is active, so its budget and `make spend`
                see its cost (a warning, not a failure: the tag can be activated only once a
                tagged resource exists, after the first deploy)

Prints a PASS/FAIL/WARN table and the fix for each failure and warning; exits 1 when anything
fails.

    python -m workbench preflight --env dev [--region us-east-1] [--profile NAME] \\
        [--assembly cdk.out]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.assembly import (
    OperatorError,
    StackTemplate,
    read_assembly,
    required_bootstrap_version,
)
from workbench.common import (
    ROOT,
    add_environment_arguments,
    aws_session,
    enabled_endpoints,
    endpoint_path,
    image_region,
    load_settings,
    model_locations,
    render_table,
    split_s3_uri,
)
from workbench_config import AppConfig
from workbench_config.endpoints import S3Location
from workbench_domain import cost_allocation
from workbench_domain import deployment_records as records

TOOLKIT_STACK = "CDKToolkit"
DEFAULT_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
HEALTHY_STACK = (
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
)

PASS, FAIL, SKIP, WARN = "PASS", "FAIL", "SKIP", "WARN"


@dataclass(frozen=True)
class Check:
    status: str
    name: str
    detail: str
    fix: str = ""


def _error_code(error: Exception) -> str:
    typed: str = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
    return typed


def _client_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def check_identity(session: Any) -> tuple[Check, str | None]:
    try:
        identity = session.client("sts").get_caller_identity()
    except _client_errors() as error:
        return (
            Check(
                FAIL,
                "credentials",
                f"STS GetCallerIdentity failed: {error}",
                "Configure credentials: `aws configure`, `aws sso login --profile NAME` then "
                "`export AWS_PROFILE=NAME`, or pass --profile.",
            ),
            None,
        )
    return Check(
        PASS, "credentials", f"{identity['Arn']} (account {identity['Account']})"
    ), identity["Account"]


def check_region(region: str | None, settings: AppConfig) -> Check:
    if not region:
        return Check(
            FAIL,
            "region",
            "no region set",
            "Set AWS_REGION or AWS_DEFAULT_REGION (or `region` in your profile), or pass --region.",
        )
    if settings.region and settings.region != region:
        return Check(
            FAIL,
            "region",
            f"credentials use {region}, cdk.json pins {settings.env_name} to {settings.region}",
            f"Pass --region {settings.region} (or export AWS_REGION={settings.region}).",
        )
    return Check(PASS, "region", region)


def version_parameter(stacks: list[StackTemplate]) -> str:
    """The SSM parameter the templates read the bootstrap version from (custom qualifiers too)."""
    for stack in stacks:
        default = stack.template.get("Parameters", {}).get("BootstrapVersion", {}).get("Default")
        if isinstance(default, str) and default.startswith("/cdk-bootstrap/"):
            return default
    return DEFAULT_VERSION_PARAMETER


def check_bootstrap(
    session: Any, account: str | None, region: str | None, stacks: list[StackTemplate]
) -> list[Check]:
    target = f"aws://{account or 'ACCOUNT_ID'}/{region or 'REGION'}"
    fix = f"Bootstrap the account: `npx cdk bootstrap {target}` (after `make bootstrap`)."
    try:
        described = session.client("cloudformation").describe_stacks(StackName=TOOLKIT_STACK)
    except _client_errors() as error:
        if "does not exist" in str(error):
            return [Check(FAIL, "bootstrap stack", f"{TOOLKIT_STACK} not found in {region}", fix)]
        return [Check(FAIL, "bootstrap stack", f"DescribeStacks failed: {error}", fix)]
    stack = described["Stacks"][0]
    status = stack["StackStatus"]
    if status not in HEALTHY_STACK:
        return [
            Check(
                FAIL,
                "bootstrap stack",
                f"{TOOLKIT_STACK} is {status}",
                f"Fix or delete the {TOOLKIT_STACK} stack in the CloudFormation console, then "
                f"`npx cdk bootstrap {target}`.",
            )
        ]
    checks = [Check(PASS, "bootstrap stack", f"{TOOLKIT_STACK} {status}")]

    required = required_bootstrap_version(stacks)
    parameter = version_parameter(stacks)
    deployed: int | None = None
    source = parameter
    try:
        value = session.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
        deployed = int(value)
    except _client_errors():
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if str(outputs.get("BootstrapVersion", "")).isdigit():
            deployed, source = int(outputs["BootstrapVersion"]), f"{TOOLKIT_STACK} output"
    if deployed is None:
        checks.append(
            Check(
                FAIL,
                "bootstrap version",
                f"cannot read {parameter}",
                fix.replace("Bootstrap", "Re-bootstrap"),
            )
        )
    elif required is None:
        checks.append(
            Check(
                SKIP,
                "bootstrap version",
                f"{deployed} ({source}); no templates to compare: run `make synth`",
            )
        )
    elif deployed < required:
        checks.append(
            Check(
                FAIL,
                "bootstrap version",
                f"{deployed} ({source}) < {required} required by the templates",
                f"Upgrade the bootstrap stack: `npx cdk bootstrap {target}`.",
            )
        )
    else:
        checks.append(Check(PASS, "bootstrap version", f"{deployed} >= {required} required"))
    return checks


def endpoint_quotas(session: Any) -> dict[str, dict[str, Any]]:
    """QuotaName -> quota, for the SageMaker quotas (paginated)."""
    paginator = session.client("service-quotas").get_paginator("list_service_quotas")
    quotas: dict[str, dict[str, Any]] = {}
    for page in paginator.paginate(ServiceCode="sagemaker"):
        for quota in page.get("Quotas", []):
            quotas[quota["QuotaName"]] = quota
    return quotas


def check_quotas(session: Any, settings: AppConfig, region: str | None) -> list[Check]:
    endpoints = enabled_endpoints(settings)
    if not endpoints:
        return []
    try:
        quotas = endpoint_quotas(session)
    except _client_errors() as error:
        return [
            Check(
                FAIL,
                "quota",
                f"Service Quotas ListServiceQuotas failed: {error}",
                "Allow servicequotas:ListServiceQuotas for these credentials, or check the quota "
                "in the Service Quotas console (Amazon SageMaker).",
            )
        ]
    checks = []
    for endpoint in endpoints:
        name = f"{endpoint.instance_type} for endpoint usage"
        quota = quotas.get(name)
        label = f"quota {endpoint.key}"
        if quota is None:
            checks.append(
                Check(
                    FAIL,
                    label,
                    f"no quota '{name}' in {region}: the type may not be offered there",
                    f"Pick a region that offers {endpoint.instance_type}, or another type.",
                )
            )
            continue
        value = int(quota["Value"])
        if value < endpoint.max_capacity:
            checks.append(
                Check(
                    FAIL,
                    label,
                    f"'{name}' = {value} < max capacity {endpoint.max_capacity}",
                    "Request an increase: `aws service-quotas request-service-quota-increase "
                    f"--service-code sagemaker --quota-code {quota['QuotaCode']} "
                    f"--desired-value {endpoint.max_capacity} --region {region}` (or lower "
                    f"endpoints.{endpoint.key}.max_capacity in cdk.json).",
                )
            )
        else:
            checks.append(
                Check(PASS, label, f"'{name}' = {value} >= max capacity {endpoint.max_capacity}")
            )
    return checks


def artifacts_bucket(session: Any, settings: AppConfig) -> str | None:
    """The project's artifacts bucket, from the Storage stack's record (None if not deployed)."""
    name = records.parameter_name(settings.parameter_prefix, records.STORAGE)
    unreadable: tuple[type[Exception], ...] = (*_client_errors(), ValueError)
    try:
        value = session.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
        return records.parse_storage(json.loads(value)).artifacts_bucket
    except unreadable:
        return None


def resolve_location(location: S3Location, region: str | None, bucket: str | None) -> str | None:
    """An `s3_uri` (with `{region}` replaced) or an `s3_key_prefix` in the artifacts bucket."""
    if location.uri is not None:
        return location.uri.replace("{region}", region or "{region}")
    return f"s3://{bucket}/{location.key_prefix}" if bucket else None


def check_artifacts(session: Any, settings: AppConfig, region: str | None = None) -> list[Check]:
    checks = []
    s3 = None
    bucket: str | None = None
    bucket_read = False
    for endpoint in enabled_endpoints(settings):
        for relative, location in model_locations(endpoint):
            label = f"artifacts {endpoint.key}.{relative}"
            path = f"{endpoint_path(settings, endpoint)}.{relative}"
            if location.key_prefix is not None and not bucket_read:
                bucket, bucket_read = artifacts_bucket(session, settings), True
            uri = resolve_location(location, region, bucket)
            if uri is None:
                checks.append(
                    Check(
                        FAIL,
                        label,
                        f"{location.key_prefix} is in the artifacts bucket, and the Storage "
                        "stack's record "
                        f"{settings.parameter_prefix}/deployment/storage is not deployed",
                        "Deploy the Storage stack first (`npx cdk deploy -c "
                        f"env={settings.env_name} {settings.project}-{settings.env_name}/Storage`"
                        "), upload the model under "
                        f"{location.key_prefix}, then run preflight again.",
                    )
                )
                continue
            list_bucket, prefix = split_s3_uri(uri)
            s3 = s3 or session.client("s3")
            try:
                listed = s3.list_objects_v2(Bucket=list_bucket, Prefix=prefix, MaxKeys=1)
            except _client_errors() as error:
                code = _error_code(error)
                fix = (
                    f"Create the bucket or fix {path} in cdk.json."
                    if code == "NoSuchBucket"
                    else f"Allow s3:ListBucket on {list_bucket} for these credentials."
                )
                checks.append(Check(FAIL, label, f"{uri}: {code}", fix))
                continue
            if listed.get("KeyCount", len(listed.get("Contents", []))) == 0:
                checks.append(
                    Check(
                        FAIL,
                        label,
                        f"{uri}: no objects under this prefix",
                        f"Upload the model (`aws s3 sync ./model {uri}`), run the optimization "
                        f"that writes it, or fix {path} in cdk.json.",
                    )
                )
            else:
                checks.append(Check(PASS, label, f"{uri} has objects"))
    return checks


def check_images(settings: AppConfig, region: str | None) -> list[Check]:
    checks = []
    for endpoint in enabled_endpoints(settings):
        uri = endpoint.serving.image_uri
        if uri is None:  # a pinned Deep Learning Containers image: the stack picks the region's
            continue
        path = f"{endpoint_path(settings, endpoint)}.serving.image_uri"
        label = f"image {endpoint.key}"
        # The config accepts only ECR image URIs (with a region or `{region}`).
        found = region if "{region}" in uri else image_region(uri)
        if region and found != region:
            checks.append(
                Check(
                    FAIL,
                    label,
                    f"{uri} is in {found}, deploy region is {region}",
                    f"Use the image's {region} URI in {path} (same repository and tag, the "
                    "region's registry account), or remove it to let the stack resolve it.",
                )
            )
        else:
            checks.append(Check(PASS, label, f"in {found}"))
    return checks


def activate_command() -> str:
    return (
        "aws ce update-cost-allocation-tags-status --region us-east-1 "
        f"--cost-allocation-tags-status TagKey={cost_allocation.TAG_KEY},Status=Active"
    )


def check_cost_tag(session: Any) -> Check:
    """The cost allocation tag's status in Cost Explorer (an API of us-east-1)."""
    name = "cost tag"
    try:
        response = session.client("ce", region_name="us-east-1").list_cost_allocation_tags(
            TagKeys=[cost_allocation.TAG_KEY], Type="UserDefined"
        )
    except _client_errors() as error:
        return Check(
            WARN,
            name,
            f"cannot read cost allocation tags ({_error_code(error) or error})",
            "Allow ce:ListCostAllocationTags for these credentials, and enable Cost Explorer "
            "(Billing console) if it is not: the budget and `make spend` need it",
        )
    tags = {t["TagKey"]: t for t in response.get("CostAllocationTags", [])}
    tag = tags.get(cost_allocation.TAG_KEY)
    if tag is None:
        return Check(
            WARN,
            name,
            f"{cost_allocation.TAG_KEY} is not a cost allocation tag yet: AWS lists a tag up to "
            "24 hours after the first resource carrying it exists; until it is activated the "
            "budget counts $0",
            f"After the first deploy (and up to a day), run: {activate_command()}",
        )
    if tag.get("Status") != "Active":
        return Check(
            WARN,
            name,
            f"{cost_allocation.TAG_KEY} is {tag.get('Status')}: the budget counts $0",
            f"Activate it: {activate_command()}",
        )
    return Check(PASS, name, f"{cost_allocation.TAG_KEY} is an active cost allocation tag")


# Lambda keeps at least this much of the account's concurrency unreserved (Lambda Developer
# Guide, "Configuring reserved concurrency").
LAMBDA_UNRESERVED_MINIMUM = 100


def reserved_concurrency(stacks: list[StackTemplate]) -> int:
    return sum(
        int(function["Properties"].get("ReservedConcurrentExecutions", 0))
        for stack in stacks
        for _, function in stack.of_type("AWS::Lambda::Function")
    )


def check_lambda_concurrency(session: Any, stacks: list[StackTemplate]) -> Check:
    name = "lambda"
    reserved = reserved_concurrency(stacks)
    if not reserved:
        return Check(SKIP, name, "no reserved concurrency in the templates")
    try:
        limit = session.client("lambda").get_account_settings()["AccountLimit"]
    except _client_errors() as error:
        return Check(
            FAIL,
            name,
            f"cannot read the Lambda account settings ({_error_code(error) or error})",
            "Allow lambda:GetAccountSettings for these credentials",
        )
    total = int(limit["ConcurrentExecutions"])
    if total - reserved < LAMBDA_UNRESERVED_MINIMUM:
        return Check(
            FAIL,
            name,
            f"account concurrency {total}: reserving {reserved} would leave {total - reserved} "
            f"unreserved, below Lambda's minimum of {LAMBDA_UNRESERVED_MINIMUM}; the deploy "
            "would fail on the launcher",
            "Request a higher 'Concurrent executions' quota for AWS Lambda (Service Quotas) "
            "in this region before deploying",
        )
    return Check(PASS, name, f"account concurrency {total}, {reserved} reserved by the templates")


def run_checks(session: Any, settings: AppConfig, stacks: list[StackTemplate]) -> list[Check]:
    region = session.region_name
    identity, account = check_identity(session)
    checks = [identity, check_region(region, settings)]
    if account is None or not region:
        return [*checks, Check(SKIP, "AWS checks", "skipped: fix credentials and region first")]
    checks += check_bootstrap(session, account, region, stacks)
    if not enabled_endpoints(settings):
        checks.append(
            Check(SKIP, "endpoints", f"no enabled endpoints in {settings.env_name} config")
        )
    checks += check_quotas(session, settings, region)
    checks += check_artifacts(session, settings, region)
    checks += check_images(settings, region)
    checks.append(check_lambda_concurrency(session, stacks))
    checks.append(check_cost_tag(session))
    return checks


def render(checks: list[Check], settings: AppConfig) -> str:
    lines = [
        f"Preflight for {settings.project}-{settings.env_name}",
        render_table(["", "check", "detail"], [[c.status, c.name, c.detail] for c in checks]),
    ]
    failed = [c for c in checks if c.status == FAIL]
    warned = [c for c in checks if c.status == WARN]
    if failed:
        lines += ["", f"{len(failed)} check(s) failed. How to fix:"]
        lines += [f"  - {c.name}: {c.fix}" for c in failed]
    else:
        lines += ["", "All checks passed: ready to deploy."]
    if warned:
        lines += ["", "Warnings (the deploy can go ahead):"]
        lines += [f"  - {c.name}: {c.fix}" for c in warned]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m workbench preflight",
        description="Checks credentials, region, CDK bootstrap, endpoint quotas, model artifacts "
        "and image regions before a deploy. Exit 0: all passed; 1: a check failed; 2: bad usage.",
    )
    add_environment_arguments(parser)
    parser.add_argument("--assembly", type=Path, default=ROOT / "cdk.out", help="cdk.out folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, session: Any = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings(args.env)
        try:
            stacks = read_assembly(args.assembly)
        except OperatorError as error:
            print(f"note: {error}; the bootstrap version is not compared", file=sys.stderr)
            stacks = []
        session = session or aws_session(args, settings)
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    checks = run_checks(session, settings, stacks)
    print(render(checks, settings))
    return 1 if any(c.status == FAIL for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
