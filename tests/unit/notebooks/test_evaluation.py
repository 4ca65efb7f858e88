"""The evaluation adapter inside lm-evaluation-harness: the harness's own GSM8K task
configuration on GSM8K's first test documents (tests/fixtures/gsm8k, recorded from
openai/grade-school-math), answered through the client's real async and realtime paths
(moto S3, Stubber runtime), scored by the harness."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import lm_eval
import pytest
import yaml
from botocore.response import StreamingBody
from botocore.stub import ANY
from genai_workbench.evaluation import EndpointLM, cut_at_stop, evaluate_endpoint, greedy_payload

from tests.unit.notebooks.aws_standin import LMI_CHAT_ANSWER
from tests.unit.notebooks.client_kit import put, stubbed
from workbench_domain import accuracy as acc

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "gsm8k" / "test.jsonl"
ROWS = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
AT = datetime(2026, 12, 7, tzinfo=UTC)


def gsm8k_task(cache: Path) -> dict:
    """The harness's gsm8k.yaml, reading the recorded rows instead of the Hub's copy (cached
    in the test's folder, not the user's)."""
    config = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks/gsm8k/gsm8k.yaml").read_text())
    config.pop("tag", None)
    config.update(
        dataset_path="json",
        dataset_name=None,
        dataset_kwargs={
            "data_files": {"test": str(FIXTURE), "train": str(FIXTURE)},
            "cache_dir": str(cache),
        },
    )
    return config


def test_the_async_path_sends_greedy_lmi_requests_and_the_harness_scores_the_answers(
    deployment, s3, tmp_path
):
    info = deployment.endpoint("p4d")
    runtime = stubbed(deployment, "sagemaker-runtime")
    # Every answer is Janet's: right for document 0 only; the stop string cuts what follows.
    body = json.dumps({"generated_text": "9 eggs, $2 each\n#### 18\n\nQuestion: next"}).encode()
    for i in range(len(ROWS)):
        output = f"{info.output_prefix}eval-{i}.out"
        put(s3, output, body)
        runtime.add_response(
            "invoke_endpoint_async",
            {"InferenceId": f"eval-{i}", "OutputLocation": output},
            {
                "EndpointName": info.endpoint_name,
                "ContentType": "application/json",
                "Accept": "application/json",
                "InputLocation": ANY,
                "InferenceId": ANY,
                "RequestTTLSeconds": ANY,
                "InvocationTimeoutSeconds": ANY,
            },
        )
    [found] = evaluate_endpoint(
        deployment, "p4d", tasks=[gsm8k_task(tmp_path)], limit=8, num_fewshot=0, concurrency=3,
        run="eval-1", measured_at=AT,
    )  # fmt: skip
    runtime.assert_no_pending_responses()
    assert (found.task, found.metric, found.samples) == ("gsm8k", "exact_match,strict-match", 8)
    assert found.value == pytest.approx(1 / 8)
    # The harness's closed-form standard error of a mean: sqrt(p(1-p) n/(n-1)) / sqrt(n).
    assert found.stderr == pytest.approx(math.sqrt(1 / 8 * 7 / 8 * 8 / 7) / math.sqrt(8))
    assert found.per_document == {str(i): float(i == 0) for i in range(8)}
    assert found.settings["limit"] == 8 and found.settings["num_fewshot"] == 0
    assert found.harness == "lm-evaluation-harness 0.4.13"
    # What went into the queue: LMI's greedy text-generation request with the task's stops.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="genai-inference-bucket",
                                                Prefix="async/p4d/input/")["Contents"]]  # fmt: skip
    sent = json.loads(s3.get_object(Bucket="genai-inference-bucket", Key=keys[0])["Body"].read())
    assert sent["inputs"].startswith("Question: ") and sent["inputs"].endswith("\nAnswer:")
    assert sent["parameters"] == {
        "max_new_tokens": 256,
        "do_sample": False,
        "stop": ["Question:", "</s>", "<|im_end|>"],
    }


def test_the_realtime_path_asks_the_chat_route_greedily(deployment, runtime):
    _, stubber = runtime
    answer = json.dumps(
        {**LMI_CHAT_ANSWER, "choices": [{**LMI_CHAT_ANSWER["choices"][0],
                                         "message": {"role": "assistant", "content": "#### 3"}}]}
    ).encode()  # fmt: skip
    stubber.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(answer), len(answer))},
        {
            "EndpointName": deployment.realtime_endpoint("chat").endpoint_name,
            "InferenceComponentName": deployment.realtime_endpoint("chat").inference_component_name,
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": ANY,
        },
    )
    lm = EndpointLM(deployment, "chat")
    assert lm._send([("Question: robe?", 64, ["Question:"])]) == ["#### 3"]


def test_stops_cut_the_answer_and_an_endpoint_gives_no_log_likelihoods():
    assert cut_at_stop("a #### 3\n\nQuestion: b", ["Question:", "</s>"]) == "a #### 3\n\n"
    assert greedy_payload("p", max_new_tokens=9, stop=[]) == {
        "inputs": "p",
        "parameters": {"max_new_tokens": 9, "do_sample": False},
    }
    with pytest.raises(Exception, match="no log-likelihoods"):
        EndpointLM(None, "p4d").loglikelihood([])


def test_paired_differences_use_the_shared_documents_only():
    def record(endpoint, scores):
        value = sum(scores.values()) / len(scores)
        metric = "exact_match,strict-match"
        return acc.Accuracy(endpoint, "r", AT.isoformat(), "gsm8k", metric, value, None,
                            len(scores), scores)  # fmt: skip

    base = record("base", {"0": 1.0, "1": 1.0, "2": 0.0, "3": 1.0})
    variant = record("awq", {"0": 1.0, "1": 0.0, "2": 0.0, "3": 0.0, "9": 1.0})
    mean, stderr = acc.paired_difference(variant, base)
    # Hand-computed: deltas 0, -1, 0, -1; mean -0.5; sample sd 0.57735; / sqrt(4) = 0.288675.
    assert mean == pytest.approx(-0.5) and stderr == pytest.approx(0.288675, abs=1e-6)
    assert acc.paired_difference(record("x", {"7": 1.0}), base) is None


def test_the_greedy_request_is_what_the_cited_lmi_rows_read():
    """do_sample and stop are the LMI vLLM images' (their cited sources), for every pinned row
    an async endpoint may run."""
    from workbench_domain import serving_images

    payload = greedy_payload("p", max_new_tokens=8, stop=["Q:"])
    for row in serving_images.images():
        if row.engine != "vllm":
            continue
        quotes = {s.get("quote") for s in row.sources}
        assert 'do_sample = parameters.pop("do_sample", None)' in quotes, row.tag
        assert "completion_dict.update(parameters)" in quotes, row.tag
        assert "stop: str | list[str] | None = []" in quotes, row.tag
    assert payload["parameters"] == {"max_new_tokens": 8, "do_sample": False, "stop": ["Q:"]}
