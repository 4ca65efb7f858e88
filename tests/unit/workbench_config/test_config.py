"""Config from cdk.json: typed parsing, and one clear error for each kind of bad value."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from workbench_config import AppConfig, ConfigError, load_config, merge_environment


def test_default_dev_config_parses_into_typed_immutable_objects(config_context):
    config = load_config(config_context, "dev")
    assert isinstance(config, AppConfig)
    assert (config.project, config.env_name, config.retain_data) == ("genai-opt", "dev", False)
    assert config.account is None and config.region is None
    assert config.workspace.instance_type == "ml.t3.medium"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.retain_data = True  # type: ignore[misc]


def test_prod_retains_data(config_context):
    assert load_config(config_context, "prod").retain_data is True


def test_omitted_optional_sections_take_documented_defaults(config_context):
    for section in ("storage", "workspace"):
        del config_context["environments"]["dev"][section]
    config = load_config(config_context, "dev")
    assert config.storage.inference_expiry_days == 30
    assert config.workspace.idle_minutes == 60


def dev(ctx: dict) -> dict:
    return ctx["environments"]["dev"]


def prod(ctx: dict) -> dict:
    return ctx["environments"]["prod"]


# (test id, mutation of the config, env name, expected key path, expected words in the message)
BAD_CONFIGS = [
    ("unknown-env", lambda c: None, "staging", "env (-c env=NAME)", "allowed: dev, prod"),
    ("missing-context", None, "dev", "workbench", "must define"),
    (
        "unknown-top-key",
        lambda c: c.update(projet="x"),
        "dev",
        "workbench.projet",
        "unknown key",
    ),
    (
        "unknown-env-key",
        lambda c: dev(c).update(removal="destroy"),
        "dev",
        "workbench.environments.dev.removal",
        "unknown key",
    ),
    (
        "unknown-nested-key",
        lambda c: dev(c)["storage"].update(inference_expiry=3),
        "dev",
        "workbench.environments.dev.storage.inference_expiry",
        "known keys: access_log_expiry_days",
    ),
    (
        "typo-in-prod-fails-dev-synth",
        lambda c: prod(c)["workspace"].update(idle_minute=30),
        "dev",
        "workbench.environments.prod.workspace.idle_minute",
        "unknown key",
    ),
    (
        "wrong-type-string-for-int",
        lambda c: dev(c)["storage"].update(inference_expiry_days="7"),
        "dev",
        "workbench.environments.dev.storage.inference_expiry_days",
        "expected an integer",
    ),
    (
        "wrong-type-bool-for-int",
        lambda c: dev(c)["workspace"].update(volume_size_gb=True),
        "dev",
        "workbench.environments.dev.workspace.volume_size_gb",
        "expected an integer",
    ),
    (
        "negative-count",
        lambda c: dev(c)["storage"].update(inference_expiry_days=-1),
        "dev",
        "workbench.environments.dev.storage.inference_expiry_days",
        "allowed: an integer in 1..3650",
    ),
    (
        "unknown-instance-type",
        lambda c: dev(c)["workspace"].update(instance_type="ml.t3.mediun"),
        "dev",
        "workbench.environments.dev.workspace.instance_type",
        "closest: ml.t3.medium",
    ),
    (
        "unknown-removal-policy",
        lambda c: dev(c).update(removal_policy="snapshot"),
        "dev",
        "workbench.environments.dev.removal_policy",
        "allowed: destroy, retain",
    ),
    (
        "missing-removal-policy",
        lambda c: dev(c).pop("removal_policy"),
        "dev",
        "workbench.environments.dev.removal_policy",
        "required",
    ),
    (
        "bad-account",
        lambda c: dev(c).update(account="1234"),
        "dev",
        "workbench.environments.dev.account",
        "12-digit",
    ),
    (
        "bad-region",
        lambda c: dev(c).update(region="Virginia"),
        "dev",
        "workbench.environments.dev.region",
        "allowed: one of",
    ),
    (
        "region-that-does-not-exist",
        lambda c: dev(c).update(region="us-east-9"),
        "dev",
        "workbench.environments.dev.region",
        "allowed: one of 44 values; closest: us-east-2, us-east-1",
    ),
    (
        "bad-network",
        lambda c: dev(c)["workspace"].update(network="private"),
        "dev",
        "workbench.environments.dev.workspace.network",
        "allowed: public, vpc",
    ),
    (
        "section-not-an-object",
        lambda c: dev(c).update(storage=[]),
        "dev",
        "workbench.environments.dev.storage",
        "expected an object, not a list",
    ),
    (
        "bad-project-name",
        lambda c: c.update(project="GenAI Opt"),
        "dev",
        "workbench.project",
        "lower-case letters",
    ),
    (
        "idle-stop-too-short",
        lambda c: dev(c)["workspace"].update(idle_minutes=0),
        "dev",
        "workbench.environments.dev.workspace.idle_minutes",
        "5..1440",
    ),
    (
        "compare-base-is-not-an-endpoint",
        lambda c: dev(c).update(compare={"base_endpoint": "p5"}),
        "dev",
        "workbench.environments.dev.compare.base_endpoint",
        "allowed: an endpoint key of this environment (chat, inf2, p4d)",
    ),
    (
        "compare-accuracy-drop-is-a-share",
        lambda c: dev(c).update(compare={"max_accuracy_drop": 2}),
        "dev",
        "workbench.environments.dev.compare.max_accuracy_drop",
        "allowed: a number <= 1",
    ),
    (
        "compare-unknown-target",
        lambda c: dev(c).update(compare={"max_ttft_ms": 500}),
        "dev",
        "workbench.environments.dev.compare.max_ttft_ms",
        "known keys: base_endpoint, max_accuracy_drop, max_ttft_p95_ms, monthly_budget_usd",
    ),
]


def test_compare_targets_default_to_a_two_point_drop_and_no_base(config_context):
    config = load_config(config_context, "dev").compare
    assert (config.base_endpoint, config.max_accuracy_drop) == (None, 0.02)
    dev(config_context)["compare"] = {"base_endpoint": "p4d", "max_ttft_p95_ms": 1500}
    config = load_config(config_context, "dev").compare
    assert (config.base_endpoint, config.max_ttft_p95_ms) == ("p4d", 1500.0)


@pytest.mark.parametrize(
    ("mutate", "env_name", "path", "words"),
    [case[1:] for case in BAD_CONFIGS],
    ids=[case[0] for case in BAD_CONFIGS],
)
def test_bad_config_is_refused_with_path_value_and_allowed(
    config_context, mutate, env_name, path, words
):
    raw = None if mutate is None else config_context
    if mutate is not None:
        mutate(config_context)
    with pytest.raises(ConfigError) as error:
        load_config(raw, env_name)
    assert error.value.path == path
    message = str(error.value)
    assert message.startswith(f"config {path}: got ")
    assert words in message


def run_app(context: dict, env_name: str) -> subprocess.CompletedProcess:
    # The same entry point `cdk synth` runs, with the context the CLI would pass.
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({**context, "env": env_name})}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"  # Node >= 22, as make sets
    env["CDK_OUTDIR"] = str(ROOT / "build" / "test-bad-config")
    return subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_synth_fails_with_one_line_naming_the_bad_value(config_context):
    config_context["environments"]["dev"]["workspace"]["instance_type"] = "ml.t3.mediun"
    result = run_app({"workbench": config_context}, "dev")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "error: config workbench.environments.dev.workspace.instance_type: got 'ml.t3.mediun'; "
        "allowed: one of "
    )
    assert "closest: ml.t3.medium" in line


def test_synth_refuses_an_unknown_env_name(config_context):
    result = run_app({"workbench": config_context}, "qa")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: config env (-c env=NAME): got 'qa'; allowed: dev, prod"
    )


# ------------------------------------------------------------- shared defaults, per-env overrides


def raw_workbench() -> dict:
    """The `workbench` section exactly as cdk.json writes it (defaults and overrides)."""
    return json.loads((ROOT / "cdk.json").read_text())["context"]["workbench"]


def test_cdk_json_states_each_shared_value_once():
    workbench = raw_workbench()
    assert set(workbench["defaults"]) >= {"storage", "workspace", "endpoints", "optimization"}
    dev, prod = workbench["environments"]["dev"], workbench["environments"]["prod"]
    # What differs between the environments, and nothing else.
    assert dev["removal_policy"] == "destroy" and prod["removal_policy"] == "retain"
    assert set(dev["endpoints"]["p4d"]) == set(prod["endpoints"]["p4d"]) == {"max_capacity"}


def test_environments_are_the_defaults_with_their_overrides():
    dev = load_config(raw_workbench(), "dev")
    prod = load_config(raw_workbench(), "prod")
    assert (dev.endpoints["p4d"].max_capacity, prod.endpoints["p4d"].max_capacity) == (1, 2)
    assert dev.endpoints["p4d"].serving == prod.endpoints["p4d"].serving  # from the defaults
    assert (dev.retain_data, prod.retain_data) == (False, True)


def test_objects_merge_other_values_replace_and_model_and_serving_are_replaced_whole():
    defaults = {
        "storage": {"a": 1, "b": 2},
        "tags": ["x"],
        "endpoints": {"p4d": {"max_capacity": 1, "serving": {"engine": "vllm", "dtype": "fp16"}}},
    }
    override = {
        "storage": {"b": 3},
        "tags": ["y"],
        "endpoints": {"p4d": {"serving": {"engine": "custom"}}},
    }
    assert merge_environment(defaults, override) == {
        "storage": {"a": 1, "b": 3},
        "tags": ["y"],
        "endpoints": {"p4d": {"max_capacity": 1, "serving": {"engine": "custom"}}},
    }
    merged = merge_environment(defaults, override)
    merged["storage"]["b"] = 4
    merged["endpoints"]["p4d"]["serving"]["engine"] = "neuron"
    assert defaults["storage"] == {"a": 1, "b": 2}  # the inputs share nothing with the result
    assert override["endpoints"]["p4d"]["serving"] == {"engine": "custom"}


def test_a_bad_shared_value_is_named_where_it_is_written():
    workbench = raw_workbench()
    workbench["defaults"]["workspace"]["instance_type"] = "ml.t3.mediun"
    with pytest.raises(ConfigError) as caught:
        load_config(workbench, "dev")
    assert caught.value.path == "workbench.defaults.workspace.instance_type (in environment dev)"


def test_a_bad_override_is_named_in_its_environment():
    workbench = raw_workbench()
    workbench["environments"]["prod"]["endpoints"]["p4d"]["max_capacity"] = 0
    with pytest.raises(ConfigError) as caught:
        load_config(workbench, "dev")  # every environment is parsed
    assert caught.value.path == "workbench.environments.prod.endpoints.p4d.max_capacity"


def test_an_unknown_key_in_an_override_is_refused():
    workbench = raw_workbench()
    workbench["environments"]["dev"]["storage"]["inference_expiry"] = 7
    with pytest.raises(
        ConfigError, match=r"workbench\.environments\.dev\.storage\.inference_expiry"
    ):
        load_config(workbench, "dev")


# ------------------------------------------------------ names CDK would refuse, nulls from the CLI


@pytest.mark.parametrize("name", ["Prod_2", "qa env", "2dev", "dev-", "a" * 17, "Dev"])
def test_an_environment_name_cdk_would_refuse_is_named_at_load(config_context, name):
    config_context["environments"][name] = config_context["environments"]["dev"]
    with pytest.raises(ConfigError) as error:
        load_config(config_context, "dev")
    assert error.value.path == f"workbench.environments.{name}"
    assert "an environment name is 1-16 lower-case letters" in str(error.value)


def test_a_refused_environment_name_ends_the_synth_in_one_line(config_context):
    config_context["environments"]["Prod_2"] = config_context["environments"]["prod"]
    result = run_app({"workbench": config_context}, "dev")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: config workbench.environments.Prod_2: got 'Prod_2'")


def test_null_in_an_environment_replaces_the_default_as_the_cli_passes_it(monkeypatch):
    import aws_cdk as cdk

    from app import project_context
    from workbench_config import load_environments

    workbench = raw_workbench()
    workbench["defaults"]["account"] = "123456789012"
    workbench["environments"]["dev"]["account"] = None
    # What the CDK CLI hands the app; the node's own context has lost the null on the way.
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"workbench": workbench}))
    app = cdk.App(context={"workbench": workbench})
    assert "account" not in app.node.try_get_context("workbench")["environments"]["dev"]
    configs = load_environments(project_context(app))
    assert configs["dev"].account is None
    assert configs["prod"].account == "123456789012"


def test_a_huge_bad_value_is_cut_in_the_error(config_context):
    config_context["environments"]["dev"]["workspace"]["instance_type"] = "x" * 100_000
    with pytest.raises(ConfigError) as error:
        load_config(config_context, "dev")
    assert len(str(error.value)) < 600 and "(100002 characters)" in str(error.value)
