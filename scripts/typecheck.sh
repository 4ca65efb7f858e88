#!/usr/bin/env bash
# mypy over everything that ships. The app and the domain package (strict) as configured in
# pyproject.toml; then the folders whose modules import their neighbours by folder, as they do at
# run time: the Lambdas (strict), the operator scripts and the notebook client.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
mypy() { "$ROOT/.venv/bin/python" -m mypy --config-file "$ROOT/pyproject.toml" \
  --cache-dir "$ROOT/.mypy_cache" "$@"; }
mypy
for folder in lambda/optimization_launcher lambda/sagemaker_api_model; do
  (cd "$folder" && MYPYPATH="$ROOT" mypy --strict ./*.py)
done
(cd scripts && MYPYPATH="$ROOT" mypy ./*.py)
(cd notebooks && MYPYPATH="$ROOT" mypy -p genai_workbench)
