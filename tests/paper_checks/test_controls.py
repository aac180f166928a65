"""The harness that makes a verdict able to fail: negative controls (``--controls``), the
resolution and slack of comparisons, the claim metadata and their JSON fields. Made-up claims
only (no Monte Carlo, no JAX)."""

import json
import math
import sys

import pytest

from paper_checks.claim import (
    REGISTRY,
    Claim,
    Context,
    Control,
    Measurement,
    claim,
    judge,
    missing_metadata,
)
from paper_checks.cli import checks_main
from paper_checks.controls import failing, status
from paper_checks.runner import evaluate, markdown_report, result_from_json, run_claims
from paper_checks.stats import z_two_sided


def _shifted(ctx):
    """Exact prediction 1.0 measured as 1.0; the control 'shift' moves the prediction by 10 %,
    the control 'tiny' by 1e-15 (within the tolerance: a control without power)."""
    shift = {"shift": 0.1, "tiny": 1e-15}.get(ctx.control, 0.0)
    return [Measurement("x", 1.0 + shift, 1.0, rtol=1e-12)]


def _raises_under_control(ctx):
    if ctx.control is not None:
        raise RuntimeError("control not implemented")
    return [Measurement("x", 1.0, 1.0, rtol=1e-12)]


def _fake(id_, fn, *controls):
    return Claim(id_, "Fake 2099", "statement", "equality", "derived", fn, method="exact",
                 controls=tuple(Control(n, f"perturbation {n}") for n in controls))


@pytest.fixture
def fakes(monkeypatch):
    """Register made-up claims for the command line (removed after the test)."""
    claims = [_fake("zzctl2099.strong", _shifted, "shift"),
              _fake("zzctl2099.weak", _shifted, "shift", "tiny"),
              _fake("zzctl2099.none", _shifted),
              _fake("zzctl2099.broken", _raises_under_control, "shift")]
    import paper_checks.claims  # noqa: F401  (the real registry first, then the fakes)

    for c in claims:
        monkeypatch.setitem(REGISTRY, c.id, c)
    return {c.id: c for c in claims}


def _run(fakes, claim_id):
    [result] = run_claims([fakes[claim_id]], Context(quick=True), verbose=False, controls=True)
    return result


def test_a_rejected_control_gives_power(fakes, capsys):
    result = _run(fakes, "zzctl2099.strong")
    assert result.passed and result.power() == "1/1" and status(result) == "ok"
    assert result.controls[0].verdict == "rejected"
    assert checks_main(["--jobs", "0", "--only", "zzctl2099.strong", "--controls"]) == 0
    out = capsys.readouterr().out
    assert "control shift: REJECTED" in out and "1/1" in out


def test_a_control_that_passes_means_no_power_and_exit_1(fakes, capsys):
    result = _run(fakes, "zzctl2099.weak")
    assert result.passed  # the claim itself passes ...
    assert result.power() == "1/2" and status(result) == "no power"  # ... but cannot see 'tiny'
    assert [o.verdict for o in result.controls] == ["rejected", "passed"]
    assert checks_main(["--jobs", "0", "--only", "zzctl2099.weak", "--controls"]) == 1
    out = capsys.readouterr().out
    assert "no power: zzctl2099.weak" in out
    # without --controls the controls are not run and the claim's verdict alone counts
    assert checks_main(["--jobs", "0", "--only", "zzctl2099.weak"]) == 0


def test_an_error_under_a_control_is_not_a_rejection(fakes):
    result = _run(fakes, "zzctl2099.broken")
    assert result.passed and result.controls[0].verdict == "error"
    assert "control not implemented" in result.controls[0].detail
    assert result.power() == "0/1" and status(result) == "no power"


def test_no_controls_fails_only_when_required(fakes, capsys):
    result = _run(fakes, "zzctl2099.none")
    assert result.power() == "0/0" and status(result) == "no controls"
    assert failing([result]) == [] and failing([result], require_controls=True) == [result]
    assert checks_main(["--jobs", "0", "--only", "zzctl2099.none", "--controls"]) == 0
    assert checks_main(["--jobs", "0", "--only", "zzctl2099.none", "--require-controls"]) == 1
    assert "1 with no controls" in capsys.readouterr().out


