"""Measured speed of a served variant: read from an AIPerf export, stored as a record, read back.

Two runners measure: a SageMaker AI benchmark job (NVIDIA AIPerf against a realtime endpoint's
OpenAI-compatible chat route; its `output.tar.gz` holds `profile_export_aiperf.json`), and the
notebook client's async runner (end to end through the async queue). Both report under the
names below, so the comparison, the cost simulator and the notebooks read one record format.
The AIPerf names and units are AIPerf's own (tests read an export recorded by running AIPerf,
tests/fixtures/aiperf/record.py).

Records live in the artifacts bucket, one object per run:
`measurements/<endpoint-key>/speed/<run>.json`; the newest `measured_at` is the one read.
"""

from __future__ import annotations

import io
import json
import math
import statistics
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from workbench_domain.errors import ValidationError, record_fields

PREFIX = "measurements"
SPEED = "speed"
AIPERF_EXPORT = "profile_export_aiperf.json"
AIPERF_RECORDS = "profile_export.jsonl"
# What a benchmark job's archive holds that the report reads (the export, and the plots AWS's
# sample shows, `plots/*.png`); anything else stays in S3.
_READ_FROM_ARCHIVE = (AIPERF_EXPORT,)
PLOT_SUFFIX = ".png"
_MAX_MEMBER_BYTES = 64 * 1024 * 1024

# AIPerf metric -> the unit this record stores it in (the export states its unit; a different
# one is refused rather than silently converted).
_AIPERF_UNITS = {
    "time_to_first_token": "ms",
    "inter_token_latency": "ms",
    "request_latency": "ms",
    "output_token_throughput": "tokens/sec",
    "output_token_throughput_per_user": "tokens/sec/user",
    "request_count": "requests",
    "request_error_rate": "%",
}
PERCENTILES = ("p50", "p90", "p95", "p99")


@dataclass(frozen=True)
class Distribution:
    """Percentiles of one per-request metric (None where the runner cannot measure it)."""

    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None


@dataclass(frozen=True)
class Speed:
    """One variant's measured speed under one workload.

    `ttft_ms` and `itl_ms` need a streamed answer; the async runner leaves them empty and its
    `request_latency_ms` is submission to result file, queueing included."""

    endpoint_key: str
    runner: str  # "ai-benchmark-job" or "async-runner"
    run: str  # the job's name, or the runner's run id
    measured_at: str  # ISO 8601, UTC
    requests: int
    error_rate_percent: float
    concurrency: int
    input_tokens: int
    output_tokens: int
    ttft_ms: Distribution
    itl_ms: Distribution
    request_latency_ms: Distribution
    # Output tokens per second of one request (what the usage simulator's tokens_per_second is).
    tokens_per_second_per_request: float | None
    # Output tokens per second over the whole run, all requests together.
    tokens_per_second: float | None
    instance_type: str = ""
    instances: int = 1
    source: str = ""  # where the numbers are, e.g. the S3 URI of the job's output

    def key(self) -> str:
        """Its object key in the artifacts bucket."""
        return f"{PREFIX}/{self.endpoint_key}/{SPEED}/{self.run}.json"


def percentile_cuts(samples: Sequence[float]) -> list[float]:
    """The 1st..99th percentiles of `samples` (at least one), by linear interpolation between
    order statistics (numpy's default). Python < 3.13 needs two points for quantiles, and one
    sample is every percentile of itself."""
    ordered = sorted(float(s) for s in samples)
    if len(ordered) == 1:
        return ordered * 99
    return statistics.quantiles(ordered, n=100, method="inclusive")


def distribution(samples: Sequence[float]) -> Distribution:
    """The Distribution of per-request samples (empty without samples)."""
    if not samples:
        return Distribution()
    cuts = percentile_cuts(samples)
    return Distribution(p50=cuts[49], p90=cuts[89], p95=cuts[94], p99=cuts[98])


