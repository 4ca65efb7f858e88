#!/usr/bin/env python3
"""After a deploy: sends one request to each endpoint of ENV and waits for its answer.

Reads the endpoint records the stacks publish in SSM (`/<project>/<env>/deployment/endpoints/<key>`)
and the storage record (`.../deployment/storage`, for the KMS key), uploads a small JSON payload
under the endpoint's input prefix (SSE-KMS), calls InvokeEndpointAsync, and shows the instance
count while it waits (an endpoint at zero wakes up first: that takes minutes for a 70B model).
Reports the time to the first result and the output (or the failure). With --wait-for-zero it
then waits to see the endpoint scale back to 0 instances.

A realtime endpoint gets one streamed chat request instead (with its inference component's name):
while it has no copy the request is refused, and the smoke test retries until the wake alarm has
started one, then reports the wake time and the time to first token, and asks the same component
once more through the OpenAI-compatible route. It lists the metrics the component publishes,
which its scaling alarms watch. With --wait-for-zero it waits for zero copies and instances.

    python -m workbench smoke --env dev [--endpoint KEY] [--timeout 3600] [--wait-for-zero]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import genai_workbench as wb

from workbench.assembly import OperatorError
from workbench.common import (
    add_environment_arguments,
    aws_problem,
    aws_session,
    load_settings,
    positive_number,
    split_s3_uri,
)
from workbench.smoke_route import try_route
from workbench_domain import api_limits, async_inference
from workbench_domain import realtime_inference as rt
from workbench_domain.deployment_records import (
    AnyEndpointRecord,
    EndpointRecord,
    RealtimeEndpointRecord,
    StorageRecord,
)
from workbench_domain.errors import ValidationError

TTL_LOW, TTL_HIGH = api_limits.REQUEST_TTL_RANGE
DEFAULT_PROMPT = "In one sentence, what is speculative decoding?"


@dataclass
class Clock:
    """Time source and sleep, replaced in tests."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class Run:
    """What one smoke run sends, how long it waits, and where it reports."""

    prompt: str
    max_new_tokens: int
    timeout: float
    interval: float
    wait_for_zero: bool
    clock: Clock
    out: Callable[[str], None] = print

    def wait_for_nothing_running(
        self, key: str, what: str, running: Callable[[], tuple[int, str]]
    ) -> bool:
        """Polls `running` (how many still run, and what they are) until none does; False after
        the timeout."""
        self.out(f"[{key}] waiting for 0 {what} (the idle window plus alarm periods)")
        started = self.clock.now()
        while True:
            count, described = running()
            elapsed = self.clock.now() - started
            if count == 0:
                self.out(f"[{key}] back at 0 {what} after {elapsed:.0f} s")
                return True
            if elapsed >= self.timeout:
                self.out(f"[{key}] FAIL: still {described} after {self.timeout:.0f} s")
                return False
            self.clock.sleep(self.interval)


# What the realtime endpoint's scaling alarms and dashboard watch (features.endpoints.copy_scaling).
WATCHED_COMPONENT_METRICS = (
    "ConcurrentRequestsPerCopy",
    "NoCapacityInvocationFailures",
    "Invocations",
)


def read_records(ssm: Any, prefix: str) -> tuple[dict[str, AnyEndpointRecord], StorageRecord]:
    """(endpoint key -> record, storage record) from the deployment records under `prefix`,
    read by the notebook client's own reader (`genai_workbench.Deployment`)."""
    try:
        deployment = wb.Deployment.from_parameters(f"{prefix}/deployment/", ssm_client=ssm)
    except wb.WorkbenchError as error:
        raise OperatorError(str(error)) from error
    return dict(deployment.endpoints), deployment.storage


def instance_count(sagemaker: Any, record: AnyEndpointRecord) -> tuple[str, int]:
    """(endpoint status, instances of the record's variant)."""
    described = sagemaker.describe_endpoint(EndpointName=record.endpoint_name)
    try:
        count = async_inference.variant_instance_count(described, record.variant_name)
    except ValidationError as error:
        raise OperatorError(str(error)) from error
    return described["EndpointStatus"], count


def _exists(s3: Any, uri: str) -> bool:
    bucket, key = split_s3_uri(uri)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as error:
        if async_inference.is_missing_object(str(error.response["Error"]["Code"])):
            return False
        raise
    return True


def _read(s3: Any, uri: str) -> str:
    bucket, key = split_s3_uri(uri)
    text: str = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return text


