"""finer planner statistics on persons.name (PostgreSQL)

Names are very unevenly spread (a few surnames cover most people). With the default
statistics target the planner's estimate for one name prefix swung between 19 and 1,946
rows (actual 281) at 1M persons, and on a low estimate it walked every household instead
of using ix_persons_name: search p95 up to 14.8 s. With 10,000 the estimate was 279.
SQLite has no such setting: nothing to do there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 11:30:00

"""
from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_STATISTICS = 10_000  # PostgreSQL's maximum statistics target


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE persons ALTER COLUMN name SET STATISTICS {NAME_STATISTICS}")
        op.execute("ANALYZE persons")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE persons ALTER COLUMN name SET STATISTICS -1")
