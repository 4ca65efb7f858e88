"""SageMaker API facts, read from the botocore service model of the runtime that imports this.

The Lambdas, the notebook client, the operator scripts and the CDK app's config loader all read
their enums, patterns and limits here. Nothing here is typed from memory: the instance-type enum,
name patterns and size limits come from ``botocore/data/sagemaker/2017-07-24/service-2.json`` (and
ECR's and SageMaker Runtime's models), so a botocore upgrade that changes them changes the
validation too. Note that botocore itself checks only
types, required members and minimum lengths client-side; enums, patterns and maximum lengths are
checked by the service, which is why the launcher checks them before calling it.

Importing this module fails fast (a Lambda cold start, a notebook import) when the loaded botocore
is too old, see :func:`require_optimization_api`.
"""

from __future__ import annotations

from typing import Any

import botocore
import botocore.session
from botocore.model import NoShapeFoundError, OperationNotFoundError, ServiceModel

from workbench_domain.errors import UnsupportedBotocoreError

# First botocore whose SageMaker model has ModelSpeculativeDecodingConfig, MaxInstanceCount and
# ModelSource.SageMakerModel. requirements.txt pins 1.44.5, the version this code is tested with.
MINIMUM_BOTOCORE = "1.42.1"


def require_optimization_api(model: ServiceModel, version: str) -> None:
    """Raise UnsupportedBotocoreError unless ``model`` knows every member the launcher sends.

    The Lambda runtime bundles its own boto3, which may predate these members; an old model would
    reject the request client-side with a confusing parameter-validation error.
    """
    required = (
        ("OptimizationConfig", "ModelSpeculativeDecodingConfig"),
        ("OptimizationConfig", "ModelQuantizationConfig"),
        ("OptimizationConfig", "ModelCompilationConfig"),
        ("OptimizationJobModelSource", "SageMakerModel"),
        ("CreateOptimizationJobRequest", "MaxInstanceCount"),
    )
    missing = []
    for shape_name, member in required:
        try:
            members = model.shape_for(shape_name).members
        except NoShapeFoundError:
            members = {}
        if member not in members:
            missing.append(f"{shape_name}.{member}")
    try:
        model.operation_model("DescribeOptimizationJob")
    except OperationNotFoundError:
        missing.append("operation DescribeOptimizationJob")
    if missing:
        raise UnsupportedBotocoreError(
            f"botocore {version} is too old for the optimization launcher: its SageMaker model "
            f"lacks {', '.join(missing)}. Need botocore >= {MINIMUM_BOTOCORE} (requirements.txt "
            "pins 1.44.5); the function is probably running the Lambda runtime's bundled boto3 "
            "instead of the boto3 layer built from requirements.txt."
        )


BOTOCORE_SESSION = botocore.session.get_session()
SAGEMAKER_MODEL = BOTOCORE_SESSION.get_service_model("sagemaker")
require_optimization_api(SAGEMAKER_MODEL, botocore.__version__)

_CREATE = SAGEMAKER_MODEL.operation_model("CreateOptimizationJob").input_shape.members
_QUANTIZATION = SAGEMAKER_MODEL.shape_for("ModelQuantizationConfig").members
_TAG = _CREATE["Tags"].member.members
_DESCRIBE = SAGEMAKER_MODEL.operation_model("DescribeOptimizationJob").output_shape.members

# CreateOptimizationJob.DeploymentInstanceType enum (55 values in botocore 1.44.5).
DEPLOYMENT_INSTANCE_TYPES: tuple[str, ...] = tuple(_CREATE["DeploymentInstanceType"].enum)

JOB_NAME_PATTERN: str = _CREATE["OptimizationJobName"].metadata["pattern"]
JOB_NAME_MAX: int = _CREATE["OptimizationJobName"].metadata["max"]
MODEL_NAME_PATTERN: str = (
    _CREATE["ModelSource"].members["SageMakerModel"].members["ModelName"].metadata["pattern"]
)
MODEL_NAME_MAX: int = (
    _CREATE["ModelSource"].members["SageMakerModel"].members["ModelName"].metadata["max"]
)
ROLE_ARN_PATTERN: str = _CREATE["RoleArn"].metadata["pattern"]
KMS_KEY_ID_MAX: int = _CREATE["OutputConfig"].members["KmsKeyId"].metadata["max"]
S3_URI_MAX: int = _CREATE["OutputConfig"].members["S3OutputLocation"].metadata["max"]
IMAGE_URI_MAX: int = _QUANTIZATION["Image"].metadata["max"]
ENVIRONMENT_MAX_ENTRIES: int = _QUANTIZATION["OverrideEnvironment"].metadata["max"]
ENVIRONMENT_KEY_MAX: int = _QUANTIZATION["OverrideEnvironment"].key.metadata["max"]
ENVIRONMENT_VALUE_MAX: int = _QUANTIZATION["OverrideEnvironment"].value.metadata["max"]
TAGS_MAX: int = _CREATE["Tags"].metadata["max"]
TAG_KEY_MIN: int = _TAG["Key"].metadata["min"]
TAG_KEY_MAX: int = _TAG["Key"].metadata["max"]
TAG_VALUE_MAX: int = _TAG["Value"].metadata["max"]
JOB_STATUSES: tuple[str, ...] = tuple(_DESCRIBE["OptimizationJobStatus"].enum)

# ECR repository names (ecr model, RepositoryName.pattern), for image URI checks.
ECR_REPOSITORY_PATTERN: str = (
    BOTOCORE_SESSION.get_service_model("ecr").shape_for("RepositoryName").metadata["pattern"]
)


def sagemaker_regions() -> frozenset[str]:
    """Every region where botocore knows a SageMaker endpoint, over all partitions."""
    return frozenset(
        region
        for partition in BOTOCORE_SESSION.get_available_partitions()
        for region in BOTOCORE_SESSION.get_available_regions("sagemaker", partition)
    )


def _shape(name: str) -> Any:
    return SAGEMAKER_MODEL.shape_for(name)


def enum(shape: str) -> frozenset[str]:
    """The values of a SageMaker enum shape, e.g. ``ProductionVariantInstanceType``."""
    return frozenset(_shape(shape).enum)


def integer_limits(shape: str) -> tuple[int, int]:
    """(min, max) of a SageMaker integer shape."""
    metadata = _shape(shape).metadata
    return metadata["min"], metadata["max"]


# InvokeEndpointAsync (sagemaker-runtime model): how long a request may wait in the queue, and how
# long the container may work on it.
_INVOKE_ASYNC = (
    BOTOCORE_SESSION.get_service_model("sagemaker-runtime")
    .operation_model("InvokeEndpointAsync")
    .input_shape.members
)
REQUEST_TTL_RANGE: tuple[int, int] = (
    _INVOKE_ASYNC["RequestTTLSeconds"].metadata["min"],
    _INVOKE_ASYNC["RequestTTLSeconds"].metadata["max"],
)
INVOCATION_TIMEOUT_RANGE: tuple[int, int] = (
    _INVOKE_ASYNC["InvocationTimeoutSeconds"].metadata["min"],
    _INVOKE_ASYNC["InvocationTimeoutSeconds"].metadata["max"],
)
