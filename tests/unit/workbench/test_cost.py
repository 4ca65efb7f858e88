"""cost.py: idle, active, fixed and always-on cost derived from templates and the price table."""

from __future__ import annotations

import json

import pytest

import workbench.cost as cost
from tests.unit.workbench.helpers import write_assembly
from workbench import prices

P4D = 37.688


def endpoint_stack(min_capacity=0, max_capacity=2, instance_type="ml.p4d.24xlarge", target=True):
    resources = {
        "Config": {
            "Type": "AWS::SageMaker::EndpointConfig",
            "Properties": {
                "ProductionVariants": [
                    {"InstanceType": instance_type, "InitialInstanceCount": 1, "VariantName": "v"}
                ]
            },
        },
        "Endpoint": {
            "Type": "AWS::SageMaker::Endpoint",
            "Properties": {"EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}},
        },
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 60}},
        "MathAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Metrics": [{"MetricStat": {}}, {"MetricStat": {}}, {"Expression": "a"}]
            },
        },
        "Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
    }
    if target:
        resources["Target"] = {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ServiceNamespace": "sagemaker",
                "MinCapacity": min_capacity,
                "MaxCapacity": max_capacity,
                "ResourceId": {
                    "Fn::Join": ["", ["endpoint/", {"Fn::GetAtt": ["Endpoint", "EndpointName"]}]]
                },
            },
        }
    return {"Resources": resources}


def other_stacks(lifecycle=True):
    notebook = {"InstanceType": "ml.t3.medium", "VolumeSizeInGB": 20}
    if lifecycle:
        notebook["LifecycleConfigName"] = "x"
    return {
        "Storage": {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {}}}},
        "Workspace": {
            "Resources": {
                "Notebook": {"Type": "AWS::SageMaker::NotebookInstance", "Properties": notebook}
            }
        },
    }


def run(tmp_path, templates, *args, capsys):
    assembly = write_assembly(tmp_path / "cdk.out", templates)
    code = cost.main(["--assembly", str(assembly), *args])
    out = capsys.readouterr()
    return code, out


def test_json_report_prices_idle_active_fixed_and_always_on(tmp_path, capsys):
    templates = {**other_stacks(), "EndpointP4d": endpoint_stack(0, 2)}
    code, out = run(tmp_path, templates, "--json", capsys=capsys)
    assert code == 0
    data = json.loads(out.out)
    # Idle: endpoint at 0 instances, notebook stopped by its auto-stop.
    assert data["idle_usd_per_hour"] == 0
    assert data["always_on_usd_per_hour"] == pytest.approx(2 * P4D + 0.05)
    assert data["active_usd_per_hour"] == pytest.approx(2 * P4D + 0.05)
    # Key $1 + alarms 0.10 + 2 x 0.10 + notebook volume 20 GB x 0.14; one dashboard is free.
    assert data["fixed_usd_per_month"] == pytest.approx(1 + 0.1 + 0.2 + 20 * 0.14)
    assert data["prices_date"] and data["region"] == "us-east-1"
    endpoint = next(r for r in data["resources"] if r["kind"] == "SageMaker::EndpointConfig")
    assert endpoint["detail"].startswith("ml.p4d.24xlarge x0..2")
    assert {p["type"] for p in data["per_use"]} == {"AWS::SNS::Topic", "AWS::SageMaker::Endpoint"}


def test_endpoint_without_scaling_target_is_billed_always(tmp_path, capsys):
    templates = {"EndpointP4d": endpoint_stack(target=False)}
    _, out = run(tmp_path, templates, "--json", capsys=capsys)
    data = json.loads(out.out)
    assert data["idle_usd_per_hour"] == pytest.approx(P4D)
    assert "NO scaling target" in data["resources"][0]["note"]


def test_notebook_without_lifecycle_config_counts_as_running_when_idle(tmp_path, capsys):
    _, out = run(tmp_path, other_stacks(lifecycle=False), "--json", capsys=capsys)
    assert json.loads(out.out)["idle_usd_per_hour"] == pytest.approx(0.05)


def test_dashboards_beyond_the_free_three_cost_three_dollars(tmp_path, capsys):
    templates = {f"E{i}": endpoint_stack() for i in range(4)}
    _, out = run(tmp_path, templates, "--json", capsys=capsys)
    dashboards = [
        r for r in json.loads(out.out)["resources"] if r["kind"] == "CloudWatch::Dashboard"
    ]
    assert sorted(r["fixed_usd_per_month"] for r in dashboards) == [0, 0, 0, 3.0]


def test_unknown_instance_price_is_flagged_not_hidden(tmp_path, capsys):
    templates = {"E": endpoint_stack(instance_type="ml.zz.large")}
    code, out = run(tmp_path, templates, capsys=capsys)
    assert code == 0
    assert "WARNING: no price for hosting ml.zz.large" in out.out


def test_text_and_markdown_tables(tmp_path, capsys):
    templates = {**other_stacks(), "EndpointP4d": endpoint_stack(0, 2)}
    _, out = run(tmp_path, templates, capsys=capsys)
    assert "idle $/h" in out.out and "TOTAL" in out.out and "third-party" in out.out
    _, out = run(tmp_path / "md", templates, "--markdown", capsys=capsys)
    assert out.out.startswith("| stack | resource |") and "| **TOTAL** |" in out.out


