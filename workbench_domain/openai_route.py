"""SageMaker's OpenAI-compatible route: where it is, and the bearer token it takes.

Every realtime endpoint and inference component answers Chat Completions requests (streaming
too) at `/openai/v1/chat/completions` under its runtime URL (AWS's sample,
aws-samples/sagemaker-genai-hosting-examples 80ee5eb
`03-features/openai/sagemaker-inference-openai-api.ipynb`:
"https://runtime.sagemaker.<REGION>.amazonaws.com/endpoints/<ENDPOINT>/inference-components/
<IC_NAME>/openai/v1"). It authenticates with a bearer token made from the caller's own AWS
credentials: a SigV4 query-presigned `POST https://sagemaker.amazonaws.com/?Action=
CallWithBearerToken`, without its scheme, with `&Version=1` appended, base64-encoded, behind the
prefix `sagemaker-api-key-` (aws/sagemaker-python-sdk 5902b9d
`sagemaker-core/src/sagemaker/core/token_generator/token_generator.py`, `_generate_token`).
The token carries the caller's permissions: it needs `sagemaker:CallWithBearerToken`, and
`sagemaker:InvokeEndpoint` on the endpoint it calls. botocore alone makes it.
"""

from __future__ import annotations

import base64

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest

from workbench_domain.errors import ValidationError

# Not secrets: the host the token is presigned for, and its published format.
TOKEN_HOST = "sagemaker.amazonaws.com"  # noqa: S105
TOKEN_PREFIX = "sagemaker-api-key-"  # noqa: S105
TOKEN_VERSION = "&Version=1"  # noqa: S105
# "valid up to 12 hours" (the guide; the SDK's TOKEN_DURATION = 43200).
MAX_TOKEN_SECONDS = 43200
CHAT_PATH = "/chat/completions"


def bearer_token(credentials: object, region: str, *, expires_seconds: int = 3600) -> str:
    """A bearer token for the route, signed with `credentials` (botocore Credentials)."""
    if type(expires_seconds) is not int or not 1 <= expires_seconds <= MAX_TOKEN_SECONDS:
        raise ValidationError(
            "expires_seconds", "out of range", expires_seconds, f"1..{MAX_TOKEN_SECONDS}"
        )
    if not region:
        raise ValidationError("region", "missing: the token is signed for a Region")
    request = AWSRequest(
        method="POST",
        url=f"https://{TOKEN_HOST}/",
        headers={"host": TOKEN_HOST},
        params={"Action": "CallWithBearerToken"},
    )
    SigV4QueryAuth(credentials, "sagemaker", region, expires=expires_seconds).add_auth(request)
    presigned = str(request.url).replace("https://", "") + TOKEN_VERSION
    return TOKEN_PREFIX + base64.b64encode(presigned.encode()).decode()


def base_url(region: str, endpoint_name: str, inference_component: str | None = None) -> str:
    """The route's base URL (an OpenAI client appends `/chat/completions`)."""
    url = f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint_name}"
    if inference_component:
        url += f"/inference-components/{inference_component}"
    return url + "/openai/v1"
