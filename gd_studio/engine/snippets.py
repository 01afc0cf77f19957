""""Use in PyTorch": a short torch.optim / torch.optim.lr_scheduler snippet with the LR and schedule chosen here.

The snippet is plain text for the clipboard; GD Studio never imports torch. Optimizer settings equal to
torch's defaults are left out so the snippet stays short; everything else is spelled out. Schedules in
GD Studio count optimizer steps (mini-batches), so the snippet calls ``scheduler.step()`` after every
``optimizer.step()``, not once per epoch.
"""
from __future__ import annotations

from typing import Any

from . import optimizers, schedules

# torch.optim's defaults: a setting equal to these is not written out.
_TORCH_DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"weight_decay": 0.0},
    "momentum": {"dampening": 0.0, "weight_decay": 0.0},
    "nesterov": {"weight_decay": 0.0},
    "rmsprop": {"alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "centered": False, "weight_decay": 0.0},
    "adam": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
}
_TORCH_CLASS = {"sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}

_LOOP = """\
import torch

# model: your torch.nn.Module; loss_fn: e.g. torch.nn.CrossEntropyLoss(); loader: your mini-batches
{setup}

for inputs, targets in loader:
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step(){after}
"""


def _num(value: Any) -> str:
    """A number as Python source that reads back to the same value (repr is the shortest round-trip)."""
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return float(a) == float(b)


def optimizer_line(optimizer: str, optimizer_params: dict | None, lr: float) -> str:
    """``optimizer = torch.optim.X(model.parameters(), lr=..., ...)`` for one of GD Studio's optimizers.

    Settings are checked (and defaults filled in) by ``optimizers.make``, so a bad one raises ConfigError.
    """
    made = optimizers.make(optimizer, 1, **(optimizer_params or {}))
    hyper, name = made.hyper, made.name
    defaults = _TORCH_DEFAULTS[name]
    args = [f"lr={_num(lr)}"]
    for key in sorted(hyper, key=lambda k: (k != "momentum", k)):  # momentum first: it is what people look for
        value = hyper[key]
        if key in defaults and _same(value, defaults[key]):
            continue
        text = "(" + ", ".join(_num(v) for v in value) + ")" if isinstance(value, tuple) else _num(value)
        args.append(f"{key}={text}")
    if name == "nesterov":
        args.append("nesterov=True")
    return f"optimizer = torch.optim.{_TORCH_CLASS[name]}(model.parameters(), {', '.join(args)})"


def _call(head: str, args: list[str], width: int = 100) -> list[str]:
    """``head(args)`` on one line, or wrapped with a hanging indent when it would be too long."""
    one = f"{head}({', '.join(args)})"
    if len(one) <= width:
        return [one]
    lines, current = [f"{head}("], "    "
    for i, arg in enumerate(args):
        piece = arg + (", " if i < len(args) - 1 else ")")
        if len(current) + len(piece.rstrip()) > width and current.strip():
            lines.append(current.rstrip())
            current = "    "
        current += piece
    lines.append(current.rstrip())
    return lines


def scheduler_lines(
    schedule: str | None, schedule_params: dict | None, lr: float, *, total_steps: int | None = None
) -> tuple[float | None, list[str]]:
    """``(optimizer lr override or None, scheduler source lines)``; no lines for a constant LR.

    Settings are checked by ``schedules.make``. The override exists because torch's LinearLR only scales
    the optimizer's lr by factors in [0, 1]: a warm-up (end_lr above lr) starts the optimizer at end_lr
    and scales it from lr/end_lr up to 1.
    """
    name = schedule or "constant"
    given = dict(schedule_params or {})
    if name in ("linear", "one_cycle") and "total_steps" not in given and total_steps is not None:
        given["total_steps"] = total_steps
    p = schedules.make(name, lr, **given).params
    sched = "scheduler = torch.optim.lr_scheduler"
    if name == "constant":
        return None, []
    if name == "step":
        return None, _call(f"{sched}.StepLR", ["optimizer", f"step_size={p['step_size']}", f"gamma={_num(p['gamma'])}"])
    if name == "exponential":
        return None, _call(f"{sched}.ExponentialLR", ["optimizer", f"gamma={_num(p['gamma'])}"])
    if name == "linear":
        end_lr, steps = p["end_lr"], p["total_steps"]
        if end_lr <= lr:
            return None, _call(f"{sched}.LinearLR", ["optimizer", "start_factor=1.0",
                                                     f"end_factor={_num(end_lr / lr)}", f"total_iters={steps}"])
        return end_lr, [
            "# LinearLR scales lr by factors in [0, 1]: a rising line starts at lr/end_lr of end_lr",
            *_call(f"{sched}.LinearLR", ["optimizer", f"start_factor={_num(lr / end_lr)}", "end_factor=1.0",
                                         f"total_iters={steps}"]),
        ]
    if name == "triangular":
        args = ["optimizer", f"base_lr={_num(lr)}", f"max_lr={_num(p['max_lr'])}", f"step_size_up={p['step_size']}",
                f'mode="{p["mode"]}"']
        if p["mode"] == "exp_range":
            args.append(f"gamma={_num(p['gamma'])}")
        args.append("cycle_momentum=False")  # GD Studio cycles only the LR
        return None, _call(f"{sched}.CyclicLR", args)
    # one_cycle: GD Studio starts at lr, so torch's div_factor is max_lr / lr.
    args = ["optimizer", f"max_lr={_num(p['max_lr'])}", f"total_steps={p['total_steps']}",
            f"pct_start={_num(p['pct_start'])}", f'anneal_strategy="{p["anneal"]}"',
            f"div_factor={_num(p['div_factor'])}", f"final_div_factor={_num(p['final_div_factor'])}"]
    if p["three_phase"]:
        args.append("three_phase=True")
    args.append("cycle_momentum=False")  # GD Studio cycles only the LR
    return None, ["# total_steps must cover the whole run: torch raises an error past it",
                  *_call(f"{sched}.OneCycleLR", args)]


def pytorch_snippet(
    optimizer: str,
    optimizer_params: dict | None,
    lr: float,
    schedule: str | None = None,
    schedule_params: dict | None = None,
    *,
    total_steps: int | None = None,
) -> str:
    """A short, runnable PyTorch training loop with this optimizer, LR and schedule.

    It expects ``model``, ``loss_fn`` and ``loader`` to exist (a comment says so). ``total_steps`` fills in
    the length of a linear or one-cycle schedule when its params do not give one. Bad settings raise
    ConfigError.
    """
    override, sched = scheduler_lines(schedule, schedule_params, lr, total_steps=total_steps)
    opt = optimizer_line(optimizer, optimizer_params, override if override is not None else lr)
    setup = "\n".join([opt, *sched])
    after = ("\n    scheduler.step()  # after every optimizer step: GD Studio's schedules count steps, not epochs"
             if sched else "")
    return _LOOP.format(setup=setup, after=after)
