"""The cited table of pinned serving images, `serving_images.json` beside this file: per image,
the `OPTION_*` keys its server reads (regenerated from the container's own source by
tools/serving_keys.py), the keys it ignores and why, the speculative-decoding methods its vLLM
accepts, its dtypes and quantizations, and the sources each fact was read in. Also the engines
and the error of a serving setting a pinned image cannot honour. Standard library only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from workbench_domain import uris
from workbench_domain.errors import ValidationError, shown

TABLE = Path(__file__).resolve().parent / "serving_images.json"

# `vllm`, `trtllm`, `neuron`: LMI (djl-inference) images, read `OPTION_*`; `vllm_dlc`: AWS's vLLM
# DLC for SageMaker, reads `SM_VLLM_*`; `neuron_vllm`: Hugging Face's vLLM Neuron DLC, reads
# `SM_ON_*`. `custom`: an image the table does not know; its environment is passed as given.
ENGINES = ("vllm", "vllm_dlc", "trtllm", "neuron_vllm", "neuron", "custom")
ENGINE_ACCELERATOR = {
    "vllm": "gpu",
    "vllm_dlc": "gpu",
    "trtllm": "gpu",
    "neuron_vllm": "neuron",
    "neuron": "neuron",
}
# What an image's /invocations takes: LMI's text-generation body ({"inputs", "parameters"}) or
# OpenAI's completion and chat requests (vLLM's own server).
REQUEST_SCHEMAS = ("lmi", "openai")
# How an image answers SageMaker's OpenAI-compatible route (/openai/v1/chat/completions): fully,
# streams as server-sent events (`sse`); plain answers only, streams as JSON lines that an OpenAI
# client cannot read (`json_lines`); or not established (`none`).
OPENAI_ROUTE = ("sse", "json_lines", "none")


class ServingError(ValidationError):
    """A serving setting the pinned image cannot honour. `field` is relative to `serving`;
    `allowed` is a whole phrase ("allowed: ..." or a reason)."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        super().__init__(field, "", value, allowed)

    def sentence(self) -> str:
        return f"serving.{self.field}: got {shown(self.value)}; {self.allowed}"


@dataclass(frozen=True)
class ServingImage:
    """One row of the table: a pinned image and what it reads."""

    engine: str
    repository: str
    tag: str
    vllm: str | None
    keys: frozenset[str]
    ignored: Mapping[str, str]
    speculative_methods: Mapping[str, str]
    dtypes: tuple[str, ...]
    quantizations: tuple[str, ...]
    # The lowest CUDA compute capability on which the image's vLLM runs a pre-quantized AWQ
    # checkpoint with its Marlin kernel (awq_marlin); None where the row does not say.
    awq_marlin_min_capability: float | None
    sources: tuple[Mapping[str, str], ...]
    # The prefix of the log line the container writes its speculative-decoding metrics under,
    # or None (with the reason) where it writes none.
    speculative_metrics_log: str | None = None
    speculative_metrics_note: str = ""
    # The prefix of the variables the image's entrypoint reads.
    key_prefix: str = "OPTION_"
    request_schema: str = "lmi"
    openai_route: str = "none"
    openai_route_note: str = ""
    # The host AMI the image needs (ProductionVariant.InferenceAmiVersion), or None for the default.
    inference_ami_version: str | None = None
    # `legacy`: kept for endpoints pinned to it; `legacy_reason` says why it is not a default.
    status: str = "current"
    legacy_reason: str = ""
    # The instance families the image serves (empty: every family of its accelerator), and
    # families of its accelerator it does not serve, with the reason.
    families: tuple[str, ...] = ()
    unsupported_families: Mapping[str, str] = field(default_factory=dict)
    # Keys whose argument takes no value: the entrypoint appends any non-empty value as an
    # extra argument, which the server refuses.
    flag_only_keys: frozenset[str] = frozenset()
    # The fields of vLLM's CompletionRequest, for an image whose /invocations is vLLM's own
    # (request_schema openai): what a completion request the clients send may name.
    completion_fields: frozenset[str] = frozenset()

    @property
    def accepted_keys(self) -> frozenset[str]:
        return self.keys - set(self.ignored)


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    return json.loads(TABLE.read_text())  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def images() -> tuple[ServingImage, ...]:
    return tuple(
        ServingImage(
            engine=row["engine"],
            repository=row["repository"],
            tag=row["tag"],
            vllm=row["vllm"],
            keys=frozenset(row["keys"]),
            ignored=row["ignored"],
            speculative_methods=row["speculative_methods"],
            dtypes=tuple(row["dtypes"]),
            quantizations=tuple(row["quantizations"]),
            awq_marlin_min_capability=row.get("awq_marlin_min_capability"),
            sources=tuple(row["sources"]),
            speculative_metrics_log=row.get("speculative_metrics_log"),
            speculative_metrics_note=row.get("speculative_metrics_note", ""),
            key_prefix=row.get("key_prefix", "OPTION_"),
            request_schema=row.get("request_schema", "lmi"),
            openai_route=row.get("openai_route", "none"),
            openai_route_note=row.get("openai_route_note", ""),
            inference_ami_version=row.get("inference_ami_version"),
            status=row.get("status", "current"),
            legacy_reason=row.get("legacy_reason", ""),
            families=tuple(row.get("families", ())),
            unsupported_families=row.get("unsupported_families", {}),
            flag_only_keys=frozenset(row.get("flag_only_keys", ())),
            completion_fields=frozenset(row.get("completion_fields", ())),
        )
        for row in _table()["images"]
    )


def default_tag(engine: str) -> str:
    return str(_table()["default_tags"][engine])


def image_for(engine: str, tag: str | None = None) -> ServingImage:
    """The table row of `engine` at `tag` (its pinned default when `tag` is None)."""
    if engine not in ENGINE_ACCELERATOR:
        raise ServingError("engine", engine, f"allowed: {', '.join(ENGINE_ACCELERATOR)}")
    wanted = tag or default_tag(engine)
    rows = [row for row in images() if row.engine == engine]
    for row in rows:
        if row.tag == wanted:
            return row
    raise ServingError(
        "image_tag",
        wanted,
        f"the {engine} images whose settings this app knows: "
        f"{', '.join(row.tag for row in rows)} (add a row to {TABLE.name} for another)",
    )


def image_for_uri(uri: str) -> ServingImage | None:
    """The table row of an explicit image URI (`<registry>/<repository>:<tag>`), if it has one.

    An optimization job reports the image to serve its output with (RecommendedInferenceImage):
    when that is a pinned image of the table, its settings are checked like any other.
    """
    image = uris.parse_ecr_image(uri, region_placeholder=True)
    if image is None or image.tag is None:
        return None
    for row in images():
        if (row.repository, row.tag) == (image.repository, image.tag):
            return row
    return None
