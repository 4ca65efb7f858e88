"""The Optimization stack: roles, Lambdas, topic, workflow, as synthesized for dev and prod."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest
from aws_cdk.assertions import Match, Template

from features.optimization.optimization_launcher import POWERTOOLS_LAYER_VERSION
from tests.conftest import SynthesizedApp, expanded_workbench
from tests.unit.stacks.optimization_templates import (
    ACCOUNT,
    JOB_LOGS_AND_METRICS,
    PROJECT_KEY_ARN,
    REGION,
    actions,
    by_sid,
    only,
    placeholder,
    resources,
    role_statements,
    state_machine_definition,
    successors,
)

PARTITION = {"Ref": "AWS::Partition"}
REGION_REF = {"Ref": "AWS::Region"}
ACCOUNT_REF = {"Ref": "AWS::AccountId"}
JOBS_ARN = {
    "Fn::Join": [
        "",
        ["arn:", PARTITION, ":sagemaker:", REGION_REF, ":", ACCOUNT_REF, ":optimization-job/*"],
    ]
}

LAUNCHER, RECORDER = "launcher_function.handler.handler", "launcher_function.recorder.handler"


@pytest.fixture(scope="module")
def stack(dev: SynthesizedApp):
    return dev.stage.optimization


@pytest.fixture(scope="module")
def template(dev: SynthesizedApp, stack) -> Template:
    return dev.template(stack)


@pytest.fixture(scope="module")
def others(dev: SynthesizedApp) -> dict[str, dict]:
    """Templates a cross-stack reference of the Optimization stack may read, by stack name."""
    storage = dev.stage.storage
    return {storage.stack_name: dev.template(storage).to_json()}


def logical_id(stack, construct) -> str:
    return stack.get_logical_id(construct.node.default_child)


def rendered(template: Template, others: dict, value) -> str:
    return placeholder(value, template.to_json(), others)


def function(template: Template, handler: str) -> dict:
    found = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == handler
    ]
    assert len(found) == 1
    return found[0]["Properties"]


def function_role_id(template: Template, handler: str) -> str:
    return function(template, handler)["Role"]["Fn::GetAtt"][0]


# --- roles ---------------------------------------------------------------------------------


def test_no_role_has_a_managed_policy(template: Template):
    for role in resources(template, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_job_role_is_assumed_by_sagemaker_only(stack, template: Template):
    role = resources(template, "AWS::IAM::Role")[logical_id(stack, stack.job_role)]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
        }
    ]


def test_job_role_statements_are_exactly_the_scoped_ones(stack, template: Template, others):
    statements = role_statements(template, logical_id(stack, stack.job_role))
    # Statements of ours by Sid; aws-cdk-lib's ECR pull grant (no Sid) by its actions.
    summary = {
        s.get("Sid", " ".join(sorted(actions(s)))): {
            "actions": actions(s),
            "resources": sorted(
                rendered(template, others, r)
                for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
            ),
            "condition": s.get("Condition"),
        }
        for s in statements
    }
    bucket = "arn:aws:s3:::artifactsbucket88671897"
    assert summary == {
        "ListModelSources": {
            "actions": {"s3:ListBucket", "s3:GetBucketLocation"},
            "resources": sorted(
                [
                    bucket,
                    f"arn:aws:s3:::jumpstart-cache-prod-{REGION}",
                    f"arn:aws:s3:::jumpstart-private-cache-prod-{REGION}",
                ]
            ),
            "condition": None,
        },
        "ReadModelSources": {
            "actions": {"s3:GetObject"},
            "resources": sorted(
                [
                    f"{bucket}/*",
                    f"arn:aws:s3:::jumpstart-cache-prod-{REGION}/*",
                    f"arn:aws:s3:::jumpstart-private-cache-prod-{REGION}/*",
                ]
            ),
            "condition": None,
        },
        "WriteOptimizedModels": {
            "actions": {"s3:PutObject", "s3:AbortMultipartUpload"},
            "resources": [f"{bucket}/optimized/*"],
            "condition": None,
        },
        "UseProjectKey": {
            "actions": {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"},
            "resources": [
                f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            ],
            "condition": None,
        },
        **JOB_LOGS_AND_METRICS,
        "ecr:GetAuthorizationToken": {
            "actions": {"ecr:GetAuthorizationToken"},
            "resources": ["*"],
            "condition": None,
        },
        "ecr:BatchCheckLayerAvailability ecr:BatchGetImage ecr:GetDownloadUrlForLayer": {
            "actions": {
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            },
            # The jobs' DJL images, and the vLLM Neuron image `make neuron-export` runs.
            "resources": [
                f"arn:aws:ecr:{REGION}:763104351884:repository/djl-inference",
                f"arn:aws:ecr:{REGION}:763104351884:repository/huggingface-vllm-inference-neuronx",
            ],
            "condition": None,
        },
    }


def test_launcher_role_creates_jobs_of_this_account_and_region_only(template: Template):
    statements = role_statements(template, function_role_id(template, LAUNCHER))
    launch = by_sid(statements)["LaunchOptimizationJobs"]
    assert actions(launch) == {
        "sagemaker:CreateOptimizationJob",
        "sagemaker:DescribeOptimizationJob",
        "sagemaker:AddTags",
    }
    assert launch["Resource"] == JOBS_ARN
    everything = set().union(*(actions(s) for s in statements))
    assert everything == {
        "sagemaker:CreateOptimizationJob",
        "sagemaker:DescribeOptimizationJob",
        "sagemaker:AddTags",
        "iam:PassRole",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


def test_launcher_passes_only_the_job_role_and_only_to_sagemaker(stack, template: Template):
    statements = role_statements(template, function_role_id(template, LAUNCHER))
    assert by_sid(statements)["PassJobRoleToSageMaker"] == {
        "Sid": "PassJobRoleToSageMaker",
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": {"Fn::GetAtt": [logical_id(stack, stack.job_role), "Arn"]},
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    }


def test_recorder_role_writes_results_files_and_notifications_only(
    stack, template: Template, others
):
    statements = by_sid(role_statements(template, function_role_id(template, RECORDER)))
    assert set(statements) == {
        "WriteJobResults",
        "WriteResultFiles",
        "UseProjectKey",
        "NotifyJobTopic",
    }
    parameter = rendered(template, others, statements["WriteJobResults"]["Resource"])
    assert (
        parameter
        == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/genai-opt/dev/optimization-results/*"
    )
    assert actions(statements["WriteJobResults"]) == {"ssm:PutParameter"}
    result_files = placeholder(
        statements["WriteResultFiles"]["Resource"], template.to_json(), others
    )
    assert result_files == "arn:aws:s3:::artifactsbucket88671897/optimized/*"
    assert actions(statements["UseProjectKey"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert statements["NotifyJobTopic"]["Resource"] == {"Ref": logical_id(stack, stack.job_topic)}


def test_workflow_role_describes_and_stops_jobs_of_this_account_and_region(template: Template):
    _, machine = only(template, "AWS::StepFunctions::StateMachine")
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    jobs = [
        s
        for s in role_statements(template, role_id)
        if "sagemaker:StopOptimizationJob" in actions(s)
    ]
    assert len(jobs) == 1
    assert actions(jobs[0]) == {
        "sagemaker:DescribeOptimizationJob",
        "sagemaker:StopOptimizationJob",
    }
    assert jobs[0]["Resource"] == JOBS_ARN


# --- Lambda functions ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def lambda_settings():
    """The Lambda's own `settings` module."""
    from features.optimization.launcher_function import settings

    return settings


