"""The pipeline variant: CDK Pipelines deploying dev, then prod after approval.

Synthesized once for this module, through `app.build_app`, from cdk.json with the placeholder
pipeline of pipeline.example.json (what `make synth-pipeline` shows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from app import build_app, project_context
from stacks import pipeline_stack
from stacks.pipeline_stack import PipelineStack, pinned_cdk_cli_version
from stacks.policy_checks import acknowledged_findings, unacknowledged_findings
from stacks.workbench_stage import WorkbenchStage
from tests.conftest import ROOT, cdk_context
from tests.unit.stacks.creation_order import assembly_problems
from tests.unit.stacks.logical_ids import BASELINE, assembly_ids, lost_ids
from tools import cfn_lint
from workbench_config import CONTEXT_KEY, ConfigError, load_config

EXAMPLE = json.loads((ROOT / "pipeline.example.json").read_text())
STAGE_ACCOUNTS = {"genai-opt-dev": "222222222222", "genai-opt-prod": "333333333333"}


class StageWithEndpoint(WorkbenchStage):
    """The real stage, plus one stand-in endpoint stack while the stage has none of its own, so
    the endpoint ordering and the endpoint check are exercised; a no-op once it has some."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.endpoint_stacks:
            standin = cdk.Stack(self, "Endpoint-standin")
            cdk.CfnWaitConditionHandle(standin, "Placeholder")
            cdk.CfnOutput(standin, "EndpointName", value="standin-endpoint")
            self.endpoints = {"standin": standin}


@dataclass
class SynthesizedPipeline:
    stack: PipelineStack
    assembly: cdk.cx_api.CloudAssembly
    template: Template

    def resource(self, construct) -> dict:
        logical_id = self.stack.resolve(construct.node.default_child.logical_id)
        return self.template.to_json()["Resources"][logical_id]

    @property
    def stages(self) -> list[dict]:
        return self.resource(self.stack.pipeline.pipeline)["Properties"]["Stages"]

    def stage(self, name: str) -> dict:
        return next(stage for stage in self.stages if stage["Name"] == name)

    def project(self, logical_ref: dict) -> dict:
        return self.template.to_json()["Resources"][logical_ref["Ref"]]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> SynthesizedPipeline:
    context = {
        **cdk_context(),
        "pipeline": "true",
        "pipeline_example": "true",
        # As the CDK CLI sets it: cfn-lint recognizes CDK templates by their path metadata.
        "aws:cdk:enable-path-metadata": True,
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline_stack, "WorkbenchStage", StageWithEndpoint)
        app = cdk.App(context=context, outdir=str(tmp_path_factory.mktemp("cdk-pipeline")))
        stack = build_app(app)
        assembly = app.synth()
    assert isinstance(stack, PipelineStack)
    return SynthesizedPipeline(stack, assembly, Template.from_stack(stack))


def actions(stage: dict) -> dict[str, dict]:
    return {action["Name"]: action for action in stage["Actions"]}


def buildspec(project: dict) -> dict:
    return json.loads(project["Properties"]["Source"]["BuildSpec"])


# --- app.py: which variant ---------------------------------------------------------------------


def test_pipeline_and_its_stages_keep_every_logical_id(synthesized):
    recorded = json.loads(BASELINE.read_text())["pipeline"]
    assert lost_ids(recorded, assembly_ids(Path(synthesized.assembly.directory))) == []


def test_pipeline_variant_has_only_the_pipeline_stack_at_top_level(synthesized):
    top_level = [s.stack_name for s in synthesized.assembly.stacks]
    assert top_level == ["genai-opt-pipeline"]
    assert synthesized.stack.environment == "aws://111111111111/us-east-1"


def context_with_pipeline(section: dict, **switches) -> dict:
    # Never cdk.json's own pipeline section or accounts: a team that configures them runs these
    # tests in its pipeline too.
    context = cdk_context()
    context[CONTEXT_KEY]["pipeline"] = section
    for environment in context[CONTEXT_KEY]["environments"].values():
        environment.update(account=None, region=None)
    return {**context, **switches}


def test_workstation_variant_is_the_default(tmp_path):
    context = context_with_pipeline({"enabled": False}, env="dev")
    assert type(build_app(cdk.App(context=context, outdir=str(tmp_path)))) is WorkbenchStage


