"""preflight.py: each check passes on a ready account and fails, with its fix, on each problem."""

from __future__ import annotations

import copy
import json

import pytest

import workbench.preflight as preflight
from tests.conftest import cdk_context, expanded_workbench
from tests.unit.workbench.helpers import BOOTSTRAP_RULE, REGION, FakeSession, write_assembly
from workbench import account_checks

ACCOUNT = "123456789012"
MODEL = "s3://models-bucket/llama3-70b/awq/"
DRAFT = "s3://models-bucket/drafts/llama3-8b/"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.36.0-lmi20.0.0-cu128"


def endpoint(instance_type="ml.p4d.24xlarge", model=None, serving=None, **fields):
    """A valid `endpoints.<key>` entry of cdk.json; `model` and `fields` override its parts."""
    return {
        "instance_type": instance_type,
        "price_usd_per_hour": 37.688,
        "model": model or {"s3_uri": MODEL},
        "serving": serving or {"engine": "vllm"},
        **fields,
    }


P4D_WITH_DRAFT = endpoint(
    max_capacity=2,
    serving={
        "engine": "vllm",
        "image_uri": IMAGE,
        "speculative_decoding": {"method": "draft_model", "model": {"s3_uri": DRAFT}},
    },
)
INF2_DISABLED = endpoint(
    "ml.inf2.48xlarge",
    serving={"engine": "neuron"},
    enabled=False,
    volume_size_gb=512,
)


LOAD_SETTINGS = preflight.load_settings  # the real loader, before a test replaces it


def settings(endpoints=None, region=None):
    """The typed config of dev, loaded from cdk.json with these endpoints and region."""
    context = copy.deepcopy(cdk_context())
    context["workbench"] = expanded_workbench(context["workbench"])
    dev = context["workbench"]["environments"]["dev"]
    dev["region"] = region
    dev["endpoints"] = (
        {"p4d": P4D_WITH_DRAFT, "inf2": INF2_DISABLED} if endpoints is None else endpoints
    )
    return LOAD_SETTINGS("dev", context)


@pytest.fixture
def stacks(tmp_path):
    return preflight.read_assembly(
        write_assembly(tmp_path / "cdk.out", {"Storage": BOOTSTRAP_RULE})
    )


def stub_identity(session):
    session.stub("sts").add_response(
        "get_caller_identity",
        {"UserId": "AIDA", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/dev"},
    )


def stub_bootstrap(session, status="CREATE_COMPLETE", version="27"):
    session.stub("cloudformation").add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "CDKToolkit",
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "StackStatus": status,
                    "Outputs": [{"OutputKey": "BootstrapVersion", "OutputValue": version}],
                }
            ]
        },
        {"StackName": "CDKToolkit"},
    )
    if status == "CREATE_COMPLETE":
        session.stub("ssm").add_response(
            "get_parameter",
            {"Parameter": {"Name": "/cdk-bootstrap/hnb659fds/version", "Value": version}},
            {"Name": "/cdk-bootstrap/hnb659fds/version"},
        )


def stub_quotas(session, value=2.0):
    sq = session.stub("service-quotas")
    other = {"QuotaName": "ml.g5.xlarge for endpoint usage", "QuotaCode": "L-1", "Value": 4.0}
    sq.add_response(
        "list_service_quotas", {"Quotas": [other], "NextToken": "t"}, {"ServiceCode": "sagemaker"}
    )
    mine = {"QuotaName": "ml.p4d.24xlarge for endpoint usage", "QuotaCode": "L-P4D", "Value": value}
    sq.add_response(
        "list_service_quotas", {"Quotas": [mine]}, {"ServiceCode": "sagemaker", "NextToken": "t"}
    )


def stub_artifacts(session, model_keys=1, draft_keys=1):
    s3 = session.stub("s3")
    for uri, count in ((MODEL, model_keys), (DRAFT, draft_keys)):
        bucket, prefix = uri[5:].split("/", 1)
        s3.add_response(
            "list_objects_v2",
            {"KeyCount": count, "Contents": [{"Key": prefix + "config.json"}] * count},
            {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 1},
        )


