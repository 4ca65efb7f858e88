"""make benchmark: an AI benchmark job against a realtime endpoint (Stubber), its AIPerf results
read from the archive AIPerf itself wrote (tests/fixtures/aiperf), the record stored; async
endpoints are refused as targets and measured by the client's runner; bad input."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY

import workbench.benchmark as benchmark
from tests.unit.notebooks.conftest import sample_document
from tests.unit.workbench.helpers import FakeClock, FakeSession, stub_workload_config
from workbench_domain import ai_jobs
from workbench_domain import measurements as m

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "aiperf"
DOC = sample_document()
CHAT = DOC["endpoints"]["chat"]
BUCKET = DOC["storage"]["artifacts_bucket"]
ARN = "arn:aws:sagemaker:us-east-1:111122223333"
ARGS = ["--endpoint", "chat", "--input-tokens", "64", "--output-tokens", "32",
        "--concurrency", "4", "--requests", "24"]  # fmt: skip


# A PNG's signature: the archive's plots are passed through as bytes, never decoded.
PNG = b"\x89PNG\r\n\x1a\n"


def archive() -> bytes:
    """output.tar.gz as the sample reads it: the AIPerf exports at its root, plots/ beside."""
    members = {f"./{name}": (FIXTURES / name).read_bytes() for name in (m.AIPERF_EXPORT,
               m.AIPERF_RECORDS)}  # fmt: skip
    members["./plots/ttft_timeline.png"] = PNG
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def stub_deployment(session: FakeSession) -> None:
    parameters = [
        {"Name": "/genai-opt/dev/deployment/storage", "Value": json.dumps(DOC["storage"])},
        {
            "Name": "/genai-opt/dev/deployment/optimization",
            "Value": json.dumps(DOC["optimization"]),
        },
        *(
            {"Name": f"/genai-opt/dev/deployment/endpoints/{key}", "Value": json.dumps(record)}
            for key, record in DOC["endpoints"].items()
        ),
    ]
    session.stub("ssm").add_response(
        "get_parameters_by_path",
        {"Parameters": parameters},
        {"Path": "/genai-opt/dev/deployment", "Recursive": True, "WithDecryption": True},
    )


def expected_names() -> tuple[str, str, dict]:
    spec = {
        "benchmark": {"type": "aiperf"},
        "parameters": {
            "concurrency": 4,
            "prompt_input_tokens_mean": 64,
            "prompt_input_tokens_stddev": 0,
            "output_tokens_mean": 32,
            "output_tokens_stddev": 0,
            "request_count": 24,
            "extra_inputs": "ignore_eos:true",
        },
    }
    asked = {
        "spec": spec,
        "component": CHAT["inference_component_name"],
        "output": f"s3://{BUCKET}/benchmarks/",
    }
    return (
        ai_jobs.name("genai-opt-dev", "workload", asked),
        ai_jobs.name("genai-opt-dev", "benchmark", asked),
        spec,
    )


def stub_job(session: FakeSession, status: str = "Completed") -> str:
    config, job, spec = expected_names()
    output = f"s3://{BUCKET}/benchmarks/{job}/"
    sagemaker = session.stub("sagemaker")
    stub_workload_config(sagemaker, config, spec)
    request = {
        "AIBenchmarkJobName": job,
        "BenchmarkTarget": {
            "Endpoint": {
                "Identifier": CHAT["endpoint_name"],
                "InferenceComponents": [{"Identifier": CHAT["inference_component_name"]}],
            }
        },
        "OutputConfig": {"S3OutputLocation": output},
        "AIWorkloadConfigIdentifier": config,
        "RoleArn": DOC["optimization"]["measurement_role_arn"],
        "Tags": [{"Key": "workbench-deployment", "Value": "genai-opt-dev"}],
    }
    sagemaker.add_response(
        "create_ai_benchmark_job", {"AIBenchmarkJobArn": f"{ARN}:ai-benchmark-job/{job}"}, request
    )
    for state in ("InProgress", status):
        described = {
            "AIBenchmarkJobName": job,
            "AIBenchmarkJobArn": f"{ARN}:ai-benchmark-job/{job}",
            "AIBenchmarkJobStatus": state,
            "BenchmarkTarget": request["BenchmarkTarget"],
            "OutputConfig": {"S3OutputLocation": output},
            "AIWorkloadConfigIdentifier": config,
            "RoleArn": request["RoleArn"],
            "CreationTime": datetime(2026, 12, 7, 10, tzinfo=UTC),
            "EndTime": datetime(2026, 12, 7, 10, 20, tzinfo=UTC),
        }
        if state == "Failed":
            described["FailureReason"] = "endpoint did not answer"
        sagemaker.add_response("describe_ai_benchmark_job", described, {"AIBenchmarkJobName": job})
    return job


def stub_results(session: FakeSession, job: str) -> None:
    s3 = session.stub("s3")
    key = f"benchmarks/{job}/output/output.tar.gz"
    s3.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": key}, {"Key": f"benchmarks/{job}/output/plots/ttft.png"}]},
        {"Bucket": BUCKET, "Prefix": f"benchmarks/{job}/"},
    )
    data = archive()
    s3.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(data), len(data))},
        {"Bucket": BUCKET, "Key": key},
    )
    session.stub("sagemaker").add_response(
        "delete_ai_workload_config",
        {"AIWorkloadConfigArn": f"{ARN}:ai-workload-config/x"},
        {"AIWorkloadConfigName": expected_names()[0]},
    )
    s3.add_response(
        "put_object",
        {},
        {
            "Bucket": BUCKET,
            "Key": f"measurements/chat/speed/{job}.json",
            "Body": ANY,
            "ContentType": "application/json",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": DOC["storage"]["kms_key_arn"],
        },
    )


def run(session, argv, tmp_path):
    clock = FakeClock()
    return benchmark.main(
        ["--env", "dev", *argv], session=session, sleep=clock.sleep, now=clock.now,
        local_root=tmp_path,
    )  # fmt: skip


def test_a_realtime_endpoint_is_measured_by_a_benchmark_job_and_the_record_stored(tmp_path, capsys):
    session = FakeSession()
    stub_deployment(session)
    job = stub_job(session)
    stub_results(session, job)
    assert run(session, ARGS, tmp_path) == 0
    session.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert "time to first token   p50 53 / p90 56 / p99 60 ms" in out
    assert "output tokens/s       97.9 per request, 340.6 in aggregate" in out
    plot = tmp_path / "dev" / "chat" / "plots" / job / "ttft_timeline.png"
    assert plot.read_bytes() == PNG and f"Plot: {plot}" in out
    (stored,) = (tmp_path / "dev" / "chat" / "speed").glob("*.json")
    speed = m.parse_speed(json.loads(stored.read_text()))
    assert speed.runner == "ai-benchmark-job" and speed.run == job
    assert speed.measured_at == "2026-12-07T10:20:00+00:00"
    assert speed.source.endswith(f"benchmarks/{job}/output/output.tar.gz")
    assert speed.instance_type == CHAT["instance_type"]


def test_a_failed_job_is_one_error_line_and_nothing_is_stored(tmp_path, capsys):
    session = FakeSession()
    stub_deployment(session)
    stub_job(session, status="Failed")
    session.stub("sagemaker").add_response(
        "delete_ai_workload_config",
        {"AIWorkloadConfigArn": f"{ARN}:ai-workload-config/x"},
        {"AIWorkloadConfigName": expected_names()[0]},
    )
    assert run(session, ARGS, tmp_path) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "ended Failed: endpoint did not answer" in err
    assert "Traceback" not in err
    assert not (tmp_path / "dev").exists()


def test_an_async_endpoint_is_not_sent_to_a_benchmark_job(tmp_path, capsys, monkeypatch):
    session = FakeSession()
    stub_deployment(session)
    seen = {}

    def runner(deployment, key, prompts, *, concurrency, max_new_tokens):
        seen.update(key=key, prompts=len(prompts), concurrency=concurrency, tokens=max_new_tokens)
        raise benchmark.wb.WorkbenchError("stop here")

    monkeypatch.setattr(benchmark.wb, "benchmark_endpoint", runner)
    warmed = []
    monkeypatch.setattr(
        benchmark.wb, "measure_cold_start", lambda d, key, payload: warmed.append(key)
    )
    argv = ["--endpoint", "p4d", "--input-tokens", "64", "--output-tokens", "32", "--requests", "5"]
    assert run(session, argv, tmp_path) == 1
    assert warmed == ["p4d"]  # warmed before the measured requests
    assert seen == {"key": "p4d", "prompts": 5, "concurrency": 4, "tokens": 32}
    out = capsys.readouterr().out
    assert "a benchmark job cannot target it" in out  # and no SageMaker AI call was stubbed
    session.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--endpoint", "chat"], "give --usage FILE --endpoint KEY, or --input-tokens"),
        (["--endpoint", "chat", "--input-tokens", "0", "--output-tokens", "3"],
         "input_tokens: must be a whole number >= 1; got 0"),
        ([*ARGS[:-1], "0"], "--requests must be >= 1"),
        ([*ARGS, "--poll-seconds", "0"], "--poll-seconds: must be a finite number above 0"),
        ([*ARGS, "--wait-hours", "nan"], "argument --wait-hours: must be a finite number above 0"),
    ],
)  # fmt: skip
def test_bad_flags_are_one_usage_line_before_any_call(argv, message, tmp_path, capsys):
    session = FakeSession()
    with pytest.raises(SystemExit) as stopped:
        run(session, argv, tmp_path)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert session.stubbers.keys() <= {"ssm"}


def test_an_endpoint_that_is_not_deployed_is_named_with_those_that_are(tmp_path, capsys):
    session = FakeSession()
    stub_deployment(session)
    assert run(session, ["--endpoint", "nope", *ARGS[2:]], tmp_path) == 2
    assert "--endpoint nope: not deployed (deployed: chat, inf2, p4d)" in capsys.readouterr().err
