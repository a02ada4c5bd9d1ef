"""feed index in the lake: feed_lake_files replaces the per-row feed_records table

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:30:00

Each committed lake file is registered in `feed_lake_files`; the per-row record index
(`feed_records`) moves into the lake files themselves (`content_digest` column next to
`record_id` and `version`). Upgrade registers the files the ledger already lists and writes
the digests of `feed_records` into them; downgrade recreates `feed_records` from the lake
files that still exist.
"""
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _add_digests(path: Path, digests: dict[str, str]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    if "content_digest" not in t.column_names:
        t = t.append_column("content_digest", pa.array(
            [digests.get(r) for r in t.column("record_id").to_pylist()], pa.string()))
        tmp = path.with_name(f".{path.name}.0007.tmp")
        pq.write_table(t, tmp)
        tmp.replace(path)
    return t.num_rows


def upgrade() -> None:
    op.create_table('feed_lake_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('load_id', sa.Integer(), nullable=False),
    sa.Column('feed', sa.String(length=32), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['load_id'], ['feed_loads.id'],
                            name=op.f('fk_feed_lake_files_load_id_feed_loads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_lake_files')),
    sa.UniqueConstraint('path', name=op.f('uq_feed_lake_files_path'))
    )
    with op.batch_alter_table('feed_lake_files', schema=None) as batch_op:
        batch_op.create_index('ix_feed_lake_files_feed', ['feed', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feed_lake_files_load_id'), ['load_id'], unique=False)

    conn = op.get_bind()
    loads = conn.execute(sa.text(
        "SELECT id, feed, month, file_name, lake_path, finished_at, started_at FROM feed_loads "
        "WHERE status = 'loaded' AND lake_path IS NOT NULL ORDER BY id")).mappings().all()
    files = sa.table('feed_lake_files', *(sa.column(c) for c in (
        'load_id', 'feed', 'month', 'kind', 'path', 'rows', 'created_at')))
    for load in loads:
        digests = {r[0]: r[1] for r in conn.execute(sa.text(
            "SELECT record_id, content_digest FROM feed_records WHERE load_id = :i"), {"i": load["id"]})}
        path = Path(load["lake_path"])
        rows = _add_digests(path, digests) if path.is_file() else len(digests)
        conn.execute(sa.insert(files).values(
            load_id=load["id"], feed=load["feed"], month=load["month"],
            kind="linkage" if load["file_name"].startswith("linkage:") else "load",
            path=load["lake_path"], rows=rows, created_at=load["finished_at"] or load["started_at"]))

    with op.batch_alter_table('feed_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_records_load_id'))
        batch_op.drop_index('ix_feed_records_feed_record')
    op.drop_table('feed_records')


def downgrade() -> None:
    op.create_table('feed_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('feed', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=128), nullable=False),
    sa.Column('content_digest', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('load_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['load_id'], ['feed_loads.id'], name=op.f('fk_feed_records_load_id_feed_loads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_records'))
    )
    with op.batch_alter_table('feed_records', schema=None) as batch_op:
        batch_op.create_index('ix_feed_records_feed_record', ['feed', 'record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feed_records_load_id'), ['load_id'], unique=False)

    import pyarrow.parquet as pq

    conn = op.get_bind()
    records = sa.table('feed_records', *(sa.column(c) for c in (
        'feed', 'record_id', 'content_digest', 'version', 'month', 'load_id', 'line', 'id_number',
        'is_current')))
    registered = conn.execute(sa.text(
        "SELECT load_id, feed, month, path FROM feed_lake_files ORDER BY id")).mappings().all()
    rows, top = [], {}
    for f in registered:
        if not Path(f["path"]).is_file():
            continue
        t = pq.read_table(f["path"], columns=["record_id", "content_digest", "version", "line", "id_number"])
        for r in t.to_pylist():
            rows.append({"feed": f["feed"], "month": f["month"], "load_id": f["load_id"],
                         "content_digest": r["content_digest"] or "", **{k: r[k] for k in (
                             "record_id", "version", "line", "id_number")}})
            key = (f["feed"], r["record_id"])
            top[key] = max(top.get(key, 0), r["version"])
    for r in rows:
        r["is_current"] = r["version"] == top[(r["feed"], r["record_id"])]
    if rows:
        conn.execute(sa.insert(records), rows)

    with op.batch_alter_table('feed_lake_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_lake_files_load_id'))
        batch_op.drop_index('ix_feed_lake_files_feed')
    op.drop_table('feed_lake_files')
