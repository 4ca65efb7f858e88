"""The `optimization` section: the workflow that launches optimization jobs and follows them."""

from __future__ import annotations

from dataclasses import dataclass

from workbench_config.reader import ConfigError, Reader

# Time the workflow allows on top of a job's own MaxRuntimeInSeconds: the job waits for capacity
# (STARTING) and uploads its output (STOPPING) outside its runtime, and polls end late by up to
# one poll interval.
JOB_START_MARGIN_SECONDS = 3600
# CreateOptimizationJob: "The maximum value is 28 days" (StoppingCondition.MaxRuntimeInSeconds).
MAX_JOB_RUNTIME_SECONDS = 28 * 24 * 3600
# An S3 key prefix that is also safe inside an IAM resource ARN (no wildcards).
_OUTPUT_PREFIX = r"(?:[A-Za-z0-9][A-Za-z0-9_.-]*/)+"
# An OCI image tag (distribution spec), the part after ':' in an image URI.
_IMAGE_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"


@dataclass(frozen=True)
class OptimizationImages:
    """Tags of the DJL inference DLC (repository `djl-inference`) the launcher uses by default,
    one per image family of `features.endpoints.dlc_images`."""

    lmi: str  # quantization (awq, fp8) on GPU
    trtllm: str  # compilation and smoothquant on GPU
    neuron: str  # compilation on Inferentia2 / Trainium


@dataclass(frozen=True)
class OptimizationConfig:
    # Seconds between two DescribeOptimizationJob calls of the workflow.
    poll_seconds: int
    # StoppingCondition.MaxRuntimeInSeconds of a job whose request does not set it.
    max_runtime_seconds: int
    # After this long the workflow stops the job, notifies and fails.
    workflow_timeout_hours: int
    # Default key prefix of job outputs in the artifacts bucket; jobs may write only below it.
    output_prefix: str
    images: OptimizationImages

    @property
    def workflow_timeout_seconds(self) -> int:
        return self.workflow_timeout_hours * 3600

    @property
    def max_request_runtime_seconds(self) -> int:
        """The largest `max_runtime_seconds` a request may ask for: it must end in the workflow."""
        return self.workflow_timeout_seconds - JOB_START_MARGIN_SECONDS


def _image_tag(section: Reader, key: str, default: str, marker: str) -> str:
    tag: str = section.string(
        key,
        default,
        pattern=_IMAGE_TAG,
        describe="allowed: an image tag such as " + repr(default),
    )
    if marker not in tag:
        raise ConfigError(
            section.child_path(key),
            tag,
            f"allowed: a djl-inference tag of this family, containing {marker!r} "
            f"(e.g. {default!r})",
        )
    return tag


def _parse_images(section: Reader) -> OptimizationImages:
    # Defaults: the SageMaker Python SDK's minimum image for quantization jobs
    # (aws/sagemaker-python-sdk v2.257.6 src/sagemaker/serve/builder/jumpstart_builder.py,
    # _JS_MINIMUM_VERSION_IMAGE), the last TensorRT-LLM 0.12 image, and the newest Neuron image
    # in the SDK's src/sagemaker/image_uri_config/djl-neuronx.json. These images run the jobs;
    # the endpoints serve with their own pins (workbench_domain/serving_images.json) or the
    # job's recommended inference image.
    return OptimizationImages(
        lmi=_image_tag(section, "lmi", "0.31.0-lmi13.0.0-cu124", "lmi"),
        trtllm=_image_tag(section, "trtllm", "0.32.0-tensorrtllm0.12.0-cu125", "tensorrtllm"),
        neuron=_image_tag(section, "neuron", "0.29.0-neuronx-sdk2.19.1", "neuronx"),
    )


def parse_optimization(section: Reader) -> OptimizationConfig:
    poll_seconds = section.integer("poll_seconds", 300, minimum=60, maximum=3600)
    max_runtime_seconds = section.integer(
        "max_runtime_seconds", 36000, minimum=1, maximum=MAX_JOB_RUNTIME_SECONDS
    )
    # At least 2 h (one hour of margin plus a job); at most 28 days of runtime plus one day.
    workflow_timeout_hours = section.integer(
        "workflow_timeout_hours", 24, minimum=2, maximum=29 * 24
    )
    config = OptimizationConfig(
        poll_seconds=poll_seconds,
        max_runtime_seconds=max_runtime_seconds,
        workflow_timeout_hours=workflow_timeout_hours,
        output_prefix=section.string(
            "output_prefix",
            "optimized/",
            pattern=_OUTPUT_PREFIX,
            describe="allowed: a key prefix such as 'optimized/' (letters, digits, '_.-', "
            "segments ending in '/', no leading '/')",
        ),
        images=section.section("images", _parse_images, optional=True),
    )
    if max_runtime_seconds > config.max_request_runtime_seconds:
        raise ConfigError(
            section.child_path("max_runtime_seconds"),
            max_runtime_seconds,
            f"allowed: at most {config.max_request_runtime_seconds} (workflow_timeout_hours "
            f"{workflow_timeout_hours} x 3600 minus {JOB_START_MARGIN_SECONDS} s for the job to "
            "start and finish); raise workflow_timeout_hours or lower this",
        )
    return config
