"""workbench/optimize.py: flags -> launcher event -> workflow; progress; result; promote."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.conftest import ROOT, expanded_workbench
from workbench import optimize

REGION = "eu-west-1"
ACCOUNT = "111122223333"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Workflow"
MODEL = "s3://genai-artifacts/models/llama-3-70b/"
DLC = f"763104351884.dkr.ecr.{REGION}.amazonaws.com/djl-inference"
RESULT = {
    "job_name": "genai-opt-awq-0123456789",
    "status": "COMPLETED",
    "output_s3_uri": "s3://genai-artifacts/optimized/genai-opt-awq-0123456789/",
    "recommended_inference_image": (
        f"763104351884.dkr.ecr.{REGION}.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124"
    ),
    "deployment_instance_type": "ml.p4d.24xlarge",
    "duration_seconds": 7200,
}
AWQ = [
    "--technique",
    "quantization",
    "--quantization-method",
    "awq",
    "--model-s3-uri",
    MODEL,
    "--accept-eula",
    "--instance-type",
    "ml.p4d.24xlarge",
]


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A copy of the project's cdk.json, to promote into."""
    path = tmp_path / "cdk.json"
    path.write_text((ROOT / "cdk.json").read_text())
    return path


def before_defaults() -> dict:
    return json.loads((ROOT / "cdk.json").read_text())["context"]["workbench"]["defaults"]


def dev_endpoints(config_path: Path) -> dict:
    return json.loads(config_path.read_text())["context"]["workbench"]["environments"]["dev"][
        "endpoints"
    ]


DLC = f"763104351884.dkr.ecr.{REGION}.amazonaws.com/djl-inference"
JOB_DEFAULTS = {
    "artifacts_bucket": "genai-artifacts",
    "output_prefix": "optimized/",
    "lmi_image_uri": f"{DLC}:0.31.0-lmi13.0.0-cu124",
    "trtllm_image_uri": f"{DLC}:0.33.0-tensorrtllm0.21.0-cu128",
    "neuron_image_uri": f"{DLC}:0.29.0-neuronx-sdk2.19.1",
}


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        ssm = boto3.client("ssm", region_name=REGION)
        records = {
            "optimization": {
                "state_machine_arn": MACHINE,
                "launcher_function_name": "launcher",
                "job_topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:jobs",
                "results_parameter_prefix": "/genai-opt/dev/optimization-results",
                "job_role_arn": f"arn:aws:iam::{ACCOUNT}:role/job",
                "measurement_role_arn": f"arn:aws:iam::{ACCOUNT}:role/measure",
                "job_defaults": JOB_DEFAULTS,
            },
            "storage": {
                "region": REGION,
                "artifacts_bucket": "genai-artifacts",
                "inference_bucket": "genai-inference",
                "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k",
            },
        }
        for part, document in records.items():
            ssm.put_parameter(
                Name=f"/genai-opt/dev/deployment/{part}",
                Value=json.dumps(document),
                Type="String",
            )
        sfn = boto3.client("stepfunctions", region_name=REGION)
        with Stubber(sfn) as stubber:
            yield ssm, sfn, stubber
            stubber.assert_no_pending_responses()


def clients(ssm, sfn):
    return lambda service, region_name=None: {"ssm": ssm, "stepfunctions": sfn}[service]


def expected_event(**extra) -> dict:
    """The launcher event the AWQ flags (plus `extra`) must produce, named as the notebooks do."""
    event = {
        "technique": "quantization",
        "accept_eula": True,
        "instance_type": "ml.p4d.24xlarge",
        "model_s3_uri": MODEL,
        "quantization": {"method": "awq"},
        **extra,
    }
    return {**event, "job_name": optimize.wb.run_name(event, project="genai-opt", env_name="dev")}


