"""Gradient-descent update rules (SGD, momentum, Nesterov, RMSProp, Adam) with torch.optim semantics."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ConfigError

NAMES = ("sgd", "momentum", "nesterov", "rmsprop", "adam")

# Defaults as torch.optim uses them (momentum has no default in torch; 0.9 is the customary value).
DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"weight_decay": 0.0},
    "momentum": {"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
    "nesterov": {"momentum": 0.9, "weight_decay": 0.0},
    "rmsprop": {"alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "centered": False, "weight_decay": 0.0},
    "adam": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
}

# The state each optimizer keeps, one float64 vector per name (None until the first step, as in torch).
_BUFFERS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("momentum_buffer",),
    "nesterov": ("momentum_buffer",),
    "rmsprop": ("square_avg", "momentum_buffer", "grad_avg"),
    "adam": ("exp_avg", "exp_avg_sq"),
}


def make(name: str, n_params: int, **hyper: Any) -> "Optimizer":
    """An optimizer for a flat parameter vector of length ``n_params``; unknown names or bad values raise ConfigError."""
    if not isinstance(name, str) or name.lower() not in NAMES:
        raise ConfigError(f"optimizer: unknown {name!r}; choose one of {', '.join(NAMES)}")
    return Optimizer(name.lower(), n_params, **hyper)


def _fraction(name: str, what: str, value: Any, *, allow_zero: bool = True) -> float:
    """A float in [0, 1) (or (0, 1) when zero is not allowed), else ConfigError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: {what} must be a number, got {value!r}") from None
    low_ok = v >= 0.0 if allow_zero else v > 0.0
    if not (math.isfinite(v) and low_ok and v < 1.0):
        bound = "[0, 1)" if allow_zero else "(0, 1)"
        raise ConfigError(f"{name}: {what} must be in {bound}, got {value!r}")
    return v


