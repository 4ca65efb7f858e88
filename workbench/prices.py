"""The dated price table (prices_us_east_1.json beside this file) and the per-endpoint prices
cdk.json may set: what `make cost` and its usage report multiply by."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.assembly import OperatorError
from workbench.common import load_settings
from workbench_config import CONTEXT_KEY

HOURS_PER_MONTH = 730
DEFAULT_PRICES = Path(__file__).resolve().parent / "prices_us_east_1.json"


@dataclass
class Line:
    stack: str
    resource: str  # logical id
    kind: str  # short resource type
    detail: str
    active_usd_per_hour: float = 0.0
    idle_usd_per_hour: float = 0.0
    always_on_usd_per_hour: float = 0.0
    fixed_usd_per_month: float = 0.0
    note: str = ""


class Prices:
    def __init__(self, table: dict[str, Any], endpoint_overrides: dict[str, float]) -> None:
        self.table = table
        self.endpoint_overrides = endpoint_overrides
        self.missing: list[str] = []

    def hosting(self, instance_type: str) -> tuple[float, str]:
        if instance_type in self.endpoint_overrides:
            return self.endpoint_overrides[instance_type], "cdk.json price_usd_per_hour"
        entry = self.table["sagemaker_hosting_usd_per_hour"].get(instance_type)
        if entry is None:
            self.missing.append(f"hosting {instance_type}")
            return 0.0, "NO PRICE in table: counted as 0"
        return entry["price"], "price table"

    def notebook(self, instance_type: str) -> tuple[float, str]:
        entry = self.table["sagemaker_notebook_usd_per_hour"].get(instance_type)
        if entry is None:
            self.missing.append(f"notebook {instance_type}")
            return 0.0, "NO PRICE in table: counted as 0"
        return entry["price"], "price table"

    def unit(self, name: str) -> float:
        price: float = self.table[name]["price"]
        return price


def load_prices(path: Path) -> dict[str, Any]:
    try:
        table: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise OperatorError(f"price table {path} not found") from error
    except json.JSONDecodeError as error:
        raise OperatorError(f"price table {path} is not valid JSON: {error}") from error
    for key in ("date", "sagemaker_hosting_usd_per_hour", "kms_key_usd_per_month"):
        if key not in table:
            raise OperatorError(f"price table {path} has no {key!r}")
    return table


def endpoint_price_overrides(context: dict[str, Any]) -> dict[str, float]:
    """`price_usd_per_hour` set on endpoints in cdk.json (any env) wins over the table."""
    overrides: dict[str, float] = {}
    for env_name in (context.get(CONTEXT_KEY) or {}).get("environments") or {}:
        for endpoint in load_settings(env_name, context).endpoints.values():
            overrides[endpoint.instance_type] = endpoint.price_usd_per_hour
    return overrides