def stub_run(
    stubber: Stubber, statuses: list[str], outcome: dict, event: dict | None = None
) -> str:
    event = event or expected_event()
    arn = f"{MACHINE.replace('stateMachine', 'execution')}:{event['job_name']}"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    stubber.add_response(
        "start_execution",
        {"executionArn": arn, "startDate": start},
        {
            "stateMachineArn": MACHINE,
            "name": event["job_name"],
            "input": json.dumps(event, sort_keys=True),
        },
    )
    for status in statuses:
        response = {
            "executionArn": arn,
            "stateMachineArn": MACHINE,
            "name": event["job_name"],
            "status": status,
            "startDate": start,
        }
        if status != "RUNNING":
            response.update(outcome)
        stubber.add_response("describe_execution", response, {"executionArn": arn})
    return arn


def test_runs_the_workflow_shows_progress_and_prints_the_result(aws, config_path, capsys):
    ssm, sfn, stubber = aws
    stub_run(stubber, ["RUNNING", "RUNNING", "SUCCEEDED"], {"output": json.dumps(RESULT)})
    slept = []
    code = optimize.main(
        AWQ, make_client=clients(ssm, sfn), sleep=slept.append, config_path=config_path
    )
    out = capsys.readouterr().out
    assert code == 0
    assert slept == [60, 60]
    assert "Started execution genai-opt-dev-awq-" in out
    assert ": RUNNING, elapsed " in out and ": SUCCEEDED, elapsed " in out
    assert json.loads(out[out.index("{") :]) == RESULT
    assert config_path.read_text() == (ROOT / "cdk.json").read_text()  # nothing promoted


def test_promote_writes_the_result_into_the_endpoint_entry(aws, config_path, capsys):
    ssm, sfn, stubber = aws
    event = expected_event(environment={"OPTION_TENSOR_PARALLEL_DEGREE": "4"})
    stub_run(stubber, ["SUCCEEDED"], {"output": json.dumps(RESULT)}, event)
    argv = [*AWQ, "--container-env", "OPTION_TENSOR_PARALLEL_DEGREE=4", "--promote", "p4d"]
    argv += ["--serve-on", "ml.g5.12xlarge"]
    assert (
        optimize.main(
            argv, make_client=clients(ssm, sfn), sleep=lambda _: None, config_path=config_path
        )
        == 0
    )
    before = expanded_workbench(json.loads((ROOT / "cdk.json").read_text())["context"]["workbench"])
    written = json.loads(config_path.read_text())["context"]["workbench"]
    # Written into dev's own settings only; prod and the shared defaults are untouched.
    assert set(written["environments"]["dev"]["endpoints"]["p4d"]) == {
        "max_capacity",
        "enabled",
        "instance_type",
        "model",
        "serving",
    }
    assert written["defaults"] == before_defaults()
    endpoint = expanded_workbench(written)["environments"]["dev"]["endpoints"]["p4d"]
    assert endpoint["instance_type"] == "ml.g5.12xlarge"
    assert endpoint["model"] == {"s3_uri": RESULT["output_s3_uri"], "accept_eula": False}
    # The job recommends an image the serving table does not know (LMI 13): served as a custom
    # image, with the job's environment exactly as the job ran it.
    assert endpoint["serving"] == {
        "engine": "custom",
        "image_uri": RESULT["recommended_inference_image"],
        "environment": {"OPTION_TENSOR_PARALLEL_DEGREE": "4", "OPTION_QUANTIZE": "awq"},
    }
    kept = before["environments"]["dev"]["endpoints"]["p4d"]
    assert endpoint["scaling"] == kept["scaling"]
    assert endpoint["max_capacity"] == kept["max_capacity"]
    assert "make deploy ENV=dev" in capsys.readouterr().out


def test_a_failed_workflow_exits_non_zero_with_its_cause(aws, config_path, capsys):
    ssm, sfn, stubber = aws
    stub_run(
        stubber,
        ["FAILED"],
        {"error": "ValidationError", "cause": "quantization.method: fp8 needs FP8 tensor cores"},
    )
    code = optimize.main(
        AWQ, make_client=clients(ssm, sfn), sleep=lambda _: None, config_path=config_path
    )
    assert code == 1
    assert (
        "ValidationError quantization.method: fp8 needs FP8 tensor cores" in capsys.readouterr().err
    )


