"""The compilation path of engine `neuron_vllm`: export a model for Hugging Face's vLLM Neuron DLC
with a SageMaker training job, into the S3 prefix the endpoint serves.

Why a job of its own. The image's serve command (huggingface/optimum-neuron v0.4.5
optimum/commands/neuron/serve.py) loads a model exported for Neuron as it is
(`NeuronConfig.from_pretrained`); any other model it looks up in the Hugging Face Hub's Neuron
cache (`select_hub_cached_entries`), which an endpoint with network isolation cannot reach, and
otherwise refuses it. An optimization job's Neuron compilation does not help: it runs the LMI
Neuron image (transformers-neuronx), whose output that serve command does not read. So the
endpoint serves a model that `optimum-cli export neuron` wrote (docs/source/guides/
export_model.mdx, "Exporting LLMs to Neuron"), with the endpoint's own batch size, sequence
length and tensor parallel degree: the serve command refuses a model exported with others.

Where it runs. A training job runs the endpoint's image with `optimum-cli` as its entrypoint
(AlgorithmSpecification.ContainerEntrypoint), reads the weights as channel `model` and writes the
export to /opt/ml/checkpoints, which SageMaker copies, uncompressed, to the endpoint's model
prefix (CheckpointConfig). Training jobs run on trn1, not inf2 (botocore's TrainingInstanceType
lists no inf2); optimum-neuron compiles inf2 and trn1 for one target (optimum/neuron/utils/
instance.py: `"inf2": "trn1",`), and `--instance_type` names it. Standard library only.
"""

from __future__ import annotations

from typing import Any

from workbench_domain import ai_jobs, api_limits, job_names
from workbench_domain.errors import ValidationError
from workbench_domain.instances import LOCAL_NVME_FAMILIES, instance_family
from workbench_domain.serving import ServingSettings

ENGINE = "neuron_vllm"
EXPORT_INSTANCE_TYPE = "ml.trn1.32xlarge"  # 32 NeuronCores: a tensor parallel degree up to 32
CHANNEL = "model"
SOURCE_DIR = f"/opt/ml/input/data/{CHANNEL}"
CHECKPOINT_DIR = "/opt/ml/checkpoints"
# `optimum-cli export neuron --torch_dtype` choices (optimum/commands/export/neuronx.py).
DTYPES = ("bfloat16", "float16", "float32")
# Targets of `--instance_type` (optimum/neuron/utils/instance.py SUPPORTED_INSTANCE_TYPES).
TARGETS = ("inf2", "trn1", "trn1n")
# Exporting a 70B model takes hours ("sometimes more than one hour" for LLMs: export_model.mdx).
DEFAULT_MAX_HOURS = 8
JOB_NAME_MAX: int = api_limits.SAGEMAKER_MODEL.shape_for("TrainingJobName").metadata["max"]
# Scratch for the weights and the export when the export instance has no local NVMe.
VOLUME_SIZE_GB = 1024


def export_arguments(settings: ServingSettings, instance_type: str, dtype: str) -> list[str]:
    """`optimum-cli` arguments that export for the endpoint's settings on `instance_type`."""
    if settings.engine != ENGINE:
        raise ValidationError(
            "serving.engine",
            f"is not {ENGINE}: only its image serves an optimum-neuron export",
            settings.engine,
            ENGINE,
        )
    target = instance_family(instance_type)
    if target not in TARGETS:
        raise ValidationError(
            "instance_type", "is no export target", instance_type, ", ".join(TARGETS)
        )
    if dtype not in DTYPES:
        raise ValidationError("dtype", "is not an export dtype", dtype, ", ".join(DTYPES))
    fixed = {
        "batch_size": settings.max_concurrent_sequences,
        "sequence_length": settings.max_model_len,
        "tensor_parallel_size": settings.tensor_parallel_degree,
    }
    names = {
        "batch_size": "max_concurrent_sequences",
        "sequence_length": "max_model_len",
        "tensor_parallel_size": "tensor_parallel_degree",
    }
    for argument, value in fixed.items():
        if value is None:
            raise ValidationError(
                f"serving.{names[argument]}",
                "must be set: the export fixes it, and the serve command checks the model "
                "against it",
                None,
            )
    return [
        "export",
        "neuron",
        "--model",
        SOURCE_DIR,
        "--task",
        "text-generation",
        *(item for argument, value in fixed.items() for item in (f"--{argument}", str(value))),
        "--torch_dtype",
        dtype,
        "--instance_type",
        target,
        CHECKPOINT_DIR,
    ]


def job_name(stage_id: str, endpoint_key: str, arguments: list[str], source_uri: str) -> str:
    """`<stage>-nx-<endpoint>-<digest>`, as the AI jobs are named (`ai_jobs`): the same request
    gets the same name, so running the command twice does not start a second export
    (CreateTrainingJob refuses a used name)."""
    digest = job_names.digest({"source": source_uri, "arguments": arguments})
    prefix = f"{ai_jobs.stem(stage_id)}-nx-{endpoint_key}"
    return f"{prefix[: JOB_NAME_MAX - len(digest) - 1].strip('-')}-{digest}"


def training_job_request(
    *,
    name: str,
    image_uri: str,
    role_arn: str,
    source_uri: str,
    target_uri: str,
    job_output_uri: str,
    kms_key_arn: str,
    arguments: list[str],
    tags: dict[str, str],
    max_hours: float = DEFAULT_MAX_HOURS,
) -> dict[str, Any]:
    """The CreateTrainingJob request of an export."""
    resources: dict[str, Any] = {"InstanceType": EXPORT_INSTANCE_TYPE, "InstanceCount": 1}
    # An instance with local NVMe uses all of it and takes no volume key ("You can't request a
    # VolumeKmsKeyId when using an instance type with local storage": botocore ResourceConfig).
    resources["VolumeSizeInGB"] = VOLUME_SIZE_GB
    if instance_family(EXPORT_INSTANCE_TYPE) not in LOCAL_NVME_FAMILIES:
        resources["VolumeKmsKeyId"] = kms_key_arn
    return {
        "TrainingJobName": name,
        "RoleArn": role_arn,
        "AlgorithmSpecification": {
            "TrainingImage": image_uri,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["optimum-cli"],
            "ContainerArguments": arguments,
        },
        "InputDataConfig": [
            {
                "ChannelName": CHANNEL,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": source_uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "InputMode": "File",
            }
        ],
        "OutputDataConfig": {"S3OutputPath": job_output_uri, "KmsKeyId": kms_key_arn},
        "CheckpointConfig": {"S3Uri": target_uri, "LocalPath": CHECKPOINT_DIR},
        "ResourceConfig": resources,
        "StoppingCondition": {"MaxRuntimeInSeconds": int(max_hours * 3600)},
        # The weights come from S3 and the export goes to S3: no internet, no Hub.
        "EnableNetworkIsolation": True,
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }
