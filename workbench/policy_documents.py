"""The IAM documents `make execution-policy` writes besides its statements: the roles'
permissions boundary, and managed policies cut to IAM's size quota."""

from __future__ import annotations

import json
import re
from typing import Any

from workbench.assembly import StackTemplate
from workbench.provider_actions import MANAGED_POLICY_ACTIONS, attached_managed_policies

# Managed policy documents: at most 6144 characters, whitespace excluded (IAM quotas).
MAX_POLICY_CHARACTERS = 6144


def boundary_document(stacks: list[StackTemplate]) -> dict[str, Any]:
    """The permissions boundary of the roles the stacks create: every action their own policies
    (and the managed policies they attach) allow, and no other. A role created through the
    execution policy, which requires this boundary, can get no permission the app does not
    already use."""
    actions: set[str] = set()

    def collect(document: Any) -> None:
        for statement in (document or {}).get("Statement", []):
            if statement.get("Effect") == "Allow":
                value = statement.get("Action", [])
                actions.update(value if isinstance(value, list) else [value])

    for stack in stacks:
        for _, policy in stack.of_type("AWS::IAM::Policy"):
            collect(policy["Properties"]["PolicyDocument"])
        for _, role in stack.of_type("AWS::IAM::Role"):
            for inline in role["Properties"].get("Policies", []):
                collect(inline.get("PolicyDocument"))
    for name in attached_managed_policies(stacks, "aws").values():
        actions.update(MANAGED_POLICY_ACTIONS[name])
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WhatTheAppsRolesUse",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": "*",
            }
        ],
    }


def _size(document: dict[str, Any]) -> int:
    return len(re.sub(r"\s", "", json.dumps(document)))


def split(statements_: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Policy documents of at most MAX_POLICY_CHARACTERS, a large statement split by actions."""
    pieces: list[dict[str, Any]] = []
    for statement in statements_:
        actions = list(statement["Action"])
        while actions:
            take = len(actions)
            while (
                _size(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{**statement, "Action": actions[:take]}],
                    }
                )
                > MAX_POLICY_CHARACTERS
            ):
                take = max(1, take // 2)
            # A statement too large for one document is split; each part gets a Sid of its own.
            part = "" if take == len(statement["Action"]) else str(len(pieces))
            pieces.append(
                {**statement, "Sid": f"{statement['Sid']}{part}", "Action": actions[:take]}
            )
            actions = actions[take:]
    documents: list[dict[str, Any]] = []
    for piece in pieces:
        if (
            documents
            and _size({**documents[-1], "Statement": [*documents[-1]["Statement"], piece]})
            <= MAX_POLICY_CHARACTERS
        ):
            documents[-1]["Statement"].append(piece)
        else:
            documents.append({"Version": "2012-10-17", "Statement": [piece]})
    return documents
