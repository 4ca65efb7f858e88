"""Test helpers: fake boto3 session (Stubber-wrapped clients), fake clock, tiny assembly."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.credentials
import botocore.session
from botocore.stub import Stubber

REGION = "us-east-1"
_CORE = botocore.session.get_session()  # one session: service models are loaded once


class FakeSession:
    """Stands in for boto3.Session: `client(name)` returns pre-made, stubbed botocore clients."""

    def __init__(self, region: str | None = REGION) -> None:
        self.region_name = region
        self._core = _CORE
        self.clients: dict = {}
        self.stubbers: dict[str, Stubber] = {}

    def stub(self, name: str) -> Stubber:
        if name not in self.stubbers:
            client = self._core.create_client(
                name,
                region_name=self.region_name or REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            self.clients[name] = client
            self.stubbers[name] = Stubber(client)
            self.stubbers[name].activate()
        return self.stubbers[name]

    def client(self, name: str, **_options):
        self.stub(name)
        return self.clients[name]

    def get_credentials(self):
        return botocore.credentials.Credentials("testing", "testing")

    def assert_no_pending_responses(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def write_assembly(root: Path, templates: dict[str, dict], stage: str = "genai-opt-dev") -> Path:
    """A cdk.out with a nested stage assembly holding `templates` (stack id -> template)."""
    nested = root / f"assembly-{stage}"
    nested.mkdir(parents=True)
    artifacts = {}
    for stack_id, template in templates.items():
        file_name = f"{stage}{stack_id}.template.json"
        (nested / file_name).write_text(json.dumps(template))
        artifacts[f"{stage}{stack_id}"] = {
            "type": "aws:cloudformation:stack",
            "displayName": f"{stage}/{stack_id}",
            "properties": {"templateFile": file_name},
        }
    (nested / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    (root / "manifest.json").write_text(json.dumps({"artifacts": {}}))
    return root


BOOTSTRAP_RULE = {
    "Parameters": {
        "BootstrapVersion": {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": "/cdk-bootstrap/hnb659fds/version",
        }
    },
    "Rules": {
        "CheckBootstrapVersion": {
            "Assertions": [
                {
                    "Assert": {
                        "Fn::Not": [
                            {
                                "Fn::Contains": [
                                    ["1", "2", "3", "4", "5"],
                                    {"Ref": "BootstrapVersion"},
                                ]
                            }
                        ]
                    },
                    "AssertDescription": "CDK bootstrap stack version 6 required.",
                }
            ]
        }
    },
}


SAGEMAKER_ARN = "arn:aws:sagemaker:us-east-1:111122223333"


def stub_workload_config(sagemaker: Stubber, name: str, spec: dict) -> None:
    """The CreateAIWorkloadConfig request a measuring command sends: the spec inline, the stage's
    cost tag."""
    sagemaker.add_response(
        "create_ai_workload_config",
        {"AIWorkloadConfigArn": f"{SAGEMAKER_ARN}:ai-workload-config/{name}"},
        {
            "AIWorkloadConfigName": name,
            "AIWorkloadConfigs": {"WorkloadSpec": {"Inline": json.dumps(spec, sort_keys=True)}},
            "Tags": [{"Key": "workbench-deployment", "Value": "genai-opt-dev"}],
        },
    )
