"""Client the workbench notebooks share: optimization jobs, async endpoints, measurements.

The notebooks stay thin; everything they do that talks to AWS or computes a number lives here,
so it is typed, documented and unit-tested. It runs on Python >= 3.9 with boto3 (the SageMaker
notebook kernels have both). Optional libraries are imported only by the functions that need
them: the SageMaker Python SDK v2 (JumpStart configs), ``huggingface_hub`` (draft-model
download) and matplotlib (plots).

Contract with the infrastructure (the CDK app)
==============================================
Deployment document
    A JSON object with ``project``, ``env`` and the records each stack publishes, whose types
    and parsers are ``workbench_domain.deployment_records`` (the stacks write them with the same
    types): ``storage`` (region, buckets, KMS key), ``optimization`` (the workflow, its topic,
    its results path and the ``job_defaults`` the launcher's rules need; ``null`` while that
    stack is not deployed) and ``endpoints`` (config key -> endpoint record; empty while no
    endpoint is deployed). Using a missing part raises a ``WorkbenchError`` that says which
    stack is missing.

Where the parts come from (``Deployment.from_parameters``)
    Each stack publishes its record as a JSON SSM parameter under the deployment path
    ``/<project>/<env>/deployment/``: ``storage``, ``optimization`` and ``endpoints/<key>``;
    ``project`` and ``env`` come from the path. The on-start script assembles them into the file
    below with ``python genai_workbench.py write-deployment --path PATH --out FILE``.

Where the document is found (``Deployment.load``)
    1. the file named by env var ``GENAI_OPT_DEPLOYMENT_FILE``, default
       ``/home/ec2-user/SageMaker/.genai-optimization/deployment.json`` (the notebook's
       on-start script writes it);
    2. else the SSM parameters under the path in env var ``GENAI_OPT_DEPLOYMENT_PATH``
       (the Workspace stack outputs it as ``DeploymentPath``);
    3. else ``DeploymentNotFoundError`` saying what was looked at.

Optimization workflow (Step Functions)
    Started with the launcher event as input: ``OptimizationRequest.to_event()`` of
    ``workbench_domain.optimization_request``, the schema the launcher Lambda parses. Before
    starting, ``checked_event`` runs the launcher's own checks (schema and rules, with the
    published job defaults), so what the Lambda would refuse is refused here with its message.
    ``job_name`` is always sent: it equals the execution name, derived from the request
    (``run_name``), so starting the same request twice reuses one execution and one job. On
    success the execution output is the *result document*, also kept in SSM as
    ``<results_parameter_prefix>/<job_name>``: ``job_name``, ``output_s3_uri``,
    ``recommended_inference_image``, ``deployment_instance_type``, ``started``, ``ended``,
    ``duration_seconds``.

Endpoint entry (what the notebooks "promote")
    A plain dict shaped like an endpoint of ``cdk.json`` (``instance_type``, ``model``,
    ``serving``), built by ``workbench_domain.endpoint_entry`` (shipped beside this module).
    The notebooks print it as JSON (``entry_json``); ``scripts/optimize.py --promote`` writes
    ``cdk.json``, where the app's config loader checks it against the serving table.

Nothing here hard-codes an account, a Region, a bucket or an endpoint name: all of them come
from the deployment document.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from workbench_domain import (
    api_limits,
    instances,
    jumpstart,
    optimization_request,
    optimization_rules,
    serving,
    uris,
    workflow_states,
)
from workbench_domain import deployment_records as records
from workbench_domain import endpoint_entry as entries
from workbench_domain.errors import ValidationError
from workbench_domain.optimization_request import OptimizationRequest
from workbench_domain.optimization_rules import JobDefaults

UTC = timezone(timedelta(0))

DEPLOYMENT_FILE_ENV = "GENAI_OPT_DEPLOYMENT_FILE"
DEPLOYMENT_PATH_ENV = "GENAI_OPT_DEPLOYMENT_PATH"
DEFAULT_DEPLOYMENT_FILE = "/home/ec2-user/SageMaker/.genai-optimization/deployment.json"

LLAMA3_70B = "meta-textgeneration-llama-3-70b"
TECHNIQUES = optimization_request.TECHNIQUES
QUANTIZATION_METHODS = optimization_request.QUANTIZATION_METHODS

#: Llama-3-70B compiled for ml.inf2.48xlarge: the environment of the inf2 serving settings.
NEURON_INF2_ENVIRONMENT: Mapping[str, str] = serving.container_environment(serving.LLAMA3_70B_INF2)

#: InvokeEndpointAsync limits (botocore sagemaker-runtime model).
REQUEST_TTL_RANGE = api_limits.REQUEST_TTL_RANGE
INVOCATION_TIMEOUT_RANGE = api_limits.INVOCATION_TIMEOUT_RANGE

_RUNNING = workflow_states.EXECUTION_RUNNING_STATUSES
_DOCUMENT_KEYS = ("project", "env", "storage", "optimization", "endpoints")
_MISSING_OBJECT_CODES = ("404", "NoSuchKey", "NotFound", "403", "AccessDenied")

Printer = Callable[[str], None]


class WorkbenchError(Exception):
    """A problem the user can fix; the message says what and how."""


class DeploymentNotFoundError(WorkbenchError):
    """Neither the deployment file nor the deployment parameter could be read."""


class OptimizationFailedError(WorkbenchError):
    """The optimization workflow ended without a result."""


class AsyncInferenceFailedError(WorkbenchError):
    """The endpoint wrote the request's failure file."""


