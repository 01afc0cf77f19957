"""The whole network's curvature: sharpness (top Hessian eigenvalue), preconditioned sharpness, stability thresholds.

The per-weight curvature of landscape.curvature is a diagonal entry of the Hessian and never exceeds its
largest eigenvalue λ_max, so 2/λ along one weight can only overstate the safe learning rate. Full-batch
descent with rate η is stable on a quadratic exactly when λ_max < 2/η; on a network, descent drives λ_max
up to that limit and then hovers there (the edge of stability: Cohen, Kaur, Li, Kolter, Talwalkar, ICLR
2021). For Adam and RMSProp the quantity that settles at the limit is the preconditioned sharpness, the top
eigenvalue of P⁻¹H with the optimizer's current preconditioner P (Cohen et al. 2022).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import ConfigError
from .models import HessianOperator, Model

DEFAULT_TOL = 1e-3  # relative residual |Hv − λv| / |λ| of the top Ritz pair; bounds the relative error of λ
DEFAULT_MAX_ITER = 40


@dataclass(frozen=True)
class Sharpness:
    """One estimate of the top eigenvalue of H (or of P⁻¹H), with how it was obtained.

    ``vector`` is the unit eigenvector estimate in the space Lanczos ran in (P^{1/2}-scaled when
    preconditioned): pass it back as ``v0`` to warm-start the next estimate.
    """

    value: float
    vector: np.ndarray
    iterations: int  # Hessian-vector products used
    converged: bool
    residual: float  # |Hv − λv| of the returned pair; |λ − λ_max| ≤ residual (and is usually far smaller)
    n_samples: int  # samples the Hessian was taken over
    n_total: int  # samples in the data passed in
    subset_seed: int | None  # the seed that picked the subset, None for the full set
    preconditioned: bool = False

    @property
    def data(self) -> str:
        """Which data the Hessian was taken over, in words."""
        if self.subset_seed is None:
            return f"full training set ({self.n_total} samples)"
        return f"a fixed random subset of {self.n_samples} of {self.n_total} samples (seed {self.subset_seed})"

    @property
    def lr_limit(self) -> float:
        """2/λ_max: the largest plain full-batch rate that is stable on the local quadratic (inf if λ ≤ 0)."""
        return 2.0 / self.value if self.value > 0 and math.isfinite(self.value) else math.inf


def top_eigen(matvec, n: int, v0: np.ndarray | None = None, *, tol: float = DEFAULT_TOL,
              max_iter: int = DEFAULT_MAX_ITER, seed: int = 0) -> tuple[float, np.ndarray, int, bool, float]:
    """Largest (algebraic) eigenvalue of a symmetric operator by Lanczos with full reorthogonalisation.

    Lanczos rather than power iteration: it converges in far fewer products when the top eigenvalues are
    close, and it finds the largest eigenvalue even when a negative one is larger in size (early in
    training the Hessian is indefinite). Starting from the previous step's eigenvector, a few products
    suffice. Stops when the residual of the top Ritz pair is within ``tol`` of |λ|, or after ``max_iter``
    products. Returns (λ, unit vector, products, converged, residual).
    """
    max_iter = max(1, min(int(max_iter), n))
    if v0 is None or v0.shape != (n,) or not np.all(np.isfinite(v0)) or not np.any(v0):
        v0 = np.random.default_rng(seed).standard_normal(n)
    q = np.asarray(v0, dtype=np.float64) / np.linalg.norm(v0)
    Q = np.empty((max_iter + 1, n))
    Q[0] = q
    alphas: list[float] = []
    betas: list[float] = []
    theta, ritz, residual, converged = 0.0, q, math.inf, False
    k = 0
    for k in range(1, max_iter + 1):
        w = matvec(Q[k - 1])
        if not np.all(np.isfinite(w)):
            raise FloatingPointError("the Hessian-vector product is not finite (the weights have diverged)")
        alpha = float(w @ Q[k - 1])
        alphas.append(alpha)
        # full reorthogonalisation (twice is enough): cheap at these sizes and keeps ghost copies away
        for _ in range(2):
            w -= Q[:k].T @ (Q[:k] @ w)
        beta = float(np.linalg.norm(w))
        T = np.diag(alphas)
        if k > 1:
            off = np.array(betas)
            T += np.diag(off, 1) + np.diag(off, -1)
        evals, evecs = np.linalg.eigh(T)
        theta = float(evals[-1])
        s = evecs[:, -1]
        residual = beta * abs(float(s[-1]))
        ritz = s @ Q[:k]
        if residual <= tol * max(abs(theta), 1e-12) or beta <= 1e-14 * max(abs(theta), 1.0):
            converged = True
            break
        if k < max_iter:
            Q[k] = w / beta
            betas.append(beta)
    ritz /= np.linalg.norm(ritz)
    return theta, ritz, k, converged, residual


def subset_rows(n_total: int, subset: int | None, seed: int = 0) -> np.ndarray | None:
    """Sorted row indices of a fixed seeded subset, or None for the full set (also when subset ≥ n_total)."""
    if subset is None or int(subset) >= n_total:
        return None
    subset = int(subset)
    if subset < 1:
        raise ConfigError(f"sharpness: the subset needs at least one sample, got {subset}")
    return np.sort(np.random.default_rng(seed).choice(n_total, size=subset, replace=False))


def sharpness(model: Model, p, X, y, *, v0: np.ndarray | None = None, tol: float = DEFAULT_TOL,
              max_iter: int = DEFAULT_MAX_ITER, subset: int | None = None, seed: int = 0,
              preconditioner: np.ndarray | None = None, weight_decay: float = 0.0,
              operator: HessianOperator | None = None) -> Sharpness:
    """λ_max of the loss Hessian at p (or of P⁻¹H when ``preconditioner`` gives the diagonal of P).

    ``subset`` takes the Hessian over a fixed random subset of that many samples chosen by ``seed`` (the
    same rows every call, so estimates along a run are comparable); None uses all of X. ``weight_decay``
    adds wd·I, the curvature of the decay term the optimizer adds to the gradient. ``v0`` warm-starts.
    P⁻¹H is not symmetric, but it has the eigenvalues of P^{-1/2} H P^{-1/2}, which is, so that is what
    Lanczos runs on.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    n_total = X.shape[0]
    rows = subset_rows(n_total, subset, seed)
    if operator is None:
        with np.errstate(all="ignore"):  # diverged weights give non-finite products, reported below
            operator = model.hessian_operator(p, X if rows is None else X[rows], y if rows is None else y[rows])
    wd = float(weight_decay)
    if preconditioner is None:
        def matvec(v):
            out = operator(v)
            return out + wd * v if wd else out
    else:
        scale = np.asarray(preconditioner, dtype=np.float64)
        if scale.shape != (model.n_params,) or not np.all(scale > 0):
            raise ValueError("preconditioner: expected a positive diagonal with one entry per parameter")
        scale = 1.0 / np.sqrt(scale)

        def matvec(v):
            u = scale * v
            out = operator(u)
            if wd:
                out = out + wd * u
            return scale * out
    with np.errstate(all="ignore"):
        value, vec, its, converged, residual = top_eigen(matvec, model.n_params, v0, tol=tol,
                                                         max_iter=max_iter, seed=seed)
    return Sharpness(value, vec, its, converged, residual, operator.n_samples, n_total,
                     None if rows is None else int(seed), preconditioner is not None)


