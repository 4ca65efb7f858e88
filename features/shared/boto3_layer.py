"""A Lambda layer holding the boto3/botocore pinned for a function, built without Docker."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from features.shared.layer_build import HOW_TO_BUILD, build_problem, read_record

LAYER_DIR = Path(__file__).resolve().parents[2] / "build" / "layers" / "boto3"


class MissingBuildError(RuntimeError):
    """A build output the synth needs is missing or stale; the message says how to make it."""


class Boto3Layer(Construct):
    """Owns one layer version made from `build/layers/boto3`, which `make bootstrap` builds.

    The Lambda runtime bundles its own boto3, which may be too old for the APIs a function calls;
    layers come before the runtime's packages on `sys.path`, so this one wins. The layer is built
    by `tools/build_layer.py` (pure-Python wheels for the runtime's Python version) and checked
    here against the function's runtime and the current requirements file, so a synth never ships
    a layer built for something else. Its asset hash is the requirements' digest: the template
    changes when the pins change, not when pip resolves a newer transitive wheel.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        runtime: lambda_.Runtime,
        requirements: Path,
        layer_dir: Path = LAYER_DIR,
    ) -> None:
        super().__init__(scope, id_)
        python_version = runtime.name.removeprefix("python")
        problem = build_problem(layer_dir, requirements, python_version)
        if problem is not None:
            raise MissingBuildError(
                f"{problem}: {HOW_TO_BUILD}; the functions run {runtime.name} (a new runtime "
                "also needs PYTHON_VERSION in tools/build_layer.py)"
            )
        record = read_record(layer_dir)
        assert record is not None  # build_problem found none: the record exists
        packages = record["packages"]
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(
                str(layer_dir),
                asset_hash_type=cdk.AssetHashType.CUSTOM,
                asset_hash=f"{record['requirements_sha256']}-py{python_version}",
            ),
            # Named after the stack, as CloudFormation names what it generates, so that the
            # execution policy can scope layer actions to this deployment's names.
            layer_version_name=f"{cdk.Stack.of(self).stack_name}-boto3",
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.ARM_64, lambda_.Architecture.X86_64],
            description=f"boto3 {packages.get('boto3')}, botocore {packages.get('botocore')} "
            f"(pinned in {requirements.parent.name}/{requirements.name})",
        )
