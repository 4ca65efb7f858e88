"""Idle auto-stop of the notebook instance: the decision, the Jupyter reads and the stop call."""

from __future__ import annotations

import glob
import json
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from features.workspace.notebook_lifecycle import autostop

LIFECYCLE_DIR = (
    Path(__file__).resolve().parents[4] / "features" / "workspace" / "notebook_lifecycle"
)
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def stamp(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def kernel(kernel_id="k1", state="idle", minutes_ago=90.0, **extra) -> dict:
    return {
        "id": kernel_id,
        "name": "conda_python3",
        "execution_state": state,
        "last_activity": stamp(minutes_ago),
        "connections": 1,
        **extra,
    }


def session(k: dict) -> dict:
    return {"id": "s-" + k["id"], "path": "nb.ipynb", "type": "notebook", "kernel": k}


# ------------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-01T10:00:00.123456Z", datetime(2025, 3, 1, 10, 0, 0, 123456, UTC)),
        ("2025-03-01T10:00:00Z", datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)),
        ("2025-03-01T10:00:00.5z", datetime(2025, 3, 1, 10, 0, 0, 500000, UTC)),
        ("2025-03-01T10:00:00.123456789Z", datetime(2025, 3, 1, 10, 0, 0, 123456, UTC)),
        ("2025-03-01T10:00:00+00:00", datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)),
        ("2025-03-01T15:30:00+0530", datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)),
        ("2025-03-01T05:00:00-05:00", datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)),
        ("2025-03-01 10:00:00", datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_reads_jupyter_formats(value, expected):
    assert autostop.parse_timestamp(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "yesterday",
        1700000000,
        "2025-13-01T00:00:00Z",
        "2025-02-30T00:00:00Z",
        "2025-03-01T10:00Z",
        "2025-03-01T10:00:00.Z",
        "2025-03-01T25:00:00Z",
    ],
)
def test_parse_timestamp_returns_none_for_malformed_values(value):
    assert autostop.parse_timestamp(value) is None


# ------------------------------------------------------------------------------- decision


def test_idle_kernel_past_the_limit_is_idle():
    k = kernel(minutes_ago=61)
    decision = autostop.is_idle([session(k)], [k], NOW, 60)
    assert decision.idle
    assert "idle for 61 min" in decision.reason


def test_recent_activity_is_not_idle():
    decision = autostop.is_idle([], [kernel(minutes_ago=59)], NOW, 60)
    assert not decision.idle
    assert "59 min ago" in decision.reason


def test_exactly_at_the_limit_is_idle():
    assert autostop.is_idle([], [kernel(minutes_ago=60)], NOW, 60).idle


@pytest.mark.parametrize("state", ["busy", "starting", "restarting", "autorestarting", None])
def test_a_kernel_at_work_is_never_idle_whatever_its_last_activity(state):
    k = kernel(state=state, minutes_ago=600)
    decision = autostop.is_idle([], [k], NOW, 60)
    assert not decision.idle
    assert "k1" in decision.reason


def test_a_busy_kernel_seen_only_through_its_session_counts():
    busy = kernel("k2", state="busy", minutes_ago=600)
    assert not autostop.is_idle([session(busy)], [kernel(minutes_ago=600)], NOW, 60).idle


def test_the_most_recent_kernel_decides():
    kernels = [kernel("old", minutes_ago=300), kernel("new", minutes_ago=10)]
    assert not autostop.is_idle([], kernels, NOW, 60).idle


def test_a_dead_kernel_does_not_keep_the_instance_awake():
    assert autostop.is_idle([], [kernel(state="dead", minutes_ago=120)], NOW, 60).idle


def test_an_active_terminal_keeps_the_instance_awake():
    terminals = [{"name": "1", "last_activity": stamp(5)}]
    assert not autostop.is_idle([], [kernel(minutes_ago=600)], NOW, 60, terminals).idle


def test_an_idle_terminal_alone_lets_it_stop():
    terminals = [{"name": "1", "last_activity": stamp(61)}]
    assert autostop.is_idle([], [], NOW, 60, terminals).idle


def test_without_kernels_the_clock_starts_at_server_start():
    assert autostop.is_idle([], [], NOW, 60, since=NOW - timedelta(minutes=61)).idle
    assert not autostop.is_idle([], [], NOW, 60, since=NOW - timedelta(minutes=30)).idle


def test_server_start_after_the_last_kernel_activity_restarts_the_clock():
    since = NOW - timedelta(minutes=10)
    assert not autostop.is_idle([], [kernel(minutes_ago=600)], NOW, 60, since=since).idle


