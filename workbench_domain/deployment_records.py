"""The deployment records: what each stack publishes in SSM, and how every reader parses it.

Each stack writes one JSON parameter under ``/<project>/<env>/deployment/``: ``storage``,
``optimization`` and ``endpoints/<key>`` (one per endpoint). The stacks build the documents from
these types (writer side, values may be CloudFormation tokens); the notebook client, its
on-start script and the operator scripts parse them with :func:`parse_record` (reader side), so a
field renamed in one place fails the tests that feed the synthesized records to the readers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Union

from workbench_domain.errors import ValidationError, record_fields
from workbench_domain.optimization_rules import JobDefaults
from workbench_domain.serving_images import REQUEST_SCHEMAS

STORAGE = "storage"
OPTIMIZATION = "optimization"
ENDPOINTS = "endpoints"


@dataclass(frozen=True)
class StorageRecord:
    region: str
    artifacts_bucket: str
    inference_bucket: str
    kms_key_arn: str


@dataclass(frozen=True)
class OptimizationRecord:
    state_machine_arn: str
    launcher_function_name: str
    job_topic_arn: str
    results_parameter_prefix: str
    job_role_arn: str
    # The role SageMaker assumes for AI recommendation and benchmark jobs.
    measurement_role_arn: str
    # What the launcher's rules need, so the notebooks and `make optimize` refuse what it refuses.
    job_defaults: JobDefaults


ASYNC = "async"
REALTIME = "realtime"


@dataclass(frozen=True)
class EndpointRecord:
    """An async endpoint: requests go to its input prefix, results to its output prefix."""

    endpoint_name: str
    variant_name: str
    instance_type: str
    input_prefix: str
    output_prefix: str
    failure_prefix: str
    success_topic_arn: str
    error_topic_arn: str
    max_capacity: int
    price_usd_per_hour: float
    kind: str = ASYNC
    # What the endpoint's /invocations takes (serving_images.REQUEST_SCHEMAS); a record
    # published before this field existed is an LMI endpoint.
    request_schema: str = "lmi"


@dataclass(frozen=True)
class RealtimeEndpointRecord:
    """A realtime endpoint: requests name its inference component and are answered at once."""

    endpoint_name: str
    inference_component_name: str
    variant_name: str
    instance_type: str
    error_topic_arn: str
    max_capacity: int
    price_usd_per_hour: float
    kind: str = REALTIME
    request_schema: str = "lmi"
    # Clients may use SageMaker's OpenAI-compatible route (the image serves it fully).
    openai_route: bool = False


AnyEndpointRecord = Union[EndpointRecord, RealtimeEndpointRecord]

# typing.Union: an alias is evaluated at run time, and `X | Y` of classes needs Python 3.10.
Record = Union[StorageRecord, OptimizationRecord, EndpointRecord, RealtimeEndpointRecord]


def part_name(record: Record, endpoint_key: str | None = None) -> str:
    """The record's name below ``<prefix>/deployment/``."""
    if isinstance(record, (EndpointRecord, RealtimeEndpointRecord)):
        if not endpoint_key:
            raise ValueError("an endpoint record needs its endpoint key")
        return f"{ENDPOINTS}/{endpoint_key}"
    return STORAGE if isinstance(record, StorageRecord) else OPTIMIZATION


def parameter_name(prefix: str, part: str) -> str:
    """``/<project>/<env>`` and ``storage`` -> ``/<project>/<env>/deployment/storage``."""
    return f"{prefix.rstrip('/')}/deployment/{part}"


def to_document(record: Record) -> dict[str, Any]:
    """The JSON document a stack publishes (writer side)."""
    return asdict(record)


def parse_storage(document: Any, where: str = STORAGE) -> StorageRecord:
    values = record_fields(StorageRecord, document, where)
    return StorageRecord(**values)


def parse_optimization(document: Any, where: str = OPTIMIZATION) -> OptimizationRecord:
    values = record_fields(OptimizationRecord, document, where)
    defaults = record_fields(JobDefaults, values["job_defaults"], f"{where}.job_defaults")
    return OptimizationRecord(**{**values, "job_defaults": JobDefaults(**defaults)})


def parse_endpoint(document: Any, where: str = ENDPOINTS) -> AnyEndpointRecord:
    """An endpoint record of either kind (the document's `kind` says which)."""
    kinds: dict[str, type[AnyEndpointRecord]] = {
        ASYNC: EndpointRecord,
        REALTIME: RealtimeEndpointRecord,
    }
    kind = document.get("kind") if isinstance(document, Mapping) else None
    if kind not in kinds:
        raise ValidationError(f"{where}.kind", "is not an endpoint kind", kind, ", ".join(kinds))
    record_type = kinds[kind]
    values = record_fields(record_type, document, where)
    capacity, price = values["max_capacity"], values["price_usd_per_hour"]
    if type(capacity) is not int or capacity < 1:
        raise ValidationError(f"{where}.max_capacity", "must be a positive integer", capacity)
    if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0:
        raise ValidationError(f"{where}.price_usd_per_hour", "must be a number >= 0", price)
    schema = values.get("request_schema", "lmi")
    if schema not in REQUEST_SCHEMAS:
        raise ValidationError(
            f"{where}.request_schema", "is not a request schema", schema, ", ".join(REQUEST_SCHEMAS)
        )
    if not isinstance(values.get("openai_route", False), bool):
        raise ValidationError(
            f"{where}.openai_route", "must be true or false", values["openai_route"]
        )
    return record_type(**{**values, "price_usd_per_hour": float(price)})


def parse_record(part: str, document: Any) -> Record:
    """Parse the record named ``part`` (``storage``, ``optimization``, ``endpoints/<key>``)."""
    if part == STORAGE:
        return parse_storage(document)
    if part == OPTIMIZATION:
        return parse_optimization(document)
    if part.startswith(f"{ENDPOINTS}/") and part.count("/") == 1:
        return parse_endpoint(document, part)
    raise ValidationError(
        "part", "is not a deployment record", part, "storage, optimization, endpoints/<key>"
    )
