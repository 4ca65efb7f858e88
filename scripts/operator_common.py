"""What the operator commands (preflight, cost, smoke, diagram) share.

They depend only on three things, so they keep working while the stacks evolve:
- cdk.json, read through the project's own loader (`stacks.config.load_config`); the `endpoints`
  section is read from the raw context by `endpoint_settings`, so these commands work both before
  and after the endpoint stacks' config module exists;
- the synthesized templates in cdk.out (`read_assembly`);
- the SSM deployment records the stacks publish (`/<project>/<env>/deployment/...`), at run time.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python scripts/x.py`: make `stacks` importable
    sys.path.insert(0, str(ROOT))

from stacks.config import CONTEXT_KEY, ConfigError, load_config  # noqa: E402


class OperatorError(Exception):
    """A problem the operator can fix; printed as one line, exit status 2."""


# ---------------------------------------------------------------------------------------------
# cdk.json
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EndpointSetting:
    """The parts of one `endpoints.<key>` config entry that the operator commands need."""

    key: str
    enabled: bool
    instance_type: str | None
    max_capacity: int
    price_usd_per_hour: float | None
    # (config key path, value) of every S3 location under `model` (model, draft model, ...):
    # an `s3://` URI (may hold `{region}`), or an `s3_key_prefix` in the artifacts bucket.
    artifacts: tuple[tuple[str, str], ...] = ()
    # (config key path, value) of every explicit container image URI under `model`.
    images: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProjectSettings:
    project: str
    env_name: str
    region: str | None
    parameter_prefix: str
    endpoints: tuple[EndpointSetting, ...] = field(default_factory=tuple)

    @property
    def enabled_endpoints(self) -> tuple[EndpointSetting, ...]:
        return tuple(e for e in self.endpoints if e.enabled)


def read_context(cdk_json: Path = ROOT / "cdk.json") -> dict:
    try:
        return json.loads(cdk_json.read_text())["context"]
    except FileNotFoundError as error:
        raise OperatorError(f"{cdk_json} not found: run from the project folder") from error
    except (KeyError, json.JSONDecodeError) as error:
        raise OperatorError(
            f"{cdk_json}: not a CDK config with a 'context' key ({error})"
        ) from error


def load_settings(env_name: str, context: dict | None = None) -> ProjectSettings:
    """The project config of `env_name`, validated by the app's own loader."""
    context = read_context() if context is None else context
    raw = context.get(CONTEXT_KEY)
    try:
        config = load_config(raw, env_name)
    except ConfigError as error:
        # Before the endpoint stacks' config module is merged, the strict loader refuses an
        # `endpoints` key: validate the rest, and read the endpoints with the adapter below.
        if "endpoints" not in str(error):
            raise OperatorError(str(error)) from error
        try:
            config = load_config(_without_endpoints(raw), env_name)
        except ConfigError as second:
            raise OperatorError(str(second)) from second
    section = raw["environments"][env_name].get("endpoints") or {}
    return ProjectSettings(
        project=config.project,
        env_name=config.env_name,
        region=config.region,
        parameter_prefix=config.parameter_prefix,
        endpoints=tuple(
            endpoint_setting(key, value, f"{CONTEXT_KEY}.environments.{env_name}.endpoints.{key}")
            for key, value in section.items()
        ),
    )


def _without_endpoints(raw: dict) -> dict:
    environments = {
        name: {k: v for k, v in (env or {}).items() if k != "endpoints"}
        for name, env in raw.get("environments", {}).items()
    }
    return {**raw, "environments": environments}


def endpoint_setting(key: str, raw: Any, path: str) -> EndpointSetting:
    """Reads one `endpoints.<key>` entry of the raw context.

    The endpoint stacks' strict parser validates the entry at synth; this adapter only picks out
    what preflight and cost need, and it finds S3 locations and images anywhere under `model`
    (model data, draft model, ...) so it does not depend on the exact key names. Shape (issue 3):
    `model: {s3_key_prefix | s3_uri, image: {family, tag} | {uri}, draft_model: {s3_key_prefix |
    s3_uri, jumpstart}}`, `max_capacity`, `enabled`, `price_usd_per_hour`, `scaling: {...}`.
    """
    if not isinstance(raw, dict):
        raise OperatorError(f"config {path}: got {raw!r}; allowed: an object")
    scaling = raw.get("scaling") if isinstance(raw.get("scaling"), dict) else {}
    max_capacity = raw.get("max_capacity", scaling.get("max_capacity", 1))
    if not isinstance(max_capacity, int) or isinstance(max_capacity, bool) or max_capacity < 1:
        raise OperatorError(f"config {path}.max_capacity: got {max_capacity!r}; allowed: >= 1")
    price = raw.get("price_usd_per_hour")
    artifacts, images = [], []
    for leaf_path, value in _leaves(raw.get("model") or {}, f"{path}.model"):
        if not isinstance(value, str):
            continue
        if value.startswith("s3://") or leaf_path.endswith(".s3_key_prefix"):
            artifacts.append((leaf_path, value))
        elif ".dkr.ecr." in value:
            images.append((leaf_path, value))
    return EndpointSetting(
        key=key,
        enabled=raw.get("enabled", True) is not False,
        instance_type=raw.get("instance_type"),
        max_capacity=max_capacity,
        price_usd_per_hour=float(price) if isinstance(price, int | float) else None,
        artifacts=tuple(artifacts),
        images=tuple(images),
    )


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaves(child, f"{path}[{index}]")
    else:
        yield path, value


