"""The `pipeline` section (project-level): deploy through CodePipeline (CDK Pipelines).

    "pipeline": {
      "enabled": true,
      "repository": "owner/repo",
      "branch": "main",
      "connection_arn": "arn:aws:codeconnections:us-east-1:111111111111:connection/ID",
      "account": "111111111111",
      "region": "us-east-1",
      "stages": [
        {"env": "dev",  "account": "222222222222", "region": "us-east-1", "approval": false},
        {"env": "prod", "account": "333333333333", "region": "us-east-1", "approval": true}
      ]
    }

`account`/`region` at the top are where the pipeline itself runs (the tooling account). Stages
deploy in the listed order; each names a defined environment and the account and region the
pipeline deploys it to (the pipeline's own region: one pipeline per region). `approval` puts a
manual approval in front of the stage; it defaults to true, so a stage deploys without a human
only when the config says so.

Reconciling with the environments' own `account`/`region` (see `check_environments`): the pipeline
stage's values are the ones the pipeline deploys to. An environment that also sets them must set
the same values (one environment name never means two accounts); an environment that leaves them
null keeps its workstation deploys environment-agnostic, and the pipeline uses the stage's values.

When `enabled` is false the section is still checked (a typo fails every synth), but nothing in it
is required.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from workbench_config.reader import ConfigError, Reader

ACCOUNT_PATTERN = r"\d{12}"
REGION_PATTERN = r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d"
# "owner/repo" (GitHub, Bitbucket) or "group/subgroup/.../repo" (GitLab), as
# `CodePipelineSource.connection` accepts it.
REPOSITORY_PATTERN = r"[\w.-]+(/[\w.-]+){1,22}"
BRANCH_PATTERN = r"[\w.-]+(/[\w.-]+)*"
# CodeConnections ARNs, and the older CodeStar Connections form that existing connections keep.
CONNECTION_ARN_PATTERN = (
    r"arn:aws(-[a-z]+)*:(codeconnections|codestar-connections):"
    + REGION_PATTERN
    + r":\d{12}:connection/[\w-]+"
)

_ACCOUNT_HELP = "allowed: a 12-digit AWS account id"
_REGION_HELP = "allowed: an AWS region name such as us-east-1"
_REQUIRED = "required when the pipeline is enabled (pipeline.enabled or -c pipeline=true)"


@dataclass(frozen=True)
class PipelineStageConfig:
    env: str
    account: str
    region: str
    # A ManualApprovalStep before this stage's stacks deploy.
    approval: bool


@dataclass(frozen=True)
class PipelineConfig:
    enabled: bool
    repository: str | None
    branch: str
    connection_arn: str | None
    # Where the pipeline itself (CodePipeline, CodeBuild, artifacts) runs.
    account: str | None
    region: str | None
    # In deployment order.
    stages: tuple[PipelineStageConfig, ...]


def _stage(section: Reader, environments: Collection[str]) -> PipelineStageConfig:
    stage = PipelineStageConfig(
        env=section.string("env", choices=environments),
        account=section.string("account", pattern=ACCOUNT_PATTERN, describe=_ACCOUNT_HELP),
        region=section.string("region", pattern=REGION_PATTERN, describe=_REGION_HELP),
        approval=section.boolean("approval", True),
    )
    section.done()
    return stage


def parse_pipeline(section: Reader, *, environments: Collection[str]) -> PipelineConfig:
    """Parses `workbench.pipeline`; `environments` are the names defined under `environments`."""
    enabled = section.boolean("enabled", False)
    values = {
        "repository": section.string(
            "repository",
            None,
            pattern=REPOSITORY_PATTERN,
            describe="allowed: 'owner/repo' of the source repository, as the connection sees it",
        ),
        "connection_arn": section.string(
            "connection_arn",
            None,
            pattern=CONNECTION_ARN_PATTERN,
            describe="allowed: a CodeConnections connection ARN, "
            "arn:aws:codeconnections:REGION:ACCOUNT:connection/ID "
            "(or the older arn:aws:codestar-connections:... form)",
        ),
        "account": section.string("account", None, pattern=ACCOUNT_PATTERN, describe=_ACCOUNT_HELP),
        "region": section.string("region", None, pattern=REGION_PATTERN, describe=_REGION_HELP),
    }
    branch = section.string(
        "branch", "main", pattern=BRANCH_PATTERN, describe="allowed: a git branch name"
    )
    stages = tuple(_stage(s, environments) for s in section.objects("stages", []))

    seen: dict[str, int] = {}
    for index, stage in enumerate(stages):
        if values["region"] is not None and stage.region != values["region"]:
            # A stage in another region makes CodePipeline add a support stack with a
            # replication bucket (no access logs, no versioning) and grant the pipeline role
            # KMS actions on '*'. Not worth it for a workbench: one pipeline per region.
            raise ConfigError(
                section.child_path(f"stages[{index}].region"),
                stage.region,
                f"allowed: {values['region']} (the pipeline's region); cross-region stages are "
                "not supported, run one pipeline per region",
            )
        if stage.env in seen:
            raise ConfigError(
                section.child_path(f"stages[{index}].env"),
                stage.env,
                f"each environment deploys once; stages[{seen[stage.env]}] already deploys it",
            )
        seen[stage.env] = index
    if enabled:
        for key, value in values.items():
            if value is None:
                raise ConfigError(section.child_path(key), None, _REQUIRED)
        if not stages:
            raise ConfigError(
                section.child_path("stages"),
                [],
                f"{_REQUIRED}: at least one {{env, account, region, approval}}",
            )
    return PipelineConfig(enabled=enabled, branch=branch, stages=stages, **values)


def check_environments(
    pipeline: PipelineConfig,
    environments: Mapping[str, tuple[str | None, str | None]],
    *,
    path: str,
) -> None:
    """Refuses a stage whose account or region differs from its environment's, when that is set.

    `environments` maps each environment name to its own (account, region); `path` is the key
    path of the pipeline section, for the error.
    """
    for index, stage in enumerate(pipeline.stages):
        account, region = environments[stage.env]
        for key, own, staged in (
            ("account", account, stage.account),
            ("region", region, stage.region),
        ):
            if own is not None and own != staged:
                raise ConfigError(
                    f"{path}.stages[{index}].{key}",
                    staged,
                    f"workbench.environments.{stage.env}.{key} is {own!r}: set both to the same "
                    f"value, or set the environment's to null (the pipeline's value is then used)",
                )