def test_launcher_environment_satisfies_the_lambda_settings(
    template: Template, others, lambda_settings
):
    """The synthesized variables, with placeholders for tokens, load in the Lambda's settings."""
    variables = function(template, LAUNCHER)["Environment"]["Variables"]
    environ = {k: placeholder(v, template.to_json(), others) for k, v in variables.items()}
    loaded = lambda_settings.load_launcher_settings(environ)
    assert loaded.output_prefix == "optimized/"
    assert (loaded.project_name, loaded.env_name) == ("genai-opt", "dev")
    dlc = f"763104351884.dkr.ecr.{REGION}.amazonaws.com/djl-inference"
    assert (loaded.lmi_image_uri, loaded.trtllm_image_uri, loaded.neuron_image_uri) == (
        f"{dlc}:0.31.0-lmi13.0.0-cu124",
        f"{dlc}:0.32.0-tensorrtllm0.12.0-cu125",
        f"{dlc}:0.29.0-neuronx-sdk2.19.1",
    )
    assert set(variables) == {
        "JOB_ROLE_ARN",
        "ARTIFACTS_BUCKET",
        "OUTPUT_PREFIX",
        "KMS_KEY_ARN",
        "PROJECT_NAME",
        "ENV_NAME",
        "LMI_IMAGE_URI",
        "TRTLLM_IMAGE_URI",
        "NEURON_IMAGE_URI",
        "POWERTOOLS_LOG_LEVEL",
    }


