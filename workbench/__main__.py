"""`python -m workbench <command> [flags]`: the operator commands, one module each.

Each command module has `main(argv) -> int`; `make <command>` is an alias with the same flags
(`make cost ARGS="--usage usage.yml"` is `python -m workbench cost --usage usage.yml`).
"""

from __future__ import annotations

import importlib
import sys

# command -> (module, what it does); the order of `--help`.
COMMANDS = {
    "preflight": ("preflight", "before a deploy: credentials, bootstrap, quotas, artifacts"),
    "cost": ("cost", "cost from the templates, and from a usage profile (offline)"),
    "execution-policy": ("execution_policy", "least-privilege CloudFormation execution policy"),
    "smoke": ("smoke", "after a deploy: one request per endpoint"),
    "spend": ("spend", "what an environment really cost (Cost Explorer)"),
    "optimize": ("optimize", "run an optimization job through the workflow, promote it"),
    "jumpstart": ("jumpstart", "write a JumpStart model into an endpoint of cdk.json"),
    "recommend": ("recommend", "ask SageMaker which instance and optimization fit your traffic"),
    "benchmark": ("benchmark", "measure a deployed endpoint's speed under your traffic"),
    "evaluate": ("evaluate", "measure a deployed endpoint's accuracy (lm-evaluation-harness)"),
    "compare": ("compare", "one table and plot over every measured variant, against targets"),
    "neuron-export": ("neuron_export", "export a model for a neuron_vllm (Inferentia2) endpoint"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {about}" for name, (_, about) in COMMANDS.items()]
    return (
        "usage: python -m workbench <command> [flags]  (--help after a command for its flags)\n\n"
        "commands:\n" + "\n".join(lines)
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    command, *rest = argv
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"workbench.{COMMANDS[command][0]}")
    code: int = module.main(rest)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
