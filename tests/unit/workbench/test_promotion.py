"""workbench.promotion: an endpoint entry written into cdk.json through the config loader."""

from __future__ import annotations

import json

import genai_workbench as wb
import pytest

from tests.conftest import ROOT
from workbench.promotion import promote, write_config
from workbench_config import load_config


def project_config() -> dict:
    return json.loads((ROOT / "cdk.json").read_text())


ENTRY = {
    "instance_type": "ml.g5.12xlarge",
    "model": {"s3_uri": "s3://genai-artifacts/optimized/job/", "accept_eula": False},
    "serving": {
        "engine": "vllm",
        "tensor_parallel_degree": 4,
        "quantization": "awq",
        "environment": {},
    },
}


def test_promote_replaces_model_and_instance_and_keeps_the_rest():
    original = project_config()
    updated = promote(original, "dev", "p4d", ENTRY)
    before = original["context"]["workbench"]["environments"]["dev"]["endpoints"]["p4d"]
    after = updated["context"]["workbench"]["environments"]["dev"]["endpoints"]["p4d"]
    assert after == {
        **before,
        "enabled": True,
        "instance_type": "ml.g5.12xlarge",
        "model": ENTRY["model"],
        "serving": ENTRY["serving"],
    }
    # the input is not modified
    assert original == project_config()


def test_promoting_to_the_disabled_realtime_chat_endpoint_enables_it():
    original = project_config()
    updated = promote(original, "dev", "chat", ENTRY)
    after = updated["context"]["workbench"]["environments"]["dev"]["endpoints"]["chat"]
    assert after["enabled"] is True
    assert after["model"] == ENTRY["model"]
    config = load_config(updated["context"]["workbench"], "dev").endpoints["chat"]
    assert (config.kind, config.enabled, config.instance_type) == (
        "realtime",
        True,
        "ml.g5.12xlarge",
    )


def test_a_checkpoint_promoted_to_the_chat_endpoint_keeps_its_vllm_dlc():
    """chat runs AWS's vLLM DLC (for the OpenAI route); a quantization result that names no
    image would move it to the pinned LMI image. Both vLLMs read the checkpoint alike: the
    endpoint keeps its engine, the entry's typed settings go with it."""
    updated = promote(project_config(), "dev", "chat", ENTRY)
    after = updated["context"]["workbench"]["environments"]["dev"]["endpoints"]["chat"]
    assert after["serving"] == {**ENTRY["serving"], "engine": "vllm_dlc", "environment": {}}
    config = load_config(updated["context"]["workbench"], "dev").endpoints["chat"]
    assert config.realtime.openai_route is True
    # An entry that names its image, or an endpoint on LMI, is written as it is.
    named = {**ENTRY, "serving": {**ENTRY["serving"], "image_tag": "0.36.0-lmi20.0.0-cu128"}}
    chat = promote(project_config(), "dev", "chat", named)
    assert (
        chat["context"]["workbench"]["environments"]["dev"]["endpoints"]["chat"]["serving"]
        == named["serving"]
    )


def test_promote_refuses_what_the_endpoints_config_refuses():
    # inf2 has no local NVMe: its endpoint must say how large a volume it needs
    inf2 = {**ENTRY, "instance_type": "ml.inf2.48xlarge"}
    with pytest.raises(wb.WorkbenchError, match=r"left unchanged.*p4d.serving.engine"):
        promote(project_config(), "dev", "p4d", inf2)
    # a new endpoint lacks settings a result does not give
    with pytest.raises(wb.WorkbenchError, match=r"awq.price_usd_per_hour.*required"):
        promote(project_config(), "dev", "awq", ENTRY)


def test_promote_refuses_something_that_is_not_an_entry():
    with pytest.raises(wb.WorkbenchError, match="not an endpoint entry"):
        promote(project_config(), "dev", "x", {"model": {}})


def test_written_cdk_json_keeps_its_layout(tmp_path):
    original = (ROOT / "cdk.json").read_text()
    path = tmp_path / "cdk.json"
    write_config(json.loads(original), path)
    assert path.read_text() == original