# --------------------------------------------------------------------------------------------
# Deployment document
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointInfo(records.EndpointRecord):
    """One async endpoint of the deployment: its record, and its key in cdk.json."""

    key: str = ""


@dataclass(frozen=True)
class Deployment:
    """What the CDK app deployed: its stacks' records (``workbench_domain.deployment_records``)."""

    project: str
    env: str
    storage: records.StorageRecord
    endpoints: Mapping[str, EndpointInfo]
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
                key: EndpointInfo(
                    key=key, **asdict(records.parse_endpoint(raw, f"endpoints.{key}"))
                )
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
        """The endpoint with config key ``key``; the error lists the keys that exist."""
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


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``("bucket", "key")``; ``WorkbenchError`` naming a bad URI."""
    try:
        location = uris.split_s3_uri(uri)
    except ValidationError as error:
        raise WorkbenchError(str(error)) from error
    return location.bucket, location.key


def _prefix_key(prefix_uri: str, name: str) -> tuple[str, str]:
    bucket, prefix = split_s3_uri(prefix_uri)
    prefix = prefix.rstrip("/")
    return bucket, f"{prefix}/{name}" if prefix else name


def _now() -> datetime:
    return datetime.now(UTC)


def _format_seconds(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return (
        f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"
    )


def entry_json(entry: Mapping[str, Any]) -> str:
    """An endpoint entry as indented JSON, ready to print or paste."""
    return json.dumps(entry, indent=2, sort_keys=True)


def save_entry(entry: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write an endpoint entry as JSON (for ``scripts/optimize.py --promote``); the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(entry_json(entry) + "\n", encoding="utf-8")
    return target


def list_s3_prefix(deployment: Deployment, prefix_uri: str, limit: int = 100) -> list[str]:
    """Up to ``limit`` object URIs under an S3 prefix, in key order."""
    bucket, prefix = split_s3_uri(prefix_uri)
    paginator = deployment.client("s3").get_paginator("list_objects_v2")
    uris: list[str] = []
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        uris.extend(f"s3://{bucket}/{obj['Key']}" for obj in page.get("Contents", []))
        if len(uris) >= limit:
            break
    return uris[:limit]


# --------------------------------------------------------------------------------------------
# Optimization workflow
# --------------------------------------------------------------------------------------------


class InvalidRequestError(WorkbenchError):
    """The launcher would refuse this request; the message is the launcher's own."""


def checked_event(deployment: Deployment, request: OptimizationRequest | Mapping[str, Any]) -> dict:
    """The launcher event of ``request``, checked as the launcher checks it (same rules, same
    message), with the job defaults the Optimization stack published; nothing starts."""
    event = request.to_event() if isinstance(request, OptimizationRequest) else request
    try:
        optimization_rules.check_request(event, deployment.job_defaults())
    except ValidationError as error:
        raise InvalidRequestError(str(error)) from error
    return dict(event)


def _technique_label(event: Mapping[str, Any]) -> str:
    if event["technique"] == "quantization":
        return str(event["quantization"]["method"])
    if event["technique"] == "compilation":
        neuron = instances.accelerator_kind(str(event["instance_type"])) == "neuron"
        return "neuron" if neuron else "compile"
    return "eagle"


def run_name(event: Mapping[str, Any], project: str, attempt: int = 1) -> str:
    """Deterministic execution and job name for a launcher event.

    ``<project>-<label>-<digest>[-a<attempt>]``, at most 63 letters, digits and hyphens (valid
    both as a Step Functions execution name and as an optimization job name). The digest
    covers the whole event, so a changed setting gives a new name.
    """
    if attempt < 1:
        raise WorkbenchError("attempt starts at 1")
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10]
    suffix = f"-{_technique_label(event)}-{digest}" + (f"-a{attempt}" if attempt > 1 else "")
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", project).strip("-")[: 63 - len(suffix)].strip("-")
    return f"{stem or 'opt'}{suffix}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN of execution ``name`` of a (standard) state machine."""
    parts = state_machine_arn.split(":")
    if len(parts) != 7 or parts[2] != "states" or parts[5] != "stateMachine":
        raise WorkbenchError(f"not a state machine ARN: {state_machine_arn!r}")
    return ":".join([*parts[:5], "execution", parts[6], name])


