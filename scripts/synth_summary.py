"""Prints each synthesized stack with its resource count (the last lines of `make synth`)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def summarize(assembly_dir: Path) -> list[tuple[str, int, Counter]]:
    rows = []
    for template in sorted(assembly_dir.rglob("*.template.json")):
        manifest = json.loads((template.parent / "manifest.json").read_text())
        name = next(
            artifact.get("displayName", artifact_id)
            for artifact_id, artifact in manifest["artifacts"].items()
            if artifact.get("properties", {}).get("templateFile") == template.name
        )
        resources = json.loads(template.read_text()).get("Resources", {})
        kinds = Counter(r["Type"] for r in resources.values() if r["Type"] != "AWS::CDK::Metadata")
        rows.append((name, sum(kinds.values()), kinds))
    return rows


def main(argv: list[str]) -> int:
    assembly_dir = Path(argv[1] if len(argv) > 1 else "cdk.out")
    rows = summarize(assembly_dir)
    if not rows:
        print(f"no templates in {assembly_dir}", file=sys.stderr)
        return 1
    width = max(len(name) for name, _, _ in rows)
    print(f"Synthesized {len(rows)} stack(s) into {assembly_dir}/:")
    for name, count, kinds in rows:
        top = ", ".join(f"{k.split('::', 1)[1]} {n}" for k, n in kinds.most_common(4))
        print(f"  {name:<{width}}  {count:>3} resources  ({top})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
