"""The notebook client's cold-start measurement and benchmarks."""

from __future__ import annotations

import json

import genai_workbench as wb
import pytest

from tests.unit.notebooks.client_kit import (
    FakeTime,
    describe_endpoint,
    put,
    runtime_response,
    stubbed,
)

# ------------------------------------------------------------ cold start and benchmarking


def test_measure_cold_start_times_capacity_and_first_result(deployment, s3):
    sagemaker = stubbed(deployment, "sagemaker")
    for count in (0, 0, 0, 1):
        sagemaker.add_response("describe_endpoint", describe_endpoint(deployment, count))
    runtime = stubbed(deployment, "sagemaker-runtime")
    runtime.add_response("invoke_endpoint_async", runtime_response(deployment, "cold"))
    fake = FakeTime()
    out = runtime_response(deployment, "cold")["OutputLocation"]
    fake.hooks.append(lambda n: n == 4 and put(s3, out, b'{"generated_text": "hi"}'))
    printed = []
    cold = wb.measure_cold_start(
        deployment,
        "p4d",
        {"inputs": "x"},
        poll_seconds=60,
        printer=printed.append,
        **fake.kwargs(),
    )
    assert cold.initial_instances == 0
    assert cold.capacity_seconds == 120
    assert cold.result_seconds == 240
    assert [s.count for s in cold.samples] == [0, 0, 0, 1]
    assert any("capacity after 2m00s" in line for line in printed)


def test_benchmark_measures_latency_tokens_and_cost(deployment, s3):
    sagemaker = stubbed(deployment, "sagemaker")
    for _ in range(2):
        sagemaker.add_response("describe_endpoint", describe_endpoint(deployment, 1))
    runtime = stubbed(deployment, "sagemaker-runtime")
    for i in range(4):
        runtime.add_response("invoke_endpoint_async", runtime_response(deployment, f"b{i}"))
    fake = FakeTime()

    def answer(_):
        for i in range(4):
            body = {"generated_text": "t", "details": {"generated_tokens": 100}}
            put(
                s3,
                runtime_response(deployment, f"b{i}")["OutputLocation"],
                json.dumps(body).encode(),
            )

    fake.hooks.append(answer)
    result = wb.benchmark_endpoint(
        deployment,
        "p4d",
        ["a", "b", "c", "d"],
        concurrency=2,
        poll_seconds=1,
        printer=lambda _: None,
        **fake.kwargs(),
    )
    assert len(result.ok) == 4
    assert result.wall_seconds == 1
    assert result.throughput_tokens_per_second == 400
    row = result.summary()
    assert row["failed"] == 0 and row["tokens_estimated"] is False
    assert row["usd_per_million_tokens"] == pytest.approx(37.688 / 3600 / 400 * 1e6)