def test_controls_use_the_normal_seed_and_mode():
    seen = []

    def record(ctx):
        seen.append((ctx.quick, ctx.seed, ctx.control))
        return [Measurement("x", 1.0, 1.0 if ctx.control is None else 2.0)]

    c = _fake("zzctl2099.seed", record, "a", "b")
    [result] = run_claims([c], Context(quick=True, seed=5), verbose=False, controls=True)
    seed = c.seed_for(5)
    assert seen == [(True, seed, None), (True, seed, "a"), (True, seed, "b")]
    assert result.power() == "2/2"


def test_json_fields_and_resume_keep_the_controls(fakes):
    result = _run(fakes, "zzctl2099.weak")
    data = json.loads(json.dumps(result.to_json()))
    for key in ("source", "exact_statement", "scope", "controls", "power", "resolution",
                "slack"):
        assert key in data
    assert data["power"] == "1/2"
    assert data["controls"] == [
        {"name": "shift", "perturbs": "perturbation shift", "verdict": "rejected",
         "detail": result.controls[0].detail},
        {"name": "tiny", "perturbs": "perturbation tiny", "verdict": "passed",
         "detail": result.controls[1].detail}]
    assert {"resolution", "detectable", "slack"} <= set(data["comparisons"][0])
    restored = result_from_json(fakes["zzctl2099.weak"], data)
    assert restored.power() == "1/2"
    # not run: every declared control is listed as "not run", power is null
    plain = json.loads(json.dumps(evaluate(fakes["zzctl2099.weak"], Context()).to_json()))
    assert plain["power"] is None and [c["verdict"] for c in plain["controls"]] == ["not run"] * 2
    assert result_from_json(fakes["zzctl2099.weak"], plain).controls is None


def test_markdown_lists_each_control_with_its_verdict(fakes):
    text = markdown_report([_run(fakes, "zzctl2099.weak")], Context(quick=True))
    assert "| 1/2 |" in text
    assert "control `shift`: perturbation shift **rejected**" in text
    assert "control `tiny`: perturbation tiny **passed**" in text


def test_resolution_of_a_two_sided_comparison():
    m = Measurement("m", 1.0, 1.0, 0.01)
    z = z_two_sided(1e-6)
    assert z == pytest.approx(4.891638, abs=1e-6)
    assert m.resolution(1e-6) == pytest.approx(0.04891638, abs=1e-8)
    # tolerance adds to z·SE; |predicted| scales it; sided comparisons use the one-sided z
    assert Measurement("m", -2.0, 0.0, 0.01, atol=0.01).resolution(1e-6) == pytest.approx(
        (z * 0.01 + 0.01) / 2.0)
    assert Measurement("m", 1.0, 0.0, 0.01, sided="upper").resolution(1e-6) == pytest.approx(
        0.01 * 4.753424, rel=1e-6)
    # the deviation at the resolution sits on the verdict's threshold
    assert Measurement("m", 1.0, 1.0 + 0.999 * 0.04891638, 0.01).verdict(1e-6)[0]
    assert not Measurement("m", 1.0, 1.0 + 1.001 * 0.04891638, 0.01).verdict(1e-6)[0]


def test_resolution_is_none_without_a_relative_scale():
    assert Measurement("exact", 1.0, 1.0).resolution(1e-6) is None
    assert Measurement("p", 1.0, 1.0, 0.01, pvalue=0.5).resolution(1e-6) is None
    zero = Measurement("zero", 0.0, 0.0, 0.01)
    assert zero.resolution(1e-6) is None
    assert zero.detectable(1e-6) == pytest.approx(0.04891638, abs=1e-8)


def test_claim_resolution_is_the_worst_comparison_after_the_bonferroni_split():
    ms = [Measurement("a", 1.0, 1.0, 0.01), Measurement("b", 1.0, 1.0, 0.02),
          Measurement("exact", 1.0, 1.0)]
    result = judge(_fake("zzctl2099.res", lambda ctx: ms), ms, 0.0)
    assert result.resolution() == pytest.approx(0.02 * z_two_sided(1e-6 / 3))