def test_recorder_environment_satisfies_the_lambda_settings(
    template: Template, others, lambda_settings
):
    variables = function(template, RECORDER)["Environment"]["Variables"]
    environ = {k: placeholder(v, template.to_json(), others) for k, v in variables.items()}
    loaded = lambda_settings.load_recorder_settings(environ)
    assert loaded.results_parameter_prefix == "/genai-opt/dev/optimization-results"
    assert set(variables) == {
        "RESULTS_PARAMETER_PREFIX",
        "JOB_TOPIC_ARN",
        "KMS_KEY_ARN",
        "POWERTOOLS_LOG_LEVEL",
    }


@pytest.mark.parametrize("handler", [LAUNCHER, RECORDER])
def test_functions_use_powertools_and_the_boto3_layer(template: Template, handler: str):
    props = function(template, handler)
    assert (props["Runtime"], props["Architectures"]) == ("python3.14", ["arm64"])
    layer_id, layer = only(template, "AWS::Lambda::LayerVersion")
    powertools = {
        "Fn::Join": [
            "",
            [
                "arn:",
                PARTITION,
                ":lambda:",
                REGION_REF,
                ":017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:"
                f"{POWERTOOLS_LAYER_VERSION}",
            ],
        ]
    }
    assert sorted(map(str, props["Layers"])) == sorted(map(str, [{"Ref": layer_id}, powertools]))
    assert layer["Properties"]["CompatibleRuntimes"] == [props["Runtime"]]


@pytest.mark.parametrize("handler", [LAUNCHER, RECORDER])
def test_functions_log_to_their_own_encrypted_group(template: Template, others, handler: str):
    group_id = function(template, handler)["LoggingConfig"]["LogGroup"]["Ref"]
    group = resources(template, "AWS::Logs::LogGroup")[group_id]["Properties"]
    assert group["RetentionInDays"] == 30
    assert rendered(template, others, group["KmsKeyId"]) == PROJECT_KEY_ARN


def test_prod_keeps_logs_a_year(prod: SynthesizedApp):
    groups = resources(prod.template(prod.stage.optimization), "AWS::Logs::LogGroup")
    assert len(groups) == 3
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {365}


# --- topic -----------------------------------------------------------------------------------


def test_job_topic_is_encrypted_with_the_project_key_and_tls_only(template: Template, others):
    topic_id, topic = only(template, "AWS::SNS::Topic")
    assert rendered(template, others, topic["Properties"]["KmsMasterKeyId"]) == PROJECT_KEY_ARN
    _, policy = only(template, "AWS::SNS::TopicPolicy")
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    assert {
        "Action": "sns:Publish",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": "*",
        "Resource": {"Ref": topic_id},
        "Sid": "AllowPublishThroughSSLOnly",
    } in policy["Properties"]["PolicyDocument"]["Statement"]


# --- state machine ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def definition(template: Template, others) -> dict:
    return state_machine_definition(template, others)


def test_states_run_launch_wait_describe_choice_in_order(definition: dict):
    states = definition["States"]
    path, name = [], definition["StartAt"]
    while name != "JobStatus":  # the main line, up to the status choice
        path.append(name)
        state = states[name]
        name = state.get("Default") or state["Next"]
    assert path == ["Accept", "CheckRuntime", "Launch", "StartPolling", "WaitForJob", "DescribeJob"]
    status = {
        "|".join(rule["StringEquals"] for rule in choice.get("Or", [choice])): choice["Next"]
        for choice in states["JobStatus"]["Choices"]
    }
    assert status == {"COMPLETED": "RecordResult", "FAILED|STOPPED": "RecordFailure"}
    assert states["RecordResult"]["Next"] == "Succeeded"
    assert states["RecordFailure"]["Next"] == "JobFailed"
    assert states["JobStatus"]["Default"] == "WithinTimeLimit"
    assert successors(states["WithinTimeLimit"]) == ["StopJob", "CountPoll"]
    assert states["CountPoll"]["Next"] == "WaitForJob"
    assert states["StopJob"]["Next"] == "NotifyTimedOut" == states["StopJob"]["Catch"][0]["Next"]
    assert states["NotifyTimedOut"]["Next"] == "TimedOut"
    assert {n: states[n]["Type"] for n in ("Succeeded", "JobFailed", "TimedOut")} == {
        "Succeeded": "Succeed",
        "JobFailed": "Fail",
        "TimedOut": "Fail",
    }


def test_every_state_is_reachable(definition: dict):
    seen, todo = set(), [definition["StartAt"]]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += successors(definition["States"][name])
    assert seen == set(definition["States"])