def start_optimization(
    deployment: Deployment,
    request: OptimizationRequest | Mapping[str, Any],
    *,
    attempt: int = 1,
    printer: Printer = print,
) -> str:
    """Start the optimization workflow for ``request``; return the execution ARN.

    The execution name (and job name, unless the request sets one) comes from ``run_name``:
    running the same cell twice reuses the running or succeeded execution instead of paying
    for a second job. If that execution failed, pass ``attempt=2`` (3, ...) to start anew.
    """
    deployment.require_optimization()
    event = checked_event(deployment, request)
    name = run_name(event, deployment.project, attempt)
    event.setdefault("job_name", name)
    sfn = deployment.client("stepfunctions")
    try:
        arn = sfn.start_execution(
            stateMachineArn=deployment.state_machine_arn,
            name=name,
            input=json.dumps(event, sort_keys=True),
        )["executionArn"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        arn = execution_arn(deployment.state_machine_arn, name)
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status not in (*_RUNNING, workflow_states.EXECUTION_SUCCEEDED):
            raise OptimizationFailedError(
                f"Execution {name} already exists and ended {status}; call again with "
                f"attempt={attempt + 1} to start a new job."
            ) from err
        printer(f"Reusing execution {name} ({status}).")
        return arn
    printer(f"Started execution {name} (job {event['job_name']}).")
    return arn


def wait_for_optimization(
    deployment: Deployment,
    execution: str,
    *,
    timeout_seconds: float = 6 * 3600,
    poll_seconds: float = 60,
    report_every_seconds: float = 600,
    printer: Printer = print,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _now,
) -> dict[str, Any]:
    """Wait for an execution; print status and elapsed time; return the result document.

    Prints when the status changes and every ``report_every_seconds``. Raises
    ``OptimizationFailedError`` if the workflow fails and ``TimeoutError`` after
    ``timeout_seconds`` (the execution keeps running: call again to keep waiting).
    """
    sfn = deployment.client("stepfunctions")
    deadline = clock() + timeout_seconds
    last_status, last_report = "", -math.inf
    while True:
        desc = sfn.describe_execution(executionArn=execution)
        status = desc["status"]
        elapsed = (now() - desc["startDate"]).total_seconds()
        if status != last_status or clock() - last_report >= report_every_seconds:
            printer(
                f"{now():%H:%M:%S} {desc.get('name', execution)}: {status}, "
                f"elapsed {_format_seconds(elapsed)}"
            )
            last_status, last_report = status, clock()
        if status == workflow_states.EXECUTION_SUCCEEDED:
            return json.loads(desc.get("output") or "{}")
        if status not in _RUNNING:
            raise OptimizationFailedError(
                f"{desc.get('name', execution)} ended {status}: {desc.get('error', '')} "
                f"{desc.get('cause', '')}".strip()
            )
        if clock() >= deadline:
            raise TimeoutError(
                f"{desc.get('name', execution)} still {status} after waiting "
                f"{_format_seconds(timeout_seconds)}; call wait_for_optimization again."
            )
        sleep(poll_seconds)


def _result_parameter(deployment: Deployment, job_name: str) -> str:
    deployment.require_optimization()
    return f"{deployment.results_parameter_prefix.rstrip('/')}/{job_name}"


def load_result(deployment: Deployment, job_name: str) -> dict[str, Any]:
    """The result document of a finished job, from its SSM parameter."""
    name = _result_parameter(deployment, job_name)
    try:
        value = deployment.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as err:
        raise WorkbenchError(f"No result for job {job_name!r} at {name}: {err}") from err
    return json.loads(value)


def list_results(deployment: Deployment) -> list[dict[str, Any]]:
    """Result documents of all finished jobs, newest first."""
    deployment.require_optimization()
    paginator = deployment.client("ssm").get_paginator("get_parameters_by_path")
    results: list[dict[str, Any]] = []
    for page in paginator.paginate(Path=deployment.results_parameter_prefix, Recursive=True):
        results.extend(json.loads(p["Value"]) for p in page["Parameters"])
    return sorted(results, key=lambda r: str(r.get("ended", "")), reverse=True)


# --------------------------------------------------------------------------------------------
# Endpoint entries
# --------------------------------------------------------------------------------------------


@contextmanager
def _entry_errors() -> Iterator[None]:
    """An entry the domain cannot build is a WorkbenchError, as every error of this client."""
    try:
        yield
    except (entries.EntryError, jumpstart.JumpStartError) as error:
        raise WorkbenchError(str(error)) from error


def deployment_environment(request: OptimizationRequest) -> dict[str, str]:
    """Environment the optimized model is served with (as the SageMaker SDK does).

    The job's override environment, plus ``OPTION_QUANTIZE`` for a quantization job.
    """
    env = dict(request.environment)
    if request.technique == "quantization" and request.quantization_method:
        env.setdefault("OPTION_QUANTIZE", request.quantization_method)
    return env


def endpoint_entry_from_result(
    result: Mapping[str, Any],
    *,
    environment: Mapping[str, str] | None = None,
    instance_type: str | None = None,
    accept_eula: bool = False,
    base_model_s3_uri: str | None = None,
) -> dict[str, Any]:
    """Endpoint entry serving a job's output (shape: ``workbench_domain.endpoint_entry``).

    ``instance_type`` defaults to the job's deployment instance type; the image is the job's
    recommended inference image when it has one (its environment split into typed serving
    settings when the image is one the app knows), else the pinned image for the instance.
    An EAGLE (speculative decoding) job trains a head only: the entry serves
    ``base_model_s3_uri`` (the job's ``model_s3_uri``) with the head from ``<output>/draft/``.
    """
    for key in ("output_s3_uri", "deployment_instance_type"):
        if not result.get(key):
            raise WorkbenchError(f"result document lacks {key!r}: {dict(result)}")
    serve_on = instance_type or str(result["deployment_instance_type"])
    image = result.get("recommended_inference_image") or None
    eagle = "speculative_decoding" in (result.get("techniques") or ())
    if eagle and not base_model_s3_uri:
        raise WorkbenchError(
            "an EAGLE job trains a head that serves beside its base model: pass "
            "base_model_s3_uri (the job's model_s3_uri)"
        )
    with _entry_errors():
        if eagle and base_model_s3_uri:
            return entries.entry_for_eagle_job(
                base_model_s3_uri=base_model_s3_uri,
                output_s3_uri=str(result["output_s3_uri"]),
                instance_type=serve_on,
                image_uri=image,
                environment=environment,
                accept_eula=accept_eula,
            )
        return entries.entry_for_model(
            model_s3_uri=str(result["output_s3_uri"]),
            instance_type=serve_on,
            image_uri=image,
            environment=environment,
            accept_eula=accept_eula,
        )


def with_custom_draft_model(
    entry: Mapping[str, Any], draft_s3_uri: str, *, num_speculative_tokens: int = 5
) -> dict[str, Any]:
    """A copy of ``entry`` whose model speculates with the draft model at ``draft_s3_uri``."""
    split_s3_uri(draft_s3_uri)
    with _entry_errors():
        return entries.with_speculative_model(
            entry,
            method="draft_model",
            model_s3_uri=draft_s3_uri,
            num_speculative_tokens=num_speculative_tokens,
        )


# --------------------------------------------------------------------------------------------
# JumpStart (boto3 only: DescribeHubContent on the public hub; no SageMaker Python SDK)
# --------------------------------------------------------------------------------------------


def describe_jumpstart_model(
    model_id: str = LLAMA3_70B,
    *,
    config_name: str | None = None,
    version: str | None = None,
    region: str | None = None,
    sagemaker_client: Any = None,
) -> jumpstart.JumpStartModel:
    """A JumpStart model's image, artifacts and environment, with ``config_name`` applied."""
    client = sagemaker_client or boto3.client("sagemaker", region_name=region)
    try:
        response = client.describe_hub_content(**jumpstart.describe_request(model_id, version))
    except ClientError as error:
        raise WorkbenchError(f"JumpStart model {model_id}: {error}") from error
    with _entry_errors():
        return jumpstart.parse_model(response, config_name)


def jumpstart_entry(
    model_id: str = LLAMA3_70B,
    *,
    instance_type: str = "ml.p4d.24xlarge",
    accept_eula: bool = False,
    with_draft: bool = False,
    jumpstart_image: bool = False,
    region: str | None = None,
    sagemaker_client: Any = None,
) -> dict[str, Any]:
    """Endpoint entry for a JumpStart model; ``with_draft`` adds the SageMaker-provided draft.

    The draft comes from the model's ``lmi-optimized`` deployment config, and is served by the
    app's pinned vLLM image with ``speculative_config`` (see workbench_domain/endpoint_entry).
    """
    model = describe_jumpstart_model(
        model_id,
        config_name=jumpstart.SPECULATIVE_CONFIG if with_draft else None,
        region=region,
        sagemaker_client=sagemaker_client,
    )
    if with_draft and model.draft_s3_uri is None:
        raise WorkbenchError(f"{model_id} config {jumpstart.SPECULATIVE_CONFIG} has no draft model")
    with _entry_errors():
        return entries.entry_for_jumpstart(
            model,
            instance_type=instance_type,
            accept_eula=accept_eula,
            jumpstart_image=jumpstart_image,
        )


# --------------------------------------------------------------------------------------------
# Draft model upload
# --------------------------------------------------------------------------------------------

DRAFT_MODEL_FILES = ("*.json", "*.safetensors", "tokenizer*", "*.model", "*.txt")


def download_hf_model(
    repo_id: str,
    local_dir: str | os.PathLike[str],
    *,
    token: str | None = None,
    allow_patterns: Sequence[str] = DRAFT_MODEL_FILES,
) -> Path:
    """Download a Hugging Face hub model (weights in safetensors, config, tokenizer)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError as err:
        raise WorkbenchError("run `%pip install huggingface_hub` first") from err
    path = snapshot_download(
        repo_id=repo_id, local_dir=str(local_dir), token=token, allow_patterns=list(allow_patterns)
    )
    return Path(path)


def upload_directory(
    deployment: Deployment, local_dir: str | os.PathLike[str], s3_prefix_uri: str
) -> str:
    """Upload every file under ``local_dir`` below ``s3_prefix_uri`` with the project's KMS key.

    Returns the prefix URI, ending with ``/``. Hidden files and folders (``.cache``) are skipped.
    """
    root = Path(local_dir)
    bucket, prefix = split_s3_uri(s3_prefix_uri)
    prefix = prefix.rstrip("/")
    s3 = deployment.client("s3")
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": deployment.kms_key_arn}
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        raise WorkbenchError(f"nothing to upload in {root}")
    for path in files:
        _, key = _prefix_key(s3_prefix_uri, path.relative_to(root).as_posix())
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
    return f"s3://{bucket}/{prefix}/" if prefix else f"s3://{bucket}/"


def upload_draft_model(
    deployment: Deployment,
    repo_id: str,
    *,
    local_dir: str | os.PathLike[str] | None = None,
    token: str | None = None,
) -> str:
    """Download ``repo_id`` from the hub and upload it to ``draft-models/<name>/``."""
    name = repo_id.rstrip("/").split("/")[-1]
    target = Path(local_dir or Path.home() / "SageMaker" / "draft-models" / name)
    download_hf_model(repo_id, target, token=token)
    return upload_directory(
        deployment, target, f"s3://{deployment.artifacts_bucket}/draft-models/{name}/"
    )


# --------------------------------------------------------------------------------------------
# Async inference
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AsyncInvocation:
    """A request accepted by an async endpoint."""

    endpoint_key: str
    endpoint_name: str
    inference_id: str
    input_location: str
    output_location: str
    failure_location: str | None
    submitted_at: datetime


@dataclass(frozen=True)
class AsyncResult:
    """The outcome of an async request, read from S3."""

    invocation: AsyncInvocation
    succeeded: bool
    location: str
    body: Any
    detected_at: datetime

    @property
    def latency_seconds(self) -> float:
        """Submission to detection of the output, by this client's clock (upper bound)."""
        return (self.detected_at - self.invocation.submitted_at).total_seconds()


def llm_payload(
    prompt: str,
    *,
    max_new_tokens: int = 256,
    temperature: float = 0.6,
    top_p: float = 0.9,
    details: bool = True,
) -> dict[str, Any]:
    """An LMI (DJL serving) text-generation request; ``details`` asks for token counts."""
    return {
        "inputs": prompt,
        "parameters": {
            "max_new_tokens": max_new_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "details": details,
        },
    }


def invoke_async(
    deployment: Deployment,
    endpoint_key: str,
    payload: Any,
    *,
    inference_id: str | None = None,
    request_ttl_seconds: int = 3600,
    invocation_timeout_seconds: int = 900,
    now: Callable[[], datetime] = _now,
) -> AsyncInvocation:
    """Upload ``payload`` as JSON under the endpoint's input prefix and queue it.

    The object is encrypted with the project's KMS key. ``request_ttl_seconds`` (60-21600) is
    how long the request may wait in the queue, e.g. while the endpoint wakes from zero;
    ``invocation_timeout_seconds`` (1-3600) bounds its processing.
    """
    low, high = REQUEST_TTL_RANGE
    if not low <= request_ttl_seconds <= high:
        raise WorkbenchError(f"request_ttl_seconds must be {low}-{high}, got {request_ttl_seconds}")
    low, high = INVOCATION_TIMEOUT_RANGE
    if not low <= invocation_timeout_seconds <= high:
        raise WorkbenchError(
            f"invocation_timeout_seconds must be {low}-{high}, got {invocation_timeout_seconds}"
        )
    info = deployment.endpoint(endpoint_key)
    inference_id = inference_id or uuid.uuid4().hex
    bucket, key = _prefix_key(info.input_prefix, f"{inference_id}.json")
    deployment.client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(payload).encode("utf-8"),
        ContentType="application/json",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=deployment.kms_key_arn,
    )
    submitted_at = now()
    response = deployment.client("sagemaker-runtime").invoke_endpoint_async(
        EndpointName=info.endpoint_name,
        ContentType="application/json",
        Accept="application/json",
        InputLocation=f"s3://{bucket}/{key}",
        InferenceId=inference_id,
        RequestTTLSeconds=request_ttl_seconds,
        InvocationTimeoutSeconds=invocation_timeout_seconds,
    )
    return AsyncInvocation(
        endpoint_key=endpoint_key,
        endpoint_name=info.endpoint_name,
        inference_id=response.get("InferenceId") or inference_id,
        input_location=f"s3://{bucket}/{key}",
        output_location=response["OutputLocation"],
        failure_location=response.get("FailureLocation"),
        submitted_at=submitted_at,
    )


