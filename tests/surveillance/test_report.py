"""The surveillance report rendered from a hand-written status dict (the contract's shape):
every format written, the numbers shown as the status holds them, estimated figures labelled,
the PDF pages not blank, the HTML looked at in a real browser."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from validation.errors import InputError

PERIODS = [f"2025-{m:02d}" for m in range(1, 7)]
SITES = ["SITE-A", "SITE-B"]
SHA = "ab" * 32


def _prop(estimate: float, lo: float, hi: float, s: int, n: int) -> dict:
    return {"estimate": estimate, "ci": [lo, hi], "successes": s, "trials": n}


def fixture_status() -> dict:
    """A small status by hand: two sites, six months, SITE-A's sensitivity drops in month 5,
    labels of months 5 and 6 not yet in (estimated figures only there)."""
    sens = {None: [0.84, 0.82, 0.85, 0.83, None, None],
            "SITE-A": [0.86, 0.83, 0.85, 0.52, None, None],
            "SITE-B": [0.81, 0.80, 0.84, 0.85, None, None]}
    est = {None: [0.83, 0.83, 0.84, 0.78, 0.71, 0.72],
           "SITE-A": [0.84, 0.83, 0.85, 0.69, 0.58, 0.60],
           "SITE-B": [0.82, 0.82, 0.83, 0.84, 0.83, 0.84]}
    metrics = []
    for site in (None, *SITES):
        for i, p in enumerate(PERIODS):
            s = sens[site][i]
            metrics.append({
                "metric": "sensitivity", "site": site, "subgroup": None, "period": p,
                "observed": None if s is None else _prop(s, s - 0.08, s + 0.06, int(s * 50), 50),
                "estimated": {"estimate": est[site][i],
                              "band": [est[site][i] - 0.05, est[site][i] + 0.05]}})
            metrics.append({
                "metric": "specificity", "site": site, "subgroup": None, "period": p,
                "observed": None if s is None else _prop(0.812, 0.771, 0.848, 203, 250),
                "estimated": {"estimate": 0.806, "band": [0.771, 0.841]}})
    for level in ("GE", "Zenith"):
        for i, p in enumerate(PERIODS[:4]):
            if level == "Zenith" and i < 3:
                continue  # the new scanner appears in month 4
            metrics.append({"metric": "sensitivity", "site": None,
                            "subgroup": {"factor": "manufacturer", "level": level}, "period": p,
                            "observed": _prop(0.41 if level == "Zenith" else 0.85, 0.30, 0.9,
                                              12, 29),
                            "estimated": None})
    stat = [0.0, 0.7, 0.2, 6.93, None, None]
    charts = []
    for site in (None, *SITES):
        pts = [{"period": p, "statistic": (stat[i] if site == "SITE-A" else 0.31 * i),
                "lower": None, "upper": None,
                "signal": site == "SITE-A" and i == 3}
               for i, p in enumerate(PERIODS[:4])]
        charts.append({"rule": "sensitivity-cusum", "kind": "bernoulli_cusum",
                       "metric": "sensitivity", "site": site, "subgroup": None, "limit": 5.127,
                       "arl0": 20000.4, "arl1": 11.62, "points": pts})
    charts.append({"rule": "pcr-ewma", "kind": "ewma", "metric": "positive_call_rate",
                   "site": None, "subgroup": None, "limit": None, "arl0": 1000.0, "arl1": None,
                   "points": [{"period": p, "statistic": 0.27 + 0.004 * i, "lower": 0.211,
                               "upper": 0.339, "signal": False} for i, p in enumerate(PERIODS)]})
    drift = [{"period": p, "site": None, "check": "ks", "variable": "score",
              "statistic": 0.041 + 0.01 * i, "p_value": 0.62 - 0.1 * i,
              "adjusted_p_value": min(1.0, 2 * (0.62 - 0.1 * i)), "threshold": 0.001,
              "flag": False, "adjustment": "holm"} for i, p in enumerate(PERIODS)]
    drift += [{"period": p, "site": None, "check": "psi", "variable": "score",
               "statistic": 0.013 * (i + 1), "p_value": None, "adjusted_p_value": None,
               "threshold": 0.25, "flag": False} for i, p in enumerate(PERIODS)]
    alarm = {"period": "2025-04", "site": "SITE-A", "subgroup": None, "metric": "sensitivity",
             "rule": "sensitivity-cusum", "severity": "major",
             "figures": {"statistic": 6.93, "limit": 5.127, "p0": 0.177, "p1": 0.477,
                         "cases": 412, "misses": 31},
             "first_detected": "2025-04"}
    return {
        "schema_version": "1.0",
        "plan": {"id": "PMS-FIX", "title": "Fixture surveillance plan", "version": "1.0",
                 "sha256": SHA, "period": "month",
                 "approval": {"locked_utc": "2025-01-01T00:00:00Z", "signatures": [
                     {"name": "Ada Lovelace", "email": "ada@example.org", "role": "approver",
                      "meaning": "approved surveillance plan", "time_utc": "2025-01-01T00:00:00Z",
                      "protocol_sha256": SHA}]},
                 "monitors": {"protocol_id": "DEMO-001", "protocol_sha256": "cd" * 32,
                              "baseline_results_sha256": "ef" * 32},
                 "model_sha256": "12" * 32, "threshold": 0.5, "minimum_cases": 30,
                 "sites": SITES, "baseline": {"auc": 0.866, "sensitivity": 0.823,
                                              "specificity": 0.824}},
        "registry": {"url": "sqlite:///registry.sqlite", "head_seq": 57, "head_hash": "9f" * 32},
        "periods": [{"period": p, "n_cases": 600 + i, "n_labelled": 600 + i if i < 4 else 0,
                     "batches": [f"DEMO-{p}"]} for i, p in enumerate(PERIODS)],
        "metrics": metrics,
        "charts": charts,
        "drift": drift,
        "alarms": [alarm],
    }


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from validation.report.surveillance import render_surveillance_report

    out = tmp_path_factory.mktemp("surv-report")
    return render_surveillance_report(fixture_status(), out, formats=["html", "pdf", "docx"])


def _text(pdf: Path) -> str:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return re.sub("[\u200b\u200c\u200d\u2060\ufeff]", "", text)  # break points of code


def test_formats_and_figures(rendered):
    assert [p.name for p in rendered] == ["surveillance.html", "surveillance.pdf",
                                         "surveillance.docx"]
    figures = rendered[0].parent / "figures"
    for stem in ("chart-sensitivity-cusum-scopes", "chart-pcr-ewma-scopes", "metric-sensitivity",
                 "metric-specificity", "subgroup-manufacturer"):
        assert (figures / f"{stem}.svg").stat().st_size > 1000
        assert (figures / f"{stem}.png").stat().st_size > 1000


def test_pdf_shows_the_status_numbers_and_labels(rendered, tmp_path):
    text = _text(rendered[1])
    status = fixture_status()
    # plan hash, approval, registry anchor
    assert SHA in text.replace("\n", "").replace(" ", "")
    assert "Ada Lovelace" in text and "approved surveillance plan" in text
    assert "9f" * 32 in text.replace("\n", "").replace(" ", "")
    assert "head entry 57" in text
    # the alarm: period, first detection, rule, its figures as the status holds them
    assert "sensitivity-cusum" in text and "major" in text
    for value in ("6.930", "5.127", "0.177", "0.477", "412", "31"):
        assert value in text, value
    # observed with its interval and estimated with its band, labelled
    assert "0.520 (0.440–0.580)" in text
    assert "0.580 (0.530–0.630)" in text
    assert text.count("estimated") >= 5
    # drift rows, p formatted by the p rule
    assert "KS" in text and "0.6200" in text and "holm" in text
    # page header and numbering from the dossier's template
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(rendered[1])], capture_output=True, text=True, check=True).stdout).group(1))
    assert f"Page {pages} of {pages}" in text
    assert text.count("PMS-FIX · version 1.0") >= pages
    assert status["alarms"][0]["first_detected"] in text


def test_pdf_pages_not_blank(rendered, tmp_path):
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "30", "-png", str(rendered[1]), str(tmp_path / "p")],
                   check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) >= 3
    for png in pngs:
        with Image.open(png) as im:
            hist = im.convert("L").histogram()
        assert sum(hist[:200]) / sum(hist) > 0.005, f"{png.name} looks blank"


def test_html_self_contained_with_figures(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    images = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert len(images) >= 5 and all(src.startswith("data:image/") for src in images)
    assert "<em>estimated</em>" in html
    assert 'href="#fig-chart-sensitivity-cusum-scopes"' in html


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("VALIDATION_REQUIRE_BROWSER") == "1":
        pytest.fail("VALIDATION_REQUIRE_BROWSER=1 but chromium is not installed")
    if found is None:
        pytest.skip("chromium is not installed")
    return found


BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--hide-scrollbars", "--virtual-time-budget=3000"]


@pytest.mark.browser
def test_html_in_browser_images_load(rendered, tmp_path):
    chromium = _chromium()
    page = tmp_path / "probe.html"
    probe = ("<script>window.addEventListener('load', () => { const imgs = [...document.images];"
             "document.title = 'images ' + imgs.length + ' broken ' +"
             " imgs.filter(i => !i.complete || i.naturalWidth === 0).length; });</script>")
    page.write_text(rendered[0].read_text(encoding="utf-8").replace("</body>", probe + "</body>"),
                    encoding="utf-8")
    out = subprocess.run([chromium, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    m = re.search(r"<title>images (\d+) broken (\d+)</title>", out)
    assert m, "the probe did not run"
    assert int(m.group(1)) >= 5 and int(m.group(2)) == 0
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}",
                    f"--screenshot={shot}", "--window-size=1280,3000", rendered[0].as_uri()],
                   capture_output=True, timeout=120, check=True)
    from PIL import Image

    with Image.open(shot) as im:
        hist = im.convert("L").histogram()
    assert sum(hist[:200]) / sum(hist) > 0.01


def test_no_alarm_status_and_bad_status(tmp_path):
    from validation.report.surveillance import render_surveillance_report

    status = fixture_status()
    status["alarms"] = []
    (out,) = render_surveillance_report(status, tmp_path / "quiet", formats="html")
    assert "No alarm" in out.read_text(encoding="utf-8")
    bad = copy.deepcopy(status)
    del bad["charts"]
    with pytest.raises(InputError, match="'status' must have the keys .* lacks charts"):
        render_surveillance_report(bad, tmp_path / "bad", formats="html")
    with pytest.raises(InputError, match="'formats' must be one or more"):
        render_surveillance_report(status, tmp_path / "bad", formats="odt")


def test_the_fixture_is_json():
    json.dumps(fixture_status(), allow_nan=False)
