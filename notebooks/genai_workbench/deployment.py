"""Deployment discovery: the records the stacks publish, assembled into one document."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Union

import boto3
from botocore.exceptions import ClientError

from genai_workbench.common import (
    _DOCUMENT_KEYS,
    DEFAULT_DEPLOYMENT_FILE,
    DEPLOYMENT_FILE_ENV,
    DEPLOYMENT_PATH_ENV,
    DeploymentNotFoundError,
    Printer,
    WorkbenchError,
    aws_errors,
    split_s3_uri,
)
from workbench_domain import deployment_records as records
from workbench_domain.errors import ValidationError
from workbench_domain.optimization_rules import JobDefaults


@dataclass(frozen=True)
class EndpointInfo(records.EndpointRecord):
    """One async endpoint of the deployment: its record, and its key in cdk.json."""

    key: str = ""


@dataclass(frozen=True)
class RealtimeEndpointInfo(records.RealtimeEndpointRecord):
    """One realtime endpoint of the deployment: its record, and its key in cdk.json."""

    key: str = ""


AnyEndpointInfo = Union[EndpointInfo, RealtimeEndpointInfo]


def _info(key: str, record: records.AnyEndpointRecord) -> AnyEndpointInfo:
    if isinstance(record, records.RealtimeEndpointRecord):
        return RealtimeEndpointInfo(key=key, **asdict(record))
    return EndpointInfo(key=key, **asdict(record))


@dataclass(frozen=True)
class Deployment:
    """What the CDK app deployed: its stacks' records (``workbench_domain.deployment_records``)."""

    project: str
    env: str
    storage: records.StorageRecord
    endpoints: Mapping[str, AnyEndpointInfo]
    optimization: records.OptimizationRecord | None = None
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Deployment:
        """Build from the parsed document; a missing or wrong key is named in the error."""
        if not isinstance(doc, Mapping):
            raise WorkbenchError(f"deployment document must be a JSON object, got {doc!r:.80}")
        missing = [k for k in _DOCUMENT_KEYS if k not in doc]
        if missing:
            raise WorkbenchError(f"deployment document lacks key(s): {', '.join(missing)}")
        raw_endpoints = doc["endpoints"]
        if not isinstance(raw_endpoints, Mapping):
            raise WorkbenchError("deployment document: 'endpoints' must be an object")
        try:
            storage = records.parse_storage(doc["storage"])
            optimization = (
                None
                if doc["optimization"] is None
                else records.parse_optimization(doc["optimization"])
            )
            endpoints = {
                key: _info(key, records.parse_endpoint(raw, f"endpoints.{key}"))
                for key, raw in raw_endpoints.items()
            }
        except ValidationError as error:
            raise WorkbenchError(f"deployment document: {error}") from error
        return cls(
            project=str(doc["project"]),
            env=str(doc["env"]),
            storage=storage,
            optimization=optimization,
            endpoints=endpoints,
        )

    @property
    def region(self) -> str:
        return self.storage.region

    @property
    def artifacts_bucket(self) -> str:
        return self.storage.artifacts_bucket

    @property
    def inference_bucket(self) -> str:
        return self.storage.inference_bucket

    @property
    def kms_key_arn(self) -> str:
        return self.storage.kms_key_arn

    @property
    def state_machine_arn(self) -> str:
        return self.require_optimization().state_machine_arn

    @property
    def results_parameter_prefix(self) -> str:
        return self.require_optimization().results_parameter_prefix

    def job_defaults(self) -> JobDefaults:
        """What the launcher's rules need, as the Optimization stack published it."""
        return self.require_optimization().job_defaults

    @classmethod
    def from_parameters(
        cls, path: str, *, ssm_client: Any = None, printer: Printer | None = None
    ) -> Deployment:
        """Assemble the document from the SSM parameters under ``path`` (see module doc)."""
        return cls.from_dict(deployment_document(path, ssm_client=ssm_client, printer=printer))

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        deployment_path: str | None = None,
        *,
        ssm_client: Any = None,
    ) -> Deployment:
        """Read the deployment document from the file, else from the SSM parameters.

        Arguments override the env vars ``GENAI_OPT_DEPLOYMENT_FILE`` and
        ``GENAI_OPT_DEPLOYMENT_PATH``.
        """
        file = Path(path or os.environ.get(DEPLOYMENT_FILE_ENV) or DEFAULT_DEPLOYMENT_FILE)
        if file.is_file():
            try:
                return cls.from_dict(json.loads(file.read_text(encoding="utf-8")))
            except json.JSONDecodeError as err:
                raise WorkbenchError(f"{file} is not valid JSON: {err}") from err
        ssm_path = deployment_path or os.environ.get(DEPLOYMENT_PATH_ENV)
        if not ssm_path:
            raise DeploymentNotFoundError(
                f"No deployment file at {file} and no SSM path named: set "
                f"{DEPLOYMENT_FILE_ENV} to the deployment JSON file or {DEPLOYMENT_PATH_ENV} to "
                "the deployment path (Workspace stack output DeploymentPath, such as "
                "/genai-opt/dev/deployment/). On the workbench notebook, restarting the "
                "instance rewrites the file."
            )
        return cls.from_parameters(ssm_path, ssm_client=ssm_client)

    def require_optimization(self) -> records.OptimizationRecord:
        """The Optimization stack's record; ``WorkbenchError`` when that stack is not deployed."""
        if self.optimization is None:
            raise WorkbenchError(
                "The optimization workflow is not part of this deployment (no optimization "
                f"record): deploy the Optimization stack of {self.project}-{self.env}, then "
                "restart the notebook instance (or reload with Deployment.load)."
            )
        return self.optimization

    def endpoint(self, key: str) -> EndpointInfo:
        """The async endpoint with config key ``key``; the error lists the keys that exist."""
        info = self._any_endpoint(key)
        if not isinstance(info, EndpointInfo):
            raise WorkbenchError(
                f"Endpoint {key!r} is realtime: it answers at once, nothing is queued; use "
                "chat() or stream_chat() (or the LangChain chat model) with it"
            )
        return info

    def realtime_endpoint(self, key: str) -> RealtimeEndpointInfo:
        """The realtime endpoint with config key ``key``."""
        info = self._any_endpoint(key)
        if not isinstance(info, RealtimeEndpointInfo):
            raise WorkbenchError(
                f"Endpoint {key!r} is async: submit requests with invoke_async() (or the "
                "LangChain async LLM); chat() and stream_chat() need a realtime endpoint"
            )
        return info

    def _any_endpoint(self, key: str) -> AnyEndpointInfo:
        try:
            return self.endpoints[key]
        except KeyError:
            if not self.endpoints:
                raise WorkbenchError(
                    f"No endpoint {key!r}: no endpoint of {self.project}-{self.env} is deployed "
                    "yet. Deploy the endpoint stacks (about 40 minutes each), then restart the "
                    "notebook instance (or reload with Deployment.load)."
                ) from None
            known = ", ".join(sorted(self.endpoints))
            raise WorkbenchError(
                f"No endpoint {key!r} in this deployment (have: {known})"
            ) from None

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` in the deployment's Region, created once."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)
        return self._clients[service]

    def use_client(self, service: str, client: Any) -> None:
        """Use ``client`` for ``service`` (another session, a profile, or a test stub)."""
        self._clients[service] = client


def _parse_deployment_path(path: str) -> tuple[str, str, str]:
    """``/<project>/<env>/deployment/`` -> (normalized path, project, env)."""
    parts = [p for p in path.split("/") if p]
    if not path.startswith("/") or len(parts) < 3 or parts[-1] != "deployment":
        raise WorkbenchError(
            f"deployment path must look like /<project>/<env>/deployment/, got {path!r}"
        )
    return "/" + "/".join(parts) + "/", parts[-3], parts[-2]


def deployment_document(
    path: str, *, ssm_client: Any = None, printer: Printer | None = None
) -> dict[str, Any]:
    """The deployment document assembled from the parts under ``path`` (GetParametersByPath).

    Needs the ``storage`` part; a missing ``optimization`` part or no ``endpoints/*`` is
    reported through ``printer`` and leaves those keys empty.
    """
    prefix, project, env = _parse_deployment_path(path)
    ssm = ssm_client or boto3.client("ssm")
    parts: dict[str, Any] = {}
    try:
        paginator = ssm.get_paginator("get_parameters_by_path")
        for page in paginator.paginate(
            Path=prefix.rstrip("/"), Recursive=True, WithDecryption=True
        ):
            for item in page["Parameters"]:
                name = item["Name"]
                try:
                    parts[name[len(prefix) :]] = json.loads(item["Value"])
                except json.JSONDecodeError as err:
                    raise WorkbenchError(f"SSM parameter {name} is not valid JSON: {err}") from err
    except ClientError as err:
        raise DeploymentNotFoundError(
            f"The SSM parameters under {prefix} could not be read: {err}"
        ) from err
    if records.STORAGE not in parts:
        raise DeploymentNotFoundError(
            f"No deployment under {prefix} (no {prefix}storage parameter): is the Storage "
            f"stack of {project}-{env} deployed in this account and Region?"
        )
    doc: dict[str, Any] = {
        "project": project,
        "env": env,
        "storage": parts[records.STORAGE],
        "optimization": parts.get(records.OPTIMIZATION),
    }
    if doc["optimization"] is None and printer:
        printer(f"no {prefix}optimization parameter: the Optimization stack is not deployed")
    endpoints = f"{records.ENDPOINTS}/"
    doc["endpoints"] = {
        name[len(endpoints) :]: value
        for name, value in sorted(parts.items())
        if name.startswith(endpoints) and "/" not in name[len(endpoints) :]
    }
    if not doc["endpoints"] and printer:
        printer(f"no {prefix}endpoints/* parameters: no endpoint is deployed yet")
    return doc


def write_deployment(
    path: str, out: str | os.PathLike[str], *, ssm_client: Any = None, printer: Printer = print
) -> Path:
    """Write the document assembled from ``path`` to ``out`` (validated first); the file."""
    doc = deployment_document(path, ssm_client=ssm_client, printer=printer)
    deployment = Deployment.from_dict(doc)  # never write a file the notebooks cannot read
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(target)
    printer(
        f"wrote {target}: {deployment.project}-{deployment.env}, endpoints: "
        f"{', '.join(sorted(deployment.endpoints)) or 'none'}, optimization workflow: "
        f"{'yes' if deployment.optimization else 'no'}"
    )
    return target


@aws_errors
def list_s3_prefix(deployment: Deployment, prefix_uri: str, limit: int = 100) -> list[str]:
    """Up to ``limit`` object URIs under an S3 prefix, in key order."""
    bucket, prefix = split_s3_uri(prefix_uri)
    paginator = deployment.client("s3").get_paginator("list_objects_v2")
    found: list[str] = []
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        found.extend(f"s3://{bucket}/{obj['Key']}" for obj in page.get("Contents", []))
        if len(found) >= limit:
            break
    return found[:limit]
