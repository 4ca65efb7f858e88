"""The usage simulator against hand-computed cases, its settings read from the synthesized
templates, and `make cost --usage` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import scripts.cost as cost
import scripts.usage_sim as sim
from scripts.operator_common import read_assembly

# Wake after one breaching minute, zero after 10 idle minutes, one instance at most.
ASYNC = sim.ScalingSettings(
    kind="async",
    instance_type="ml.p4d.24xlarge",
    max_capacity=1,
    wake_minutes=1,
    idle_minutes=10,
    target_per_instance=2,
    scale_out_cooldown_minutes=5,
    concurrency=4,
)
ONE_MINUTE = sim.Traffic(requests_per_day=1, service_seconds=60)


def run(times, settings=ASYNC, traffic=ONE_MINUTE, minutes=2 * 1440, cold=15.0, trace=False):
    return sim.simulate(
        settings, traffic, times, minutes=minutes, cold_start_minutes=cold, trace=trace
    )


def test_one_request_a_day_pays_the_cold_start_the_service_and_the_idle_window():
    result = run([100.5, 1540.5])
    # Arrives at 100.5; the wake alarm breaches in minute 100 and starts an instance at 101; it
    # serves from 116, the answer is ready at 117; 10 idle minutes (117..126) end it at 127.
    assert result.waits == [16.5, 16.5]
    assert result.cold_waits == 2 and result.unserved == 0
    assert result.instance_minutes == 2 * (127 - 101)


def test_a_steady_stream_keeps_one_instance_for_the_whole_period():
    times = [minute + 0.5 for minute in range(0, 1440, 5)]
    result = run(times, minutes=1440)
    assert result.instance_minutes == 1440 - 1  # started at the end of the first minute
    assert result.unserved == 0
    # After the cold start every request is answered in its service time.
    assert result.waits[-1] == pytest.approx(1.0)


def test_a_request_that_comes_and_goes_within_a_minute_keeps_the_instance():
    # 9 s every 5 minutes, never a 10-minute gap: after the wake at 1 the instance stays up.
    # Each request arrives at m + 0.5 and is done by m + 0.65, inside its minute; the idle
    # alarm's datapoint for that minute is the backlog's Maximum (1), not its end value (0).
    nine_seconds = sim.Traffic(requests_per_day=288, service_seconds=9)
    times = [minute + 0.5 for minute in range(0, 1440, 5)]
    result = run(times, traffic=nine_seconds, minutes=1440, trace=True)
    assert result.instance_minutes == 1440 - 1
    assert [instances for _, instances, _ in result.trace[1:]] == [1] * 1439
    assert result.cold_waits == 4  # 0.5, 5.5, 10.5 and 15.5 wait for the first instance (16)


def test_a_burst_larger_than_max_capacity_queues_and_never_exceeds_it():
    settings = sim.replace(ASYNC, max_capacity=2)
    traffic = sim.Traffic(requests_per_day=1, service_seconds=600)
    times = [10 + i / 100 for i in range(40)]
    result = run(times, settings=settings, traffic=traffic, minutes=1440, trace=True)
    assert max(instances for _, instances, _ in result.trace) == 2
    assert result.unserved == 0 and len(result.waits) == 40
    # Eight at a time (two instances of four) for ten minutes each: the last waits five rounds.
    assert max(result.waits) > 5 * 10


def test_a_request_as_the_idle_alarm_fires_is_neither_cut_nor_lost():
    # The first answer is ready at 117; minutes 117..125 are idle, 126 would be the tenth.
    at_the_tenth_minute = run([100.5, 126.2], minutes=400, trace=True)
    assert at_the_tenth_minute.unserved == 0
    assert at_the_tenth_minute.waits[1] == pytest.approx(1.0)  # served by the running instance
    just_after = run([100.5, 127.2], minutes=400)
    assert just_after.unserved == 0
    assert just_after.waits[1] > 15  # a second cold start, but answered


def test_target_tracking_alone_never_leaves_zero():
    result = run([100.5], settings=ASYNC.target_tracking_only())
    assert result.instance_minutes == 0 and result.unserved == 1


def test_always_on_bills_every_minute_and_answers_at_once():
    result = run([100.5], settings=ASYNC.always_on(), minutes=1440)
    assert result.instance_minutes == 1440 and result.waits == [1.0] and result.cold_waits == 0


def test_arrivals_are_deterministic_for_a_seed_and_follow_the_pattern():
    traffic = sim.Traffic(requests_per_day=200, pattern="office_hours", service_seconds=1)
    first = sim.arrivals(traffic, 3, sim.random.Random("7"))
    assert first == sim.arrivals(traffic, 3, sim.random.Random("7"))
    assert 450 < len(first) < 750
    assert all(9 * 60 <= t % 1440 < 17 * 60 for t in first)


def test_settings_are_read_from_the_synthesized_templates(dev, realtime):
    by_name = {s.name: s for s in read_assembly(Path(dev.assembly.directory))}
    p4d = sim.ScalingSettings.from_template(by_name["genai-opt-dev/Endpoint-p4d"].resources)
    assert (p4d.kind, p4d.instance_type, p4d.max_capacity) == ("async", "ml.p4d.24xlarge", 1)
    assert (p4d.wake_minutes, p4d.idle_minutes, p4d.target_per_instance) == (1, 10, 4)
    assert (p4d.concurrency, p4d.scale_out_cooldown_minutes) == (8, 5)
    chat_stacks = read_assembly(Path(realtime.assembly.directory))
    chat = next(s for s in chat_stacks if s.name.endswith("/Endpoint-chat"))
    settings = sim.ScalingSettings.from_template(chat.resources)
    assert (settings.kind, settings.idle_minutes, settings.wake_minutes) == ("realtime", 15, 1)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"requests_per_day": 1}, "set exactly one of tokens_per_second"),
        ({"requests_per_day": -1, "service_seconds": 1}, "requests_per_day: got -1"),
        ({"requests_per_day": 1, "service_seconds": 1, "pattern": "weekly"}, "allowed: steady"),
        ({"requests_per_day": 1, "service_seconds": 1, "rps": 3}, "rps: unknown key"),
    ],
)
def test_a_bad_profile_names_the_key(raw, words):
    with pytest.raises(sim.ProfileError, match=words):
        sim.parse_traffic("p4d", raw)


def test_make_cost_usage_reports_three_settings_side_by_side(dev, tmp_path, capsys):
    profile = tmp_path / "usage.yml"
    profile.write_text(
        "days: 3\nseed: 1\nendpoints:\n  p4d: {requests_per_day: 20, tokens_per_second: 40}\n"
    )
    argv = ["--assembly", dev.assembly.directory, "--usage", str(profile)]
    assert cost.main([*argv, "--usage-plot", str(tmp_path / "day.png")]) == 0
    out = capsys.readouterr().out
    for settings in ("deployed", "always on", "target tracking only (AWS async example)"):
        assert settings in out
    assert "requests of 500 tokens in, 300 out" in out  # the profile's defaults
    assert (tmp_path / "day.png").stat().st_size > 0
    assert cost.main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (p4d,) = data["endpoints"]
    scenarios = p4d["scenarios"]
    assert scenarios["always on"]["instance_hours"] == 72
    assert scenarios["target tracking only (AWS async example)"]["unserved"] == p4d["requests"]
    assert 0 < scenarios["deployed"]["usd"] < scenarios["always on"]["usd"]


def test_make_cost_usage_refuses_an_endpoint_that_is_not_synthesized(dev, tmp_path, capsys):
    profile = tmp_path / "usage.yml"
    profile.write_text("endpoints:\n  g5: {requests_per_day: 1, service_seconds: 5}\n")
    assert cost.main(["--assembly", dev.assembly.directory, "--usage", str(profile)]) == 2
    assert "usage endpoints.g5: no such endpoint" in capsys.readouterr().err
