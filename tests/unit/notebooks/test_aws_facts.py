"""What the notebook client relies on of AWS's APIs, checked against botocore."""

from __future__ import annotations

import botocore.session
import genai_workbench as wb
import pytest

from workbench_domain import workflow_states
from workbench_domain.async_inference import MISSING_OBJECT_CODES

# ------------------------------------------------------- AWS facts, checked against botocore


@pytest.fixture(scope="module")
def service():
    session = botocore.session.get_session()
    return session.get_service_model


def test_async_invocation_limits_are_the_documented_ones(service):
    """The InvokeEndpointAsync reference documents RequestTTLSeconds 60-21600 and
    InvocationTimeoutSeconds 1-3600; the client's ranges are those, read from botocore."""
    members = (
        service("sagemaker-runtime").operation_model("InvokeEndpointAsync").input_shape.members
    )
    for name, documented, client_range in (
        ("RequestTTLSeconds", (60, 21600), wb.REQUEST_TTL_RANGE),
        ("InvocationTimeoutSeconds", (1, 3600), wb.INVOCATION_TIMEOUT_RANGE),
    ):
        assert (members[name].metadata["min"], members[name].metadata["max"]) == documented
        assert client_range == documented


def test_step_functions_values_the_client_branches_on(service):
    sfn = service("stepfunctions")
    statuses = sfn.operation_model("DescribeExecution").output_shape.members["status"].enum
    assert {
        *workflow_states.EXECUTION_RUNNING_STATUSES,
        workflow_states.EXECUTION_SUCCEEDED,
    } <= set(statuses)
    errors = {e.name for e in sfn.operation_model("StartExecution").error_shapes}
    assert "ExecutionAlreadyExists" in errors


def test_enum_values_the_client_sends(service):
    scan_by = service("cloudwatch").operation_model("GetMetricData").input_shape.members["ScanBy"]
    assert "TimestampAscending" in scan_by.enum  # metric_series
    assert "aws:kms" in service("s3").shape_for("ServerSideEncryption").enum  # uploads
    assert "NoSuchKey" in {
        e.name for e in service("s3").operation_model("GetObject").error_shapes
    }  # one of MISSING_OBJECT_CODES; the others are HTTP statuses the model does not list
    assert "NoSuchKey" in MISSING_OBJECT_CODES
