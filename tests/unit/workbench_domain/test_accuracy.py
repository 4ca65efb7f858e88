"""Accuracy records: a stored record round-trips; a bad one is one error naming its field."""

from __future__ import annotations

import pytest

from workbench_domain import accuracy as acc
from workbench_domain.errors import ValidationError

RECORD = acc.Accuracy(
    endpoint_key="p4d",
    run="eval-20261207T100000Z",
    measured_at="2026-12-07T10:00:00+00:00",
    task="gsm8k",
    metric="exact_match,strict-match",
    value=0.75,
    stderr=0.07,
    samples=40,
    per_document={"0": 0.0, "1": 1.0},
    harness="lm-evaluation-harness 0.4.13",
    settings={"limit": 40, "num_fewshot": 5},
)


def test_a_record_round_trips():
    assert acc.parse_accuracy(acc.to_document(RECORD)) == RECORD
    assert RECORD.key() == "measurements/p4d/accuracy/eval-20261207T100000Z-gsm8k.json"


def test_a_record_an_older_app_wrote_without_the_optional_fields_still_reads():
    document = acc.to_document(RECORD)
    for name in ("per_document", "harness", "settings"):
        del document[name]
    parsed = acc.parse_accuracy(document)
    assert (parsed.per_document, parsed.harness, parsed.settings) == ({}, "", {})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": "high"}, "value: must be a finite number"),
        ({"stderr": float("nan")}, "stderr: must be a finite number"),
        ({"samples": -1}, "samples: must be a whole number >= 0"),
        ({"per_document": [1.0]}, "per_document: must map documents to scores"),
        ({"per_document": {"0": "yes"}}, r"per_document.0: must be a finite number"),
        ({"settings": ["limit"]}, "settings: must be an object"),
        ({"task": 7}, "task: must be a string"),
        ({"measured_at": None}, "measured_at: must be a string"),
    ],
)
def test_a_bad_record_names_its_field(change, message):
    with pytest.raises(ValidationError, match=message):
        acc.parse_accuracy({**acc.to_document(RECORD), **change})


def test_a_record_without_a_key_names_what_it_lacks():
    document = acc.to_document(RECORD)
    del document["metric"]
    with pytest.raises(ValidationError, match=r"lacks key\(s\) metric"):
        acc.parse_accuracy(document)
