"""The policy gates every synth passes: cdk-nag's AwsSolutions and NIST 800-53 rev 5 packs.

cdk-nag v3 runs as a CDK policy-validation plugin and writes its findings to
`<cdk.out>/validation-report.json`. Under `cdk synth` a Python app's exit status does not reflect
a failed validation (the report is printed by the jsii Node process), so `app.py` reads the report
after synthesis and fails itself: no finding passes unless it is acknowledged with a reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

REPORT_FILE = "validation-report.json"
ACKNOWLEDGED_METADATA = "aws:cdk:acknowledged-rules"


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str
    description: str


def add_policy_checks(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app))


def unacknowledged_findings(assembly_dir: str | Path) -> list[Finding]:
    """Every violation in the validation report (acknowledged ones are not reported)."""
    report = Path(assembly_dir) / REPORT_FILE
    if not report.exists():
        return []
    findings: list[Any] = []
    for plugin in json.loads(report.read_text())["pluginReports"]:
        for violation in plugin["violations"]:
            findings.extend(
                Finding(violation["ruleName"], construct["constructPath"], violation["description"])
                for construct in violation["violatingConstructs"]
            )
    return findings


def acknowledged_findings(assembly_dir: str | Path) -> dict[str, dict[str, str]]:
    """{construct path: {finding id: reason}} read from every stack's metadata in the assembly."""
    acknowledged: dict[str, dict[str, str]] = {}
    for metadata_file in sorted(Path(assembly_dir).rglob("*.metadata.json")):
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry["type"] == ACKNOWLEDGED_METADATA:
                    acknowledged.setdefault(path, {}).update(entry["data"])
    return acknowledged


def format_findings(findings: list[Finding]) -> str:
    lines = [f"{len(findings)} cdk-nag finding(s) not acknowledged:"]
    lines += [f"  {f.rule}  at {f.path}\n      {f.description}" for f in findings]
    lines.append(
        "Fix each one, or acknowledge it on its construct with features.shared.nag_acknowledgments"
        ".acknowledge() and a reason."
    )
    return "\n".join(lines)
