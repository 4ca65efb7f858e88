# The commands users type. `make synth` and `make test` bootstrap everything they need.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
# The venv's bin first: its python, and a Node >= 22 that bootstrap placed there if needed.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# jsii (the bridge between the Python app and the CDK's JavaScript) must not warn about Node.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1
PYTHON := $(VENV)/bin/python
CHECKOV := $(VENV)/tools/checkov/bin/checkov
ENV ?= dev
CDK := cdk --no-notices
# Workstation commands always build the workstation variant, even when cdk.json enables the
# pipeline: `cdk deploy '**'` of the pipeline variant would deploy every stage around the pipeline.
WORKSTATION := -c env=$(ENV) -c pipeline=false
# The CLI does not clear cdk.out: synthesize into a fresh folder, so no stale template of the
# other variant remains, and replace cdk.out only when the synth succeeded (a bad config keeps
# the last good one).
SYNTH_INTO_CDK_OUT = rm -rf cdk.out.next && $(CDK) synth --quiet --output cdk.out.next $(1) >/dev/null && rm -rf cdk.out && mv cdk.out.next cdk.out
SYNTH_WORKSTATION := $(call SYNTH_INTO_CDK_OUT,$(WORKSTATION))
# `make synth-pipeline` shows the pipeline with the placeholders of pipeline.example.json;
# PIPELINE_EXAMPLE=false uses the `pipeline` section of cdk.json (what the pipeline itself runs).
PIPELINE_EXAMPLE ?= true

.PHONY: help bootstrap synth test lint unit cfn-lint nag checkov bench diff deploy destroy clean
.PHONY: preflight cost cost-markdown smoke diagram spend execution-policy
.PHONY: synth-pipeline deploy-pipeline
.PHONY: optimize jumpstart recommend benchmark evaluate compare neuron-export schema

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

bootstrap: ## Create .venv, install pinned Python deps, Node >= 22, the pinned CDK CLI, the Lambda boto3 layer
	@tools/bootstrap.sh

synth: bootstrap ## Synthesize the app for ENV (default dev) into cdk.out, then summarize it
	@$(SYNTH_WORKSTATION)
	@$(PYTHON) -m tools.synth_summary cdk.out

synth-pipeline: bootstrap ## Synthesize the pipeline variant (placeholders; PIPELINE_EXAMPLE=false: cdk.json) and cfn-lint it
	@$(call SYNTH_INTO_CDK_OUT,-c pipeline=true -c pipeline_example=$(PIPELINE_EXAMPLE))
	@$(PYTHON) -m tools.synth_summary cdk.out
	@$(PYTHON) -m tools.cfn_lint cdk.out

test: lint unit cfn-lint nag checkov ## Everything CI runs: ruff, pytest, cfn-lint, cdk-nag and checkov on every template

lint: bootstrap ## ruff, format check (Python, notebooks), mypy (strict, every package), cdk.json schema
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/nbqa "ruff check" notebooks
	@$(PYTHON) -m mypy
	@$(PYTHON) -m tools.config_schema --check

unit: bootstrap ## pytest on both cores (each worker synthesizes each variant it needs once)
	@$(PYTHON) -m pytest -q -n 2

cfn-lint: synth ## cfn-lint on every synthesized template
	@$(PYTHON) -m tools.cfn_lint cdk.out

nag: synth ## cdk-nag (AwsSolutions + NIST 800-53 rev 5): fails on any unacknowledged finding
	@$(PYTHON) -m tools.nag_report cdk.out

schema: bootstrap ## Regenerate cdk.schema.json (the JSON Schema of cdk.json's workbench section) from the config parsers
	@$(PYTHON) -m tools.config_schema

checkov: synth ## checkov on every synthesized template: fails on any check not passed or skipped on its resource with a reason
	@$(CHECKOV) -d cdk.out --framework cloudformation --quiet --compact --skip-download

bench: bootstrap ## Time warm `make synth` and `make test` (budgets 20 s and 120 s)
	@$(PYTHON) -m tools.bench

diff: bootstrap ## cdk diff of ENV against the deployed stacks (needs AWS credentials)
	$(CDK) diff $(WORKSTATION) '**'

deploy: bootstrap ## Deploy every stack of ENV (needs AWS credentials and `cdk bootstrap`)
	$(CDK) deploy $(WORKSTATION) '**'

