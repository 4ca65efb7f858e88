"""The project-level `pipeline` section: parsing, requirements when enabled, clear errors."""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import ROOT
from workbench_config import ConfigError, load_config
from workbench_config.pipeline import PipelineStageConfig

EXAMPLE = json.loads((ROOT / "pipeline.example.json").read_text())
PIPELINE = "workbench.pipeline"

# No test depends on cdk.json's own pipeline section or accounts: a team that configures them
# runs these same tests in its pipeline's synth step.


@pytest.fixture
def with_pipeline(config_context) -> dict:
    """The cdk.json config with the placeholder pipeline of pipeline.example.json, and the
    environments' own account/region cleared (a team's real ones would not match it)."""
    config_context["pipeline"] = copy.deepcopy(EXAMPLE)
    for environment in config_context["environments"].values():
        environment.update(account=None, region=None)
    return config_context


def test_disabled_section_takes_defaults_and_needs_nothing(config_context):
    config_context["pipeline"] = {"enabled": False}
    pipeline = load_config(config_context, "dev").pipeline
    assert (pipeline.enabled, pipeline.repository, pipeline.connection_arn) == (False, None, None)
    assert (pipeline.branch, pipeline.stages) == ("main", ())


def test_absent_section_means_disabled(config_context):
    del config_context["pipeline"]
    assert load_config(config_context, "dev").pipeline.enabled is False


def test_example_parses_into_ordered_stages(with_pipeline):
    pipeline = load_config(with_pipeline, "dev").pipeline
    assert pipeline.enabled is True
    assert pipeline.repository == "example-org/genai-model-optimization"
    assert (pipeline.account, pipeline.region) == ("111111111111", "us-east-1")
    assert pipeline.stages == (
        PipelineStageConfig("dev", "222222222222", "us-east-1", approval=False),
        PipelineStageConfig("prod", "333333333333", "us-east-1", approval=True),
    )
    # Project-level: every environment's config carries the same pipeline.
    assert load_config(with_pipeline, "prod").pipeline == pipeline


def test_approval_defaults_to_true(with_pipeline):
    del with_pipeline["pipeline"]["stages"][0]["approval"]
    assert load_config(with_pipeline, "dev").pipeline.stages[0].approval is True


def test_older_codestar_connections_arn_is_accepted(with_pipeline):
    arn = "arn:aws:codestar-connections:eu-west-1:111111111111:connection/aEXAMPLE-8aad-4d5d"
    with_pipeline["pipeline"]["connection_arn"] = arn
    assert load_config(with_pipeline, "dev").pipeline.connection_arn == arn


def test_gitlab_subgroup_repository_is_accepted(with_pipeline):
    with_pipeline["pipeline"]["repository"] = "group/subgroup/repo.name"
    assert load_config(with_pipeline, "dev").pipeline.repository == "group/subgroup/repo.name"


def test_environment_account_and_region_agreeing_with_the_stage_are_accepted(with_pipeline):
    with_pipeline["environments"]["prod"].update(account="333333333333", region="us-east-1")
    config = load_config(with_pipeline, "prod")
    assert (config.account, config.region) == ("333333333333", "us-east-1")


def test_null_environment_account_stays_null_for_workstation_deploys(with_pipeline):
    # The pipeline deploys to the stage's account; workstation deploys stay env-agnostic.
    assert load_config(with_pipeline, "dev").account is None


def pipeline(ctx: dict) -> dict:
    return ctx["pipeline"]


def stage(ctx: dict, index: int) -> dict:
    return ctx["pipeline"]["stages"][index]


