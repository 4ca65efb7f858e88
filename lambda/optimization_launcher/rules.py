"""Compatibility rules: which technique runs on which instance family, with which image.

Sources: shared/reference/sagemaker-api.md sections 2.1 and 5 (SageMaker Python SDK validation
matrix ``src/sagemaker/serve/validations/optimization.py``; AWS supported-models page).

- Neuron instances (Inferentia2 / Trainium) take compilation only, with a Neuron image.
- Compilation on GPU needs a TensorRT-LLM image (LMI/vLLM does not compile).
- smoothquant is a TensorRT-LLM quantization; it needs a TensorRT-LLM image.
- fp8 needs FP8 tensor cores (compute capability 8.9+, Ada / Hopper / Blackwell), see FP8_FAMILIES.
- Speculative decoding (EAGLE) runs on GPU instances only.
- An instance family this module does not know is refused rather than guessed: when a botocore
  upgrade adds a family to the DeploymentInstanceType enum, add it here (a unit test checks that
  every enum value is classified).
"""

from __future__ import annotations

import formats
from errors import ValidationError
from request import COMPILATION, SPECULATIVE_DECODING, OptimizationRequest
from settings import LauncherSettings

# AWS Inferentia2 and Trainium (reference section 2.1: Neuron families {inf2, trn1, trn1n}).
NEURON_FAMILIES = frozenset({"inf2", "trn1", "trn1n"})

# NVIDIA GPU families in the enum, with their GPU:
#   g4dn T4 (Turing, sm75)   g5 A10G (Ampere, sm86)   p4d / p4de A100 (Ampere, sm80)
#   g6 L4 (Ada, sm89)        g6e L40S (Ada, sm89)     p5 H100, p5e / p5en H200 (Hopper, sm90)
#   p6-b200 B200 (Blackwell) g7e RTX PRO 6000 Blackwell   g7 RTX PRO 4500 Blackwell
# (The g7 / g7e GPUs come from third-party write-ups of the EC2 launches, not from an AWS page
# stored here; they are Blackwell either way.)
GPU_FAMILIES = frozenset(
    {"g4dn", "g5", "g6", "g6e", "g7", "g7e", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200"}
)

# FP8 (W8A8) kernels need FP8 tensor cores, i.e. compute capability >= 8.9: Ada, Hopper and
# Blackwell have them; Ampere (A100 in p4d/p4de, A10G in g5) and Turing (T4 in g4dn) do not
# (vLLM's FP8 docs, cited in reference section 5: "FP8 W8A8 kernels need Ada/Hopper",
# "A100 = Ampere").
# The SDK does not check this; a job would only fail after hours of billed instance time.
FP8_FAMILIES = frozenset({"g6", "g6e", "g7", "g7e", "p5", "p5e", "p5en", "p6-b200"})

NEURON = "neuron"
TRTLLM = "tensorrt-llm"
LMI = "lmi"
UNKNOWN = "unknown"

# Tag markers of the DJL inference images (reference section 2.4): "0.36.0-lmi27.0.0-cu130",
# "0.33.0-tensorrtllm0.21.0-cu128", "0.29.0-neuronx-sdk2.19.1".
_TAG_MARKERS = (("neuronx", NEURON), ("tensorrtllm", TRTLLM), ("lmi", LMI))
_MARKERS = {kind: marker for marker, kind in _TAG_MARKERS}


def instance_family(instance_type: str) -> str:
    """``ml.p6-b200.48xlarge`` -> ``p6-b200``."""
    return instance_type.split(".")[1]


def image_kind(image_uri: str, settings: LauncherSettings) -> str:
    """Which container family an image belongs to: a configured default, else its tag's marker."""
    defaults = {
        settings.neuron_image_uri: NEURON,
        settings.trtllm_image_uri: TRTLLM,
        settings.lmi_image_uri: LMI,
    }
    if image_uri in defaults:
        return defaults[image_uri]
    image = formats.parse_ecr_image(image_uri)
    tag = (image.tag or "") if image else ""
    for marker, kind in _TAG_MARKERS:
        if marker in tag:
            return kind
    return UNKNOWN


def _require_image(
    request: OptimizationRequest, settings: LauncherSettings, kind: str, why: str
) -> None:
    if request.image_uri is not None and image_kind(request.image_uri, settings) != kind:
        raise ValidationError(
            "image_uri",
            f"{why} needs a {kind} image",
            request.image_uri,
            f"an image whose tag contains {_MARKERS[kind]!r}, or omit image_uri to use the default",
        )


def _check_output(request: OptimizationRequest, settings: LauncherSettings) -> None:
    # The job role may write only under the outputs prefix: anywhere else the job would fail at
    # its final upload, after hours of billed instance time.
    if request.output_s3_uri is None:
        return
    location = formats.parse_s3_uri(request.output_s3_uri)
    if location.bucket != settings.artifacts_bucket or not location.key.startswith(
        settings.output_prefix
    ):
        raise ValidationError(
            "output_s3_uri",
            "must be under the optimized-outputs prefix of the project's artifacts bucket",
            request.output_s3_uri,
            f"s3://{settings.artifacts_bucket}/{settings.output_prefix}<name>/",
        )


def _check_image_repository(request: OptimizationRequest, settings: LauncherSettings) -> None:
    # The job role pulls only the Deep Learning Containers `djl-inference` repository of this
    # region (the registry of the default images): another image would fail after launch.
    if request.image_uri is None:
        return
    image = formats.parse_ecr_image(request.image_uri)
    default = formats.parse_ecr_image(settings.lmi_image_uri)
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


def check_and_resolve_image(request: OptimizationRequest, settings: LauncherSettings) -> str | None:
    """Apply the compatibility rules; return the optimization image (None for speculative decoding).

    Raises ValidationError naming the field at fault.
    """
    _check_output(request, settings)
    _check_image_repository(request, settings)
    family = instance_family(request.instance_type)
    where = f"on {request.instance_type}"

    if family in NEURON_FAMILIES:
        if request.technique != COMPILATION:
            raise ValidationError(
                "technique",
                f"{request.technique} is not supported {where} (AWS Neuron)",
                request.technique,
                f"{COMPILATION} on {', '.join(sorted(NEURON_FAMILIES))} instances",
            )
        _require_image(request, settings, NEURON, f"compilation {where}")
        return request.image_uri or settings.neuron_image_uri

    if family not in GPU_FAMILIES:
        raise ValidationError(
            "instance_type",
            f"the launcher has no compatibility rule for instance family {family!r}",
            request.instance_type,
            f"families {', '.join(sorted(GPU_FAMILIES | NEURON_FAMILIES))}",
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
