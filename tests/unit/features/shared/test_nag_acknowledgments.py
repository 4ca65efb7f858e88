"""nag_text: a value written the way cdk-nag prints it inside a finding id."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from features.shared.nag_acknowledgments import nag_text

LOG_GROUPS = "log-group:/aws/sagemaker/Endpoints/*"


def log_group_arn(stack: cdk.Stack) -> str:
    return stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name="/aws/sagemaker/Endpoints/*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (None, f"arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:{LOG_GROUPS}"),
        (
            cdk.Environment(account="222222222222", region="us-east-1"),
            f"arn:aws:logs:us-east-1:222222222222:{LOG_GROUPS}",
        ),
    ],
    ids=["environment-agnostic", "concrete-env"],
)
def test_arn_reads_as_in_the_finding_of_either_kind_of_stack(env, expected):
    app = cdk.App(context={"@aws-cdk/core:enablePartitionLiterals": True})
    stack = cdk.Stack(app, "S", env=env)
    assert nag_text(stack, log_group_arn(stack)) == expected


def test_references_read_as_logical_ids():
    stack = cdk.Stack(cdk.App(), "S")
    topic = cdk.CfnResource(stack, "Topic", type="AWS::SNS::Topic")
    value = f"{topic.ref}/{cdk.Token.as_string(topic.get_att('TopicArn'))}"
    assert nag_text(stack, value) == "<Topic>/<Topic.TopicArn>"
