"""A real PgBouncer in transaction pooling mode in front of the test server.

Debian's ``pgbouncer`` package (``.ci/run`` installs it). Clients connect over TCP on
127.0.0.1 without a password (``auth_type = trust``); PgBouncer connects to the server with
the test server's own DSN. As root (a container), PgBouncer refuses to run unless told which
user to become: then it runs as the owner of the server's socket directory (the embedded
server's own user), or ``nobody``, and its files are readable by all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from psycopg import conninfo

BINARY = "pgbouncer"


def available() -> bool:
    return shutil.which(BINARY) is not None or Path("/usr/sbin/pgbouncer").exists()


def _binary() -> str:
    return shutil.which(BINARY) or "/usr/sbin/pgbouncer"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ini_value(value: str) -> str:
    return value.replace("'", "")  # the server DSNs the tests use hold no quotes


@contextlib.contextmanager
def transaction_pooler(server_dsn: str, pool_size: int = 4) -> Iterator[str]:
    """Start PgBouncer (pool_mode = transaction) in front of ``server_dsn``'s database;
    yield a DSN that goes through it."""
    params = conninfo.conninfo_to_dict(server_dsn)
    dbname = str(params["dbname"])
    user = str(params.get("user") or os.environ.get("USER") or "postgres")
    target = " ".join(
        f"{key}={_ini_value(str(params[key]))}"
        for key in ("host", "port", "user", "password")
        if params.get(key)
    )
    root = Path(tempfile.mkdtemp(prefix="infra-monitoring-pgbouncer-"))
    port = _free_port()
    (root / "users.txt").write_text(f'"{user}" ""\n')
    (root / "pgbouncer.ini").write_text(
        f"""[databases]
{dbname} = {target} dbname={dbname}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 50
server_reset_query =
logfile = {root / "pgbouncer.log"}
pidfile =
"""
    )
    os.chmod(root, 0o755)
    command = [_binary(), "-q"]
    if os.geteuid() == 0:
        host = str(params.get("host") or "")
        owner = Path(host).owner() if host.startswith("/") else "nobody"
        command += ["-u", owner]
        (root / "pgbouncer.log").touch()
        shutil.chown(root / "pgbouncer.log", user=owner)
    process = subprocess.Popen([*command, str(root / "pgbouncer.ini")])
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "pgbouncer.log").read_text(errors="replace")
                raise RuntimeError(f"pgbouncer did not start: {log[-2000:]}")
            time.sleep(0.05)
        yield conninfo.make_conninfo(host="127.0.0.1", port=str(port), dbname=dbname, user=user)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
