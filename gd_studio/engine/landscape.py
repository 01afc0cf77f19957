"""Loss slices through weight space, curvature along them, and the learning rates where descent turns."""
from __future__ import annotations

import math
from dataclasses import dataclass

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
    z = _affine(a_in, W, b)
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
    base = _affine(a, W_next, b_next)
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
            zz = _affine(model._act(zz), W_k, b_k)
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
    """Second derivative of the loss along a parameter index (a diagonal entry of the Hessian) or a direction, at p.

    Exact: dᵀ·H·d from one Hessian-vector product (models.HessianOperator), d the unit direction. Along one
    weight this never exceeds the whole network's λ_max (hessian.sharpness), so its 2/λ can only overstate
    the safe learning rate.
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
    with np.errstate(all="ignore"):
        return float(d @ model.hvp(p, X, y, d))


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


# ------------------------------------------------------------------------------------------------
# The loss surface in two dimensions: the loss on a grid in a plane through the weights (issue 14).

# Grid points are evaluated in chunks whose (points, width, n) arrays are about this size: cache-sized pieces
# run faster than one huge broadcast (0.5-1 MB ran fastest of 0.5-4 MB on both benchmark networks, float32
# and float64; 4 MB was 10-60% slower), and memory stays bounded for big grids.
_PLANE_CHUNK_BYTES = 1 << 20


def _chunk_points(dtype, per_point: int) -> int:
    """Grid points per chunk when each point needs ``per_point`` numbers of ``dtype``."""
    return max(1, _PLANE_CHUNK_BYTES // (np.dtype(dtype).itemsize * max(1, per_point)))


@dataclass(frozen=True)
class Plane:
    """A plane through ``origin`` spanned by ``d1`` and ``d2``: the point (α, β) is origin + α·d1 + β·d2.

    ``labels`` name the two axes for the view (e.g. "W1[0,0]", "descent direction"); ``orthonormal`` says
    whether d1 ⟂ d2 with unit length (then α, β are distances in weight space); ``note`` explains a fallback.
    """

    origin: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    kind: str
    labels: tuple[str, str]
    orthonormal: bool = False
    note: str = ""

    def point(self, alpha: float, beta: float) -> np.ndarray:
        return self.origin + float(alpha) * self.d1 + float(beta) * self.d2

    def project(self, points) -> np.ndarray:
        """(α, β) of each point's orthogonal projection on the plane: shape (m, 2); exact for points in it."""
        return project(points, self.origin, self.d1, self.d2)

    def surface(self, model: Model, X, y, alphas, betas, *, precision: str = "float64") -> np.ndarray:
        return plane(model, self.origin, X, y, self.d1, self.d2, alphas, betas, precision=precision)


def plane(model: Model, p, X, y, d1, d2, alphas, betas, *, precision: str = "float64") -> np.ndarray:
    """Loss at ``p + α·d1 + β·d2`` for every α in ``alphas`` and β in ``betas``: shape (len(alphas), len(betas)).

    Z[i, j] is the loss at alphas[i], betas[j] (``numpy.meshgrid(..., indexing="ij")`` order). Exact up to
    rounding against ``model.loss`` at each point, and vectorised: every layer's weights are affine in
    (α, β), W + α·D1 + β·D2, so the first moved layer's pre-activation is Z0 + α·U + β·V for the whole grid
    (one product with three rows), and each layer above forms its weights per grid point from a stack
    [W; D1; D2] and runs as a batched product over a chunk of grid points. Layers the directions leave
    alone are computed once. When d1 and d2 are each a single weight of the same layer, only one or two of
    that layer's units change, and the grid costs little more than its size (see ``_two_weights``).

    ``precision="float32"`` computes in single precision, 2–4× faster: what the loss-surface view uses (a
    picture: values agree with ``model.loss`` to about 1e-6 relative, far below the spacing of its contour
    levels); the default float64 agrees to rounding.
    """
    p, X, y = _as_inputs(model, p, X, y)
    d1 = np.asarray(d1, dtype=np.float64)
    d2 = np.asarray(d2, dtype=np.float64)
    if d1.shape != p.shape or d2.shape != p.shape:
        raise ValueError(f"directions must have {model.n_params} entries, got shapes {d1.shape} and {d2.shape}")
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    betas = np.asarray(betas, dtype=np.float64).ravel()
    if alphas.size == 0 or betas.size == 0:
        return np.empty((alphas.size, betas.size))
    if precision not in ("float64", "float32"):
        raise ValueError(f"precision: choose float64 or float32, got {precision!r}")
    if precision == "float32":
        p, X, d1, d2, alphas, betas = (a.astype(np.float32) for a in (p, X, d1, d2, alphas, betas))
        if model.task == "regression":
            y = y.astype(np.float32)
    with np.errstate(all="ignore"):  # a grid reaching into divergence gives inf losses, not warnings
        single = _two_weights(model, p, X, y, d1, d2, alphas, betas)
        if single is None:
            single = _dense_plane(model, p, X, y, d1, d2, alphas, betas)
        return np.asarray(single, dtype=np.float64)


