"""Stop this SageMaker notebook instance once Jupyter has been idle for N minutes.

Shipped with the CDK app (an S3 asset the on-start script copies to the instance) and run by
cron every 5 minutes as root::

    python autostop.py --idle-minutes 60 [--region REGION] [--url https://localhost:8443]
                       [--dry-run]

Idle means: no kernel is running code (``execution_state`` other than ``idle``/``dead``), and
no kernel, session or terminal shows activity (``last_activity``) for ``--idle-minutes``. With
no activity at all, the clock starts when the Jupyter server started (``/api/status``), else at
boot. Open browser tabs do not count: an idle kernel in an open tab is idle. Anything that
cannot be read (API down, timestamp malformed) means "not idle": the script never stops an
instance it cannot prove idle.

Sources: the local Jupyter server REST API (``/api/sessions``, ``/api/kernels``,
``/api/terminals``, ``/api/status``; https on port 8443 with a self-signed certificate on
notebook instances) and the instance name ``ResourceName`` in
``/opt/ml/metadata/resource-metadata.json``. The stop is ``sagemaker:StopNotebookInstance``
with the instance's own role.

Runs on Python 3.7+ with the standard library; boto3 is imported only to stop.
"""

from __future__ import annotations

import argparse
import json
import re
import ssl
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, NamedTuple, Sequence  # noqa: UP035 (Python 3.7+)

UTC = timezone(timedelta(0))
METADATA_FILE = "/opt/ml/metadata/resource-metadata.json"
DEFAULT_URL = "https://localhost:8443"
NOT_BUSY_STATES = ("idle", "dead")

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$"
)


class Decision(NamedTuple):
    """Whether the instance is idle, and why."""

    idle: bool
    reason: str


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 as Jupyter writes it (``2024-05-01T10:00:00.123456Z``); None if unreadable.

    A timestamp without offset is taken as UTC (Jupyter's own clock).
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    tz = UTC
    if offset and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tz
        )
    except ValueError:
        return None


def _kernels(
    sessions: Iterable[Mapping[str, Any]], kernels: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    seen: dict[Any, Mapping[str, Any]] = {}
    for kernel in list(kernels) + [s.get("kernel") or {} for s in sessions]:
        if kernel:
            seen.setdefault(kernel.get("id") or id(kernel), kernel)
    return list(seen.values())


def is_idle(
    sessions: Sequence[Mapping[str, Any]],
    kernels: Sequence[Mapping[str, Any]],
    now: datetime,
    idle_minutes: float,
    terminals: Sequence[Mapping[str, Any]] = (),
    since: datetime | None = None,
) -> Decision:
    """Decide from the Jupyter API's answers whether the instance has been idle long enough.

    ``sessions``, ``kernels`` and ``terminals`` are the JSON lists of ``/api/sessions``,
    ``/api/kernels`` and ``/api/terminals``; ``since`` is when the clock starts without any
    activity (server start or boot). ``now`` must be timezone-aware.
    """
    if idle_minutes <= 0:
        raise ValueError("idle_minutes must be > 0")
    activity = []
    for kernel in _kernels(sessions, kernels):
        name = kernel.get("id", "?")
        state = kernel.get("execution_state")
        if state not in NOT_BUSY_STATES:
            return Decision(False, f"kernel {name} is {state}")
        stamp = parse_timestamp(kernel.get("last_activity"))
        if stamp is None:
            return Decision(
                False, f"kernel {name} last_activity unreadable: {kernel.get('last_activity')!r}"
            )
        activity.append(stamp)
    for terminal in terminals:
        stamp = parse_timestamp(terminal.get("last_activity"))
        if stamp is None:
            return Decision(
                False,
                f"terminal {terminal.get('name', '?')} last_activity "
                f"unreadable: {terminal.get('last_activity')!r}",
            )
        activity.append(stamp)
    if since is not None:
        activity.append(since)
    if not activity:
        return Decision(False, "no activity information")
    last = max(activity)
    idle_for = now - last
    minutes = idle_for.total_seconds() / 60
    if idle_for >= timedelta(minutes=idle_minutes):
        return Decision(True, f"idle for {minutes:.0f} min (limit {idle_minutes:g})")
    return Decision(False, f"last activity {minutes:.0f} min ago (limit {idle_minutes:g})")


def jupyter_get(base_url: str, path: str, timeout: float = 10) -> Any:
    """GET a Jupyter REST API path and decode its JSON."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the local server's certificate is self-signed
    request = urllib.request.Request(base_url.rstrip("/") + path)  # noqa: S310 (local, fixed)
    with urllib.request.urlopen(request, context=context, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read().decode("utf-8"))


def boot_time(now: datetime, uptime_file: str = "/proc/uptime") -> datetime | None:
    """When the machine booted, from ``/proc/uptime``; None if unreadable."""
    try:
        with open(uptime_file, encoding="ascii") as handle:
            return now - timedelta(seconds=float(handle.read().split()[0]))
    except (OSError, ValueError, IndexError):
        return None


def notebook_instance_name(metadata_file: str = METADATA_FILE) -> str:
    """This instance's name (``ResourceName`` of the SageMaker resource metadata)."""
    with open(metadata_file, encoding="utf-8") as handle:
        name: str = json.load(handle)["ResourceName"]
        return name


def stop_instance(name: str, region: str | None = None, client: Any = None) -> None:
    """Call ``StopNotebookInstance`` for ``name``."""
    if client is None:
        import boto3

        client = boto3.client("sagemaker", region_name=region)
    client.stop_notebook_instance(NotebookInstanceName=name)


def read_state(
    base_url: str, now: datetime
) -> tuple[list[Any], list[Any], list[Any], datetime | None]:
    """Sessions, kernels, terminals and the idle clock's start, from the Jupyter API."""
    sessions = jupyter_get(base_url, "/api/sessions")
    kernels = jupyter_get(base_url, "/api/kernels")
    try:
        terminals = jupyter_get(base_url, "/api/terminals")
    except (OSError, ValueError):  # terminals can be disabled
        terminals = []
    try:
        since = parse_timestamp(jupyter_get(base_url, "/api/status").get("started"))
    except (OSError, ValueError, AttributeError):
        since = None
    return sessions, kernels, terminals, since or boot_time(now)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-minutes", type=float, required=True)
    parser.add_argument("--region", default=None)
    parser.add_argument("--url", default=DEFAULT_URL, help="Jupyter server base URL")
    parser.add_argument("--dry-run", action="store_true", help="decide but never stop")
    args = parser.parse_args(argv)
    if args.idle_minutes <= 0:
        parser.error("--idle-minutes must be > 0")
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        sessions, kernels, terminals, since = read_state(args.url, now)
    except (OSError, ValueError) as err:
        print(f"{stamp} not stopping: Jupyter API unreadable ({err})")
        return 0
    decision = is_idle(sessions, kernels, now, args.idle_minutes, terminals, since)
    print(f"{stamp} idle={decision.idle}: {decision.reason}")
    if decision.idle and not args.dry_run:
        name = notebook_instance_name()
        print(f"{stamp} stopping notebook instance {name}")
        stop_instance(name, args.region)
    return 0


if __name__ == "__main__":
    sys.exit(main())
