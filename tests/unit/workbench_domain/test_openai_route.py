"""The route's bearer token, checked against SigV4 computed here by hand (not by botocore)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from urllib.parse import parse_qsl, quote

import botocore.auth
import pytest
from botocore.credentials import Credentials

from workbench_domain import openai_route as route
from workbench_domain.errors import ValidationError

AT = datetime(2026, 12, 7, 10, 30, 0)
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: AT)


def decoded(token: str) -> str:
    assert token.startswith("sagemaker-api-key-")
    return base64.b64decode(token.removeprefix("sagemaker-api-key-")).decode()


def sign(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def test_the_token_is_a_presigned_call_with_bearer_token_that_sigv4_verifies(fixed_clock):
    token = route.bearer_token(Credentials(KEY, SECRET), "us-east-1", expires_seconds=900)
    url = decoded(token)
    assert url.startswith("sagemaker.amazonaws.com/?") and url.endswith("&Version=1")
    query = dict(parse_qsl(url.split("?", 1)[1].removesuffix("&Version=1")))
    assert query["Action"] == "CallWithBearerToken"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"] == f"{KEY}/20261207/us-east-1/sagemaker/aws4_request"
    assert (query["X-Amz-Date"], query["X-Amz-Expires"]) == ("20261207T103000Z", "900")
    assert query["X-Amz-SignedHeaders"] == "host"
    # SigV4 by hand: canonical request, string to sign, the derived key.
    signed = {k: v for k, v in query.items() if k != "X-Amz-Signature"}
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(signed.items())
    )
    canonical = "\n".join(
        ["POST", "/", canonical_query, "host:sagemaker.amazonaws.com\n", "host",
         hashlib.sha256(b"").hexdigest()]
    )  # fmt: skip
    scope = "20261207/us-east-1/sagemaker/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", "20261207T103000Z", scope,
         hashlib.sha256(canonical.encode()).hexdigest()]
    )  # fmt: skip
    key = sign(f"AWS4{SECRET}".encode(), "20261207")
    for part in ("us-east-1", "sagemaker", "aws4_request"):
        key = sign(key, part)
    assert query["X-Amz-Signature"] == hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_temporary_credentials_carry_their_session_token(fixed_clock):
    url = decoded(route.bearer_token(Credentials(KEY, SECRET, "SESSION/TOKEN"), "eu-west-1"))
    assert "X-Amz-Security-Token=SESSION%2FTOKEN" in url and "X-Amz-Expires=3600" in url


@pytest.mark.parametrize("expires", [0, 43201, 1.5, True])
def test_a_lifetime_beyond_twelve_hours_is_refused(expires):
    with pytest.raises(ValidationError, match=r"expires_seconds: out of range; .*1\.\.43200"):
        route.bearer_token(Credentials(KEY, SECRET), "us-east-1", expires_seconds=expires)


def test_the_base_url_names_the_endpoint_and_its_component():
    assert route.base_url("eu-west-1", "genai-chat", "genai-chat-ic") == (
        "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/genai-chat"
        "/inference-components/genai-chat-ic/openai/v1"
    )
    assert route.base_url("us-east-1", "e").endswith("/endpoints/e/openai/v1")
