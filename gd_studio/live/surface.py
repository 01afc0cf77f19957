"""The loss surface in a plane through the run, computed in the worker: coarse while running or stepping, fine when idle.

The plane is one of the engine's (landscape.weights_plane, descent_random_plane, path_plane); the recorded
steps are projected on it with the plane's own ``project``, so what the view draws is what the engine says.
For a model with two parameters the plane of its two weights is the whole weight space: the surface is exact.

In the window (``SurfaceTrack.adaptive``) grid sizes follow the measured compute time, and a paused surface is
drawn coarse first: stepping through a run by key stays quick, and ``refine`` redoes the grid finely once no
command has come for REFINE_DELAY (the engine's process, live/host.py, or the worker's thread decides when).
Scripts and renderings get the same grid whatever the timing: COARSE while running, the spec's grid (FINE)
when paused, so a picture follows from the data alone.
"""
from __future__ import annotations

import copy
import itertools
import math
import time
from dataclasses import dataclass, replace

import numpy as np

from ..engine.errors import ConfigError
from .snapshot import frozen

COARSE = 25  # grid points a side while running (at most)
FINE = 61  # … once paused, unless the scenario names its own grid
MIN_INTERVAL = 0.25  # seconds between surfaces while running, at the least
BUDGET = 0.08  # share of the engine's time the surface may take while running
REFINE_SECONDS = 0.3  # the most a paused refinement may take
RUNNING_SECONDS = 0.08  # … a surface while running
STEP_SECONDS = 0.03  # … and the first surface after a step, a step back or a jump while paused
# a paused coarse surface is refined once no command has come for this long: a burst of steps (a held arrow key
# repeats every ~33 ms) refines once, after its last step
REFINE_DELAY = 0.15
BANDS = 8  # a refinement runs in this many bands of grid rows and gives up between them when a command waits
PROBE = 9  # points a side of the first grid, which measures the cost of a point
WINDOW_ALL = 1000  # paths up to this many points are framed whole
PATH_MAX = 2000  # recorded points kept for the path (older ones thinned)
PATH_BYTES = 32 << 20
PLANES = ("weights", "descent_random", "random", "path")
# a surface whose values span less than this share of their size is computed again in float64: float32's
# relative rounding (~1e-7) would then be over 1e-4 of the range, enough to wiggle the innermost rings
FLAT = 1e-3
_SERIALS = itertools.count(1)


class Superseded(Exception):
    """A refinement given up because a command is waiting (it would be out of date when done)."""


