"""make evaluate: the cost printed first, the harness run through the adapter, records stored;
bad input and a missing harness dependency are one line."""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY

import workbench.evaluate as evaluate
from tests.unit.workbench.helpers import FakeSession
from tests.unit.workbench.test_benchmark import BUCKET, DOC, stub_deployment
from tests.unit.workbench_domain.test_measurements import speed
from workbench import measured
from workbench_domain import accuracy as acc
from workbench_domain import measurements as m


def test_the_estimate_uses_the_measured_speed_or_says_it_assumed_one():
    measured_speed = speed(endpoint_key="p4d", run="bench-1")
    text = evaluate.estimate(
        tasks=["gsm8k", "ifeval"], limit=100, concurrency=4, price_usd_per_hour=37.688,
        speed=measured_speed,
    )  # fmt: skip
    # Hand-computed: (256 + 1280) * 100 = 153,600 tokens / (97.94 * 4) / 3600 = 0.109 h.
    hours = 153_600 / (measured_speed.tokens_per_second_per_request * 4) / 3600
    assert "200 requests, at most 153,600 output tokens" in text
    assert f"{hours:.2f} h of the endpoint at $37.688/h = ${hours * 37.688:,.2f}" in text
    assert "(measured by ai-benchmark-job bench-1)" in text
    assumed = evaluate.estimate(
        tasks=["gsm8k"], limit=10, concurrency=1, price_usd_per_hour=10.0, speed=None
    )
    assert "20.0 tokens/s per request (assumed, nothing measured)" in assumed


def test_a_run_scores_stores_and_prints_each_task(tmp_path, capsys, monkeypatch):
    """The harness itself runs through the adapter in tests/unit/notebooks/test_evaluation.py;
    here, what the command asks of it and does with its answer."""
    session = FakeSession()
    stub_deployment(session)
    session.stub("s3").add_response(
        "put_object",
        {},
        {
            "Bucket": BUCKET,
            "Key": ANY,
            "Body": ANY,
            "ContentType": "application/json",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": DOC["storage"]["kms_key_arn"],
        },
    )
    asked = {}

    def harness(deployment, key, **kwargs):
        asked.update(key=key, **kwargs)
        scores = {str(i): float(i % 2 == 0) for i in range(8)}
        return [
            acc.Accuracy(key, kwargs["run"], kwargs["measured_at"].isoformat(), "gsm8k",
                         "exact_match,strict-match", 0.5, 0.189, 8, scores,
                         "lm-evaluation-harness 0.4.13", {"limit": 8})
        ]  # fmt: skip

    monkeypatch.setattr("genai_workbench.evaluation.evaluate_endpoint", harness)
    argv = ["--env", "dev", "--endpoint", "p4d", "--limit", "8", "--num-fewshot", "0"]
    assert evaluate.main(argv, session=session, local_root=tmp_path) == 0
    session.assert_no_pending_responses()
    assert (asked["key"], asked["tasks"], asked["limit"], asked["num_fewshot"]) == (
        "p4d", ["gsm8k"], 8, 0,
    )  # fmt: skip
    out = capsys.readouterr().out
    assert out.index("Estimate: 8 requests") < out.index("gsm8k: exact_match,strict-match = 0.500")
    assert "(95 % interval 0.130..0.870)" in out
    stored = measured.load_accuracies("dev", tmp_path)["p4d"]["gsm8k"]
    assert stored.value == 0.5 and stored.samples == 8
    assert stored.key().startswith("measurements/p4d/accuracy/eval-")


def test_a_dry_run_prints_the_estimate_and_sends_nothing(tmp_path, capsys):
    session = FakeSession()
    stub_deployment(session)
    measured.save("dev", "measurements/p4d/speed/b.json", m.to_document(speed(endpoint_key="p4d")),
                  tmp_path)  # fmt: skip
    argv = ["--env", "dev", "--endpoint", "p4d", "--dry-run"]
    assert evaluate.main(argv, session=session, local_root=tmp_path) == 0
    assert "(measured by ai-benchmark-job job)" in capsys.readouterr().out
    session.assert_no_pending_responses()


