"""The usage simulator against hand-computed cases, its settings read from the synthesized
templates, and `make cost --usage` end to end."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from pathlib import Path

import pytest

import workbench.cost as cost
import workbench.traffic as tp
import workbench.usage_sim as sim
from tests.unit.workbench_domain.test_measurements import speed
from workbench import measured
from workbench.assembly import read_assembly
from workbench_domain import measurements as m

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
ONE_MINUTE = tp.Traffic(requests_per_day=1, service_seconds=60)


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
    nine_seconds = tp.Traffic(requests_per_day=288, service_seconds=9)
    times = [minute + 0.5 for minute in range(0, 1440, 5)]
    result = run(times, traffic=nine_seconds, minutes=1440, trace=True)
    assert result.instance_minutes == 1440 - 1
    assert [instances for _, instances, _ in result.trace[1:]] == [1] * 1439
    assert result.cold_waits == 4  # 0.5, 5.5, 10.5 and 15.5 wait for the first instance (16)


def test_a_burst_at_zero_waits_for_the_first_instance_before_adding_the_second():
    """40 requests of 10 minutes at 10.00-10.39, max 2 instances of 4 at a time. Instance A
    starts at 11 and serves from 26 (4 every 10 minutes: 26, 36, 46, ...). While A starts the
    endpoint is Updating and has no load metric, so target tracking waits: 3 breaching
    minutes from 26 scale out at 29, and B serves from 44 (44, 54, ...). A request must start
    within its TTL (the client's 3600 s): the last two batches (74, 76) are dropped."""
    settings = dataclasses.replace(ASYNC, max_capacity=2)
    traffic = tp.Traffic(requests_per_day=1, service_seconds=600)
    times = [10 + i / 100 for i in range(40)]
    result = run(times, settings=settings, traffic=traffic, minutes=1440, trace=True)
    instances = {minute: count for minute, count, _ in result.trace}
    assert instances[27] == 1 and instances[28] == 2  # B from 29, not during A's cold start
    assert max(instances.values()) == 2
    assert (len(result.waits), result.expired, result.unserved) == (32, 8, 8)
    # The first four (10.00-10.03) start at 26: waited 26 - arrival, plus 10 minutes of service.
    assert result.waits[:4] == pytest.approx([26.0, 25.99, 25.98, 25.97])
    longer = dataclasses.replace(traffic, max_wait_seconds=7200)
    kept = run(times, settings=settings, traffic=longer, minutes=1440)
    assert (len(kept.waits), kept.unserved) == (40, 0)


@pytest.mark.parametrize(
    ("statistic", "arrival", "wait"),
    [
        # Average over 5 minutes: every minute of a period must breach. At 100.5 the period
        # 100-104 does: wake at 105, serve at 120, answer at 121.
        ("Average", 100.5, 20.5),
        # At 102.5 minutes 100-101 do not: the next period (105-109) wakes at 110.
        ("Average", 102.5, 23.5),
        # A Sum (realtime refusals) breaches on any minute: wake at 105.
        ("Sum", 102.5, 18.5),
    ],
)
def test_the_wake_alarm_period_and_statistic_decide_when_it_wakes(statistic, arrival, wait):
    settings = dataclasses.replace(ASYNC, wake_period_minutes=5, wake_statistic=statistic)
    assert run([arrival], settings=settings, minutes=400).waits == [pytest.approx(wait)]


def test_min_instances_bill_every_minute_with_no_copy():
    realtime = dataclasses.replace(ASYNC, kind="realtime", min_instances=1)
    idle = run([], settings=realtime, minutes=1440)
    assert idle.instance_minutes == 1440
    busy = run([100.5], settings=realtime, minutes=1440)
    assert busy.instance_minutes == 1440  # the copy runs on the instance already billed


def test_the_templates_min_instances_and_wake_period_are_read(realtime):
    stacks = read_assembly(Path(realtime.assembly.directory))
    chat = next(s for s in stacks if s.name.endswith("/Endpoint-chat"))
    resources = json.loads(json.dumps(chat.resources))
    for resource in resources.values():
        if resource["Type"] == "AWS::SageMaker::EndpointConfig":
            resource["Properties"]["ProductionVariants"][0]["ManagedInstanceScaling"][
                "MinInstanceCount"
            ] = 1
    settings = sim.ScalingSettings.from_template(resources)
    assert settings.min_instances == 1
    assert (settings.wake_period_minutes, settings.wake_statistic) == (1, "Sum")


def test_a_recorded_trace_is_replayed_with_its_token_counts(tmp_path):
    traffic = tp.Traffic(requests_per_day=0, tokens_per_second=10, trace="t.csv")
    csv_trace = tmp_path / "t.csv"
    csv_trace.write_text("time,input_tokens,output_tokens\n6000,10,600\n6030,10,\n")
    assert tp.load_trace(csv_trace, traffic) == [(0.0, 1.0), (0.5, 0.5)]  # 600 and 300 tokens
    lines = tmp_path / "t.jsonl"
    lines.write_text(
        '{"time": "2026-01-01T00:00:00Z", "output_tokens": 60}\n{"time": "2026-01-01T00:01:30Z"}\n'
    )
    assert tp.load_trace(lines, traffic) == [(0.0, 0.1), (1.5, 0.5)]


@pytest.mark.parametrize(
    ("content", "suffix", "words"),
    [
        ("when\n1\n", ".csv", "needs a header with a `time` column"),
        ("time\n", ".csv", "no request in it"),
        ("time\nyesterday\n", ".csv", "time 'yesterday'; allowed: seconds"),
        ("time\n-5\n", ".csv", "allowed: a finite number >= 0"),
        ("time\nnan\n", ".csv", "allowed: a finite number >= 0"),
        ("time,output_tokens\n1,many\n", ".csv", "output_tokens 'many' is not an integer"),
        ('{"time": 1}\n[2]\n', ".jsonl", "line 2: expected an object"),
        ("{not json\n", ".jsonl", "line 1: not JSON"),
    ],
)
def test_a_bad_trace_names_the_request_and_the_value(tmp_path, content, suffix, words):
    path = tmp_path / f"trace{suffix}"
    path.write_text(content)
    with pytest.raises(tp.ProfileError, match=re.escape(words)):
        tp.load_trace(path, tp.Traffic(requests_per_day=0, service_seconds=1))


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
    traffic = tp.Traffic(requests_per_day=200, pattern="office_hours", service_seconds=1)
    first = tp.arrivals(traffic, 3, random.Random("7"))
    assert first == tp.arrivals(traffic, 3, random.Random("7"))
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
        ({"requests_per_day": 1, "service_seconds": 1, "rps": 3}, "'rps': unknown key"),
        ({"requests_per_day": float("nan"), "service_seconds": 1}, "allowed: a finite number"),
        ({"requests_per_day": float("inf"), "service_seconds": 1}, "allowed: a finite number"),
        ({"requests_per_day": 1, "service_seconds": float("inf")}, "allowed: a finite number"),
        ({"requests_per_day": 1, "service_seconds": 1, "trace": 3}, "trace: expected a file"),
        ({"service_seconds": 1}, "requests_per_day: required"),
        ({"requests_per_day": 1, "service_seconds": 1, "max_wait_seconds": 0}, "allowed: >= 1"),
        ({"requests_per_day": "x" * 10_000, "service_seconds": 1}, "... (10002 characters)"),
    ],
)
def test_a_bad_profile_names_the_key(raw, words):
    with pytest.raises(tp.ProfileError, match=re.escape(words)):
        tp.parse_traffic("p4d", raw)