def _affine(a: np.ndarray, W: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """A layer's pre-activation a·W + b (no bias: a·W), for 2-D or stacked inputs: the one place it is formed.

    Stacked inputs (m, n, fan_in) go through one tall product: matmul would otherwise call BLAS once per
    item of the stack with the same W.
    """
    if a.ndim > 2:
        z = (a.reshape(-1, a.shape[-1]) @ W).reshape(*a.shape[:-1], W.shape[1])
    else:
        z = a @ W
    if b is not None:
        z += b
    return z


def _mean_loss_cols(model: Model, cols: list, y: np.ndarray) -> np.ndarray:
    """Mean loss over the last axis (samples) from the raw outputs given column by column, each (m, n).

    model.per_sample_loss's formulas, written column by column (NumPy handles a short last axis slowly,
    and each column's samples are contiguous), overwriting the columns as it goes.
    """
    k = len(cols)
    if model.task == "regression":
        diff = cols[0]
        diff -= y
        diff *= diff
        return diff.mean(axis=-1)
    top = cols[0].copy()
    for c in cols[1:]:
        np.maximum(top, c, out=top)
    picked = cols[0].copy()  # the true class's output, z_y
    for c in range(1, k):
        np.copyto(picked, cols[c], where=(y == c))
    exps = cols
    for e in exps:
        e -= top
        np.exp(e, out=e)
    total = exps[0].copy()
    for e in exps[1:]:
        total += e
    if model.loss_name == "cross_entropy":
        picked -= top
        loss = np.log(total, out=total)
        loss -= picked
        return loss.mean(axis=-1)
    # Σ_c (p_c − t_c)² = Σ_c p_c² − 2 p_y + 1, with p_c = e_c / total
    sq = exps[0] * exps[0]
    for e in exps[1:]:
        sq += e * e
    picked -= top
    true = np.exp(picked, out=picked)
    loss = (sq / total - 2.0 * true) / total + 1.0
    return loss.mean(axis=-1)


def _moves(D: np.ndarray, e: np.ndarray | None) -> bool:
    return bool(np.any(D)) or (e is not None and bool(np.any(e)))


@dataclass
class _Above:
    """A layer above the first moved one, ready for a chunk of grid points: the rows of ``S`` are the layer's
    [Wᵀ | b] (fan_out × fan_in + 1, flattened) at p and, where the directions move it, along D1 and D2; a
    grid point's (1, α, β), restricted to ``rows``, combines them into its own weights."""

    fan_in: int
    fan_out: int
    rows: list[int]  # which of (1, α, β) this layer depends on; [0]: it does not move
    S: np.ndarray  # (len(rows), fan_out · (fan_in + 1))


def _above(layers) -> list[_Above]:
    """The _Above specs of (W, b, D1, e1, D2, e2) per layer.

    The bias rides in the product as an extra input column: the activations carry a row of ones
    (_forward_loss), which costs 1/fan_in more multiplications and saves a pass over every pre-activation.
    """
    out = []
    for W, b, D1, e1, D2, e2 in layers:
        rows = [0] + [r for r, (D, e) in ((1, (D1, e1)), (2, (D2, e2))) if _moves(D, e)]
        pairs = ((W, b), (D1, e1), (D2, e2))
        blocks = []
        for r in rows:
            D, e = pairs[r]
            block = np.zeros((W.shape[1], W.shape[0] + 1), dtype=W.dtype)
            block[:, :-1] = D.T
            if e is not None:
                block[:, -1] = e
            blocks.append(block.ravel())
        out.append(_Above(W.shape[0], W.shape[1], rows, np.stack(blocks)))
    return out


def _forward_loss(model: Model, z: np.ndarray, layers: list[_Above], cc: np.ndarray | None,
                  y: np.ndarray) -> np.ndarray:
    """Mean loss per grid point from the transposed pre-activations z (m, width + 1, n) of a hidden layer, whose
    last row is ones (for the next layer's bias), through ``layers`` (those above it, the output last), at the
    grid points whose (1, α, β) are the rows of cc (m, 3).

    Samples run along the last axis throughout: each layer is [W | b](α, β)ᵀ·[a | 1]ᵀ, a batched product
    per grid point that BLAS takes contiguous, and each output class comes out as a contiguous (m, n)
    block for the loss (a tall product with only k columns, or BLAS reading a transposed view, ran 3-6×
    slower).
    """
    m, n = z.shape[0], z.shape[2]
    for number, spec in enumerate(layers):
        model._act(z[:, :-1])  # in place; the row of ones stays
        if len(spec.rows) == 1:
            Wt = spec.S[0].reshape(spec.fan_out, spec.fan_in + 1)  # the same weights at every point
        else:
            # weights differ at every grid point: one small product per point (a batched matmul keeps each in
            # cache and does a third of the work of one tall product against [W | D1 | D2])
            Wt = (cc[:, spec.rows] @ spec.S).reshape(m, spec.fan_out, spec.fan_in + 1)
        if number == len(layers) - 1:
            z = np.matmul(Wt, z)
        else:
            nxt = np.empty((m, spec.fan_out + 1, n), dtype=z.dtype)
            nxt[:, -1] = 1.0
            np.matmul(Wt, z, out=nxt[:, :-1])
            z = nxt
    return _mean_loss_cols(model, [z[:, c] for c in range(z.shape[1])], y)


def _grid_coefficients(alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """(1, α, β) of every grid point in meshgrid "ij" order: shape (len(alphas)·len(betas), 3)."""
    cc = np.empty((alphas.size, betas.size, 3), dtype=alphas.dtype)
    cc[..., 0] = 1.0
    cc[..., 1] = alphas[:, None]
    cc[..., 2] = betas[None, :]
    return cc.reshape(-1, 3)


def _dense_plane(model, p, X, y, d1, d2, alphas, betas):
    params, dir1, dir2 = model.unpack(p), model.unpack(d1), model.unpack(d2)
    layers = [(W, b, D1, e1, D2, e2) for (W, b), (D1, e1), (D2, e2) in zip(params, dir1, dir2)]
    moved = [_moves(D1, e1) or _moves(D2, e2) for _, _, D1, e1, D2, e2 in layers]
    shape = (alphas.size, betas.size)
    if not any(moved):
        return np.full(shape, model.loss(p, X, y))
    first = moved.index(True)
    # the layers below the first moved one are the same at every grid point: computed once
    a_in = X if first == 0 else model.hidden_activations(p, X)[0][first]
    n = X.shape[0]
    W, b, D1, e1, D2, e2 = layers[first]
    rows = [0] + [r for r, (D, e) in ((1, (D1, e1)), (2, (D2, e2))) if _moves(D, e)]
    parts = [_affine(a_in, *pair) for pair in ((W, b), (D1, e1), (D2, e2))]
    cc = _grid_coefficients(alphas, betas)
    out = np.empty(cc.shape[0], dtype=p.dtype)
    width = max(W_.shape[1] for W_, _ in params[first:])
    chunk = _chunk_points(p.dtype, n * width)
    if first == len(layers) - 1:
        # only the output layer moves: its columns are affine in (α, β), the loss follows directly
        k = W.shape[1]
        S = np.stack([parts[r].T for r in rows])  # (rows, k, n)
        for s in range(0, cc.shape[0], chunk):
            c = cc[s:s + chunk]
            cols = [c[:, rows] @ S[:, j] for j in range(k)]
            out[s:s + c.shape[0]] = _mean_loss_cols(model, cols, y)
        return out.reshape(shape)
    # the first moved layer's pre-activation Z0 + α·U + β·V for a chunk of points, samples along the last
    # axis and a row of ones under it for the next layer's bias (see _forward_loss): one product with ≤ 3 rows
    blocks = [np.concatenate([parts[r].T, np.full((1, n), 1.0 if r == 0 else 0.0, dtype=p.dtype)]) for r in rows]
    S = np.stack([block.ravel() for block in blocks])
    above = _above(layers[first + 1:])
    for s in range(0, cc.shape[0], chunk):
        c = cc[s:s + chunk]
        z = (c[:, rows] @ S).reshape(c.shape[0], W.shape[1] + 1, n)
        out[s:s + c.shape[0]] = _forward_loss(model, z, above, c, y)
    return out.reshape(shape)


def _single_weight(d: np.ndarray) -> int | None:
    nz = np.flatnonzero(d)
    return int(nz[0]) if nz.size == 1 else None


def _two_weights(model, p, X, y, d1, d2, alphas, betas):
    """The plane of two single weights of one layer, or None when the directions are not that.

    Each weight moves one column of the layer's pre-activation: column j₁ by α·s₁ and j₂ by β·s₂ (s the
    input feature the weight multiplies, or 1 for a bias). So the layer's units are computed once, the one or
    two changed units for every α and β, and the next layer's pre-activation is its value at p plus a
    rank-one change per moved unit; only the layers above that run per grid point.
    """
    i1, i2 = _single_weight(d1), _single_weight(d2)
    if i1 is None or i2 is None:
        return None
    (l1, part1, r1, c1), (l2, part2, r2, c2) = model.locate(i1), model.locate(i2)
    if l1 != l2:
        return None
    number = l1
    inputs, _ = model.hidden_activations(p, X)
    params = model.unpack(p)
    a_in = inputs[number]
    z = _affine(a_in, *params[number])
    n = X.shape[0]
    s1 = (a_in[:, r1] if part1 == "W" else np.ones(n, dtype=a_in.dtype)) * d1[i1]
    s2 = (a_in[:, r2] if part2 == "W" else np.ones(n, dtype=a_in.dtype)) * d2[i2]
    A = alphas[:, None, None]
    B = betas[None, :, None]
    if c1 == c2:
        moved = {c1: z[:, c1] + A * s1 + B * s2}  # (ma, mb, n)
    else:
        moved = {c1: z[:, c1] + A * s1, c2: z[:, c2] + B * s2}  # (ma, 1, n) and (1, mb, n)
    if number == len(params) - 1:
        cols = [moved.get(c, z[:, c]) for c in range(z.shape[1])]
        return np.broadcast_to(model.loss_from_columns(cols, y).mean(axis=-1), (alphas.size, betas.size)).copy()
    a = inputs[number + 1]
    W_next, b_next = params[number + 1]
    base = _affine(a, W_next, b_next)
    # the changes of each moved unit's activation, entering the next layer as rank-one updates
    changes = {c: model._act(col) - a[:, c] for c, col in moved.items()}
    if number + 1 == len(params) - 1:  # the next layer is the output: build its few columns directly
        cols = []
        for k in range(base.shape[1]):
            col = np.broadcast_to(base[:, k], (alphas.size, betas.size, n)).copy()
            for c, dc in changes.items():
                col += dc * W_next[c, k]
            cols.append(col)
        return _mean_loss_cols(model, cols, y)
    above = _above([(W_k, b_k, None, None, None, None) for W_k, b_k in params[number + 2:]])
    # base + Σ_c Δa_c ⊗ W_next[c], transposed (samples last, see _forward_loss): the changes that depend on β
    # only are added once, the one that depends on α (or on both, when the two weights feed one unit) per
    # block of grid points, into the block's buffer
    fixed = base.T[None]  # (1, width, n)
    moving = None
    for c, dc in changes.items():
        if dc.shape[0] == 1:
            fixed = fixed + W_next[c][None, :, None] * dc[0][:, None, :]  # (mb or 1, width, n)
        else:
            moving = (dc, W_next[c][:, None])
    width = base.shape[1]
    na, nb = alphas.size, betas.size
    out = np.empty((na, nb), dtype=p.dtype)
    chunk = _chunk_points(p.dtype, n * max(w.shape[1] for w, _ in params[number + 1:]))
    # blocks of whole grid rows when a row fits in a chunk (small grids: few calls), else pieces of one row
    if chunk >= nb:
        blocks = [(i0, min(na, i0 + chunk // nb), 0, nb) for i0 in range(0, na, chunk // nb)]
    else:
        blocks = [(i, i + 1, j0, min(nb, j0 + chunk)) for i in range(na) for j0 in range(0, nb, chunk)]
    for i0, i1, j0, j1 in blocks:
        buf = np.empty((i1 - i0, j1 - j0, width + 1, n), dtype=base.dtype)
        buf[:, :, -1] = 1.0  # the row of ones for the next layer's bias (_forward_loss)
        zz = buf[:, :, :-1]
        part = fixed[j0:j1] if fixed.shape[0] > 1 else fixed
        if moving is None:
            zz[...] = part
        else:
            dc, w_col = moving  # dc: (na, nb or 1, n)
            rows = dc[i0:i1, j0:j1] if dc.shape[1] > 1 else dc[i0:i1]
            np.multiply(w_col, rows[:, :, None, :], out=zz)
            zz += part
        m = (i1 - i0) * (j1 - j0)
        out[i0:i1, j0:j1] = _forward_loss(model, buf.reshape(m, width + 1, n), above, None, y).reshape(i1 - i0, -1)
    return out


def project(points, origin, d1, d2) -> np.ndarray:
    """Coordinates (α, β) of the orthogonal projection of each point on the plane origin + α·d1 + β·d2.

    Least squares through the 2×2 Gram matrix of (d1, d2), so the basis need not be orthonormal; a point
    in the plane comes back exactly (up to rounding) at its own coordinates.
    """
    P = np.atleast_2d(np.asarray(points, dtype=np.float64)) - np.asarray(origin, dtype=np.float64)
    D = np.stack([np.asarray(d1, dtype=np.float64), np.asarray(d2, dtype=np.float64)])
    G = D @ D.T
    if abs(np.linalg.det(G)) <= 1e-24 * max(1.0, float(np.trace(G))) ** 2:
        raise ValueError("the two directions are parallel (or zero): they do not span a plane")
    return np.linalg.solve(G, D @ P.T).T


def weight_direction(model: Model, weight) -> np.ndarray:
    """The unit vector along one parameter, given by name ("W1[0,0]") or flat index."""
    index = model.index_of(weight) if isinstance(weight, str) else int(weight)
    if not 0 <= index < model.n_params:
        raise IndexError(f"parameter index {index} is outside 0..{model.n_params - 1}")
    d = np.zeros(model.n_params)
    d[index] = 1.0
    return d


def weights_plane(model: Model, p, first, second) -> Plane:
    """The plane of two chosen weights through p: α and β are the changes of those two weights."""
    d1, d2 = weight_direction(model, first), weight_direction(model, second)
    if np.array_equal(d1, d2):
        raise ValueError("choose two different weights for the loss surface")
    names = tuple(model.param_names[int(np.flatnonzero(d)[0])] for d in (d1, d2))
    return Plane(np.array(p, dtype=np.float64), d1, d2, "weights", names, orthonormal=True)


def descent_random_plane(model: Model, p, X, y, seed: int = 0) -> Plane:
    """The plane through p of the descent direction and a filter-normalised random direction (Li et al. 2018).

    The random direction r has each unit's incoming weights scaled to that unit's own norm in p; the
    descent direction −g/|g| is scaled to |r| so both axes are on the network's own scale. r is made
    orthogonal to the descent direction (its norm kept), since in a small network two random directions
    are not nearly orthogonal as they are in a large one.
    """
    p, X, y = _as_inputs(model, p, X, y)
    r = random_direction(model, p, seed)
    scale = float(np.linalg.norm(r)) or 1.0
    g = descent_direction(model, p, X, y)
    note = ""
    if not np.any(g):
        note = "the gradient is zero here, so a second random direction replaces the descent direction"
        g = random_direction(model, p, seed + 1)
        g /= np.linalg.norm(g) or 1.0
    d1 = g * scale
    r = r - (r @ g) / (g @ g) * g
    norm = float(np.linalg.norm(r))
    if norm <= 1e-12 * scale:  # r was along g (a one-layer model with one unit): any orthogonal vector
        r = np.random.default_rng(seed).standard_normal(model.n_params)
        r -= (r @ g) / (g @ g) * g
        norm = float(np.linalg.norm(r))
    d2 = r * (scale / norm)
    return Plane(p.copy(), d1, d2, "descent_random",
                 ("descent direction", f"random direction (filter-normalised, seed {seed})"), note=note)


def path_plane(start, now, end, *, model: Model | None = None, seed: int = 0, others=None,
               other_steps=None) -> Plane:
    """The plane through three recorded points of a run, with an orthonormal basis.

    Origin at ``start``; d1 the unit vector from start to end, d2 the unit part of (now − start) orthogonal
    to it (Gram-Schmidt), so α and β are distances in weight space and every recorded point projects
    where it is. When now is on the line through start and end (always so at the newest step, where now is the
    end) the third point is the one of ``others`` (the recorded points, steps ``other_steps``) farthest from that
    line: the plane of the path's widest turn, which holds its bend instead of a random cut. Only when every point
    is on the line (e.g. at the first step) is d2 a seeded random direction orthogonal to d1; ``note`` says which.
    """
    start, now, end = (np.array(v, dtype=np.float64) for v in (start, now, end))
    d1 = end - start
    note = ""
    second = "towards the current point"
    if not np.linalg.norm(d1) > 0:
        d1 = now - start
        if not np.linalg.norm(d1) > 0:
            raise ValueError("the start, current and end points are the same: there is no plane through them")
    d1 /= np.linalg.norm(d1)
    scale = max(np.linalg.norm(now - start), np.linalg.norm(end - start))

    def off_line(v: np.ndarray) -> np.ndarray:
        r = v - start
        r = r - (r @ d1) * d1
        return r - (r @ d1) * d1  # twice: one pass leaves rounding along d1 when v is nearly on the line

    d2 = off_line(now)
    if np.linalg.norm(d2) <= 1e-9 * scale and others is not None and len(others):
        pts = np.asarray(others, dtype=np.float64).reshape(len(others), -1)
        rel = pts - start
        rel = rel - np.outer(rel @ d1, d1)
        dist = np.linalg.norm(rel, axis=1)
        dist[~np.isfinite(dist)] = -1.0
        k = int(np.argmax(dist))
        if dist[k] > 1e-9 * scale:
            d2 = off_line(pts[k])
            step = None if other_steps is None else int(np.asarray(other_steps)[k])
            second = (f"towards step {step}" if step is not None else "towards the farthest point") + \
                " (the path's widest turn)"
            note = ("now is on the line from the start to the newest step, so the plane goes through the path's "
                    "point farthest from that line" + (f", step {step}" if step is not None else ""))
    if np.linalg.norm(d2) <= 1e-9 * scale:
        note = "the three points are on one line, so the second direction is a random one orthogonal to it"
        second = f"random direction ⟂ (seed {seed})"
        r = np.random.default_rng(seed).standard_normal(d1.size) if model is None else \
            random_direction(model, start, seed)
        if not np.any(r):
            r = np.random.default_rng(seed).standard_normal(d1.size)
        d2 = r - (r @ d1) * d1
    d2 /= np.linalg.norm(d2)
    return Plane(start, d1, d2, "path", ("start → end", second), orthonormal=True, note=note)


def grid_around(coords, *, margin: float = 0.25, size: int = 61, min_span: float = 1e-3
                ) -> tuple[np.ndarray, np.ndarray]:
    """α and β grids covering the given (α, β) points with a margin on every side (both include 0)."""
    c = np.atleast_2d(np.asarray(coords, dtype=np.float64))
    c = c[np.all(np.isfinite(c), axis=1)]
    c = np.vstack([c, np.zeros((1, 2))])
    lo, hi = c.min(axis=0), c.max(axis=0)
    span = np.maximum(hi - lo, min_span)
    span = np.maximum(span, 0.25 * span.max())  # keep a thin path from squeezing one axis flat
    mid = (lo + hi) / 2
    lo, hi = mid - span * (0.5 + margin), mid + span * (0.5 + margin)
    return np.linspace(lo[0], hi[0], int(size)), np.linspace(lo[1], hi[1], int(size))


def contour_levels(Z, n: int = 12, *, log: bool = True, max_decades: float = 6.0) -> np.ndarray:
    """``n`` contour levels for a loss surface: finite, strictly increasing, spaced evenly in log(loss).

    Log spacing draws rings close together near the minimum, where the interesting shape is, and still
    shows a surface whose far side has diverged: NaN and inf are ignored, and the levels stop
    ``max_decades`` above the lowest loss, so a few exploded points cannot squash the rest into one ring.
    """
    n = max(2, int(n))
    Z = np.asarray(Z, dtype=np.float64)
    vals = Z[np.isfinite(Z)]
    if vals.size == 0:
        return np.linspace(0.0, 1.0, n)
    lo, hi = float(vals.min()), float(vals.max())
    if not log:
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            return lo + np.linspace(-0.5, 0.5, n) * max(1e-6, 1e-3 * abs(lo))
        return np.linspace(lo, hi, n + 2)[1:-1]
    # log of the height above the lowest point: rings tighten towards the minimum on any surface
    height = vals - lo
    top = float(height.max())
    if top <= 1e-12 * max(1.0, abs(lo)):
        return lo + np.linspace(-0.5, 0.5, n) * max(1e-6, 1e-3 * abs(lo))
    positive = height[height > 0]
    # a few exploded points must not stretch the rings over 300 decades: stop a decade above the bulk
    top = min(top, 10.0 * float(np.quantile(positive, 0.9)))
    floor = max(float(np.quantile(positive, 0.01)), top * 10.0 ** -max_decades)
    floor = min(floor, top / 10.0)
    levels = lo + np.geomspace(floor, top, n + 1)[:-1]
    levels = np.unique(levels)
    if levels.size < 2 or not np.all(np.isfinite(levels)):
        return np.linspace(lo, hi, n + 2)[1:-1]
    return levels


def display_values(Z, levels) -> np.ndarray:
    """The surface ready for a plot: non-finite and far-above-range values clamped to just past the top level."""
    Z = np.asarray(Z, dtype=np.float64)
    levels = np.asarray(levels, dtype=np.float64)
    top = float(levels[-1]) + (float(levels[-1]) - float(levels[0]) if levels.size > 1 else 1.0)
    bottom = float(np.nanmin(np.where(np.isfinite(Z), Z, np.inf))) if np.any(np.isfinite(Z)) else 0.0
    out = np.nan_to_num(Z, nan=top, posinf=top, neginf=bottom)
    return np.clip(out, min(bottom, float(levels[0])), top)


# Marching squares. A cell's case has bit k set when its corner k lies above the level (corners 0 (i, j), 1 (i+1, j),
# 2 (i+1, j+1), 3 (i, j+1)); edge k runs from corner k to corner k+1 mod 4. Row c of the table: the (up to two)
# pairs of edges the level line of case c joins, -1 for none. The saddles 5 and 10 depend on the cell's mean:
# rows 5 and 10 are for a centre above the level, rows 16 and 17 for one below.
_MARCHING = np.full((18, 2, 2), -1, dtype=np.int64)
for _case, _pairs in {1: [(3, 0)], 2: [(0, 1)], 3: [(3, 1)], 4: [(1, 2)], 5: [(0, 1), (2, 3)], 6: [(0, 2)],
                      7: [(3, 2)], 8: [(2, 3)], 9: [(0, 2)], 10: [(3, 0), (1, 2)], 11: [(1, 2)], 12: [(1, 3)],
                      13: [(0, 1)], 14: [(3, 0)], 16: [(3, 0), (1, 2)], 17: [(0, 1), (2, 3)]}.items():
    _MARCHING[_case, :len(_pairs)] = _pairs


def contour_segments(alphas, betas, Z, levels) -> np.ndarray:
    """The level lines of ``Z`` (Z[i, j] at alphas[i], betas[j]) at each level, as straight segments: shape
    (m, 2, 2), segment k from (α, β) = out[k, 0] to out[k, 1], interpolated linearly along the grid's edges
    (exact where Z is linear in a cell). Marching squares vectorised over cells and levels: a 61×61 grid with
    12 levels takes a few ms, where pyqtgraph's isocurve, run in the window's paint, took ~50 ms. Cells with
    a non-finite corner draw no line."""
    a = np.asarray(alphas, dtype=np.float64).ravel()
    b = np.asarray(betas, dtype=np.float64).ravel()
    Z = np.asarray(Z, dtype=np.float64)
    lv = np.asarray(levels, dtype=np.float64).ravel()
    lv = lv[np.isfinite(lv)]
    if Z.shape != (a.size, b.size) or a.size < 2 or b.size < 2 or not lv.size:
        return np.zeros((0, 2, 2))
    shape = (a.size - 1, b.size - 1)
    corners = np.stack([Z[:-1, :-1], Z[1:, :-1], Z[1:, 1:], Z[:-1, 1:]]).reshape(4, -1)  # (4, cells)
    ca = np.stack([np.broadcast_to(x, shape) for x in (a[:-1, None], a[1:, None], a[1:, None], a[:-1, None])])
    cb = np.stack([np.broadcast_to(x, shape) for x in (b[None, :-1], b[None, :-1], b[None, 1:], b[None, 1:])])
    ca, cb = ca.reshape(4, -1), cb.reshape(4, -1)
    finite = np.all(np.isfinite(corners), axis=0)
    above = corners[None, :, :] > lv[:, None, None]  # (levels, 4, cells)
    case = (above * np.array([1, 2, 4, 8])[None, :, None]).sum(axis=1)
    centre_below = ~(corners.mean(axis=0)[None, :] > lv[:, None])
    case = np.where((case == 5) & centre_below, 16, np.where((case == 10) & centre_below, 17, case))
    case = np.where(finite[None, :], case, 0)
    level_of, cell = np.nonzero((case > 0) & (case != 15))
    if not cell.size:
        return np.zeros((0, 2, 2))
    pairs = _MARCHING[case[level_of, cell]]  # (hits, 2 segments, 2 edges)
    nxt = np.array([1, 2, 3, 0])
    out = []
    with np.errstate(all="ignore"):
        for seg in (0, 1):
            has = pairs[:, seg, 0] >= 0
            lvl, cl = lv[level_of[has]], cell[has]
            ends = []
            for end in (0, 1):
                k = pairs[has, seg, end]
                m = nxt[k]
                za, zb = corners[k, cl], corners[m, cl]
                t = np.clip((lvl - za) / (zb - za), 0.0, 1.0)
                ends.append(np.column_stack([ca[k, cl] + t * (ca[m, cl] - ca[k, cl]),
                                             cb[k, cl] + t * (cb[m, cl] - cb[k, cl])]))
            out.append(np.stack(ends, axis=1))
    return np.concatenate(out)


def random_plane(model: Model, p, seed: int = 0) -> Plane:
    """The plane through p of two filter-normalised random directions (seeds ``seed`` and ``seed + 1``), as in
    Li et al. 2018's pictures of minima; the second is made orthogonal to the first, its norm kept."""
    p = np.asarray(p, dtype=np.float64)
    d1 = random_direction(model, p, seed)
    d2 = random_direction(model, p, seed + 1)
    if np.any(d1):
        norm = float(np.linalg.norm(d2))
        d2 = d2 - (d2 @ d1) / (d1 @ d1) * d1
        if np.any(d2):
            d2 *= norm / float(np.linalg.norm(d2))
    if not (np.any(d1) and np.any(d2)):  # all weights zero (e.g. a linear model at zero): plain random
        rng = np.random.default_rng(seed)
        d1, d2 = np.linalg.qr(rng.standard_normal((model.n_params, 2)))[0].T
    return Plane(p.copy(), d1, d2, "random",
                 (f"random direction (filter-normalised, seed {seed})",
                  f"random direction (filter-normalised, seed {seed + 1})"))


def make_plane(kind: str, model: Model, p, X=None, y=None, *, weights=(), seed: int = 0, start=None,
               end=None) -> Plane:
    """The plane a view or a scenario names: "weights" (two names), "descent_random" (needs X, y), "random",
    or "path" (through ``start``, p and ``end``; ``end`` defaults to p, so mid-run it is the start–now line
    and a seeded random direction)."""
    if kind == "weights":
        if len(weights) != 2:
            raise ValueError(f"the weights plane needs two weight names, got {list(weights)!r}")
        return weights_plane(model, p, weights[0], weights[1])
    if kind == "descent_random":
        if X is None or y is None:
            raise ValueError("the descent direction needs the data (X and y)")
        return descent_random_plane(model, p, X, y, seed)
    if kind == "random":
        return random_plane(model, p, seed)
    if kind == "path":
        if start is None:
            raise ValueError("the path plane needs the start point of the run")
        return path_plane(start, p, p if end is None else end, model=model, seed=seed)
    raise ValueError(f"unknown plane {kind!r}; choose weights, descent_random, random or path")