def _read_s3_object(s3: Any, uri: str) -> bytes | None:
    bucket, key = split_s3_uri(uri)
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in _MISSING_OBJECT_CODES:
            return None
        raise


def _decode(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def poll_async_result(
    deployment: Deployment, invocation: AsyncInvocation, *, now: Callable[[], datetime] = _now
) -> AsyncResult | None:
    """The result if the endpoint has written it (output or failure file), else ``None``."""
    s3 = deployment.client("s3")
    raw = _read_s3_object(s3, invocation.output_location)
    if raw is not None:
        return AsyncResult(invocation, True, invocation.output_location, _decode(raw), now())
    if invocation.failure_location:
        raw = _read_s3_object(s3, invocation.failure_location)
        if raw is not None:
            return AsyncResult(invocation, False, invocation.failure_location, _decode(raw), now())
    return None


def wait_for_async_result(
    deployment: Deployment,
    invocation: AsyncInvocation,
    *,
    timeout_seconds: float = 3600,
    poll_seconds: float = 5,
    raise_on_failure: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _now,
) -> AsyncResult:
    """Poll the output and failure locations until one appears.

    Raises ``AsyncInferenceFailedError`` when the failure file appears (unless
    ``raise_on_failure`` is false) and ``TimeoutError`` after ``timeout_seconds``.
    """
    deadline = clock() + timeout_seconds
    while True:
        result = poll_async_result(deployment, invocation, now=now)
        if result is not None:
            if not result.succeeded and raise_on_failure:
                raise AsyncInferenceFailedError(
                    f"{invocation.endpoint_name} request {invocation.inference_id} failed: "
                    f"{result.body!r:.500}"
                )
            return result
        if clock() >= deadline:
            raise TimeoutError(
                f"No result for {invocation.inference_id} after {_format_seconds(timeout_seconds)}"
                f" at {invocation.output_location}. If the endpoint is awake, check that this "
                "role may s3:ListBucket the inference bucket (S3 answers 403 for a missing "
                "object otherwise)."
            )
        sleep(poll_seconds)


def generated_text(body: Any) -> str:
    """The generated text of an LMI response (object or one-element list)."""
    if isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, Mapping):
        return str(body.get("generated_text", ""))
    return str(body)


