"""A monthly AWS Budgets budget on one deployment's cost, notifying an encrypted topic."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from features.shared.secure_topic import SecureTopic
from workbench_domain import cost_allocation

BUDGETS = iam.ServicePrincipal("budgets.amazonaws.com")


class ProjectBudget(Construct):
    """Owns the budget and its topic.

    The budget counts the cost of every resource tagged with the deployment's cost allocation
    tag (`workbench_domain.cost_allocation`; the tag must be activated in Billing before AWS
    Budgets sees it: `make preflight` checks that). It notifies at each of `actual_percent` of
    the monthly limit, and when AWS forecasts the month to end above `forecast_percent`. Every
    notification goes to the topic (SSE-KMS with the project key, TLS only, publishable by AWS
    Budgets for this account only) and to the e-mail addresses.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        stage_id: str,
        monthly_usd: float,
        actual_percent: Sequence[float],
        forecast_percent: Sequence[float],
        emails: Sequence[str],
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.topic = SecureTopic(
            self, "Topic", display_name=f"Budget of {stage_id}", encryption_key=key
        ).topic
        # AWS Budgets publishes to a topic whose policy lets it, from this account's budgets
        # (AWS Cost Management docs, "Creating an Amazon SNS topic for budget notifications").
        budgets_of_account = f"arn:{stack.partition}:budgets::{stack.account}:*"
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBudgetsToPublish",
                principals=[BUDGETS],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": budgets_of_account},
                },
            )
        )
        # An encrypted topic: the publisher needs the key too.
        key.grant(BUDGETS, "kms:Decrypt", "kms:GenerateDataKey*")

        subscribers = [
            budgets.CfnBudget.SubscriberProperty(
                subscription_type="SNS", address=self.topic.topic_arn
            ),
            *(
                budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=email)
                for email in emails
            ),
        ]
        notifications = [
            budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=subscribers,
            )
            for kind, percents in (("ACTUAL", actual_percent), ("FORECASTED", forecast_percent))
            for percent in percents
        ]
        # No BudgetName: CloudFormation generates one, unique in the account.
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_usd, unit="USD"),
                cost_filters=cost_allocation.budget_cost_filters(stage_id),
            ),
            notifications_with_subscribers=notifications,
        )
        # The Ref to the topic orders the budget after it; the topic policy is created with the
        # topic, long before any cost reaches a threshold.
