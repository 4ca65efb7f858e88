"""Realtime endpoints in config: the default `chat` endpoint, and what a realtime endpoint
refuses at synth (keys of the other kind, instances without GPUs, more GPUs than the instance
has, the SageMaker-provided draft model)."""

from __future__ import annotations

import pytest

from workbench_config import ConfigError, load_config
from workbench_config.endpoints import RealtimeSettings
from workbench_domain.hosting import Routing
from workbench_domain.serving_environment import advice

PATH = "workbench.environments.dev.endpoints"


def chat(ctx: dict) -> dict:
    return ctx["environments"]["dev"]["endpoints"]["chat"]


def p4d(ctx: dict) -> dict:
    return ctx["environments"]["dev"]["endpoints"]["p4d"]


def test_the_default_chat_endpoint_is_realtime_awq_on_g5_and_disabled(config_context):
    """An AWQ checkpoint, served without naming a quantization: vLLM then reads the checkpoint's
    and runs awq_marlin (serving_environment.advice warns where `awq` is named)."""
    for env in ("dev", "prod"):
        endpoint = load_config(config_context, env).endpoints["chat"]
        assert endpoint.kind == "realtime"
        assert endpoint.enabled is False  # until a model is promoted to it
        assert endpoint.instance_type == "ml.g5.12xlarge"
        # AWS's vLLM DLC, as in AWS's OpenAI-route sample, on the host AMI its guide names
        # for CUDA 13 images; it serves the OpenAI-compatible route, so clients may use it.
        assert endpoint.serving.engine == "vllm_dlc"
        assert endpoint.inference_ami_version == "al2-ami-sagemaker-inference-gpu-3-1"
        assert endpoint.request_schema == "openai"
        assert endpoint.serving.quantization is None
        assert advice(endpoint.serving, endpoint.instance_type) == []
        assert endpoint.serving.tensor_parallel_degree == 4
        # The copy takes the whole instance: all four A10G GPUs.
        assert endpoint.realtime == RealtimeSettings(
            min_instances=0,
            accelerators=4,
            min_memory_mb=1024,
            routing=Routing("prefix_aware"),
            data_cache=True,
            openai_route=True,
        )
        assert endpoint.scaling.target_concurrent_requests_per_copy == 4
        assert endpoint.scaling.idle_minutes_before_zero == 15
        assert endpoint.volume_size_gb is None  # g5 has local NVMe


def test_accelerators_default_to_every_gpu_of_the_instance(config_context):
    chat(config_context).update(instance_type="ml.g5.48xlarge")
    chat(config_context)["serving"]["tensor_parallel_degree"] = 8
    realtime = load_config(config_context, "dev").endpoints["chat"].realtime
    assert realtime is not None and realtime.accelerators == 8


def test_fewer_accelerators_than_the_instance_has_are_accepted(config_context):
    chat(config_context).update(accelerators=4, instance_type="ml.g5.48xlarge")
    assert load_config(config_context, "dev").endpoints["chat"].realtime.accelerators == 4