@dataclass(frozen=True)
class SurfaceSpec:
    """Which plane the view shows: two weights by name, descent + random, or the plane through start/now/end."""

    plane: str = "descent_random"
    weights: tuple[str, ...] = ()
    seed: int = 0
    span: float | None = None  # the window reaches at least ±span from the current point (a scenario's "span")
    grid: int | None = None  # points a side of the paused (and rendered) grid; None: FINE (a scenario's "grid")
    # the view's map, width over height in pixels: the grid spans α and β in that ratio, so the view draws both at
    # one scale (a step of 1 is as long across as up) and the arrow meets the contours at their true angles
    aspect: float | None = None

    def __post_init__(self) -> None:
        if self.plane not in PLANES:
            raise ConfigError(f"loss surface: unknown plane {self.plane!r} (choose one of {', '.join(PLANES)})")
        object.__setattr__(self, "weights", tuple(self.weights))
        if self.span is not None:
            if isinstance(self.span, bool) or not isinstance(self.span, (int, float)) \
                    or not (math.isfinite(self.span) and self.span > 0):
                raise ConfigError(f"loss surface: span must be a positive, finite number, got {self.span!r}")
            object.__setattr__(self, "span", float(self.span))
        if self.aspect is not None:
            if isinstance(self.aspect, bool) or not isinstance(self.aspect, (int, float)) \
                    or not (math.isfinite(self.aspect) and 0.05 <= self.aspect <= 20.0):
                raise ConfigError(f"loss surface: aspect must be a width/height ratio from 0.05 to 20, got "
                                  f"{self.aspect!r}")
            object.__setattr__(self, "aspect", float(self.aspect))
        if self.grid is not None:
            if isinstance(self.grid, bool) or not isinstance(self.grid, int) or not 5 <= self.grid <= 201:
                raise ConfigError(f"loss surface: grid must be a whole number of points from 5 to 201, got {self.grid!r}")


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
    next_point: tuple[float, float] | None  # where the optimizer's next step (training-set gradient) would land
    labels: tuple[str, str]
    kind: str
    exact: bool  # the plane is the whole weight space (a two-parameter model)
    refined: bool  # computed while paused (as fine as REFINE_SECONDS allows), not the running preview
    step: int
    diverged: bool  # part of the grid is non-finite or far above the rest (levels are log-spaced anyway)
    note: str = ""
    loss_min: float = math.nan
    loss_max: float = math.nan
    contours: np.ndarray | None = None  # (m, 2, 2) level-line segments in (α, β), log-shaded like the colours
    serial: int = 0  # a new number for every computed grid: the view redraws only when it changes
    grid_seconds: float = 0.0  # what the loss on the grid took to compute (the rest is a few ms whatever the size)
    float64: bool = False  # computed in float64 (exact, or too flat for float32)
    # what the axes read at (α, β) = (0, 0): for a plane of two weights their values at the current point, so the
    # axes read the weights themselves (W1[0,0] = 1.02, as the loss-vs-weight view and the narration say), not
    # their changes; for the other planes 0 (offsets along directions that have no values of their own)
    origin: tuple[float, float] = (0.0, 0.0)
    next_rule: str = "sgd"  # the optimizer whose next step the arrow is ("momentum": −η·v with its velocity …)
    # the loss is the same all over the plane (to rounding): e.g. two weights of an input that is always 0, whose
    # changes the loss never sees; its "levels" are then only placeholders around that value
    flat: bool = False
    aspect: float | None = None  # the spec's: the grid's span across over its span up (None: as the path framed it)


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
        # the window's run: sizes follow the compute time and a paused surface comes coarse first (see the module)
        self.adaptive = False
        self.pending = None  # the key of a coarse paused surface that refine() would redo on the full grid
        self.refines = 0  # refinements finished (tests and benchmarks count them)
        # the window's time budgets (LiveRun.tune_surface changes them for tests and benchmarks)
        self.step_seconds = STEP_SECONDS
        self.refine_seconds = REFINE_SECONDS
        self.refine_delay = REFINE_DELAY

    def reset(self, runner) -> None:
        self.path.clear()
        self.path.add(int(runner.step_count), runner.params)
        self.point_cost = None
        self.invalidate()

    def invalidate(self) -> None:
        self.cache = None
        self.cache_key = None
        self.last_time = -math.inf
        self.pending = None

    def set_spec(self, spec: SurfaceSpec | None) -> None:
        self.spec = spec
        self.invalidate()

    def after_step(self, runner) -> None:
        self.path.add(int(runner.step_count), runner.params)

    def rebuild_path(self, store, runner) -> None:
        """The path from a timeline's checkpoints up to the runner's step, then the runner's weights now."""
        now = int(runner.step_count)
        self.path.clear()
        for step in store.steps():
            if step < now:
                state = store.get(step)
                if state is not None:
                    self.path.add(step, state.params)
        self.path.add(now, runner.params)
        self.invalidate()

    def _key(self, runner, lr: float) -> tuple:
        return (int(runner.step_count), self.spec, float(lr))

    def info(self, session, runner, lr: float, X, y, running: bool) -> SurfaceInfo | None:
        """The surface for a snapshot: while running a coarse grid, cached within its time budget; paused, the
        full grid (or, in the window, a quick coarse one that ``refine`` replaces once the person stops)."""
        if self.spec is None:
            return None
        key = self._key(runner, lr)
        cached = self.cache is not None and self.cache_key == key
        if running:
            self.pending = None
            if self.cache is not None and (cached or time.perf_counter() - self.last_time
                                           < max(MIN_INTERVAL, self.cost / BUDGET)):
                return self.cache
            return self._attempt(session, runner, X, y, key, lambda: self.grid_size(RUNNING_SECONDS, COARSE),
                                 refined=False)
        if cached and (self.cache.refined or self.pending == key):
            return self.cache
        self.pending = None
        info = self._attempt(session, runner, X, y, key, lambda: self.grid_size(self.step_seconds, self.fine_size()),
                             refined=None)
        if info is not None and not info.refined and self.cache_key == key and not self.error:
            self.pending = key
        return info

    def refine_due(self, runner, lr: float) -> bool:
        """A coarse paused surface waits for its full grid, and the run is still where it was drawn."""
        return self.spec is not None and self.pending is not None and self.pending == self._key(runner, lr)

    def refine(self, session, runner, lr: float, X, y, cancel=None) -> SurfaceInfo | None:
        """The pending coarse surface on its full grid; None when nothing waits, or ``cancel()`` turned true
        between two bands of rows (a command waits: the surface stays pending)."""
        if not self.refine_due(runner, lr):
            return None
        key = self.pending
        # the coarse grid of this very point found the surface too flat for float32: the fine one starts in float64
        # (not a float32 grid thrown away: on the 2→64→64→2 MLP 0.35 s before the 0.95 s of float64)
        flat = self.cache is not None and self.cache_key == key and self.cache.float64
        try:
            info = self._compute(session, runner, X, y, key[0], key[2], self.fine_size(), refined=True, cancel=cancel,
                                 flat=flat)
        except Superseded:
            return None
        except Exception as exc:  # noqa: BLE001 - the coarse picture stays; say why in the view
            self.error = str(exc)
            self.pending = None
            return None
        self.error = ""
        self.pending = None
        self.refines += 1
        # (its time is idle time: the running budget keeps the cost of the running grids)
        self.cache, self.cache_key = info, key
        return info

    def _attempt(self, session, runner, X, y, key, size, refined: bool | None) -> SurfaceInfo | None:
        """Compute, cache and time one surface of ``size()`` points a side (``refined`` None: refined when that
        is the full grid); on a failure keep the last picture and the reason."""
        t0 = time.perf_counter()
        try:
            if self.adaptive and self.point_cost is None:  # learn what a grid point costs on a small grid first
                self._compute(session, runner, X, y, key[0], key[2], PROBE, refined=False)
            n = size()
            full = n >= self.fine_size() if refined is None else refined
            info = self._compute(session, runner, X, y, key[0], key[2], n, refined=full)
            self.error = ""
        except Exception as exc:  # noqa: BLE001 - a plane that cannot be drawn here keeps the last picture
            self.error = str(exc)
            info = self.cache
        self.cache, self.cache_key = info, key
        self.last_time = time.perf_counter()
        self.cost = self.last_time - t0
        return info

    def _compute(self, session, runner, X, y, step, lr, size, *, refined: bool, cancel=None,
                 flat: bool = False) -> SurfaceInfo:
        info = compute(session.model, runner.params, X, y, self.spec, self.path, step, lr, size=size, cancel=cancel,
                       flat=flat, optimizer=getattr(runner, "optimizer", None))
        self.point_cost = info.grid_seconds / (size * size)
        return replace(info, refined=refined)

    def fine_size(self) -> int:
        """Points a side of the full grid: the spec's (FINE), or in the window as many as REFINE_SECONDS allow."""
        top = (self.spec.grid if self.spec is not None else None) or FINE
        return self.grid_size(self.refine_seconds, top) if self.adaptive else top

    def grid_size(self, seconds: float, top: int) -> int:
        """Points a side that ``seconds`` allow at the measured cost of a point (at most ``top``): a big network
        gets a coarser grid, and the worker never stalls on the surface."""
        if not self.adaptive:
            return top
        if self.point_cost is None:
            return min(top, PROBE)
        n = int(math.sqrt(seconds / max(self.point_cost, 1e-9)))
        return min(top, max(PROBE, n))


