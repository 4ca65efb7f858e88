"""The Workspace stack: notebook instance, lifecycle configuration, role, assets and outputs."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from aws_cdk.assertions import Match, Template

from features.workspace.lifecycle_script import lifecycle_placeholders
from features.workspace.notebook_workspace import LIFECYCLE_DIR, PLATFORM_IDENTIFIER
from tests.conftest import SynthesizedApp


@pytest.fixture(scope="module")
def workspace(dev: SynthesizedApp) -> Template:
    return dev.template(dev.stage.workspace)


def only(template: Template, type_: str) -> tuple[str, dict]:
    resources = template.find_resources(type_)
    assert len(resources) == 1, resources
    return next(iter(resources.items()))


def logical_id(stack, construct) -> str:
    return stack.resolve(construct.logical_id)


def role_statements(template: Template) -> list[dict]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def statement(template: Template, sid: str) -> dict:
    found = [s for s in role_statements(template) if s.get("Sid") == sid]
    assert len(found) == 1, sid
    return found[0]


# --- the instance ---------------------------------------------------------------------------


def test_instance_is_encrypted_locked_down_and_current(dev: SynthesizedApp, workspace: Template):
    _, instance = only(workspace, "AWS::SageMaker::NotebookInstance")
    props = instance["Properties"]
    assert props["InstanceType"] == "ml.t3.medium"
    assert props["VolumeSizeInGB"] == 20
    assert props["RootAccess"] == "Disabled"
    assert props["PlatformIdentifier"] == PLATFORM_IDENTIFIER == "notebook-al2023-v1"
    assert props["InstanceMetadataServiceConfiguration"] == {
        "MinimumInstanceMetadataServiceVersion": "2"
    }
    # the project key of the Storage stack, not an AWS-managed key: the reference reads the
    # Storage stack's output whose value is that key (its id)
    storage = dev.template(dev.stage.storage).to_json()
    (key_id,) = [k for k, r in storage["Resources"].items() if r["Type"] == "AWS::KMS::Key"]
    reference = props["KmsKeyId"]["Fn::GetStackOutput"]
    assert reference["StackName"] == dev.stage.storage.stack_name
    assert storage["Outputs"][reference["OutputName"]]["Value"] == {"Ref": key_id}


def test_prod_volume_comes_from_its_config(prod: SynthesizedApp):
    prod.template(prod.stage.workspace).has_resource_properties(
        "AWS::SageMaker::NotebookInstance", {"VolumeSizeInGB": 50}
    )


def test_public_network_has_direct_internet_and_no_subnet(workspace: Template):
    _, instance = only(workspace, "AWS::SageMaker::NotebookInstance")
    assert instance["Properties"]["DirectInternetAccess"] == "Enabled"
    assert "SubnetId" not in instance["Properties"]
    workspace.resource_count_is("AWS::EC2::VPC", 0)


def test_instance_starts_only_once_its_permissions_exist(dev: SynthesizedApp, workspace: Template):
    _, instance = only(workspace, "AWS::SageMaker::NotebookInstance")
    policy = dev.stage.workspace.workspace.role.node.find_child("DefaultPolicy")
    assert logical_id(dev.stage.workspace, policy.node.default_child) in instance["DependsOn"]


# --- lifecycle --------------------------------------------------------------------------------


def hook(workspace: Template, kind: str):
    _, config = only(workspace, "AWS::SageMaker::NotebookInstanceLifecycleConfig")
    (entry,) = config["Properties"][kind]
    return entry["Content"]["Fn::Base64"]


def test_on_start_substitutes_exactly_the_script_placeholders(workspace: Template):
    script, variables = hook(workspace, "OnStart")["Fn::Sub"]
    assert script == (LIFECYCLE_DIR / "on_start.sh").read_text()
    assert set(variables) | {"AWS::Region"} == lifecycle_placeholders(script)
    assert variables["IdleMinutes"] == "60"
    assert variables["DeploymentPath"] == "/genai-opt/dev/deployment/"
    for name, suffix in (("NotebooksS3Uri", ".zip"), ("AutostopS3Uri", ".py")):
        uri = variables[name]["Fn::Sub"]
        assert uri.startswith("s3://cdk-") and uri.endswith(suffix), name


def test_on_create_is_the_shipped_script(workspace: Template):
    script = (LIFECYCLE_DIR / "on_create.sh").read_text()
    assert lifecycle_placeholders(script) == set()
    assert hook(workspace, "OnCreate") == script


def test_lifecycle_config_is_the_one_the_instance_uses(workspace: Template):
    config_id, _ = only(workspace, "AWS::SageMaker::NotebookInstanceLifecycleConfig")
    workspace.has_resource_properties(
        "AWS::SageMaker::NotebookInstance",
        {"LifecycleConfigName": {"Fn::GetAtt": [config_id, "NotebookInstanceLifecycleConfigName"]}},
    )


# --- assets -----------------------------------------------------------------------------------


def test_notebooks_asset_ships_the_notebooks_and_client_only(dev: SynthesizedApp):
    asset = dev.stage.workspace.workspace.notebooks_asset
    staged = Path(dev.assembly.directory) / asset.asset_path
    if not staged.exists():  # staged relative to the stage's nested assembly
        staged = next(Path(dev.assembly.directory).rglob(Path(asset.asset_path).name))
    names = {p.relative_to(staged).as_posix() for p in staged.rglob("*")}
    expected = {p.name for p in (LIFECYCLE_DIR.parents[2] / "notebooks").glob("*.ipynb")}
    client = {
        f"genai_workbench/{p.name}"
        for p in (LIFECYCLE_DIR.parents[2] / "notebooks" / "genai_workbench").glob("*.py")
    }
    assert len(expected) == 7 and len(client) >= 10 and expected | client <= names
    # The shared domain package, byte for byte what the app checked its settings with.
    domain = LIFECYCLE_DIR.parents[2] / "workbench_domain"
    for source in domain.glob("*.*"):
        assert (staged / "workbench_domain" / source.name).read_bytes() == source.read_bytes()
    assert not {n for n in names if "__pycache__" in n or "checkpoints" in n or n.endswith(".pyc")}
    assert asset.is_zip_archive


def test_autostop_is_shipped_as_a_file(dev: SynthesizedApp):
    asset = dev.stage.workspace.workspace.autostop_asset
    assert not asset.is_zip_archive
    assert asset.s3_object_key  # a token; its object is what on-start downloads


# --- the role ---------------------------------------------------------------------------------


def test_role_is_assumed_by_sagemaker_without_managed_policies(workspace: Template):
    _, role = only(workspace, "AWS::IAM::Role")
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert "ManagedPolicyArns" not in role["Properties"]


def test_no_statement_uses_a_wildcard_action(workspace: Template):
    statements = role_statements(workspace)
    assert statements
    for s in statements:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert all("*" not in a for a in actions), s
        assert s["Effect"] == "Allow"


def test_only_actions_without_resource_level_permissions_use_star(workspace: Template):
    star = {
        s["Sid"]
        for s in role_statements(workspace)
        if s["Resource"] == "*" or (isinstance(s["Resource"], list) and "*" in s["Resource"])
    }
    # CallWithBearerToken: AWS grants it on * only (see UseOpenAiRoute), limited to this account.
    assert star == {"ReadEndpointMetrics", "ListOptimizationJobs", "UseOpenAiRoute"}


def test_the_openai_route_is_usable_in_this_account_only(workspace: Template):
    s = statement(workspace, "UseOpenAiRoute")
    assert (s["Action"], s["Resource"]) == ("sagemaker:CallWithBearerToken", "*")
    assert s["Condition"] == {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}


def test_endpoints_are_reached_by_tag_not_by_stack_dependency(dev: SynthesizedApp, workspace):
    s = statement(workspace, "InvokeProjectEndpoints")
    assert sorted(s["Action"]) == ["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpointAsync"]
    assert s["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/project": "genai-opt",
            "aws:ResourceTag/environment": "dev",
        }
    }
    assert "endpoint/*" in str(s["Resource"])
    depends = {d.stack_name for d in dev.stage.workspace.dependencies}
    # Storage for the data, Optimization for the workflow it starts; never an endpoint stack.
    assert depends == {dev.stage.storage.stack_name, dev.stage.optimization.stack_name}
    assert dev.stage.endpoints, "dev deploys endpoints; the workspace must not wait for them"


def test_realtime_endpoints_and_their_components_are_invoked_by_tag(workspace: Template):
    s = statement(workspace, "InvokeProjectRealtimeEndpoints")
    assert sorted(s["Action"]) == [
        "sagemaker:DescribeInferenceComponent",
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointWithResponseStream",
    ]
    resources = str(s["Resource"])
    assert "endpoint/*" in resources and "inference-component/*" in resources
    assert s["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/project": "genai-opt",
            "aws:ResourceTag/environment": "dev",
        }
    }


def test_async_data_is_written_to_inputs_and_read_from_outputs(workspace: Template):
    write = statement(workspace, "WriteAsyncInputs")
    read = statement(workspace, "ReadAsyncResults")
    assert "s3:GetObject" not in write["Action"] and "s3:PutObject" in write["Action"]
    assert read["Action"] == "s3:GetObject"
    assert str(write["Resource"]).endswith("/*/input/*']}") or "/*/input/*" in str(
        write["Resource"]
    )
    assert "/*/output/*" in str(read["Resource"]) and "/*/failure/*" in str(read["Resource"])


def test_ssm_access_is_limited_to_the_environment_path(workspace: Template):
    s = statement(workspace, "ReadDeploymentParameters")
    assert sorted(s["Action"]) == [
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
    ]
    text = str(s["Resource"])
    assert ":parameter/genai-opt/dev'" in text and ":parameter/genai-opt/dev/*" in text


def test_instance_may_stop_itself_only(workspace: Template):
    instance_id, _ = only(workspace, "AWS::SageMaker::NotebookInstance")
    s = statement(workspace, "StopAndDescribeItself")
    assert s["Resource"] == {"Fn::GetAtt": [instance_id, "NotebookInstanceArn"]}


def test_jumpstart_lookups_are_read_only_on_aws_owned_resources(workspace: Template):
    hub = statement(workspace, "ReadJumpStartPublicHub")
    assert all(a.startswith(("sagemaker:List", "sagemaker:Describe")) for a in hub["Action"])
    assert ":aws:hub/SageMakerPublicHub" in str(hub["Resource"])
    buckets = statement(workspace, "ReadJumpStartBuckets")
    assert sorted(buckets["Action"]) == ["s3:GetObject", "s3:ListBucket"]
    assert "jumpstart-cache-prod-" in str(buckets["Resource"])


def test_shipped_assets_are_read_object_by_object(workspace: Template):
    s = statement(workspace, "ReadShippedAssets")
    assert s["Action"] == "s3:GetObject"
    assert len(s["Resource"]) == 2 and "*" not in str(s["Resource"])


def test_key_use_is_explicit(workspace: Template):
    s = statement(workspace, "UseProjectKey")
    assert sorted(s["Action"]) == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    ]


# --- outputs ----------------------------------------------------------------------------------


def test_outputs_give_the_url_name_and_deployment_path(workspace: Template):
    outputs = workspace.find_outputs("*")
    url = str(outputs["NotebookUrl"]["Value"])
    assert ".console.aws.amazon.com/sagemaker/home?region=" in url
    assert "#/notebook-instances/openNotebook/" in url and "?view=lab" in url
    assert "NotebookInstanceName" in str(outputs["NotebookInstanceName"]["Value"])
    assert outputs["DeploymentPath"]["Value"] == "/genai-opt/dev/deployment/"
    workspace.has_output("NotebookUrl", {"Description": Match.string_like_regexp("JupyterLab")})


def test_lifecycle_content_is_base64_sized(workspace: Template):
    script, _ = hook(workspace, "OnStart")["Fn::Sub"]
    assert len(base64.b64encode(script.encode())) < 16384


def test_the_endpoints_carry_the_tags_the_role_requires(dev: SynthesizedApp):
    tags = [{"Key": "environment", "Value": "dev"}, {"Key": "project", "Value": "genai-opt"}]
    for stack in dev.stage.endpoints.values():
        dev.template(stack).has_resource_properties(
            "AWS::SageMaker::Endpoint", {"Tags": Match.array_with(tags)}
        )
