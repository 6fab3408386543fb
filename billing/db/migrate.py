"""Apply Alembic migrations (billbot db upgrade); tests call the same function."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from billing.db.engine import ROOT


def alembic_config(url: str) -> Config:
    """Alembic configuration for url using the project's alembic.ini and migrations folder."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(ROOT) / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Runs the Alembic migrations on the database at url up to revision (all heads by default)."""
    command.upgrade(alembic_config(url), revision)