def _metric(export: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = export.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(f"{AIPERF_EXPORT}.{name}", "must be an object", value)
    unit = value.get("unit")
    if unit != _AIPERF_UNITS[name]:
        raise ValidationError(
            f"{AIPERF_EXPORT}.{name}.unit", "unexpected", unit, _AIPERF_UNITS[name]
        )
    return value


def finite_number(where: str, value: Any, *, optional: bool = True) -> float | None:
    """A record's number as a float; None where it may be missing; one error naming it else."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(where, "must be a finite number", value)
    return float(value)


def _distribution(export: Mapping[str, Any], name: str) -> Distribution:
    metric = _metric(export, name) or {}
    return Distribution(
        **{p: finite_number(f"{AIPERF_EXPORT}.{name}.{p}", metric.get(p)) for p in PERCENTILES}
    )


def _average(export: Mapping[str, Any], name: str) -> float | None:
    metric = _metric(export, name)
    return (
        None if metric is None else finite_number(f"{AIPERF_EXPORT}.{name}.avg", metric.get("avg"))
    )


def speed_from_aiperf(
    export: Any,
    *,
    endpoint_key: str,
    run: str,
    measured_at: str,
    concurrency: int,
    input_tokens: int,
    output_tokens: int,
    instance_type: str = "",
    instances: int = 1,
    source: str = "",
) -> Speed:
    """The Speed of an AIPerf `profile_export_aiperf.json` document."""
    if not isinstance(export, Mapping):
        raise ValidationError(AIPERF_EXPORT, "must be a JSON object", export)
    requests = _average(export, "request_count")
    if requests is None:
        raise ValidationError(f"{AIPERF_EXPORT}.request_count", "missing: no request was measured")
    return Speed(
        endpoint_key=endpoint_key,
        runner="ai-benchmark-job",
        run=run,
        measured_at=measured_at,
        requests=int(requests),
        error_rate_percent=_average(export, "request_error_rate") or 0.0,
        concurrency=concurrency,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        ttft_ms=_distribution(export, "time_to_first_token"),
        itl_ms=_distribution(export, "inter_token_latency"),
        request_latency_ms=_distribution(export, "request_latency"),
        tokens_per_second_per_request=_average(export, "output_token_throughput_per_user"),
        tokens_per_second=_average(export, "output_token_throughput"),
        instance_type=instance_type,
        instances=instances,
        source=source,
    )


def read_archive(data: bytes) -> dict[str, bytes]:
    """The files of a benchmark job's `output.tar.gz` that the report reads, by base name: the
    AIPerf export and the PNG plots.

    Only regular files are read, and none larger than 64 MiB: the archive is the service's,
    but it lands in the user's bucket, so it is not extracted to disk or trusted for paths."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive.getmembers():
                name = member.name.rsplit("/", 1)[-1]
                wanted = name in _READ_FROM_ARCHIVE or name.endswith(PLOT_SUFFIX)
                if not member.isfile() or not wanted:
                    continue
                if member.size > _MAX_MEMBER_BYTES:
                    raise ValidationError(member.name, "too large", member.size)
                extracted = archive.extractfile(member)
                if extracted is not None:
                    found[name] = extracted.read()
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ValidationError("output.tar.gz", f"not a gzip tar archive ({error})") from None
    if AIPERF_EXPORT not in found:
        raise ValidationError("output.tar.gz", f"holds no {AIPERF_EXPORT}")
    return found


def to_document(speed: Speed) -> dict[str, Any]:
    return asdict(speed)


def parse_speed(document: Any, where: str = "speed record") -> Speed:
    """A stored Speed record; a ValidationError names the first bad field."""
    values = record_fields(Speed, document, where)
    for name in ("ttft_ms", "itl_ms", "request_latency_ms"):
        raw = values[name]
        if not isinstance(raw, Mapping) or set(raw) - set(PERCENTILES):
            raise ValidationError(f"{where}.{name}", "must map percentiles to numbers", raw)
        values[name] = Distribution(
            **{p: finite_number(f"{where}.{name}.{p}", raw.get(p)) for p in PERCENTILES}
        )
    for name in ("tokens_per_second_per_request", "tokens_per_second", "error_rate_percent"):
        values[name] = finite_number(f"{where}.{name}", values[name])
    for name in ("requests", "concurrency", "input_tokens", "output_tokens"):
        if type(values[name]) is not int or values[name] < 0:
            raise ValidationError(f"{where}.{name}", "must be a whole number >= 0", values[name])
    instances = values.get("instances", 1)
    if type(instances) is not int or instances < 1:
        raise ValidationError(f"{where}.instances", "must be a whole number >= 1", instances)
    return Speed(**values)


def newest(documents: list[Any], where: str = "speed records") -> Speed | None:
    """The most recently measured of several stored records (ISO 8601 sorts by time)."""
    parsed = [parse_speed(d, f"{where}[{i}]") for i, d in enumerate(documents)]
    return max(parsed, key=lambda s: s.measured_at, default=None)


def loads(text: str | bytes, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValidationError(where, f"not JSON ({error})") from None
