"""The client's measurement records in S3 (moto), a benchmark job's archive, and the Logs
Insights query of speculative decoding (Stubber, CloudWatch Logs' service model)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from genai_workbench import measurements as client
from genai_workbench.common import WorkbenchError

from tests.unit.notebooks.client_kit import put, stubbed
from tests.unit.workbench.test_benchmark import PNG, archive
from tests.unit.workbench_domain.test_measurements import speed
from tests.unit.workbench_domain.test_speculative_metrics import line
from workbench_domain import speculative_metrics as sm

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def test_records_round_trip_through_the_bucket_and_the_newest_is_read(deployment, s3):
    older = speed(endpoint_key="p4d", run="old", measured_at="2026-12-01T00:00:00+00:00")
    newer = speed(endpoint_key="p4d", run="new")
    for record in (older, newer):
        uri = client.store_speed(deployment, record)
        assert uri == f"s3://genai-artifacts-bucket/measurements/p4d/speed/{record.run}.json"
    stored = s3.get_object(Bucket="genai-artifacts-bucket", Key=newer.key())
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert client.load_speeds(deployment) == {"p4d": newer}


def test_a_record_that_is_not_json_is_named(deployment, s3):
    put(s3, "s3://genai-artifacts-bucket/measurements/chat/speed/bad.json", b"{not json")
    with pytest.raises(WorkbenchError, match=r"measurements/chat/speed/bad\.json: not JSON"):
        client.load_speeds(deployment)


def test_the_archive_is_found_under_the_jobs_output_location(deployment, s3):
    put(s3, "s3://genai-artifacts-bucket/benchmarks/job-1/output/output.tar.gz", archive())
    found = client.benchmark_export(deployment, "s3://genai-artifacts-bucket/benchmarks/job-1")
    assert found.export["aiperf_version"] == "0.13.0"
    assert found.uri == "s3://genai-artifacts-bucket/benchmarks/job-1/output/output.tar.gz"
    assert found.plots == {"ttft_timeline.png": PNG}
    with pytest.raises(WorkbenchError, match=r"no output/output\.tar\.gz under .*: has the job"):
        client.benchmark_export(deployment, "s3://genai-artifacts-bucket/benchmarks/job-2/")


def test_speculative_acceptance_is_read_with_a_logs_insights_query(deployment):
    logs = stubbed(deployment, "logs")
    info = deployment.endpoint("p4d")
    logs.add_response(
        "start_query",
        {"queryId": "q-1"},
        {
            "logGroupName": f"/aws/sagemaker/Endpoints/{info.endpoint_name}",
            "startTime": int(NOW.timestamp()) - 6 * 3600,
            "endTime": int(NOW.timestamp()),
            "queryString": sm.query(),
            "limit": sm.MAX_LINES,
        },
    )
    logs.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q-1"})
    rows = [
        [{"field": "@timestamp", "value": "2026-12-07 11:00:00.000"},
         {"field": "@message", "value": line(3.0, 300, 400)}],
        [{"field": "@message", "value": line(2.0, 100, 400)}],
    ]  # fmt: skip
    logs.add_response(
        "get_query_results", {"status": "Complete", "results": rows}, {"queryId": "q-1"}
    )
    sleeps = []
    found = client.speculative_acceptance(
        deployment, "p4d", hours=6, sleep=sleeps.append, now=lambda: NOW
    )
    logs.assert_no_pending_responses()
    assert found == sm.Acceptance(2, 400, 800, 2.5) and sleeps == [2]


def test_a_failed_log_query_is_an_error(deployment):
    logs = stubbed(deployment, "logs")
    logs.add_response("start_query", {"queryId": "q-2"})
    logs.add_response("get_query_results", {"status": "Failed", "results": []})
    with pytest.raises(WorkbenchError, match="p4d: the log query ended Failed"):
        client.speculative_acceptance(deployment, "p4d", now=lambda: NOW, sleep=lambda s: None)
