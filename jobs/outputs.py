"""Files the jobs write for people: written whole or not at all, and the GitHub job summary."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from jobs.errors import ConfigError


def check_writable(path: Path, option: str) -> None:
    """Fail early, naming ``option``, when ``path`` cannot become a file we write."""
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a directory, expected a file name")
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"{option} {path}: directory {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: directory {folder} is not writable")


def write_atomically(path: Path, text: str, option: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place.

    Readers see the old file or the whole new one, never a part; a failure leaves no
    temporary file behind.
    """
    check_writable(path, option)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ConfigError(f"{option} {path}: cannot write: {exc.strerror or exc}") from None


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
