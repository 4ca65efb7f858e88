"""Compatibility rules: which technique runs on which instance family, with which image.

Source: the SageMaker Python SDK's validation matrix (aws/sagemaker-python-sdk,
src/sagemaker/serve/validations/optimization.py) and the instance facts in ``instances.py``:

- Neuron instances (Inferentia2 / Trainium) take compilation only, with a Neuron image.
- Compilation on GPU needs a TensorRT-LLM image (LMI/vLLM does not compile).
- smoothquant is a TensorRT-LLM quantization; it needs a TensorRT-LLM image.
- fp8 needs FP8 tensor cores (compute capability 8.9+), see ``instances.FP8_FAMILIES``.
- Speculative decoding (EAGLE) runs on GPU instances only.
- An instance family ``instances.py`` does not classify is refused rather than guessed.

The rules need what the deployment decided (the artifacts bucket, the outputs prefix, the default
image of each family): a :class:`JobDefaults`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench_domain import uris
from workbench_domain.errors import ValidationError
from workbench_domain.instances import (
    COMPILATION_FAMILIES,
    FP8_FAMILIES,
    GPU_FAMILIES,
    instance_family,
)
from workbench_domain.optimization_request import (
    COMPILATION,
    SPECULATIVE_DECODING,
    OptimizationRequest,
)
from workbench_domain.request_event import parse_request


@dataclass(frozen=True)
class JobDefaults:
    """Where the deployment lets jobs write, and the image each family of job runs by default.

    The Lambda's settings extend it (read from its environment); the clients read it from the
    optimization deployment record, which publishes the same values."""

    artifacts_bucket: str
    output_prefix: str
    lmi_image_uri: str
    trtllm_image_uri: str
    neuron_image_uri: str


NEURON = "neuron"
TRTLLM = "trtllm"
LMI = "lmi"
JOB_IMAGE_FAMILIES = (LMI, TRTLLM, NEURON)
UNKNOWN = "unknown"

# The job-image families (config `optimization.images`), and the marker of each in the DJL
# inference image tags (the tags of serving_images.json): "0.36.0-lmi20.0.0-cu128",
# "0.33.0-tensorrtllm0.21.0-cu128", "0.29.0-neuronx-sdk2.19.1".
_TAG_MARKERS = (("neuronx", NEURON), ("tensorrtllm", TRTLLM), ("lmi", LMI))
_MARKERS = {kind: marker for marker, kind in _TAG_MARKERS}


def image_kind(image_uri: str, settings: JobDefaults) -> str:
    """Which container family an image belongs to: a configured default, else its tag's marker."""
    defaults = {
        settings.neuron_image_uri: NEURON,
        settings.trtllm_image_uri: TRTLLM,
        settings.lmi_image_uri: LMI,
    }
    if image_uri in defaults:
        return defaults[image_uri]
    image = uris.parse_ecr_image(image_uri)
    tag = (image.tag or "") if image else ""
    for marker, kind in _TAG_MARKERS:
        if marker in tag:
            return kind
    return UNKNOWN


def _require_image(
    request: OptimizationRequest, settings: JobDefaults, kind: str, why: str
) -> None:
    if request.image_uri is not None and image_kind(request.image_uri, settings) != kind:
        raise ValidationError(
            "image_uri",
            f"{why} needs a {kind} image",
            request.image_uri,
            f"an image whose tag contains {_MARKERS[kind]!r}, or omit image_uri to use the default",
        )


def _check_output(request: OptimizationRequest, settings: JobDefaults) -> None:
    # The job role may write only under the outputs prefix: anywhere else the job would fail at
    # its final upload, after hours of billed instance time.
    if request.output_s3_uri is None:
        return
    location = uris.parse_s3_uri(request.output_s3_uri)
    if location.bucket != settings.artifacts_bucket or not location.key.startswith(
        settings.output_prefix
    ):
        raise ValidationError(
            "output_s3_uri",
            "must be under the optimized-outputs prefix of the project's artifacts bucket",
            request.output_s3_uri,
            f"s3://{settings.artifacts_bucket}/{settings.output_prefix}<name>/",
        )


def _check_image_repository(request: OptimizationRequest, settings: JobDefaults) -> None:
    # The job role pulls only the Deep Learning Containers `djl-inference` repository of this
    # region (the registry of the default images): another image would fail after launch.
    if request.image_uri is None:
        return
    image = uris.parse_ecr_image(request.image_uri)
    default = uris.parse_ecr_image(settings.lmi_image_uri)
    if image is None or default is None:
        return  # not an ECR URI: the request parser has refused it already
    if (image.registry, image.region, image.repository) != (
        default.registry,
        default.region,
        default.repository,
    ):
        raise ValidationError(
            "image_uri",
            "the optimization job role can pull only the AWS Deep Learning Containers "
            "image repository of this region",
            request.image_uri,
            f"an image of {settings.lmi_image_uri.rsplit(':', 1)[0]} (any tag)",
        )


def check_and_resolve_image(request: OptimizationRequest, settings: JobDefaults) -> str | None:
    """Apply the compatibility rules; return the optimization image (None for speculative decoding).

    Raises ValidationError naming the field at fault.
    """
    _check_output(request, settings)
    _check_image_repository(request, settings)
    family = instance_family(request.instance_type)
    where = f"on {request.instance_type}"

    if family in COMPILATION_FAMILIES:
        if request.technique != COMPILATION:
            raise ValidationError(
                "technique",
                f"{request.technique} is not supported {where} (AWS Neuron)",
                request.technique,
                f"{COMPILATION} on {', '.join(sorted(COMPILATION_FAMILIES))} instances",
            )
        _require_image(request, settings, NEURON, f"compilation {where}")
        return request.image_uri or settings.neuron_image_uri

    if family not in GPU_FAMILIES:
        raise ValidationError(
            "instance_type",
            f"the launcher has no compatibility rule for instance family {family!r}",
            request.instance_type,
            f"families {', '.join(sorted(GPU_FAMILIES | COMPILATION_FAMILIES))}",
        )

    if request.technique == SPECULATIVE_DECODING:
        return None

    if request.technique == COMPILATION:
        _require_image(request, settings, TRTLLM, f"compilation on GPU ({request.instance_type})")
        return request.image_uri or settings.trtllm_image_uri

    method = request.quantization_method  # the remaining technique is quantization
    if method == "fp8" and family not in FP8_FAMILIES:
        raise ValidationError(
            "quantization.method",
            f"fp8 needs FP8 tensor cores (Ada, Hopper or Blackwell GPUs), which {family} lacks",
            method,
            f"awq or smoothquant {where}, or fp8 on {', '.join(sorted(FP8_FAMILIES))}",
        )
    if method == "smoothquant":
        _require_image(request, settings, TRTLLM, "smoothquant quantization")
        return request.image_uri or settings.trtllm_image_uri
    if request.image_uri is not None and image_kind(request.image_uri, settings) == NEURON:
        raise ValidationError(
            "image_uri",
            f"a Neuron image cannot quantize {where}",
            request.image_uri,
            "an LMI (vLLM) or TensorRT-LLM image, or omit image_uri to use the default",
        )
    return request.image_uri or settings.lmi_image_uri


def check_request(event: Any, target: JobDefaults) -> tuple[OptimizationRequest, str | None]:
    """Parse ``event`` and apply the rules: the request and its optimization image.

    What every runtime calls before anything starts; raises ValidationError naming the field.
    """
    request = parse_request(event)
    return request, check_and_resolve_image(request, target)
