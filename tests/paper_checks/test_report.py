"""The HTML report (self-contained, escaped, coloured verdicts, embedded figures), its
screenshot in headless Chromium, and the progress/--quiet/--verbose behaviour of the checks."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from paper_checks.claim import Claim, Context, Measurement
from paper_checks.cli import checks_main
from paper_checks.report_html import collect_figures, paper_key, render_html
from paper_checks.runner import evaluate, select, write_report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
# Verdict backgrounds of the stylesheet (paper_checks.report_html.CSS), as RGB in [0, 1].
PASS_RGB = np.array([0xDA, 0xFB, 0xE1]) / 255
FAIL_RGB = np.array([0xFF, 0xEB, 0xE9]) / 255


def _fake(id_, fn, statement=HOSTILE):
    return Claim(id_, "Fake & Co. 2099 <i>", statement, "equality", "derived", fn,
                 method="method <with> tags", false_failure=1e-6)


def _boom(ctx):
    raise RuntimeError("kaput <now>")


@pytest.fixture(scope="module")
def results():
    """Two fast real claims (exact, no Monte Carlo) and three made-up ones: a failing one with
    markup in its text, a passing one, and one that raises."""
    real = [evaluate(c, Context(quick=True)) for c in select(["suresh2024.thm3.bound"])]
    fake = [
        evaluate(_fake("fake2099.fails", lambda ctx: [
            Measurement("far <off>", 1.0, 2.0, 0.01),
            Measurement("fine", 1.0, 1.0, 0.01)]), Context(quick=True)),
        evaluate(_fake("fake2099.passes", lambda ctx: [Measurement("ok", 0.0, 0.0, 1.0)],
                       statement="a plain statement"), Context(quick=True)),
        evaluate(_fake("fake2099.raises", _boom), Context(quick=True)),
    ]
    return real + fake


def _png(path, colour="#0072B2"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2.5), dpi=60)
    ax.plot([0, 1, 2], [0, 1, 4], color=colour, lw=3)
    fig.savefig(path)
    plt.close(fig)


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory, results):
    d = tmp_path_factory.mktemp("report")
    figs = d / "figures"
    figs.mkdir()
    _png(figs / "suresh2024_demo.png")
    _png(figs / "other2000_demo.png", "#D55E00")  # belongs to no selected paper
    _png(figs / "listed.png", "#009E73")  # its paper comes from index.json
    (figs / "index.json").write_text(json.dumps(
        {"listed": {"papers": ["fake2099"], "files": ["listed.png"]}}))
    write_report(str(d), results, Context(quick=True, seed=3))
    return d


def test_paper_key_of_claims_and_files():
    assert paper_key("kazdan2025.accumulate.cov") == "kazdan2025"
    assert paper_key("kazdan2025_replace_accumulate.png") == "kazdan2025"
    assert paper_key("/x/y/suresh2024.png") == "suresh2024"


def test_collect_figures_by_prefix_and_index(report_dir):
    figs = collect_figures(str(report_dir / "figures"))
    names = {k: sorted(os.path.basename(p) for p in v) for k, v in figs.items()}
    assert names == {"suresh2024": ["suresh2024_demo.png"], "other2000": ["other2000_demo.png"],
                     "fake2099": ["listed.png"]}
    assert collect_figures(str(report_dir / "absent")) == {}


def test_report_files_and_markdown_links(report_dir):
    assert {"report.md", "report.html", "claims.json"} <= set(os.listdir(report_dir))
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "![suresh2024_demo.png](figures/suresh2024_demo.png)" in md
    data = json.loads((report_dir / "claims.json").read_text())
    assert [c["id"] for c in data["claims"]] == ["suresh2024.thm3.bound", "fake2099.fails",
                                                 "fake2099.passes", "fake2099.raises"]
    assert data["seed"] == 3


def test_html_is_self_contained_escaped_and_complete(report_dir, results):
    text = (report_dir / "report.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    lowered = text.lower()
    # self-contained: no script, no external stylesheet, image or link
    for forbidden in ("<script", "<link", 'src="http', "src='http", "href='http",
                      'href="http', "@import", "url("):
        assert forbidden not in lowered, forbidden
    # escaped text
    assert HOSTILE not in text and "<b>bold</b>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in text
    assert "far &lt;off&gt;" in text and "kaput &lt;now&gt;" in text
    assert "Fake &amp; Co. 2099 &lt;i&gt;" in text
    # table and verdicts, coloured and spelled out
    assert text.count("class='verdict pass'>PASS<") == 2
    assert text.count("class='verdict fail'>FAIL<") == 1
    assert text.count("class='verdict error'>ERROR<") == 1
    assert "2 of 4 claims pass" in text
    for r in results:
        c = r.claim
        assert f"id='{c.id}'" in text and f"href='#{c.id}'" in text
        assert f"<dt>Provenance</dt><dd>{c.provenance}</dd>" in text
    suresh = results[0].claim
    import html

    assert html.escape(suresh.statement) in text and html.escape(suresh.method) in text
    assert all(html.escape(m.label) in text for m in results[0].measurements)
    # figures: one embedded per paper present in the report, none for the unrelated paper
    assert text.count("data:image/png;base64,") == 2
    assert "suresh2024_demo.png" in text and "listed.png" in text
    assert "other2000_demo.png" not in text


def test_render_without_figures_has_no_images(results):
    text = render_html(results[:1], Context())
    assert "data:image" not in text and "1 of 1 claims pass" in text


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium():
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _near(img, rgb, tol=6 / 255):
    return int(np.sum(np.all(np.abs(img[..., :3] - rgb) <= tol, axis=-1)))


@pytest.mark.skipif(_chromium() is None,
                    reason=f"no Chromium binary found (looked for {', '.join(CHROMIUM_NAMES)}); "
                    ".ci/run installs it with apt-get install -y chromium")
def test_screenshot_in_headless_chromium(report_dir, tmp_path):
    from matplotlib import image

    shot = tmp_path / "out.png"
    cmd = [_chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
           "--window-size=1200,2000", (report_dir / "report.html").as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert shot.exists(), proc.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a rendered page with tables and images, not a blank
    img = image.imread(str(shot))
    assert img.shape[:2] == (2000, 1200)
    assert float(np.var(img[..., :3])) > 1e-3  # not a single colour
    # the verdict colours are rendered: PASS and FAIL backgrounds cover visible areas
    assert _near(img, PASS_RGB) > 500 and _near(img, FAIL_RGB) > 200


def test_cli_report_writes_html_and_figures_needs_report(tmp_path, capsys):
    out = tmp_path / "rep"
    r = subprocess.run([sys.executable, "-m", "paper_checks", "--only", "suresh2024.thm3.*",
                        "--report", str(out)], capture_output=True, text=True, cwd=ROOT,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "suresh2024.thm3.bound" in text and "1 of 1 claims pass" in text
    assert "[1/1]" not in r.stderr  # stderr is a pipe: no progress lines
    assert checks_main(["--only", "suresh2024.thm3.*", "--figures"]) == 2
    err = capsys.readouterr().err
    assert "--figures needs --report" in err and err.strip().count("\n") == 0


def test_quiet_default_and_verbose_output(capsys, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    args = ["--only", "suresh2024.thm3.*"]
    # in-process (--jobs 0) where the workers add nothing to what is tested; the verbose run
    # below prints its progress from the worker pool
    assert checks_main(args + ["--quiet", "--jobs", "0"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().startswith("1/1 claims passed") and out.strip().count("\n") == 0
    assert err == ""
    assert checks_main(args + ["--jobs", "0"]) == 0
    out, err = capsys.readouterr()
    assert "suresh2024.thm3.bound" in out and "PASS" in out
    assert "[1/1]" not in err  # captured stderr is not a terminal
    assert checks_main(args + ["--verbose"]) == 0
    out, err = capsys.readouterr()
    assert "[1/1] suresh2024.thm3.bound" in err
    assert "exact ≤ Suresh" in out  # every comparison is listed
    with pytest.raises(SystemExit) as exc:  # argparse: exit 2 with one line on stderr
        checks_main(args + ["--quiet", "--verbose"])
    assert exc.value.code == 2 and "not allowed" in capsys.readouterr().err
