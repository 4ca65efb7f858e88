"""Benchmarks: many requests against an endpoint, throughput and cost per token."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from genai_workbench.async_inference import (
    invoke_async,
    llm_payload,
    output_token_count,
    wait_for_async_result,
)
from genai_workbench.common import Printer, WorkbenchError, _now, aws_errors
from genai_workbench.deployment import Deployment
from genai_workbench.metrics import (
    cost_per_million_tokens,
    endpoint_instance_count,
    latency_summary,
)


@dataclass(frozen=True)
class BenchmarkSample:
    """One benchmark request."""

    inference_id: str
    succeeded: bool
    latency_seconds: float
    output_tokens: int
    tokens_estimated: bool


@dataclass(frozen=True)
class BenchmarkResult:
    """Requests sent to one endpoint variant, with derived throughput and cost."""

    endpoint_key: str
    instance_type: str
    price_usd_per_hour: float
    instances: int
    wall_seconds: float
    samples: list[BenchmarkSample]

    @property
    def ok(self) -> list[BenchmarkSample]:
        """The samples that succeeded."""
        return [s for s in self.samples if s.succeeded]

    @property
    def throughput_tokens_per_second(self) -> float:
        """Output tokens per second over the whole run (all requests, wall clock)."""
        return (
            sum(s.output_tokens for s in self.ok) / self.wall_seconds if self.wall_seconds else 0.0
        )

    @property
    def cost_per_million_output_tokens(self) -> float:
        """USD per million output tokens at the measured throughput and instance count."""
        return cost_per_million_tokens(
            self.price_usd_per_hour * max(1, self.instances), self.throughput_tokens_per_second
        )

    def summary(self) -> dict[str, Any]:
        """One row for a comparison table."""
        latency = latency_summary(s.latency_seconds for s in self.ok) if self.ok else {}
        throughput = self.throughput_tokens_per_second
        return {
            "endpoint": self.endpoint_key,
            "instance_type": self.instance_type,
            "requests": len(self.samples),
            "failed": len(self.samples) - len(self.ok),
            "p50_s": latency.get("p50"),
            "p90_s": latency.get("p90"),
            "p99_s": latency.get("p99"),
            "tokens_per_s": throughput,
            "usd_per_million_tokens": self.cost_per_million_output_tokens if throughput else None,
            "tokens_estimated": any(s.tokens_estimated for s in self.ok),
        }


@aws_errors
def benchmark_endpoint(
    deployment: Deployment,
    endpoint_key: str,
    prompts: Sequence[str],
    *,
    concurrency: int = 1,
    max_new_tokens: int = 256,
    timeout_seconds: float = 1800,
    poll_seconds: float = 1,
    printer: Printer = print,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _now,
) -> BenchmarkResult:
    """Send ``prompts`` in waves of ``concurrency`` requests; time each and count tokens.

    Warm the endpoint first (``measure_cold_start``): a sleeping endpoint would add its cold
    start to the first wave. Latency is submission to detection of the output file, so it
    includes queueing and up to ``poll_seconds`` of polling.
    """
    if concurrency < 1 or not prompts:
        raise WorkbenchError("need at least one prompt and concurrency >= 1")
    info = deployment.endpoint(endpoint_key)
    samples: list[BenchmarkSample] = []
    started = now()
    instances = endpoint_instance_count(deployment, endpoint_key)
    for first in range(0, len(prompts), concurrency):
        wave = [
            invoke_async(
                deployment, endpoint_key, llm_payload(p, max_new_tokens=max_new_tokens), now=now
            )
            for p in prompts[first : first + concurrency]
        ]
        for invocation in wave:
            result = wait_for_async_result(
                deployment,
                invocation,
                timeout_seconds=timeout_seconds,
                poll_seconds=poll_seconds,
                raise_on_failure=False,
                sleep=sleep,
                clock=clock,
                now=now,
            )
            tokens, estimated = output_token_count(result.body) if result.succeeded else (0, False)
            samples.append(
                BenchmarkSample(
                    invocation.inference_id,
                    result.succeeded,
                    result.latency_seconds,
                    tokens,
                    estimated,
                )
            )
        printer(f"{endpoint_key}: {len(samples)}/{len(prompts)} done")
    instances = max(instances, endpoint_instance_count(deployment, endpoint_key))
    return BenchmarkResult(
        endpoint_key=endpoint_key,
        instance_type=info.instance_type,
        price_usd_per_hour=info.price_usd_per_hour,
        instances=instances,
        wall_seconds=(now() - started).total_seconds(),
        samples=samples,
    )
