"""One comparison of every measured variant: speed, accuracy against the base, cost, targets.

The guidance this app replaces exists to strike "the right balance between inference speed,
model accuracy, and cost-efficiency"; this module turns the stored measurements into the rows
that show it (`make compare`, notebook 06), and says where each number came from: measured
(an AI benchmark job, the async runner, lm-evaluation-harness), or estimated (the usage
simulator, at measured speed where there is one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from workbench_domain.accuracy import Z95, Accuracy, comparable, paired_difference
from workbench_domain.measurements import Speed


def cost_per_million_tokens(price_usd_per_hour: float, tokens_per_second: float) -> float:
    """USD per million output tokens at a sustained throughput (`price` for all instances)."""
    if price_usd_per_hour < 0 or tokens_per_second <= 0:
        raise ValueError("price must be >= 0 and tokens_per_second > 0")
    return price_usd_per_hour / 3600 / tokens_per_second * 1_000_000


@dataclass(frozen=True)
class Targets:
    """What a variant must keep (config `compare`): None means no target."""

    max_accuracy_drop: float = 0.02
    max_ttft_p95_ms: float | None = None
    monthly_budget_usd: float | None = None


@dataclass(frozen=True)
class Variant:
    """What is known of one endpoint: its record, and the measurements stored for it."""

    endpoint_key: str
    instance_type: str
    price_usd_per_hour: float
    speed: Speed | None = None
    accuracy: Mapping[str, Accuracy] = field(default_factory=dict)
    # The month's cost of the usage profile's traffic on it (usage simulator), if estimated.
    month_usd: float | None = None
    month_source: str = ""
    speculative: str = "not configured"


@dataclass(frozen=True)
class Difference:
    """The variant's score minus the base's on the same documents, with its 95 % interval."""

    mean: float
    low: float | None
    high: float | None
    documents: int


@dataclass(frozen=True)
class Row:
    variant: Variant
    usd_per_million_tokens: float | None
    differences: Mapping[str, Difference | None]
    # target -> met (True/False), or None when it cannot be judged (not measured, no target)
    meets: Mapping[str, bool | None]
    sources: tuple[str, ...]

    @property
    def meets_all(self) -> bool | None:
        judged = [m for m in self.meets.values() if m is not None]
        return all(judged) if judged else None


def _difference(variant: Accuracy, base: Accuracy) -> Difference | None:
    if not comparable(variant, base):
        return None
    paired = paired_difference(variant, base)
    if paired is None:
        return None
    mean, stderr = paired
    documents = len(set(variant.per_document) & set(base.per_document))
    if stderr is None:
        return Difference(mean, None, None, documents)
    return Difference(mean, mean - Z95 * stderr, mean + Z95 * stderr, documents)


def row(variant: Variant, base: Variant | None, targets: Targets) -> Row:
    speed, sources = variant.speed, []
    usd_per_million = None
    if speed is not None and speed.tokens_per_second:
        price = variant.price_usd_per_hour * max(1, speed.instances)
        usd_per_million = cost_per_million_tokens(price, speed.tokens_per_second)
        sources.append(f"speed: measured ({speed.runner} {speed.run}, {speed.measured_at})")
    else:
        sources.append("speed: not measured (make benchmark)")
    differences: dict[str, Difference | None] = {}
    for task, accuracy in sorted(variant.accuracy.items()):
        sources.append(f"{task}: measured ({accuracy.harness}, {accuracy.run})")
        other = base.accuracy.get(task) if base is not None else None
        if other is not None and base is not None and base.endpoint_key != variant.endpoint_key:
            differences[task] = _difference(accuracy, other)
    if variant.month_usd is not None:
        sources.append(f"month: estimated ({variant.month_source})")
    meets: dict[str, bool | None] = {}
    if differences:
        lows = [d.low for d in differences.values() if d is not None and d.low is not None]
        judged = len(lows) == len(differences)
        meets["accuracy"] = (
            all(low >= -targets.max_accuracy_drop for low in lows) if judged else None
        )
    ttft = speed.ttft_ms.p95 if speed is not None else None
    if targets.max_ttft_p95_ms is not None:
        meets["latency"] = None if ttft is None else ttft <= targets.max_ttft_p95_ms
    if targets.monthly_budget_usd is not None:
        month = variant.month_usd
        meets["budget"] = None if month is None else month <= targets.monthly_budget_usd
    return Row(variant, usd_per_million, differences, meets, tuple(sources))


def rows(variants: Sequence[Variant], *, base_key: str | None, targets: Targets) -> list[Row]:
    """A row per variant, the base first, then by cost per million output tokens."""
    base = next((v for v in variants if v.endpoint_key == base_key), None)
    found = [row(v, base, targets) for v in variants]

    def order(r: Row) -> tuple[int, float, str]:
        cost = r.usd_per_million_tokens
        return (r.variant.endpoint_key != base_key, cost if cost is not None else 1e18,
                r.variant.endpoint_key)  # fmt: skip

    return sorted(found, key=order)