def test_missing_assembly_says_run_make_synth(tmp_path, capsys):
    assert cost.main(["--assembly", str(tmp_path / "nothing")]) == 2
    assert "run `make synth` first" in capsys.readouterr().err


def test_bad_flag_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cost.main(["--jsn"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --jsn" in capsys.readouterr().err


def test_json_and_markdown_exclude_each_other(capsys):
    with pytest.raises(SystemExit):
        cost.main(["--json", "--markdown"])
    assert "not allowed with" in capsys.readouterr().err


def test_price_table_is_dated_and_every_price_has_a_source():
    table = prices.load_prices(prices.DEFAULT_PRICES)
    assert table["date"]
    for group in ("sagemaker_hosting_usd_per_hour", "sagemaker_notebook_usd_per_hour"):
        for entry in table[group].values():
            assert entry["source"].startswith("third-party")
    for key, value in table.items():
        if isinstance(value, dict) and "price" in value:
            assert value["source"], key


def test_default_dev_app_is_free_when_idle_and_cheap_fixed(dev):
    """The synthesized dev app: 0 USD/hour idle, at most 10 USD/month fixed."""
    stacks = cost.read_assembly(cost.Path(dev.assembly.directory))
    table = prices.load_prices(prices.DEFAULT_PRICES)
    data = cost.report(stacks, table, prices.Prices(table, {}))
    assert data["unpriced"] == []
    assert data["idle_usd_per_hour"] == 0
    assert 0 < data["fixed_usd_per_month"] <= 10
    kinds = {r["kind"] for r in data["resources"]}
    assert "KMS::Key" in kinds  # the storage key is counted
    # Every endpoint in the app scales to zero; always-on is what it would cost without that.
    for row in data["resources"]:
        if row["kind"] == "SageMaker::EndpointConfig":
            assert row["idle_usd_per_hour"] == 0 < row["always_on_usd_per_hour"]


def test_endpoint_prices_in_cdk_json_override_the_table(tmp_path, capsys, monkeypatch):
    context = cost.read_context()
    overrides = prices.endpoint_price_overrides(context)
    assert overrides["ml.p4d.24xlarge"] == 37.688 and overrides["ml.inf2.48xlarge"] == 15.58
    for env in context["workbench"]["environments"].values():
        env["endpoints"]["p4d"]["price_usd_per_hour"] = 40.0
    monkeypatch.setattr(cost, "read_context", lambda: context)
    _, out = run(tmp_path, {"EndpointP4d": endpoint_stack(target=False)}, "--json", capsys=capsys)
    line = next(
        r for r in json.loads(out.out)["resources"] if r["kind"] == "SageMaker::EndpointConfig"
    )
    assert line["idle_usd_per_hour"] == 40.0 and "cdk.json price_usd_per_hour" in line["note"]


def test_invalid_cdk_json_prices_from_the_table_with_a_note(tmp_path, capsys, monkeypatch):
    context = cost.read_context()
    context["workbench"]["environments"]["prod"]["endpoints"]["p4d"]["price_usd_per_hour"] = -1
    monkeypatch.setattr(cost, "read_context", lambda: context)
    code, out = run(
        tmp_path, {"EndpointP4d": endpoint_stack(target=False)}, "--json", capsys=capsys
    )
    assert code == 0 and json.loads(out.out)["idle_usd_per_hour"] == pytest.approx(P4D)
    assert "note: config workbench.environments.prod.endpoints.p4d.price_usd_per_hour" in out.err


def realtime_stack():
    """An inference-component endpoint: managed instance scaling 0..1, copies scaled 0..1."""
    return {
        "Resources": {
            "Config": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "ProductionVariants": [
                        {
                            "InstanceType": "ml.g5.12xlarge",
                            "InitialInstanceCount": 1,
                            "VariantName": "AllTraffic",
                            "ManagedInstanceScaling": {
                                "Status": "ENABLED",
                                "MinInstanceCount": 0,
                                "MaxInstanceCount": 1,
                            },
                        }
                    ]
                },
            },
            "Target": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ServiceNamespace": "sagemaker",
                    "MinCapacity": 0,
                    "MaxCapacity": 1,
                    "ResourceId": "inference-component/chat-ic",
                },
            },
        }
    }


def test_a_realtime_endpoint_idles_at_zero_instances_and_says_a_deploy_starts_one_copy(
    tmp_path, capsys
):
    templates = {**other_stacks(), "EndpointChat": realtime_stack()}
    code, out = run(tmp_path, templates, "--json", capsys=capsys)
    assert code == 0
    data = json.loads(out.out)
    (line,) = [x for x in data["resources"] if x["kind"] == "SageMaker::EndpointConfig"]
    assert line["idle_usd_per_hour"] == 0
    assert line["active_usd_per_hour"] == line["always_on_usd_per_hour"] > 0
    assert "realtime, instances 0..1 follow the inference component's copies" in line["note"]
    assert "one copy runs until the idle window passes" in line["note"]
