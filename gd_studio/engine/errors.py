"""Typed errors a user can cause; each message says what went wrong and where."""
from __future__ import annotations


class GDStudioError(ValueError):
    """Base of every error caused by user input (files, numbers, settings)."""


class ConfigError(GDStudioError):
    """A model, optimizer, schedule or run setting that cannot be used."""
