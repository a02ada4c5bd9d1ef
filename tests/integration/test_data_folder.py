"""A data folder is portable (issue 15, item 7): lake files are registered relative to the data
folder, so a copy of it (a backup restored elsewhere) works on its own — an ingest in the copy
deletes none of its files and removing the original loses nothing — on SQLite and PostgreSQL;
migration 0018 turns the absolute paths of older stores into relative ones."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Engine, insert, select, update

from safetynet.analytics.service import household_facts
from safetynet.config import get_settings
from safetynet.db import make_engine
from safetynet.feeds import service as feeds_service
from safetynet.feeds import store as feeds_store
from safetynet.registry import service as registry_service

MIGRATION = Path(__file__).parents[2] / "src/safetynet/migrations/versions/0018_portable_lake_paths.py"


def _point_settings_at(monkeypatch: pytest.MonkeyPatch, data: Path, engine: Engine) -> None:
    from safetynet import db

    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("SAFETYNET_DATA_DIR", str(data))
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", url)
    get_settings.cache_clear()
    db._engines[url] = engine


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _registered(engine: Engine) -> list[str]:
    with engine.connect() as c:
        return [r[0] for r in c.execute(select(feeds_store.feed_lake_files.c.path))]


def _rows_in_lake(engine: Engine, lake: Path) -> int:
    """Rows of every registered lake file, each read where the readers find it."""
    with engine.connect() as c:
        files = [(f["feed"], f["path"]) for f in c.execute(select(feeds_store.feed_lake_files)).mappings()]
    return sum(pq.read_metadata(feeds_service.resolve_lake_file(p, lake, feed)).num_rows for feed, p in files)


def _accepted(engine: Engine) -> int:
    with engine.connect() as c:
        return sum(r[0] for r in c.execute(select(feeds_store.feed_loads.c.accepted)))


@pytest.mark.parametrize("registered_as", ["relative", "absolute"])
def test_a_copied_data_folder_works_on_its_own(engine: Engine, tmp_path: Path, synthetic_province: Path,
                                               monkeypatch: pytest.MonkeyPatch, registered_as: str) -> None:
    """The issue's reproduction: January ingested in the original, the folder copied, February
    ingested in the copy, the original removed. `absolute`: a store whose paths are absolute
    (written before migration 0018) is copied: its clean-up must not take the copy's own files
    for orphans either."""
    original, copy = tmp_path / "original", tmp_path / "restored" / "data"
    original.mkdir()
    if engine.dialect.name == "sqlite":  # the embedded default: the database lives in the data folder
        shutil.copy(engine.url.database, original / "safetynet.sqlite3")
        engine = make_engine(f"sqlite:///{original / 'safetynet.sqlite3'}")
    _point_settings_at(monkeypatch, original, engine)
    feeds = feeds_service.expand_paths([synthetic_province / "feeds"])
    january = [f for f in feeds if "_202501" in f.name]
    february = [f for f in feeds if "_202502" in f.name]
    registry_service.import_register(engine, directory=synthetic_province / "registry",
                                     as_of=dt.date(2025, 2, 28), partial=True)
    feeds_service.ingest(engine, paths=january, lake_dir=get_settings().data_dir / "lake", actor="test")
    stored = _registered(engine)
    assert stored and all(p.startswith("lake/") for p in stored), stored[:3]  # relative to the data folder
    if registered_as == "absolute":
        t = feeds_store.feed_lake_files
        with engine.begin() as c:
            for p in stored:
                c.execute(update(t).where(t.c.path == p).values(path=str(original / p)))
    january_facts, _ = household_facts(engine, month="2025-01", lake_dir=original / "lake")

    # the copy, with its database (on PostgreSQL the server's database is the same one)
    if engine.dialect.name == "sqlite":
        with engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
    shutil.copytree(original, copy)
    if engine.dialect.name == "sqlite":
        engine = make_engine(f"sqlite:///{copy / 'safetynet.sqlite3'}")
    _point_settings_at(monkeypatch, copy, engine)
    lake = get_settings().data_dir / "lake"
    copied = _files(lake)
    # what a load killed in the copy before its commit leaves: the clean-up must still take it
    orphan_dir = lake / "medical" / "month=2025-01"
    orphan = orphan_dir / "load-0123456789abcdef.parquet"
    pq.write_table(pa.table({"record_id": ["X"], "version": [1]}), orphan)
    (orphan_dir / ".load-fedcba9876543210.parquet.999.tmp").write_bytes(b"PAR1")

    reports = feeds_service.ingest(engine, paths=february, lake_dir=lake, actor="test")
    assert "rejected" not in {r.status for r in reports} and sum(r.status == "loaded" for r in reports) > 10
    left = _files(lake)
    assert copied <= left, sorted(copied - left)[:5]  # no file of the copy's lake was deleted
    assert "medical/month=2025-01/load-0123456789abcdef.parquet" not in left  # the orphans were
    assert "medical/month=2025-01/.load-fedcba9876543210.parquet.999.tmp" not in left

    engine.dispose()
    shutil.rmtree(original)
    assert _files(lake) == left
    # nothing lost: every registered file is read in the copy, with all its rows, and the facts
    # of January are what they were in the original
    assert _rows_in_lake(engine, lake) == _accepted(engine)
    again, _ = household_facts(engine, month="2025-01", lake_dir=lake)
    assert again.sort_by("household_id").equals(january_facts.sort_by("household_id"))
    february_facts, _ = household_facts(engine, month="2025-02", lake_dir=lake)
    assert february_facts.num_rows == january_facts.num_rows
    assert not february_facts.equals(january_facts)  # February's deliveries were read
    assert _files(lake) == left  # readers delete nothing
    if engine.dialect.name == "sqlite":
        engine.dispose()


def test_a_lake_outside_the_data_folder_is_registered_by_absolute_path(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.factories import write_csv
    from tests.integration.test_feeds_ingest import MED_EN, med_rows

    _point_settings_at(monkeypatch, tmp_path / "data", engine)
    lake = tmp_path / "elsewhere" / "lake"
    delivery = write_csv(tmp_path / "medical_202510.csv", MED_EN, med_rows(3))
    [r] = feeds_service.ingest(engine, paths=[delivery], lake_dir=lake, actor="test")
    [stored] = _registered(engine)
    assert Path(stored).is_absolute() and Path(stored).parent.parent.parent == lake.resolve()
    with engine.connect() as c:
        ledger = c.execute(select(feeds_store.feed_loads.c.lake_path)).scalar_one()
    assert ledger == stored
    assert feeds_service.lake_files(engine, "medical") == [Path(stored)]
    assert len(feeds_service.current_records(engine, feed="medical", lake_dir=lake)) == r.accepted == 3


# --- migration 0018 --------------------------------------------------------------------------

def _migration():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("migration_0018", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(engine: Engine, step: str) -> None:
    with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        getattr(_migration(), step)()


def test_migration_0018_makes_paths_in_the_data_folder_relative(engine: Engine, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # the data folder as the default setting gives it: relative to the working directory
    _point_settings_at(monkeypatch, Path("data"), engine)
    data = tmp_path / "data"
    month = "lake/medical/month=2025-10"
    before = {
        "absolute_inside": str(data / month / "load-a.parquet"),
        "absolute_outside": "/srv/other-lake/medical/month=2025-10/load-b.parquet",
        "cwd_relative_inside": f"data/{month}/load-c.parquet",
        "cwd_relative_outside": "other/medical/month=2025-10/load-d.parquet",
        # one file registered twice under two spellings: the second keeps its form
        "twice_relative": f"data/{month}/load-e.parquet",
        "twice_absolute": str(data / month / "load-e.parquet"),
    }
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as c:
        ids = {}
        for key, path in before.items():
            ids[key] = c.execute(insert(feeds_store.feed_loads).returning(feeds_store.feed_loads.c.id).values(
                file_name=f"{key}.csv", digest=key, loaded_digest=key, feed="medical", month="2025-10",
                status="loaded", errors=[], lake_path=path, actor="t", started_at=now)).scalar_one()
            c.execute(insert(feeds_store.feed_lake_files).values(
                load_id=ids[key], feed="medical", month="2025-10", kind="load", path=path, rows=1,
                created_at=now))

    def stored() -> tuple[dict, dict]:
        with engine.connect() as c:
            lf, fl = feeds_store.feed_lake_files.c, feeds_store.feed_loads.c
            files = {r[0]: r[1] for r in c.execute(select(lf.load_id, lf.path))}
            loads = {r[0]: r[1] for r in c.execute(select(fl.id, fl.lake_path))}
        return ({k: files[i] for k, i in ids.items()}, {k: loads[i] for k, i in ids.items()})

    _run(engine, "upgrade")
    files, loads = stored()
    assert files == {
        "absolute_inside": f"{month}/load-a.parquet",
        "absolute_outside": before["absolute_outside"],
        "cwd_relative_inside": f"{month}/load-c.parquet",
        "cwd_relative_outside": str(tmp_path / before["cwd_relative_outside"]),
        "twice_relative": f"{month}/load-e.parquet",
        "twice_absolute": before["twice_absolute"],
    }
    # the ledger's copy of the path is not unique: both spellings become relative
    assert loads == files | {"twice_absolute": f"{month}/load-e.parquet"}
    # readers find the relative ones in the current data folder
    (data / month).mkdir(parents=True)
    (data / month / "load-a.parquet").write_bytes(b"PAR1")
    assert feeds_service.resolve_lake_file(files["absolute_inside"], Path("nowhere"), "medical") == (
        data / month / "load-a.parquet")

    _run(engine, "downgrade")
    files, _ = stored()
    assert files == {
        "absolute_inside": before["absolute_inside"],
        "absolute_outside": before["absolute_outside"],
        "cwd_relative_inside": str(data / month / "load-c.parquet"),
        "cwd_relative_outside": str(tmp_path / before["cwd_relative_outside"]),
        "twice_relative": f"{month}/load-e.parquet",  # its absolute form is taken by the other row
        "twice_absolute": before["twice_absolute"],
    }
