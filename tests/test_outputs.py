"""Output options never destroy what is not ours: devices and FIFOs are written in place,
links to files and other special files are refused, temporary files are created safely."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs import outputs
from jobs.errors import ConfigError
from tests.support.cli import run

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="creating device nodes needs root")


def char_device(path: Path) -> Path:
    """A node for the kernel's null device (major 1, minor 3): /dev/null's twin, so that a
    broken implementation replaces this node, never the machine's /dev/null."""
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return path


@as_root
def test_a_character_device_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    null = char_device(tmp_path / "null")
    before = os.lstat(null)
    outputs.write_atomically(null, "<html>report</html>", "--out")
    after = os.lstat(null)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def reader() -> None:
        with open(path, "rb") as fifo:
            into.append(fifo.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    return thread


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    thread = read_fifo(fifo, received)
    outputs.write_atomically(fifo, "summary ✓\n", "--markdown")
    thread.join(timeout=10)
    assert received == ["summary ✓\n".encode()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_link_to_a_fifo_is_written_through(tmp_path: Path) -> None:
    """As ``--out /dev/stdout`` is when stdout is a pipe."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"
    link.symlink_to(fifo)
    received: list[bytes] = []
    thread = read_fifo(fifo, received)
    outputs.write_atomically(link, "through", "--out")
    thread.join(timeout=10)
    assert received == [b"through"]
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_link_to_a_file_is_refused_and_both_stay(tmp_path: Path) -> None:
    victim = tmp_path / "victim.conf"
    victim.write_text("precious")
    link = tmp_path / "report.html"
    link.symlink_to(victim)
    with pytest.raises(ConfigError) as refused:
        outputs.check_writable(link, "--out")
    assert str(refused.value) == (
        f"--out {link}: is a symbolic link (to {victim}); name the file itself, not a link to it"
    )
    with pytest.raises(ConfigError, match="is a symbolic link"):
        outputs.write_atomically(link, "evil", "--out")
    assert victim.read_text() == "precious" and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "victim.conf"]


def test_a_dangling_link_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    link = tmp_path / "report.html"
    link.symlink_to(tmp_path / "created-elsewhere")
    with pytest.raises(ConfigError, match="is a symbolic link"):
        outputs.write_atomically(link, "evil", "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


@as_root
def test_a_block_device_is_refused(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    os.mknod(disk, stat.S_IFBLK | 0o600, os.makedev(7, 200))
    with pytest.raises(ConfigError) as refused:
        outputs.write_atomically(disk, "x", "--out")
    assert str(refused.value) == f"--out {disk}: is a block device, expected a regular file"
    assert stat.S_ISBLK(os.lstat(disk).st_mode)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory, expected a file name"):
        outputs.write_atomically(tmp_path, "x", "--out")


def test_a_regular_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")
    outputs.write_atomically(target, "new", "--out")
    assert target.read_text() == "new" and not target.is_symlink()
    assert stat.S_IMODE(os.lstat(target).st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


@pytest.fixture
def first_temporary_name(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Make tempfile's first candidate name known, as an attacker who guessed it would."""
    names = iter(["guessed", "random1", "random2"])

    class Candidates:
        def __iter__(self) -> Candidates:
            return self

        def __next__(self) -> str:
            return next(names)

    monkeypatch.setattr(tempfile, "_get_candidate_names", Candidates)
    yield "guessed"


def test_a_link_planted_at_the_temporary_name_is_not_followed(
    tmp_path: Path, first_temporary_name: str
) -> None:
    victim = tmp_path / "victim.conf"
    victim.write_text("precious")
    target = tmp_path / "report.html"
    planted = tmp_path / f".report.html.{first_temporary_name}.tmp"
    planted.symlink_to(victim)
    outputs.write_atomically(target, "the report", "--out")
    assert victim.read_text() == "precious" and planted.is_symlink()
    assert target.read_text() == "the report"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [planted.name, "report.html", "victim.conf"]
    )


# -- through the commands ---------------------------------------------------------------


def test_prisma_output_ignores_a_link_at_the_old_predictable_name(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    empty_db: str,
    tmp_path: Path,
) -> None:
    """The temporary name was ``.<name>.<pid>.tmp``: a link planted there was written through."""
    monkeypatch.setenv("DATABASE_URL", empty_db)
    victim = tmp_path / "victim.conf"
    victim.write_text("precious")
    target = tmp_path / "infrastructure.prisma"
    (tmp_path / f".{target.name}.{os.getpid()}.tmp").symlink_to(victim)
    assert run(capsys, "prisma-schema", "--output", str(target))[0] == 0
    assert victim.read_text() == "precious"
    assert "model InfrastructureMetric" in target.read_text()


@as_root
def test_prisma_output_to_a_device_keeps_the_device(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    empty_db: str,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db)
    null = char_device(tmp_path / "null")
    assert run(capsys, "prisma-schema", "--output", str(null)) == (0, "", f"wrote {null}\n")
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_report_refuses_a_link_before_any_work(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    victim = tmp_path / "victim.html"
    victim.write_text("precious")
    link = tmp_path / "report.html"
    link.symlink_to(victim)
    code, out, err = run(capsys, "report", "--out", str(link))
    assert (code, out) == (2, "")
    assert err == (
        f"error: --out {link}: is a symbolic link (to {victim}); "
        "name the file itself, not a link to it\n"
    )
    assert victim.read_text() == "precious"
