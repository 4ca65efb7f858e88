"""The serving table and the environment derived from typed settings."""

from __future__ import annotations

import dataclasses
import json
import subprocess

import pytest

from tools import serving_keys
from workbench_domain import engine_keys, instances, serving, serving_images
from workbench_domain.serving_environment import advice, container_environment


def test_every_row_cites_its_sources_and_its_default_tag_exists():
    for row in serving_images.images():
        assert row.sources and all(row.sources)
        # A key the image ignores is refused with the reason, not just as unknown.
        assert all(row.ignored.values()) and not set(row.ignored) & row.accepted_keys
        # Every typed setting of the engine becomes a key the image reads.
        assert set(engine_keys.typed_keys(row.engine)) <= row.accepted_keys
        assert row.request_schema in serving_images.REQUEST_SCHEMAS
        assert row.openai_route in serving_images.OPENAI_ROUTE
        assert all(key.startswith(row.key_prefix) for key in row.keys)
        # So is every key the app sets itself, or reserves for the entrypoint.
        app_set = {*engine_keys.app_set_keys(row.engine)}
        if row.speculative_methods and row.engine in engine_keys.SPECULATIVE_KEYS:
            app_set.add(engine_keys.SPECULATIVE_KEYS[row.engine])
        if row.key_prefix == "OPTION_":  # the loading budget the app sets on every LMI image
            app_set.add(engine_keys.MODEL_LOADING_TIMEOUT_KEY)
        assert app_set <= row.keys, (row.tag, app_set - row.keys)
    for engine in serving_images.ENGINE_ACCELERATOR:
        assert serving_images.image_for(engine).tag == serving_images.default_tag(engine)


def test_vllm_rows_accept_the_speculative_config_and_ignore_the_legacy_draft_key():
    for row in serving_images.images():
        if row.engine == "vllm":
            assert "OPTION_SPECULATIVE_CONFIG" in row.accepted_keys
            assert "OPTION_SPECULATIVE_DRAFT_MODEL" not in row.accepted_keys
            assert {"eagle", "eagle3"} <= set(row.speculative_methods)


def test_draft_models_need_vllm_0_15_or_later():
    methods = {
        row.vllm: set(row.speculative_methods) for row in serving_images.images() if row.vllm
    }
    assert "draft_model" in methods["0.15.1"]
    assert "draft_model" not in methods["0.12.0"]


def test_accelerators_of_the_default_instances():
    assert instances.accelerator_devices("ml.p4d.24xlarge") == 8
    assert instances.accelerator_devices("ml.inf2.48xlarge") == 24
    assert instances.accelerator_kind("ml.g5.12xlarge") == "gpu"
    assert instances.accelerator_kind("ml.t3.medium") is None


def test_environment_for_an_eagle_head():
    settings = serving.ServingSettings(
        engine="vllm",
        image_tag="0.36.0-lmi18.0.0-cu128",
        tensor_parallel_degree=8,
        speculative=serving.SpeculativeDecoding("eagle3", 5),
        environment={"OPTION_GPU_MEMORY_UTILIZATION": "0.9"},
    )
    assert serving.check(settings, "ml.p4d.24xlarge").tag == "0.36.0-lmi18.0.0-cu128"
    environment = container_environment(settings)
    # As in AWS's EAGLE sample: channel `eagle`, method eagle3.
    assert json.loads(environment["OPTION_SPECULATIVE_CONFIG"]) == {
        "method": "eagle3",
        "model": "/opt/ml/additional-model-data-sources/eagle",
        "num_speculative_tokens": 5,
    }
    assert environment["OPTION_TENSOR_PARALLEL_DEGREE"] == "8"
    assert environment["OPTION_GPU_MEMORY_UTILIZATION"] == "0.9"


def test_an_error_names_the_setting_the_value_and_what_is_allowed():
    settings = serving.ServingSettings(engine="vllm", tensor_parallel_degree=16)
    with pytest.raises(serving_images.ServingError) as error:
        serving.check(settings, "ml.g5.12xlarge")
    assert error.value.field == "tensor_parallel_degree"
    assert str(error.value) == (
        "serving.tensor_parallel_degree: got 16; ml.g5.12xlarge has 4 GPUs: allowed 1..4"
    )


