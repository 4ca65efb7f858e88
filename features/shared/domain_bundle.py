"""Code assets that carry the shared domain package, by a plain copy at synth.

The notebooks and the optimization launcher import `workbench_domain`; their asset gets the
package's files beside its own, so what runs there is byte for byte what the CDK app checked.
No Docker and no network: `shutil.copytree` into `build/assets/<name>/<pid>/`, rebuilt on every
synth. One folder per process, so two synths at once (`pytest -n`) never read each other's
half-copied files; the folders of processes that have ended are removed. CDK fingerprints an
asset by its content, so the folder name does not change the asset.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOMAIN_DIR = REPO / "workbench_domain"
BUILD_DIR = REPO / "build" / "assets"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".*")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def with_domain(source_dir: Path, name: str, *, as_package: bool = False) -> Path:
    """A copy of `source_dir` with `workbench_domain/` added, for an asset named `name`.

    `as_package`: the folder goes in under its own name, a package beside `workbench_domain/`
    (a Lambda handler `<folder>.handler.handler`); otherwise its files are the asset's root.
    """
    root = BUILD_DIR / name
    if root.is_dir():
        for entry in root.iterdir():
            # Another process's copy while it runs; anything else (ended processes, files of
            # the layout before per-process folders) goes.
            if entry.name.isdigit() and _running(int(entry.name)):
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink()
    target = root / str(os.getpid())
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source_dir, target / source_dir.name if as_package else target, ignore=_IGNORE)
    shutil.copytree(DOMAIN_DIR, target / DOMAIN_DIR.name, ignore=_IGNORE)
    return target
