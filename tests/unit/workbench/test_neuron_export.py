"""make neuron-export: the training job that exports a model for the inf2 endpoint's Neuron vLLM
image, with the endpoint's own shape; bad input. Requests go through botocore's Stubber."""

from __future__ import annotations

import json
import re

import pytest

import workbench.neuron_export as export
from tests.conftest import expanded_workbench
from tests.unit.workbench.helpers import FakeSession
from workbench.common import load_settings, read_context
from workbench_domain import deployment_records as records
from workbench_domain import neuron_export as nx
from workbench_domain import serving_images
from workbench_domain.optimization_rules import JobDefaults
from workbench_domain.serving_environment import container_environment

BUCKET = "genai-artifacts"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::111122223333:role/genai-opt-job"
DLC = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference"
STORAGE = records.StorageRecord("us-east-1", BUCKET, "genai-inference", KEY)
OPTIMIZATION = records.OptimizationRecord(
    state_machine_arn="arn:aws:states:us-east-1:111122223333:stateMachine:w",
    launcher_function_name="launcher",
    job_topic_arn="arn:aws:sns:us-east-1:111122223333:jobs",
    results_parameter_prefix="/genai-opt/dev/optimization-results",
    job_role_arn=ROLE,
    measurement_role_arn="arn:aws:iam::111122223333:role/measure",
    job_defaults=JobDefaults(BUCKET, "optimized/", f"{DLC}:a", f"{DLC}:b", f"{DLC}:c"),
)
SOURCE = ["--source", "models/meta-llama-3-70b/"]
IMAGE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-vllm-inference-neuronx:"
    "0.11.0-optimum0.4.5-neuronx-py310-sdk2.26.1-ubuntu22.04"
)


def session_with_records(*parts: str) -> FakeSession:
    """The deployment records under /genai-opt/dev/deployment/ (all of them by default)."""
    published = {"storage": STORAGE, "optimization": OPTIMIZATION}
    session = FakeSession()
    session.stub("ssm").add_response(
        "get_parameters_by_path",
        {
            "Parameters": [
                {
                    "Name": f"/genai-opt/dev/deployment/{part}",
                    "Value": json.dumps(records.to_document(published[part])),
                }
                for part in parts or published
            ]
        },
        {"Path": "/genai-opt/dev/deployment", "Recursive": True, "WithDecryption": True},
    )
    return session


def run(session, *argv):
    return export.main(["--env", "dev", "--endpoint", "inf2", *argv], session=session)


def expected_request() -> dict:
    return {
        "TrainingJobName": nx.job_name(
            "genai-opt-dev", "inf2", ARGUMENTS, f"s3://{BUCKET}/models/meta-llama-3-70b/"
        ),
        "RoleArn": ROLE,
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["optimum-cli"],
            "ContainerArguments": ARGUMENTS,
        },
        "InputDataConfig": [
            {
                "ChannelName": "model",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{BUCKET}/models/meta-llama-3-70b/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "InputMode": "File",
            }
        ],
        "OutputDataConfig": {
            "S3OutputPath": f"s3://{BUCKET}/optimized/neuron-export-jobs/",
            "KmsKeyId": KEY,
        },
        # SageMaker copies /opt/ml/checkpoints, uncompressed, to the endpoint's model prefix.
        "CheckpointConfig": {
            "S3Uri": f"s3://{BUCKET}/optimized/neuron-vllm/meta-llama-3-70b-inf2/",
            "LocalPath": "/opt/ml/checkpoints",
        },
        # trn1 has local NVMe: no volume key (botocore's ResourceConfig refuses one there).
        "ResourceConfig": {
            "InstanceType": "ml.trn1.32xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 1024,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 8 * 3600},
        "EnableNetworkIsolation": True,
        "Tags": [{"Key": "workbench-deployment", "Value": "genai-opt-dev"}],
    }


# The inf2 endpoint's batch size, sequence length and tensor parallel degree (cdk.json).
ARGUMENTS = [
    "export", "neuron", "--model", "/opt/ml/input/data/model", "--task", "text-generation",
    "--batch_size", "4", "--sequence_length", "8192", "--tensor_parallel_size", "24",
    "--torch_dtype", "bfloat16", "--instance_type", "inf2", "/opt/ml/checkpoints",
]  # fmt: skip


def test_the_export_has_the_shape_the_endpoint_serves_with():
    """optimum-cli neuron serve refuses a model exported with another batch size, sequence length
    or degree: the export's arguments are the endpoint's own SM_ON_* values."""
    inf2 = load_settings("dev").endpoints["inf2"]
    arguments = nx.export_arguments(inf2.serving, inf2.instance_type, "bfloat16")
    assert arguments == ARGUMENTS
    served = container_environment(inf2.serving)
    shape = dict(zip(arguments[6:12:2], arguments[7:12:2], strict=True))
    assert shape == {
        "--batch_size": served["SM_ON_BATCH_SIZE"],
        "--sequence_length": served["SM_ON_SEQUENCE_LENGTH"],
        "--tensor_parallel_size": served["SM_ON_TENSOR_PARALLEL_SIZE"],
    }


