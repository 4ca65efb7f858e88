"""workbench_domain.hosting's values are CloudFormation's (cfn-lint's schema) and the API's."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import cfnlint

from workbench_domain import hosting

SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas" / "resources"


def endpoint_config_schema() -> dict:
    for path in SCHEMAS.glob("*.json"):
        text = path.read_text()
        if '"typeName": "AWS::SageMaker::EndpointConfig"' in text:
            return json.loads(text)
    raise AssertionError("no schema of AWS::SageMaker::EndpointConfig in cfn-lint")


def test_routing_and_metrics_values_are_the_schemas():
    definitions = endpoint_config_schema()["definitions"]
    strategies = definitions["RoutingConfig"]["properties"]["RoutingStrategy"]["enum"]
    assert sorted(hosting.ROUTING.values()) == sorted(strategies)
    prefix = definitions["PrefixAwareRoutingConfig"]["properties"]
    length, threshold = prefix["PrefixLength"], prefix["ConcurrencyThreshold"]
    assert (length["minimum"], length["maximum"]) == hosting.PREFIX_LENGTH_RANGE
    assert (threshold["minimum"], threshold["maximum"]) == hosting.CONCURRENCY_THRESHOLD_RANGE
    frequency = definitions["MetricsConfig"]["properties"]["MetricPublishFrequencyInSeconds"]
    assert tuple(frequency["enum"]) == hosting.PUBLISH_SECONDS


def test_kv_aware_is_the_apis_only():
    enum = botocore.session.get_session().get_service_model("sagemaker")
    api = set(enum.shape_for("RoutingStrategy").enum)
    assert set(hosting.API_ONLY_ROUTING.values()) == api - set(hosting.ROUTING.values())


def test_a_variants_instance_types_are_its_pools_by_priority_or_its_type():
    pools = {
        "InstancePools": [
            {"InstanceType": "ml.p5.48xlarge", "Priority": 3},
            {"InstanceType": "ml.p4d.24xlarge", "Priority": 1},
            {"InstanceType": "ml.p4de.24xlarge", "Priority": 2},
        ]
    }
    assert hosting.variant_instance_types(pools) == [
        "ml.p4d.24xlarge",
        "ml.p4de.24xlarge",
        "ml.p5.48xlarge",
    ]
    assert hosting.variant_instance_types({"InstanceType": "ml.g5.12xlarge"}) == ["ml.g5.12xlarge"]
    assert hosting.variant_instance_types({"ServerlessConfig": {}}) == []


def test_pool_limits_are_the_schemas():
    variant = endpoint_config_schema()["definitions"]["ProductionVariant"]["properties"]
    assert variant["InstancePools"]["maxItems"] == hosting.MAX_INSTANCE_POOLS
    timeout = variant["VariantInstanceProvisionTimeoutInSeconds"]
    assert (timeout["minimum"], timeout["maximum"]) == hosting.PROVISION_TIMEOUT_RANGE


def test_the_capacity_reservation_values_are_the_schemas():
    import re

    reservation = endpoint_config_schema()["definitions"]["CapacityReservationConfig"]
    properties = reservation["properties"]
    assert properties["CapacityReservationPreference"]["pattern"] == hosting.RESERVATION_PREFERENCE
    # Ours is the schema's prefix pattern with a name required after the slash.
    assert hosting.RESERVATION_ARN_PATTERN.startswith(properties["MlReservationArn"]["pattern"][1:])
    arn = "arn:aws:sagemaker:us-east-1:111122223333:ml-reservation/r-1"
    assert re.fullmatch(hosting.RESERVATION_ARN_PATTERN, arn)
    assert re.match(properties["MlReservationArn"]["pattern"], arn)
