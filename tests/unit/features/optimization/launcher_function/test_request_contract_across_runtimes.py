"""One request contract: what the launcher Lambda refuses, the notebook client and `make optimize`
refuse too, before anything starts, with the same message.

Every malformed request of the shared table goes through the three entry points: the Lambda's
handler, the client's ``start_optimization`` (with the job defaults the optimization record
publishes) and ``python -m workbench optimize --request FILE`` (against records in moto SSM).
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from features.optimization.launcher_function import handler
from tests.conftest import ROOT
from tests.unit.malformed_requests import (
    BUCKET,
    LMI_IMAGE,
    MALFORMED,
    NEURON_IMAGE,
    OUTPUT_PREFIX,
    REGION,
    TRTLLM_IMAGE,
)
from tests.unit.notebooks.conftest import sample_document
from tests.unit.notebooks.conftest import workbench as wb
from workbench import optimize
from workbench_domain.errors import ValidationError

JOB_DEFAULTS = {
    "artifacts_bucket": BUCKET,
    "output_prefix": OUTPUT_PREFIX,
    "lmi_image_uri": LMI_IMAGE,
    "trtllm_image_uri": TRTLLM_IMAGE,
    "neuron_image_uri": NEURON_IMAGE,
}


def document() -> dict:
    """A deployment whose job target is the Lambda's (LAUNCHER_ENV), as its record publishes."""
    doc = sample_document()
    doc["storage"].update(region=REGION, artifacts_bucket=BUCKET)
    doc["optimization"]["job_defaults"] = JOB_DEFAULTS
    return doc


def lambda_message(event, context) -> str:
    with pytest.raises(ValidationError) as caught:
        handler.handler(event, context)
    return str(caught.value)


def client_message(event) -> str:
    deployment = wb.Deployment.from_dict(document())
    sfn = boto3.client("stepfunctions", region_name=REGION)
    with Stubber(sfn) as stubber:  # nothing queued: a start would fail differently
        deployment.use_client("stepfunctions", sfn)
        with pytest.raises(wb.InvalidRequestError) as caught:
            wb.start_optimization(deployment, event)
        stubber.assert_no_pending_responses()
    return str(caught.value)


@pytest.fixture(scope="module")
def records_ssm():
    """moto SSM holding the storage and optimization records of dev (once for the module)."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "testing")
        ssm = boto3.client("ssm", region_name=REGION)
        doc = document()
        for part in ("storage", "optimization"):
            ssm.put_parameter(
                Name=f"/genai-opt/dev/deployment/{part}", Value=json.dumps(doc[part]), Type="String"
            )
        yield ssm


def optimize_message(event, records_ssm, tmp_path, capsys) -> str:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(event))
    sfn = boto3.client("stepfunctions", region_name=REGION)
    clients = {"ssm": records_ssm, "stepfunctions": sfn}
    with Stubber(sfn) as stubber:
        try:
            code = optimize.main(
                ["--request", str(request), "--region", REGION],
                make_client=lambda service, region_name=None: clients[service],
                config_path=ROOT / "cdk.json",  # read only: nothing is promoted
            )
        except SystemExit as stop:  # argparse's error: the schema refused it
            code = stop.code
        stubber.assert_no_pending_responses()
    assert code in (1, 2)
    return capsys.readouterr().err.strip().splitlines()[-1].split("error: ", 1)[1]


@pytest.mark.parametrize(("event", "field", "shows_value"), MALFORMED)
def test_every_runtime_refuses_with_the_lambdas_message(
    sagemaker, records_ssm, lambda_context, tmp_path, capsys, event, field, shows_value
):
    expected = lambda_message(event, lambda_context)
    assert expected.startswith(f"{field}: ")
    assert client_message(event) == expected
    assert optimize_message(event, records_ssm, tmp_path, capsys) == expected
    _, calls = sagemaker
    assert calls == []
