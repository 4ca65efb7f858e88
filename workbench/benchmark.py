"""Measure a deployed endpoint's speed under your traffic, and store the measurement.

    make benchmark ENDPOINT=chat ARGS="--usage usage.yml"
    make benchmark ENDPOINT=p4d ARGS="--input-tokens 800 --output-tokens 300 --concurrency 4"

A realtime endpoint is measured by a SageMaker AI benchmark job: NVIDIA AIPerf, run by the
service against the endpoint's inference component, with the workload of the usage profile
(input and output tokens, concurrency) and `--requests` requests. Its results land under
`benchmarks/` in the artifacts bucket; TTFT, inter-token latency, request latency and output
tokens per second are read from its `profile_export_aiperf.json`.

An async endpoint cannot be a benchmark job's target: the service needs "an endpoint in
InService status hosting an LLM that supports the OpenAI-compatible chat completions API"
(docs.aws.amazon.com/sagemaker/latest/dg/generative-ai-inference-recommendations-benchmark.html),
which is a realtime route. It is measured by the notebook client's async runner instead, end
to end through the queue, under the same names (no TTFT or ITL without a stream).

Either way the record is written to `measurements/<endpoint>/speed/` in the artifacts bucket
and copied to build/measurements/<env>/, where `make cost --usage` and `make compare` read it.
The endpoint bills while it serves the run (a scaled-to-zero endpoint starts for it).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import genai_workbench as wb
from genai_workbench.ai_jobs import benchmark_with_job
from genai_workbench.measurements import speed_of_async_run, store_speed

from workbench import measured
from workbench.common import (
    OPERATOR_ERRORS,
    add_environment_arguments,
    aws_session,
    deployed,
    error_line,
    load_settings,
    positive_number,
)
from workbench.recommend import add_traffic_arguments, workload
from workbench_domain import measurements as m
from workbench_domain.deployment_records import REALTIME
from workbench_domain.errors import ValidationError

DEFAULT_REQUESTS = 100
# Words of the async runner's synthetic prompts: about one token each for Llama tokenizers.
_PROMPT_WORDS = (
    "please", "summarise", "the", "following", "notes", "about", "the", "quarterly", "review",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench benchmark", description=__doc__.splitlines()[0]
    )
    add_environment_arguments(parser)
    parser.add_argument("--endpoint", required=True, help="the endpoint key (cdk.json)")
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS, help="how many")
    add_traffic_arguments(parser, endpoint_flag=False)
    job = parser.add_argument_group("benchmark job (realtime endpoints)")
    job.add_argument("--role-arn", help="default: the deployment's measurement role")
    job.add_argument("--output-s3-uri", help="default: the artifacts bucket's benchmarks/")
    job.add_argument("--poll-seconds", type=positive_number, default=30)
    job.add_argument("--wait-hours", type=positive_number, default=3, help="stop following after")
    job.add_argument("--delete-job", action="store_true", help="delete the finished job")
    return parser


def synthetic_prompt(tokens: int) -> str:
    return " ".join(_PROMPT_WORDS[i % len(_PROMPT_WORDS)] for i in range(tokens))


def _run_benchmark_job(
    args: argparse.Namespace,
    *,
    deployment: wb.Deployment,
    spec: dict[str, Any],
    sleep: Callable[[float], None],
    now: Callable[[], float],
    local_root: Path | None,
) -> m.Speed:
    speed, archive = benchmark_with_job(
        deployment,
        args.endpoint,
        spec,
        role_arn=args.role_arn,
        output_s3_uri=args.output_s3_uri,
        delete_job=args.delete_job,
        poll_seconds=args.poll_seconds,
        timeout_seconds=args.wait_hours * 3600,
        sleep=sleep,
        now=now,
    )
    # The job's plots (TTFT over the run), beside the local copy of its record.
    folder = (local_root or measured.LOCAL) / args.env / args.endpoint / "plots" / speed.run
    for name, data in archive.plots.items():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        print(f"Plot: {folder / name}")
    return speed


def _run_async(
    args: argparse.Namespace, *, deployment: wb.Deployment, spec: dict[str, Any]
) -> m.Speed:
    parameters = spec["parameters"]
    prompts = [synthetic_prompt(parameters["prompt_input_tokens_mean"])] * args.requests
    # Warm first: a scaled-to-zero endpoint would add its cold start to the first wave.
    wb.measure_cold_start(deployment, args.endpoint, wb.llm_payload("Hello"))
    started = datetime.now(UTC)
    result = wb.benchmark_endpoint(
        deployment,
        args.endpoint,
        prompts,
        concurrency=parameters["concurrency"],
        max_new_tokens=parameters["output_tokens_mean"],
    )
    return speed_of_async_run(
        result,
        run=f"async-{started:%Y%m%dT%H%M%SZ}",
        measured_at=started,
        concurrency=parameters["concurrency"],
        input_tokens=parameters["prompt_input_tokens_mean"],
        output_tokens=parameters["output_tokens_mean"],
    )


def render(speed: m.Speed) -> str:
    def ms(d: m.Distribution) -> str:
        return "-" if d.p50 is None else f"p50 {d.p50:.0f} / p90 {d.p90:.0f} / p99 {d.p99:.0f} ms"

    def rate(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    return "\n".join(
        [
            f"{speed.endpoint_key} ({speed.instance_type or '?'}), {speed.runner} {speed.run}:",
            f"  requests {speed.requests}, errors {speed.error_rate_percent:.1f} %, "
            f"concurrency {speed.concurrency}, {speed.input_tokens} tokens in, "
            f"{speed.output_tokens} out",
            f"  time to first token   {ms(speed.ttft_ms)}",
            f"  inter-token latency   {ms(speed.itl_ms)}",
            f"  request latency       {ms(speed.request_latency_ms)}",
            f"  output tokens/s       {rate(speed.tokens_per_second_per_request)} per request, "
            f"{rate(speed.tokens_per_second)} in aggregate",
            f"  from {speed.source}",
        ]
    )


def main(
    argv: list[str] | None = None,
    *,
    session: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
    local_root: Path | None = None,
) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.requests < 1:
        parser.error("--requests must be >= 1")
    try:
        settings = load_settings(args.env)
        spec = workload(parser, args, request_count=args.requests)
        session = session or aws_session(args, settings)
        deployment = deployed(
            settings,
            session,
            ("sagemaker", "s3", "sagemaker-runtime", "cloudwatch"),
            endpoint=args.endpoint,
        )
    except ValidationError as error:
        parser.error(str(error))
    except OPERATOR_ERRORS as error:
        print(error_line(error), file=sys.stderr)
        return 2
    try:
        if deployment.endpoints[args.endpoint].kind == REALTIME:
            speed = _run_benchmark_job(
                args, deployment=deployment, spec=spec, sleep=sleep, now=now,
                local_root=local_root,
            )  # fmt: skip
        else:
            print(
                f"{args.endpoint} is asynchronous: a benchmark job cannot target it (it needs "
                "the OpenAI-compatible chat route); measuring end to end with the async runner"
            )
            speed = _run_async(args, deployment=deployment, spec=spec)
        uri = store_speed(deployment, speed)
    except ValidationError as error:  # a bad flag value, found before any call
        parser.error(str(error))
    except KeyboardInterrupt:
        print("\nStopped following; a started job goes on. Run the same command to follow it.")
        return 130
    except OPERATOR_ERRORS as error:
        print(error_line(error), file=sys.stderr)
        return 1
    print(render(speed))
    local = measured.save(args.env, speed.key(), m.to_document(speed), local_root)
    print(f"Stored: {uri} and {local}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
