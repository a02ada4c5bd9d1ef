"""The analytics run: household facts for a month, from the registry snapshot and the lake.

The registry snapshot is read from the store in one query per table and handed to the
analytics backend as Arrow (Arrow-native through ADBC on SQLite and PostgreSQL, see
`db.fetch_arrow`; through SQLAlchemy rows for other databases); the lake's committed
Parquet files (the load ledger's, see `feeds.service.lake_files`) are read by the backend
itself. Backend differences stay inside the backend class; `facts` builds the same
expressions for every backend.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, and_, or_, select

from safetynet import db
from safetynet.analytics import facts
from safetynet.errors import ConfigurationError
from safetynet.feeds import service as feeds_service
from safetynet.feeds.model import FEED_BY_NAME, Kind
from safetynet.files import private_dir
from safetynet.registry import store as registry_store

#: Feeds the facts read.
FACT_FEEDS = ("social_insurance", "housing_fund", "vehicle", "property", "business", "deposits",
              "medical", "education", "disaster", "disability", "unemployment", "death")
MEMORY_LIMIT = "1.5GB"
FETCH_ROWS = 200_000
OUTPUT_BATCH_ROWS = 1_000_000

_ARROW = {Kind.DATE: pa.date32(), Kind.MONEY: pa.int64(), Kind.DECIMAL: pa.decimal128(14, 2),
          Kind.INT: pa.int64()}

PERSON_SNAPSHOT = pa.schema([("person_id", pa.int64()), ("id_number", pa.string()), ("sex", pa.string()),
                             ("birth_date", pa.date32()), ("household_id", pa.int64()),
                             ("relation", pa.string()), ("registered_tier", pa.string())])
HOUSEHOLD_SNAPSHOT = pa.schema([("household_id", pa.int64()), ("household_no", pa.string()),
                                ("region_code", pa.string()), ("registration", pa.string()),
                                ("registered_tier", pa.string())])


def feed_schema(feed: str) -> pa.Schema:
    """The typed lake columns of a feed (what `feeds.validate` writes), plus `version`."""
    fields = []
    for c in FEED_BY_NAME[feed].all_columns:
        name = f"{c.name}_fen" if c.kind is Kind.MONEY else c.name
        fields.append((name, _ARROW.get(c.kind, pa.string())))
    return pa.schema([*fields, ("version", pa.int64())])


# --- the registry snapshot ----------------------------------------------------------------

def _current(start, stop, on: dt.date):  # noqa: ANN001, ANN202
    return and_(start <= on, or_(stop.is_(None), stop > on))


def _fetch_rows(engine: Engine, query, schema: pa.Schema) -> pa.Table:  # noqa: ANN001
    """One query through SQLAlchemy, streamed in chunks, transposed column-wise into Arrow
    (the fallback for databases without an ADBC path)."""
    batches = []
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(query)
        while rows := result.fetchmany(FETCH_ROWS):
            cols = list(zip(*rows, strict=True))
            batches.append(pa.record_batch([pa.array(c, f.type) for c, f in zip(cols, schema, strict=True)],
                                           schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def _fetch_adbc(engine: Engine, query, schema: pa.Schema) -> pa.Table:  # noqa: ANN001
    """One query through ADBC, its columns cast to `schema` (the drivers' own types differ:
    SQLite gives dates as text and an all-NULL column as int64, PostgreSQL int32 ids)."""
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    t = db.fetch_arrow(engine, sql)
    return pa.Table.from_arrays([_cast(c, f.type) for c, f in zip(t.columns, schema, strict=True)],
                                schema=schema)


def _cast(column: pa.ChunkedArray, to: pa.DataType) -> pa.ChunkedArray:
    # SQLite's driver types a column without any value (or an empty result) as int64, which
    # does not cast to a date: such a column is all nulls of the wanted type.
    if column.null_count == len(column):
        return pa.chunked_array([pa.nulls(len(column), to)])
    return column.cast(to)


def fetch_query(engine: Engine, query, schema: pa.Schema, *, adbc: bool | None = None) -> pa.Table:  # noqa: ANN001
    """One SQLAlchemy query as an Arrow table of `schema` (ADBC where the database has it)."""
    if adbc is None:
        adbc = db.adbc_supported(engine)
    return _fetch_adbc(engine, query, schema) if adbc else _fetch_rows(engine, query, schema)


def registry_households(engine: Engine, *, on: dt.date, adbc: bool | None = None) -> pa.Table:
    """Every household with its tier current on `on` (HOUSEHOLD_SNAPSHOT), by id."""
    h, ht = registry_store.households, registry_store.household_tiers
    hq = (select(h.c.id, h.c.household_no, h.c.region_code, h.c.registration, ht.c.tier)
          .select_from(h.outerjoin(ht, and_(ht.c.household_id == h.c.id,
                                            _current(ht.c.since, ht.c.until, on))))
          .order_by(h.c.id))
    return fetch_query(engine, hq, HOUSEHOLD_SNAPSHOT, adbc=adbc)


def registry_persons(engine: Engine, *, on: dt.date, adbc: bool | None = None,
                     ordered: bool = True) -> pa.Table:
    """Every person with a membership current on `on`, with their tier current then (PERSON_SNAPSHOT);
    by household and person unless `ordered` is False (a reader that joins needs no order, and at
    10M persons the sort is 2–3 s)."""
    p, m, pt = registry_store.persons, registry_store.memberships, registry_store.person_tiers
    pq_ = (select(p.c.id, p.c.id_number, p.c.sex, p.c.birth_date, m.c.household_id, m.c.relation, pt.c.tier)
           .select_from(p.join(m, and_(m.c.person_id == p.c.id, _current(m.c.valid_from, m.c.valid_to, on)))
                        # the enrolment in the membership's household: a person enrolled in a second
                        # household at once (a duplicate enrolment) still gives one row
                        .outerjoin(pt, and_(pt.c.person_id == p.c.id, pt.c.household_id == m.c.household_id,
                                            _current(pt.c.since, pt.c.until, on)))))
    if ordered:
        pq_ = pq_.order_by(m.c.household_id, p.c.id)
    return fetch_query(engine, pq_, PERSON_SNAPSHOT, adbc=adbc)


def registry_snapshot(engine: Engine, *, on: dt.date, adbc: bool | None = None) -> tuple[pa.Table, pa.Table]:
    """(households, persons) as Arrow: every household, and every person with a membership
    current on `on`, with the tiers current on `on`. `adbc` forces (True) or avoids (False)
    the Arrow-native path; by default it is taken where the database has one."""
    return registry_households(engine, on=on, adbc=adbc), registry_persons(engine, on=on, adbc=adbc)


# --- lake files -----------------------------------------------------------------------------

def feed_files(engine: Engine, feed: str, *, lake_dir: Path, month: str) -> list[Path]:
    """The committed lake files of `feed` delivered for months up to `month` (facts for a
    month use what was known by then). A ledger path that no longer resolves is looked for
    at its place under `lake_dir`."""
    out = []
    for path in feeds_service.lake_files(engine, feed):
        part = path.parent.name  # month=YYYY-MM
        if not part.startswith("month=") or part[6:] > month:
            continue
        if not path.exists():
            path = Path(lake_dir) / feed / part / path.name
        if path.exists():
            out.append(path)
    return out


# --- backends -------------------------------------------------------------------------------

class DuckDBBackend:
    """Ibis on an in-process DuckDB with a memory limit and a spill directory."""

    def __init__(self, temp_dir: Path, *, memory_limit: str = MEMORY_LIMIT) -> None:
        private_dir(temp_dir)  # spilled rows are personal data
        self.con = ibis.duckdb.connect(memory_limit=memory_limit, temp_directory=str(temp_dir))

    def from_arrow(self, name: str, table: pa.Table) -> ir.Table:
        return self.con.create_table(name, table, temp=True)

    def from_parquet(self, name: str, paths: list[Path], schema: pa.Schema) -> ir.Table:
        if not paths:
            return self.from_arrow(name, schema.empty_table())
        # hive_partitioning off: the lake's month=YYYY-MM folder is the delivery month, and must
        # not overwrite a row's own `month` (a correction or a late row for an earlier month).
        t = self.con.read_parquet([str(p) for p in paths], table_name=name, union_by_name=True,
                                  hive_partitioning=False)
        return t.select(**{f.name: t[f.name].cast(_ibis_type(f.type)) if f.name in t.columns
                           else ibis.null(_ibis_type(f.type)) for f in schema})

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        return self.con.create_table(name, expr, temp=True)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        # Streamed in batches: `to_pyarrow` has DuckDB materialise the whole result outside its
        # memory limit and then copy it into Arrow (two copies: 16 GB peak at 10M persons).
        # The batches carry DuckDB's own types (a sum is decimal128(38, 0)): each is cast to the
        # expression's schema, as `to_pyarrow` does for the whole table.
        schema = expr.schema().to_pyarrow()
        reader = expr.to_pyarrow_batches(chunk_size=OUTPUT_BATCH_ROWS)
        return pa.Table.from_batches([batch.cast(schema) for batch in reader], schema=schema)

    def close(self) -> None:
        self.con.disconnect()


def _ibis_type(t: pa.DataType):  # noqa: ANN202
    return ibis.dtype(t)


class SparkBackend:
    """Ibis on PySpark: national scale on a cluster, `local[N]` on one machine. The `spark` extra
    (pyspark, a Java 17 runtime) is imported only when this backend is chosen."""

    def __init__(self, temp_dir: Path, *, memory_limit: str | None = None) -> None:
        """`memory_limit` is DuckDB's knob: Spark's memory is SAFETYNET_SPARK_DRIVER_MEMORY (and the
        cluster's own settings)."""
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:
            raise ConfigurationError(
                "the Spark engine needs the `spark` extra: `uv sync --extra spark` (or "
                "`pip install 'safetynet[spark]'`) and a Java 17 runtime") from e
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        private_dir(temp_dir)  # spilled rows are personal data
        builder = (SparkSession.builder.appName("safetynet")
                   .master(os.environ.get("SAFETYNET_SPARK_MASTER", "local[2]"))
                   .config("spark.driver.memory", os.environ.get("SAFETYNET_SPARK_DRIVER_MEMORY", "4g"))
                   .config("spark.local.dir", str(temp_dir))
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", os.environ.get("SAFETYNET_SPARK_PARTITIONS", "16"))
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .config("spark.sql.session.timeZone", "UTC"))
        self.session = builder.getOrCreate()
        self.session.sparkContext.setLogLevel("ERROR")
        self.con = ibis.pyspark.connect(self.session)
        self.views: list[str] = []

    def _view(self, name: str, df) -> ir.Table:  # noqa: ANN001
        df.createOrReplaceTempView(name)
        self.views.append(name)
        return self.con.table(name)

    def from_arrow(self, name: str, table: pa.Table) -> ir.Table:
        from pyspark.sql.pandas.types import from_arrow_schema

        if table.num_rows == 0:  # createDataFrame cannot infer anything from no rows
            df = self.session.createDataFrame([], schema=from_arrow_schema(table.schema))
        else:
            df = self.session.createDataFrame(table.to_pandas(types_mapper=None),
                                              schema=from_arrow_schema(table.schema))
        return self._view(name, df.cache())

    def from_parquet(self, name: str, paths: list[Path], schema: pa.Schema) -> ir.Table:
        if not paths:
            return self.from_arrow(name, schema.empty_table())
        df = self.session.read.option("mergeSchema", "true").parquet(*[str(p) for p in paths])
        t = self._view(name, df)
        return t.select(**{f.name: t[f.name].cast(_ibis_type(f.type)) if f.name in t.columns
                           else ibis.null(_ibis_type(f.type)) for f in schema})

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        t = self.con.create_view(name, expr, overwrite=True)
        self.views.append(name)
        self.session.catalog.cacheTable(name)
        return t

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        schema = expr.schema().to_pyarrow()
        return self.con.to_pyarrow(expr).cast(schema)

    def close(self) -> None:
        for name in self.views:
            self.session.catalog.dropTempView(name)
        self.session.catalog.clearCache()
        self.session.stop()


BACKENDS = {"duckdb": DuckDBBackend, "spark": SparkBackend}


def within_region(households: pa.Table, persons: pa.Table,
                  region: str | None) -> tuple[pa.Table, pa.Table]:
    """Facts of the households whose region code starts with `region` (all when None), and
    their persons."""
    if not region:
        return households, persons
    households = households.filter(pc.starts_with(households.column("region_code"), region))
    persons = persons.filter(pc.is_in(persons.column("household_id"),
                                      value_set=households.column("household_id")))
    return households, persons


def household_facts(engine: Engine, *, month: str, lake_dir: Path, backend: str = "duckdb",
                    timings: dict[str, float] | None = None) -> tuple[pa.Table, pa.Table]:
    """(households, persons) facts for `month` (YYYY-MM) as Arrow tables: the columns of
    `facts.HOUSEHOLD_COLUMNS` and `facts.PERSON_COLUMNS`. The registry snapshot is taken on
    the month's last day; feeds without files give zeros/nulls. `timings`, when given,
    receives the wall and CPU seconds of each step (benchmarks)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown analytics backend {backend!r}; available: {', '.join(BACKENDS)}")
    clock = _Clock(timings)
    _, end, _, label = facts.month_window(month)
    lake_dir = Path(lake_dir)
    households, persons = registry_snapshot(engine, on=end)
    clock.lap("register_export")
    b = BACKENDS[backend](lake_dir.parent / "tmp" / "analytics")
    try:
        h = b.from_arrow("registry_households", households)
        p = b.from_arrow("registry_persons", persons)
        del households, persons  # the backend holds its own copy
        clock.lap("register_to_backend")
        feeds = {f: b.from_parquet(f"lake_{f}", feed_files(engine, f, lake_dir=lake_dir, month=label),
                                   feed_schema(f)) for f in FACT_FEEDS}
        pf = b.materialize("person_facts", facts.person_facts(month=label, persons=p, feeds=feeds))
        clock.lap("person_facts")
        hf = facts.household_facts(households=h, person_facts=pf)
        out = b.to_arrow(hf.order_by("household_id")), b.to_arrow(pf.order_by(["household_id", "person_id"]))
        clock.lap("household_facts_and_output")
        return out
    finally:
        b.close()


class _Clock:
    """Wall and CPU seconds (this process, every thread: DuckDB's too) per step into a
    caller's dict as `step` and `step_cpu` (nothing when there is no dict)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings, self.last = timings, (time.perf_counter(), time.process_time())

    def lap(self, step: str) -> None:
        now = (time.perf_counter(), time.process_time())
        if self.timings is not None:
            self.timings[step] = now[0] - self.last[0]
            self.timings[f"{step}_cpu"] = now[1] - self.last[1]
        self.last = now