def stub_cost_tag(session, status="Active"):
    tags = (
        []
        if status is None
        else [{"TagKey": "workbench-deployment", "Type": "UserDefined", "Status": status}]
    )
    session.stub("ce").add_response(
        "list_cost_allocation_tags",
        {"CostAllocationTags": tags},
        {"TagKeys": ["workbench-deployment"], "Type": "UserDefined"},
    )


def ready_account(session, **overrides):
    stub_identity(session)
    stub_bootstrap(session, **overrides.get("bootstrap", {}))
    stub_quotas(session, **overrides.get("quotas", {}))
    stub_artifacts(session, **overrides.get("artifacts", {}))
    stub_cost_tag(session, **overrides.get("cost_tag", {}))


def by_name(checks):
    return {c.name: c for c in checks}


def test_ready_account_passes_every_check(stacks):
    session = FakeSession()
    ready_account(session)
    checks = by_name(preflight.run_checks(session, settings(), stacks))
    session.assert_no_pending_responses()
    assert [(c.status, c.name) for c in checks.values()] == [
        ("PASS", "credentials"),
        ("PASS", "region"),
        ("PASS", "bootstrap stack"),
        ("PASS", "bootstrap version"),
        ("PASS", "quota p4d"),  # found on the second page; the disabled inf2 is not checked
        ("PASS", "artifacts p4d.model.s3_uri"),
        ("PASS", "artifacts p4d.serving.speculative_decoding.model.s3_uri"),
        ("PASS", "image p4d"),
        ("SKIP", "lambda"),  # this assembly reserves no concurrency
        ("PASS", "cost tag"),
    ]
    assert len(preflight.check_artifacts(FakeSession(), settings(endpoints={}))) == 0
    assert checks["bootstrap version"].detail == "27 >= 6 required"


def test_main_prints_table_and_exits_zero(stacks, tmp_path, capsys, monkeypatch):
    session = FakeSession()
    ready_account(session)
    monkeypatch.setattr(preflight, "load_settings", lambda env: settings())
    code = preflight.main(["--assembly", str(stacks[0].path.parent.parent)], session=session)
    out = capsys.readouterr().out
    assert code == 0
    assert "PASS  quota p4d" in out and "All checks passed" in out


def test_no_credentials_fails_with_the_fix_and_skips_the_rest(stacks, capsys, monkeypatch):
    session = FakeSession()
    session.stub("sts").add_client_error("get_caller_identity", "InvalidClientTokenId", "bad token")
    monkeypatch.setattr(preflight, "load_settings", lambda env: settings())
    code = preflight.main(["--assembly", str(stacks[0].path.parent.parent)], session=session)
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  credentials" in out and "aws sso login" in out and "SKIP  AWS checks" in out


def test_no_region_fails():
    session = FakeSession(region=None)
    stub_identity(session)
    checks = by_name(preflight.run_checks(session, settings(), []))
    assert checks["region"].status == "FAIL" and "AWS_REGION" in checks["region"].fix


def test_region_other_than_the_pinned_one_fails(stacks):
    check = account_checks.check_region("eu-west-1", settings(region=REGION))
    assert check.status == "FAIL" and "--region us-east-1" in check.fix


def test_missing_bootstrap_stack_fails_with_cdk_bootstrap_command(stacks):
    session = FakeSession()
    session.stub("cloudformation").add_client_error(
        "describe_stacks", "ValidationError", "Stack with id CDKToolkit does not exist"
    )
    [check] = account_checks.check_bootstrap(session, ACCOUNT, REGION, stacks)
    assert check.status == "FAIL"
    assert f"npx cdk bootstrap aws://{ACCOUNT}/{REGION}" in check.fix


