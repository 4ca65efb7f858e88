"""Names of the SageMaker AI resources the app creates: workload configs, recommendation jobs
and benchmark jobs. The operator CLI names them; the CDK app scopes the workspace role to the
same names; both read them here.

A name is `<stage>-<kind>-<12 hex>`, the hash of everything the resource is asked, so the same
command finds the same job again (it follows it, or reads its answer) instead of paying twice.
The ARN resource types are botocore's (the `...Arn` shapes of the service model).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from workbench_domain import api_limits

_MODEL = api_limits.SAGEMAKER_MODEL
NAME_MAX: int = _MODEL.shape_for("AIEntityName").metadata["max"]
_DIGEST = 12


def _arn_resource_type(shape: str) -> str:
    pattern = _MODEL.shape_for(shape).metadata["pattern"]
    found = re.search(r":(ai-[a-z-]+)/", pattern)
    if found is None:  # pragma: no cover - botocore changed the shape
        raise RuntimeError(f"{shape}: no ai-* resource type in {pattern}")
    return found.group(1)


# kind -> (name infix, ARN resource type)
KINDS: dict[str, tuple[str, str]] = {
    "workload": ("wl", _arn_resource_type("AIWorkloadConfigArn")),
    "recommendation": ("rec", _arn_resource_type("AIRecommendationJobArn")),
    "benchmark": ("bench", _arn_resource_type("AIBenchmarkJobArn")),
}
# Where a recommendation or a benchmark job stops changing (both status enums hold them).
ENDED = ("Completed", "Failed", "Stopped")
STATUSES: dict[str, tuple[str, ...]] = {
    kind: tuple(_MODEL.shape_for(f"{shape}Status").enum)
    for kind, shape in (("recommendation", "AIRecommendationJob"), ("benchmark", "AIBenchmarkJob"))
}
_LONGEST_SUFFIX = max(len(f"-{infix}-") for infix, _ in KINDS.values()) + _DIGEST


def stem(stage_id: str) -> str:
    """The stage id as a name prefix: the API's characters, short enough for every kind."""
    cleaned = re.sub(r"[^a-zA-Z0-9]+", "-", stage_id).strip("-")
    return cleaned[: NAME_MAX - _LONGEST_SUFFIX].strip("-")


def digest(request: Any) -> str:
    """The hash of everything a resource is asked (JSON), as its names end."""
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:_DIGEST]


def name(stage_id: str, kind: str, request: Any) -> str:
    """The resource's name, derived from the stage and everything it is asked."""
    return f"{stem(stage_id)}-{KINDS[kind][0]}-{digest(request)}"


def name_pattern(stage_id: str, kind: str) -> str:
    """Every name `name` gives this stage and kind, as an IAM resource-name wildcard."""
    return f"{stem(stage_id)}-{KINDS[kind][0]}-*"
