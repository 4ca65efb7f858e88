#!/usr/bin/env python3
"""What ENV really cost: Cost Explorer's daily cost of everything tagged with the deployment.

Reads `GetCostAndUsage` (daily, unblended cost, filtered by the deployment's cost allocation tag
`workbench-deployment=<project>-<env>`, grouped by service and usage type), prints a table by
service and usage type and the daily totals, draws the daily cost by service, and puts beside it
what `make cost` estimates for the same days from the synthesized templates: the idle floor
(endpoints at zero, the notebook stopped, fixed charges) and the always-on ceiling.

    python -m workbench spend --env dev [--days 30] [--plot build/spend-dev.png] [--profile P]

Cost Explorer must be enabled for the account, the tag activated as a cost allocation tag
(`make preflight` says how), and the caller allowed ce:GetCostAndUsage. Cost data lags by up to
a day. Each GetCostAndUsage request costs $0.01.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from workbench import cost, prices
from workbench.assembly import OperatorError, read_assembly
from workbench.common import (
    ROOT,
    add_environment_arguments,
    aws_problem,
    aws_session,
    load_settings,
    read_context,
    render_table,
)
from workbench_domain import cost_allocation

MAX_DAYS = 365
COST_METRIC = "UnblendedCost"


def fetch(ce: Any, stage_id: str, start: date, end: date) -> list[dict[str, Any]]:
    """Every daily result of the period (GetCostAndUsage pages with NextPageToken)."""
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [COST_METRIC],
        "Filter": cost_allocation.cost_explorer_filter(stage_id),
        "GroupBy": [
            {"Type": "DIMENSION", "Key": "SERVICE"},
            {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
        ],
    }
    results: list[dict[str, Any]] = []
    while True:
        response = ce.get_cost_and_usage(**request)
        results += response.get("ResultsByTime", [])
        token = response.get("NextPageToken")
        if not token:
            return results
        request["NextPageToken"] = token


def summarize(
    results: list[dict[str, Any]],
) -> tuple[dict[tuple[str, str], float], dict[str, dict[str, float]]]:
    """((service, usage type) -> USD, day -> service -> USD)."""
    by_usage: dict[tuple[str, str], float] = defaultdict(float)
    by_day: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day in results:
        start = day["TimePeriod"]["Start"]
        by_day[start]  # a day without cost still has a row
        for group in day.get("Groups", []):
            service, usage = (group["Keys"] + ["", ""])[:2]
            amount = float(group["Metrics"][COST_METRIC]["Amount"])
            by_usage[(service, usage)] += amount
            by_day[start][service] += amount
    return dict(by_usage), {d: dict(v) for d, v in sorted(by_day.items())}


def estimate(assembly: Path, days: int) -> tuple[float, float] | None:
    """(idle floor, always-on ceiling) in USD for `days` days, from the synthesized templates."""
    try:
        stacks = read_assembly(assembly)
        table = prices.load_prices(prices.DEFAULT_PRICES)
    except OperatorError:
        return None
    try:
        overrides = prices.endpoint_price_overrides(read_context())
    except OperatorError:
        overrides = {}
    data = cost.report(stacks, table, prices.Prices(table, overrides))
    fixed = data["fixed_usd_per_month"] * days * 24 / prices.HOURS_PER_MONTH
    return (
        data["idle_usd_per_hour"] * 24 * days + fixed,
        data["always_on_usd_per_hour"] * 24 * days + fixed,
    )


def plot(by_day: dict[str, dict[str, float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = list(by_day)
    services = sorted({s for costs in by_day.values() for s in costs})
    figure, axes = plt.subplots(figsize=(10, 4))
    bottom = [0.0] * len(days)
    for service in services:
        values = [by_day[d].get(service, 0.0) for d in days]
        axes.bar(days, values, bottom=bottom, label=service)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("USD per day")
    axes.set_title(title)
    axes.tick_params(axis="x", labelrotation=90, labelsize=7)
    if services:
        axes.legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def explain(error: Exception) -> str:
    """One line for what Cost Explorer answered."""
    problem = aws_problem(error)
    if problem:
        return problem
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    message = getattr(error, "response", {}).get("Error", {}).get("Message", str(error))
    if code in ("AccessDeniedException", "AccessDenied") and "not enabled" in message.lower():
        return "Cost Explorer is not enabled for this account: enable it in the Billing console"
    if code in ("AccessDeniedException", "AccessDenied"):
        return f"not allowed to read Cost Explorer ({message}): allow ce:GetCostAndUsage"
    if code == "DataUnavailableException":
        return "Cost Explorer has no data for this period yet (it lags by up to a day)"
    return f"Cost Explorer: {code or type(error).__name__}: {message}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m workbench spend",
        description="What the deployment of ENV cost, by day, service and usage type (Cost "
        "Explorer), beside make cost's estimate. Exit 0: printed; 2: bad usage or setup.",
    )
    add_environment_arguments(parser)
    parser.add_argument("--days", type=int, default=30, help="days back from today (1..365)")
    parser.add_argument(
        "--plot", type=Path, help="PNG of the daily cost (default build/spend-ENV.png)"
    )
    parser.add_argument("--assembly", type=Path, default=ROOT / "cdk.out", help="cdk.out folder")
    args = parser.parse_args(argv)
    if not 1 <= args.days <= MAX_DAYS:
        parser.error(f"--days must be 1..{MAX_DAYS}, got {args.days}")
    return args


def main(argv: list[str] | None = None, session: Any = None, today: date | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings(args.env)
        session = session or aws_session(args, settings)
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    end = today or date.today()
    start = end - timedelta(days=args.days)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        # Cost Explorer is an API of us-east-1, whatever the deployment's region.
        ce = session.client("ce", region_name="us-east-1")
        results = fetch(ce, settings.stage_id, start, end)
    except (ClientError, BotoCoreError) as error:
        print(f"error: {explain(error)}", file=sys.stderr)
        return 2
    by_usage, by_day = summarize(results)
    total = sum(by_usage.values())
    tag = f"{cost_allocation.TAG_KEY}={settings.stage_id}"
    print(f"Spend of {settings.stage_id}, {start} to {end} (tag {tag}, unblended, USD)")
    rows = [
        [service, usage, f"{amount:,.2f}"]
        for (service, usage), amount in sorted(by_usage.items(), key=lambda item: -item[1])
        if amount >= 0.005
    ]
    print(
        render_table(
            ["service", "usage type", "USD"], [*rows, ["TOTAL", "", f"{total:,.2f}"]], right={2}
        )
    )
    print()
    print(
        render_table(
            ["day", "USD"], [[d, f"{sum(c.values()):,.2f}"] for d, c in by_day.items()], right={1}
        )
    )
    if not rows:
        print(
            f"\nNo cost under {tag}. If the deployment has run in this period, the tag is "
            "probably not an active cost allocation tag yet: `make preflight` checks it and "
            "prints the command that activates it (data then starts from activation)."
        )
    bounds = estimate(args.assembly, args.days)
    if bounds is None:
        print("\nEstimate: run `make synth` first to compare with the templates' estimate.")
    else:
        floor, ceiling = bounds
        print(
            f"\nEstimate for {args.days} days (make cost): ${floor:,.2f} idle (endpoints at zero, "
            f"notebook stopped, fixed charges) to ${ceiling:,.2f} always on; actual ${total:,.2f}."
        )
    path = args.plot or ROOT / "build" / f"spend-{args.env}.png"
    plot(by_day, path, f"Daily cost of {settings.stage_id}")
    print(f"Plot: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
