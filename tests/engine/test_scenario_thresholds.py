"""Every threshold a bundled scenario's caption quotes agrees with the engine's λ_max, and the new scenes do what they say."""
from __future__ import annotations

import re

import numpy as np
import pytest

from gd_studio.engine import descent, hessian, landscape, scenarios
from gd_studio.engine.scenarios import SharpnessSettings, SurfaceSettings, ScenarioError, load, loads, dumps

BUNDLED = scenarios.bundled()
NUMBER = r"(\d+(?:,\d{3})*(?:\.\d+)?)"


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _agrees(quoted: str, value: float) -> bool:
    """A quoted number agrees with a value when the value rounds to it (half a unit of its last digit, or 2%)."""
    digits = quoted.split(".")[1] if "." in quoted else ""
    half_unit = 0.5 * 10.0 ** -len(digits)
    return abs(_num(quoted) - value) <= max(half_unit, 0.02 * abs(value)) * (1 + 1e-9)


def _state(scene):
    """λ_max and the LR where the scenario's caption speaks: after its silent pre-run."""
    session = descent.build(scene.config)
    runner = session.runner
    runner.run(scene.pre_run)
    p = runner.params
    lam = hessian.sharpness(session.model, p, runner.train.X, runner.train.y, tol=1e-10, max_iter=200).value
    return session, lam, scene.config.lr


# Each pattern quotes a threshold with a number; the check says what the engine must agree with.
CHECKS = [
    (re.compile(NUMBER + r"× the ([12])/λ(_max)? threshold"),
     lambda m, lam, lr: _agrees(m.group(1), lr / (int(m.group(2)) / lam))),
    (re.compile(r"is " + NUMBER + r"× that"), None),  # handled with the 2/λ_max it follows (below)
    (re.compile(r"the 2/λ threshold \(" + NUMBER + r" here\)"), lambda m, lam, lr: _agrees(m.group(1), 2 / lam)),
    (re.compile(r"λ is the curvature[^,]*, " + NUMBER + r" for this data"),
     lambda m, lam, lr: _agrees(m.group(1), lam)),
    (re.compile(r"(?:sharpness )?λ_max is " + NUMBER), lambda m, lam, lr: _agrees(m.group(1), lam)),
    (re.compile(r"2/λ_max = " + NUMBER), lambda m, lam, lr: _agrees(m.group(1), 2 / lam)),
    (re.compile(r"2/η = " + NUMBER), lambda m, lam, lr: _agrees(m.group(1), 2 / lr)),
    (re.compile(r"r = " + NUMBER + r" is above the 2/λ threshold"), lambda m, lam, lr: _num(m.group(1)) > 2 / lam),
]
# Threshold words without a number: rules, not claims about this run
GENERIC = re.compile(r"(between 1/λ and 2/λ|below 1/λ|below 2/λ|above 1/λ|the 1/λ threshold \(λ is"
                     r"|2/η, for the rest|right at 2/η|to 2/η and|the line 2/η|below 2/η|sharpness λ_max, |draws λ_max|above 1% of λ_max)",
                     re.IGNORECASE)


def _threshold_mentions(caption: str) -> list[int]:
    return [m.start() for m in re.finditer(r"[12]/λ|λ_max|2/η|λ is", caption)]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_threshold_a_caption_quotes_agrees_with_lambda_max(path):
    scene = load(path)
    caption = scene.caption
    mentions = _threshold_mentions(caption)
    if not mentions:
        return
    _, lam, lr = _state(scene)
    covered: set[int] = set()
    for pattern, check in CHECKS:
        for m in pattern.finditer(caption):
            if check is not None:
                assert check(m, lam, lr), f"{path.name}: {m.group(0)!r} disagrees with λ_max = {lam:.4g}, lr = {lr}"
            covered.update(range(m.start(), m.end()))
    for m in re.finditer(r"2/λ_max = " + NUMBER + r", and r = " + NUMBER + r" is " + NUMBER + r"× that", caption):
        assert _agrees(m.group(3), lr / (2 / lam)), f"{path.name}: {m.group(0)!r}"
    for m in GENERIC.finditer(caption):
        covered.update(range(m.start(), m.end()))
    unchecked = [caption[i:i + 40] for i in mentions if i not in covered]
    assert not unchecked, f"{path.name}: threshold quotes the test does not check: {unchecked}"


def test_the_check_catches_a_wrong_threshold():
    scene = load(next(p for p in BUNDLED if p.name.startswith("04-")))
    _, lam, lr = _state(scene)
    wrong = scene.caption.replace("(1.0 here)", "(1.6 here)")
    m = CHECKS[2][0].search(wrong)
    assert m is not None and not CHECKS[2][1](m, lam, lr)


def _by_prefix(prefix):
    return load(next(p for p in BUNDLED if p.name.startswith(prefix)))


def test_edge_of_stability_scenario_does_what_its_caption_says():
    scene = _by_prefix("08-")
    assert scene.sharpness == SharpnessSettings(every=10) and "Cohen" in scene.caption and "ICLR 2021" in scene.caption
    session = descent.build(scene.config)
    out = hessian.track_run(session.runner, scene.steps, every=scene.sharpness.every)
    steps, sharp, loss = out["step"], out["sharpness"], out["loss"]
    assert sharp[0] == pytest.approx(2.24, abs=0.005) and loss[0] == pytest.approx(0.83, abs=0.005)
    late = sharp[steps >= 400]
    assert late.min() >= 0.97 - 0.005 and late.max() <= 1.13 + 0.005  # "between 0.97 and 1.13"
    assert steps[-1] == 1500 and loss[-1] == pytest.approx(0.05, abs=0.005)
    assert np.any(np.diff(out["step_loss"]) > 0)  # "though not at every step"


