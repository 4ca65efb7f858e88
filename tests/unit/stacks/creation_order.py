"""Finds resources that name another resource of the same template without waiting for it.

CloudFormation orders creation only by `Ref`, `Fn::GetAtt`, `Fn::Sub` references and `DependsOn`.
A property that names another resource by its physical name as a plain string (an endpoint
config's `ModelName: "p4d-1234..."`) gives no order: CloudFormation may create the config first,
and SageMaker answers "Could not find model".

The names looked for are the literal string values of each resource's top-level `...Name`
properties (models, endpoint configs, endpoints, inference components, lifecycle configs,
topics, custom resources...). IAM policies are exempt: a policy may name what does not exist yet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# A policy document names resources that need not exist when it is attached.
POLICY_TYPES = frozenset({"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role"})
POLICY_KEYS = frozenset({"PolicyDocument", "AssumeRolePolicyDocument", "Policies"})
_MIN_NAME = 4  # shorter literals ("1", "ALL") are values, not names
# `...Name` properties that name something else, not the resource itself: an inference
# component's `VariantName` is its endpoint's variant, an alarm's `MetricName` a metric.
_REFERENCING = frozenset({"VariantName", "MetricName"})


def declared_names(resources: dict[str, dict]) -> dict[str, str]:
    """Physical name -> logical id, for every literal `...Name` property of a resource."""
    names = {}
    for logical_id, resource in resources.items():
        for key, value in (resource.get("Properties") or {}).items():
            if (
                key.endswith("Name")
                and key not in _REFERENCING
                and isinstance(value, str)
                and len(value) >= _MIN_NAME
            ):
                names[value] = logical_id
    return names


def _strings(node: Any) -> Iterator[str]:
    """Every literal string in a property tree, skipping policy documents."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key not in POLICY_KEYS:
                yield from _strings(value)


def _direct_dependencies(resource: dict, logical_ids: set[str]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("Ref"), str):
                found.add(node["Ref"])
            get_att = node.get("Fn::GetAtt")
            if isinstance(get_att, list) and get_att:
                found.add(get_att[0])
            elif isinstance(get_att, str):
                found.add(get_att.split(".")[0])
            sub = node.get("Fn::Sub")
            template = sub[0] if isinstance(sub, list) else sub
            if isinstance(template, str):
                found.update(re.findall(r"\$\{([A-Za-z0-9]+)[.}]", template))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(resource.get("Properties") or {})
    depends_on = resource.get("DependsOn") or []
    found.update([depends_on] if isinstance(depends_on, str) else depends_on)
    return found & logical_ids


def dependencies(resources: dict[str, dict]) -> dict[str, set[str]]:
    """Logical id -> every resource it is created after (transitively)."""
    logical_ids = set(resources)
    direct = {lid: _direct_dependencies(r, logical_ids) for lid, r in resources.items()}
    closed: dict[str, set[str]] = {}

    def close(lid: str, seen: frozenset[str]) -> set[str]:
        if lid not in closed:
            result: set[str] = set()
            for dep in direct[lid] - seen:
                result |= {dep} | close(dep, seen | {lid})
            closed[lid] = result
        return closed[lid]

    for lid in resources:
        close(lid, frozenset())
    return closed


def unordered_references(template: dict) -> list[str]:
    """One line per property that names another resource that it is not created after."""
    resources = template.get("Resources", {})
    names = declared_names(resources)
    if not names:
        return []
    after = dependencies(resources)
    pattern = re.compile(
        r"(?:^|[/:])("
        + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        + r")(?:$|[/:])"
    )
    problems = []
    for logical_id, resource in resources.items():
        if resource.get("Type") in POLICY_TYPES:
            continue
        for text in _strings(resource.get("Properties") or {}):
            for match in pattern.finditer(text):
                owner = names[match.group(1)]
                if owner != logical_id and owner not in after[logical_id]:
                    problems.append(
                        f"{logical_id} ({resource['Type']}) names {match.group(1)!r}, the name "
                        f"of {owner} ({resources[owner]['Type']}), without Ref, GetAtt or DependsOn"
                    )
    return problems


def assembly_problems(directory: str) -> list[str]:
    """`unordered_references` of every template of a cloud assembly (nested stages included)."""
    problems = []
    for path in sorted(Path(directory).rglob("*.template.json")):
        template = json.loads(path.read_text())
        problems += [f"{path.name}: {problem}" for problem in unordered_references(template)]
    return problems
