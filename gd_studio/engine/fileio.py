"""Safe file access for everything GD Studio reads and writes: regular files only, size caps, atomic writes."""
from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat
from pathlib import Path
from typing import IO, Iterator

from .errors import GDStudioError

__all__ = [
    "FileAccessError",
    "LIMIT_ENV",
    "atomic_write",
    "atomic_writer",
    "check_regular",
    "max_bytes",
    "open_regular",
    "read_bytes",
]

# Data files can be big, but a file of several GB is a wrong pick (a disk image, /dev/zero behind a
# symlink) far more often than a dataset: refuse it with a message saying how to raise the cap.
LIMIT_ENV = "GD_STUDIO_MAX_FILE_MB"
DEFAULT_MAX_MB = 1024


class FileAccessError(GDStudioError):
    """A file that cannot be read or written safely; the message names the file and says why."""


def max_bytes(default_mb: float = DEFAULT_MAX_MB) -> int:
    """The read cap in bytes: ``GD_STUDIO_MAX_FILE_MB`` when set to a positive number, else the default."""
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if raw:
        try:
            mb = float(raw)
        except ValueError:
            raise FileAccessError(f"{LIMIT_ENV}={raw!r}: must be a number of megabytes, e.g. 4096") from None
        if not mb > 0 or mb != mb or mb == float("inf"):
            raise FileAccessError(f"{LIMIT_ENV}={raw!r}: must be a positive number of megabytes")
        return int(mb * 1_000_000)
    return int(default_mb * 1_000_000)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot be opened ({exc.strerror or exc})"


def _too_big(where: str, size: int, limit: int, what: str, adjustable: bool = True) -> str:
    if not adjustable:  # a fixed cap (scenario files are a few kB): no setting raises it
        return f"{where}: {size:,} bytes is too large for {what} (at most {limit:,})"
    return (f"{where}: {_amount(size)} is more than the {_amount(limit)} GD Studio reads for {what}; set the "
            f"environment variable {LIMIT_ENV} to a larger number of megabytes to open it")


def _amount(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def check_regular(path: str | os.PathLike, *, error: type[GDStudioError] = FileAccessError,
                  limit: int | None = None, what: str = "a file", adjustable: bool = True) -> os.stat_result:
    """stat() a path (following symlinks) and refuse anything but an existing regular file under the cap.

    Reads nothing, so it can check a file the user has not yet agreed to open.
    """
    where = os.fspath(path)
    try:
        st = os.stat(where)
    except OSError as exc:
        raise error(f"{where}: {_reason(exc)}") from None
    except ValueError:  # an embedded NUL byte in the name
        raise error(f"{where!r}: not a usable file name") from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{where}: is {_kind(st.st_mode)}, not a regular file; GD Studio reads only regular files")
    if limit is not None and st.st_size > limit:
        raise error(_too_big(where, st.st_size, limit, what, adjustable))
    return st


@contextlib.contextmanager
def open_regular(path: str | os.PathLike, *, error: type[GDStudioError] = FileAccessError,
                 limit: int | None = None, what: str = "a file", adjustable: bool = True) -> Iterator[IO[bytes]]:
    """Open a regular file for binary reading, never blocking on a FIFO and never reading past ``limit``.

    The type is checked on the opened descriptor (not a separate stat) so a file swapped for a pipe in
    between cannot slip through; O_NONBLOCK makes opening a FIFO return at once instead of waiting for a
    writer. Reads beyond ``limit`` bytes (a file that grows, or a regular-looking file with st_size 0
    such as those in /proc) raise ``error`` too.
    """
    where = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(where, flags)
    except OSError as exc:
        if os.path.isdir(where):  # Windows refuses to open a folder with "permission denied"
            raise error(f"{where}: is a folder, not a regular file; GD Studio reads only regular files") from None
        raise error(f"{where}: {_reason(exc)}") from None
    except ValueError:
        raise error(f"{where!r}: not a usable file name") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{where}: is {_kind(st.st_mode)}, not a regular file; GD Studio reads only regular files")
        if limit is not None and st.st_size > limit:
            raise error(_too_big(where, st.st_size, limit, what, adjustable))
        if getattr(os, "O_NONBLOCK", 0):  # POSIX only; Windows has no FIFOs to block on
            os.set_blocking(fd, True)
        raw = os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise
    with raw:
        yield io.BufferedReader(_Capped(raw, where, limit, error, what, adjustable) if limit is not None else raw, 1 << 16)


class _Capped(io.RawIOBase):
    """A raw reader that raises once more than ``limit`` bytes have been read."""

    def __init__(self, raw: IO[bytes], where: str, limit: int, error: type[GDStudioError], what: str,
                 adjustable: bool) -> None:
        super().__init__()
        self._raw, self._where, self._limit, self._error, self._what = raw, where, limit, error, what
        self._adjustable = adjustable
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self._count += n
            if self._count > self._limit:
                raise self._error(_too_big(self._where, self._count, self._limit, self._what, self._adjustable))
        return n


def read_bytes(path: str | os.PathLike, *, limit: int, error: type[GDStudioError] = FileAccessError,
               what: str = "a file", adjustable: bool = True) -> bytes:
    """The whole content of a regular file of at most ``limit`` bytes."""
    with open_regular(path, error=error, limit=limit, what=what, adjustable=adjustable) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise error(f"{os.fspath(path)}: cannot be read ({exc.strerror or exc})") from None


def _write_target(path: str | os.PathLike, error: type[GDStudioError]) -> Path:
    """The file a write to ``path`` should replace: symlinks followed to their target, which must be a
    regular file or not exist yet, in a folder that exists."""
    given = Path(os.fspath(path))
    if not os.fspath(given):
        raise error("no file name given")
    # realpath follows every symlink, also a dangling one, to where the file would be created
    target = Path(os.path.realpath(given))
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise error(f"cannot write {given}: {_reason(exc)}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise error(f"cannot write {given}: it is {_kind(st.st_mode)}, not a regular file; "
                    "choose a file name")
    if not target.parent.is_dir():
        raise error(f"cannot write {given}: the folder {given.parent} does not exist")
    return target


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, *, error: type[GDStudioError] = FileAccessError,
                  mode: str = "wb", encoding: str | None = None, newline: str | None = None) -> Iterator[IO]:
    """Write a file through a temporary file beside it and os.replace, so a failed write never leaves
    half a file. A symlink is written through (the link stays, its target gets the new content); a
    folder, device, FIFO or socket is refused rather than replaced. An existing file keeps its permissions.
    """
    given = os.fspath(path)
    target = _write_target(path, error)
    tmp: Path | None = None
    try:
        for _ in range(100):
            candidate = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
            try:
                # O_EXCL never clobbers another writer's temp file; 0o666 lets the umask decide, as open() does
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            except FileExistsError:
                continue
            tmp = candidate
            break
        else:
            raise error(f"cannot write {given}: could not create a temporary file in {target.parent}")
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        if "b" in mode:
            fh = os.fdopen(fd, mode)
        else:
            fh = os.fdopen(fd, mode, encoding=encoding or "utf-8", newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise error(f"cannot write {given}: {reason}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def atomic_write(path: str | os.PathLike, data: bytes | str, *, error: type[GDStudioError] = FileAccessError,
                 encoding: str = "utf-8") -> Path:
    """Write ``data`` (bytes, or text as ``encoding``) atomically; returns the path as given."""
    blob = data.encode(encoding) if isinstance(data, str) else bytes(data)
    with atomic_writer(path, error=error) as fh:
        fh.write(blob)
    return Path(os.fspath(path))
