"""CloudFormation custom resource: a SageMaker model created through the CreateModel API.

CloudFormation's AWS::SageMaker::Model has no `AdditionalModelDataSources` (the extra model data
channels that mount, e.g., a speculative-decoding draft model), while the API has had it since 2024.
This handler creates such a model.

Resource properties:
    ModelName  the model's name. The construct derives it from a hash of the definition, so any
               change is a new name: CloudFormation creates the new model, repoints the endpoint
               config, then deletes the old model (Delete with the old physical id).
    Model      JSON of the CreateModel request without ModelName (a JSON string, because
               CloudFormation turns every non-string property of a custom resource into a string).

Create and Update create the model unless it already exists: a rolled-back update asks again for
the previous model, which still exists, and must succeed. Delete deletes it; a missing model is
not an error. Every outcome is reported to CloudFormation, or the stack would wait an hour.
"""

from __future__ import annotations

import functools
import json
import logging
import urllib.request
from typing import Any

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# The physical id of a resource whose create failed: Delete must not touch any model then.
NOT_CREATED = "not-created"


@functools.cache
def sagemaker_client() -> Any:
    """One client per cold start (building it loads the large SageMaker service model)."""
    return boto3.client("sagemaker")


def _exists(client: Any, name: str) -> bool:
    try:
        client.describe_model(ModelName=name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationException":
            return False  # "Could not find model ..."
        raise
    return True


def _require_api_support(client: Any, model: dict[str, Any]) -> None:
    """Fails clearly when the runtime's botocore predates a field the model uses."""
    members = client.meta.service_model.shape_for("ContainerDefinition").members
    for field in model.get("PrimaryContainer", {}):
        if field not in members:
            raise RuntimeError(
                f"this Lambda runtime's botocore does not know ContainerDefinition.{field}; "
                "use a newer Python runtime"
            )


def create(client: Any, properties: dict[str, Any]) -> str:
    name = str(properties["ModelName"])
    model = json.loads(properties["Model"])
    if _exists(client, name):
        logger.info("model %s exists; keeping it", name)
        return name
    _require_api_support(client, model)
    client.create_model(ModelName=name, **model)
    logger.info("created model %s", name)
    return name


def delete(client: Any, physical_id: str) -> None:
    if physical_id == NOT_CREATED:
        return
    try:
        client.delete_model(ModelName=physical_id)
        logger.info("deleted model %s", physical_id)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ValidationException":
            raise
        logger.info("model %s was already gone", physical_id)


def respond(event: dict[str, Any], status: str, physical_id: str, reason: str = "") -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3000] or status,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": {"ModelName": physical_id},
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (CloudFormation's pre-signed https URL)
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        logger.info("CloudFormation answered %s", response.status)


def handler(event: dict[str, Any], _context: object, client: Any = None) -> None:
    request_type = event["RequestType"]
    previous = event.get("PhysicalResourceId", NOT_CREATED)
    try:
        client = client or sagemaker_client()
        if request_type == "Delete":
            delete(client, previous)
            physical_id = previous
        else:
            physical_id = create(client, event["ResourceProperties"])
    except Exception as error:  # every failure must reach CloudFormation
        logger.exception("%s failed", request_type)
        respond(event, "FAILED", previous, f"{type(error).__name__}: {error}")
        return
    respond(event, "SUCCESS", physical_id)
