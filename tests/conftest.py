"""Session fixtures: the app is synthesized once per environment and shared by every test."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import build_app
from stacks.workbench_stage import WorkbenchStage
from workbench_config import merge_environment

ROOT = Path(__file__).resolve().parent.parent


def cdk_context() -> dict:
    """The context of cdk.json (feature flags and the project config), as `cdk synth` sees it."""
    return json.loads((ROOT / "cdk.json").read_text())["context"]


@dataclass
class SynthesizedApp:
    app: cdk.App
    stage: WorkbenchStage
    assembly: cdk.cx_api.CloudAssembly

    def template(self, stack: cdk.Stack) -> Template:
        return self._templates.setdefault(stack.node.path, Template.from_stack(stack))

    @cached_property
    def _templates(self) -> dict[str, Template]:
        return {}


def synthesize(tmp_path_factory, context: dict, env_name: str) -> SynthesizedApp:
    outdir = tmp_path_factory.mktemp(f"cdk-{env_name}")
    # The workstation variant, whatever cdk.json says about the pipeline (tested on its own).
    app = cdk.App(
        context={**copy.deepcopy(context), "env": env_name, "pipeline": False}, outdir=str(outdir)
    )
    stage = build_app(app)
    return SynthesizedApp(app=app, stage=stage, assembly=app.synth())


@pytest.fixture(scope="session")
def dev(tmp_path_factory) -> SynthesizedApp:
    return synthesize(tmp_path_factory, cdk_context(), "dev")


@pytest.fixture(scope="session")
def prod(tmp_path_factory) -> SynthesizedApp:
    return synthesize(tmp_path_factory, cdk_context(), "prod")


@pytest.fixture(scope="session")
def realtime(tmp_path_factory) -> SynthesizedApp:
    """dev with the realtime `chat` endpoint enabled and the async endpoints disabled (they have
    the `dev` and `prod` fixtures): what a user gets after promoting a model to `chat`; its
    roles carry the permissions boundary, as for a deploy with the execution policy."""
    context = copy.deepcopy(cdk_context())
    dev = context["workbench"]["environments"]["dev"]
    endpoints = dev.setdefault("endpoints", {})
    # chat falls back to g6e when g5 has no capacity: instance pools. An L40S has twice an
    # A10G's memory, so a copy there takes two GPUs with tensor parallel degree 2 (its own model).
    endpoints.update(
        chat={
            "enabled": True,
            "fallback_instance_types": ["ml.g6e.12xlarge"],
            "pool_overrides": {"ml.g6e.12xlarge": {"accelerators": 2, "tensor_parallel_degree": 2}},
        },
        p4d={"enabled": False},
        inf2={"enabled": False},
    )
    # Also the variant whose roles carry the permissions boundary (make execution-policy).
    dev["permissions_boundary"] = True
    return synthesize(tmp_path_factory, context, "dev")


@pytest.fixture
def config_context() -> dict:
    """A fresh, mutable copy of the project config from cdk.json, for bad-config tests, with
    each environment spelled out in full (the defaults laid under it), so a test can change any
    key of one environment; the merge itself is tested in tests/unit/config/test_config.py."""
    return expanded_workbench(cdk_context()["workbench"])


def expanded_workbench(workbench: dict) -> dict:
    """`workbench` with `defaults` merged into every environment (which the loader accepts)."""
    expanded = copy.deepcopy(workbench)
    defaults = expanded.pop("defaults", {})
    expanded["environments"] = {
        name: merge_environment(defaults, env) for name, env in expanded["environments"].items()
    }
    return expanded
