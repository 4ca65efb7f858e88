#!/usr/bin/env python3
"""Start an optimization job through the workflow, follow it to its end and print the result.

    make optimize ARGS="--technique quantization --quantization-method awq \\
        --model-s3-uri s3://BUCKET/models/llama-3-70b/ --accept-eula \\
        --instance-type ml.p4d.24xlarge --promote awq"

The flags mirror the launcher event (workbench_domain/optimization_request.py; `--request FILE`
takes the event itself, and is checked by the same code as the launcher). The command finds
the workflow in the deployment records under `/<project>/<env>/deployment/` (SSM, read as the
notebooks read them; the project name comes from cdk.json), starts it, prints the status and the
elapsed time until it ends, and prints the result. Running the same command again picks up the same
execution (and job) instead of starting a second one; after a failed run, `--attempt 2` starts
anew. Bad flags stop it before anything starts.

`--promote ENDPOINT` writes the result into `workbench.environments.<env>.endpoints.<ENDPOINT>`
of cdk.json (the optimized model's S3 prefix and the job's recommended inference image) and
enables that endpoint, so the next `make deploy` serves it. `--promote ENDPOINT --entry FILE`
promotes an endpoint entry a notebook saved (`save_entry`) without starting anything.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import genai_workbench as wb
from botocore.exceptions import BotoCoreError, ClientError

from workbench.assembly import OperatorError
from workbench.common import (
    add_environment_arguments,
    aws_problem,
    aws_session,
    default_region,
    read_environment,
)
from workbench.promotion import CDK_JSON, promote, write_config
from workbench_domain import api_limits
from workbench_domain.errors import ValidationError
from workbench_domain.optimization_request import (
    DEFAULT_MAX_RUNTIME_SECONDS,
    OptimizationRequest,
)
from workbench_domain.request_event import parse_request

# Techniques whose output an endpoint can serve: a model (quantization, compilation), or an EAGLE
# head served beside the job's base model (speculative decoding).
PROMOTABLE = ("quantization", "compilation", "speculative_decoding")
_KEY_VALUE = re.compile(r"([^=]+)=(.*)", re.DOTALL)


def _key_value(flag: str) -> Callable[[str], tuple[str, str]]:
    def parse(text: str) -> tuple[str, str]:
        match = _KEY_VALUE.fullmatch(text)
        if not match:
            raise argparse.ArgumentTypeError(f"{flag} expects KEY=VALUE, got {text!r}")
        return match.group(1), match.group(2)

    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _enum(shape: str, what: str) -> Callable[[str], str]:
    """A value of a SageMaker enum shape (botocore's model, as the config checks use)."""

    def parse(text: str) -> str:
        allowed = api_limits.enum(shape)
        if text not in allowed:
            close = difflib.get_close_matches(text, allowed, n=3)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}{hint}")
        return text

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench optimize",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )
    job = parser.add_argument_group("the job (the launcher event)")
    job.add_argument(
        "--request",
        type=Path,
        metavar="FILE",
        help="the launcher event as a JSON file, instead of the job flags below",
    )
    job.add_argument("--technique", choices=wb.TECHNIQUES)
    source = job.add_mutually_exclusive_group()
    source.add_argument("--model-s3-uri", help="s3:// prefix of the model's uncompressed weights")
    source.add_argument("--model-name", help="an existing SageMaker model")
    job.add_argument("--accept-eula", action="store_true", help="accept the model's EULA")
    job.add_argument(
        "--instance-type",
        type=_enum(
            "OptimizationJobDeploymentInstanceType",
            "a DeploymentInstanceType of CreateOptimizationJob",
        ),
        help="instance type the model is optimized for",
    )
    job.add_argument("--quantization-method", choices=wb.QUANTIZATION_METHODS)
    job.add_argument("--training-data-s3-uri", help="EAGLE training data (speculative decoding)")
    job.add_argument(
        "--container-env",
        dest="environment",
        type=_key_value("--container-env"),
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="container environment override, e.g. OPTION_TENSOR_PARALLEL_DEGREE=8 (repeatable)",
    )
    job.add_argument("--image-uri", help="optimization container (default: the workflow's)")
    job.add_argument("--output-s3-uri", help="where the job writes (default: optimized/<job>/)")
    job.add_argument("--job-name", help="default: derived from the request")
    job.add_argument("--max-runtime-seconds", type=_positive_int)
    job.add_argument(
        "--tag",
        dest="tags",
        type=_key_value("--tag"),
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="job tag (repeatable)",
    )
    run = parser.add_argument_group("running")
    add_environment_arguments(run)
    run.add_argument(
        "--attempt", type=_positive_int, default=1, help="2, 3, ... to rerun a failed request"
    )
    run.add_argument("--no-wait", action="store_true", help="start, print the execution, exit")
    run.add_argument("--poll-seconds", type=_positive_int, default=60)
    run.add_argument(
        "--wait-hours", type=_positive_int, default=48, help="stop waiting after (default 48)"
    )
    promote = parser.add_argument_group("promoting")
    promote.add_argument(
        "--promote",
        metavar="ENDPOINT",
        help="write the result into this endpoint's entry of cdk.json",
    )
    promote.add_argument(
        "--serve-on",
        type=_enum("ProductionVariantInstanceType", "an endpoint instance type"),
        help="instance type of the endpoint (default: the job's)",
    )
    promote.add_argument(
        "--entry", type=Path, help="promote this saved endpoint entry (JSON); starts no job"
    )
    return parser


