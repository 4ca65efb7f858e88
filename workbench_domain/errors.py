"""The error every contract of the domain raises for bad input, in one sentence.

``<field>: <problem>; got <value>; allowed: <allowed>``: the Lambda raises it (Step Functions
matches it by its class name, ``ValidationError``, so do not rename it), and the notebook client and
the operator scripts show the same sentence before anything starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any

_NOT_GIVEN: Any = object()
_MAX_SHOWN = 120


def shown(value: Any) -> str:
    """``repr`` of a bad value, cut so that a huge input cannot flood the error message."""
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        return f"{text[:_MAX_SHOWN]}... ({len(text)} characters)"
    return text


class ValidationError(ValueError):
    """The input is invalid; nothing was launched, changed or written.

    The one (field, value, allowed) error of every runtime; a layer that words it its own way
    (the config's key paths, the serving section) subclasses it and overrides `sentence`.
    """

    def __init__(
        self, field: str, problem: str, value: Any = _NOT_GIVEN, allowed: str | None = None
    ) -> None:
        self.field, self.problem, self.value = field, problem, value
        self.allowed = allowed or ""
        super().__init__(self.sentence())

    def sentence(self) -> str:
        parts = [f"{self.field}: {self.problem}"]
        if self.value is not _NOT_GIVEN:
            parts.append(f"got {shown(self.value)}")
        if self.allowed:
            parts.append(f"allowed: {self.allowed}")
        return "; ".join(parts)


def record_fields(kind: type, document: Any, where: str) -> dict[str, Any]:
    """The fields of the dataclass `kind` in a stored JSON `document`: every field without a
    default must be there (one with a default may be missing: a record an older version of the
    app wrote), and every field declared `str` holds a string (annotations are strings: PEP
    563). The caller checks the other types."""
    if not isinstance(document, Mapping):
        raise ValidationError(where, "must be a JSON object", document)
    declared = fields(kind)
    names = [f.name for f in declared]
    required = [f.name for f in declared if f.default is MISSING and f.default_factory is MISSING]
    missing = [name for name in required if name not in document]
    if missing:
        raise ValidationError(where, f"lacks key(s) {', '.join(missing)}", allowed=", ".join(names))
    values = {name: document[name] for name in names if name in document}
    for item in declared:
        if item.name in values and item.type == "str" and not isinstance(values[item.name], str):
            raise ValidationError(f"{where}.{item.name}", "must be a string", values[item.name])
    return values


class UnsupportedBotocoreError(Exception):
    """The botocore loaded at run time is too old to know the optimization-job API we send."""


def aws_setup_problem(error: BaseException) -> str | None:
    """One line for an AWS setup mistake (no region, no credentials, an unknown profile), or
    None when `error` is none of them."""
    from botocore.exceptions import (
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    if isinstance(error, NoRegionError):
        return "no AWS region: pass --region REGION, or set AWS_REGION (or the profile's region)"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return (
            "no AWS credentials: sign in (aws sso login / aws configure), or pass --profile "
            "NAME, or set AWS_PROFILE"
        )
    if isinstance(error, ProfileNotFound):
        return f"{error}: pass an existing --profile (aws configure list-profiles)"
    return None
