"""The month's cost of your traffic on each recommendation: the usage simulator replays the
usage profile's traffic of the endpoint through that endpoint's own scaling settings (its
synthesized template), with the recommended instance type in place of the configured one.

An estimate, said so: the requests are served at the profile's speed (`tokens_per_second` or
`service_seconds`; the recommendation's expected performance is an aggregate the simulator
does not take), and a recommendation of N instances is priced as N times the instance price
per simulated instance.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

from workbench.assembly import OperatorError, StackTemplate, read_assembly
from workbench.common import read_context
from workbench.prices import DEFAULT_PRICES, Prices, endpoint_price_overrides, load_prices
from workbench.usage_report import usage_report
from workbench_domain import recommendation as rec


def _with_instance(stack: StackTemplate, instance_type: str) -> StackTemplate:
    template = copy.deepcopy(stack.template)
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::SageMaker::EndpointConfig":
            for variant in resource["Properties"]["ProductionVariants"]:
                # The recommendation is one instance type: the endpoint's fallback pools (which
                # the simulator would read first) do not apply to it.
                variant.pop("InstancePools", None)
                variant["InstanceType"] = instance_type
    return dataclasses.replace(stack, template=template)


def month_costs(
    recommendations: list[rec.Recommendation],
    *,
    profile: dict[str, Any],
    endpoint: str,
    assembly: Path,
    base: Path,
) -> list[tuple[float, str]]:
    """(USD for 30 days, where it came from) per recommendation, in order."""
    stacks = read_assembly(assembly)
    own = [s for s in stacks if s.name.endswith(f"/Endpoint-{endpoint}")]
    if not own:
        raise OperatorError(
            f"--endpoint {endpoint}: no synthesized endpoint stack in {assembly} to take its "
            "scaling settings from (enable it in cdk.json and run make synth)"
        )
    prices = Prices(load_prices(DEFAULT_PRICES), endpoint_price_overrides(read_context()))
    costs = []
    for recommendation in recommendations:
        count = max(1, recommendation.instance_count)
        report = usage_report(
            [_with_instance(own[0], recommendation.instance_type)],
            {**profile, "endpoints": {endpoint: profile["endpoints"][endpoint]}},
            prices,
            base=base,
        )
        (result,) = report["endpoints"]
        month = result["scenarios"]["deployed"]["cost_usd"] * 30 / report["days"]
        priced = (
            f"${result['price_usd_per_hour']:g}/h"
            if result["price_usd_per_hour"]
            else "NO PRICE in the price table (counted as 0)"
        )
        costs.append(
            (
                month * count,
                f"estimated: usage simulator, {report['days']} days of {endpoint}'s traffic at "
                f"the profile's speed on {endpoint}'s scaling settings, "
                f"{recommendation.instance_type} at {priced} x {count}",
            )
        )
    return costs
