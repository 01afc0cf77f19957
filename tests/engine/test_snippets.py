""""Use in PyTorch" snippets: they compile, and (when torch is installed) run with our LRs and settings."""
from __future__ import annotations

import pytest

import numpy as np

from gd_studio.engine import optimizers, schedules
from gd_studio.engine.errors import ConfigError
from gd_studio.engine.snippets import pytorch_snippet

OPTIMIZERS = [
    ("sgd", {}),
    ("sgd", {"weight_decay": 1e-4}),
    ("momentum", {}),
    ("momentum", {"momentum": 0.8, "dampening": 0.1}),
    ("nesterov", {"momentum": 0.95}),
    ("rmsprop", {}),
    ("rmsprop", {"alpha": 0.9, "momentum": 0.5, "centered": True}),
    ("adam", {}),
    ("adam", {"betas": [0.8, 0.99], "eps": 1e-6}),
]
SCHEDULES = [
    ("constant", {}),
    ("step", {"step_size": 3, "gamma": 0.5}),
    ("exponential", {"gamma": 0.9}),
    ("linear", {"end_lr": 0.01, "total_steps": 8}),
    ("linear", {"end_lr": 1.0, "total_steps": 8}),  # a warm-up: torch's LinearLR needs the other way round
    ("triangular", {"max_lr": 1.0, "step_size": 4}),
    ("triangular", {"max_lr": 1.0, "step_size": 3, "mode": "triangular2"}),
    ("triangular", {"max_lr": 1.0, "step_size": 3, "mode": "exp_range", "gamma": 0.9}),
    ("one_cycle", {"max_lr": 1.0, "total_steps": 20}),
    ("one_cycle", {"max_lr": 2.0, "total_steps": 20, "pct_start": 0.25, "anneal": "linear",
                   "final_div_factor": 100.0}),
    ("one_cycle", {"max_lr": 1.0, "total_steps": 20, "three_phase": True}),
]
LR = 0.1
N_STEPS = 20


def test_constant_sgd_snippet_reads_plainly():
    text = pytorch_snippet("sgd", {}, 0.1)
    assert "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n" in text
    assert "scheduler" not in text
    assert text.startswith("import torch\n")
    compile(text, "<snippet>", "exec")


def test_named_classes_and_settings():
    assert "torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)" in pytorch_snippet("momentum", {}, 0.1)
    assert "momentum=0.9, nesterov=True" in pytorch_snippet("nesterov", {}, 0.1)
    assert "torch.optim.RMSprop(model.parameters(), lr=0.001)" in pytorch_snippet("rmsprop", {}, 0.001)
    assert "torch.optim.Adam(model.parameters(), lr=0.0003, betas=(0.9, 0.99))" in pytorch_snippet(
        "adam", {"betas": (0.9, 0.99)}, 3e-4)
    text = pytorch_snippet("sgd", {}, 0.05, "triangular", {"max_lr": 0.5, "step_size": 200})
    assert "torch.optim.lr_scheduler.CyclicLR(" in text and 'mode="triangular"' in text
    assert "step_size_up=200" in text and "cycle_momentum=False" in text
    assert "scheduler.step()" in text
    text = pytorch_snippet("sgd", {}, 0.04, "one_cycle", {"max_lr": 1.0}, total_steps=500)
    assert "OneCycleLR(" in text and "total_steps=500" in text and "div_factor=25.0" in text
    assert "StepLR(optimizer, step_size=30, gamma=0.1)" in pytorch_snippet("sgd", {}, 0.1, "step",
                                                                            {"step_size": 30})
    assert "ExponentialLR(optimizer, gamma=0.99)" in pytorch_snippet("sgd", {}, 0.1, "exponential", {"gamma": 0.99})
    assert "LinearLR(" in pytorch_snippet("sgd", {}, 0.1, "linear", {"end_lr": 0.001}, total_steps=100)


