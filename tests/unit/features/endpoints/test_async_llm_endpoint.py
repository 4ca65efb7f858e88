"""AsyncLlmEndpoint in a small stack of its own: every mechanism, checked on the template.

The app's real endpoints (draft model, per-environment config) are tested in
tests/unit/stacks/test_endpoint_stack.py; this module covers the construct's own variations
(CfnModel path, explicit image, S3 URI outside the app, options) without synthesizing the app.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from features.endpoints.async_llm_endpoint import AsyncLlmEndpoint
from features.endpoints.dlc_images import explicit_image
from features.endpoints.llm_endpoint import EndpointSpec
from features.endpoints.model_artifacts import ModelArtifacts
from workbench_domain.endpoint_kinds import EndpointScaling


def endpoint_of(stack: cdk.Stack, **props) -> AsyncLlmEndpoint:
    """The construct from one flat set of settings: the spec's, and the async kind's own."""
    own = {
        name: props.pop(name)
        for name in ("key", "inference_bucket", "max_concurrent_invocations_per_instance")
    }
    if props.get("scaling") is None:
        props.pop("scaling", None)
    return AsyncLlmEndpoint(stack, "Endpoint", spec=EndpointSpec(**props), **own)


def build(scaling: EndpointScaling | None = None, **overrides) -> tuple[cdk.Stack, dict]:
    stack = cdk.Stack(cdk.App(), "Test")
    key = kms.Key(stack, "Key")
    artifacts = s3.Bucket(stack, "Artifacts")
    inference = s3.Bucket(stack, "Inference")
    props = {
        "endpoint_key": "test",
        "instance_type": "ml.inf2.48xlarge",
        "image": explicit_image(
            "763104351884.dkr.ecr.{region}.amazonaws.com/djl-inference:0.29.0-neuronx-sdk2.19.1"
        ),
        "model": ModelArtifacts.in_bucket(artifacts, "models/compiled/"),
        "environment": {"OPTION_TENSOR_PARALLEL_DEGREE": "24"},
        "key": key,
        "inference_bucket": inference,
        "max_capacity": 3,
        "max_concurrent_invocations_per_instance": 4,
        "volume_size_gb": 512,
        "model_data_download_timeout_seconds": 3600,
        "container_startup_health_check_timeout_seconds": 3000,
        "scaling": scaling,
    }
    props.update(overrides)
    endpoint = endpoint_of(stack, **props)
    invoker = iam.Role(stack, "Invoker", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(invoker)
    return stack, {"endpoint": endpoint, "key": key, "inference": inference, "invoker": invoker}


@pytest.fixture(scope="module")
def built():
    stack, parts = build()
    return Template.from_stack(stack), stack, parts


@pytest.fixture(scope="module")
def template(built) -> Template:
    return built[0]


def lid(stack: cdk.Stack, construct) -> str:
    node = getattr(construct, "node", construct)
    child = node.default_child if node.default_child is not None else construct
    return stack.resolve(child.logical_id)


def endpoint_name_ref(built) -> dict:
    _, stack, parts = built
    return {"Fn::GetAtt": [lid(stack, parts["endpoint"].endpoint), "EndpointName"]}


def resources(template: Template, kind: str) -> dict:
    return template.find_resources(kind)


def only(template: Template, kind: str) -> dict:
    found = list(resources(template, kind).values())
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]["Properties"]


# -- model, endpoint config, endpoint ---------------------------------------------------------


def test_model_reads_an_uncompressed_s3_prefix_with_network_isolation(template):
    model = only(template, "AWS::SageMaker::Model")
    assert model["EnableNetworkIsolation"] is True
    assert "ModelName" not in model
    container = model["PrimaryContainer"]
    source = container["ModelDataSource"]["S3DataSource"]
    assert source["S3DataType"] == "S3Prefix"
    assert source["CompressionType"] == "None"
    assert "ModelAccessConfig" not in source  # accept_eula defaults to False
    assert source["S3Uri"]["Fn::Join"][1][-1] == "/models/compiled/"
    assert container["Environment"] == {"OPTION_TENSOR_PARALLEL_DEGREE": "24"}


def test_explicit_image_uri_takes_the_deployment_region(template):
    image = only(template, "AWS::SageMaker::Model")["PrimaryContainer"]["Image"]
    assert image == {
        "Fn::Join": [
            "",
            [
                "763104351884.dkr.ecr.",
                {"Ref": "AWS::Region"},
                ".amazonaws.com/djl-inference:0.29.0-neuronx-sdk2.19.1",
            ],
        ]
    }


def test_gated_model_accepts_the_eula_and_external_uri_is_readable():
    stack, _ = build(
        model=ModelArtifacts.at_uri(
            "s3://jumpstart-private-cache-prod-{region}/meta/llama/", accept_eula=True
        )
    )
    template = Template.from_stack(stack)
    source = only(template, "AWS::SageMaker::Model")["PrimaryContainer"]["ModelDataSource"]
    assert source["S3DataSource"]["ModelAccessConfig"] == {"AcceptEula": True}
    assert source["S3DataSource"]["S3Uri"] == {
        "Fn::Join": [
            "",
            ["s3://jumpstart-private-cache-prod-", {"Ref": "AWS::Region"}, "/meta/llama/"],
        ]
    }
    statements = execution_policy(template)
    assert {
        "Action": "s3:ListBucket",
        "Condition": {"StringLike": {"s3:prefix": ["meta/llama/*"]}},
        "Effect": "Allow",
        "Resource": {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":s3:::jumpstart-private-cache-prod-",
                    {"Ref": "AWS::Region"},
                ],
            ]
        },
    } in statements


def test_variant_starts_with_one_instance_and_the_llm_timeouts(built, template):
    _, stack, parts = built
    config = only(template, "AWS::SageMaker::EndpointConfig")
    assert "EndpointConfigName" not in config
    (variant,) = config["ProductionVariants"]
    model_id = lid(stack, parts["endpoint"].node.find_child("Model"))
    # The settings that matter; properties CDK may add by default are not this test's business.
    assert (
        variant.items()
        >= {
            "VariantName": "AllTraffic",
            "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
            "InstanceType": "ml.inf2.48xlarge",
            "InitialInstanceCount": 1,
            "InitialVariantWeight": 1,
            "VolumeSizeInGB": 512,
            "ModelDataDownloadTimeoutInSeconds": 3600,
            "ContainerStartupHealthCheckTimeoutInSeconds": 3000,
        }.items()
    )
    # An async variant is scaled by Application Auto Scaling, not by SageMaker's managed scaling.
    assert "ManagedInstanceScaling" not in variant


def test_no_volume_size_unless_given():
    stack, _ = build(instance_type="ml.g5.12xlarge", volume_size_gb=None)
    (variant,) = only(Template.from_stack(stack), "AWS::SageMaker::EndpointConfig")[
        "ProductionVariants"
    ]
    assert "VolumeSizeInGB" not in variant


def test_async_output_and_failure_paths_are_under_the_endpoint_prefix(built, template):
    _, stack, parts = built
    config = only(template, "AWS::SageMaker::EndpointConfig")
    bucket = {"Ref": lid(stack, parts["inference"])}
    key_arn = {"Fn::GetAtt": [lid(stack, parts["key"]), "Arn"]}
    output = config["AsyncInferenceConfig"]["OutputConfig"]
    assert output["S3OutputPath"] == {
        "Fn::Join": ["", ["s3://", bucket, "/endpoints/test/output/"]]
    }
    assert output["S3FailurePath"] == {
        "Fn::Join": ["", ["s3://", bucket, "/endpoints/test/failure/"]]
    }
    assert output["KmsKeyId"] == key_arn
    assert config["KmsKeyId"] == key_arn
    assert config["AsyncInferenceConfig"]["ClientConfig"] == {
        "MaxConcurrentInvocationsPerInstance": 4
    }


def test_async_notifications_go_to_the_endpoint_topics(built, template):
    _, stack, parts = built
    endpoint = parts["endpoint"]
    notification = only(template, "AWS::SageMaker::EndpointConfig")["AsyncInferenceConfig"][
        "OutputConfig"
    ]["NotificationConfig"]
    assert notification == {
        "SuccessTopic": {"Ref": lid(stack, endpoint.success_topic)},
        "ErrorTopic": {"Ref": lid(stack, endpoint.error_topic)},
    }


def test_endpoint_uses_the_generated_config_name(template):
    endpoint = only(template, "AWS::SageMaker::Endpoint")
    assert "EndpointName" not in endpoint
    assert endpoint["EndpointConfigName"]["Fn::GetAtt"][1] == "EndpointConfigName"


# -- topics -----------------------------------------------------------------------------------


def test_topics_are_encrypted_with_the_project_key_and_refuse_plain_http(built, template):
    _, stack, parts = built
    topics = resources(template, "AWS::SNS::Topic")
    assert len(topics) == 2
    for topic in topics.values():
        assert topic["Properties"]["KmsMasterKeyId"] == {
            "Fn::GetAtt": [lid(stack, parts["key"]), "Arn"]
        }
        assert "TopicName" not in topic["Properties"]
    policies = resources(template, "AWS::SNS::TopicPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s["Action"] == "sns:Publish"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_cloudwatch_may_use_the_key_to_publish_alarms_to_the_encrypted_topic(template):
    key_policy = only(template, "AWS::KMS::Key")["KeyPolicy"]["Statement"]
    assert {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Resource": "*",
    } in key_policy


# -- execution role ---------------------------------------------------------------------------


def execution_policy(template: Template) -> list[dict]:
    roles = resources(template, "AWS::IAM::Role")
    (role_id,) = [
        rid
        for rid, role in roles.items()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "sagemaker.amazonaws.com"}
    ]
    (policy,) = [
        p
        for p in resources(template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def granted_on(statements: list[dict], action: str) -> list:
    """Every resource `action` is allowed on, whether or not CDK merged the statements."""
    found = []
    for statement in statements:
        if action in actions(statement):
            resource = statement["Resource"]
            found.extend(resource if isinstance(resource, list) else [resource])
    return found


def actions(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_execution_role_has_no_managed_policy(template):
    for role in resources(template, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_execution_role_actions_are_exactly_what_hosting_needs(template):
    granted = sorted({a for s in execution_policy(template) for a in actions(s)})
    assert granted == [
        "cloudwatch:PutMetricData",
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetAuthorizationToken",
        "ecr:GetDownloadUrlForLayer",
        "kms:Decrypt",
        "kms:GenerateDataKey*",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "sns:Publish",
    ]


def test_execution_role_reads_its_model_and_inputs_writes_only_its_outputs(built, template):
    _, stack, parts = built
    statements = execution_policy(template)
    inference = {"Fn::GetAtt": [lid(stack, parts["inference"]), "Arn"]}

    def objects(bucket, prefix):
        return {"Fn::Join": ["", [bucket, prefix]]}

    readable = granted_on(statements, "s3:GetObject")
    assert len(readable) == 2
    assert objects(inference, "/endpoints/test/input/*") in readable
    assert any("/models/compiled/*" in json.dumps(r) for r in readable)
    assert sorted(map(json.dumps, granted_on(statements, "s3:PutObject"))) == sorted(
        json.dumps(objects(inference, f"/endpoints/test/{p}/*")) for p in ("failure", "output")
    )


def test_wildcards_are_only_the_acknowledged_ones(template):
    wildcard = [s for s in execution_policy(template) if s["Resource"] == "*"]
    assert sorted(a for s in wildcard for a in actions(s)) == [
        "cloudwatch:PutMetricData",
        "ecr:GetAuthorizationToken",
    ]
    (metrics,) = [s for s in wildcard if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {
        "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"]}
    }


def test_execution_role_pulls_only_the_model_image_repository(template):
    (pull,) = [s for s in execution_policy(template) if "ecr:BatchGetImage" in actions(s)]
    assert pull["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ecr:",
                {"Ref": "AWS::Region"},
                ":763104351884:repository/djl-inference",
            ],
        ]
    }


def test_execution_role_publishes_to_both_topics(built, template):
    _, stack, parts = built
    endpoint = parts["endpoint"]
    published = granted_on(execution_policy(template), "sns:Publish")
    assert sorted(r["Ref"] for r in published) == sorted(
        [lid(stack, endpoint.success_topic), lid(stack, endpoint.error_topic)]
    )


# -- scaling ----------------------------------------------------------------------------------


def policies(template: Template) -> dict[str, dict]:
    return {
        pid: p["Properties"]
        for pid, p in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").items()
    }


def test_scalable_target_goes_from_zero_to_max_after_the_endpoint(built, template):
    target = only(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["MinCapacity"] == 0
    assert target["MaxCapacity"] == 3
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert target["ServiceNamespace"] == "sagemaker"
    # The GetAtt orders the registration after the endpoint exists.
    assert target["ResourceId"] == {
        "Fn::Join": ["", ["endpoint/", endpoint_name_ref(built), "/variant/AllTraffic"]]
    }
    assert target["RoleARN"]["Fn::Join"][1][-1].endswith(
        "role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
    )


def test_target_tracking_on_backlog_per_instance_by_endpoint_name(built, template):
    (tracking,) = [
        p for p in policies(template).values() if p["PolicyType"] == "TargetTrackingScaling"
    ]
    config = tracking["TargetTrackingScalingPolicyConfiguration"]
    assert config["CustomizedMetricSpecification"] == {
        "MetricName": "ApproximateBacklogSizePerInstance",
        "Namespace": "AWS/SageMaker",
        "Dimensions": [{"Name": "EndpointName", "Value": endpoint_name_ref(built)}],
        "Statistic": "Average",
    }
    assert config["TargetValue"] == 2
    assert config["ScaleOutCooldown"] == 300
    assert config["ScaleInCooldown"] == 600
    # Scale-in is the idle policy's job by default (see AsyncLlmEndpoint).
    assert config["DisableScaleIn"] is True


def alarm_on(template: Template, metric: str) -> tuple[str, dict]:
    found = [
        (aid, a["Properties"])
        for aid, a in resources(template, "AWS::CloudWatch::Alarm").items()
        if a["Properties"].get("MetricName") == metric
    ]
    assert len(found) == 1
    return found[0]


def test_wake_alarm_needs_one_minute_of_backlog_without_capacity(built, template):
    _, alarm = alarm_on(template, "HasBacklogWithoutCapacity")
    assert alarm["Namespace"] == "AWS/SageMaker"
    assert alarm["Dimensions"] == [{"Name": "EndpointName", "Value": endpoint_name_ref(built)}]
    assert alarm["Statistic"] == "Average"
    assert alarm["Period"] == 60
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["DatapointsToAlarm"] == 1
    assert alarm["Threshold"] >= 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


def test_wake_alarm_triggers_the_single_step_policy_to_one_instance(built, template):
    _, stack, parts = built
    _, alarm = alarm_on(template, "HasBacklogWithoutCapacity")
    wake_id = lid(stack, parts["endpoint"].wake_policy)
    # Ref of a scaling policy is its ARN.
    assert alarm["AlarmActions"] == [{"Ref": wake_id}]
    wake = policies(template)[wake_id]
    assert wake["PolicyType"] == "StepScaling"
    assert wake["StepScalingPolicyConfiguration"]["StepAdjustments"] == [
        {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}
    ]
    # Exactly one instance: idempotent while CloudWatch re-invokes the action every minute.
    assert wake["StepScalingPolicyConfiguration"]["AdjustmentType"] == "ExactCapacity"


def test_idle_alarm_scales_to_zero_after_the_idle_window(built, template):
    _, stack, parts = built
    _, alarm = alarm_on(template, "ApproximateBacklogSize")
    assert alarm["Dimensions"] == [{"Name": "EndpointName", "Value": endpoint_name_ref(built)}]
    # Queued + in-flight requests, at most, per minute: < 1 for 10 minutes means nothing to cut.
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Period"] == 60
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 10
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    # A silent backlog metric means no work: it must not keep an idle instance running.
    assert alarm["TreatMissingData"] == "breaching"
    zero_id = lid(stack, parts["endpoint"].zero_policy)
    assert alarm["AlarmActions"] == [{"Ref": zero_id}]
    zero = policies(template)[zero_id]["StepScalingPolicyConfiguration"]
    assert zero["AdjustmentType"] == "ExactCapacity"
    assert zero["StepAdjustments"] == [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": 0}]
    assert zero["Cooldown"] == 600


def test_scaling_timings_come_from_the_arguments():
    stack, _ = build(
        EndpointScaling(
            target_backlog_per_instance=5,
            idle_minutes_before_zero=25,
            wake_period_seconds=120,
            wake_evaluation_periods=2,
            target_tracking_scale_in=True,
        )
    )
    template = Template.from_stack(stack)
    _, wake = alarm_on(template, "HasBacklogWithoutCapacity")
    assert (wake["Period"], wake["EvaluationPeriods"], wake["DatapointsToAlarm"]) == (120, 2, 2)
    _, idle = alarm_on(template, "ApproximateBacklogSize")
    assert idle["EvaluationPeriods"] == 25
    (tracking,) = [
        p for p in policies(template).values() if p["PolicyType"] == "TargetTrackingScaling"
    ]
    assert tracking["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 5
    assert tracking["TargetTrackingScalingPolicyConfiguration"]["DisableScaleIn"] is False


# -- monitoring -------------------------------------------------------------------------------


def test_failure_alarm_publishes_to_the_error_topic(built, template):
    _, stack, parts = built
    _, alarm = alarm_on(template, "InvocationFailures")
    assert alarm["Dimensions"] == [
        {"Name": "EndpointName", "Value": endpoint_name_ref(built)},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 1)
    assert alarm["AlarmActions"] == [{"Ref": lid(stack, parts["endpoint"].error_topic)}]


def test_dashboard_shows_the_queue_latency_and_failures(template):
    body = json.dumps(only(template, "AWS::CloudWatch::Dashboard")["DashboardBody"])
    for metric in (
        "ApproximateBacklogSize",
        "ApproximateBacklogSizePerInstance",
        "HasBacklogWithoutCapacity",
        "ApproximateAgeOfOldestRequest",
        "ModelLatency",
        "InvocationFailures",
    ):
        assert f'\\"{metric}\\"' in body, metric


# -- grant_invoke -----------------------------------------------------------------------------


def test_grant_invoke_allows_async_invocation_and_its_prefixes_only(built, template):
    _, stack, parts = built
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": lid(stack, parts["invoker"])}]
    ]
    by_action = {json.dumps(s["Action"]): s["Resource"] for s in policy}
    endpoint_arn = {"Ref": lid(stack, parts["endpoint"].endpoint)}
    inference = {"Fn::GetAtt": [lid(stack, parts["inference"]), "Arn"]}
    assert by_action['"sagemaker:InvokeEndpointAsync"'] == endpoint_arn
    assert by_action['"s3:PutObject"'] == {"Fn::Join": ["", [inference, "/endpoints/test/input/*"]]}
    assert by_action['"s3:GetObject"'] == [
        {"Fn::Join": ["", [inference, "/endpoints/test/output/*"]]},
        {"Fn::Join": ["", [inference, "/endpoints/test/failure/*"]]},
    ]
    assert by_action['["kms:Decrypt", "kms:GenerateDataKey"]'] == {
        "Fn::GetAtt": [lid(stack, parts["key"]), "Arn"]
    }


# -- draft model (API-created model) ----------------------------------------------------------


def draft_endpoint(environment: dict) -> AsyncLlmEndpoint:
    stack = cdk.Stack(cdk.App(), "Draft")
    bucket = s3.Bucket(stack, "Artifacts")
    return endpoint_of(
        stack,
        endpoint_key="spec",
        instance_type="ml.p4d.24xlarge",
        image=explicit_image("763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:x"),
        model=ModelArtifacts.in_bucket(bucket, "models/base/", accept_eula=True),
        channels={"draft_model": ModelArtifacts.in_bucket(bucket, "models/draft/")},
        environment=environment,
        key=kms.Key(stack, "Key"),
        inference_bucket=s3.Bucket(stack, "Inference"),
        max_capacity=1,
        max_concurrent_invocations_per_instance=8,
    )


def test_draft_model_name_is_stable_and_changes_with_the_definition():
    first = draft_endpoint({"OPTION_TENSOR_PARALLEL_DEGREE": "8"})
    again = draft_endpoint({"OPTION_TENSOR_PARALLEL_DEGREE": "8"})
    changed = draft_endpoint({"OPTION_TENSOR_PARALLEL_DEGREE": "4"})
    names = [
        e.node.find_child("Model").node.default_child.physical_name for e in (first, again, changed)
    ]
    assert names[0] == names[1]
    assert names[0] != names[2]
    assert names[0].startswith("spec-") and len(names[0]) == len("spec-") + 16


def test_draft_model_is_mounted_as_the_draft_model_channel():
    endpoint = draft_endpoint({"OPTION_SPECULATIVE_CONFIG": "{}"})
    stack = cdk.Stack.of(endpoint)
    model = Template.from_stack(stack).find_resources("Custom::SageMakerModel")
    (props,) = [m["Properties"] for m in model.values()]
    text = "".join(p if isinstance(p, str) else "<t>" for p in props["Model"]["Fn::Join"][1])
    assert '"AdditionalModelDataSources":[{"ChannelName":"draft_model"' in text
    # The construct passes the environment it is given (the stack derives it for the image).
    assert '"Environment":{"OPTION_SPECULATIVE_CONFIG":"{}"}' in text
    # Both prefixes are readable by the execution role.
    statements = execution_policy(Template.from_stack(stack))
    readable = json.dumps(granted_on(statements, "s3:GetObject"))
    assert "/models/base/*" in readable and "/models/draft/*" in readable


def runaway_alarm(template: Template) -> dict:
    (alarm,) = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmDescription"].startswith("Instances ran")
    ]
    return alarm


def test_instances_running_without_a_backlog_past_the_idle_window_notify_the_error_topic(built):
    template, stack, parts = built
    alarm = runaway_alarm(template)
    # Idle window 10 minutes (the construct's default) plus the 30-minute margin.
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (40, 40)
    work = next(m for m in alarm["Metrics"] if m["Id"] == "work")["MetricStat"]
    assert (work["Metric"]["MetricName"], work["Stat"]) == ("ApproximateBacklogSize", "Maximum")
    topic = stack.resolve(parts["endpoint"].error_topic.topic_arn)
    assert alarm["AlarmActions"] == [topic]


def test_runaway_action_zero_also_sets_the_capacity_to_zero():
    stack, _ = build(EndpointScaling(runaway_action="zero", runaway_margin_minutes=20))
    template = Template.from_stack(stack)
    alarm = runaway_alarm(template)
    assert alarm["EvaluationPeriods"] == 30
    policies = {
        logical_id: p["Properties"]
        for logical_id, p in template.find_resources(
            "AWS::ApplicationAutoScaling::ScalingPolicy"
        ).items()
    }
    (to_zero,) = [lid for lid in policies if "RunawayToZero" in lid]
    assert {"Ref": to_zero} in alarm["AlarmActions"]
    assert policies[to_zero]["StepScalingPolicyConfiguration"]["StepAdjustments"] == [
        {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 0}
    ]


def test_a_fallback_pool_with_its_own_model_and_degree_gets_a_model_of_its_own(tmp_path):
    """p4d first, then p4de as it is, then p5 with a degree and files of its own: the p5 pool
    names its model (ModelNameOverride, a Ref, so it exists before the config); the others
    serve the variant's; the role reads both models' files."""
    from features.endpoints.llm_endpoint import PoolSpec
    from workbench_domain.hosting import Capacity

    stack = cdk.Stack(cdk.App(), "Pools")
    artifacts = s3.Bucket(stack, "Artifacts")
    image = explicit_image("763104351884.dkr.ecr.{region}.amazonaws.com/vllm:0.20.2")
    weights = ModelArtifacts.in_bucket(artifacts, "models/llama/")
    endpoint_of(
        stack,
        endpoint_key="pools",
        instance_type="ml.p4d.24xlarge",
        image=image,
        model=weights,
        environment={"SM_VLLM_TENSOR_PARALLEL_SIZE": "8"},
        key=kms.Key(stack, "Key"),
        inference_bucket=s3.Bucket(stack, "Inference"),
        max_capacity=1,
        max_concurrent_invocations_per_instance=4,
        capacity=Capacity(fallback_instance_types=("ml.p4de.24xlarge", "ml.p5.48xlarge")),
        pools={
            # The same files, named again: no model of its own.
            "ml.p4de.24xlarge": PoolSpec(
                model=ModelArtifacts.in_bucket(artifacts, "models/llama/"),
                environment={"SM_VLLM_TENSOR_PARALLEL_SIZE": "8"},
            ),
            "ml.p5.48xlarge": PoolSpec(
                model=ModelArtifacts.in_bucket(artifacts, "optimized/llama-fp8/"),
                environment={"SM_VLLM_TENSOR_PARALLEL_SIZE": "4"},
            ),
        },
    )
    template = Template.from_stack(stack)
    models = template.find_resources("AWS::SageMaker::Model")
    assert len(models) == 2
    by_tp = {
        m["Properties"]["PrimaryContainer"]["Environment"]["SM_VLLM_TENSOR_PARALLEL_SIZE"]: lid_
        for lid_, m in models.items()
    }
    (config,) = template.find_resources("AWS::SageMaker::EndpointConfig").values()
    (variant,) = config["Properties"]["ProductionVariants"]
    assert variant["ModelName"] == {"Fn::GetAtt": [by_tp["8"], "ModelName"]}
    assert variant["InstancePools"] == [
        {"InstanceType": "ml.p4d.24xlarge", "Priority": 1},
        {"InstanceType": "ml.p4de.24xlarge", "Priority": 2},
        {
            "InstanceType": "ml.p5.48xlarge",
            "Priority": 3,
            "ModelNameOverride": {"Fn::GetAtt": [by_tp["4"], "ModelName"]},
        },
    ]
    assert "optimized/llama-fp8/" in json.dumps(models[by_tp["4"]])
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "models/llama/*" in policies and "optimized/llama-fp8/*" in policies
    # CloudFormation's schema takes the pools and the override as written.
    from tools import cfn_lint

    (tmp_path / "pools.json").write_text(json.dumps(template.to_json()))
    _, rejected = cfn_lint.lint([tmp_path / "pools.json"])
    assert rejected == []
