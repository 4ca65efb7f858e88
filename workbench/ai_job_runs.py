"""Running a SageMaker AI job from the workstation: create it (or find the one the same request
started), follow it to its end, and clean up what it no longer needs.

Shared by `make recommend` and `make benchmark`; names come from `workbench_domain.ai_jobs`,
so the same command finds the same job again instead of paying for a second run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workbench.assembly import OperatorError
from workbench.common import aws_problem
from workbench_domain.ai_jobs import ENDED


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def create_unless_exists(create: Callable[..., Any], request: Mapping[str, Any]) -> bool:
    """Call `create(**request)`; False when the resource exists already (same name, same
    request: names are derived from it), True when it was created now."""
    try:
        create(**request)
    except ClientError as error:
        if _code(error) != "ResourceInUse":
            raise
        return False
    return True


def follow(
    describe: Callable[[], dict[str, Any]],
    *,
    job: str,
    status_key: str,
    poll_seconds: float,
    timeout_seconds: float,
    sleep: Callable[[float], None],
    now: Callable[[], float],
) -> dict[str, Any]:
    """Describe the job until it ends, printing each status change."""
    started, last = now(), None
    while True:
        described = describe()
        status = described[status_key]
        if status != last:
            print(f"{now() - started:7.0f} s  {job}: {status}")
            last = status
        if status in ENDED:
            return described
        if now() - started >= timeout_seconds:
            raise OperatorError(
                f"{job} still {status} after {timeout_seconds:.0f} s; run the same command "
                "again to follow it (it reuses the job)"
            )
        sleep(poll_seconds)


def clean_up(client: Any, calls: list[tuple[str, dict[str, Any]]]) -> None:
    """Each (operation, parameters) in turn; one that AWS refuses is a warning line."""
    for operation, params in calls:
        try:
            getattr(client, operation)(**params)
        except (BotoCoreError, ClientError) as error:
            print(f"warning: {operation} {params}: {aws_problem(error) or error}", file=sys.stderr)
