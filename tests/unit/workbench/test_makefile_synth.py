"""The Makefile's synth step replaces cdk.out only when the synth succeeds: a bad config keeps the
last good assembly (the commands that read it, and the user, still have it)."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ROOT

FAKE_CDK = """#!/bin/sh
# Stands in for the CDK CLI: writes its --output folder, then exits with $FAIL (0 by default).
out=cdk.out
while [ $# -gt 0 ]; do [ "$1" = "--output" ] && out="$2"; shift; done
mkdir -p "$out" && echo new > "$out/manifest.json"
exit "${FAIL:-0}"
"""


def synth(folder, *, fail: bool) -> subprocess.CompletedProcess:
    cdk = folder / "cdk"
    cdk.write_text(FAKE_CDK)
    cdk.chmod(0o755)
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "--eval",
         "probe: ; @$(SYNTH_WORKSTATION)", "probe", f"CDK={cdk}", f"FAIL={int(fail)}"],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(("fail", "kept"), [(True, "last good\n"), (False, "new\n")])
def test_a_failed_synth_keeps_the_last_good_cdk_out(tmp_path, fail, kept):
    (tmp_path / "cdk.out").mkdir()
    (tmp_path / "cdk.out" / "manifest.json").write_text("last good\n")
    result = synth(tmp_path, fail=fail)
    assert (result.returncode != 0) == fail, result.stderr
    assert (tmp_path / "cdk.out" / "manifest.json").read_text() == kept
    assert not (tmp_path / "cdk.out.next").exists() or fail