def test_pipeline_false_builds_the_workstation_variant_even_when_enabled(tmp_path):
    context = context_with_pipeline(EXAMPLE, pipeline="false")
    assert type(build_app(cdk.App(context=context, outdir=str(tmp_path)))) is WorkbenchStage


def test_pipeline_switch_requires_a_complete_pipeline_config(tmp_path):
    app = cdk.App(context=context_with_pipeline({}, pipeline="true"), outdir=str(tmp_path))
    with pytest.raises(ConfigError, match=r"workbench\.pipeline\.repository: got None; required"):
        build_app(app)


def test_example_placeholders_replace_the_environments_own_accounts():
    context = cdk_context()
    context[CONTEXT_KEY]["environments"]["prod"].update(account="987654321098", region="eu-west-1")
    app = cdk.App(context={**context, "pipeline_example": "true"})
    config = load_config(project_context(app), "prod")
    assert (config.account, config.region) == (None, None)
    assert config.pipeline.stages[1].account == EXAMPLE["stages"][1]["account"]


def test_pipeline_switch_accepts_only_true_or_false(tmp_path):
    app = cdk.App(context=context_with_pipeline(EXAMPLE, pipeline="yes"), outdir=str(tmp_path))
    with pytest.raises(ConfigError, match=r"pipeline \(-c pipeline=true\|false\): got 'yes'"):
        build_app(app)


# --- source and synth ----------------------------------------------------------------------------


def test_source_is_the_codeconnections_repository_and_branch(synthesized):
    [source] = synthesized.stage("Source")["Actions"]
    assert source["ActionTypeId"] == {
        "Category": "Source",
        "Owner": "AWS",
        "Provider": "CodeStarSourceConnection",
        "Version": "1",
    }
    assert source["Configuration"] == {
        "ConnectionArn": EXAMPLE["connection_arn"],
        "FullRepositoryId": EXAMPLE["repository"],
        "BranchName": EXAMPLE["branch"],
    }


def test_synth_runs_the_readme_commands_and_outputs_the_cloud_assembly(synthesized):
    project = synthesized.resource(synthesized.stack.pipeline.synth_project)
    spec = buildspec(project)
    assert spec["phases"]["build"]["commands"] == [
        "make test",
        "make synth-pipeline PIPELINE_EXAMPLE=false",
    ]
    assert spec["artifacts"]["base-directory"] == "cdk.out"
    # The runtimes the README needs (Python >= 3.11, Node >= 22: no Node download from PyPI)
    # on the image chosen for them.
    runtimes = spec["phases"]["install"]["runtime-versions"]
    assert tuple(map(int, runtimes["python"].split("."))) >= (3, 11)
    assert int(runtimes["nodejs"]) >= 22
    environment = project["Properties"]["Environment"]
    assert environment["Image"] == pipeline_stack.BUILD_IMAGE.image_id
    # `make test` runs pytest on two workers and synthesizes: more than SMALL's 3 GB and 2 vCPUs.
    assert environment["ComputeType"] != "BUILD_GENERAL1_SMALL"
    assert environment["PrivilegedMode"] is False  # no Docker at synth


def test_every_make_target_the_pipeline_runs_exists():
    makefile = (ROOT / "Makefile").read_text()
    for command in pipeline_stack.SYNTH_COMMANDS:
        assert f"\n{command.split()[1]}:" in makefile, command


def test_self_mutation_uses_the_cdk_cli_pinned_in_package_json(synthesized):
    pinned = pinned_cdk_cli_version(ROOT / "package.json")
    spec = buildspec(synthesized.resource(synthesized.stack.pipeline.self_mutation_project))
    assert spec["phases"]["install"]["commands"] == [f"npm install -g aws-cdk@{pinned}"]


# --- stages --------------------------------------------------------------------------------------


def test_stages_run_source_build_selfupdate_assets_then_dev_before_prod(synthesized):
    assert [stage["Name"] for stage in synthesized.stages] == [
        "Source",
        "Build",
        "UpdatePipeline",
        "Assets",
        "genai-opt-dev",
        "genai-opt-prod",
    ]


def test_prod_waits_for_a_manual_approval_and_dev_does_not(synthesized):
    prod = synthesized.stage("genai-opt-prod")["Actions"]
    approval = prod[0]
    assert approval["ActionTypeId"]["Provider"] == "Manual"
    assert approval["RunOrder"] == 1
    assert all(action["RunOrder"] > 1 for action in prod[1:])
    assert approval["Configuration"]["CustomData"] == (
        "Deploy genai-opt-prod to account 333333333333 (us-east-1)?"
    )
    dev = synthesized.stage("genai-opt-dev")["Actions"]
    assert all(action["ActionTypeId"]["Provider"] != "Manual" for action in dev)