def output_token_count(body: Any) -> tuple[int, bool]:
    """``(tokens, estimated)`` generated in an LMI response.

    Exact from ``details.generated_tokens`` (sent with ``details: true``), else estimated as
    4/3 tokens per whitespace-separated word.
    """
    item = body[0] if isinstance(body, list) and body else body
    details = item.get("details") if isinstance(item, Mapping) else None
    if isinstance(details, Mapping):
        if isinstance(details.get("generated_tokens"), int):
            return details["generated_tokens"], False
        if isinstance(details.get("tokens"), list):
            return len(details["tokens"]), False
    return math.ceil(len(generated_text(body).split()) * 4 / 3), True


# --------------------------------------------------------------------------------------------
# Endpoint state and metrics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceSample:
    """The endpoint variant's instance count at a moment."""

    at: datetime
    count: int


def endpoint_instance_count(deployment: Deployment, endpoint_key: str) -> int:
    """``CurrentInstanceCount`` of the endpoint's variant (0 while scaled to zero)."""
    info = deployment.endpoint(endpoint_key)
    desc = deployment.client("sagemaker").describe_endpoint(EndpointName=info.endpoint_name)
    for variant in desc.get("ProductionVariants", []):
        if variant["VariantName"] == info.variant_name:
            return int(variant.get("CurrentInstanceCount", 0))
    raise WorkbenchError(
        f"{info.endpoint_name} ({desc.get('EndpointStatus')}) has no variant {info.variant_name}"
    )


