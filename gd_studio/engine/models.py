"""Small models on a flat float64 parameter vector, with analytic gradients: one weight, linear, logistic, MLP."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .config import ACTIVATIONS, MODEL_KINDS
from .errors import ConfigError
from .losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES, softmax

MAX_PARAMS = 1_000_000  # beyond this a step takes too long for a live view, and memory balloons


@dataclass(frozen=True)
class Layer:
    """Where one dense layer's weights (fan_in × fan_out, row-major) and bias sit in the flat vector."""

    w_start: int
    fan_in: int
    fan_out: int
    has_bias: bool

    @property
    def w_stop(self) -> int:
        return self.w_start + self.fan_in * self.fan_out

    @property
    def b_stop(self) -> int:
        return self.w_stop + (self.fan_out if self.has_bias else 0)


def _tanh_inplace(z):
    return np.tanh(z, out=z)


def _relu_inplace(z):
    return np.maximum(z, 0.0, out=z)


def _sigmoid_inplace(z):
    # 1 / (1 + e^-z) written through tanh: exact, and no overflow warning for large |z|
    np.multiply(z, 0.5, out=z)
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


_ACTIVATE = {"tanh": _tanh_inplace, "relu": _relu_inplace, "sigmoid": _sigmoid_inplace}


def _scale_by_activation_grad(name: str, delta: np.ndarray, a: np.ndarray, t: np.ndarray) -> None:
    """delta *= dσ/dz, with dσ/dz written in terms of the activation a = σ(z); t is scratch space."""
    if name == "relu":
        np.greater(a, 0.0, out=t)
        delta *= t
        return
    np.multiply(a, a, out=t)
    if name == "tanh":  # 1 − a²
        np.subtract(1.0, t, out=t)
    else:  # sigmoid: a − a² = a(1 − a)
        np.subtract(a, t, out=t)
    delta *= t


# Products aᵀ·δ over many samples are summed in blocks of rows: BLAS handles a long inner dimension with
# few outputs poorly (3–10× slower at 10,000 samples here), and blocks keep both operands in cache.
_ROW_BLOCK = 1024


def _at_b(a: np.ndarray, d: np.ndarray, out: np.ndarray) -> None:
    """out = aᵀ d, accumulated over row blocks."""
    if a.shape[0] <= _ROW_BLOCK:
        np.matmul(a.T, d, out=out)
        return
    np.matmul(a[:_ROW_BLOCK].T, d[:_ROW_BLOCK], out=out)
    for start in range(_ROW_BLOCK, a.shape[0], _ROW_BLOCK):
        out += a[start:start + _ROW_BLOCK].T @ d[start:start + _ROW_BLOCK]


class _Workspace:
    """Buffers for one batch size: each layer's output (activated in place) and backward products."""

    def __init__(self, n: int, slices) -> None:
        self.z = [np.empty((n, shape[1])) for _, _, _, shape in slices]
        # back[l] holds δ·Wₗᵀ (the gradient at layer l's input), tmp[l] the activation-gradient scratch
        self.back = [None] + [np.empty((n, shape[0])) for _, _, _, shape in slices[1:]]
        self.tmp = [None] + [np.empty((n, shape[0])) for _, _, _, shape in slices[1:]]
        self.ones = np.ones(n)
        self.rows = np.arange(n)


