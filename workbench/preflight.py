#!/usr/bin/env python3
"""Checks an account before deploying ENV, so a 40-minute endpoint deploy does not die at the end.

Checks, for the environment's config in cdk.json and the templates in cdk.out:
  credentials   STS GetCallerIdentity works
  region        a region is set, and it is the one cdk.json pins (if any)
  bootstrap     the CDKToolkit stack exists and its version (SSM /cdk-bootstrap/<qualifier>/version)
                is at least what the templates' CheckBootstrapVersion rule requires
  quota         Service Quotas "<instance type> for endpoint usage" >= each enabled endpoint's
                max capacity, for each of its pools (a fallback's shortfall warns); for a
                neuron_vllm endpoint, "ml.trn1.32xlarge for training job usage" >= 1 (its
                export: a warning)
  artifacts     every S3 location of each endpoint (model, speculative model, a pool's own
                model) has objects
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
from pathlib import Path
from typing import Any

from workbench.account_checks import (
    FAIL,
    PASS,
    SKIP,
    WARN,
    Check,
    check_bootstrap,
    check_cost_tag,
    check_identity,
    check_lambda_concurrency,
    check_quotas,
    check_region,
    client_errors,
    error_code,
)
from workbench.assembly import (
    OperatorError,
    StackTemplate,
    read_assembly,
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
from workbench_config.models import S3Location
from workbench_domain import deployment_records as records


def artifacts_bucket(session: Any, settings: AppConfig) -> str | None:
    """The project's artifacts bucket, from the Storage stack's record (None if not deployed)."""
    name = records.parameter_name(settings.parameter_prefix, records.STORAGE)
    unreadable: tuple[type[Exception], ...] = (*client_errors(), ValueError)
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
            except client_errors() as error:
                code = error_code(error)
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
