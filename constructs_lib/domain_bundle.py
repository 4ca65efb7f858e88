"""Code assets that carry the shared domain package, by a plain copy at synth.

The notebooks and the optimization launcher import `workbench_domain`; their asset gets the
package's files beside its own, so what runs there is byte for byte what the CDK app checked.
No Docker and no network: `shutil.copytree` into `build/assets/<name>/`, rebuilt on every synth.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOMAIN_DIR = REPO / "workbench_domain"
BUILD_DIR = REPO / "build" / "assets"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".*")


def with_domain(source_dir: Path, name: str) -> Path:
    """A copy of `source_dir` with `workbench_domain/` added, for an asset named `name`."""
    target = BUILD_DIR / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source_dir, target, ignore=_IGNORE)
    shutil.copytree(DOMAIN_DIR, target / DOMAIN_DIR.name, ignore=_IGNORE)
    return target
