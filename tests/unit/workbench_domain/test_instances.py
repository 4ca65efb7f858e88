"""workbench_domain.instances: instance facts every runtime reads (family, accelerator, memory).

The numbers come from the cited table and the AWS and NVIDIA pages the module names; these cases
are the ones the app's defaults and rules rest on.
"""

from __future__ import annotations

import pytest

from workbench_domain import instances


@pytest.mark.parametrize(
    ("instance_type", "family", "kind", "devices"),
    [
        # p4d: 8 A100 GPUs; inf2.48xlarge: 12 Inferentia2 chips of 2 NeuronCores each;
        # g5.12xlarge: 4 A10G GPUs.
        ("ml.p4d.24xlarge", "p4d", "gpu", 8),
        ("ml.inf2.48xlarge", "inf2", "neuron", 24),
        ("ml.g5.12xlarge", "g5", "gpu", 4),
        ("ml.p6-b200.48xlarge", "p6-b200", "gpu", None),
        ("ml.m5.xlarge", "m5", None, None),
    ],
)
def test_family_accelerator_and_devices(instance_type, family, kind, devices):
    assert instances.instance_family(instance_type) == family
    assert instances.accelerator_kind(instance_type) == kind
    if devices is not None:
        assert instances.accelerator_devices(instance_type) == devices


@pytest.mark.parametrize(
    ("instance_type", "capability"),
    [("ml.g4dn.12xlarge", 7.5), ("ml.g5.12xlarge", 8.6), ("ml.p4d.24xlarge", 8.0),
     ("ml.g6e.12xlarge", 8.9), ("ml.p5.48xlarge", 9.0), ("ml.m5.xlarge", None)],
)  # fmt: skip
def test_compute_capability_of_the_gpu(instance_type, capability):
    assert instances.compute_capability(instance_type) == capability


def test_fp8_needs_fp8_tensor_cores():
    # Ampere (A100, A10G) and Turing (T4) have none; Ada and Hopper do (vLLM's FP8 page).
    assert {"p4d", "p4de", "g5", "g4dn"}.isdisjoint(instances.FP8_FAMILIES)
    assert {"g6e", "p5"} <= instances.FP8_FAMILIES
    assert all(instances.COMPUTE_CAPABILITY[f] >= 8.9 for f in instances.FP8_FAMILIES)


def test_a_family_is_either_local_nvme_or_ebs_only():
    assert instances.LOCAL_NVME_FAMILIES.isdisjoint(instances.EBS_ONLY_FAMILIES)
    # inf2 has no instance storage: its endpoint must give a volume size (512 GB for 70B).
    assert "inf2" in instances.EBS_ONLY_FAMILIES
    assert "p4d" in instances.LOCAL_NVME_FAMILIES


def test_memory_of_the_default_instances():
    assert instances.memory_mb("ml.p4d.24xlarge") == 1152 * 1024
    assert instances.memory_mb("ml.g5.12xlarge") == 192 * 1024
    assert instances.memory_mb("ml.m5.xlarge") is None  # not in the table: no memory rule
