"""workbench_domain.speculative_metrics: vLLM's log line, and what the report says per image."""

from __future__ import annotations

import dataclasses
import re

import pytest

from workbench_domain import serving_images
from workbench_domain import speculative_metrics as sm

# vLLM's format string (v0.12.0 and v0.15.1 vllm/v1/spec_decode/metrics.py, lines 100-108),
# rendered with Python's % operator as its logger does, behind a vLLM log prefix.
FORMAT = (
    "SpecDecoding metrics: "
    "Mean acceptance length: %.2f, "
    "Accepted throughput: %.2f tokens/s, "
    "Drafted throughput: %.2f tokens/s, "
    "Accepted: %d tokens, "
    "Drafted: %d tokens, "
    "Per-position acceptance rate: %s, "
    "Avg Draft acceptance rate: %.1f%%"
)


def line(length: float, accepted: int, drafted: int) -> str:
    values = (length, accepted / 10, drafted / 10, accepted, drafted, "0.700, 0.400", 0.0)
    return "(APIServer pid=1) INFO 12-07 10:00:00 [metrics.py:100] " + FORMAT % values


def test_lines_are_summed_and_the_length_weighted_by_drafted_tokens():
    found = sm.acceptance([line(3.0, 300, 400), "INFO unrelated", line(2.0, 100, 400)])
    # Hand-computed: 400 of 800 drafted tokens accepted; (3.0 * 400 + 2.0 * 400) / 800 = 2.5.
    assert found == sm.Acceptance(lines=2, accepted_tokens=400, drafted_tokens=800,
                                  mean_acceptance_length=2.5)  # fmt: skip
    assert found.acceptance_rate_percent == 50.0
    assert sm.acceptance(["INFO nothing here"]) is None


def test_the_query_finds_the_line_as_a_regular_expression_would():
    pattern = re.search(r"like /(.*)/ \|", sm.query())[1]
    assert re.search(pattern, line(2.0, 1, 2))
    assert sm.log_group("genai-chat") == "/aws/sagemaker/Endpoints/genai-chat"


def test_the_pinned_lmi_images_write_no_such_line_and_the_report_says_so():
    for row in serving_images.images():
        if row.engine == "vllm":
            assert row.speculative_metrics_log is None
            assert "do_log_stats()" in row.speculative_metrics_note
            cited = {(s["repository"], s["path"]) for s in row.sources}
            assert ("vllm-project/vllm", "vllm/v1/spec_decode/metrics.py") in cited
    lmi = serving_images.image_for("vllm")
    said = sm.status(lmi, configured=True, found=None)
    assert said.startswith(f"configured; not observable on {lmi.tag}: not written to the logs")


@pytest.mark.parametrize(
    ("configured", "found", "said"),
    [
        (False, None, "not configured"),
        (True, None, "configured, but no speculative-decoding metrics in the logs: not active"),
        (True, sm.Acceptance(2, 400, 800, 2.5), "active: 50.0 % of drafted tokens accepted"),
    ],
)
def test_an_image_that_logs_them_is_measured_or_said_inactive(configured, found, said):
    logging = dataclasses.replace(
        serving_images.image_for("vllm"), speculative_metrics_log=sm.LINE_PREFIX
    )
    assert sm.status(logging, configured=configured, found=found).startswith(said)
