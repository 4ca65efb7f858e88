"""Regenerates what each image of workbench_domain/serving_images.json reads, from its sources.

Not part of `make test` (it needs the containers' sources, which are not shipped in a package):
a maintainer runs it when adding an image row, with a clone of deepjavalibrary/djl-serving and
the vLLM wheels of the images' vLLM versions (`pip download --no-deps vllm==X`), then reviews
the diff. The keys of an image are the `OPTION_<KEY>` variables its server reads:

* the fields of the DJL Python properties classes the engine uses (djl-serving
  `engines/python/setup/djl_python/properties_manager/<file>.py` on the image's `-dlc` branch);
* the `option.<key>` names the engine's user guide documents (same branch, `serving/docs/lmi/`);
* the `option.<key>` names the Java front end reads (`wlm/`, `serving/`, `engines/python/`), and
  the cases of `PyModel.java`'s option switch;
* for vLLM images, every field of vLLM's `EngineArgs` at the image's vLLM version, which LMI
  passes through (`vllm_rb_properties.py`, `get_additional_vllm_engine_args`).

For vLLM images it also regenerates `dtypes` (the keys of `DTYPE_MAPPER` in
`vllm_rb_properties.py`) and `quantizations` (vLLM's `QuantizationMethods` literal,
`vllm/model_executor/layers/quantization/__init__.py`).

Two rows are not LMI images and read other variables (each row's `key_prefix`):

* `vllm_dlc`, AWS's vLLM DLC for SageMaker: its entrypoint turns every `SM_VLLM_<NAME>` into the
  server flag `--<name>` (aws/deep-learning-containers `scripts/docker/vllm/sagemaker_args.py`),
  so its keys are the flags of vLLM's OpenAI server at the image's vLLM version: the literal
  `--flags` of `vllm/engine/arg_utils.py` and `vllm/entrypoints/openai/cli_args.py`, and the
  fields of `FrontendArgs`; `dtypes` are vLLM's `ModelDType` literal (`vllm/config/model.py`).
* both answer /invocations with vLLM's own server: `completion_fields` are the fields of vLLM's
  `CompletionRequest` at the image's version, which the clients' completion requests must use;
* `neuron_vllm`, Hugging Face's vLLM Neuron DLC: its entrypoint turns every `SM_ON_<NAME>` into
  `--<name>` of `optimum-cli neuron serve` (huggingface/optimum-neuron `docker/vllm/Dockerfile`),
  whose own arguments (`optimum/commands/neuron/serve.py`, given with `--optimum-neuron`) come
  first and whose unknown ones go on to vLLM's parser, which reads `_` as `-`. Its keys are both;
  `flag_only_keys` are the serve command's `store_true` arguments, which take an empty value.

    python -m tools.serving_keys --djl-serving /path/to/djl-serving.git \
        --optimum-neuron /path/to/optimum-neuron.git \
        --vllm-wheel 0.15.1=/path/vllm-0.15.1.whl --vllm-wheel 0.12.0=/path/vllm-0.12.0.whl ...

Every `sources` entry of a row names a repository, a ref and a path, and a `quote` (a line the
file at that ref contains) or `unverified` (why it could not be checked). `--check-quotes`
re-reads each quoted file (clones given with `--repo OWNER/NAME=GITDIR`, vLLM from the wheels)
and fails on a quote the file does not contain:

    python -m tools.serving_keys --check-quotes --djl-serving djl-serving.git \
        --repo aws/deep-learning-containers=dlc.git --repo aws/sagemaker-python-sdk=sdk.git \
        --repo aws-samples/sagemaker-genai-hosting-examples=samples.git \
        --vllm-wheel 0.15.1=vllm-0.15.1.whl --vllm-wheel 0.12.0=vllm-0.12.0.whl
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "workbench_domain" / "serving_images.json"
PROPERTIES = "engines/python/setup/djl_python/properties_manager/"
JAVA_DIRS = ("wlm/src/main", "serving/src/main", "engines/python/src/main")
# Keys of the Java front end that are not `option.*` literals: PyModel.java's option switch.
PYMODEL = "engines/python/src/main/java/ai/djl/python/engine/PyModel.java"
# Where vLLM defines its CompletionRequest (moved to completion/ after 0.11).
COMPLETION_PROTOCOLS = (
    "vllm/entrypoints/openai/completion/protocol.py",
    "vllm/entrypoints/openai/protocol.py",
)
# The serve command of Hugging Face's vLLM Neuron DLC (huggingface/optimum-neuron).
SERVE = "optimum/commands/neuron/serve.py"


def git_show(repo: Path, ref: str, path: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"{ref}:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def git_grep(repo: Path, ref: str, pattern: str, paths: tuple[str, ...]) -> set[str]:
    result = subprocess.run(
        ["git", "--git-dir", str(repo), "grep", "-ohE", pattern, ref, "--", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    return {line.split(":", 1)[-1] for line in result.stdout.split()}


def class_fields(source: str, names: tuple[str, ...]) -> set[str]:
    fields = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name in names:
            for item in node.body:
                target = getattr(item, "target", None)
                if isinstance(item, ast.AnnAssign) and isinstance(target, ast.Name):
                    fields.add(target.id)
    fields.discard("model_config")  # pydantic's settings, not a property
    return fields


def wheel_file(wheel: Path, path: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(path).decode()


def engine_args(wheel: Path) -> set[str]:
    return class_fields(wheel_file(wheel, "vllm/engine/arg_utils.py"), ("EngineArgs",))


def quantization_methods(wheel: Path) -> list[str]:
    source = wheel_file(wheel, "vllm/model_executor/layers/quantization/__init__.py")
    literal = source[source.index("QuantizationMethods = Literal[") :]
    return re.findall(r'"([a-z0-9_-]+)"', literal[: literal.index("]")])


def literal_flags(source: str) -> set[str]:
    """The `--flag` string literals passed to `add_argument` in a source file, as names."""
    flags = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
            for arg in node.args:
                if isinstance(arg, ast.Constant) and str(arg.value).startswith("--"):
                    flags.add(str(arg.value)[2:].replace("-", "_"))
    return flags


def server_flags(wheel: Path) -> set[str]:
    """The flags of vLLM's OpenAI server (`make_arg_parser`), as names with `_`."""
    cli = wheel_file(wheel, "vllm/entrypoints/openai/cli_args.py")
    return (
        literal_flags(wheel_file(wheel, "vllm/engine/arg_utils.py"))
        | literal_flags(cli)
        | class_fields(cli, ("FrontendArgs", "BaseFrontendArgs"))
    )