def single_weight_reason(names) -> str:
    """Why a model of one weight has no loss surface (the window says it before asking the worker)."""
    return (f"This model has a single weight ({', '.join(names)}): its whole loss is the curve in the loss-vs-weight "
            f"view; a loss surface needs a model with two weights or more.")


def make_plane(model, p, X, y, spec: SurfaceSpec, path_params: list[np.ndarray], path_steps=None):
    from ..engine import landscape

    if model.n_params < 2:  # every plane needs two independent directions (they failed with a division by zero)
        raise ConfigError(single_weight_reason(model.param_names))
    if spec.plane == "weights":
        names = list(spec.weights) or list(model.param_names[:2])
        if len(names) < 2:
            raise ValueError("the loss surface in the plane of two weights needs a model with two weights")
        return landscape.weights_plane(model, p, names[0], names[1])
    if spec.plane == "path":
        if not path_params:
            raise ValueError("no recorded steps yet for the plane through start, now and end")
        return landscape.path_plane(path_params[0], p, path_params[-1], model=model, seed=spec.seed,
                                    others=path_params, other_steps=path_steps)
    if spec.plane == "random":  # two filter-normalised random directions: Li et al.'s pictures of a minimum
        return landscape.random_plane(model, p, seed=spec.seed)
    return landscape.descent_random_plane(model, p, X, y, seed=spec.seed)