def test_refused_requests_fail_with_the_launcher_message(definition: dict):
    states = definition["States"]
    assert states["Launch"]["Catch"] == [
        {"ErrorEquals": ["ValidationError"], "ResultPath": "$.error", "Next": "ReadRefusal"}
    ]
    assert states["ReadRefusal"]["Parameters"] == {
        "message.$": "States.StringToJson($.error.Cause)"
    }
    assert states["RequestRefused"] == {
        "Type": "Fail",
        "Error": "ValidationError",
        "CausePath": "$.refusal.message.errorMessage",
    }


def test_launch_sends_the_request_and_keeps_the_job(definition: dict, template, others, stack):
    launch = definition["States"]["Launch"]
    assert launch["Resource"] == "arn:aws:states:::lambda:invoke"
    assert launch["Parameters"]["Payload.$"] == "$.request"
    launcher_arn = stack.resolve(stack.launcher_function.function_arn)
    assert launch["Parameters"]["FunctionName"] == rendered(template, others, launcher_arn)
    assert launch["ResultPath"] == "$.launch"


def test_describe_uses_the_sdk_integration_on_the_launched_job(definition: dict):
    describe = definition["States"]["DescribeJob"]
    assert describe["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:describeOptimizationJob"
    assert describe["Parameters"] == {"OptimizationJobName.$": "$.launch.job_name"}
    assert describe["ResultPath"] == "$.job"
    assert describe["Retry"][0]["ErrorEquals"] == ["States.ALL"]
    assert definition["States"]["JobStatus"]["Choices"][0]["Variable"] == (
        "$.job.OptimizationJobStatus"
    )


def test_recorder_gets_the_job_name_and_the_description(definition: dict):
    for name in ("RecordResult", "RecordFailure"):
        assert definition["States"][name]["Parameters"]["Payload"] == {
            "job_name.$": "$.launch.job_name",
            "job.$": "$.job",
        }
    assert definition["States"]["RecordResult"]["OutputPath"] == "$.Payload"


def test_timing_follows_the_config(dev: SynthesizedApp, definition: dict):
    raw = expanded_workbench(dev.app.node.try_get_context("workbench"))["environments"]["dev"][
        "optimization"
    ]
    states = definition["States"]
    poll, hours = raw["poll_seconds"], raw["workflow_timeout_hours"]
    assert states["WaitForJob"]["Seconds"] == poll
    assert states["UseDefaultRuntime"]["Result"] == raw["max_runtime_seconds"]
    limit = hours * 3600 - 3600
    assert states["CheckRuntime"]["Choices"][1]["And"][1]["NumericGreaterThan"] == limit
    assert states["WithinTimeLimit"]["Choices"][0]["NumericGreaterThanEquals"] == math.ceil(
        hours * 3600 / poll
    )
    assert definition["TimeoutSeconds"] == hours * 3600 + poll + 900


def test_state_machine_logs_everything_and_traces(template: Template, others):
    _, machine = only(template, "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    group_id = props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"][
        "LogGroupArn"
    ]["Fn::GetAtt"][0]
    group = resources(template, "AWS::Logs::LogGroup")[group_id]["Properties"]
    assert rendered(template, others, group["KmsKeyId"]) == PROJECT_KEY_ARN
    assert group["RetentionInDays"] == 30


# --- discovery -------------------------------------------------------------------------------


def test_publishes_its_deployment_record(template: Template):
    template.has_resource_properties(
        "AWS::SSM::Parameter",
        {
            "Name": "/genai-opt/dev/deployment/optimization",
            "Value": {
                "Fn::Join": [
                    "",
                    Match.array_with(
                        [
                            Match.string_like_regexp('"state_machine_arn":'),
                        ]
                    ),
                ]
            },
        },
    )


def test_deployment_record_holds_the_documented_keys(template: Template, others):
    parameters = resources(template, "AWS::SSM::Parameter")
    (record,) = [
        p for p in parameters.values() if p["Properties"]["Name"].endswith("/optimization")
    ]
    document = json.loads(placeholder(record["Properties"]["Value"], template.to_json(), others))
    assert set(document) == {
        "state_machine_arn",
        "launcher_function_name",
        "job_topic_arn",
        "results_parameter_prefix",
        "job_role_arn",
        "measurement_role_arn",
        "job_defaults",
    }
    assert set(document["job_defaults"]) == {
        "artifacts_bucket",
        "output_prefix",
        "lmi_image_uri",
        "trtllm_image_uri",
        "neuron_image_uri",
    }
    assert document["results_parameter_prefix"] == "/genai-opt/dev/optimization-results"


def test_outputs_name_what_users_need(template: Template):
    assert {
        "StateMachineArn",
        "LauncherFunctionName",
        "JobTopicArn",
        "JobRoleArn",
        "ResultsParameterPrefix",
    } <= set(template.find_outputs("*"))


def test_project_key_lets_cloudwatch_logs_encrypt_this_accounts_log_groups(dev: SynthesizedApp):
    """Without this statement a log group with KmsKeyId fails to create."""
    (key,) = resources(dev.template(dev.stage.storage), "AWS::KMS::Key").values()
    statements = by_sid(key["Properties"]["KeyPolicy"]["Statement"])
    logs = statements["AllowCloudWatchLogsOfThisAccount"]
    assert logs["Principal"] == {
        "Service": {"Fn::Join": ["", ["logs.", REGION_REF, ".", {"Ref": "AWS::URLSuffix"}]]}
    }
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": {
                "Fn::Join": [
                    "",
                    ["arn:", PARTITION, ":logs:", REGION_REF, ":", ACCOUNT_REF, ":log-group:*"],
                ]
            }
        }
    }


