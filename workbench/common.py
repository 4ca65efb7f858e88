"""What the operator commands (preflight, cost, smoke, diagram) share.

They depend only on three things, so they keep working while the stacks evolve:
- cdk.json, read through the project's own loader (`workbench_config.load_config`) into the typed,
  frozen `AppConfig` (endpoints included: `workbench_config.endpoints`);
- the synthesized templates in cdk.out (`read_assembly`, from assembly.py);
- the SSM deployment records the stacks publish (`/<project>/<env>/deployment/...`), at run time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from genai_workbench.common import WorkbenchError
from genai_workbench.deployment import Deployment

from workbench.assembly import OperatorError
from workbench_config import CONTEXT_KEY, AppConfig, ConfigError, load_config
from workbench_config.endpoints import EndpointConfig
from workbench_config.models import S3Location
from workbench_domain import uris
from workbench_domain.errors import ValidationError, aws_setup_problem

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------
# cdk.json
# ---------------------------------------------------------------------------------------------
def read_cdk_json(cdk_json: Path = ROOT / "cdk.json") -> dict[str, Any]:
    """The whole cdk.json document; one OperatorError line when it is missing or broken."""
    try:
        document = json.loads(cdk_json.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise OperatorError(f"{cdk_json} not found: run from the project folder") from error
    except (OSError, UnicodeDecodeError) as error:
        raise OperatorError(f"{cdk_json} cannot be read: {error}") from error
    except json.JSONDecodeError as error:
        raise OperatorError(
            f"{cdk_json} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); fix it, or restore it with git"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("context"), dict):
        raise OperatorError(f"{cdk_json}: not a CDK config with a 'context' object")
    return document


def read_context(cdk_json: Path = ROOT / "cdk.json") -> dict[str, Any]:
    context: dict[str, Any] = read_cdk_json(cdk_json)["context"]
    return context


def aws_problem(error: Exception) -> str | None:
    """One line for an AWS setup mistake, or None (the domain's rule, shared with the client)."""
    return aws_setup_problem(error)


# What an operator command reports as one line, not a traceback: its own refusals, the
# client's, and AWS's answers.
OPERATOR_ERRORS: tuple[type[Exception], ...] = (
    OperatorError,
    WorkbenchError,
    BotoCoreError,
    ClientError,
)


def positive_number(text: str) -> float:
    """An argparse type: a finite number above 0 (`nan` and `inf` parse as floats, and compare
    false with every bound, so a `<= 0` check alone lets them through)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text!r}")
    return value


def error_line(error: Exception) -> str:
    """`error: ...` for stderr; an AWS setup mistake in its one-line form."""
    return f"error: {aws_problem(error) or error}"


def deployed(
    settings: AppConfig,
    session: Any,
    services: Iterable[str] = (),
    *,
    endpoint: str | None = None,
) -> Deployment:
    """The environment's deployment, from the records its stacks publish (SSM), using
    `session`'s clients for `services`; with `endpoint`, refused unless it is deployed."""
    deployment = Deployment.from_parameters(
        f"{settings.parameter_prefix}/deployment/", ssm_client=session.client("ssm")
    )
    for service in services:
        deployment.use_client(service, session.client(service))
    if endpoint is not None and endpoint not in deployment.endpoints:
        have = ", ".join(sorted(deployment.endpoints)) or "none"
        raise OperatorError(f"--endpoint {endpoint}: not deployed (deployed: {have})")
    return deployment


def load_settings(env_name: str, context: dict[str, Any] | None = None) -> AppConfig:
    """The typed project config of `env_name`, parsed by the app's own loader."""
    context = read_context() if context is None else context
    try:
        return load_config(context.get(CONTEXT_KEY), env_name)
    except ConfigError as error:
        raise OperatorError(str(error)) from error


def read_environment(
    parser: argparse.ArgumentParser, env_name: str, cdk_json: Path = ROOT / "cdk.json"
) -> tuple[dict[str, Any], AppConfig]:
    """The whole cdk.json (for a command that rewrites it) and the typed config of `env_name`.

    A broken cdk.json is an OperatorError; an environment it lacks, or one that fails the
    loader, is a usage error of --env.
    """
    document = read_cdk_json(cdk_json)
    try:
        return document, load_settings(env_name, document["context"])
    except OperatorError as error:
        parser.error(f"--env {env_name}: {error}")


def enabled_endpoints(config: AppConfig) -> tuple[EndpointConfig, ...]:
    return tuple(e for e in config.endpoints.values() if e.enabled)


def endpoint_path(config: AppConfig, endpoint: EndpointConfig) -> str:
    """The config key path of an endpoint, as the config errors and fixes name it."""
    return f"{CONTEXT_KEY}.environments.{config.env_name}.endpoints.{endpoint.key}"


def model_locations(endpoint: EndpointConfig) -> tuple[tuple[str, S3Location], ...]:
    """(key path below the endpoint, location) of the model, of its speculative model, and of
    each fallback pool's own model."""
    located = [("model", endpoint.model.location)]
    if endpoint.speculative_model is not None:
        located.append(("serving.speculative_decoding.model", endpoint.speculative_model.location))
    for instance_type, pool in endpoint.pool_overrides.items():
        if pool.model is not None:
            located.append((f"pool_overrides['{instance_type}'].model", pool.model.location))
    return tuple(
        (f"{path}.{'s3_key_prefix' if location.key_prefix is not None else 's3_uri'}", location)
        for path, location in located
    )


def default_region(explicit: str | None, settings: AppConfig) -> str | None:
    """--region, else the region cdk.json pins, else AWS_REGION (boto3 itself reads only
    AWS_DEFAULT_REGION and the profile); None lets boto3 decide."""
    return explicit or settings.region or os.environ.get("AWS_REGION") or None


def add_environment_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
) -> None:
    """--env, --region and --profile: which environment, and the AWS session to check it with."""
    parser.add_argument("--env", default="dev", help="environment in cdk.json (default dev)")
    parser.add_argument("--region", help="AWS region (default: from the profile / AWS_REGION)")
    parser.add_argument("--profile", help="AWS named profile (default: the default chain)")


def aws_session(args: argparse.Namespace, settings: AppConfig) -> Any:
    """The boto3 session of --profile in the region `default_region` picks."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(
            profile_name=args.profile, region_name=default_region(args.region, settings)
        )
    except ProfileNotFound as error:
        raise OperatorError(str(error)) from error


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); OperatorError naming the URI otherwise."""
    try:
        location = uris.split_s3_uri(uri)
    except ValidationError as error:
        raise OperatorError(str(error)) from error
    return location.bucket, location.key


def image_region(uri: str) -> str | None:
    """`<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>:<tag>` -> region."""
    image = uris.parse_ecr_image(uri, region_placeholder=True)
    return None if image is None else image.region


# ---------------------------------------------------------------------------------------------
# Terminal output
# ---------------------------------------------------------------------------------------------
def render_table(
    headers: list[str], rows: list[list[str]], *, right: Collection[int] = frozenset()
) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(row) for row in rows)
    return "\n".join(out)
