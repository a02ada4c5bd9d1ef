"""verification: the families' authorisations for economic-condition verification

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'verification_authorisations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('signed_on', sa.Date(), nullable=False),
        sa.Column('scope', sa.JSON(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('signer_name', sa.String(length=64), nullable=False),
        sa.Column('document_ref', sa.String(length=255), nullable=False),
        sa.Column('recorded_by', sa.String(length=128), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'],
                                name=op.f('fk_verification_authorisations_household_id_households')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_authorisations')),
    )
    with op.batch_alter_table('verification_authorisations', schema=None) as batch_op:
        batch_op.create_index('ix_verification_authorisations_household', ['household_id', 'signed_on'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('verification_authorisations', schema=None) as batch_op:
        batch_op.drop_index('ix_verification_authorisations_household')
    op.drop_table('verification_authorisations')
