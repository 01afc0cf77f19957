"""Seeded mini-batch sampling shared by the descent runner and the LR range test."""
from __future__ import annotations

import numpy as np


class BatchSampler:
    """Yields index batches: a fresh seeded permutation each epoch; batch_size 0 (or ≥ n) is full batch.

    The last batch of an epoch may be smaller; full batch returns the same indices every step.
    """

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        if n < 1:
            raise ValueError("BatchSampler needs at least one sample")
        self.n = int(n)
        self.batch_size = self.n if batch_size <= 0 or batch_size >= n else int(batch_size)
        self.full_batch = self.batch_size == self.n
        self._rng = np.random.default_rng(seed)
        self._all = np.arange(self.n)
        self._order = self._all if self.full_batch else self._rng.permutation(self.n)
        self._pos = 0
        self.epoch = 0  # completed epochs
        self.steps = 0

    def next(self) -> np.ndarray:
        self.steps += 1
        if self.full_batch:
            self.epoch += 1
            return self._all
        if self._pos >= self.n:
            self._order = self._rng.permutation(self.n)
            self._pos = 0
        batch = self._order[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        if self._pos >= self.n:
            self.epoch += 1
        return batch

    def state(self) -> dict:
        return {
            "rng": self._rng.bit_generator.state,
            "order": self._order.copy(),
            "pos": self._pos,
            "epoch": self.epoch,
            "steps": self.steps,
        }

    def set_state(self, state: dict) -> None:
        self._rng.bit_generator.state = state["rng"]
        self._order = state["order"].copy()
        self._pos = state["pos"]
        self.epoch = state["epoch"]
        self.steps = state["steps"]