@pytest.mark.parametrize("stage_name", ["genai-opt-dev", "genai-opt-prod"])
def test_each_stage_deploys_into_its_account_with_the_workstation_stack_names(
    synthesized, stage_name
):
    account = STAGE_ACCOUNTS[stage_name]
    deploys = [a for a in synthesized.stage(stage_name)["Actions"] if a["Name"].endswith(".Deploy")]
    stage = synthesized.stack.stages[stage_name.rsplit("-", 1)[1]]
    assert {a["Configuration"]["StackName"] for a in deploys} == {
        s.stack_name for s in [*stage.fast_stacks, *stage.endpoint_stacks]
    }
    # `<project>-<env>-<id>`, as from a workstation: the pipeline takes over those stacks.
    assert f"{stage_name}-Storage" in {a["Configuration"]["StackName"] for a in deploys}
    for action in deploys:
        role = json.dumps(action["RoleArn"])
        assert f":iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-us-east-1" in role


@pytest.mark.parametrize("stage_name", ["genai-opt-dev", "genai-opt-prod"])
def test_endpoint_stacks_deploy_after_every_fast_stack(synthesized, stage_name):
    stage = synthesized.stack.stages[stage_name.rsplit("-", 1)[1]]
    by_name = actions(synthesized.stage(stage_name))
    prefix = {s.node.id for s in stage.endpoint_stacks}
    endpoint_orders = [a["RunOrder"] for n, a in by_name.items() if n.split(".")[0] in prefix]
    fast_orders = [
        a["RunOrder"]
        for n, a in by_name.items()
        if n.endswith((".Prepare", ".Deploy")) and n.split(".")[0] not in prefix
    ]
    assert endpoint_orders and fast_orders
    assert min(endpoint_orders) > max(fast_orders)
    # And the endpoints do not wait for each other.
    deploy_orders = {a["RunOrder"] for n, a in by_name.items() if n.split(".")[0] in prefix}
    assert len(deploy_orders) == 2  # one Prepare order, one Deploy order for all endpoints


# --- post-deploy check ---------------------------------------------------------------------------


@pytest.mark.parametrize("stage_name", ["genai-opt-dev", "genai-opt-prod"])
def test_post_deploy_check_runs_last_on_every_stack_and_endpoint(synthesized, stage_name):
    account = STAGE_ACCOUNTS[stage_name]
    stage = synthesized.stack.stages[stage_name.rsplit("-", 1)[1]]
    stage_actions = synthesized.stage(stage_name)["Actions"]
    check = stage_actions[-1]
    assert check["Name"] == "CheckDeployment"
    assert check["ActionTypeId"]["Provider"] == "CodeBuild"
    assert check["RunOrder"] > max(a["RunOrder"] for a in stage_actions[:-1])

    # The endpoint names come from the endpoint stacks' outputs, as pipeline variables.
    variables = json.loads(check["Configuration"]["EnvironmentVariables"])
    assert [v["name"] for v in variables] == [
        f"ENDPOINT_NAME_{i}" for i in range(1, len(stage.endpoint_stacks) + 1)
    ]
    assert all(v["value"].endswith(".EndpointName}") for v in variables)

    project = synthesized.project(check["Configuration"]["ProjectName"])
    spec = buildspec(project)
    assert spec["phases"]["install"]["commands"] == ["python3 -m pip install --quiet boto3==1.44.5"]
    stacks = " ".join(
        f"--stack {s.stack_name}" for s in [*stage.fast_stacks, *stage.endpoint_stacks]
    )
    endpoints = " ".join(f'--endpoint "${v["name"]}"' for v in variables)
    assert spec["phases"]["build"]["commands"] == [
        f'python3 -m tools.post_deploy_check --role-arn "$CHECK_ROLE_ARN" '
        f"--region us-east-1 {stacks} {endpoints}"
    ]
    lookup_role = f"arn:aws:iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-us-east-1"
    assert project["Properties"]["Environment"]["EnvironmentVariables"] == [
        {"Name": "CHECK_ROLE_ARN", "Type": "PLAINTEXT", "Value": lookup_role}
    ]
    synthesized.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [{"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": lookup_role}]
                )
            }
        },
    )


