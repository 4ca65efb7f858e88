#!/bin/bash
# On-start lifecycle script of the workbench notebook instance: runs as root at every start
# (the first one included) and must end within 5 minutes, so long work goes to the background.
#
# Settings: the CDK app stores this file through Fn::Sub, which replaces the five dollar-brace
# placeholders assigned just below (IdleMinutes, NotebooksS3Uri, AutostopS3Uri,
# DeploymentPath and the pseudo parameter AWS::Region). Fn::Sub would also rewrite any
# other dollar-brace sequence, so this script writes bash variables as $name, never with braces
# (a literal one would need a "!" after the brace).
#
# What it does, each step logged and none able to stop the instance from starting:
#   1. downloads the notebooks (a zip at NotebooksS3Uri) and, with the client module shipped in
#      it (python -m genai_workbench write-deployment), assembles the deployment JSON from the SSM
#      parameters under DeploymentPath (one per stack) into
#      /home/ec2-user/SageMaker/.genai-optimization/deployment.json, owned by ec2-user;
#   2. copies the notebooks (a zip at NotebooksS3Uri) into /home/ec2-user/SageMaker/genai-optimization/
#      as ec2-user, replacing only files the user has not changed since they were shipped
#      (checksums in .genai-optimization/shipped-notebooks.sha256; the latest shipped version of
#      a file the user changed is kept in .genai-optimization/shipped/);
#   3. installs autostop.py under /usr/local/share/genai-optimization/ and runs it every 5 minutes
#      (/etc/cron.d/genai-optimization-autostop, or a background loop when there is no crond,
#      as on Amazon Linux 2023), log /var/log/genai-optimization-autostop.log;
#   4. in the background, installs huggingface_hub into the conda_python3 kernel's environment.
# AWS calls use the first Python that can import boto3 (on Amazon Linux 2023 /usr/bin/python3
# may lack it): JupyterSystemEnv, then the base conda, then the python3 env, then /usr/bin/python3.
# Lifecycle scripts get PATH=/sbin:bin:/usr/sbin:/usr/bin, so nothing here relies on the AWS CLI.
set -euo pipefail

IDLE_MINUTES="${IdleMinutes}"
NOTEBOOKS_S3_URI="${NotebooksS3Uri}"
AUTOSTOP_S3_URI="${AutostopS3Uri}"
DEPLOYMENT_PATH="${DeploymentPath}"
export AWS_DEFAULT_REGION="${AWS::Region}"

SAGEMAKER_HOME=/home/ec2-user/SageMaker
STATE_DIR=$SAGEMAKER_HOME/.genai-optimization
NOTEBOOK_DIR=$SAGEMAKER_HOME/genai-optimization
DEPLOYMENT_FILE=$STATE_DIR/deployment.json
TOOLS_DIR=/usr/local/share/genai-optimization
AUTOSTOP=$TOOLS_DIR/autostop.py
AUTOSTOP_LOG=/var/log/genai-optimization-autostop.log
CRON_FILE=/etc/cron.d/genai-optimization-autostop
CONDA_PIP=/home/ec2-user/anaconda3/envs/python3/bin/pip

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
chmod 0755 "$WORK"

log() { echo "[genai-optimization] $*"; }
warn() { echo "[genai-optimization] WARNING: $*" >&2; }