def test_slack_of_bounds():
    assert Measurement("u", 2.0, 0.5, sided="upper").slack() == pytest.approx(4.0)
    assert Measurement("u", 1.0, 2.0, sided="upper").slack() == pytest.approx(0.5)  # violated
    assert Measurement("l", 2.0, 3.0, sided="lower").slack() == pytest.approx(1.5)
    assert Measurement("u", 1.0, 0.0, sided="upper").slack() == math.inf
    # a sign check (lower bound 0, or the smallest normal float) has no factor of room
    assert Measurement("l", 0.0, 1.0, sided="lower").slack() is None
    assert Measurement("l", sys.float_info.min, 0.3, sided="lower").slack() is None
    assert Measurement("two", 1.0, 1.0).slack() is None
    assert Measurement("neg", -1.0, -2.0, sided="upper").slack() is None
    ms = [Measurement("u", 2.0, 0.5, sided="upper"), Measurement("l", 2.0, 3.0, sided="lower"),
          Measurement("two", 1.0, 1.0, 0.1)]
    assert judge(_fake("zzctl2099.slack", lambda ctx: ms), ms, 0.0).slack() == 1.5


def test_claim_metadata_and_missing_fields():
    c = Claim("zz.a", "p", "s", "bound", "paper", lambda ctx: [], source="v1, Thm 3",
              exact_statement="not stated in the paper", scope="d = 1",
              controls=(Control("wrong_constant", "4n − 1 replaced by 4n"),))
    bare = Claim("zz.b", "p", "s", "bound", "paper", lambda ctx: [])
    assert missing_metadata([c, bare]) == {"source": ["zz.b"], "exact_statement": ["zz.b"],
                                           "scope": ["zz.b"], "controls": ["zz.b"]}
    with pytest.raises(ValueError, match="identifier"):
        Control("wrong constant", "x")
    with pytest.raises(ValueError, match="perturbs"):
        Control("wrong_constant", " ")
    with pytest.raises(ValueError, match="duplicate control"):
        claim(id="zz.dup", paper="p", statement="s", kind="bound", provenance="paper",
              controls=(Control("a", "x"), Control("a", "y")))


def test_every_registered_claim_has_its_metadata_and_a_control():
    """DESIGN.md §3 and §5: every claim names its source, quotes (or says why it does not
    quote) the paper's statement, says how what is checked differs from it, and declares at
    least one negative control."""
    from paper_checks.runner import select

    missing = {field: ids for field, ids in missing_metadata(select(None)).items() if ids}
    assert missing == {}


def test_a_rejected_control_names_its_strongest_failing_comparison():
    from paper_checks.controls import outcome

    ms = [Measurement("ok", 0.0, 0.1, 1.0), Measurement("narrow", 0.0, 6.0, 1.0),
          Measurement("strong", 0.0, 40.0, 1.0)]
    c = _fake("zzctl2099.strongest", lambda ctx: ms)
    result = judge(c, ms, 0.0)
    assert result.worst.label == "narrow"  # the verdict's worst is the first failing one
    detail = outcome(Control("k", "x"), result).detail
    assert detail.startswith("fails at strong:") and "40 SE" in detail
    assert "(2 of 3 comparisons fail)" in detail


def test_every_claim_evaluates_a_public_function_of_ctx_alone():
    """A helper written between ``@claim(...)`` and the claim's function becomes the claim's
    evaluate (it happened once: the claim then raised at every run). Each registered evaluate
    is a public function of one parameter, ``ctx``."""
    import inspect

    import paper_checks.claims  # noqa: F401  (registers every claim)

    for cid, c in REGISTRY.items():
        if cid.startswith("zz"):  # the tests' own toy claims
            continue
        name = c.evaluate.__name__
        params = list(inspect.signature(c.evaluate).parameters)
        assert not name.startswith("_") and params == ["ctx"], (cid, name, params)
