"""``LoopSpec``: the frozen, validated description of one self-consuming loop.

Conventions (DESIGN.md §2): a generation trains on ``n_real`` real points plus
``n_synthetic = ⌊synthetic_ratio · n_real⌋`` synthetic points (real-data fraction
1/(1+λ)); generation 0 is the fit on the real data. See :class:`LoopSpec` for every field.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field, fields

import numpy as np

from theory.laws import as_law
from theory.rewards import as_reward

DATA_POLICIES = ("replace", "mix", "fresh", "accumulate", "accumulate_subsample")
MODELS = ("gaussian", "gaussian_mean", "gmm")
GMM_COVARIANCES = ("full", "diag", "weights")
ESTIMATORS = ("mle", "unbiased")
DTYPES = ("float64", "float32")
CORRECTION_SPLITS = ("random", "deterministic")
EM_INITS = ("warm", "reinit")

_MAX_SIZE = 10**9


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_int(name: str, value, minimum: int, maximum: int = _MAX_SIZE) -> int:
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if not minimum <= int(value) <= maximum:
        raise ValueError(f"{name} must be an integer in [{minimum}, {maximum}], got {value}")
    return int(value)


def _check_float(name: str, value, *, low: float, low_open: bool, allow_inf: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    x = float(value)
    if math.isnan(x):
        raise ValueError(f"{name} must not be NaN")
    if math.isinf(x) and not (allow_inf and x > 0):
        raise ValueError(f"{name} must be finite{' or +inf' if allow_inf else ''}, got {x}")
    if x < low or (low_open and x == low):
        bound = f"> {low}" if low_open else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {x}")
    return x


def check_seed(seed) -> int:
    """A run's integer seed in [0, 2**63) (``run``, ``run_gmm``, ``sweep``); TypeError or
    ValueError naming it otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"seed must be in [0, 2**63), got {seed}")
    return int(seed)


