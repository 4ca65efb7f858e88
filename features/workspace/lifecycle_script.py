"""Notebook lifecycle scripts: Fn::Sub variables checked, within the API's size limit."""

from __future__ import annotations

import math
import re

import aws_cdk as cdk

# NotebookInstanceLifecycleHook.Content: base64, 1..16384 characters (botocore model).
LIFECYCLE_CONTENT_LIMIT = 16384
# While synthesizing, asset URIs and the Region are tokens; each one is counted as this many
# characters when checking the limit (an asset URI is about 110 characters).
TOKEN_LENGTH_ALLOWANCE = 200
# Fn::Sub placeholders (${Name}, not ${!Name}) in a lifecycle script.
_PLACEHOLDER = re.compile(r"\$\{(?!!)([^}]*)\}")
PSEUDO_PARAMETERS = frozenset({"AWS::Region"})


class LifecycleScriptError(ValueError):
    """A lifecycle script does not fit the API or does not match its Fn::Sub variables."""


def lifecycle_placeholders(script: str) -> set[str]:
    """The Fn::Sub placeholders a script uses (``${Name}``; ``${!Name}`` is a literal)."""
    return set(_PLACEHOLDER.findall(script))


def lifecycle_content(name: str, script: str, variables: dict[str, str]) -> str:
    """``Fn::Base64(Fn::Sub(script, variables))``, checked against the placeholders and limit.

    Every placeholder must be a variable or a pseudo parameter and every variable must be used;
    the encoded content, with each unresolved token counted as ``TOKEN_LENGTH_ALLOWANCE``
    characters, must stay within the API's 16384 characters.
    """
    used = lifecycle_placeholders(script)
    unknown = used - set(variables) - PSEUDO_PARAMETERS
    unused = set(variables) - used
    if unknown or unused:
        raise LifecycleScriptError(
            f"lifecycle script {name}: placeholders without a value: {sorted(unknown)}; "
            f"values without a placeholder: {sorted(unused)}"
        )
    resolved = script
    for key in used:
        value = variables.get(key, "")
        length = TOKEN_LENGTH_ALLOWANCE if cdk.Token.is_unresolved(value) or not value else None
        resolved = resolved.replace("${" + key + "}", "x" * length if length else value)
    encoded = 4 * math.ceil(len(resolved.encode("utf-8")) / 3)
    if encoded > LIFECYCLE_CONTENT_LIMIT:
        raise LifecycleScriptError(
            f"lifecycle script {name} is {encoded} characters in base64, over the "
            f"{LIFECYCLE_CONTENT_LIMIT} the SageMaker API accepts: move work into a shipped file"
        )
    if not used:
        # Nothing to substitute: a plain string (cfn-lint W1020 flags Fn::Sub without variables).
        return cdk.Fn.base64(script.replace("${!", "${"))
    return cdk.Fn.base64(cdk.Fn.sub(script, variables))
