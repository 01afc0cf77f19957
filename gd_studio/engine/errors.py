"""Typed errors a user can cause; each message says what went wrong and where."""
from __future__ import annotations


def then(message: object, more: str) -> str:
    """``message`` as a sentence, then ``more``: "x: is it a range-test file? The previous view is kept." (a plain
    ". " after a question or a full stop read "file?." and "..")."""
    text = " ".join(str(message).split())
    return f"{text}{'' if text.endswith(('.', '?', '!')) else '.'} {more}"


class GDStudioError(ValueError):
    """Base of every error caused by user input (files, numbers, settings)."""


class ConfigError(GDStudioError):
    """A model, optimizer, schedule or run setting that cannot be used."""
