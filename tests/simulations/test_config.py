"""TOML configs: the accepted keys come from LoopSpec and simulations.run, every field round-trips
through TOML, and bad input names the file and the key."""

import dataclasses
import inspect
import math

import pytest

from simulations import LoopSpec
from simulations.config import config_from_dict, read_config, run_options, spec_fields
from simulations.run import run


def _toml_value(v):
    if v == "inf":
        return "inf"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


def to_toml(data: dict) -> str:
    """A minimal TOML writer for LoopSpec.to_dict(): scalars first, then one table per dict;
    None (no TOML null) is left out, so the default applies."""
    lines, tables = [], []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, dict):
            tables.append(f"[{key}]")
            tables += [f"{k} = {_toml_value(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines + tables) + "\n"


def test_keys_come_from_the_dataclass_and_run_signature():
    assert spec_fields() == tuple(f.name for f in dataclasses.fields(LoopSpec))
    kw_only = [p.name for p in inspect.signature(run).parameters.values()
               if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert set(run_options()) == set(kw_only) - {"progress"}
    assert "engine" in run_options()


SPECS = [
    dict(dim=2, n_real=12, synthetic_ratio=0.5, data="accumulate", model="gaussian",
         estimator="unbiased", temperature=0.9, correction_strength=0.5,
         correction_split="deterministic", generations=7, replicates=9,
         truth=([1.0, -1.0], [[2.0, 0.3], [0.3, 1.0]]), n_synthetic=4, dtype="float32"),
    dict(dim=1, n_real=5, data="replace", synthetic_ratio=math.inf, correction_strength=math.inf,
         estimator="mle", generations=3, replicates=2),
    dict(dim=2, n_real=10, data="mix", curation_k=math.inf,
         reward={"kind": "linear", "direction": [1.0, 0.5]}, generations=2, replicates=3),
    dict(dim=2, n_real=10, data="fresh", model="gaussian_mean", curation_k=3,
         reward={"kind": "linear", "direction": [0.0, 1.0], "offset": 0.5}),
]


@pytest.mark.parametrize("fields", SPECS)
def test_every_field_round_trips_through_toml(fields, tmp_path):
    spec = LoopSpec(**fields)
    path = tmp_path / "loop.toml"
    path.write_text("seed = 11\n" + to_toml(spec.to_dict()))
    cfg = read_config(str(path))
    assert cfg.spec.to_dict() == spec.to_dict()
    assert cfg.seed == 11 and cfg.run_options == {}


def test_run_table_and_defaults(tmp_path):
    cfg = config_from_dict({"dim": 1, "run": {"batch_size": 3, "engine": "auto"}})
    assert cfg.run_options == {"batch_size": 3, "engine": "auto"}
    assert cfg.seed == 0 and cfg.spec == LoopSpec(dim=1)


@pytest.mark.parametrize("data, exc, words", [
    ({"dimm": 2}, ValueError, ["'dimm'", "did you mean 'dim'"]),
    ({"run": {"batch": 2}}, ValueError, ["'batch'", "[run]"]),
    ({"run": 3}, TypeError, ["run must be a table"]),
    ({"seed": 1.5}, TypeError, ["seed"]),
    ({"seed": True}, TypeError, ["seed"]),
    ({"seed": -2}, ValueError, ["seed"]),
    ({"dim": [1]}, TypeError, ["dim"]),
    ({"estimator": "ddof1"}, ValueError, ["estimator"]),
    ({"n_synthetic": -1}, ValueError, ["n_synthetic"]),
    ({"dim": 2, "truth": {"mean": [0.0], "cov": [[1.0]]}}, ValueError, ["truth"]),
])
def test_bad_values_name_the_key(data, exc, words):
    with pytest.raises(exc) as info:
        config_from_dict(data)
    for w in words:
        assert w in str(info.value)


def test_file_errors_are_one_line(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_config(str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="folder"):
        read_config(str(tmp_path))
    bad = tmp_path / "bad.toml"
    bad.write_text("temperature = 0\n")
    with pytest.raises(ValueError) as info:
        read_config(str(bad))
    assert str(bad) in str(info.value) and "temperature" in str(info.value)
    assert "\n" not in str(info.value)
