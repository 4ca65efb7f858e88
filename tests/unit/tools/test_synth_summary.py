"""synth_summary.py: one line per stack, resources counted without CDK's metadata."""

from __future__ import annotations

import tools.synth_summary as synth_summary
from tests.unit.workbench.helpers import write_assembly

TEMPLATE = {
    "Resources": {
        "Key": {"Type": "AWS::KMS::Key"},
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Logs": {"Type": "AWS::S3::Bucket"},
        "CDKMetadata": {"Type": "AWS::CDK::Metadata"},
    }
}


def test_each_stack_is_named_and_counted(tmp_path, capsys):
    assembly = write_assembly(tmp_path / "cdk.out", {"Storage": TEMPLATE})
    assert synth_summary.main(["synth_summary.py", str(assembly)]) == 0
    out = capsys.readouterr().out
    assert "Synthesized 1 stack(s)" in out
    assert "genai-opt-dev/Storage    3 resources  (S3::Bucket 2, KMS::Key 1)" in out


def test_an_empty_assembly_fails(tmp_path, capsys):
    (tmp_path / "cdk.out").mkdir()
    assert synth_summary.main(["synth_summary.py", str(tmp_path / "cdk.out")]) == 1
    assert "no templates in" in capsys.readouterr().err
