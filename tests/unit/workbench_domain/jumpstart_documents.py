"""Recorded JumpStart documents: excerpts of public recordings, values verbatim, never typed.

SDK_HUB_DOCUMENT: the `HubContentDocument` of a DescribeHubContent response that the SageMaker
Python SDK records for its own tests: aws/sagemaker-python-sdk, commit
a24812666d258d9d19c9a82d0c9385ca0bd3ba01, `sagemaker-core/tests/unit/jumpstart/
hub_content_document.json` (meta-textgeneration-llama-2-13b-f, us-east-1). The excerpt keeps the
keys the app reads (training keys, payloads and benchmark metrics left out) and, of
`HostingInstanceTypeVariants`, the families and instance types the tests use; every kept value
is as recorded. It has no top-level `HostingEcrUri` (only `HostingEcrSpecs`), gives images per
instance family, and spells the draft channel list `speculative_decoding`.

No public recording of a Llama-3 hub document was found (the SDK's tests at v2.257.1 and at the
commit above hold only this one). LLAMA31_70B_DRAFT_SOURCE is the draft data source of the
`lmi-optimized` config of the Llama-3.1 70B JumpStart spec the SDK records: same repository and
commit, `sagemaker-serve/tests/unit/servers/data/jumpstart_specs/
meta-textgeneration-llama-3-1-70b.json`, `inference_config_components.lmi-optimized.
hosting_additional_data_sources.speculative_decoding[0]`: a key relative to the bucket of its
provider (JumpStart, gated).
"""

import json

