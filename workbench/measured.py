"""Measured speed records on the workstation: the copies `make benchmark` and `make compare`
keep under build/measurements/<env>/, which `make cost --usage` reads offline.

The records themselves live in the artifacts bucket (`genai_workbench.measurements`); this is
the same format (`workbench_domain.measurements`), one file per run.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.assembly import OperatorError
from workbench.common import ROOT
from workbench_domain import measurements as m
from workbench_domain.errors import ValidationError

LOCAL = ROOT / "build" / m.PREFIX


def save(env: str, speed: m.Speed, root: Path | None = None) -> Path:
    path = (root or LOCAL) / env / speed.key().removeprefix(f"{m.PREFIX}/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(m.to_document(speed), indent=2) + "\n")
    return path


def load(env: str, root: Path | None = None) -> dict[str, m.Speed]:
    """The newest local speed record of each endpoint key (none when nothing was measured)."""
    found: dict[str, m.Speed] = {}
    for folder in sorted(((root or LOCAL) / env).glob(f"*/{m.SPEED}")):
        documents = []
        for path in sorted(folder.glob("*.json")):
            try:
                documents.append(m.loads(path.read_text(), str(path)))
            except (OSError, ValidationError) as error:
                raise OperatorError(f"{path}: {error}") from error
        try:
            newest = m.newest(documents, str(folder))
        except ValidationError as error:
            raise OperatorError(str(error)) from error
        if newest is not None:
            found[folder.parent.name] = newest
    return found