def test_no_wait_prints_the_execution_and_returns(aws, config_path, capsys):
    ssm, sfn, stubber = aws
    arn = stub_run(stubber, [], {})
    assert (
        optimize.main([*AWQ, "--no-wait"], make_client=clients(ssm, sfn), config_path=config_path)
        == 0
    )
    assert capsys.readouterr().out.strip().endswith(arn)


def test_an_undeployed_environment_is_named(config_path, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ssm = boto3.client("ssm", region_name=REGION)
        code = optimize.main(
            AWQ, make_client=lambda service, region_name=None: ssm, config_path=config_path
        )
    assert code == 1
    assert "is the Storage stack of genai-opt-dev deployed" in capsys.readouterr().err


def no_clients(service, region_name=None):
    raise AssertionError(f"nothing may start: {service} client created")


BAD_FLAGS = [
    (
        "no-technique",
        ["--model-s3-uri", MODEL, "--instance-type", "ml.p4d.24xlarge"],
        "--technique is required",
    ),
    ("unknown-instance", [*AWQ[:-1], "ml.p4d.24xlarg"], "closest: ml.p4d.24xlarge"),
    ("endpoint-only-instance", [*AWQ[:-1], "ml.t3.medium"], "not a DeploymentInstanceType"),
    (
        "quantization-without-method",
        [
            "--technique",
            "quantization",
            "--model-s3-uri",
            MODEL,
            "--instance-type",
            "ml.g5.12xlarge",
        ],
        "quantization.method: is required; allowed: awq, fp8, smoothquant",
    ),
    ("two-model-sources", [*AWQ, "--model-name", "m"], "not allowed with argument --model-s3-uri"),
    ("bad-env", [*AWQ, "--container-env", "OPTION_QUANTIZE"], "--container-env expects KEY=VALUE"),
    ("bad-tag", [*AWQ, "--tag", "team"], "--tag expects KEY=VALUE"),
    ("zero-runtime", [*AWQ, "--max-runtime-seconds", "0"], "expected a positive integer"),
    ("bad-method", [*AWQ[:3], "int4", *AWQ[4:]], "invalid choice: 'int4'"),
    (
        "promote-eagle-of-a-sagemaker-model",
        [
            "--technique",
            "speculative_decoding",
            "--model-name",
            "llama-3-70b",
            "--instance-type",
            "ml.p4d.24xlarge",
            "--promote",
            "p4d",
        ],
        "give the base model with --model-s3-uri",
    ),
    ("unknown-env", [*AWQ, "--env", "staging"], "got 'staging'; allowed: dev, prod"),
    (
        "serve-on-without-promote",
        [*AWQ, "--serve-on", "ml.g5.12xlarge"],
        "--serve-on goes with --promote",
    ),
    (
        "entry-with-job-flags",
        [*AWQ, "--promote", "p4d", "--entry", "e.json"],
        "--entry goes with --promote",
    ),
    ("unknown-endpoint", [*AWQ, "--promote", "awq"], "no endpoint 'awq' in cdk.json for dev"),
    (
        "bad-job-name",
        [*AWQ, "--job-name", "my_job"],
        "job_name: is not a valid optimization job name",
    ),
]


@pytest.mark.parametrize(
    ("argv", "message"), [b[1:] for b in BAD_FLAGS], ids=[b[0] for b in BAD_FLAGS]
)
def test_bad_flags_stop_before_anything_starts(argv, message, config_path, capsys):
    with pytest.raises(SystemExit) as stop:
        optimize.main(argv, make_client=no_clients, config_path=config_path)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("error:") == 1


NOTEBOOK_ENTRY = {
    "instance_type": "ml.p4d.24xlarge",
    "model": {
        "s3_uri": "s3://jumpstart-private-cache-prod-eu-west-1/meta-textgeneration/llama-3-70b/",
        "accept_eula": True,
    },
    "serving": {
        "engine": "vllm",
        "tensor_parallel_degree": 8,
        "speculative_decoding": {
            "method": "draft_model",
            "model": {
                "jumpstart": True,
                "s3_uri": "s3://jumpstart-private-cache-prod-eu-west-1/draft/",
            },
        },
        "environment": {},
    },
}


def test_entry_from_a_notebook_is_promoted_without_aws(tmp_path, config_path):
    path = tmp_path / "entry.json"
    path.write_text(json.dumps(NOTEBOOK_ENTRY))
    argv = ["--promote", "p4d", "--entry", str(path)]
    assert optimize.main(argv, make_client=no_clients, config_path=config_path) == 0
    assert dev_endpoints(config_path)["p4d"]["model"] == NOTEBOOK_ENTRY["model"]
    assert dev_endpoints(config_path)["p4d"]["serving"] == NOTEBOOK_ENTRY["serving"]


def test_an_entry_the_config_refuses_leaves_cdk_json_unchanged(tmp_path, config_path, capsys):
    entry = json.loads(json.dumps(NOTEBOOK_ENTRY))
    # the vLLM of the pinned LMI image ignores the legacy draft-model key
    entry["serving"]["environment"]["OPTION_SPECULATIVE_DRAFT_MODEL"] = "/opt/ml/model/draft"
    path = tmp_path / "entry.json"
    path.write_text(json.dumps(entry))
    argv = ["--promote", "p4d", "--entry", str(path)]
    assert optimize.main(argv, make_client=no_clients, config_path=config_path) == 1
    assert "cdk.json left unchanged" in capsys.readouterr().err
    assert config_path.read_text() == (ROOT / "cdk.json").read_text()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[1, 2]", "not an endpoint entry (an object with instance_type, model and serving)"),
        ('"p4d"', "not an endpoint entry"),
        ('{"instance_type": 5, "model": {}, "serving": {}}', "not an endpoint entry"),
        (json.dumps({"instance_type": "ml.g5.12xlarge", "model": "x" * 400}), "characters)"),
        ("{not json", "entry.json is not valid JSON (line 1, column 2"),
    ],
)
def test_a_saved_entry_that_is_no_entry_is_one_line(tmp_path, config_path, capsys, content, words):
    path = tmp_path / "entry.json"
    path.write_text(content)
    argv = ["--promote", "p4d", "--entry", str(path)]
    assert optimize.main(argv, make_client=no_clients, config_path=config_path) == 1
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and len(err) < 400, err
    assert config_path.read_text() == (ROOT / "cdk.json").read_text()


