"""Database set-up shared by both backends (SpatiaLite and PostGIS)."""

from carenet.db.engine import backend_name, engine_options, install_connect_hooks

__all__ = ["backend_name", "engine_options", "install_connect_hooks"]
