"""JumpStart models read with boto3 alone: `DescribeHubContent` on the public hub.

The SageMaker Python SDK v3 has no `JumpStartModel`; the hub content document has what an
endpoint needs. The SDK reads that document after turning every key into snake case
(aws/sagemaker-python-sdk a24812666d25 `sagemaker-core/src/sagemaker/core/jumpstart/types.py`:
"json_obj = walk_and_apply_json(json_obj, camel_to_snake)"), so either spelling of a key is the
same field; this parser does the same. What it reads, as the SDK does (same file):

- `hosting_artifact_uri`; the image: `hosting_instance_type_variants.variants.<instance type>`,
  then `.<family>`, `.properties.image_uri` (`_get_regional_property`), then `hosting_ecr_uri`,
  then `hosting_ecr_specs.framework` (only a framework name: served by the app's pinned image
  of that framework, see `FRAMEWORK_ENGINES`);
- `inference_environment_variables` (`name`, `default`, `scope`), then the variants'
  `environment_variables` for the family, then for the instance type
  (`get_instance_specific_environment_variables`);
- `inference_configs.<config>.component_names`, each component of
  `inference_config_components` overriding the same fields;
- the draft: `hosting_additional_data_sources.speculative_decoding[].s3_data_source.s3_uri`,
  its bucket set by the draft's `provider` (`get_draft_model_content_bucket`, below).

The recorded documents this is tested on are named in tests/unit/workbench_domain/
jumpstart_documents.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench_domain.instances import instance_family

PUBLIC_HUB = "SageMakerPublicHub"
# The deployment config of Llama JumpStart models that carries the SageMaker-provided draft.
SPECULATIVE_CONFIG = "lmi-optimized"
# The SDK's image_uri_config frameworks (HostingEcrSpecs.Framework) whose images the app pins
# (aws/sagemaker-python-sdk `sagemaker-core/src/sagemaker/core/image_uri_config/djl-lmi.json`,
# `djl-tensorrtllm.json`, `djl-neuronx.json`): a document that names only the framework is served
# by the app's pinned image of that engine.
FRAMEWORK_ENGINES = {"djl-lmi": "vllm", "djl-tensorrtllm": "trtllm", "djl-neuronx": "neuron"}
# Regions with a SageMaker draft-model bucket: the `neo_content_bucket` entries of
# aws/sagemaker-python-sdk a24812666d25 `sagemaker-core/src/sagemaker/core/jumpstart/
# region_config.json` (e.g. "neo_content_bucket": "sagemaker-sd-models-prod-us-east-1"). Every
# region of that file names its buckets `jumpstart-cache-prod-<region>` and
# `jumpstart-private-cache-prod-<region>`.
DRAFT_BUCKET_REGIONS = frozenset(
    {
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
        "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2",
        "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    }
)  # fmt: skip


class JumpStartError(ValueError):
    """A hub document that lacks what an endpoint needs; the message says what."""


@dataclass(frozen=True)
class JumpStartModel:
    model_id: str
    version: str
    # JumpStart's image for the instance type, when the document gives one.
    image_uri: str | None
    # The engine of the app whose pinned image stands for `HostingEcrSpecs`, when the document
    # names a framework the app pins (None: no image URI and no such framework).
    framework_engine: str | None
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


def camel_to_snake(name: str) -> str:
    """`HostingEcrUri` -> `hosting_ecr_uri`; a snake-case key is unchanged. The SDK's rule
    (sagemaker-core `common_utils.py`: `re.sub(r"(?<!^)(?=[A-Z])", "_", camel_case_string)`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def snake_keys(value: Any) -> Any:
    """The document with every key in snake case, except the names of environment variables
    (data, not field names: the SDK's walk would turn OPTION_X into o_p_t_i_o_n__x)."""
    if isinstance(value, Mapping):
        return {
            camel_to_snake(str(k)): (
                dict(v) if camel_to_snake(str(k)) == "environment_variables" else snake_keys(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def _variant_properties(sections: list[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    """The `properties` of variant `name` (a family or an instance type) in each section."""
    found = []
    for section in sections:
        variants = (section.get("hosting_instance_type_variants") or {}).get("variants") or {}
        variant = variants.get(name)
        if isinstance(variant, Mapping) and isinstance(variant.get("properties"), Mapping):
            found.append(variant["properties"])
    return found


def _environment(variables: Any) -> dict[str, str]:
    return {
        str(v["name"]): str(v["default"])
        for v in variables or []
        if v.get("scope", "container") == "container" and v.get("default") is not None
    }


def draft_bucket(provider: Mapping[str, Any] | None, region: str) -> str:
    """The bucket the SDK serves a SageMaker-provided draft from, by its provider (aws/
    sagemaker-python-sdk v2.257.1 `src/sagemaker/jumpstart/utils.py`
    get_draft_model_content_bucket: no provider or another provider -> the Neo bucket;
    `"name": "JumpStart"` -> the gated bucket when `classification` is gated, else the public
    one)."""
    provider = provider or {}
    if provider.get("name") == "JumpStart":
        if provider.get("classification", "ungated") == "gated":
            return f"jumpstart-private-cache-prod-{region}"
        return f"jumpstart-cache-prod-{region}"
    if region not in DRAFT_BUCKET_REGIONS:
        raise JumpStartError(
            f"the SageMaker-provided draft model is not published in {region} (the SageMaker "
            f"SDK knows its bucket in: {', '.join(sorted(DRAFT_BUCKET_REGIONS))})"
        )
    return f"sagemaker-sd-models-prod-{region}"


def draft_uri(source: Mapping[str, Any], region: str) -> str:
    """The S3 prefix of one `speculative_decoding` data source, in `region`.

    As the SDK's `S3DataSource.set_bucket` (same release, `jumpstart/types.py`): a full
    `s3://` URI gets the provider's bucket in place of its own, a key is put under it.
    """
    s3_uri = str((source.get("s3_data_source") or {}).get("s3_uri") or "")
    if not s3_uri:
        raise JumpStartError(f"draft model source {source.get('channel_name')!r} has no S3 URI")
    key = s3_uri.removeprefix("s3://").split("/", 1)[1] if s3_uri.startswith("s3://") else s3_uri
    key = key.lstrip("/")
    bucket = draft_bucket(source.get("provider"), region)
    return f"s3://{bucket}/{key}" if key.endswith("/") else f"s3://{bucket}/{key}/"


def _draft(component: Mapping[str, Any], region: str) -> str | None:
    sources = (component.get("hosting_additional_data_sources") or {}).get("speculative_decoding")
    for source in sources or []:
        return draft_uri(source, region)
    return None


def parse_model(
    response: Mapping[str, Any],
    config_name: str | None = None,
    *,
    instance_type: str,
    region: str,
) -> JumpStartModel:
    """A DescribeHubContent response for `instance_type` in `region`, with deployment config
    `config_name` applied."""
    name = response.get("HubContentName")
    try:
        document = json.loads(response["HubContentDocument"])
    except (KeyError, TypeError, ValueError) as error:
        raise JumpStartError(f"hub document of {name} is not JSON: {error}") from None
    if not isinstance(document, Mapping):
        raise JumpStartError(f"hub document of {name} is not a JSON object")
    document = snake_keys(document)
    sections: list[Mapping[str, Any]] = [document]
    if config_name is not None:
        configs = document.get("inference_configs") or {}
        if config_name not in configs:
            raise JumpStartError(
                f"{name} has no deployment config {config_name!r}; "
                f"it has: {', '.join(sorted(configs)) or 'none'}"
            )
        components = document.get("inference_config_components") or {}
        for component_name in configs[config_name].get("component_names") or []:
            sections.append(components.get(component_name) or {})
    # A config's components override the document field by field; a list (the environment)
    # is replaced whole, the variants merge (the SDK's resolved_config, deep_override_dict).
    artifacts = ecr_uri = framework = draft = None
    variables: Any = None
    for section in sections:
        artifacts = section.get("hosting_artifact_uri") or artifacts
        ecr_uri = section.get("hosting_ecr_uri") or ecr_uri
        framework = (section.get("hosting_ecr_specs") or {}).get("framework") or framework
        if section.get("inference_environment_variables") is not None:
            variables = section["inference_environment_variables"]
        draft = _draft(section, region) or draft
    environment = _environment(variables)
    image = None
    # Family first, then the instance type: the more specific wins (_get_regional_property,
    # get_instance_specific_environment_variables).
    for variant in (instance_family(instance_type), instance_type):
        for properties in _variant_properties(sections, variant):
            image = properties.get("image_uri") or image
            environment.update(
                {str(k): str(v) for k, v in (properties.get("environment_variables") or {}).items()}
            )
    image = image or ecr_uri
    if not artifacts:
        raise JumpStartError(f"hub document of {name} has no HostingArtifactUri")
    if not str(artifacts).startswith("s3://"):
        raise JumpStartError(
            f"hub document of {name}: HostingArtifactUri {artifacts!r} is not an s3:// URI"
        )
    return JumpStartModel(
        model_id=str(name),
        version=str(response.get("HubContentVersion")),
        image_uri=str(image) if image else None,
        framework_engine=FRAMEWORK_ENGINES.get(str(framework)) if framework else None,
        artifacts_uri=artifacts if str(artifacts).endswith("/") else f"{artifacts}/",
        environment=environment,
        draft_s3_uri=draft,
        config_name=config_name,
    )
