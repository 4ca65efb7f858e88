"""The synthesized templates in cdk.out, for the scripts that read them.

Imports nothing of the app (no aws-cdk-lib), so it is cheap enough for `make synth`'s summary.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class OperatorError(Exception):
    """A problem the operator can fix; printed as one line, exit status 2."""


@dataclass(frozen=True)
class StackTemplate:
    name: str  # display name, e.g. genai-opt-dev/Storage
    path: Path
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template.get("Resources", {})
        return resources

    def of_type(self, resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource.get("Type") == resource_type:
                yield logical_id, resource


def read_assembly(assembly_dir: Path) -> list[StackTemplate]:
    """Every synthesized stack template under `assembly_dir` (nested stage assemblies included)."""
    if not assembly_dir.is_dir():
        raise OperatorError(f"{assembly_dir}/ does not exist: run `make synth` first")
    stacks = []
    for path in sorted(assembly_dir.rglob("*.template.json")):
        name = path.name.removesuffix(".template.json")
        manifest = path.parent / "manifest.json"
        if manifest.is_file():
            for artifact_id, artifact in json.loads(manifest.read_text())["artifacts"].items():
                if artifact.get("properties", {}).get("templateFile") == path.name:
                    name = artifact.get("displayName", artifact_id)
        stacks.append(StackTemplate(name=name, path=path, template=json.loads(path.read_text())))
    if not stacks:
        raise OperatorError(f"no templates in {assembly_dir}/: run `make synth` first")
    return stacks


def references(value: Any) -> Iterator[str]:
    """Logical ids referenced by Ref / Fn::GetAtt anywhere inside `value`."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            yield target[0] if isinstance(target, list) else str(target).split(".")[0]
        for child in value.values():
            yield from references(child)
    elif isinstance(value, list):
        for child in value:
            yield from references(child)


def required_bootstrap_version(stacks: Iterable[StackTemplate]) -> int | None:
    """The bootstrap version the templates require, from CDK's `CheckBootstrapVersion` rule.

    The rule asserts `Fn::Not [Fn::Contains [[ "1", ..., "5" ], Ref BootstrapVersion]]`: the
    listed versions are refused, so the minimum is the largest one listed plus one.
    """
    required = None
    for stack in stacks:
        rule = stack.template.get("Rules", {}).get("CheckBootstrapVersion")
        if not rule:
            continue
        for assertion in rule.get("Assertions", []):
            refused = _refused_versions(assertion.get("Assert"))
            if refused:
                minimum = max(refused) + 1
                required = minimum if required is None else max(required, minimum)
    return required


def _refused_versions(value: Any) -> list[int]:
    if isinstance(value, dict):
        if "Fn::Contains" in value:
            listed = value["Fn::Contains"][0]
            if isinstance(listed, list):
                return [int(v) for v in listed if str(v).isdigit()]
        for child in value.values():
            found = _refused_versions(child)
            if found:
                return found
    elif isinstance(value, list):
        for child in value:
            found = _refused_versions(child)
            if found:
                return found
    return []