def hessian(model: Model, p, X, y) -> np.ndarray:
    """The full Hessian (n_params × n_params), built column by column from exact products: small models only."""
    if model.n_params > 4000:
        raise ConfigError(f"hessian: {model.n_params:,} parameters is too many for the full matrix; use sharpness()")
    return model.hessian_operator(p, X, y).matrix()


# ------------------------------------------------------------------------------------ optimizers


def preconditioner(optimizer, grad: np.ndarray | None = None) -> np.ndarray | None:
    """The diagonal P of an adaptive optimizer's step ``p ← p − lr·P⁻¹·(momentum of g)``, None for SGD/momentum.

    With ``grad`` (the gradient the next step will use) this is the P of that next step, found without
    changing the optimizer; without it, the P the last step used (None before the first step). Adam's P
    includes both bias corrections, (1 − β₁ᵗ)(√(v/(1 − β₂ᵗ)) + ε), so its momentum enters as a plain average.
    """
    name = optimizer.name
    if name not in ("rmsprop", "adam"):
        return None
    h = optimizer.hyper
    state = optimizer.state_dict()["buffers"]
    g2 = None if grad is None else np.asarray(grad, dtype=np.float64) ** 2
    if name == "rmsprop":
        s, ga = state["square_avg"], state["grad_avg"]
        alpha = h["alpha"]
        if g2 is not None:
            g = np.asarray(grad, dtype=np.float64)
            s = (1.0 - alpha) * g2 if s is None else alpha * s + (1.0 - alpha) * g2
            if h["centered"]:
                ga = (1.0 - alpha) * g if ga is None else alpha * ga + (1.0 - alpha) * g
        if s is None:
            return None
        avg = np.sqrt(np.maximum(s - ga * ga, 0.0)) if h["centered"] else np.sqrt(s)
        return avg + h["eps"]
    beta1, beta2 = h["betas"]
    v, t = state["exp_avg_sq"], optimizer.step_count
    if g2 is not None:
        v = (1.0 - beta2) * g2 if v is None else beta2 * v + (1.0 - beta2) * g2
        t += 1
    if v is None or t == 0:
        return None
    return (1.0 - beta1 ** t) * (np.sqrt(v) / math.sqrt(1.0 - beta2 ** t) + h["eps"])


