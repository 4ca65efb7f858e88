"""Accuracy of a served variant, measured with EleutherAI's lm-evaluation-harness.

The harness runs its own task configurations (GSM8K, IFEval, ...) and scores the answers; this
module only lets it talk to an endpoint: ``EndpointLM`` is a harness model (``lm_eval.api.model.
LM``) whose ``generate_until`` sends each prompt through this client: async endpoints through
the async queue (``invoke_async``, LMI's text-generation schema), realtime ones through
``chat``. Greedy decoding, the harness's stop strings applied to the answer. Generative tasks
only: an endpoint returns no log-likelihoods.

Needs the optional ``lm_eval`` package (``pip install "lm-eval==0.4.13"``, extra
``evaluation``); nothing else of this client imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from lm_eval.api.model import LM

from genai_workbench.async_inference import (
    generated_text,
    invoke_async,
    wait_for_async_result,
)
from genai_workbench.common import WorkbenchError
from genai_workbench.deployment import Deployment, RealtimeEndpointInfo
from genai_workbench.realtime_inference import chat
from workbench_domain.accuracy import TASK_METRICS, Accuracy

DEFAULT_MAX_TOKENS = 256
# The harness's settings that decide which prompts are sent and how they are drawn: two records
# compare only when they match (``workbench_domain.accuracy.comparable``).
SETTINGS = ("limit", "random_seed", "numpy_seed", "fewshot_seed", "gen_kwargs")
# The harness's standard error of a mean is closed-form once bootstrap is on (any count).
BOOTSTRAP_ITERS = 1000


def greedy_payload(prompt: str, *, max_new_tokens: int, stop: Sequence[str]) -> dict[str, Any]:
    """LMI's text-generation request, greedy: LMI turns `do_sample: false` into temperature 0
    and passes other parameters to vLLM's CompletionRequest, `stop` among them (cited in the
    vLLM rows of workbench_domain/serving_images.json, request_response_utils.py)."""
    parameters: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": False}
    if stop:
        parameters["stop"] = list(stop)
    return {"inputs": prompt, "parameters": parameters}


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """The answer up to the first stop string, as the harness expects it."""
    for marker in stop:
        if marker and marker in text:
            text = text.split(marker, 1)[0]
    return text


Generate = Callable[[list[tuple[str, int, list[str]]]], list[str]]


class EndpointLM(LM):  # type: ignore[misc]  # lm_eval ships no type information
    """A harness model that answers with a deployed endpoint of this app."""

    def __init__(
        self,
        deployment: Deployment,
        endpoint_key: str,
        *,
        concurrency: int = 4,
        timeout_seconds: float = 1800,
        generate: Generate | None = None,
    ) -> None:
        super().__init__()
        if concurrency < 1:
            raise WorkbenchError("concurrency must be >= 1")
        self.deployment, self.endpoint_key = deployment, endpoint_key
        self.concurrency, self.timeout_seconds = concurrency, timeout_seconds
        self._generate = generate or self._send

    def _send(self, prompts: list[tuple[str, int, list[str]]]) -> list[str]:
        info = self.deployment._any_endpoint(self.endpoint_key)
        if isinstance(info, RealtimeEndpointInfo):
            return [
                chat(
                    self.deployment,
                    self.endpoint_key,
                    [{"role": "user", "content": prompt}],
                    max_tokens=tokens,
                    temperature=0.0,
                ).text
                for prompt, tokens, _ in prompts
            ]
        answers: list[str] = []
        for first in range(0, len(prompts), self.concurrency):
            wave = [
                invoke_async(
                    self.deployment,
                    self.endpoint_key,
                    greedy_payload(prompt, max_new_tokens=tokens, stop=stop),
                )
                for prompt, tokens, stop in prompts[first : first + self.concurrency]
            ]
            for invocation in wave:
                result = wait_for_async_result(
                    self.deployment, invocation, timeout_seconds=self.timeout_seconds
                )
                answers.append(generated_text(result.body))
        return answers

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        prompts = []
        for request in requests:
            context, kwargs = request.args
            until = kwargs.get("until") or []
            stop = [until] if isinstance(until, str) else list(until)
            tokens = int(kwargs.get("max_gen_toks") or DEFAULT_MAX_TOKENS)
            prompts.append((str(context), tokens, stop))
        answers = self._generate(prompts)
        return [cut_at_stop(answer, stop) for answer, (_, _, stop) in zip(answers, prompts)]

    def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
        raise WorkbenchError("an endpoint returns no log-likelihoods: use generative tasks")

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
        raise WorkbenchError("an endpoint returns no log-likelihoods: use generative tasks")


def accuracies(
    results: dict[str, Any], *, endpoint_key: str, run: str, measured_at: datetime
) -> list[Accuracy]:
    """An Accuracy per task of a ``simple_evaluate`` result, for the task's primary metric
    (``workbench_domain.accuracy.TASK_METRICS``), with each document's score."""
    import lm_eval

    found = []
    for task, scores in (results.get("results") or {}).items():
        metric = TASK_METRICS.get(task)
        if metric is None or metric not in scores:
            have = ", ".join(sorted(k for k in scores if "," in k))
            raise WorkbenchError(f"{task}: no primary metric {metric} reported (have: {have})")
        name, _, filter_name = metric.partition(",")
        stderr = scores.get(f"{name}_stderr,{filter_name}")
        config = results.get("config") or {}
        found.append(
            Accuracy(
                endpoint_key=endpoint_key,
                run=run,
                measured_at=measured_at.isoformat(),
                task=task,
                metric=metric,
                value=float(scores[metric]),
                # "N/A" when the harness computed none (one document, or no bootstrap)
                stderr=float(stderr) if isinstance(stderr, (int, float)) else None,
                samples=int(((results.get("n-samples") or {}).get(task) or {})["effective"]),
                per_document={
                    str(sample["doc_id"]): float(sample[name])
                    for sample in (results.get("samples") or {}).get(task, [])
                    if sample.get("filter") == filter_name and name in sample
                },
                harness=f"lm-evaluation-harness {lm_eval.__version__}",
                settings={
                    **{k: config.get(k) for k in SETTINGS},
                    "num_fewshot": ((results.get("configs") or {}).get(task) or {}).get(
                        "num_fewshot"
                    ),
                },
            )
        )
    return found


def evaluate_endpoint(
    deployment: Deployment,
    endpoint_key: str,
    *,
    tasks: Sequence[str | dict[str, Any]] = ("gsm8k",),
    limit: int = 250,
    num_fewshot: int | None = None,
    concurrency: int = 4,
    run: str,
    measured_at: datetime,
    generate: Generate | None = None,
) -> list[Accuracy]:
    """Run the harness's tasks on the endpoint (the first `limit` documents of each, the same
    for every endpoint) and return the accuracy of each."""
    import lm_eval

    model = EndpointLM(deployment, endpoint_key, concurrency=concurrency, generate=generate)
    results = lm_eval.simple_evaluate(
        model=model,
        tasks=list(tasks),
        limit=limit,
        num_fewshot=num_fewshot,
        log_samples=True,
        bootstrap_iters=BOOTSTRAP_ITERS,
    )
    if not results:
        raise WorkbenchError(f"{endpoint_key}: the harness returned no results")
    return accuracies(results, endpoint_key=endpoint_key, run=run, measured_at=measured_at)
