"""make jumpstart: a JumpStart model written into cdk.json through the config loader."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import ROOT
from tests.unit.workbench_domain.jumpstart_documents import SDK_HUB_DOCUMENT, hub_client
from workbench import jumpstart


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "cdk.json"
    shutil.copy(ROOT / "cdk.json", path)
    return path


def p4d(path) -> dict:
    return json.loads(path.read_text())["context"]["workbench"]["environments"]["dev"]["endpoints"][
        "p4d"
    ]


MODEL = ["--model-id", "meta-textgeneration-llama-2-13b-f"]


@pytest.mark.parametrize("draft", [False, True])
def test_the_recorded_hub_document_is_written_with_and_without_its_draft(config_path, draft):
    client, stubber = hub_client()
    argv = [*MODEL, "--endpoint", "p4d", "--accept-eula", *(["--draft"] if draft else [])]
    code = jumpstart.main(argv, make_client=lambda *_, **__: client, config_path=config_path)
    assert code == 0
    stubber.assert_no_pending_responses()
    endpoint = p4d(config_path)
    assert endpoint["model"] == {
        "s3_uri": SDK_HUB_DOCUMENT["HostingArtifactUri"],
        "accept_eula": True,
    }
    assert endpoint["serving"]["engine"] == "vllm"
    spec = endpoint["serving"].get("speculative_decoding")
    if draft:
        assert spec["model"]["jumpstart"] is True
        assert spec["model"]["s3_uri"].startswith("s3://sagemaker-sd-models-prod-us-east-1/")
        assert endpoint["serving"]["tensor_parallel_degree"] == 2
    else:
        assert spec is None


def test_an_entry_the_config_refuses_leaves_cdk_json_unchanged(config_path, capsys):
    client, _ = hub_client()
    argv = [*MODEL, "--endpoint", "p4d", "--jumpstart-image", "--draft"]
    code = jumpstart.main(argv, make_client=lambda *_, **__: client, config_path=config_path)
    assert code == 1
    assert "needs the vllm engine" in capsys.readouterr().err
    assert config_path.read_text() == (ROOT / "cdk.json").read_text()


def test_an_unknown_endpoint_is_refused_before_any_call(config_path, capsys):
    def no_client(*_, **__):
        raise AssertionError("no AWS call")

    argv = ["--model-id", "x", "--endpoint", "nope"]
    with pytest.raises(SystemExit) as stop:
        jumpstart.main(argv, make_client=no_client, config_path=config_path)
    assert stop.value.code == 2
    assert (
        "no endpoint 'nope' in cdk.json for dev (have: chat, inf2, p4d)" in capsys.readouterr().err
    )


def test_a_truncated_cdk_json_is_one_line_and_no_call(config_path, capsys):
    config_path.write_text(config_path.read_text()[:500])

    def no_client(*_, **__):
        raise AssertionError("no AWS call")

    argv = [*MODEL, "--endpoint", "p4d"]
    assert jumpstart.main(argv, make_client=no_client, config_path=config_path) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {config_path} is not valid JSON (line ") and err.count("\n") == 1


class _NoCredentials:
    """A SageMaker client of a session without credentials: botocore raises when signing."""

    class meta:  # noqa: N801 (mirrors botocore's client.meta)
        region_name = "us-east-1"

    def describe_hub_content(self, **_):
        from botocore.exceptions import NoCredentialsError

        raise NoCredentialsError()


def test_no_region_and_no_credentials_are_one_line_each(config_path, capsys, monkeypatch):
    from botocore.exceptions import NoRegionError

    def no_region(*_, **__):
        raise NoRegionError()

    monkeypatch.delenv("AWS_REGION", raising=False)
    argv = [*MODEL, "--endpoint", "p4d"]
    assert jumpstart.main(argv, make_client=no_region, config_path=config_path) == 1
    assert capsys.readouterr().err == (
        "error: no AWS region: pass --region REGION, or set AWS_REGION (or the profile's region)\n"
    )
    assert (
        jumpstart.main(argv, make_client=lambda *_, **__: _NoCredentials(), config_path=config_path)
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("error: no AWS credentials: sign in") and err.count("\n") == 1
    assert config_path.read_text() == (ROOT / "cdk.json").read_text()
