"""The Step Functions workflow that launches an optimization job and follows it to its end."""

from __future__ import annotations

import math

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from features.shared.nag_acknowledgments import acknowledge, acknowledge_wildcards
from workbench_domain import workflow_states

# The launcher's error class for a refused request (launcher_function/errors.py);
# Step Functions matches a Lambda error by the exception's class name.
VALIDATION_ERROR = workflow_states.REFUSED_REQUEST_ERROR
COMPLETED = workflow_states.JOB_COMPLETED
FAILED_STATUSES = workflow_states.JOB_FAILED_STATUSES
# The state machine's own timeout comes this long after the time guard, which stops the job and
# notifies first.
BACKSTOP_SECONDS = 900


class OptimizationWorkflow(Construct):
    """Owns the state machine and its log group.

    Launch (launcher Lambda; a ValidationError ends the execution as failed with its message)
    -> wait -> DescribeOptimizationJob (AWS SDK integration) -> on COMPLETED the recorder writes
    the result and notifies, and the execution succeeds with the result; on FAILED or STOPPED the
    recorder notifies with the FailureReason and the execution fails; otherwise it waits again.
    Time guard: a request asking for more runtime than the workflow waits is refused before
    launch; after `timeout_seconds` of polling the workflow stops the job, notifies and fails;
    the state machine's timeout is a last backstop.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        launcher: lambda_.IFunction,
        recorder: lambda_.IFunction,
        job_topic: sns.ITopic,
        key: kms.IKey,
        jobs_arn: str,
        poll_seconds: int,
        timeout_seconds: int,
        default_runtime_seconds: int,
        max_runtime_seconds: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id_)
        job_name = sfn.JsonPath.string_at("$.launch.job_name")
        runtime = "$.request.max_runtime_seconds"
        timeout_hours = timeout_seconds / 3600

        accept = sfn.Pass(
            self,
            "Accept",
            comment="The execution input is the launcher event; keep it under $.request",
            parameters={"request": sfn.JsonPath.entire_payload},
        )
        use_default_runtime = sfn.Pass(
            self,
            "UseDefaultRuntime",
            result=sfn.Result.from_number(default_runtime_seconds),
            result_path=runtime,
        )
        runtime_too_long = sfn.Fail(
            self,
            "RuntimeTooLong",
            error=VALIDATION_ERROR,
            cause=f"max_runtime_seconds: longer than this workflow follows a job; allowed: "
            f"1..{max_runtime_seconds} (optimization.workflow_timeout_hours {timeout_hours:g} "
            "minus one hour for the job to start and finish)",
        )

        launch = tasks.LambdaInvoke(
            self,
            "Launch",
            lambda_function=launcher,
            payload=sfn.TaskInput.from_json_path_at("$.request"),
            result_selector={
                key: sfn.JsonPath.string_at(f"$.Payload.{key}")
                for key in ("job_name", "job_arn", "output_s3_uri", "created")
            },
            result_path="$.launch",
        )
        read_refusal = sfn.Pass(
            self,
            "ReadRefusal",
            comment="Cause is the Lambda error as a JSON string; keep its errorMessage",
            parameters={
                "message": sfn.JsonPath.string_to_json(sfn.JsonPath.string_at("$.error.Cause"))
            },
            result_path="$.refusal",
        )
        refused = sfn.Fail(
            self,
            "RequestRefused",
            error=VALIDATION_ERROR,
            cause_path="$.refusal.message.errorMessage",
        )
        launch.add_catch(read_refusal, errors=[VALIDATION_ERROR], result_path="$.error")

        start_polling = sfn.Pass(
            self,
            "StartPolling",
            result=sfn.Result.from_object({"count": 0}),
            result_path="$.polls",
        )
        wait = sfn.Wait(
            self,
            "WaitForJob",
            time=sfn.WaitTime.duration(cdk.Duration.seconds(poll_seconds)),
        )
        describe = tasks.CallAwsService(
            self,
            "DescribeJob",
            service="sagemaker",
            action="describeOptimizationJob",
            iam_action="sagemaker:DescribeOptimizationJob",
            iam_resources=[jobs_arn],
            parameters={"OptimizationJobName": job_name},
            result_path="$.job",
        )
        # Read-only: retrying any error (throttling, a transient 5xx) is safe.
        describe.add_retry(interval=cdk.Duration.seconds(10), max_attempts=5, backoff_rate=2.0)

        recorder_input = sfn.TaskInput.from_object(
            {"job_name": job_name, "job": sfn.JsonPath.object_at("$.job")}
        )
        record_result = tasks.LambdaInvoke(
            self,
            "RecordResult",
            lambda_function=recorder,
            payload=recorder_input,
            output_path="$.Payload",
        )
        succeeded = sfn.Succeed(self, "Succeeded", comment="Output: the recorded result")
        record_failure = tasks.LambdaInvoke(
            self,
            "RecordFailure",
            lambda_function=recorder,
            payload=recorder_input,
            result_selector={
                key: sfn.JsonPath.string_at(f"$.Payload.{key}")
                for key in ("job_name", "status", "failure_reason")
            },
            result_path="$.result",
        )
        job_failed = sfn.Fail(
            self,
            "JobFailed",
            error="OptimizationJobFailed",
            cause_path=sfn.JsonPath.format(
                "Optimization job {} ended {}: {}",
                sfn.JsonPath.string_at("$.result.job_name"),
                sfn.JsonPath.string_at("$.result.status"),
                sfn.JsonPath.string_at("$.result.failure_reason"),
            ),
        )

        max_polls = math.ceil(timeout_seconds / poll_seconds)
        within_limit = sfn.Choice(self, "WithinTimeLimit")
        count_poll = sfn.Pass(
            self,
            "CountPoll",
            parameters={"count": sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.polls.count"), 1)},
            result_path="$.polls",
        )
        stop_job = tasks.CallAwsService(
            self,
            "StopJob",
            service="sagemaker",
            action="stopOptimizationJob",
            iam_action="sagemaker:StopOptimizationJob",
            iam_resources=[jobs_arn],
            parameters={"OptimizationJobName": job_name},
            result_path=sfn.JsonPath.DISCARD,
        )
        notify_timeout = tasks.SnsPublish(
            self,
            "NotifyTimedOut",
            topic=job_topic,
            subject="Optimization job stopped: workflow time limit",
            message=sfn.TaskInput.from_text(
                sfn.JsonPath.format(
                    f"Optimization job {{}} did not end within {timeout_hours:g} hours; the "
                    "workflow asked SageMaker to stop it. Job ARN: {}",
                    job_name,
                    sfn.JsonPath.string_at("$.launch.job_arn"),
                )
            ),
            message_attributes={
                "status": tasks.MessageAttribute(value="TIMED_OUT"),
                "job_name": tasks.MessageAttribute(value=job_name),
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        # The job may end between the last poll and the stop: notify anyway.
        stop_job.add_catch(notify_timeout, result_path="$.stop_error")
        timed_out = sfn.Fail(
            self,
            "TimedOut",
            error="WorkflowTimedOut",
            cause=f"The optimization job did not end within {timeout_hours:g} hours "
            "(optimization.workflow_timeout_hours); the workflow asked SageMaker to stop it",
        )

        status = "$.job.OptimizationJobStatus"
        definition = accept.next(
            sfn.Choice(self, "CheckRuntime")
            .when(
                sfn.Condition.or_(
                    sfn.Condition.is_not_present(runtime), sfn.Condition.is_null(runtime)
                ),
                use_default_runtime.next(launch),
            )
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_numeric(runtime),
                    sfn.Condition.number_greater_than(runtime, max_runtime_seconds),
                ),
                runtime_too_long,
            )
            .otherwise(launch)
        )
        read_refusal.next(refused)
        launch.next(start_polling).next(wait).next(describe).next(
            sfn.Choice(self, "JobStatus")
            .when(sfn.Condition.string_equals(status, COMPLETED), record_result.next(succeeded))
            .when(
                sfn.Condition.or_(
                    *(sfn.Condition.string_equals(status, s) for s in FAILED_STATUSES)
                ),
                record_failure.next(job_failed),
            )
            .otherwise(
                within_limit.when(
                    sfn.Condition.number_greater_than_equals("$.polls.count", max_polls),
                    stop_job.next(notify_timeout).next(timed_out),
                ).otherwise(count_poll.next(wait))
            )
        )

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention,
            encryption_key=key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment="Launches a SageMaker optimization job and follows it to its end",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=cdk.Duration.seconds(timeout_seconds + poll_seconds + BACKSTOP_SECONDS),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        # Publishing to the KMS-encrypted topic (NotifyTimedOut).
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                sid="UseProjectKeyForTopic",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key.key_arn],
            )
        )
        self.max_polls = max_polls
        acknowledge_wildcards(
            self.state_machine.role,
            {
                **{
                    f"{function.function_arn}:*": (
                        "CDK grants invoke on the function and its versions/aliases; the "
                        "workflow calls only this function."
                    )
                    for function in (launcher, recorder)
                },
                jobs_arn: (
                    "The workflow describes and stops the job its launcher started, whose name "
                    "is only known at run time; jobs of this account and Region only."
                ),
            },
        )
        acknowledge(
            self.state_machine.role,
            {
                "AwsSolutions-IAM5[Resource::*]": (
                    "X-Ray tracing and CloudWatch Logs delivery (CDK's standard statements) "
                    "have no resource-level permissions."
                ),
                "NIST.800.53.R5-IAMNoInlinePolicy": (
                    "The state machine's role has only the inline policy CDK writes for its "
                    "tasks; it lives and dies with the state machine."
                ),
            },
        )
