"""workbench_domain.endpoint_kinds: one definition of the kinds and scaling settings."""

from __future__ import annotations

import dataclasses

import pytest

from workbench_config.endpoints import parse_scaling
from workbench_config.reader import Reader
from workbench_domain.endpoint_kinds import ASYNC, KINDS, REALTIME, EndpointScaling


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_scaling_section_is_the_domains_defaults(kind):
    assert parse_scaling(Reader({}, "scaling"), kind) == EndpointScaling()


def test_every_setting_the_config_reads_is_a_field_of_the_domains_settings():
    fields = {f.name for f in dataclasses.fields(EndpointScaling)}
    given = {"idle_minutes_before_zero": 20, "scale_out_cooldown_seconds": 120}
    parsed = parse_scaling(Reader(given, "scaling"), ASYNC)
    assert set(given) <= fields
    assert dataclasses.replace(EndpointScaling(), **given) == parsed


def test_the_two_kinds():
    assert (ASYNC, REALTIME) == KINDS == ("async", "realtime")