find_python() {
  local candidate
  for candidate in \
    /home/ec2-user/anaconda3/envs/JupyterSystemEnv/bin/python \
    /home/ec2-user/anaconda3/bin/python \
    /home/ec2-user/anaconda3/envs/python3/bin/python \
    /usr/bin/python3; do
    if [ -x "$candidate" ] && timeout 60 "$candidate" -c "import boto3" >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# s3_download S3_URI LOCAL_FILE
s3_download() {
  timeout 120 "$PY" - "$1" "$2" <<'PY'
import sys

import boto3

bucket, _, key = sys.argv[1][len("s3://"):].partition("/")
boto3.client("s3").download_file(bucket, key, sys.argv[2])
PY
}

fetch_notebooks() {
  s3_download "$NOTEBOOKS_S3_URI" "$WORK/notebooks.zip" || return 1
  mkdir -p "$WORK/notebooks" || return 1
  "$PY" -m zipfile -e "$WORK/notebooks.zip" "$WORK/notebooks" || return 1
  chmod -R a+rX "$WORK/notebooks"
}

# The client module validates what it writes: a file the notebooks cannot read is never written.
fetch_deployment() {
  (cd "$WORK/notebooks" && timeout 60 "$PY" -m genai_workbench write-deployment \
    --path "$DEPLOYMENT_PATH" --out "$WORK/deployment.json") || return 1
  install -d -o ec2-user -g ec2-user -m 0700 "$STATE_DIR" || return 1
  install -o ec2-user -g ec2-user -m 0600 "$WORK/deployment.json" "$DEPLOYMENT_FILE" || return 1
  log "wrote $DEPLOYMENT_FILE from the SSM parameters under $DEPLOYMENT_PATH"
}

sync_notebooks() {
  install -d -o ec2-user -g ec2-user -m 0700 "$STATE_DIR" || return 1
  sudo -u ec2-user -H "$PY" - "$WORK/notebooks" "$NOTEBOOK_DIR" "$STATE_DIR" <<'PY'
# BEGIN sync_notebooks.py
"""Copy shipped files into the user's folder without overwriting the user's changes."""
import hashlib
import os
import shutil
import sys

source, target, state = sys.argv[1:4]
manifest = os.path.join(state, "shipped-notebooks.sha256")
shipped_dir = os.path.join(state, "shipped")


def digest(path):
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def copy(path, destination):
    os.makedirs(os.path.dirname(destination), exist_ok=True)
    shutil.copyfile(path, destination)


before = {}
if os.path.exists(manifest):
    with open(manifest, encoding="utf-8") as handle:
        for line in handle:
            checksum, _, rel = line.rstrip("\n").partition("  ")
            if rel:
                before[rel] = checksum

after = {}
for root, dirs, files in os.walk(source):
    dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
    for name in sorted(files):
        if name.startswith("."):
            continue
        path = os.path.join(root, name)
        rel = os.path.relpath(path, source).replace(os.sep, "/")
        destination = os.path.join(target, rel)
        new = digest(path)
        if os.path.exists(destination):
            have = digest(destination)
            if have == new:
                after[rel] = new
                continue
            if have != before.get(rel):
                copy(path, os.path.join(shipped_dir, rel))
                if rel in before:
                    after[rel] = before[rel]
                print("kept your version of " + rel + "; the shipped one is in " + shipped_dir)
                continue
        copy(path, destination)
        after[rel] = new
        print("installed " + rel)

os.makedirs(state, exist_ok=True)
with open(manifest + ".tmp", "w", encoding="utf-8") as handle:
    handle.writelines(checksum + "  " + rel + "\n" for rel, checksum in sorted(after.items()))
os.replace(manifest + ".tmp", manifest)
# END sync_notebooks.py
PY
}

install_autostop() {
  case "$IDLE_MINUTES" in
    '' | *[!0-9]*)
      warn "IdleMinutes '$IDLE_MINUTES' is not a whole number"
      return 1
      ;;
  esac
  if [ "$IDLE_MINUTES" -eq 0 ]; then
    rm -f "$CRON_FILE"
    log "auto-stop is off (IdleMinutes 0)"
    return 0
  fi
  mkdir -p "$TOOLS_DIR" || return 1
  s3_download "$AUTOSTOP_S3_URI" "$AUTOSTOP" || return 1
  "$PY" "$AUTOSTOP" --help >/dev/null || return 1
  local command="$PY $AUTOSTOP --idle-minutes $IDLE_MINUTES --region $AWS_DEFAULT_REGION"
  if pgrep -x crond >/dev/null 2>&1 || systemctl start crond >/dev/null 2>&1; then
    echo "*/5 * * * * root $command >>$AUTOSTOP_LOG 2>&1" >"$CRON_FILE" || return 1
    chmod 0644 "$CRON_FILE"
    log "auto-stop: cron every 5 minutes, stop after $IDLE_MINUTES idle minutes"
  else
    nohup bash -c "while sleep 300; do $command; done" >>"$AUTOSTOP_LOG" 2>&1 &
    log "auto-stop: no crond, background loop every 5 minutes, stop after $IDLE_MINUTES idle minutes"
  fi
}

install_packages_in_background() {
  if [ ! -x "$CONDA_PIP" ]; then
    log "no conda python3 environment; notebooks install what they need"
    return 0
  fi
  nohup sudo -u ec2-user -H "$CONDA_PIP" install --quiet --upgrade huggingface_hub \
    >/var/log/genai-optimization-pip.log 2>&1 &
  log "installing huggingface_hub in the background (log /var/log/genai-optimization-pip.log)"
}

if ! PY=$(find_python); then
  warn "no Python with boto3 found: notebooks, deployment file and auto-stop NOT set up"
  exit 0
fi
log "using $PY"
if fetch_notebooks; then
  fetch_deployment || warn "could not write $DEPLOYMENT_FILE from SSM path $DEPLOYMENT_PATH"
  sync_notebooks || warn "could not copy the notebooks into $NOTEBOOK_DIR"
else
  warn "could not download the notebooks from $NOTEBOOKS_S3_URI (deployment file not written)"
fi
install_autostop || warn "auto-stop NOT installed: this instance will not stop by itself"
install_packages_in_background
log "on-start done"