def compute(model, p, X, y, spec: SurfaceSpec, path: SurfacePath, step: int, lr: float, *,
            size: int = FINE, cancel=None, flat: bool = False, optimizer=None) -> SurfaceInfo:
    """The loss on a size×size grid of the chosen plane around the path, with the path projected on it, and its
    contour lines. ``cancel`` (a callable) is asked between bands of grid rows; when it says yes, Superseded.
    ``flat``: the surface is known to be too flat for float32 (computed in float64 at once). ``optimizer``: the
    run's (engine.optimizers.Optimizer), whose next step the arrow shows, taken on a copy (momentum's velocity,
    Adam's moments, weight decay); None: a plain step −η·∇L."""
    from ..engine import landscape

    p = np.asarray(p, dtype=np.float64)
    if not np.all(np.isfinite(p)):
        raise FloatingPointError("the weights are no longer finite")
    steps, params = path.upto(step)
    # the plane through start/now/end ends at the newest recorded step, even after a step back
    plane = make_plane(model, p, X, y, spec, path.params if spec.plane == "path" else params,
                       path.steps if spec.plane == "path" else steps)
    pts = np.asarray(params, dtype=np.float64).reshape(-1, p.size)
    finite = np.all(np.isfinite(pts), axis=1)
    pts, steps = pts[finite], np.asarray(steps, dtype=np.int64)[finite]
    ab = plane.project(pts) if len(pts) else np.zeros((0, 2))
    cur = plane.project(p[None, :])[0]
    with np.errstate(all="ignore"):
        _, g = model.loss_and_grad(p, X, y)
    g = np.asarray(g, dtype=np.float64)
    nxt = None
    if math.isfinite(lr) and lr >= 0 and np.all(np.isfinite(g)):
        with np.errstate(all="ignore"):
            landing = p - lr * g if optimizer is None else copy.deepcopy(optimizer).step(p, g, lr)
        q = plane.project(landing[None, :])[0]
        if np.all(np.isfinite(q)):
            nxt = (float(q[0]), float(q[1]))
    ok = np.all(np.isfinite(ab), axis=1)
    ab, steps = ab[ok], steps[ok]
    # a path of up to WINDOW_ALL points is framed whole (the zig-zag of the first steps stays in view); a longer
    # one by its recent part, so a run that has settled is seen around where it is
    recent = ab if len(ab) <= WINDOW_ALL else ab[-200:]
    around = np.vstack([recent, cur[None, :]])
    if nxt is not None:
        # the frame follows the arrow at most as far as the path reaches: diverging, the next step is several
        # times the path, and a frame holding it shrank the whole path to a smudge under the arrow's shaft
        reach = max(float(np.max(np.ptp(around, axis=0))), _min_span(plane, p))
        d = np.asarray(nxt, dtype=np.float64) - cur
        length = float(np.hypot(d[0], d[1]))
        if length > reach:
            d *= reach / length
        around = np.vstack([around, (cur + d)[None, :]])
    if spec.plane == "path":
        around = np.vstack([around, plane.project(np.asarray(path.params[-1:]))])
    alphas, betas = landscape.grid_around(around, margin=0.3, size=size, min_span=_min_span(plane, p))
    if spec.span is not None:  # the scenario's window: at least ±span around the current point
        alphas = np.linspace(min(alphas[0], cur[0] - spec.span), max(alphas[-1], cur[0] + spec.span), int(size))
        betas = np.linspace(min(betas[0], cur[1] - spec.span), max(betas[-1], cur[1] + spec.span), int(size))
    if spec.aspect is not None:  # the short side widened about its middle: α and β at one scale in the view
        alphas, betas = _with_aspect(alphas, betas, spec.aspect)
    exact = spec.plane == "weights" and model.n_params == 2
    origin = (0.0, 0.0)
    if plane.kind == "weights":
        i, j = (int(np.flatnonzero(d)[0]) for d in (plane.d1, plane.d2))
        origin = (float(p[i]), float(p[j]))
    t0 = time.perf_counter()
    Z, float64 = _surface_values(plane, model, X, y, alphas, betas, exact=exact or flat, cancel=cancel)
    grid_seconds = time.perf_counter() - t0
    levels = landscape.contour_levels(Z, n=12, log=True)
    finite_z = Z[np.isfinite(Z)]
    flat_plane = bool(finite_z.size == Z.size and float(finite_z.max() - finite_z.min())
                      <= 1e-12 * max(1.0, float(np.max(np.abs(finite_z)))))
    diverged = bool(finite_z.size < Z.size or (finite_z.size and finite_z.max() > levels[-1] * 10))
    values = landscape.display_values(Z, levels)
    # the level lines of the shading (log₁₀ loss), so lines and colours agree
    contours = np.zeros((0, 2, 2)) if flat_plane else \
        landscape.contour_segments(alphas, betas, log_shade(values, levels), log_shade(levels, levels))
    note = plane.note
    if exact:
        note = (note + " " if note else "") + "This model has two weights: the surface is its whole loss, exactly."
    return SurfaceInfo(
        alphas=frozen(alphas), betas=frozen(betas), values=frozen(values), levels=frozen(levels),
        path=frozen(ab.reshape(-1, 2)), path_steps=frozen(steps, np.int64),
        current=(float(cur[0]), float(cur[1])), next_point=nxt, labels=tuple(plane.labels), kind=plane.kind,
        exact=exact, refined=True, step=int(step), diverged=diverged, note=note,
        loss_min=float(finite_z.min()) if finite_z.size else math.nan,
        loss_max=float(finite_z.max()) if finite_z.size else math.nan,
        contours=frozen(contours.reshape(-1, 2, 2)), serial=next(_SERIALS), grid_seconds=grid_seconds,
        float64=float64, origin=origin, next_rule="sgd" if optimizer is None else str(optimizer.name),
        flat=flat_plane, aspect=spec.aspect)