def _check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class LoopSpec:
    """A self-consuming loop of iterated maximum-likelihood Gaussian fits.

    Generation 0 fits the model on ``n_real`` points drawn from ``truth``. Each later
    generation ``t`` draws synthetic points from the previous fit (at ``temperature`` τ:
    N(μ_{t−1}, τ Σ_{t−1}); with ``correction_strength`` γ > 0 each point comes instead from the
    target with probability γ/(1+γ), the ideal corrector π_γ of Gillman et al. 2024) and refits
    according to ``data``:

    ``"replace"``
        fit on ``n_synthetic`` fresh synthetic points only (default ``n_real``), the fully
        synthetic loop of Shumailov et al. 2024 and Alemohammad et al. 2024.
    ``"mix"``
        fit on the fixed real set plus ⌊λ n⌋ fresh synthetic points (Bertrand et al. 2024,
        Gillman et al. 2024, Ferbach et al. 2024).
    ``"fresh"``
        fit on ``n_real`` new real points plus ⌊λ n⌋ synthetic points (Alemohammad et al.).
    ``"accumulate"``
        add ⌊λ n⌋ synthetic points to everything drawn before and fit on the whole pool
        (Gerstgrasser et al. 2024, Kazdan et al. 2025).
    ``"accumulate_subsample"``
        as accumulate, but fit on ``n_real`` points drawn without replacement from the pool
        (Kazdan et al. 2025).

    Fields:
        dim: dimension d ≥ 1.
        n_real: number of real points n ≥ 1.
        synthetic_ratio: λ ≥ 0, synthetic points per real point: m = ⌊λn⌋ (computed as
            ⌊λn + 1e-9⌋ so that e.g. λ = 0.29, n = 100 gives 29 despite binary rounding).
            ``data="replace"`` ignores λ (it draws ``n_synthetic``, default n, points) and is
            the only policy that accepts λ = ``inf``.
        data: the data policy, one of :data:`DATA_POLICIES`.
        model: ``"gaussian"`` (mean and full covariance fitted), ``"gaussian_mean"``
            (covariance known and fixed at the truth's, only the mean fitted) or ``"gmm"``
            (a Gaussian mixture of ``components`` components fitted by warm-started EM).
        estimator: ``"mle"`` (covariance divides by N) or ``"unbiased"`` (by N − 1), N being the
            number of points in the fit. Default ``"mle"``, the fitting operator of the papers;
            Shumailov's Theorem 3.1 and Alemohammad et al. use ``"unbiased"``.
        temperature: τ > 0, sampling bias: synthetic points are drawn from N(μ, τΣ).
        correction_strength: γ ∈ [0, ∞], the ideal corrector's strength.
        corrector: which corrector applies γ: ``"ideal"`` (default; π_γ p_θ exactly, the
            engine's built-in draw) or a point-wise corrector of :mod:`simulations.correctors`
            — ``"histogram"`` (Example C.6), ``"histogram_authors"``, ``"ot"``, ``"centroid"``
            — given by name, as a ``{"name": ..., **configuration}`` dict or as a
            :class:`~simulations.correctors.Corrector` instance. A point-wise corrector acts on
            every generation's synthetic sample whatever γ is (the histogram resamplers are not
            the identity at γ = 0); samples engine, Gaussian models, random split, no curation.
        correction_split: how the corrector assigns synthetic points to the target:
            ``"random"`` (each point independently with probability γ/(1+γ), the law
            π_γ p_θ exactly) or ``"deterministic"`` (the last m − round(m/(1+γ)) points of
            each generation; Gillman et al.'s finite-sample analysis, reference notes §4.3).
        curation_k: K ≥ 1 (an integer) or ``inf``: each synthetic point is the one kept among
            K i.i.d. model draws, chosen with probability softmax(r) (Ferbach et al. 2024);
            K = 1 is no curation; K = ``inf`` draws from the exact tilt p e^r / E_p[e^r]
            (linear and quadratic rewards).
        components: m ≥ 1, mixture components of ``model="gmm"`` (must be 1 otherwise).
        gmm_covariance: ``"full"``, ``"diag"`` or ``"weights"`` (components fixed at their
            generation-0 fit, only the weights refitted) for ``model="gmm"``.
        em_iterations: EM iterations per generation (fixed budget, ``model="gmm"``).
        em_tol: EM stops early when the mean log-likelihood gains less than this.
        covariance_floor: smallest eigenvalue allowed in a fitted mixture covariance.
        em_restarts: S ≥ 1, EM starts per k-means++ initialisation (``model="gmm"``): S
            independent seedings are each run through EM and the fit of largest mean
            log-likelihood of the training data is kept (ties: the lowest start index), like
            scikit-learn's ``n_init``. Start 0 uses the seeding key of ``em_restarts=1`` and
            start s ≥ 1 the key ``fold_in(that key, s)``, so S = 1 (the default) is exactly
            the single-start engine, and the best of S starts never has a lower likelihood
            than start 0. With ``em_init="warm"`` only generation 0 is initialised this way.
        kmeans_iterations: L ≥ 0 Lloyd iterations run from each k-means++ seeding before EM
            (``model="gmm"``): each point goes to its nearest centre, each centre becomes its
            points' (weighted) mean; after L > 0 iterations the starting mixture is the M-step
            of those hard labels (weights the cluster fractions, covariances the clusters'
            floored covariances; an empty cluster keeps its seed centre and the data's
            covariance), scikit-learn's ``init_params="kmeans"`` when L is large. L = 0 (the
            default) starts from the seeding itself: equal weights, the data's covariance.
        em_init: ``"warm"`` (default; generation t ≥ 1 starts EM from the fit of generation
            t − 1) or ``"reinit"`` (every generation starts afresh from ``em_restarts``
            k-means++ seedings of its own training data, as refitting scikit-learn's
            ``GaussianMixture`` each generation does; generation 0 is the same in both
            modes; not with ``gmm_covariance="weights"``, whose components stay at their
            generation-0 fit).
        reward: the curation reward r (a :mod:`theory.rewards` object, a dict with a
            ``kind``, or a JAX callable on points of shape ``(dim,)``); required when K > 1.
        generations: T ≥ 0, number of generations after generation 0.
        replicates: R ≥ 1 independent repetitions of the whole loop.
        truth: the real-data law p_data: ``(mean, covariance)`` (a Gaussian), a law from
            :mod:`theory.laws` (``GaussianMixtureLaw``, ``StudentTLaw``) or a dict with a
            ``kind``; ``None`` is N(0, I_d). It is stored as a law object. The target θ* of
            the Gaussian class is p_data's mean and covariance (``truth_mean``, ``truth_cov``),
            which is p_data itself only when p_data is Gaussian.
        n_synthetic: explicit number of synthetic points per generation (overrides λ).
        dtype: ``"float64"`` (default) or ``"float32"``.
    """

    dim: int = 1
    n_real: int = 100
    synthetic_ratio: float = 1.0
    data: str = "mix"
    model: str = "gaussian"
    estimator: str = "mle"
    temperature: float = 1.0
    correction_strength: float = 0.0
    corrector: object = "ideal"
    correction_split: str = "random"
    curation_k: int | float = 1
    reward: object = None
    components: int = 1
    gmm_covariance: str = "full"
    em_iterations: int = 100
    em_tol: float = 1e-8
    covariance_floor: float = 1e-6
    em_restarts: int = 1
    kmeans_iterations: int = 0
    em_init: str = "warm"
    generations: int = 10
    replicates: int = 1000
    truth: tuple | None = field(default=None)
    n_synthetic: int | None = None
    dtype: str = "float64"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "dim", _check_int("dim", self.dim, 1, 10_000))
        set_(self, "n_real", _check_int("n_real", self.n_real, 1))
        set_(self, "generations", _check_int("generations", self.generations, 0, 10**7))
        set_(self, "replicates", _check_int("replicates", self.replicates, 1))
        set_(self, "data", _check_choice("data", self.data, DATA_POLICIES))
        set_(self, "model", _check_choice("model", self.model, MODELS))
        set_(self, "estimator", _check_choice("estimator", self.estimator, ESTIMATORS))
        set_(self, "dtype", _check_choice("dtype", self.dtype, DTYPES))
        lam = _check_float(
            "synthetic_ratio", self.synthetic_ratio, low=0.0, low_open=False, allow_inf=True
        )
        if math.isinf(lam) and self.data != "replace":
            raise ValueError(
                "synthetic_ratio=inf (fully synthetic) requires data='replace', "
                f"got data={self.data!r}"
            )
        set_(self, "synthetic_ratio", lam)
        set_(
            self,
            "temperature",
            _check_float("temperature", self.temperature, low=0.0, low_open=True, allow_inf=False),
        )
        set_(
            self,
            "correction_strength",
            _check_float(
                "correction_strength",
                self.correction_strength,
                low=0.0,
                low_open=False,
                allow_inf=True,
            ),
        )
        set_(self, "correction_split",
             _check_choice("correction_split", self.correction_split, CORRECTION_SPLITS))
        if self.n_synthetic is not None:
            set_(self, "n_synthetic", _check_int("n_synthetic", self.n_synthetic, 0))
        set_(self, "truth", as_law(self.truth, self.dim))
        set_(self, "components", _check_int("components", self.components, 1, 10_000))
        if self.model != "gmm" and self.components != 1:
            raise ValueError(f"components={self.components} needs model='gmm'")
        set_(self, "gmm_covariance",
             _check_choice("gmm_covariance", self.gmm_covariance, GMM_COVARIANCES))
        set_(self, "em_iterations", _check_int("em_iterations", self.em_iterations, 1, 10**6))
        set_(self, "em_tol",
             _check_float("em_tol", self.em_tol, low=0.0, low_open=False, allow_inf=False))
        set_(self, "covariance_floor", _check_float(
            "covariance_floor", self.covariance_floor, low=0.0, low_open=True, allow_inf=False))
        set_(self, "em_restarts", _check_int("em_restarts", self.em_restarts, 1, 10_000))
        set_(self, "kmeans_iterations",
             _check_int("kmeans_iterations", self.kmeans_iterations, 0, 10**6))
        set_(self, "em_init", _check_choice("em_init", self.em_init, EM_INITS))
        if self.model != "gmm":
            for name, default in (("em_restarts", 1), ("kmeans_iterations", 0),
                                  ("em_init", "warm")):
                if getattr(self, name) != default:
                    raise ValueError(f"{name}={getattr(self, name)!r} needs model='gmm'")
        if self.em_init == "reinit" and self.gmm_covariance == "weights":
            raise ValueError("em_init='reinit' refits every component from a fresh seeding; "
                             "gmm_covariance='weights' keeps the components of generation 0")
        self._check_curation()
        self._check_corrector()
        self._check_fit_sizes()

    def _check_curation(self) -> None:
        k = self.curation_k
        if isinstance(k, bool) or not isinstance(k, numbers.Real):
            raise TypeError(f"curation_k must be an integer >= 1 or inf, got {k!r}")
        if isinstance(k, float) and math.isinf(k) and k > 0:
            k = math.inf
        elif _is_int(k) or (isinstance(k, float) and k.is_integer()):
            k = int(k)
            if k < 1:
                raise ValueError(f"curation_k must be an integer >= 1 or inf, got {k}")
        else:
            raise ValueError(f"curation_k must be an integer >= 1 or inf, got {k!r}")
        object.__setattr__(self, "curation_k", k)
        if self.reward is not None:
            object.__setattr__(self, "reward", as_reward(self.reward, self.dim))
        if k != 1 and self.reward is None:
            raise ValueError(f"curation_k={k} needs a reward (reward=None)")
        if k == math.inf and not self.reward.has_closed_form:
            raise ValueError(
                "curation_k=inf draws from the exact tilt, available for linear and quadratic "
                f"rewards only, not {self.reward.kind!r}; use a finite curation_k")
        if k != 1 and self.correction_strength > 0:
            raise ValueError(
                "curation (curation_k > 1) and correction (correction_strength > 0) together "
                "are not defined by either paper; use one of them")

    def _check_corrector(self) -> None:
        from simulations.correctors import Corrector, IdealCorrector, get_corrector

        c = self.corrector
        if isinstance(c, dict):
            config = dict(c)
            name = config.pop("name", None)
            if name is None:
                raise ValueError("corrector: a dict needs a 'name' key, e.g. "
                                 "{'name': 'histogram', 'bins': 10}")
            try:
                c = get_corrector(name, **config)
            except TypeError as exc:
                raise ValueError(f"corrector: bad configuration for {name!r}: {exc}") from None
        elif isinstance(c, str) or isinstance(c, Corrector):
            c = get_corrector(c)
        else:
            raise TypeError(f"corrector must be a name, a dict or a Corrector, got {c!r}")
        if isinstance(c, IdealCorrector):
            object.__setattr__(self, "corrector", "ideal")
            return
        object.__setattr__(self, "corrector", c)
        if self.model == "gmm":
            raise ValueError(f"corrector={c.name!r} runs on the Gaussian models only, not "
                             "model='gmm'")
        if self.correction_split != "random":
            raise ValueError(f"correction_split={self.correction_split!r} applies to the ideal "
                             f"corrector only, not corrector={c.name!r}")
        if self.curated:
            raise ValueError(f"curation (curation_k > 1) and corrector={c.name!r} together are "
                             "not defined by either paper; use one of them")
        if getattr(c, "num_centroids", 0) > self.n_real:
            raise ValueError(f"corrector: num_centroids={c.num_centroids} k-means centroids need "
                             f"at least as many real points, n_real={self.n_real}")

    @property
    def practical_corrector(self):
        """The point-wise corrector object, or ``None`` for the ideal corrector."""
        return None if self.corrector == "ideal" else self.corrector

    # ------------------------------------------------------------------ derived sizes
    @property
    def num_synthetic(self) -> int:
        """Synthetic points drawn per generation t ≥ 1 (DESIGN.md §2)."""
        if self.n_synthetic is not None:
            return self.n_synthetic
        if self.data == "replace":
            return self.n_real
        return int(math.floor(self.synthetic_ratio * self.n_real + 1e-9))

    def fit_sizes(self) -> tuple[int, int]:
        """(points in the generation-0 fit, smallest number of points in a later fit)."""
        n, m, t = self.n_real, self.num_synthetic, self.generations
        later = {
            "replace": m,
            "mix": n + m,
            "fresh": n + m,
            "accumulate": n + m,
            "accumulate_subsample": n,
        }[self.data]
        return n, (later if t > 0 else n)

    @property
    def pool_size(self) -> int:
        """Largest pool (accumulate policies): n + T·m points."""
        return self.n_real + self.generations * self.num_synthetic

    def _check_fit_sizes(self) -> None:
        first, later = self.fit_sizes()
        if self.data == "replace" and self.generations > 0 and self.num_synthetic == 0:
            raise ValueError("n_synthetic must be >= 1 with data='replace'")
        if self.model == "gaussian":
            smallest = min(first, later)
            if smallest < 2:
                raise ValueError(
                    "n_real must be >= 2 (and n_synthetic >= 2 with data='replace'): "
                    "a covariance fitted on fewer than 2 points is undefined (unbiased) or "
                    f"zero (mle); the smallest fit here has {smallest} point(s)"
                )

    # ------------------------------------------------------------------ helpers
    @property
    def curated(self) -> bool:
        """Whether synthetic points are curated (K > 1)."""
        return self.curation_k != 1

    @property
    def truth_mean(self) -> np.ndarray:
        """Mean of p_data (θ*'s mean for the Gaussian class)."""
        return self.truth.moments[0]

    @property
    def truth_cov(self) -> np.ndarray:
        """Covariance of p_data (θ*'s covariance for the Gaussian class)."""
        return self.truth.moments[1]

    def replace(self, **changes) -> LoopSpec:
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return LoopSpec(**values)

    def to_dict(self) -> dict:
        """Plain-JSON description (``inf`` written as the string ``"inf"``)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and math.isinf(v):
                v = "inf"
            if f.name in ("truth", "reward") and v is not None:
                v = v.to_dict()
            if f.name == "corrector" and v != "ideal":
                v = {"name": v.name, **dataclasses.asdict(v)}
            out[f.name] = v
        return out


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
