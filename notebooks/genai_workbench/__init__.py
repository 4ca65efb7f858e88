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
    below with ``python -m genai_workbench write-deployment --path PATH --out FILE``.

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
    ``recommended_inference_image``, ``job_images``, ``deployment_instance_type``, ``started``,
    ``ended``, ``duration_seconds``.

Endpoint entry (what the notebooks "promote")
    A plain dict shaped like an endpoint of ``cdk.json`` (``instance_type``, ``model``,
    ``serving``), built by ``workbench_domain.endpoint_entry`` (shipped beside this module).
    The notebooks print it as JSON (``entry_json``); ``make optimize`` with ``--promote`` writes
    ``cdk.json``, where the app's config loader checks it against the serving table.

Realtime endpoints (``chat``, ``stream_chat``)
    An endpoint record of kind ``realtime`` names the endpoint and its inference component.
    Requests are chat requests (``messages``) sent with ``InferenceComponentName``; while the
    component has no copy they are refused, and the client retries until the endpoint's wake
    alarm has started one (``workbench_domain.realtime_inference``).

Nothing here hard-codes an account, a Region, a bucket or an endpoint name: all of them come
from the deployment document.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from genai_workbench.ai_jobs import (
    benchmark_with_job,
    prepare_recommendation,
    recommend,
    stage_id,
)
from genai_workbench.async_inference import (
    AsyncInvocation,
    AsyncResult,
    generated_text,
    invoke_async,
    llm_payload,
    output_token_count,
    poll_async_result,
    wait_for_async_result,
)
from genai_workbench.benchmark import BenchmarkResult, BenchmarkSample, benchmark_endpoint
from genai_workbench.cli import main
from genai_workbench.common import (
    DEFAULT_DEPLOYMENT_FILE,
    DEPLOYMENT_FILE_ENV,
    DEPLOYMENT_PATH_ENV,
    INVOCATION_TIMEOUT_RANGE,
    LLAMA3_70B,
    NEURON_INF2_ENVIRONMENT,
    QUANTIZATION_METHODS,
    REQUEST_TTL_RANGE,
    TECHNIQUES,
    UTC,
    AsyncInferenceFailedError,
    AwsCallError,
    DeploymentNotFoundError,
    OptimizationFailedError,
    Printer,
    WorkbenchError,
    split_s3_uri,
)
from genai_workbench.deployment import (
    Deployment,
    EndpointInfo,
    RealtimeEndpointInfo,
    deployment_document,
    list_s3_prefix,
    write_deployment,
)
from genai_workbench.entries import (
    DRAFT_MODEL_FILES,
    deployment_environment,
    describe_jumpstart_model,
    download_hf_model,
    endpoint_entry_from_result,
    entry_json,
    jumpstart_entry,
    save_entry,
    upload_directory,
    upload_draft_model,
    with_custom_draft_model,
)
from genai_workbench.measurements import (
    benchmark_export,
    load_accuracies,
    load_speeds,
    speculative_acceptance,
    speed_of_async_run,
    store_accuracy,
    store_speed,
)
from genai_workbench.metrics import (
    ASYNC_BACKLOG_METRICS,
    ColdStart,
    InstanceSample,
    cost_per_million_tokens,
    endpoint_instance_count,
    latency_summary,
    measure_cold_start,
    metric_series,
    watch_instance_count,
)
from genai_workbench.openai_route import Route, openai_client, openai_route, route_chat
from genai_workbench.optimization import (
    InvalidRequestError,
    checked_event,
    execution_arn,
    list_results,
    load_result,
    start_optimization,
    wait_for_optimization,
)
from genai_workbench.plots import plot_benchmarks, plot_comparison, plot_scaling
from genai_workbench.realtime_inference import (
    ChatResult,
    ChatStream,
    EndpointAsleepError,
    chat,
    component_copies,
    stream_chat,
    wait_for_copies,
)
from workbench_domain import workflow_states
from workbench_domain.job_names import run_name
from workbench_domain.optimization_request import OptimizationRequest

__all__ = [
    "ASYNC_BACKLOG_METRICS",
    "DEFAULT_DEPLOYMENT_FILE",
    "DEPLOYMENT_FILE_ENV",
    "DEPLOYMENT_PATH_ENV",
    "DRAFT_MODEL_FILES",
    "INVOCATION_TIMEOUT_RANGE",
    "LLAMA3_70B",
    "NEURON_INF2_ENVIRONMENT",
    "QUANTIZATION_METHODS",
    "REQUEST_TTL_RANGE",
    "TECHNIQUES",
    "UTC",
    "AsyncInferenceFailedError",
    "AsyncInvocation",
    "AsyncResult",
    "AwsCallError",
    "BenchmarkResult",
    "BenchmarkSample",
    "ChatResult",
    "ChatStream",
    "ClientError",
    "ColdStart",
    "Deployment",
    "DeploymentNotFoundError",
    "EndpointAsleepError",
    "EndpointInfo",
    "InstanceSample",
    "InvalidRequestError",
    "OptimizationFailedError",
    "OptimizationRequest",
    "Printer",
    "RealtimeEndpointInfo",
    "Route",
    "WorkbenchError",
    "benchmark_endpoint",
    "benchmark_export",
    "benchmark_with_job",
    "chat",
    "checked_event",
    "component_copies",
    "cost_per_million_tokens",
    "deployment_document",
    "deployment_environment",
    "describe_jumpstart_model",
    "download_hf_model",
    "endpoint_entry_from_result",
    "endpoint_instance_count",
    "entry_json",
    "execution_arn",
    "generated_text",
    "invoke_async",
    "jumpstart_entry",
    "latency_summary",
    "list_results",
    "list_s3_prefix",
    "llm_payload",
    "load_accuracies",
    "load_result",
    "load_speeds",
    "main",
    "measure_cold_start",
    "metric_series",
    "openai_client",
    "openai_route",
    "output_token_count",
    "plot_benchmarks",
    "plot_comparison",
    "plot_scaling",
    "poll_async_result",
    "prepare_recommendation",
    "recommend",
    "route_chat",
    "run_name",
    "save_entry",
    "speculative_acceptance",
    "speed_of_async_run",
    "split_s3_uri",
    "stage_id",
    "start_optimization",
    "store_accuracy",
    "store_speed",
    "stream_chat",
    "upload_directory",
    "upload_draft_model",
    "wait_for_async_result",
    "wait_for_copies",
    "wait_for_optimization",
    "watch_instance_count",
    "with_custom_draft_model",
    "workflow_states",
    "write_deployment",
]