def test_an_image_uri_is_matched_to_its_row_by_repository_and_tag():
    uri = "763104351884.dkr.ecr.{region}.amazonaws.com/djl-inference:0.36.0-lmi20.0.0-cu128"
    assert serving_images.image_for_uri(uri).vllm == "0.15.1"
    assert serving_images.image_for_uri(uri.replace("djl-inference", "other")) is None


@pytest.mark.parametrize("row", serving_images.images(), ids=lambda row: row.tag)
def test_every_key_the_app_derives_is_one_the_image_reads(row):
    settings = serving.ServingSettings(
        engine=row.engine,
        image_tag=row.tag,
        tensor_parallel_degree=1,
        max_model_len=4096,
        max_concurrent_sequences=4,
        dtype=row.dtypes[0] if row.dtypes else None,
        quantization=row.quantizations[0] if row.quantizations else None,
        speculative=serving.SpeculativeDecoding(next(iter(row.speculative_methods)))
        if row.speculative_methods
        else None,
        model_loading_timeout_seconds=1800,
    )
    serving.check(
        settings, "ml.inf2.48xlarge" if row.engine.startswith("neuron") else "ml.g5.xlarge"
    )
    derived = container_environment(settings)
    # The loading budget goes to the LMI images, whose server reads it; the DLCs have none.
    lmi = row.key_prefix == "OPTION_"
    assert derived.get(engine_keys.MODEL_LOADING_TIMEOUT_KEY) == ("1800" if lmi else None)
    assert set(derived) - row.accepted_keys == set()
    assert len(derived) >= len(engine_keys.typed_keys(row.engine))


# ------------------------------------------------------------------ citations of the table


def all_sources():
    table = json.loads(serving_images.TABLE.read_text())
    return [(row["tag"], source) for row in table["images"] for source in row["sources"]]


@pytest.mark.parametrize(("tag", "source"), all_sources(), ids=lambda v: str(v)[:60])
def test_every_source_names_a_file_at_a_ref_and_quotes_it_or_says_unverified(tag, source):
    assert {"repository", "ref", "path", "claim"} <= set(source)
    assert source.get("quote") or source.get("unverified")
    assert set(source) <= {"repository", "ref", "path", "claim", "quote", "unverified"}


def test_the_accelerator_pages_say_they_are_unverified():
    table = json.loads(serving_images.TABLE.read_text())
    assert all(s["unverified"] and s["url"] for s in table["accelerators"]["sources"])


def test_the_quote_check_fails_on_a_quote_the_cited_file_does_not_contain(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "notes.txt").write_text("ENV MODEL_LOADING_TIMEOUT=1200\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x")
    source = {"repository": "o/r", "ref": "HEAD", "path": "notes.txt", "claim": "c"}
    table = {"images": [{"tag": "t", "sources": [
        {**source, "quote": "ENV MODEL_LOADING_TIMEOUT=1200"},
        {**source, "quote": "ENV MODEL_LOADING_TIMEOUT=3600"},
        {**source, "repository": "o/elsewhere", "quote": "x"},
        {**source, "unverified": "a page"},
    ]}]}  # fmt: skip
    problems = serving_keys.check_quotes(table, {"o/r": tmp_path / ".git"}, {})
    assert problems == [
        "t: o/r HEAD notes.txt: does not contain 'ENV MODEL_LOADING_TIMEOUT=3600'",
        "t: o/elsewhere HEAD notes.txt: not checked (no copy of it given)",
    ]


# -------------------------------------------------------------- what vLLM refuses or slows


LMI20, LMI18 = "0.36.0-lmi20.0.0-cu128", "0.36.0-lmi18.0.0-cu128"


def vllm(**fields):
    return serving.ServingSettings(**{"engine": "vllm", **fields})


def refusal(settings, instance_type="ml.p4d.24xlarge"):
    with pytest.raises(serving_images.ServingError) as error:
        serving.check(settings, instance_type)
    return error.value


def test_the_container_waits_as_long_as_the_platform_for_the_model():
    settings = vllm(model_loading_timeout_seconds=3600)
    assert container_environment(settings)["OPTION_MODEL_LOADING_TIMEOUT"] == "3600"
    longer = vllm(
        model_loading_timeout_seconds=1800, environment={"OPTION_MODEL_LOADING_TIMEOUT": "2400"}
    )
    serving.check(longer, "ml.p4d.24xlarge")
    assert container_environment(longer)["OPTION_MODEL_LOADING_TIMEOUT"] == "2400"