def stability_threshold(optimizer, lr: float) -> float:
    """The sharpness above which ``optimizer`` at rate ``lr`` diverges on a quadratic.

    For a quadratic with curvature λ along an eigenvector (λ of P⁻¹H for the adaptive ones, with P frozen):
    SGD is stable for λ < 2/η; heavy-ball momentum μ (torch's v ← μv + (1 − d)g, p ← p − ηv) for
    λ < (2 + 2μ)/((1 − d)η); Nesterov (p ← p − η(g + μv)) for λ < (2 + 2μ)/((1 + 2μ)η); RMSProp with momentum μ
    for λ < (2 + 2μ)/η; Adam, whose first moment is an average, for λ < (2 + 2β₁)/((1 − β₁)η) — 38/η at β₁ = 0.9.
    """
    lr = float(lr)
    if not lr > 0:
        return math.inf
    h = optimizer.hyper
    name = optimizer.name
    if name == "sgd":
        return 2.0 / lr
    if name == "momentum":
        mu, damp = h["momentum"], h["dampening"]
        return (2.0 + 2.0 * mu) / ((1.0 - damp) * lr)
    if name == "nesterov":
        mu = h["momentum"]
        return (2.0 + 2.0 * mu) / ((1.0 + 2.0 * mu) * lr)
    if name == "rmsprop":
        return (2.0 + 2.0 * h["momentum"]) / lr
    beta1 = h["betas"][0]
    return (2.0 + 2.0 * beta1) / ((1.0 - beta1) * lr)


def threshold_label(optimizer) -> str:
    """The stability limit as a formula in η, for captions: "2/η", "38/η", "3.8/η"."""
    if optimizer.name == "sgd":
        return "2/η"
    c = stability_threshold(optimizer, 1.0)
    text = f"{c:.3g}"
    return f"{text}/η"


def optimizer_sharpness(model: Model, p, X, y, optimizer, *, grad: np.ndarray | None = None,
                        **kw) -> Sharpness:
    """The sharpness that ``optimizer``'s stability threshold applies to: λ_max(H + wd·I) for SGD and the
    momentum methods, λ_max(P⁻¹(H + wd·I)) for RMSProp and Adam (P as ``preconditioner`` gives it; plain H
    before the optimizer has a preconditioner)."""
    P = preconditioner(optimizer, grad)
    return sharpness(model, p, X, y, preconditioner=P, weight_decay=optimizer.hyper.get("weight_decay", 0.0), **kw)


# ------------------------------------------------------------------------------------ tracking


