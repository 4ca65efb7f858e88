"""Promotion: an endpoint entry (an optimization result, a JumpStart model, a notebook's saved
entry) written into an endpoint of cdk.json, only after the app's own config loader accepts it."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import genai_workbench as wb

from workbench.common import ROOT
from workbench_config import CONTEXT_KEY, ConfigError, load_config
from workbench_domain.errors import shown

CDK_JSON = ROOT / "cdk.json"


def promote(
    config: dict[str, Any], env_name: str, endpoint: str, entry: Mapping[str, Any]
) -> dict[str, Any]:
    """A copy of the cdk.json document with `entry` written into the endpoint's config.

    `entry` is an endpoint entry (`{"instance_type", "model": {...}, "serving": {...}}`, see
    workbench_domain/endpoint_entry.py). The endpoint's other keys stay; its `instance_type`,
    `model` and `serving` are replaced, and it is enabled. The result must pass the app's own
    config loader, else nothing is written and the error names the key.
    """
    if (
        not isinstance(entry, Mapping)
        or not isinstance(entry.get("model"), Mapping)
        or not isinstance(entry.get("serving"), Mapping)
        or not isinstance(entry.get("instance_type"), str)
    ):
        raise wb.WorkbenchError(
            "not an endpoint entry (an object with instance_type, model and serving): "
            f"{shown(entry)}"
        )
    serving = _keeping_the_endpoints_dlc(config, env_name, endpoint, dict(entry["serving"]))
    updated = copy.deepcopy(config)
    environment = updated["context"][CONTEXT_KEY]["environments"][env_name]
    target = environment.setdefault("endpoints", {}).setdefault(endpoint, {})
    # A promoted model is meant to be served: a disabled endpoint (the default `chat`) is enabled.
    target["enabled"] = True
    target["instance_type"] = entry["instance_type"]
    target["model"] = {key: value for key, value in entry["model"].items() if value is not None}
    target["serving"] = copy.deepcopy(serving)
    try:
        load_config(updated["context"][CONTEXT_KEY], env_name)
    except ConfigError as error:
        raise wb.WorkbenchError(
            f"cdk.json left unchanged: the promoted entry is invalid: {error}"
        ) from error
    return updated


def _keeping_the_endpoints_dlc(
    config: dict[str, Any], env_name: str, endpoint: str, serving: dict[str, Any]
) -> dict[str, Any]:
    """An entry for the pinned LMI vLLM image that names no image and no environment (a plain
    or pre-quantized checkpoint) keeps an endpoint's vLLM DLC: both serve such a checkpoint with
    the same vLLM settings, and the endpoint keeps what it chose the DLC for (the OpenAI route).
    Any other entry is written as it is."""
    plain = (
        serving.get("engine") == "vllm"
        and not serving.keys() & {"image_uri", "image_tag", "speculative_decoding"}
        and not serving.get("environment")
    )
    if not plain:
        return serving
    try:
        current = load_config(config["context"][CONTEXT_KEY], env_name).endpoints.get(endpoint)
    except ConfigError:
        return serving  # the loader names the problem once the entry is written
    if current is None or current.serving.engine != "vllm_dlc":
        return serving
    kept = {"engine": "vllm_dlc"}
    if current.serving.image_tag is not None:
        kept["image_tag"] = current.serving.image_tag
    return {**serving, **kept, "environment": {}}


def write_config(config: dict[str, Any], path: Path = CDK_JSON) -> None:
    path.write_text(json.dumps(config, indent=2) + "\n")
