"""The project's config: read once from cdk.json context, parsed into typed, immutable objects.

Layout of the context key `workbench`:

    {"project": "genai-opt",
     "pipeline": {...},
     "defaults": {...},
     "environments": {"dev": {...}, "prod": {...}}}

`defaults` holds what every environment shares; each environment holds only what differs. The
loader lays an environment over the defaults (`merge_environment`), then validates the result, so
an error names the key where the bad value is written. Each merged section is parsed by
`parse_environment`; each of its subsections has a module
of its own here, as has the project-level `pipeline` section (pipeline.py). Constructs never see
this module: stacks pass them plain keyword arguments.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench_config.budget import BudgetConfig, parse_budget
from workbench_config.compare import CompareConfig, parse_compare
from workbench_config.endpoints import EndpointConfig, parse_endpoints
from workbench_config.optimization import OptimizationConfig, parse_optimization
from workbench_config.pipeline import PipelineConfig, check_environments, parse_pipeline
from workbench_config.reader import ConfigError, Reader
from workbench_config.storage import StorageConfig, parse_storage
from workbench_config.workspace import WorkspaceConfig, parse_workspace
from workbench_domain import api_limits, cost_allocation

CONTEXT_KEY = "workbench"

__all__ = [
    "CONTEXT_KEY",
    "AppConfig",
    "ConfigError",
    "load_config",
    "load_environments",
    "select_environment",
]


@dataclass(frozen=True)
class AppConfig:
    project: str
    env_name: str
    # None means "environment-agnostic": the account and region come from the deploying
    # credentials at deploy time, and synth needs none.
    account: str | None
    region: str | None
    # True keeps data when a stack is deleted (prod); False deletes buckets and their objects (dev).
    retain_data: bool
    # Project-level (the same object in every environment's config): deploy through CodePipeline.
    pipeline: PipelineConfig
    storage: StorageConfig
    workspace: WorkspaceConfig
    # Async LLM endpoints by key; each enabled one is a stack `Endpoint-<key>`.
    endpoints: Mapping[str, EndpointConfig]
    optimization: OptimizationConfig
    budget: BudgetConfig
    # What `make compare` measures variants against (operator-side only; no stack reads it).
    compare: CompareConfig
    # Every role the stacks create gets the customer-managed policy `boundary_policy_name` as
    # its permissions boundary (`make execution-policy` writes it, derived from the templates):
    # what a CloudFormation execution policy requires so that roles created through it cannot
    # be given more than this app's own permissions.
    permissions_boundary: bool = False

    @property
    def stage_id(self) -> str:
        return cost_allocation.stage_id(self.project, self.env_name)

    @property
    def boundary_policy_name(self) -> str:
        return f"{self.stage_id}-permissions-boundary"

    @property
    def parameter_prefix(self) -> str:
        """SSM path under which the stacks of this environment publish what they deployed."""
        return f"/{self.project}/{self.env_name}"


def parse_environment(
    section: Reader, *, project: str, env_name: str, pipeline: PipelineConfig
) -> AppConfig:
    removal = section.string("removal_policy", choices=("retain", "destroy"))
    return AppConfig(
        project=project,
        env_name=env_name,
        account=section.string(
            "account",
            None,
            pattern=r"\d{12}",
            describe="allowed: a 12-digit AWS account id or null",
        ),
        # A region botocore knows SageMaker in (its partitions' endpoint data), or null.
        region=section.string("region", None, choices=api_limits.sagemaker_regions()),
        retain_data=removal == "retain",
        pipeline=pipeline,
        storage=section.section("storage", parse_storage, optional=True),
        workspace=section.section("workspace", parse_workspace, optional=True),
        endpoints=(endpoints := section.section("endpoints", parse_endpoints, optional=True)),
        optimization=section.section("optimization", parse_optimization, optional=True),
        budget=section.section("budget", parse_budget, optional=True),
        compare=section.section(
            "compare", lambda s: parse_compare(s, endpoints=endpoints or {}), optional=True
        ),
        permissions_boundary=section.boolean("permissions_boundary", False),
    )


def parse_project(root: Reader) -> str:
    """The project name, the first part of every stack name and SSM path."""
    project: str = root.string(
        "project",
        pattern=r"[a-z][a-z0-9-]{1,18}[a-z0-9]",
        describe="allowed: 3-20 lower-case letters, digits and '-', starting with a letter",
    )
    return project


ENVIRONMENT_NAME_PATTERN = r"[a-z][a-z0-9]*(-[a-z0-9]+)*"
ENVIRONMENT_NAME_MAX = 16


# Replaced whole when an environment sets them, never merged key by key: a promoted model or
# serving block must not inherit stale keys (a draft model, an image tag) from the defaults.
WHOLE_VALUES = frozenset({"model", "serving"})


def merge_environment(defaults: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`defaults` with `override` laid over it: objects merge key by key, other values (lists,
    null, scalars) and `endpoints.<key>.model` / `.serving` are replaced."""

    def merge(base: Any, top: Any, path: tuple[str, ...]) -> Any:
        whole = len(path) == 3 and path[0] == "endpoints" and path[2] in WHOLE_VALUES
        if whole or not isinstance(base, Mapping) or not isinstance(top, Mapping):
            return copy.deepcopy(top)
        merged = copy.deepcopy(dict(base))
        for key, value in top.items():
            merged[key] = (
                merge(base[key], value, (*path, key)) if key in base else copy.deepcopy(value)
            )
        return merged

    return dict(merge(defaults, override, ()))