@pytest.mark.parametrize("optimizer, params", OPTIMIZERS)
@pytest.mark.parametrize("schedule, sched_params", SCHEDULES)
def test_every_snippet_compiles(optimizer, params, schedule, sched_params):
    text = pytorch_snippet(optimizer, params, LR, schedule, sched_params)
    compile(text, "<snippet>", "exec")
    assert len(text.splitlines()) <= 16  # short enough to read on a slide


@pytest.mark.parametrize("args, kwargs, match", [
    (("lion", {}, 0.1), {}, "unknown"),
    (("momentum", {"momentum": 2.0}, 0.1), {}, "momentum"),
    (("sgd", {"nesterov": True}, 0.1), {}, "nesterov"),
    (("sgd", {}, -1.0, "step", {"step_size": 3}), {}, "base_lr"),
    (("sgd", {}, 0.1, "step", {}), {}, "step_size"),
    (("sgd", {}, 0.1, "one_cycle", {"max_lr": 1.0}), {}, "total_steps"),
    (("sgd", {}, 0.1, "warmup", {}), {}, "unknown"),
])
def test_bad_settings_raise_config_error(args, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        pytorch_snippet(*args, **kwargs)


def _run_in_torch(text, n_steps):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    namespace: dict = {}
    lrs: list[float] = []

    def loader():
        for _ in range(n_steps):
            lrs.append(namespace["optimizer"].param_groups[0]["lr"])  # the LR this step will use
            yield torch.randn(4, 2), torch.randn(4, 1)

    namespace.update(model=torch.nn.Linear(2, 1), loss_fn=torch.nn.MSELoss(), loader=loader())
    exec(compile(text, "<snippet>", "exec"), namespace)
    return namespace, lrs


@pytest.mark.parametrize("schedule, sched_params", SCHEDULES)
def test_torch_runs_the_snippet_with_our_learning_rates(schedule, sched_params):
    text = pytorch_snippet("sgd", {}, LR, schedule, sched_params)
    _, lrs = _run_in_torch(text, N_STEPS)
    ours = schedules.make(schedule, LR, **sched_params)
    assert lrs == pytest.approx([ours(t) for t in range(N_STEPS)], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("optimizer, params", OPTIMIZERS)
def test_torch_optimizer_gets_our_settings(optimizer, params):
    namespace, _ = _run_in_torch(pytorch_snippet(optimizer, params, LR), 2)
    group = namespace["optimizer"].param_groups[0]
    assert group["lr"] == LR
    for key, value in optimizers.make(optimizer, 1, **params).hyper.items():
        assert group[key] == (tuple(value) if isinstance(value, (list, tuple)) else value), key
    assert group.get("nesterov", False) == (optimizer == "nesterov")


def test_torch_and_our_optimizer_take_the_same_steps():
    """Same start, same gradients: the snippet's torch optimizer and ours land on the same weights."""
    torch = pytest.importorskip("torch")
    for optimizer, params in OPTIMIZERS:
        namespace: dict = {}
        model = torch.nn.Linear(3, 1, bias=False).double()
        with torch.no_grad():
            model.weight.copy_(torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64))
        namespace.update(model=model, loss_fn=None, loader=iter(()))
        exec(compile(pytorch_snippet(optimizer, params, LR, "step", {"step_size": 2, "gamma": 0.5}),
                     "<snippet>", "exec"), namespace)
        torch_opt, torch_sched = namespace["optimizer"], namespace["scheduler"]
        ours = optimizers.make(optimizer, 3, **params)
        sched = schedules.make("step", LR, step_size=2, gamma=0.5)
        p = np.array([0.5, -1.0, 2.0])
        rng = np.random.default_rng(1)
        for t in range(5):
            g = rng.standard_normal(3)
            torch_opt.zero_grad()
            model.weight.grad = torch.from_numpy(g[None, :].copy())
            torch_opt.step()
            torch_sched.step()
            p = ours.step(p, g, sched(t))
        np.testing.assert_allclose(model.weight.detach().numpy()[0], p, rtol=1e-12, atol=1e-14,
                                   err_msg=optimizer)
