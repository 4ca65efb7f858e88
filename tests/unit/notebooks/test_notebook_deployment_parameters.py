"""The deployment document assembled from the stacks' SSM records (moto SSM)."""

from __future__ import annotations

import json

import boto3
import genai_workbench as wb
import pytest
from moto import mock_aws

from tests.unit.notebooks.conftest import REGION, sample_document

PATH = "/genai-opt/dev/deployment/"


@pytest.fixture(scope="module")
def moto_ssm():
    """One moto for the module; each test writes under its own deployment path."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        yield boto3.client("ssm", region_name=REGION)


def publish(ssm, path: str, *, optimization: bool = True, endpoints: bool = True) -> dict:
    """Write the records the stacks publish; returns the document they describe."""
    doc = sample_document()
    project, env = path.strip("/").split("/")[:2]
    doc.update(project=project, env=env)

    def put(part: str, value: dict) -> None:
        ssm.put_parameter(Name=path + part, Value=json.dumps(value), Type="String")

    put("storage", doc["storage"])
    if optimization:
        put("optimization", doc["optimization"])
    else:
        doc["optimization"] = None
    if endpoints:
        for key, endpoint in doc["endpoints"].items():
            put(f"endpoints/{key}", endpoint)
    else:
        doc["endpoints"] = {}
    return doc


def test_the_parts_assemble_into_the_client_document(moto_ssm):
    doc = publish(moto_ssm, PATH)
    deployment = wb.Deployment.from_parameters(PATH, ssm_client=moto_ssm)
    assert deployment == wb.Deployment.from_dict(doc)
    assert (deployment.project, deployment.env) == ("genai-opt", "dev")
    assert sorted(deployment.endpoints) == ["chat", "inf2", "p4d"]
    assert deployment.realtime_endpoint("chat").inference_component_name


def test_records_of_another_environment_are_not_mixed_in(moto_ssm):
    publish(moto_ssm, "/genai-opt/prod/deployment/", endpoints=False)
    publish(moto_ssm, "/genai-opt/test/deployment/")
    deployment = wb.Deployment.from_parameters("/genai-opt/prod/deployment", ssm_client=moto_ssm)
    assert deployment.env == "prod"
    assert deployment.endpoints == {}


def test_without_optimization_and_endpoints_the_rest_still_works(moto_ssm):
    path = "/bare/dev/deployment/"
    publish(moto_ssm, path, optimization=False, endpoints=False)
    messages: list[str] = []
    deployment = wb.Deployment.from_parameters(path, ssm_client=moto_ssm, printer=messages.append)
    assert deployment.artifacts_bucket == "genai-artifacts-bucket"
    assert any("Optimization stack is not deployed" in m for m in messages)
    assert any("no endpoint is deployed yet" in m for m in messages)
    with pytest.raises(wb.WorkbenchError, match="deploy the Optimization stack of bare-dev"):
        wb.start_optimization(
            deployment,
            wb.OptimizationRequest(
                technique="quantization",
                instance_type="ml.g5.12xlarge",
                model_s3_uri="s3://genai-artifacts-bucket/m/",
                quantization_method="awq",
            ),
        )
    with pytest.raises(wb.WorkbenchError, match="Optimization stack"):
        wb.list_results(deployment)
    with pytest.raises(wb.WorkbenchError, match="no endpoint of bare-dev is deployed yet"):
        deployment.endpoint("p4d")


def test_no_storage_record_means_no_deployment(moto_ssm):
    with pytest.raises(wb.DeploymentNotFoundError, match="Storage stack of nothing-dev"):
        wb.Deployment.from_parameters("/nothing/dev/deployment/", ssm_client=moto_ssm)


@pytest.mark.parametrize("path", ["genai-opt/dev/deployment/", "/genai-opt/deployment/", "/a/b/c/"])
def test_a_malformed_path_is_named(path):
    with pytest.raises(wb.WorkbenchError, match="must look like /<project>/<env>/deployment/"):
        wb.deployment_document(path)


def test_a_record_that_is_not_json_is_named(moto_ssm):
    publish(moto_ssm, "/broken/dev/deployment/")
    moto_ssm.put_parameter(Name="/broken/dev/deployment/endpoints/x", Value="{oops", Type="String")
    with pytest.raises(wb.WorkbenchError, match="/broken/dev/deployment/endpoints/x"):
        wb.Deployment.from_parameters("/broken/dev/deployment/", ssm_client=moto_ssm)


def test_load_falls_back_to_the_path_in_the_env_var(moto_ssm, tmp_path, monkeypatch):
    publish(moto_ssm, "/fallback/dev/deployment/")
    monkeypatch.setenv(wb.DEPLOYMENT_FILE_ENV, str(tmp_path / "absent.json"))
    monkeypatch.setenv(wb.DEPLOYMENT_PATH_ENV, "/fallback/dev/deployment/")
    assert wb.Deployment.load(ssm_client=moto_ssm).project == "fallback"


def test_the_cli_writes_a_file_load_reads(moto_ssm, tmp_path, monkeypatch, capsys):
    publish(moto_ssm, "/cli/dev/deployment/", endpoints=False)
    out = tmp_path / "state" / "deployment.json"
    assert wb.main(["write-deployment", "--path", "/cli/dev/deployment/", "--out", str(out)]) == 0
    assert "endpoints: none, optimization workflow: yes" in capsys.readouterr().out
    monkeypatch.setenv(wb.DEPLOYMENT_FILE_ENV, str(out))
    assert wb.Deployment.load().state_machine_arn.startswith("arn:aws:states:")


def test_the_cli_fails_without_writing_when_storage_is_missing(moto_ssm, tmp_path, capsys):
    out = tmp_path / "deployment.json"
    assert wb.main(["write-deployment", "--path", "/none/dev/deployment/", "--out", str(out)]) == 1
    assert "Storage stack" in capsys.readouterr().err
    assert not out.exists()
