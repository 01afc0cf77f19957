"""A Qt message handler that keeps platform-plugin chatter the user cannot act on off stderr."""
from __future__ import annotations

import sys

# Messages Qt's offscreen plugin prints on every headless render; they describe the plugin, not a problem.
NOISE = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
    "This plugin does not support grabbing the keyboard",
)

_installed = False


def _handler(mode, context, message: str) -> None:
    if any(message.startswith(noise) for noise in NOISE):
        return
    print(message, file=sys.stderr)


def install() -> None:
    """Route Qt's messages through the filter (once per process; later calls do nothing)."""
    global _installed
    if _installed:
        return
    from PySide6.QtCore import qInstallMessageHandler

    qInstallMessageHandler(_handler)
    _installed = True
