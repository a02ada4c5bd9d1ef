"""a tamper-evident audit log: each row hash-chained to the one before, and the chain's head

`audit_log` gains `prev_hash` and `hash` (HMAC-SHA256 with a key derived from the server's
secret key, see audit/chain.py); `audit_chain_head` holds the last row's id and hash. The rows
written before are chained here in id order, which needs the server key (SAFETYNET_SECRET_KEY
or <data_dir>/secret.key, created if missing). The append-only triggers of 0008 are dropped
for that one UPDATE and created again.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_TRIGGER = ("CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
_SQLITE_TRIGGER = ("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END")


def _without_update_trigger(work) -> None:  # noqa: ANN001
    """Run `work` with audit_log's UPDATE trigger dropped (inside the migration's transaction:
    no other writer sees the table without it)."""
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.execute("DROP TRIGGER audit_log_no_update_delete ON audit_log" if postgres
               else "DROP TRIGGER audit_log_no_update")
    work()
    op.execute(_PG_TRIGGER if postgres else _SQLITE_TRIGGER)


def upgrade() -> None:
    from safetynet.audit import chain

    op.add_column('audit_log', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_table(
        'audit_chain_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('last_id', sa.BigInteger(), nullable=False),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.Column('head_mac', sa.String(length=64), nullable=False),
        sa.Column('key_check', sa.String(length=64), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_head_one_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head')),
    )
    _without_update_trigger(lambda: chain.chain_existing(op.get_bind()))


def downgrade() -> None:
    op.drop_table('audit_chain_head')
    # plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch rebuild would lose the triggers
    op.execute("ALTER TABLE audit_log DROP COLUMN hash")
    op.execute("ALTER TABLE audit_log DROP COLUMN prev_hash")
