"""A strict reader for the JSON config in cdk.json.

Every value is read through a `Reader`, which knows the key path it stands for, so an error can
name the exact key (`workbench.dev.storage.inference_expiry_days`), the bad value and what is
allowed. `Reader.done()` refuses any key nobody read: a typo never passes silently.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from workbench_domain.errors import ValidationError, shown

T = TypeVar("T")

_MISSING: Any = object()


class ConfigError(ValidationError):
    """A config value is missing, unknown or out of range; the message says which and why.
    `field` is the key path; `allowed` is a whole phrase ("allowed: ..." or a reason)."""

    def __init__(self, path: str, value: object, allowed: str) -> None:
        self.path = path
        super().__init__(path, "", value, allowed)

    def sentence(self) -> str:
        # The key path as written, cut if long: an error never echoes a whole huge input.
        path = self.path
        where = path if len(path) <= 300 else f"{path[:300]}... ({len(path)} characters)"
        return f"config {where}: got {shown(self.value)}; {self.allowed}"


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list"}.get(
        type(value), "object" if isinstance(value, dict) else type(value).__name__
    )


def map_key_path(path: str, key: str) -> str:
    """The path of a map-like object's key: `<path>['<key>']` when the key has a dot (an
    instance type), as JSON Path writes it, so the path stays unambiguous."""
    return f"{path}['{key}']" if "." in key else f"{path}.{key}"


class Reader:
    """Strict, path-aware access to one JSON object of the config."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, data, f"expected an object, not a {_type_name(data)}")
        self._data: dict[str, Any] = data
        self._read: set[str] = set()
        self.path = path

    def child_path(self, key: str) -> str:
        return f"{self.path}.{key}"

    def key_path(self, key: str) -> str:
        return map_key_path(self.path, key)

    def has(self, key: str) -> bool:
        return key in self._data

    def keys(
        self, *, pattern: str | None = None, max_length: int | None = None, describe: str = ""
    ) -> list[str]:
        """The keys of a map-like object (its keys are names, not fields), each checked."""
        for key in self._data:
            too_long = max_length is not None and len(key) > max_length
            if too_long or (pattern is not None and not re.fullmatch(pattern, key)):
                raise ConfigError(self.child_path(key), key, describe)
        return list(self._data)

    def map_section(self, key: str, parse: Callable[[Reader], T]) -> T:
        """Parses the object under the map key `key` (its path from `key_path`)."""
        self._read.add(key)
        reader = Reader(self._data[key], self.key_path(key))
        result = parse(reader)
        reader.done()
        return result

    def exactly_one(self, keys: tuple[str, ...], *, describe: str) -> str:
        """The one of `keys` this object sets; refuses none or several."""
        present = [key for key in keys if key in self._data]
        if len(present) != 1:
            raise ConfigError(self.path, sorted(present) or None, describe)
        return present[0]

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        if key in self._data:
            return self._data[key]
        if default is _MISSING:
            raise ConfigError(self.child_path(key), None, "this key is required")
        return default

    def _typed(self, key: str, value: Any, kind: type | tuple[type, ...], name: str) -> Any:
        # bool is an int in Python; a JSON `true` is never a count.
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise ConfigError(self.child_path(key), value, f"expected {name}")
        if not isinstance(value, kind):
            raise ConfigError(self.child_path(key), value, f"expected {name}")
        return value

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
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        self._typed(key, value, str, "a string")
        if choices is not None and value not in choices:
            if len(choices) <= 12:
                allowed = f"allowed: {', '.join(sorted(choices))}"
            else:
                closest = difflib.get_close_matches(value, choices, n=3, cutoff=0.6)
                allowed = f"allowed: one of {len(choices)} values" + (
                    f"; closest: {', '.join(closest)}" if closest else ""
                )
            raise ConfigError(self.child_path(key), value, allowed)
        if pattern is not None and not re.fullmatch(pattern, value):
            raise ConfigError(self.child_path(key), value, describe or f"must match {pattern}")
        if valid is not None and not valid(value):
            raise ConfigError(self.child_path(key), value, describe)
        return value

    def integer(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        self._typed(key, value, int, "an integer")
        low = minimum if minimum is not None else "-inf"
        high = maximum if maximum is not None else "inf"
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ConfigError(self.child_path(key), value, f"allowed: an integer in {low}..{high}")
        return value

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        self._typed(key, value, (int, float), "a number")
        if not math.isfinite(value):  # Python's JSON reads NaN and Infinity
            raise ConfigError(self.child_path(key), value, "allowed: a finite number")
        if minimum is not None and value < minimum:
            raise ConfigError(self.child_path(key), value, f"allowed: a number >= {minimum}")
        if maximum is not None and value > maximum:
            raise ConfigError(self.child_path(key), value, f"allowed: a number <= {maximum:g}")
        return float(value)

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        return self._typed(key, value, bool, "true or false")

    def string_map(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        self._typed(key, value, dict, "an object of string values")
        for name, item in value.items():
            if not isinstance(item, str):
                raise ConfigError(self.child_path(f"{key}.{name}"), item, "expected a string")
        return dict(value)

    def numbers(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: float,
        maximum: float,
        max_items: int,
    ) -> Any:
        """A list of distinct numbers, each in `minimum..maximum`, at most `max_items`."""
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        self._typed(key, value, list, "a list of numbers")
        if len(value) > max_items or len(set(value)) != len(value):
            raise ConfigError(
                self.child_path(key), value, f"allowed: at most {max_items} distinct numbers"
            )
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ConfigError(self.child_path(f"{key}[{index}]"), item, "expected a number")
            if not minimum <= item <= maximum:
                raise ConfigError(
                    self.child_path(f"{key}[{index}]"),
                    item,
                    f"allowed: a number in {minimum:g}..{maximum:g}",
                )
        return tuple(float(item) for item in value)

    def strings(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        pattern: str,
        max_items: int,
        describe: str,
    ) -> Any:
        """A list of distinct strings, each matching `pattern`, at most `max_items`."""
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        self._typed(key, value, list, "a list of strings")
        if len(value) > max_items or len(set(map(str, value))) != len(value):
            raise ConfigError(
                self.child_path(key), value, f"allowed: at most {max_items} distinct values"
            )
        for index, item in enumerate(value):
            if not isinstance(item, str) or not re.fullmatch(pattern, item):
                raise ConfigError(self.child_path(f"{key}[{index}]"), item, describe)
        return tuple(value)

    def raw_object(self, key: str, default: Any = _MISSING) -> dict[str, Any]:
        """The JSON object at `key` as it is (for a caller that merges it before reading it)."""
        value = self._get(key, default)
        if not isinstance(value, dict):
            raise ConfigError(
                self.child_path(key), value, f"expected an object, not a {_type_name(value)}"
            )
        return value

    def child(self, key: str) -> Reader:
        """The required object at `key`, as a Reader of its own (call `done()` on it)."""
        return Reader(self._get(key, _MISSING), self.child_path(key))

    def section(self, key: str, parse: Callable[[Reader], T], *, optional: bool = False) -> T:
        """Parses the object at `key` with `parse`; an absent optional section parses as `{}`."""
        value = self._get(key, {} if optional else _MISSING)
        reader = Reader(value, self.child_path(key))
        result = parse(reader)
        reader.done()
        return result

    def objects(self, key: str, default: Any = _MISSING) -> Any:
        """The list of objects at `key`, each a Reader whose path ends in `key[i]`.

        Call `done()` on each element once it has been read.
        """
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        self._typed(key, value, list, "a list of objects")
        return [Reader(item, f"{self.child_path(key)}[{i}]") for i, item in enumerate(value)]

    def done(self) -> None:
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            known = ", ".join(sorted(self._read)) or "none"
            raise ConfigError(
                self.child_path(unknown[0]),
                self._data[unknown[0]],
                f"unknown key; known keys: {known}",
            )
