"""Plots (matplotlib, imported lazily)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from genai_workbench.benchmark import BenchmarkResult
from genai_workbench.metrics import InstanceSample
from workbench_domain.comparison import Row


def plot_scaling(
    samples: Sequence[InstanceSample], series: Mapping[str, Sequence[tuple[datetime, float]]]
) -> Any:
    """Instance count (sampled) over CloudWatch backlog series; returns the figure."""
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6))
    top.step([s.at for s in samples], [s.count for s in samples], where="post")
    top.set_ylabel("instances")
    top.set_title("Instance count (DescribeEndpoint)")
    for name, points in series.items():
        bottom.plot([t for t, _ in points], [v for _, v in points], marker=".", label=name)
    bottom.set_ylabel("value")
    bottom.set_title("CloudWatch AWS/SageMaker")
    bottom.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_benchmarks(results: Sequence[BenchmarkResult]) -> Any:
    """Latency percentiles, throughput and cost per million tokens per variant; the figure."""
    import matplotlib.pyplot as plt

    rows = [r.summary() for r in results]
    names = [f"{r['endpoint']}\n{r['instance_type']}" for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    width = 0.25
    for i, quantile in enumerate(("p50_s", "p90_s", "p99_s")):
        axes[0].bar(
            [x + (i - 1) * width for x in range(len(rows))],
            [r[quantile] or 0 for r in rows],
            width,
            label=quantile[:-2],
        )
    axes[0].set_xticks(range(len(rows)), names)
    axes[0].set_ylabel("seconds")
    axes[0].set_title("Latency per request")
    axes[0].legend()
    axes[1].bar(names, [r["tokens_per_s"] for r in rows])
    axes[1].set_title("Output tokens / s")
    axes[2].bar(names, [r["usd_per_million_tokens"] or 0 for r in rows])
    axes[2].set_title("USD / million output tokens")
    fig.tight_layout()
    return fig


def plot_comparison(rows: Sequence[Row], path: Path | None = None) -> Any:
    """The trade-off in one figure: each variant's accuracy difference from the base (95 %
    interval) against its cost per million output tokens, and its TTFT p50/p95; the figure,
    also written to `path` when given."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
    for r in rows:
        name, cost = r.variant.endpoint_key, r.usd_per_million_tokens
        for task, d in r.differences.items():
            if d is None or cost is None:
                continue
            error = (
                None if d.low is None or d.high is None else [[d.mean - d.low], [d.high - d.mean]]
            )
            left.errorbar([cost], [d.mean], yerr=error, fmt="o", capsize=4, label=f"{name} {task}")
        speed = r.variant.speed
        if speed is not None and speed.ttft_ms.p50 is not None:
            right.bar([f"{name} p50", f"{name} p95"], [speed.ttft_ms.p50, speed.ttft_ms.p95 or 0])
    left.axhline(0, color="grey", linewidth=0.8)
    left.set_xlabel("USD per million output tokens (measured throughput)")
    left.set_ylabel("accuracy minus the base's")
    left.set_title("Accuracy against cost")
    if left.get_legend_handles_labels()[0]:
        left.legend(fontsize=8)
    right.set_ylabel("ms")
    right.set_title("Time to first token")
    right.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig
