"""Preflight checks of the AWS account a deploy goes to: who is signing in, the region, CDK's
bootstrap, the endpoint instance quotas, Lambda's concurrency and the cost allocation tag.
Each returns a `Check` with its fix; none changes anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.assembly import StackTemplate, required_bootstrap_version
from workbench.common import enabled_endpoints
from workbench_config import AppConfig
from workbench_domain import cost_allocation, neuron_export

TOOLKIT_STACK = "CDKToolkit"
DEFAULT_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
HEALTHY_STACK = (
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
)

PASS, FAIL, SKIP, WARN = "PASS", "FAIL", "SKIP", "WARN"


@dataclass(frozen=True)
class Check:
    status: str
    name: str
    detail: str
    fix: str = ""


def error_code(error: Exception) -> str:
    code: str = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
    return code


def client_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def check_identity(session: Any) -> tuple[Check, str | None]:
    try:
        identity = session.client("sts").get_caller_identity()
    except client_errors() as error:
        return (
            Check(
                FAIL,
                "credentials",
                f"STS GetCallerIdentity failed: {error}",
                "Configure credentials: `aws configure`, `aws sso login --profile NAME` then "
                "`export AWS_PROFILE=NAME`, or pass --profile.",
            ),
            None,
        )
    return Check(
        PASS, "credentials", f"{identity['Arn']} (account {identity['Account']})"
    ), identity["Account"]


def check_region(region: str | None, settings: AppConfig) -> Check:
    if not region:
        return Check(
            FAIL,
            "region",
            "no region set",
            "Set AWS_REGION or AWS_DEFAULT_REGION (or `region` in your profile), or pass --region.",
        )
    if settings.region and settings.region != region:
        return Check(
            FAIL,
            "region",
            f"credentials use {region}, cdk.json pins {settings.env_name} to {settings.region}",
            f"Pass --region {settings.region} (or export AWS_REGION={settings.region}).",
        )
    return Check(PASS, "region", region)


def version_parameter(stacks: list[StackTemplate]) -> str:
    """The SSM parameter the templates read the bootstrap version from (custom qualifiers too)."""
    for stack in stacks:
        default = stack.template.get("Parameters", {}).get("BootstrapVersion", {}).get("Default")
        if isinstance(default, str) and default.startswith("/cdk-bootstrap/"):
            return default
    return DEFAULT_VERSION_PARAMETER


def check_bootstrap(
    session: Any, account: str | None, region: str | None, stacks: list[StackTemplate]
) -> list[Check]:
    target = f"aws://{account or 'ACCOUNT_ID'}/{region or 'REGION'}"
    fix = f"Bootstrap the account: `npx cdk bootstrap {target}` (after `make bootstrap`)."
    try:
        described = session.client("cloudformation").describe_stacks(StackName=TOOLKIT_STACK)
    except client_errors() as error:
        if "does not exist" in str(error):
            return [Check(FAIL, "bootstrap stack", f"{TOOLKIT_STACK} not found in {region}", fix)]
        return [Check(FAIL, "bootstrap stack", f"DescribeStacks failed: {error}", fix)]
    stack = described["Stacks"][0]
    status = stack["StackStatus"]
    if status not in HEALTHY_STACK:
        return [
            Check(
                FAIL,
                "bootstrap stack",
                f"{TOOLKIT_STACK} is {status}",
                f"Fix or delete the {TOOLKIT_STACK} stack in the CloudFormation console, then "
                f"`npx cdk bootstrap {target}`.",
            )
        ]
    checks = [Check(PASS, "bootstrap stack", f"{TOOLKIT_STACK} {status}")]

    required = required_bootstrap_version(stacks)
    parameter = version_parameter(stacks)
    deployed: int | None = None
    source = parameter
    try:
        value = session.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
        deployed = int(value)
    except client_errors():
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if str(outputs.get("BootstrapVersion", "")).isdigit():
            deployed, source = int(outputs["BootstrapVersion"]), f"{TOOLKIT_STACK} output"
    if deployed is None:
        checks.append(
            Check(
                FAIL,
                "bootstrap version",
                f"cannot read {parameter}",
                fix.replace("Bootstrap", "Re-bootstrap"),
            )
        )
    elif required is None:
        checks.append(
            Check(
                SKIP,
                "bootstrap version",
                f"{deployed} ({source}); no templates to compare: run `make synth`",
            )
        )
    elif deployed < required:
        checks.append(
            Check(
                FAIL,
                "bootstrap version",
                f"{deployed} ({source}) < {required} required by the templates",
                f"Upgrade the bootstrap stack: `npx cdk bootstrap {target}`.",
            )
        )
    else:
        checks.append(Check(PASS, "bootstrap version", f"{deployed} >= {required} required"))
    return checks


def endpoint_quotas(session: Any) -> dict[str, dict[str, Any]]:
    """QuotaName -> quota, for the SageMaker quotas (paginated)."""
    paginator = session.client("service-quotas").get_paginator("list_service_quotas")
    quotas: dict[str, dict[str, Any]] = {}
    for page in paginator.paginate(ServiceCode="sagemaker"):
        for quota in page.get("Quotas", []):
            quotas[quota["QuotaName"]] = quota
    return quotas


def check_quotas(session: Any, settings: AppConfig, region: str | None) -> list[Check]:
    endpoints = enabled_endpoints(settings)
    if not endpoints:
        return []
    try:
        quotas = endpoint_quotas(session)
    except client_errors() as error:
        return [
            Check(
                FAIL,
                "quota",
                f"Service Quotas ListServiceQuotas failed: {error}",
                "Allow servicequotas:ListServiceQuotas for these credentials, or check the quota "
                "in the Service Quotas console (Amazon SageMaker).",
            )
        ]
    checks = []
    for endpoint in endpoints:
        pools = (endpoint.instance_type, *endpoint.capacity.fallback_instance_types)
        for priority, instance_type in enumerate(pools, 1):
            # The primary must fit; a fallback that cannot is a warning (the primary may serve).
            short = FAIL if priority == 1 else WARN
            label = f"quota {endpoint.key}" + ("" if priority == 1 else f" pool {priority}")
            checks.append(
                quota_check(quotas, instance_type, endpoint.max_capacity, label, short, region,
                            lower=f"endpoints.{endpoint.key}.max_capacity in cdk.json")
            )  # fmt: skip
        if endpoint.serving.engine == neuron_export.ENGINE:
            # `make neuron-export` compiles its model in a training job (a warning: the export
            # may be done already).
            checks.append(
                quota_check(quotas, neuron_export.EXPORT_INSTANCE_TYPE, 1,
                            f"quota {endpoint.key} export", WARN, region,
                            usage="training job usage", needed_label="make neuron-export needs")
            )  # fmt: skip
    return checks


def quota_check(
    quotas: dict[str, Any],
    instance_type: str,
    needed: int,
    label: str,
    short: str,
    region: str | None,
    *,
    usage: str = "endpoint usage",
    needed_label: str = "max capacity",
    lower: str | None = None,
) -> Check:
    """The account's quota of `instance_type` for `usage` against `needed`; a shortfall is
    `short` (FAIL or WARN), with how to raise it (or to lower what needs it, `lower`)."""
    name = f"{instance_type} for {usage}"
    quota = quotas.get(name)
    if quota is None:
        return Check(
            short,
            label,
            f"no quota '{name}' in {region}: the type may not be offered there",
            f"Pick a region that offers {instance_type}, or another type.",
        )
    value = int(quota["Value"])
    if value < needed:
        return Check(
            short,
            label,
            f"'{name}' = {value} < {needed_label} {needed}",
            "Request an increase: `aws service-quotas request-service-quota-increase "
            f"--service-code sagemaker --quota-code {quota['QuotaCode']} "
            f"--desired-value {needed} --region {region}`"
            f"{f' (or lower {lower})' if lower else ''}.",
        )
    return Check(PASS, label, f"'{name}' = {value} >= {needed_label} {needed}")


def activate_command() -> str:
    return (
        "aws ce update-cost-allocation-tags-status --region us-east-1 "
        f"--cost-allocation-tags-status TagKey={cost_allocation.TAG_KEY},Status=Active"
    )


def check_cost_tag(session: Any) -> Check:
    """The cost allocation tag's status in Cost Explorer (an API of us-east-1)."""
    name = "cost tag"
    try:
        response = session.client("ce", region_name="us-east-1").list_cost_allocation_tags(
            TagKeys=[cost_allocation.TAG_KEY], Type="UserDefined"
        )
    except client_errors() as error:
        return Check(
            WARN,
            name,
            f"cannot read cost allocation tags ({error_code(error) or error})",
            "Allow ce:ListCostAllocationTags for these credentials, and enable Cost Explorer "
            "(Billing console) if it is not: the budget and `make spend` need it",
        )
    tags = {t["TagKey"]: t for t in response.get("CostAllocationTags", [])}
    tag = tags.get(cost_allocation.TAG_KEY)
    if tag is None:
        return Check(
            WARN,
            name,
            f"{cost_allocation.TAG_KEY} is not a cost allocation tag yet: AWS lists a tag up to "
            "24 hours after the first resource carrying it exists; until it is activated the "
            "budget counts $0",
            f"After the first deploy (and up to a day), run: {activate_command()}",
        )
    if tag.get("Status") != "Active":
        return Check(
            WARN,
            name,
            f"{cost_allocation.TAG_KEY} is {tag.get('Status')}: the budget counts $0",
            f"Activate it: {activate_command()}",
        )
    return Check(PASS, name, f"{cost_allocation.TAG_KEY} is an active cost allocation tag")