SDK_HUB_DOCUMENT = json.loads(
    r"""
{
 "Provider": "meta",
 "HostingEcrSpecs": {
  "Framework": "huggingface-llm",
  "FrameworkVersion": "2.0.0",
  "PyVersion": "py310"
 },
 "HostingArtifactUri": "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-2-13b-f/artifacts/inference-prepack/v1.1.0/",
 "GatedBucket": true,
 "InferenceEnvironmentVariables": [
  {
   "Name": "SAGEMAKER_PROGRAM",
   "Type": "text",
   "Default": "inference.py",
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "SAGEMAKER_SUBMIT_DIRECTORY",
   "Type": "text",
   "Default": "/opt/ml/model/code",
   "Scope": "container",
   "RequiredForModelClass": false
  },
  {
   "Name": "SAGEMAKER_CONTAINER_LOG_LEVEL",
   "Type": "text",
   "Default": "20",
   "Scope": "container",
   "RequiredForModelClass": false
  },
  {
   "Name": "SAGEMAKER_MODEL_SERVER_TIMEOUT",
   "Type": "text",
   "Default": "3600",
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "ENDPOINT_SERVER_TIMEOUT",
   "Type": "int",
   "Default": 3600,
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "MODEL_CACHE_ROOT",
   "Type": "text",
   "Default": "/opt/ml/model",
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "SAGEMAKER_ENV",
   "Type": "text",
   "Default": "1",
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "HF_MODEL_ID",
   "Type": "text",
   "Default": "/opt/ml/model",
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "SM_NUM_GPUS",
   "Type": "text",
   "Default": "4",
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "MAX_INPUT_LENGTH",
   "Type": "text",
   "Default": "4095",
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "MAX_TOTAL_TOKENS",
   "Type": "text",
   "Default": "4096",
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "MAX_BATCH_PREFILL_TOKENS",
   "Type": "text",
   "Default": "16384",
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "MAX_CONCURRENT_REQUESTS",
   "Type": "text",
   "Default": "512",
   "Scope": "container",
   "RequiredForModelClass": true
  },
  {
   "Name": "SAGEMAKER_MODEL_SERVER_WORKERS",
   "Type": "int",
   "Default": 1,
   "Scope": "container",
   "RequiredForModelClass": true
  }
 ],
 "DefaultInferenceInstanceType": "ml.g5.12xlarge",
 "InferenceConfigs": {
  "tgi": {
   "ComponentNames": [
    "tgi"
   ]
  },
  "lmi": {
   "ComponentNames": [
    "lmi"
   ]
  },
  "lmi-optimized": {
   "ComponentNames": [
    "lmi-optimized"
   ]
  }
 },
 "InferenceConfigComponents": {
  "tgi": {
   "HostingEcrSpecs": {
    "Framework": "huggingface-llm",
    "FrameworkVersion": "2.0.0",
    "PyVersion": "py310"
   },
   "HostingArtifactUri": "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-2-13b-f/artifacts/inference-prepack/v1.1.0/",
   "HostingInstanceTypeVariants": {
    "Variants": {
     "g5": {
      "Properties": {
       "ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi2.0.0-gpu-py310-cu121-ubuntu22.04"
      }
     },
     "p4d": {
      "Properties": {
       "ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi2.0.0-gpu-py310-cu121-ubuntu22.04"
      }
     },
     "p5": {
      "Properties": {
       "ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi2.0.0-gpu-py310-cu121-ubuntu22.04"
      }
     },
     "ml.p4d.24xlarge": {
      "Properties": {
       "EnvironmentVariables": {
        "SM_NUM_GPUS": "8"
       },
       "ResourceRequirements": {
        "MinMemoryMb": 589824,
        "NumAccelerators": 8
       }
      }
     },
     "ml.g5.12xlarge": {
      "Properties": {
       "EnvironmentVariables": {
        "SM_NUM_GPUS": "4"
       },
       "ResourceRequirements": {
        "MinMemoryMb": 98304,
        "NumAccelerators": 4
       }
      }
     }
    }
   },
   "InferenceEnvironmentVariables": [
    {
     "Name": "SAGEMAKER_PROGRAM",
     "Type": "text",
     "Default": "inference.py",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "SAGEMAKER_SUBMIT_DIRECTORY",
     "Type": "text",
     "Default": "/opt/ml/model/code",
     "Scope": "container",
     "RequiredForModelClass": false
    },
    {
     "Name": "SAGEMAKER_CONTAINER_LOG_LEVEL",
     "Type": "text",
     "Default": "20",
     "Scope": "container",
     "RequiredForModelClass": false
    },
    {
     "Name": "SAGEMAKER_MODEL_SERVER_TIMEOUT",
     "Type": "text",
     "Default": "3600",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "ENDPOINT_SERVER_TIMEOUT",
     "Type": "int",
     "Default": 3600,
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "MODEL_CACHE_ROOT",
     "Type": "text",
     "Default": "/opt/ml/model",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "SAGEMAKER_ENV",
     "Type": "text",
     "Default": "1",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "HF_MODEL_ID",
     "Type": "text",
     "Default": "/opt/ml/model",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "SM_NUM_GPUS",
     "Type": "text",
     "Default": "4",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "MAX_INPUT_LENGTH",
     "Type": "text",
     "Default": "4095",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "MAX_TOTAL_TOKENS",
     "Type": "text",
     "Default": "4096",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "MAX_BATCH_PREFILL_TOKENS",
     "Type": "text",
     "Default": "16384",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "MAX_CONCURRENT_REQUESTS",
     "Type": "text",
     "Default": "512",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "SAGEMAKER_MODEL_SERVER_WORKERS",
     "Type": "int",
     "Default": 1,
     "Scope": "container",
     "RequiredForModelClass": true
    }
   ],
   "ContainerStartupHealthCheckTimeout": 1200,
   "HostingEcrUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi2.0.0-gpu-py310-cu121-ubuntu22.04"
  },
  "lmi": {
   "HostingEcrSpecs": {
    "Framework": "djl-lmi",
    "FrameworkVersion": "0.28.0",
    "PyVersion": "py310"
   },
   "HostingArtifactUri": "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-2-13b-f/artifacts/inference-prepack/v1.1.0/",
   "HostingInstanceTypeVariants": {
    "Variants": {
     "g5": {
      "Properties": {
       "ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124"
      }
     },
     "p4d": {
      "Properties": {
       "ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124"
      }
     },
     "p5": {
      "Properties": {
       "ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124"
      }
     },
     "ml.p4d.24xlarge": {
      "Properties": {
       "EnvironmentVariables": {
        "OPTION_TENSOR_PARALLEL_DEGREE": "2"
       },
       "ResourceRequirements": {
        "MinMemoryMb": 589824,
        "NumAccelerators": 8
       }
      }
     },
     "ml.p5.48xlarge": {
      "Properties": {
       "EnvironmentVariables": {
        "OPTION_TENSOR_PARALLEL_DEGREE": "1",
        "OPTION_GPU_MEMORY_UTILIZATION": "0.95"
       }
      }
     },
     "ml.g5.12xlarge": {
      "Properties": {
       "ResourceRequirements": {
        "MinMemoryMb": 98304,
        "NumAccelerators": 4
       }
      }
     }
    }
   },
   "InferenceEnvironmentVariables": [
    {
     "Name": "SAGEMAKER_PROGRAM",
     "Type": "text",
     "Default": "inference.py",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "SAGEMAKER_SUBMIT_DIRECTORY",
     "Type": "text",
     "Default": "/opt/ml/model/code",
     "Scope": "container",
     "RequiredForModelClass": false
    },
    {
     "Name": "SAGEMAKER_CONTAINER_LOG_LEVEL",
     "Type": "text",
     "Default": "20",
     "Scope": "container",
     "RequiredForModelClass": false
    },
    {
     "Name": "SAGEMAKER_MODEL_SERVER_TIMEOUT",
     "Type": "text",
     "Default": "3600",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "ENDPOINT_SERVER_TIMEOUT",
     "Type": "int",
     "Default": 3600,
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "MODEL_CACHE_ROOT",
     "Type": "text",
     "Default": "/opt/ml/model",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "SAGEMAKER_ENV",
     "Type": "text",
     "Default": "1",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "HF_MODEL_ID",
     "Type": "text",
     "Default": "/opt/ml/model",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "SAGEMAKER_MODEL_SERVER_WORKERS",
     "Type": "int",
     "Default": 1,
     "Scope": "container",
     "RequiredForModelClass": true
    }
   ],
   "ContainerStartupHealthCheckTimeout": 1200,
   "HostingEcrUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124"
  },
  "lmi-optimized": {
   "HostingEcrSpecs": {
    "Framework": "djl-lmi",
    "FrameworkVersion": "0.28.0",
    "PyVersion": "py310"
   },
   "HostingArtifactUri": "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-2-13b-f/artifacts/inference-prepack/v1.1.0/",
   "HostingAdditionalDataSources": {
    "speculative_decoding": [
     {
      "ChannelName": "draft_model",
      "ArtifactVersion": "v2",
      "S3DataSource": {
       "CompressionType": "None",
       "S3DataType": "S3Prefix",
       "S3Uri": "s3://sagemaker-sd-models-prod-us-east-1/sagemaker-speculative-decoding-llama2-tiny-v2/"
      }
     }
    ]
   },
   "HostingInstanceTypeVariants": {
    "Variants": {
     "g5": {
      "Properties": {
       "ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124"
      }
     },
     "p4d": {
      "Properties": {
       "ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124"
      }
     },
     "p5": {
      "Properties": {
       "ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124"
      }
     },
     "ml.p4d.24xlarge": {
      "Properties": {
       "EnvironmentVariables": {
        "OPTION_TENSOR_PARALLEL_DEGREE": "2"
       },
       "ResourceRequirements": {
        "MinMemoryMb": 589824,
        "NumAccelerators": 8
       }
      }
     },
     "ml.p5.48xlarge": {
      "Properties": {
       "EnvironmentVariables": {
        "OPTION_TENSOR_PARALLEL_DEGREE": "1",
        "OPTION_GPU_MEMORY_UTILIZATION": "0.95"
       }
      }
     },
     "ml.g5.12xlarge": {
      "Properties": {
       "ResourceRequirements": {
        "MinMemoryMb": 98304,
        "NumAccelerators": 4
       }
      }
     }
    }
   },
   "InferenceEnvironmentVariables": [
    {
     "Name": "SAGEMAKER_PROGRAM",
     "Type": "text",
     "Default": "inference.py",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "SAGEMAKER_SUBMIT_DIRECTORY",
     "Type": "text",
     "Default": "/opt/ml/model/code",
     "Scope": "container",
     "RequiredForModelClass": false
    },
    {
     "Name": "SAGEMAKER_CONTAINER_LOG_LEVEL",
     "Type": "text",
     "Default": "20",
     "Scope": "container",
     "RequiredForModelClass": false
    },
    {
     "Name": "SAGEMAKER_MODEL_SERVER_TIMEOUT",
     "Type": "text",
     "Default": "3600",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "ENDPOINT_SERVER_TIMEOUT",
     "Type": "int",
     "Default": 3600,
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "MODEL_CACHE_ROOT",
     "Type": "text",
     "Default": "/opt/ml/model",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "SAGEMAKER_ENV",
     "Type": "text",
     "Default": "1",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "HF_MODEL_ID",
     "Type": "text",
     "Default": "/opt/ml/model",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "OPTION_SPECULATIVE_DRAFT_MODEL",
     "Type": "text",
     "Default": "/opt/ml/additional-model-data-sources/draft_model",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "OPTION_GPU_MEMORY_UTILIZATION",
     "Type": "text",
     "Default": "0.85",
     "Scope": "container",
     "RequiredForModelClass": true
    },
    {
     "Name": "SAGEMAKER_MODEL_SERVER_WORKERS",
     "Type": "int",
     "Default": 1,
     "Scope": "container",
     "RequiredForModelClass": true
    }
   ],
   "ContainerStartupHealthCheckTimeout": 1200,
   "HostingEcrUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124"
  }
 }
}
"""
)

