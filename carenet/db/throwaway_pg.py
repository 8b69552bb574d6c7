"""A throwaway PostgreSQL + PostGIS cluster for tests and benchmarks.

Started with the Debian server binaries in a temporary directory, listening on
a free loopback port, and removed when stopped. PostgreSQL refuses to run as
root, so as root the cluster runs as the ``postgres`` system user.

Run it by hand: ``python -m carenet.db.throwaway_pg start DIR`` prints the URL,
``python -m carenet.db.throwaway_pg stop DIR`` removes it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ClusterError(RuntimeError):
    """The throwaway cluster could not be started."""


def find_pg_bin() -> Path:
    """The newest installed PostgreSQL server ``bin`` directory that has PostGIS."""
    override = os.environ.get("CARENET_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]),
        reverse=True,
    )
    for initdb in candidates:
        version = Path(initdb).parts[-3]
        if glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return Path(initdb).parent
    if candidates:
        raise ClusterError(
            "PostgreSQL is installed but PostGIS is not: apt-get install postgresql-postgis"
        )
    raise ClusterError("PostgreSQL is not installed: apt-get install postgresql postgresql-postgis")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class Cluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Stop the server and remove its files."""
        stop_cluster(self.directory)


def start_cluster(directory: Path | None = None) -> Cluster:
    """Create and start a cluster in ``directory`` (a new temporary one by default)."""
    pg_bin = find_pg_bin()
    directory = Path(directory or tempfile.mkdtemp(prefix="carenet-pg-"))
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "data"
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    run = _as_user()
    _check(
        run
        + [
            str(pg_bin / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        "initdb",
    )
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={directory} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        "-c max_connections=200 -c shared_buffers=256MB"
    )
    _check(
        run
        + [
            str(pg_bin / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(directory / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        "pg_ctl start",
    )
    (directory / "port").write_text(str(port))
    cluster = Cluster(directory, port)
    _wait_ready(cluster)
    return cluster


def stop_cluster(directory: Path) -> None:
    """Stop a cluster started by ``start_cluster`` and delete its directory."""
    directory = Path(directory)
    data = directory / "data"
    if data.exists():
        subprocess.run(
            _as_user()
            + [str(find_pg_bin() / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
    shutil.rmtree(directory, ignore_errors=True)


def _check(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ClusterError(f"{what} failed: {result.stderr.strip() or result.stdout.strip()}")


def _wait_ready(cluster: Cluster) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=cluster.port,
                user="postgres",
                dbname="postgres",
                connect_timeout=2,
            ):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def connect(server_url: str, database: str | None = None) -> Any:
    """An autocommit psycopg connection to ``database`` (default: the URL's own, else
    ``postgres``) on the server of the SQLAlchemy URL ``server_url``."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    return psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=database or url.database or "postgres",
        autocommit=True,
    )


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` (if it exists) on the server of ``server_url``."""
    with connect(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(server_url: str, name: str) -> str:
    """(Re)create database ``name`` with PostGIS on the server of ``server_url``; return its URL."""
    from sqlalchemy.engine import make_url

    drop_database(server_url, name)
    with connect(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with connect(server_url, name) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    url = make_url(server_url).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"start", "stop"}:
        print("usage: python -m carenet.db.throwaway_pg start|stop DIR", file=sys.stderr)
        return 2
    try:
        if argv[0] == "start":
            print(start_cluster(Path(argv[1])).url)
        else:
            stop_cluster(Path(argv[1]))
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
