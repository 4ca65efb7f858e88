"""The cited table of pinned serving images, `serving_images.json` beside this file: per image,
the `OPTION_*` keys its server reads (regenerated from the container's own source by
tools/serving_keys.py), the keys it ignores and why, the speculative-decoding methods its vLLM
accepts, its dtypes and quantizations, and the sources each fact was read in. Also the engines
and the error of a serving setting a pinned image cannot honour. Standard library only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from workbench_domain import uris
from workbench_domain.errors import ValidationError, shown

TABLE = Path(__file__).resolve().parent / "serving_images.json"

# `custom`: an image the table does not know; its environment is passed as given, unchecked.
ENGINES = ("vllm", "trtllm", "neuron", "custom")
ENGINE_ACCELERATOR = {"vllm": "gpu", "trtllm": "gpu", "neuron": "neuron"}


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
