"""Exceptions of the launcher and recorder that are theirs alone.

Step Functions matches Lambda errors by the exception's class name (``ErrorEquals``), so these
names, and ``ValidationError`` of ``workbench_domain.errors``, are part of the workflow's contract:
do not rename them.
"""

from __future__ import annotations


class ConfigurationError(Exception):
    """An environment variable set by the CDK app is missing or malformed (a deployment bug)."""


class JobNotFinishedError(Exception):
    """The recorder was called for a job that has not reached a terminal status yet."""
