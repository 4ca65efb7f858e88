"""Names of the SageMaker AI resources the app creates: workload configs, recommendation jobs
and benchmark jobs. The operator CLI names them; the CDK app scopes the workspace role to the
same names and actions; both read them here.

A name is `<stage>-<kind>-<12 hex>`, the hash of everything the resource is asked, so the same
command finds the same job again (it follows it, or reads its answer) instead of paying twice.
The nouns, ARN resource types and statuses are botocore's (the service model's shapes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from botocore import xform_name

from workbench_domain import api_limits, job_names

_MODEL = api_limits.SAGEMAKER_MODEL
NAME_MAX: int = _MODEL.shape_for("AIEntityName").metadata["max"]


@dataclass(frozen=True)
class Kind:
    """One kind of AI resource: its name infix, botocore's noun (`Create<noun>`, `<noun>Arn`,
    `<noun>Name`), and the operations the clients call on it (the IAM actions of the same
    names, which the workspace role is granted)."""

    infix: str
    noun: str
    verbs: tuple[str, ...]

    @property
    def resource_type(self) -> str:
        """The ARN resource type (`ai-benchmark-job`, ...), from botocore's `<noun>Arn`."""
        pattern = _MODEL.shape_for(f"{self.noun}Arn").metadata["pattern"]
        found = re.search(r":(ai-[a-z-]+)/", pattern)
        if found is None:  # pragma: no cover - botocore changed the shape
            raise RuntimeError(f"{self.noun}Arn: no ai-* resource type in {pattern}")
        return found.group(1)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(f"sagemaker:{verb}{self.noun}" for verb in self.verbs)

    @property
    def operation(self) -> str:
        """boto3's name of it: `ai_benchmark_job` (`create_ai_benchmark_job`, ...)."""
        operation: str = xform_name(self.noun)
        return operation

    @property
    def name_field(self) -> str:
        return f"{self.noun}Name"

    @property
    def status_field(self) -> str:
        return f"{self.noun}Status"


KINDS: dict[str, Kind] = {
    "workload": Kind("wl", "AIWorkloadConfig", ("Create", "Describe", "Delete")),
    "recommendation": Kind("rec", "AIRecommendationJob", ("Create", "Describe", "Stop", "Delete")),
    "benchmark": Kind("bench", "AIBenchmarkJob", ("Create", "Describe", "Stop", "Delete")),
}
# Where a recommendation or a benchmark job stops changing (both status enums hold them).
ENDED = ("Completed", "Failed", "Stopped")
STATUSES: dict[str, tuple[str, ...]] = {
    kind: tuple(_MODEL.shape_for(KINDS[kind].status_field).enum)
    for kind in ("recommendation", "benchmark")
}
_LONGEST_SUFFIX = max(len(f"-{k.infix}-") for k in KINDS.values()) + job_names.DIGEST_CHARS


def actions() -> list[str]:
    """Every IAM action the workspace uses on AI resources, sorted."""
    return sorted(action for kind in KINDS.values() for action in kind.actions)


def stem(stage_id: str) -> str:
    """The stage id as a name prefix: the API's characters, short enough for every kind."""
    return job_names.stem(stage_id, NAME_MAX - _LONGEST_SUFFIX)


def name(stage_id: str, kind: str, request: Any) -> str:
    """The resource's name, derived from the stage and everything it is asked."""
    return f"{stem(stage_id)}-{KINDS[kind].infix}-{job_names.digest(request)}"


def name_pattern(stage_id: str, kind: str) -> str:
    """Every name `name` gives this stage and kind, as an IAM resource-name wildcard."""
    return f"{stem(stage_id)}-{KINDS[kind].infix}-*"