def _sets(document: Any, keys: list[str]) -> bool:
    """Whether `document` holds the value at `keys` (or an object or value that contains it)."""
    for key in keys:
        if not isinstance(document, Mapping) or key not in document:
            return False
        document = document[key]
    return True


def _parse_merged(
    defaults: Mapping[str, Any],
    override: Mapping[str, Any],
    *,
    path: str,
    defaults_path: str,
    parse: Callable[[Reader], AppConfig],
) -> AppConfig:
    """Parse an environment's overrides laid over the defaults; an error names the key where the
    bad value is written: the environment's, or the defaults' (for that environment)."""
    reader = Reader(merge_environment(defaults, override), path)
    try:
        config = parse(reader)
        reader.done()
    except ConfigError as error:
        rest = error.path[len(path) + 1 :] if error.path.startswith(f"{path}.") else ""
        keys = [re.sub(r"\[\d+\]$", "", key) for key in rest.split(".")] if rest else []
        if keys and not _sets(override, keys) and _sets(defaults, keys):
            raise ConfigError(
                f"{defaults_path}.{rest} (in environment {path.rsplit('.', 1)[-1]})",
                error.value,
                error.allowed,
            ) from error
        raise
    return config


def load_config(raw: object, env_name: object) -> AppConfig:
    """Parses the `workbench` context value for the environment `env_name` (`-c env=NAME`)."""
    return select_environment(load_environments(raw), env_name)


def select_environment(configs: dict[str, AppConfig], env_name: object) -> AppConfig:
    if not isinstance(env_name, str) or env_name not in configs:
        raise ConfigError("env (-c env=NAME)", env_name, f"allowed: {', '.join(configs)}")
    return configs[env_name]


def load_environments(raw: object) -> dict[str, AppConfig]:
    """Parses the `workbench` context value: every environment's config, by name."""
    if raw is None:
        raise ConfigError(CONTEXT_KEY, None, "cdk.json must define this context key")
    root = Reader(raw, CONTEXT_KEY)
    project = parse_project(root)
    environments = root.child("environments")
    # The name becomes part of stack names (`<project>-<env>-<Stack>`: letters, digits and '-'),
    # S3 bucket names (lower case) and SSM paths; CDK would refuse the stack name with a
    # JavaScript error only after parsing everything.
    environments.keys(
        pattern=ENVIRONMENT_NAME_PATTERN,
        max_length=ENVIRONMENT_NAME_MAX,
        describe=f"an environment name is 1-{ENVIRONMENT_NAME_MAX} lower-case letters, digits "
        "and single '-', starting with a letter (it names the stacks, buckets and SSM paths)",
    )
    pipeline = root.section(
        "pipeline",
        lambda s: parse_pipeline(s, environments=environments.keys()),
        optional=True,
    )
    # Every environment is parsed, not only the selected one: a typo in prod fails the dev synth
    # too, long before anyone deploys prod.
    defaults = root.raw_object("defaults", {})
    configs = {
        name: _parse_merged(
            defaults,
            environments.raw_object(name),
            path=environments.child_path(name),
            defaults_path=root.child_path("defaults"),
            parse=functools.partial(
                parse_environment, project=project, env_name=name, pipeline=pipeline
            ),
        )
        for name in environments.keys()  # noqa: SIM118 (Reader, not a dict)
    }
    environments.done()
    check_environments(
        pipeline,
        {name: (c.account, c.region) for name, c in configs.items()},
        path=root.child_path("pipeline"),
    )
    root.done()
    return configs
