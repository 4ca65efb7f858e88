"""What a built Lambda layer directory holds, shared by its builder and its construct.

Pure Python (no CDK import): `tools/build_layer.py` uses it during `make bootstrap`, before any
synth, and `features/shared/boto3_layer.py` uses it to refuse a missing or stale build.

A layer built into `<dir>` (content under `<dir>/python/`) is described by `<dir>.json`:
`{"requirements", "requirements_sha256", "python_version", "packages": {name: version}}`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

HOW_TO_BUILD = "run `make bootstrap` (it runs tools/build_layer.py)"


def record_path(layer_dir: Path) -> Path:
    return layer_dir.with_suffix(".json")


def requirements_digest(requirements: Path) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def read_record(layer_dir: Path) -> dict[str, Any] | None:
    record = record_path(layer_dir)
    if not record.is_file() or not (layer_dir / "python").is_dir():
        return None
    built: dict[str, Any] | None = json.loads(record.read_text())
    return built


def build_problem(layer_dir: Path, requirements: Path, python_version: str) -> str | None:
    """Why the layer in `layer_dir` is not a build of `requirements` for `python_version`."""
    record = read_record(layer_dir)
    if record is None:
        return f"the Lambda layer is not built in {layer_dir}"
    if record.get("python_version") != python_version:
        return (
            f"the Lambda layer in {layer_dir} was built for Python {record.get('python_version')}"
            f", not {python_version}"
        )
    if record.get("requirements_sha256") != requirements_digest(requirements):
        return f"the Lambda layer in {layer_dir} was built from another version of {requirements}"
    return None
