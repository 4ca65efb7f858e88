"""Endpoint entries: an endpoint of cdk.json, built from what an optimization job produced.

Shape (the `endpoints.<key>` section of cdk.json, the keys a result decides)::

    {"instance_type": "ml....",
     "model": {"s3_uri": str, "accept_eula": bool},
     "serving": {"engine": "vllm" | "trtllm" | "neuron" | "custom",
                 "image_uri": str,                                   # optional
                 "tensor_parallel_degree": int, "max_model_len": int, ...,   # typed settings
                 "speculative_decoding": {"method": ..., "model": {"s3_uri": str}},  # optional
                 "environment": {str: str}}}

The notebooks print it (`genai_workbench.entry_json`); `make optimize ... --promote KEY` writes
it into cdk.json, where the config loader checks it like any hand-written entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench_domain import engine_keys, instances, jumpstart, serving, serving_images

# The method for an EAGLE head trained by an optimization job: AWS's sample deploys that
# output with method eagle3 (aws-samples/sagemaker-genai-hosting-examples
# 03-features/speculative-decoding/EAGLE/EAGLE_train_deploy.ipynb).
EAGLE_JOB_METHOD = "eagle3"
# Where an EAGLE job writes the head, under its output location (same sample: `draft/`).
EAGLE_JOB_HEAD_PREFIX = "draft/"


class EntryError(ValueError):
    """A result that cannot become an endpoint entry; the message says why."""


def _prefix(uri: str) -> str:
    return uri if uri.endswith("/") else uri + "/"


def serving_section(
    *,
    instance_type: str,
    image_uri: str | None,
    environment: Mapping[str, str],
) -> dict[str, Any]:
    """The `serving` section for a model on `instance_type` with a job's environment.

    `image_uri` (a job's RecommendedInferenceImage) is kept: when it is an image of the serving
    table, its environment is split into typed settings (checked at synth); any other image
    becomes engine `custom`, its environment passed through as the job gave it.
    """
    row = serving_images.image_for_uri(image_uri) if image_uri else None
    if image_uri and row is None:
        return {"engine": "custom", "image_uri": image_uri, "environment": dict(environment)}
    if row is not None:
        engine = row.engine
    else:
        engine = "neuron" if instances.accelerator_kind(instance_type) == "neuron" else "vllm"
    return _engine_section(engine, image_uri, environment)


def _engine_section(
    engine: str, image_uri: str | None, environment: Mapping[str, str]
) -> dict[str, Any]:
    typed, rest = split_environment(engine, environment)
    if engine == "vllm":
        # What an optimization job or JumpStart hands over is a pre-quantized checkpoint: vLLM
        # reads its quantization itself and picks the fastest kernel (awq_marlin for AWQ); a
        # named one forces that kernel (serving_environment.advice).
        typed.pop("quantization", None)
    section: dict[str, Any] = {"engine": engine}
    if image_uri:
        section["image_uri"] = image_uri
    section.update(typed)
    section["environment"] = rest
    return section


def split_environment(
    engine: str, environment: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(typed settings, the rest) of a container environment, for `engine`.

    The inverse of `serving_environment.container_environment` for the typed settings; the
    keys the app sets itself (LMI's vLLM async mode, a DLC's model path and port) are dropped.
    """
    by_key = engine_keys.typed_keys(engine)
    dropped = engine_keys.app_set_keys(engine)
    typed: dict[str, Any] = {}
    rest: dict[str, str] = {}
    for key, value in environment.items():
        name = by_key.get(key)
        if name is None:
            if key not in dropped:
                rest[key] = value
        elif name in engine_keys.INTEGER_SETTINGS:
            try:
                typed[name] = int(value)
            except ValueError:
                raise EntryError(f"{key}={value!r}: expected an integer") from None
        else:
            typed[name] = value
    return typed, rest


def entry_for_model(
    *,
    model_s3_uri: str,
    instance_type: str,
    image_uri: str | None = None,
    environment: Mapping[str, str] | None = None,
    accept_eula: bool = False,
) -> dict[str, Any]:
    """An entry serving the model at `model_s3_uri` (e.g. a quantization or compilation
    output) on `instance_type`."""
    return {
        "instance_type": instance_type,
        "model": {"s3_uri": _prefix(model_s3_uri), "accept_eula": accept_eula},
        "serving": serving_section(
            instance_type=instance_type, image_uri=image_uri, environment=environment or {}
        ),
    }


def entry_for_compilation(
    *,
    model_s3_uri: str,
    instance_type: str,
    job_images: tuple[str, ...] = (),
    image_uri: str | None = None,
    environment: Mapping[str, str] | None = None,
    accept_eula: bool = False,
) -> dict[str, Any]:
    """An entry serving what a compilation job compiled, with the image that can load it.

    A compiled engine loads only in the TensorRT-LLM (GPU) or Neuron SDK version that built it,
    so the entry serves with the job's recommended image (`image_uri`), else with the image
    the job compiled with: the pinned TensorRT-LLM row where its tag is that image's, else that
    image as engine custom. The app's pinned vLLM image never serves a compiled engine.
    """
    if instances.accelerator_kind(instance_type) == "gpu":
        image_uri = image_uri or next(iter(job_images), None)
        if image_uri is None:
            raise EntryError(
                "a compiled TensorRT-LLM engine serves only on the TensorRT-LLM that built it, "
                "and this result names neither a recommended image nor the job's image: pass "
                "the image the job ran with (the optimization config's images.trtllm)"
            )
    return entry_for_model(
        model_s3_uri=model_s3_uri,
        instance_type=instance_type,
        image_uri=image_uri,
        environment=environment,
        accept_eula=accept_eula,
    )


def with_speculative_model(
    entry: Mapping[str, Any], *, method: str, model_s3_uri: str, num_speculative_tokens: int = 5
) -> dict[str, Any]:
    """A copy of `entry` that speculates with the model at `model_s3_uri`."""
    if method not in serving.SPECULATIVE_METHODS[1:]:
        raise EntryError(
            f"speculative method {method!r}: allowed {', '.join(serving.SPECULATIVE_METHODS[1:])}"
        )
    section = dict(entry["serving"])
    if section["engine"] != "vllm":
        raise EntryError(
            f"speculative decoding needs the vllm engine; this entry serves with "
            f"{section['engine']} ({section.get('image_uri', 'its pinned image')})"
        )
    section["speculative_decoding"] = {
        "method": method,
        "model": {"s3_uri": _prefix(model_s3_uri)},
        "num_speculative_tokens": num_speculative_tokens,
    }
    return {**entry, "serving": section}


def entry_for_eagle_job(
    *,
    base_model_s3_uri: str,
    output_s3_uri: str,
    instance_type: str,
    image_uri: str | None = None,
    environment: Mapping[str, str] | None = None,
    accept_eula: bool = False,
) -> dict[str, Any]:
    """An entry serving the job's base model with the EAGLE head the job trained.

    The head is `<output>/draft/`, mounted as channel `eagle`; the endpoint runs vLLM with
    `speculative_config` method eagle3. A recommended image that is not a vLLM image of the
    serving table is replaced by the pinned vLLM image (EAGLE needs vLLM's speculative config).
    """
    row = serving_images.image_for_uri(image_uri) if image_uri else None
    keep_image = image_uri if row is not None and row.engine == "vllm" else None
    if instances.accelerator_kind(instance_type) != "gpu":
        raise EntryError(f"an EAGLE head runs on vLLM, on GPU instances, not on {instance_type}")
    entry = entry_for_model(
        model_s3_uri=base_model_s3_uri,
        instance_type=instance_type,
        image_uri=keep_image,
        environment=environment,
        accept_eula=accept_eula,
    )
    return with_speculative_model(
        entry,
        method=EAGLE_JOB_METHOD,
        model_s3_uri=_prefix(output_s3_uri) + EAGLE_JOB_HEAD_PREFIX,
    )


def entry_for_jumpstart(
    model: jumpstart.JumpStartModel,
    *,
    instance_type: str,
    accept_eula: bool,
    jumpstart_image: bool = False,
) -> dict[str, Any]:
    """An entry serving a JumpStart model (and its SageMaker-provided draft, if it has one).

    By default the model runs on the app's pinned image for the instance, with JumpStart's
    environment split into typed settings when the document's framework is that image's (an
    environment for another server is dropped); `jumpstart_image` keeps JumpStart's own image
    for the instance type (engine custom unless the serving table knows it), or, where the
    document names only a framework (`HostingEcrSpecs`), the app's pinned image of it. A
    draft needs the pinned vLLM image: JumpStart's LMI images set it up with
    OPTION_SPECULATIVE_DRAFT_MODEL, which LMI 15+ ignores.
    """
    environment = {
        k: v for k, v in model.environment.items() if k not in engine_keys.LEGACY_DRAFT_KEYS
    }
    pinned_engine = "neuron" if instances.accelerator_kind(instance_type) == "neuron" else "vllm"
    if not jumpstart_image and model.framework_engine != pinned_engine:
        # The document's environment is for its own server (e.g. TGI's SM_NUM_GPUS, which LMI's
        # entrypoint turns into TENSOR_PARALLEL_DEGREE): not for the pinned image.
        environment = {}
    if jumpstart_image and model.image_uri is None:
        if model.framework_engine is None:
            raise EntryError(
                f"{model.model_id} names no image for {instance_type} "
                "(HostingInstanceTypeVariants, HostingEcrUri), and its HostingEcrSpecs framework "
                "is none this app pins "
                f"({', '.join(jumpstart.FRAMEWORK_ENGINES)}): serve it without --jumpstart-image"
            )
        entry = {
            "instance_type": instance_type,
            "model": {"s3_uri": _prefix(model.artifacts_uri), "accept_eula": accept_eula},
            "serving": _engine_section(model.framework_engine, None, environment),
        }
    else:
        entry = entry_for_model(
            model_s3_uri=model.artifacts_uri,
            instance_type=instance_type,
            image_uri=model.image_uri if jumpstart_image else None,
            environment=environment,
            accept_eula=accept_eula,
        )
    if model.draft_s3_uri is None:
        return entry
    drafted = with_speculative_model(entry, method="draft_model", model_s3_uri=model.draft_s3_uri)
    drafted["serving"]["speculative_decoding"]["model"]["jumpstart"] = True
    drafted["serving"]["speculative_decoding"]["model"]["accept_eula"] = accept_eula
    return drafted
