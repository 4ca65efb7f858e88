"""Write a JumpStart model into an endpoint of cdk.json, read with boto3 alone.

    make jumpstart MODEL=meta-textgeneration-llama-3-70b ENDPOINT=p4d ARGS="--accept-eula --draft"

Reads the model's hub document (`DescribeHubContent` on `SageMakerPublicHub`), builds the
endpoint entry (artifacts, environment, the SageMaker-provided draft of its `lmi-optimized`
config with --draft) and writes it into `workbench.environments.<env>.endpoints.<ENDPOINT>` only
after the app's config loader accepts it; otherwise cdk.json is left as it was.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import genai_workbench as wb
from botocore.exceptions import BotoCoreError

from workbench.assembly import OperatorError
from workbench.common import (
    add_environment_arguments,
    aws_problem,
    aws_session,
    default_region,
    read_environment,
)
from workbench.promotion import CDK_JSON, promote, write_config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench jumpstart", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--model-id", required=True, help="JumpStart model id")
    parser.add_argument("--endpoint", required=True, help="endpoint key in cdk.json, e.g. p4d")
    add_environment_arguments(parser)
    parser.add_argument("--accept-eula", action="store_true", help="accept the model's EULA")
    parser.add_argument("--draft", action="store_true", help="add the SageMaker-provided draft")
    parser.add_argument(
        "--jumpstart-image",
        action="store_true",
        help="serve with JumpStart's own image (unchecked) instead of the app's pinned image",
    )
    return parser


def main(
    argv: list[str] | None = None,
    *,
    make_client: Callable[..., Any] | None = None,
    config_path: Path = CDK_JSON,
) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config, settings = read_environment(parser, args.env, config_path)
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.endpoint not in settings.endpoints:
        parser.error(
            f"--endpoint: no endpoint {args.endpoint!r} in cdk.json for {args.env} (have: "
            f"{', '.join(sorted(settings.endpoints)) or 'none'}); add its entry first"
        )
    instance_type = settings.endpoints[args.endpoint].instance_type
    try:
        entry = wb.jumpstart_entry(
            args.model_id,
            instance_type=instance_type,
            accept_eula=args.accept_eula,
            with_draft=args.draft,
            jumpstart_image=args.jumpstart_image,
            sagemaker_client=(make_client or aws_session(args, settings).client)(
                "sagemaker", region_name=default_region(args.region, settings)
            ),
        )
        write_config(promote(config, args.env, args.endpoint, entry), config_path)
    except wb.WorkbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BotoCoreError as error:
        print(f"error: {aws_problem(error) or error}", file=sys.stderr)
        return 1
    print(f"Wrote {args.model_id} into endpoint {args.endpoint!r} of {args.env} in cdk.json:")
    print(wb.entry_json(entry))
    return 0


if __name__ == "__main__":
    sys.exit(main())