def smoke_one(
    key: str,
    record: EndpointRecord,
    storage: StorageRecord,
    clients: dict[str, Any],
    run: Run,
) -> bool:
    prompt, timeout, clock, out = run.prompt, run.timeout, run.clock, run.out
    s3, runtime, sagemaker = clients["s3"], clients["sagemaker-runtime"], clients["sagemaker"]
    name = record.endpoint_name
    status, count = instance_count(sagemaker, record)
    out(f"[{key}] endpoint {name}: {status}, {count} instance(s)")
    if status not in ("InService", "Updating", "SystemUpdating"):
        out(f"[{key}] FAIL: endpoint is {status}, not InService (see the stack's events)")
        return False

    inference_id = f"smoke-{uuid.uuid4().hex}"
    target = async_inference.input_location(record.input_prefix, inference_id)
    bucket, input_key = target.bucket, target.key
    payload = async_inference.llm_payload(prompt, max_new_tokens=run.max_new_tokens)
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": storage.kms_key_arn}
    s3.put_object(
        Bucket=bucket,
        Key=input_key,
        Body=json.dumps(payload).encode(),
        ContentType="application/json",
        **extra,
    )
    started = clock.now()
    response = runtime.invoke_endpoint_async(
        **async_inference.invocation_request(
            endpoint_name=name,
            input_location=f"s3://{bucket}/{input_key}",
            inference_id=inference_id,
            request_ttl_seconds=max(TTL_LOW, min(TTL_HIGH, int(timeout))),
            invocation_timeout_seconds=async_inference.DEFAULT_INVOCATION_TIMEOUT_SECONDS,
        )
    )
    output, failure = response["OutputLocation"], response.get("FailureLocation")
    out(f"[{key}] sent s3://{bucket}/{input_key}; waiting for {output}")
    if count == 0:
        out(
            f"[{key}] the endpoint is at 0 instances: it wakes up first (minutes for a large model)"
        )

    last = None
    while True:
        elapsed = clock.now() - started
        if _exists(s3, output):
            out(f"[{key}] PASS: first result after {elapsed:.0f} s")
            out(f"[{key}] output: {_read(s3, output)[:2000]}")
            break
        if failure and _exists(s3, failure):
            body = _read(s3, failure)[:2000]
            out(f"[{key}] FAIL: the request failed after {elapsed:.0f} s: {body}")
            return False
        if elapsed >= timeout:
            out(
                f"[{key}] FAIL: no result after {timeout:.0f} s (instances: {count}); check the "
                f"endpoint's dashboard and /aws/sagemaker/Endpoints/{name} logs"
            )
            return False
        status, count = instance_count(sagemaker, record)
        if (status, count) != last:
            out(f"[{key}]   {elapsed:5.0f} s  {status}, {count} instance(s)")
            last = (status, count)
        clock.sleep(run.interval)

    if run.wait_for_zero:

        def instances() -> tuple[int, str]:
            count = instance_count(sagemaker, record)[1]
            return count, f"{count} instance(s)"

        return run.wait_for_nothing_running(key, "instances", instances)
    return True


def copies(sagemaker: Any, record: RealtimeEndpointRecord) -> tuple[str, int, int]:
    """(endpoint status, running copies of the component, instances)."""
    status, instances = instance_count(sagemaker, record)
    described = sagemaker.describe_inference_component(
        InferenceComponentName=record.inference_component_name
    )
    running = rt.running_copies(described)
    return status, running, instances


