"""monitoring: monitor runs, warnings and the months each warning fired

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WARNING_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('monitor_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('engine', sa.String(length=16), nullable=False),
    sa.Column('catalogue_digest', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('peak_rss_bytes', sa.BigInteger(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_runs'))
    )
    op.create_index('ix_monitor_runs_month', 'monitor_runs', ['month', 'id'], unique=False)

    op.create_table('warnings',
    sa.Column('id', WARNING_ID, nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('last_month', sa.String(length=7), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('need', sa.String(length=32), nullable=True),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('household_no', sa.String(length=64), nullable=True),
    sa.Column('region_code', sa.String(length=14), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('first_run_id', sa.Integer(), nullable=False),
    sa.Column('last_run_id', sa.Integer(), nullable=False),
    sa.Column('fired_months', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['first_run_id'], ['monitor_runs.id'],
                            name=op.f('fk_warnings_first_run_id_monitor_runs')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'],
                            name=op.f('fk_warnings_household_id_households')),
    sa.ForeignKeyConstraint(['last_run_id'], ['monitor_runs.id'],
                            name=op.f('fk_warnings_last_run_id_monitor_runs')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_warnings_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warnings')),
    sa.UniqueConstraint('rule', 'id_number', 'month', name='uq_warnings_rule_person_month')
    )
    op.create_index('ix_warnings_region_status', 'warnings', ['region_code', 'status'], unique=False)
    op.create_index('ix_warnings_status', 'warnings', ['status', 'id'], unique=False)
    op.create_index('ix_warnings_month', 'warnings', ['month', 'id'], unique=False)

    op.create_table('warning_firings',
    sa.Column('warning_id', WARNING_ID, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['monitor_runs.id'],
                            name=op.f('fk_warning_firings_run_id_monitor_runs')),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'],
                            name=op.f('fk_warning_firings_warning_id_warnings')),
    sa.PrimaryKeyConstraint('warning_id', 'month', name=op.f('pk_warning_firings'))
    )
    op.create_index('ix_warning_firings_month', 'warning_firings', ['month', 'warning_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_warning_firings_month', table_name='warning_firings')
    op.drop_table('warning_firings')
    op.drop_index('ix_warnings_month', table_name='warnings')
    op.drop_index('ix_warnings_status', table_name='warnings')
    op.drop_index('ix_warnings_region_status', table_name='warnings')
    op.drop_table('warnings')
    op.drop_index('ix_monitor_runs_month', table_name='monitor_runs')
    op.drop_table('monitor_runs')
