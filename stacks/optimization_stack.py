"""Optimization: the job roles, the launcher Lambdas, the workflow and its topic."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from features.endpoints.dlc_images import dlc_image
from features.measurement.measurement_job_role import MeasurementJobRole
from features.optimization.optimization_job_role import OptimizationJobRole
from features.optimization.optimization_launcher import OptimizationLauncher
from features.optimization.optimization_workflow import OptimizationWorkflow
from features.shared.deployment_record import DeploymentRecord
from features.shared.secure_topic import SecureTopic
from workbench_config.optimization import OptimizationConfig
from workbench_domain import optimization_rules, serving_images
from workbench_domain.deployment_records import OptimizationRecord


class OptimizationStack(cdk.Stack):
    """Starts SageMaker optimization jobs and follows each one to its end.

    Users start the state machine (console, `make optimize`, the notebooks; the notebook role
    gets that access in `NotebookWorkspace`). Results land in one SSM parameter per job under
    `results_parameter_prefix` and in `optimization-result.json` next to the job's output.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        optimization: OptimizationConfig,
        project: str,
        env_name: str,
        parameter_prefix: str,
        retain_data: bool,
        key: kms.IKey,
        artifacts_bucket: s3.IBucket,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.results_parameter_prefix = f"{parameter_prefix}/optimization-results"
        log_retention = logs.RetentionDays.ONE_YEAR if retain_data else logs.RetentionDays.ONE_MONTH

        # The images that run the jobs, by family; all in the DLC `djl-inference` repository.
        images = {
            family: dlc_image(self, getattr(optimization.images, family))
            for family in optimization_rules.JOB_IMAGE_FAMILIES
        }
        # What the launcher's rules need; the record publishes the same values to the clients.
        job_defaults = optimization_rules.JobDefaults(
            artifacts_bucket=artifacts_bucket.bucket_name,
            output_prefix=optimization.output_prefix,
            lmi_image_uri=images["lmi"].uri,
            trtllm_image_uri=images["trtllm"].uri,
            neuron_image_uri=images["neuron"].uri,
        )
        # `make neuron-export` runs the vLLM Neuron image of the endpoints as a training job.
        neuron_vllm = serving_images.image_for("neuron_vllm")
        neuron_export_image = dlc_image(self, neuron_vllm.tag, neuron_vllm.repository)
        self.job_role = OptimizationJobRole(
            self,
            "JobRole",
            artifacts_bucket=artifacts_bucket,
            key=key,
            output_prefix=optimization.output_prefix,
            images=[images["lmi"], neuron_export_image],
        ).role
        # Beside the optimization jobs: the AI recommendation and benchmark jobs that measure
        # their results (`make recommend`, `make benchmark`, the notebooks).
        self.measurement_role = MeasurementJobRole(
            self,
            "MeasurementRole",
            project=project,
            env_name=env_name,
            artifacts_bucket=artifacts_bucket,
            key=key,
        ).role
        self.job_topic = SecureTopic(
            self,
            "JobTopic",
            display_name=f"{project} {env_name} optimization jobs",
            encryption_key=key,
        ).topic
        functions = OptimizationLauncher(
            self,
            "Launcher",
            project=project,
            env_name=env_name,
            key=key,
            artifacts_bucket=artifacts_bucket,
            job_defaults=job_defaults,
            job_role=self.job_role,
            results_parameter_prefix=self.results_parameter_prefix,
            job_topic=self.job_topic,
            log_retention=log_retention,
        )
        self.launcher_function = functions.launcher
        self.recorder_function = functions.recorder
        self.workflow = OptimizationWorkflow(
            self,
            "Workflow",
            launcher=functions.launcher,
            recorder=functions.recorder,
            job_topic=self.job_topic,
            key=key,
            jobs_arn=functions.jobs_arn,
            poll_seconds=optimization.poll_seconds,
            timeout_seconds=optimization.workflow_timeout_seconds,
            default_runtime_seconds=optimization.max_runtime_seconds,
            max_runtime_seconds=optimization.max_request_runtime_seconds,
            log_retention=log_retention,
        )
        self.state_machine = self.workflow.state_machine

        DeploymentRecord(
            self,
            "Record",
            parameter_prefix=parameter_prefix,
            record=OptimizationRecord(
                state_machine_arn=self.state_machine.state_machine_arn,
                launcher_function_name=self.launcher_function.function_name,
                job_topic_arn=self.job_topic.topic_arn,
                results_parameter_prefix=self.results_parameter_prefix,
                job_role_arn=self.job_role.role_arn,
                measurement_role_arn=self.measurement_role.role_arn,
                job_defaults=job_defaults,
            ),
        )
        cdk.CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "LauncherFunctionName", value=self.launcher_function.function_name)
        cdk.CfnOutput(self, "JobTopicArn", value=self.job_topic.topic_arn)
        cdk.CfnOutput(self, "JobRoleArn", value=self.job_role.role_arn)
        cdk.CfnOutput(self, "MeasurementRoleArn", value=self.measurement_role.role_arn)
        cdk.CfnOutput(self, "ResultsParameterPrefix", value=self.results_parameter_prefix)
