"""The cdk-nag gate: it catches findings, and the app passes it with reasoned acknowledgments."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from features.shared.nag_acknowledgments import acknowledge
from stacks.policy_checks import acknowledged_findings, add_policy_checks, unacknowledged_findings
from tests.conftest import SynthesizedApp


def plain_bucket_app(outdir, acknowledged: dict[str, str]) -> cdk.App:
    app = cdk.App(outdir=str(outdir))
    bucket = s3.Bucket(cdk.Stack(app, "Bad"), "PlainBucket")  # no TLS-only policy, logs or KMS
    acknowledge(bucket, acknowledged)
    add_policy_checks(app)
    return app


def test_gate_fails_synth_on_findings_until_each_is_acknowledged(tmp_path):
    with pytest.raises(RuntimeError, match="ValidationFailed") as error:
        plain_bucket_app(tmp_path / "bad", {}).synth()
    report = unacknowledged_findings(tmp_path / "bad")
    rules = {f.rule for f in report}
    assert {
        "AwsSolutions-S1",
        "AwsSolutions-S10",
        "NIST.800.53.R5-S3BucketSSLRequestsOnly",
    } <= rules
    assert "AwsSolutions::AwsSolutions-S10" in str(error.value)

    # Acknowledging all but one leaves exactly that one.
    almost_all = dict.fromkeys(rules - {"AwsSolutions-S10"}, "test: acknowledged on purpose")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        plain_bucket_app(tmp_path / "one-left", almost_all).synth()
    assert {f.rule for f in unacknowledged_findings(tmp_path / "one-left")} == {"AwsSolutions-S10"}

    every = dict.fromkeys(rules, "test: acknowledged on purpose")
    assembly = plain_bucket_app(tmp_path / "acknowledged", every).synth()
    assert unacknowledged_findings(assembly.directory) == []


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_app_has_no_unacknowledged_findings(env_name, request):
    synthesized: SynthesizedApp = request.getfixturevalue(env_name)
    assert unacknowledged_findings(synthesized.assembly.directory) == []


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_every_acknowledgment_names_a_rule_and_a_real_reason(env_name, request):
    synthesized: SynthesizedApp = request.getfixturevalue(env_name)
    acknowledged = acknowledged_findings(synthesized.assembly.directory)
    assert acknowledged, "expected the documented acknowledgments to be present"
    for path, findings in acknowledged.items():
        for finding, reason in findings.items():
            assert finding.startswith(
                ("AwsSolutions::AwsSolutions-", "NIST.800.53.R5::NIST.800.53.R5-")
            ), (path, finding)
            assert len(reason) >= 40, f"{path} {finding}: reason too short: {reason!r}"
