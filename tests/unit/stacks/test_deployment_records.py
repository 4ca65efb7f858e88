"""The deployment records the synthesized templates publish parse with every reader.

For each environment, the SSM parameters under `/<project>/<env>/deployment/` are read out of the
synthesized templates (tokens replaced by plausible deploy-time strings), written to moto SSM, and
read back by the notebook client (``Deployment.from_parameters``, what the on-start script runs)
and by ``scripts/smoke.py``: a field renamed on the writer side fails here.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from moto import mock_aws

import scripts.smoke as smoke
from tests.conftest import SynthesizedApp
from tests.unit.notebooks.conftest import workbench as wb
from workbench_domain import deployment_records as records

REGION = "us-east-1"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": "111122223333",
    "AWS::URLSuffix": "amazonaws.com",
}


def _name(*parts: str) -> str:
    """A lower-case, S3- and ARN-safe stand-in for a value known only at deploy time."""
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]
    stem = re.sub(r"[^a-z0-9]+", "-", parts[0].lower()).strip("-")[:40]
    return f"{stem}-{digest}"


def resolve(node: Any, template: dict, others: dict[str, dict]) -> Any:
    """A stand-in for `node`; `others` maps stack names to templates (cross-stack reads)."""
    if isinstance(node, (str, int, float, bool)):
        return node
    if isinstance(node, list):
        return [resolve(item, template, others) for item in node]
    (function, argument), *rest = node.items()
    assert not rest, node
    if function == "Fn::Join":
        delimiter, parts = argument
        return delimiter.join(str(resolve(part, template, others)) for part in parts)
    if function == "Ref":
        return PSEUDO.get(argument) or _name(argument)
    if function == "Fn::GetAtt":
        return _name(*argument)
    if function == "Fn::ImportValue":
        return _name(json.dumps(argument, sort_keys=True))
    if function == "Fn::GetStackOutput":
        producer = others[argument["StackName"]]
        return resolve(producer["Outputs"][argument["OutputName"]]["Value"], producer, others)
    if function == "Fn::FindInMap":
        name, key, attribute = (resolve(part, template, others) for part in argument)
        return template["Mappings"][name][key][attribute]
    raise AssertionError(f"no stand-in for {function}")


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
            name = resolve(resource["Properties"]["Name"], template, templates)
            if "/deployment/" in name:
                found[name] = resolve(resource["Properties"]["Value"], template, templates)
    return found


@pytest.fixture(scope="module")
def ssm():
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "testing")
        yield boto3.client("ssm", region_name=REGION)


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_the_published_records_parse_with_the_client_and_the_scripts(request, ssm, env_name):
    synthesized: SynthesizedApp = request.getfixturevalue(env_name)
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
        info = deployment.endpoint(key)
        assert (info.instance_type, info.max_capacity) == (
            endpoint.instance_type,
            endpoint.max_capacity,
        )
        assert wb.split_s3_uri(info.input_prefix)[0] == deployment.inference_bucket

    endpoints, storage = smoke.read_records(ssm, prefix)
    assert sorted(endpoints) == enabled
    assert storage == deployment.storage
