"""spend.py: Cost Explorer's cost of the deployment by service, usage type and day, beside the
estimate, and one clear line for each thing that can stand in the way."""

from __future__ import annotations

import re
from datetime import date

import pytest

import workbench.spend as spend
from tests.unit.workbench.helpers import FakeSession, write_assembly

TODAY = date(2026, 12, 1)
REQUEST = {
    "TimePeriod": {"Start": "2026-11-28", "End": "2026-12-01"},
    "Granularity": "DAILY",
    "Metrics": ["UnblendedCost"],
    "Filter": {
        "Tags": {
            "Key": "workbench-deployment",
            "Values": ["genai-opt-dev"],
            "MatchOptions": ["EQUALS"],
        }
    },
    "GroupBy": [
        {"Type": "DIMENSION", "Key": "SERVICE"},
        {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
    ],
}


def day(start: str, end: str, groups: list[tuple[str, str, str]]) -> dict:
    return {
        "TimePeriod": {"Start": start, "End": end},
        "Total": {},
        "Groups": [
            {
                "Keys": [service, usage],
                "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
            }
            for service, usage, amount in groups
        ],
        "Estimated": False,
    }


SAGEMAKER = "Amazon SageMaker"
P4D_HOURS = "USE1-Host:ml.p4d.24xlarge"


def run(session, tmp_path, *args):
    plot = tmp_path / "spend.png"
    code = spend.main(
        [
            "--env",
            "dev",
            "--days",
            "3",
            "--plot",
            str(plot),
            "--assembly",
            str(tmp_path / "none"),
            *args,
        ],
        session=session,
        today=TODAY,
    )
    return code, plot


def test_cost_by_service_usage_type_and_day_across_pages(tmp_path, capsys):
    session = FakeSession()
    ce = session.stub("ce")
    ce.add_response(
        "get_cost_and_usage",
        {
            "ResultsByTime": [
                day("2026-11-28", "2026-11-29", [(SAGEMAKER, P4D_HOURS, "37.688")]),
                day("2026-11-29", "2026-11-30", []),
            ],
            "NextPageToken": "page-2",
        },
        REQUEST,
    )
    ce.add_response(
        "get_cost_and_usage",
        {
            "ResultsByTime": [
                day(
                    "2026-11-30",
                    "2026-12-01",
                    [
                        (SAGEMAKER, P4D_HOURS, "75.376"),
                        ("AWS Key Management Service", "USE1-KMS-Keys", "0.10"),
                    ],
                )
            ]
        },
        {**REQUEST, "NextPageToken": "page-2"},
    )
    code, plot = run(session, tmp_path)
    out = capsys.readouterr().out
    assert code == 0
    session.assert_no_pending_responses()
    assert "Spend of genai-opt-dev, 2026-11-28 to 2026-12-01" in out
    assert re.search(rf"{SAGEMAKER}\s+{P4D_HOURS}\s+113\.06", out)  # 37.688 + 75.376
    assert re.search(r"TOTAL\s+113\.16", out)
    assert re.search(r"2026-11-29\s+0\.00", out)  # a day without cost keeps its row
    assert "run `make synth` first" in out
    assert plot.stat().st_size > 0


def test_no_cost_under_the_tag_points_at_the_preflight(tmp_path, capsys):
    session = FakeSession()
    session.stub("ce").add_response(
        "get_cost_and_usage",
        {"ResultsByTime": [day("2026-11-28", "2026-12-01", [])]},
        REQUEST,
    )
    assert run(session, tmp_path)[0] == 0
    assert (
        "probably not an active cost allocation tag yet: `make preflight`"
        in capsys.readouterr().out
    )


def test_the_estimate_for_the_same_days_is_printed_beside_it(tmp_path, capsys):
    endpoint = {
        "Resources": {
            "Config": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "ProductionVariants": [
                        {
                            "InstanceType": "ml.g5.12xlarge",
                            "InitialInstanceCount": 1,
                            "VariantName": "v",
                        }
                    ]
                },
            }
        }
    }
    assembly = write_assembly(tmp_path / "cdk.out", {"Endpoint": endpoint})
    session = FakeSession()
    session.stub("ce").add_response(
        "get_cost_and_usage", {"ResultsByTime": [day("2026-11-28", "2026-12-01", [])]}, REQUEST
    )
    code = spend.main(
        [
            "--env",
            "dev",
            "--days",
            "3",
            "--plot",
            str(tmp_path / "p.png"),
            "--assembly",
            str(assembly),
        ],
        session=session,
        today=TODAY,
    )
    assert code == 0
    # An endpoint without a scaling target runs one instance all the time: 72 h at its price.
    assert "Estimate for 3 days (make cost): $510.48 idle" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("code", "message", "words"),
    [
        (
            "AccessDeniedException",
            "User not enabled for cost explorer access",
            "Cost Explorer is not enabled",
        ),
        (
            "AccessDeniedException",
            "not authorized to perform ce:GetCostAndUsage",
            "allow ce:GetCostAndUsage",
        ),
        ("DataUnavailableException", "no data", "no data for this period yet"),
    ],
)
def test_cost_explorer_errors_are_one_clear_line(tmp_path, capsys, code, message, words):
    session = FakeSession()
    session.stub("ce").add_client_error("get_cost_and_usage", code, message)
    assert run(session, tmp_path)[0] == 2
    assert words in capsys.readouterr().err


def test_days_out_of_range_are_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        spend.main(["--env", "dev", "--days", "0"], session=FakeSession(), today=TODAY)
    assert stop.value.code == 2
    assert "--days must be 1..365, got 0" in capsys.readouterr().err


class NoCredentialsSession:
    """A session whose credentials chain is empty: botocore raises when the call is signed."""

    region_name = "us-east-1"

    def client(self, *_, **__):
        from botocore.exceptions import NoCredentialsError

        class Client:
            def get_paginator(self, *_):
                raise NoCredentialsError()

            def get_cost_and_usage(self, **_):
                raise NoCredentialsError()

        return Client()


def test_no_credentials_is_one_line_with_the_fix(tmp_path, capsys):
    code, _ = run(NoCredentialsSession(), tmp_path)
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no AWS credentials: sign in") and err.count("\n") == 1
