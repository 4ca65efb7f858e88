"""Exceptions raised by the optimization launcher and recorder.

Step Functions matches Lambda errors by the exception's class name (``ErrorEquals``), so these
names are part of the workflow's contract: do not rename them.
"""

from __future__ import annotations

from typing import Any

_NOT_GIVEN: Any = object()
_MAX_SHOWN = 120


def shown(value: Any) -> str:
    """``repr`` of a bad value, cut so that a huge input cannot flood the error message."""
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        return f"{text[:_MAX_SHOWN]}... ({len(text)} characters)"
    return text


class ValidationError(Exception):
    """The event is invalid; nothing was launched.

    The message names the field, the bad value and what is allowed, in one sentence:
    ``<field>: <problem>; got <value>; allowed: <allowed>``.
    """

    def __init__(
        self, field: str, problem: str, value: Any = _NOT_GIVEN, allowed: str | None = None
    ) -> None:
        self.field = field
        parts = [f"{field}: {problem}"]
        if value is not _NOT_GIVEN:
            parts.append(f"got {shown(value)}")
        if allowed:
            parts.append(f"allowed: {allowed}")
        super().__init__("; ".join(parts))


class ConfigurationError(Exception):
    """An environment variable set by the CDK app is missing or malformed (a deployment bug)."""


class UnsupportedBotocoreError(Exception):
    """The botocore loaded at run time is too old to know the optimization-job API we send."""


class JobNotFinishedError(Exception):
    """The recorder was called for a job that has not reached a terminal status yet."""