def test_failed_bootstrap_stack_fails(stacks):
    session = FakeSession()
    stub_bootstrap(session, status="ROLLBACK_COMPLETE")
    [check] = account_checks.check_bootstrap(session, ACCOUNT, REGION, stacks)
    assert check.status == "FAIL" and "ROLLBACK_COMPLETE" in check.detail


def test_old_bootstrap_version_fails(stacks):
    session = FakeSession()
    stub_bootstrap(session, version="5")
    checks = by_name(account_checks.check_bootstrap(session, ACCOUNT, REGION, stacks))
    assert checks["bootstrap version"].status == "FAIL"
    assert checks["bootstrap version"].detail.startswith("5 (")


def test_required_version_is_read_from_the_template_rule(stacks):
    assert account_checks.required_bootstrap_version(stacks) == 6
    assert account_checks.version_parameter(stacks) == "/cdk-bootstrap/hnb659fds/version"


def test_synthesized_dev_templates_declare_their_bootstrap_rule(dev):
    stacks = preflight.read_assembly(preflight.Path(dev.assembly.directory))
    assert account_checks.required_bootstrap_version(stacks) >= 6


def test_quota_below_max_capacity_fails_with_increase_command():
    session = FakeSession()
    stub_quotas(session, value=0.0)
    [check] = account_checks.check_quotas(session, settings(), REGION)
    assert check.status == "FAIL" and "= 0 < max capacity 2" in check.detail
    assert check.fix.endswith(
        "--quota-code L-P4D --desired-value 2 --region us-east-1` (or lower "
        "endpoints.p4d.max_capacity in cdk.json)."
    )


def test_a_realtime_endpoint_needs_the_endpoint_usage_quota_of_its_instance_type():
    chat = endpoint(
        "ml.g5.12xlarge",
        kind="realtime",
        max_capacity=2,
        serving={"engine": "vllm", "image_uri": IMAGE, "tensor_parallel_degree": 4},
    )
    session = FakeSession()
    quota = {"QuotaName": "ml.g5.12xlarge for endpoint usage", "QuotaCode": "L-G5", "Value": 1.0}
    session.stub("service-quotas").add_response(
        "list_service_quotas", {"Quotas": [quota]}, {"ServiceCode": "sagemaker"}
    )
    [check] = account_checks.check_quotas(session, settings({"chat": chat}), REGION)
    assert check.status == "FAIL" and "= 1 < max capacity 2" in check.detail
    assert "--quota-code L-G5 --desired-value 2" in check.fix


def test_every_pool_has_its_quota_checked_a_short_fallback_warns():
    pools = endpoint(max_capacity=2, fallback_instance_types=["ml.p4de.24xlarge", "ml.p5.48xlarge"])
    session = FakeSession()
    quotas = [
        {"QuotaName": "ml.p4d.24xlarge for endpoint usage", "QuotaCode": "L-P4D", "Value": 2.0},
        {"QuotaName": "ml.p4de.24xlarge for endpoint usage", "QuotaCode": "L-P4DE", "Value": 0.0},
    ]
    session.stub("service-quotas").add_response(
        "list_service_quotas", {"Quotas": quotas}, {"ServiceCode": "sagemaker"}
    )
    checks = account_checks.check_quotas(session, settings({"p4d": pools}), REGION)
    assert [(c.name, c.status) for c in checks] == [
        ("quota p4d", "PASS"),
        ("quota p4d pool 2", "WARN"),
        ("quota p4d pool 3", "WARN"),
    ]
    assert "--quota-code L-P4DE --desired-value 2" in checks[1].fix
    assert "ml.p5.48xlarge for endpoint usage" in checks[2].detail


