"""The notebook client's endpoint state, metrics and the numbers it derives."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import genai_workbench as wb
import pytest

from tests.unit.notebooks.client_kit import T0, FakeTime, describe_endpoint, stubbed

# -------------------------------------------------------------------- endpoint and metrics


def test_endpoint_instance_count_reads_the_variant(deployment):
    stub = stubbed(deployment, "sagemaker")
    stub.add_response(
        "describe_endpoint",
        describe_endpoint(deployment, 0),
        {"EndpointName": "genai-p4d-endpoint"},
    )
    stub.add_response("describe_endpoint", describe_endpoint(deployment, 2))
    stub.add_response("describe_endpoint", describe_endpoint(deployment, 1, variant="Other"))
    assert wb.endpoint_instance_count(deployment, "p4d") == 0
    assert wb.endpoint_instance_count(deployment, "p4d") == 2
    with pytest.raises(wb.WorkbenchError, match=r"has no such variant; got .AllTraffic."):
        wb.endpoint_instance_count(deployment, "p4d")


def test_watch_instance_count_stops_when_the_condition_holds(deployment):
    stub = stubbed(deployment, "sagemaker")
    for count in (1, 1, 0):
        stub.add_response("describe_endpoint", describe_endpoint(deployment, count))
    printed = []
    samples = wb.watch_instance_count(
        deployment,
        "p4d",
        until=lambda n: n == 0,
        poll_seconds=60,
        printer=printed.append,
        **FakeTime().kwargs(),
    )
    assert [s.count for s in samples] == [1, 1, 0]
    assert len(printed) == 2


def test_metric_series_queries_the_async_metrics_by_endpoint_name(deployment):
    stub = stubbed(deployment, "cloudwatch")
    start, end = T0, T0 + timedelta(minutes=3)
    query = {
        "MetricDataQueries": [
            {
                "Id": f"m{i}",
                "Label": name,
                "ReturnData": True,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SageMaker",
                        "MetricName": name,
                        "Dimensions": [{"Name": "EndpointName", "Value": "genai-p4d-endpoint"}],
                    },
                    "Period": 60,
                    "Stat": "Average",
                },
            }
            for i, name in enumerate(("ApproximateBacklogSize", "HasBacklogWithoutCapacity"))
        ],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    t1, t2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": "m0",
                    "Label": "ApproximateBacklogSize",
                    "Timestamps": [t2],
                    "Values": [0.0],
                    "StatusCode": "PartialData",
                },
                {
                    "Id": "m1",
                    "Label": "HasBacklogWithoutCapacity",
                    "Timestamps": [t1],
                    "Values": [1.0],
                    "StatusCode": "PartialData",
                },
            ],
            "NextToken": "page-2",
        },
        query,
    )
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": "m0",
                    "Label": "ApproximateBacklogSize",
                    "Timestamps": [t1],
                    "Values": [3.0],
                    "StatusCode": "Complete",
                },
            ]
        },
        {**query, "NextToken": "page-2"},
    )
    series = wb.metric_series(deployment, "p4d", start=start, end=end)
    assert series == {
        "ApproximateBacklogSize": [(t1, 3.0), (t2, 0.0)],
        "HasBacklogWithoutCapacity": [(t1, 1.0)],
    }


# ------------------------------------------------------------------------------- numbers


def test_cost_per_million_tokens():
    assert wb.cost_per_million_tokens(36.0, 1000) == pytest.approx(10.0)
    assert wb.cost_per_million_tokens(15.58, 100) == pytest.approx(43.277, abs=1e-3)
    with pytest.raises(wb.WorkbenchError):
        wb.cost_per_million_tokens(10, 0)


def test_latency_summary_interpolates_like_numpy():
    summary = wb.latency_summary(range(1, 101))
    assert summary["p50"] == pytest.approx(50.5)
    assert summary["p90"] == pytest.approx(90.1)
    assert summary["p99"] == pytest.approx(99.01)
    assert (summary["min"], summary["max"], summary["count"]) == (1, 100, 100)
    assert wb.latency_summary([4.0])["p99"] == 4.0
    with pytest.raises(wb.WorkbenchError):
        wb.latency_summary([])


def test_plots_build_figures():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    samples = [wb.InstanceSample(T0, 0), wb.InstanceSample(T0 + timedelta(minutes=5), 1)]
    figure = wb.plot_scaling(samples, {"ApproximateBacklogSize": [(T0, 1.0)]})
    assert len(figure.axes) == 2
    result = wb.BenchmarkResult(
        "p4d",
        "ml.p4d.24xlarge",
        37.688,
        1,
        10.0,
        [wb.BenchmarkSample("a", True, 2.0, 100, False)],
    )
    assert len(wb.plot_benchmarks([result]).axes) == 3
    matplotlib.pyplot.close("all")


def test_module_hard_codes_no_account_or_region():
    files = sorted(Path(wb.__file__).parent.glob("*.py"))
    assert len(files) >= 9  # the package, not only its __init__
    source = "\n".join(path.read_text(encoding="utf-8") for path in files)
    assert not re.search(r"(?<!\d)\d{12}(?!\d)", source)
    assert not re.search(r"\b(us|eu|ap|sa|ca|me|af|il|mx|cn)(-gov)?-[a-z]+-\d\b", source)
    assert "arn:aws:" not in source
