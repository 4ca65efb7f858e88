"""Export a model for a `neuron_vllm` endpoint (Inferentia2): the model it then serves.

    make neuron-export ENDPOINT=inf2 ARGS="--source models/meta-llama-3-70b/"
    make neuron-export ENDPOINT=inf2 ARGS="--source models/meta-llama-3-70b/ --dry-run"

Hugging Face's vLLM Neuron DLC serves a model that `optimum-cli export neuron` wrote for the
endpoint's batch size (`max_concurrent_sequences`), sequence length (`max_model_len`) and tensor
parallel degree, and nothing else (workbench_domain/neuron_export.py says why). This command
starts a SageMaker training job on ml.trn1.32xlarge that runs the endpoint's own image to export
the weights under `--source` (an S3 prefix of the artifacts bucket, or an s3:// URI) into the
endpoint's model prefix, which must lie under the optimization output prefix (the job role
writes there only). Run it before deploying the endpoint; deploy when the job has completed.

The job runs as the optimization job role, tagged with the stage's cost tag, and bills
ml.trn1.32xlarge by the hour while it runs (`--max-hours`, default 8). The same request gets the
same job name: running it again reports the job instead of starting another one.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from genai_workbench.ai_jobs import create_unless_exists

from workbench.assembly import OperatorError
from workbench.common import (
    OPERATOR_ERRORS,
    add_environment_arguments,
    aws_session,
    deployed,
    error_line,
    load_settings,
    positive_number,
)
from workbench_config import AppConfig
from workbench_domain import cost_allocation, deployment_records, dlc_registry, uris
from workbench_domain import neuron_export as nx
from workbench_domain.errors import ValidationError
from workbench_domain.serving import ServingSettings, resolve_image

MAX_RUNTIME_SECONDS = 28 * 24 * 3600


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench neuron-export", description=__doc__.splitlines()[0]
    )
    add_environment_arguments(parser)
    parser.add_argument("--endpoint", required=True, help="the endpoint key (cdk.json)")
    parser.add_argument(
        "--source",
        required=True,
        help="the model's weights: a key prefix of the artifacts bucket, or an s3:// URI",
    )
    parser.add_argument("--dtype", choices=nx.DTYPES, default="bfloat16")
    parser.add_argument("--max-hours", type=positive_number, default=nx.DEFAULT_MAX_HOURS)
    parser.add_argument("--dry-run", action="store_true", help="print the request, start nothing")
    return parser


def image_uri(settings: ServingSettings, region: str) -> str:
    """The endpoint's image in `region` (its DLC registry account, as the stacks resolve it)."""
    if settings.image_uri is not None:
        return settings.image_uri.replace(uris.REGION_PLACEHOLDER, region)
    row = resolve_image(settings)
    uri = dlc_registry.image_uri(row.repository, row.tag, region) if row else None
    if uri is None:
        raise OperatorError(f"no Deep Learning Containers registry is known in {region}")
    return uri


def export_request(
    settings: AppConfig,
    endpoint_key: str,
    *,
    source: str,
    dtype: str,
    max_hours: float,
    storage: deployment_records.StorageRecord,
    job_role_arn: str,
) -> dict[str, Any]:
    """The CreateTrainingJob request; OperatorError or ValidationError names what is wrong."""
    endpoint = settings.endpoints.get(endpoint_key)
    if endpoint is None:
        raise OperatorError(
            f"--endpoint {endpoint_key}: no such endpoint (cdk.json has: "
            f"{', '.join(sorted(settings.endpoints))})"
        )
    arguments = nx.export_arguments(endpoint.serving, endpoint.instance_type, dtype)
    bucket = storage.artifacts_bucket
    output_prefix = settings.optimization.output_prefix
    target = endpoint.model.location
    if target.key_prefix is None or not target.key_prefix.startswith(output_prefix):
        raise OperatorError(
            f"endpoints.{endpoint_key}.model: the export is written to the endpoint's model, "
            f"which must be a key prefix under {output_prefix} of the artifacts bucket (the job "
            f"role writes there only); got {target.uri or target.key_prefix}"
        )
    if source.startswith("s3://"):
        uris.split_s3_uri(source)  # ValidationError for a malformed URI
        source_uri = source if source.endswith("/") else f"{source}/"
    else:
        source_uri = f"s3://{bucket}/{source.strip('/')}/"
    # StoppingCondition.MaxRuntimeInSeconds: at least 1 (botocore's shape) and "The maximum
    # value is 28 days." (botocore's documentation of the member).
    if not 1 <= max_hours * 3600 <= MAX_RUNTIME_SECONDS:  # --max-hours is finite and > 0
        raise ValidationError("--max-hours", "is out of range", max_hours, "up to 672 (28 days)")
    name = nx.job_name(settings.stage_id, endpoint_key, arguments, source_uri)
    return nx.training_job_request(
        name=name,
        image_uri=image_uri(endpoint.serving, storage.region),
        role_arn=job_role_arn,
        source_uri=source_uri,
        target_uri=f"s3://{bucket}/{target.key_prefix}",
        job_output_uri=f"s3://{bucket}/{output_prefix}neuron-export-jobs/",
        kms_key_arn=storage.kms_key_arn,
        arguments=arguments,
        tags={cost_allocation.TAG_KEY: settings.stage_id},
        max_hours=max_hours,
    )


def main(argv: list[str] | None = None, *, session: Any = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings(args.env)
        session = session or aws_session(args, settings)
        deployment = deployed(settings, session)
        request = export_request(
            settings,
            args.endpoint,
            source=args.source,
            dtype=args.dtype,
            max_hours=args.max_hours,
            storage=deployment.storage,
            job_role_arn=deployment.require_optimization().job_role_arn,
        )
        if args.dry_run:
            print(json.dumps(request, indent=2))
            return 0
        created = create_unless_exists(session.client("sagemaker").create_training_job, request)
    except ValidationError as error:
        parser.error(str(error))
    except OPERATOR_ERRORS as error:
        print(error_line(error), file=sys.stderr)
        return 2
    name = request["TrainingJobName"]
    print(
        f"{'Started' if created else 'Already there:'} {name}: exports to "
        f"{request['CheckpointConfig']['S3Uri']}\nFollow it: aws sagemaker describe-training-job "
        f"--training-job-name {name} --query TrainingJobStatus; deploy the endpoint once it "
        "has completed."
    )
    return 0
