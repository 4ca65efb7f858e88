"""Measure a deployed endpoint's accuracy with EleutherAI's lm-evaluation-harness.

    make evaluate ENDPOINT=p4d ARGS="--tasks gsm8k ifeval --limit 250"

Runs the harness's own tasks (GSM8K: grade-school maths, strict `#### <answer>` match; IFEval:
verifiable instructions; needs `pip install "lm-eval[ifeval]==0.4.13"`) on the first `--limit`
documents of each, greedy, through the endpoint (`genai_workbench.evaluation.EndpointLM`: the
async queue or the realtime chat route). Run it with the same flags on the base model's
endpoint and on each variant's: `make compare` then shows each variant's difference from the
base on the same prompts, with its 95 % interval. Each task's score, its standard error and
each document's score are stored under `measurements/<endpoint>/accuracy/` in the artifacts
bucket and in build/measurements/<env>/.

The endpoint bills while it answers (a scaled-to-zero endpoint starts for the run): the
estimate printed first is the run's upper bound, from every answer's maximum length at the
endpoint's measured speed (`make benchmark`), or at an assumed one, said so. `--dry-run`
prints it and stops.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench import measured
from workbench.common import (
    OPERATOR_ERRORS,
    add_environment_arguments,
    aws_session,
    deployed,
    error_line,
    load_settings,
)
from workbench_domain import accuracy as acc

# Each task's longest answer, in tokens (the harness's max_gen_toks: lm_eval 0.4.13's default
# 256 for GSM8K, 1280 in tasks/ifeval/ifeval.yaml).
MAX_ANSWER_TOKENS = {"gsm8k": 256, "ifeval": 1280}
# Output tokens per second of one request when nothing was measured: a 70B model at tensor
# parallel degree 8 on one instance (an assumption, printed as one).
ASSUMED_TOKENS_PER_SECOND = 20.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench evaluate", description=__doc__.splitlines()[0]
    )
    add_environment_arguments(parser)
    parser.add_argument("--endpoint", required=True, help="the endpoint key (cdk.json)")
    parser.add_argument(
        "--tasks", nargs="+", default=["gsm8k"], choices=sorted(acc.TASK_METRICS), metavar="TASK"
    )
    parser.add_argument("--limit", type=int, default=250, help="documents per task (same for all)")
    parser.add_argument("--num-fewshot", type=int, help="default: the task's own")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--dry-run", action="store_true", help="print the estimate and stop")
    return parser


def estimate(
    *,
    tasks: list[str],
    limit: int,
    concurrency: int,
    price_usd_per_hour: float,
    speed: Any,
) -> str:
    """The run's upper bound: every answer at its task's maximum length."""
    tokens = sum(MAX_ANSWER_TOKENS[t] * limit for t in tasks)
    rate = getattr(speed, "tokens_per_second_per_request", None)
    source = f"measured by {speed.runner} {speed.run}" if rate else "assumed, nothing measured"
    rate = rate or ASSUMED_TOKENS_PER_SECOND
    hours = tokens / (rate * concurrency) / 3600
    cost = hours * price_usd_per_hour
    return (
        f"Estimate: {limit * len(tasks)} requests, at most {tokens:,} output tokens, at "
        f"{rate:.1f} tokens/s per request ({source}) x {concurrency} in flight: at most "
        f"{hours:.2f} h of the endpoint at ${price_usd_per_hour:g}/h = ${cost:,.2f}"
    )


def render(found: list[acc.Accuracy]) -> str:
    lines = []
    for a in found:
        interval = a.interval
        shown = "" if interval is None else f" (95 % interval {interval[0]:.3f}..{interval[1]:.3f})"
        lines.append(f"  {a.task}: {a.metric} = {a.value:.3f}{shown}, {a.samples} documents")
    return "\n".join(lines)


def main(
    argv: list[str] | None = None,
    *,
    session: Any = None,
    local_root: Path | None = None,
) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.limit < 1 or args.concurrency < 1 or (args.num_fewshot or 0) < 0:
        parser.error("--limit and --concurrency must be >= 1, --num-fewshot >= 0")
    try:
        settings = load_settings(args.env)
        session = session or aws_session(args, settings)
        deployment = deployed(
            settings, session, ("sagemaker", "s3", "sagemaker-runtime"), endpoint=args.endpoint
        )
        info = deployment.endpoints[args.endpoint]
        print(
            estimate(
                tasks=args.tasks,
                limit=args.limit,
                concurrency=args.concurrency,
                price_usd_per_hour=info.price_usd_per_hour,
                speed=measured.load(args.env, local_root).get(args.endpoint),
            )
        )
        if args.dry_run:
            return 0
        from genai_workbench.evaluation import evaluate_endpoint
        from genai_workbench.measurements import store_accuracy

        started = datetime.now(UTC)
        found = evaluate_endpoint(
            deployment,
            args.endpoint,
            tasks=args.tasks,
            limit=args.limit,
            num_fewshot=args.num_fewshot,
            concurrency=args.concurrency,
            run=f"eval-{started:%Y%m%dT%H%M%SZ}",
            measured_at=started,
        )
        stored = [store_accuracy(deployment, a) for a in found]
        for a in found:
            measured.save(args.env, a.key(), acc.to_document(a), local_root)
    except ImportError as error:  # the harness, or a task's own dependency, is not installed
        print(
            f"error: {error.name or error}: not installed; "
            'pip install "lm-eval[ifeval]==0.4.13" (the tasks this command runs need it)',
            file=sys.stderr,
        )
        return 2
    except OPERATOR_ERRORS as error:
        print(error_line(error), file=sys.stderr)
        return 1
    except Exception as error:  # the harness's own (a dataset it cannot fetch): one line
        print(f"error: lm-evaluation-harness: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"{args.endpoint}, harness {found[0].harness if found else '?'}:")
    print(render(found))
    print("Stored: " + ", ".join(stored))
    return 0


if __name__ == "__main__":
    sys.exit(main())
