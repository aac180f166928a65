"""K-choice curation (Ferbach, Bertrand, Bose & Gidel, NeurIPS 2024): one import for the exact
discrete operator and dynamics (:mod:`theory.curation_discrete`) and the Gaussian and
Gaussian-mixture closed forms (:mod:`theory.curation_gaussian`)."""

from theory.curation_discrete import *  # noqa: F403
from theory.curation_discrete import __all__ as _discrete_all
from theory.curation_gaussian import *  # noqa: F403
from theory.curation_gaussian import __all__ as _gaussian_all

__all__ = [*_discrete_all, *_gaussian_all]


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
