"""assessment runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:15:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('assessment_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('region', sa.String(length=12), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('monthly_benefit_fen', sa.BigInteger(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('provenance', sa.JSON(), nullable=False),
    sa.Column('timings', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_runs'))
    )
    with op.batch_alter_table('assessment_runs', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_runs_month', ['month', 'id'], unique=False)

    op.create_table('assessment_results',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('household_no', sa.String(length=64), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('region_code', sa.String(length=14), nullable=False),
    sa.Column('tier', sa.String(length=24), nullable=False),
    sa.Column('benefit_fen', sa.BigInteger(), nullable=False),
    sa.Column('per_capita_income_fen', sa.BigInteger(), nullable=False),
    sa.Column('dibao_standard_fen', sa.BigInteger(), nullable=False),
    sa.Column('registered_tier', sa.String(length=24), nullable=True),
    sa.Column('change', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_assessment_results_household_id_households')),
    sa.ForeignKeyConstraint(['run_id'], ['assessment_runs.id'], name=op.f('fk_assessment_results_run_id_assessment_runs')),
    sa.PrimaryKeyConstraint('run_id', 'household_id', name=op.f('pk_assessment_results'))
    )
    with op.batch_alter_table('assessment_results', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_results_change', ['run_id', 'change', 'household_id'], unique=False)

    op.create_table('assessment_person_results',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=24), nullable=False),
    sa.Column('single_person_dibao', sa.Boolean(), nullable=False),
    sa.Column('care_level', sa.String(length=16), nullable=True),
    sa.Column('benefit_fen', sa.BigInteger(), nullable=False),
    sa.Column('registered_tier', sa.String(length=24), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_assessment_person_results_household_id_households')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_assessment_person_results_person_id_persons')),
    sa.ForeignKeyConstraint(['run_id'], ['assessment_runs.id'], name=op.f('fk_assessment_person_results_run_id_assessment_runs')),
    sa.PrimaryKeyConstraint('run_id', 'person_id', name=op.f('pk_assessment_person_results'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('assessment_person_results')
    with op.batch_alter_table('assessment_results', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_results_change')
    op.drop_table('assessment_results')
    with op.batch_alter_table('assessment_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_runs_month')
    op.drop_table('assessment_runs')