def test_valley_scenario_zig_zags_and_momentum_is_faster():
    scene = _by_prefix("09-")
    assert scene.loss_surface.plane == "weights"
    session = descent.build(scene.config)
    m, X, y = session.model, session.train.X, session.train.y
    for name in scene.loss_surface.weights:
        m.index_of(name)
    H = hessian.hessian(m, session.initial_params, X, y)
    eig = np.linalg.eigvalsh(H)
    assert eig[-1] == pytest.approx(3.88, abs=0.005) and eig[0] == pytest.approx(0.12, abs=0.005)
    best = np.linalg.lstsq(np.hstack([X, np.ones((X.shape[0], 1))]), y, rcond=None)[0]
    low, start = m.loss(best, X, y), m.loss(session.initial_params, X, y)

    def steps_to_bottom(config):
        runner = descent.build(config).runner
        for k in range(1000):
            if runner.full_loss() - low < 1e-4 * (start - low):
                return k
            runner.step()
        return None

    assert steps_to_bottom(scene.config) == 61
    assert steps_to_bottom(scene.config.replace(optimizer="momentum", optimizer_params={"momentum": 0.7},
                                                lr=0.3)) == 21
    # the zig-zag: the component across the valley (top eigenvector) changes sign at every step
    top = np.linalg.eigh(H)[1][:, -1]
    runner = session.runner
    across = []
    for _ in range(10):
        across.append((runner.params - best) @ top)
        runner.step()
    assert all(a * b < 0 for a, b in zip(across, across[1:]))


def test_network_minimum_scenario_numbers():
    scene = _by_prefix("10-")
    assert scene.loss_surface == SurfaceSettings(plane="random", seed=0, span=1.0, grid=61)
    session, lam, lr = _state(scene)
    runner = session.runner
    assert runner.full_loss() == pytest.approx(0.06, abs=0.005)
    H = hessian.hessian(session.model, runner.params, runner.train.X, runner.train.y)
    eig = np.linalg.eigvalsh(H)
    assert np.sum(np.abs(eig) > 0.01 * lam) == 6  # "only 6 of the Hessian's 82 curvatures are above 1% of λ_max"
    assert eig.size == 82
    plane = landscape.make_plane("random", session.model, runner.params, seed=scene.loss_surface.seed)
    a = np.linspace(-scene.loss_surface.span, scene.loss_surface.span, 7)
    Z = plane.surface(session.model, runner.train.X, runner.train.y, a, a)
    assert Z[3, 3] == Z.min()  # the current point is the lowest of the grid: a basin


def test_surface_and_sharpness_fields_round_trip_and_validate():
    scene = _by_prefix("09-")
    assert loads(dumps(scene)) == scene
    text = dumps(scene)
    assert '"loss_surface"' in text and '"sharpness"' not in text  # written only when set
    plain = _by_prefix("01-")
    assert '"loss_surface"' not in dumps(plain) and plain.loss_surface is None and plain.sharpness is None
    import json

    data = json.loads(text)
    for change, message in [
        ({"plane": "saddle"}, "loss_surface.plane: unknown plane 'saddle'"),
        ({"weights": ["W1[0,0]"]}, "loss_surface.weights: the weights plane needs two weight names"),
        ({"weights": ["W1[0,0]", "W1[0,0]"]}, "choose two different weights"),
        ({"grid": 1000}, "loss_surface.grid: must be a whole number of points from 5 to 201"),
        ({"span": -1}, "loss_surface.span: must be a positive"),
        ({"plane": "random"}, "only the weights plane takes weight names"),
        ({"colour": "red"}, "loss_surface: unknown field loss_surface.colour"),
    ]:
        bad = json.loads(text)
        bad["loss_surface"] = {**data["loss_surface"], **change}
        with pytest.raises(ScenarioError, match=re.escape(message)):
            loads(json.dumps(bad), source="x.gdscenario")
    bad = json.loads(text)
    bad["sharpness"] = {"every": 0}
    with pytest.raises(ScenarioError, match=r"sharpness\.every: must be a whole number of steps from 1"):
        loads(json.dumps(bad))
    bad["sharpness"] = {"every": 5, "subset": "all"}
    with pytest.raises(ScenarioError, match=r"sharpness\.subset: expected a whole number of samples or null"):
        loads(json.dumps(bad))
    # the window measures λ_max every 10 steps of a batch over the set (or a fixed 512-sample subset): a file asking
    # for another cadence or subset is refused, saying what it gets, rather than read and ignored
    bad["sharpness"] = {"every": 5, "subset": None}
    with pytest.raises(ScenarioError, match=r"sharpness\.every: GD Studio measures λ_max every 10 steps .*\(got 5\)"):
        loads(json.dumps(bad))
    bad["sharpness"] = {"every": 10, "subset": 64}
    with pytest.raises(ScenarioError, match=r"sharpness\.subset: .* subset of 512 samples .* write null .*got 64"):
        loads(json.dumps(bad))
    assert loads(json.dumps({**bad, "sharpness": {}})).sharpness == SharpnessSettings()
    from gd_studio.engine import scenarios
    from gd_studio.live import curvature, run

    assert (scenarios.SHARPNESS_EVERY, scenarios.SHARPNESS_SUBSET) == (run.SHARPNESS_EVERY, curvature.SUBSET)