@dataclass
class SharpnessTracker:
    """Sharpness along a run at a steady cadence, each estimate warm-started from the last eigenvector.

    The window's worker and a script use it the same way: call ``update(step, p, ...)`` after each step;
    every ``every`` steps it takes an estimate (about ten gradient evaluations' time warm) and records it.
    ``truncate(step)`` forgets estimates after a step the run went back to.
    """

    model: Model
    X: np.ndarray
    y: np.ndarray
    every: int = 10
    subset: int | None = None
    seed: int = 0
    tol: float = DEFAULT_TOL
    max_iter: int = DEFAULT_MAX_ITER
    steps: list = field(default_factory=list)
    values: list = field(default_factory=list)
    thresholds: list = field(default_factory=list)
    last: Sharpness | None = None
    problem: str | None = None

    def __post_init__(self) -> None:
        if int(self.every) < 1:
            raise ConfigError(f"sharpness: the cadence must be a whole number of steps ≥ 1, got {self.every!r}")
        self.every = int(self.every)
        self.X = np.asarray(self.X, dtype=np.float64)
        self.y = np.asarray(self.y)
        rows = subset_rows(self.X.shape[0], self.subset, self.seed)
        self._n_total = self.X.shape[0]
        if rows is not None:  # slice once: the same rows every time
            self.X, self.y = self.X[rows], self.y[rows]

    def due(self, step: int) -> bool:
        return int(step) % self.every == 0

    def measure(self, p, *, optimizer=None, lr: float | None = None, grad=None) -> Sharpness:
        """An estimate now, warm-started; the optimizer (if given) decides plain or preconditioned."""
        v0 = None if self.last is None else self.last.vector
        kw = dict(v0=v0, tol=self.tol, max_iter=self.max_iter, seed=self.seed)
        if optimizer is None:
            est = sharpness(self.model, p, self.X, self.y, **kw)
        else:
            est = optimizer_sharpness(self.model, p, self.X, self.y, optimizer, grad=grad, **kw)
        if self.subset is not None and self.subset < self._n_total:
            est = Sharpness(est.value, est.vector, est.iterations, est.converged, est.residual, est.n_samples,
                            self._n_total, int(self.seed), est.preconditioned)
        self.last = est
        return est

    def update(self, step: int, p, *, optimizer=None, lr: float | None = None, grad=None) -> Sharpness | None:
        """Record an estimate if ``step`` is on the cadence (returns it), else None.

        Weights that have diverged (non-finite Hessian products) record nothing: ``problem`` then says why,
        and the last good estimate stays the warm start.
        """
        if not self.due(step):
            return None
        try:
            est = self.measure(p, optimizer=optimizer, grad=grad)
        except FloatingPointError as exc:
            self.problem = f"no sharpness at step {int(step)}: {exc}"
            return None
        self.problem = None
        self.steps.append(int(step))
        self.values.append(est.value)
        limit = math.nan
        if lr is not None:
            limit = stability_threshold(optimizer, lr) if optimizer is not None else 2.0 / float(lr)
        self.thresholds.append(limit)
        return est

    def truncate(self, step: int) -> None:
        keep = sum(1 for s in self.steps if s <= step)
        del self.steps[keep:], self.values[keep:], self.thresholds[keep:]

    def arrays(self) -> dict[str, np.ndarray]:
        """Steps, sharpness and the optimizer's limit at each estimate (finite values only, for plotting)."""
        steps = np.array(self.steps, dtype=np.float64)
        values = np.array(self.values, dtype=np.float64)
        limits = np.array(self.thresholds, dtype=np.float64)
        ok = np.isfinite(values)
        return {"step": steps[ok], "sharpness": values[ok], "limit": limits[ok]}


def track_run(runner, steps: int, *, every: int = 10, subset: int | None = None, seed: int = 0,
              tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER) -> dict[str, np.ndarray]:
    """Run ``steps`` steps of a descent.Runner, measuring the sharpness on its training set every ``every``
    steps (and at step 0). Returns arrays: step, loss (full training set, at the measured points), sharpness,
    limit (the optimizer's stability threshold at the LR of the next step), and the per-step loss."""
    tracker = SharpnessTracker(runner.model, runner.train.X, runner.train.y, every=every, subset=subset,
                               seed=seed, tol=tol, max_iter=max_iter)
    losses_at: list[float] = []
    step_losses: list[float] = []

    adaptive = runner.optimizer.name in ("rmsprop", "adam")

    def measure():
        p = runner.params
        # Adam/RMSProp: the preconditioner of the next step needs the gradient it will use (full batch here)
        g = runner.model.loss_and_grad(p, runner.train.X, runner.train.y)[1] if adaptive else None
        est = tracker.update(runner.step_count, p, optimizer=runner.optimizer, lr=runner.lr, grad=g)
        if est is not None:
            losses_at.append(runner.full_loss())

    measure()
    for _ in range(int(steps)):
        record = runner.step()
        if record is None:
            break
        step_losses.append(record.loss)
        if tracker.due(runner.step_count):
            measure()
            if tracker.problem:
                break
    out = {k: np.array(v, dtype=np.float64) for k, v in
           (("step", tracker.steps), ("sharpness", tracker.values), ("limit", tracker.thresholds))}
    out["loss"] = np.array(losses_at, dtype=np.float64)
    out["step_loss"] = np.array(step_losses, dtype=np.float64)
    return out
