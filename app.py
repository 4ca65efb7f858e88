#!/usr/bin/env python3
"""Entry point: reads the config once, builds the application stage or the pipeline, adds the
policy checks.

- Default: the workstation variant, the WorkbenchStage of `-c env=NAME` (default dev).
- When `workbench.pipeline.enabled` is true, or with `-c pipeline=true`: the pipeline variant, the
  PipelineStack that deploys every configured environment's WorkbenchStage. `-c pipeline=false`
  forces the workstation variant (the Makefile's synth/diff/deploy/destroy do).
- `-c pipeline_example=true` replaces the `pipeline` section with the placeholder values of
  pipeline.example.json and clears the environments' own account/region, so that the placeholders
  are the only deploy targets (what `make synth-pipeline` shows without any AWS account).
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import aws_cdk as cdk

from features.shared.boto3_layer import MissingBuildError
from stacks.pipeline_stack import PipelineStack, pinned_cdk_cli_version, pinned_version
from stacks.policy_checks import add_policy_checks, format_findings, unacknowledged_findings
from stacks.workbench_stage import WorkbenchStage
from workbench_config import (
    CONTEXT_KEY,
    AppConfig,
    ConfigError,
    load_environments,
    select_environment,
)

ROOT = Path(__file__).resolve().parent
PIPELINE_EXAMPLE = ROOT / "pipeline.example.json"


def context_flag(app: cdk.App, name: str) -> bool | None:
    """A true/false switch given with `-c NAME=true|false` (None when absent)."""
    value = app.node.try_get_context(name)
    if value is None:
        return None
    if value is True or value == "true":
        return True
    if value is False or value == "false":
        return False
    raise ConfigError(f"{name} (-c {name}=true|false)", value, "allowed: true, false")


def cli_context(app: cdk.App, key: str) -> object:
    """A context value as cdk.json (or `-c`) wrote it.

    The CDK CLI hands the app its whole context as JSON (the environment variable
    CDK_CONTEXT_JSON, or a file named by CONTEXT_OVERFLOW_LOCATION_ENV when it is large), and
    the JavaScript bridge behind `try_get_context` drops every `null` member of an object: an
    environment's `"account": null` would then not replace the default. Read the JSON itself
    when the CLI gave it; an app built in-process (tests) has only the node's context.
    """
    text = os.environ.get("CDK_CONTEXT_JSON")
    overflow = os.environ.get("CONTEXT_OVERFLOW_LOCATION_ENV")
    if overflow:
        text = Path(overflow).read_text(encoding="utf-8")
    if text:
        try:
            context = json.loads(text)
        except json.JSONDecodeError:
            context = None
        if isinstance(context, dict) and key in context:
            return context[key]
    return app.node.try_get_context(key)


def project_context(app: cdk.App) -> object:
    """The `workbench` context value, with the command-line switches applied to a copy."""
    raw = copy.deepcopy(cli_context(app, CONTEXT_KEY))
    example, enabled = context_flag(app, "pipeline_example"), context_flag(app, "pipeline")
    if isinstance(raw, dict):
        if example:
            raw["pipeline"] = json.loads(PIPELINE_EXAMPLE.read_text())
            environments = raw.get("environments")
            for environment in environments.values() if isinstance(environments, dict) else []:
                if isinstance(environment, dict):
                    environment.update(account=None, region=None)
        if enabled is not None and isinstance(raw.setdefault("pipeline", {}), dict):
            raw["pipeline"]["enabled"] = enabled
    return raw


def build_app(app: cdk.App) -> WorkbenchStage | PipelineStack:
    configs = load_environments(project_context(app))
    config = select_environment(configs, app.node.try_get_context("env") or "dev")
    root = (
        build_pipeline(app, configs, config)
        if config.pipeline.enabled
        else build_stage(app, config)
    )
    add_policy_checks(app)
    return root


def build_stage(app: cdk.App, config: AppConfig) -> WorkbenchStage:
    # An unset account/region keeps the templates environment-agnostic: synth needs no credentials.
    env = cdk.Environment(account=config.account, region=config.region)
    return WorkbenchStage(app, config.stage_id, config=config, env=env)


def build_pipeline(app: cdk.App, configs: dict[str, AppConfig], config: AppConfig) -> PipelineStack:
    pipeline = config.pipeline
    return PipelineStack(
        app,
        f"{config.project}-pipeline",
        description="Model optimization workbench: CDK Pipelines deploying every environment",
        pipeline=pipeline,
        environments={stage.env: configs[stage.env] for stage in pipeline.stages},
        cli_version=pinned_cdk_cli_version(ROOT / "package.json"),
        boto3_version=pinned_version(ROOT / "requirements-dev.txt", "boto3"),
        env=cdk.Environment(account=pipeline.account, region=pipeline.region),
    )


def main() -> None:
    app = cdk.App()
    try:
        build_app(app)
    except (ConfigError, MissingBuildError) as error:
        sys.exit(f"error: {error}")
    assembly = app.synth()
    findings = unacknowledged_findings(assembly.directory)
    if findings:
        sys.exit(format_findings(findings))


if __name__ == "__main__":
    main()
