"""Files and folders that hold personal data are private to the account running safetynet.

Two layers, because either alone leaves a gap. `make_private` sets the process umask once where a
safetynet process starts (the command line, `safetynet serve`), so everything the process and its
libraries create — DuckDB's spill files, uvicorn's workers' files, SQLite's -wal and -shm — is
0600/0700. The folders and files that hold the register, the lake and the attachments are also
created 0700/0600 explicitly (`private_dir`, `private_file`), so a test run, a library call or an
embedding process with a looser umask still gets private files. Folders and files that already
exist are left as they are: permissions an administrator chose are not changed behind their back.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private() -> int:
    """Make everything this process creates from now on readable by its own account only (umask
    0o077); returns the umask it replaces."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: str | Path) -> Path:
    """The folder, with any missing parent, created 0700 (an existing one is left as it is)."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            os.mkdir(p, DIR_MODE)  # masked by the umask: only ever tighter than 0700 ...
        except FileExistsError:  # another process made it meanwhile: theirs is private too
            continue
        os.chmod(p, DIR_MODE)  # ... and a umask such as 0o277 must not leave it unusable
    return path


def private_file(path: str | Path) -> Path:
    """An empty file created 0600 if it does not exist yet. A writer that opens it afterwards
    (truncating, as Parquet writers and SQLite do) keeps that mode, so files written by a library
    that takes a path rather than a file object become private too."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def write_private(path: str | Path, data: bytes) -> Path:
    """Write `data` to a file of ours (new, or a leftover truncated), 0600 whatever it was."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), FILE_MODE)
        f.write(data)
    return path
