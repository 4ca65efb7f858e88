"""The `chat` endpoint in the Generative AI Application Builder on AWS (its SageMaker chat use
case), which the guidance points its users to.

The Application Builder's chat Lambda fills a `ModelInputPayloadSchema` (values written
`"<<name>>"` are replaced with the prompt, the temperature and the `ModelParams` of the same
name), sends it with InvokeEndpoint (passing `InferenceComponentName` from `ModelParams` as an
endpoint argument), and reads the answer at `ModelOutputJSONPath` (aws-solutions/
generative-ai-application-builder-on-aws 7b47b67, `source/lambda/chat/llms/models/sagemaker/
content_handler.py` and `utils/constants.py` `SAGEMAKER_ENDPOINT_ARGS`). For a realtime
endpoint of this app that is the Chat Completions schema both LMI and vLLM's own server read
(the answer at `choices[0].message.content` in both), asked of its inference component.
"""

from __future__ import annotations

from typing import Any

from genai_workbench.deployment import Deployment


def app_builder_settings(
    deployment: Deployment, endpoint_key: str, *, max_tokens: int = 512
) -> dict[str, Any]:
    """The `LlmParams` of an Application Builder use case that chats with the endpoint."""
    info = deployment.realtime_endpoint(endpoint_key)
    return {
        "ModelProvider": "SageMaker",
        "SageMakerLlmParams": {
            "EndpointName": info.endpoint_name,
            "ModelInputPayloadSchema": {
                "messages": [{"role": "user", "content": "<<prompt>>"}],
                "max_tokens": "<<max_tokens>>",
                "temperature": "<<temperature>>",
            },
            "ModelOutputJSONPath": "$.choices[0].message.content",
        },
        "ModelParams": {
            "InferenceComponentName": {
                "Value": info.inference_component_name,
                "Type": "string",
            },
            "max_tokens": {"Value": str(max_tokens), "Type": "integer"},
        },
        # Its streaming path reads another format than LMI's stream; answers come whole.
        "Streaming": False,
    }