def test_without_any_information_it_does_not_stop():
    decision = autostop.is_idle([], [], NOW, 60)
    assert not decision.idle
    assert decision.reason == "no activity information"


@pytest.mark.parametrize("value", ["not a date", None, "", 12])
def test_a_malformed_kernel_timestamp_means_not_idle(value):
    k = kernel(minutes_ago=600)
    k["last_activity"] = value
    decision = autostop.is_idle([], [k], NOW, 60, since=NOW - timedelta(days=1))
    assert not decision.idle
    assert "unreadable" in decision.reason


def test_a_malformed_terminal_timestamp_means_not_idle():
    decision = autostop.is_idle([], [], NOW, 60, [{"name": "t", "last_activity": "?"}])
    assert not decision.idle
    assert "terminal t" in decision.reason


def test_activity_in_the_future_is_not_idle():
    assert not autostop.is_idle([], [kernel(minutes_ago=-5)], NOW, 60).idle


def test_idle_minutes_must_be_positive():
    with pytest.raises(ValueError, match="idle_minutes"):
        autostop.is_idle([], [], NOW, 0)


# --------------------------------------------------------------------------- stop and I/O


def test_stop_calls_stop_notebook_instance():
    client = boto3.client(
        "sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_response(
            "stop_notebook_instance", {}, {"NotebookInstanceName": "genai-opt-dev-workbench"}
        )
        autostop.stop_instance("genai-opt-dev-workbench", client=client)
        stub.assert_no_pending_responses()


def test_instance_name_comes_from_the_resource_metadata(tmp_path):
    path = tmp_path / "resource-metadata.json"
    path.write_text(json.dumps({"ResourceArn": "arn", "ResourceName": "genai-workbench"}))
    assert autostop.notebook_instance_name(str(path)) == "genai-workbench"


def test_boot_time_reads_proc_uptime(tmp_path):
    path = tmp_path / "uptime"
    path.write_text("3600.50 7000.00\n")
    assert autostop.boot_time(NOW, str(path)) == NOW - timedelta(seconds=3600.5)
    assert autostop.boot_time(NOW, str(tmp_path / "absent")) is None


class FakeJupyter(BaseHTTPRequestHandler):
    routes: dict = {}

    def do_GET(self):
        if self.path not in self.routes:
            self.send_error(404)
            return
        body = json.dumps(self.routes[self.path]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def jupyter():
    server = HTTPServer(("127.0.0.1", 0), FakeJupyter)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_main_stops_an_idle_instance(jupyter, monkeypatch, capsys):
    old = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    FakeJupyter.routes = {
        "/api/sessions": [],
        "/api/kernels": [{"id": "k", "execution_state": "idle", "last_activity": old}],
        "/api/status": {"started": old},
    }
    stopped = []
    monkeypatch.setattr(autostop, "notebook_instance_name", lambda: "genai-workbench")
    monkeypatch.setattr(autostop, "stop_instance", lambda name, region: stopped.append(name))
    assert autostop.main(["--idle-minutes", "60", "--url", jupyter, "--region", "eu-west-1"]) == 0
    assert stopped == ["genai-workbench"]
    assert "idle=True" in capsys.readouterr().out


def test_main_dry_run_never_stops(jupyter, monkeypatch):
    FakeJupyter.routes = {"/api/sessions": [], "/api/kernels": [], "/api/terminals": []}
    monkeypatch.setattr(autostop, "boot_time", lambda now: now - timedelta(days=1))
    monkeypatch.setattr(autostop, "stop_instance", lambda *a: pytest.fail("stopped"))
    assert autostop.main(["--idle-minutes", "5", "--url", jupyter, "--dry-run"]) == 0


def test_main_does_not_stop_when_jupyter_is_unreachable(monkeypatch, capsys):
    monkeypatch.setattr(autostop, "stop_instance", lambda *a: pytest.fail("stopped"))
    assert autostop.main(["--idle-minutes", "5", "--url", "http://127.0.0.1:9"]) == 0
    assert "not stopping" in capsys.readouterr().out


OLD_PYTHONS = sorted(glob.glob("/root/.pyenv/versions/3.[789].*/bin/python"))


@pytest.mark.skipif(not OLD_PYTHONS, reason="no Python 3.7-3.9 interpreter on this machine")
def test_autostop_compiles_on_the_oldest_notebook_pythons():
    source = str(LIFECYCLE_DIR / "autostop.py")
    for python in OLD_PYTHONS:
        code = f"compile(open({source!r}).read(), {source!r}, 'exec')"
        subprocess.run([python, "-c", code], check=True, timeout=30)
