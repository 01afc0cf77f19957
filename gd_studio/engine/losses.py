"""Per-sample losses (the batch loss is their mean) and their gradients with respect to the model output."""
from __future__ import annotations

import numpy as np


def squared_error(probs: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """The article's loss: per sample, the sum over outputs of (output − target)².

    A cat photo scored 0.7 dog / 0.3 cat costs (0.3 − 1)² + (0.7 − 0)² = 0.98.
    """
    diff = np.asarray(probs, dtype=np.float64) - np.asarray(onehot, dtype=np.float64)
    return np.einsum("ij,ij->i", diff, diff)


def cross_entropy(probs: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Per-sample −Σ t·log p; probabilities are clipped at the smallest normal float to stay finite."""
    p = np.clip(np.asarray(probs, dtype=np.float64), np.finfo(np.float64).tiny, 1.0)
    return -np.einsum("ij,ij->i", np.asarray(onehot, dtype=np.float64), np.log(p))


def mse(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-sample squared error of a regression output: (prediction − target)²."""
    diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    return diff * diff


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so large logits cannot overflow."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


CLASSIFICATION_LOSSES = ("cross_entropy", "squared_error")
REGRESSION_LOSSES = ("mse", "squared_error")
