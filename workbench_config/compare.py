"""The `compare` section: which endpoint serves the base model, and the targets `make compare`
marks each measured variant against (accuracy drop, latency, the month's cost)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from workbench_config.reader import ConfigError, Reader


@dataclass(frozen=True)
class CompareConfig:
    # The endpoint that serves the unoptimized model: accuracy differences are taken from it.
    base_endpoint: str | None = None
    # The largest accuracy loss accepted, in points of the task's score (0.02 = 2 points): a
    # variant meets it when its whole 95 % interval of the difference lies above -drop.
    max_accuracy_drop: float = 0.02
    # The time to first token, 95th percentile, in ms a realtime variant must keep (none: any).
    max_ttft_p95_ms: float | None = None
    # The month's cost of the usage profile's traffic a variant must stay under (none: the
    # environment's budget, `budget.monthly_usd`).
    monthly_budget_usd: float | None = None


def parse_compare(section: Reader, *, endpoints: Collection[str]) -> CompareConfig:
    config = CompareConfig(
        base_endpoint=section.string(
            "base_endpoint",
            None,
            pattern=r"[a-z][a-z0-9-]*",
            describe="allowed: an endpoint key of this environment",
        ),
        max_accuracy_drop=section.number("max_accuracy_drop", 0.02, minimum=0, maximum=1),
        max_ttft_p95_ms=section.number("max_ttft_p95_ms", None, minimum=1),
        monthly_budget_usd=section.number("monthly_budget_usd", None, minimum=0),
    )
    if config.base_endpoint is not None and config.base_endpoint not in endpoints:
        raise ConfigError(
            section.child_path("base_endpoint"),
            config.base_endpoint,
            f"allowed: an endpoint key of this environment ({', '.join(sorted(endpoints))})",
        )
    return config
