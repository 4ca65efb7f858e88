#!/usr/bin/env python3
"""Builds the Lambda layer that gives the optimization Lambdas their own boto3, without Docker.

The Lambda runtime bundles a boto3 that may predate the optimization-job API fields the launcher
sends (workbench_domain/api_limits.py names them and refuses an older botocore), so the
functions get the boto3/botocore pinned in
`features/optimization/launcher_function/requirements.txt` from a layer. boto3 and its
dependencies are pure-Python wheels, so `pip install --target` for the runtime's Python version
builds the layer on any machine: no Docker, and no network at synth time (`tools/bootstrap.sh`
runs this first).

Output: `build/layers/boto3/python/...` (the layer's content) and `build/layers/boto3.json`, which
records what was built. The CDK construct (`features/shared/boto3_layer.py`) reads that record and
refuses to synthesize a layer built from other requirements or for another Python version.
Idempotent: nothing happens while the record matches the requirements file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from features.shared.layer_build import build_problem, record_path, requirements_digest

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "features" / "optimization" / "launcher_function" / "requirements.txt"
LAYER_DIR = ROOT / "build" / "layers" / "boto3"
# The Python version of the functions' runtime (features/optimization/optimization_launcher.py): the
# construct checks that the layer was built for it.
PYTHON_VERSION = "3.14"

Installer = Callable[[Path, Path, str], None]


def pip_install(requirements: Path, target: Path, python_version: str) -> None:
    """Pure-Python wheels for `python_version`, whatever Python runs this script."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # .pyc files would make the layer's content differ on every build
            "--only-binary=:all:",
            "--platform",
            "any",
            "--implementation",
            "py",
            "--python-version",
            python_version,
            "--target",
            str(target),
            "-r",
            str(requirements),
        ],
        check=True,
    )


def installed_packages(site: Path) -> dict[str, str]:
    """{distribution: version} from the `.dist-info` folders pip wrote."""
    packages = {}
    for info in sorted(site.glob("*.dist-info")):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        packages[name.lower().replace("_", "-")] = version
    return packages


def build(
    requirements: Path = REQUIREMENTS,
    layer_dir: Path = LAYER_DIR,
    python_version: str = PYTHON_VERSION,
    install: Installer = pip_install,
) -> bool:
    """Builds the layer unless it is up to date; True when it built."""
    if build_problem(layer_dir, requirements, python_version) is None:
        return False
    staging = layer_dir.with_name(layer_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    install(requirements, staging / "python", python_version)
    # Console scripts (bin/jp.py) are of no use in a layer.
    shutil.rmtree(staging / "python" / "bin", ignore_errors=True)
    record = {
        "requirements_sha256": requirements_digest(requirements),
        "python_version": python_version,
        "packages": installed_packages(staging / "python"),
    }
    shutil.rmtree(layer_dir, ignore_errors=True)
    staging.rename(layer_dir)
    record_path(layer_dir).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return True


def main() -> int:
    if build():
        built = json.loads(record_path(LAYER_DIR).read_text())["packages"]
        print(
            f"==> built the boto3 Lambda layer in {LAYER_DIR.relative_to(ROOT)}: "
            + ", ".join(f"{name} {version}" for name, version in built.items())
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
