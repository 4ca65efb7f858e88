"""Constants and helpers shared by the optimization launcher tests (imported from here, never from
conftest).
"""

from __future__ import annotations

import re
from typing import Any

from tests.unit.malformed_requests import (  # noqa: F401 (re-exported to the tests)
    ACCOUNT,
    BUCKET,
    DLC,
    LMI_IMAGE,
    NEURON_IMAGE,
    OUTPUT_PREFIX,
    REGION,
    TRTLLM_IMAGE,
)

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/genai-opt-dev-job-role"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

LAUNCHER_ENV = {
    "JOB_ROLE_ARN": ROLE_ARN,
    "ARTIFACTS_BUCKET": BUCKET,
    "OUTPUT_PREFIX": OUTPUT_PREFIX,
    "KMS_KEY_ARN": KMS_KEY_ARN,
    "PROJECT_NAME": "genai-opt",
    "ENV_NAME": "dev",
    "LMI_IMAGE_URI": LMI_IMAGE,
    "TRTLLM_IMAGE_URI": TRTLLM_IMAGE,
    "NEURON_IMAGE_URI": NEURON_IMAGE,
}


def model_violations(shape: Any, value: Any, path: str = "") -> list[str]:
    """What botocore's client-side validation does not check: enums, patterns, maximum sizes.

    (botocore validates types, required members, unions and minimums; the service checks the rest.)
    Patterns are applied with ``re.fullmatch``, stricter than the service; patterns using
    ``\\p{..}`` classes, which Python's ``re`` lacks, are skipped (tags are checked by the code).
    """
    problems: list[str] = []
    meta = shape.metadata
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                problems += model_violations(member, value[name], f"{path}.{name}")
    elif shape.type_name == "list":
        if len(value) > meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} items > max {meta['max']}")
        for index, item in enumerate(value):
            problems += model_violations(shape.member, item, f"{path}[{index}]")
    elif shape.type_name == "map":
        if len(value) > meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} entries > max {meta['max']}")
        for key, item in value.items():
            problems += model_violations(shape.key, key, f"{path} key {key!r}")
            problems += model_violations(shape.value, item, f"{path}.{key}")
    elif shape.type_name == "string":
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in enum")
        if len(value) > meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} characters > max {meta['max']}")
        pattern = meta.get("pattern")
        if pattern and "\\p{" not in pattern and not re.fullmatch(pattern, value):
            problems.append(f"{path}: {value!r} does not match {pattern}")
    elif shape.type_name in ("integer", "long") and value > meta.get("max", value):
        problems.append(f"{path}: {value} > max {meta['max']}")
    return problems
