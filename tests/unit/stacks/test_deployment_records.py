"""The deployment records the synthesized templates publish parse with every reader.

For each environment, the SSM parameters under `/<project>/<env>/deployment/` are read out of the
synthesized templates (tokens replaced by the stand-ins of `placeholder`), written to moto SSM, and
read back by the notebook client (``Deployment.from_parameters``, what the on-start script runs)
and by ``python -m workbench smoke``: a field renamed on the writer side fails here.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import boto3
import pytest
from moto import mock_aws

import workbench.smoke as smoke
from tests.conftest import SynthesizedApp
from tests.unit.notebooks.conftest import workbench as wb
from tests.unit.stacks.optimization_templates import REGION, placeholder
from workbench_domain import deployment_records as records
from workbench_domain.errors import ValidationError


def published(synthesized: SynthesizedApp) -> dict[str, str]:
    """SSM parameter name -> value, for every deployment record of the stage."""
    templates = {
        stack.stack_name: synthesized.template(stack).to_json()
        for stack in synthesized.stage.node.children
        if isinstance(stack, cdk.Stack)
    }
    found = {}
    for template in templates.values():
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::SSM::Parameter":
                continue
            name = placeholder(resource["Properties"]["Name"], template, templates)
            if "/deployment/" in name:
                found[name] = placeholder(resource["Properties"]["Value"], template, templates)
    return found


@pytest.fixture
def ssm():
    # One empty SSM per test: the realtime variant publishes under dev's prefix.
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "testing")
        yield boto3.client("ssm", region_name=REGION)


@pytest.mark.parametrize("variant", ["dev", "prod", "realtime"])
def test_the_published_records_parse_with_the_client_and_the_scripts(request, ssm, variant):
    synthesized: SynthesizedApp = request.getfixturevalue(variant)
    config = synthesized.stage.config
    prefix = config.parameter_prefix
    parameters = published(synthesized)
    enabled = sorted(synthesized.stage.endpoints)
    expected_parts = {"storage", "optimization"} | {f"endpoints/{k}" for k in enabled}
    assert {name.split("/deployment/", 1)[1] for name in parameters} == expected_parts

    for name, value in parameters.items():
        records.parse_record(name.split("/deployment/", 1)[1], json.loads(value))
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)

    deployment = wb.Deployment.from_parameters(f"{prefix}/deployment/", ssm_client=ssm)
    assert sorted(deployment.endpoints) == enabled
    assert deployment.job_defaults().output_prefix == config.optimization.output_prefix
    for key in enabled:
        endpoint = config.endpoints[key]
        if endpoint.kind == "realtime":
            realtime = deployment.realtime_endpoint(key)
            assert realtime.inference_component_name
            assert (realtime.instance_type, realtime.max_capacity) == (
                endpoint.instance_type,
                endpoint.max_capacity,
            )
            # What the client needs to know of the image: its request schema and the route.
            assert realtime.request_schema == endpoint.request_schema
            assert realtime.openai_route is endpoint.realtime.openai_route
            continue
        info = deployment.endpoint(key)
        assert (info.instance_type, info.max_capacity) == (
            endpoint.instance_type,
            endpoint.max_capacity,
        )
        assert wb.split_s3_uri(info.input_prefix)[0] == deployment.inference_bucket
        assert info.request_schema == endpoint.request_schema

    endpoints, storage = smoke.read_records(ssm, prefix)
    assert sorted(endpoints) == enabled
    assert storage == deployment.storage


def test_a_record_an_older_app_published_still_parses_with_the_defaults():
    """Records published before request_schema and openai_route existed: an LMI endpoint
    without the route, not an error."""
    document = {
        "kind": "realtime",
        "endpoint_name": "e",
        "inference_component_name": "c",
        "variant_name": "AllTraffic",
        "instance_type": "ml.g5.12xlarge",
        "error_topic_arn": "arn:aws:sns:us-east-1:111122223333:t",
        "max_capacity": 1,
        "price_usd_per_hour": 7.09,
    }
    record = records.parse_endpoint(document)
    assert (record.request_schema, record.openai_route) == ("lmi", False)
    with pytest.raises(ValidationError, match="request_schema: is not a request schema"):
        records.parse_endpoint({**document, "request_schema": "tgi"})
    with pytest.raises(ValidationError, match="lacks key"):
        records.parse_endpoint({k: v for k, v in document.items() if k != "endpoint_name"})
