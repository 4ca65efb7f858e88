"""The JSON Schema of cdk.json's `workbench` section, generated from the parsers themselves.

The parsers in this package are the one spec of the config: each key is read through a `Reader`
call that states its type, default and limits. `describe_workbench()` runs the same parsers on a
`SchemaReader`, which records each call as JSON Schema instead of reading a value, so the schema
cannot drift from what the loader accepts. Rules across keys (a GPU engine needs a GPU instance)
are not expressible in JSON Schema and stay the loader's alone: the schema is what an editor can
check while typing, the loader has the last word.

`make schema` writes `cdk.schema.json`; `make lint` fails when the checked-in file is stale or
cdk.json does not validate against it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Collection
from typing import Any

from workbench_config import CONTEXT_KEY, parse_environment, parse_project
from workbench_config.pipeline import PipelineConfig, parse_pipeline
from workbench_config.reader import _MISSING, ConfigError, Reader, T

SCHEMA_FILE = "cdk.schema.json"
# Stands for any key of a map-like object (endpoint keys, environment names).
_ANY_KEY = "<name>"
# The parsers branch on a few small enums (`speculative_decoding.method`, `engine`): every value
# of each is tried in turn, so every branch records its keys.
_RUNS = 12


def _object() -> dict[str, Any]:
    return {"type": "object", "properties": {}}


class SchemaReader(Reader):
    """A `Reader` that records what the parser asks for instead of checking a value."""

    def __init__(self, node: dict[str, Any], path: str, run: int) -> None:
        super().__init__({}, path)
        self.node, self.run = node, run
        self._map = False

    # What each read returns: a value the parser can go on with (the default, or one of the
    # choices, a different one on each run).
    def _sample(self, default: Any, choices: Collection[str] | None, fallback: Any) -> Any:
        if choices:
            ordered = sorted(choices)
            return ordered[self.run % len(ordered)]
        return fallback if default is _MISSING or default is None else default

    def _slot(self, key: str) -> dict[str, Any]:
        if self._map and key == _ANY_KEY:
            slot: dict[str, Any] = self.node.setdefault("additionalProperties", _object())
            return slot
        slot = self.node["properties"].setdefault(key, {})
        return slot

    def _record(self, key: str, default: Any, schema: dict[str, Any], describe: str = "") -> None:
        if default is _MISSING:
            if not (self._map and key == _ANY_KEY) and key not in self.node.setdefault(
                "required", []
            ):
                self.node["required"].append(key)
        elif default is None:
            schema["type"] = [schema["type"], "null"]
            if "enum" in schema:  # an enum is checked before the type: null is one of its values
                schema["enum"] = [*schema["enum"], None]
        else:
            schema["default"] = default
        if describe:
            schema["description"] = describe.removeprefix("allowed: ")
        self._slot(key).update(schema)

    def has(self, key: str) -> bool:
        return True

    def keys(
        self, *, pattern: str | None = None, max_length: int | None = None, describe: str = ""
    ) -> list[str]:
        self._map = True
        names: dict[str, Any] = {}
        if pattern is not None:
            names["pattern"] = f"^(?:{pattern})$"
        if max_length is not None:
            names["maxLength"] = max_length
        if names:
            self.node["propertyNames"] = names
        self.node.pop("properties", None)
        self.node.setdefault("additionalProperties", _object())
        return [_ANY_KEY]

    def exactly_one(self, keys: tuple[str, ...], *, describe: str) -> str:
        self.node["oneOf"] = [{"required": [key]} for key in keys]
        return keys[0]

    def string(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        choices: Collection[str] | None = None,
        pattern: str | None = None,
        valid: Callable[[str], bool] | None = None,
        describe: str = "",
    ) -> Any:
        schema: dict[str, Any] = {"type": "string"}
        if choices:
            schema["enum"] = sorted(choices)
        if pattern is not None:
            schema["pattern"] = f"^(?:{pattern})$"
        self._record(key, default, schema, describe)
        return self._sample(default, choices, "x")

    def integer(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> Any:
        schema: dict[str, Any] = {"type": "integer"}
        if minimum is not None:
            schema["minimum"] = minimum
        if maximum is not None:
            schema["maximum"] = maximum
        self._record(key, default, schema)
        return self._sample(default, None, minimum if minimum is not None else 1)

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> Any:
        schema: dict[str, Any] = {"type": "number"}
        if minimum is not None:
            schema["minimum"] = minimum
        if maximum is not None:
            schema["maximum"] = maximum
        self._record(key, default, schema)
        return float(self._sample(default, None, minimum or 0))

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        self._record(key, default, {"type": "boolean"})
        return self._sample(default, None, False)

    def string_map(self, key: str, default: Any = _MISSING) -> Any:
        schema = {"type": "object", "additionalProperties": {"type": "string"}}
        self._record(key, default, schema)
        return self._sample(default, None, {})

    def numbers(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: float,
        maximum: float,
        max_items: int,
    ) -> Any:
        items = {"type": "number", "minimum": minimum, "maximum": maximum}
        schema = {"type": "array", "items": items, "maxItems": max_items, "uniqueItems": True}
        self._record(key, default, schema)
        return tuple(self._sample(default, None, ()))

    def strings(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        pattern: str,
        max_items: int,
        describe: str,
    ) -> Any:
        items = {"type": "string", "pattern": f"^(?:{pattern})$"}
        schema = {"type": "array", "items": items, "maxItems": max_items, "uniqueItems": True}
        self._record(key, default, schema, describe)
        return tuple(self._sample(default, None, ()))

    def raw_object(self, key: str, default: Any = _MISSING) -> dict[str, Any]:
        self._record(key, default, {"type": "object"})
        return {}

    def _nested(self, key: str, required: bool) -> SchemaReader:
        slot = self._slot(key)
        if not slot:
            slot.update(_object())
        if required:
            self._record(key, _MISSING, {})
        return SchemaReader(slot, self.child_path(key), self.run)

    def child(self, key: str) -> Reader:
        return self._nested(key, required=True)

    def section(self, key: str, parse: Callable[[Reader], T], *, optional: bool = False) -> T:
        reader = self._nested(key, required=not optional)
        result: Any = None
        # A rule across keys may refuse the samples; every key was read before it (see
        # parse_endpoint), which is all the schema needs.
        with contextlib.suppress(ConfigError):
            result = parse(reader)
        reader.done()
        parsed: T = result  # None when a rule across keys refused the samples
        return parsed

    def map_section(self, key: str, parse: Callable[[Reader], T]) -> T:
        return self.section(key, parse)

    def objects(self, key: str, default: Any = _MISSING) -> Any:
        self._record(key, default, {"type": "array"})
        items: dict[str, Any] = self._slot(key).setdefault("items", _object())
        return [SchemaReader(items, f"{self.child_path(key)}[0]", self.run)]

    def done(self) -> None:
        if not self._map:
            self.node["additionalProperties"] = False


def _without_required(schema: Any) -> Any:
    """`schema` with no `required` keys outside `oneOf`: an environment and the defaults are
    each partial, and only their merge must be complete (the loader checks that)."""
    if isinstance(schema, list):
        return [_without_required(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: value if key == "oneOf" else _without_required(value)
        for key, value in schema.items()
        if key != "required"
    }


def _describe(parse: Callable[[Reader], object]) -> dict[str, Any]:
    """The schema of the object `parse` reads, recorded over every run."""
    node = _object()
    for run in range(_RUNS):
        reader = SchemaReader(node, CONTEXT_KEY, run)
        parse(reader)
        reader.done()
    return node


def _top_level(root: Reader) -> None:
    # The keys load_environments reads itself; `defaults` and `environments` are added below.
    parse_project(root)
    # Stage names are checked against `environments` by the loader; here any name is allowed.
    root.section("pipeline", lambda s: parse_pipeline(s, environments=()), optional=True)


def describe_cdk_json() -> dict[str, Any]:
    """The JSON Schema of cdk.json, for editors: only the `workbench` context key is described."""
    no_pipeline: PipelineConfig = parse_pipeline(Reader({}, "pipeline"), environments=())
    environment = _without_required(
        _describe(
            functools.partial(parse_environment, project="x", env_name="x", pipeline=no_pipeline)
        )
    )
    workbench = _describe(_top_level)
    reference = {"$ref": "#/$defs/environment"}
    workbench["properties"]["defaults"] = {
        **reference,
        "description": "What every environment shares; each environment sets only what differs.",
    }
    workbench["properties"]["environments"] = {
        "type": "object",
        "description": "Each environment's overrides of `defaults`; the merge must be complete.",
        "additionalProperties": reference,
    }
    workbench["required"].append("environments")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": "Generated by `make schema` from workbench_config; do not edit.",
        "title": "cdk.json of the GenAI model optimization workbench",
        "type": "object",
        "properties": {
            "context": {"type": "object", "properties": {CONTEXT_KEY: workbench}},
        },
        "$defs": {"environment": environment},
    }