def test_post_deploy_check_is_the_module_the_pipeline_runs():
    module = ROOT / (pipeline_stack.POST_DEPLOY_CHECK.replace(".", "/") + ".py")
    assert module.is_file()


# --- encryption and cross-account ----------------------------------------------------------------


def test_artifacts_are_encrypted_with_a_rotated_customer_managed_key(synthesized):
    store = synthesized.resource(synthesized.stack.pipeline.pipeline)["Properties"]["ArtifactStore"]
    assert store["Type"] == "S3"
    assert store["EncryptionKey"] == {"Id": key_arn(synthesized), "Type": "KMS"}
    key = synthesized.resource(synthesized.stack.artifacts_key)
    assert key["Properties"]["EnableKeyRotation"] is True
    bucket = synthesized.resource(synthesized.stack.artifacts_bucket)
    [rule] = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "KMSMasterKeyID": key_arn(synthesized),
        "SSEAlgorithm": "aws:kms",
    }
    assert "LoggingConfiguration" in bucket["Properties"]


def test_cross_account_keys_let_each_target_account_deploy_role_decrypt(synthesized):
    key = synthesized.resource(synthesized.stack.artifacts_key)
    statements = json.dumps(key["Properties"]["KeyPolicy"])
    for account in STAGE_ACCOUNTS.values():
        assert f":iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-us-east-1" in statements
    # Every CodeBuild project (synth, self-mutation, assets, checks) encrypts with it too.
    for project in synthesized.template.find_resources("AWS::CodeBuild::Project").values():
        assert project["Properties"]["EncryptionKey"] == key_arn(synthesized)


def key_arn(synthesized) -> dict:
    key = synthesized.stack.artifacts_key.node.default_child
    return {"Fn::GetAtt": [synthesized.stack.resolve(key.logical_id), "Arn"]}


# --- policy gates --------------------------------------------------------------------------------


def test_pipeline_variant_has_no_unacknowledged_findings(synthesized):
    assert unacknowledged_findings(synthesized.assembly.directory) == []


def test_pipeline_acknowledgments_sit_on_cdk_pipelines_constructs_with_reasons(synthesized):
    acknowledged = acknowledged_findings(synthesized.assembly.directory)
    stack_path = f"/{synthesized.stack.node.path}/"
    stage_paths = tuple(f"/{stage.node.path}/" for stage in synthesized.stack.stages.values())
    pipeline_path = f"/{synthesized.stack.pipeline.node.path}"
    # The pipeline stack's own acknowledgments (the stages' stacks carry their own).
    own = {
        path: findings
        for path, findings in acknowledged.items()
        if path.startswith(stack_path) and not path.startswith(stage_paths)
    }
    assert f"{pipeline_path}/UpdatePipeline/SelfMutation" in own
    for path, findings in own.items():
        for finding, reason in findings.items():
            assert len(reason) >= 40, (path, finding)
            if "IAM5" in finding or "IAMNoInlinePolicy" in finding:
                # No IAM wildcard is acknowledged outside the CDK Pipelines construct.
                assert path.startswith(pipeline_path), (path, finding)


def test_pipeline_template_passes_cfn_lint(synthesized):
    template = Path(synthesized.assembly.directory) / synthesized.stack.template_file
    _, rejected = cfn_lint.lint([template])
    assert rejected == []


# --- the stage's ordering helper, on its own -----------------------------------------------------


def test_stage_lists_fast_and_endpoint_stacks_and_orders_them_on_request():
    # A fresh stage, constructed and not synthesized.
    config = load_config(cdk_context()[CONTEXT_KEY], "dev")
    stage = StageWithEndpoint(cdk.App(context=cdk_context()), "stage", config=config)
    endpoints, fast = stage.endpoint_stacks, stage.fast_stacks
    assert endpoints
    assert stage.storage in fast
    assert stage.workspace in fast
    assert not any(e is f for e in endpoints for f in fast)
    assert len(endpoints) + len(fast) == sum(isinstance(c, cdk.Stack) for c in stage.node.children)
    stage.deploy_endpoints_last()
    for endpoint in endpoints:
        assert {s.node.id for s in fast} <= {s.node.id for s in endpoint.dependencies}


def test_no_resource_of_the_pipeline_variant_names_another_without_waiting_for_it(synthesized):
    assert assembly_problems(synthesized.assembly.directory) == []