@pytest.mark.parametrize("value", ["1200", "soon"])
def test_a_loading_timeout_below_the_health_check_is_refused_with_both_numbers(value):
    error = refusal(
        vllm(
            model_loading_timeout_seconds=1800, environment={"OPTION_MODEL_LOADING_TIMEOUT": value}
        )
    )
    assert error.field == "environment.OPTION_MODEL_LOADING_TIMEOUT"
    assert f"got {value!r}; at least 1800 s" in str(error)


def test_a_named_awq_kernel_is_advised_against_where_awq_marlin_runs():
    (note,) = advice(vllm(quantization="awq"), "ml.g5.12xlarge")
    assert "compute capability 8.6" in note and "awq_marlin runs (>= 7.5)" in note
    assert advice(vllm(), "ml.g5.12xlarge") == []
    assert advice(vllm(quantization="awq_marlin"), "ml.g5.12xlarge") == []
    # vLLM 0.12's Marlin needs 8.0: a T4 (7.5) runs plain AWQ there, so nothing to advise.
    assert advice(vllm(image_tag=LMI18, quantization="awq"), "ml.g4dn.12xlarge") == []
    assert advice(vllm(quantization="awq"), "ml.g4dn.12xlarge")  # lmi20: 7.5


@pytest.mark.parametrize("dtype", ["bf16", "bfloat16"])
def test_awq_with_bf16_activations_is_refused_with_the_fix(dtype):
    error = refusal(vllm(quantization="awq", dtype=dtype), "ml.g5.12xlarge")
    assert error.field == "quantization"
    assert "remove quantization" in str(error) and "or set dtype fp16" in str(error)
    serving.check(vllm(quantization="awq", dtype="fp16"), "ml.g5.12xlarge")
    serving.check(vllm(dtype=dtype), "ml.g5.12xlarge")  # the checkpoint's own: awq_marlin


def draft(method="draft_model", **fields):
    return serving.SpeculativeDecoding(method, **fields)


@pytest.mark.parametrize(
    ("method", "target", "draft_tp", "allowed"),
    [
        ("draft_model", 8, 1, "allowed: 8; a draft model runs with the target's degree"),
        ("draft_model", 8, 4, "allowed: 8;"),
        ("eagle3", 8, 4, "allowed: 1 or 8; an EAGLE head"),
        ("draft_model", None, 8, "set tensor_parallel_degree too"),
    ],
)
def test_vllm_refuses_a_draft_parallel_degree_it_cannot_run(method, target, draft_tp, allowed):
    settings = vllm(
        tensor_parallel_degree=target,
        speculative=draft(method, draft_tensor_parallel_degree=draft_tp),
    )
    error = refusal(settings)
    assert error.field == "speculative_decoding.draft_tensor_parallel_degree"
    assert allowed in str(error)


@pytest.mark.parametrize(("method", "draft_tp"), [("draft_model", 8), ("eagle3", 1), ("eagle", 8)])
def test_the_draft_degrees_vllm_accepts_reach_the_speculative_config(method, draft_tp):
    settings = vllm(
        tensor_parallel_degree=8, speculative=draft(method, draft_tensor_parallel_degree=draft_tp)
    )
    serving.check(settings, "ml.p4d.24xlarge")
    config = json.loads(container_environment(settings)["OPTION_SPECULATIVE_CONFIG"])
    assert config["draft_tensor_parallel_size"] == draft_tp


def test_a_draft_with_another_vocabulary_is_refused_where_both_are_known():
    error = refusal(vllm(vocab_size=128256, speculative=draft(vocab_size=32000)))
    assert error.field == "speculative_decoding.model.vocab_size"
    assert "the target's (128256)" in str(error)
    serving.check(vllm(vocab_size=128256, speculative=draft(vocab_size=128256)), "ml.p4d.24xlarge")
    serving.check(vllm(speculative=draft(vocab_size=32000)), "ml.p4d.24xlarge")  # target unknown


