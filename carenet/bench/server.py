"""gunicorn started by a benchmark: a free loopback port, waited for until it answers.

``carenet bench search`` (HTTP figures) and ``carenet bench load`` both serve the
app this way, as docs/operations.md runs it in production.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> int:
    """GET ``path`` on loopback ``port``; the status code."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@contextmanager
def gunicorn(
    env: dict[str, str], workers: int, threads: int = 1, log: Path | None = None
) -> Iterator[int]:
    """gunicorn serving ``carenet:create_app()`` with ``env`` added to this environment.

    Yields the port once ``/healthz`` answers (at most 60 s); gunicorn's error log
    goes to ``log`` when given. Stopped (terminated, then killed) on exit."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("gunicorn")), "-w", str(workers),
               "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
               "--error-logfile", "-", "carenet:create_app()"]  # fmt: skip
    with log.open("ab") if log else open(os.devnull, "wb") as errors:
        process = subprocess.Popen(
            command, env=dict(os.environ, **env), stdout=errors if log else None, stderr=errors
        )
    try:
        _wait_until_serving(process, port, log)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(process: subprocess.Popen[bytes], port: int, log: Path | None) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            get(port, "/healthz")
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"gunicorn did not start; see {log or 'its output'}") from None
            time.sleep(0.2)
