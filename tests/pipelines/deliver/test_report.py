"""The HTML report: self-contained, labelled in the run's language, and checked in Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.labels import LabelSpec
from models.history import calibration_table, lift_table
from pipelines.deliver.i18n import LANGUAGES
from pipelines.deliver.report import ReportInputs, label_text, render_report

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
TIERS = ["Critical", "At risk", "Watch", "Safe"]
# Test-only probe: after load, mark the body when every chart image has decoded.
PROBE = ("<script>window.addEventListener('load',()=>{const i=[...document.images];"
         "document.body.dataset.images=i.length+':'+i.filter(x=>x.complete&&x.naturalWidth>0)"
         ".length;});</script>")


def report_inputs(lang: str = "en") -> ReportInputs:
    rng = np.random.default_rng(1)
    n = 60
    probability = np.sort(rng.random(n))[::-1]
    risk = pd.DataFrame({
        "rank": np.arange(1, n + 1), "customer_id": [f"{i:05d}" for i in range(n)],
        "customer_name": ['<b>=HYPERLINK("http://x","y")</b>'] + [f"Klant {i}" for i in range(1, n)],
        "segment": rng.choice(["Champions", "Loyal", "At risk", "Lost"], n),
        "risk_tier": np.select([probability >= .7, probability >= .5, probability >= .3],
                               TIERS[:3], "Safe"),
        "churn_probability": probability, "value_at_risk": np.round(probability * 1000, 2),
        "reason_1": "No purchase for 74 days; usually buys every 21 days.",
        "reason_group_1": rng.choice(["overdue", "complaints", "satisfaction"], n),
        "reason_group_2": rng.choice(["", "engagement"], n), "reason_group_3": "",
        "suggested_action": "Call today.",
    })
    history = pd.DataFrame({"cutoff": pd.date_range("2024-01-31", periods=6, freq="30D"),
                            "churn_rate": [0.2, 0.22, 0.25, 0.21, 0.24, 0.26]})
    outcome = (rng.random(n) < probability).astype(int)
    return ReportInputs(
        risk=risk, tiers=TIERS, top_tiers=["Critical", "At risk"], lang=lang,
        metadata={"as_of": "2024-06-30", "model_version": "3", "run_id": "20241122T0000Z-abc",
                  "churn_definition": "no purchase in 90 days", "horizon_days": 90,
                  "tier_policy": {"version": "v2"}},
        history=history, validation={"roc_auc": 0.81, "pr_auc": 0.6},
        baseline={"roc_auc": 0.7, "pr_auc": 0.5},
        calibration=calibration_table(probability, outcome), lift=lift_table(probability, outcome),
        drift=pd.DataFrame({"feature": ["recency_days"], "training_median": [30.0],
                            "current_median": [45.0], "psi": [0.31]}),
    )


def test_report_is_self_contained_escaped_and_labelled_in_the_language():
    page = render_report(report_inputs("nl"))
    assert "Omzet in gevaar" in page and "Klantverloop door de tijd" in page
    assert '<html lang="nl">' in page
    assert "<b>=HYPERLINK" not in page and "&lt;b&gt;=HYPERLINK" in page
    # nothing is fetched from anywhere: every src is an inline data URI
    assert all(src.startswith("data:image/png;base64,")
               for src in re.findall(r'src="([^"]+)"', page))
    assert "<link" not in page and "@import" not in page


def test_missing_parts_are_stated_not_drawn():
    inputs = report_inputs()
    inputs.calibration = inputs.lift = inputs.drift = None
    inputs.notes = {"calibration": "Not available for this model: Calibration.",
                    "drift": "Not available for this model: Drift."}
    page = render_report(inputs)
    assert "Not available for this model: Calibration." in page
    assert 'id="calibration-lift"' not in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (CI installs it: .ci/run)")
def test_report_renders_in_headless_chromium_without_console_errors(tmp_path):
    path = tmp_path / "report.html"
    path.write_text(render_report(report_inputs("tr")).replace("</body>", PROBE + "</body>"),
                    encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=3000", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = done.stdout
    for anchor in ("headline", "by-tier", "by-segment", "risk-distribution", "value-by-segment",
                   "common-reasons", "churn-over-time", "model-quality", "calibration-lift",
                   "drift", "top-customers"):
        assert f'id="{anchor}"' in dom, anchor
    images = re.search(r'data-images="(\d+):(\d+)"', dom)
    assert images and images.group(1) == images.group(2) and int(images.group(1)) >= 6
    assert "Müşteri kaybı risk raporu" in dom


def test_lapsed_customers_have_their_own_card_and_stay_out_of_the_top_tier_figures():
    inputs = report_inputs()
    risk = inputs.risk.copy()
    risk.loc[:2, "risk_tier"] = "Lapsed"  # three of the riskiest customers: lapsed
    risk.loc[:2, "value_at_risk"] = 10_000.0
    top = risk[risk["risk_tier"].isin(["Critical", "At risk"])]
    inputs.risk, inputs.tiers = risk, [*TIERS, "Lapsed"]
    inputs.lapsed_tier, inputs.lapsed_after_days = "Lapsed", 365
    page = render_report(inputs)
    headline = page.split('id="headline">')[1].split('<div class="grid">')[0]
    cards = {label: n for n, label in re.findall(
        r'<div class="n">([^<]*)</div><div class="l">([^<]*)</div>', headline)}
    assert cards["Customers in the top tiers (Critical, At risk)"] == f"{len(top):,}"
    assert cards["Value at risk, all scored customers"] == f"{risk['value_at_risk'].sum():,.0f}"
    assert cards["Value at risk in the top tiers"] == f"{top['value_at_risk'].sum():,.0f}"
    assert cards["Lapsed customers (win-back): no order for more than 365 days"] == "3"
    by_tier = page.split('id="by-tier"')[1].split("</section>")[0]
    assert by_tier.index(">Safe<") < by_tier.index(">Lapsed<")  # listed after every tier
    assert "background:#a0aec0\">Lapsed" in by_tier


SPECS = [LabelSpec(), LabelSpec(gap_days=30), LabelSpec(definition="cancellation"),
         LabelSpec(definition="cancellation", horizon_days=60, gap_days=14)]


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_definition_and_history_texts_follow_the_label_spec(lang):
    for key in ("churn_definition_text", "history_note"):
        texts = [label_text(key, spec, lang) for spec in SPECS]
        assert len(set(texts)) == len(SPECS), key  # one sentence per definition and gap
        assert "{" not in "".join(texts)
        assert "30" in texts[1] and "60" in texts[3] and "14" in texts[3] and "74" in texts[3]
    # a key without variants fits every spec
    assert "74" in label_text("calibration_note", SPECS[3], lang)


def test_definition_texts_in_english():
    assert label_text("churn_definition_text", LabelSpec(), "en") == (
        "No completed purchase in the 90 days after the data date, or a cancellation in that "
        "window.")
    assert label_text("churn_definition_text", SPECS[3], "en") == (
        "A cancellation in the 74 days after the data date (a 14-day gap, then a 60-day window; "
        "a cancellation during the gap counts too); purchases do not count.")


def test_history_note_states_the_models_definition():
    inputs = report_inputs()
    inputs.label = LabelSpec(definition="cancellation", gap_days=30)
    page = render_report(inputs)
    assert ("who cancelled in the next 120 days (a 30-day gap plus a 90-day window)." in page)
    assert "made no purchase" not in page
