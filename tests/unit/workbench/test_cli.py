"""python -m workbench: one entry point, a module per command."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from workbench.__main__ import COMMANDS, main


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_a_module_with_main(command):
    module = importlib.import_module(f"workbench.{COMMANDS[command][0]}")
    assert callable(module.main)


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert all(f"  {command} " in listed for command in COMMANDS)


def test_unknown_command_is_one_line_and_exit_2(capsys):
    assert main(["deploy"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown command 'deploy'")


def test_no_command_is_usage_and_exit_2(capsys):
    assert main([]) == 2
    assert "usage: python -m workbench <command>" in capsys.readouterr().out


def test_a_command_runs_through_the_entry_point_from_any_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "cost", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m workbench cost")


def test_every_command_takes_env_the_same_way():
    # --env names the environment of cdk.json in every command that reads one.
    for command in (
        "preflight",
        "smoke",
        "spend",
        "optimize",
        "jumpstart",
        "execution-policy",
        "recommend",
    ):
        done = subprocess.run(
            [sys.executable, "-m", "workbench", command, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert "--env ENV" in done.stdout, command
