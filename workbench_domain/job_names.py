"""The one name of an optimization run: its workflow execution's and its job's.

`<project>-<env>-<label>-<12 hex>[-a<attempt>]`, at most 63 letters, digits and hyphens: a valid
Step Functions execution name and OptimizationJobName. The notebook client (and `make optimize`)
names the execution and the job with it; the launcher names a job with it when the request gives
no name. The digest covers the project, the environment and the canonical request (every field
but the name, defaults applied): the same request gives the same name, so a repeated start reuses
one execution and one job; another setting, or dev and prod sharing an account, another name.

`stem` and `digest` are the two pieces every name the app derives from a request is made of (the
AI jobs' names, `ai_jobs`, and the Neuron export's, `neuron_export`, too).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from workbench_domain import api_limits, cost_allocation, instances
from workbench_domain.errors import ValidationError
from workbench_domain.optimization_request import (
    COMPILATION,
    QUANTIZATION,
    OptimizationRequest,
)
from workbench_domain.request_event import parse_request

DIGEST_CHARS = 12  # 48 bits of sha256


def label(request: OptimizationRequest) -> str:
    """What the job does, readable in the console: the quantization method, `neuron` or
    `compile`, or `eagle`."""
    if request.technique == QUANTIZATION:
        return str(request.quantization_method)
    if request.technique == COMPILATION:
        neuron = instances.accelerator_kind(request.instance_type) == "neuron"
        return "neuron" if neuron else "compile"
    return "eagle"


def digest(value: Any) -> str:
    """The first 12 hex digits of the sha256 of `value` as canonical JSON: how every name the
    app derives from a request ends (optimization runs, AI jobs, Neuron exports)."""
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:DIGEST_CHARS]


def stem(stage_id: str, room: int) -> str:
    """The stage id in a name's characters (letters, digits, hyphens), cut to `room`."""
    cleaned = re.sub(r"[^a-zA-Z0-9]+", "-", stage_id).strip("-")
    return cleaned[:room].strip("-")


def run_name(
    request: OptimizationRequest | Mapping[str, Any],
    *,
    project: str,
    env_name: str,
    attempt: int = 1,
) -> str:
    """The name of `request`'s run in `project`'s environment `env_name`; `attempt` 2, 3, ...
    names a new run after a failed one."""
    if attempt < 1:
        raise ValidationError("attempt", "starts at 1", attempt)
    parsed = request if isinstance(request, OptimizationRequest) else parse_request(request)
    canonical = {"project": project, "env": env_name, "request": parsed.canonical()}
    suffix = f"-{label(parsed)}-{digest(canonical)}" + (f"-a{attempt}" if attempt > 1 else "")
    room = api_limits.JOB_NAME_MAX - len(suffix)
    prefix = stem(cost_allocation.stage_id(project, env_name), room)
    return f"{prefix or 'opt'}{suffix}"