deploy-pipeline: bootstrap ## One-time deploy of the pipeline stack from cdk.json (needs pipeline-account credentials)
	$(CDK) deploy -c pipeline=true '*-pipeline'

destroy: bootstrap ## Delete every stack of ENV (prod keeps its buckets and key: RETAIN)
	$(CDK) destroy $(WORKSTATION) '**'

preflight: bootstrap ## Before deploying ENV: credentials, bootstrap, quotas, artifacts, images (ARGS=--region R)
	@$(SYNTH_WORKSTATION)
	@$(PYTHON) -m workbench preflight --env $(ENV) $(ARGS)

cost: bootstrap ## Cost of ENV from the templates (offline): idle, active, fixed, always-on (ARGS=--json)
	@$(SYNTH_WORKSTATION)
	@$(PYTHON) -m workbench cost --env $(ENV) $(ARGS)

cost-markdown: bootstrap ## The cost table as markdown, for the README's Cost section
	@$(SYNTH_WORKSTATION)
	@$(PYTHON) -m workbench cost --markdown

execution-policy: bootstrap ## Least-privilege CloudFormation execution policies and the roles' boundary for ENV, for cdk bootstrap (needs permissions_boundary: true; ARGS="--account ID --region R")
	@$(SYNTH_WORKSTATION)
	@$(PYTHON) -m workbench execution-policy --env $(ENV) $(ARGS)

spend: bootstrap ## What ENV really cost (Cost Explorer, by day, service, usage type) beside the estimate: make spend ENV=dev [ARGS="--days 30"]
	@$(PYTHON) -m workbench spend --env $(ENV) $(ARGS)

smoke: bootstrap ## After deploy: one request per endpoint of ENV (async, or streamed chat) (ARGS=--wait-for-zero, --endpoint KEY)
	@$(PYTHON) -m workbench smoke --env $(ENV) $(ARGS)

diagram: bootstrap ## Regenerate docs/architecture.png (and .dot) from the synthesized app
	@$(SYNTH_WORKSTATION)
	@$(PYTHON) -m tools.diagram

optimize: bootstrap ## Run an optimization job through the workflow of ENV: make optimize ARGS="--help"
	@$(PYTHON) -m workbench optimize --env $(ENV) $(ARGS)

jumpstart: bootstrap ## Write a JumpStart model into an endpoint: make jumpstart MODEL=id ENDPOINT=key [ARGS="--draft --accept-eula"]
	@$(PYTHON) -m workbench jumpstart --env $(ENV) --model-id "$(MODEL)" --endpoint "$(ENDPOINT)" $(ARGS)

recommend: bootstrap ## Recommended instance and optimization for your traffic (AI recommendation job): make recommend ARGS="--help"
	@$(PYTHON) -m workbench recommend --env $(ENV) $(if $(ENDPOINT),--endpoint "$(ENDPOINT)") $(ARGS)

benchmark: bootstrap ## Measure a deployed endpoint (AI benchmark job, or the async runner): make benchmark ENDPOINT=key ARGS="--usage usage.yml"
	@$(PYTHON) -m workbench benchmark --env $(ENV) --endpoint "$(ENDPOINT)" $(ARGS)

evaluate: bootstrap ## Measure a deployed endpoint's accuracy (lm-evaluation-harness): make evaluate ENDPOINT=key ARGS="--tasks gsm8k --limit 250"
	@$(PYTHON) -m workbench evaluate --env $(ENV) --endpoint "$(ENDPOINT)" $(ARGS)

neuron-export: bootstrap ## Export a model for a neuron_vllm endpoint (training job on trn1): make neuron-export ENDPOINT=inf2 ARGS="--source models/meta-llama-3-70b/"
	@$(PYTHON) -m workbench neuron-export --env $(ENV) --endpoint "$(ENDPOINT)" $(ARGS)

compare: bootstrap ## Speed, accuracy and cost of every measured variant of ENV, against config compare (ARGS="--usage usage.yml")
	@$(SYNTH_WORKSTATION)
	@$(PYTHON) -m workbench compare --env $(ENV) $(ARGS)

clean: ## Remove generated files (keeps .venv and node_modules)
	rm -rf cdk.out build .pytest_cache .ruff_cache