# (test id, mutation of the config with the example pipeline, expected key path, expected words)
BAD_PIPELINES = [
    (
        "bad-connection-arn-service",
        lambda c: pipeline(c).update(
            connection_arn="arn:aws:codecommit:us-east-1:111111111111:connection/abc"
        ),
        f"{PIPELINE}.connection_arn",
        "arn:aws:codeconnections:REGION:ACCOUNT:connection/ID",
    ),
    (
        "connection-arn-without-connection-id",
        lambda c: pipeline(c).update(
            connection_arn="arn:aws:codeconnections:us-east-1:111111111111:host/abc"
        ),
        f"{PIPELINE}.connection_arn",
        "codestar-connections",
    ),
    (
        "repository-without-owner",
        lambda c: pipeline(c).update(repository="genai-model-optimization"),
        f"{PIPELINE}.repository",
        "'owner/repo'",
    ),
    (
        "enabled-without-connection",
        lambda c: pipeline(c).pop("connection_arn"),
        f"{PIPELINE}.connection_arn",
        "required when the pipeline is enabled",
    ),
    (
        "enabled-without-pipeline-account",
        lambda c: pipeline(c).update(account=None),
        f"{PIPELINE}.account",
        "required when the pipeline is enabled",
    ),
    (
        "enabled-without-stages",
        lambda c: pipeline(c).update(stages=[]),
        f"{PIPELINE}.stages",
        "at least one",
    ),
    (
        "stage-of-unknown-environment",
        lambda c: stage(c, 1).update(env="production"),
        f"{PIPELINE}.stages[1].env",
        "allowed: dev, prod",
    ),
    (
        "stage-without-account",
        lambda c: stage(c, 0).pop("account"),
        f"{PIPELINE}.stages[0].account",
        "required",
    ),
    (
        "stage-account-not-12-digits",
        lambda c: stage(c, 1).update(account="33333333333"),
        f"{PIPELINE}.stages[1].account",
        "12-digit",
    ),
    (
        "stage-without-region",
        lambda c: stage(c, 1).pop("region"),
        f"{PIPELINE}.stages[1].region",
        "required",
    ),
    (
        "stage-in-another-region",
        lambda c: stage(c, 1).update(region="eu-west-1"),
        f"{PIPELINE}.stages[1].region",
        "one pipeline per region",
    ),
    (
        "stage-approval-not-boolean",
        lambda c: stage(c, 1).update(approval="yes"),
        f"{PIPELINE}.stages[1].approval",
        "expected true or false",
    ),
    (
        "environment-deployed-twice",
        lambda c: stage(c, 1).update(env="dev"),
        f"{PIPELINE}.stages[1].env",
        "stages[0] already deploys it",
    ),
    (
        "stage-typo-key",
        lambda c: stage(c, 0).update(aproval=True),
        f"{PIPELINE}.stages[0].aproval",
        "unknown key",
    ),
    (
        "stages-not-a-list",
        lambda c: pipeline(c).update(stages={"env": "dev"}),
        f"{PIPELINE}.stages",
        "expected a list of objects",
    ),
    (
        "stage-not-an-object",
        lambda c: pipeline(c).update(stages=["dev"]),
        f"{PIPELINE}.stages[0]",
        "expected an object, not a string",
    ),
    (
        "environment-account-disagrees-with-stage",
        lambda c: c["environments"]["prod"].update(account="444444444444"),
        f"{PIPELINE}.stages[1].account",
        "workbench.environments.prod.account is '444444444444'",
    ),
    (
        "environment-region-disagrees-with-stage",
        lambda c: c["environments"]["dev"].update(region="eu-west-1"),
        f"{PIPELINE}.stages[0].region",
        "or set the environment's to null",
    ),
    (
        "disabled-section-is-still-checked",
        lambda c: pipeline(c).update(enabled=False, branch="feature branch"),
        f"{PIPELINE}.branch",
        "git branch name",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [case[1:] for case in BAD_PIPELINES],
    ids=[case[0] for case in BAD_PIPELINES],
)
def test_bad_pipeline_config_is_refused_with_path_value_and_allowed(
    with_pipeline, mutate, path, words
):
    mutate(with_pipeline)
    with pytest.raises(ConfigError) as error:
        load_config(with_pipeline, "dev")
    assert error.value.path == path
    assert str(error.value).startswith(f"config {path}: got ")
    assert words in str(error.value)