def test_a_usage_plot_that_cannot_be_written_is_one_line_after_the_report(dev, tmp_path, capsys):
    profile = tmp_path / "usage.yml"
    profile.write_text("days: 1\nendpoints:\n  p4d: {requests_per_day: 5, tokens_per_second: 40}\n")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    argv = ["--assembly", dev.assembly.directory, "--usage", str(profile)]
    assert cost.main([*argv, "--usage-plot", str(blocker / "day.png")]) == 1
    captured = capsys.readouterr()
    assert "deployed" in captured.out  # the report is printed first
    assert captured.err.startswith(f"error: --usage-plot {blocker / 'day.png'}: ")
    assert len(captured.err.splitlines()) == 1


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
    assert set(scenarios) == {"deployed", "always_on", "aws_example"}
    for scenario in scenarios.values():
        assert {
            "instance_minutes", "cost_usd", "wait_p50_minutes", "wait_p95_minutes",
            "cold_waits", "unserved",
        } <= set(scenario)  # fmt: skip
        assert "trace" not in scenario
    assert scenarios["always_on"]["instance_minutes"] == 3 * 1440
    assert scenarios["aws_example"]["unserved"] == p4d["requests"]
    assert 0 < scenarios["deployed"]["cost_usd"] < scenarios["always_on"]["cost_usd"]


