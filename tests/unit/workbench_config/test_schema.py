"""cdk.schema.json: generated from the config parsers, in step with them, and refusing what the
loader refuses wherever JSON Schema can say it (rules across keys stay the loader's)."""

from __future__ import annotations

import copy
import json
import re
import shutil

import jsonschema
import pytest

from tests.conftest import ROOT, cdk_context, expanded_workbench
from tests.unit.workbench_config import (
    test_config,
    test_endpoints_config,
    test_optimization_config,
    test_pipeline_config,
    test_realtime_config,
)
from tools.config_schema import main, problems, render
from workbench_config import ConfigError, load_environments
from workbench_config.schema import SCHEMA_FILE, describe_cdk_json

VALIDATOR = jsonschema.Draft202012Validator(describe_cdk_json())


def schema_errors(workbench: dict) -> list[str]:
    """Each schema error as the dotted key path the loader would use (`workbench.a.b[0]`)."""
    errors = VALIDATOR.iter_errors({"context": {"workbench": workbench}})
    return [re.sub(r"^\$\.context\.", "", error.json_path) for error in errors]


def test_the_schema_is_valid_json_schema_and_the_checked_in_file_is_current():
    jsonschema.Draft202012Validator.check_schema(describe_cdk_json())
    assert (ROOT / SCHEMA_FILE).read_text() == render()
    assert problems(ROOT / "cdk.json", ROOT / SCHEMA_FILE) == []


def test_cdk_json_and_the_pipeline_example_validate():
    assert schema_errors(cdk_context()["workbench"]) == []
    workbench = copy.deepcopy(cdk_context()["workbench"])
    workbench["pipeline"] = json.loads((ROOT / "pipeline.example.json").read_text())
    assert schema_errors(workbench) == []


def test_every_key_the_parsers_read_is_described():
    environment = describe_cdk_json()["$defs"]["environment"]
    endpoint = environment["properties"]["endpoints"]["additionalProperties"]
    serving = endpoint["properties"]["serving"]["properties"]
    assert set(endpoint["properties"]) >= {"instance_type", "model", "serving", "scaling"}
    assert set(serving["speculative_decoding"]["properties"]) == {
        "method",
        "num_speculative_tokens",
        "draft_tensor_parallel_degree",
        "model",
    }
    location = serving["speculative_decoding"]["properties"]["model"]
    assert location["oneOf"] == [{"required": ["s3_key_prefix"]}, {"required": ["s3_uri"]}]
    assert endpoint["properties"]["max_capacity"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 1,
    }
    assert environment["properties"]["endpoints"]["propertyNames"]["maxLength"] == 20


def test_a_partial_environment_is_valid_since_only_the_merge_must_be_complete():
    workbench = {"project": "genai-opt", "environments": {"dev": {"storage": {}}}}
    assert schema_errors(workbench) == []


def _cases():
    for name, mutate, env_name, path, _ in test_config.BAD_CONFIGS:
        if mutate is not None and env_name == "dev":
            yield name, mutate, path
    for name, mutate, path, _ in test_endpoints_config.BAD_ENDPOINTS:
        yield name, mutate, f"{test_endpoints_config.PATH}.{path}"
    for name, mutate, path, _ in test_realtime_config.BAD_REALTIME:
        yield name, mutate, f"{test_realtime_config.PATH}.{path}"
    for name, change, key, _ in test_optimization_config.BAD:
        yield (
            name,
            lambda c, change=change: test_optimization_config.section(c).update(change),
            f"{test_optimization_config.PATH}.{key}",
        )
    for name, mutate, path, _ in test_pipeline_config.BAD_PIPELINES:

        def with_example(c, mutate=mutate):
            c["pipeline"] = copy.deepcopy(test_pipeline_config.EXAMPLE)
            for environment in c["environments"].values():
                environment.update(account=None, region=None)
            mutate(c)

        yield name, with_example, path


