"""Prints each synthesized stack with its resource count (the last lines of `make synth`)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from workbench.assembly import OperatorError, read_assembly


def summarize(assembly_dir: Path) -> list[tuple[str, int, Counter[str]]]:
    rows = []
    for stack in read_assembly(assembly_dir):
        kinds = Counter(
            r["Type"] for r in stack.resources.values() if r["Type"] != "AWS::CDK::Metadata"
        )
        rows.append((stack.name, sum(kinds.values()), kinds))
    return rows


def main(argv: list[str]) -> int:
    assembly_dir = Path(argv[1] if len(argv) > 1 else "cdk.out")
    try:
        rows = summarize(assembly_dir)
    except OperatorError as error:
        print(error, file=sys.stderr)
        return 1
    width = max(len(name) for name, _, _ in rows)
    print(f"Synthesized {len(rows)} stack(s) into {assembly_dir}/:")
    for name, count, kinds in rows:
        top = ", ".join(f"{k.split('::', 1)[1]} {n}" for k, n in kinds.most_common(4))
        print(f"  {name:<{width}}  {count:>3} resources  ({top})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
