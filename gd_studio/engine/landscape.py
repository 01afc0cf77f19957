"""Loss slices through weight space, curvature along them, and the learning rates where descent turns."""
from __future__ import annotations

import math

import numpy as np

from .models import Model

# Offsets are evaluated in chunks so the (chunk, n, width) work arrays stay around a few MB (cache-sized
# pieces are faster than one huge broadcast, and memory stays bounded for big slices).
_CHUNK_ELEMENTS = 1 << 21


def _as_inputs(model: Model, p, X, y):
    p = np.asarray(p, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    if p.shape != (model.n_params,):
        raise ValueError(f"expected {model.n_params} parameters, got shape {p.shape}")
    return p, X, np.asarray(y)


def weight_slice(model: Model, p, X, y, index: int, offsets) -> np.ndarray:
    """Loss with ``p[index] + offset`` for each offset, every other weight held: exact, vectorised.

    A weight of layer l only moves one column j of that layer's pre-activation, so the layers below are
    computed once, column j is recomputed for all offsets at once, and only the layers above run per
    offset — batched over the offsets, with the change entering the next layer as a rank-one update.
    """
    p, X, y = _as_inputs(model, p, X, y)
    offsets = np.asarray(offsets, dtype=np.float64).ravel()
    index = int(index)
    if not 0 <= index < model.n_params:
        raise IndexError(f"parameter index {index} is outside 0..{model.n_params - 1}")
    number, part, i, j = model.locate(index)
    inputs, _ = model.hidden_activations(p, X)
    params = model.unpack(p)
    W, b = params[number]
    a_in = inputs[number]
    z = a_in @ W
    if b is not None:
        z += b
    column = z[:, j]
    # how the chosen weight moves column j: z_j + offset·a_i (weight) or z_j + offset (bias)
    step = a_in[:, i] if part == "W" else np.ones(X.shape[0])
    n = X.shape[0]
    out = np.empty(offsets.size)
    if number == len(params) - 1:
        # the output layer: only output column j moves; the loss takes the others as they are
        cols = [z[:, c] for c in range(z.shape[1])]
        chunk = max(1, _CHUNK_ELEMENTS // n)
        for start in range(0, offsets.size, chunk):
            off = offsets[start:start + chunk]
            cols[j] = column[None, :] + off[:, None] * step[None, :]
            out[start:start + off.size] = model.loss_from_columns(cols, y).mean(axis=-1)
        return out
    a = inputs[number + 1]  # this layer's activation at offset 0
    W_next, b_next = params[number + 1]
    base = a @ W_next
    if b_next is not None:
        base += b_next
    width = max(w.shape[1] for w, _ in params[number + 1:])
    chunk = max(1, _CHUNK_ELEMENTS // max(1, n * width))
    for start in range(0, offsets.size, chunk):
        off = offsets[start:start + chunk]
        aj = model._act(column[None, :] + off[:, None] * step[None, :])  # (m, n)
        aj -= a[None, :, j]
        # rank-one change of the next pre-activation: base + (a_j(offset) − a_j) ⊗ W_next[j]
        zz = aj[:, :, None] * W_next[j][None, None, :]
        zz += base
        for W_k, b_k in params[number + 2:]:
            zz = model._act(zz) @ W_k
            if b_k is not None:
                zz += b_k
        out[start:start + off.size] = model.per_sample_loss(zz, y).mean(axis=-1)
    return out


def direction_slice(model: Model, p, X, y, direction, alphas) -> np.ndarray:
    """Loss at ``p + alpha · direction`` for each alpha."""
    p, X, y = _as_inputs(model, p, X, y)
    direction = np.asarray(direction, dtype=np.float64)
    return np.array([model.loss(p + a * direction, X, y) for a in np.asarray(alphas, dtype=np.float64)])


def descent_direction(model: Model, p, X, y) -> np.ndarray:
    """The unit vector −g/|g| (zero where the gradient vanishes)."""
    p, X, y = _as_inputs(model, p, X, y)
    _, g = model.loss_and_grad(p, X, y)
    norm = float(np.linalg.norm(g))
    return -g / norm if norm > 0 else np.zeros_like(g)


def random_direction(model: Model, p, seed: int) -> np.ndarray:
    """A seeded random direction, filter-normalised as in Li et al. 2018.

    Each unit's incoming weights (a column of W) are scaled to the norm of the same column in p, so the
    slice is on the scale of the network's own weights; biases are left out (zero), as in the paper.
    """
    p = np.asarray(p, dtype=np.float64)
    rng = np.random.default_rng(seed)
    d = np.zeros(model.n_params)
    for layer, (W, _) in zip(model.layers, model.unpack(p)):
        r = rng.normal(size=W.shape)
        r *= np.linalg.norm(W, axis=0, keepdims=True) / np.maximum(np.linalg.norm(r, axis=0, keepdims=True),
                                                                   1e-300)
        d[layer.w_start:layer.w_stop] = r.ravel()
    return d


def curvature(model: Model, p, X, y, along) -> float:
    """Second derivative of the loss along a parameter index or a direction, at p.

    Taken as the central difference of the exact gradient, projected on the unit direction, so the
    error is O(h²) with no second rounding amplification.
    """
    p, X, y = _as_inputs(model, p, X, y)
    if isinstance(along, (int, np.integer)):
        d = np.zeros(model.n_params)
        d[int(along)] = 1.0
    else:
        d = np.asarray(along, dtype=np.float64)
        norm = float(np.linalg.norm(d))
        if norm == 0:
            return 0.0
        d = d / norm
    h = 1e-4 * max(1.0, float(np.linalg.norm(p)) / math.sqrt(max(1, p.size)))
    _, g_plus = model.loss_and_grad(p + h * d, X, y)
    _, g_minus = model.loss_and_grad(p - h * d, X, y)
    return float(d @ (g_plus - g_minus)) / (2.0 * h)


def lr_thresholds(curv: float) -> tuple[float, float]:
    """(1/λ, 2/λ): above 1/λ plain descent on this quadratic oscillates, above 2/λ it diverges."""
    if not math.isfinite(curv) or curv <= 0:
        return math.inf, math.inf
    return 1.0 / curv, 2.0 / curv


def describe_lr(lr: float, curv: float) -> str:
    """Where an LR sits against the thresholds, in words for the views (e.g. "1.7× the 2/λ threshold")."""
    oscillate, diverge = lr_thresholds(curv)
    if not math.isfinite(diverge):
        return "no curvature here: the slice is flat or bends down, so no LR threshold applies"
    ratio = lr / diverge
    if lr > diverge:
        return f"this LR is {ratio:.2g}× the divergence threshold 2/λ = {diverge:.3g}: steps grow"
    if lr > oscillate:
        return f"this LR is {ratio:.2g}× the divergence threshold 2/λ = {diverge:.3g}: steps overshoot and oscillate"
    return f"this LR is {ratio:.2g}× the divergence threshold 2/λ = {diverge:.3g}: steps stay on one side"
