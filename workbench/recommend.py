"""Ask SageMaker which instance and optimization to serve a model with, for your traffic.

    make recommend ARGS="--model-s3-uri s3://BUCKET/models/llama-3-70b/ --target ttft-ms \\
        --instance-types ml.g6e.12xlarge ml.p4d.24xlarge --usage usage.yml --endpoint chat"

Creates an AI workload config from the traffic (the usage profile's input and output tokens and
concurrency for `--endpoint`, or `--input-tokens/--output-tokens/--concurrency`), starts an AI
recommendation job that deploys and benchmarks the model on each instance type, follows it, and
prints the recommendations side by side: instance type and count, copies per instance, image,
optimizations and expected performance with units, and with `--usage` the month's cost of that
traffic on each (workbench/recommendation_cost.py). `--promote N` writes recommendation N into
endpoint `--endpoint` of cdk.json once the config loader accepts it. Results go to
`--output-s3-uri` (default:
`recommendations/` in the deployment's artifacts bucket). The job runs on GPUs in your account
and is billed while it runs. Names are derived from the request: while the job exists, the same
command follows it, or shows its answer again, without paying for a second run; so the finished
job is kept (a record of the run) unless `--delete-job`, and only its workload config is deleted.

The job runs as the deployment's measurement role (the Optimization stack's `MeasurementRoleArn`:
read the artifacts bucket, write `recommendations/` and `benchmarks/`), or `--role-arn`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import genai_workbench as wb
from genai_workbench.ai_jobs import prepare_recommendation, recommend

from workbench.assembly import OperatorError
from workbench.common import (
    OPERATOR_ERRORS,
    ROOT,
    add_environment_arguments,
    aws_session,
    deployed,
    error_line,
    load_settings,
    positive_number,
    render_table,
)
from workbench.promotion import CDK_JSON, promote, write_config
from workbench.recommendation_cost import month_costs
from workbench.traffic import ProfileError, parse_traffic
from workbench.usage_report import load_profile
from workbench_domain import recommendation as rec
from workbench_domain.errors import ValidationError

DEFAULT_CONCURRENCY = 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench recommend", description=__doc__.splitlines()[0]
    )
    add_environment_arguments(parser)
    parser.add_argument("--model-s3-uri", required=True, help="the model's files (safetensors)")
    parser.add_argument("--target", required=True, choices=rec.TARGETS, help="what to optimize")
    parser.add_argument(
        "--instance-types", nargs="+", required=True, metavar="TYPE", help="one to three"
    )
    parser.add_argument("--role-arn", help="default: the deployment's measurement role")
    parser.add_argument("--output-s3-uri", help="default: the artifacts bucket's recommendations/")
    parser.add_argument("--framework", choices=rec.FRAMEWORKS, help="serving framework")
    parser.add_argument("--optimize", action="store_true", help="also try speculative decoding")
    parser.add_argument(
        "--assembly",
        type=Path,
        default=ROOT / "cdk.out",
        help="cdk.out, for the month's cost of --usage's traffic (make synth)",
    )
    add_traffic_arguments(parser, endpoint_flag=True)
    run = parser.add_argument_group("running")
    run.add_argument("--poll-seconds", type=positive_number, default=60)
    run.add_argument("--wait-hours", type=positive_number, default=12, help="stop following after")
    parser.add_argument(
        "--promote",
        type=int,
        metavar="N",
        help="write recommendation N into endpoint --endpoint of cdk.json (the config loader "
        "checks it first)",
    )
    run.add_argument(
        "--delete-job",
        action="store_true",
        help="delete the finished job (the same command would then pay for a new one)",
    )
    return parser


def add_traffic_arguments(parser: argparse.ArgumentParser, *, endpoint_flag: bool) -> None:
    """--usage (with --endpoint, unless the command has its own) or the numbers."""
    traffic = parser.add_argument_group("traffic (a usage profile's endpoint, or the numbers)")
    traffic.add_argument("--usage", type=Path, help="usage profile (docs/cost.md)")
    if endpoint_flag:
        traffic.add_argument("--endpoint", help="the endpoint of the usage profile to take")
    traffic.add_argument("--input-tokens", type=int)
    traffic.add_argument("--output-tokens", type=int)
    traffic.add_argument("--concurrency", type=int)


def traffic_numbers(
    parser: argparse.ArgumentParser, args: argparse.Namespace, endpoint: str | None
) -> tuple[Any, Any, Any]:
    """(input tokens, output tokens, concurrency or None) of --usage's `endpoint`, or of the
    numbers; a usage error otherwise."""
    numbers = (args.input_tokens, args.output_tokens, args.concurrency)
    if args.usage is not None:
        if any(n is not None for n in numbers):
            parser.error(
                "--usage takes the tokens and concurrency from the profile: drop the numbers"
            )
        if not endpoint:
            parser.error("--usage needs --endpoint KEY (the profile's endpoint to take)")
        profile = load_profile(args.usage)
        endpoints = profile.get("endpoints")
        if not isinstance(endpoints, dict) or endpoint not in endpoints:
            have = ", ".join(sorted(endpoints)) if isinstance(endpoints, dict) else "none"
            parser.error(f"--endpoint {endpoint}: not in {args.usage} (have: {have})")
        try:
            traffic = parse_traffic(endpoint, endpoints[endpoint])
        except ProfileError as error:
            raise OperatorError(str(error)) from error
        return traffic.input_tokens, traffic.output_tokens, traffic.concurrency
    if args.input_tokens is None or args.output_tokens is None:
        parser.error("give --usage FILE --endpoint KEY, or --input-tokens and --output-tokens")
    return numbers


def workload(
    parser: argparse.ArgumentParser, args: argparse.Namespace, *, request_count: int | None = None
) -> dict[str, Any]:
    """The workload spec of --usage/--endpoint or of the numbers (a benchmark's also fixes its
    `request_count`); a usage error otherwise."""
    input_tokens, output_tokens, concurrency = traffic_numbers(parser, args, args.endpoint)
    try:
        return rec.workload_spec(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            concurrency=DEFAULT_CONCURRENCY if concurrency is None else concurrency,
            request_count=request_count,
        )
    except ValidationError as error:
        parser.error(str(error))


def render(
    recommendations: list[rec.Recommendation], months: list[tuple[float, str]] | None = None
) -> str:
    headers = ["#", "instance", "count", "copies", "optimizations", "expected", "$/month", "image"]
    rows = [
        [
            str(i),
            r.instance_type,
            str(r.instance_count),
            str(r.copies_per_instance),
            ", ".join(r.optimizations) or "none",
            "; ".join(str(p) for p in r.performance) or "-",
            f"{months[i - 1][0]:,.0f}" if months else "-",
            r.image_uri,
        ]
        for i, r in enumerate(recommendations, 1)
    ]
    lines = [render_table(headers, rows, right={0, 2, 3, 6})]
    if months:
        lines.append(f"$/month: {months[0][1]}")
    return "\n".join(lines)


def months_of(args: argparse.Namespace, found: list[rec.Recommendation]) -> list[tuple[float, str]]:
    """The month's cost of the usage profile's traffic on each recommendation, when the
    traffic came from a profile; a note instead of a failure when it cannot be estimated."""
    if args.usage is None or not found:
        return []
    try:
        return month_costs(
            found,
            profile=load_profile(args.usage),
            endpoint=args.endpoint,
            assembly=args.assembly,
            base=args.usage.parent,
        )
    except OperatorError as error:
        print(f"note: no month's cost: {error}", file=sys.stderr)
        return []


def main(
    argv: list[str] | None = None,
    *,
    session: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
    config_path: Path = CDK_JSON,
) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.promote is not None and (not args.endpoint or args.promote < 1):
        parser.error("--promote N (from 1) needs --endpoint KEY, the endpoint of cdk.json to write")
    try:
        settings = load_settings(args.env)
        spec = workload(parser, args)
        session = session or aws_session(args, settings)
        output, role = args.output_s3_uri, args.role_arn
        if output is None or role is None:  # the deployment's bucket and role, from its records
            deployment = deployed(settings, session)
            output = output or f"s3://{deployment.storage.artifacts_bucket}/recommendations/"
            role = role or deployment.require_optimization().measurement_role_arn
        prepared = prepare_recommendation(
            stage=settings.stage_id,
            spec=spec,
            model_s3_uri=args.model_s3_uri,
            output_s3_uri=output,
            role_arn=role,
            target=args.target,
            instance_types=args.instance_types,
            framework=args.framework,
            optimize=args.optimize,
        )
        sagemaker = session.client("sagemaker")
    except ValidationError as error:
        parser.error(str(error))
    except OPERATOR_ERRORS as error:
        print(error_line(error), file=sys.stderr)
        return 2
    try:
        found, described = recommend(
            sagemaker,
            prepared,
            delete_job=args.delete_job,
            poll_seconds=args.poll_seconds,
            timeout_seconds=args.wait_hours * 3600,
            sleep=sleep,
            now=now,
        )
    except KeyboardInterrupt:
        print("\nStopped following; the job goes on. Run the same command to follow it again.")
        return 130
    except OPERATOR_ERRORS as error:
        print(error_line(error), file=sys.stderr)
        return 1
    if found:
        print(render(found, months_of(args, found)))
    print(f"Results: {described['OutputConfig']['S3OutputLocation']}")
    if args.promote is not None:
        return promote_recommendation(args, found, config_path)
    return 0


def promote_recommendation(
    args: argparse.Namespace, found: list[rec.Recommendation], config_path: Path
) -> int:
    """Recommendation N written into endpoint --endpoint of cdk.json, if the loader accepts it."""
    if not 1 <= args.promote <= len(found):
        print(f"error: --promote {args.promote}: the job gave {len(found)}", file=sys.stderr)
        return 1
    chosen = found[args.promote - 1]
    try:
        config = json.loads(config_path.read_text())
        entry = rec.recommendation_entry(chosen)
        write_config(promote(config, args.env, args.endpoint, entry), config_path)
    except (OSError, ValueError, wb.WorkbenchError) as error:
        print(f"error: --promote {args.promote}: {error}", file=sys.stderr)
        return 1
    print(
        f"Promoted recommendation {args.promote} ({chosen.instance_type}, "
        f"{entry['serving']['engine']}) to endpoint {args.endpoint!r} of {args.env} in cdk.json."
    )
    print(
        f"It recommends {chosen.instance_count} instance(s) and {chosen.copies_per_instance} "
        "copies per instance: set max_capacity (and a realtime endpoint's copies) to match; "
        f"deploy with: make deploy ENV={args.env}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
