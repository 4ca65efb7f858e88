"""The `workspace` section: the notebook instance users open."""

from __future__ import annotations

from dataclasses import dataclass

from workbench_config.reader import Reader
from workbench_domain import api_limits


@dataclass(frozen=True)
class WorkspaceConfig:
    instance_type: str
    volume_size_gb: int
    idle_minutes: int
    network: str  # "public" (direct internet) or "vpc" (private subnets, VPC endpoints)


def parse_workspace(section: Reader) -> WorkspaceConfig:
    return WorkspaceConfig(
        instance_type=section.string(
            "instance_type", "ml.t3.medium", choices=api_limits.enum("InstanceType")
        ),
        # CreateNotebookInstance allows 5..16384 GB; a workbench never needs more than 512.
        volume_size_gb=section.integer("volume_size_gb", 20, minimum=5, maximum=512),
        # Idle auto-stop is the notebook's only cost control, so it cannot be switched off.
        idle_minutes=section.integer("idle_minutes", 60, minimum=5, maximum=24 * 60),
        network=section.string("network", "public", choices=("public", "vpc")),
    )
