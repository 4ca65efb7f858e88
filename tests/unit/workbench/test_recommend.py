"""make recommend: workload config, recommendation job, progress, the table, clean-up; bad input.

Every request goes through botocore's Stubber (the service model of botocore 1.44.5). AWS's
sample records no response, so the DescribeAIRecommendationJob answers here are written from
botocore's output shape, which Stubber validates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from genai_workbench.ai_jobs import recommendation_names

import workbench.recommend as recommend
from tests.conftest import ROOT
from tests.unit.workbench.helpers import FakeClock, FakeSession, stub_workload_config
from workbench.recommendation_cost import month_costs
from workbench_domain import recommendation as rec

MODEL = "s3://genai-artifacts/models/llama-3-70b/"
OUTPUT = "s3://genai-artifacts/recommendations/"
ROLE = "arn:aws:iam::111122223333:role/recommendations"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
ACCOUNT_ARN = "arn:aws:sagemaker:us-east-1:111122223333"
BASE = [
    "--model-s3-uri", MODEL, "--target", "ttft-ms", "--role-arn", ROLE, "--output-s3-uri", OUTPUT,
    "--instance-types", "ml.g6e.12xlarge", "ml.p4d.24xlarge",
    "--input-tokens", "800", "--output-tokens", "300", "--concurrency", "8",
]  # fmt: skip
SPEC = {
    "benchmark": {"type": "aiperf"},
    "parameters": {
        "concurrency": 8,
        "prompt_input_tokens_mean": 800,
        "prompt_input_tokens_stddev": 0,
        "output_tokens_mean": 300,
        "output_tokens_stddev": 0,
    },
}
RECOMMENDATION = {
    "RecommendationDescription": "Lowest time to first token",
    "OptimizationDetails": [{"OptimizationType": "SpeculativeDecoding"}],
    "DeploymentConfiguration": {
        "S3": [{"ChannelName": "model", "Uri": MODEL}],
        "ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/vllm:0.16.0-gpu-py312",
        "InstanceType": "ml.p4d.24xlarge",
        "InstanceCount": 1,
        "CopyCountPerInstance": 2,
        "EnvironmentVariables": {"SM_VLLM_TENSOR_PARALLEL_SIZE": "4"},
    },
    "ExpectedPerformance": [
        {"Metric": "ttft-ms", "Stat": "p50", "Value": "212", "Unit": "ms"},
        {"Metric": "throughput", "Value": "1840", "Unit": "tokens/s"},
    ],
}


def described(job: str, status: str, recommendations=None, **extra) -> dict:
    response = {
        "AIRecommendationJobName": job,
        "AIRecommendationJobArn": f"{ACCOUNT_ARN}:ai-recommendation-job/{job}",
        "AIRecommendationJobStatus": status,
        "ModelSource": {"S3": {"S3Uri": MODEL}},
        "OutputConfig": {"S3OutputLocation": OUTPUT},
        "AIWorkloadConfigIdentifier": "wl",
        "RoleArn": ROLE,
        "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
        **extra,
    }
    if recommendations is not None:
        response["Recommendations"] = recommendations
    return response


def run(session, argv, clock=None):
    clock = clock or FakeClock()
    return recommend.main(argv, session=session, sleep=clock.sleep, now=clock.now)


def names(argv=BASE) -> tuple[str, str]:
    """The names the command derives, computed as it does (its own function, its own inputs)."""
    instance_types = ["ml.g6e.12xlarge", "ml.p4d.24xlarge"]
    return recommendation_names("genai-opt-dev", SPEC, MODEL, "ttft-ms", instance_types, OUTPUT)


def stub_start(session, *, job_exists=False):
    config, job = names()
    sagemaker = session.stub("sagemaker")
    stub_workload_config(sagemaker, config, SPEC)
    expected_job = {
        "AIRecommendationJobName": job,
        "ModelSource": {"S3": {"S3Uri": MODEL}},
        "OutputConfig": {"S3OutputLocation": OUTPUT},
        "AIWorkloadConfigIdentifier": config,
        "RoleArn": ROLE,
        "PerformanceTarget": {"Constraints": [{"Metric": "ttft-ms"}]},
        "ComputeSpec": {"InstanceTypes": ["ml.g6e.12xlarge", "ml.p4d.24xlarge"]},
        "OptimizeModel": False,
        "Tags": [{"Key": "workbench-deployment", "Value": "genai-opt-dev"}],
    }
    if job_exists:
        sagemaker.add_client_error(
            "create_ai_recommendation_job", "ResourceInUse", expected_params=expected_job
        )
    else:
        sagemaker.add_response(
            "create_ai_recommendation_job",
            {"AIRecommendationJobArn": f"{ACCOUNT_ARN}:ai-recommendation-job/{job}"},
            expected_job,
        )
    return config, job, sagemaker


def stub_end(sagemaker, config, job, *, delete_job=False):
    sagemaker.add_response(
        "delete_ai_workload_config",
        {"AIWorkloadConfigArn": f"{ACCOUNT_ARN}:ai-workload-config/{config}"},
        {"AIWorkloadConfigName": config},
    )
    if delete_job:
        sagemaker.add_response(
            "delete_ai_recommendation_job",
            {"AIRecommendationJobArn": f"{ACCOUNT_ARN}:ai-recommendation-job/{job}"},
            {"AIRecommendationJobName": job},
        )


def test_a_job_is_followed_to_its_recommendations_and_its_workload_config_deleted(capsys):
    session = FakeSession()
    config, job, sagemaker = stub_start(session)
    for status, recs in (
        ("InProgress", None),
        ("InProgress", None),
        ("Completed", [RECOMMENDATION]),
    ):
        sagemaker.add_response(
            "describe_ai_recommendation_job",
            described(job, status, recs),
            {"AIRecommendationJobName": job},
        )
    stub_end(sagemaker, config, job)
    assert run(session, BASE) == 0
    out = capsys.readouterr().out
    assert f"Started {job}: 2 instance type(s), target ttft-ms" in out
    assert f"{job}: InProgress" in out and f"{job}: Completed" in out
    row = next(line for line in out.splitlines() if line.startswith("1 "))
    assert "ml.p4d.24xlarge" in row and "SpeculativeDecoding" in row
    assert "ttft-ms p50 212 ms; throughput 1840 tokens/s" in row
    assert f"Results: {OUTPUT}" in out
    session.assert_no_pending_responses()


def test_the_same_command_follows_the_same_job_and_can_delete_it(capsys):
    session = FakeSession()
    config, job, sagemaker = stub_start(session, job_exists=True)
    sagemaker.add_response(
        "describe_ai_recommendation_job",
        described(job, "Completed", [RECOMMENDATION]),
        {"AIRecommendationJobName": job},
    )
    stub_end(sagemaker, config, job, delete_job=True)
    assert run(session, [*BASE, "--delete-job"]) == 0
    assert f"Following {job}, started earlier with the same request" in capsys.readouterr().out
    session.assert_no_pending_responses()


def test_a_failed_job_says_why_and_still_cleans_up(capsys):
    session = FakeSession()
    config, job, sagemaker = stub_start(session)
    sagemaker.add_response(
        "describe_ai_recommendation_job",
        described(job, "Failed", FailureReason="No capacity for ml.p4d.24xlarge"),
        {"AIRecommendationJobName": job},
    )
    stub_end(sagemaker, config, job)
    assert run(session, BASE) == 1
    assert f"{job} ended Failed: No capacity for ml.p4d.24xlarge" in capsys.readouterr().err
    session.assert_no_pending_responses()


def test_following_gives_up_after_the_wait_and_keeps_the_job(capsys):
    session = FakeSession()
    _, job, sagemaker = stub_start(session)
    for _ in range(3):
        sagemaker.add_response(
            "describe_ai_recommendation_job",
            described(job, "InProgress"),
            {"AIRecommendationJobName": job},
        )
    argv = [*BASE, "--wait-hours", "0.01", "--poll-seconds", "30"]  # 36 s: three looks
    assert run(session, argv) == 1
    assert "run the same command again to follow it" in capsys.readouterr().err
    session.assert_no_pending_responses()  # nothing deleted while it runs


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--instance-types", "ml.g5.12xlarge", "ml.g6.12xlarge", "ml.g6e.12xlarge",
          "ml.p5.48xlarge"], "instance_types: one to three"),
        (["--instance-types", "ml.inf2.48xlarge"], "not one a recommendation job runs on"),
        (["--model-s3-uri", "s3://my..bucket/m/"], "model_s3_uri: names an invalid bucket"),
        (["--concurrency", "0"], "concurrency: must be a whole number >= 1"),
        (["--usage", "usage.yml"], "--usage takes the tokens and concurrency from the profile"),
        (["--target", "latency"], "invalid choice: 'latency'"),
        (["--poll-seconds", "0"], "argument --poll-seconds: must be a finite number above 0"),
        (["--wait-hours", "inf"], "argument --wait-hours: must be a finite number above 0"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_starts_nothing(change, message, capsys):
    argv = list(BASE)
    for i in range(len(change)):
        flag = change[i]
        if flag.startswith("--") and flag in argv:
            # replace a flag's values: drop the old ones up to the next flag
            at = argv.index(flag)
            end = at + 1
            while end < len(argv) and not argv[end].startswith("--"):
                end += 1
            del argv[at:end]
    argv += change
    session = FakeSession()
    with pytest.raises(SystemExit) as exit_:
        run(session, argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert session.clients == {}  # no AWS client was even made


def test_traffic_comes_from_the_usage_profile(tmp_path, capsys):
    profile = tmp_path / "usage.yml"
    profile.write_text(
        "endpoints:\n  chat:\n    requests_per_day: 2000\n    input_tokens: 800\n"
        "    output_tokens: 300\n    concurrency: 8\n    tokens_per_second: 40\n"
    )
    argv = [a for a in BASE if a not in ("--input-tokens", "800", "--output-tokens", "300")]
    argv = argv[: argv.index("--concurrency")]
    session = FakeSession()
    config, job, sagemaker = stub_start(session)  # the same spec, hence the same names
    sagemaker.add_response(
        "describe_ai_recommendation_job",
        described(job, "Completed", []),
        {"AIRecommendationJobName": job},
    )
    stub_end(sagemaker, config, job)
    assert run(session, [*argv, "--usage", str(profile), "--endpoint", "chat"]) == 0
    session.assert_no_pending_responses()


def test_a_profile_without_the_endpoint_names_the_ones_it_has(tmp_path, capsys):
    profile = tmp_path / "usage.yml"
    profile.write_text("endpoints:\n  p4d:\n    requests_per_day: 10\n    service_seconds: 5\n")
    argv = BASE[: BASE.index("--input-tokens")]
    with pytest.raises(SystemExit):
        run(FakeSession(), [*argv, "--usage", str(profile), "--endpoint", "chat"])
    assert "--endpoint chat: not in" in capsys.readouterr().err


def test_the_names_fit_the_api_and_follow_the_request():
    config, job = names()
    assert config != job
    for name in (config, job):
        assert len(name) <= rec.NAME_MAX
    other = recommendation_names("genai-opt-dev", SPEC, MODEL, "throughput", [], OUTPUT)
    assert other[1] != job


def test_the_request_the_domain_builds_is_botocores(capsys):
    """Stubber validates every request above; this one checks the optional members too."""
    session = FakeSession()
    client = session.client("sagemaker")
    stubber = session.stub("sagemaker")
    request = rec.job_request(
        name="genai-opt-dev-rec-1",
        model_s3_uri=MODEL,
        output_s3_uri=OUTPUT,
        workload_config="wl",
        role_arn=ROLE,
        target="cost",
        instance_types=["ml.g6e.12xlarge"],
        framework="VLLM",
        optimize=True,
    )
    stubber.add_response(
        "create_ai_recommendation_job", {"AIRecommendationJobArn": f"{ACCOUNT_ARN}:x/y"}
    )
    client.create_ai_recommendation_job(**request)
    assert request["InferenceSpecification"] == {"Framework": "VLLM"}
    assert request["OptimizeModel"] is True


def test_results_go_to_the_deployments_artifacts_bucket_by_default(capsys):
    session = FakeSession()
    storage = {
        "region": "us-east-1",
        "artifacts_bucket": "genai-artifacts",
        "inference_bucket": "genai-inference",
        "kms_key_arn": f"arn:aws:kms:us-east-1:111122223333:key/{KEY_ID}",
    }
    session.stub("ssm").add_response(
        "get_parameters_by_path",
        {
            "Parameters": [
                {"Name": "/genai-opt/dev/deployment/storage", "Value": json.dumps(storage)}
            ]
        },
        {"Path": "/genai-opt/dev/deployment", "Recursive": True, "WithDecryption": True},
    )
    # The same request as BASE without --output-s3-uri: OUTPUT is that bucket's default prefix.
    argv = [a for a in BASE if a not in ("--output-s3-uri", OUTPUT)]
    config, job, sagemaker = stub_start(session)
    sagemaker.add_response(
        "describe_ai_recommendation_job",
        described(job, "Completed", [RECOMMENDATION]),
        {"AIRecommendationJobName": job},
    )
    stub_end(sagemaker, config, job)
    assert run(session, argv) == 0
    session.assert_no_pending_responses()


def test_a_clean_up_that_is_refused_is_a_warning_not_a_traceback(capsys):
    session = FakeSession()
    _, job, sagemaker = stub_start(session)
    sagemaker.add_response(
        "describe_ai_recommendation_job",
        described(job, "Completed", [RECOMMENDATION]),
        {"AIRecommendationJobName": job},
    )
    sagemaker.add_client_error("delete_ai_workload_config", "AccessDeniedException")
    sagemaker.add_response(
        "delete_ai_recommendation_job",
        {"AIRecommendationJobArn": f"{ACCOUNT_ARN}:ai-recommendation-job/{job}"},
        {"AIRecommendationJobName": job},
    )
    assert run(session, [*BASE, "--delete-job"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: delete_ai_workload_config")
    assert "Traceback" not in err
    session.assert_no_pending_responses()


def run_promoting(tmp_path, argv, recommendations):
    config_path = tmp_path / "cdk.json"
    config_path.write_text((ROOT / "cdk.json").read_text())
    session = FakeSession()
    config, job, sagemaker = stub_start(session)
    sagemaker.add_response(
        "describe_ai_recommendation_job",
        described(job, "Completed", recommendations),
        {"AIRecommendationJobName": job},
    )
    stub_end(sagemaker, config, job)
    clock = FakeClock()
    code = recommend.main(
        [*BASE, *argv], session=session, sleep=clock.sleep, now=clock.now, config_path=config_path
    )
    return code, json.loads(config_path.read_text())


def test_promote_writes_a_checked_custom_entry_with_the_recommendations_environment(
    tmp_path, capsys
):
    code, config = run_promoting(tmp_path, ["--endpoint", "chat", "--promote", "1"],
                                 [RECOMMENDATION])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    chat = config["context"]["workbench"]["environments"]["dev"]["endpoints"]["chat"]
    assert chat["enabled"] is True and chat["instance_type"] == "ml.p4d.24xlarge"
    assert chat["model"] == {"s3_uri": MODEL, "accept_eula": False}
    assert chat["serving"] == {
        "engine": "custom",
        "image_uri": RECOMMENDATION["DeploymentConfiguration"]["ImageUri"],
        "environment": {"SM_VLLM_TENSOR_PARALLEL_SIZE": "4"},
    }
    out = capsys.readouterr().out
    assert "It recommends 1 instance(s) and 2 copies per instance" in out


def test_promote_of_a_pinned_image_splits_its_typed_settings(tmp_path, capsys):
    lmi = dict(RECOMMENDATION["DeploymentConfiguration"])
    lmi["ImageUri"] = (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.36.0-lmi20.0.0-cu128"
    )
    lmi["EnvironmentVariables"] = {
        "OPTION_TENSOR_PARALLEL_DEGREE": "8",
        "OPTION_MAX_MODEL_LEN": "8192",
    }
    code, config = run_promoting(
        tmp_path, ["--endpoint", "p4d", "--promote", "1"],
        [{**RECOMMENDATION, "DeploymentConfiguration": lmi}],
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    serving = config["context"]["workbench"]["environments"]["dev"]["endpoints"]["p4d"]["serving"]
    assert serving["engine"] == "vllm"
    assert (serving["tensor_parallel_degree"], serving["max_model_len"]) == (8, 8192)


@pytest.mark.parametrize(
    ("argv", "recommendations", "message"),
    [
        (["--endpoint", "chat", "--promote", "2"], [RECOMMENDATION], "--promote 2: the job gave 1"),
        (
            ["--endpoint", "chat", "--promote", "1"],
            [{**RECOMMENDATION, "DeploymentConfiguration": {
                **RECOMMENDATION["DeploymentConfiguration"],
                "S3": [{"ChannelName": "base", "Uri": MODEL},
                       {"ChannelName": "draft", "Uri": MODEL + "draft/"}]}}],
            "recommendation.channels: names no model channel",
        ),
        (
            ["--endpoint", "chat", "--promote", "1"],
            [{**RECOMMENDATION, "DeploymentConfiguration": {
                **RECOMMENDATION["DeploymentConfiguration"], "InstanceType": "ml.inf2.48xlarge"}}],
            "cdk.json left unchanged: the promoted entry is invalid",
        ),
    ],
)  # fmt: skip
def test_a_promotion_that_cannot_be_written_leaves_cdk_json_as_it_was(
    tmp_path, capsys, argv, recommendations, message
):
    before = (ROOT / "cdk.json").read_text()
    code, config = run_promoting(tmp_path, argv, recommendations)
    assert code == 1
    assert message in capsys.readouterr().err
    assert config == json.loads(before)


def test_promote_needs_the_endpoint_to_write(capsys):
    with pytest.raises(SystemExit):
        run(FakeSession(), [*BASE, "--promote", "1"])
    assert "--promote N (from 1) needs --endpoint KEY" in capsys.readouterr().err


def test_the_month_of_the_profiles_traffic_is_estimated_for_each_recommendation(
    dev, tmp_path, capsys
):
    profile = tmp_path / "usage.yml"
    profile.write_text(
        "days: 3\nendpoints:\n  p4d: {requests_per_day: 30, input_tokens: 800, "
        "output_tokens: 300, concurrency: 8, tokens_per_second: 40}\n"
    )
    twice = {**RECOMMENDATION, "DeploymentConfiguration": {
        **RECOMMENDATION["DeploymentConfiguration"], "InstanceCount": 2}}  # fmt: skip
    numbers = BASE[BASE.index("--input-tokens") :]
    argv = [a for a in BASE if a not in numbers]
    argv += ["--usage", str(profile), "--endpoint", "p4d", "--assembly", dev.assembly.directory]
    session = FakeSession()
    config, job, sagemaker = stub_start(session)
    sagemaker.add_response(
        "describe_ai_recommendation_job",
        described(job, "Completed", [RECOMMENDATION, twice]),
        {"AIRecommendationJobName": job},
    )
    stub_end(sagemaker, config, job)
    assert run(session, argv) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("1 ", "2 "))]
    months = [float(row.split()[-2].replace(",", "")) for row in rows]
    assert months[0] > 0 and months[1] == pytest.approx(2 * months[0], abs=1)
    assert (
        "$/month: estimated: usage simulator, 3 days of p4d's traffic at the profile's speed" in out
    )


def test_a_recommendation_is_priced_on_its_own_instance_type_where_the_endpoint_has_pools(
    realtime, tmp_path
):
    """`chat` of the realtime variant falls back from g5 to g6e (InstancePools): the month of
    a p4d recommendation is the p4d's, not the endpoint's first pool's."""
    profile = {"days": 1, "endpoints": {"chat": {"requests_per_day": 20, "service_seconds": 30}}}
    p4d = rec.Recommendation("ml.p4d.24xlarge", 1, 1, "image", (), ())
    g5 = rec.Recommendation("ml.g5.12xlarge", 1, 1, "image", (), ())
    months = month_costs(
        [p4d, g5],
        profile=profile,
        endpoint="chat",
        assembly=Path(realtime.assembly.directory),
        base=tmp_path,
    )
    assert "ml.p4d.24xlarge at $37.688/h" in months[0][1]
    assert "ml.g5.12xlarge at $7.09/h" in months[1][1]
    assert months[0][0] > 5 * months[1][0]
