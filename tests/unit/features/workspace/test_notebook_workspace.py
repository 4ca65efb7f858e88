"""NotebookWorkspace variations on a small stack: the `vpc` network, lifecycle-script checks."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from features.workspace.lifecycle_script import (
    LIFECYCLE_CONTENT_LIMIT,
    LifecycleScriptError,
    lifecycle_content,
)
from features.workspace.notebook_workspace import NotebookWorkspace
from features.workspace.private_notebook_network import VPC_INTERFACE_ENDPOINTS
from stacks.policy_checks import add_policy_checks
from stacks.storage_stack import StorageStack
from tests.conftest import cdk_context
from tools import cfn_lint
from workbench_config import load_config


@pytest.fixture(scope="module")
def vpc_workspace(tmp_path_factory) -> tuple[cdk.Stack, Template]:
    """A storage stack and a `vpc` workspace, checked by cdk-nag like the app (synth raises)."""
    context = {k: v for k, v in cdk_context().items() if k != "workbench"}
    app = cdk.App(context=context, outdir=str(tmp_path_factory.mktemp("cdk-vpc")))
    add_policy_checks(app)
    stage = cdk.Stage(app, "vpc-test")
    storage = StorageStack(
        stage,
        "Storage",
        storage=_storage_config(),
        retain_data=False,
        parameter_prefix="/vpc/test",
    )
    stack = cdk.Stack(stage, "Workspace")
    NotebookWorkspace(
        stack,
        "Notebook",
        project="vpc",
        env_name="test",
        parameter_prefix="/vpc/test",
        instance_type="ml.t3.medium",
        volume_size_gb=10,
        idle_minutes=30,
        network="vpc",
        key=storage.key,
        artifacts_bucket=storage.artifacts_bucket,
        inference_bucket=storage.inference_bucket,
    )
    app.synth()  # raises on any unacknowledged cdk-nag finding
    return stack, Template.from_stack(stack)


def _storage_config():
    return load_config(cdk_context()["workbench"], "dev").storage


def test_vpc_notebook_has_no_direct_internet(vpc_workspace):
    _, template = vpc_workspace
    (instance,) = template.find_resources("AWS::SageMaker::NotebookInstance").values()
    props = instance["Properties"]
    assert props["DirectInternetAccess"] == "Disabled"
    assert "SubnetId" in props and len(props["SecurityGroupIds"]) == 1


def test_vpc_has_isolated_subnets_only(vpc_workspace):
    _, template = vpc_workspace
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.resource_count_is("AWS::EC2::FlowLog", 1)


def test_vpc_has_the_endpoints_the_notebooks_need(vpc_workspace):
    _, template = vpc_workspace
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint").values()
    services = json.dumps([e["Properties"]["ServiceName"] for e in endpoints])
    for suffix in ("sagemaker.api", "sagemaker.runtime", "sts", "ssm", "states", "logs"):
        assert f".{suffix}" in services, suffix
    for suffix in ("monitoring", "kms", "s3"):
        assert f".{suffix}" in services, suffix
    gateway = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Gateway"]
    assert len(gateway) == 1
    assert len(endpoints) == len(VPC_INTERFACE_ENDPOINTS) + 1
    interface = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Interface"]
    # one AZ (the notebook's subnet): interface endpoints are billed per AZ-hour
    assert all(len(e["Properties"]["SubnetIds"]) == 1 for e in interface)


def test_endpoints_accept_https_from_the_notebook_only(vpc_workspace):
    _, template = vpc_workspace
    ingress = [
        rule
        for group in template.find_resources("AWS::EC2::SecurityGroup").values()
        for rule in group["Properties"].get("SecurityGroupIngress", [])
    ] + [
        r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
    ]
    assert ingress and all(r.get("FromPort") == 443 and "CidrIp" not in r for r in ingress)


def test_vpc_template_is_cfn_lint_clean(vpc_workspace):
    stack, _ = vpc_workspace
    _, rejected = cfn_lint.lint([Path(cdk.Stage.of(stack).outdir) / stack.template_file])
    assert rejected == []


def test_network_value_is_checked(vpc_workspace):
    stack, _ = vpc_workspace
    with pytest.raises(ValueError, match="network must be 'public' or 'vpc'"):
        NotebookWorkspace(
            stack,
            "Bad",
            project="vpc",
            env_name="test",
            parameter_prefix="/vpc/test",
            instance_type="ml.t3.medium",
            volume_size_gb=10,
            idle_minutes=30,
            network="private",
            key=None,  # never reached: the network is checked first
            artifacts_bucket=None,
            inference_bucket=None,
        )


# --- lifecycle scripts ----------------------------------------------------------------------


def test_a_placeholder_without_a_value_fails_synth():
    with pytest.raises(LifecycleScriptError, match=r"without a value: \['Missing'\]"):
        lifecycle_content("x.sh", "echo ${Missing} ${AWS::Region}", {})


def test_a_value_without_a_placeholder_fails_synth():
    with pytest.raises(LifecycleScriptError, match=r"without a placeholder: \['Unused'\]"):
        lifecycle_content("x.sh", "echo ${Used}", {"Used": "1", "Unused": "2"})


def test_a_script_over_the_api_limit_fails_synth():
    script = "#" * (LIFECYCLE_CONTENT_LIMIT * 3 // 4 + 1)
    with pytest.raises(LifecycleScriptError, match="over the 16384"):
        lifecycle_content("big.sh", script, {})


def test_unresolved_values_count_towards_the_limit():
    stack = cdk.Stack()
    near = "#" * (LIFECYCLE_CONTENT_LIMIT * 3 // 4 - 100) + "${Uri}"
    with pytest.raises(LifecycleScriptError, match="over the 16384"):
        lifecycle_content("near.sh", near, {"Uri": stack.account})
    assert lifecycle_content("near.sh", near, {"Uri": "s3://b/k"})


def test_flow_logs_are_encrypted_with_the_project_key(vpc_workspace):
    _, template = vpc_workspace
    [log_group] = template.find_resources("AWS::Logs::LogGroup").values()
    assert "KmsKeyId" in log_group["Properties"]