def smoke_realtime(
    key: str,
    record: RealtimeEndpointRecord,
    clients: dict[str, Any],
    run: Run,
    session: Any,
) -> bool:
    timeout, clock, out = run.timeout, run.clock, run.out
    runtime, sagemaker = clients["sagemaker-runtime"], clients["sagemaker"]
    component = record.inference_component_name
    status, running, instances = copies(sagemaker, record)
    out(
        f"[{key}] endpoint {record.endpoint_name}, component {component}: {status}, "
        f"{running} copy(ies) on {instances} instance(s)"
    )
    if status not in ("InService", "Updating", "SystemUpdating"):
        out(f"[{key}] FAIL: endpoint is {status}, not InService (see the stack's events)")
        return False
    body = rt.chat_body(
        [{"role": "user", "content": run.prompt}], max_tokens=run.max_new_tokens, stream=True
    )

    def waiting(waited: float, left: float) -> None:
        out(f"[{key}]   {waited:5.0f} s  no copy yet (waking); giving up in {left:.0f} s")

    try:
        woken = rt.call_waking(
            lambda: runtime.invoke_endpoint_with_response_stream(
                **rt.invocation(record.endpoint_name, component, body)
            ),
            timeout=timeout,
            interval=run.interval,
            now=clock.now,
            sleep=clock.sleep,
            on_wait=waiting,
        )
    except rt.EndpointAsleepError as error:
        out(f"[{key}] FAIL: {error}")
        return False
    first = None
    parts = []
    for delta in rt.stream_deltas(woken.result["Body"]):
        if first is None:
            first = clock.now() - woken.answered_attempt_started
        parts.append(delta)
    if first is None:
        out(f"[{key}] FAIL: the stream ended without any text")
        return False
    out(
        f"[{key}] PASS: woke in {woken.waited:.0f} s ({woken.attempts} attempt(s)); time to "
        f"first token "
        f"{first:.1f} s"
    )
    out(f"[{key}] answer: {''.join(parts)[:2000]}")
    # Awake now: the same component through the OpenAI-compatible route.
    routed = try_route(
        key, record, session, prompt=run.prompt, max_tokens=run.max_new_tokens, out=out
    )
    published = {
        metric["MetricName"]
        for page in clients["cloudwatch"]
        .get_paginator("list_metrics")
        .paginate(
            Namespace="AWS/SageMaker",
            Dimensions=[{"Name": "InferenceComponentName", "Value": component}],
        )
        for metric in page["Metrics"]
    }
    missing = [name for name in WATCHED_COMPONENT_METRICS if name not in published]
    out(
        f"[{key}] metrics of the component: {', '.join(sorted(published)) or 'none yet'}"
        + (
            f"; not (yet) published: {', '.join(missing)} (CloudWatch lists a metric minutes "
            "after its first datapoint; if it never appears, the scaling alarms watch nothing)"
            if missing
            else ""
        )
    )

    if run.wait_for_zero:

        def copies_and_instances() -> tuple[int, str]:
            _, running, instances = copies(sagemaker, record)
            return running + instances, f"{running} copy(ies) on {instances} instance(s)"

        waited = run.wait_for_nothing_running(key, "copies and 0 instances", copies_and_instances)
        return waited and routed
    return routed


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m workbench smoke",
        description="Sends one async request to each deployed endpoint of ENV and waits for the "
        "result. Exit 0: all passed; 1: a request failed or timed out; 2: bad usage or setup.",
    )
    add_environment_arguments(parser)
    parser.add_argument(
        "--endpoint", action="append", metavar="KEY", help="only this endpoint key (repeatable)"
    )
    parser.add_argument("--prompt", default=DEFAULT_PROMPT, help="the prompt to send")
    parser.add_argument(
        "--max-new-tokens", type=int, default=64, help="tokens to generate (default 64)"
    )
    parser.add_argument(
        "--timeout", type=positive_number, default=3600, help="seconds to wait for each result"
    )
    parser.add_argument(
        "--interval", type=positive_number, default=15, help="seconds between polls (default 15)"
    )
    parser.add_argument("--wait-for-zero", action="store_true", help="then wait for 0 instances")
    args = parser.parse_args(argv)
    if args.max_new_tokens < 1:
        parser.error("--max-new-tokens must be >= 1")
    return args


def main(argv: list[str] | None = None, session: Any = None, clock: Clock | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings(args.env)
        session = session or aws_session(args, settings)
        clients = {
            n: session.client(n)
            for n in ("ssm", "s3", "sagemaker-runtime", "sagemaker", "cloudwatch")
        }
        records, storage = read_records(clients["ssm"], settings.parameter_prefix)
        if not records:
            raise OperatorError(
                f"no endpoint records under {settings.parameter_prefix}/deployment/endpoints: "
                f"deploy the endpoint stacks first (`make deploy ENV={args.env}`)"
            )
        selected = args.endpoint or sorted(records)
        unknown = [k for k in selected if k not in records]
        if unknown:
            raise OperatorError(
                f"--endpoint {', '.join(unknown)}: not deployed; "
                f"deployed: {', '.join(sorted(records))}"
            )
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # credentials, network: one line, not a traceback
        print(f"error: {aws_problem(error) or f'{type(error).__name__}: {error}'}", file=sys.stderr)
        return 2
    run = Run(
        prompt=args.prompt,
        max_new_tokens=args.max_new_tokens,
        timeout=args.timeout,
        interval=args.interval,
        wait_for_zero=args.wait_for_zero,
        clock=clock or Clock(),
    )
    results = {}
    for key in selected:
        record = records[key]
        try:
            if isinstance(record, RealtimeEndpointRecord):
                results[key] = smoke_realtime(key, record, clients, run, session)
            else:
                results[key] = smoke_one(key, record, storage, clients, run)
        except Exception as error:
            print(f"[{key}] FAIL: {type(error).__name__}: {error}")
            results[key] = False
    print("Smoke: " + ", ".join(f"{k} {'PASS' if ok else 'FAIL'}" for k, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