def watch_instance_count(
    deployment: Deployment,
    endpoint_key: str,
    *,
    until: Callable[[int], bool],
    timeout_seconds: float = 3600,
    poll_seconds: float = 30,
    printer: Printer = print,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _now,
) -> list[InstanceSample]:
    """Sample the instance count until ``until(count)`` holds or the timeout passes."""
    samples: list[InstanceSample] = []
    deadline = clock() + timeout_seconds
    while True:
        count = endpoint_instance_count(deployment, endpoint_key)
        if not samples or samples[-1].count != count:
            printer(f"{now():%H:%M:%S} {endpoint_key}: {count} instance(s)")
        samples.append(InstanceSample(now(), count))
        if until(count) or clock() >= deadline:
            return samples
        sleep(poll_seconds)


@dataclass(frozen=True)
class ColdStart:
    """One request sent to an endpoint, timed from submission to capacity and to result."""

    initial_instances: int
    capacity_seconds: float | None
    result_seconds: float
    samples: list[InstanceSample]
    result: AsyncResult


def measure_cold_start(
    deployment: Deployment,
    endpoint_key: str,
    payload: Any,
    *,
    timeout_seconds: float = 3600,
    poll_seconds: float = 15,
    printer: Printer = print,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _now,
) -> ColdStart:
    """Send one request and time how long capacity and the first result take."""
    initial = endpoint_instance_count(deployment, endpoint_key)
    if initial:
        printer(f"{endpoint_key} already has {initial} instance(s): this is a warm request.")
    invocation = invoke_async(
        deployment, endpoint_key, payload, request_ttl_seconds=REQUEST_TTL_RANGE[1], now=now
    )
    samples = [InstanceSample(invocation.submitted_at, initial)]
    capacity_at = invocation.submitted_at if initial else None
    deadline = clock() + timeout_seconds
    while True:
        if capacity_at is None:
            count = endpoint_instance_count(deployment, endpoint_key)
            samples.append(InstanceSample(now(), count))
            if count:
                capacity_at = samples[-1].at
                printer(
                    f"{now():%H:%M:%S} capacity after "
                    f"{_format_seconds((capacity_at - invocation.submitted_at).total_seconds())}"
                )
        result = poll_async_result(deployment, invocation, now=now)
        if result is not None:
            if not result.succeeded:
                raise AsyncInferenceFailedError(f"request failed: {result.body!r:.500}")
            capacity = (
                (capacity_at - invocation.submitted_at).total_seconds() if capacity_at else None
            )
            printer(f"{now():%H:%M:%S} result after {_format_seconds(result.latency_seconds)}")
            return ColdStart(initial, capacity, result.latency_seconds, samples, result)
        if clock() >= deadline:
            raise TimeoutError(f"no result after {_format_seconds(timeout_seconds)}")
        sleep(poll_seconds)


