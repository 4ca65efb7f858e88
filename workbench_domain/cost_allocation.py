"""The cost allocation tag: how the budget, `make spend` and the preflight find this deployment's
cost. Every resource of a stage carries it (value: the stage id, `<project>-<env>`); once it is
activated as a cost allocation tag (Billing console, or Cost Explorer's
UpdateCostAllocationTagsStatus), AWS Budgets and Cost Explorer can filter on it.
"""

from __future__ import annotations

from typing import Any

TAG_KEY = "workbench-deployment"


def stage_id(project: str, env_name: str) -> str:
    """The stage's id, `<project>-<env>`: the cost tag's value, and the stem of the names of
    what the stage runs (stacks, optimization runs, AI jobs)."""
    return f"{project}-{env_name}"


def budget_cost_filters(stage_id: str) -> dict[str, list[str]]:
    """`CostFilters` of an AWS::Budgets::Budget for the stage: a user-defined cost allocation tag
    is written ``user:<key>$<value>`` (AWS Budgets, TagKeyValue filter)."""
    return {"TagKeyValue": [f"user:{TAG_KEY}${stage_id}"]}


def cost_explorer_filter(stage_id: str) -> dict[str, Any]:
    """The `Filter` of Cost Explorer's GetCostAndUsage for the stage's resources."""
    return {"Tags": {"Key": TAG_KEY, "Values": [stage_id], "MatchOptions": ["EQUALS"]}}
