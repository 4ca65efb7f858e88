"""Writes or checks cdk.schema.json, the JSON Schema of cdk.json's `workbench` section.

    python -m tools.config_schema          # (re)write cdk.schema.json    (make schema)
    python -m tools.config_schema --check  # fail if it is stale or cdk.json breaks it (make lint)

The schema is generated from the config parsers (workbench_config/schema.py); editors read it
through .vscode/settings.json, so a typo in cdk.json is underlined before anyone synthesizes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jsonschema

from workbench_config.schema import SCHEMA_FILE, describe_cdk_json

ROOT = Path(__file__).resolve().parent.parent


def render() -> str:
    return json.dumps(describe_cdk_json(), indent=2) + "\n"


def problems(cdk_json: Path, schema_file: Path) -> list[str]:
    """What is wrong: a stale schema file, or each place where cdk.json breaks the schema."""
    expected = render()
    if not schema_file.is_file() or schema_file.read_text() != expected:
        return [f"{schema_file.name} is not what the config parsers describe: run `make schema`"]
    validator = jsonschema.Draft202012Validator(json.loads(expected))
    errors = validator.iter_errors(json.loads(cdk_json.read_text()))
    return [
        f"{cdk_json.name} {error.json_path}: {error.message}"
        for error in sorted(errors, key=lambda e: e.json_path)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check instead of writing")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    schema_file = args.root / SCHEMA_FILE
    if not args.check:
        schema_file.write_text(render())
        print(f"wrote {schema_file}")
        return 0
    found = problems(args.root / "cdk.json", schema_file)
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
