"""Which layer may import which: config and CLI run without aws-cdk (docs/architecture.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

CDK_MODULES = ("aws_cdk", "constructs", "jsii")


@pytest.mark.parametrize(
    "module",
    ["workbench_config", "workbench.cost", "workbench.smoke", "workbench.optimize"],
)
def test_module_imports_no_aws_cdk(module):
    code = (
        f"import sys, {module}\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(CDK_MODULES)!r}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
