"""`make cost --usage`: a month of the user's traffic (a usage profile, docs/cost.md) replayed
through the scaling settings of each endpoint's synthesized template (`usage_sim`), as deployed,
always on, and as AWS's async example scales, with the cost of each."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench import usage_sim
from workbench.assembly import OperatorError, StackTemplate
from workbench.common import render_table
from workbench.prices import Prices
from workbench.traffic import (
    MINUTES_PER_DAY,
    ProfileError,
    arrivals,
    check_max_wait,
    load_trace,
    parse_traffic,
)
from workbench_domain.errors import shown
from workbench_domain.measurements import Speed


def load_profile(path: Path) -> dict[str, Any]:
    import yaml

    class NoAliases(yaml.SafeLoader):
        """YAML without anchors and aliases: a profile needs none, and nested aliases can make
        a small file expand into gigabytes."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                # typeshed leaves Parser.peek_event unannotated.
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.YAMLError(f"line {mark.line + 1}: aliases (*name) are not allowed")
            return super().compose_node(parent, index)

    try:
        profile = yaml.load(path.read_text(), Loader=NoAliases)  # noqa: S506 (a SafeLoader)
    except FileNotFoundError as error:
        raise OperatorError(f"usage profile {path} not found") from error
    except (OSError, UnicodeDecodeError) as error:
        raise OperatorError(f"usage profile {path} cannot be read: {error}") from error
    except yaml.YAMLError as error:
        raise OperatorError(
            f"usage profile {path} is not valid YAML: {shown(str(error))}"
        ) from None
    if not isinstance(profile, dict):
        raise OperatorError(f"usage profile {path}: expected an object, got {shown(profile)}")
    unknown = sorted(str(k) for k in set(profile) - PROFILE_KEYS)
    if unknown:
        raise OperatorError(
            f"usage profile {path}: unknown key {shown(unknown[0])}; known keys: "
            f"{', '.join(sorted(PROFILE_KEYS))}"
        )
    return profile


def key_text(key: Any) -> str:
    """A key of the user's file as an error names it: as written, or cut when it is long."""
    return key if isinstance(key, str) and len(key) <= 64 else shown(key)


# The top-level keys of a usage profile (docs/cost.md).
PROFILE_KEYS = frozenset({"days", "seed", "endpoints"})
# The scenarios of `make cost --usage`: (id in --json, label in the table).
SCENARIOS = (
    ("deployed", "deployed"),
    ("always_on", "always on"),
    ("aws_example", "target tracking only (AWS async example)"),
)


def usage_report(
    stacks: list[StackTemplate],
    profile: dict[str, Any],
    prices: Prices,
    *,
    base: Path = Path(),
    measured: Mapping[str, Speed] | None = None,
) -> dict[str, Any]:
    """Per endpoint of the profile, the month under three settings: as deployed, always on, and
    AWS's published async example (target tracking alone). A trace path is relative to `base`
    (the profile's folder). An endpoint with a `measured` speed (`make benchmark`) is served at
    its measured output tokens per second per request, in place of the profile's assumption."""
    if not isinstance(profile.get("endpoints"), dict):
        raise OperatorError("usage profile: expected {days, seed, endpoints: {<key>: {...}}}")
    days, seed = profile.get("days", 30), profile.get("seed", 1)
    if type(days) is not int or not 1 <= days <= 31:
        raise OperatorError(f"usage days: got {shown(days)}; allowed: an integer in 1..31")
    if type(seed) not in (int, str):
        raise OperatorError(f"usage seed: got {shown(seed)}; allowed: an integer or a string")
    by_key = {s.name.rsplit("/Endpoint-", 1)[-1]: s for s in stacks if "/Endpoint-" in s.name}
    endpoints = []
    for key, raw in profile["endpoints"].items():
        if key not in by_key:
            raise OperatorError(
                f"usage endpoints.{key_text(key)}: no such endpoint in the synthesized templates "
                f"(enabled ones: {', '.join(sorted(by_key)) or 'none'})"
            )
        settings = usage_sim.ScalingSettings.from_template(by_key[key].resources)
        speed = (measured or {}).get(key)
        throughput_source = "usage profile"
        if speed is not None and speed.tokens_per_second_per_request and isinstance(raw, dict):
            raw = {k: v for k, v in raw.items() if k != "service_seconds"}
            raw["tokens_per_second"] = speed.tokens_per_second_per_request
            throughput_source = f"measured ({speed.runner} {speed.run}, {speed.measured_at})"
        try:
            traffic = parse_traffic(key, raw)
            check_max_wait(key, traffic, settings.kind)
            times: list[Any]
            if traffic.trace is not None:
                times = load_trace(base / traffic.trace, traffic)
            else:
                rng = random.Random(f"{seed}:{key}")  # noqa: S311 (a reproducible simulation)
                times = list(arrivals(traffic, days, rng))
        except ProfileError as error:
            raise OperatorError(str(error)) from error
        cold = traffic.cold_start_minutes
        if cold is None:
            cold = usage_sim.DEFAULT_COLD_START_MINUTES.get(
                settings.instance_type, usage_sim.FALLBACK_COLD_START_MINUTES
            )
        price, _ = prices.hosting(settings.instance_type)
        scenarios = {}
        for (name, label), variant in zip(
            SCENARIOS,
            (settings, settings.always_on(), settings.target_tracking_only()),
            strict=True,
        ):
            result = usage_sim.simulate(
                variant,
                traffic,
                times,
                minutes=days * MINUTES_PER_DAY,
                cold_start_minutes=cold,
                trace=name == "deployed",
            )
            scenarios[name] = {
                "label": label,
                "instance_minutes": result.instance_minutes,
                "cost_usd": round(result.instance_minutes / 60 * price, 2),
                "wait_p50_minutes": result.percentile(0.5),
                "wait_p95_minutes": result.percentile(0.95),
                "cold_waits": result.cold_waits,
                "unserved": result.unserved,
                "expired": result.expired,
                "trace": result.trace,
            }
        endpoints.append(
            {
                "endpoint": key,
                "kind": settings.kind,
                "tokens_per_request": (traffic.input_tokens, traffic.output_tokens),
                "tokens_per_second": traffic.tokens_per_second,
                "throughput_source": throughput_source,
                "instance_type": settings.instance_type,
                "price_usd_per_hour": price,
                "requests": len(times),
                "replayed_trace": traffic.trace,
                "cold_start_minutes": cold,
                "min_instances": settings.min_instances,
                "scenarios": scenarios,
            }
        )
    return {"days": days, "seed": seed, "endpoints": endpoints}


