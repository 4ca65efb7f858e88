"""An SNS topic encrypted with the project key that refuses unencrypted transport."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class SecureTopic(Construct):
    """Owns one standard SNS topic: SSE-KMS with the given key, TLS-only topic policy.

    `enforce_ssl` adds a topic policy statement denying `sns:Publish` unless
    `aws:SecureTransport` is true. Publishers need `sns:Publish` on the topic plus
    `kms:GenerateDataKey` and `kms:Decrypt` on the key.
    """

    def __init__(
        self, scope: Construct, id_: str, *, display_name: str, encryption_key: kms.IKey
    ) -> None:
        super().__init__(scope, id_)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=display_name,
            master_key=encryption_key,
            enforce_ssl=True,
        )
