"""How lake files are named in the store: by their path relative to the data folder.

A lake file is registered (`feed_lake_files.path`, the ledger's `feed_loads.lake_path`) by its
path relative to the data folder (`Settings.data_dir`), e.g.
`lake/medical/month=2025-10/load-0123456789abcdef.parquet`, and read back against the data folder
of the process that reads it. A data folder copied, moved or restored from a backup elsewhere is
then whole as it is: its store names its own lake files, not the original's.

A lake outside the data folder (a test's, a lake kept on another disk) is registered by its
absolute path, as every file was before migration 0018; readers take both. Whatever the form, a
registered file also names its place in the lake — `FEED/month=YYYY-MM/FILE` — where readers look
when the path does not resolve (a lake moved on its own) and which the orphan clean-up never
deletes (`feeds.service.sweep_orphans`).
"""

from __future__ import annotations

from pathlib import Path


def data_folder() -> Path:
    """The current data folder, absolute (the settings' may be relative to the working directory)."""
    from safetynet.config import get_settings

    return get_settings().data_dir.resolve()


def stored(path: str | Path) -> str:
    """What the store keeps for a lake file: relative to the data folder when it lies in it
    (with '/' separators), else its absolute path."""
    p = Path(path).resolve()
    try:
        return p.relative_to(data_folder()).as_posix()
    except ValueError:
        return str(p)


def located(path: str | Path) -> Path:
    """A registered path as a path on this machine: a relative one is in the current data
    folder; an absolute one (a lake outside the data folder, an older store) is taken as it is."""
    p = Path(path)
    return p if p.is_absolute() else data_folder() / p


def place(path: str | Path) -> tuple[str, str]:
    """A lake file's place within its feed's folder: (its month folder, its file name)."""
    p = Path(path)
    return p.parent.name, p.name
