"""workbench_domain.uris: the one S3 URI grammar, ECR image URIs and tag text, for every runtime."""

from __future__ import annotations

import pytest

from workbench_domain import api_limits, uris
from workbench_domain.errors import ValidationError

# S3 User Guide, "General purpose bucket naming rules".
BAD_BUCKETS = [
    "ab",  # shorter than 3
    "a" * 64,  # longer than 63
    "My-Bucket",  # upper case
    "-bucket",  # starts with a hyphen
    "bucket-",  # ends with a hyphen
    "my..bucket",  # two adjacent periods
    "192.168.5.4",  # formatted as an IP address
    "xn--bucket",  # reserved prefix
    "sthree-bucket",
    "amzn-s3-demo-bucket",
    "bucket-s3alias",  # reserved suffixes
    "bucket--ol-s3",
    "bucket.mrap",
    "bucket--x-s3",
    "bucket--table-s3",
    "bucket_name",  # underscore
]


@pytest.mark.parametrize("name", BAD_BUCKETS)
def test_bucket_names_follow_the_s3_rules(name):
    assert not uris.is_bucket_name(name)


@pytest.mark.parametrize("name", ["abc", "a" * 63, "my.bucket-1", "jumpstart-cache-prod-us-east-1"])
def test_valid_bucket_names_pass(name):
    assert uris.is_bucket_name(name)


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("https://bucket/key", "is not an s3:// URI"),
        ("s3://my..bucket/x/", "names an invalid bucket 'my..bucket'"),
        ("s3://bucket/models//x/", "has an empty, '.' or '..' path segment"),
        ("s3://bucket/a/../b", "has an empty, '.' or '..' path segment"),
        ("s3://bucket/a b", "contains whitespace or control characters"),
        ("s3://bucket/a\x00b", "contains whitespace or control characters"),
        (f"s3://bucket/{'k' * api_limits.S3_URI_MAX}", "is longer than"),
    ],
)
def test_unusable_s3_uris_say_why(uri, problem):
    assert uris.s3_uri_problem(uri).startswith(problem)
    with pytest.raises(ValidationError, match="s3 uri: "):
        uris.split_s3_uri(uri)


@pytest.mark.parametrize(
    ("uri", "bucket", "key"),
    [
        ("s3://bucket/models/llama/", "bucket", "models/llama/"),
        ("s3://bucket/", "bucket", ""),
        ("s3://bucket", "bucket", ""),
        ("s3://bucket/a/file.json", "bucket", "a/file.json"),
    ],
)
def test_usable_s3_uris_split_into_bucket_and_key(uri, bucket, key):
    location = uris.split_s3_uri(uri)
    assert (location.bucket, location.key) == (bucket, key)
    assert location.uri == f"s3://{bucket}/{key}"


def test_ecr_image_parts():
    image = uris.parse_ecr_image(
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"
    )
    assert image is not None
    assert (image.region, image.repository, image.tag, image.digest) == (
        "us-east-1",
        "djl-inference",
        "0.33.0-lmi15.0.0-cu128",
        None,
    )


def test_the_region_placeholder_is_an_image_region_only_where_allowed():
    uri = "763104351884.dkr.ecr.{region}.amazonaws.com/djl-inference:0.33.0"
    assert uris.parse_ecr_image(uri) is None
    image = uris.parse_ecr_image(uri, region_placeholder=True)
    assert image is not None and image.region == uris.REGION_PLACEHOLDER


@pytest.mark.parametrize(
    "uri",
    [
        "djl-inference:0.33.0",  # no registry
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference",  # no tag or digest
        "docker.io/library/python:3.11",  # not ECR
    ],
)
def test_what_is_not_an_ecr_image_with_a_tag_or_digest(uri):
    assert uris.parse_ecr_image(uri) is None


@pytest.mark.parametrize(
    ("text", "ok"),
    [("team-a_1.2:x/y=z+@", True), ("Équipe 1", True), ("a!b", False), ("a#b", False)],
)
def test_tag_text_is_sagemakers_character_set(text, ok):
    assert uris.tag_text_ok(text) is ok
