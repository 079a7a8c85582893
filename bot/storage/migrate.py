"""Schema migrations with Alembic, driven from code (no alembic.ini needed).

``niangjia migrate`` and the tests build the schema the same way: ``upgrade(url)``.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # '%' must be escaped for configparser (passwords may contain it).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", **attributes: str) -> None:
    """Migrate ``url`` to ``revision``; ``attributes`` (``sender_key``, ``tracker_url``) stand in
    for the settings that data migrations read otherwise."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    config = alembic_config(url)
    config.attributes.update(attributes)
    command.upgrade(config, revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
