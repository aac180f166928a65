"""Closed forms, laws, bounds and distances for self-consuming loops on Gaussian models.

Pure mathematics: this package imports numpy, scipy, sympy and jax.numpy only.

Indexing convention used throughout: generation ``t = 0`` is the fit on the real data, so a
quantity "at generation t" has gone through ``t + 1`` fits. Papers that call the fit on the
real data "generation 1" are converted in the docstrings.

Importing it leaves ``jax.config`` as it was: every function computes in float64 in its own
scope (``theory/_x64.py``); :func:`enable_x64` turns 64-bit JAX on for the whole process.
"""

from theory._x64 import enable_x64  # noqa: E402
from theory.distances import (  # noqa: E402
    gaussian_kl,
    gaussian_logdet,
    gaussian_w2,
    gaussian_w2_squared,
    sqrtm_psd,
)

__all__ = [
    "enable_x64",
    "gaussian_kl",
    "gaussian_logdet",
    "gaussian_w2",
    "gaussian_w2_squared",
    "sqrtm_psd",
]

from theory._special import alpha_n, fit_divisor  # noqa: E402
from theory.accumulate import (  # noqa: E402
    accumulate_cov_factor,
    accumulate_cov_factor_limit,
    accumulate_cov_limit,
    accumulate_mean_error2,
    accumulate_mean_error2_bound,
    accumulate_mean_error2_known_cov,
)
from theory.collapse_probability import (  # noqa: E402
    bertrand_markov_bound,
    collapse_probability,
    fractional_markov_bound,
    suresh_bound,
)
from theory.fresh import fresh_fixed_point, fresh_moments, fresh_recursion_matrix  # noqa: E402
from theory.replace import (  # noqa: E402
    log_chi2_sum_cdf,
    log_chi2_sum_sf,
    replace_expected_cov,
    replace_expected_det,
    replace_expected_sigma,
    replace_log_variance_cdf,
    replace_log_variance_mean,
    replace_log_variance_sf,
    replace_log_variance_var,
    replace_logdet_cdf,
    replace_logdet_mean,
    replace_logdet_sf,
    replace_logdet_var,
    replace_mean_error2,
    replace_variance_cdf,
    replace_variance_moment,
    replace_variance_sf,
    replace_variance_var,
    replace_w2sq_1d,
)
from theory.universality import (  # noqa: E402
    augment_risk_limit,
    augment_risk_ratio,
    discard_risk_ratio,
    subsample_risk_limit,
    subsample_risk_ratio,
)

__all__ += [
    "accumulate_cov_factor",
    "accumulate_cov_factor_limit",
    "accumulate_cov_limit",
    "accumulate_mean_error2",
    "accumulate_mean_error2_bound",
    "accumulate_mean_error2_known_cov",
    "alpha_n",
    "augment_risk_limit",
    "augment_risk_ratio",
    "bertrand_markov_bound",
    "collapse_probability",
    "discard_risk_ratio",
    "fit_divisor",
    "fractional_markov_bound",
    "fresh_fixed_point",
    "fresh_moments",
    "fresh_recursion_matrix",
    "log_chi2_sum_cdf",
    "log_chi2_sum_sf",
    "replace_expected_cov",
    "replace_expected_det",
    "replace_expected_sigma",
    "replace_log_variance_cdf",
    "replace_log_variance_mean",
    "replace_log_variance_sf",
    "replace_log_variance_var",
    "replace_logdet_cdf",
    "replace_logdet_mean",
    "replace_logdet_sf",
    "replace_logdet_var",
    "replace_mean_error2",
    "replace_variance_cdf",
    "replace_variance_moment",
    "replace_variance_sf",
    "replace_variance_var",
    "replace_w2sq_1d",
    "subsample_risk_limit",
    "subsample_risk_ratio",
    "suresh_bound",
]

from theory.mix import mix_mean_error2_known_cov  # noqa: E402
from theory.subsample import accumulate_subsample_mean_error2_known_cov  # noqa: E402

__all__ += ["accumulate_subsample_mean_error2_known_cov", "mix_mean_error2_known_cov"]

from theory.laws import GaussianLaw, GaussianMixtureLaw, StudentTLaw  # noqa: E402
from theory.rewards import (  # noqa: E402
    ClassifierReward,
    FlatTopReward,
    LinearReward,
    QuadraticReward,
)

__all__ += [
    "ClassifierReward",
    "FlatTopReward",
    "GaussianLaw",
    "GaussianMixtureLaw",
    "LinearReward",
    "QuadraticReward",
    "StudentTLaw",
]

from theory import curation  # noqa: E402  (Ferbach et al. 2024: H^K, loops, bounds, tilts)
from theory.curation import (  # noqa: E402
    curation_operator,
    curation_trajectory,
    gaussian_family_curation_trajectory,
    selection_moments,
    thm23_reward_gain_bound,
    thm24_kl_bound,
    top_level_contraction,
)

__all__ += [
    "curation",
    "curation_operator",
    "curation_trajectory",
    "gaussian_family_curation_trajectory",
    "selection_moments",
    "thm23_reward_gain_bound",
    "thm24_kl_bound",
    "top_level_contraction",
]

from theory import correction  # noqa: E402  (Gillman et al. 2024 / Bertrand et al. 2024)
from theory.correction import (  # noqa: E402
    contraction_bound,
    corrected_population_map,
    lambda_max,
    model_constants,
    population_contraction,
    rho,
    stability_condition,
    theorem_4_3_bound,
    theorem_a8_bound,
)

__all__ += [
    "correction",
    "contraction_bound",
    "corrected_population_map",
    "lambda_max",
    "model_constants",
    "population_contraction",
    "rho",
    "stability_condition",
    "theorem_4_3_bound",
    "theorem_a8_bound",
]