def test_make_cost_usage_replays_a_trace_next_to_the_profile(dev, tmp_path, capsys):
    (tmp_path / "requests.csv").write_text("time\n0\n30\n7200\n")
    profile = tmp_path / "usage.yml"
    profile.write_text("days: 1\nendpoints:\n  p4d: {trace: requests.csv, service_seconds: 30}\n")
    argv = ["--assembly", dev.assembly.directory, "--usage", str(profile), "--json"]
    assert cost.main(argv) == 0
    (p4d,) = json.loads(capsys.readouterr().out)["endpoints"]
    assert (p4d["requests"], p4d["replayed_trace"]) == (3, "requests.csv")
    assert p4d["scenarios"]["deployed"]["unserved"] == 0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- 1\n- 2\n", "expected an object, got [1, 2]"),
        ("days: 3\nendpoint: {}\n", "unknown key 'endpoint'; known keys: days, endpoints, seed"),
        ("a: &x [1]\nb: *x\n", "aliases (*name) are not allowed"),
        ("days: [unclosed\n", "is not valid YAML"),
        ("days: .nan\nendpoints: {}\n", "usage days: got nan"),
        ("days: 3\nseed: [1]\nendpoints: {}\n", "usage seed: got [1]"),
        ("endpoints: {p4d: {requests_per_day: .inf, service_seconds: 1}}\n", "finite"),
        (
            "endpoints: {p4d: {requests_per_day: 1, service_seconds: 1, max_wait_seconds: 30}}\n",
            "max_wait_seconds: got 30; allowed: 60..21600 (RequestTTLSeconds",
        ),
        ("endpoints: {p4d: {trace: missing.csv, service_seconds: 1}}\n", "cannot be read"),
    ],
)
def test_a_bad_usage_file_is_one_line_naming_what_is_wrong(dev, tmp_path, capsys, text, words):
    profile = tmp_path / "usage.yml"
    profile.write_text(text)
    assert cost.main(["--assembly", dev.assembly.directory, "--usage", str(profile)]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err


def test_nested_yaml_aliases_are_refused_before_they_expand(dev, tmp_path, capsys):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 30)]
    profile = tmp_path / "bomb.yml"
    profile.write_text("\n".join(lines) + "\n")
    assert cost.main(["--assembly", dev.assembly.directory, "--usage", str(profile)]) == 2
    err = capsys.readouterr().err
    assert "aliases (*name) are not allowed" in err and len(err) < 400


def test_make_cost_usage_refuses_an_endpoint_that_is_not_synthesized(dev, tmp_path, capsys):
    profile = tmp_path / "usage.yml"
    profile.write_text("endpoints:\n  g5: {requests_per_day: 1, service_seconds: 5}\n")
    assert cost.main(["--assembly", dev.assembly.directory, "--usage", str(profile)]) == 2
    assert "usage endpoints.g5: no such endpoint" in capsys.readouterr().err


# --- the simulator reads back what the config said ----------------------------------------------


@pytest.mark.parametrize(
    ("variant", "key"), [("dev", "p4d"), ("dev", "inf2"), ("realtime", "chat")]
)
def test_the_template_gives_back_the_configs_scaling(request, variant, key):
    """`ScalingSettings` is what the synthesized template says (what a deploy gets, hand edits
    included), so it is read from the template, not taken from the config; for every endpoint
    the app builds, it is the config's `EndpointScaling` again."""
    synthesized = request.getfixturevalue(variant)
    endpoint = synthesized.stage.config.endpoints[key]
    stack = synthesized.stage.endpoints[key]
    read = sim.ScalingSettings.from_template(synthesized.template(stack).to_json()["Resources"])
    scaling = endpoint.scaling
    target = (
        scaling.target_concurrent_requests_per_copy
        if endpoint.kind == "realtime"
        else scaling.target_backlog_per_instance
    )
    assert (read.kind, read.instance_type, read.max_capacity) == (
        endpoint.kind,
        endpoint.instance_type,
        endpoint.max_capacity,
    )
    assert read.idle_minutes == scaling.idle_minutes_before_zero
    assert read.wake_minutes == scaling.wake_evaluation_periods
    assert read.wake_period_minutes * 60 == scaling.wake_period_seconds
    assert read.target_per_instance == target
    assert read.scale_out_cooldown_minutes * 60 == scaling.scale_out_cooldown_seconds


def test_make_cost_usage_serves_a_measured_endpoint_at_its_measured_speed(
    dev, tmp_path, capsys, local_measurements
):
    """A stored measurement replaces the profile's tokens_per_second, and says so; --assumed
    keeps the profile's."""
    measured_speed = speed(endpoint_key="p4d", run="genai-opt-dev-bench-0123456789ab")
    measured.save("dev", measured_speed.key(), m.to_document(measured_speed))
    profile = tmp_path / "usage.yml"
    profile.write_text("days: 2\nendpoints:\n  p4d: {requests_per_day: 50, service_seconds: 9}\n")
    argv = ["--assembly", dev.assembly.directory, "--usage", str(profile)]
    assert cost.main([*argv, "--json"]) == 0
    (p4d,) = json.loads(capsys.readouterr().out)["endpoints"]
    assert p4d["tokens_per_second"] == measured_speed.tokens_per_second_per_request
    assert p4d["throughput_source"].startswith("measured (ai-benchmark-job genai-opt-dev-bench-")
    assert cost.main([*argv, "--json", "--assumed"]) == 0
    (assumed,) = json.loads(capsys.readouterr().out)["endpoints"]
    assert (assumed["tokens_per_second"], assumed["throughput_source"]) == (None, "usage profile")
    assert cost.main([*argv, "--usage-plot", str(tmp_path / "d.png")]) == 0
    assert "97.9 output tokens/s per request (measured (ai-benchmark-job" in capsys.readouterr().out