BAD_REALTIME = [
    (
        "copy-memory-above-the-instances",
        lambda c: chat(c).update(min_memory_mb=200_000),
        "chat.min_memory_mb",
        "ml.g5.12xlarge has 192 GiB of memory: allowed 128..196608",
    ),
    (
        "min-instances-on-an-async-endpoint",
        lambda c: p4d(c).update(min_instances=0),
        "p4d.min_instances",
        "applies to realtime (inference-component) endpoints",
    ),
    (
        "accelerators-on-an-async-endpoint",
        lambda c: p4d(c).update(accelerators=8),
        "p4d.accelerators",
        "applies to realtime",
    ),
    (
        "copy-concurrency-target-on-an-async-endpoint",
        lambda c: p4d(c)["scaling"].update(target_concurrent_requests_per_copy=2),
        "p4d.scaling.target_concurrent_requests_per_copy",
        "applies to realtime",
    ),
    (
        "async-concurrency-on-a-realtime-endpoint",
        lambda c: chat(c).update(max_concurrent_invocations_per_instance=4),
        "chat.max_concurrent_invocations_per_instance",
        "applies to async endpoints",
    ),
    (
        "backlog-target-on-a-realtime-endpoint",
        lambda c: chat(c)["scaling"].update(target_backlog_per_instance=2),
        "chat.scaling.target_backlog_per_instance",
        "applies to async endpoints",
    ),
    (
        "accelerators-above-the-instance",
        lambda c: chat(c).update(accelerators=8),
        "chat.accelerators",
        "ml.g5.12xlarge has 4 GPUs: allowed 1..4",
    ),
    (
        "tensor-parallel-above-the-copy",
        lambda c: chat(c).update(accelerators=2),
        "chat.serving.tensor_parallel_degree",
        "a copy has 2 GPUs (accelerators): allowed 1..2",
    ),
    (
        "min-instances-above-max-capacity",
        lambda c: chat(c).update(min_instances=2),
        "chat.min_instances",
        "allowed: 0..1 (max_capacity)",
    ),
    (
        "realtime-on-a-neuron-instance",
        lambda c: (
            chat(c).update(instance_type="ml.inf2.48xlarge", volume_size_gb=512),
            chat(c).update(serving={"engine": "neuron", "tensor_parallel_degree": 24}),
        ),
        "chat.instance_type",
        "a realtime endpoint needs a GPU instance",
    ),
    (
        "sagemaker-provided-draft-on-a-realtime-endpoint",
        lambda c: chat(c)["serving"].update(
            quantization=None,
            speculative_decoding={
                "method": "draft_model",
                "model": {
                    "s3_uri": "s3://jumpstart-private-cache-prod-{region}/x/",
                    "jumpstart": True,
                },
            },
        ),
        "chat.serving.speculative_decoding.model.jumpstart",
        "cannot be deployed to inference-component endpoints",
    ),
    (
        "unknown-kind",
        lambda c: chat(c).update(kind="serverless"),
        "chat.kind",
        "allowed: async, realtime",
    ),
    (
        "kv-aware-routing-cloudformation-cannot-deploy",
        lambda c: chat(c).update(routing="kv_aware"),
        "chat.routing",
        "CloudFormation's AWS::SageMaker::EndpointConfig schema does not accept it yet",
    ),
    (
        "unknown-routing",
        lambda c: chat(c).update(routing="round_robin"),
        "chat.routing",
        "allowed: kv_aware, least_outstanding_requests, prefix_aware, random",
    ),
    (
        "prefix-options-without-prefix-routing",
        lambda c: chat(c).update(routing="random", prefix_routing={"prefix_length": 2048}),
        "chat.prefix_routing",
        "prefix_routing goes with routing: prefix_aware",
    ),
    (
        "prefix-length-below-the-schemas",
        lambda c: chat(c).update(prefix_routing={"prefix_length": 512}),
        "chat.prefix_routing.prefix_length",
        "allowed: an integer in 1024..65536",
    ),
    (
        "concurrency-threshold-above-the-schemas",
        lambda c: chat(c).update(prefix_routing={"concurrency_threshold": 2048}),
        "chat.prefix_routing.concurrency_threshold",
        "allowed: an integer in 1..1024",
    ),
    (
        "routing-on-an-async-endpoint",
        lambda c: p4d(c).update(routing="prefix_aware"),
        "p4d.routing",
        "applies to realtime (inference-component) endpoints",
    ),
    (
        "data-cache-on-an-async-endpoint",
        lambda c: p4d(c).update(data_cache=True),
        "p4d.data_cache",
        "applies to realtime (inference-component) endpoints",
    ),
    (
        "data-cache-not-a-boolean",
        lambda c: chat(c).update(data_cache="yes"),
        "chat.data_cache",
        "expected true or false",
    ),
    (
        "metrics-publish-frequency-the-schema-lacks",
        lambda c: chat(c).update(metrics={"enhanced": True, "publish_seconds": 45}),
        "chat.metrics.publish_seconds",
        "allowed: 10, 30, 60, 120, 180, 240, 300",
    ),
    (
        "pool-override-of-the-primary",
        lambda c: chat(c).update(pool_overrides={"ml.g5.12xlarge": {"tensor_parallel_degree": 2}}),
        "chat.pool_overrides['ml.g5.12xlarge']",
        "allowed: one of fallback_instance_types (none set)",
    ),
    (
        "pool-degree-above-the-pools-copy",
        lambda c: chat(c).update(
            fallback_instance_types=["ml.g6e.12xlarge"],
            pool_overrides={"ml.g6e.12xlarge": {"accelerators": 2}},
        ),
        "chat.fallback_instance_types[0]",
        "a copy reserves 2 GPUs there, fewer than tensor_parallel_degree 4: set "
        "pool_overrides['ml.g6e.12xlarge'].accelerators or its tensor_parallel_degree",
    ),
    (
        "pool-degree-above-its-gpus",
        lambda c: chat(c).update(
            fallback_instance_types=["ml.g6e.12xlarge"],
            pool_overrides={"ml.g6e.12xlarge": {"tensor_parallel_degree": 8}},
        ),
        "chat.fallback_instance_types[0]",
        "serving.tensor_parallel_degree: ml.g6e.12xlarge has 4 GPUs: allowed 1..4",
    ),
    (
        "pool-model-without-isolation",
        lambda c: chat(c).update(
            fallback_instance_types=["ml.g6e.12xlarge"],
            pool_overrides={
                "ml.g6e.12xlarge": {
                    "model": {"s3_key_prefix": "optimized/x/", "network_isolation": False}
                }
            },
        ),
        "chat.pool_overrides['ml.g6e.12xlarge'].model.network_isolation",
        "every pool's model runs like the endpoint's",
    ),
    (
        "pool-override-unknown-key",
        lambda c: chat(c).update(
            fallback_instance_types=["ml.g6e.12xlarge"],
            pool_overrides={"ml.g6e.12xlarge": {"dtype": "float16"}},
        ),
        "chat.pool_overrides['ml.g6e.12xlarge'].dtype",
        "unknown key; known keys: accelerators, tensor_parallel_degree",
    ),
    (
        "fallback-is-the-instance-type-again",
        lambda c: chat(c).update(fallback_instance_types=["ml.g5.12xlarge"]),
        "chat.fallback_instance_types[0]",
        "already a pool of this endpoint",
    ),
    (
        "fallback-not-an-endpoint-type",
        lambda c: chat(c).update(fallback_instance_types=["ml.g9.12xlarge"]),
        "chat.fallback_instance_types[0]",
        "allowed: an endpoint instance type",
    ),
    (
        "fallback-with-too-few-gpus-for-a-copy",
        lambda c: chat(c).update(fallback_instance_types=["ml.g6e.2xlarge"]),
        "chat.fallback_instance_types[0]",
        "serving.tensor_parallel_degree",
    ),
    (
        "fallback-of-another-accelerator",
        lambda c: p4d(c).update(fallback_instance_types=["ml.inf2.48xlarge"]),
        "p4d.fallback_instance_types[0]",
        "its storage differs from ml.p4d.24xlarge's",
    ),
    (
        "fallback-on-another-engine",
        lambda c: p4d(c).update(fallback_instance_types=["ml.trn1.32xlarge"]),
        "p4d.fallback_instance_types[0]",
        "serving.engine",
    ),
    (
        "more-than-five-pools",
        lambda c: p4d(c).update(
            fallback_instance_types=[
                "ml.p4de.24xlarge",
                "ml.p5.48xlarge",
                "ml.p5e.48xlarge",
                "ml.p5en.48xlarge",
                "ml.g6e.48xlarge",
            ]
        ),
        "p4d.fallback_instance_types",
        "at most 4",
    ),
    (
        "provision-timeout-outside-the-schemas",
        lambda c: p4d(c).update(provision_timeout_seconds=60),
        "p4d.provision_timeout_seconds",
        "allowed: an integer in 300..3600",
    ),
    (
        "capacity-reservation-not-an-arn",
        lambda c: p4d(c).update(capacity_reservation_arn="my-reservation"),
        "p4d.capacity_reservation_arn",
        "allowed: a SageMaker ML capacity reservation ARN",
    ),
    (
        "metrics-unknown-key",
        lambda c: p4d(c).update(metrics={"enhanced_metrics": True}),
        "p4d.metrics.enhanced_metrics",
        "known keys: detailed, enhanced, publish_seconds",
    ),
]


