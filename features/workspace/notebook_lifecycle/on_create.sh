#!/bin/bash
# On-create lifecycle script of the workbench notebook instance: runs once, as root, when the
# instance is created, before the first on-start. It prepares the folders on the notebook volume
# (/home/ec2-user/SageMaker, the only path kept across stop and start) so that they belong to
# ec2-user; on_start.sh does the rest at every start.
#
# It takes no placeholders, but the CDK app stores it through Fn::Sub like on_start.sh, so it
# never writes a bash variable with braces (write $name).
set -euo pipefail

SAGEMAKER_HOME=/home/ec2-user/SageMaker

install -d -o ec2-user -g ec2-user -m 0700 "$SAGEMAKER_HOME/.genai-optimization"
install -d -o ec2-user -g ec2-user -m 0755 "$SAGEMAKER_HOME/genai-optimization"
echo "[genai-optimization] created $SAGEMAKER_HOME/genai-optimization and its state folder"