CASES = list(_cases())
# Refused by the loader for a rule that spans keys or looks outside the key (an engine that needs
# another instance, a tag of the wrong image family, a stage of an unknown environment): no JSON
# Schema keyword states these, so an editor cannot flag them; synth does.
LOADER_ONLY = {
    # A required key: an environment may take it from `defaults`, so the schema cannot require it.
    "missing-removal-policy",
    "missing-price",
    # The engine, image and instance together (workbench_domain/serving.py's check).
    "neuron-engine-on-p4d",
    "vllm-engine-on-inf2",
    "trtllm-engine-on-cpu",
    "tensor-parallel-above-the-gpus",
    "tensor-parallel-above-the-neuron-cores",
    "draft-model-on-a-vllm-without-it",
    "speculative-decoding-on-trtllm",
    "speculative-decoding-on-neuron",
    "speculative-model-missing",
    "legacy-draft-key-on-lmi15-plus",
    "legacy-speculative-length",
    "misspelt-option-key",
    "vllm-key-on-neuron",
    "typed-setting-repeated-in-environment",
    "speculative-config-by-hand",
    "unknown-image-tag",
    "unknown-image-uri",
    "image-uri-and-tag",
    "dtype-the-image-does-not-take",
    "quantization-the-image-does-not-take",
    "typed-settings-on-a-custom-image",
    # vLLM's start-up rules across settings, and the loading budget against the health check.
    "awq-kernel-with-bf16",
    # A key that must name another section's key (the environment's endpoints).
    "compare-base-is-not-an-endpoint",
    # The domain's S3 grammar beyond the pattern (bucket name rules, path segments).
    "bucket-with-two-dots",
    "empty-key-segment",
    "dot-dot-key-segment",
    "copy-memory-above-the-instances",
    "draft-parallel-degree-not-the-targets",
    "eagle-parallel-degree-neither-1-nor-the-targets",
    "draft-parallel-degree-without-the-targets",
    "draft-vocabulary-not-the-targets",
    "async-scheduling-with-a-draft-model",
    "loading-timeout-below-the-health-check",
    "loading-timeout-below-the-neuron-health-check",
    "loading-timeout-not-a-number",
    # An image URI: the domain's ECR grammar (workbench_domain/uris.py) checks it, with lengths.
    "image-uri-not-ecr",
    # Another key's value or arithmetic: network isolation, the instance's storage, the workflow
    # timeout, whole minutes, the image family's tag.
    "jumpstart-draft-without-isolation",
    "volume-on-p4d",
    "no-volume-on-inf2",
    "wake-period-not-whole-minutes",
    "runaway-margin-past-a-day",
    "runtime-longer-than-the-workflow-waits",
    "image-of-another-family",
    # The endpoint's kind against its other keys and its instance (workbench_config/endpoints.py).
    "min-instances-on-an-async-endpoint",
    "accelerators-on-an-async-endpoint",
    "copy-concurrency-target-on-an-async-endpoint",
    "async-concurrency-on-a-realtime-endpoint",
    "backlog-target-on-a-realtime-endpoint",
    "accelerators-above-the-instance",
    "tensor-parallel-above-the-copy",
    "min-instances-above-max-capacity",
    "realtime-on-a-neuron-instance",
    "sagemaker-provided-draft-on-a-realtime-endpoint",
    "routing-on-an-async-endpoint",
    "openai-route-on-async",
    # The image's row (workbench_domain/serving_images.json) against the engine's settings, the
    # instance family, its entrypoint's reserved and flag-only keys, and the route it serves.
    "neuron-vllm-on-trn2",
    "neuron-vllm-dtype",
    "neuron-vllm-flag-with-a-value",
    "neuron-vllm-batch-by-hand",
    "neuron-vllm-model-by-hand",
    "lmi-key-on-neuron-vllm",
    "vllm-dlc-port",
    "vllm-dlc-misspelt-flag",
    "vllm-dlc-speculative-config-by-hand",
    "vllm-dlc-lmi-dtype",
    "openai-route-on-lmi",
    "neuron-ami-on-gpu",
    # A fallback pool against the endpoint's own type, serving settings and copy; its name
    # against botocore's instance types (the schema says only its shape).
    "fallback-is-the-instance-type-again",
    "pool-override-of-the-primary",
    "pool-degree-above-the-pools-copy",
    "pool-degree-above-its-gpus",
    "pool-model-without-isolation",
    "pool-accelerators-on-async",
    "fallback-not-an-endpoint-type",
    "fallback-with-too-few-gpus-for-a-copy",
    "fallback-of-another-accelerator",
    "fallback-on-another-engine",
    "data-cache-on-an-async-endpoint",
    "prefix-options-without-prefix-routing",
    # An API value CloudFormation cannot deploy, named so the refusal can say why; a
    # publish frequency from the schema's list (the JSON Schema says only its minimum).
    "kv-aware-routing-cloudformation-cannot-deploy",
    "metrics-publish-frequency-the-schema-lacks",
    # The pipeline against the environments and its own enabled flag.
    "enabled-without-connection",
    "enabled-without-pipeline-account",
    "enabled-without-stages",
    "stage-of-unknown-environment",
    "stage-in-another-region",
    "environment-deployed-twice",
    "environment-account-disagrees-with-stage",
    "environment-region-disagrees-with-stage",
}


@pytest.mark.parametrize(("mutate", "path"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_schema_refuses_what_the_loader_refuses_where_json_schema_can_say_it(
    request, mutate, path
):
    workbench = expanded_workbench(cdk_context()["workbench"])
    mutate(workbench)
    with pytest.raises(ConfigError) as error:
        load_environments(workbench)
    assert error.value.path == path
    found = [
        p for p in schema_errors(workbench) if path == p or path.startswith((f"{p}.", f"{p}["))
    ]
    case = request.node.callspec.id
    if case in LOADER_ONLY:
        assert not found, f"{case} is refused by the schema too: remove it from LOADER_ONLY"
    else:
        assert found, f"the schema accepts {path}; errors: {schema_errors(workbench)}"


def test_check_fails_on_a_stale_schema_and_on_a_cdk_json_that_breaks_it(tmp_path, capsys):
    shutil.copy(ROOT / "cdk.json", tmp_path / "cdk.json")
    assert main(["--root", str(tmp_path), "--check"]) == 1
    assert "run `make schema`" in capsys.readouterr().err
    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--root", str(tmp_path), "--check"]) == 0
    cdk_json = json.loads((tmp_path / "cdk.json").read_text())
    cdk_json["context"]["workbench"]["defaults"]["workspace"]["idle_minutes"] = 2
    (tmp_path / "cdk.json").write_text(json.dumps(cdk_json))
    assert main(["--root", str(tmp_path), "--check"]) == 1
    assert "workbench.defaults.workspace.idle_minutes: 2 is less than" in capsys.readouterr().err
