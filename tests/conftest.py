"""Shared test setup: Qt runs offscreen unless GD_STUDIO_TEST_DISPLAY=1 asks for a real screen."""
from __future__ import annotations

import os

if os.environ.get("GD_STUDIO_TEST_DISPLAY") != "1":
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
