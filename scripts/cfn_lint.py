"""The cfn-lint gate of `make test`: every synthesized template, zero errors, and no warning
unless it is CDK's own and listed with a reason in cfn-lint-allowlist.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_allowlist(path: Path) -> list[dict]:
    entries = json.loads(path.read_text())["allowed"]
    for entry in entries:
        if not entry.get("reason") or not entry["rule"].startswith(("W", "I")):
            raise SystemExit(
                f"error: {path}: each entry needs a warning rule and a reason: {entry}"
            )
    return entries


def is_allowed(match: dict, allowlist: list[dict]) -> bool:
    path = match["Location"]["Path"]
    logical_id = path[1] if len(path) > 1 and path[0] == "Resources" else ""
    return any(
        match["Rule"]["Id"] == entry["rule"] and logical_id.startswith(entry["logical_id_prefix"])
        for entry in allowlist
    )


def main(argv: list[str]) -> int:
    assembly_dir = Path(argv[1] if len(argv) > 1 else "cdk.out")
    templates = sorted(str(p) for p in assembly_dir.rglob("*.template.json"))
    if not templates:
        print(f"error: no templates in {assembly_dir}; run `make synth` first", file=sys.stderr)
        return 2
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", "--", *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) or not result.stdout.strip():
        print(result.stderr or result.stdout, file=sys.stderr)
        return result.returncode or 1
    allowlist = load_allowlist(ROOT / "cfn-lint-allowlist.json")
    matches = json.loads(result.stdout)
    rejected = [m for m in matches if not is_allowed(m, allowlist)]
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
