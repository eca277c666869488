"""Files the jobs write for people: written whole or not at all, and the GitHub job summary.

An output option never destroys what is not ours. A regular file (or a new name) is
replaced through a temporary file beside it (``tempfile``: unpredictable name, ``O_EXCL``,
never following a symlink) and one rename. A character device or FIFO (``/dev/null``,
``/dev/stdout`` when it is a pipe or a terminal, a named pipe) is written in place, never
replaced. A symbolic link that leads to a regular file or nowhere, a directory, a block
device or a socket is refused: following a link planted at the output name would let
whoever planted it choose which file we replace.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from jobs.errors import ConfigError
from jobs.text import terminal

_REFUSED = {
    stat.S_IFDIR: "is a directory, expected a file name",
    stat.S_IFBLK: "is a block device, expected a regular file",
    stat.S_IFSOCK: "is a socket, expected a regular file",
}


def _is_stream(mode: int) -> bool:
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _in_place(path: Path, option: str) -> bool:
    """True when ``path`` is a device or FIFO to write in place; False when it is a regular
    file (or nothing yet) to replace; ConfigError, naming ``option``, for anything else."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise ConfigError(f"{option} {path}: {exc.strerror or exc}") from None
    if found is not None and stat.S_ISLNK(found.st_mode):
        try:
            followed = os.stat(path)
        except OSError:
            followed = None
        if followed is None or not _is_stream(followed.st_mode):
            raise ConfigError(
                f"{option} {path}: is a symbolic link (to {os.readlink(path)}); "
                "name the file itself, not a link to it"
            )
        return True
    if found is not None:
        kind = stat.S_IFMT(found.st_mode)
        if kind in _REFUSED:
            raise ConfigError(f"{option} {path}: {_REFUSED[kind]}")
        if _is_stream(found.st_mode):
            return True
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"{option} {path}: directory {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: directory {folder} is not writable")
    return False


def check_writable(path: Path, option: str) -> None:
    """Fail early, naming ``option``, when ``path`` cannot become a file we write."""
    _in_place(path, option)


def write_atomically(path: Path, text: str, option: str) -> None:
    """Write ``text`` to ``path``: a regular file is replaced whole (readers see the old file
    or the new one, a failure leaves no temporary file behind); a device or FIFO is written
    in place."""
    try:
        if _in_place(path, option):
            _write_in_place(path, text)
        else:
            _replace(path, text, option)
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot write: {exc.strerror or exc}") from None


def _write_in_place(path: Path, text: str) -> None:
    # No O_CREAT, no O_TRUNC: if the device was swapped for something else meanwhile, opening
    # it changes nothing, and the check after opening refuses to write.
    handle = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        if not _is_stream(os.fstat(handle).st_mode):
            raise OSError(0, "it changed while we wrote (no longer a device or FIFO)")
        out.write(text)


def _replace(path: Path, text: str, option: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            os.fchmod(handle, 0o644)
            out.write(text)
        if _in_place(path, option):  # became a device or FIFO while we wrote: not ours
            raise OSError(0, "it became a device or FIFO while we wrote")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class InertStream:
    """A text stream that shows control characters as escapes instead of letting them act
    (``jobs.text.terminal``): everything the CLI prints goes through it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(terminal(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextlib.contextmanager
def inert_terminal() -> Iterator[None]:
    """Route ``sys.stdout`` and ``sys.stderr`` through ``InertStream`` for the duration; a
    name or value with undecodable bytes is shown escaped too, never a crash."""
    saved = sys.stdout, sys.stderr
    for stream in saved:
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    sys.stdout, sys.stderr = InertStream(saved[0]), InertStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> bool:
    """Append to ``$GITHUB_STEP_SUMMARY`` when set; a failure is a warning, not an error
    (the job's own output is already written). True when something was appended."""
    target = (os.environ if env is None else env).get("GITHUB_STEP_SUMMARY", "").strip()
    if not target:
        return False
    try:
        with open(target, "a", encoding="utf-8") as out:
            out.write(markdown)
    except OSError as exc:
        print(f"warning: cannot write GITHUB_STEP_SUMMARY ({exc.strerror})", file=sys.stderr)
        return False
    return True