def default_region(explicit: str | None, settings: ProjectSettings) -> str | None:
    """--region, else the region cdk.json pins, else AWS_REGION (boto3 itself reads only
    AWS_DEFAULT_REGION and the profile); None lets boto3 decide."""
    return explicit or settings.region or os.environ.get("AWS_REGION") or None


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise OperatorError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise OperatorError(f"not an S3 URI: {uri!r}")
    return bucket, key


def image_region(uri: str) -> str | None:
    """`<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>:<tag>` -> region."""
    host = uri.split("/", 1)[0]
    parts = host.split(".")
    if len(parts) >= 4 and parts[1:3] == ["dkr", "ecr"]:
        return parts[3]
    return None


# ---------------------------------------------------------------------------------------------
# cdk.out
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StackTemplate:
    name: str  # display name, e.g. genai-opt-dev/Storage
    path: Path
    template: dict

    @property
    def resources(self) -> dict[str, dict]:
        return self.template.get("Resources", {})

    def of_type(self, resource_type: str) -> Iterator[tuple[str, dict]]:
        for logical_id, resource in self.resources.items():
            if resource.get("Type") == resource_type:
                yield logical_id, resource


def read_assembly(assembly_dir: Path) -> list[StackTemplate]:
    """Every synthesized stack template under `assembly_dir` (nested stage assemblies included)."""
    if not assembly_dir.is_dir():
        raise OperatorError(f"{assembly_dir}/ does not exist: run `make synth` first")
    stacks = []
    for path in sorted(assembly_dir.rglob("*.template.json")):
        name = path.name.removesuffix(".template.json")
        manifest = path.parent / "manifest.json"
        if manifest.is_file():
            for artifact_id, artifact in json.loads(manifest.read_text())["artifacts"].items():
                if artifact.get("properties", {}).get("templateFile") == path.name:
                    name = artifact.get("displayName", artifact_id)
        stacks.append(StackTemplate(name=name, path=path, template=json.loads(path.read_text())))
    if not stacks:
        raise OperatorError(f"no templates in {assembly_dir}/: run `make synth` first")
    return stacks


def references(value: Any) -> Iterator[str]:
    """Logical ids referenced by Ref / Fn::GetAtt anywhere inside `value`."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            yield target[0] if isinstance(target, list) else str(target).split(".")[0]
        for child in value.values():
            yield from references(child)
    elif isinstance(value, list):
        for child in value:
            yield from references(child)


def required_bootstrap_version(stacks: Iterable[StackTemplate]) -> int | None:
    """The bootstrap version the templates require, from CDK's `CheckBootstrapVersion` rule.

    The rule asserts `Fn::Not [Fn::Contains [[ "1", ..., "5" ], Ref BootstrapVersion]]`: the
    listed versions are refused, so the minimum is the largest one listed plus one.
    """
    required = None
    for stack in stacks:
        rule = stack.template.get("Rules", {}).get("CheckBootstrapVersion")
        if not rule:
            continue
        for assertion in rule.get("Assertions", []):
            refused = _refused_versions(assertion.get("Assert"))
            if refused:
                minimum = max(refused) + 1
                required = minimum if required is None else max(required, minimum)
    return required


def _refused_versions(value: Any) -> list[int]:
    if isinstance(value, dict):
        if "Fn::Contains" in value:
            listed = value["Fn::Contains"][0]
            if isinstance(listed, list):
                return [int(v) for v in listed if str(v).isdigit()]
        for child in value.values():
            found = _refused_versions(child)
            if found:
                return found
    elif isinstance(value, list):
        for child in value:
            found = _refused_versions(child)
            if found:
                return found
    return []


# ---------------------------------------------------------------------------------------------
# Terminal output
# ---------------------------------------------------------------------------------------------
def render_table(
    headers: list[str], rows: list[list[str]], *, right: set[int] = frozenset()
) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(row) for row in rows)
    return "\n".join(out)
