"""checkov, the third policy engine: each check that does not apply is skipped on its resource
with a reason, none globally; the realtime variant (not in `make checkov`'s cdk.out) is checked
here."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, SynthesizedApp

CHECKOV = ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov"


def skips(synthesized: SynthesizedApp) -> list[tuple[str, str, dict]]:
    found = []
    for path in Path(synthesized.assembly.directory).rglob("*.template.json"):
        for logical_id, resource in json.loads(path.read_text())["Resources"].items():
            for skip in (resource.get("Metadata") or {}).get("checkov", {}).get("skip", []):
                found.append((path.name, logical_id, skip))
    return found


@pytest.mark.parametrize("variant", ["dev", "prod", "realtime"])
def test_every_skip_names_a_check_and_gives_a_reason(request, variant):
    found = skips(request.getfixturevalue(variant))
    assert found, "the launcher, the CDK auto-delete provider and the log bucket have skips"
    for _, _, skip in found:
        assert re.fullmatch(r"CKV_AWS_\d+", skip["id"])
        assert len(skip["comment"]) > 40


def test_the_launcher_limits_its_concurrency_instead_of_skipping_the_check(dev):
    template = dev.template(dev.stage.optimization).to_json()["Resources"]
    functions = {lid: r for lid, r in template.items() if r["Type"] == "AWS::Lambda::Function"}
    (launcher,) = [
        r for lid, r in functions.items() if lid.startswith("Launcher") and "Recorder" not in lid
    ]
    assert launcher["Properties"]["ReservedConcurrentExecutions"] == 2
    skipped = {s["id"] for s in launcher["Metadata"]["checkov"]["skip"]}
    assert "CKV_AWS_115" not in skipped and {"CKV_AWS_116", "CKV_AWS_117"} <= skipped
    for function in functions.values():  # environment variables under the project key
        if function["Properties"].get("Environment"):
            assert "KmsKeyArn" in function["Properties"]


def test_make_checkov_skips_nothing_globally():
    makefile = (ROOT / "Makefile").read_text()
    (line,) = [line for line in makefile.splitlines() if "$(CHECKOV) " in line]
    assert "--skip-check" not in line and "--soft-fail" not in line


def test_the_realtime_templates_pass_checkov(realtime: SynthesizedApp):
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make bootstrap`")
    run = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            realtime.assembly.directory,
            "--framework",
            "cloudformation",
            "--quiet",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