def _with_aspect(alphas: np.ndarray, betas: np.ndarray, aspect: float) -> tuple[np.ndarray, np.ndarray]:
    """The grid's spans made ``aspect`` (across over up) by widening the shorter one about its middle."""
    a0, a1, b0, b1 = float(alphas[0]), float(alphas[-1]), float(betas[0]), float(betas[-1])
    wa, wb = a1 - a0, b1 - b0
    if not (wa > 0 and wb > 0):
        return alphas, betas
    if wa / wb < aspect:
        mid, half = 0.5 * (a0 + a1), 0.5 * wb * aspect
        alphas = np.linspace(mid - half, mid + half, alphas.size)
    else:
        mid, half = 0.5 * (b0 + b1), 0.5 * wa / aspect
        betas = np.linspace(mid - half, mid + half, betas.size)
    return alphas, betas


def log_shade(values, levels) -> np.ndarray:
    """log₁₀ of the loss for the shading and its contour lines (finite: display values are clamped), floored
    where the loss is 0 so a perfect fit does not become -inf."""
    v = np.asarray(values, dtype=np.float64)
    levels = np.asarray(levels, dtype=np.float64)
    floor = max(float(levels[0]) * 1e-3, 1e-12) if levels.size and levels[0] > 0 else 1e-12
    return np.log10(np.maximum(v, floor))


def surface_values(plane, model, X, y, alphas, betas, *, exact: bool = False, cancel=None) -> np.ndarray:
    """The loss on the grid as the view draws it (see _surface_values)."""
    return _surface_values(plane, model, X, y, alphas, betas, exact=exact, cancel=cancel)[0]


def _surface_values(plane, model, X, y, alphas, betas, *, exact: bool = False, cancel=None
                    ) -> tuple[np.ndarray, bool]:
    """The loss on the grid as the view draws it: in float32 (2-4× faster than float64; its error, ~1e-7 of the
    loss, is a small fraction of a contour-level gap), in float64 when the surface is exact (a two-weight
    model) or so flat that float32's rounding would show (it varies by less than FLAT of its own size).
    With ``cancel``, in BANDS bands of rows, asking it before each (Superseded when it says yes). Returns the grid
    and whether it is float64's."""
    def grid(precision: str) -> np.ndarray:
        if cancel is None:
            return plane.surface(model, X, y, alphas, betas, precision=precision)
        rows = []
        band = max(1, -(-len(alphas) // BANDS))
        for i in range(0, len(alphas), band):
            if cancel():
                raise Superseded
            rows.append(plane.surface(model, X, y, alphas[i:i + band], betas, precision=precision))
        return np.concatenate(rows, axis=0)

    if exact:
        return grid("float64"), True
    Z = grid("float32")
    finite = Z[np.isfinite(Z)]
    if finite.size and float(finite.max() - finite.min()) < FLAT * float(np.max(np.abs(finite))):
        return grid("float64"), True
    return Z, False


def _min_span(plane, p) -> float:
    # a point that has not moved yet still gets a window a weight's own size across, not a pinhole
    if plane.kind == "weights":
        idx = [int(np.flatnonzero(d)[0]) for d in (plane.d1, plane.d2)]
        scale = max(1.0, float(np.max(np.abs(p[idx]))))
        return 0.5 * scale
    return 0.5


__all__ = ["SurfaceSpec", "SurfaceInfo", "SurfaceTrack", "SurfacePath", "Superseded", "compute", "make_plane",
           "surface_values", "log_shade", "single_weight_reason", "PLANES"]
