"""The loss surface in a plane through the run, computed in the worker: coarse while running, fine when paused.

The plane is one of the engine's (landscape.weights_plane, descent_random_plane, path_plane); the recorded
steps are projected on it with the plane's own ``project``, so what the view draws is what the engine says.
For a model with two parameters the plane of its two weights is the whole weight space: the surface is exact.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from ..engine.errors import ConfigError
from .snapshot import frozen

COARSE = 25  # grid points a side while running
FINE = 61  # … and once the run pauses
MIN_INTERVAL = 0.25  # seconds between surfaces while running, at the least
BUDGET = 0.08  # share of the engine's time the surface may take while running
REFINE_SECONDS = 0.3  # the most a paused refinement may take
RUNNING_SECONDS = 0.08  # … and a surface while running
PROBE = 9  # points a side of the first grid, which measures the cost of a point
WINDOW_ALL = 1000  # paths up to this many points are framed whole
PATH_MAX = 2000  # recorded points kept for the path (older ones thinned)
PATH_BYTES = 32 << 20
PLANES = ("weights", "descent_random", "random", "path")
# a surface whose values span less than this share of their size is computed again in float64: float32's
# relative rounding (~1e-7) would then be over 1e-4 of the range, enough to wiggle the innermost rings
FLAT = 1e-3


@dataclass(frozen=True)
class SurfaceSpec:
    """Which plane the view shows: two weights by name, descent + random, or the plane through start/now/end."""

    plane: str = "descent_random"
    weights: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.plane not in PLANES:
            raise ConfigError(f"loss surface: unknown plane {self.plane!r} (choose one of {', '.join(PLANES)})")
        object.__setattr__(self, "weights", tuple(self.weights))


@dataclass(frozen=True)
class SurfaceInfo:
    """A loss surface ready to draw: every array finite, levels strictly increasing."""

    alphas: np.ndarray  # (na,) grid along the first direction
    betas: np.ndarray  # (nb,) grid along the second
    values: np.ndarray  # (na, nb) loss, non-finite clamped just past the top level (landscape.display_values)
    levels: np.ndarray  # contour levels, log-spaced above the lowest loss
    path: np.ndarray  # (m, 2) (α, β) of the recorded steps up to now
    path_steps: np.ndarray  # (m,) their step numbers
    current: tuple[float, float]
    next_point: tuple[float, float] | None  # where a plain step −η·∇L (training set) would land
    labels: tuple[str, str]
    kind: str
    exact: bool  # the plane is the whole weight space (a two-parameter model)
    refined: bool  # computed while paused (as fine as REFINE_SECONDS allows), not the running preview
    step: int
    diverged: bool  # part of the grid is non-finite or far above the rest (levels are log-spaced anyway)
    note: str = ""
    loss_min: float = math.nan
    loss_max: float = math.nan


class SurfacePath:
    """Weights at the recorded steps (for the path on the surface): forks drop the abandoned future."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.params: list[np.ndarray] = []

    def clear(self) -> None:
        self.steps.clear()
        self.params.clear()

    def add(self, step: int, p: np.ndarray) -> None:
        step = int(step)
        while self.steps and self.steps[-1] >= step:  # stepping on after a jump back forks the run
            self.steps.pop()
            self.params.pop()
        self.steps.append(step)
        self.params.append(np.array(p, dtype=np.float64, copy=True))
        # a big network's vectors are large: hold at most ~PATH_BYTES of them
        cap = max(50, min(PATH_MAX, PATH_BYTES // max(8 * self.params[-1].size, 1)))
        if len(self.steps) > cap:  # keep the start, thin the older half
            half = len(self.steps) // 2
            keep = list(range(0, half, 2)) + list(range(half, len(self.steps)))
            self.steps = [self.steps[i] for i in keep]
            self.params = [self.params[i] for i in keep]

    def upto(self, step: int) -> tuple[list[int], list[np.ndarray]]:
        n = sum(1 for s in self.steps if s <= step)
        return self.steps[:n], self.params[:n]


class SurfaceTrack:
    """What the worker keeps for the surface: the spec (None: the view is hidden), the path, a cache."""

    def __init__(self) -> None:
        self.spec: SurfaceSpec | None = None
        self.path = SurfacePath()
        self.cache: SurfaceInfo | None = None
        self.cache_key = None
        self.last_time = -math.inf
        self.cost = 0.0
        self.error = ""
        self.point_cost: float | None = None  # seconds per grid point, measured

    def reset(self, runner) -> None:
        self.path.clear()
        self.path.add(int(runner.step_count), runner.params)
        self.point_cost = None
        self.invalidate()

    def invalidate(self) -> None:
        self.cache = None
        self.cache_key = None
        self.last_time = -math.inf

    def set_spec(self, spec: SurfaceSpec | None) -> None:
        self.spec = spec
        self.invalidate()

    def after_step(self, runner) -> None:
        self.path.add(int(runner.step_count), runner.params)

    def info(self, session, runner, lr: float, X, y, running: bool) -> SurfaceInfo | None:
        """The surface for a snapshot: cached while running within its budget, recomputed when due."""
        if self.spec is None:
            return None
        step = int(runner.step_count)
        key = (step, self.spec, float(lr), running)
        if self.cache is not None:
            if self.cache_key == key or (not running and self.cache_key[:3] == key[:3] and self.cache.refined):
                return self.cache
            now = time.perf_counter()
            if running and now - self.last_time < max(MIN_INTERVAL, self.cost / BUDGET):
                return self.cache
        t0 = time.perf_counter()
        try:
            info = None
            if self.point_cost is None:  # learn what a grid point costs on a small probe grid first
                info = self._compute(session, runner, X, y, step, lr, PROBE)
            size = self.grid_size(running)
            if size > PROBE or info is None:
                info = self._compute(session, runner, X, y, step, lr, size)
            info = replace(info, refined=not running)
            self.error = ""
        except Exception as exc:  # noqa: BLE001 - a plane that cannot be drawn here keeps the last picture
            self.error = str(exc)
            info = self.cache
        self.cache, self.cache_key = info, key
        self.last_time = time.perf_counter()
        self.cost = self.last_time - t0
        return info

    def _compute(self, session, runner, X, y, step, lr, size) -> SurfaceInfo:
        t0 = time.perf_counter()
        info = compute(session.model, runner.params, X, y, self.spec, self.path, step, lr, size=size)
        self.point_cost = (time.perf_counter() - t0) / (size * size)
        return info

    def grid_size(self, running: bool) -> int:
        """Points a side: as many as RUNNING_SECONDS (running, up to COARSE) or REFINE_SECONDS (paused, up to
        FINE) allow, so a big network gets a coarser grid and the worker never stalls on the surface."""
        if self.point_cost is None:
            return PROBE
        seconds, top = (RUNNING_SECONDS, COARSE) if running else (REFINE_SECONDS, FINE)
        n = int(math.sqrt(seconds / max(self.point_cost, 1e-9)))
        return max(PROBE, min(top, n))


def make_plane(model, p, X, y, spec: SurfaceSpec, path_params: list[np.ndarray]):
    from ..engine import landscape

    if spec.plane == "weights":
        names = list(spec.weights) or list(model.param_names[:2])
        if len(names) < 2:
            raise ValueError("the loss surface in the plane of two weights needs a model with two weights")
        return landscape.weights_plane(model, p, names[0], names[1])
    if spec.plane == "path":
        if not path_params:
            raise ValueError("no recorded steps yet for the plane through start, now and end")
        return landscape.path_plane(path_params[0], p, path_params[-1], model=model, seed=spec.seed)
    if spec.plane == "random":  # two filter-normalised random directions: Li et al.'s pictures of a minimum
        return landscape.random_plane(model, p, seed=spec.seed)
    return landscape.descent_random_plane(model, p, X, y, seed=spec.seed)


def compute(model, p, X, y, spec: SurfaceSpec, path: SurfacePath, step: int, lr: float, *,
            size: int = FINE) -> SurfaceInfo:
    """The loss on a size×size grid of the chosen plane around the path, with the path projected on it."""
    from ..engine import landscape

    p = np.asarray(p, dtype=np.float64)
    if not np.all(np.isfinite(p)):
        raise FloatingPointError("the weights are no longer finite")
    steps, params = path.upto(step)
    # the plane through start/now/end ends at the newest recorded step, even after a step back
    plane = make_plane(model, p, X, y, spec, path.params if spec.plane == "path" else params)
    pts = np.asarray(params, dtype=np.float64).reshape(-1, p.size)
    finite = np.all(np.isfinite(pts), axis=1)
    pts, steps = pts[finite], np.asarray(steps, dtype=np.int64)[finite]
    ab = plane.project(pts) if len(pts) else np.zeros((0, 2))
    cur = plane.project(p[None, :])[0]
    with np.errstate(all="ignore"):
        _, g = model.loss_and_grad(p, X, y)
    g = np.asarray(g, dtype=np.float64)
    nxt = None
    if math.isfinite(lr) and np.all(np.isfinite(g)):
        q = plane.project((p - lr * g)[None, :])[0]
        if np.all(np.isfinite(q)):
            nxt = (float(q[0]), float(q[1]))
    ok = np.all(np.isfinite(ab), axis=1)
    ab, steps = ab[ok], steps[ok]
    # a path of up to WINDOW_ALL points is framed whole (the zig-zag of the first steps stays in view); a longer
    # one by its recent part, so a run that has settled is seen around where it is
    recent = ab if len(ab) <= WINDOW_ALL else ab[-200:]
    around = np.vstack([recent, cur[None, :]] + ([np.array([nxt])] if nxt is not None else []))
    if spec.plane == "path":
        around = np.vstack([around, plane.project(np.asarray(path.params[-1:]))])
    alphas, betas = landscape.grid_around(around, margin=0.3, size=size, min_span=_min_span(plane, p))
    exact = spec.plane == "weights" and model.n_params == 2
    Z = surface_values(plane, model, X, y, alphas, betas, exact=exact)
    levels = landscape.contour_levels(Z, n=12, log=True)
    finite_z = Z[np.isfinite(Z)]
    diverged = bool(finite_z.size < Z.size or (finite_z.size and finite_z.max() > levels[-1] * 10))
    values = landscape.display_values(Z, levels)
    note = plane.note
    if exact:
        note = (note + " " if note else "") + "This model has two weights: the surface is its whole loss, exactly."
    return SurfaceInfo(
        alphas=frozen(alphas), betas=frozen(betas), values=frozen(values), levels=frozen(levels),
        path=frozen(ab.reshape(-1, 2)), path_steps=frozen(steps, np.int64),
        current=(float(cur[0]), float(cur[1])), next_point=nxt, labels=tuple(plane.labels), kind=plane.kind,
        exact=exact, refined=size > COARSE, step=int(step), diverged=diverged, note=note,
        loss_min=float(finite_z.min()) if finite_z.size else math.nan,
        loss_max=float(finite_z.max()) if finite_z.size else math.nan)


def surface_values(plane, model, X, y, alphas, betas, *, exact: bool = False) -> np.ndarray:
    """The loss on the grid as the view draws it: in float32 (2-4× faster than float64; its error, ~1e-7 of the
    loss, is a small fraction of a contour-level gap), in float64 when the surface is exact (a two-weight
    model) or so flat that float32's rounding would show (it varies by less than FLAT of its own size)."""
    if exact:
        return plane.surface(model, X, y, alphas, betas)
    Z = plane.surface(model, X, y, alphas, betas, precision="float32")
    finite = Z[np.isfinite(Z)]
    if finite.size and float(finite.max() - finite.min()) < FLAT * float(np.max(np.abs(finite))):
        return plane.surface(model, X, y, alphas, betas)
    return Z


def _min_span(plane, p) -> float:
    # a point that has not moved yet still gets a window a weight's own size across, not a pinhole
    if plane.kind == "weights":
        idx = [int(np.flatnonzero(d)[0]) for d in (plane.d1, plane.d2)]
        scale = max(1.0, float(np.max(np.abs(p[idx]))))
        return 0.5 * scale
    return 0.5


__all__ = ["SurfaceSpec", "SurfaceInfo", "SurfaceTrack", "SurfacePath", "compute", "make_plane", "surface_values",
           "PLANES"]