def test_a_neuron_vllm_endpoint_needs_the_export_jobs_training_quota_too():
    inf2 = endpoint(
        "ml.inf2.48xlarge",
        volume_size_gb=512,
        serving={"engine": "neuron_vllm", "tensor_parallel_degree": 24, "max_model_len": 8192,
                 "max_concurrent_sequences": 4},
    )  # fmt: skip
    session = FakeSession()
    quotas = [
        {"QuotaName": "ml.inf2.48xlarge for endpoint usage", "QuotaCode": "L-INF2", "Value": 1.0},
        {"QuotaName": "ml.trn1.32xlarge for training job usage", "QuotaCode": "L-TRN1",
         "Value": 0.0},
    ]  # fmt: skip
    session.stub("service-quotas").add_response(
        "list_service_quotas", {"Quotas": quotas}, {"ServiceCode": "sagemaker"}
    )
    checks = account_checks.check_quotas(session, settings({"inf2": inf2}), REGION)
    assert [(c.name, c.status) for c in checks] == [
        ("quota inf2", "PASS"),
        ("quota inf2 export", "WARN"),
    ]
    assert "'ml.trn1.32xlarge for training job usage' = 0 < make neuron-export needs 1" in (
        checks[1].detail
    )
    assert checks[1].fix.endswith("--quota-code L-TRN1 --desired-value 1 --region us-east-1`.")


def test_quota_missing_in_region_fails():
    session = FakeSession()
    session.stub("service-quotas").add_response("list_service_quotas", {"Quotas": []})
    [check] = account_checks.check_quotas(session, settings(), REGION)
    assert check.status == "FAIL" and "may not be offered" in check.detail


def test_empty_model_prefix_fails_with_upload_hint():
    session = FakeSession()
    stub_artifacts(session, draft_keys=0)
    checks = preflight.check_artifacts(session, settings())
    assert [c.status for c in checks] == ["PASS", "FAIL"]
    assert DRAFT in checks[1].detail and "aws s3 sync" in checks[1].fix


def test_missing_bucket_fails():
    session = FakeSession()
    for _ in range(2):
        session.stub("s3").add_client_error("list_objects_v2", "NoSuchBucket", "no bucket")
    checks = preflight.check_artifacts(session, settings())
    assert all(c.status == "FAIL" and "NoSuchBucket" in c.detail for c in checks)


def test_image_in_another_region_fails():
    other = IMAGE.replace("us-east-1", "eu-west-1")
    endpoints = {"p4d": endpoint(serving={"engine": "vllm", "image_uri": other})}
    [check] = preflight.check_images(settings(endpoints), REGION)
    assert check.status == "FAIL" and "is in eu-west-1" in check.detail
    assert "workbench.environments.dev.endpoints.p4d.serving.image_uri" in check.fix


def test_no_endpoints_configured_is_reported_not_failed(stacks):
    session = FakeSession()
    stub_identity(session)
    stub_bootstrap(session)
    checks = by_name(preflight.run_checks(session, settings(endpoints={}), stacks))
    assert checks["endpoints"].status == "SKIP"
    assert all(c.status != "FAIL" for c in checks.values())


def test_endpoints_come_from_the_typed_config():
    loaded = settings()
    assert [e.key for e in preflight.enabled_endpoints(loaded)] == ["p4d"]
    [p4d] = preflight.enabled_endpoints(loaded)
    assert (p4d.instance_type, p4d.max_capacity) == ("ml.p4d.24xlarge", 2)


def test_a_config_error_is_one_line_usage_error(capsys, monkeypatch):
    bad = {"p4d": endpoint(scaling={"max_capacity": 3})}  # max_capacity is not a scaling key
    with pytest.raises(preflight.OperatorError) as error:
        settings(bad)
    assert str(error.value).startswith("config workbench.environments.dev.endpoints.p4d.scaling")
    assert "\n" not in str(error.value)
    monkeypatch.setattr(preflight, "load_settings", lambda env: settings(bad))
    assert preflight.main(["--env", "dev"], session=FakeSession()) == 2
    assert capsys.readouterr().err.startswith("error: config workbench.environments.dev.")