def test_a_missing_task_dependency_is_one_line_naming_the_install(tmp_path, capsys, monkeypatch):
    session = FakeSession()
    stub_deployment(session)

    def missing(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'langdetect'", name="langdetect")

    monkeypatch.setattr("genai_workbench.evaluation.evaluate_endpoint", missing)
    argv = ["--env", "dev", "--endpoint", "p4d", "--tasks", "ifeval"]
    assert evaluate.main(argv, session=session, local_root=tmp_path) == 2
    err = capsys.readouterr().err
    assert err == (
        'error: langdetect: not installed; pip install "lm-eval[ifeval]==0.4.13" '
        "(the tasks this command runs need it)\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--endpoint", "p4d", "--limit", "0"], "--limit and --concurrency must be >= 1"),
        (["--endpoint", "p4d", "--tasks", "mmlu"], "invalid choice: 'mmlu'"),
        (["--endpoint", "p4d", "--num-fewshot", "-1"], "--num-fewshot >= 0"),
    ],
)
def test_bad_flags_are_one_usage_line(argv, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        evaluate.main(["--env", "dev", *argv], session=FakeSession())
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_every_task_has_a_primary_metric_and_a_longest_answer():
    assert set(evaluate.MAX_ANSWER_TOKENS) == set(acc.TASK_METRICS)
    assert json.dumps(acc.TASK_METRICS)  # plain data, as records store it


def test_task_metrics_and_answer_lengths_are_the_harness_own():
    """The primary metric and longest answer of each task, read in lm-eval's task files (GSM8K
    sets no max_gen_toks: the adapter's default, the harness's 256, applies)."""
    from pathlib import Path

    import lm_eval
    import yaml
    from genai_workbench.evaluation import DEFAULT_MAX_TOKENS

    tasks = Path(lm_eval.__file__).parent / "tasks"
    # The harness's own API models default to 256 tokens (lm_eval/models/api_models.py).
    assert "max_gen_toks: int = 256" in (tasks.parent / "models" / "api_models.py").read_text()
    assert DEFAULT_MAX_TOKENS == 256

    def config(name: str) -> dict:
        text = (tasks / name / f"{name}.yaml").read_text()
        return yaml.safe_load(text.replace("!function ", ""))  # a tag the harness resolves

    for task, metric in acc.TASK_METRICS.items():
        found = config(task)
        name, _, filter_name = metric.partition(",")
        assert name in [m["metric"] for m in found["metric_list"]], task
        filters = [f["name"] for f in found.get("filter_list", [])] or ["none"]
        assert filter_name in filters, task
        length = found["generation_kwargs"].get("max_gen_toks", DEFAULT_MAX_TOKENS)
        assert evaluate.MAX_ANSWER_TOKENS[task] == length, task


def test_a_dataset_the_harness_cannot_fetch_is_one_line(tmp_path, capsys, monkeypatch):
    session = FakeSession()
    stub_deployment(session)

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'openai/gsm8k' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr("genai_workbench.evaluation.evaluate_endpoint", offline)
    argv = ["--env", "dev", "--endpoint", "p4d"]
    assert evaluate.main(argv, session=session, local_root=tmp_path) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: lm-evaluation-harness: ConnectionError: Couldn't reach 'openai/gsm8k' on the Hub "
        "(LocalEntryNotFoundError)\n"
    )


def test_an_endpoint_that_is_not_deployed_is_one_line_and_nothing_runs(tmp_path, capsys):
    session = FakeSession()
    stub_deployment(session)
    argv = ["--env", "dev", "--endpoint", "nope", "--dry-run"]
    assert evaluate.main(argv, session=session, local_root=tmp_path) == 1
    assert "error: --endpoint nope: not deployed (deployed: chat, inf2, p4d)" in (
        capsys.readouterr().err
    )
    session.assert_no_pending_responses()  # read the records; no other call is stubbed
