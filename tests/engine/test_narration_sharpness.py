"""Divergence statements judged by the whole network's λ_max, the edge-of-stability remark, the weight caption."""
from __future__ import annotations

import numpy as np

from gd_studio.engine import descent, hessian, landscape
from gd_studio.engine.config import RunConfig
from gd_studio.engine.narration import describe_step, stability_remark, weight_caption


def test_weight_caption_gives_both_thresholds():
    assert weight_caption("W1[0,0]", 2 / 9.4, 2 / 0.9, 0.99) == (
        "along W1[0,0]: 2/λ = 9.40; whole network: 2/λ_max = 0.90, this LR is 1.1× that")
    assert weight_caption("w", -1.0, 2.0, 0.5) == (
        "along w: no curvature (flat or bending down), no 2/λ; whole network: 2/λ_max = 1.00, this LR is 0.5× that")
    assert weight_caption("w", 1.0, float("nan"), 0.5).endswith("whole network: no positive curvature, no 2/λ_max")


def test_weight_caption_from_the_engine_on_the_moons_mlp():
    s = descent.build(RunConfig(dataset_params={"n_samples": 400, "noise": 0.2}, lr=1.0, batch_size=0,
                                val_fraction=0.0))
    m, p, X, y = s.model, s.initial_params, s.train.X, s.train.y
    lam = landscape.curvature(m, p, X, y, m.index_of("W1[0,0]"))
    lam_max = hessian.sharpness(m, p, X, y).value
    text = weight_caption("W1[0,0]", lam, lam_max, 1.0)
    along = float(text.split("2/λ = ")[1].split(";")[0])
    whole = float(text.split("2/λ_max = ")[1].split(",")[0])
    assert along > 5 * whole  # the watched weight alone would promise a far larger safe LR
    assert abs(whole - 2 / lam_max) < 0.01


def test_stability_remarks_in_the_articles_voice():
    falling_unevenly = [0.5, 0.48, 0.49, 0.46, 0.45]
    assert stability_remark(1.0, 1.98, limit=2.0, recent_losses=falling_unevenly) == (
        "sharpness 1.98, limit 2/η = 2.00: at the edge of stability — the loss still falls, but not monotonically")
    assert stability_remark(1.0, 1.98, limit=2.0, recent_losses=[0.5, 0.4, 0.3]).endswith("the loss still falls")
    assert stability_remark(1.0, 1.98, limit=2.0, recent_losses=[0.3, 0.4, 0.5]).endswith("stopped falling")
    assert stability_remark(1.0, 1.98).startswith("sharpness 1.98, limit 2/η = 2.00: at the edge of stability")
    # plain descent well past the limit: the ⚠ warning, by λ_max
    assert stability_remark(0.85, 4.0) == (
        "⚠ the LR is 1.7× the 2/λ_max threshold (2/λ_max = 0.50): along the network's sharpest direction each "
        "step lands farther from the minimum than it started")
    assert stability_remark(0.1, 4.0) == (
        "the LR is 0.2× the 2/λ_max threshold (2/λ_max = 0.50): stable along every direction of the network")
    # Adam: the preconditioned sharpness against (2 + 2β₁)/((1 − β₁)η)
    assert stability_remark(0.01, 6000.0, limit=3800.0, label="38/η") == (
        "⚠ sharpness 6000 is 1.6× the limit 38/η = 3800: along the sharpest direction the steps grow")
    assert stability_remark(1.0, float("nan")) is None
    assert stability_remark(1.0, -0.5).startswith("no positive curvature")


def test_describe_step_uses_lambda_max_for_divergence():
    # along the watched weight 2/λ = 10 says LR 0.9 is safe; the network's λ_max = 3.4 says it is 1.5× the limit
    kw = dict(lr=0.9, w_before=0.5, w_after=0.45, grad=0.05, loss_before=0.3, loss_after=0.29,
              thresholds=(5.0, 10.0))
    without = describe_step(**kw)
    assert "2/λ_max" not in str(without)
    with_network = describe_step(**kw, sharpness=3.4)
    assert with_network.events[0] == ("⚠ the LR is 1.5× the 2/λ_max threshold (2/λ_max = 0.59): along the "
                                      "network's sharpest direction each step lands farther from the minimum "
                                      "than it started")
    assert "along w: the LR is 0.18× the 1/λ threshold" in with_network.events[1]
    # a per-weight divergence statement gives way to the network's, which always agrees or is stricter
    steep = describe_step(**{**kw, "thresholds": (0.3, 0.6)}, sharpness=3.4)
    assert not any("2/λ threshold" in e for e in steep.events)
    calm = describe_step(**kw, sharpness=0.5)
    assert calm.events[-1].startswith("the LR is 0.22× the 2/λ_max threshold (2/λ_max = 4.00)")
    edge = describe_step(**kw, sharpness=2.2, recent_losses=[0.31, 0.3, 0.305, 0.29])
    assert edge.events[-1] == ("sharpness 2.20, limit 2/η = 2.22: at the edge of stability — the loss still falls, "
                               "but not monotonically")
    np.testing.assert_equal(len(edge.events), 2)
