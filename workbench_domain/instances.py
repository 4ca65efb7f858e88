"""Instance-type facts every runtime decides by: accelerator kind, FP8 support, local storage.

Unit tests classify botocore's enums against these sets (every DeploymentInstanceType family of
CreateOptimizationJob is a GPU or Neuron family; every ProductionVariantInstanceType family has
local NVMe storage or is EBS-only), so a botocore upgrade that adds a family fails the tests until
someone decides where it belongs, instead of it being guessed at run time.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

# AWS Inferentia2 and Trainium, the Neuron devices the pinned Neuron (neuronx) images run on
# (https://aws.amazon.com/ec2/instance-types/inf2/ and /trn1/; the SageMaker Python SDK's
# optimization checks, aws/sagemaker-python-sdk src/sagemaker/serve/validations/optimization.py,
# name the same three families), and trn2 (Trainium2, https://aws.amazon.com/ec2/instance-types/trn2/),
# which the table knows but no pinned image serves (engine custom can). inf1 (first-generation
# Inferentia) is left out: no image of this app serves it.
NEURON_FAMILIES = frozenset({"inf2", "trn1", "trn1n", "trn2"})
# The Neuron families an optimization job compiles for (the SDK's checks above name these three).
COMPILATION_FAMILIES = frozenset({"inf2", "trn1", "trn1n"})

# NVIDIA GPU families the pinned LMI images serve, with their GPU (EC2 accelerated-computing
# pages, https://aws.amazon.com/ec2/instance-types/#Accelerated_Computing):
#   g4dn T4 (Turing, sm75)   g5 A10G (Ampere, sm86)   p4d / p4de A100 (Ampere, sm80)
#   g6 L4 (Ada, sm89)        g6e L40S (Ada, sm89)     p5 H100, p5e / p5en H200 (Hopper, sm90)
#   p6-b200 B200 (Blackwell) g7e RTX PRO 6000 Blackwell   g7 RTX PRO 4500 Blackwell
GPU_FAMILIES = frozenset(
    {"g4dn", "g5", "g6", "g6e", "g7", "g7e", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200"}
)

# CUDA compute capability of each GPU family's GPU (NVIDIA, https://developer.nvidia.com/cuda-gpus:
# T4 7.5, A10G 8.6, A100 8.0, L4 and L40S 8.9, H100 and H200 9.0, B200 10.0, RTX PRO 6000 and
# RTX PRO 4500 Blackwell 12.0). vLLM's kernels state their minimum in these units.
COMPUTE_CAPABILITY = {
    "g4dn": 7.5, "g5": 8.6, "p4d": 8.0, "p4de": 8.0, "g6": 8.9, "g6e": 8.9, "p5": 9.0,
    "p5e": 9.0, "p5en": 9.0, "p6-b200": 10.0, "g7e": 12.0, "g7": 12.0,
}  # fmt: skip

# FP8 (W8A8) kernels need FP8 tensor cores: "FP8 computation is supported on NVIDIA GPUs with
# compute capability >= 8.9 (Ada Lovelace, Hopper)" (vLLM docs,
# https://docs.vllm.ai/en/stable/features/quantization/fp8/); Blackwell has them too. Ampere
# (A100 in p4d/p4de, A10G in g5) and Turing (T4 in g4dn) do not. The SageMaker SDK does not
# check this; a job would only fail after hours of billed instance time.
FP8_FAMILIES = frozenset({"g6", "g6e", "g7", "g7e", "p5", "p5e", "p5en", "p6-b200"})

# VolumeSizeInGB on a production variant. Source: the SageMaker Developer Guide, "Instance
# storage volumes" for hosting (host-instance-storage.html) and its storage notes for training
# ("ML instance families with the NVMe-type instance storage include ml.p4d, ml.g4dn, and
# ml.g5"), with the EC2 instance-type tables for the instance-store column of each family:
# - families with local NVMe instance storage get that storage, and the API refuses a
#   VolumeSizeInGB for them, so the config must not set one;
# - EBS-only families get an EBS gp2 volume whose default size is too small for LLM weights, so
#   the config must set one (the reference notebook uses 512 GB for Llama-3 70B on inf2).
LOCAL_NVME_FAMILIES = frozenset(
    {
        "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300", "p6e-gb200",
        "g4dn", "g5", "g6", "g6e", "g7", "g7e", "dl1", "trn1", "trn1n", "trn2",
        "c5d", "c6gd", "m5d", "m6gd", "r5d", "r6gd", "r7gd",
    }
)  # fmt: skip
EBS_ONLY_FAMILIES = frozenset(
    {
        "inf1", "inf2", "p2", "p3", "t2", "c4", "c5", "c6g", "c6gn", "c6i", "c6in", "c7g", "c7i",
        "c8g", "m4", "m5", "m6g", "m6i", "m7i", "m8g", "r5", "r6g", "r6i", "r7i", "r8g",
    }
)  # fmt: skip

# GPUs or NeuronCores per instance type, in the cited serving table beside this file.
_TABLE = Path(__file__).resolve().parent / "serving_images.json"


def instance_family(instance_type: str) -> str:
    """``ml.p6-b200.48xlarge`` -> ``p6-b200``; ``""`` for a string that is not ``ml.<f>.<size>``."""
    parts = instance_type.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "ml" else ""


def accelerator_kind(instance_type: str) -> str | None:
    """``gpu``, ``neuron``, or None for an instance type without accelerators."""
    family = instance_family(instance_type)
    if family in GPU_FAMILIES:
        return "gpu"
    if family in NEURON_FAMILIES:
        return "neuron"
    return None


@lru_cache(maxsize=2)
def _per_instance_type(column: str) -> dict[str, int]:
    """One column of the table's `accelerators` section: instance type -> count."""
    with _TABLE.open(encoding="utf-8") as handle:
        table = json.load(handle)["accelerators"][column]
    return {str(name): int(count) for name, count in table.items()}


def memory_mb(instance_type: str) -> int | None:
    """The host memory of ``instance_type`` in MB (1024 per GiB), None when the table does not
    have it."""
    gib = _per_instance_type("memory_gib").get(instance_type)
    return None if gib is None else gib * 1024


def accelerator_devices(instance_type: str) -> int | None:
    """GPUs (or NeuronCores) of ``instance_type``, None when the table does not have it."""
    return _per_instance_type("devices").get(instance_type)


def compute_capability(instance_type: str) -> float | None:
    """The CUDA compute capability of the instance's GPUs, None for a non-GPU instance."""
    return COMPUTE_CAPABILITY.get(instance_family(instance_type))
