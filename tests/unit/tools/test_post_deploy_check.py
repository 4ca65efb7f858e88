"""The post-deploy check, against botocore's Stubber (requests and responses checked against the
CloudFormation, SageMaker and STS service models)."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from tests.unit.workbench.helpers import FakeClock
from tools import post_deploy_check as check

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ENDPOINT_ARN = "arn:aws:sagemaker:us-east-1:222222222222:endpoint/llama-inf2"


def client(service: str):
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def cloudformation():
    cfn = client("cloudformation")
    with Stubber(cfn) as stubber:
        yield cfn, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def sagemaker():
    sm = client("sagemaker")
    with Stubber(sm) as stubber:
        yield sm, stubber
        stubber.assert_no_pending_responses()


def stack(name: str, status: str, reason: str | None = None) -> dict:
    described = {"StackName": name, "StackStatus": status, "CreationTime": NOW}
    if reason:
        described["StackStatusReason"] = reason
    return {"Stacks": [described]}


def endpoint(name: str, status: str, reason: str | None = None) -> dict:
    described = {
        "EndpointName": name,
        "EndpointArn": ENDPOINT_ARN,
        "EndpointConfigName": f"{name}-config",
        "EndpointStatus": status,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
    }
    if reason:
        described["FailureReason"] = reason
    return described


def test_completed_stacks_pass_and_failed_ones_are_reported(cloudformation):
    cfn, stubber = cloudformation
    stubber.add_response(
        "describe_stacks", stack("dev-Storage", "UPDATE_COMPLETE"), {"StackName": "dev-Storage"}
    )
    stubber.add_response(
        "describe_stacks",
        stack("dev-Workspace", "UPDATE_ROLLBACK_COMPLETE", "Resource update cancelled"),
        {"StackName": "dev-Workspace"},
    )
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id dev-Endpoint-x does not exist",
        expected_params={"StackName": "dev-Endpoint-x"},
    )
    problems = check.check_stacks(cfn, ["dev-Storage", "dev-Workspace", "dev-Endpoint-x"])
    assert problems == [
        "stack dev-Workspace: UPDATE_ROLLBACK_COMPLETE (Resource update cancelled)",
        "stack dev-Endpoint-x: Stack with id dev-Endpoint-x does not exist",
    ]


@pytest.mark.parametrize("status", ["InService", "Updating", "SystemUpdating"])
def test_serving_endpoint_passes_also_while_it_scales(sagemaker, status):
    sm, stubber = sagemaker
    stubber.add_response(
        "describe_endpoint", endpoint("llama-inf2", status), {"EndpointName": "llama-inf2"}
    )
    assert check.check_endpoints(sm, ["llama-inf2"], wait_seconds=0) == []


def test_failed_endpoint_is_reported_with_its_reason(sagemaker):
    sm, stubber = sagemaker
    stubber.add_response(
        "describe_endpoint",
        endpoint("llama-p4d", "Failed", "ResourceLimitExceeded: ml.p4d.24xlarge"),
        {"EndpointName": "llama-p4d"},
    )
    stubber.add_client_error(
        "describe_endpoint",
        service_error_code="ValidationException",
        service_message='Could not find endpoint "gone".',
        expected_params={"EndpointName": "gone"},
    )
    assert check.check_endpoints(sm, ["llama-p4d", "gone"], wait_seconds=0) == [
        "endpoint llama-p4d: Failed (ResourceLimitExceeded: ml.p4d.24xlarge)",
        'endpoint gone: Could not find endpoint "gone".',
    ]


def test_settling_endpoint_is_waited_for_until_it_serves(sagemaker):
    sm, stubber = sagemaker
    for status in ("RollingBack", "RollingBack", "InService"):
        stubber.add_response("describe_endpoint", endpoint("e", status), {"EndpointName": "e"})
    clock = FakeClock()
    problems = check.check_endpoints(
        sm, ["e"], wait_seconds=300, poll_seconds=30, sleep=clock.sleep, clock=clock.now
    )
    assert problems == []
    assert clock.now() == 60


def test_endpoint_still_settling_after_the_wait_is_reported(sagemaker):
    sm, stubber = sagemaker
    for _ in range(3):
        stubber.add_response("describe_endpoint", endpoint("e", "Creating"), {"EndpointName": "e"})
    clock = FakeClock()
    problems = check.check_endpoints(
        sm, ["e"], wait_seconds=60, poll_seconds=30, sleep=clock.sleep, clock=clock.now
    )
    assert problems == ["endpoint e: Creating"]


def test_clients_assume_the_given_role_in_the_target_account():
    sts = client("sts")
    role = "arn:aws:iam::222222222222:role/cdk-hnb659fds-lookup-role-222222222222-us-east-1"
    with Stubber(sts) as stubber:
        stubber.add_response(
            "assume_role",
            {
                "Credentials": {
                    "AccessKeyId": "ASIAEXAMPLEEXAMPLE00",
                    "SecretAccessKey": "secret",
                    "SessionToken": "token",
                    "Expiration": NOW,
                }
            },
            {"RoleArn": role, "RoleSessionName": "post-deploy-check"},
        )
        cfn, sm = check.clients(role, "us-east-1", sts=sts)
        stubber.assert_no_pending_responses()
    assert cfn.meta.region_name == sm.meta.region_name == "us-east-1"
    assert cfn._request_signer._credentials.access_key == "ASIAEXAMPLEEXAMPLE00"


def test_main_exits_non_zero_and_names_each_problem(cloudformation, sagemaker, capsys):
    cfn, cfn_stubber = cloudformation
    sm, sm_stubber = sagemaker
    cfn_stubber.add_response("describe_stacks", stack("s", "CREATE_COMPLETE"), {"StackName": "s"})
    sm_stubber.add_response(
        "describe_endpoint", endpoint("e", "OutOfService"), {"EndpointName": "e"}
    )
    status = check.main(
        ["--region", "us-east-1", "--stack", "s", "--endpoint", "e"],
        make_clients=lambda role_arn, region: (cfn, sm),
    )
    assert status == 1
    out, err = capsys.readouterr()
    assert "ok    stack s: CREATE_COMPLETE" in out
    assert "post-deploy check: 1 stack(s), 1 endpoint(s), 1 problem(s)" in out
    assert err.strip() == "FAIL  endpoint e: OutOfService"


def test_an_empty_endpoint_name_from_a_missing_output_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        check.main(["--region", "us-east-1", "--stack", "s", "--endpoint", ""])
    assert exit_.value.code == 2
    assert "no empty --stack/--endpoint name" in capsys.readouterr().err
