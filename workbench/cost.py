#!/usr/bin/env python3
"""What the synthesized app costs: idle, active, fixed per month, and the same stack kept always on.

Offline: reads the templates in cdk.out (run `make synth` first) and the dated price table
workbench/prices_us_east_1.json. Async endpoints idle at their scalable target's MinCapacity (0
after scale-to-zero) and run at most MaxCapacity instances; realtime endpoints (inference
components) idle at their variant's MinInstanceCount (0) and run at most MaxInstanceCount, but
each deploy starts one copy, billed until the idle window passes; a notebook with a lifecycle
configuration (the idle auto-stop) is stopped when idle, but its volume is billed all month.

    python -m workbench cost [--assembly cdk.out] [--prices FILE] [--json | --markdown]
    python -m workbench cost --usage usage.yml [--usage-plot build/usage.png] [--assumed]

With `--usage` it replays the traffic profile of each endpoint through the scaling settings of
its synthesized template instead (workbench/usage_sim.py; the profile format is in docs/cost.md).
An endpoint `make benchmark` has measured is served at its measured output tokens per second
per request (build/measurements/<env>/), unless `--assumed`; the report says which.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from workbench import measured
from workbench.assembly import OperatorError, StackTemplate, read_assembly, references
from workbench.common import ROOT, read_context, render_table
from workbench.prices import (
    DEFAULT_PRICES,
    HOURS_PER_MONTH,
    Line,
    Prices,
    endpoint_price_overrides,
    load_prices,
)
from workbench.usage_report import load_profile, plot_usage, render_usage, usage_report
from workbench_domain import hosting


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
                    # With instance pools, the first (priority 1) is what runs while it has
                    # capacity; a serverless variant (none) is billed per use.
                    pools = hosting.variant_instance_types(variant)
                    if not pools:
                        continue
                    instance_type = pools[0]
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
    parser.add_argument(
        "--env", default="dev", help="whose measured speeds --usage reads (make benchmark)"
    )
    parser.add_argument(
        "--assumed",
        action="store_false",
        dest="measured",
        help="use the profile's tokens_per_second even where a measured one is stored",
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
            usage = usage_report(
                stacks,
                load_profile(args.usage),
                prices,
                base=args.usage.parent,
                measured=measured.load(args.env) if args.measured else None,
            )
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
            try:
                plot_usage(usage, args.usage_plot)
            except OSError as error:
                print(f"error: --usage-plot {args.usage_plot}: {error.strerror or error}",
                      file=sys.stderr)  # fmt: skip
                return 1
            print(f"Plot of the busiest day: {args.usage_plot}")
        return 0
    print(json.dumps(data, indent=2) if args.json else render_text(data, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
