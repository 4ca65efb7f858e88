"""Allowed values read from botocore's SageMaker service model (on disk; no AWS call).

The model is the same one boto3 validates requests against, so config is refused at synth for
exactly the values the API would refuse at deploy time, 40 minutes later.
"""

from __future__ import annotations

from functools import cache

import botocore.session


@cache
def _shapes() -> dict:
    loader = botocore.session.get_session().get_component("data_loader")
    return loader.load_service_model("sagemaker", "service-2")["shapes"]


def enum(shape: str) -> frozenset[str]:
    """The values of an enum shape, e.g. `ProductionVariantInstanceType`."""
    return frozenset(_shapes()[shape]["enum"])


def string_limits(shape: str) -> tuple[int, int, str | None]:
    """(min length, max length, pattern) of a string shape, e.g. `EndpointName`."""
    spec = _shapes()[shape]
    return spec.get("min", 0), spec["max"], spec.get("pattern")


def integer_limits(shape: str) -> tuple[int, int]:
    spec = _shapes()[shape]
    return spec["min"], spec["max"]
