"""The realtime endpoint stack (the `chat` endpoint of cdk.json, enabled: the `realtime` fixture,
synthesized once with cdk-nag as in the app): an inference component on an endpoint that scales
to zero instances, its copy scaling, alarms, dashboard and record."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from app import build_app
from tests.conftest import SynthesizedApp, cdk_context
from tests.unit.stacks.creation_order import unordered_references
from tools import cfn_lint
from workbench_domain import deployment_records as records
from workbench_domain import serving_images


@pytest.fixture(scope="module")
def stack(realtime: SynthesizedApp):
    return realtime.stage.endpoints["chat"]


@pytest.fixture(scope="module")
def template(stack) -> Template:
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def resources(template) -> dict:
    return template.to_json()["Resources"]


def of_type(resources: dict, kind: str) -> dict[str, dict]:
    return {lid: r for lid, r in resources.items() if r["Type"] == kind}


def one(resources: dict, kind: str) -> tuple[str, dict]:
    ((logical_id, resource),) = of_type(resources, kind).items()
    return logical_id, resource


def test_only_the_enabled_realtime_endpoint_gets_a_stack(realtime: SynthesizedApp, stack):
    assert sorted(realtime.stage.endpoints) == ["chat"]
    assert stack.stack_name == "genai-opt-dev-Endpoint-chat"


def test_endpoint_config_has_the_role_on_top_and_a_variant_without_a_model(resources):
    _, config = one(resources, "AWS::SageMaker::EndpointConfig")
    props = config["Properties"]
    role_id, _ = one(resources, "AWS::IAM::Role")
    assert props["ExecutionRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert "AsyncInferenceConfig" not in props
    assert "EndpointConfigName" not in props  # generated
    assert props["EnableNetworkIsolation"] is True
    (variant,) = props["ProductionVariants"]
    assert "ModelName" not in variant
    # The realtime fixture gives chat a fallback: pools in priority order, no InstanceType.
    assert "InstanceType" not in variant
    assert variant["InstancePools"] == [
        {"InstanceType": "ml.g5.12xlarge", "Priority": 1},
        {"InstanceType": "ml.g6e.12xlarge", "Priority": 2},
    ]
    assert variant["InitialInstanceCount"] == 1
    assert variant["ManagedInstanceScaling"] == {
        "Status": "ENABLED",
        "MinInstanceCount": 0,
        "MaxInstanceCount": 1,
        "ScaleInPolicy": {"Strategy": "IDLE_RELEASE"},
    }
    # cdk.json: chat traffic shares its system prompt, so requests go where it is cached.
    assert variant["RoutingConfig"] == {"RoutingStrategy": "PREFIX_AWARE"}
    assert props["MetricsConfig"] == {
        "EnableEnhancedMetrics": True,
        "EnableDetailedObservability": False,
        "MetricPublishFrequencyInSeconds": 60,
    }
    assert "VolumeSizeInGB" not in variant  # g5 has local NVMe storage
    # SageMaker checks the role's permissions when it starts the instance.
    policy_id, _ = one(resources, "AWS::IAM::Policy")
    assert policy_id in config["DependsOn"]


def test_the_component_holds_the_model_on_every_gpu_with_one_copy(resources):
    _, component = one(resources, "AWS::SageMaker::InferenceComponent")
    props = component["Properties"]
    endpoint_id, _ = one(resources, "AWS::SageMaker::Endpoint")
    model_id, pool_model_id = models_by_degree(resources)
    assert props["EndpointName"] == {"Fn::GetAtt": [endpoint_id, "EndpointName"]}
    assert props["VariantName"] == "AllTraffic"
    # One specification per pool (CloudFormation: Specification is for one instance type).
    assert "Specification" not in props
    specs = props["Specifications"]
    assert [s["InstanceType"] for s in specs] == ["ml.g5.12xlarge", "ml.g6e.12xlarge"]
    # The fixture's g6e pool: its own model (degree 2) and two GPUs a copy.
    for spec, model, gpus in zip(specs, (model_id, pool_model_id), (4, 2), strict=True):
        assert spec["ModelName"] == {"Fn::GetAtt": [model, "ModelName"]}
        assert spec["ComputeResourceRequirements"] == {
            "NumberOfAcceleratorDevicesRequired": gpus,
            "MinMemoryRequiredInMb": 1024,
        }
        assert spec["StartupParameters"] == {
            "ModelDataDownloadTimeoutInSeconds": 1800,
            "ContainerStartupHealthCheckTimeoutInSeconds": 1800,
        }
        # cdk.json: a copy restarts from zero often; the model and image stay on the instance.
        assert spec["DataCacheConfig"] == {"EnableCaching": True}
    # The API's minimum; scaling takes it to zero.
    assert props["RuntimeConfig"] == {"CopyCount": 1}
    name = props["InferenceComponentName"]
    assert re.fullmatch(r"[a-z0-9](-*[a-z0-9])*", name) and len(name) <= 63


def models_by_degree(resources) -> tuple[str, str]:
    """(the endpoint's model, the g6e pool's): the fixture's pool runs degree 2."""
    models = of_type(resources, "AWS::SageMaker::Model")
    degree = {
        lid: m["Properties"]["PrimaryContainer"]["Environment"]["SM_VLLM_TENSOR_PARALLEL_SIZE"]
        for lid, m in models.items()
    }
    ((own,),) = ([lid for lid, d in degree.items() if d == "4"],)
    ((pool,),) = ([lid for lid, d in degree.items() if d == "2"],)
    return own, pool


