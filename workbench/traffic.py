"""A usage profile's traffic for one endpoint: its settings (docs/cost.md), the arrival times
they generate (steady, office hours or bursts), or a recorded trace to replay instead."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench_domain.endpoint_kinds import ASYNC, REALTIME
from workbench_domain.errors import shown

MINUTES_PER_DAY = 24 * 60
PATTERNS = ("steady", "office_hours", "bursts")


class ProfileError(ValueError):
    """A traffic profile value is missing or out of range; the message names it."""


# How long a request waits for an answer before it is given up, when the profile sets none:
# an async request is dropped past its RequestTTLSeconds (the notebook client's default,
# `request_ttl_seconds=3600`; the API allows 60..21600); a realtime client stops retrying after
# its wake timeout (the notebook client's WAKE_TIMEOUT_SECONDS, 20 minutes).
DEFAULT_MAX_WAIT_SECONDS = {ASYNC: 3600, REALTIME: 1200}
MAX_WAIT_RANGE_SECONDS = {ASYNC: (60, 21600), REALTIME: (1, 86400)}


@dataclass(frozen=True)
class Traffic:
    requests_per_day: float
    pattern: str = "steady"
    input_tokens: int = 500
    output_tokens: int = 300
    tokens_per_second: float | None = None
    service_seconds: float | None = None
    cold_start_minutes: float | None = None
    concurrency: int | None = None
    max_wait_seconds: float | None = None
    # A recorded trace to replay instead of the pattern (see `load_trace`).
    trace: str | None = None

    @property
    def service_minutes(self) -> float:
        return self.service_minutes_for(self.output_tokens)

    def service_minutes_for(self, output_tokens: int) -> float:
        if self.service_seconds is not None:
            return self.service_seconds / 60
        assert self.tokens_per_second is not None
        return output_tokens / self.tokens_per_second / 60

    def max_wait_minutes(self, kind: str) -> float:
        seconds = self.max_wait_seconds
        return (DEFAULT_MAX_WAIT_SECONDS[kind] if seconds is None else seconds) / 60


def parse_traffic(key: str, raw: Any) -> Traffic:
    where = f"usage endpoints.{key}"
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: expected an object, got {shown(raw)}")
    known = set(Traffic.__dataclass_fields__)
    unknown = sorted(str(k) for k in set(raw) - known)
    if unknown:
        raise ProfileError(
            f"{where}.{shown(unknown[0])}: unknown key; known keys: {', '.join(sorted(known))}"
        )

    def number(name: str, low: float, *, required: bool = False, integer: bool = False) -> Any:
        value = raw.get(name)
        if value is None:
            if required:
                raise ProfileError(f"{where}.{name}: required")
            return None
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            raise ProfileError(f"{where}.{name}: expected a number, got {shown(value)}")
        if not math.isfinite(value):
            raise ProfileError(f"{where}.{name}: got {value!r}; allowed: a finite number")
        if value < low:
            raise ProfileError(f"{where}.{name}: got {value!r}; allowed: >= {low:g}")
        return value

    pattern = raw.get("pattern", "steady")
    if pattern not in PATTERNS:
        raise ProfileError(f"{where}.pattern: got {shown(pattern)}; allowed: {', '.join(PATTERNS)}")
    trace = raw.get("trace")
    if trace is not None and not isinstance(trace, str):
        raise ProfileError(f"{where}.trace: expected a file path, got {shown(trace)}")
    traffic = Traffic(
        requests_per_day=number("requests_per_day", 0, required=trace is None) or 0,
        pattern=pattern,
        input_tokens=number("input_tokens", 1, integer=True) or 500,
        output_tokens=number("output_tokens", 1, integer=True) or 300,
        tokens_per_second=number("tokens_per_second", 0.001),
        service_seconds=number("service_seconds", 0.001),
        cold_start_minutes=number("cold_start_minutes", 0),
        concurrency=number("concurrency", 1, integer=True),
        max_wait_seconds=number("max_wait_seconds", 1),
        trace=trace,
    )
    if (traffic.tokens_per_second is None) == (traffic.service_seconds is None):
        raise ProfileError(
            f"{where}: set exactly one of tokens_per_second (as notebook 06 measures it) and "
            "service_seconds"
        )
    return traffic


def check_max_wait(key: str, traffic: Traffic, kind: str) -> None:
    """The profile's max_wait_seconds within what the endpoint's kind allows."""
    low, high = MAX_WAIT_RANGE_SECONDS[kind]
    value = traffic.max_wait_seconds
    if value is not None and not low <= value <= high:
        what = "RequestTTLSeconds" if kind == ASYNC else "the client's wait"
        raise ProfileError(
            f"usage endpoints.{key}.max_wait_seconds: got {value!r}; allowed: {low}..{high} "
            f"({what} of a {kind} endpoint)"
        )


MAX_TRACE_REQUESTS = 1_000_000


def load_trace(path: Path, traffic: Traffic) -> list[tuple[float, float]]:
    """A recorded trace: (arrival minute from the first request, service minutes) per request.

    CSV with a header, or JSON lines; per request `time` (seconds from the trace's start, or
    an ISO 8601 timestamp) and optionally `output_tokens` (the service time then follows
    tokens_per_second); other columns (`input_tokens`, ids) are ignored.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(f"trace {path}: cannot be read ({error})") from None
    rows: list[dict[str, Any]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ProfileError(f"trace {path} line {number}: not JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise ProfileError(f"trace {path} line {number}: expected an object")
            rows.append(row)
    else:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "time" not in reader.fieldnames:
            raise ProfileError(f"trace {path}: a CSV needs a header with a `time` column")
        rows = list(reader)
    if not rows:
        raise ProfileError(f"trace {path}: no request in it")
    if len(rows) > MAX_TRACE_REQUESTS:
        raise ProfileError(f"trace {path}: {len(rows)} requests; at most {MAX_TRACE_REQUESTS}")
    parsed = []
    for number, row in enumerate(rows, start=1):
        where = f"trace {path} request {number}"
        seconds = _trace_seconds(row.get("time"), where)
        tokens = row.get("output_tokens")
        if tokens in (None, ""):
            output = traffic.output_tokens
        else:
            try:
                output = int(tokens)
            except (TypeError, ValueError):
                raise ProfileError(
                    f"{where}: output_tokens {shown(tokens)} is not an integer"
                ) from None
            if output < 1:
                raise ProfileError(f"{where}: output_tokens {output}; allowed: >= 1")
        parsed.append((seconds, traffic.service_minutes_for(output)))
    first = min(seconds for seconds, _ in parsed)
    return sorted(((seconds - first) / 60, service) for seconds, service in parsed)


def _trace_seconds(value: Any, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value)
        except ValueError:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ProfileError(
                    f"{where}: time {shown(value)}; allowed: seconds from the trace's start or an "
                    "ISO 8601 timestamp"
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            seconds = moment.timestamp()
    else:
        raise ProfileError(f"{where}: time {shown(value)}; allowed: a number or an ISO timestamp")
    if not math.isfinite(seconds) or seconds < 0:
        raise ProfileError(f"{where}: time {seconds!r}; allowed: a finite number >= 0")
    return seconds


def arrivals(traffic: Traffic, days: int, rng: random.Random) -> list[float]:
    """Arrival times in minutes: a Poisson process whose rate follows the pattern."""
    if traffic.requests_per_day <= 0:
        return []

    def weight(minute_of_day: int) -> float:
        hour = minute_of_day // 60
        if traffic.pattern == "office_hours":
            return 1.0 if 9 <= hour < 17 else 0.0
        if traffic.pattern == "bursts":
            # Three bursts a day, each a quarter of an hour long.
            return 1.0 if minute_of_day % (8 * 60) < 15 else 0.0
        return 1.0

    weights = [weight(m) for m in range(MINUTES_PER_DAY)]
    total = sum(weights)
    times: list[float] = []
    for day in range(days):
        for minute, w in enumerate(weights):
            if not w:
                continue
            rate = traffic.requests_per_day * w / total  # expected requests this minute
            count = _poisson(rng, rate)
            times += sorted(day * MINUTES_PER_DAY + minute + rng.random() for _ in range(count))
    return times


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: the means here are a few requests a minute at most.
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
