"""Shared leaf: reading and writing the user's files without being led astray.

Every file the tool writes (reports and their keyframe folders, the JPEGs of
``provenance frames``, index exports) goes through `write_file` or
`atomic_writer`: the bytes go to a fresh name created with ``O_EXCL`` and
``O_NOFOLLOW`` in the target's own folder, then are renamed over the target.
A symlink planted where the output goes (an output folder unpacked from an
archive is enough) is refused, never followed, so nothing outside the folder
is written. Every document the tool reads whole (reports, claim files,
articles, sidecars) goes through `read_bounded`: only a regular file, at most
its size limit, so a named pipe or ``/dev/zero`` cannot hang or exhaust it::

    >>> write_file(Path("out/report.md"), b"# report")
    >>> read_bounded(Path("out/report.md"), what="report", limit=1 << 20,
    ...              expected="a report", too_large="give a smaller one")
    b'# report'
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import BadInputError

#: Mode of the files written (before the umask), as `open()` would create them.
FILE_MODE = 0o666
#: Mode of the folders made for an output (before the umask).
FOLDER_MODE = 0o777


def _refuse(path: Path, what: str, exc: OSError | None = None) -> BadInputError:
    """The one-line refusal of an output path (exit 2)."""
    if exc is None:
        return BadInputError(f"{path}: {what}; remove it or choose another output")
    return BadInputError(f"{path}: {what} ({exc.strerror}); choose another output or free some space")


def _open_folder(path: Path, *, follow: bool = True, parent_fd: int | None = None, make: bool = False) -> int:
    """A descriptor of the folder `path` (made when missing and `make`), never through a symlink unless `follow`.

    `follow` is for the folder the user named; folders below it (`parent_fd`
    and a bare name) are opened with ``O_NOFOLLOW``.
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    name = str(path) if parent_fd is None else path.name
    if make:
        try:
            os.mkdir(name, FOLDER_MODE, dir_fd=parent_fd)
        except FileExistsError:
            pass
        except OSError as exc:
            raise _refuse(path, "the folder cannot be made", exc) from exc
    try:
        return os.open(name, flags, dir_fd=parent_fd)
    except OSError as exc:
        if parent_fd is not None and _is_link(parent_fd, path.name):
            raise _refuse(path, "is a symbolic link, not a folder; refusing to write through it") from exc
        raise _refuse(path, "cannot be opened as a folder", exc) from exc


def _is_link(folder_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _folder_of(path: Path, *, base: Path | None, make: bool) -> int:
    """A descriptor of the folder `path` goes in: `base` as named (symlinks followed), each level below it not."""
    if base is None:
        return _open_folder(path.parent)
    fd = _open_folder(base)
    try:
        for part in path.parent.relative_to(base).parts:
            here = base / part
            inner = _open_folder(here, follow=False, parent_fd=fd, make=make)
            os.close(fd)
            fd = inner
            base = here
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def atomic_writer(path: Path | str, *, base: Path | str | None = None, make: bool = False) -> Iterator[BinaryIO]:
    """A binary file that replaces `path` when the block ends without error, and is removed otherwise.

    The data go to ``.NAME.RANDOM.tmp`` in the same folder, created with
    ``O_CREAT | O_EXCL | O_NOFOLLOW``; it is renamed over `path` (a rename
    replaces a name, it never follows a link). A symlink already at `path`
    is refused, as is one at any folder level below `base`.

    Args:
        path: the file to write.
        base: the folder the user named (followed as named); the folders
            between it and `path` must be real folders (made when `make`).
            None: only `path.parent`, followed as named.
        make: create the missing folders below `base`.

    Raises:
        BadInputError: `path` or a folder below `base` is a symbolic link or cannot be written (exit 2).
    """
    target = Path(path)
    folder = _folder_of(target, base=Path(base) if base is not None else None, make=make)
    tmp = f".{target.name[:200]}.{secrets.token_hex(6)}.tmp"
    try:
        if _is_link(folder, target.name):
            raise _refuse(target, "is a symbolic link; refusing to write through it")
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE, dir_fd=folder
            )
        except OSError as exc:
            raise _refuse(target, "cannot be written", exc) from exc
        try:
            with open(fd, "wb") as handle:
                yield handle
            os.replace(tmp, target.name, src_dir_fd=folder, dst_dir_fd=folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=folder)
            raise _refuse(target, "cannot be written", exc) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=folder)
            raise
    finally:
        os.close(folder)


def refuse_link(path: Path | str) -> None:
    """Refuse (exit 2) an output path that is a symbolic link, before any work is written beside it.

    Raises:
        BadInputError: `path` is a symbolic link.
    """
    target = Path(path)
    if target.is_symlink():
        raise _refuse(target, "is a symbolic link; refusing to write through it")


def write_file(path: Path | str, data: bytes, *, base: Path | str | None = None, make: bool = False) -> None:
    """Write `data` to `path` whole or not at all, never through a symlink (see `atomic_writer`).

    Raises:
        BadInputError: `path` is a symbolic link or cannot be written (exit 2).
    """
    with atomic_writer(path, base=base, make=make) as handle:
        handle.write(data)


def read_bounded(path: Path, *, what: str, limit: int, expected: str, too_large: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (a report, an article, a claim file, a sidecar).

    A named pipe, a device or a folder is refused before anything blocks on
    it (it is opened with ``O_NONBLOCK`` and checked on the open descriptor),
    and never more than `limit` bytes are read, even from a file that grows.

    Raises:
        BadInputError: missing, not a regular file, larger than `limit`, or unreadable; the
            message names the file, says what it is (`what`) and the next step.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise BadInputError(f"{path}: {what} not found, cannot be read ({exc.strerror}); check the path") from exc
    except IsADirectoryError as exc:
        raise BadInputError(f"{path}: a folder, not a regular file; give {expected}") from exc
    except OSError as exc:
        raise BadInputError(
            f"{path}: {what} cannot be read ({exc.strerror}); check the path and its permissions"
        ) from exc
    with open(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadInputError(f"{path}: not a regular file; give {expected}")
        if info.st_size > limit:
            raise BadInputError(f"{path}: {what} of {info.st_size} bytes is larger than {limit}; {too_large}")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise BadInputError(f"{path}: {what} cannot be read ({exc.strerror}); check its permissions") from exc
    if len(data) > limit:
        raise BadInputError(f"{path}: {what} is larger than {limit} bytes; {too_large}")
    return data
