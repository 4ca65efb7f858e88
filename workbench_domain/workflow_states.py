"""The status names the optimization workflow and its readers agree on.

Optimization jobs: DescribeOptimizationJob's ``OptimizationJobStatus`` (botocore's SageMaker model;
a unit test checks these are among its values). Workflow executions: Step Functions'
DescribeExecution ``status`` (botocore's states model, checked the same way).
"""

from __future__ import annotations

from workbench_domain.errors import ValidationError

JOB_COMPLETED = "COMPLETED"
JOB_FAILED_STATUSES = ("FAILED", "STOPPED")
JOB_TERMINAL_STATUSES = (JOB_COMPLETED, *JOB_FAILED_STATUSES)

EXECUTION_SUCCEEDED = "SUCCEEDED"
EXECUTION_RUNNING_STATUSES = ("RUNNING", "PENDING_REDRIVE")

# Step Functions matches a Lambda's error by the exception's class name (ErrorEquals).
REFUSED_REQUEST_ERROR = ValidationError.__name__
