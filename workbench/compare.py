"""One table and one plot over every measured variant: speed, accuracy, cost, targets.

    make compare                                  # reads the records in S3, keeps copies
    make compare ARGS="--usage usage.yml --traffic chat"   # adds the month's cost
    make compare ARGS="--offline"                 # the copies in build/measurements/<env>/

For every endpoint of the environment with a measurement (`make benchmark`, `make evaluate`):
time to first token p50/p95, output tokens per second (per request and in aggregate), each
task's accuracy with its 95 % interval and its paired difference from the base endpoint
(config `compare.base_endpoint`), dollars per million output tokens at the measured aggregate
throughput, the month's cost of one traffic profile on it (`--usage`: the usage simulator at
the variant's measured speed, through its own scaling settings in cdk.out), whether speculative
decoding is active (its metric line in the endpoint's logs, where the image writes one), and
which of the targets of config `compare` it meets. Every number says where it came from.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import genai_workbench as wb

from workbench import measured
from workbench.assembly import OperatorError, read_assembly
from workbench.common import (
    OPERATOR_ERRORS,
    ROOT,
    add_environment_arguments,
    aws_session,
    deployed,
    error_line,
    load_settings,
    positive_number,
    read_context,
    render_table,
)
from workbench.prices import DEFAULT_PRICES, Prices, endpoint_price_overrides, load_prices
from workbench.usage_report import load_profile, usage_report
from workbench_config import AppConfig
from workbench_domain import accuracy as acc
from workbench_domain import comparison as cmp
from workbench_domain import measurements as m
from workbench_domain import serving
from workbench_domain import speculative_metrics as sm


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench compare", description=__doc__.splitlines()[0]
    )
    add_environment_arguments(parser)
    parser.add_argument("--offline", action="store_true", help="read build/measurements only")
    parser.add_argument("--usage", type=Path, help="usage profile: adds the month's cost")
    parser.add_argument("--traffic", help="the profile's endpoint whose traffic every variant gets")
    parser.add_argument("--assembly", type=Path, default=ROOT / "cdk.out", help="cdk.out folder")
    parser.add_argument("--plot", type=Path, default=ROOT / "build" / "compare.png")
    parser.add_argument(
        "--logs-hours", type=positive_number, default=24, help="speculative metrics window"
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    return parser


def _records(
    args: argparse.Namespace, settings: AppConfig
) -> tuple[dict[str, m.Speed], dict[str, dict[str, acc.Accuracy]], dict[str, str]]:
    """Speeds, accuracies and speculative-decoding phrases by endpoint key."""
    speculative = {
        key: "not configured"
        for key, endpoint in settings.endpoints.items()
        if endpoint.serving.speculative is None
    }
    if args.offline:
        for key in settings.endpoints:
            speculative.setdefault(key, "configured; not read (--offline)")
        return measured.load(args.env), measured.load_accuracies(args.env), speculative
    from genai_workbench.measurements import (
        load_records,
        newest_accuracies,
        newest_speeds,
        speculative_acceptance,
    )

    deployment = deployed(settings, aws_session(args, settings), ("s3", "logs"))
    documents = {kind: load_records(deployment, kind) for kind in (m.SPEED, acc.ACCURACY)}
    speeds = newest_speeds(documents[m.SPEED])
    accuracies = newest_accuracies(documents[acc.ACCURACY])
    for speed in speeds.values():
        measured.save(args.env, speed.key(), m.to_document(speed))
    for by_task in accuracies.values():
        for record in by_task.values():
            measured.save(args.env, record.key(), acc.to_document(record))
    for key, endpoint in settings.endpoints.items():
        if key in speculative:
            continue
        image = serving.resolve_image(endpoint.serving)
        found = None
        if key in deployment.endpoints and (image is None or image.speculative_metrics_log):
            found = speculative_acceptance(deployment, key, hours=args.logs_hours)
        speculative[key] = sm.status(image, True, found)
    return speeds, accuracies, speculative


def _months(
    args: argparse.Namespace, keys: list[str], speeds: dict[str, m.Speed]
) -> dict[str, tuple[float, str]]:
    """The month's cost of one traffic on each variant, by the usage simulator."""
    if args.usage is None:
        return {}
    profile = load_profile(args.usage)
    endpoints = profile.get("endpoints")
    if not isinstance(endpoints, dict) or not endpoints:
        raise OperatorError(f"{args.usage}: no endpoints")
    traffic_key = args.traffic or (next(iter(endpoints)) if len(endpoints) == 1 else None)
    if traffic_key not in endpoints:
        raise OperatorError(
            f"--traffic: give the profile's endpoint whose traffic to replay "
            f"(have: {', '.join(sorted(endpoints))})"
        )
    stacks = read_assembly(args.assembly)
    synthesized = {s.name.rsplit("/Endpoint-", 1)[-1] for s in stacks if "/Endpoint-" in s.name}
    # The same traffic on every variant: the month each would cost serving it.
    replayed = {key: endpoints[traffic_key] for key in keys if key in synthesized}
    prices = Prices(load_prices(DEFAULT_PRICES), endpoint_price_overrides(read_context()))
    report = usage_report(
        stacks, {**profile, "endpoints": replayed}, prices, base=args.usage.parent, measured=speeds
    )
    days = report["days"]
    return {
        e["endpoint"]: (
            e["scenarios"]["deployed"]["cost_usd"] * 30 / days,
            f"usage simulator, {days} days of {traffic_key}'s traffic scaled to 30, "
            f"served at {e['throughput_source']}",
        )
        for e in report["endpoints"]
    }


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _score(a: acc.Accuracy | None) -> str:
    if a is None:
        return "-"
    interval = a.interval
    return f"{a.value:.3f}" + ("" if interval is None else f" ±{a.value - interval[0]:.3f}")


