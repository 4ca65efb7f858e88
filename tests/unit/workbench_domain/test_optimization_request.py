"""The optimization request's own rules, shared by the launcher and the client."""

from __future__ import annotations

from workbench_domain.optimization_request import OptimizationRequest


def test_the_job_environment_is_one_rule_for_the_launcher_and_the_client():
    awq = OptimizationRequest(
        technique="quantization",
        instance_type="ml.p4d.24xlarge",
        quantization_method="awq",
        environment={"OPTION_TENSOR_PARALLEL_DEGREE": "8"},
    )
    assert awq.job_environment() == {
        "OPTION_TENSOR_PARALLEL_DEGREE": "8",
        "OPTION_QUANTIZE": "awq",
    }
    compile_ = OptimizationRequest(technique="compilation", instance_type="ml.inf2.48xlarge")
    assert compile_.job_environment() == {}
