"""Endpoint entries (what notebooks promote), JumpStart configs and draft-model upload."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from genai_workbench.common import LLAMA3_70B, WorkbenchError, _prefix_key, aws_errors, split_s3_uri
from genai_workbench.deployment import Deployment
from workbench_domain import endpoint_entry as entries
from workbench_domain import (
    jumpstart,
)
from workbench_domain.optimization_request import OptimizationRequest


def entry_json(entry: Mapping[str, Any]) -> str:
    """An endpoint entry as indented JSON, ready to print or paste."""
    return json.dumps(entry, indent=2, sort_keys=True)


def save_entry(entry: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write an endpoint entry as JSON (for ``make optimize`` with ``--promote``); the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(entry_json(entry) + "\n", encoding="utf-8")
    return target


@contextmanager
def _entry_errors() -> Iterator[None]:
    """An entry the domain cannot build is a WorkbenchError, as every error of this client."""
    try:
        yield
    except (entries.EntryError, jumpstart.JumpStartError) as error:
        raise WorkbenchError(str(error)) from error


def deployment_environment(request: OptimizationRequest) -> dict[str, str]:
    """Environment the optimized model is served with: the job's own
    (``OptimizationRequest.job_environment``: the override environment, plus
    ``OPTION_QUANTIZE`` for a quantization job). On the app's pinned vLLM image the
    quantization is dropped again (``workbench_domain.endpoint_entry``)."""
    return request.job_environment()


def endpoint_entry_from_result(
    result: Mapping[str, Any],
    *,
    environment: Mapping[str, str] | None = None,
    instance_type: str | None = None,
    accept_eula: bool = False,
    base_model_s3_uri: str | None = None,
) -> dict[str, Any]:
    """Endpoint entry serving a job's output (shape: ``workbench_domain.endpoint_entry``).

    ``instance_type`` defaults to the job's deployment instance type; the image is the job's
    recommended inference image when it has one (its environment split into typed serving
    settings when the image is one the app knows), else the pinned image for the instance.
    An EAGLE (speculative decoding) job trains a head only: the entry serves
    ``base_model_s3_uri`` (the job's ``model_s3_uri``) with the head from ``<output>/draft/``.
    """
    for key in ("output_s3_uri", "deployment_instance_type"):
        if not result.get(key):
            raise WorkbenchError(f"result document lacks {key!r}: {dict(result)}")
    serve_on = instance_type or str(result["deployment_instance_type"])
    image = result.get("recommended_inference_image") or None
    eagle = "speculative_decoding" in (result.get("techniques") or ())
    if eagle and not base_model_s3_uri:
        raise WorkbenchError(
            "an EAGLE job trains a head that serves beside its base model: pass "
            "base_model_s3_uri (the job's model_s3_uri)"
        )
    with _entry_errors():
        if "compilation" in (result.get("techniques") or ()):
            return entries.entry_for_compilation(
                model_s3_uri=str(result["output_s3_uri"]),
                instance_type=serve_on,
                job_images=tuple(result.get("job_images") or ()),
                image_uri=image,
                environment=environment,
                accept_eula=accept_eula,
            )
        if eagle and base_model_s3_uri:
            return entries.entry_for_eagle_job(
                base_model_s3_uri=base_model_s3_uri,
                output_s3_uri=str(result["output_s3_uri"]),
                instance_type=serve_on,
                image_uri=image,
                environment=environment,
                accept_eula=accept_eula,
            )
        return entries.entry_for_model(
            model_s3_uri=str(result["output_s3_uri"]),
            instance_type=serve_on,
            image_uri=image,
            environment=environment,
            accept_eula=accept_eula,
        )


def with_custom_draft_model(
    entry: Mapping[str, Any], draft_s3_uri: str, *, num_speculative_tokens: int = 5
) -> dict[str, Any]:
    """A copy of ``entry`` whose model speculates with the draft model at ``draft_s3_uri``."""
    split_s3_uri(draft_s3_uri)
    with _entry_errors():
        return entries.with_speculative_model(
            entry,
            method="draft_model",
            model_s3_uri=draft_s3_uri,
            num_speculative_tokens=num_speculative_tokens,
        )


def describe_jumpstart_model(
    model_id: str = LLAMA3_70B,
    *,
    instance_type: str = "ml.p4d.24xlarge",
    config_name: str | None = None,
    version: str | None = None,
    region: str | None = None,
    sagemaker_client: Any = None,
) -> jumpstart.JumpStartModel:
    """A JumpStart model's image, artifacts and environment for ``instance_type``, with
    ``config_name`` applied; the draft's bucket is the one of the client's region."""
    client = sagemaker_client or boto3.client("sagemaker", region_name=region)
    try:
        response = client.describe_hub_content(**jumpstart.describe_request(model_id, version))
    except ClientError as error:
        raise WorkbenchError(f"JumpStart model {model_id}: {error}") from error
    with _entry_errors():
        return jumpstart.parse_model(
            response, config_name, instance_type=instance_type, region=client.meta.region_name
        )


def jumpstart_entry(
    model_id: str = LLAMA3_70B,
    *,
    instance_type: str = "ml.p4d.24xlarge",
    accept_eula: bool = False,
    with_draft: bool = False,
    jumpstart_image: bool = False,
    region: str | None = None,
    sagemaker_client: Any = None,
) -> dict[str, Any]:
    """Endpoint entry for a JumpStart model; ``with_draft`` adds the SageMaker-provided draft.

    The draft comes from the model's ``lmi-optimized`` deployment config, and is served by the
    app's pinned vLLM image with ``speculative_config`` (see workbench_domain/endpoint_entry).
    """
    model = describe_jumpstart_model(
        model_id,
        instance_type=instance_type,
        config_name=jumpstart.SPECULATIVE_CONFIG if with_draft else None,
        region=region,
        sagemaker_client=sagemaker_client,
    )
    if with_draft and model.draft_s3_uri is None:
        raise WorkbenchError(f"{model_id} config {jumpstart.SPECULATIVE_CONFIG} has no draft model")
    with _entry_errors():
        return entries.entry_for_jumpstart(
            model,
            instance_type=instance_type,
            accept_eula=accept_eula,
            jumpstart_image=jumpstart_image,
        )


DRAFT_MODEL_FILES = ("*.json", "*.safetensors", "tokenizer*", "*.model", "*.txt")


def download_hf_model(
    repo_id: str,
    local_dir: str | os.PathLike[str],
    *,
    token: str | None = None,
    allow_patterns: Sequence[str] = DRAFT_MODEL_FILES,
) -> Path:
    """Download a Hugging Face hub model (weights in safetensors, config, tokenizer)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError as err:
        raise WorkbenchError("run `%pip install huggingface_hub` first") from err
    path = snapshot_download(
        repo_id=repo_id, local_dir=str(local_dir), token=token, allow_patterns=list(allow_patterns)
    )
    return Path(path)


@aws_errors
def upload_directory(
    deployment: Deployment, local_dir: str | os.PathLike[str], s3_prefix_uri: str
) -> str:
    """Upload every file under ``local_dir`` below ``s3_prefix_uri`` with the project's KMS key.

    Returns the prefix URI, ending with ``/``. Hidden files and folders (``.cache``) are skipped.
    """
    root = Path(local_dir)
    bucket, prefix = split_s3_uri(s3_prefix_uri)
    prefix = prefix.rstrip("/")
    s3 = deployment.client("s3")
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": deployment.kms_key_arn}
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        raise WorkbenchError(f"nothing to upload in {root}")
    for path in files:
        _, key = _prefix_key(s3_prefix_uri, path.relative_to(root).as_posix())
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
    return f"s3://{bucket}/{prefix}/" if prefix else f"s3://{bucket}/"


@aws_errors
def upload_draft_model(
    deployment: Deployment,
    repo_id: str,
    *,
    local_dir: str | os.PathLike[str] | None = None,
    token: str | None = None,
) -> str:
    """Download ``repo_id`` from the hub and upload it to ``draft-models/<name>/``."""
    name = repo_id.rstrip("/").split("/")[-1]
    target = Path(local_dir or Path.home() / "SageMaker" / "draft-models" / name)
    download_hf_model(repo_id, target, token=token)
    return upload_directory(
        deployment, target, f"s3://{deployment.artifacts_bucket}/draft-models/{name}/"
    )
