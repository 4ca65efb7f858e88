"""Every resource that names another of its template is created after it (all environments).

The pipeline variant is checked in test_pipeline_stack.py, on its own synthesized assembly.
"""

from __future__ import annotations

import pytest

from tests.conftest import SynthesizedApp
from tests.unit.stacks.creation_order import assembly_problems, unordered_references


@pytest.mark.parametrize("env_name", ["dev", "prod", "realtime"])
def test_no_resource_names_another_without_waiting_for_it(request, env_name):
    synthesized: SynthesizedApp = request.getfixturevalue(env_name)
    assert assembly_problems(synthesized.assembly.directory) == []


def test_the_check_finds_a_model_named_by_a_plain_string():
    # The p4d template before the fix: the endpoint config named the API-created model by its
    # literal name and depended only on the role policy.
    template = {
        "Resources": {
            "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {}}},
            "Model": {
                "Type": "Custom::SageMakerModel",
                "Properties": {"ModelName": "p4d-e7c837f80543f64c"},
                "DependsOn": ["Policy"],
            },
            "Config": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {"ProductionVariants": [{"ModelName": "p4d-e7c837f80543f64c"}]},
                "DependsOn": ["Policy"],
            },
        }
    }
    (problem,) = unordered_references(template)
    assert "Config (AWS::SageMaker::EndpointConfig) names 'p4d-e7c837f80543f64c'" in problem
    assert "Model (Custom::SageMakerModel)" in problem
    # Any of GetAtt, Ref or DependsOn (also through another resource) orders them.
    config = template["Resources"]["Config"]
    config["Properties"]["Other"] = {"Fn::GetAtt": ["Model", "ModelName"]}
    assert unordered_references(template) == []
    del config["Properties"]["Other"]
    config["DependsOn"] = ["Model"]
    assert unordered_references(template) == []


def test_policies_may_name_what_does_not_exist_yet():
    template = {
        "Resources": {
            "Model": {"Type": "Custom::SageMakerModel", "Properties": {"ModelName": "p4d-1234"}},
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {"PolicyDocument": {"Statement": [{"Resource": "x:model/p4d-1234"}]}},
            },
        }
    }
    assert unordered_references(template) == []


def test_the_check_finds_an_inference_component_named_by_a_plain_string():
    # CloudFormation returns no name of an inference component: its scaling target names it by
    # string and must wait for it with DependsOn; the component's variant is not its name.
    component = {
        "Type": "AWS::SageMaker::InferenceComponent",
        "Properties": {"InferenceComponentName": "chat-ic-1234", "VariantName": "AllTraffic"},
    }
    target = {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {"ResourceId": "inference-component/chat-ic-1234"},
    }
    config = {
        "Type": "AWS::SageMaker::EndpointConfig",
        "Properties": {"ProductionVariants": [{"VariantName": "AllTraffic"}]},
    }
    template = {"Resources": {"Component": component, "Target": target, "Config": config}}
    (problem,) = unordered_references(template)
    assert "Target (AWS::ApplicationAutoScaling::ScalableTarget) names 'chat-ic-1234'" in problem
    target["DependsOn"] = ["Component"]
    assert unordered_references(template) == []
