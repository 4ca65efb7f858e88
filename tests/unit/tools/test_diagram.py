"""diagram.py: stacks, their main resources and cross-stack references, as DOT and PNG."""

from __future__ import annotations

import tools.diagram as diagram
from tests.unit.workbench.helpers import write_assembly


def path(p):
    return {"aws:cdk:path": f"genai-opt-dev/{p}"}


TEMPLATES = {
    "Storage": {
        "Resources": {
            "DataKey": {"Type": "AWS::KMS::Key", "Metadata": path("Storage/DataKey/Resource")},
            "Artifacts": {
                "Type": "AWS::S3::Bucket",
                "Metadata": path("Storage/Artifacts/Bucket/Resource"),
            },
            "Provider": {
                "Type": "AWS::Lambda::Function",
                "Metadata": path("Storage/Custom::S3AutoDeleteObjectsProvider/Handler"),
            },
        },
        "Outputs": {"KeyArnOut": {"Value": {"Fn::GetAtt": ["DataKey", "Arn"]}}},
    },
    "Endpoint-p4d": {
        "Resources": {
            "Config": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Metadata": path("Endpoint-p4d/Endpoint/EndpointConfig"),
                "Properties": {
                    "KmsKeyId": {
                        "Fn::GetStackOutput": {"StackName": "s", "OutputName": "KeyArnOut"}
                    }
                },
            },
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Metadata": path("Endpoint-p4d/Endpoint/Endpoint"),
                "Properties": {"EndpointConfigName": {"Fn::GetAtt": ["Config", "Name"]}},
            },
        }
    },
}


def test_graph_has_stacks_main_resources_and_cross_stack_edges(tmp_path):
    stacks = diagram.read_assembly(write_assembly(tmp_path / "cdk.out", TEMPLATES))
    nodes, edges = diagram.build_graph(stacks)
    labels = {n.id: n.label for n in nodes}
    assert labels["Storage:Artifacts"] == "Artifacts bucket\n(S3 bucket)"
    assert "Storage:Provider" not in labels  # CDK's own custom-resource provider is left out
    assert ("Endpoint-p4d:Config", "Storage:DataKey", True) in edges
    assert ("Endpoint-p4d:Endpoint", "Endpoint-p4d:Config", False) in edges
    dot = diagram.to_dot(nodes, edges)
    assert 'subgraph cluster_0 { label="Endpoint-p4d stack"' in dot
    assert '"Endpoint-p4d:Config" -> "Storage:DataKey" [color="#cc0000"' in dot


def test_main_writes_dot_and_png(tmp_path, capsys):
    assembly = write_assembly(tmp_path / "cdk.out", TEMPLATES)
    out = tmp_path / "docs" / "architecture"
    assert diagram.main(["--assembly", str(assembly), "--out", str(out)]) == 0
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert out.with_suffix(".dot").read_text().startswith("digraph")
    assert "4 resources in 2 stack(s)" in capsys.readouterr().out


def test_missing_assembly_says_run_make_synth(tmp_path, capsys):
    assert diagram.main(["--assembly", str(tmp_path / "none")]) == 2
    assert "make synth" in capsys.readouterr().err
