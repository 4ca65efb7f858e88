"""make compare: the table, the plot, the targets and the sources, from stored records (the
offline path; the S3 and Logs reads are the client's, tested with it); bad input."""

from __future__ import annotations

import json

import pytest

import workbench.compare as compare
from tests.unit.workbench_domain.test_measurements import speed
from workbench import measured
from workbench_config import load_config
from workbench_domain import accuracy as acc
from workbench_domain import measurements as m

AT = "2026-12-07T10:00:00+00:00"


def accuracy(key: str, scores: dict[str, float]) -> acc.Accuracy:
    n = len(scores)
    value = sum(scores.values()) / n
    stderr = (value * (1 - value) * n / (n - 1)) ** 0.5 / n**0.5
    settings = {"limit": n, "num_fewshot": 5}
    metric = "exact_match,strict-match"
    return acc.Accuracy(key, "eval-1", AT, "gsm8k", metric, value, stderr, n, scores,
                        "lm-evaluation-harness 0.4.13", settings)  # fmt: skip


BASE = {str(i): 1.0 if i % 4 else 0.0 for i in range(40)}  # 30 of 40 right
SAME_MINUS_ONE = {**BASE, "1": 0.0}  # one document lost


@pytest.fixture
def settings(monkeypatch, config_context):
    context = config_context
    context["environments"]["dev"]["compare"] = {"base_endpoint": "inf2", "max_ttft_p95_ms": 80}
    monkeypatch.setattr(compare, "load_settings", lambda env: load_config(context, env))


def store(speeds=(), accuracies=()) -> None:
    for s in speeds:
        measured.save("dev", s.key(), m.to_document(s))
    for a in accuracies:
        measured.save("dev", a.key(), acc.to_document(a))


def test_variants_are_compared_with_the_base_on_the_same_documents(settings, tmp_path, capsys):
    store(
        speeds=[speed(endpoint_key="p4d", run="genai-opt-dev-bench-1")],
        accuracies=[accuracy("inf2", BASE), accuracy("p4d", SAME_MINUS_ONE)],
    )
    plot = tmp_path / "compare.png"
    assert compare.main(["--env", "dev", "--offline", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    base_row = next(line for line in lines if line.startswith("inf2 "))
    variant_row = next(line for line in lines if line.startswith("p4d "))
    assert lines.index(base_row) < lines.index(variant_row)  # the base first
    # Hand-computed paired difference: deltas are -1 once in 40: mean -0.025; sd sqrt(1/40)
    # = 0.158114; se 0.025; 95 % interval -0.025 +- 0.049 = [-0.074, +0.024].
    assert "-0.025 [-0.074, +0.024]" in variant_row
    # $/M: 37.688 $/h / 3600 / 340.57 tok/s * 1e6 = 30.74; TTFT p95 56 ms <= 80.
    assert "30.74" in variant_row
    # Accuracy: the interval's low end -0.074 is below -0.02: the target is missed.
    assert variant_row.rstrip().endswith("NO") and "misses: accuracy" in out
    assert "speed: measured (ai-benchmark-job genai-opt-dev-bench-1" in out
    assert "gsm8k: measured (lm-evaluation-harness 0.4.13, eval-1)" in out
    assert "p4d: speculative decoding configured; not read (--offline)" in out
    assert "inf2: speculative decoding not configured" in out
    assert plot.stat().st_size > 0


def test_the_month_of_one_traffic_is_estimated_for_each_variant(dev, settings, tmp_path, capsys):
    store(speeds=[speed(endpoint_key="p4d"), speed(endpoint_key="inf2")])
    profile = tmp_path / "usage.yml"
    profile.write_text("days: 3\nendpoints:\n  p4d: {requests_per_day: 40, service_seconds: 9}\n")
    argv = ["--env", "dev", "--offline", "--usage", str(profile), "--traffic", "p4d",
            "--assembly", dev.assembly.directory, "--json"]  # fmt: skip
    assert compare.main(argv) == 0
    rows = {r["variant"]["endpoint_key"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"p4d", "inf2"}
    for row in rows.values():
        assert row["variant"]["month_usd"] > 0
        assert "3 days of p4d's traffic scaled to 30" in row["variant"]["month_source"]
        assert "measured (ai-benchmark-job job" in row["variant"]["month_source"]
        assert any(s.startswith("month: estimated (usage simulator") for s in row["sources"])


def test_nothing_measured_is_one_line_saying_what_to_run(settings, capsys):
    assert compare.main(["--env", "dev", "--offline"]) == 1
    assert capsys.readouterr().err == (
        "error: nothing measured in dev yet: run make benchmark and make evaluate\n"
    )


def test_a_usage_profile_with_several_endpoints_needs_traffic(settings, tmp_path, capsys):
    store(speeds=[speed(endpoint_key="p4d")])
    profile = tmp_path / "usage.yml"
    profile.write_text(
        "endpoints:\n  p4d: {requests_per_day: 1, service_seconds: 9}\n"
        "  chat: {requests_per_day: 1, service_seconds: 9}\n"
    )
    assert compare.main(["--env", "dev", "--offline", "--usage", str(profile)]) == 1
    assert "--traffic: give the profile's endpoint" in capsys.readouterr().err


def test_a_plot_path_that_cannot_be_written_is_one_line_after_the_table(settings, tmp_path, capsys):
    store(accuracies=[accuracy("inf2", BASE), accuracy("p4d", SAME_MINUS_ONE)])
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert compare.main(["--env", "dev", "--offline", "--plot", str(blocker / "x.png")]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("variant")  # the table is printed first
    assert captured.err.startswith(f"error: --plot {blocker / 'x.png'}: ")
    assert len(captured.err.splitlines()) == 1