JOB_FLAGS = (
    "technique",
    "model_s3_uri",
    "model_name",
    "instance_type",
    "quantization_method",
    "training_data_s3_uri",
    "image_uri",
    "output_s3_uri",
    "job_name",
    "max_runtime_seconds",
)


def request_from_args(args: argparse.Namespace) -> OptimizationRequest:
    return OptimizationRequest(
        technique=args.technique,
        instance_type=args.instance_type,
        model_s3_uri=args.model_s3_uri,
        model_name=args.model_name,
        accept_eula=args.accept_eula,
        quantization_method=args.quantization_method,
        training_data_s3_uri=args.training_data_s3_uri,
        environment=dict(args.environment),
        image_uri=args.image_uri,
        output_s3_uri=args.output_s3_uri,
        job_name=args.job_name,
        max_runtime_seconds=args.max_runtime_seconds or DEFAULT_MAX_RUNTIME_SECONDS,
        tags=dict(args.tags),
    )


def request_from_file(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any:
    """The event in --request FILE, as parsed JSON (checked by the caller)."""
    given = [f"--{name.replace('_', '-')}" for name in JOB_FLAGS if getattr(args, name)]
    given += ["--container-env"] * bool(args.environment) + ["--tag"] * bool(args.tags)
    given += ["--accept-eula"] * args.accept_eula
    if given:
        parser.error(f"--request FILE holds the whole event; drop {', '.join(given)}")
    try:
        return json.loads(args.request.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        parser.error(f"--request {args.request}: {error}")


def check_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace, endpoints: Collection[str]
) -> OptimizationRequest | None:
    """Every check that needs no AWS call; returns the request (None with --entry).

    `endpoints` are the endpoint keys of the environment in cdk.json: --promote writes into one
    of them (a new endpoint needs settings a result does not give, such as its price).
    """
    if args.promote is not None and args.promote not in endpoints:
        parser.error(
            f"--promote: no endpoint {args.promote!r} in cdk.json for {args.env} (have: "
            f"{', '.join(sorted(endpoints)) or 'none'}); add its entry first"
        )
    if args.entry is not None:
        job_flags = [name for name in JOB_FLAGS if getattr(args, name) is not None]
        if args.promote is None or job_flags or args.request is not None:
            parser.error("--entry goes with --promote ENDPOINT only (it starts no job)")
        return None
    if args.request is not None:
        event = request_from_file(parser, args)
    else:
        for flag in ("technique", "instance_type"):
            if getattr(args, flag) is None:
                parser.error(f"--{flag.replace('_', '-')} is required")
        event = request_from_args(args).to_event()
    # The launcher's own schema; its rules need the deployment's job defaults and run in
    # start_optimization, still before anything starts.
    try:
        request = parse_request(event)
    except ValidationError as error:
        parser.error(str(error))
    if args.promote is not None and request.technique not in PROMOTABLE:
        parser.error(
            f"--promote: a {request.technique} job produces no model an endpoint serves; "
            f"promote works with {' or '.join(PROMOTABLE)}"
        )
    if (
        args.promote is not None
        and request.technique == "speculative_decoding"
        and request.model_s3_uri is None
    ):
        parser.error(
            "--promote: an EAGLE job's head serves beside its base model, which the endpoint "
            "reads from S3: give the base model with --model-s3-uri"
        )
    if args.serve_on is not None and args.promote is None:
        parser.error("--serve-on goes with --promote")
    return request


def main(
    argv: list[str] | None = None,
    *,
    make_client: Callable[..., Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    config_path: Path = CDK_JSON,
) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config, settings = read_environment(parser, args.env, config_path)
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    request = check_args(parser, args, settings.endpoints)

    if request is None:  # --entry
        try:
            entry = json.loads(args.entry.read_text(encoding="utf-8"))
            write_config(promote(config, args.env, args.promote, entry), config_path)
        except json.JSONDecodeError as error:
            print(
                f"error: --entry {args.entry} is not valid JSON (line {error.lineno}, column "
                f"{error.colno}: {error.msg})",
                file=sys.stderr,
            )
            return 1
        except (OSError, ValueError, wb.WorkbenchError) as error:
            print(f"error: --entry {args.entry}: {error}", file=sys.stderr)
            return 1
        print(f"Promoted {args.entry} to endpoint {args.promote!r} of {args.env} in cdk.json;")
        print(f"deploy it with: make deploy ENV={args.env}")
        return 0

    try:
        make_client = make_client or aws_session(args, settings).client
        ssm = make_client("ssm", region_name=default_region(args.region, settings))
        deployment = wb.Deployment.from_parameters(
            f"{settings.parameter_prefix}/deployment/", ssm_client=ssm
        )
        deployment.require_optimization()
        deployment.use_client(
            "stepfunctions", make_client("stepfunctions", region_name=ssm.meta.region_name)
        )
        execution = wb.start_optimization(deployment, request, attempt=args.attempt)
        if args.no_wait:
            print(execution)
            return 0
        result = wb.wait_for_optimization(
            deployment,
            execution,
            timeout_seconds=args.wait_hours * 3600,
            poll_seconds=args.poll_seconds,
            sleep=sleep,
        )
    except KeyboardInterrupt:
        print(
            "\nStopped waiting; the workflow and the job go on. Run the same command again to "
            "follow them (it reuses the execution).",
            file=sys.stderr,
        )
        return 130
    except (wb.WorkbenchError, TimeoutError, ClientError, BotoCoreError) as error:
        print(f"error: {aws_problem(error) or error}", file=sys.stderr)
        return 1

    print(json.dumps(result, indent=2, sort_keys=True))
    if args.promote is not None:
        entry = wb.endpoint_entry_from_result(
            result,
            environment=wb.deployment_environment(request),
            instance_type=args.serve_on,
            # An EAGLE head serves beside the job's (possibly gated) base model; the other
            # techniques' outputs are the user's own copies in the artifacts bucket.
            accept_eula=request.accept_eula and request.technique == "speculative_decoding",
            base_model_s3_uri=request.model_s3_uri,
        )
        try:
            write_config(promote(config, args.env, args.promote, entry), config_path)
        except wb.WorkbenchError as error:
            print(
                f"error: {error}\nThe entry, to fix by hand:\n{wb.entry_json(entry)}",
                file=sys.stderr,
            )
            return 1
        print(
            f"Promoted to endpoint {args.promote!r} of {args.env} in cdk.json "
            f"({entry['instance_type']}); deploy it with: make deploy ENV={args.env}"
        )
        was = settings.endpoints[args.promote].instance_type
        if was != entry["instance_type"]:
            print(
                f"Note: the endpoint moves from {was} to {entry['instance_type']}: review its "
                "price_usd_per_hour and capacity settings in cdk.json."
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
