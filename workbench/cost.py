#!/usr/bin/env python3
"""What the synthesized app costs: idle, active, fixed per month, and the same stack kept always on.

Offline: reads the templates in cdk.out (run `make synth` first) and the dated price table
workbench/prices_us_east_1.json. Async endpoints idle at their scalable target's MinCapacity (0
after scale-to-zero) and run at most MaxCapacity instances; realtime endpoints (inference
components) idle at their variant's MinInstanceCount (0) and run at most MaxInstanceCount, but
each deploy starts one copy, billed until the idle window passes; a notebook with a lifecycle
configuration (the idle auto-stop) is stopped when idle, but its volume is billed all month.

    python -m workbench cost [--assembly cdk.out] [--prices FILE] [--json | --markdown]
    python -m workbench cost --usage usage.yml [--usage-plot build/usage.png]

With `--usage` it replays the traffic profile of each endpoint through the scaling settings of
its synthesized template instead (workbench/usage_sim.py; the profile format is in docs/cost.md).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench import usage_sim
from workbench.assembly import OperatorError, StackTemplate, read_assembly, references
from workbench.common import ROOT, load_settings, read_context, render_table
from workbench_config import CONTEXT_KEY
from workbench_domain.errors import shown

HOURS_PER_MONTH = 730
DEFAULT_PRICES = Path(__file__).resolve().parent / "prices_us_east_1.json"


@dataclass
class Line:
    stack: str
    resource: str  # logical id
    kind: str  # short resource type
    detail: str
    active_usd_per_hour: float = 0.0
    idle_usd_per_hour: float = 0.0
    always_on_usd_per_hour: float = 0.0
    fixed_usd_per_month: float = 0.0
    note: str = ""


class Prices:
    def __init__(self, table: dict[str, Any], endpoint_overrides: dict[str, float]) -> None:
        self.table = table
        self.endpoint_overrides = endpoint_overrides
        self.missing: list[str] = []

    def hosting(self, instance_type: str) -> tuple[float, str]:
        if instance_type in self.endpoint_overrides:
            return self.endpoint_overrides[instance_type], "cdk.json price_usd_per_hour"
        entry = self.table["sagemaker_hosting_usd_per_hour"].get(instance_type)
        if entry is None:
            self.missing.append(f"hosting {instance_type}")
            return 0.0, "NO PRICE in table: counted as 0"
        return entry["price"], "price table"

    def notebook(self, instance_type: str) -> tuple[float, str]:
        entry = self.table["sagemaker_notebook_usd_per_hour"].get(instance_type)
        if entry is None:
            self.missing.append(f"notebook {instance_type}")
            return 0.0, "NO PRICE in table: counted as 0"
        return entry["price"], "price table"

    def unit(self, name: str) -> float:
        typed: float = self.table[name]["price"]
        return typed


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


def load_prices(path: Path) -> dict[str, Any]:
    try:
        table = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise OperatorError(f"price table {path} not found") from error
    except json.JSONDecodeError as error:
        raise OperatorError(f"price table {path} is not valid JSON: {error}") from error
    for key in ("date", "sagemaker_hosting_usd_per_hour", "kms_key_usd_per_month"):
        if key not in table:
            raise OperatorError(f"price table {path} has no {key!r}")
    typed: dict[str, Any] = table
    return typed


def endpoint_price_overrides(context: dict[str, Any]) -> dict[str, float]:
    """`price_usd_per_hour` set on endpoints in cdk.json (any env) wins over the table."""
    overrides: dict[str, float] = {}
    for env_name in (context.get(CONTEXT_KEY) or {}).get("environments") or {}:
        for endpoint in load_settings(env_name, context).endpoints.values():
            overrides[endpoint.instance_type] = endpoint.price_usd_per_hour
    return overrides


def _scaling_by_config(stack: StackTemplate) -> dict[str, tuple[int, int]]:
    """Endpoint config logical id -> (MinCapacity, MaxCapacity) of the target scaling it."""
    endpoint_to_config = {
        logical_id: next(iter(references(r["Properties"].get("EndpointConfigName"))), None)
        for logical_id, r in stack.of_type("AWS::SageMaker::Endpoint")
    }
    configs = [logical_id for logical_id, _ in stack.of_type("AWS::SageMaker::EndpointConfig")]
    scaling: dict[str, tuple[int, int]] = {}
    for _, target in stack.of_type("AWS::ApplicationAutoScaling::ScalableTarget"):
        props = target["Properties"]
        if props.get("ServiceNamespace") != "sagemaker":
            continue
        capacity = (int(props["MinCapacity"]), int(props["MaxCapacity"]))
        referenced = [
            endpoint_to_config[ref]
            for ref in references(props.get("ResourceId"))
            if ref in endpoint_to_config
        ]
        if referenced and referenced[0]:
            scaling[referenced[0]] = capacity
        elif len(configs) == 1:  # a literal ResourceId: one endpoint per stack
            scaling[configs[0]] = capacity
    return scaling


def estimate(stacks: list[StackTemplate], prices: Prices) -> list[Line]:
    lines: list[Line] = []
    dashboards: list[Line] = []
    for stack in stacks:
        scaling = _scaling_by_config(stack)
        for logical_id, resource in stack.resources.items():
            kind = resource.get("Type", "")
            props = resource.get("Properties", {})
            short = kind.split("::", 1)[-1]
            if kind == "AWS::SageMaker::EndpointConfig":
                for variant in props.get("ProductionVariants", []):
                    instance_type = variant.get("InstanceType")
                    if not instance_type:  # serverless variant: per use
                        continue
                    initial = int(variant.get("InitialInstanceCount", 1))
                    price, source = prices.hosting(instance_type)
                    managed = variant.get("ManagedInstanceScaling") or {}
                    if managed.get("Status") == "ENABLED":
                        # Inference components: the instances follow the copies.
                        minimum = int(managed.get("MinInstanceCount", initial))
                        maximum = int(managed.get("MaxInstanceCount", initial))
                        note = (
                            f"{source}; realtime, instances {minimum}..{maximum} follow the "
                            "inference component's copies; after a deploy one copy runs until "
                            "the idle window passes"
                        )
                    else:
                        minimum, maximum = scaling.get(logical_id, (initial, initial))
                        note = (
                            f"{source}; scales {minimum}..{maximum}"
                            if logical_id in scaling
                            else f"{source}; NO scaling target: always {initial} instance(s)"
                        )
                    lines.append(
                        Line(
                            stack.name,
                            logical_id,
                            short,
                            f"{instance_type} x{minimum}..{maximum} @ ${price:g}/h",
                            active_usd_per_hour=price * maximum,
                            idle_usd_per_hour=price * minimum,
                            always_on_usd_per_hour=price * maximum,
                            note=note,
                        )
                    )
            elif kind == "AWS::SageMaker::NotebookInstance":
                instance_type = props.get("InstanceType", "?")
                size = int(props.get("VolumeSizeInGB", 5))
                price, source = prices.notebook(instance_type)
                auto_stop = "LifecycleConfigName" in props
                storage = size * prices.unit("sagemaker_notebook_storage_usd_per_gb_month")
                lines.append(
                    Line(
                        stack.name,
                        logical_id,
                        short,
                        f"{instance_type} @ ${price:g}/h, {size} GB volume",
                        active_usd_per_hour=price,
                        idle_usd_per_hour=0.0 if auto_stop else price,
                        always_on_usd_per_hour=price,
                        fixed_usd_per_month=storage,
                        note=f"{source}; "
                        + (
                            "stopped by its idle auto-stop (lifecycle config)"
                            if auto_stop
                            else "NO lifecycle config: assumed running when idle"
                        )
                        + f"; volume ${storage:.2f}/month billed running or stopped",
                    )
                )
            elif kind == "AWS::KMS::Key":
                fee = prices.unit("kms_key_usd_per_month")
                lines.append(
                    Line(
                        stack.name,
                        logical_id,
                        short,
                        "customer managed key",
                        fixed_usd_per_month=fee,
                    )
                )
            elif kind == "AWS::CloudWatch::Alarm":
                metrics = props.get("Metrics")
                count = sum(1 for m in metrics if "MetricStat" in m) if metrics else 1
                high_res = int(props.get("Period", 60)) < 60
                unit = prices.unit(
                    "cloudwatch_high_resolution_alarm_usd_per_metric_month"
                    if high_res
                    else "cloudwatch_alarm_usd_per_metric_month"
                )
                lines.append(
                    Line(
                        stack.name,
                        logical_id,
                        short,
                        f"{count} metric(s), {'high' if high_res else 'standard'} resolution",
                        fixed_usd_per_month=unit * count,
                    )
                )
            elif kind == "AWS::CloudWatch::Dashboard":
                line = Line(stack.name, logical_id, short, "dashboard")
                dashboards.append(line)
                lines.append(line)
    fee = prices.unit("cloudwatch_dashboard_usd_per_month")
    free = prices.table["cloudwatch_dashboard_usd_per_month"].get("free_per_account", 0)
    for index, line in enumerate(dashboards):
        if index < free:
            line.note = f"within the {free} free dashboards per account (if none exist already)"
        else:
            line.fixed_usd_per_month = fee
    return lines


def per_use(stacks: list[StackTemplate], table: dict[str, Any]) -> list[tuple[str, int, str]]:
    counts: dict[str, int] = {}
    for stack in stacks:
        for resource in stack.resources.values():
            kind = resource.get("Type", "")
            if kind in table.get("per_use_idle_zero", {}):
                counts[kind] = counts.get(kind, 0) + 1
    return [(k, n, table["per_use_idle_zero"][k]) for k, n in sorted(counts.items())]


def report(stacks: list[StackTemplate], table: dict[str, Any], prices: Prices) -> dict[str, Any]:
    lines = estimate(stacks, prices)
    totals = {
        "idle_usd_per_hour": round(sum(x.idle_usd_per_hour for x in lines), 4),
        "active_usd_per_hour": round(sum(x.active_usd_per_hour for x in lines), 4),
        "always_on_usd_per_hour": round(sum(x.always_on_usd_per_hour for x in lines), 4),
        "fixed_usd_per_month": round(sum(x.fixed_usd_per_month for x in lines), 4),
    }
    totals["idle_usd_per_month"] = round(
        totals["idle_usd_per_hour"] * HOURS_PER_MONTH + totals["fixed_usd_per_month"], 2
    )
    totals["always_on_usd_per_month"] = round(
        totals["always_on_usd_per_hour"] * HOURS_PER_MONTH + totals["fixed_usd_per_month"], 2
    )
    return {
        **totals,
        "region": table.get("region"),
        "prices_date": table["date"],
        "prices_note": table.get("note", ""),
        "hours_per_month": HOURS_PER_MONTH,
        "unpriced": sorted(set(prices.missing)),
        "resources": [asdict(x) for x in lines],
        "per_use": [{"type": k, "count": n, "pricing": d} for k, n, d in per_use(stacks, table)],
    }


def _usd(value: float) -> str:
    return f"{value:,.2f}" if value else "0"


def render_text(data: dict[str, Any], *, markdown: bool = False) -> str:
    headers = ["stack", "resource", "what", "active $/h", "idle $/h", "always-on $/h", "fixed $/mo"]
    rows = [
        [
            r["stack"],
            f"{r['kind']} {r['resource']}",
            r["detail"],
            _usd(r["active_usd_per_hour"]),
            _usd(r["idle_usd_per_hour"]),
            _usd(r["always_on_usd_per_hour"]),
            _usd(r["fixed_usd_per_month"]),
        ]
        for r in data["resources"]
    ]
    total = [
        "TOTAL",
        "",
        "",
        _usd(data["active_usd_per_hour"]),
        _usd(data["idle_usd_per_hour"]),
        _usd(data["always_on_usd_per_hour"]),
        _usd(data["fixed_usd_per_month"]),
    ]
    summary = [
        "Idle (endpoints at min capacity, notebook auto-stopped): "
        f"${data['idle_usd_per_hour']:,.2f}/h + ${data['fixed_usd_per_month']:,.2f}/month fixed"
        f" = ${data['idle_usd_per_month']:,.2f}/month",
        f"Always on (endpoints at max capacity 24/7, notebook running): "
        f"${data['always_on_usd_per_hour']:,.2f}/h = ${data['always_on_usd_per_month']:,.2f}/month",
        f"Prices: {data['region']} on-demand, dated {data['prices_date']}; instance prices are "
        "third-party figures, other unit prices unverified (see workbench/prices_us_east_1.json).",
    ]
    if data["unpriced"]:
        summary.append("WARNING: no price for " + ", ".join(data["unpriced"]) + " (counted as 0)")
    per_use_text = [f"  {p['type']} x{p['count']}: {p['pricing']}" for p in data["per_use"]]
    if markdown:

        def md(cells: list[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        table = [md(headers), "|" + "---|" * 3 + "---:|" * 4]
        table += [md(row) for row in rows] + [md([f"**{c}**" if c else "" for c in total])]
        return "\n".join(
            [
                *table,
                "",
                *(f"- {s}" for s in summary),
                "- Per use, nothing when idle:",
                *(f"  - {p.strip()}" for p in per_use_text),
            ]
        )
    text = render_table(headers, [*rows, total], right={3, 4, 5, 6})
    return "\n".join([text, "", *summary, "Per use, nothing when idle:", *per_use_text])


def usage_report(
    stacks: list[StackTemplate], profile: dict[str, Any], prices: Prices, *, base: Path = Path()
) -> dict[str, Any]:
    """Per endpoint of the profile, the month under three settings: as deployed, always on, and
    AWS's published async example (target tracking alone). A trace path is relative to `base`
    (the profile's folder)."""
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
        try:
            traffic = usage_sim.parse_traffic(key, raw)
            usage_sim.check_max_wait(key, traffic, settings.kind)
            times: list[Any]
            if traffic.trace is not None:
                times = usage_sim.load_trace(base / traffic.trace, traffic)
            else:
                rng = random.Random(f"{seed}:{key}")  # noqa: S311 (a reproducible simulation)
                times = list(usage_sim.arrivals(traffic, days, rng))
        except usage_sim.ProfileError as error:
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
                minutes=days * usage_sim.MINUTES_PER_DAY,
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


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m workbench cost",
        description="Cost of the synthesized app (offline): idle, active, fixed, always-on.",
        epilog="Run `make synth ENV=...` first; the report covers the templates in the assembly.",
    )
    parser.add_argument("--assembly", type=Path, default=ROOT / "cdk.out", help="cdk.out folder")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help="price table JSON")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--usage", type=Path, help="traffic profile (YAML or JSON) to replay")
    parser.add_argument(
        "--usage-plot", type=Path, default=ROOT / "build" / "usage.png", help="PNG of a day"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        table = load_prices(args.prices)
        try:
            overrides = endpoint_price_overrides(read_context())
        except OperatorError as error:  # no or invalid cdk.json: the templates are still priced
            print(f"note: {error}; endpoint prices come from the price table only", file=sys.stderr)
            overrides = {}
        prices = Prices(table, overrides)
        stacks = read_assembly(args.assembly)
        if args.usage is not None:
            usage = usage_report(stacks, load_profile(args.usage), prices, base=args.usage.parent)
        else:
            data = report(stacks, table, prices)
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.usage is not None:
        if args.json:
            for endpoint in usage["endpoints"]:
                for scenario in endpoint["scenarios"].values():
                    scenario.pop("trace")  # the plot's data, not the report's
            print(json.dumps(usage, indent=2))
        else:
            print(render_usage(usage))
            plot_usage(usage, args.usage_plot)
            print(f"Plot of the busiest day: {args.usage_plot}")
        return 0
    print(json.dumps(data, indent=2) if args.json else render_text(data, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
