"""The Budget stack: a monthly budget on the deployment's cost allocation tag, notifying an
encrypted topic that AWS Budgets of this account may publish to; and the tag on every stack."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from features.cost.project_budget import ProjectBudget
from tests.conftest import SynthesizedApp
from workbench_config import ConfigError, load_config
from workbench_domain import cost_allocation


def one(template: Template, kind: str) -> dict:
    (found,) = template.find_resources(kind).values()
    return found["Properties"]


@pytest.mark.parametrize(("variant", "limit"), [("dev", 1000), ("prod", 5000)])
def test_the_budget_counts_this_deployment_s_tag_with_the_configured_limit(request, variant, limit):
    synthesized: SynthesizedApp = request.getfixturevalue(variant)
    budget = one(synthesized.template(synthesized.stage.budget), "AWS::Budgets::Budget")
    data = budget["Budget"]
    assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
    assert data["BudgetLimit"] == {"Amount": limit, "Unit": "USD"}
    stage = f"genai-opt-{variant}"
    assert data["CostFilters"] == {"TagKeyValue": [f"user:workbench-deployment${stage}"]}
    assert "BudgetName" not in data  # generated


def test_notifications_at_each_actual_and_forecast_threshold_go_to_the_topic(dev):
    template = dev.template(dev.stage.budget)
    budget = one(template, "AWS::Budgets::Budget")
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    notifications = [
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in budget["NotificationsWithSubscribers"]
    ]
    assert notifications == [("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]
    for n in budget["NotificationsWithSubscribers"]:
        assert n["Notification"]["ComparisonOperator"] == "GREATER_THAN"
        assert n["Notification"]["ThresholdType"] == "PERCENTAGE"
        assert n["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}]


def test_the_topic_is_encrypted_tls_only_and_open_to_this_account_s_budgets(dev):
    template = dev.template(dev.stage.budget)
    topic = one(template, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic
    statements = one(template, "AWS::SNS::TopicPolicy")["PolicyDocument"]["Statement"]
    by_sid = {s.get("Sid"): s for s in statements}
    budgets = by_sid["AllowBudgetsToPublish"]
    assert budgets["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert budgets["Action"] == "sns:Publish"
    assert budgets["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert ":budgets::" in json.dumps(budgets["Condition"]["ArnLike"]["aws:SourceArn"])
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_every_stack_carries_the_cost_allocation_tag(dev):
    budget = dev.template(dev.stage.budget).to_json()["Resources"]
    tags = next(r for r in budget.values() if r["Type"] == "AWS::SNS::Topic")["Properties"]["Tags"]
    assert {"Key": cost_allocation.TAG_KEY, "Value": "genai-opt-dev"} in tags
    endpoint = dev.template(dev.stage.endpoints["p4d"]).to_json()["Resources"]
    config = next(r for r in endpoint.values() if r["Type"] == "AWS::SageMaker::EndpointConfig")
    assert {"Key": cost_allocation.TAG_KEY, "Value": "genai-opt-dev"} in config["Properties"][
        "Tags"
    ]


def test_e_mail_subscribers_join_every_notification():
    stack = cdk.Stack(cdk.App(), "Budget")
    ProjectBudget(
        stack,
        "Budget",
        stage_id="p-dev",
        monthly_usd=10,
        actual_percent=(100,),
        forecast_percent=(),
        emails=("ops@example.com", "lead@example.com"),
        key=kms.Key(stack, "Key"),
    )
    budget = one(Template.from_stack(stack), "AWS::Budgets::Budget")
    (notification,) = budget["NotificationsWithSubscribers"]
    assert notification["Subscribers"][1:] == [
        {"SubscriptionType": "EMAIL", "Address": "ops@example.com"},
        {"SubscriptionType": "EMAIL", "Address": "lead@example.com"},
    ]


BAD_BUDGETS = [
    ({"monthly_usd": 0}, "monthly_usd", "a number >= 1"),
    ({"monthly_usd": 1e16}, "monthly_usd", "a number <= 1e+15"),
    ({"monthly_usd": float("nan")}, "monthly_usd", "a finite number"),
    ({"monthly_usd": float("inf")}, "monthly_usd", "a finite number"),
    ({"actual_percent": [50, 50]}, "actual_percent", "distinct"),
    ({"actual_percent": [0]}, "actual_percent[0]", "1..1000"),
    (
        {"actual_percent": [10, 20, 30, 40], "forecast_percent": [90, 100]},
        "forecast_percent",
        "at most 5 notifications",
    ),
    ({"emails": ["not-an-address"]}, "emails[0]", "an e-mail address"),
    ({"emails": [f"u{i}@example.com" for i in range(11)]}, "emails", "at most 10"),
]


@pytest.mark.parametrize(("change", "key", "words"), BAD_BUDGETS)
def test_bad_budget_config_is_refused_with_the_key(config_context, change, key, words):
    config_context["environments"]["dev"]["budget"].update(change)
    with pytest.raises(ConfigError) as error:
        load_config(config_context, "dev")
    assert error.value.path == f"workbench.environments.dev.budget.{key}"
    assert words in str(error.value)
