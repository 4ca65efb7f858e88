"""The cdk-nag gate of `make test`: fails on any unacknowledged finding, lists acknowledgments."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from stacks.policy_checks import (
    REPORT_FILE,
    acknowledged_findings,
    format_findings,
    unacknowledged_findings,
)


def main(argv: list[str]) -> int:
    assembly_dir = Path(argv[1] if len(argv) > 1 else "cdk.out")
    if not (assembly_dir / "manifest.json").exists():
        print(
            f"error: no cloud assembly in {assembly_dir}; run `make synth` first", file=sys.stderr
        )
        return 2
    findings = unacknowledged_findings(assembly_dir)
    if findings:
        print(format_findings(findings), file=sys.stderr)
        return 1
    acknowledged = acknowledged_findings(assembly_dir)
    per_rule = Counter(rule for rules in acknowledged.values() for rule in rules)
    print(
        f"cdk-nag (AwsSolutions, NIST 800-53 rev 5): 0 unacknowledged findings; "
        f"{sum(per_rule.values())} acknowledged with reasons ({assembly_dir / REPORT_FILE})"
    )
    for rule, count in sorted(per_rule.items()):
        print(f"  {count:>3} x {rule.split('::', 1)[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
