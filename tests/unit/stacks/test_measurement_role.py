"""The role SageMaker assumes for AI recommendation and benchmark jobs, and who may pass it."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from tests.conftest import SynthesizedApp
from tests.unit.stacks.optimization_templates import (
    ACCOUNT,
    JOB_LOGS_AND_METRICS,
    REGION,
    actions,
    by_sid,
    placeholder,
    resources,
    role_statements,
)


@pytest.fixture(scope="module")
def stack(dev: SynthesizedApp):
    return dev.stage.optimization


@pytest.fixture(scope="module")
def template(dev: SynthesizedApp, stack) -> Template:
    return dev.template(stack)


@pytest.fixture(scope="module")
def summary(dev: SynthesizedApp, stack, template: Template) -> dict[str, dict]:
    others = {dev.stage.storage.stack_name: dev.template(dev.stage.storage).to_json()}
    role_id = stack.get_logical_id(stack.measurement_role.node.default_child)
    return {
        s["Sid"]: {
            "actions": actions(s),
            "resources": sorted(
                placeholder(r, template.to_json(), others)
                for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
            ),
            "condition": s.get("Condition"),
        }
        for s in role_statements(template, role_id)
    }


def test_assumed_by_sagemaker_only_without_managed_policies(stack, template: Template):
    role_id = stack.get_logical_id(stack.measurement_role.node.default_child)
    role = resources(template, "AWS::IAM::Role")[role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role


def test_statements_are_exactly_the_scoped_ones(summary):
    bucket = "arn:aws:s3:::artifactsbucket88671897"
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
    tagged = {
        "StringEquals": {
            "aws:ResourceTag/project": "genai-opt",
            "aws:ResourceTag/environment": "dev",
        }
    }
    assert summary == {
        "ListArtifacts": {
            "actions": {"s3:ListBucket", "s3:GetBucketLocation"},
            "resources": [bucket],
            "condition": None,
        },
        "ReadModels": {
            "actions": {"s3:GetObject"},
            "resources": [f"{bucket}/*"],
            "condition": None,
        },
        "WriteResults": {
            "actions": {"s3:PutObject", "s3:AbortMultipartUpload"},
            "resources": [f"{bucket}/benchmarks/*", f"{bucket}/recommendations/*"],
            "condition": None,
        },
        "UseProjectKey": {
            "actions": {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"},
            "resources": [
                f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            ],
            "condition": None,
        },
        "InvokeProjectEndpoints": {
            "actions": {"sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"},
            "resources": [f"{arn}:endpoint/*", f"{arn}:inference-component/*"],
            "condition": tagged,
        },
        **JOB_LOGS_AND_METRICS,
        "ReadSageMakerQuotas": {
            "actions": {"servicequotas:GetServiceQuota"},
            "resources": [f"arn:aws:servicequotas:{REGION}:{ACCOUNT}:sagemaker/*"],
            "condition": None,
        },
    }


def test_the_workspace_runs_this_stages_jobs_only_and_passes_only_this_role(
    dev: SynthesizedApp, stack
):
    workspace = dev.template(dev.stage.workspace)
    statements = by_sid(
        [
            s
            for policy in resources(workspace, "AWS::IAM::Policy").values()
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
    )
    run = statements["RunMeasurementJobs"]
    assert set(run["Action"]) == {
        "sagemaker:AddTags",
        *(f"sagemaker:{verb}AIWorkloadConfig" for verb in ("Create", "Describe", "Delete")),
        *(
            f"sagemaker:{verb}{noun}"
            for noun in ("AIRecommendationJob", "AIBenchmarkJob")
            for verb in ("Create", "Describe", "Stop", "Delete")
        ),
    }
    names = sorted(str(r["Fn::Join"][1][-1]) for r in run["Resource"])
    assert names == [
        ":ai-benchmark-job/genai-opt-dev-bench-*",
        ":ai-recommendation-job/genai-opt-dev-rec-*",
        ":ai-workload-config/genai-opt-dev-wl-*",
    ]
    passing = statements["PassMeasurementRole"]
    assert passing["Action"] == "iam:PassRole"
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    # The role of the Optimization stack, by reference: no other role can be passed.
    assert "Fn::ImportValue" in str(passing["Resource"]) or "GetStackOutput" in str(
        passing["Resource"]
    )


def test_the_quota_resource_follows_the_service_authorization_references_arn(summary):
    """servicequotas:GetServiceQuota's `quota` resource is
    arn:${Partition}:servicequotas:${Region}:${Account}:${ServiceCode}/${QuotaCode}."""
    import re

    from workbench.iam_reference import _definition

    template = _definition()["servicequotas"]["resources"]["quota"]["arn"]
    pattern = re.sub(r"\\\$\\\{[A-Za-z]+\\\}", "[^:/]+", re.escape(template))
    (resource,) = summary["ReadSageMakerQuotas"]["resources"]
    assert re.fullmatch(pattern.replace("\\*", ".*"), resource.replace("*", "L-ANY"))
    assert resource.split(":")[-1].startswith("sagemaker/")
