"""Command line: what the notebook's on-start script runs (``python -m genai_workbench``)."""

from __future__ import annotations

from collections.abc import Sequence

from genai_workbench.common import WorkbenchError
from genai_workbench.deployment import write_deployment


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m genai_workbench write-deployment --path PATH --out FILE``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m genai_workbench", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser(
        "write-deployment", help="assemble the deployment document from SSM and write it"
    )
    write.add_argument(
        "--path", required=True, help="deployment path, /<project>/<env>/deployment/"
    )
    write.add_argument("--out", required=True, help="file to write (JSON)")
    args = parser.parse_args(argv)
    try:
        write_deployment(args.path, args.out)
    except WorkbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0
