import math

import numpy as np
import pytest

from simulations import LoopSpec


def test_defaults_and_derived_sizes():
    s = LoopSpec(dim=2, n_real=50, synthetic_ratio=0.5, data="mix", correction_strength=1.0,
                 generations=200, replicates=1000)
    assert s.num_synthetic == 25
    assert s.truth_mean.shape == (2,) and np.allclose(s.truth_cov, np.eye(2))
    assert LoopSpec(data="replace", n_real=30).num_synthetic == 30
    assert LoopSpec(data="replace", synthetic_ratio=math.inf, n_real=7).num_synthetic == 7
    assert LoopSpec(data="accumulate", n_real=10, synthetic_ratio=0.3).num_synthetic == 3
    assert LoopSpec(n_real=10, n_synthetic=4).num_synthetic == 4
    assert LoopSpec(data="accumulate_subsample", n_real=10, generations=5).pool_size == 60


def test_frozen_and_hashable():
    s = LoopSpec()
    with pytest.raises(AttributeError):
        s.dim = 3
    assert hash(s) == hash(LoopSpec())
    assert s.replace(n_real=3).n_real == 3
    with pytest.raises(ValueError, match="truth"):
        s.replace(dim=2)  # the stored truth is 1-D


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"dim": 0}, "dim"),
        ({"dim": -1}, "dim"),
        ({"n_real": 0}, "n_real"),
        ({"n_real": 1}, "n_real"),  # full covariance needs 2 points
        ({"replicates": 0}, "replicates"),
        ({"generations": -1}, "generations"),
        ({"synthetic_ratio": -0.1}, "synthetic_ratio"),
        ({"synthetic_ratio": math.nan}, "synthetic_ratio"),
        ({"synthetic_ratio": math.inf, "data": "mix"}, "synthetic_ratio"),
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": math.inf}, "temperature"),
        ({"temperature": math.nan}, "temperature"),
        ({"correction_strength": -1.0}, "correction_strength"),
        ({"correction_strength": math.nan}, "correction_strength"),
        ({"data": "discard"}, "data"),
        ({"model": "mixture"}, "model"),
        ({"components": 3}, "components"),
        ({"model": "gmm", "gmm_covariance": "tied"}, "gmm_covariance"),
        ({"model": "gmm", "covariance_floor": 0.0}, "covariance_floor"),
        ({"estimator": "ddof1"}, "estimator"),
        ({"dtype": "float16"}, "dtype"),
        ({"dim": 2, "truth": ([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]])}, "symmetric"),
        ({"dim": 2, "truth": ([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]])}, "positive definite"),
        ({"dim": 2, "truth": ([0.0, 0.0], [[0.0, 0.0], [0.0, 0.0]])}, "positive definite"),
        ({"dim": 2, "truth": ([0.0], np.eye(2))}, "mean must have shape"),
        ({"dim": 2, "truth": ([0.0, 0.0], np.eye(3))}, "covariance must have shape"),
        ({"dim": 1, "truth": (math.nan, 1.0)}, "mean must be finite"),
        ({"dim": 1, "truth": (0.0, math.inf)}, "covariance must be finite"),
        ({"data": "replace", "n_synthetic": 1}, "n_synthetic"),
    ],
)
def test_invalid_specs_raise_value_error_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        LoopSpec(**kwargs)


@pytest.mark.parametrize(
    "kwargs, field",
    [({"dim": 2.0}, "dim"), ({"n_real": True}, "n_real"), ({"temperature": "1"}, "temperature"),
     ({"truth": "normal"}, "truth")],
)
def test_wrong_types_raise_type_error(kwargs, field):
    with pytest.raises(TypeError, match=field):
        LoopSpec(**kwargs)


def test_gaussian_mean_model_allows_single_point():
    LoopSpec(model="gaussian_mean", n_real=1)


def test_to_dict_is_json_ready():
    import json

    d = LoopSpec(data="replace", synthetic_ratio=math.inf, correction_strength=math.inf).to_dict()
    assert d["synthetic_ratio"] == "inf" and d["correction_strength"] == "inf"
    json.dumps(d)