@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_explicit_async_scheduling_with_a_draft_model_is_refused(value):
    settings = vllm(speculative=draft(), environment={"OPTION_ASYNC_SCHEDULING": value})
    error = refusal(settings)
    assert error.field == "environment.OPTION_ASYNC_SCHEDULING"
    assert "EAGLE/MTP" in str(error)
    eagle = vllm(speculative=draft("eagle3"), environment={"OPTION_ASYNC_SCHEDULING": value})
    serving.check(eagle, "ml.p4d.24xlarge")


def test_every_accelerated_instance_type_has_its_memory():
    table = json.loads(serving_images.TABLE.read_text())["accelerators"]
    assert set(table["memory_gib"]) == set(table["devices"])
    assert instances.memory_mb("ml.g5.12xlarge") == 192 * 1024
    assert instances.memory_mb("ml.t3.medium") is None


# ------------------------------------------------------------------ the DLC engines


def test_a_draft_model_on_the_vllm_dlc_is_one_speculative_config_flag():
    """The DLC's entrypoint passes a JSON object as one argument: --speculative-config {...}."""
    settings = serving.ServingSettings(
        engine="vllm_dlc",
        tensor_parallel_degree=8,
        speculative=serving.SpeculativeDecoding("draft_model", 4),
    )
    row = serving.check(settings, "ml.p4d.24xlarge")
    assert row.key_prefix == "SM_VLLM_" and row.request_schema == "openai"
    environment = container_environment(settings)
    assert json.loads(environment.pop("SM_VLLM_SPECULATIVE_CONFIG")) == {
        "method": "draft_model",
        "model": "/opt/ml/additional-model-data-sources/draft_model",
        "num_speculative_tokens": 4,
    }
    assert environment == {"SM_VLLM_TENSOR_PARALLEL_SIZE": "8"}


def test_the_vllm_dlc_writes_the_speculative_metrics_line_lmi_does_not():
    assert serving_images.image_for("vllm_dlc").speculative_metrics_log == "SpecDecoding metrics: "
    assert serving_images.image_for("vllm").speculative_metrics_log is None


def test_neuron_vllm_is_told_where_the_model_is_and_takes_its_shape_from_the_export():
    settings = serving.ServingSettings(
        engine="neuron_vllm", tensor_parallel_degree=24, max_model_len=8192,
        max_concurrent_sequences=4,
    )  # fmt: skip
    assert serving.check(settings, "ml.inf2.48xlarge").inference_ami_version == (
        "al2-ami-sagemaker-inference-neuron-2"
    )
    assert container_environment(settings) == {
        "SM_ON_MODEL": "/opt/ml/model",
        "SM_ON_TENSOR_PARALLEL_SIZE": "24",
        "SM_ON_SEQUENCE_LENGTH": "8192",
        "SM_ON_BATCH_SIZE": "4",
    }
    # A flag-only argument of the serve command takes an empty value, which the entrypoint
    # turns into the bare flag.
    flagged = dataclasses.replace(settings, environment={"SM_ON_ALLOW_NON_CACHED_MODEL": ""})
    serving.check(flagged, "ml.inf2.48xlarge")


def test_trn2_is_known_and_served_only_by_an_image_of_the_users_choice():
    assert instances.accelerator_kind("ml.trn2.48xlarge") == "neuron"
    assert instances.accelerator_devices("ml.trn2.48xlarge") == 64
    custom = serving.ServingSettings(
        engine="custom", image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1"
    )
    assert serving.check(custom, "ml.trn2.48xlarge") is None
    for engine in ("neuron_vllm", "neuron"):
        with pytest.raises(serving_images.ServingError, match=r"Trn2|trn2"):
            serving.check(serving.ServingSettings(engine=engine), "ml.trn2.48xlarge")


def test_the_legacy_neuron_image_is_served_with_a_warning_that_says_why():
    (note,) = advice(serving.LLAMA3_70B_INF2, "ml.inf2.48xlarge")
    assert "0.29.0-neuronx-sdk2.19.1 is legacy: transformers-neuronx" in note


def test_every_cuda_13_image_names_its_host_ami():
    """AWS's DLC guide: the default host AMI's NVIDIA driver cannot run CUDA 13.0 images."""
    cuda13 = [row for row in serving_images.images() if "cu130" in row.tag]
    assert len(cuda13) == 2
    for row in cuda13:
        assert row.inference_ami_version == "al2-ami-sagemaker-inference-gpu-3-1", row.tag


