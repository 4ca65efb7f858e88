"""The Endpoint-<key> stacks of the app, as synthesized for dev (and prod where it differs)."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from app import build_app
from stacks.endpoint_stack import EndpointStack
from tests.conftest import SynthesizedApp, cdk_context


@pytest.fixture(scope="module")
def p4d(dev: SynthesizedApp) -> Template:
    return dev.template(dev.stage.endpoints["p4d"])


@pytest.fixture(scope="module")
def inf2(dev: SynthesizedApp) -> Template:
    return dev.template(dev.stage.endpoints["inf2"])


def one(template: Template, kind: str) -> dict:
    (found,) = template.find_resources(kind).values()
    return found["Properties"]


def test_one_stack_per_enabled_endpoint(dev: SynthesizedApp):
    assert sorted(dev.stage.endpoints) == ["inf2", "p4d"]
    for key, stack in dev.stage.endpoints.items():
        assert isinstance(stack, EndpointStack)
        assert stack.node.id == f"Endpoint-{key}"
        assert stack.stack_name == f"genai-opt-dev-Endpoint-{key}"


def test_a_disabled_endpoint_gets_no_stack():
    context = cdk_context()
    context["workbench"]["environments"]["dev"]["endpoints"]["p4d"]["enabled"] = False
    stage = build_app(cdk.App(context={**context, "env": "dev"}))  # constructed, not synthesized
    assert sorted(stage.endpoints) == ["inf2"]


def test_p4d_serves_the_base_model_with_the_draft_model_channel(p4d: Template):
    # CloudFormation's AWS::SageMaker::Model has no AdditionalModelDataSources: the model with a
    # draft channel is created through the API by the SageMakerApiModel custom resource.
    p4d.resource_count_is("AWS::SageMaker::Model", 0)
    model = one(p4d, "Custom::SageMakerModel")
    assert model["ModelName"].startswith("p4d-")
    text = "".join(
        p if isinstance(p, str) else json.dumps(p) for p in model["Model"]["Fn::Join"][1]
    )
    assert '"EnableNetworkIsolation":true' in text
    assert (
        '/models/meta-llama-3-70b/","S3DataType":"S3Prefix","CompressionType":"None",'
        '"ModelAccessConfig":{"AcceptEula":true}}}' in text
    )
    assert '"AdditionalModelDataSources":[{"ChannelName":"draft_model"' in text
    assert '/models/meta-llama-3-8b/","S3DataType":"S3Prefix","CompressionType":"None"' in text
    environment = json.loads(
        text[text.index('"Environment":') + len('"Environment":') :].removesuffix("}}")
    )
    # What LMI 20's vLLM 0.15.1 reads (workbench_domain/serving_images.json): the async
    # service, the typed settings, and a speculative_config with method draft_model pointing at
    # the mounted channel; never the legacy OPTION_SPECULATIVE_DRAFT_MODEL it ignores.
    assert environment == {
        "OPTION_ASYNC_MODE": "true",
        "OPTION_ROLLING_BATCH": "disable",
        "OPTION_ENTRYPOINT": "djl_python.lmi_vllm.vllm_async_service",
        "OPTION_TENSOR_PARALLEL_DEGREE": "8",
        "OPTION_MAX_MODEL_LEN": "8192",
        "OPTION_MAX_ROLLING_BATCH_SIZE": "8",
        "OPTION_MODEL_LOADING_TIMEOUT": "1800",
        "OPTION_SPECULATIVE_CONFIG": json.dumps(
            {
                "method": "draft_model",
                "model": "/opt/ml/additional-model-data-sources/draft_model",
                "num_speculative_tokens": 5,
            },
            separators=(",", ":"),
        ),
    }
    assert "/djl-inference:0.36.0-lmi20.0.0-cu128" in text


def test_p4d_variant_uses_instance_storage_and_the_api_model(p4d: Template):
    (variant,) = one(p4d, "AWS::SageMaker::EndpointConfig")["ProductionVariants"]
    assert variant["InstanceType"] == "ml.p4d.24xlarge"
    assert variant["InitialInstanceCount"] == 1
    assert "VolumeSizeInGB" not in variant
    # The model's name as an attribute of the custom resource: the config waits for the model.
    model_id = next(iter(p4d.find_resources("Custom::SageMakerModel")))
    assert variant["ModelName"] == {"Fn::GetAtt": [model_id, "ModelName"]}


def test_inf2_serves_the_exported_model_on_the_vllm_neuron_image(inf2: Template):
    inf2.resource_count_is("Custom::SageMakerModel", 0)
    container = one(inf2, "AWS::SageMaker::Model")["PrimaryContainer"]
    # optimum-cli neuron serve's arguments, as the export fixed them (make neuron-export).
    assert container["Environment"] == {
        "SM_ON_MODEL": "/opt/ml/model",
        "SM_ON_TENSOR_PARALLEL_SIZE": "24",
        "SM_ON_SEQUENCE_LENGTH": "8192",
        "SM_ON_BATCH_SIZE": "4",
    }
    assert "AdditionalModelDataSources" not in container
    assert container["Image"]["Fn::Join"][1][-1] == (
        "/huggingface-vllm-inference-neuronx:0.11.0-optimum0.4.5-neuronx-py310-sdk2.26.1-ubuntu22.04"
    )
    assert "/optimized/neuron-vllm/meta-llama-3-70b-inf2/" in json.dumps(
        container["ModelDataSource"]
    )
    (variant,) = one(inf2, "AWS::SageMaker::EndpointConfig")["ProductionVariants"]
    assert variant["InstanceType"] == "ml.inf2.48xlarge"
    assert variant["InferenceAmiVersion"] == "al2-ami-sagemaker-inference-neuron-2"
    assert variant["VolumeSizeInGB"] == 512
    assert variant["ModelDataDownloadTimeoutInSeconds"] == 3600
    assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] == 3600


def test_image_account_comes_from_the_region_mapping(p4d: Template, inf2: Template):
    for template in (p4d, inf2):
        mapping = template.to_json()["Mappings"]["DlcAccounts"]
        assert mapping["us-east-1"] == {"account": "763104351884"}
        assert mapping["af-south-1"] == {"account": "626614931356"}
    container = one(inf2, "AWS::SageMaker::Model")["PrimaryContainer"]
    assert container["Image"]["Fn::Join"][1][0] == {
        "Fn::FindInMap": ["DlcAccounts", {"Ref": "AWS::Region"}, "account"]
    }


def test_async_results_land_under_each_endpoint_prefix_encrypted(p4d: Template, inf2: Template):
    for key, template in (("p4d", p4d), ("inf2", inf2)):
        output = one(template, "AWS::SageMaker::EndpointConfig")["AsyncInferenceConfig"]
        paths = output["OutputConfig"]
        assert paths["S3OutputPath"]["Fn::Join"][1][-1] == f"/endpoints/{key}/output/"
        assert paths["S3FailurePath"]["Fn::Join"][1][-1] == f"/endpoints/{key}/failure/"
        assert "Fn::GetStackOutput" in paths["KmsKeyId"]
        assert set(paths["NotificationConfig"]) == {"SuccessTopic", "ErrorTopic"}


def test_scaling_limits_come_from_config(dev: SynthesizedApp, prod: SynthesizedApp):
    assert (
        one(
            dev.template(dev.stage.endpoints["p4d"]), "AWS::ApplicationAutoScaling::ScalableTarget"
        )["MaxCapacity"]
        == 1
    )
    assert (
        one(
            prod.template(prod.stage.endpoints["p4d"]),
            "AWS::ApplicationAutoScaling::ScalableTarget",
        )["MaxCapacity"]
        == 2
    )
    target = one(
        dev.template(dev.stage.endpoints["p4d"]), "AWS::ApplicationAutoScaling::ScalableTarget"
    )
    assert target["MinCapacity"] == 0


def test_wake_and_zero_alarms_of_the_app_endpoints(p4d: Template):
    p4d.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "HasBacklogWithoutCapacity",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Statistic": "Average",
            "AlarmActions": [{"Ref": Match.string_like_regexp("WakeFromZero")}],
        },
    )
    p4d.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateBacklogSize",
            "EvaluationPeriods": 10,
            "AlarmActions": [{"Ref": Match.string_like_regexp("ScaleToZero")}],
        },
    )


def test_storage_key_lets_cloudwatch_publish_to_the_encrypted_topics(dev: SynthesizedApp):
    key_policy = one(dev.template(dev.stage.storage), "AWS::KMS::Key")["KeyPolicy"]
    # CloudWatch (alarms) and AWS Budgets publish to topics under the key: one statement.
    assert {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Effect": "Allow",
        "Principal": {"Service": ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"]},
        "Resource": "*",
    } in key_policy["Statement"]


def test_custom_resource_function_can_touch_only_its_model(p4d: Template):
    statements = [
        s
        for p in p4d.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "sagemaker:CreateModel" in s["Action"]
    ]
    (statement,) = statements
    assert sorted(statement["Action"]) == [
        "sagemaker:CreateModel",
        "sagemaker:DeleteModel",
        "sagemaker:DescribeModel",
    ]
    name = one(p4d, "Custom::SageMakerModel")["ModelName"]
    assert statement["Resource"]["Fn::Join"][1][-1] == f":model/{name}"
    (pass_role,) = [
        s
        for p in p4d.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "iam:PassRole"
    ]
    assert pass_role["Resource"]["Fn::GetAtt"][0].startswith("EndpointExecutionRole")


def test_publishes_its_deployment_record(p4d: Template):
    (parameter,) = p4d.find_resources("AWS::SSM::Parameter").values()
    props = parameter["Properties"]
    assert props["Name"] == "/genai-opt/dev/deployment/endpoints/p4d"
    text = "".join(p if isinstance(p, str) else "<token>" for p in props["Value"]["Fn::Join"][1])
    for key in (
        "endpoint_name",
        "variant_name",
        "input_prefix",
        "output_prefix",
        "failure_prefix",
        "success_topic_arn",
        "error_topic_arn",
    ):
        assert f'"{key}":' in text
    assert '"instance_type":"ml.p4d.24xlarge"' in text
    assert '"variant_name":"AllTraffic"' in text
    assert '"max_capacity":1' in text
    assert '"price_usd_per_hour":37.688' in text
    assert "/endpoints/p4d/input/" in text


def test_outputs_name_the_endpoint_prefixes_and_topics(p4d: Template):
    outputs = p4d.find_outputs("*")
    assert {
        "EndpointName",
        "InputPrefix",
        "OutputPrefix",
        "FailurePrefix",
        "SuccessTopicArn",
        "ErrorTopicArn",
    } <= set(outputs)
    assert outputs["EndpointName"]["Value"]["Fn::GetAtt"][1] == "EndpointName"


def test_no_physical_names_so_changes_roll_to_new_configs(p4d: Template, inf2: Template):
    for template in (p4d, inf2):
        for kind, name in (
            ("AWS::SageMaker::Model", "ModelName"),
            ("AWS::SageMaker::EndpointConfig", "EndpointConfigName"),
            ("AWS::SageMaker::Endpoint", "EndpointName"),
            ("AWS::SNS::Topic", "TopicName"),
            ("AWS::IAM::Role", "RoleName"),
        ):
            for resource in template.find_resources(kind).values():
                assert name not in resource["Properties"]


def test_every_log_group_is_encrypted_with_the_project_key(p4d: Template, inf2: Template):
    log_groups = [
        log_group
        for template in (p4d, inf2)
        for log_group in template.find_resources("AWS::Logs::LogGroup").values()
    ]
    assert log_groups  # the p4d model's custom-resource function logs
    for log_group in log_groups:
        assert "KmsKeyId" in log_group["Properties"], log_group


@pytest.mark.parametrize("variant", ["dev", "prod", "realtime"])
def test_every_container_waits_for_its_model_as_long_as_the_platform_does(variant, request):
    """The LMI images' own MODEL_LOADING_TIMEOUT is 1200 s: each LMI container gets the start-up
    health-check timeout SageMaker gives it (the variant's, or the inference component's). The
    DLCs' vLLM servers have no loading budget of their own: SageMaker's is the only one."""
    app: SynthesizedApp = request.getfixturevalue(variant)
    stacks = [app.stage.endpoints[key] for key in app.stage.endpoints]
    assert stacks
    for stack in stacks:
        text = json.dumps(app.template(stack).to_json())
        budgets = re.findall(r"ContainerStartupHealthCheckTimeoutInSeconds\W+(\d+)", text)
        loading = re.findall(r"OPTION_MODEL_LOADING_TIMEOUT\W+(\d+)", text)
        assert budgets, stack.stack_name
        if "djl-inference:" in text:
            assert set(loading) == set(budgets), stack.stack_name
        else:
            assert not loading, stack.stack_name
