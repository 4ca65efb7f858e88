"""JumpStart models read with boto3 alone: `DescribeHubContent` on the public hub.

The SageMaker Python SDK v3 has no `JumpStartModel`; the hub content document has what an
endpoint needs. Field names as the SDK v2 parses them (aws/sagemaker-python-sdk v2.257.1
`src/sagemaker/jumpstart/hub/interfaces.py`, `HubModelDocument.from_json`, and
`src/sagemaker/jumpstart/types.py` for config components and additional data sources):
`HostingEcrUri`, `HostingArtifactUri`, `InferenceEnvironmentVariables` (`Name`, `Default`,
`Scope`), `InferenceConfigs` (`ComponentNames`), `InferenceConfigComponents` (overrides of the
same fields, and `HostingAdditionalDataSources.SpeculativeDecoding`: `ChannelName`,
`S3DataSource.S3Uri`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PUBLIC_HUB = "SageMakerPublicHub"
# The deployment config of Llama-3 JumpStart models that carries the SageMaker-provided draft.
SPECULATIVE_CONFIG = "lmi-optimized"


class JumpStartError(ValueError):
    """A hub document that lacks what an endpoint needs; the message says what."""


@dataclass(frozen=True)
class JumpStartModel:
    model_id: str
    version: str
    image_uri: str
    artifacts_uri: str
    environment: Mapping[str, str]
    # The SageMaker-provided draft model of the chosen config, when it has one.
    draft_s3_uri: str | None
    config_name: str | None


def describe_request(model_id: str, version: str | None = None) -> dict[str, str]:
    """The DescribeHubContent request for a JumpStart model."""
    request = {"HubName": PUBLIC_HUB, "HubContentType": "Model", "HubContentName": model_id}
    if version:
        request["HubContentVersion"] = version
    return request


def _environment(variables: Any) -> dict[str, str]:
    return {
        str(v["Name"]): str(v["Default"])
        for v in variables or []
        if v.get("Scope", "container") == "container" and v.get("Default") is not None
    }


def _draft(component: Mapping[str, Any]) -> str | None:
    sources = (component.get("HostingAdditionalDataSources") or {}).get("SpeculativeDecoding")
    for source in sources or []:
        uri = str((source.get("S3DataSource") or {}).get("S3Uri") or "")
        if uri:
            if not uri.startswith("s3://"):
                raise JumpStartError(f"draft model source is not an s3:// URI: {uri!r}")
            return uri if uri.endswith("/") else uri + "/"
    return None


def parse_model(response: Mapping[str, Any], config_name: str | None = None) -> JumpStartModel:
    """A DescribeHubContent response, with deployment config `config_name` applied."""
    document = json.loads(response["HubContentDocument"])
    fields = {
        "HostingEcrUri": document.get("HostingEcrUri"),
        "HostingArtifactUri": document.get("HostingArtifactUri"),
    }
    environment = _environment(document.get("InferenceEnvironmentVariables"))
    draft = None
    if config_name is not None:
        configs = document.get("InferenceConfigs") or {}
        if config_name not in configs:
            raise JumpStartError(
                f"{response.get('HubContentName')} has no deployment config {config_name!r}; "
                f"it has: {', '.join(sorted(configs)) or 'none'}"
            )
        components = document.get("InferenceConfigComponents") or {}
        for name in configs[config_name].get("ComponentNames") or []:
            component = components.get(name) or {}
            fields.update({k: component[k] for k in fields if component.get(k)})
            environment.update(_environment(component.get("InferenceEnvironmentVariables")))
            draft = _draft(component) or draft
    for name, value in fields.items():
        if not value:
            raise JumpStartError(f"hub document of {response.get('HubContentName')} has no {name}")
    artifacts = str(fields["HostingArtifactUri"])
    return JumpStartModel(
        model_id=str(response.get("HubContentName")),
        version=str(response.get("HubContentVersion")),
        image_uri=str(fields["HostingEcrUri"]),
        artifacts_uri=artifacts if artifacts.endswith("/") else artifacts + "/",
        environment=environment,
        draft_s3_uri=draft,
        config_name=config_name,
    )