LLAMA31_70B_DRAFT_SOURCE = json.loads(
    r"""
{
 "artifact_version": "v1.0.0",
 "channel_name": "draft_model",
 "hosting_eula_key": "fmhMetadata/eula/llama3_2Eula.txt",
 "provider": {
  "classification": "gated",
  "name": "JumpStart"
 },
 "s3_data_source": {
  "compression_type": "None",
  "s3_data_type": "S3Prefix",
  "s3_uri": "meta-textgeneration/meta-textgeneration-llama-3-2-1b/artifacts/inference-prepack/v1.0.0/"
 }
}
"""
)


def hub_response(document=SDK_HUB_DOCUMENT, name="meta-textgeneration-llama-2-13b-f") -> dict:
    """A DescribeHubContent response around `document`. The envelope's fields are the API's
    (botocore validates them when a Stubber returns this); the document is the recording."""
    from datetime import UTC, datetime

    return {
        "HubContentName": name,
        "HubContentArn": f"arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/{name}/4.0.0",
        "HubContentVersion": "4.0.0",
        "HubContentType": "Model",
        "DocumentSchemaVersion": "2.3.0",
        "HubName": "SageMakerPublicHub",
        "HubArn": "arn:aws:sagemaker:us-east-1:aws:hub/SageMakerPublicHub",
        "HubContentDocument": json.dumps(document),
        "HubContentStatus": "Available",
        "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
    }


def hub_client(document=SDK_HUB_DOCUMENT, *, region="us-east-1", name=None):
    """A SageMaker client whose one DescribeHubContent call (validated by Stubber) returns
    `document`."""
    import boto3
    from botocore.stub import Stubber

    name = name or "meta-textgeneration-llama-2-13b-f"
    client = boto3.client("sagemaker", region_name=region)
    stubber = Stubber(client)
    stubber.add_response(
        "describe_hub_content",
        hub_response(document, name),
        {"HubName": "SageMakerPublicHub", "HubContentType": "Model", "HubContentName": name},
    )
    stubber.activate()
    return client, stubber


def pascal_case(value):
    """The document with every snake-case key spelled in PascalCase (the other spelling the SDK
    reads), to show that both spellings parse the same."""
    if isinstance(value, dict):
        return {
            ("".join(p[:1].upper() + p[1:] for p in k.split("_")) if "_" in k else k): (
                v if k == "EnvironmentVariables" else pascal_case(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [pascal_case(v) for v in value]
    return value
