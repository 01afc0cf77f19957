"""Step back and the timeline: exact engine checkpoints of the recorded run and replay to any step.

How it stays exact and cheap
----------------------------
The worker records ``Runner.snapshot()`` (a RunnerState: weights, optimizer moments, sampler and random
state, schedule, step count) after steps, in a :class:`CheckpointStore`:

* every step when stepping by hand or at a throttled speed (≤ a few hundred steps a second, where a
  ~3 µs snapshot is nothing), and every ``FAST_EVERY``-th step while running unthrottled, where a snapshot
  per step would cost ~20 % of the one-weight model's engine speed (12 µs a step); step back from there
  replays at most FAST_EVERY − 1 steps (≈ 1 ms on digits);
* the recent part (the last ``RECENT_STEPS`` steps, fewer for big models so it fits ``BUDGET_BYTES``) is
  kept as recorded; older checkpoints are thinned to every ``stride``-th step, the stride doubling so
  that at most ``old_max`` remain: memory stays flat however long the run (≲ 48 MB for digits' MLP,
  a few MB for the toy models).

Any step from the first kept checkpoint to the last recorded one can be reached exactly: restore the
nearest checkpoint at or before it and replay the engine's deterministic steps from there. A live LR
change is the only thing besides stepping that alters the trajectory; it is logged as a schedule event
at its step (and the checkpoint there replaced by the post-change state), and replays apply it, so a
replay never crosses a change it does not know about. Stepping back keeps the recorded future, so the
slider can jump forward again; a change (a new LR) made in the past *forks* the run: the future is
discarded and recomputed from there as the user steps or runs.
"""
from __future__ import annotations

import bisect
import math

import numpy as np

RECENT_STEPS = 4096  # steps kept as recorded (every step when stepping slowly)
FAST_EVERY = 16  # while running unthrottled, a checkpoint every this many steps (replay covers the rest)
OLD_MAX = 512  # at most this many thinned checkpoints before the recent part
BUDGET_BYTES = 48 * 2**20  # shrink the recent window and the old part for big models
PRUNE_EVERY = 64  # at least this many records between prunes; more as the store grows (amortised O(1))


def state_bytes(state) -> int:
    """Rough size of one RunnerState: its arrays plus a little for the dicts around them."""
    n = int(np.asarray(state.params).nbytes) + 1500
    for v in (state.optimizer.get("buffers") or {}).values():
        if v is not None:
            n += int(np.asarray(v).nbytes)
    order = state.sampler.get("order") if isinstance(state.sampler, dict) else None
    if order is not None:
        n += int(np.asarray(order).nbytes)
    return n


