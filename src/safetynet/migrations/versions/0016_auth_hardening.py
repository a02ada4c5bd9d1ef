"""login throttling and single-use second-factor codes: per-account-and-address failure counts
(login_failures), per-address attempt windows (login_rate), the account-wide failure window
(users.failures_since) and the last accepted TOTP time step (users.totp_last_step)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column('users', sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.add_column('users', sa.Column('failures_since', _TS, nullable=True))
    # the old count was per account from any address; the new one starts clean (a lock in force
    # stays in force through users.locked_until)
    op.execute(sa.text("UPDATE users SET failed_attempts = 0"))
    op.create_table(
        'login_failures',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locked_until', _TS, nullable=True),
        sa.Column('updated_at', _TS, nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_failures_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'client', name=op.f('pk_login_failures')),
    )
    op.create_table(
        'login_rate',
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('window_start', _TS, nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('client', 'window_start', name=op.f('pk_login_rate')),
    )
    op.create_index('ix_login_rate_window_start', 'login_rate', ['window_start'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_rate_window_start', table_name='login_rate')
    op.drop_table('login_rate')
    op.drop_table('login_failures')
    # plain ALTER TABLE (SQLite ≥ 3.35 has DROP COLUMN): a batch copy of `users` would drop the
    # table its sessions and audit rows refer to
    for column in ('failures_since', 'totp_last_step'):
        op.execute(sa.text(f"ALTER TABLE users DROP COLUMN {column}"))
