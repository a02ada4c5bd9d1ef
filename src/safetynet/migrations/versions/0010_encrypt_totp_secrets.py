"""encrypt TOTP secrets at rest: widen users.totp_secret and encrypt the plain-text ones

The encrypted form (`v1:` + base64 of nonce, ciphertext and tag, see auth/encryption.py)
is longer than the 32-character base32 seed, hence the wider column. Plain-text seeds
stored before are encrypted with the server's key (SAFETYNET_SECRET_KEY or
<data_dir>/secret.key, created if missing); a database without TOTP users needs no key.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 10:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String),
                  sa.column('totp_secret', sa.String))


def _stored_secrets() -> list:
    bind = op.get_bind()
    return bind.execute(sa.select(_users.c.id, _users.c.username, _users.c.totp_secret)
                        .where(_users.c.totp_secret.is_not(None))).all()


def _set_width(old: int, new: int) -> None:
    # SQLite does not enforce VARCHAR lengths, and rebuilding `users` there (batch mode) would
    # fight the foreign key from `sessions`: only PostgreSQL needs the ALTER.
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('users', 'totp_secret', existing_type=sa.String(length=old),
                        type_=sa.String(length=new), existing_nullable=True)


def upgrade() -> None:
    from safetynet.auth import encryption

    _set_width(64, 200)
    rows = [r for r in _stored_secrets() if not encryption.is_encrypted(r.totp_secret)]
    if not rows:
        return
    key = encryption.load_key(create=True)
    for r in rows:
        sealed = encryption.encrypt(r.totp_secret, context=encryption.totp_context(r.username), key=key)
        op.get_bind().execute(sa.update(_users).where(_users.c.id == r.id).values(totp_secret=sealed))


def downgrade() -> None:
    from safetynet.auth import encryption

    rows = [r for r in _stored_secrets() if encryption.is_encrypted(r.totp_secret)]
    if rows:
        key = encryption.load_key()
        for r in rows:
            plain = encryption.decrypt(r.totp_secret, context=encryption.totp_context(r.username), key=key)
            op.get_bind().execute(sa.update(_users).where(_users.c.id == r.id).values(totp_secret=plain))
    _set_width(200, 64)
