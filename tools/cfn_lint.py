"""The cfn-lint gate of `make test`: every synthesized template, zero errors, and no warning
unless it is CDK's own and listed with a reason in cfn-lint-allowlist.json."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def load_allowlist(path: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text())["allowed"]
    for entry in entries:
        if not entry.get("reason") or not entry["rule"].startswith(("W", "I")):
            raise SystemExit(
                f"error: {path}: each entry needs a warning rule and a reason: {entry}"
            )
    return entries


def is_allowed(match: dict[str, Any], allowlist: list[dict[str, Any]]) -> bool:
    path = match["Location"]["Path"]
    logical_id = path[1] if len(path) > 1 and path[0] == "Resources" else ""
    return any(
        match["Rule"]["Id"] == entry["rule"] and logical_id.startswith(entry["logical_id_prefix"])
        for entry in allowlist
    )


class CfnLintError(RuntimeError):
    """cfn-lint itself failed (not a finding): its own error output is the message."""


def lint(templates: Sequence[Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """cfn-lint on `templates`: (every match, the matches not in cfn-lint-allowlist.json)."""
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--format",
            "json",
            "--",
            *map(str, templates),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # cfn-lint's exit status is a bit mask of error (2), warning (4) and info (8) findings.
    if result.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) or not result.stdout.strip():
        raise CfnLintError(result.stderr or result.stdout or f"exit status {result.returncode}")
    allowlist = load_allowlist(ROOT / "cfn-lint-allowlist.json")
    matches = json.loads(result.stdout)
    return matches, [m for m in matches if not is_allowed(m, allowlist)]


def main(argv: list[str]) -> int:
    assembly_dir = Path(argv[1] if len(argv) > 1 else "cdk.out")
    templates = sorted(assembly_dir.rglob("*.template.json"))
    if not templates:
        print(f"error: no templates in {assembly_dir}; run `make synth` first", file=sys.stderr)
        return 2
    try:
        matches, rejected = lint(templates)
    except CfnLintError as error:
        print(error, file=sys.stderr)
        return 1
    for m in rejected:
        where = "/".join(str(p) for p in m["Location"]["Path"])
        print(f"{m['Level']} {m['Rule']['Id']} {m['Filename']}: {where}\n    {m['Message']}")
    print(
        f"cfn-lint: {len(templates)} templates, {len(rejected)} findings, "
        f"{len(matches) - len(rejected)} allowed (cfn-lint-allowlist.json)"
    )
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
