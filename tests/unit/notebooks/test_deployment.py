"""The notebook client's deployment: the records it reads, from a file or SSM."""

from __future__ import annotations

import json

import boto3
import genai_workbench as wb
import pytest
from botocore.stub import Stubber

from tests.unit.notebooks.conftest import REGION

# ------------------------------------------------------------------------------ deployment


def test_from_dict_reads_every_endpoint(document):
    deployment = wb.Deployment.from_dict(document)
    assert set(deployment.endpoints) == {"p4d", "inf2", "chat"}
    chat = deployment.realtime_endpoint("chat")
    assert (chat.kind, chat.instance_type) == ("realtime", "ml.g5.12xlarge")
    inf2 = deployment.endpoint("inf2")
    assert inf2.instance_type == "ml.inf2.48xlarge"
    assert inf2.price_usd_per_hour == pytest.approx(15.58)
    assert inf2.max_capacity == 1


@pytest.mark.parametrize("key", ["storage", "endpoints", "optimization"])
def test_from_dict_names_a_missing_key(document, key):
    del document[key]
    with pytest.raises(wb.WorkbenchError, match=key):
        wb.Deployment.from_dict(document)


@pytest.mark.parametrize(
    ("part", "key", "named"),
    [
        ("storage", "kms_key_arn", "storage"),
        ("storage", "region", "storage"),
        ("optimization", "job_defaults", "optimization"),
    ],
)
def test_from_dict_names_a_missing_record_key(document, part, key, named):
    del document[part][key]
    with pytest.raises(wb.WorkbenchError, match=rf"{named}: lacks key\(s\) {key}"):
        wb.Deployment.from_dict(document)


def test_from_dict_names_a_missing_endpoint_key(document):
    del document["endpoints"]["p4d"]["output_prefix"]
    with pytest.raises(wb.WorkbenchError, match=r"endpoints\.p4d: lacks key\(s\) output_prefix"):
        wb.Deployment.from_dict(document)


@pytest.mark.parametrize(
    ("part", "key", "named"),
    [
        ("storage", "region", r"storage\.region: must be a string"),
        ("optimization", "job_role_arn", r"optimization\.job_role_arn: must be a string"),
    ],
)
def test_from_dict_rejects_a_non_string_record_value(document, part, key, named):
    document[part][key] = 5
    with pytest.raises(wb.WorkbenchError, match=named):
        wb.Deployment.from_dict(document)


def test_from_dict_rejects_a_non_numeric_price(document):
    document["endpoints"]["inf2"]["price_usd_per_hour"] = "cheap"
    with pytest.raises(wb.WorkbenchError, match=r"endpoints\.inf2"):
        wb.Deployment.from_dict(document)


def test_unknown_endpoint_lists_the_known_ones(deployment):
    with pytest.raises(wb.WorkbenchError, match="have: chat, inf2, p4d"):
        deployment.endpoint("g5")


def test_each_kind_of_endpoint_is_refused_by_the_other_kinds_functions(deployment):
    with pytest.raises(wb.WorkbenchError, match=r"'chat' is realtime: .* use chat"):
        deployment.endpoint("chat")
    with pytest.raises(wb.WorkbenchError, match="'p4d' is async: submit requests with invoke"):
        deployment.realtime_endpoint("p4d")


def test_a_record_of_an_unknown_kind_is_refused(document):
    document["endpoints"]["chat"]["kind"] = "serverless"
    with pytest.raises(wb.WorkbenchError, match=r"endpoints\.chat\.kind: is not an endpoint kind"):
        wb.Deployment.from_dict(document)


def test_load_reads_the_file_named_by_the_env_var(tmp_path, monkeypatch, document, aws_env):
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps(document))
    monkeypatch.setenv(wb.DEPLOYMENT_FILE_ENV, str(path))
    assert wb.Deployment.load().state_machine_arn == document["optimization"]["state_machine_arn"]


def test_load_without_file_or_path_says_what_to_set(tmp_path, monkeypatch, aws_env):
    monkeypatch.setenv(wb.DEPLOYMENT_FILE_ENV, str(tmp_path / "absent.json"))
    monkeypatch.delenv(wb.DEPLOYMENT_PATH_ENV, raising=False)
    with pytest.raises(wb.DeploymentNotFoundError, match=wb.DEPLOYMENT_PATH_ENV):
        wb.Deployment.load()


def test_load_reports_unreadable_parameters(tmp_path, monkeypatch, aws_env):
    monkeypatch.setenv(wb.DEPLOYMENT_FILE_ENV, str(tmp_path / "absent.json"))
    ssm = boto3.client("ssm", region_name=REGION)
    with (
        Stubber(ssm) as stub,
        pytest.raises(wb.DeploymentNotFoundError, match="/p/dev/deployment/"),
    ):
        stub.add_client_error("get_parameters_by_path", "AccessDeniedException", "denied")
        wb.Deployment.load(deployment_path="/p/dev/deployment/", ssm_client=ssm)


def test_load_reports_a_broken_file(tmp_path, aws_env):
    path = tmp_path / "deployment.json"
    path.write_text("{not json")
    with pytest.raises(wb.WorkbenchError, match="not valid JSON"):
        wb.Deployment.load(path)


def test_default_file_is_the_one_on_the_notebook_volume():
    assert wb.DEFAULT_DEPLOYMENT_FILE == (
        "/home/ec2-user/SageMaker/.genai-optimization/deployment.json"
    )
