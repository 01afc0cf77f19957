"""The GD Studio engine: pure NumPy datasets, models, losses, optimizers, schedules, descent, LR finder, slices,
sharpness (hessian) and loss surfaces (landscape).

It imports no Qt, so scripts, notebooks and the command line use it exactly as the window does::

    from gd_studio.engine import datasets, models, losses, lr_finder, landscape
"""