def test_fallback_pools_that_can_serve_the_model_are_accepted(config_context):
    p4d(config_context).update(
        fallback_instance_types=["ml.p4de.24xlarge", "ml.p5.48xlarge"],
        provision_timeout_seconds=1800,
    )
    capacity = load_config(config_context, "dev").endpoints["p4d"].capacity
    assert capacity.fallback_instance_types == ("ml.p4de.24xlarge", "ml.p5.48xlarge")
    assert capacity.provision_timeout_seconds == 1800


def test_chat_routes_by_prefix_caches_its_model_and_reports_enhanced_metrics(config_context):
    endpoint = load_config(config_context, "dev").endpoints["chat"]
    assert endpoint.realtime.routing.strategy == "prefix_aware"
    assert endpoint.realtime.data_cache is True
    assert (endpoint.metrics.enhanced, endpoint.metrics.publish_seconds) == (True, 60)
    p4d_endpoint = load_config(config_context, "dev").endpoints["p4d"]
    assert not p4d_endpoint.metrics.wanted  # async endpoints: CloudWatch's defaults


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [case[1:] for case in BAD_REALTIME],
    ids=[case[0] for case in BAD_REALTIME],
)
def test_bad_realtime_config_is_refused_with_the_key_named(config_context, mutate, path, words):
    mutate(config_context)
    with pytest.raises(ConfigError) as error:
        load_config(config_context, "dev")
    assert error.value.path == f"{PATH}.{path}"
    assert words in str(error.value)