def test_the_generator_reads_a_servers_flags_and_a_serve_commands_arguments(tmp_path):
    """What tools/serving_keys.py reads for the DLC rows, on the shapes vLLM and optimum-neuron
    write them in (`group.add_argument("--flag", ...)`, FrontendArgs fields, a Literal)."""
    import zipfile

    wheel = tmp_path / "vllm.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(
            "vllm/engine/arg_utils.py",
            "class EngineArgs:\n    tensor_parallel_size: int = 1\n"
            "def add(group, kwargs):\n"
            '    group.add_argument("--tensor-parallel-size", "-tp", **kwargs)\n'
            '    group.add_argument("--speculative-config", **kwargs)\n',
        )
        archive.writestr(
            "vllm/entrypoints/openai/cli_args.py",
            "class FrontendArgs:\n    enable_auto_tool_choice: bool = False\n"
            "def make_arg_parser(parser):\n"
            '    parser.add_argument("--api-server-count", type=int)\n',
        )
        archive.writestr(
            "vllm/config/model.py",
            'ModelDType = Literal["auto", "half", "float16", "bfloat16", "float", "float32"]\n',
        )
    flags = serving_keys.server_flags(wheel)
    assert flags == {
        "tensor_parallel_size", "speculative_config", "enable_auto_tool_choice",
        "api_server_count",
    }  # fmt: skip
    assert serving_keys.prefixed("SM_VLLM_", flags)[0] == "SM_VLLM_API_SERVER_COUNT"
    model = serving_keys.wheel_file(wheel, "vllm/config/model.py")
    assert serving_keys.literal_values(model, "ModelDType")[:2] == ["auto", "half"]
    serve = (
        'parser.add_argument("-m", "--model", type=str, required=True)\n'
        'parser.add_argument("--batch_size", "--batch-size", type=int)\n'
        'parser.add_argument("--allow_non_cached_model", "--allow-non-cached-model",'
        ' action="store_true", default=False)\n'
    )
    names, flag_only = serving_keys.store_true_arguments(serve)
    assert names == {"model", "batch_size", "allow_non_cached_model"}
    assert flag_only == {"allow_non_cached_model"}


def test_the_dlc_rows_keys_follow_their_entrypoints():
    dlc = serving_images.image_for("vllm_dlc")
    assert {"SM_VLLM_TENSOR_PARALLEL_SIZE", "SM_VLLM_SPECULATIVE_CONFIG",
            "SM_VLLM_ENABLE_AUTO_TOOL_CHOICE"} <= dlc.accepted_keys  # fmt: skip
    neuron = serving_images.image_for("neuron_vllm")
    # The serve command's own arguments, and vLLM's, which it passes on.
    assert {"SM_ON_BATCH_SIZE", "SM_ON_SEQUENCE_LENGTH", "SM_ON_MAX_NUM_BATCHED_TOKENS"} <= (
        neuron.accepted_keys
    )
    assert neuron.flag_only_keys == {"SM_ON_ALLOW_NON_CACHED_MODEL"}


def test_an_entry_on_a_table_dlc_image_splits_its_flags_and_drops_what_the_app_sets():
    """A recommendation or job on the vLLM DLC: its SM_VLLM_* settings become typed ones; the
    model path and port, which the app and the entrypoint set, are dropped."""
    from workbench_domain.endpoint_entry import serving_section

    row = serving_images.image_for("vllm_dlc")
    uri = f"763104351884.dkr.ecr.us-east-1.amazonaws.com/{row.repository}:{row.tag}"
    section = serving_section(
        instance_type="ml.g5.12xlarge",
        image_uri=uri,
        environment={
            "SM_VLLM_MODEL": "/opt/ml/model",
            "SM_VLLM_PORT": "8080",
            "SM_VLLM_TENSOR_PARALLEL_SIZE": "4",
            "SM_VLLM_ENABLE_PREFIX_CACHING": "true",
        },
    )
    assert section == {
        "engine": "vllm_dlc",
        "image_uri": uri,
        "tensor_parallel_degree": 4,
        "environment": {"SM_VLLM_ENABLE_PREFIX_CACHING": "true"},
    }
