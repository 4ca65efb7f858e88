"""The grammars of S3 URIs, ECR image URIs and ARNs, for every runtime (pure functions, no AWS).

The Lambdas check events and settings with them, the notebook client and the operator scripts
split the URIs the deployment records hold, and the CDK app's config loader checks image URIs.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from workbench_domain import api_limits
from workbench_domain.errors import ValidationError

# S3 general-purpose bucket naming rules (S3 User Guide, "Bucket naming rules"): 3-63 characters,
# lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit, no two
# adjacent dots, not shaped like an IP address, no reserved prefix or suffix.
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_RE = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

# <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>(:<tag>|@sha256:<digest>).
# The repository grammar is ECR's own (botocore ecr model); the tag grammar is the OCI
# distribution-spec one (at most 128 characters). A tag or digest is required: an image without one
# would silently mean "latest". In cdk.json the region may be written `{region}` (the deployment's).
REGION_PLACEHOLDER = "{region}"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_ECR_IMAGE_RE = re.compile(
    r"(?P<registry>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>"
    + _REGION
    + "|"
    + re.escape(REGION_PLACEHOLDER)
    + ")"
    r"\.amazonaws\.com(?:\.cn)?"
    rf"/(?P<repository>{api_limits.ECR_REPOSITORY_PATTERN})"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@(?P<digest>sha256:[a-f0-9]{64}))"
)

KMS_KEY_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:kms:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:key/[a-zA-Z0-9-]{1,128}"
)
SNS_TOPIC_ARN_RE = re.compile(r"arn:aws[a-z-]*:sns:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:[A-Za-z0-9_-]+")


class S3Location(NamedTuple):
    bucket: str
    key: str  # may be empty (the bucket root)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class EcrImage(NamedTuple):
    registry: str
    region: str
    repository: str
    tag: str | None
    digest: str | None


def is_bucket_name(name: str) -> bool:
    return (
        _BUCKET_RE.fullmatch(name) is not None
        and ".." not in name
        and _IP_RE.fullmatch(name) is None
        and not name.startswith(_BUCKET_RESERVED_PREFIXES)
        and not name.endswith(_BUCKET_RESERVED_SUFFIXES)
    )


def s3_uri_problem(value: str) -> str | None:
    """Why ``value`` is not a usable ``s3://bucket/key`` URI, or None when it is."""
    if len(value) > api_limits.S3_URI_MAX:
        return f"is longer than {api_limits.S3_URI_MAX} characters"
    if not value.startswith("s3://"):
        return "is not an s3:// URI"
    bucket, _, key = value[len("s3://") :].partition("/")
    if not is_bucket_name(bucket):
        return f"names an invalid bucket {bucket!r}"
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in key):
        return "contains whitespace or control characters"
    segments = key.split("/")
    # An empty segment ("a//b") or a dot segment is legal for S3 but never what the user meant.
    inner = segments[:-1] if key.endswith("/") else segments
    if key and any(seg in ("", ".", "..") for seg in inner):
        return "has an empty, '.' or '..' path segment"
    return None


def parse_s3_uri(value: str) -> S3Location:
    """Split an ``s3://`` URI already accepted by :func:`s3_uri_problem`."""
    bucket, _, key = value[len("s3://") :].partition("/")
    return S3Location(bucket, key)


def split_s3_uri(value: str) -> S3Location:
    """Split ``s3://bucket/key``; raise ValidationError when ``value`` is not a usable S3 URI."""
    problem = s3_uri_problem(value)
    if problem is not None:
        raise ValidationError("s3 uri", problem, value, "s3://<bucket>/<key>")
    return parse_s3_uri(value)


def parse_ecr_image(value: str, *, region_placeholder: bool = False) -> EcrImage | None:
    """The parts of an ECR image URI, or None when ``value`` is not one.

    With ``region_placeholder`` the region may be ``{region}`` (cdk.json's image URIs).
    """
    if len(value) > api_limits.IMAGE_URI_MAX:
        return None
    match = _ECR_IMAGE_RE.fullmatch(value)
    if match is None or (match["region"] == REGION_PLACEHOLDER and not region_placeholder):
        return None
    return EcrImage(
        registry=match["registry"],
        region=match["region"],
        repository=match["repository"],
        tag=match["tag"],
        digest=match["digest"],
    )


def tag_text_ok(text: str) -> bool:
    """SageMaker's tag characters ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`` (TagKey, TagValue).

    Python's ``re`` has no ``\\p{..}`` classes, so the Unicode categories are checked directly:
    L* letters, Z* separators, N* numbers.
    """
    return all(ch in "_.:/=+-@" or unicodedata.category(ch)[0] in ("L", "Z", "N") for ch in text)
