"""PyTorch tests: tiny models on the bundled digits, one CPU thread so they stay fast and deterministic."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread():
    torch = pytest.importorskip("torch", reason='PyTorch is not installed (pip install "gd-studio[torch]")')
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
