"""OptimizationStack.grant_start: what the notebook role gets to start jobs and read results."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from stacks.config import load_config
from stacks.optimization_stack import OptimizationStack
from stacks.storage_stack import StorageStack
from tests.conftest import cdk_context
from tests.unit.stacks.optimization_templates import actions


@pytest.fixture(scope="module")
def grants(tmp_path_factory) -> tuple[list[dict], OptimizationStack]:
    """The statements a role in the Optimization stack gets from grant_start (small app)."""
    context = cdk_context()
    config = load_config(context["workbench"], "dev")
    app = cdk.App(context=context, outdir=str(tmp_path_factory.mktemp("grants")))
    storage = StorageStack(
        app,
        "Storage",
        storage=config.storage,
        retain_data=False,
        parameter_prefix=config.parameter_prefix,
    )
    optimization = OptimizationStack(
        app,
        "Optimization",
        optimization=config.optimization,
        project=config.project,
        env_name=config.env_name,
        parameter_prefix=config.parameter_prefix,
        retain_data=False,
        key=storage.key,
        artifacts_bucket=storage.artifacts_bucket,
    )
    user = iam.Role(optimization, "User", assumed_by=iam.AccountRootPrincipal())
    optimization.grant_start(user)
    template = Template.from_stack(optimization)
    role_id = optimization.get_logical_id(user.node.default_child)
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    return statements, optimization


def statement_with(statements: list[dict], action: str) -> dict:
    (found,) = [s for s in statements if action in actions(s)]
    return found


def test_starts_only_this_state_machine(grants):
    statements, stack = grants
    start = statement_with(statements, "states:StartExecution")
    assert actions(start) == {"states:StartExecution"}
    assert start["Resource"] == {
        "Ref": stack.get_logical_id(stack.state_machine.node.default_child)
    }


def test_describes_executions_of_this_state_machine(grants):
    statements, _ = grants
    describe = statement_with(statements, "states:DescribeExecution")
    assert actions(describe) == {"states:DescribeExecution"}
    # arn:...:execution:<state machine name>:*
    parts = describe["Resource"]["Fn::Join"][1]
    assert ":execution:" in "".join(p for p in parts if isinstance(p, str))
    assert parts[-1] == ":*"


def test_reads_result_parameters_only(grants):
    statements, _ = grants
    read = statement_with(statements, "ssm:GetParametersByPath")
    assert actions(read) == {"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"}
    suffixes = sorted(r["Fn::Join"][1][-1] for r in read["Resource"])
    assert suffixes == [
        ":parameter/genai-opt/dev/optimization-results",
        ":parameter/genai-opt/dev/optimization-results/*",
    ]


def test_describes_jobs_of_this_account_and_lists_jobs(grants):
    statements, _ = grants
    describe = statement_with(statements, "sagemaker:DescribeOptimizationJob")
    assert actions(describe) == {"sagemaker:DescribeOptimizationJob"}
    assert describe["Resource"]["Fn::Join"][1][-1] == ":optimization-job/*"
    listing = statement_with(statements, "sagemaker:ListOptimizationJobs")
    assert listing["Resource"] == "*"  # ListOptimizationJobs has no resource type
    everything = set().union(*(actions(s) for s in statements))
    assert not {a for a in everything if a.startswith("sagemaker:") and "Create" in a}