def test_a_truncated_cdk_json_is_one_line(config_path, capsys):
    config_path.write_text(config_path.read_text()[:-40])
    argv = ["--promote", "p4d", "--entry", "entry.json"]
    assert optimize.main(argv, make_client=no_clients, config_path=config_path) == 2
    err = capsys.readouterr().err
    assert "is not valid JSON (line " in err and err.count("\n") == 1


def test_an_eagle_job_promotes_its_head_beside_the_base_model(aws, config_path):
    ssm, sfn, stubber = aws
    eagle = [
        "--technique",
        "speculative_decoding",
        "--model-s3-uri",
        MODEL,
        "--accept-eula",
        "--instance-type",
        "ml.p4d.24xlarge",
        "--promote",
        "p4d",
    ]
    result = {
        **RESULT,
        "techniques": ["speculative_decoding"],
        "recommended_inference_image": f"{DLC}:0.36.0-lmi18.0.0-cu128",
    }
    event = {
        "technique": "speculative_decoding",
        "accept_eula": True,
        "instance_type": "ml.p4d.24xlarge",
        "model_s3_uri": MODEL,
        "speculative_decoding": {},
    }
    event["job_name"] = optimize.wb.run_name(event, project="genai-opt", env_name="dev")
    stub_run(stubber, ["SUCCEEDED"], {"output": json.dumps(result)}, event)
    code = optimize.main(
        eagle, make_client=clients(ssm, sfn), sleep=lambda _: None, config_path=config_path
    )
    assert code == 0
    endpoint = dev_endpoints(config_path)["p4d"]
    assert endpoint["model"] == {"s3_uri": MODEL, "accept_eula": True}
    assert endpoint["serving"] == {
        "engine": "vllm",
        "image_uri": f"{DLC}:0.36.0-lmi18.0.0-cu128",
        "speculative_decoding": {
            "method": "eagle3",
            "model": {"s3_uri": RESULT["output_s3_uri"] + "draft/"},
            "num_speculative_tokens": 5,
        },
        "environment": {},
    }
