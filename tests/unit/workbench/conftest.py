"""Operator command tests never read or write the workstation's own measurements."""

from __future__ import annotations

import pytest

from workbench import measured


@pytest.fixture(autouse=True)
def local_measurements(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("measurements")
    monkeypatch.setattr(measured, "LOCAL", root)
    return root
