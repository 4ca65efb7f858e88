"""Measured accuracy of a served variant, as lm-evaluation-harness scored it, stored as a record.

One record per endpoint, task and run: the harness's primary metric for the task, its standard
error, and each document's score, so that two variants answered on the same prompts compare as
a paired difference. Records live beside the speed records:
`measurements/<endpoint-key>/accuracy/<run>-<task>.json` in the artifacts bucket.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench_domain.errors import ValidationError, record_fields
from workbench_domain.measurements import PREFIX, finite_number

ACCURACY = "accuracy"
# What a z of 1.96 covers: a 95 % interval of a mean.
Z95 = 1.96
# Each task's primary metric, as the harness names it ("metric,filter"): GSM8K's strict
# "#### <number>" match, IFEval's share of prompts whose every instruction was followed
# (lm_eval 0.4.13 tasks/gsm8k/gsm8k.yaml and tasks/ifeval/ifeval.yaml).
TASK_METRICS = {"gsm8k": "exact_match,strict-match", "ifeval": "prompt_level_strict_acc,none"}


@dataclass(frozen=True)
class Accuracy:
    endpoint_key: str
    run: str
    measured_at: str  # ISO 8601, UTC
    task: str
    metric: str
    value: float
    stderr: float | None
    samples: int
    per_document: Mapping[str, float] = field(default_factory=dict)
    harness: str = ""
    # What must match for two records to be compared: limit, few-shot, seeds, chat template.
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.stderr is None:
            return None
        return self.value - Z95 * self.stderr, self.value + Z95 * self.stderr

    def key(self) -> str:
        return f"{PREFIX}/{self.endpoint_key}/{ACCURACY}/{self.run}-{self.task}.json"


def to_document(accuracy: Accuracy) -> dict[str, Any]:
    return asdict(accuracy)


def parse_accuracy(document: Any, where: str = "accuracy record") -> Accuracy:
    values = record_fields(Accuracy, document, where)
    values["value"] = finite_number(f"{where}.value", values["value"], optional=False)
    values["stderr"] = finite_number(f"{where}.stderr", values.get("stderr"))
    if type(values["samples"]) is not int or values["samples"] < 0:
        raise ValidationError(f"{where}.samples", "must be a whole number >= 0", values["samples"])
    scores = values.get("per_document", {})
    if not isinstance(scores, Mapping):
        raise ValidationError(f"{where}.per_document", "must map documents to scores", scores)
    if not isinstance(values.get("settings", {}), Mapping):
        raise ValidationError(f"{where}.settings", "must be an object", values["settings"])
    values["per_document"] = {
        str(k): finite_number(f"{where}.per_document.{k}", v, optional=False)
        for k, v in scores.items()
    }
    return Accuracy(**values)


def comparable(a: Accuracy, b: Accuracy) -> bool:
    """Same task, metric and settings: the same prompts, scored the same way."""
    return (a.task, a.metric, dict(a.settings)) == (b.task, b.metric, dict(b.settings))


def paired_difference(variant: Accuracy, base: Accuracy) -> tuple[float, float | None] | None:
    """Mean and standard error of the variant's score minus the base's over the documents both
    answered (same prompts: a paired comparison, tighter than two independent intervals); None
    without shared documents, no standard error with fewer than two."""
    shared = sorted(set(variant.per_document) & set(base.per_document))
    if not shared:
        return None
    deltas = [variant.per_document[d] - base.per_document[d] for d in shared]
    mean = sum(deltas) / len(deltas)
    if len(deltas) < 2:
        return mean, None
    variance = sum((d - mean) ** 2 for d in deltas) / (len(deltas) - 1)
    return mean, math.sqrt(variance / len(deltas))