def _non_negative(name: str, what: str, value: Any, *, positive: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: {what} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0.0 or (positive and v == 0.0):
        raise ConfigError(f"{name}: {what} must be {'positive' if positive else '≥ 0'} and finite, got {value!r}")
    return v


class Optimizer:
    """One update rule and its state; ``step`` returns new parameters and leaves its inputs alone.

    Updates follow torch.optim exactly (weight decay is L2 added to the gradient, as in torch's
    SGD/RMSprop/Adam):

    - sgd: ``p ← p − lr·g``
    - momentum: ``v ← μ·v + (1 − dampening)·g`` (``v ← g`` on the first step); ``p ← p − lr·v``
    - nesterov: ``v ← μ·v + g``; ``p ← p − lr·(g + μ·v)``
    - rmsprop: ``s ← α·s + (1 − α)·g²``; ``p ← p − lr·g / (√s + ε)`` (optional momentum and centred variant)
    - adam: ``m ← β₁m + (1 − β₁)g``, ``v ← β₂v + (1 − β₂)g²``,
      ``p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)``
    """

    def __init__(self, name: str, n_params: int, **hyper: Any) -> None:
        if name not in NAMES:
            raise ConfigError(f"optimizer: unknown {name!r}; choose one of {', '.join(NAMES)}")
        if isinstance(n_params, bool) or not isinstance(n_params, (int, np.integer)) or n_params < 1:
            raise ConfigError(f"{name}: the number of parameters must be a whole number ≥ 1, got {n_params!r}")
        unknown = sorted(set(hyper) - set(DEFAULTS[name]))
        if unknown:
            raise ConfigError(
                f"{name}: unknown hyper-parameter(s) {', '.join(unknown)}; "
                f"it takes {', '.join(DEFAULTS[name]) or 'none'}"
            )
        self.name = name
        self.n_params = int(n_params)
        self.hyper = self._validated({**DEFAULTS[name], **hyper})
        self.reset()

    # -- configuration -------------------------------------------------------------------------------
    def _validated(self, h: dict[str, Any]) -> dict[str, Any]:
        name = self.name
        out: dict[str, Any] = {"weight_decay": _non_negative(name, "weight_decay", h["weight_decay"])}
        if name == "momentum":
            out["momentum"] = _fraction(name, "momentum", h["momentum"])
            out["dampening"] = _fraction(name, "dampening", h["dampening"])
        elif name == "nesterov":
            # torch refuses Nesterov without momentum: the look-ahead is then meaningless.
            out["momentum"] = _fraction(name, "momentum", h["momentum"], allow_zero=False)
        elif name == "rmsprop":
            out["alpha"] = _fraction(name, "alpha", h["alpha"])
            out["eps"] = _non_negative(name, "eps", h["eps"], positive=True)
            out["momentum"] = _fraction(name, "momentum", h["momentum"])
            if not isinstance(h["centered"], (bool, np.bool_)):
                raise ConfigError(f"{name}: centered must be true or false, got {h['centered']!r}")
            out["centered"] = bool(h["centered"])
        elif name == "adam":
            betas = h["betas"]
            if not isinstance(betas, (tuple, list)) or len(betas) != 2:
                raise ConfigError(f"{name}: betas must be a pair (β₁, β₂), got {betas!r}")
            out["betas"] = (_fraction(name, "β₁", betas[0]), _fraction(name, "β₂", betas[1]))
            out["eps"] = _non_negative(name, "eps", h["eps"], positive=True)
        return out

    # -- stepping ------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all state (moments, step count), as a freshly made optimizer."""
        self.step_count = 0
        self._buf: dict[str, np.ndarray | None] = {k: None for k in _BUFFERS[self.name]}

    def step(self, p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        """New parameters after one update with learning rate ``lr`` and gradient ``g`` (``p`` is not changed)."""
        if g.shape != (self.n_params,) or p.shape != (self.n_params,):
            raise ConfigError(
                f"{self.name}: expected parameter and gradient vectors of length {self.n_params}, "
                f"got shapes {p.shape} and {g.shape}"
            )
        lr = float(lr)
        if not (lr >= 0.0 and math.isfinite(lr)):  # written so that NaN fails too
            raise ConfigError(f"{self.name}: learning rate must be finite and ≥ 0, got {lr!r}")
        h = self.hyper
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        self.step_count += 1
        name = self.name
        if name == "sgd":
            return p - lr * g
        if name in ("momentum", "nesterov"):
            mu = h["momentum"]
            v = self._buf["momentum_buffer"]
            if v is None:
                v = self._buf["momentum_buffer"] = np.array(g, dtype=np.float64)  # torch: buf = g.clone()
            else:
                v *= mu
                damp = h.get("dampening", 0.0)
                v += g if damp == 0.0 else (1.0 - damp) * g
            if name == "nesterov":
                return p - lr * (g + mu * v)
            return p - lr * v
        if name == "rmsprop":
            return self._rmsprop(p, g, lr)
        return self._adam(p, g, lr)

    def _rmsprop(self, p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        h, b = self.hyper, self._buf
        alpha = h["alpha"]
        if b["square_avg"] is None:
            b["square_avg"] = np.zeros(self.n_params)
            if h["momentum"] > 0:
                b["momentum_buffer"] = np.zeros(self.n_params)
            if h["centered"]:
                b["grad_avg"] = np.zeros(self.n_params)
        s = b["square_avg"]
        s *= alpha
        s += (1.0 - alpha) * (g * g)
        if h["centered"]:
            ga = b["grad_avg"]
            ga *= alpha
            ga += (1.0 - alpha) * g
            avg = np.sqrt(s - ga * ga)
        else:
            avg = np.sqrt(s)
        avg += h["eps"]
        if h["momentum"] > 0:
            buf = b["momentum_buffer"]
            buf *= h["momentum"]
            buf += g / avg
            return p - lr * buf
        return p - lr * (g / avg)

    def _adam(self, p: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        h, b = self.hyper, self._buf
        beta1, beta2 = h["betas"]
        if b["exp_avg"] is None:
            b["exp_avg"] = np.zeros(self.n_params)
            b["exp_avg_sq"] = np.zeros(self.n_params)
        m, v = b["exp_avg"], b["exp_avg_sq"]
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        t = self.step_count
        bias1 = 1.0 - beta1**t
        bias2_sqrt = math.sqrt(1.0 - beta2**t)
        denom = np.sqrt(v)
        denom /= bias2_sqrt
        denom += h["eps"]
        return p - (lr / bias1) * (m / denom)

    # -- state ---------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """A deep copy of everything needed to continue bit for bit: name, hyper-parameters, step count, moments."""
        return {
            "name": self.name,
            "n_params": self.n_params,
            "hyper": {k: (tuple(v) if isinstance(v, tuple) else v) for k, v in self.hyper.items()},
            "step_count": self.step_count,
            "buffers": {k: (None if v is None else v.copy()) for k, v in self._buf.items()},
        }

    def load_state_dict(self, d: dict) -> None:
        """Restore a ``state_dict`` (copied, so the dict can be reused); ConfigError if it does not fit."""
        if not isinstance(d, dict) or d.get("name") != self.name:
            got = d.get("name") if isinstance(d, dict) else type(d).__name__
            raise ConfigError(f"{self.name}: cannot load the state of optimizer {got!r}")
        if d.get("n_params") != self.n_params:
            raise ConfigError(f"{self.name}: state is for {d.get('n_params')} parameters, this one has {self.n_params}")
        hyper = self._validated({**DEFAULTS[self.name], **d.get("hyper", {})})
        buffers = d.get("buffers", {})
        if set(buffers) != set(_BUFFERS[self.name]):
            raise ConfigError(f"{self.name}: state buffers {sorted(buffers)} do not match {sorted(_BUFFERS[self.name])}")
        new_buf: dict[str, np.ndarray | None] = {}
        for k, v in buffers.items():
            if v is None:
                new_buf[k] = None
                continue
            arr = np.array(v, dtype=np.float64)  # always a copy
            if arr.shape != (self.n_params,):
                raise ConfigError(f"{self.name}: state buffer {k!r} has shape {arr.shape}, expected ({self.n_params},)")
            new_buf[k] = arr
        step_count = d.get("step_count", 0)
        if isinstance(step_count, bool) or not isinstance(step_count, (int, np.integer)) or step_count < 0:
            raise ConfigError(f"{self.name}: step count must be a whole number ≥ 0, got {step_count!r}")
        self.hyper, self._buf, self.step_count = hyper, new_buf, int(step_count)

    def __repr__(self) -> str:
        return f"Optimizer({self.name!r}, n_params={self.n_params}, hyper={self.hyper}, step_count={self.step_count})"
