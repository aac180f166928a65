"""Test configuration: float64 JAX, deterministic hypothesis profile, opt-in seed sweeps.

Statistical tests use fixed seeds (``SELFCONSUMING_TEST_SEED`` selects another for
calibration runs; its value is printed in the header). Each states its false-failure
probability; ``Z_TEST`` below is the two-sided threshold for 1e-6 per comparison.
"""

import os

import jax
import pytest
from hypothesis import HealthCheck, settings

from simulations.compilation_cache import configure as configure_compilation_cache

jax.config.update("jax_enable_x64", True)
configure_compilation_cache()  # a persistent cache (simulations/compilation_cache.py)

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("wide", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TEST_SEED = int(os.environ.get("SELFCONSUMING_TEST_SEED", "0"))


def pytest_report_header(config):
    return f"SELFCONSUMING_TEST_SEED={TEST_SEED}"


# ---------------------------------------------------------------------------------------------
# The default tier. Tests below compile a program of their own for several seconds each on a
# 2-core CPU; the default run (README's test command) stays under 10 minutes without them and
# `python -m pytest -m slow` runs them. Every figure still runs in CI, through
# `python -m figures --quick` in .ci/run; each property here keeps a cheaper test in the
# default tier (named after the arrow).
# ---------------------------------------------------------------------------------------------

SLOW_TIER = {
    # figures: run by `python -m figures --quick` in CI → three cheap figures stay here
    "tests/figures/test_figures.py::test_figure_quick[alemohammad2024_fresh_heatmap]",
    "tests/figures/test_figures.py::test_figure_quick[deydonoho2024_universality]",
    "tests/figures/test_figures.py::test_figure_quick[ferbach2024_contrast]",
    "tests/figures/test_figures.py::test_figure_quick[ferbach2024_mog_curation]",
    "tests/figures/test_figures.py::test_figure_quick[ferbach2024_ten_class_bias]",
    "tests/figures/test_figures.py::test_figure_quick[gillman2024_correctors]",
    "tests/figures/test_figures.py::test_figure_quick[gillman2024_stability]",
    "tests/figures/test_figures.py::test_figure_quick[gillman2024_toy]",
    "tests/figures/test_figures.py::test_figure_quick[kazdan2025_replace_accumulate]",
    "tests/figures/test_figures.py::test_figure_quick[shumailov2024_collapse]",
    "tests/figures/test_figures.py::test_figure_quick[shumailov2024_gmm_l2]",
    "tests/figures/test_figures.py::test_figure_quick[suresh2024_collapse_probability]",
    "tests/figures/test_gillman_figures.py::test_toy_batch_equals_the_authors_loop[True]",
    # → the other parametrizations of the same tests
    "tests/simulations/test_correctors.py::test_conditional_law_of_the_histogram_correctors"
    "[histogram_authors]",
    "tests/simulations/test_correctors.py::test_valid_histogram_corrector_is_consistent",
    "tests/simulations/test_curation.py::test_callable_reward_equals_named_reward_bitwise",
    "tests/simulations/test_curation.py::test_engine_curated_mean_step[5-1.1-0.8]",
    "tests/simulations/test_curation.py::test_reference_density_matches_known_values",
    "tests/simulations/test_curation.py::test_reward_metric_and_flat_top_loop_runs",
    "tests/simulations/test_engine.py::test_infinite_correction_refits_the_target_every_generation",
    "tests/simulations/test_engine_laws.py::test_generation_zero_fit_has_the_moments_of_p_data"
    "[student_t]",
    "tests/simulations/test_engine_laws.py::test_population_map_for_a_misspecified_p_data",
    "tests/simulations/test_engine_vs_theory.py::test_accumulate_matches_theory"
    "[d2-n14-t1-unbiased-float64]",
    "tests/simulations/test_engine_vs_theory.py::test_known_covariance_mix_and_subsample_match_"
    "theory[d1-n25-t2-unbiased-float64]",
    "tests/simulations/test_gmm.py::test_em_is_equivariant_under_component_permutation",
    "tests/simulations/test_gmm.py::test_float32_loop_runs",
    "tests/simulations/test_sufficient.py::test_float32_runs_in_float32[0.0]",
    "tests/simulations/test_sweep.py::test_samples_grid_groups_by_shape_and_cells_reproduce_run",
    "tests/theory/test_derivations_mixtures.py::test_l2_record_equals_numeric",
    "tests/theory/test_laws.py::test_float32_sampling",
    "tests/theory/test_mixtures.py::test_kl_mc_of_a_mixture_with_itself_is_exactly_zero",
    "tests/theory/test_mixtures.py::test_mw2_gelbrich_random_2d",
    "tests/simulations/test_engine_vs_theory.py::test_known_covariance_mix_and_subsample_match_"
    "theory[d2-n20-t3-mle-float64]",
    "tests/simulations/test_engine_correctors.py::test_identity_at_gamma_zero[ot]",
    "tests/simulations/test_engine_correctors.py::test_identity_at_gamma_zero[centroid]",
    "tests/simulations/test_engine_correctors.py::test_full_strength_corrector_refits_on_target_"
    "draws[histogram_authors]",
    "tests/simulations/test_engine.py::test_replicate_prefix_is_stable",
    "tests/simulations/test_curation.py::test_curated_draws_have_law_p_times_h[7-1.3]",
    # → tests/test_examples.py and tests/paper_checks/test_simulate_outputs.py run simulate
    "tests/paper_checks/test_harness.py::test_simulate_command",
    # → test_numpy_baseline_runs_the_same_loop_as_the_engine; `selfconsuming bench --quick`
    "tests/test_bench.py::test_quick_benchmark_prints_and_writes_every_measurement",
}


@pytest.hookimpl(tryfirst=True)  # before -m 'not slow' deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid in SLOW_TIER:
            item.add_marker(pytest.mark.slow)
