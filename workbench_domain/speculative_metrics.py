"""Whether speculative decoding is working on an endpoint, from the container's own log line.

vLLM writes `SpecDecoding metrics: Mean acceptance length: %.2f, Accepted throughput: %.2f
tokens/s, Drafted throughput: %.2f tokens/s, Accepted: %d tokens, Drafted: %d tokens,
Per-position acceptance rate: %s, Avg Draft acceptance rate: %.1f%%` (vllm v0.12.0 and v0.15.1
`vllm/v1/spec_decode/metrics.py`, SpecDecodingLogging.log) every time its server logs stats.
The cited image table says, per pinned image, whether its server does: the LMI images do not
(`speculative_metrics_note`), so for them the report says so instead of "not active".

Endpoints log to `/aws/sagemaker/Endpoints/<endpoint name>` (the log group the endpoint roles
write to); a CloudWatch Logs Insights query over it finds the lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from workbench_domain.serving_images import ServingImage

LINE_PREFIX = "SpecDecoding metrics: "
_LINE = re.compile(
    r"SpecDecoding metrics: Mean acceptance length: (?P<length>[0-9.]+), "
    r".*?Accepted: (?P<accepted>\d+) tokens, Drafted: (?P<drafted>\d+) tokens"
)
MAX_LINES = 1000


def log_group(endpoint_name: str) -> str:
    return f"/aws/sagemaker/Endpoints/{endpoint_name}"


def query() -> str:
    """The Logs Insights query of the metric lines, newest first (the prefix has no character
    a Logs Insights regular expression would read specially)."""
    return (
        f"fields @timestamp, @message | filter @message like /{LINE_PREFIX}/ "
        f"| sort @timestamp desc | limit {MAX_LINES}"
    )


@dataclass(frozen=True)
class Acceptance:
    """Speculative decoding over the lines read: accepted of drafted tokens."""

    lines: int
    accepted_tokens: int
    drafted_tokens: int
    mean_acceptance_length: float  # tokens per target step, the bonus token included

    @property
    def acceptance_rate_percent(self) -> float | None:
        if not self.drafted_tokens:
            return None
        return 100.0 * self.accepted_tokens / self.drafted_tokens


def acceptance(messages: Iterable[str]) -> Acceptance | None:
    """The acceptance of every metric line among `messages`; None when there is none. The mean
    acceptance length is weighted by each line's drafted tokens."""
    lines = accepted = drafted = 0
    weighted = 0.0
    for message in messages:
        found = _LINE.search(message)
        if found is None:
            continue
        lines += 1
        line_drafted = int(found["drafted"])
        accepted += int(found["accepted"])
        drafted += line_drafted
        weighted += float(found["length"]) * line_drafted
    if not lines:
        return None
    return Acceptance(lines, accepted, drafted, weighted / drafted if drafted else 1.0)


def status(image: ServingImage | None, configured: bool, found: Acceptance | None) -> str:
    """One phrase for the report: measured, not configured, not observable, or not active."""
    if found is not None:
        rate = found.acceptance_rate_percent
        rate_text = "-" if rate is None else f"{rate:.1f} %"
        return (
            f"active: {rate_text} of drafted tokens accepted, mean acceptance length "
            f"{found.mean_acceptance_length:.2f} ({found.lines} log lines)"
        )
    if not configured:
        return "not configured"
    if image is not None and image.speculative_metrics_log is None:
        return f"configured; not observable on {image.tag}: {image.speculative_metrics_note}"
    return "configured, but no speculative-decoding metrics in the logs: not active"
