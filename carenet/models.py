"""Imports every domain's models so SQLAlchemy metadata (and Alembic) sees all tables."""

from carenet.directory import models as directory_models  # noqa: F401