def test_every_export_argument_and_choice_is_quoted_from_the_images_optimum_neuron():
    """The export runs inside the endpoint's image: its command, flags, dtypes and targets are
    claims about optimum-neuron at the image's version, quoted in the cited table's row
    (`python -m tools.serving_keys --check-quotes` checks the quotes against the source)."""
    row = serving_images.image_for(nx.ENGINE)
    quotes = {
        source["quote"]
        for source in row.sources
        if source["repository"] == "huggingface/optimum-neuron" and "quote" in source
    }
    assert 'COMMAND = CommandInfo(name="neuron", help="Export PyTorch models to Neuronx compiled ' \
        'TorchScript models.")' in quotes  # fmt: skip
    flags = [a for a in ARGUMENTS if a.startswith("--")]
    for flag in flags:
        assert any(f'"{flag}"' in quote for quote in quotes), flag
    (dtypes,) = [q for q in quotes if q.startswith("choices=") and "bfloat16" in q]
    assert re.findall(r'"([a-z0-9]+)"', dtypes) == list(nx.DTYPES)
    (targets,) = [q for q in quotes if q.startswith("SUPPORTED_INSTANCE_TYPES")]
    assert set(nx.TARGETS) <= set(re.findall(r'"([a-z0-9]+)"', targets))


def test_a_training_job_exports_into_the_endpoints_model_prefix(capsys):
    session = session_with_records()
    expected = expected_request()
    name = expected["TrainingJobName"]
    assert name.startswith("genai-opt-dev-nx-inf2-")
    # botocore's TrainingJobName pattern (Stubber checks the length only).
    shape = FakeSession().client("sagemaker").meta.service_model.shape_for("TrainingJobName")
    assert re.fullmatch(shape.metadata["pattern"], name) and len(name) <= shape.metadata["max"]
    session.stub("sagemaker").add_response(
        "create_training_job", {"TrainingJobArn": "arn"}, expected
    )
    assert run(session, *SOURCE) == 0
    session.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert f"Started {expected['TrainingJobName']}: exports to s3://{BUCKET}/optimized/" in out


def test_running_it_again_reports_the_job_instead_of_a_second_one(capsys):
    session = session_with_records()
    session.stub("sagemaker").add_client_error(
        "create_training_job", service_error_code="ResourceInUse", http_status_code=400
    )
    assert run(session, *SOURCE) == 0
    assert "Already there: genai-opt-dev-nx-inf2-" in capsys.readouterr().out


def test_a_dry_run_prints_the_request_and_starts_nothing(capsys):
    session = session_with_records()
    assert run(session, *SOURCE, "--dry-run") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["AlgorithmSpecification"]["ContainerArguments"] == ARGUMENTS
    assert "sagemaker" not in session.stubbers


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--endpoint", "p4d", *SOURCE], "serving.engine: is not neuron_vllm"),
        (["--source", "s3://Bad_Bucket"], "--source"),
        ([*SOURCE, "--max-hours", "0"], "argument --max-hours: must be a finite number above 0"),
        ([*SOURCE, "--max-hours", "673"], "allowed: up to 672 (28 days)"),
        ([*SOURCE, "--max-hours", "nan"], "argument --max-hours: must be a finite number above 0"),
        ([*SOURCE, "--max-hours", "inf"], "argument --max-hours: must be a finite number above 0"),
        ([*SOURCE, "--dtype", "int8"], "invalid choice: 'int8'"),
    ],
    ids=[
        "not-a-neuron-vllm-endpoint",
        "bad-source-uri",
        "no-time",
        "past-28-days",
        "not-a-number",
        "infinite",
        "unknown-dtype",
    ],
)
def test_bad_flags_are_one_usage_line_and_start_nothing(argv, words, capsys):
    session = session_with_records()
    with pytest.raises(SystemExit) as exit_:
        export.main(["--env", "dev", "--endpoint", "inf2", *argv], session=session)
    assert exit_.value.code == 2
    assert words in capsys.readouterr().err
    assert "sagemaker" not in session.stubbers


def test_an_unknown_endpoint_is_one_error_line(capsys):
    assert (
        export.main(["--env", "dev", "--endpoint", "nope", *SOURCE], session=session_with_records())
        == 2
    )
    assert "error: --endpoint nope: no such endpoint (cdk.json has: chat, inf2, p4d)" in (
        capsys.readouterr().err
    )


def test_a_model_outside_the_job_roles_prefix_is_refused(monkeypatch, capsys):
    workbench = expanded_workbench(read_context()["workbench"])
    workbench["environments"]["dev"]["endpoints"]["inf2"]["model"] = {
        "s3_key_prefix": "models/neuron/"
    }
    monkeypatch.setattr(
        export, "load_settings", lambda env: load_settings(env, {"workbench": workbench})
    )
    assert run(session_with_records(), *SOURCE) == 2
    assert "must be a key prefix under optimized/ of the artifacts bucket" in (
        capsys.readouterr().err
    )


def test_without_the_deployed_records_it_says_what_to_deploy(capsys):
    assert run(session_with_records("storage"), *SOURCE) == 2
    assert "deploy the Optimization stack of genai-opt-dev" in capsys.readouterr().err


def test_a_long_stage_and_endpoint_key_still_give_a_valid_job_name():
    shape = FakeSession().client("sagemaker").meta.service_model.shape_for("TrainingJobName")
    name = nx.job_name(
        "a-very-long-project-name-for-a-team-dev", "a-long-endpoint-key-x", ARGUMENTS, "s3://b/m/"
    )
    assert len(name) <= shape.metadata["max"] and re.fullmatch(shape.metadata["pattern"], name)
    assert name != nx.job_name(
        "a-very-long-project-name-for-a-team-dev", "a-long-endpoint-key-x", ARGUMENTS, "s3://b/n/"
    )
