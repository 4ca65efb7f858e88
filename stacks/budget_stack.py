"""Budget: the monthly budget of one deployment (environment) and the topic it notifies."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from features.cost.project_budget import ProjectBudget
from workbench_config.budget import BudgetConfig


class BudgetStack(cdk.Stack):
    """Composes a `ProjectBudget` from config; subscribe to the `BudgetTopicArn` output."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        budget: BudgetConfig,
        stage_id: str,
        key: kms.IKey,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.budget = ProjectBudget(
            self,
            "Budget",
            stage_id=stage_id,
            monthly_usd=budget.monthly_usd,
            actual_percent=budget.actual_percent,
            forecast_percent=budget.forecast_percent,
            emails=budget.emails,
            key=key,
        )
        cdk.CfnOutput(self, "BudgetTopicArn", value=self.budget.topic.topic_arn)
