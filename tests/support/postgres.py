"""A throwaway PostgreSQL server on a temp dir, for tests that need the real thing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; CI runs as root, so drop to `postgres`."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@contextmanager
def postgres_server(root: Path) -> Iterator[str]:
    """Yields a SQLAlchemy URL for a fresh database; stops the server afterwards."""
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.fail("PostgreSQL binaries (initdb, pg_ctl) are not on PATH; "
                    ".ci/run installs them")
    root.mkdir(parents=True, exist_ok=True)
    data = root / "pgdata"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()
    subprocess.run(_as_postgres_user(["initdb", "-D", str(data), "-U", "atlantis",
                                      "--auth=trust", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True, timeout=120)
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c max_connections=200")
    (root / _OPTIONS).write_text(options)
    _start(root)
    try:
        yield f"postgresql+psycopg://atlantis@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres_user(["pg_ctl", "-D", str(data), "-m", "immediate",
                                          "stop"]), capture_output=True, timeout=60, check=False)


def fresh_database(base_url: str, name: str) -> str:
    """CREATE DATABASE name on the server, returning its URL."""
    import psycopg

    dsn = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + f"/{name}"


_OPTIONS = "postgres.options"


def _start(root: Path) -> None:
    subprocess.run(_as_postgres_user([
        "pg_ctl", "-D", str(root / "pgdata"), "-l", str(root / "postgres.log"), "-w",
        "-t", "60", "-o", (root / _OPTIONS).read_text(), "start"]),
        check=True, capture_output=True, timeout=90)


def stop_postgres(root: Path) -> None:
    """Stop the server `postgres_server(root)` started, until `start_postgres`."""
    subprocess.run(_as_postgres_user(["pg_ctl", "-D", str(root / "pgdata"), "-m", "fast",
                                      "-w", "-t", "60", "stop"]),
                   check=True, capture_output=True, timeout=90)


def start_postgres(root: Path) -> None:
    """Start a server `stop_postgres` stopped, on the same port."""
    _start(root)


def restart_postgres(root: Path) -> None:
    """Restart the server `postgres_server(root)` started: every connection drops."""
    subprocess.run(_as_postgres_user(["pg_ctl", "-D", str(root / "pgdata"), "-m", "fast",
                                      "-l", str(root / "postgres.log"), "-w", "-t", "60",
                                      "restart"]),
                   check=True, capture_output=True, timeout=120)
