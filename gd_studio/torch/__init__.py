"""Leslie Smith's LR range test on your own PyTorch model, with GD Studio's suggestions, smoothing and files.

    from gd_studio.torch import range_test
    result = range_test(model, optimizer, loss_fn, train_loader, start_lr=1e-6, end_lr=1, num_iter=100)
    result.suggestions["steepest"]; result.save("my-model.gdrange")   # open it in the window

Needs PyTorch (``pip install "gd-studio[torch]"``); the rest of GD Studio never imports it.
"""
from __future__ import annotations

try:
    import torch as _torch  # noqa: F401  (the package's one requirement, checked up front)
except ImportError as exc:  # pragma: no cover - exercised by tests/torch/test_without_torch.py in a subprocess
    raise ImportError(
        'gd_studio.torch needs PyTorch, which is not installed: pip install "gd-studio[torch]" '
        "(or install a build for your GPU from pytorch.org first)"
    ) from exc

from ..engine.rangefile import (  # noqa: E402  curves from other finders and files need no torch
    RangeTestRecord,
    from_curve,
    from_fastai,
    from_lightning,
    from_torch_lr_finder,
    load,
)
from .finder import RangeTestProgress, range_test  # noqa: E402

__all__ = [
    "RangeTestProgress",
    "RangeTestRecord",
    "from_curve",
    "from_fastai",
    "from_lightning",
    "from_torch_lr_finder",
    "load",
    "range_test",
]
