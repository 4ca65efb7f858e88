"""workbench_domain.recommendation: the AIPerf workload, the job request, the recommendations."""

from __future__ import annotations

import pytest

from tests.unit.workbench.test_recommend import RECOMMENDATION, described
from workbench_domain import ai_jobs
from workbench_domain import recommendation as rec
from workbench_domain.errors import ValidationError


def test_the_limits_are_botocores():
    assert rec.TARGETS == ("ttft-ms", "throughput", "cost")
    assert rec.MAX_INSTANCE_TYPES == 3
    assert "ml.p4d.24xlarge" in rec.INSTANCE_TYPES
    assert "ml.inf2.48xlarge" not in rec.INSTANCE_TYPES  # GPU instances only
    assert set(ai_jobs.ENDED) <= set(rec.STATUSES) == set(ai_jobs.STATUSES["recommendation"])
    assert set(ai_jobs.ENDED) <= set(ai_jobs.STATUSES["benchmark"])


def test_the_workload_is_the_samples_aiperf_spec():
    spec = rec.workload_spec(input_tokens=800, output_tokens=300, concurrency=8)
    assert spec["benchmark"] == {"type": "aiperf"}
    assert spec["parameters"]["prompt_input_tokens_mean"] == 800
    assert spec["parameters"]["output_tokens_mean"] == 300
    assert spec["parameters"]["concurrency"] == 8


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_a_workload_needs_whole_positive_numbers(bad):
    with pytest.raises(ValidationError, match="output_tokens: must be a whole number >= 1"):
        rec.workload_spec(input_tokens=1, output_tokens=bad, concurrency=1)


def test_a_recommendation_is_read_with_its_units():
    (found,) = rec.recommendations(described("j", "Completed", [RECOMMENDATION]))
    assert (found.instance_type, found.instance_count, found.copies_per_instance) == (
        "ml.p4d.24xlarge",
        1,
        2,
    )
    assert found.optimizations == ("SpeculativeDecoding",)
    assert [str(p) for p in found.performance] == [
        "ttft-ms p50 212 ms",
        "throughput 1840 tokens/s",
    ]
    assert found.channels == {"model": "s3://genai-artifacts/models/llama-3-70b/"}
    assert found.environment == {"SM_VLLM_TENSOR_PARALLEL_SIZE": "4"}


def test_a_running_job_has_no_recommendations_yet():
    assert rec.recommendations(described("j", "InProgress")) == []
