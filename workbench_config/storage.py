"""The `storage` section: retention of the stateful buckets."""

from __future__ import annotations

from dataclasses import dataclass

from workbench_config.reader import Reader


@dataclass(frozen=True)
class StorageConfig:
    # Async inputs, outputs and failures are transient: expire them after this many days.
    inference_expiry_days: int
    # Old versions of overwritten or deleted objects (all buckets are versioned).
    noncurrent_version_expiry_days: int
    access_log_expiry_days: int


def parse_storage(section: Reader) -> StorageConfig:
    return StorageConfig(
        inference_expiry_days=section.integer("inference_expiry_days", 30, minimum=1, maximum=3650),
        noncurrent_version_expiry_days=section.integer(
            "noncurrent_version_expiry_days", 30, minimum=1, maximum=3650
        ),
        access_log_expiry_days=section.integer(
            "access_log_expiry_days", 365, minimum=1, maximum=3650
        ),
    )