ASYNC_BACKLOG_METRICS = ("ApproximateBacklogSize", "HasBacklogWithoutCapacity")


def metric_series(
    deployment: Deployment,
    endpoint_key: str,
    *,
    start: datetime,
    end: datetime | None = None,
    metrics: Sequence[str] = ASYNC_BACKLOG_METRICS,
    period_seconds: int = 60,
    statistic: str = "Average",
) -> dict[str, list[tuple[datetime, float]]]:
    """CloudWatch series of the endpoint's async metrics (``AWS/SageMaker``, ``EndpointName``).

    Returns ``{metric: [(timestamp, value), ...]}`` in time order.
    """
    info = deployment.endpoint(endpoint_key)
    queries: list[dict[str, Any]] = [
        {
            "Id": f"m{i}",
            "Label": name,
            "ReturnData": True,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SageMaker",
                    "MetricName": name,
                    "Dimensions": [{"Name": "EndpointName", "Value": info.endpoint_name}],
                },
                "Period": period_seconds,
                "Stat": statistic,
            },
        }
        for i, name in enumerate(metrics)
    ]
    by_id: dict[str, list[tuple[datetime, float]]] = {q["Id"]: [] for q in queries}
    cloudwatch = deployment.client("cloudwatch")
    kwargs: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end or _now(),
        "ScanBy": "TimestampAscending",
    }
    while True:
        page = cloudwatch.get_metric_data(**kwargs)
        for result in page["MetricDataResults"]:
            values = result["Values"]
            by_id[result["Id"]].extend(
                (stamp, values[i]) for i, stamp in enumerate(result["Timestamps"])
            )
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return {q["Label"]: sorted(by_id[q["Id"]]) for q in queries}


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


def cost_per_million_tokens(price_usd_per_hour: float, tokens_per_second: float) -> float:
    """USD per million generated tokens at a sustained throughput on one instance."""
    if price_usd_per_hour < 0 or tokens_per_second <= 0:
        raise WorkbenchError("price must be >= 0 and tokens_per_second > 0")
    return price_usd_per_hour / 3600 / tokens_per_second * 1_000_000