def test_settings_of_the_checked_in_config_load():
    loaded = preflight.load_settings("dev")
    assert loaded.parameter_prefix == "/genai-opt/dev"


def test_unknown_env_and_bad_flags_are_usage_errors(capsys):
    assert preflight.main(["--env", "staging"], session=FakeSession()) == 2
    assert "allowed: dev, prod" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        preflight.main(["--envv", "dev"])
    assert exit_info.value.code == 2


KEY_PREFIX_ENDPOINTS = {
    "p4d": endpoint(
        model={"s3_key_prefix": "models/meta-llama-3-70b/"},
        serving={
            "engine": "vllm",
            "speculative_decoding": {
                "method": "draft_model",
                "model": {
                    "s3_uri": "s3://jumpstart-cache-prod-{region}/drafts/",
                    "jumpstart": True,
                },
            },
        },
    )
}


STORAGE_RECORD = {
    "region": REGION,
    "artifacts_bucket": "genai-artifacts",
    "inference_bucket": "genai-inference",
    "kms_key_arn": f"arn:aws:kms:{REGION}:111122223333:key/k",
}


def test_key_prefixes_resolve_in_the_artifacts_bucket_and_region_placeholders():
    session = FakeSession()
    session.stub("ssm").add_response(
        "get_parameter",
        {"Parameter": {"Value": json.dumps(STORAGE_RECORD)}},
        {"Name": "/genai-opt/dev/deployment/storage"},
    )
    s3 = session.stub("s3")
    s3.add_response(
        "list_objects_v2",
        {"KeyCount": 1},
        {"Bucket": "genai-artifacts", "Prefix": "models/meta-llama-3-70b/", "MaxKeys": 1},
    )
    s3.add_response(
        "list_objects_v2",
        {"KeyCount": 1},
        {"Bucket": "jumpstart-cache-prod-us-east-1", "Prefix": "drafts/", "MaxKeys": 1},
    )
    checks = preflight.check_artifacts(session, settings(KEY_PREFIX_ENDPOINTS), REGION)
    session.assert_no_pending_responses()
    assert [(c.status, c.name) for c in checks] == [
        ("PASS", "artifacts p4d.model.s3_key_prefix"),
        ("PASS", "artifacts p4d.serving.speculative_decoding.model.s3_uri"),
    ]
    assert preflight.check_images(settings(KEY_PREFIX_ENDPOINTS), REGION) == []


def test_key_prefix_without_a_deployed_storage_stack_says_deploy_it_first():
    session = FakeSession()
    session.stub("ssm").add_client_error("get_parameter", "ParameterNotFound", "missing")
    session.stub("s3").add_response("list_objects_v2", {"KeyCount": 1})
    checks = preflight.check_artifacts(session, settings(KEY_PREFIX_ENDPOINTS), REGION)
    assert checks[0].status == "FAIL" and "Deploy the Storage stack first" in checks[0].fix


def test_image_uri_with_region_placeholder_follows_the_deploy_region():
    uri = IMAGE.replace("us-east-1", "{region}")
    endpoints = {"p4d": endpoint(serving={"engine": "vllm", "image_uri": uri})}
    [check] = preflight.check_images(settings(endpoints), "eu-west-1")
    assert check.status == "PASS"


def session_region(region, config):
    args = preflight.parse_args([] if region is None else ["--region", region])
    return preflight.aws_session(args, config).region_name


