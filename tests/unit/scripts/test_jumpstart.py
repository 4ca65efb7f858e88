"""make jumpstart: a JumpStart model written into cdk.json through the config loader."""

from __future__ import annotations

import json
import shutil

import pytest

from scripts import jumpstart
from tests.conftest import ROOT
from tests.unit.notebooks.test_notebook_client import HUB_DOCUMENT, hub_client


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "cdk.json"
    shutil.copy(ROOT / "cdk.json", path)
    return path


def p4d(path) -> dict:
    return json.loads(path.read_text())["context"]["workbench"]["environments"]["dev"]["endpoints"][
        "p4d"
    ]


def test_writes_the_model_and_its_sagemaker_draft_into_the_endpoint(config_path):
    client, stubber = hub_client()
    argv = ["--model-id", "meta-textgeneration-llama-3-70b", "--endpoint", "p4d"]
    argv += ["--draft", "--accept-eula"]
    code = jumpstart.main(argv, make_client=lambda *_, **__: client, config_path=config_path)
    assert code == 0
    stubber.assert_no_pending_responses()
    endpoint = p4d(config_path)
    assert endpoint["model"] == {"s3_uri": HUB_DOCUMENT["HostingArtifactUri"], "accept_eula": True}
    assert endpoint["serving"]["engine"] == "vllm"
    assert endpoint["serving"]["speculative_decoding"]["model"]["jumpstart"] is True


def test_an_entry_the_config_refuses_leaves_cdk_json_unchanged(config_path, capsys):
    client, _ = hub_client()
    argv = ["--model-id", "meta-textgeneration-llama-3-70b", "--endpoint", "p4d"]
    argv += ["--jumpstart-image", "--draft"]
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
