"""lake file paths relative to the data folder

Lake files were registered (`feed_lake_files.path`, `feed_loads.lake_path`) by the path they were
written to: absolute, or relative to the working directory when the data folder was set as a
relative path (the default `data`). A copy of the data folder then named the original's files: an
ingest in the copy deleted the copy's own lake files as orphans, and removing the original lost
those rows. From this revision they are registered relative to the data folder (feeds/lake_paths.py).

What the upgrade does with each stored path, against the data folder of the process that runs it
(`SAFETYNET_DATA_DIR`, default `./data`):
- a path in the data folder becomes relative to it (`lake/medical/month=2025-10/load-….parquet`);
- an absolute path outside it stays as it is (a lake kept elsewhere; readers still take absolute
  paths, and look for a file that is not there at its place `FEED/month=…/FILE` under the lake
  folder they are given);
- a relative path outside it was relative to the working directory: it becomes that absolute path
  (what the code before this revision read), so it is not mistaken for one in the data folder;
- a path whose new form another row already has (a store that registered one file twice, under
  two spellings) stays as it is.
Run it with the data folder the store belongs to; if it ran with another one, nothing is lost: the
old absolute paths are still read, and the orphan clean-up keeps every file at a registered place.

The downgrade makes relative paths absolute in the data folder it runs with, which is how the code
before this revision reads them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 21:00:00

"""
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | Sequence[str] | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, unique): the lake files' register and the load ledger's copy of the path
_COLUMNS = (('feed_lake_files', 'path', True), ('feed_loads', 'lake_path', False))


def _data_folder() -> Path:
    from safetynet.config import get_settings

    return get_settings().data_dir.resolve()


def _to_relative(stored: str, root: Path) -> str:
    p = Path(stored)
    if not p.is_absolute():
        p = Path.cwd() / p  # before this revision: relative to the working directory
    p = p.resolve()
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(p)


def _to_absolute(stored: str, root: Path) -> str:
    p = Path(stored)
    return stored if p.is_absolute() else str(root / p)


def _rewrite(convert) -> None:  # noqa: ANN001
    bind = op.get_bind()
    root = _data_folder()
    for table, column, unique in _COLUMNS:
        t = sa.table(table, sa.column('id', sa.Integer), sa.column(column, sa.String))
        col = t.c[column]
        rows = bind.execute(sa.select(t.c.id, col).where(col.is_not(None)).order_by(t.c.id)).all()
        taken = {r[1] for r in rows}
        for row_id, old in rows:
            new = convert(old, root)
            if new == old or (unique and new in taken):
                continue
            bind.execute(sa.update(t).where(t.c.id == row_id).values({column: new}))
            taken.discard(old)
            taken.add(new)


def upgrade() -> None:
    _rewrite(_to_relative)


def downgrade() -> None:
    _rewrite(_to_absolute)
