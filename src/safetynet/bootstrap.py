"""Bring a database to the current schema and seed reference data.

Every table is created by Alembic migrations (src/safetynet/migrations), never by
`metadata.create_all`, so SQLite and PostgreSQL deployments follow the same history.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData

MIGRATIONS = Path(__file__).parent / "migrations"


def all_metadata() -> MetaData:
    """Import every capability's store so its tables are registered on the metadata."""
    import safetynet.applications.store  # noqa: F401
    import safetynet.assessment.store  # noqa: F401
    import safetynet.audit.store  # noqa: F401
    import safetynet.auth.store  # noqa: F401
    import safetynet.casework.store  # noqa: F401
    import safetynet.feeds.store  # noqa: F401
    import safetynet.linkage.store  # noqa: F401
    import safetynet.monitoring.store  # noqa: F401
    import safetynet.regions.store  # noqa: F401
    import safetynet.registry.store  # noqa: F401
    import safetynet.standards.store  # noqa: F401
    import safetynet.verification.store  # noqa: F401
    import safetynet.workdays.store  # noqa: F401
    from safetynet.db import metadata

    return metadata


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply pending migrations (idempotent)."""
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def init_database(engine: Engine) -> None:
    """Schema plus reference data every deployment needs: the official regions of China, the
    working-day calendar (the years chinese_calendar knows; administrators add later ones) and the
    closed loop's routing table."""
    from safetynet.casework import service as casework_service
    from safetynet.regions import service as regions_service
    from safetynet.workdays import service as workdays_service

    upgrade(engine)
    regions_service.seed_official(engine)
    workdays_service.seed_from_package(engine)
    with engine.begin() as conn:
        casework_service.seed_routing(conn)
