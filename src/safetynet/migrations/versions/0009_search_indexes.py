"""search indexes: person name (prefix), id number last 4, person tiers by household,
households by region then number, household tiers by tier

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 14:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_persons_name', 'persons', ['name'], unique=False,
                    postgresql_ops={'name': 'varchar_pattern_ops'})
    op.create_index('ix_persons_id_last4', 'persons', [sa.text('substr(id_number, 15, 4)')],
                    unique=False)
    op.create_index('ix_person_tiers_household', 'person_tiers', ['household_id', 'until'],
                    unique=False)
    op.create_index('ix_households_region_no', 'households', ['region_code', 'household_no'],
                    unique=False)
    op.create_index('ix_household_tiers_tier_current', 'household_tiers',
                    ['tier', 'until', 'household_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_household_tiers_tier_current', table_name='household_tiers')
    op.drop_index('ix_households_region_no', table_name='households')
    op.drop_index('ix_person_tiers_household', table_name='person_tiers')
    op.drop_index('ix_persons_id_last4', table_name='persons')
    op.drop_index('ix_persons_name', table_name='persons')