def test_the_notebook_role_starts_and_follows_this_workflow(dev: SynthesizedApp, stack):
    workspace = dev.template(dev.stage.workspace)
    others = {stack.stack_name: dev.template(stack).to_json()}
    statements = by_sid(
        [
            statement
            for policy in resources(workspace, "AWS::IAM::Policy").values()
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
    )
    machine = logical_id(stack, stack.state_machine)
    start = rendered(workspace, others, statements["StartOptimizationWorkflow"]["Resource"])
    assert start == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{machine}"
    follow = statements["FollowOptimizationWorkflow"]
    assert actions(follow) == {"states:DescribeExecution", "states:GetExecutionHistory"}


def test_sdk_tasks_call_real_operations_with_their_input_members(definition: dict):
    # Step Functions' AWS SDK integrations are named `aws-sdk:<service>:<camelCase operation>`
    # and take the operation's request members; botocore's model is the reference for both.
    loader = botocore.session.get_session().get_component("data_loader")
    sdk_tasks = {
        name: state
        for name, state in definition["States"].items()
        if state.get("Resource", "").startswith("arn:aws:states:::aws-sdk:")
    }
    assert set(sdk_tasks) >= {"DescribeJob", "StopJob"}
    for name, state in sdk_tasks.items():
        service, action = state["Resource"].removeprefix("arn:aws:states:::aws-sdk:").split(":")
        model = loader.load_service_model(service, "service-2")
        operation = action[0].upper() + action[1:]
        assert operation in model["operations"], (name, action)
        shape = model["shapes"][model["operations"][operation]["input"]["shape"]]
        given = {key.removesuffix(".$") for key in state.get("Parameters", {})}
        assert given <= set(shape["members"]), (name, given - set(shape["members"]))
        assert set(shape.get("required", [])) <= given, (name, shape.get("required"))


def test_status_choice_uses_the_api_status_values(definition: dict):
    def compared(node):
        if isinstance(node, dict):
            if node.get("Variable") == "$.job.OptimizationJobStatus":
                yield node["StringEquals"]
            for value in node.values():
                yield from compared(value)
        elif isinstance(node, list):
            for value in node:
                yield from compared(value)

    loader = botocore.session.get_session().get_component("data_loader")
    statuses = loader.load_service_model("sagemaker", "service-2")["shapes"][
        "OptimizationJobStatus"
    ]["enum"]
    values = set(compared(definition["States"]["JobStatus"]))
    assert values == {"COMPLETED", "FAILED", "STOPPED"}
    assert values <= set(statuses)


@pytest.mark.parametrize("handler", [LAUNCHER, RECORDER])
def test_each_handler_imports_from_its_shipped_asset_alone(dev: SynthesizedApp, template, handler):
    """The asset as Lambda unpacks it: the handler's package and the domain beside it, both
    imported from the asset (not from this checkout)."""
    (resource,) = [
        r
        for r in resources(template, "AWS::Lambda::Function").values()
        if r["Properties"].get("Handler") == handler
    ]
    # The code's S3 key is the asset's hash; the assembly holds the asset as `asset.<hash>`.
    digest = resource["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    asset = Path(dev.assembly.directory) / f"asset.{digest}"
    module, _, attribute = handler.rpartition(".")
    code = (
        f"import sys; sys.path.insert(0, '.'); import {module} as m, workbench_domain as d; "
        f"assert callable(m.{attribute}); print(m.__file__); print(d.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=asset, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert all(Path(line).is_relative_to(asset) for line in done.stdout.split())
