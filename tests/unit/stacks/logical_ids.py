"""The logical ids of every synthesized template, and the baseline they must keep.

A deployed resource whose logical id changes is replaced by CloudFormation (a new endpoint, a new
bucket: data left behind, 10-40 minutes of GPU start-up), so a refactor must keep them.
`logical_ids.json` holds the ids and types of the dev, prod, realtime (chat promoted, roles
bounded) and pipeline variants as synthesized at commit 2c3be4c, before the app was regrouped
into feature folders. New resources may appear; none of these may go or change type.

Record it again only on purpose (a resource deliberately replaced), and say so in the commit:
    .venv/bin/python -m tests.unit.stacks.logical_ids <cdk.out of each variant>...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BASELINE = Path(__file__).with_name("logical_ids.json")
# Metadata the CDK adds per stack; not a deployed resource.
NOT_DEPLOYED = frozenset({"AWS::CDK::Metadata"})


def template_ids(template: dict) -> dict[str, str]:
    return {
        logical_id: resource["Type"]
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] not in NOT_DEPLOYED
    }


def assembly_ids(directory: Path) -> dict[str, dict[str, str]]:
    """{stack name: {logical id: type}} of every stack of a cloud assembly, nested stages too."""
    manifest = json.loads((directory / "manifest.json").read_text())
    stacks: dict[str, dict[str, str]] = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        properties = artifact.get("properties", {})
        if artifact["type"] == "aws:cloudformation:stack":
            template = json.loads((directory / properties["templateFile"]).read_text())
            stacks[properties.get("stackName", artifact_id)] = template_ids(template)
        elif artifact["type"] == "cdk:cloud-assembly":
            stacks.update(assembly_ids(directory / properties["directoryName"]))
    return stacks


def lost_ids(baseline: dict[str, dict[str, str]], now: dict[str, dict[str, str]]) -> list[str]:
    """Each baseline resource that is gone or has another type now, as one line."""
    lost = []
    for stack, resources in sorted(baseline.items()):
        current = now.get(stack, {})
        for logical_id, kind in sorted(resources.items()):
            if current.get(logical_id) != kind:
                lost.append(f"{stack}/{logical_id} ({kind}): {current.get(logical_id, 'gone')}")
    return lost


if __name__ == "__main__":
    variants = dict(arg.split("=", 1) for arg in sys.argv[1:])
    recorded = {name: assembly_ids(Path(path)) for name, path in variants.items()}
    BASELINE.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