def render_usage(data: dict[str, Any]) -> str:
    def minutes(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    rows = []
    for endpoint in data["endpoints"]:
        for s in endpoint["scenarios"].values():
            rows.append(
                [
                    f"{endpoint['endpoint']} ({endpoint['instance_type']})",
                    s["label"],
                    f"{s['instance_minutes'] / 60:.1f}",
                    f"{s['cost_usd']:,.2f}",
                    minutes(s["wait_p50_minutes"]),
                    minutes(s["wait_p95_minutes"]),
                    str(s["cold_waits"]),
                    str(s["unserved"]),
                ]
            )
    headers = [
        "endpoint",
        "settings",
        "instance-h",
        "$",
        "p50 min",
        "p95 min",
        "cold waits",
        "unserved",
    ]
    lines = [
        f"{data['days']} days of the usage profile (seed {data['seed']}); time to first result "
        "in minutes, from arrival:",
        render_table(headers, rows, right={2, 3, 4, 5, 6, 7}),
    ]
    for endpoint in data["endpoints"]:
        source = (
            f"replayed from {endpoint['replayed_trace']}"
            if endpoint["replayed_trace"]
            else f"of {endpoint['tokens_per_request'][0]} tokens in, "
            f"{endpoint['tokens_per_request'][1]} out"
        )
        floor = (
            f", {endpoint['min_instances']} instance(s) always billed (min_instances)"
            if endpoint["min_instances"]
            else ""
        )
        lines.append(
            f"- {endpoint['endpoint']}: {endpoint['requests']} requests {source}, cold start "
            f"{endpoint['cold_start_minutes']:g} min, ${endpoint['price_usd_per_hour']:g}/h{floor}"
            + (
                f", {endpoint['tokens_per_second']:.1f} output tokens/s per request "
                f"({endpoint['throughput_source']})"
                if endpoint.get("tokens_per_second")
                else ""
            )
        )
    lines.append(
        "- 'target tracking only' never leaves zero instances: its requests are never served."
    )
    lines.append(
        "- unserved: requests that waited past their TTL (async RequestTTLSeconds, or the "
        "client's wait for a realtime copy; max_wait_seconds) or were still waiting at the end."
    )
    return "\n".join(lines)


def plot_usage(data: dict[str, Any], path: Path) -> None:
    """Instances and backlog over the busiest day, for the deployed settings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        len(data["endpoints"]) or 1,
        1,
        figsize=(10, 3 * max(1, len(data["endpoints"]))),
        squeeze=False,
    )
    for row, endpoint in zip(axes, data["endpoints"], strict=False):
        trace = endpoint["scenarios"]["deployed"]["trace"]
        day_load = [0] * data["days"]
        for minute, _, backlog in trace:
            day_load[minute // 1440] += backlog
        busiest = max(range(len(day_load)), key=lambda d: day_load[d])
        day = [t for t in trace if t[0] // 1440 == busiest]
        hours = [(m % 1440) / 60 for m, _, _ in day]
        axis = row[0]
        axis.step(hours, [i for _, i, _ in day], where="post", label="instances")
        axis.step(hours, [b for _, _, b in day], where="post", label="backlog (queued + in flight)")
        axis.set_title(f"{endpoint['endpoint']}: day {busiest + 1} (busiest)")
        axis.set_xlabel("hour")
        axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