# Lambda keeps at least this much of the account's concurrency unreserved (Lambda Developer
# Guide, "Configuring reserved concurrency").
LAMBDA_UNRESERVED_MINIMUM = 100


def reserved_concurrency(stacks: list[StackTemplate]) -> int:
    return sum(
        int(function["Properties"].get("ReservedConcurrentExecutions", 0))
        for stack in stacks
        for _, function in stack.of_type("AWS::Lambda::Function")
    )


def check_lambda_concurrency(session: Any, stacks: list[StackTemplate]) -> Check:
    name = "lambda"
    reserved = reserved_concurrency(stacks)
    if not reserved:
        return Check(SKIP, name, "no reserved concurrency in the templates")
    try:
        limit = session.client("lambda").get_account_settings()["AccountLimit"]
    except client_errors() as error:
        return Check(
            FAIL,
            name,
            f"cannot read the Lambda account settings ({error_code(error) or error})",
            "Allow lambda:GetAccountSettings for these credentials",
        )
    total = int(limit["ConcurrentExecutions"])
    if total - reserved < LAMBDA_UNRESERVED_MINIMUM:
        return Check(
            FAIL,
            name,
            f"account concurrency {total}: reserving {reserved} would leave {total - reserved} "
            f"unreserved, below Lambda's minimum of {LAMBDA_UNRESERVED_MINIMUM}; the deploy "
            "would fail on the launcher",
            "Request a higher 'Concurrent executions' quota for AWS Lambda (Service Quotas) "
            "in this region before deploying",
        )
    return Check(PASS, name, f"account concurrency {total}, {reserved} reserved by the templates")