def _percentile(ordered: Sequence[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(samples: Iterable[float]) -> dict[str, float]:
    """count, mean, min, p50, p90, p99, max of latency samples (linear interpolation)."""
    ordered = sorted(float(s) for s in samples)
    if not ordered:
        raise WorkbenchError("no latency samples")
    return {
        "count": float(len(ordered)),
        "mean": sum(ordered) / len(ordered),
        "min": ordered[0],
        "p50": _percentile(ordered, 0.50),
        "p90": _percentile(ordered, 0.90),
        "p99": _percentile(ordered, 0.99),
        "max": ordered[-1],
    }


# --------------------------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkSample:
    """One benchmark request."""

    inference_id: str
    succeeded: bool
    latency_seconds: float
    output_tokens: int
    tokens_estimated: bool


@dataclass(frozen=True)
class BenchmarkResult:
    """Requests sent to one endpoint variant, with derived throughput and cost."""

    endpoint_key: str
    instance_type: str
    price_usd_per_hour: float
    instances: int
    wall_seconds: float
    samples: list[BenchmarkSample]

    @property
    def ok(self) -> list[BenchmarkSample]:
        """The samples that succeeded."""
        return [s for s in self.samples if s.succeeded]

    @property
    def throughput_tokens_per_second(self) -> float:
        """Output tokens per second over the whole run (all requests, wall clock)."""
        return (
            sum(s.output_tokens for s in self.ok) / self.wall_seconds if self.wall_seconds else 0.0
        )

    @property
    def cost_per_million_output_tokens(self) -> float:
        """USD per million output tokens at the measured throughput and instance count."""
        return cost_per_million_tokens(
            self.price_usd_per_hour * max(1, self.instances), self.throughput_tokens_per_second
        )

    def summary(self) -> dict[str, Any]:
        """One row for a comparison table."""
        latency = latency_summary(s.latency_seconds for s in self.ok) if self.ok else {}
        throughput = self.throughput_tokens_per_second
        return {
            "endpoint": self.endpoint_key,
            "instance_type": self.instance_type,
            "requests": len(self.samples),
            "failed": len(self.samples) - len(self.ok),
            "p50_s": latency.get("p50"),
            "p90_s": latency.get("p90"),
            "p99_s": latency.get("p99"),
            "tokens_per_s": throughput,
            "usd_per_million_tokens": self.cost_per_million_output_tokens if throughput else None,
            "tokens_estimated": any(s.tokens_estimated for s in self.ok),
        }


def benchmark_endpoint(
    deployment: Deployment,
    endpoint_key: str,
    prompts: Sequence[str],
    *,
    concurrency: int = 1,
    max_new_tokens: int = 256,
    timeout_seconds: float = 1800,
    poll_seconds: float = 1,
    printer: Printer = print,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _now,
) -> BenchmarkResult:
    """Send ``prompts`` in waves of ``concurrency`` requests; time each and count tokens.

    Warm the endpoint first (``measure_cold_start``): a sleeping endpoint would add its cold
    start to the first wave. Latency is submission to detection of the output file, so it
    includes queueing and up to ``poll_seconds`` of polling.
    """
    if concurrency < 1 or not prompts:
        raise WorkbenchError("need at least one prompt and concurrency >= 1")
    info = deployment.endpoint(endpoint_key)
    samples: list[BenchmarkSample] = []
    started = now()
    instances = endpoint_instance_count(deployment, endpoint_key)
    for first in range(0, len(prompts), concurrency):
        wave = [
            invoke_async(
                deployment, endpoint_key, llm_payload(p, max_new_tokens=max_new_tokens), now=now
            )
            for p in prompts[first : first + concurrency]
        ]
        for invocation in wave:
            result = wait_for_async_result(
                deployment,
                invocation,
                timeout_seconds=timeout_seconds,
                poll_seconds=poll_seconds,
                raise_on_failure=False,
                sleep=sleep,
                clock=clock,
                now=now,
            )
            tokens, estimated = output_token_count(result.body) if result.succeeded else (0, False)
            samples.append(
                BenchmarkSample(
                    invocation.inference_id,
                    result.succeeded,
                    result.latency_seconds,
                    tokens,
                    estimated,
                )
            )
        printer(f"{endpoint_key}: {len(samples)}/{len(prompts)} done")
    instances = max(instances, endpoint_instance_count(deployment, endpoint_key))
    return BenchmarkResult(
        endpoint_key=endpoint_key,
        instance_type=info.instance_type,
        price_usd_per_hour=info.price_usd_per_hour,
        instances=instances,
        wall_seconds=(now() - started).total_seconds(),
        samples=samples,
    )


# --------------------------------------------------------------------------------------------
# Plots (matplotlib, imported lazily)
# --------------------------------------------------------------------------------------------


def plot_scaling(
    samples: Sequence[InstanceSample], series: Mapping[str, Sequence[tuple[datetime, float]]]
) -> Any:
    """Instance count (sampled) over CloudWatch backlog series; returns the figure."""
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6))
    top.step([s.at for s in samples], [s.count for s in samples], where="post")
    top.set_ylabel("instances")
    top.set_title("Instance count (DescribeEndpoint)")
    for name, points in series.items():
        bottom.plot([t for t, _ in points], [v for _, v in points], marker=".", label=name)
    bottom.set_ylabel("value")
    bottom.set_title("CloudWatch AWS/SageMaker")
    bottom.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_benchmarks(results: Sequence[BenchmarkResult]) -> Any:
    """Latency percentiles, throughput and cost per million tokens per variant; the figure."""
    import matplotlib.pyplot as plt

    rows = [r.summary() for r in results]
    names = [f"{r['endpoint']}\n{r['instance_type']}" for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    width = 0.25
    for i, quantile in enumerate(("p50_s", "p90_s", "p99_s")):
        axes[0].bar(
            [x + (i - 1) * width for x in range(len(rows))],
            [r[quantile] or 0 for r in rows],
            width,
            label=quantile[:-2],
        )
    axes[0].set_xticks(range(len(rows)), names)
    axes[0].set_ylabel("seconds")
    axes[0].set_title("Latency per request")
    axes[0].legend()
    axes[1].bar(names, [r["tokens_per_s"] for r in rows])
    axes[1].set_title("Output tokens / s")
    axes[2].bar(names, [r["usd_per_million_tokens"] or 0 for r in rows])
    axes[2].set_title("USD / million output tokens")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Command line (the notebook's on-start script)
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python genai_workbench.py write-deployment --path PATH --out FILE``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="genai_workbench.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser(
        "write-deployment", help="assemble the deployment document from SSM and write it"
    )
    write.add_argument(
        "--path", required=True, help="deployment path, /<project>/<env>/deployment/"
    )
    write.add_argument("--out", required=True, help="file to write (JSON)")
    args = parser.parse_args(argv)
    try:
        write_deployment(args.path, args.out)
    except WorkbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
