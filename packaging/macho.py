"""The minimum macOS a bundle needs: the highest minimum over every Mach-O binary it carries (read via otool -l)."""
from __future__ import annotations

from typing import Callable, Iterable


def minimum_from_otool(text: str) -> str | None:
    """The highest minimum macOS in ``otool -l`` output: LC_BUILD_VERSION's ``minos`` (current toolchains)
    or LC_VERSION_MIN_MACOSX's ``version`` (older ones). A universal file lists one per architecture."""
    found: list[str] = []
    command = None
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "cmd":
            command = words[1]
        elif len(words) >= 2 and words[0] == "minos" and command == "LC_BUILD_VERSION":
            found.append(words[1])
        elif len(words) >= 2 and words[0] == "version" and command == "LC_VERSION_MIN_MACOSX":
            found.append(words[1])
    return max(found, key=version_key) if found else None


def version_key(v: str) -> tuple[int, ...]:
    parts = [int(p) for p in v.split(".") if p.isdigit()]
    return tuple(parts + [0] * (3 - len(parts)))


def highest_minimum(binaries: Iterable, floor: str,
                    minimum_of: Callable[[object], str | None]) -> tuple[str, str | None]:
    """(the highest of ``floor`` and every binary's minimum, the binary that sets it or None for the floor)."""
    best, who = floor, None
    for binary in binaries:
        found = minimum_of(binary)
        if found and version_key(found) > version_key(best):
            best, who = found, str(binary)
    # "14.0" rather than "14": the form Info.plist files and Apple's tools use
    return (best if "." in best else best + ".0"), who
