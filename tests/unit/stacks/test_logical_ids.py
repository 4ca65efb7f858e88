"""Deployed resources keep their logical ids: a changed id is a replaced resource."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.stacks.logical_ids import BASELINE, assembly_ids, lost_ids

RECORDED = json.loads(BASELINE.read_text())


@pytest.mark.parametrize("variant", ["dev", "prod", "realtime"])
def test_workstation_variants_keep_every_logical_id(request, variant):
    synthesized = request.getfixturevalue(variant)
    now = assembly_ids(Path(synthesized.assembly.directory))
    assert lost_ids(RECORDED[variant], now) == []


def test_a_renamed_resource_is_caught():
    baseline = {"s": {"Bucket1": "AWS::S3::Bucket", "Key2": "AWS::KMS::Key"}}
    now = {"s": {"Bucket9": "AWS::S3::Bucket", "Key2": "AWS::KMS::Alias", "New": "AWS::SNS::Topic"}}
    assert lost_ids(baseline, now) == [
        "s/Bucket1 (AWS::S3::Bucket): gone",
        "s/Key2 (AWS::KMS::Key): AWS::KMS::Alias",
    ]