class CheckpointStore:
    """Exact RunnerStates of one run by step, bounded in memory, plus the log of live schedule changes."""

    def __init__(self, recent_steps: int = RECENT_STEPS, old_max: int = OLD_MAX,
                 budget_bytes: int = BUDGET_BYTES) -> None:
        self._recent_cap = int(recent_steps)
        self._old_cap = int(old_max)
        self.budget_bytes = int(budget_bytes)
        self.recent_steps = self._recent_cap
        self.old_max = self._old_cap
        self._steps: list[int] = []
        self._states: dict = {}
        self.events: dict[int, object] = {}  # step -> the schedule in force from that step on
        self.end = 0  # the last recorded step: the slider's right end
        self.stride = 1
        self._since_prune = 0
        self.bytes_per_state = 0

    # -- recording ---------------------------------------------------------------------------------
    def clear(self) -> None:
        self._steps.clear()
        self._states.clear()
        self.events.clear()
        self.end = 0
        self.stride = 1
        self._since_prune = 0

    def start(self, state) -> None:
        """A new run begins at ``state`` (step 0 after a build or reset)."""
        self.clear()
        self.bytes_per_state = state_bytes(state)
        # budget: the recent part may hold a checkpoint per step, the old part its maximum
        per = max(self.bytes_per_state, 1)
        self.recent_steps = int(min(self._recent_cap, max(256, self.budget_bytes // 2 // per)))
        self.old_max = int(min(self._old_cap, max(32, self.budget_bytes // 2 // per)))
        self.record(state)

    def record(self, state) -> None:
        s = int(state.step_count)
        if s not in self._states:
            bisect.insort(self._steps, s)
        self._states[s] = state
        if s > self.end:
            self.end = s
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY and self._since_prune >= len(self._steps) >> 2:
            self.prune()

    def note_step(self, step: int) -> None:
        """A step that was taken without a checkpoint (running fast): the recorded run reaches it."""
        if step > self.end:
            self.end = step

    def change(self, state, schedule) -> None:
        """The schedule changed live at ``state.step_count``: fork here, log it, checkpoint the new state."""
        s = int(state.step_count)
        self.truncate_after(s)
        self.events[s] = schedule
        self.record(state)

    def truncate_after(self, step: int) -> None:
        """Discard the recorded future beyond ``step`` (a fork)."""
        i = bisect.bisect_right(self._steps, step)
        for s in self._steps[i:]:
            del self._states[s]
        del self._steps[i:]
        for s in [s for s in self.events if s > step]:
            del self.events[s]
        self.end = min(self.end, int(step))

    def prune(self) -> None:
        """Thin checkpoints older than the recent window to every ``stride``-th step (the first stays)."""
        self._since_prune = 0
        if not self._steps:
            return
        cutoff = self.end - self.recent_steps
        i = bisect.bisect_right(self._steps, cutoff)
        if i <= 1:
            return
        first = self._steps[0]
        old = self._steps[1:i]
        while True:
            keep = [s for s in old if s % self.stride == 0]
            if len(keep) <= self.old_max:
                break
            self.stride *= 2
        gone = set(old) - set(keep)
        if gone:
            for s in gone:
                del self._states[s]
            self._steps[:] = [first] + keep + self._steps[i:]
        # events before the oldest checkpoint can never be replayed again
        for s in [s for s in self.events if s < first]:
            del self.events[s]

    # -- reading -----------------------------------------------------------------------------------
    @property
    def first(self) -> int:
        return self._steps[0] if self._steps else 0

    def __len__(self) -> int:
        return len(self._steps)

    def steps(self) -> list[int]:
        return list(self._steps)

    def has(self, step: int) -> bool:
        return step in self._states

    def get(self, step: int):
        return self._states.get(step)

    def at_or_before(self, step: int):
        i = bisect.bisect_right(self._steps, step) - 1
        return None if i < 0 else self._states[self._steps[i]]

    def params_at(self, step: int) -> np.ndarray | None:
        st = self._states.get(step)
        return None if st is None else st.params

    def memory_bytes(self) -> int:
        return len(self._steps) * self.bytes_per_state


class RunTimeline:
    """The worker's side: records checkpoints as the run steps and moves the runner to any recorded step."""

    def __init__(self, store: CheckpointStore | None = None) -> None:
        self.store = store if store is not None else CheckpointStore()
        self.watch_since = 0  # the trail and the narration only use steps after the last watch change
        self.jumps = 0  # jumps so far: the UI syncs its LR field to the restored LR after each

    def reset(self, runner) -> None:
        self.store.start(runner.snapshot())
        self.watch_since = int(runner.step_count)

    def after_step(self, runner, fast: bool) -> None:
        """Called after every successful step; ``fast`` when running unthrottled (checkpoint sparsely)."""
        s = runner.step_count
        if fast and s % FAST_EVERY:
            store = self.store
            if s > store.end:
                store.end = s
            return
        self.store.record(runner.snapshot())

    def changed(self, runner) -> None:
        """The LR (schedule) changed live: fork the run here."""
        self.store.change(runner.snapshot(), runner.schedule)

    def watch_changed(self, runner) -> None:
        self.watch_since = int(runner.step_count)

    def goto(self, runner, target: int) -> int:
        """Put ``runner`` exactly in its state after step ``target`` (clamped to what is recorded).

        Restores the nearest checkpoint at or before it and replays from there, applying logged schedule
        changes; the recorded future is kept. Returns the step reached.
        """
        store = self.store
        target = int(min(max(target, store.first), store.end))
        ck = store.at_or_before(target)
        if ck is None:
            return int(runner.step_count)
        runner.restore(ck)
        events = store.events
        while runner.step_count < target:
            ev = events.get(runner.step_count)
            if ev is not None:
                runner.schedule = ev
            if runner.step() is None:
                break
        ev = events.get(runner.step_count)
        if ev is not None:
            runner.schedule = ev
        if not store.has(runner.step_count):
            store.record(runner.snapshot())  # the next step back from here is a plain restore
        self.jumps += 1
        return int(runner.step_count)

    def info(self, runner) -> dict:
        store = self.store
        return {"first": int(store.first), "end": int(max(store.end, runner.step_count)),
                "step": int(runner.step_count), "checkpoints": len(store), "jumps": self.jumps,
                "base_lr": float(getattr(runner.schedule, "base_lr", math.nan))}


def rebuild_trail(trail, runner, watch_index: int | None, since: int, max_points: int) -> None:
    """Refill the loss-vs-weight trail from the runner's history after a jump (the steps up to there)."""
    trail.clear()
    p = runner.params
    step = int(runner.step_count)
    if watch_index is None:  # the descent line needs whole vectors: start from the current point
        trail.add(step, 0.0, math.nan, p.copy())
        return
    history = getattr(runner, "history", None)
    rows = history.last(max_points) if history is not None and len(history) else np.zeros((0, 9))
    fields = history.fields if history is not None else ()
    if len(rows) and "watched_value" in fields:
        i_step, i_loss = fields.index("step"), fields.index("loss")
        i_w, i_next = fields.index("watched_value"), fields.index("watched_next")
        rows = rows[rows[:, i_step] > since]
        rows = rows[rows[:, i_step] <= step]
        # only an unbroken run of steps ending at the current one draws as a chain of arrows
        if len(rows):
            st = rows[:, i_step].astype(np.int64)
            gaps = np.nonzero(np.diff(st) != 1)[0]
            if gaps.size:
                rows = rows[gaps[-1] + 1:]
        if len(rows) and int(rows[-1, i_step]) == step:
            trail.add(int(rows[0, i_step]) - 1, float(rows[0, i_w]), math.nan)
            for r in rows:
                trail.add(int(r[i_step]), float(r[i_next]), float(r[i_loss]))
            return
    trail.add(step, float(p[watch_index]), math.nan)


__all__ = ["CheckpointStore", "RunTimeline", "rebuild_trail", "state_bytes", "FAST_EVERY", "RECENT_STEPS"]
