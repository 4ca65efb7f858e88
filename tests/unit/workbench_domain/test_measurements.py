"""workbench_domain.measurements: AIPerf's export (recorded by AIPerf 0.13.0 itself,
tests/fixtures/aiperf/record.py), the archive a benchmark job writes, the stored record."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from workbench_domain import measurements as m
from workbench_domain.errors import ValidationError

EXPORT = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "aiperf" / m.AIPERF_EXPORT).read_text()
)
AT = "2026-12-07T10:20:00+00:00"


def speed(export=EXPORT, **overrides) -> m.Speed:
    values = {"endpoint_key": "chat", "run": "job", "measured_at": AT, "concurrency": 4}
    values.update(input_tokens=64, output_tokens=32, **overrides)
    return m.speed_from_aiperf(export, **values)


def test_the_export_aiperf_writes_is_read_with_its_units():
    assert EXPORT["aiperf_version"] == "0.13.0"
    s = speed()
    assert s.requests == 24 and s.error_rate_percent == 0.0
    assert s.ttft_ms.p50 == EXPORT["time_to_first_token"]["p50"]
    assert s.itl_ms.p99 == EXPORT["inter_token_latency"]["p99"]
    assert s.request_latency_ms.p95 == EXPORT["request_latency"]["p95"]
    assert s.tokens_per_second_per_request == EXPORT["output_token_throughput_per_user"]["avg"]
    assert s.tokens_per_second == EXPORT["output_token_throughput"]["avg"]
    # The stub answered after 50 ms, then a token every 10 ms: what AIPerf measured says so.
    assert 50 <= s.ttft_ms.p50 < 70 and 10 <= s.itl_ms.p50 < 12


def test_a_unit_other_than_aiperfs_is_refused_not_converted():
    export = {**EXPORT, "time_to_first_token": {**EXPORT["time_to_first_token"], "unit": "sec"}}
    with pytest.raises(ValidationError, match=r"time_to_first_token.unit: unexpected; got 'sec'"):
        speed(export)


@pytest.mark.parametrize("bad", [None, [], "text"])
def test_an_export_that_is_not_an_object_is_refused(bad):
    with pytest.raises(
        ValidationError, match=r"profile_export_aiperf\.json: must be a JSON object"
    ):
        speed(bad)


def test_an_export_without_requests_is_refused():
    with pytest.raises(ValidationError, match="request_count: missing"):
        speed({k: v for k, v in EXPORT.items() if k != "request_count"})


def tar(members: dict[str, bytes], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            archive.addfile(info)
    return buffer.getvalue()


def test_the_archive_export_and_plots_are_read_in_memory_by_base_name_links_ignored():
    data = json.dumps(EXPORT).encode()
    files = m.read_archive(
        tar({f"./{m.AIPERF_EXPORT}": data, "plots/ttft.png": b"png"}, link="profile_export.jsonl")
    )
    assert files == {m.AIPERF_EXPORT: data, "ttft.png": b"png"}


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"not a tar", "not a gzip tar archive"), (tar({"x.json": b"{}"}), "holds no profile_")],
    # The gzip header holds the build time: ids from the bytes differ between xdist workers.
    ids=["not-a-tar", "no-export"],
)
def test_a_bad_archive_is_one_error(data, message):
    with pytest.raises(ValidationError, match=message):
        m.read_archive(data)


def test_a_record_survives_its_round_trip_and_the_newest_wins():
    older, newer = speed(run="a", measured_at="2026-12-01T00:00:00+00:00"), speed(run="b")
    documents = [json.loads(json.dumps(m.to_document(s))) for s in (newer, older)]
    assert m.parse_speed(documents[0]) == newer
    assert m.newest(documents) == newer
    assert m.newest([]) is None
    assert newer.key() == "measurements/chat/speed/b.json"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"requests": -1}, "requests: must be a whole number >= 0"),
        ({"ttft_ms": {"p42": 1}}, "ttft_ms: must map percentiles to numbers"),
        ({"tokens_per_second": "fast"}, "tokens_per_second: must be a finite number"),
        # What the comparison and the cost read of it: a count and the time that orders records.
        ({"instances": "2"}, "instances: must be a whole number >= 1"),
        ({"instances": 0}, "instances: must be a whole number >= 1"),
        ({"measured_at": 20261207}, "measured_at: must be a string"),
        ({"endpoint_key": None}, "endpoint_key: must be a string"),
    ],
)
def test_a_bad_record_names_its_field(change, message):
    with pytest.raises(ValidationError, match=message):
        m.parse_speed({**m.to_document(speed()), **change})


def test_a_record_without_a_key_names_what_it_lacks():
    document = m.to_document(speed())
    del document["endpoint_key"]
    with pytest.raises(ValidationError, match=r"lacks key\(s\) endpoint_key"):
        m.parse_speed(document)


def test_percentiles_are_linear_between_order_statistics():
    # Hand-computed: 1..5 inclusive; p50 = 3, p90 = 1 + 0.9 * 4 = 4.6, p99 = 4.96.
    d = m.distribution([5, 1, 4, 2, 3])
    assert (d.p50, d.p90, d.p95, d.p99) == pytest.approx((3, 4.6, 4.8, 4.96))
    assert m.distribution([7.0]) == m.Distribution(7.0, 7.0, 7.0, 7.0)
    assert m.distribution([]) == m.Distribution()
