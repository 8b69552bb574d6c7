"""Serve a test app over real HTTP (for browser tests and HTTP clients): in a thread of the
test process (``serve_app``), or under gunicorn in worker processes (``serve_gunicorn``)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def serve_app(app: Flask) -> Iterator[str]:
    """Serve ``app`` from a thread on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def serve_gunicorn(database_url: str, instance_dir: Path, workers: int = 2) -> Iterator[str]:
    """``carenet:create_app()`` under gunicorn as production runs it (docs/operations.md):
    ``workers`` processes with production settings on ``database_url``, on a free loopback
    port; yields its base URL. Plain HTTP on loopback stands for the TLS proxy (cookies
    without ``Secure``). gunicorn's log goes to ``instance_dir/gunicorn.log``."""
    from carenet.bench.server import gunicorn

    env = {
        "CARENET_DATABASE_URL": database_url,
        "CARENET_ENV": "production",
        "CARENET_SECRET_KEY": secrets.token_hex(32),
        "CARENET_SECURE_COOKIES": "0",
        "CARENET_INSTANCE_DIR": str(instance_dir),
    }
    with gunicorn(env, workers, 1, instance_dir / "gunicorn.log") as port:
        yield f"http://127.0.0.1:{port}"
