"""The `budget` section: an AWS Budgets budget on this environment's cost, and who hears of it."""

from __future__ import annotations

from dataclasses import dataclass

from workbench_config.reader import ConfigError, Reader

# "A budget can have up to five notifications, and each notification can have one SNS subscriber
# and up to 10 email subscribers" (botocore budgets CreateBudget, NotificationsWithSubscribers).
MAX_NOTIFICATIONS = 5
# A budget notification has at most 11 subscribers (botocore budgets `Subscribers`, max 11):
# the budget topic and up to 10 e-mail addresses.
MAX_EMAILS = 10
# AWS Budgets thresholds (cfn-lint's schema of AWS::Budgets::Budget Notification: 0.1..1e9); as
# percentages of the limit, more than 1000 % says nothing a lower one does not.
_PERCENT_RANGE = (1, 1000)
_EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"


@dataclass(frozen=True)
class BudgetConfig:
    # The monthly cost limit in USD of everything tagged with this environment's stage.
    monthly_usd: float
    # Notify when the actual cost passes these percentages of the limit...
    actual_percent: tuple[float, ...]
    # ... and when AWS forecasts that the month will end above these.
    forecast_percent: tuple[float, ...]
    emails: tuple[str, ...]


MAX_MONTHLY_USD = 1e15


def parse_budget(section: Reader) -> BudgetConfig:
    low, high = _PERCENT_RANGE
    config = BudgetConfig(
        # AWS Budgets takes the amount as a decimal string (`([0-9]*\.)?[0-9]+`, botocore
        # budgets NumericValue); from 1e16 on, the template's JSON number is written 1e+16.
        monthly_usd=section.number("monthly_usd", 1000.0, minimum=1, maximum=MAX_MONTHLY_USD),
        actual_percent=section.numbers(
            "actual_percent", (50.0, 80.0, 100.0), minimum=low, maximum=high, max_items=5
        ),
        forecast_percent=section.numbers(
            "forecast_percent", (100.0,), minimum=low, maximum=high, max_items=5
        ),
        emails=section.strings(
            "emails",
            (),
            pattern=_EMAIL,
            max_items=MAX_EMAILS,
            describe="allowed: an e-mail address (name@example.com)",
        ),
    )
    count = len(config.actual_percent) + len(config.forecast_percent)
    if count > MAX_NOTIFICATIONS:
        raise ConfigError(
            section.child_path("forecast_percent"),
            list(config.forecast_percent),
            f"a budget has at most {MAX_NOTIFICATIONS} notifications: actual_percent and "
            f"forecast_percent hold {count}",
        )
    return config