class Model:
    """A feed-forward model whose parameters are one flat float64 vector.

    The batch loss is the mean over samples of a per-sample loss. Classification heads pass through
    softmax (outputs are class probabilities); regression has one raw output.
    """

    def __init__(self, kind: str, n_features: int, n_outputs: int, hidden: tuple[int, ...],
                 activation: str, loss: str) -> None:
        self.kind = kind
        self.n_features = int(n_features)
        self.n_outputs = int(n_outputs)
        self.hidden = tuple(int(h) for h in hidden)
        self.activation = activation
        self.loss_name = loss
        self.task = "regression" if self.n_outputs == 1 else "classification"
        sizes = [self.n_features, *self.hidden, self.n_outputs]
        layers, names, start = [], [], 0
        for number, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            has_bias = kind != "one_weight"
            layer = Layer(start, fan_in, fan_out, has_bias)
            layers.append(layer)
            if kind == "one_weight":
                names.append("w")
            else:
                names += [f"W{number}[{i},{j}]" for i in range(fan_in) for j in range(fan_out)]
                names += [f"b{number}[{j}]" for j in range(fan_out)]
            start = layer.b_stop
        self.layers: tuple[Layer, ...] = tuple(layers)
        # plain tuples for the hot path: (w_start, w_stop, b_stop, (fan_in, fan_out)) per layer
        self._slices = tuple((la.w_start, la.w_stop, la.b_stop, (la.fan_in, la.fan_out)) for la in layers)
        self.n_params = start
        self.param_names: tuple[str, ...] = tuple(names)
        self._index = {name: i for i, name in enumerate(names)}
        self._act = _ACTIVATE[activation]
        self._tls = threading.local()

    # -- description -------------------------------------------------------------------------
    def describe(self) -> str:
        if self.kind == "one_weight":
            return "one weight: y = w·x (1 parameter)"
        arrows = "→".join(str(s) for s in (self.n_features, *self.hidden, self.n_outputs))
        act = f", {self.activation}" if self.hidden else ""
        return f"{self.kind} {arrows}{act}, {self.loss_name.replace('_', ' ')} ({self.n_params} parameters)"

    def index_of(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise ConfigError(f"watched weight: {name!r} is not a parameter of this model "
                              f"(it has {self.n_params}: {', '.join(self.param_names[:4])}, …)") from None

    def locate(self, index: int) -> tuple[int, str, int, int]:
        """(layer number from 0, "W" or "b", row, column) of a flat index."""
        for number, layer in enumerate(self.layers):
            if layer.w_start <= index < layer.w_stop:
                i, j = divmod(index - layer.w_start, layer.fan_out)
                return number, "W", i, j
            if layer.w_stop <= index < layer.b_stop:
                return number, "b", 0, index - layer.w_stop
        raise IndexError(f"parameter index {index} is outside 0..{self.n_params - 1}")

    # -- parameters --------------------------------------------------------------------------
    def init_params(self, seed: int) -> np.ndarray:
        """Glorot-uniform weights (He for ReLU), zero biases; the one weight starts in [−1, 1]."""
        rng = np.random.default_rng(seed)
        p = np.zeros(self.n_params)
        if self.kind == "one_weight":
            p[0] = rng.uniform(-1.0, 1.0)
            return p
        for number, layer in enumerate(self.layers):
            last = number == len(self.layers) - 1
            if self.activation == "relu" and not last:
                limit = np.sqrt(6.0 / layer.fan_in)
            else:
                limit = np.sqrt(6.0 / (layer.fan_in + layer.fan_out))
            p[layer.w_start:layer.w_stop] = rng.uniform(-limit, limit, layer.fan_in * layer.fan_out)
        return p

    def unpack(self, p: np.ndarray) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Views (W, b) per layer into the flat vector p (no copies)."""
        return [(p[w0:w1].reshape(shape), p[w1:b1] if b1 > w1 else None) for w0, w1, b1, shape in self._slices]

    # -- forward -----------------------------------------------------------------------------
    def hidden_activations(self, p: np.ndarray, X: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Inputs of every layer ([X, a1, a2, …]) and the raw output (logits or prediction)."""
        inputs = [X]
        a = X
        params = self.unpack(p)
        last = len(params) - 1
        for number, (W, b) in enumerate(params):
            z = a @ W
            if b is not None:
                z += b
            if number == last:
                return inputs, z
            a = self._act(z)
            inputs.append(a)
        raise AssertionError("unreachable")

    def output(self, z: np.ndarray) -> np.ndarray:
        """Probabilities (classification) or predictions (regression) from the raw output."""
        return softmax(z) if self.task == "classification" else z[..., 0]

    def predict(self, p: np.ndarray, X: np.ndarray) -> np.ndarray:
        _, z = self.hidden_activations(np.asarray(p, dtype=np.float64), np.asarray(X, dtype=np.float64))
        return self.output(z)

    def per_sample_loss(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-sample loss from raw outputs z of shape (..., n, k); y has shape (n,)."""
        return self.loss_from_columns([z[..., c] for c in range(z.shape[-1])], y)

    def loss_from_columns(self, cols: list[np.ndarray], y: np.ndarray) -> np.ndarray:
        """Per-sample loss from the raw output given column by column, each broadcastable to (..., n).

        Working per column keeps reductions over the (few) outputs as whole-array operations, and lets a
        slice replace one column without copying the others.
        """
        if self.task == "regression":
            diff = cols[0] - y
            return diff * diff
        top = cols[0]
        for c in cols[1:]:
            top = np.maximum(top, c)
        exps = [np.exp(c - top) for c in cols]
        total = exps[0].copy() if exps[0].shape == top.shape else exps[0] + np.zeros_like(top)
        for e in exps[1:]:
            total += e
        if self.loss_name == "cross_entropy":
            picked = np.zeros_like(top)
            for c, col in enumerate(cols):
                picked += np.where(y == c, col, 0.0)
            return np.log(total) + top - picked
        # Σ_c (p_c − t_c)² = Σ_c p_c² − 2 p_y + 1, with p_c = e_c / total
        sq = np.zeros_like(top)
        true = np.zeros_like(top)
        for c, e in enumerate(exps):
            sq += e * e
            true += np.where(y == c, e, 0.0)
        return (sq / total - 2.0 * true) / total + 1.0

    def loss(self, p: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        _, z = self.hidden_activations(np.asarray(p, dtype=np.float64), np.asarray(X, dtype=np.float64))
        return float(np.mean(self.per_sample_loss(z, y)))

    # -- gradient ----------------------------------------------------------------------------
    def _workspace(self, n: int) -> "_Workspace":
        """Reusable per-thread buffers for a batch of n samples.

        Fresh multi-megabyte temporaries come from the OS zeroed page by page, which at 10,000 samples
        cost more than the arithmetic; reusing buffers avoids it, and keeping them per thread keeps a
        model safe to share between threads.
        """
        cache = getattr(self._tls, "workspaces", None)
        if cache is None:
            cache = self._tls.workspaces = {}
        ws = cache.get(n)
        if ws is None:
            if len(cache) >= 4:  # batch sizes seen lately: the usual one, an epoch's last, full batch
                cache.clear()
            ws = cache[n] = _Workspace(n, self._slices)
        return ws

    def loss_and_grad(self, p: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean loss over the batch and its exact gradient with respect to the flat parameters."""
        n = X.shape[0]
        ws = self._workspace(n)
        last = len(self._slices) - 1
        a = X
        for number, (w0, w1, b1, shape) in enumerate(self._slices):
            z = ws.z[number]
            np.matmul(a, p[w0:w1].reshape(shape), out=z)
            if b1 > w1:
                z += p[w1:b1]
            if number < last:
                a = self._act(z)
        if self.task == "regression":
            diff = z[:, 0] - y
            loss = float(diff @ diff) / n
            delta = (2.0 / n) * diff[:, None]
        elif self.loss_name == "cross_entropy":
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1)
            loss = float(np.log(s).sum() - z[ws.rows, y].sum()) / n
            e /= s[:, None]
            e[ws.rows, y] -= 1.0
            e *= 1.0 / n
            delta = e
        else:  # squared error over softmax outputs (the article's loss)
            probs = softmax(z)
            diff = probs.copy()
            diff[ws.rows, y] -= 1.0
            loss = float(np.einsum("ij,ij->", diff, diff)) / n
            dp = (2.0 / n) * diff
            # back through softmax: dz = p ⊙ (dp − Σ dp·p)
            delta = probs * (dp - np.einsum("ij,ij->i", dp, probs)[:, None])
        grad = np.empty(self.n_params)
        for number in range(last, -1, -1):
            w0, w1, b1, shape = self._slices[number]
            a = ws.z[number - 1] if number else X
            _at_b(a, delta, grad[w0:w1].reshape(shape))
            if b1 > w1:
                np.matmul(ws.ones, delta, out=grad[w1:b1])
            if number:
                back = ws.back[number]
                np.matmul(delta, p[w0:w1].reshape(shape).T, out=back)
                _scale_by_activation_grad(self.activation, back, a, ws.tmp[number])
                delta = back
        return loss, grad


    # -- curvature ---------------------------------------------------------------------------
    def hessian_operator(self, p: np.ndarray, X: np.ndarray, y: np.ndarray) -> "HessianOperator":
        """The exact Hessian of the batch loss at p as a linear operator (one forward/backward pass now, then
        one R-pass per product): what Lanczos needs, since it multiplies many vectors at the same point."""
        return HessianOperator(self, p, X, y)

    def hvp(self, p: np.ndarray, X: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The exact Hessian-vector product H(p)·v of the batch loss (Pearlmutter's R-operator)."""
        return self.hessian_operator(p, X, y)(v)


def _activation_derivatives(name: str, a: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """σ'(z) and σ''(z) in terms of a = σ(z) (σ'' is None where it vanishes: ReLU).

    Written in place: at these sizes each extra elementwise pass costs about as much as a product.
    """
    if name == "relu":
        return (a > 0.0).astype(np.float64), None
    d1 = np.multiply(a, a)
    d2 = np.empty_like(a)
    if name == "tanh":  # σ' = 1 − a², σ'' = −2a(1 − a²)
        np.subtract(1.0, d1, out=d1)
        np.multiply(a, d1, out=d2)
        d2 *= -2.0
        return d1, d2
    np.subtract(a, d1, out=d1)  # sigmoid: σ' = a − a² = a(1 − a), σ'' = σ'(1 − 2a)
    np.multiply(a, -2.0, out=d2)
    d2 += 1.0
    d2 *= d1
    return d1, d2


class HessianOperator:
    """v ↦ H·v for the mean batch loss at fixed parameters, exact in float64.

    Forward-over-reverse: the forward pass, the output gradient δ and the back-propagated gradients are kept
    from one ordinary gradient pass; each product then pushes the directional derivative R{·} = d/dt|₀ (·)(p + t·v)
    through the same equations (Pearlmutter 1994), at about twice the cost of a gradient. ``loss`` and
    ``grad`` are the loss and gradient at p, computed on the way.
    """

    def __init__(self, model: Model, p, X, y) -> None:
        p = np.asarray(p, dtype=np.float64)
        X = np.asarray(X, dtype=np.float64)
        if p.shape != (model.n_params,):
            raise ValueError(f"expected {model.n_params} parameters, got shape {p.shape}")
        self.model = model
        self.n_params = model.n_params
        self.p = p.copy()
        self.X = X
        self.y = np.asarray(y)
        n = X.shape[0]
        self.n_samples = n
        slices = model._slices
        last = len(slices) - 1
        inputs = [X]  # input of each layer
        d1s, d2s = [None], [None]  # σ', σ'' at each hidden layer's pre-activation, by layer number + 1
        a = X
        for number, (w0, w1, b1, shape) in enumerate(slices):
            z = a @ p[w0:w1].reshape(shape)
            if b1 > w1:
                z += p[w1:b1]
            if number == last:
                break
            a = model._act(z)
            inputs.append(a)
            d1, d2 = _activation_derivatives(model.activation, a)
            d1s.append(d1)
            d2s.append(d2)
        self._inputs, self._d1, self._d2 = inputs, d1s, d2s
        rows = np.arange(n)
        self._rows = rows
        if model.task == "regression":
            diff = z[:, 0] - self.y
            self.loss = float(diff @ diff) / n
            delta = (2.0 / n) * diff[:, None]
        else:
            probs = softmax(z)
            self._probs = probs
            if model.loss_name == "cross_entropy":
                shifted = z - z.max(axis=1, keepdims=True)
                self.loss = float(np.log(np.exp(shifted).sum(axis=1)).sum() - shifted[rows, self.y].sum()) / n
                delta = probs.copy()
                delta[rows, self.y] -= 1.0
                delta /= n
            else:  # squared error over the softmax outputs
                diff = probs.copy()
                diff[rows, self.y] -= 1.0
                self.loss = float(np.einsum("ij,ij->", diff, diff)) / n
                self._dp = (2.0 / n) * diff
                self._dp_dot_p = np.einsum("ij,ij->i", self._dp, probs)[:, None]
                delta = probs * (self._dp - self._dp_dot_p)
        # δ of each layer (gradient at its pre-activation) and, for hidden layers, the gradient at its output
        deltas: list = [None] * (last + 1)
        grad_out: list = [None] * (last + 1)
        deltas[last] = delta
        for number in range(last, 0, -1):
            w0, w1, b1, shape = slices[number]
            g_a = delta @ p[w0:w1].reshape(shape).T
            delta = g_a * d1s[number]
            deltas[number - 1] = delta
            if d2s[number] is not None:  # the σ'' term of R{δ} is (g_a ⊙ σ'') ⊙ R{z}: keep the product
                g_a *= d2s[number]
                grad_out[number - 1] = g_a
        self._deltas, self._grad_out = deltas, grad_out
        self._grad: np.ndarray | None = None

    @property
    def grad(self) -> np.ndarray:
        """The gradient at p, from the kept δs (built on first use: Lanczos does not need it)."""
        if self._grad is None:
            grad = np.empty(self.n_params)
            for number, (w0, w1, b1, shape) in enumerate(self.model._slices):
                grad[w0:w1] = (self._inputs[number].T @ self._deltas[number]).ravel()
                if b1 > w1:
                    grad[w1:b1] = self._deltas[number].sum(axis=0)
            self._grad = grad
        return self._grad.copy()

    def _output_r(self, rz: np.ndarray) -> np.ndarray:
        """R{δ} at the output: the loss Hessian with respect to the raw outputs applied to R{z}."""
        n = self.n_samples
        if self.model.task == "regression":
            return (2.0 / n) * rz
        probs = self._probs
        rp = probs * (rz - np.einsum("ij,ij->i", probs, rz)[:, None])  # softmax Jacobian · R{z}
        if self.model.loss_name == "cross_entropy":
            return rp / n
        rdp = (2.0 / n) * rp
        r_dot = (np.einsum("ij,ij->i", rdp, probs) + np.einsum("ij,ij->i", self._dp, rp))[:, None]
        return rp * (self._dp - self._dp_dot_p) + probs * (rdp - r_dot)

    def __call__(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        if v.shape != (self.n_params,):
            raise ValueError(f"expected a vector of {self.n_params} values, got shape {v.shape}")
        p, slices = self.p, self.model._slices
        last = len(slices) - 1
        inputs, d1s = self._inputs, self._d1
        r_in: list = [None]  # R{input} of each layer; the data does not move
        r_z: list = []
        ra = None
        for number, (w0, w1, b1, shape) in enumerate(slices):
            rz = inputs[number] @ v[w0:w1].reshape(shape)
            if ra is not None:
                rz += ra @ p[w0:w1].reshape(shape)
            if b1 > w1:
                rz += v[w1:b1]
            r_z.append(rz)
            if number < last:
                ra = rz * d1s[number + 1]
                r_in.append(ra)
        out = np.empty(self.n_params)
        r_delta = self._output_r(r_z[last])
        for number in range(last, -1, -1):
            w0, w1, b1, shape = slices[number]
            delta = self._deltas[number]
            rg = inputs[number].T @ r_delta
            if r_in[number] is not None:
                rg += r_in[number].T @ delta
            out[w0:w1] = rg.ravel()
            if b1 > w1:
                out[w1:b1] = r_delta.sum(axis=0)
            if number:
                r_ga = r_delta @ p[w0:w1].reshape(shape).T
                r_ga += delta @ v[w0:w1].reshape(shape).T
                r_ga *= d1s[number]
                g2 = self._grad_out[number - 1]
                if g2 is not None:
                    r_z[number - 1] *= g2  # r_z of that layer is not needed after this
                    r_ga += r_z[number - 1]
                r_delta = r_ga
        return out

    def matrix(self) -> np.ndarray:
        """The full Hessian, column by column (for small models and tests)."""
        eye = np.eye(self.n_params)
        H = np.column_stack([self(eye[i]) for i in range(self.n_params)])
        return H


def make(kind: str, n_features: int, n_outputs: int, *, hidden=(16,), activation: str = "tanh",
         loss: str | None = None) -> Model:
    """Build a model. ``n_outputs`` is the number of classes (≥ 2) or 1 for regression."""
    if kind not in MODEL_KINDS:
        raise ConfigError(f"model: unknown kind {kind!r}; choose one of {', '.join(MODEL_KINDS)}")
    if activation not in ACTIVATIONS:
        raise ConfigError(f"activation: unknown {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    n_features, n_outputs = int(n_features), int(n_outputs)
    if n_features < 1 or n_outputs < 1:
        raise ConfigError(f"model: needs at least one feature and one output (got {n_features}, {n_outputs})")
    regression = n_outputs == 1
    if loss is None:
        loss = "mse" if regression else "cross_entropy"
    allowed = REGRESSION_LOSSES if regression else CLASSIFICATION_LOSSES
    if loss not in allowed:
        task = "regression" if regression else "classification"
        raise ConfigError(f"loss: {loss!r} does not fit {task}; use {' or '.join(allowed)}")
    if kind == "one_weight":
        if n_features != 1 or not regression:
            raise ConfigError("model: one weight (y = w·x) needs a regression dataset with exactly one "
                              f"feature; this one has {n_features} feature(s) and "
                              f"{'1 output' if regression else f'{n_outputs} classes'}")
        hidden = ()
    elif kind in ("linear", "logistic"):
        hidden = ()
    else:
        if isinstance(hidden, int):
            hidden = (hidden,)
        hidden = tuple(hidden)
        if not hidden:
            raise ConfigError("hidden: an MLP needs at least one hidden layer (e.g. 16 or 16,16)")
        if any(int(h) != h or h < 1 for h in hidden):
            raise ConfigError(f"hidden: layer sizes must be whole numbers ≥ 1, got {hidden}")
    sizes = [n_features, *hidden, n_outputs]
    n_params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMS:
        raise ConfigError(f"model: {n_params:,} parameters is too large for live training "
                          f"(the limit is {MAX_PARAMS:,}); use fewer or smaller hidden layers")
    return Model(kind, n_features, n_outputs, hidden, activation, loss)
