#!/usr/bin/env python3
"""Entry point: reads the config once, builds the application stage, adds the policy checks."""

from __future__ import annotations

import sys

import aws_cdk as cdk

from stacks.config import CONTEXT_KEY, ConfigError, load_config
from stacks.policy_checks import add_policy_checks, format_findings, unacknowledged_findings
from stacks.workbench_stage import WorkbenchStage


def build_app(app: cdk.App) -> WorkbenchStage:
    config = load_config(
        app.node.try_get_context(CONTEXT_KEY), app.node.try_get_context("env") or "dev"
    )
    # An unset account/region keeps the templates environment-agnostic: synth needs no credentials.
    env = cdk.Environment(account=config.account, region=config.region)
    stage = WorkbenchStage(app, config.stage_id, config=config, env=env)
    add_policy_checks(app)
    return stage


def main() -> None:
    app = cdk.App()
    try:
        build_app(app)
    except ConfigError as error:
        sys.exit(f"error: {error}")
    assembly = app.synth()
    findings = unacknowledged_findings(assembly.directory)
    if findings:
        sys.exit(format_findings(findings))


if __name__ == "__main__":
    main()
