"""Names of the environment variables the CDK app sets on the optimization Lambdas.

`features.optimization.OptimizationLauncher` writes them, `launcher_function.settings` reads
them: one spelling for both sides.
"""

from __future__ import annotations

# Launcher (`launcher_function.handler.handler`).
JOB_ROLE_ARN = "JOB_ROLE_ARN"  # role passed to SageMaker as the job's RoleArn
ARTIFACTS_BUCKET = "ARTIFACTS_BUCKET"  # bucket name; job outputs must be inside it
OUTPUT_PREFIX = "OUTPUT_PREFIX"  # key prefix of default outputs, ending in "/" (optional)
PROJECT_NAME = "PROJECT_NAME"  # value of the "project" tag
ENV_NAME = "ENV_NAME"  # value of the "env" tag
LMI_IMAGE_URI = "LMI_IMAGE_URI"  # default image for quantization on GPU (LMI / vLLM DLC)
TRTLLM_IMAGE_URI = "TRTLLM_IMAGE_URI"  # default image for GPU compilation (TensorRT-LLM DLC)
NEURON_IMAGE_URI = "NEURON_IMAGE_URI"  # default image for Inferentia2 / Trainium (Neuron DLC)
# Both: the key set on OutputConfig.KmsKeyId and on SSE-KMS of the result file.
KMS_KEY_ARN = "KMS_KEY_ARN"
# Recorder (`launcher_function.recorder.handler`).
RESULTS_PARAMETER_PREFIX = "RESULTS_PARAMETER_PREFIX"  # SSM path, one parameter per job
JOB_TOPIC_ARN = "JOB_TOPIC_ARN"  # standard SNS topic notified of every job outcome
