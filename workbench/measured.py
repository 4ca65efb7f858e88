"""Measurement records on the workstation: the copies `make benchmark`, `make evaluate` and
`make compare` keep under build/measurements/<env>/, which `make cost --usage` and
`make compare --offline` read.

The records themselves live in the artifacts bucket (`genai_workbench.measurements`); these are
the same documents (`workbench_domain.measurements`, `workbench_domain.accuracy`), one file per
record, at the record's own key below the environment's folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genai_workbench.measurements import newest_accuracies, newest_speeds

from workbench.assembly import OperatorError
from workbench.common import ROOT
from workbench_domain import accuracy as acc
from workbench_domain import measurements as m
from workbench_domain.errors import ValidationError

LOCAL = ROOT / "build" / m.PREFIX


def save(env: str, key: str, document: dict[str, Any], root: Path | None = None) -> Path:
    """Keep a record (`key`: its object key, `measurements/...`) under the environment's folder."""
    path = (root or LOCAL) / env / key.removeprefix(f"{m.PREFIX}/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def documents(env: str, kind: str, root: Path | None = None) -> dict[str, list[Any]]:
    """The local records of one kind by endpoint key, as documents."""
    found: dict[str, list[Any]] = {}
    for path in sorted(((root or LOCAL) / env).glob(f"*/{kind}/*.json")):
        try:
            found.setdefault(path.parent.parent.name, []).append(
                m.loads(path.read_text(), str(path))
            )
        except (OSError, ValidationError) as error:
            raise OperatorError(f"{path}: {error}") from error
    return found


def load(env: str, root: Path | None = None) -> dict[str, m.Speed]:
    """The newest local speed record of each endpoint key (none when nothing was measured)."""
    try:
        return newest_speeds(documents(env, m.SPEED, root))
    except ValidationError as error:
        raise OperatorError(str(error)) from error


def load_accuracies(env: str, root: Path | None = None) -> dict[str, dict[str, acc.Accuracy]]:
    try:
        return newest_accuracies(documents(env, acc.ACCURACY, root))
    except ValidationError as error:
        raise OperatorError(str(error)) from error