def test_the_model_serves_the_awq_weights_with_the_pinned_vllm_dlc_image(resources):
    own, _ = models_by_degree(resources)
    model = resources[own]
    container = model["Properties"]["PrimaryContainer"]
    image = json.dumps(container["Image"])
    assert f"/vllm:{serving_images.default_tag('vllm_dlc')}" in image
    source = container["ModelDataSource"]["S3DataSource"]
    assert "/optimized/llama-3-70b-awq/" in json.dumps(source["S3Uri"])
    assert (source["S3DataType"], source["CompressionType"]) == ("S3Prefix", "None")
    assert "ModelAccessConfig" not in source  # our own quantized output, no EULA to accept
    environment = container["Environment"]
    # A pre-quantized checkpoint names no quantization: vLLM picks awq_marlin on the A10G. The
    # DLC's entrypoint finds the model at /opt/ml/model and turns each SM_VLLM_* into a flag.
    assert environment == {
        "SM_VLLM_TENSOR_PARALLEL_SIZE": "4",
        "SM_VLLM_MAX_MODEL_LEN": "8192",
        "SM_VLLM_MAX_NUM_SEQS": "8",
    }


def test_the_variant_runs_on_the_host_ami_the_cuda_13_image_needs(resources):
    _, config = one(resources, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["Properties"]["ProductionVariants"]
    assert variant["InferenceAmiVersion"] == "al2-ami-sagemaker-inference-gpu-3-1"


def component_name(resources) -> str:
    _, component = one(resources, "AWS::SageMaker::InferenceComponent")
    return component["Properties"]["InferenceComponentName"]


def test_copies_scale_between_zero_and_max_capacity_after_the_component(resources):
    component_id, _ = one(resources, "AWS::SageMaker::InferenceComponent")
    _, target = one(resources, "AWS::ApplicationAutoScaling::ScalableTarget")
    props = target["Properties"]
    assert props["ServiceNamespace"] == "sagemaker"
    assert props["ResourceId"] == f"inference-component/{component_name(resources)}"
    assert props["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    assert (props["MinCapacity"], props["MaxCapacity"]) == (0, 1)
    # The name is a string: only DependsOn orders the registration after the component.
    assert component_id in target["DependsOn"]
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in json.dumps(
        props["RoleARN"]
    )


def policies(resources) -> dict[str, dict]:
    return {
        r["Properties"]["PolicyName"]: r["Properties"]
        for r in of_type(resources, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }


def test_target_tracking_follows_concurrent_requests_per_copy_and_never_scales_in(resources):
    (tracking,) = [
        p for p in policies(resources).values() if p["PolicyType"] == "TargetTrackingScaling"
    ]
    config = tracking["TargetTrackingScalingPolicyConfiguration"]
    assert config["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
    }
    assert config["TargetValue"] == 4
    assert config["DisableScaleIn"] is True


def alarms(resources) -> dict[str, dict]:
    return {lid: r["Properties"] for lid, r in of_type(resources, "AWS::CloudWatch::Alarm").items()}


def step_policy(resources, alarm: dict) -> dict:
    (action,) = alarm["AlarmActions"]
    return resources[action["Ref"]]["Properties"]["StepScalingPolicyConfiguration"]


def test_the_first_refused_request_sets_one_copy(resources):
    (wake,) = [
        a
        for a in alarms(resources).values()
        if a.get("MetricName") == "NoCapacityInvocationFailures"
    ]
    assert wake["Namespace"] == "AWS/SageMaker"
    assert wake["Dimensions"] == [
        {"Name": "InferenceComponentName", "Value": component_name(resources)}
    ]
    assert (wake["Statistic"], wake["Period"], wake["Threshold"]) == ("Sum", 60, 1)
    assert wake["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (wake["EvaluationPeriods"], wake["DatapointsToAlarm"]) == (1, 1)
    assert wake["TreatMissingData"] == "notBreaching"
    # Exactly one copy, however often CloudWatch repeats the action during the cold start.
    assert step_policy(resources, wake) == {
        "AdjustmentType": "ExactCapacity",
        "Cooldown": 60,
        "MetricAggregationType": "Maximum",
        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
    }


def test_idle_for_the_window_sets_zero_copies_without_cutting_a_request(resources):
    (idle,) = [
        a
        for a in alarms(resources).values()
        if "Metrics" in a and a["Threshold"] == 1 and a["ComparisonOperator"] == "LessThanThreshold"
    ]
    (expression,) = [m for m in idle["Metrics"] if "Expression" in m]
    # ConcurrentRequestsPerCopy is sampled; Invocations counts every request in the minute.
    assert expression["Expression"] == "FILL(inflight, 0) + FILL(refused, 0) + FILL(served, 0)"
    watched = {
        m["Id"]: (m["MetricStat"]["Metric"]["MetricName"], m["MetricStat"]["Stat"])
        for m in idle["Metrics"]
        if "MetricStat" in m
    }
    assert watched == {
        "inflight": ("ConcurrentRequestsPerCopy", "Maximum"),
        "refused": ("NoCapacityInvocationFailures", "Sum"),
        "served": ("Invocations", "Sum"),
    }
    for metric in idle["Metrics"]:
        if "MetricStat" in metric:
            assert metric["MetricStat"]["Metric"]["Dimensions"] == [
                {"Name": "InferenceComponentName", "Value": component_name(resources)}
            ]
    assert (idle["EvaluationPeriods"], idle["DatapointsToAlarm"]) == (15, 15)
    assert idle["TreatMissingData"] == "breaching"
    assert step_policy(resources, idle) == {
        "AdjustmentType": "ExactCapacity",
        "Cooldown": 600,
        "MetricAggregationType": "Maximum",
        "StepAdjustments": [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": 0}],
    }


def test_failures_alarm_to_the_error_topic_and_a_dashboard_shows_the_component(resources):
    topic_id, _ = one(resources, "AWS::SNS::Topic")
    to_topic = [
        a for a in alarms(resources).values() if a.get("AlarmActions") == [{"Ref": topic_id}]
    ]
    assert sorted(a["AlarmDescription"].split(":")[0] for a in to_topic) == [
        "Instances ran 45 minutes without work",
        "Real-time invocations failed in the model or with a 5xx",
    ]
    (_dashboard_id, dashboard) = one(resources, "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("ConcurrentRequestsPerCopy", "NoCapacityInvocationFailures", "ModelLatency"):
        assert metric in body


def test_instances_running_without_work_past_the_idle_window_notify(resources):
    (runaway,) = [
        a for a in alarms(resources).values() if a["AlarmDescription"].startswith("Instances ran")
    ]
    # The idle window (15 minutes) plus the default margin (30).
    assert (runaway["EvaluationPeriods"], runaway["DatapointsToAlarm"]) == (45, 45)
    assert runaway["TreatMissingData"] == "notBreaching"
    (expression,) = [
        m for m in runaway["Metrics"] if m.get("ReturnData", True) and "Expression" in m
    ]
    assert expression["Expression"] == "IF(FILL(instances, 0) > 0 AND FILL(work, 0) < 1, 1, 0)"
    instances = next(m for m in runaway["Metrics"] if m["Id"] == "instances")["MetricStat"]
    assert instances["Metric"]["Namespace"] == "/aws/sagemaker/Endpoints"
    assert instances["Metric"]["MetricName"] == "CPUUtilization"
    assert {d["Name"] for d in instances["Metric"]["Dimensions"]} == {"EndpointName", "VariantName"}
    assert instances["Stat"] == "SampleCount"
    # "notify" by default: no scaling action.
    assert not any(
        "ScalingPolicy" in json.dumps(action) or "scalingPolicy" in json.dumps(action)
        for action in runaway["AlarmActions"]
    )


def test_the_role_reads_the_model_and_writes_nothing_to_s3(resources):
    _, role = one(resources, "AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role["Properties"]
    _, policy = one(resources, "AWS::IAM::Policy")
    actions = {
        action
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert "s3:GetObject" in actions and "s3:ListBucket" in actions
    assert not {a for a in actions if a.startswith("s3:Put")}
    assert {"ecr:BatchGetImage", "ecr:GetAuthorizationToken"} <= actions


def test_the_record_names_the_component_and_parses_for_every_reader(stack, resources):
    (parameter,) = of_type(resources, "AWS::SSM::Parameter").values()
    props = parameter["Properties"]
    assert props["Name"] == "/genai-opt/dev/deployment/endpoints/chat"
    value = stack.resolve(props["Value"])
    text = "".join(p if isinstance(p, str) else "TOKEN" for p in value["Fn::Join"][1])
    document = json.loads(text)
    assert document["kind"] == "realtime"
    assert document["inference_component_name"] == component_name(resources)
    record = records.parse_endpoint(document)
    assert isinstance(record, records.RealtimeEndpointRecord)
    assert (record.instance_type, record.max_capacity) == ("ml.g5.12xlarge", 1)


def test_outputs_name_the_endpoint_and_component(template):
    assert set(template.to_json()["Outputs"]) >= {
        "EndpointName",
        "InferenceComponentName",
        "ErrorTopicArn",
    }


def test_the_template_is_cfn_lint_clean_and_ordered(stack, resources):
    _, rejected = cfn_lint.lint([Path(cdk.Stage.of(stack).outdir) / stack.template_file])
    assert rejected == []
    assert unordered_references({"Resources": resources}) == []


def test_naming_the_slow_awq_kernel_warns_at_synth_and_the_default_does_not(stack):
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp(".*awq.*"))
    context = cdk_context()
    chat = context["workbench"]["defaults"]["endpoints"]["chat"]
    chat.update(enabled=True)
    chat["serving"]["quantization"] = "awq"
    stage = build_app(cdk.App(context={**context, "env": "dev", "pipeline": False}))
    Annotations.from_stack(stage.endpoints["chat"]).has_warning(
        "*", Match.string_like_regexp(".*forces vLLM's slower AWQ kernel on ml.g5.12xlarge.*")
    )