def literal_values(source: str, name: str) -> list[str]:
    """The strings of `<name> = Literal[...]` in a source file."""
    literal = source[source.index(f"{name} = Literal[") :]
    return re.findall(r'"([a-z0-9_-]+)"', literal[: literal.index("]")])


def store_true_arguments(source: str) -> tuple[set[str], set[str]]:
    """(every argument, the `store_true` ones) that a parser adds, by their first long name."""
    names, flags = set(), set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"):
            continue
        values = [str(getattr(a, "value", "")) for a in node.args]
        longs = [value[2:] for value in values if value.startswith("--")]
        if not longs:
            continue
        name = longs[0].replace("-", "_")
        names.add(name)
        if any(
            k.arg == "action" and getattr(k.value, "value", "") == "store_true"
            for k in node.keywords
        ):
            flags.add(name)
    return names, flags


def prefixed(prefix: str, names: set[str]) -> list[str]:
    return sorted(
        f"{prefix}{name.upper()}" for name in names if re.fullmatch(r"[a-z][a-z0-9_]*", name)
    )


def completion_fields(wheel: Path) -> list[str]:
    """The fields of vLLM's CompletionRequest: what its /invocations reads of a completion."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    path = next(p for p in COMPLETION_PROTOCOLS if p in names)
    return sorted(class_fields(wheel_file(wheel, path), ("CompletionRequest",)))


def dtype_names(source: str) -> list[str]:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DTYPE_MAPPER":
            return [key.value for key in node.value.keys]  # type: ignore[attr-defined]
    raise SystemExit("DTYPE_MAPPER not found")


def option_keys(row: dict[str, Any], repo: Path, wheels: dict[str, Path]) -> list[str]:
    ref = row["djl_serving_branch"]
    keys: set[str] = set()
    for file, classes in row["properties_classes"].items():
        keys |= class_fields(git_show(repo, ref, PROPERTIES + file), tuple(classes))
    for doc in row["user_guides"]:
        keys |= {
            k.removeprefix("option.")
            for k in re.findall(r"option\.([a-z_]+)", git_show(repo, ref, doc))
        }
    keys |= {
        k.strip('"').removeprefix("option.")
        for k in git_grep(repo, ref, r'"option\.[a-z_]+"', JAVA_DIRS)
    }
    keys |= set(re.findall(r'case "([a-z_]+)":', git_show(repo, ref, PYMODEL)))
    keys.add("entrypoint")  # ModelInfo.java maps OPTION_ENTRYPOINT to option.entryPoint
    if row.get("vllm"):
        keys |= engine_args(wheels[row["vllm"]])
    keys.discard("model_id_or_path")  # computed by Properties from model_id/model_dir
    return sorted(f"OPTION_{key.upper()}" for key in keys if re.fullmatch(r"[a-z][a-z0-9_]*", key))


def source_text(
    source: dict[str, Any], repos: dict[str, Path], wheels: dict[str, Path]
) -> str | None:
    """The cited file at the cited ref, or None when no copy of it was given."""
    repository, ref, path = source["repository"], source["ref"], source["path"]
    if repository == "vllm-project/vllm":
        wheel = wheels.get(ref.removeprefix("v"))
        return wheel_file(wheel, path) if wheel else None
    if repository not in repos:
        return None
    text = git_show(repos[repository], ref, path)
    if path.endswith(".ipynb"):
        cells = json.loads(text)["cells"]
        text = "\n".join("".join(cell["source"]) for cell in cells)
    return text


def check_quotes(
    table: dict[str, Any], repos: dict[str, Path], wheels: dict[str, Path]
) -> list[str]:
    """Every quote of the table that its cited file does not contain, and the sources that
    could not be read (no copy given)."""
    problems = []
    for row in table["images"]:
        for source in row["sources"]:
            if "quote" not in source:
                continue
            where = f"{row['tag']}: {source['repository']} {source['ref']} {source['path']}"
            text = source_text(source, repos, wheels)
            if text is None:
                problems.append(f"{where}: not checked (no copy of it given)")
            elif source["quote"] not in text:
                problems.append(f"{where}: does not contain {source['quote']!r}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--djl-serving", type=Path, required=True, help="a djl-serving git dir")
    parser.add_argument("--optimum-neuron", type=Path, help="an optimum-neuron git dir")
    parser.add_argument("--vllm-wheel", action="append", default=[], help="VERSION=PATH")
    parser.add_argument(
        "--repo", action="append", default=[], help="OWNER/NAME=GITDIR, for --check-quotes"
    )
    parser.add_argument(
        "--check-quotes",
        action="store_true",
        help="check that every cited file contains its quote; change nothing",
    )
    args = parser.parse_args()
    wheels = {v: Path(p) for v, _, p in (w.partition("=") for w in args.vllm_wheel)}
    table = json.loads(TABLE.read_text())
    if args.check_quotes:
        repos = {r: Path(p) for r, _, p in (w.partition("=") for w in args.repo)}
        repos["deepjavalibrary/djl-serving"] = args.djl_serving
        if args.optimum_neuron:
            repos["huggingface/optimum-neuron"] = args.optimum_neuron
        problems = check_quotes(table, repos, wheels)
        for problem in problems:
            print(problem)
        raise SystemExit(1 if problems else 0)
    for row in table["images"]:
        if row.get("request_schema") == "openai":
            row["completion_fields"] = completion_fields(wheels[row["vllm"]])
        if row["engine"] == "vllm_dlc":
            wheel = wheels[row["vllm"]]
            row["keys"] = prefixed(row["key_prefix"], server_flags(wheel))
            row["dtypes"] = literal_values(wheel_file(wheel, "vllm/config/model.py"), "ModelDType")
            row["quantizations"] = quantization_methods(wheel)
            continue
        if row["engine"] == "neuron_vllm":
            serve = git_show(args.optimum_neuron, row["optimum_neuron"], SERVE)
            own, flag_only = store_true_arguments(serve)
            row["keys"] = prefixed(row["key_prefix"], own | server_flags(wheels[row["vllm"]]))
            row["flag_only_keys"] = prefixed(row["key_prefix"], flag_only)
            continue
        row["keys"] = option_keys(row, args.djl_serving, wheels)
        if row.get("vllm"):
            properties = git_show(
                args.djl_serving, row["djl_serving_branch"], PROPERTIES + "vllm_rb_properties.py"
            )
            row["dtypes"] = dtype_names(properties)
            row["quantizations"] = quantization_methods(wheels[row["vllm"]])
    TABLE.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
