"""Learning-rate schedules: the LR as a closed-form function of the step number."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .config import check_lr
from .errors import ConfigError

NAMES = ("constant", "step", "exponential", "linear", "triangular", "one_cycle")

# Parameters each schedule takes and their defaults; None marks a required one.
DEFAULTS: dict[str, dict[str, Any]] = {
    "constant": {},
    "step": {"step_size": None, "gamma": 0.1},
    "exponential": {"gamma": None},
    "linear": {"end_lr": None, "total_steps": None},
    "triangular": {"max_lr": None, "step_size": None, "mode": "triangular", "gamma": 1.0},
    "one_cycle": {
        "max_lr": None,
        "total_steps": None,
        "pct_start": 0.3,
        "div_factor": None,  # max_lr / base_lr when omitted
        "final_div_factor": 1e4,
        "anneal": "cos",
        "three_phase": False,
    },
}
TRIANGULAR_MODES = ("triangular", "triangular2", "exp_range")
ANNEAL = ("cos", "linear")
# Parameters that are learning rates: with_base_lr scales them with the base so the shape stays.
_LR_PARAMS = ("end_lr", "max_lr")


def make(name: str, base_lr: float, **params: Any) -> "Schedule":
    """A schedule starting at ``base_lr`` (``schedule(0) == base_lr`` for every kind).

    - ``constant``: ``lr(t) = base_lr``
    - ``step`` (step_size, gamma=0.1): ``base_lr · gamma^⌊t / step_size⌋`` (torch StepLR)
    - ``exponential`` (gamma): ``base_lr · gamma^t`` (torch ExponentialLR)
    - ``linear`` (end_lr, total_steps): straight line from base_lr to end_lr over total_steps, then end_lr
    - ``triangular`` (max_lr, step_size, mode="triangular", gamma=1): Smith's cyclical LR (2015, eq. in §3.1):
      ``cycle = ⌊1 + t/(2·step_size)⌋``, ``x = |t/step_size − 2·cycle + 1|``,
      ``lr = base_lr + (max_lr − base_lr)·max(0, 1 − x)·scale`` where scale is 1 ("triangular"),
      ``1/2^(cycle−1)`` ("triangular2") or ``gamma^t`` ("exp_range").
    - ``one_cycle`` (max_lr, total_steps, pct_start=0.3, div_factor=max_lr/base_lr, final_div_factor=1e4,
      anneal="cos", three_phase=False): torch's OneCycleLR. It starts at ``max_lr/div_factor`` (= base_lr),
      rises to max_lr over the first ``pct_start·total_steps − 1`` steps, then anneals to
      ``base_lr/final_div_factor`` at step ``total_steps − 1`` (cosine by default, as torch). Give max_lr or
      div_factor (max_lr = base_lr·div_factor); both only if they agree. After the last step it holds its final LR.
    """
    if not isinstance(name, str) or name not in NAMES:
        raise ConfigError(f"schedule: unknown {name!r}; choose one of {', '.join(NAMES)}")
    return Schedule(name, base_lr, **params)


def from_dict(d: dict) -> "Schedule":
    """Rebuild a schedule from ``Schedule.to_dict()``."""
    if not isinstance(d, dict) or "name" not in d or "base_lr" not in d:
        raise ConfigError(f"schedule: expected an object with name, base_lr and params, got {d!r}")
    params = d.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"schedule: params must be an object, got {params!r}")
    return make(d["name"], d["base_lr"], **params)


def _int_at_least(name: str, what: str, value: Any, low: int) -> int:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if ok and isinstance(value, (float, np.floating)):
        ok = math.isfinite(value) and float(value).is_integer()  # 10.0 from a JSON file is fine
    if not ok or int(value) < low:
        raise ConfigError(f"{name} schedule: {what} must be a whole number ≥ {low}, got {value!r}")
    return int(value)


def _positive(name: str, what: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} schedule: {what} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ConfigError(f"{name} schedule: {what} must be positive and finite, got {value!r}")
    return v


class Schedule:
    """A learning-rate schedule: call it with the step number (0, 1, 2, …) to get the LR."""

    def __init__(self, name: str, base_lr: float, **params: Any) -> None:
        if name not in NAMES:
            raise ConfigError(f"schedule: unknown {name!r}; choose one of {', '.join(NAMES)}")
        unknown = sorted(set(params) - set(DEFAULTS[name]))
        if unknown:
            takes = ", ".join(DEFAULTS[name]) or "no parameters"
            raise ConfigError(f"{name} schedule: unknown parameter(s) {', '.join(unknown)}; it takes {takes}")
        merged = {**DEFAULTS[name], **params}
        missing = [k for k, v in merged.items() if v is None and not (name == "one_cycle" and k in ("max_lr", "div_factor"))]
        if missing:
            raise ConfigError(f"{name} schedule: missing parameter(s) {', '.join(missing)}")
        self.name = name
        self.base_lr = check_lr(base_lr, f"{name} schedule: base_lr")
        self.params = self._validated(merged)

    def _validated(self, p: dict[str, Any]) -> dict[str, Any]:
        name, base = self.name, self.base_lr
        if name == "step":
            return {"step_size": _int_at_least(name, "step_size", p["step_size"], 1),
                    "gamma": _positive(name, "gamma", p["gamma"])}
        if name == "exponential":
            return {"gamma": _positive(name, "gamma", p["gamma"])}
        if name == "linear":
            return {"end_lr": check_lr(p["end_lr"], f"{name} schedule: end_lr"),
                    "total_steps": _int_at_least(name, "total_steps", p["total_steps"], 1)}
        if name == "triangular":
            max_lr = check_lr(p["max_lr"], f"{name} schedule: max_lr")
            if max_lr < base:
                raise ConfigError(f"{name} schedule: max_lr ({max_lr:g}) must be ≥ base_lr ({base:g})")
            if p["mode"] not in TRIANGULAR_MODES:
                raise ConfigError(f"{name} schedule: mode must be one of {', '.join(TRIANGULAR_MODES)}, got {p['mode']!r}")
            gamma = _positive(name, "gamma", p["gamma"])
            if gamma > 1:
                raise ConfigError(f"{name} schedule: gamma must be in (0, 1], got {gamma:g}")
            return {"max_lr": max_lr, "step_size": _int_at_least(name, "step_size", p["step_size"], 1),
                    "mode": p["mode"], "gamma": gamma}
        if name == "one_cycle":
            return self._validated_one_cycle(p)
        return {}

    def _validated_one_cycle(self, p: dict[str, Any]) -> dict[str, Any]:
        name, base = self.name, self.base_lr
        if p["max_lr"] is None and p["div_factor"] is None:
            p = {**p, "div_factor": 25.0}  # torch's default
        if p["max_lr"] is not None:
            max_lr = check_lr(p["max_lr"], f"{name} schedule: max_lr")
            div = max_lr / base
            if p["div_factor"] is not None:
                given = _positive(name, "div_factor", p["div_factor"])
                if not math.isclose(given, div, rel_tol=1e-9):
                    raise ConfigError(
                        f"{name} schedule: div_factor {given:g} contradicts max_lr / base_lr = {div:g}; give one of them"
                    )
        else:
            div = _positive(name, "div_factor", p["div_factor"])
            max_lr = check_lr(base * div, f"{name} schedule: max_lr (base_lr × div_factor)")
        if div < 1:
            raise ConfigError(f"{name} schedule: max_lr ({max_lr:g}) must be ≥ base_lr ({base:g})")
        try:
            pct = float(p["pct_start"])
        except (TypeError, ValueError):
            pct = float("nan")
        if not 0.0 < pct < 1.0:
            raise ConfigError(f"{name} schedule: pct_start must be in (0, 1), got {p['pct_start']!r}")
        if p["anneal"] not in ANNEAL:
            raise ConfigError(f"{name} schedule: anneal must be one of {', '.join(ANNEAL)}, got {p['anneal']!r}")
        if not isinstance(p["three_phase"], (bool, np.bool_)):
            raise ConfigError(f"{name} schedule: three_phase must be true or false, got {p['three_phase']!r}")
        return {"max_lr": max_lr, "total_steps": _int_at_least(name, "total_steps", p["total_steps"], 2),
                "pct_start": pct, "div_factor": div,
                "final_div_factor": _positive(name, "final_div_factor", p["final_div_factor"]),
                "anneal": p["anneal"], "three_phase": bool(p["three_phase"])}

    # -- evaluation ----------------------------------------------------------------------------------
    def __call__(self, step: int) -> float:
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ConfigError(f"{self.name} schedule: step must be a whole number ≥ 0, got {step!r}")
        t = int(step)
        base, p, name = self.base_lr, self.params, self.name
        if name == "constant":
            return base
        if name == "step":
            return base * p["gamma"] ** (t // p["step_size"])
        if name == "exponential":
            return base * p["gamma"] ** t
        if name == "linear":
            frac = min(t, p["total_steps"]) / p["total_steps"]
            return base + (p["end_lr"] - base) * frac
        if name == "triangular":
            s = p["step_size"]
            cycle = math.floor(1 + t / (2 * s))
            x = abs(t / s - 2 * cycle + 1)
            if p["mode"] == "triangular":
                scale = 1.0
            elif p["mode"] == "triangular2":
                scale = 1.0 / 2.0 ** (cycle - 1)
            else:
                scale = p["gamma"] ** t
            return base + (p["max_lr"] - base) * max(0.0, 1.0 - x) * scale
        return self._one_cycle(t)

    def _one_cycle(self, t: int) -> float:
        p = self.params
        total = p["total_steps"]
        initial = self.base_lr
        peak = p["max_lr"]
        final = initial / p["final_div_factor"]
        # Phase end steps as torch.optim.lr_scheduler.OneCycleLR lays them out.
        up_end = float(p["pct_start"] * total) - 1
        if p["three_phase"]:
            phases = [(up_end, initial, peak), (2 * up_end, peak, initial), (total - 1, initial, final)]
        else:
            phases = [(up_end, initial, peak), (total - 1, peak, final)]
        t = min(t, total - 1)
        start = 0.0
        for i, (end, lr_from, lr_to) in enumerate(phases):
            if t <= end or i == len(phases) - 1:
                pct = (t - start) / (end - start) if end > start else 1.0
                pct = min(max(pct, 0.0), 1.0)
                if pct == 0.0 or pct == 1.0:  # exact ends: schedule(0) == base_lr to the last bit
                    return lr_from if pct == 0.0 else lr_to
                if p["anneal"] == "cos":
                    return lr_to + (lr_from - lr_to) / 2.0 * (math.cos(math.pi * pct) + 1.0)
                return (lr_to - lr_from) * pct + lr_from
            start = end
        raise AssertionError("unreachable")  # pragma: no cover

    def values(self, n_steps: int) -> np.ndarray:
        """The LR at steps 0 … n_steps−1, for drawing the schedule against the step."""
        n = _int_at_least(self.name, "n_steps", n_steps, 0)
        return np.array([self(t) for t in range(n)], dtype=np.float64)

    # -- derived schedules and serialisation ---------------------------------------------------------
    def with_base_lr(self, lr: float) -> "Schedule":
        """The same shape around a new base LR: every LR in it (end_lr, max_lr) scales by lr / base_lr.

        Used when the LR is changed live during a run: the schedule keeps its steps, ratios and cycle
        positions, only its level moves.
        """
        new_base = check_lr(lr, f"{self.name} schedule: base_lr")
        factor = new_base / self.base_lr
        params = dict(self.params)
        for k in _LR_PARAMS:
            if k in params:
                params[k] = params[k] * factor
        if self.name == "one_cycle":
            params.pop("div_factor")  # implied by max_lr / base_lr, unchanged by the scaling
        return Schedule(self.name, new_base, **params)

    def to_dict(self) -> dict:
        """JSON-able: ``{"name", "base_lr", "params"}``; ``from_dict`` rebuilds the same schedule."""
        params = dict(self.params)
        if self.name == "one_cycle":
            params.pop("div_factor")  # max_lr carries it; keeping both could disagree in the last bit
        return {"name": self.name, "base_lr": self.base_lr, "params": params}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return (self.name, self.base_lr, self.params) == (other.name, other.base_lr, other.params)

    def __hash__(self) -> int:
        return hash((self.name, self.base_lr, tuple(sorted(self.params.items()))))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Schedule({self.name!r}, base_lr={self.base_lr!r}{', ' if params else ''}{params})"