def test_region_comes_from_flag_then_config_then_aws_region(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert session_region("us-west-2", settings(region=REGION)) == "us-west-2"
    assert session_region(None, settings(region=REGION)) == REGION
    assert session_region(None, settings()) == "eu-west-1"


def test_unknown_profile_is_an_operator_error(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    args = preflight.parse_args(["--profile", "no-such-profile"])
    with pytest.raises(preflight.OperatorError, match="no-such-profile"):
        preflight.aws_session(args, settings())


def test_quota_listing_denied_fails_with_the_permission():
    session = FakeSession()
    session.stub("service-quotas").add_client_error("list_service_quotas", "AccessDeniedException")
    [check] = account_checks.check_quotas(session, settings(), REGION)
    assert check.status == "FAIL" and "servicequotas:ListServiceQuotas" in check.fix


def test_artifacts_listing_denied_names_the_bucket_to_allow():
    session = FakeSession()
    for _ in range(2):
        session.stub("s3").add_client_error("list_objects_v2", "AccessDenied", "denied")
    checks = preflight.check_artifacts(session, settings())
    assert [c.status for c in checks] == ["FAIL", "FAIL"]
    assert "Allow s3:ListBucket on models-bucket" in checks[0].fix


@pytest.mark.parametrize(
    ("status", "words", "fix"),
    [
        (None, "not a cost allocation tag yet", "After the first deploy"),
        ("Inactive", "workbench-deployment is Inactive: the budget counts $0", "Activate it"),
    ],
)
def test_an_inactive_or_unknown_cost_tag_warns_with_the_command_that_activates_it(
    status, words, fix
):
    session = FakeSession()
    stub_cost_tag(session, status)
    check = account_checks.check_cost_tag(session)
    assert check.status == "WARN" and words in check.detail
    assert fix in check.fix
    assert (
        "aws ce update-cost-allocation-tags-status --region us-east-1 "
        "--cost-allocation-tags-status TagKey=workbench-deployment,Status=Active"
    ) in check.fix


def test_cost_explorer_denied_warns_with_the_permission():
    session = FakeSession()
    session.stub("ce").add_client_error("list_cost_allocation_tags", "AccessDeniedException")
    check = account_checks.check_cost_tag(session)
    assert check.status == "WARN" and "ce:ListCostAllocationTags" in check.fix


def test_a_warning_does_not_fail_the_preflight(stacks, capsys, monkeypatch):
    session = FakeSession()
    ready_account(session, cost_tag={"status": None})
    monkeypatch.setattr(preflight, "load_settings", lambda env: settings())
    code = preflight.main(["--assembly", str(stacks[0].path.parent.parent)], session=session)
    out = capsys.readouterr().out
    assert code == 0
    assert "WARN  cost tag" in out and "Warnings (the deploy can go ahead):" in out


LAUNCHER = {
    "Resources": {
        "Launcher": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"ReservedConcurrentExecutions": 2},
        }
    }
}


@pytest.mark.parametrize(
    ("limit", "status", "words"),
    [
        (1000, "PASS", "account concurrency 1000, 2 reserved by the templates"),
        (10, "FAIL", "reserving 2 would leave 8 unreserved, below Lambda's minimum of 100"),
    ],
)
def test_the_account_must_afford_the_launcher_s_reserved_concurrency(
    tmp_path, limit, status, words
):
    stacks = preflight.read_assembly(
        write_assembly(tmp_path / "cdk.out", {"Optimization": LAUNCHER})
    )
    session = FakeSession()
    session.stub("lambda").add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": limit}},
        {},
    )
    check = account_checks.check_lambda_concurrency(session, stacks)
    assert check.status == status and words in check.detail
    if status == "FAIL":
        assert "Concurrent executions" in check.fix


def test_a_fallback_pools_own_model_is_checked_like_the_endpoints(config_context):
    from workbench.common import model_locations
    from workbench_config import load_config

    chat = config_context["environments"]["dev"]["endpoints"]["chat"]
    chat.update(
        fallback_instance_types=["ml.g6e.12xlarge"],
        pool_overrides={"ml.g6e.12xlarge": {"model": {"s3_key_prefix": "optimized/g6e/"}}},
    )
    endpoint = load_config(config_context, "dev").endpoints["chat"]
    located = dict(model_locations(endpoint))
    assert located["pool_overrides['ml.g6e.12xlarge'].model.s3_key_prefix"].key_prefix == (
        "optimized/g6e/"
    )
