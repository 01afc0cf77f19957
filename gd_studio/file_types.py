"""The kinds of file GD Studio opens (by extension): one list for the command line, the window and the installers."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileType:
    kind: str          # what the window does with it: gd_studio.ui.fileopen.OPENERS[kind]
    extension: str     # with the dot, lower case
    description: str
    mime_type: str


def file_types() -> tuple[FileType, ...]:
    """Every type the app opens. A new one (e.g. a saved range test) is one more entry here plus an opener
    in gd_studio.ui.fileopen; the CLI's bare FILE argument and macOS's open-file events then take it too."""
    from .engine import rangefile, scenarios

    return (FileType("scenario", scenarios.EXTENSION.lower(), "GD Studio scenario", scenarios.MIME_TYPE),
            FileType("range_test", rangefile.SUFFIX.lower(), "GD Studio range test", RANGE_TEST_MIME_TYPE))


RANGE_TEST_MIME_TYPE = "application/x-gd-studio-range-test"


def dialog_filter() -> str:
    """A file dialog's filter: every type the app opens first, then each type, then all files."""
    every = " ".join(f"*{ft.extension}" for ft in file_types())
    each = ";;".join(f"{ft.description}s (*{ft.extension})" for ft in file_types())
    return f"Files GD Studio opens ({every});;{each};;All files (*)"


def file_type_of(path) -> FileType | None:
    """The type a file name says it is (case-insensitive extension), or None."""
    name = Path(str(path)).name.lower()
    for ft in file_types():
        if name.endswith(ft.extension) and len(name) > len(ft.extension):
            return ft
    return None


def describe() -> str:
    """e.g. '.gdscenario (GD Studio scenario)' for messages and --help."""
    return ", ".join(f"{ft.extension} ({ft.description})" for ft in file_types())