def _difference(d: cmp.Difference | None) -> str:
    if d is None:
        return "-"
    if d.low is None or d.high is None:
        return f"{d.mean:+.3f}"
    return f"{d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"


def render(found: list[cmp.Row], targets: cmp.Targets) -> str:
    marks = {True: "yes", False: "NO", None: "-"}
    tasks = sorted({t for r in found for t in r.variant.accuracy})
    headers = ["variant", "instance", "TTFT p50", "TTFT p95", "tok/s req", "tok/s all"]
    headers += [*tasks, *(f"{t} vs base" for t in tasks), "$/M out", "$/month", "meets"]
    rows = []
    for r in found:
        v, s = r.variant, r.variant.speed
        rows.append(
            [
                v.endpoint_key,
                v.instance_type,
                _number(s.ttft_ms.p50 if s else None),
                _number(s.ttft_ms.p95 if s else None),
                _number(s.tokens_per_second_per_request if s else None, 1),
                _number(s.tokens_per_second if s else None, 1),
                *(_score(v.accuracy.get(task)) for task in tasks),
                *(_difference(r.differences.get(task)) for task in tasks),
                _number(r.usd_per_million_tokens, 2),
                _number(v.month_usd),
                marks[r.meets_all],
            ]
        )
    lines = [render_table(headers, rows, right=set(range(2, len(headers) - 1)))]
    lines.append(
        f"Targets (config compare): accuracy drop <= {targets.max_accuracy_drop:g} "
        f"(the whole 95 % interval), TTFT p95 <= {_number(targets.max_ttft_p95_ms)} ms, "
        f"month <= ${_number(targets.monthly_budget_usd)}. TTFT in ms; tok/s: output tokens "
        "per second."
    )
    for r in found:
        lines.append(f"- {r.variant.endpoint_key}: speculative decoding {r.variant.speculative}")
        lines.extend(f"    {source}" for source in r.sources)
        unmet = [name for name, ok in r.meets.items() if ok is False]
        if unmet:
            lines.append(f"    misses: {', '.join(unmet)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings(args.env)
        speeds, accuracies, speculative = _records(args, settings)
        keys = [k for k in settings.endpoints if k in speeds or k in accuracies]
        if not keys:
            raise OperatorError(
                f"nothing measured in {args.env} yet: run make benchmark and make evaluate"
            )
        months = _months(args, keys, speeds)
    except OPERATOR_ERRORS as error:
        print(error_line(error), file=sys.stderr)
        return 1
    compare = settings.compare
    targets = cmp.Targets(
        max_accuracy_drop=compare.max_accuracy_drop,
        max_ttft_p95_ms=compare.max_ttft_p95_ms,
        monthly_budget_usd=(
            compare.monthly_budget_usd
            if compare.monthly_budget_usd is not None
            else settings.budget.monthly_usd
        ),
    )
    variants = [
        cmp.Variant(
            endpoint_key=key,
            instance_type=settings.endpoints[key].instance_type,
            price_usd_per_hour=settings.endpoints[key].price_usd_per_hour,
            speed=speeds.get(key),
            accuracy=accuracies.get(key, {}),
            month_usd=months.get(key, (None, ""))[0],
            month_source=months.get(key, (None, ""))[1],
            speculative=speculative.get(key, "not configured"),
        )
        for key in keys
    ]
    found = cmp.rows(variants, base_key=compare.base_endpoint, targets=targets)
    if args.json:
        print(json.dumps([asdict(r) for r in found], indent=2, default=str))
        return 0
    print(render(found, targets))
    try:
        wb.plot_comparison(found, args.plot)
    except OSError as error:
        print(f"error: --plot {args.plot}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"Plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
