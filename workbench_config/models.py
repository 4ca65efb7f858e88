"""An endpoint's model files and `serving` section: where the weights (and a speculative
model) are, and the engine settings the pinned image reads (checked against the cited table)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from types import MappingProxyType

from workbench_config.reader import ConfigError, Reader
from workbench_domain import serving, serving_images, uris
from workbench_domain.serving import ServingSettings, SpeculativeDecoding

_S3_KEY_PREFIX = r"(?!/)[A-Za-z0-9!_.*'()/-]+/"
_S3_URI = r"s3://[a-z0-9][a-z0-9.{}-]{1,62}/([A-Za-z0-9!_.*'(){}/-]+/)?"


@dataclass(frozen=True)
class S3Location:
    """Exactly one of: a key prefix in the artifacts bucket, or a full `s3://` URI."""

    key_prefix: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class SpeculativeModelConfig:
    """Where the speculative model (draft model or EAGLE head) is, and the extra model data
    channel it is mounted as (`serving.speculative.channel`)."""

    channel: str
    location: S3Location
    # True for the SageMaker-provided (JumpStart) draft, which needs network isolation.
    jumpstart: bool
    accept_eula: bool
    vocab_size: int | None = None


@dataclass(frozen=True)
class ModelConfig:
    location: S3Location
    accept_eula: bool
    network_isolation: bool
    # The model's vocabulary size (config.json `vocab_size`), when stated: vLLM needs a draft
    # model's to be the same.
    vocab_size: int | None = None


# A CloudWatch alarm evaluates at most one day of one-minute periods.


def _domain_s3_uri(uri: str) -> bool:
    """The domain's one S3 grammar (workbench_domain/uris.py), with `{region}` standing for a
    region: a valid bucket name, no empty, '.' or '..' segment."""
    return uris.s3_uri_problem(uri.replace("{region}", "us-east-1")) is None


def _location(section: Reader) -> S3Location:
    key_prefix = section.string(
        "s3_key_prefix",
        None,
        pattern=_S3_KEY_PREFIX,
        valid=lambda prefix: _domain_s3_uri(f"s3://bucket/{prefix}"),
        describe="allowed: an S3 key prefix without a leading '/' that ends with '/', "
        "without empty, '.' or '..' segments, e.g. models/llama-3-70b/",
    )
    uri = section.string(
        "s3_uri",
        None,
        pattern=_S3_URI,
        valid=_domain_s3_uri,
        describe="allowed: an S3 prefix URI of a valid bucket name, ending with '/', without "
        "empty, '.' or '..' segments, e.g. s3://bucket/models/x/ ('{region}' is replaced by "
        "the deployment region)",
    )
    section.exactly_one(
        ("s3_key_prefix", "s3_uri"),
        describe="set exactly one of s3_key_prefix (a prefix in the project's artifacts bucket, "
        "e.g. models/llama-3-70b/) and s3_uri (s3://bucket/prefix/)",
    )
    return S3Location(key_prefix=key_prefix, uri=uri)


def _vocab_size(section: Reader) -> int | None:
    vocab_size: int | None = section.integer("vocab_size", None, minimum=1)
    return vocab_size


def parse_model(section: Reader) -> ModelConfig:
    return ModelConfig(
        location=_location(section),
        accept_eula=section.boolean("accept_eula", False),
        network_isolation=section.boolean("network_isolation", True),
        vocab_size=_vocab_size(section),
    )


def _speculative_model(section: Reader, channel: str) -> SpeculativeModelConfig:
    return SpeculativeModelConfig(
        channel=channel,
        location=_location(section),
        jumpstart=section.boolean("jumpstart", False),
        accept_eula=section.boolean("accept_eula", False),
        vocab_size=_vocab_size(section),
    )


def _speculative(
    section: Reader,
) -> tuple[SpeculativeDecoding | None, SpeculativeModelConfig | None]:
    method = section.string("method", choices=serving.SPECULATIVE_METHODS)
    if method == "none":
        return None, None
    if not section.has("model"):
        raise ConfigError(
            section.child_path("model"),
            None,
            f"method {method} needs the speculative model's location: "
            '{"s3_key_prefix": "models/x/"} or {"s3_uri": "s3://bucket/x/"}',
        )
    decoding = SpeculativeDecoding(
        method=method,
        num_speculative_tokens=section.integer("num_speculative_tokens", 5, minimum=1),
        draft_tensor_parallel_degree=section.integer(
            "draft_tensor_parallel_degree", None, minimum=1
        ),
    )
    model = section.section("model", lambda s: _speculative_model(s, decoding.channel))
    return dataclasses.replace(decoding, vocab_size=model.vocab_size), model


def parse_serving(section: Reader) -> tuple[ServingSettings, SpeculativeModelConfig | None]:
    environment = section.string_map("environment", {})
    for name, value in environment.items():
        if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]{0,1023}", name) or len(value) > 1024:
            raise ConfigError(
                section.child_path(f"environment.{name}"),
                value,
                "allowed: a variable name of letters, digits and '_' and a value of at most "
                "1024 characters (CreateModel's limits)",
            )
    speculative, speculative_model = (
        section.section("speculative_decoding", _speculative)
        if section.has("speculative_decoding")
        else (None, None)
    )
    settings = ServingSettings(
        engine=section.string("engine", choices=serving_images.ENGINES),
        image_tag=section.string(
            "image_tag",
            None,
            pattern=r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
            describe="allowed: a Docker image tag",
        ),
        image_uri=section.string(
            "image_uri",
            None,
            valid=lambda uri: uris.parse_ecr_image(uri, region_placeholder=True) is not None,
            describe="allowed: an ECR image URI <account>.dkr.ecr.<region>.amazonaws.com/"
            "<repository>:<tag> or @sha256:<digest> ('{region}' allowed)",
        ),
        tensor_parallel_degree=section.integer("tensor_parallel_degree", None, minimum=1),
        max_model_len=section.integer("max_model_len", None, minimum=1),
        max_concurrent_sequences=section.integer("max_concurrent_sequences", None, minimum=1),
        dtype=section.string("dtype", None),
        quantization=section.string("quantization", None),
        speculative=speculative,
        environment=MappingProxyType(environment),
    )
    return settings, speculative_model
